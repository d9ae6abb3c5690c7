"""The request log (`/_cloudless/requests`, its stream, the gateway's info line) names every operation, Query
requests with `Action` in the form body included; under --strict-auth it and SQS peek answer only signed requests,
with the signer's account alone.
"""
import json
import os
import re
import subprocess
import uuid

import pytest
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from helpers import make_client, tool_env
from server import Server

OTHER = "111111111111"  # a 12-digit key acts in that account


def _v1_path():
    """The pip-installed aws CLI v1: the first `aws` on PATH that is not Debian's v2 (/usr/bin/aws)."""
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "aws")
        if os.path.isfile(p) and os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath("/usr/bin/aws"):
            return p
    raise AssertionError("aws CLI v1 not found on PATH")


@pytest.fixture(scope="module")
def plain():
    s = Server(args=["--log-level", "info"]).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def strict():
    s = Server(args=["--strict-auth", "--credentials", f"test:test,{OTHER}:other-secret"]).start()
    yield s
    s.stop()


def signed_headers(url, key="test", secret="test", method="GET", body=None, headers=None, service="cloudless"):
    r = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(r)
    return dict(r.headers.items())


def presigned(url, key="test", secret="test"):
    r = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(key, secret), "cloudless", "us-east-1", expires=300).add_auth(r)
    return r.url


