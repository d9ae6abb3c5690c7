"""What a function sees while it runs, through boto3: the context object (Python and Node.js), SDK calls from the
handler reaching Cloudless with no endpoint in the code, warm reuse and a cold start after a configuration change,
hot-reload code folders, a custom runtime written as a shell script with curl, and AWS's own runtime interface
client (awslambdaric from PyPI) as a provided runtime.

Expected behaviour is real AWS Lambda's.
"""
import base64
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from helpers import (LAMBDA_FIXTURES, LAMBDA_LOG_STREAM_RE, LAMBDA_UUID_RE, fixture_zip,
                     folder_files, make_client, pid_alive, purge_bucket, read_payload, tail_lines, tail_request_id,
                     write_file, zip_bytes)

NODE = "nodejs20.x"


def arn(account, name):
    return f"arn:aws:lambda:us-east-1:{account}:function:{name}"


def has_init_duration(response):
    return "\tInit Duration: " in tail_lines(response)[-1]


# --- The context object -------------------------------------------------------------------------

def test_python_context(fns, lam, account):
    name = fns.create(tag="ctx", handler="handler.context_info", Timeout=10, MemorySize=256)["FunctionName"]
    r = lam.invoke(FunctionName=name, LogType="Tail")
    ctx = read_payload(r)
    assert ctx["function_name"] == name
    assert ctx["function_version"] == "$LATEST"
    assert ctx["memory_limit_in_mb"] == "256"
    assert ctx["invoked_function_arn"] == arn(account, name)
    assert ctx["aws_request_id"] == tail_request_id(r)
    assert re.fullmatch(LAMBDA_UUID_RE, ctx["aws_request_id"])
    assert ctx["log_group_name"] == f"/aws/lambda/{name}"
    assert re.fullmatch(LAMBDA_LOG_STREAM_RE, ctx["log_stream_name"]), ctx["log_stream_name"]
    first, second = ctx["remaining"]  # at most the timeout; less by the start-up, the 0.3 s sleep and a margin
    assert 7000 < first <= 10000, ctx["remaining"]
    assert first - 2000 < second <= first - 250, ctx["remaining"]


def test_python_request_id_is_the_answers_request_id(fns, lam):
    """AWS answers an Invoke with x-amzn-RequestId = the invocation's request id (context.aws_request_id)."""
    name = fns.create(tag="reqid", handler="handler.context_info")["FunctionName"]
    r = lam.invoke(FunctionName=name)
    assert read_payload(r)["aws_request_id"] == r["ResponseMetadata"]["RequestId"]


def test_invoked_function_arn_carries_the_qualifier(fns, lam, account):
    name = fns.create(tag="ctxq", handler="handler.context_info", Publish=True)["FunctionName"]
    lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
    by_version = read_payload(lam.invoke(FunctionName=name, Qualifier="1"))
    assert (by_version["invoked_function_arn"], by_version["function_version"]) == (arn(account, name) + ":1", "1")
    by_alias = read_payload(lam.invoke(FunctionName=name, Qualifier="prod"))
    assert (by_alias["invoked_function_arn"], by_alias["function_version"]) == (arn(account, name) + ":prod", "1")


def test_node_context(fns, lam, account):
    name = fns.create(tag="nodectx", runtime=NODE, handler="index.info", code=fixture_zip("node"), Timeout=10,
                      MemorySize=192, Environment={"Variables": {"GREETING": "hej"}})["FunctionName"]
    r = lam.invoke(FunctionName=name, LogType="Tail")
    ctx = read_payload(r)
    assert ctx["functionName"] == name
    assert ctx["functionVersion"] == "$LATEST"
    assert ctx["memoryLimitInMB"] == "192"
    assert ctx["invokedFunctionArn"] == arn(account, name)
    assert ctx["awsRequestId"] == tail_request_id(r)
    assert ctx["logGroupName"] == f"/aws/lambda/{name}"
    first, second = ctx["remaining"]
    assert 7000 < first <= 10000, ctx["remaining"]
    assert first - 2000 < second <= first - 250, ctx["remaining"]
    assert ctx["env"] == {"AWS_LAMBDA_FUNCTION_NAME": name, "AWS_REGION": "us-east-1", "_HANDLER": "index.info",
                          "GREETING": "hej"}


# --- SDK calls from the handler -----------------------------------------------------------------

@pytest.fixture
def bucket_name(endpoint):
    name = f"e2e-lambda-{uuid.uuid4().hex[:16]}"
    yield name
    purge_bucket(make_client(endpoint), name)


def test_handler_reaches_s3_without_an_endpoint_in_its_code(fns, lam, endpoint, bucket_name):
    name = fns.create(tag="s3", handler="handler.make_bucket", Timeout=30)["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=f'{{"bucket": "{bucket_name}"}}'.encode())
    assert "FunctionError" not in r, read_payload(r)
    assert read_payload(r) == [bucket_name]
    assert bucket_name in [b["Name"] for b in make_client(endpoint).list_buckets()["Buckets"]]


# --- Instances: warm reuse, cold starts ---------------------------------------------------------

def test_warm_reuse_then_cold_start_after_configuration_change(fns, lam):
    name = fns.create(tag="warm", handler="handler.counter", Environment={"Variables": {"GREETING": "one"}})["FunctionName"]
    answers = [lam.invoke(FunctionName=name, LogType="Tail") for _ in range(3)]
    results = [read_payload(r) for r in answers]
    assert [x["count"] for x in results] == [1, 2, 3]
    assert len({x["pid"] for x in results}) == 1
    assert [has_init_duration(r) for r in answers] == [True, False, False]
    assert {x["greeting"] for x in results} == {"one"}

    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "two"}})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    r = lam.invoke(FunctionName=name, LogType="Tail")
    after = read_payload(r)
    assert after["count"] == 1
    assert after["greeting"] == "two"
    assert after["pid"] != results[0]["pid"]
    assert has_init_duration(r)
    deadline = time.time() + 5
    while pid_alive(results[0]["pid"]) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(results[0]["pid"]), "the instance of the old configuration is still running"


