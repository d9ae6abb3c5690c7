"""Fault injection: /_cloudless/faults rules answer matching requests with AWS-shaped errors (or delay them), so SDK
and CLI retry logic runs for real. The module runs its own servers: the rules are server-wide."""
import json
import os
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import error, make_client, tool_env
from server import Server, binary_path
from test_cli_aws import CLIS


@pytest.fixture(scope="module")
def server():
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def no_rules_after(endpoint):
    yield
    requests.delete(endpoint + "/_cloudless/faults", timeout=10)


def install(endpoint, rules, method="POST"):
    r = requests.request(method, endpoint + "/_cloudless/faults", data=json.dumps(rules), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def retrying_client(endpoint, service, attempts):
    """A boto3 client in standard retry mode (make_client's never retry)."""
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test",
                        config=Config(retries={"mode": "standard", "total_max_attempts": attempts},
                                      s3={"addressing_style": "path"}))


def installed(endpoint):
    return requests.get(endpoint + "/_cloudless/faults", timeout=10).json()


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


@pytest.fixture
def queue(sqs):
    url = sqs.create_queue(QueueName="faults-" + uuid.uuid4().hex[:12])["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def message_count(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def test_boto3_standard_retries_a_throttled_send_message_and_succeeds(endpoint, sqs, queue):
    install(endpoint, [{"service": "sqs", "operation": "SendMessage", "error": "ThrottlingException", "count": 2}])
    retrying = retrying_client(endpoint, "sqs", 5)
    out = retrying.send_message(QueueUrl=queue, MessageBody="hello")
    assert out["ResponseMetadata"]["RetryAttempts"] == 2
    assert installed(endpoint) == []  # both faults spent, the rule gone
    assert message_count(sqs, queue) == 1  # the faulted attempts stored nothing


def test_a_faulted_request_changes_nothing_and_other_operations_pass(endpoint, sqs, queue):
    install(endpoint, [{"service": "sqs", "operation": "SendMessage", "error": "ThrottlingException"}])
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="lost")
    assert error(e) == ("ThrottlingException", 400)
    assert e.value.response["Error"]["Message"] == "Rate exceeded"
    assert message_count(sqs, queue) == 0


def test_s3_slowdown_is_shaped_as_s3_answers_it(endpoint, s3, bucket):
    install(endpoint, [{"service": "s3", "operation": "PutObject", "error": "SlowDown"}])
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    err, meta = e.value.response["Error"], e.value.response["ResponseMetadata"]
    assert (err["Code"], err["Message"], meta["HTTPStatusCode"]) == ("SlowDown", "Please reduce your request rate.", 503)
    assert meta["RequestId"] and meta["RequestId"] == meta["HTTPHeaders"]["x-amz-request-id"]
    assert meta["HostId"] == meta["HTTPHeaders"]["x-amz-id-2"]
    raw = requests.put(f"{endpoint}/{bucket}/k", data=b"x", timeout=10)
    doc = ET.fromstring(raw.content)
    assert [c.tag for c in doc] == ["Code", "Message", "RequestId", "HostId"]
    assert doc.findtext("RequestId") == raw.headers["x-amz-request-id"]
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=bucket, Key="k")
    assert error(missing)[1] == 404


def test_s3_internal_error_is_retried_by_boto3(endpoint, s3, bucket):
    install(endpoint, [{"service": "s3", "operation": "PutObject", "error": "InternalError", "count": 1}])
    retrying = retrying_client(endpoint, "s3", 3)
    out = retrying.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert out["ResponseMetadata"]["RetryAttempts"] == 1
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


def test_json_query_and_rest_json_services_get_their_own_shapes(endpoint):
    install(endpoint, [
        {"service": "secretsmanager", "operation": "ListSecrets", "error": "InternalServiceError"},
        {"service": "sts", "error": "Throttling"},
        {"service": "lambda", "operation": "ListFunctions", "error": "TooManyRequestsException"},
    ])
    with pytest.raises(ClientError) as sm:
        make_client(endpoint, "secretsmanager").list_secrets()
    assert error(sm) == ("InternalServiceError", 500)
    assert sm.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "InternalServiceError"
    with pytest.raises(ClientError) as sts:
        make_client(endpoint, "sts").get_caller_identity()
    assert error(sts) == ("Throttling", 400)
    assert sts.value.response["Error"]["Message"] == "Rate exceeded"
    assert sts.value.response["Error"]["Type"] == "Sender"
    with pytest.raises(ClientError) as lam:
        make_client(endpoint, "lambda").list_functions()
    assert error(lam) == ("TooManyRequestsException", 429)


