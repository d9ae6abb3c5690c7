"""Lambda Invoke through boto3: RequestResponse results, handler errors (Python and Node.js shapes), init errors
(import error, missing handler), timeouts (and the next invoke in a new instance), runtimes that exit, LogType Tail,
Event (202, the function really runs) and DryRun (204), ClientContext, payload limits and invalid JSON.

Expected answers are real AWS Lambda's (botocore's model for shapes; AWS-recorded answers for messages).
"""
import base64
import json
import re
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import (LAMBDA_UUID_RE, error, error_message, fixture_zip, make_client, pid_alive,
                     purge_bucket, read_payload, tail_lines, tail_request_id)

NODE = "nodejs20.x"


@pytest.fixture(scope="module")
def echo_fn(fns):
    return fns.create(tag="echo", handler="handler.echo")["FunctionName"]


@pytest.fixture(scope="module")
def node_zip():
    return fixture_zip("node")


# --- Results ------------------------------------------------------------------------------------

def test_request_response_result(lam, echo_fn):
    event = {"foo": "bar with 'quotes\"", "n": [1, 2.5, None, True], "nested": {"ü": "ñ"}}
    r = lam.invoke(FunctionName=echo_fn, Payload=json.dumps(event).encode())
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in r
    assert r["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
    assert read_payload(r) == event
    # RequestResponse is the default; asking for it by name is the same.
    r = lam.invoke(FunctionName=echo_fn, InvocationType="RequestResponse", Payload=b"[1, 2, 3]")
    assert read_payload(r) == [1, 2, 3]


def test_no_payload_is_empty_object_and_none_is_null(fns, lam, echo_fn):
    assert read_payload(lam.invoke(FunctionName=echo_fn)) == {}
    name = fns.create(tag="none", handler="handler.nothing")["FunctionName"]
    r = lam.invoke(FunctionName=name)
    assert r["Payload"].read() == b"null"


def test_large_payload_round_trip(lam, echo_fn):
    event = {"test": "test123456" * 100 * 1000 * 5}  # ~5 MB, under the 6 MB limit
    r = lam.invoke(FunctionName=echo_fn, Payload=json.dumps(event).encode())
    assert "FunctionError" not in r
    assert read_payload(r) == event


def test_payload_over_6_mb_is_413(lam, echo_fn):
    payload = json.dumps({"big": "x" * (6 * 1024 * 1024)}).encode()
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=echo_fn, Payload=payload)
    assert error(e) == ("RequestEntityTooLargeException", 413)
    assert error_message(e) == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"


@pytest.mark.parametrize("payload", [b"{not json", b"'single quotes'", b"\x99\xeb,j\x07\xa1zYh"])
def test_invalid_json_payload(lam, echo_fn, payload):
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=echo_fn, Payload=payload)
    assert error(e) == ("InvalidRequestContentException", 400)
    assert error_message(e).startswith("Could not parse request body into json: Could not parse payload into json: ")


def test_node_styles(fns, lam, node_zip):
    cb = fns.create(tag="nodecb", runtime=NODE, handler="index.callback", code=node_zip)["FunctionName"]
    r = lam.invoke(FunctionName=cb, Payload=b'{"k": 1}')
    assert read_payload(r) == {"style": "callback", "event": {"k": 1}}
    esm = fns.create(tag="nodeesm", runtime=NODE, handler="esm.handler", code=node_zip)["FunctionName"]
    assert read_payload(lam.invoke(FunctionName=esm, Payload=b'"hi"')) == {"module": "esm", "event": "hi"}


# --- Handler errors -----------------------------------------------------------------------------

