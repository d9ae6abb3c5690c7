"""Lambda through the AWS CLI, v1 (pip, botocore) and v2 (Debian's awscli 2.x), each in an isolated environment
(see test_cli_aws.py): create-function from a zip file, `aws lambda wait function-active-v2`, invoke with a payload
file and Tail logs, update-function-configuration with `wait function-updated-v2`, the log read back with
`aws logs filter-log-events` and `aws logs tail`,
delete-function and the error after it. (Each CLI call costs about a second and a half of start-up, so the
CLIs get one lean walk through the lifecycle; boto3 covers the rest.)
"""
import base64
import json

from helpers import LAMBDA_ROLE, fixture_zip, host_python_runtime, write_file
from test_cli_aws import aws  # noqa: F401  (the per-CLI fixture)


def run_json(aws, *args):
    p = aws(*args)
    return json.loads(p.stdout) if p.stdout.strip() else None


def test_cli_function_lifecycle(aws, fns, tmp_path):
    name = fns.name(aws.version)
    package = write_file(tmp_path / "fn.zip", fixture_zip("python"))
    created = run_json(aws, "lambda", "create-function", "--function-name", name, "--runtime", host_python_runtime(),
                       "--role", LAMBDA_ROLE, "--handler", "handler.echo_env", "--zip-file", f"fileb://{package}",
                       "--environment", "Variables={GREETING=hello}", "--timeout", "5")
    assert (created["FunctionName"], created["State"], created["Timeout"]) == (name, "Pending", 5)
    aws("lambda", "wait", "function-active-v2", "--function-name", name)

    payload = write_file(tmp_path / "payload.json", b'{"from": "cli"}')
    out = tmp_path / "out.json"
    answer = run_json(aws, "lambda", "invoke", "--function-name", name, "--payload", f"fileb://{payload}",
                      "--log-type", "Tail", str(out))
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer
    assert json.loads(out.read_text()) == {"event": {"from": "cli"}, "greeting": "hello"}
    log = base64.b64decode(answer["LogResult"]).decode()
    assert log.startswith("START RequestId: ") and "\nEND RequestId: " in log and "\nREPORT RequestId: " in log

    updated = run_json(aws, "lambda", "update-function-configuration", "--function-name", name,
                       "--environment", "Variables={GREETING=bonjour}")
    assert updated["LastUpdateStatus"] == "InProgress"
    aws("lambda", "wait", "function-updated-v2", "--function-name", name)
    run_json(aws, "lambda", "invoke", "--function-name", name, "--payload", f"fileb://{payload}", str(out))
    assert json.loads(out.read_text()) == {"event": {"from": "cli"}, "greeting": "bonjour"}

    # The function's log, read back as a user would: filter-log-events, and `logs tail` (v2 only has it).
    group = f"/aws/lambda/{name}"
    events = run_json(aws, "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "REPORT")["events"]
    assert len(events) == 2 and all(e["message"].startswith("REPORT RequestId: ") for e in events)
    if aws.version == "v2":
        tail = aws("logs", "tail", group, "--since", "1h", "--format", "short").stdout
        assert tail.count("START RequestId: ") == 2 and tail.count("END RequestId: ") == 2, tail

    aws("lambda", "delete-function", "--function-name", name)
    gone = aws("lambda", "get-function", "--function-name", name, check=False)
    assert gone.returncode == {"v1": 255, "v2": 254}[aws.version], gone
    assert "ResourceNotFoundException" in gone.stderr
    assert f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}" in gone.stderr, gone.stderr

