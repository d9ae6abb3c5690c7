"""SQS over the Query protocol: `Action=<Op>&Version=2012-11-05` as a form-encoded POST (or a GET query
string), XML answers in the `http://queue.amazonaws.com/doc/2012-11-05/` namespace, errors as
`<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` with the legacy
Query codes (`AWS.SimpleQueueService.NonExistentQueue`, `InvalidAttributeName`, ...). Older SDKs and the
aws CLI v2 of Debian 12 still speak it. Expected behaviour is real Amazon SQS.

Three kinds of client:
- boto3 on the SQS service model of botocore 1.31.60, the last one on the Query protocol (all 23
  operations). `scripts/install-deps --test` puts that model in
  `${XDG_CACHE_HOME:-~/.cache}/cloudless/botocore-query/sqs/2012-11-05/`; the client's loader searches
  there first. Without it the tests fail: they never fall back to the JSON protocol.
- Debian's aws CLI v2 (`/usr/bin/aws`, 2.9.x), whose bundled botocore speaks Query for SQS (the pip CLI
  v1 first on PATH speaks JSON), in an isolated environment as in test_cli_aws.py.
- Raw SigV4-signed (or unsigned) requests, for what SDKs cannot express: queues addressed by the URL
  path (`POST /<account>/<queue>` without QueueUrl), GET with a query string, the XML envelope and
  content type, `+` as a space in a form, unsigned requests (Cloudless accepts them without
  --strict-auth), missing parameters and unknown actions.

Covered: every operation (CreateQueue with Attribute.N/Tag.N, GetQueueUrl with QueueOwnerAWSAccountId,
ListQueues with prefix and MaxResults/NextToken, DeleteQueue, Get/SetQueueAttributes, SendMessage with
String/Number/Binary message attributes and their MD5s, SendMessageBatch with a partial failure,
ReceiveMessage with AttributeName.N/MessageAttributeName.N, DeleteMessage(Batch),
ChangeMessageVisibility(Batch), PurgeQueue, Tag/Untag/ListQueueTags, ListDeadLetterSourceQueues,
Add/RemovePermission, Start/List/CancelMessageMoveTask), the Query error codes, a JSON client (boto3 on
the current botocore) and a Query client working on the same queues, and the CLI v2.

The account is read from the queue URLs the server hands out (000000000000 for access key "test" on
Cloudless), so the module also runs against other emulators through E2E_ENDPOINT.
"""
import base64
import hashlib
import json
import os
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode, urlparse