def test_python_handler_error(fns, lam):
    name = fns.create(tag="pyerr", handler="handler.fail")["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=b'{"x": 42}', LogType="Tail")
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert r["ExecutedVersion"] == "$LATEST"
    doc = read_payload(r)
    assert sorted(doc) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert doc["errorType"] == "ValueError"
    assert doc["errorMessage"] == "boom 42"
    assert doc["requestId"] == tail_request_id(r)
    assert len(doc["stackTrace"]) == 1, doc["stackTrace"]
    assert re.fullmatch(r'  File "[^"]*/handler\.py", line \d+, in fail\n    raise ValueError\("boom " \+ str\(event\["x"\]\)\)\n',
                        doc["stackTrace"][0]), doc["stackTrace"]
    # The function still works: an error in the handler does not end the instance.
    r = lam.invoke(FunctionName=name, Payload=b'{"x": 43}')
    assert read_payload(r)["errorMessage"] == "boom 43"


def test_node_handler_error(fns, lam, node_zip):
    name = fns.create(tag="nodeerr", runtime=NODE, handler="index.fail", code=node_zip)["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=b'{"x": 7}')
    assert r["FunctionError"] == "Unhandled"
    doc = read_payload(r)
    assert sorted(doc) == ["errorMessage", "errorType", "trace"]
    assert (doc["errorType"], doc["errorMessage"]) == ("RangeError", "node boom 7")
    assert doc["trace"][0] == "RangeError: node boom 7"
    assert any("index.js" in line for line in doc["trace"][1:]), doc["trace"]


def test_python_import_error(fns, lam):
    name = fns.create(tag="import", handler="broken_import.handler")["FunctionName"]
    for _ in range(2):  # every invoke tries to start the function again, and fails the same way
        r = lam.invoke(FunctionName=name)
        assert r["StatusCode"] == 200
        assert r["FunctionError"] == "Unhandled"
        assert read_payload(r) == {
            "errorMessage": "Unable to import module 'broken_import': No module named 'module_that_cloudless_does_not_ship'",
            "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}


def test_python_handler_not_found(fns, lam):
    name = fns.create(tag="nohandler", handler="handler.no_such_function")["FunctionName"]
    r = lam.invoke(FunctionName=name)
    assert r["FunctionError"] == "Unhandled"
    doc = read_payload(r)
    assert doc["errorType"] == "Runtime.HandlerNotFound"
    assert doc["errorMessage"] == "Handler 'no_such_function' missing on module 'handler'"


def test_node_handler_not_found(fns, lam, node_zip):
    name = fns.create(tag="nodenohandler", runtime=NODE, handler="index.missing", code=node_zip)["FunctionName"]
    r = lam.invoke(FunctionName=name)
    assert r["FunctionError"] == "Unhandled"
    doc = read_payload(r)
    assert (doc["errorType"], doc["errorMessage"]) == ("Runtime.HandlerNotFound", "index.missing is undefined or not exported")


# --- Timeouts and exits -------------------------------------------------------------------------

def test_timeout_then_next_invoke_in_new_instance(fns, lam):
    name = fns.create(tag="timeout", handler="handler.counter", Timeout=1)["FunctionName"]
    warm = read_payload(lam.invoke(FunctionName=name, Payload=b'{"seconds": 0}'))
    assert warm["count"] == 1
    started = time.time()
    r = lam.invoke(FunctionName=name, Payload=b'{"seconds": 10}', LogType="Tail")
    elapsed = time.time() - started
    assert 0.9 <= elapsed < 5, elapsed
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    assert r["ExecutedVersion"] == "$LATEST"
    request_id = tail_request_id(r)
    assert read_payload(r) == {"errorType": "Sandbox.Timedout",
                               "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"}
    # The timed-out instance is gone; the next invoke starts a new one (module state back to zero).
    deadline = time.time() + 5
    while pid_alive(warm["pid"]) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(warm["pid"])
    after = read_payload(lam.invoke(FunctionName=name, Payload=b'{"seconds": 0}'))
    assert after["count"] == 1
    assert after["pid"] != warm["pid"]


def test_bootstrap_that_exits(fns, lam):
    name = fns.create(tag="exit", runtime="provided.al2023", handler="function.handler",
                      code=fixture_zip("provided_exit"))["FunctionName"]
    r = lam.invoke(FunctionName=name, LogType="Tail")
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled"
    request_id = tail_request_id(r)
    assert read_payload(r) == {"errorType": "Runtime.ExitError",
                               "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 3"}
    assert "bootstrap giving up" in tail_lines(r)


def test_handler_that_exits_cleanly(fns, lam):
    """sys.exit(0) in the handler: the runtime ends without answering."""
    name = fns.create(tag="sysexit", handler="handler.exit_in_handler")["FunctionName"]
    r = lam.invoke(FunctionName=name, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    request_id = tail_request_id(r)
    assert read_payload(r) == {"errorType": "Runtime.ExitError",
                               "errorMessage": f"RequestId: {request_id} Error: Runtime exited without providing a reason"}


# --- Logs ---------------------------------------------------------------------------------------

REPORT_RE = (r"REPORT RequestId: {id}\tDuration: \d+\.\d{{2}} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t"
             r"Max Memory Used: \d+ MB{init}\t?")


def test_log_tail_python(fns, lam):
    name = fns.create(tag="tail", handler="handler.prints")["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=b'{"b": 2, "a": 1}', LogType="Tail")
    assert read_payload(r) == {"printed": 2}
    request_id = tail_request_id(r)
    assert re.fullmatch(LAMBDA_UUID_RE, request_id)
    lines = tail_lines(r)
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[1:3] == ["first line from the handler", 'second line: {"a": 1, "b": 2}']
    assert lines[3] == f"END RequestId: {request_id}"
    assert re.fullmatch(REPORT_RE.format(id=request_id, init=r"\tInit Duration: \d+\.\d{2} ms"), lines[4]), lines[4]
    assert len(lines) == 5, lines

    # Warm: no Init Duration; a different request id.
    r = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    second = tail_request_id(r)
    assert second != request_id
    assert re.fullmatch(REPORT_RE.format(id=second, init=""), tail_lines(r)[-1]), tail_lines(r)[-1]
    # Without LogType there is no log in the answer.
    assert "LogResult" not in lam.invoke(FunctionName=name, Payload=b"{}")


def test_log_tail_node_console_format(fns, lam, node_zip):
    """Node.js runtimes prefix console.log lines with time, request id and level."""
    name = fns.create(tag="nodetail", runtime=NODE, handler="index.logs", code=node_zip)["FunctionName"]
    r = lam.invoke(FunctionName=name, LogType="Tail")
    assert read_payload(r) == {"logged": True}
    request_id = tail_request_id(r)
    lines = tail_lines(r)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\t" + request_id + r"\tINFO\thello from node",
                        lines[1]), lines


# --- Invocation types ---------------------------------------------------------------------------

@pytest.fixture
def bucket_name(endpoint):
    name = f"e2e-lambda-{uuid.uuid4().hex[:16]}"
    yield name
    purge_bucket(make_client(endpoint), name)


def test_event_invocation_runs_the_function(fns, lam, endpoint, bucket_name):
    name = fns.create(tag="event", handler="handler.make_bucket", Timeout=30)["FunctionName"]
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"bucket": bucket_name}).encode())
    assert r["StatusCode"] == 202
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert r["Payload"].read() == b""
    assert "FunctionError" not in r
    s3 = make_client(endpoint)
    deadline = time.time() + 20
    while time.time() < deadline:
        if bucket_name in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
            break
        time.sleep(0.1)
    assert bucket_name in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_event_answer_has_no_executed_version(lam, echo_fn):
    r = lam.invoke(FunctionName=echo_fn, InvocationType="Event", Payload=b"{}")
    assert r["StatusCode"] == 202
    assert "ExecutedVersion" not in r


def test_dry_run(lam, echo_fn):
    r = lam.invoke(FunctionName=echo_fn, InvocationType="DryRun", Payload=b'{"a": 1}')
    assert r["StatusCode"] == 204
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert r["Payload"].read() == b""
    assert "FunctionError" not in r
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=echo_fn + "-missing", InvocationType="DryRun")
    assert error(e) == ("ResourceNotFoundException", 404)


