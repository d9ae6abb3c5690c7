"""Secrets Manager from real clients: the aws CLI v1 (pip) and v2 (Debian), and AWS's Python caching client
(aws-secretsmanager-caching).

Each CLI runs in an isolated environment (static test credentials, empty config files, no pager,
`--endpoint-url`); a CLI start costs about a second, so checks go through boto3 where they can."""
import base64
import json
import os
import subprocess
import uuid

import pytest

from helpers import force_delete_secret, sm_client, tool_env, unique_secret_name

V2_PATH = "/usr/bin/aws"


def _v1_path():
    """The pip-installed v1 CLI: the first `aws` on PATH that is not Debian's v2."""
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "aws")
        if os.path.isfile(p) and os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath(V2_PATH):
            return p
    raise AssertionError("aws CLI v1 not found on PATH")


@pytest.fixture(scope="module")
def sm(endpoint):
    return sm_client(endpoint)


_checked_versions = set()


@pytest.fixture(params=["v1", "v2"])
def aws(request, endpoint, tmp_path):
    """aws(*args, check=True) runs the selected CLI; JSON output."""
    path = _v1_path() if request.param == "v1" else V2_PATH
    cfg, creds = tmp_path / "aws-config", tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    if request.param not in _checked_versions:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=120)
        assert (version.stdout + version.stderr).startswith(f"aws-cli/{request.param[1]}."), version
        _checked_versions.add(request.param)

    def run(*args, check=True):
        env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                       AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PAGER="",
                       AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")
        cmd = [path, "--endpoint-url", endpoint, "--output", "json", *[str(a) for a in args]]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=str(tmp_path))
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)}\nrc={p.returncode}\nstdout={p.stdout}\nstderr={p.stderr}"
        return p

    run.version = request.param
    return run


# ---------------------------------------------------------------- aws CLI


def test_course_commands(aws, sm):
    """The course's commands, verbatim."""
    force_delete_secret(sm, "MySecret")
    try:
        out = json.loads(aws("secretsmanager", "create-secret", "--name", "MySecret",
                             "--secret-string", "password123").stdout)
        assert out["Name"] == "MySecret"
        assert out["ARN"].startswith("arn:aws:secretsmanager:us-east-1:")
        got = json.loads(aws("secretsmanager", "get-secret-value", "--secret-id", "MySecret").stdout)
        assert got["SecretString"] == "password123"
        assert got["VersionStages"] == ["AWSCURRENT"]
        assert got["VersionId"] == out["VersionId"]
        # The same secret through boto3.
        assert sm.get_secret_value(SecretId="MySecret")["SecretString"] == "password123"
    finally:
        force_delete_secret(sm, "MySecret")


def test_cli_operations(aws, sm, tmp_path):
    """A binary secret from a file, a new string version, the previous one read back, a filtered listing,
    deletion, the errors on reading a deleted and a removed secret. (Setup and most checks go through boto3:
    every CLI start costs about a second.)"""
    name = unique_secret_name(f"cli-{aws.version}")
    data = bytes(range(256)) * 3
    src = tmp_path / "secret.bin"
    src.write_bytes(data)
    try:
        aws("secretsmanager", "create-secret", "--name", name, "--secret-binary", f"fileb://{src}",
            "--description", "from the CLI", "--tags", "Key=team,Value=blue")
        d = sm.describe_secret(SecretId=name)
        assert (d["Description"], d["Tags"]) == ("from the CLI", [{"Key": "team", "Value": "blue"}])
        assert sm.get_secret_value(SecretId=name)["SecretBinary"] == data

        put = json.loads(aws("secretsmanager", "put-secret-value", "--secret-id", name,
                             "--secret-string", '{"user":"u","password":"p"}').stdout)
        assert put["VersionStages"] == ["AWSCURRENT"]
        assert json.loads(sm.get_secret_value(SecretId=name)["SecretString"]) == {"user": "u", "password": "p"}
        prev = json.loads(aws("secretsmanager", "get-secret-value", "--secret-id", name,
                              "--version-stage", "AWSPREVIOUS").stdout)
        assert base64.b64decode(prev["SecretBinary"]) == data

        listed = json.loads(aws("secretsmanager", "list-secrets", "--filters", f"Key=name,Values={name}").stdout)
        assert [s["Name"] for s in listed["SecretList"]] == [name]

        out = json.loads(aws("secretsmanager", "delete-secret", "--secret-id", name,
                             "--recovery-window-in-days", "7").stdout)
        assert out["Name"] == name and "DeletionDate" in out
        p = aws("secretsmanager", "get-secret-value", "--secret-id", name, check=False)
        assert p.returncode != 0
        assert "InvalidRequestException" in p.stderr
        assert "marked for deletion" in p.stderr

        aws("secretsmanager", "delete-secret", "--secret-id", name, "--force-delete-without-recovery")
        p = aws("secretsmanager", "get-secret-value", "--secret-id", name, check=False)
        assert p.returncode != 0
        assert "ResourceNotFoundException" in p.stderr
        assert "Secrets Manager can't find the specified secret." in p.stderr
    finally:
        force_delete_secret(sm, name)