# --- Hot reload ---------------------------------------------------------------------------------

def test_hot_reload_folder(fns, lam, tmp_path):
    folder = tmp_path / "hot"
    write_file(folder / "handler.py", b"def fn(event, context):\n    return 'v1'\n")
    name = fns.create(tag="hot", handler="handler.fn",
                      code={"S3Bucket": "hot-reload", "S3Key": str(folder)})["FunctionName"]
    assert read_payload(lam.invoke(FunctionName=name)) == "v1"
    # An edit is what the next invoke runs (a different length, so no stale bytecode can pass for it).
    write_file(folder / "handler.py", b"def fn(event, context):\n    return {'version': 'two', 'event': event}\n")
    assert read_payload(lam.invoke(FunctionName=name, Payload=b'{"k": 1}')) == {"version": "two", "event": {"k": 1}}
    write_file(folder / "helper_module.py", b"VALUE = 'from a new file'\n")
    write_file(folder / "handler.py", b"import helper_module\n\n\ndef fn(event, context):\n    return helper_module.VALUE\n")
    assert read_payload(lam.invoke(FunctionName=name)) == "from a new file"


# --- Custom runtimes ----------------------------------------------------------------------------

def test_provided_shell_bootstrap_with_curl(fns, lam):
    name = fns.create(tag="shell", runtime="provided.al2023", handler="function.handler",
                      code=fixture_zip("provided_shell"))["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=b'{"n": 1, "s": "text"}', LogType="Tail")
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r
    request_id = tail_request_id(r)
    first = read_payload(r)
    assert first == {"shell": True, "event": {"n": 1, "s": "text"}, "handler": "function.handler",
                     "request_id": request_id, "pid": first["pid"]}
    assert f"shell got request {request_id}" in tail_lines(r)
    second = read_payload(lam.invoke(FunctionName=name, Payload=b"[]"))
    assert second["event"] == [] and second["pid"] == first["pid"]

    failed = lam.invoke(FunctionName=name, Payload=b'{"fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    assert read_payload(failed) == {"errorType": "Custom.ShellError", "errorMessage": "asked to fail"}


AWSLAMBDARIC = "awslambdaric==4.2.2"
FUNCTION_PATH = "/usr/local/bin:/usr/bin:/bin"  # the PATH a function's processes get


def awslambdaric_files():
    """awslambdaric and its dependencies installed for the python3 a function finds on its PATH (binary wheels for
    its version and this machine), cached outside the repository: {path in the zip: bytes}."""
    python3 = shutil.which("python3", path=FUNCTION_PATH)
    assert python3, f"no python3 on {FUNCTION_PATH}"
    version = subprocess.run([python3, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    machine = platform.machine()
    cache_root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cloudless")
    target = os.path.join(cache_root, f"{AWSLAMBDARIC.replace('==', '-')}-py{version}-{machine}")
    if not os.path.isdir(target):
        os.makedirs(cache_root, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=cache_root, prefix="awslambdaric-")
        p = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "--target", tmp, "--only-binary=:all:", "--implementation", "cp",
                            "--python-version", version, "--platform", f"manylinux2014_{machine}", AWSLAMBDARIC],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, f"pip could not install {AWSLAMBDARIC} as wheels:\n{p.stdout}\n{p.stderr}"
        os.rename(tmp, target)
    return {k: v for k, v in folder_files(target).items() if not k.startswith("bin/")}


def test_awslambdaric_as_provided_runtime(fns, lam, account):
    """The bootstrap runs `python3 -m awslambdaric handler.fn`: AWS's own client against Cloudless's Runtime API."""
    files = awslambdaric_files()
    files.update(folder_files(os.path.join(LAMBDA_FIXTURES, "awslambdaric")))
    name = fns.create(tag="ric", runtime="provided.al2023", handler="handler.fn", code=zip_bytes(files),
                      Timeout=10, MemorySize=320)["FunctionName"]
    cc = base64.b64encode(json.dumps({"custom": {"who": "ric"}}).encode()).decode()
    r = lam.invoke(FunctionName=name, Payload=b'{"hello": "ric"}', LogType="Tail", ClientContext=cc)
    assert "FunctionError" not in r, (read_payload(r), tail_lines(r))
    out = read_payload(r)
    assert out["event"] == {"hello": "ric"}
    assert out["ric"] == "awslambdaric"
    assert out["function_name"] == name
    assert out["memory_limit_in_mb"] == "320"
    assert out["invoked_function_arn"] == arn(account, name)
    assert out["aws_request_id"] == tail_request_id(r)
    assert 5000 < out["remaining"] <= 10000
    assert out["client_custom"] == {"who": "ric"}
    assert out["handler_env"] == "handler.fn"

    failed = lam.invoke(FunctionName=name, Payload=b'{"fail": true}', LogType="Tail")
    assert failed["FunctionError"] == "Unhandled"
    doc = read_payload(failed)
    assert (doc["errorType"], doc["errorMessage"]) == ("KeyError", "'asked to fail'")
    assert doc["requestId"] == tail_request_id(failed)
    assert any("handler.py" in frame for frame in doc["stackTrace"]), doc["stackTrace"]