import boto3
import botocore.session
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import make_client, tool_env

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
VERSION = "2012-11-05"
NONEXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
CLI_V2 = "/usr/bin/aws"
MODEL_ROOT = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                          "cloudless", "botocore-query")
MODEL_FILE = os.path.join(MODEL_ROOT, "sqs", VERSION, "service-2.json")
QUERY_OPERATIONS = {
    "AddPermission", "CancelMessageMoveTask", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
    "CreateQueue", "DeleteMessage", "DeleteMessageBatch", "DeleteQueue", "GetQueueAttributes", "GetQueueUrl",
    "ListDeadLetterSourceQueues", "ListMessageMoveTasks", "ListQueueTags", "ListQueues", "PurgeQueue",
    "ReceiveMessage", "RemovePermission", "SendMessage", "SendMessageBatch", "SetQueueAttributes",
    "StartMessageMoveTask", "TagQueue", "UntagQueue",
}
# The keys GetQueueAttributes(All) returns for a fresh standard queue (as AWS answers).
STANDARD_ALL_KEYS = {
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp", "DelaySeconds", "LastModifiedTimestamp", "MaximumMessageSize", "MessageRetentionPeriod",
    "QueueArn", "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "VisibilityTimeout",
}
# The system attributes ReceiveMessage(AttributeName.1=All) returns on a standard queue.
RECEIVE_ALL_KEYS = {"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}
MISSING_MODEL = (f"The Query-protocol SQS model of botocore 1.31.60 is missing ({MODEL_FILE}). "
                 "Run `scripts/install-deps --test` to fetch it.")


# --- helpers ------------------------------------------------------------------------------------

def md5_hex(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def md5_of_attributes(attributes):
    """MD5OfMessageAttributes as AWS computes it (see test_sqs_messages.py): for each attribute, in name
    order, the name and the data type (each a 4-byte big-endian length then UTF-8 bytes), a transport
    byte (1 for String/Number, 2 for Binary) and the length-prefixed value."""
    h = hashlib.md5()

    def field(data):
        h.update(len(data).to_bytes(4, "big") + data)

    for name in sorted(attributes):
        value = attributes[name]
        field(name.encode("utf-8"))
        field(value["DataType"].encode("utf-8"))
        if "BinaryValue" in value:
            h.update(b"\x02")
            field(value["BinaryValue"])
        else:
            h.update(b"\x01")
            field(value["StringValue"].encode("utf-8"))
    return h.hexdigest()


def new_name(prefix="e2e-qry-"):
    return prefix + uuid.uuid4().hex[:16]


def path_of(url):
    """`/<account>/<name>` of a queue URL."""
    return urlparse(url).path


def account_of(url):
    return path_of(url).split("/")[1]


def client_error(excinfo):
    """(code, HTTP status) of a ClientError from a Query answer; every error here is the sender's."""
    err = excinfo.value.response
    assert err["Error"].get("Type") == "Sender", err
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def receive(client, url, wait=1, **kw):
    return client.receive_message(QueueUrl=url, WaitTimeSeconds=wait, **kw).get("Messages", [])


def receive_all(client, url, count, timeout=5.0, **kw):
    """Receive until `count` messages were seen (or `timeout` passed); returns them."""
    got = {}
    deadline = time.time() + timeout
    while len(got) < count and time.time() < deadline:
        for m in receive(client, url, MaxNumberOfMessages=10, **kw):
            got[m["MessageId"]] = m
    return list(got.values())


def visible_count(client, url):
    return int(client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
               ["Attributes"]["ApproximateNumberOfMessages"])


def sqs_request(endpoint, params, path="/", method="POST", sign=True):
    """A raw Query request: `params` form-encoded in the body (POST) or the query string (GET),
    SigV4-signed for service sqs unless `sign` is false. Returns the `requests` response."""
    url = endpoint + path
    headers = {}
    body = b""
    if method == "GET":
        url += "?" + urlencode(params, quote_via=quote)
    else:
        body = urlencode(params, quote_via=quote).encode() if isinstance(params, dict) else params
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    if sign:
        req = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(Credentials("test", "test"), "sqs", "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
    return requests.request(method, url, headers=headers, data=body, timeout=30)


def q(tag):
    return f"{{{NS}}}{tag}"


def xml_of(resp):
    return ET.fromstring(resp.content)


def assert_xml_response(resp, action, result=True):
    """A 200 `<ActionResponse xmlns=NS><ActionResult>...</ActionResult><ResponseMetadata><RequestId>`
    answer with content type text/xml; returns the ActionResult element. For an operation without
    output (`result=False`) AWS sends no ActionResult at all, only the ResponseMetadata."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].split(";")[0].strip() == "text/xml", resp.headers
    root = xml_of(resp)
    assert root.tag == q(f"{action}Response"), resp.text
    expected = [q(f"{action}Result"), q("ResponseMetadata")] if result else [q("ResponseMetadata")]
    assert [child.tag for child in root] == expected, resp.text
    request_id = root.find(f"{q('ResponseMetadata')}/{q('RequestId')}").text
    assert request_id and request_id == resp.headers["x-amzn-RequestId"], resp.text
    return root.find(q(f"{action}Result"))


def assert_xml_error(resp, code, status=400):
    """An `<ErrorResponse xmlns=NS><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/>`
    answer with content type text/xml and HTTP `status`."""
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].split(";")[0].strip() == "text/xml", resp.headers
    root = xml_of(resp)
    assert root.tag == q("ErrorResponse"), resp.text
    assert [child.tag for child in root] == [q("Error"), q("RequestId")], resp.text
    error = root.find(q("Error"))
    assert error.find(q("Type")).text == "Sender", resp.text
    assert error.find(q("Code")).text == code, resp.text
    assert error.find(q("Message")).text, resp.text
    assert root.find(q("RequestId")).text == resp.headers["x-amzn-RequestId"], resp.text


def text_of(element, tag):
    found = element.find(q(tag))
    return None if found is None else found.text


# --- fixtures -----------------------------------------------------------------------------------

def query_client(endpoint):
    """boto3 SQS client on the botocore 1.31.60 (Query protocol) model."""
    assert os.path.isfile(MODEL_FILE), MISSING_MODEL
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, MODEL_ROOT)
    client = boto3.Session(botocore_session=session).client(
        "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
    assert client.meta.service_model.protocol == "query", MISSING_MODEL
    return client


@pytest.fixture(scope="module")
def qsqs(endpoint):
    return query_client(endpoint)


@pytest.fixture(scope="module")
def jsqs(endpoint):
    """boto3 on the installed botocore: the AWS JSON 1.0 protocol."""
    return make_client(endpoint, "sqs")


@pytest.fixture
def make_queue(qsqs, jsqs):
    """make_queue(name=None, **create_queue_kwargs) -> QueueUrl, created over Query; deleted afterwards
    (over JSON, so cleanup does not depend on the protocol under test)."""
    urls = []

    def make(name=None, **kwargs):
        url = qsqs.create_queue(QueueName=name or new_name(), **kwargs)["QueueUrl"]
        urls.append(url)
        return url
    yield make
    for url in urls:
        try:
            jsqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


@pytest.fixture
def queue(make_queue):
    return make_queue()


def arn_of(client, url):
    return client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


@pytest.fixture
def sent_bodies(qsqs):
    """The bodies of the requests qsqs sends during the test, as text."""
    bodies = []

    def hook(request, **_):
        body = request.body
        bodies.append(body.decode() if isinstance(body, bytes) else str(body or ""))
    qsqs.meta.events.register("before-send.sqs", hook, unique_id="e2e-sent-bodies")
    yield bodies
    qsqs.meta.events.unregister("before-send.sqs", unique_id="e2e-sent-bodies")


# --- the clients --------------------------------------------------------------------------------

def test_query_model_is_installed_and_the_clients_speak_their_protocols(endpoint, jsqs):
    assert os.path.isfile(MODEL_FILE), MISSING_MODEL
    client = query_client(endpoint)
    assert client.meta.service_model.protocol == "query"
    assert set(client.meta.service_model.operation_names) == QUERY_OPERATIONS
    assert jsqs.meta.service_model.protocol == "json"

    bodies = []
    client.meta.events.register("before-send.sqs", lambda request, **_: bodies.append(
        request.body.decode() if isinstance(request.body, bytes) else request.body))
    prefix = new_name()
    resp = client.list_queues(QueueNamePrefix=prefix)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp.get("QueueUrls", []) == []
    assert bodies == [f"Action=ListQueues&Version={VERSION}&QueueNamePrefix={prefix}"]


# --- queues -------------------------------------------------------------------------------------

def test_create_queue_with_attributes_and_tags(qsqs, make_queue, endpoint, sent_bodies):
    name = new_name()
    bodies = sent_bodies
    attributes = {"VisibilityTimeout": "45", "DelaySeconds": "2", "MaximumMessageSize": "2048",
                  "MessageRetentionPeriod": "3600", "ReceiveMessageWaitTimeSeconds": "1"}
    url = make_queue(name, Attributes=attributes, tags={"team": "core", "env": "e2e"})
    assert "Action=CreateQueue" in bodies[0] and "Attribute.1.Name=" in bodies[0] and "Tag.1.Key=" in bodies[0]

    parts = path_of(url).split("/")
    assert urlparse(url).port == urlparse(endpoint).port
    assert len(parts) == 3 and parts[0] == "" and parts[2] == name
    assert len(parts[1]) == 12 and parts[1].isdigit()

    got = qsqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert set(got) == STANDARD_ALL_KEYS
    assert {k: got[k] for k in attributes} == attributes
    assert got["QueueArn"] == f"arn:aws:sqs:us-east-1:{parts[1]}:{name}"
    assert got["ApproximateNumberOfMessages"] == "0"
    assert qsqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core", "env": "e2e"}


def test_create_queue_again_is_idempotent_and_a_conflict_is_queue_already_exists(qsqs, make_queue):
    name = new_name()
    url = make_queue(name, Attributes={"VisibilityTimeout": "40"})
    assert qsqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"] == url
    with pytest.raises(ClientError) as e:
        qsqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "41"})
    assert client_error(e) == ("QueueAlreadyExists", 400)


def test_get_queue_url_with_and_without_owner_account(qsqs, make_queue):
    # moto differs: it ignores QueueOwnerAWSAccountId.
    name = new_name()
    url = make_queue(name)
    account = account_of(url)
    assert qsqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert qsqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"] == url
    other = "222222222222" if account != "222222222222" else "333333333333"
    with pytest.raises(qsqs.exceptions.QueueDoesNotExist) as e:
        qsqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=other)
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)


def test_list_queues_by_prefix_with_pagination(qsqs, make_queue):
    # moto differs: it ignores MaxResults.
    prefix = new_name()
    urls = {make_queue(f"{prefix}-{i}") for i in range(3)}
    resp = qsqs.list_queues(QueueNamePrefix=prefix)
    assert set(resp["QueueUrls"]) == urls and len(resp["QueueUrls"]) == 3
    assert "NextToken" not in resp

    first = qsqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert len(first["QueueUrls"]) == 2
    assert first["NextToken"]
    second = qsqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
    assert len(second["QueueUrls"]) == 1
    assert "NextToken" not in second
    assert set(first["QueueUrls"]) | set(second["QueueUrls"]) == urls

    assert qsqs.list_queues(QueueNamePrefix=prefix + "-none").get("QueueUrls", []) == []


def test_delete_queue(qsqs, make_queue):
    name = new_name()
    url = make_queue(name)
    assert qsqs.delete_queue(QueueUrl=url)["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(qsqs.exceptions.QueueDoesNotExist) as e:
        qsqs.get_queue_url(QueueName=name)
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)
    assert qsqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []) == []
    with pytest.raises(ClientError) as e:
        qsqs.delete_queue(QueueUrl=url)
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)


def test_set_and_get_queue_attributes(qsqs, queue):
    dlq = qsqs.create_queue(QueueName=new_name())["QueueUrl"]
    try:
        policy = json.dumps({"deadLetterTargetArn": arn_of(qsqs, dlq), "maxReceiveCount": 3})
        qsqs.set_queue_attributes(QueueUrl=queue, Attributes={
            "VisibilityTimeout": "60", "DelaySeconds": "5", "RedrivePolicy": policy})
        got = qsqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        assert set(got) == STANDARD_ALL_KEYS | {"RedrivePolicy"}
        assert (got["VisibilityTimeout"], got["DelaySeconds"]) == ("60", "5")
        assert json.loads(got["RedrivePolicy"]) == {"deadLetterTargetArn": arn_of(qsqs, dlq), "maxReceiveCount": 3}

        some = qsqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["VisibilityTimeout", "DelaySeconds"])
        assert some["Attributes"] == {"VisibilityTimeout": "60", "DelaySeconds": "5"}
    finally:
        qsqs.delete_queue(QueueUrl=dlq)


def test_tag_untag_and_list_queue_tags(qsqs, queue):
    assert "Tags" not in qsqs.list_queue_tags(QueueUrl=queue)
    qsqs.tag_queue(QueueUrl=queue, Tags={"a": "1", "b": "two words", "c": "3"})
    assert qsqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"a": "1", "b": "two words", "c": "3"}
    qsqs.untag_queue(QueueUrl=queue, TagKeys=["a", "c"])
    assert qsqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"b": "two words"}


# --- messages -----------------------------------------------------------------------------------

ATTRIBUTES = {
    "str": {"DataType": "String", "StringValue": "hello ünïcödé 😀 & <x/>"},
    "num": {"DataType": "Number", "StringValue": "-12.5"},
    "bin": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
    "label.custom": {"DataType": "String.custom", "StringValue": "custom"},
    "gif": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a\x00\x01"},
}


def test_send_message_with_attributes_and_receive_them(qsqs, queue, sent_bodies):
    body = "hello over Query"
    bodies = sent_bodies
    resp = qsqs.send_message(QueueUrl=queue, MessageBody=body, MessageAttributes=ATTRIBUTES)
    assert "MessageAttribute.1.Value.DataType=" in bodies[0]
    assert resp["MD5OfMessageBody"] == md5_hex(body)
    assert resp["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    assert str(uuid.UUID(resp["MessageId"])) == resp["MessageId"]

    before = int(time.time() * 1000)
    msgs = receive(qsqs, queue, AttributeNames=["All"], MessageAttributeNames=["All"], VisibilityTimeout=0)
    assert len(msgs) == 1
    msg = msgs[0]
    assert msg["MessageId"] == resp["MessageId"]
    assert msg["Body"] == body
    assert msg["MD5OfBody"] == md5_hex(body)
    assert msg["ReceiptHandle"]
    assert msg["MessageAttributes"] == ATTRIBUTES
    assert msg["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
    assert set(msg["Attributes"]) == RECEIVE_ALL_KEYS
    assert msg["Attributes"]["ApproximateReceiveCount"] == "1"
    assert msg["Attributes"]["SenderId"]
    assert abs(int(msg["Attributes"]["SentTimestamp"]) - before) < 60_000

    # Only the attributes asked for; none at all without names.
    again = receive(qsqs, queue, AttributeNames=["ApproximateReceiveCount"], MessageAttributeNames=["num"],
                    VisibilityTimeout=0)[0]
    assert again["Attributes"] == {"ApproximateReceiveCount": "2"}
    assert again["MessageAttributes"] == {"num": ATTRIBUTES["num"]}
    assert again["MD5OfMessageAttributes"] == md5_of_attributes({"num": ATTRIBUTES["num"]})
    plain = receive(qsqs, queue)[0]
    assert "Attributes" not in plain and "MessageAttributes" not in plain


def test_body_with_xml_and_form_significant_characters_round_trips(qsqs, queue):
    # CR must come back as a CR: in XML it has to travel as a character reference (&#xD;), as a literal
    # CR (or CRLF) is read as LF.
    body = "a\tb\r\nc\rd\n & <e attr=\"1\"/> 'f' + g=h%20i ; é € \ue000 \ufffd 😀 𝄞 ]]> end"
    resp = qsqs.send_message(QueueUrl=queue, MessageBody=body)
    assert resp["MD5OfMessageBody"] == md5_hex(body)
    msg = receive(qsqs, queue)[0]
    assert msg["Body"] == body
    assert msg["MD5OfBody"] == md5_hex(body)


def test_send_message_batch(qsqs, queue):
    attrs = {"k": {"DataType": "String", "StringValue": "v"}, "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
    entries = [{"Id": f"id-{i}", "MessageBody": f"body {i}"} for i in range(3)]
    entries.append({"Id": "with_attributes", "MessageBody": "attributed", "MessageAttributes": attrs,
                    "DelaySeconds": 0})
    resp = qsqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert resp.get("Failed", []) == []
    ok = {e["Id"]: e for e in resp["Successful"]}
    assert set(ok) == {e["Id"] for e in entries}
    for e in entries:
        assert ok[e["Id"]]["MD5OfMessageBody"] == md5_hex(e["MessageBody"])
        uuid.UUID(ok[e["Id"]]["MessageId"])
    assert ok["with_attributes"]["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert "MD5OfMessageAttributes" not in ok["id-0"]

    got = {m["MessageId"]: m for m in receive_all(qsqs, queue, 4, MessageAttributeNames=["All"])}
    assert {m["Body"] for m in got.values()} == {e["MessageBody"] for e in entries}
    assert got[ok["with_attributes"]["MessageId"]]["MessageAttributes"] == attrs


def test_send_message_batch_partial_failure(qsqs, queue):
    resp = qsqs.send_message_batch(QueueUrl=queue, Entries=[
        {"Id": "ok", "MessageBody": "fine"},
        {"Id": "late", "MessageBody": "too late", "DelaySeconds": 901},
    ])
    assert [e["Id"] for e in resp["Successful"]] == ["ok"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in resp["Failed"]] == [("late", True, "InvalidParameterValue")]
    assert resp["Failed"][0]["Message"]
    assert [m["Body"] for m in receive_all(qsqs, queue, 1)] == ["fine"]


def test_receive_max_number_visibility_timeout_and_wait_time(qsqs, queue):
    qsqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
    first = receive_all(qsqs, queue, 5, VisibilityTimeout=1)
    assert sorted(m["Body"] for m in first) == [f"m{i}" for i in range(5)]
    assert receive(qsqs, queue, wait=0, MaxNumberOfMessages=10) == []
    time.sleep(1.3)
    again = receive(qsqs, queue, MaxNumberOfMessages=2, AttributeNames=["ApproximateReceiveCount"])
    assert 1 <= len(again) <= 2
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in again} == {"2"}

    empty = qsqs.create_queue(QueueName=new_name())["QueueUrl"]
    try:
        started = time.time()
        assert qsqs.receive_message(QueueUrl=empty, WaitTimeSeconds=1).get("Messages", []) == []
        assert time.time() - started >= 0.9
    finally:
        qsqs.delete_queue(QueueUrl=empty)


def test_delete_message_and_delete_message_batch(qsqs, queue):
    qsqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(4)])
    msgs = receive_all(qsqs, queue, 4, VisibilityTimeout=30)
    assert len(msgs) == 4
    assert qsqs.delete_message(QueueUrl=queue, ReceiptHandle=msgs[0]["ReceiptHandle"])[
        "ResponseMetadata"]["HTTPStatusCode"] == 200
    entries = [{"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs[1:])]
    entries.append({"Id": "bogus", "ReceiptHandle": "garbage"})
    resp = qsqs.delete_message_batch(QueueUrl=queue, Entries=entries)
    assert sorted(e["Id"] for e in resp["Successful"]) == ["d0", "d1", "d2"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in resp["Failed"]] == [("bogus", True, "ReceiptHandleIsInvalid")]
    counts = qsqs.get_queue_attributes(QueueUrl=queue, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}

    with pytest.raises(ClientError) as e:
        qsqs.delete_message(QueueUrl=queue, ReceiptHandle="garbage")
    assert client_error(e) == ("ReceiptHandleIsInvalid", 400)


def test_change_message_visibility_and_batch(qsqs, queue):
    qsqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    msgs = receive_all(qsqs, queue, 3, VisibilityTimeout=60)
    assert len(msgs) == 3
    assert receive(qsqs, queue, wait=0) == []

    resp = qsqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=msgs[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    back = receive(qsqs, queue, AttributeNames=["ApproximateReceiveCount"], VisibilityTimeout=60)
    assert [(m["MessageId"], m["Attributes"]["ApproximateReceiveCount"]) for m in back] == [(msgs[0]["MessageId"], "2")]

    resp = qsqs.change_message_visibility_batch(QueueUrl=queue, Entries=[
        {"Id": "c1", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "c2", "ReceiptHandle": msgs[2]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "bogus", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
    ])
    assert sorted(e["Id"] for e in resp["Successful"]) == ["c1", "c2"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in resp["Failed"]] == [("bogus", True, "ReceiptHandleIsInvalid")]
    assert {m["MessageId"] for m in receive_all(qsqs, queue, 2)} == {msgs[1]["MessageId"], msgs[2]["MessageId"]}


def test_purge_queue(qsqs, queue):
    # moto differs: it allows a second purge within 60 s.
    qsqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    assert qsqs.purge_queue(QueueUrl=queue)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert receive(qsqs, queue, wait=0, MaxNumberOfMessages=10) == []
    assert visible_count(qsqs, queue) == 0
    with pytest.raises(ClientError) as e:
        qsqs.purge_queue(QueueUrl=queue)
    assert client_error(e) == ("AWS.SimpleQueueService.PurgeQueueInProgress", 403)


# --- dead letters, permissions, message move tasks -----------------------------------------------

def redrive(arn, count=1):
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": count})


def test_list_dead_letter_source_queues(qsqs, make_queue):
    # moto differs: it ignores MaxResults.
    dlq = make_queue()
    dlq_arn = arn_of(qsqs, dlq)
    first = make_queue(Attributes={"RedrivePolicy": redrive(dlq_arn, 3)})
    second = make_queue()
    qsqs.set_queue_attributes(QueueUrl=second, Attributes={"RedrivePolicy": redrive(dlq_arn, 5)})
    make_queue()  # not a source

    resp = qsqs.list_dead_letter_source_queues(QueueUrl=dlq)
    assert sorted(resp["queueUrls"]) == sorted([first, second])
    assert "NextToken" not in resp
    page = qsqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1)
    assert len(page["queueUrls"]) == 1 and page["NextToken"]
    rest = qsqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1, NextToken=page["NextToken"])
    assert sorted(page["queueUrls"] + rest["queueUrls"]) == sorted([first, second])
    assert "NextToken" not in rest
    assert qsqs.list_dead_letter_source_queues(QueueUrl=first).get("queueUrls", []) == []


def statements(client, url):
    policy = client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
    return {} if policy is None else {s["Sid"]: s for s in json.loads(policy)["Statement"]}


def test_add_and_remove_permission(qsqs, queue):
    arn = arn_of(qsqs, queue)
    qsqs.add_permission(QueueUrl=queue, Label="senders", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    qsqs.add_permission(QueueUrl=queue, Label="workers", AWSAccountIds=["111122223333", "444455556666"],
                        Actions=["ReceiveMessage", "DeleteMessage"])
    policy = json.loads(qsqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Id"] == f"{arn}/SQSDefaultPolicy"
    got = {s["Sid"]: s for s in policy["Statement"]}
    assert got["senders"] == {"Sid": "senders", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                              "Action": "SQS:SendMessage", "Resource": arn}
    workers = got["workers"]
    assert (workers["Effect"], workers["Resource"]) == ("Allow", arn)
    assert sorted(workers["Principal"]["AWS"]) == ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    assert sorted(workers["Action"]) == ["SQS:DeleteMessage", "SQS:ReceiveMessage"]
    assert set(got) == {"senders", "workers"}

    # AWS: "Value senders for parameter Label is invalid. Reason: Already exists."
    with pytest.raises(ClientError) as e:
        qsqs.add_permission(QueueUrl=queue, Label="senders", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    assert client_error(e) == ("InvalidParameterValue", 400)

    qsqs.remove_permission(QueueUrl=queue, Label="senders")
    assert set(statements(qsqs, queue)) == {"workers"}
    qsqs.remove_permission(QueueUrl=queue, Label="workers")
    assert statements(qsqs, queue) == {}
    # AWS: "Value workers for parameter Label is invalid. Reason: can't find label on existing policy."
    with pytest.raises(ClientError) as e:
        qsqs.remove_permission(QueueUrl=queue, Label="workers")
    assert client_error(e) == ("InvalidParameterValue", 400)


def fill_dead_letter_queue(client, source, dlq, count):
    """Send `count` messages to `source` (maxReceiveCount 1) and receive until all moved to `dlq`."""
    for start in range(0, count, 10):
        client.send_message_batch(QueueUrl=source, Entries=[
            {"Id": str(i), "MessageBody": f"message-{i}"} for i in range(start, min(count, start + 10))])
    deadline = time.time() + 8
    while visible_count(client, dlq) < count and time.time() < deadline:
        client.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0)
    assert visible_count(client, dlq) == count


def move_tasks(client, arn):
    return client.list_message_move_tasks(SourceArn=arn).get("Results", [])


def wait_for_task(client, arn, status, timeout=10.0):
    deadline = time.time() + timeout
    tasks = move_tasks(client, arn)
    while (not tasks or tasks[0]["Status"] != status) and time.time() < deadline:
        time.sleep(0.2)
        tasks = move_tasks(client, arn)
    assert tasks and tasks[0]["Status"] == status, tasks
    return tasks[0]


def test_message_move_task_back_to_the_original_source(qsqs, make_queue):
    # moto differs: it has no message move tasks (500).
    # AWS records (LocalStack's AWS-validated snapshots): a finished task lists Status COMPLETED with
    # the counts, without TaskHandle, and without DestinationArn when none was given.
    dlq = make_queue()
    dlq_arn = arn_of(qsqs, dlq)
    source = make_queue(Attributes={"RedrivePolicy": redrive(dlq_arn, 1)})
    fill_dead_letter_queue(qsqs, source, dlq, 2)
    assert move_tasks(qsqs, dlq_arn) == []

    started = int(time.time() * 1000)
    handle = qsqs.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert isinstance(handle, str) and handle

    moved = []
    deadline = time.time() + 10
    while len(moved) < 2 and time.time() < deadline:
        for m in receive(qsqs, source, MaxNumberOfMessages=10):
            moved.append(m["Body"])
            qsqs.delete_message(QueueUrl=source, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(moved) == ["message-0", "message-1"]

    task = wait_for_task(qsqs, dlq_arn, "COMPLETED")
    assert task["SourceArn"] == dlq_arn
    assert (task["ApproximateNumberOfMessagesMoved"], task["ApproximateNumberOfMessagesToMove"]) == (2, 2)
    assert "TaskHandle" not in task and "DestinationArn" not in task and "MaxNumberOfMessagesPerSecond" not in task
    assert abs(task["StartedTimestamp"] - started) < 60_000
    assert visible_count(qsqs, dlq) == 0


def test_message_move_task_cancel_and_only_one_at_a_time(qsqs, make_queue):
    dlq = make_queue()
    dlq_arn = arn_of(qsqs, dlq)
    make_queue(Attributes={"RedrivePolicy": redrive(dlq_arn, 1)})  # makes `dlq` a dead-letter queue
    destination = make_queue()
    destination_arn = arn_of(qsqs, destination)
    for start in (0, 10):
        qsqs.send_message_batch(QueueUrl=dlq, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, start + 10)])

    handle = qsqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn,
                                          MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    running = move_tasks(qsqs, dlq_arn)
    assert len(running) == 1
    task = running[0]
    assert (task["Status"], task["TaskHandle"], task["SourceArn"], task["DestinationArn"]) == (
        "RUNNING", handle, dlq_arn, destination_arn)
    assert task["MaxNumberOfMessagesPerSecond"] == 1
    assert task["ApproximateNumberOfMessagesToMove"] == 20
    assert task["ApproximateNumberOfMessagesMoved"] < 20

    # AWS: "There is already a task running. Only one active task is allowed for a source queue arn at a
    # given time."
    with pytest.raises(ClientError) as e:
        qsqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn)
    assert client_error(e) == ("InvalidParameterValue", 400)

    moved = qsqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 0 <= moved < 20
    task = wait_for_task(qsqs, dlq_arn, "CANCELLED", timeout=5)
    assert "TaskHandle" not in task
    assert task["ApproximateNumberOfMessagesMoved"] < 20
    time.sleep(0.2)
    assert visible_count(qsqs, dlq) + visible_count(qsqs, destination) == 20
    assert visible_count(qsqs, dlq) > 0


def test_message_move_task_errors(qsqs, make_queue):
    plain = make_queue()
    plain_arn = arn_of(qsqs, plain)
    # AWS: "Source queue must be configured as a Dead Letter Queue."
    with pytest.raises(ClientError) as e:
        qsqs.start_message_move_task(SourceArn=plain_arn)
    assert client_error(e) == ("InvalidParameterValue", 400)

    dlq = make_queue()
    dlq_arn = arn_of(qsqs, dlq)
    make_queue(Attributes={"RedrivePolicy": redrive(dlq_arn, 1)})
    # AWS: "The resource that you specified for the DestinationArn parameter doesn't exist."
    with pytest.raises(ClientError) as e:
        qsqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=plain_arn + "-missing")
    assert client_error(e) == ("ResourceNotFoundException", 404)
    # AWS: "Value for parameter TaskHandle is invalid."
    with pytest.raises(ClientError) as e:
        qsqs.cancel_message_move_task(TaskHandle="foobared")
    assert client_error(e) == ("InvalidParameterValue", 400)
    assert move_tasks(qsqs, dlq_arn) == []


# --- errors -------------------------------------------------------------------------------------

def missing_queue_url(url):
    return url.rsplit("/", 1)[0] + "/e2e-missing-" + uuid.uuid4().hex[:12]


@pytest.mark.parametrize("call", [
    lambda c, u: c.send_message(QueueUrl=u, MessageBody="m"),
    lambda c, u: c.receive_message(QueueUrl=u),
    lambda c, u: c.get_queue_attributes(QueueUrl=u, AttributeNames=["All"]),
    lambda c, u: c.purge_queue(QueueUrl=u),
    lambda c, u: c.send_message_batch(QueueUrl=u, Entries=[{"Id": "a", "MessageBody": "m"}]),
    lambda c, u: c.list_queue_tags(QueueUrl=u),
], ids=["SendMessage", "ReceiveMessage", "GetQueueAttributes", "PurgeQueue", "SendMessageBatch", "ListQueueTags"])
def test_missing_queue_is_non_existent_queue(qsqs, queue, call):
    with pytest.raises(qsqs.exceptions.QueueDoesNotExist) as e:
        call(qsqs, missing_queue_url(queue))
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)


def test_non_existent_queue_error_document(endpoint, queue):
    resp = sqs_request(endpoint, {"Action": "GetQueueUrl", "Version": VERSION, "QueueName": new_name("e2e-missing-")})
    assert_xml_error(resp, NONEXISTENT_QUEUE)
    resp = sqs_request(endpoint, {"Action": "SendMessage", "Version": VERSION, "MessageBody": "m"},
                       path=path_of(missing_queue_url(queue)))
    assert_xml_error(resp, NONEXISTENT_QUEUE)


def test_unknown_attribute_names_are_invalid_attribute_name(qsqs, queue):
    # moto differs: it accepts unknown attribute names in SetQueueAttributes and CreateQueue.
    with pytest.raises(ClientError) as e:
        qsqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Colour"])
    assert client_error(e) == ("InvalidAttributeName", 400)
    with pytest.raises(ClientError) as e:
        qsqs.set_queue_attributes(QueueUrl=queue, Attributes={"Colour": "blue"})
    assert client_error(e) == ("InvalidAttributeName", 400)
    name = new_name()
    with pytest.raises(ClientError) as e:
        qsqs.create_queue(QueueName=name, Attributes={"Colour": "blue"})
    assert client_error(e) == ("InvalidAttributeName", 400)
    with pytest.raises(qsqs.exceptions.QueueDoesNotExist):
        qsqs.get_queue_url(QueueName=name)


@pytest.mark.parametrize("action, params", [
    ("CreateQueue", {}),
    ("GetQueueUrl", {}),
    ("SendMessage", {"QueueUrl": None}),
], ids=["CreateQueue-QueueName", "GetQueueUrl-QueueName", "SendMessage-MessageBody"])
def test_missing_parameter(endpoint, queue, action, params):
    # AWS: "The request must contain the parameter QueueName." (or MessageBody).
    # moto differs: it answers 500 (or NonExistentQueue for GetQueueUrl).
    form = {"Action": action, "Version": VERSION, **{k: (queue if v is None else v) for k, v in params.items()}}
    assert_xml_error(sqs_request(endpoint, form), "MissingParameter")


def test_missing_parameter_on_a_path_addressed_queue(endpoint, queue):
    resp = sqs_request(endpoint, {"Action": "SendMessage", "Version": VERSION}, path=path_of(queue))
    assert_xml_error(resp, "MissingParameter")


@pytest.mark.parametrize("path", ["/", None], ids=["root", "queue-path"])
def test_unknown_action_is_unknown_operation(endpoint, queue, path):
    # AWS answers 404 with a bare `<UnknownOperationException/>` (as LocalStack recorded it).
    # moto differs: it answers 500 (or an S3 bucket listing).
    resp = sqs_request(endpoint, {"Action": "FlyToTheMoon", "Version": VERSION}, path=path or path_of(queue))
    assert resp.status_code == 404, resp.text
    assert resp.text.strip() == "<UnknownOperationException/>"


BATCH_OPS = {
    "send_message_batch": lambda i, n: {"Id": i, "MessageBody": f"m{n}"},
    "delete_message_batch": lambda i, n: {"Id": i, "ReceiptHandle": f"handle-{n}"},
    "change_message_visibility_batch": lambda i, n: {"Id": i, "ReceiptHandle": f"handle-{n}", "VisibilityTimeout": 0},
}


@pytest.mark.parametrize("op", list(BATCH_OPS))
@pytest.mark.parametrize("ids, code", [
    ([f"e{i}" for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
    (["a", "b", "a"], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
], ids=["eleven", "repeated-id"])
def test_batch_request_errors(qsqs, queue, op, ids, code):
    # moto differs: ChangeMessageVisibilityBatch checks nothing, DeleteMessageBatch no repeated Ids.
    with pytest.raises(ClientError) as e:
        getattr(qsqs, op)(QueueUrl=queue, Entries=[BATCH_OPS[op](i, n) for n, i in enumerate(ids)])
    assert client_error(e) == (code, 400)
    assert receive(qsqs, queue, wait=0) == []


# --- raw requests -------------------------------------------------------------------------------

def test_send_message_response_document(endpoint, queue):
    attrs = {"n": {"DataType": "Number", "StringValue": "7"}}
    resp = sqs_request(endpoint, {
        "Action": "SendMessage", "Version": VERSION, "QueueUrl": queue, "MessageBody": "raw body",
        "MessageAttribute.1.Name": "n", "MessageAttribute.1.Value.DataType": "Number",
        "MessageAttribute.1.Value.StringValue": "7"})
    result = assert_xml_response(resp, "SendMessage")
    assert sorted(child.tag for child in result) == sorted(q(t) for t in ("MD5OfMessageBody", "MD5OfMessageAttributes", "MessageId"))
    assert text_of(result, "MD5OfMessageBody") == md5_hex("raw body")
    assert text_of(result, "MD5OfMessageAttributes") == md5_of_attributes(attrs)
    uuid.UUID(text_of(result, "MessageId"))


def test_queue_addressed_by_path(endpoint, qsqs, queue):
    path = path_of(queue)
    # In a form `+` is a space; `%2B` is a plus.
    resp = sqs_request(endpoint, "Action=SendMessage&Version=2012-11-05&MessageBody=a+b%2Bc".encode(), path=path)
    result = assert_xml_response(resp, "SendMessage")
    assert text_of(result, "MD5OfMessageBody") == md5_hex("a b+c")

    resp = sqs_request(endpoint, {"Action": "ReceiveMessage", "Version": VERSION, "WaitTimeSeconds": "1",
                                  "AttributeName.1": "ApproximateReceiveCount"}, path=path)
    result = assert_xml_response(resp, "ReceiveMessage")
    messages = result.findall(q("Message"))
    assert len(messages) == 1
    assert text_of(messages[0], "Body") == "a b+c"
    assert text_of(messages[0], "MD5OfBody") == md5_hex("a b+c")
    attribute = messages[0].find(q("Attribute"))
    assert (text_of(attribute, "Name"), text_of(attribute, "Value")) == ("ApproximateReceiveCount", "1")
    handle = text_of(messages[0], "ReceiptHandle")

    resp = sqs_request(endpoint, {"Action": "GetQueueAttributes", "Version": VERSION,
                                  "AttributeName.1": "ApproximateNumberOfMessagesNotVisible"}, path=path)
    result = assert_xml_response(resp, "GetQueueAttributes")
    assert [(text_of(a, "Name"), text_of(a, "Value")) for a in result.findall(q("Attribute"))] == [
        ("ApproximateNumberOfMessagesNotVisible", "1")]

    resp = sqs_request(endpoint, {"Action": "DeleteMessage", "Version": VERSION, "ReceiptHandle": handle}, path=path)
    # AWS's documented answer: `<DeleteMessageResponse><ResponseMetadata><RequestId>` and nothing else.
    assert_xml_response(resp, "DeleteMessage", result=False)
    counts = qsqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_binary_message_attribute_travels_as_base64(endpoint, queue):
    data = bytes(range(256))
    resp = sqs_request(endpoint, {
        "Action": "SendMessage", "Version": VERSION, "MessageBody": "bin",
        "MessageAttribute.1.Name": "blob", "MessageAttribute.1.Value.DataType": "Binary",
        "MessageAttribute.1.Value.BinaryValue": base64.b64encode(data).decode()}, path=path_of(queue))
    attrs = {"blob": {"DataType": "Binary", "BinaryValue": data}}
    assert text_of(assert_xml_response(resp, "SendMessage"), "MD5OfMessageAttributes") == md5_of_attributes(attrs)

    resp = sqs_request(endpoint, {"Action": "ReceiveMessage", "Version": VERSION, "QueueUrl": queue,
                                  "WaitTimeSeconds": "1", "MessageAttributeName.1": "All"})
    message = assert_xml_response(resp, "ReceiveMessage").find(q("Message"))
    attribute = message.find(q("MessageAttribute"))
    assert text_of(attribute, "Name") == "blob"
    value = attribute.find(q("Value"))
    assert text_of(value, "DataType") == "Binary"
    assert base64.b64decode(text_of(value, "BinaryValue")) == data
    assert text_of(message, "MD5OfMessageAttributes") == md5_of_attributes(attrs)


def test_get_requests_with_a_query_string(endpoint, qsqs, make_queue):
    # moto differs: it answers a GET without a body in JSON.
    name = new_name()
    url = make_queue(name, Attributes={"VisibilityTimeout": "77"})
    resp = sqs_request(endpoint, {"Action": "GetQueueUrl", "Version": VERSION, "QueueName": name}, method="GET")
    assert text_of(assert_xml_response(resp, "GetQueueUrl"), "QueueUrl") == url

    resp = sqs_request(endpoint, {"Action": "GetQueueAttributes", "Version": VERSION, "AttributeName.1": "VisibilityTimeout"},
                       path=path_of(url), method="GET")
    attribute = assert_xml_response(resp, "GetQueueAttributes").find(q("Attribute"))
    assert (text_of(attribute, "Name"), text_of(attribute, "Value")) == ("VisibilityTimeout", "77")

    resp = sqs_request(endpoint, {"Action": "SendMessage", "Version": VERSION, "QueueUrl": url,
                                  "MessageBody": "sent with GET & a query"}, method="GET")
    assert text_of(assert_xml_response(resp, "SendMessage"), "MD5OfMessageBody") == md5_hex("sent with GET & a query")
    assert [m["Body"] for m in receive(qsqs, url)] == ["sent with GET & a query"]


def test_unsigned_requests_are_accepted(endpoint, qsqs, jsqs):
    # Cloudless does not check signatures unless started with --strict-auth.
    # moto differs: it does not recognise an unsigned form POST as SQS.
    name = new_name()
    resp = sqs_request(endpoint, {"Action": "CreateQueue", "Version": VERSION, "QueueName": name}, sign=False)
    url = text_of(assert_xml_response(resp, "CreateQueue"), "QueueUrl")
    try:
        assert path_of(url).endswith("/" + name)
        resp = sqs_request(endpoint, {"Action": "SendMessage", "Version": VERSION, "MessageBody": "unsigned"},
                           path=path_of(url), sign=False)
        assert text_of(assert_xml_response(resp, "SendMessage"), "MD5OfMessageBody") == md5_hex("unsigned")
        assert [m["Body"] for m in receive(qsqs, url)] == ["unsigned"]
    finally:
        jsqs.delete_queue(QueueUrl=url)


# --- JSON and Query on the same queues -----------------------------------------------------------

def test_json_and_query_clients_share_queues(qsqs, jsqs):
    name = new_name()
    url = jsqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "33"}, tags={"made-by": "json"})["QueueUrl"]
    try:
        assert qsqs.get_queue_url(QueueName=name)["QueueUrl"] == url
        assert qsqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {
            "VisibilityTimeout": "33"}
        assert qsqs.list_queue_tags(QueueUrl=url)["Tags"] == {"made-by": "json"}

        # JSON sends, Query receives and deletes.
        sent = jsqs.send_message(QueueUrl=url, MessageBody="from json 😀", MessageAttributes=ATTRIBUTES)
        msg = receive(qsqs, url, MessageAttributeNames=["All"])[0]
        assert (msg["MessageId"], msg["Body"], msg["MD5OfBody"]) == (sent["MessageId"], "from json 😀", sent["MD5OfMessageBody"])
        assert msg["MessageAttributes"] == ATTRIBUTES
        assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"] == md5_of_attributes(ATTRIBUTES)
        qsqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])

        # Query sends, JSON receives; a JSON receipt handle works over Query and the other way round.
        sent = qsqs.send_message(QueueUrl=url, MessageBody="from query\r\n", MessageAttributes=ATTRIBUTES)
        msg = receive(jsqs, url, MessageAttributeNames=["All"], VisibilityTimeout=0)[0]
        assert (msg["MessageId"], msg["Body"], msg["MD5OfBody"]) == (sent["MessageId"], "from query\r\n", sent["MD5OfMessageBody"])
        assert msg["MessageAttributes"] == ATTRIBUTES
        assert msg["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
        again = receive(qsqs, url)[0]
        assert again["MessageId"] == sent["MessageId"]
        jsqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
        assert receive(qsqs, url, wait=0) == [] and visible_count(jsqs, url) == 0

        qsqs.delete_queue(QueueUrl=url)
        with pytest.raises(jsqs.exceptions.QueueDoesNotExist):
            jsqs.get_queue_url(QueueName=name)
    finally:
        try:
            jsqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


# --- aws CLI v2 ---------------------------------------------------------------------------------

@pytest.fixture
def aws2(endpoint, tmp_path):
    """aws2(*args, check=True) runs Debian's aws CLI v2 (Query protocol for SQS) in isolation."""
    cfg, creds = tmp_path / "aws-config", tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PAGER="",
                   AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")

    def run(*args, check=True):
        cmd = [CLI_V2, "--endpoint-url", endpoint, "--output", "json", *[str(a) for a in args]]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)}\nrc={p.returncode}\nstdout={p.stdout}\nstderr={p.stderr}"
        return p
    return run


def test_aws_cli_v2(aws2, jsqs):
    name = new_name("e2e-qry-cli-")
    p = aws2("sqs", "create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=40,DelaySeconds=0",
             "--debug")
    assert "CLI version: aws-cli/2." in p.stderr
    assert "'Action': 'CreateQueue'" in p.stderr  # the CLI spoke Query
    url = json.loads(p.stdout)["QueueUrl"]
    try:
        assert path_of(url).endswith("/" + name)
        assert json.loads(aws2("sqs", "list-queues", "--queue-name-prefix", name).stdout) == {"QueueUrls": [url]}
        attrs = json.loads(aws2("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All").stdout)
        assert set(attrs["Attributes"]) == STANDARD_ALL_KEYS
        assert attrs["Attributes"]["VisibilityTimeout"] == "40"

        message_attributes = {"s": {"DataType": "String", "StringValue": "é"},
                              "b": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\x01\xfe").decode()}}
        body = "from the CLI <&> 😀"
        sent = json.loads(aws2("sqs", "send-message", "--queue-url", url, "--message-body", body,
                               "--message-attributes", json.dumps(message_attributes)).stdout)
        expected_attrs = {"s": {"DataType": "String", "StringValue": "é"},
                          "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xfe"}}
        assert sent["MD5OfMessageBody"] == md5_hex(body)
        assert sent["MD5OfMessageAttributes"] == md5_of_attributes(expected_attrs)

        got = json.loads(aws2("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "1",
                              "--attribute-names", "All", "--message-attribute-names", "All").stdout)
        assert len(got["Messages"]) == 1
        msg = got["Messages"][0]
        assert (msg["MessageId"], msg["Body"], msg["MD5OfBody"]) == (sent["MessageId"], body, md5_hex(body))
        assert msg["MessageAttributes"] == message_attributes
        assert msg["Attributes"]["ApproximateReceiveCount"] == "1"
        aws2("sqs", "delete-message", "--queue-url", url, "--receipt-handle", msg["ReceiptHandle"])
        assert visible_count(jsqs, url) == 0
        assert jsqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
            "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"

        p = aws2("sqs", "get-queue-url", "--queue-name", name + "-missing", check=False)
        assert p.returncode == 254, p.stderr
        assert NONEXISTENT_QUEUE in p.stderr
    finally:
        jsqs.delete_queue(QueueUrl=url)