# ---------------------------------------------------------------- aws-secretsmanager-caching


@pytest.fixture
def cached_name(sm):
    n = unique_secret_name("cache")
    yield n
    force_delete_secret(sm, n)


def test_caching_client_reads_strings_and_binaries(sm, cached_name):
    from aws_secretsmanager_caching import SecretCache, SecretCacheConfig

    sm.create_secret(Name=cached_name, SecretString="cached-v1")
    cache = SecretCache(config=SecretCacheConfig(), client=sm)
    assert cache.get_secret_string(cached_name) == "cached-v1"

    # Served from the cache until refreshed.
    sm.put_secret_value(SecretId=cached_name, SecretString="cached-v2")
    assert cache.get_secret_string(cached_name) == "cached-v1"
    # (refresh_secret_now sleeps 2.5-5 s on purpose: a fresh cache reads the new value instead.)
    fresh = SecretCache(config=SecretCacheConfig(), client=sm)
    assert fresh.get_secret_string(cached_name) == "cached-v2"
    assert fresh.get_secret_string(cached_name, version_stage="AWSPREVIOUS") == "cached-v1"

    binary_name = cached_name + "-bin"
    try:
        sm.create_secret(Name=binary_name, SecretBinary=b"\x00\x01binary\xff")
        assert cache.get_secret_binary(binary_name) == b"\x00\x01binary\xff"
    finally:
        force_delete_secret(sm, binary_name)


def test_caching_client_refresh_interval_and_decorators(sm, cached_name):
    from aws_secretsmanager_caching import InjectKeywordedSecretString, InjectSecretString, SecretCache
    from aws_secretsmanager_caching import SecretCacheConfig

    sm.create_secret(Name=cached_name, SecretString=json.dumps({"username": "admin", "password": "hunter2"}))
    # A zero refresh interval: every read goes back to the server.
    cache = SecretCache(config=SecretCacheConfig(secret_refresh_interval=0), client=sm)

    @InjectSecretString(cached_name, cache)
    def raw(secret):
        return secret

    @InjectKeywordedSecretString(secret_id=cached_name, cache=cache, user="username", pw="password")
    def creds(user, pw):
        return user, pw

    assert json.loads(raw()) == {"username": "admin", "password": "hunter2"}
    assert creds() == ("admin", "hunter2")
    sm.put_secret_value(SecretId=cached_name, SecretString=json.dumps({"username": "root", "password": "s3cret"}))
    assert creds() == ("root", "s3cret")


def test_caching_client_unknown_secret(sm):
    from aws_secretsmanager_caching import SecretCache
    from botocore.exceptions import ClientError

    cache = SecretCache(client=sm)
    with pytest.raises(ClientError) as e:
        cache.get_secret_string(unique_secret_name("nocache-" + uuid.uuid4().hex[:4]))
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