def logged(endpoint, **params):
    r = requests.get(f"{endpoint}/_cloudless/requests", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["requests"]


def aws_v1(endpoint, tmp_path, *args, key):
    (tmp_path / "cfg").write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(tmp_path / "cfg"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "cfg"), AWS_PAGER="",
                   AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")
    p = subprocess.run([_v1_path(), "--endpoint-url", endpoint, "--output", "json", *args], capture_output=True, text=True,
                       env=env, timeout=120)
    return p


def test_query_actions_in_the_form_body_are_named(plain, tmp_path):
    endpoint = plain.endpoint
    boto_key, cli_key = "boto" + uuid.uuid4().hex[:8], "cli" + uuid.uuid4().hex[:8]
    iam, sts, cfn = (make_client(endpoint, s, access_key=boto_key) for s in ("iam", "sts", "cloudformation"))
    iam.list_users()
    with pytest.raises(Exception):
        iam.get_user(UserName="no-such-user-" + boto_key)  # an error still names its operation
    sts.get_caller_identity()
    cfn.list_stacks()
    # SQS in the Query protocol, as older SDKs send it: Action in a signed form body.
    form = "Action=ListQueues&Version=2012-11-05"
    headers = signed_headers(endpoint + "/", key=boto_key, method="POST", body=form, service="sqs",
                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    r = requests.post(endpoint + "/", data=form, headers=headers, timeout=10)
    assert r.status_code == 200 and "ListQueuesResponse" in r.text
    for args in (["iam", "list-roles"], ["sts", "get-caller-identity"], ["cloudformation", "describe-stacks"],
                 ["sqs", "list-queues"]):
        p = aws_v1(endpoint, tmp_path, *args, key=cli_key)
        assert p.returncode == 0, p.stderr

    ops = lambda key: {(e["service"], e["operation"], e["status"]) for e in logged(endpoint) if e["accessKeyId"] == key}
    assert ops(boto_key) == {("iam", "ListUsers", 200), ("iam", "GetUser", 404), ("sts", "GetCallerIdentity", 200),
                             ("cloudformation", "ListStacks", 200), ("sqs", "ListQueues", 200)}
    assert ops(cli_key) == {("iam", "ListRoles", 200), ("sts", "GetCallerIdentity", 200),
                            ("cloudformation", "DescribeStacks", 200), ("sqs", "ListQueues", 200)}
    assert logged(endpoint, operation="-") == []
    # The gateway's info line names them too.
    with open(plain.log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for line in ("POST iam ListUsers 200", "POST iam GetUser 404", "POST sts GetCallerIdentity 200",
                 "POST cloudformation ListStacks 200", "POST sqs ListQueues 200", "POST iam ListRoles 200"):
        assert line in text, line
    assert not re.search(r"POST (iam|sts|cloudformation|sqs) - ", text)


def test_faults_still_match_a_form_body_action(plain):
    endpoint = plain.endpoint
    rules = [{"service": "iam", "operation": "ListGroups", "error": "Throttling", "status": 400, "count": 1}]
    assert requests.post(f"{endpoint}/_cloudless/faults", json=rules, timeout=10).status_code == 200
    try:
        iam = make_client(endpoint, "iam")
        with pytest.raises(Exception) as e:
            iam.list_groups()
        assert "Throttling" in str(e.value)
        iam.list_groups()
    finally:
        requests.delete(f"{endpoint}/_cloudless/faults", timeout=10)
    groups = [e for e in logged(endpoint, service="iam", operation="ListGroups")]
    assert [(e["status"], e["errorCode"]) for e in groups[-2:]] == [(400, "Throttling"), (200, "")]


def test_strict_auth_refuses_unsigned_and_badly_signed(strict):
    endpoint = strict.endpoint
    for path in ("/_cloudless/requests", "/_cloudless/requests/stream", "/_cloudless/sqs/peek/000000000000/us-east-1/q"):
        url = endpoint + path
        r = requests.get(url, timeout=10)
        assert r.status_code == 403 and r.json()["error"] == "MissingAuthenticationToken", (path, r.text)
        r = requests.get(url, headers=signed_headers(url, secret="wrong"), timeout=10)
        assert r.status_code == 403 and r.json()["error"] == "SignatureDoesNotMatch", (path, r.text)
        r = requests.get(url, headers=signed_headers(url, key="AKIDUNKNOWN", secret="x"), timeout=10)
        assert r.status_code == 403 and r.json()["error"] == "InvalidClientTokenId", (path, r.text)
        # A presigned URL for another path does not open this one.
        other = presigned(endpoint + "/_cloudless/health")
        r = requests.get(url + "?" + other.split("?", 1)[1], timeout=10)
        assert r.status_code == 403 and r.json()["error"] == "SignatureDoesNotMatch", (path, r.text)


def test_strict_auth_shows_only_the_signers_account(strict):
    endpoint = strict.endpoint
    mine = make_client(endpoint, "sqs")
    theirs = make_client(endpoint, "sqs", access_key=OTHER, secret="other-secret")
    name = "reqlog-" + uuid.uuid4().hex[:8]
    my_queue = mine.create_queue(QueueName=name)["QueueUrl"]
    their_queue = theirs.create_queue(QueueName=name)["QueueUrl"]
    mine.send_message(QueueUrl=my_queue, MessageBody="mine")
    theirs.send_message(QueueUrl=their_queue, MessageBody="theirs")

    url = endpoint + "/_cloudless/requests"
    for key, secret, account in (("test", "test", "000000000000"), (OTHER, "other-secret", OTHER)):
        r = requests.get(url, headers=signed_headers(url, key, secret), timeout=10)
        assert r.status_code == 200, r.text
        entries = r.json()["requests"]
        assert {e["account"] for e in entries} == {account}
        assert {"CreateQueue", "SendMessage"} <= {e["operation"] for e in entries}
    # Asking for another account by filter shows nothing.
    q = url + f"?account={OTHER}"
    assert requests.get(q, headers=signed_headers(q), timeout=10).json()["requests"] == []

    # Peek: own queue yes, another account's queue AccessDenied.
    peek = f"{endpoint}/_cloudless/sqs/peek/000000000000/us-east-1/{name}"
    r = requests.get(peek, headers=signed_headers(peek), timeout=10)
    assert r.status_code == 200 and [m["body"] for m in r.json()["messages"]] == ["mine"]
    peek_other = f"{endpoint}/_cloudless/sqs/peek/{OTHER}/us-east-1/{name}"
    r = requests.get(peek_other, headers=signed_headers(peek_other), timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "AccessDenied" and "theirs" not in r.text
    r = requests.get(peek_other, headers=signed_headers(peek_other, OTHER, "other-secret"), timeout=10)
    assert r.status_code == 200 and [m["body"] for m in r.json()["messages"]] == ["theirs"]

    # Lambda's asynchronous queue: unsigned and another account's key refused; the owner's key passes the check
    # (no such function here: Lambda's own 404).
    aq = f"{endpoint}/_cloudless/lambda/async-queue/000000000000/us-east-1/no-such-function"
    assert requests.get(aq, timeout=10).status_code == 403
    r = requests.get(aq, headers=signed_headers(aq, OTHER, "other-secret"), timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "AccessDenied"
    r = requests.get(aq, headers=signed_headers(aq), timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "ResourceNotFoundException", r.text

    # The stream through a presigned URL (what the console's EventSource opens): own account's events only.
    stream_url = presigned(endpoint + "/_cloudless/requests/stream?service=sqs")
    with requests.get(stream_url, stream=True, timeout=10) as stream:
        assert stream.status_code == 200 and stream.headers["Content-Type"] == "text/event-stream"
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines).startswith(":")
        theirs.list_queues()
        mine.get_queue_url(QueueName=name)
        event = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
        assert event["operation"] == "GetQueueUrl" and event["account"] == "000000000000"


def test_without_strict_auth_nothing_changes(plain):
    endpoint = plain.endpoint
    make_client(endpoint, "sqs", access_key=OTHER).list_queues()
    make_client(endpoint, "sqs").list_queues()
    accounts = {e["account"] for e in logged(endpoint, service="sqs", operation="ListQueues")}
    assert {OTHER, "000000000000"} <= accounts
    sqs = make_client(endpoint, "sqs", access_key=OTHER)
    url = sqs.create_queue(QueueName="reqlog-open")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="open")
    r = requests.get(f"{endpoint}/_cloudless/sqs/peek/{OTHER}/us-east-1/reqlog-open", timeout=10)
    assert r.status_code == 200 and [m["body"] for m in r.json()["messages"]] == ["open"]