def test_a_signed_query_request_is_matched_by_the_action_in_its_body(endpoint, sqs, queue):
    install(endpoint, [{"service": "sqs", "operation": "SendMessage", "error": "RequestThrottled"}])
    body = f"Action=SendMessage&Version=2012-11-05&QueueUrl={queue}&MessageBody=query"
    req = AWSRequest(method="POST", url=endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(req)
    r = requests.post(endpoint + "/", data=body, headers=dict(req.headers.items()), timeout=10)
    assert r.status_code == 403
    doc = ET.fromstring(r.content)
    ns = {"q": "http://queue.amazonaws.com/doc/2012-11-05/"}
    assert doc.findtext("q:Error/q:Code", namespaces=ns) == "RequestThrottled"
    assert doc.findtext("q:Error/q:Type", namespaces=ns) == "Sender"
    assert doc.findtext("q:RequestId", namespaces=ns) == r.headers["x-amzn-RequestId"]
    assert message_count(sqs, queue) == 0


@pytest.mark.parametrize("cli", ["v1", "v2"])
def test_aws_cli_prints_the_error_code_when_retries_run_out(endpoint, cli, tmp_path):
    install(endpoint, [{"service": "sqs", "operation": "ListQueues", "error": "ThrottlingException", "count": 100}])
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
                   AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true", AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="2")
    cmd = [CLIS[cli](), "--endpoint-url", endpoint, "sqs", "list-queues"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode != 0
    assert "(ThrottlingException)" in p.stderr and "Rate exceeded" in p.stderr, p.stderr
    assert installed(endpoint)[0]["count"] == 98  # two attempts, both faulted


def test_latency_alone_delays_then_serves(endpoint, s3):
    install(endpoint, [{"service": "s3", "operation": "ListBuckets", "latencyMs": 400}])
    started = time.monotonic()
    s3.list_buckets()
    assert time.monotonic() - started >= 0.4


def test_probability_faults_some_requests_and_region_narrows(endpoint):
    install(endpoint, [{"service": "sts", "probability": 0.5, "error": "Throttling"},
                       {"service": "secretsmanager", "region": "eu-west-1", "error": "ThrottlingException"}])
    sts = make_client(endpoint, "sts")
    outcomes = set()
    for _ in range(40):
        try:
            sts.get_caller_identity()
            outcomes.add("ok")
        except ClientError as e:
            outcomes.add(e.response["Error"]["Code"])
    assert outcomes == {"ok", "Throttling"}
    make_client(endpoint, "secretsmanager").list_secrets()
    with pytest.raises(ClientError) as e:
        make_client(endpoint, "secretsmanager", region="eu-west-1").list_secrets()
    assert error(e) == ("ThrottlingException", 400)


def test_patch_appends_delete_clears(endpoint, s3):
    install(endpoint, [{"service": "s3", "operation": "ListBuckets", "error": "SlowDown"}])
    listed = install(endpoint, [{"service": "sqs", "error": "ServiceUnavailable"}], method="PATCH")
    assert [(r["service"], r["error"], r["status"]) for r in listed] == [("s3", "SlowDown", 503), ("sqs", "ServiceUnavailable", 503)]
    with pytest.raises(ClientError):
        s3.list_buckets()
    r = requests.delete(endpoint + "/_cloudless/faults", timeout=10)
    assert r.status_code == 200 and r.json() == [] and installed(endpoint) == []
    s3.list_buckets()


@pytest.mark.parametrize("rules, reason", [
    ([{"service": "s3", "probability": 1.5}], "rule 0: 'probability' must be between 0 and 1"),
    ([{"service": "s3", "status": 302}], "rule 0: 'status' must be between 400 and 599"),
    ([{"service": "s3"}, {"service": "s3", "latencyMs": "5"}], "rule 1: 'latencyMs' must be a number"),
    ([{"operation": "PutObject"}], "rule 0: 'service' is required"),
])
def test_bad_rules_are_refused_and_install_nothing(endpoint, rules, reason):
    install(endpoint, [{"service": "s3", "operation": "ListBuckets", "error": "SlowDown"}])
    r = requests.post(endpoint + "/_cloudless/faults", data=json.dumps(rules), timeout=10)
    assert r.status_code == 400 and r.json() == {"error": reason}
    assert [x["error"] for x in installed(endpoint)] == ["SlowDown"]


def test_faults_file_at_start(tmp_path):
    rules = tmp_path / "faults.json"
    rules.write_text(json.dumps([{"service": "sqs", "operation": "ListQueues", "error": "ServiceUnavailable"}]))
    s = Server(args=["--faults", str(rules)]).start()
    try:
        assert installed(s.endpoint)[0]["error"] == "ServiceUnavailable"
        with pytest.raises(ClientError) as e:
            make_client(s.endpoint, "sqs").list_queues()
        assert error(e) == ("ServiceUnavailable", 503)
    finally:
        s.stop()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"service": "sqs", "probability": 7}]))
    p = subprocess.run([binary_path(), "serve", "--port", "0", "--ephemeral"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "CLOUDLESS_FAULTS": str(bad)})
    assert p.returncode != 0 and "rule 0: 'probability' must be between 0 and 1" in p.stderr
