"""The deploy tools that pin their own boto3 (the AWS SAM CLI, Chalice, sceptre with troposphere): where
`scripts/install-deps --test` put their virtualenvs, and an environment that points them at a Cloudless.

They build their clients without --endpoint-url, so the endpoint goes in AWS_ENDPOINT_URL, which boto3
honours since 1.28."""
import os
import subprocess

from helpers import tool_env

CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cloudless")


def venv_tool(variable, venv, name):
    """The path of a tool: $variable when set, else <cache>/<venv>/bin/<name>; a clear failure when missing."""
    path = os.environ.get(variable) or os.path.join(CACHE, venv, "bin", name)
    assert os.access(path, os.X_OK), f"{name} not found at {path}: run scripts/install-deps --test (or set {variable})"
    return path


def sam_path():
    return venv_tool("CLOUDLESS_SAM", "sam-cli", "sam")


def chalice_path():
    return venv_tool("CLOUDLESS_CHALICE", "chalice", "chalice")


def tool_environment(endpoint, home, **extra):
    """The environment of a deploy tool run against `endpoint`: the caller's AWS_* variables dropped, dummy keys,
    us-east-1, a HOME of its own (no ~/.aws, no SAM config), telemetry and update checks off."""
    return tool_env("AWS_", "SAM_", home=home, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                    AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint,
                    AWS_EC2_METADATA_DISABLED="true", SAM_CLI_TELEMETRY="0", SAM_CLI_CONTAINER_CONNECTION_TIMEOUT="1",
                    **extra)


def run_tool(cmd, env, cwd, timeout=300, check=True):
    """Run a tool; on failure (when `check`) the assertion shows its whole output."""
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check:
        assert p.returncode == 0, f"{' '.join(map(str, cmd))} exited {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}"
    return p
