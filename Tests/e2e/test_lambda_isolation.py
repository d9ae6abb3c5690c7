"""What separates a function from the emulator, on servers of this module's own (started with marker variables
in their environment): the environment a handler gets (Lambda's variables, the function's own, AWS_ENDPOINT_URL
pointing at the server, and nothing of the emulator's environment), and that no process outlives its instance:
after a timeout (children included), after DeleteFunction (even mid-invocation), after the module's functions are
deleted, and after the server stops (nothing whose command line names its data folder is left at all).
"""
import os
import re
import signal
import threading
import time

import pytest

from helpers import (LAMBDA_LOG_STREAM_RE, LambdaFunctions, fixture_zip, host_python_runtime,
                     pid_alive, read_payload, tail_lines, wait_no_lambda_processes)
from server import Server

MARKERS = {"CLOUDLESS_E2E_LEAK_MARKER": "must-not-reach-functions", "CLOUDLESS_E2E_SECRET_TOKEN": "s3cr3t"}

# What AWS puts in a function's environment (reserved and unreserved runtime variables), what processes add
# themselves (PWD, SHLVL; LC_CTYPE from Python's locale coercion), and Cloudless's AWS_ENDPOINT_URL.
LAMBDA_ENVIRONMENT = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    "LANG", "PATH", "LD_LIBRARY_PATH", "NODE_PATH", "PYTHONPATH", "GEM_PATH", "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_PORT", "AWS_LAMBDA_DOTNET_PREJIT", "TZ",
    "AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "PWD", "SHLVL", "LC_CTYPE", "AWS_ENDPOINT_URL",
}


@pytest.fixture(scope="module")
def own():
    s = Server(env=MARKERS).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def server(own):
    """The module's functions (`fns`) live on its own server."""
    return own


def wait_dead(pids, timeout=3):
    deadline = time.time() + timeout
    while any(pid_alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.05)
    return [p for p in pids if pid_alive(p)]


def test_function_environment(own, fns, lam):
    variables = {"MY_VAR": "mine", "WITH_SPACES": "a b  c", "AWS_ENDPOINT_URL_LIKE": "x"}
    name = fns.create(tag="env", handler="handler.env", MemorySize=256, Environment={"Variables": variables})["FunctionName"]
    got = read_payload(lam.invoke(FunctionName=name))
    env = got["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert re.fullmatch(LAMBDA_LOG_STREAM_RE, env["AWS_LAMBDA_LOG_STREAM_NAME"]), env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{host_python_runtime()}"
    assert env["LAMBDA_TASK_ROOT"] == got["cwd"]
    assert "handler.py" in got["files"] and "broken_import.py" in got["files"]
    assert env["_HANDLER"] == "handler.env"
    assert env["TZ"] == ":UTC"
    assert re.fullmatch(r"[0-9A-Za-z.-]+:\d+", env["AWS_LAMBDA_RUNTIME_API"]), env["AWS_LAMBDA_RUNTIME_API"]
    assert env["AWS_LAMBDA_RUNTIME_API"] != f"127.0.0.1:{own.port}"
    assert env["AWS_ENDPOINT_URL"] == own.endpoint
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert env.get(key), key
    for key, value in variables.items():
        assert env[key] == value
    # Nothing of the emulator's own environment.
    for key, value in MARKERS.items():
        assert key not in env
        assert value not in env.values()
    assert sorted(set(env) - LAMBDA_ENVIRONMENT - set(variables)) == []


def test_no_process_left_after_timeout(fns, lam):
    """A timed-out instance is killed with the processes it started."""
    name = fns.create(tag="timeout", handler="handler.spawn_and_sleep", Timeout=1)["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=b'{"seconds": 30}', LogType="Tail")
    assert read_payload(r)["errorType"] == "Sandbox.Timedout"
    lines = tail_lines(r)
    child = next(int(x.split()[-1]) for x in lines if x.startswith("child pid "))
    handler = next(int(x.split()[-1]) for x in lines if x.startswith("handler pid "))
    assert wait_dead([child, handler]) == []


@pytest.mark.parametrize("change", ["delete", "update"])
def test_no_process_left_after_change_during_invoke(own, fns, lam, change):
    """DeleteFunction or UpdateFunctionConfiguration while an instance is busy: once that invocation is over, the
    instance (which can never serve again) is gone."""
    name = fns.create(tag=change, handler="handler.counter", Timeout=10)["FunctionName"]
    first = read_payload(lam.invoke(FunctionName=name))
    outcome = {}

    def slow():
        outcome["answer"] = lam.invoke(FunctionName=name, Payload=b'{"seconds": 1.5}')

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    if change == "delete":
        lam.delete_function(FunctionName=name)
    else:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "changed"}})
    t.join(30)
    assert "answer" in outcome
    assert wait_dead([first["pid"]]) == []


def test_no_process_left_after_delete(fns, lam):
    name = fns.create(tag="idle", handler="handler.pid")["FunctionName"]
    first = read_payload(lam.invoke(FunctionName=name))
    lam.delete_function(FunctionName=name)
    assert wait_dead([first["pid"]]) == []


def start_instances(s, busy):
    """Warm Python, Node.js and shell instances on server `s` (their pids); with `busy`, the Python one is left in
    the middle of a 20 s invoke."""
    f = LambdaFunctions(s, "e2e-stop")
    py = f.create(tag="py", handler="handler.counter", Timeout=60)["FunctionName"]
    node = f.create(tag="node", runtime="nodejs20.x", handler="index.counter", code=fixture_zip("node"))["FunctionName"]
    shell = f.create(tag="sh", runtime="provided.al2023", handler="x.y", code=fixture_zip("provided_shell"))["FunctionName"]
    pids = [read_payload(f.lam.invoke(FunctionName=n))["pid"] for n in (py, node, shell)]
    assert all(pid_alive(p) for p in pids)
    if busy:
        threading.Thread(target=_ignore, args=(lambda: f.lam.invoke(FunctionName=py, Payload=b'{"seconds": 20}'),),
                         daemon=True).start()
        time.sleep(0.5)  # the warm Python instance is now busy with it
    return pids


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_nothing_left_after_server_stops(tmp_path, busy):
    """Once the server has stopped (SIGTERM), no process whose command line or working folder is in its data folder
    remains, whether its instances were idle or one was in the middle of an invoke; and the server exits with 0."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    s = Server(data_dir=str(data_dir), env=MARKERS).start()
    try:
        pids = start_instances(s, busy)
    finally:
        code = s.stop()
    left = wait_no_lambda_processes(s.data_dir, timeout=3)
    for pid, _, _ in left:  # ours: end them so that a failure here leaves nothing behind
        os.kill(pid, signal.SIGKILL)
    assert (code, left, [p for p in pids if pid_alive(p)]) == (0, [], [])


def _ignore(call):
    try:
        call()
    except Exception:
        pass