# --- Client context -----------------------------------------------------------------------------

CLIENT_CONTEXT = {"custom": {"foo": "bar"}, "client": {"snap": ["crackle", "pop"]}, "env": {"fizz": "buzz"}}


def encoded_client_context():
    return base64.b64encode(json.dumps(CLIENT_CONTEXT).encode()).decode()


def test_client_context_python(fns, lam):
    name = fns.create(tag="ccpy", handler="handler.client_context")["FunctionName"]
    r = lam.invoke(FunctionName=name, ClientContext=encoded_client_context())
    assert "FunctionError" not in r, read_payload(r)
    assert read_payload(r) == {"custom": {"foo": "bar"}, "env": {"fizz": "buzz"}}


def test_client_context_node(fns, lam, node_zip):
    name = fns.create(tag="ccnode", runtime=NODE, handler="index.info", code=node_zip)["FunctionName"]
    with_cc = read_payload(lam.invoke(FunctionName=name, ClientContext=encoded_client_context()))
    assert with_cc["clientContext"] == CLIENT_CONTEXT
    assert read_payload(lam.invoke(FunctionName=name))["clientContext"] is None


def test_log_events_end_with_a_newline_as_lambda_writes_them(fns, lam, endpoint):
    name = fns.create(tag="blank", handler="handler.blank_line")["FunctionName"]
    r = lam.invoke(FunctionName=name, LogType="Tail")
    request_id = tail_request_id(r)
    logs = make_client(endpoint, "logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [e["message"] for e in events]
    assert messages[:5] == [f"START RequestId: {request_id} Version: $LATEST\n", "before\n", "\n", "after\n",
                            f"END RequestId: {request_id}\n"]
    assert messages[5].startswith(f"REPORT RequestId: {request_id}\tDuration: ") and messages[5].endswith(" ms\t\n")
    assert len(messages) == 6
