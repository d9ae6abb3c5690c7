"""SQS messages on standard queues, driven by boto3 over the AWS JSON 1.0 protocol: SendMessage and
SendMessageBatch (body and attribute MD5s, size and character limits, delays), ReceiveMessage
(attributes, visibility timeouts, long polling), DeleteMessage(Batch), ChangeMessageVisibility(Batch),
PurgeQueue and the ApproximateNumberOfMessages* queue attributes. Expected behaviour is real AWS SQS.

boto3 (unlike the Java SDK) does not check the MD5s SQS returns, so they are computed here: MD5 of the
UTF-8 body, and for message (or system) attributes the AWS algorithm, see `md5_of_attributes`.

Error codes are the ones botocore surfaces: SQS answers JSON requests with `x-amzn-query-error:
<legacy Query code>;Sender`, and botocore takes the code from that header, so e.g. QueueDoesNotExist
reads as `AWS.SimpleQueueService.NonExistentQueue`.

Timing: visibility timeouts and delays of 1 s with sleeps of ~1.5 s; long polls of 1 s (5 s where a
message arrives early). Receives that expect messages use WaitTimeSeconds=1, as short polling on AWS
samples only some servers and may legitimately return nothing."""
import hashlib
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client

NONEXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


# --- helpers ------------------------------------------------------------------------------------

def md5_hex(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def md5_of_attributes(attributes):
    """MD5OfMessageAttributes (and MD5OfMessageSystemAttributes) as AWS computes it: for each
    attribute, in name order, the name, the data type (each as a 4-byte big-endian length then UTF-8
    bytes), a transport byte (1 for String/Number values, 2 for Binary) and the value (length-prefixed)."""
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


def client_error(excinfo):
    """(code, HTTP status) of a ClientError; every error here is the sender's fault."""
    err = excinfo.value.response
    assert err["Error"].get("Type") == "Sender", err
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def receive(sqs, url, wait=1, **kw):
    """ReceiveMessage with a long poll of `wait` seconds; returns the list of messages."""
    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait, **kw).get("Messages", [])


def receive_now(sqs, url, **kw):
    """A short-poll receive (for checking that nothing is visible)."""
    return receive(sqs, url, wait=0, **kw)


def counts(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return (int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"]),
            int(attrs["ApproximateNumberOfMessagesDelayed"]))


def missing_queue_url(url):
    """The URL `url` would have for a queue that does not exist."""
    return url.rsplit("/", 1)[0] + "/e2e-missing-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


@pytest.fixture
def make_queue(sqs):
    """make_queue(**attributes) -> queue URL; every queue made is deleted afterwards."""
    urls = []

    def make(**attributes):
        name = "e2e-msg-" + uuid.uuid4().hex[:16]
        url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
        urls.append(url)
        return url
    yield make
    for url in urls:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


@pytest.fixture
def queue(make_queue):
    return make_queue()


# --- SendMessage --------------------------------------------------------------------------------

def test_send_message_returns_md5_of_body_and_message_id(sqs, queue):
    body = "hello, queue"
    resp = sqs.send_message(QueueUrl=queue, MessageBody=body)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["MD5OfMessageBody"] == md5_hex(body)
    assert str(uuid.UUID(resp["MessageId"])) == resp["MessageId"]
    assert "MD5OfMessageAttributes" not in resp
    assert "MD5OfMessageSystemAttributes" not in resp
    assert "SequenceNumber" not in resp  # FIFO only

    msgs = receive(sqs, queue)
    assert len(msgs) == 1
    assert msgs[0]["MessageId"] == resp["MessageId"]
    assert msgs[0]["Body"] == body
    assert msgs[0]["MD5OfBody"] == md5_hex(body)
    assert msgs[0]["ReceiptHandle"]


def test_message_ids_are_unique(sqs, queue):
    ids = {sqs.send_message(QueueUrl=queue, MessageBody="same")["MessageId"] for _ in range(5)}
    assert len(ids) == 5


def test_body_with_every_allowed_kind_of_character_round_trips(sqs, queue):
    # Tab, LF, CR, ASCII, BMP (incl. the edges #xD7FF, #xE000, #xFFFD) and astral characters (sent by
    # botocore as JSON surrogate-pair escapes), plus XML/JSON-significant characters.
    body = "a\tb\nc\rd <x a=\"1\"/> {\"k\": [1]} & ' \\ é € \ud7ff \ue000 \ufffd 😀 𝄞 \U0010ffff"
    resp = sqs.send_message(QueueUrl=queue, MessageBody=body)
    assert resp["MD5OfMessageBody"] == md5_hex(body)
    msgs = receive(sqs, queue)
    assert msgs[0]["Body"] == body
    assert msgs[0]["MD5OfBody"] == md5_hex(body)


@pytest.mark.parametrize("bad", ["\x00", "\x08", "\x1f", "\ufffe", "\uffff"],
                         ids=["nul", "backspace", "unit-separator", "fffe", "ffff"])
def test_send_message_with_invalid_characters_is_rejected(sqs, queue, bad):
    # Allowed: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
    # moto differs: it accepts any character.
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="before" + bad + "after")
    assert client_error(e) == ("InvalidMessageContents", 400)
    assert receive_now(sqs, queue) == []


def test_send_message_with_empty_body_is_rejected(sqs, queue):
    # The body must be at least one character; AWS: "The request must contain the parameter MessageBody."
    # moto differs: it accepts the empty body.
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="")
    assert client_error(e) == ("MissingParameter", 400)


def test_body_limit_is_the_queues_maximum_message_size_in_bytes(sqs, make_queue):
    url = make_queue(MaximumMessageSize=1024)
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1025)
    assert client_error(e) == ("InvalidParameterValue", 400)
    # The limit is in UTF-8 bytes, not characters: 342 euro signs are 1026 bytes.
    # moto differs: it counts characters.
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="€" * 342)
    assert client_error(e) == ("InvalidParameterValue", 400)
    sqs.send_message(QueueUrl=url, MessageBody="€" * 341)


def test_message_attributes_count_towards_the_size_limit(sqs, make_queue):
    # Attribute names, types and values are part of the message size: 1000 + 17 + 6 + 1 = 1024 fits,
    # one more character in the name does not.
    # moto differs: it counts the body only.
    url = make_queue(MaximumMessageSize=1024)
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1000,
                     MessageAttributes={"n" * 17: {"DataType": "String", "StringValue": "v"}})
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x" * 1000,
                         MessageAttributes={"n" * 18: {"DataType": "String", "StringValue": "v"}})
    assert client_error(e) == ("InvalidParameterValue", 400)


def test_default_queue_takes_bodies_up_to_1_mib(sqs, queue):
    # The default (and largest) MaximumMessageSize is 1,048,576 bytes since August 2025 (it was
    # 262,144): see the CreateQueue and SendMessage documentation in the botocore model.
    assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["MaximumMessageSize"])[
        "Attributes"]["MaximumMessageSize"] == "1048576"
    # botocore sends non-ASCII as \uXXXX escapes, so the JSON request is larger than the message
    # (here about 2.1 MB for 1 MiB of euro signs); the limit is on the message, not on the request.
    # moto differs: it counts characters, not UTF-8 bytes.
    for body in ["y" * 1_048_576, "€" * 349_525 + "y"]:
        assert len(body.encode()) == 1_048_576
        assert sqs.send_message(QueueUrl=queue, MessageBody=body)["MD5OfMessageBody"] == md5_hex(body)
        msgs = receive(sqs, queue)
        assert len(msgs) == 1 and msgs[0]["Body"] == body
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=msgs[0]["ReceiptHandle"])
        with pytest.raises(ClientError) as e:
            sqs.send_message(QueueUrl=queue, MessageBody=body + "y")
        assert client_error(e) == ("InvalidParameterValue", 400)


def test_send_message_with_attributes_of_every_type(sqs, queue):
    attrs = {
        "str": {"DataType": "String", "StringValue": "hello ünïcödé 😀"},
        "num": {"DataType": "Number", "StringValue": "12.5"},
        "bin": {"DataType": "Binary", "BinaryValue": bytes(range(256))},
        "str.custom": {"DataType": "String.custom", "StringValue": "custom"},
        "int": {"DataType": "Number.int", "StringValue": "-7"},
        "Gif": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a\x00\x01"},
    }
    resp = sqs.send_message(QueueUrl=queue, MessageBody="with attributes", MessageAttributes=attrs)
    assert resp["MD5OfMessageBody"] == md5_hex("with attributes")
    assert resp["MD5OfMessageAttributes"] == md5_of_attributes(attrs)

    msgs = receive(sqs, queue, MessageAttributeNames=["All"])
    assert msgs[0]["MessageAttributes"] == attrs
    assert msgs[0]["MD5OfMessageAttributes"] == md5_of_attributes(attrs)


def test_md5_of_message_attributes_known_value(sqs, queue):
    # A fixed vector, so that md5_of_attributes itself is checked as well.
    attrs = {"b": {"DataType": "Number", "StringValue": "1"}, "a": {"DataType": "String", "StringValue": "x"}}
    expected = hashlib.md5(
        b"\x00\x00\x00\x01a" + b"\x00\x00\x00\x06String" + b"\x01" + b"\x00\x00\x00\x01x"
        + b"\x00\x00\x00\x01b" + b"\x00\x00\x00\x06Number" + b"\x01" + b"\x00\x00\x00\x011").hexdigest()
    assert md5_of_attributes(attrs) == expected
    assert sqs.send_message(QueueUrl=queue, MessageBody="m", MessageAttributes=attrs)["MD5OfMessageAttributes"] == expected


@pytest.mark.parametrize("attrs", [
    {"AWS.reserved": {"DataType": "String", "StringValue": "v"}},
    {"Amazon.reserved": {"DataType": "String", "StringValue": "v"}},
    {"two..dots": {"DataType": "String", "StringValue": "v"}},
    {".leading": {"DataType": "String", "StringValue": "v"}},
    {"trailing.": {"DataType": "String", "StringValue": "v"}},
    {"bad name": {"DataType": "String", "StringValue": "v"}},
    {"n" * 257: {"DataType": "String", "StringValue": "v"}},
    {"t": {"DataType": "Text", "StringValue": "v"}},
    {"t": {"DataType": "", "StringValue": "v"}},
    {"n": {"DataType": "Number", "StringValue": "abc"}},
    {"s": {"DataType": "String"}},
    {"s": {"DataType": "String", "StringValue": ""}},
    {"b": {"DataType": "Binary", "StringValue": "not binary"}},
    {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)},
], ids=["aws-prefix", "amazon-prefix", "double-dot", "leading-dot", "trailing-dot", "space", "name-too-long",
        "unknown-type", "empty-type", "not-a-number", "no-value", "empty-value", "binary-as-string",
        "eleven-attributes"])
def test_invalid_message_attributes_are_rejected(sqs, queue, attrs):
    # Name rules: alphanumerics, _ - and ., no AWS./Amazon. prefix, no leading/trailing or doubled
    # period, at most 256 characters; types String/Number/Binary with optional .label; a non-empty
    # value of the right kind; at most 10 attributes.
    # moto differs: it checks only the type prefix (so most of these are accepted).
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="m", MessageAttributes=attrs)
    assert client_error(e) == ("InvalidParameterValue", 400)


def test_ten_message_attributes_are_allowed(sqs, queue):
    attrs = {f"a{i}": {"DataType": "String", "StringValue": str(i)} for i in range(10)}
    resp = sqs.send_message(QueueUrl=queue, MessageBody="m", MessageAttributes=attrs)
    assert resp["MD5OfMessageAttributes"] == md5_of_attributes(attrs)


def test_aws_trace_header_system_attribute(sqs, queue):
    # moto differs: it returns no MD5OfMessageSystemAttributes.
    system = {"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE_HEADER}}
    resp = sqs.send_message(QueueUrl=queue, MessageBody="traced", MessageSystemAttributes=system)
    assert resp["MD5OfMessageSystemAttributes"] == md5_of_attributes(system)
    assert "MD5OfMessageAttributes" not in resp

    msg = receive(sqs, queue, MessageSystemAttributeNames=["AWSTraceHeader"])[0]
    assert msg["Attributes"] == {"AWSTraceHeader": TRACE_HEADER}
    assert "MessageAttributes" not in msg  # a system attribute is not a message attribute


def test_x_amzn_trace_id_header_becomes_the_aws_trace_header(sqs, endpoint, queue):
    # A SendMessage request carrying an X-Ray trace header gets it as its AWSTraceHeader.
    # moto differs: it ignores the header.
    client = make_client(endpoint, "sqs")

    def add_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = TRACE_HEADER
    client.meta.events.register("before-send.sqs.SendMessage", add_header)
    client.send_message(QueueUrl=queue, MessageBody="traced by header")
    msg = receive(sqs, queue, MessageSystemAttributeNames=["AWSTraceHeader", "SentTimestamp"])[0]
    assert msg["Attributes"]["AWSTraceHeader"] == TRACE_HEADER
    assert set(msg["Attributes"]) == {"AWSTraceHeader", "SentTimestamp"}


def test_send_message_to_missing_queue(sqs, queue):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=missing_queue_url(queue), MessageBody="m")
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)


@pytest.mark.parametrize("delay", [-1, 901])
def test_send_message_delay_out_of_range(sqs, queue, delay):
    # moto differs: it accepts -1.
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=queue, MessageBody="m", DelaySeconds=delay)
    assert client_error(e) == ("InvalidParameterValue", 400)


def test_per_message_delay(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="later", DelaySeconds=1)
    assert receive_now(sqs, queue) == []
    assert counts(sqs, queue) == (0, 0, 1)
    time.sleep(1.3)
    msgs = receive(sqs, queue)
    assert [m["Body"] for m in msgs] == ["later"]


def test_queue_delay_applies_to_messages_without_their_own(sqs, make_queue):
    url = make_queue(DelaySeconds=1)
    sqs.send_message(QueueUrl=url, MessageBody="delayed by the queue")
    assert receive_now(sqs, url) == []
    assert counts(sqs, url) == (0, 0, 1)
    time.sleep(1.3)
    assert [m["Body"] for m in receive(sqs, url)] == ["delayed by the queue"]


def test_message_delay_overrides_the_queue_delay(sqs, make_queue):
    url = make_queue(DelaySeconds=900)
    sqs.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
    assert [m["Body"] for m in receive(sqs, url)] == ["now"]


# --- SendMessageBatch ---------------------------------------------------------------------------

def test_send_message_batch(sqs, queue):
    # moto differs: it returns no MD5OfMessageSystemAttributes.
    attrs = {"k": {"DataType": "String", "StringValue": "v"}}
    system = {"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE_HEADER}}
    entries = [{"Id": f"id-{i}", "MessageBody": f"body {i}"} for i in range(9)]
    entries.append({"Id": "With_Attributes", "MessageBody": "attributed",
                    "MessageAttributes": attrs, "MessageSystemAttributes": system})
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert resp.get("Failed", []) == []
    ok = {e["Id"]: e for e in resp["Successful"]}
    assert set(ok) == {e["Id"] for e in entries}
    for e in entries:
        assert ok[e["Id"]]["MD5OfMessageBody"] == md5_hex(e["MessageBody"])
        uuid.UUID(ok[e["Id"]]["MessageId"])
    assert ok["With_Attributes"]["MD5OfMessageAttributes"] == md5_of_attributes(attrs)
    assert ok["With_Attributes"]["MD5OfMessageSystemAttributes"] == md5_of_attributes(system)
    assert "MD5OfMessageAttributes" not in ok["id-0"]
    assert len({e["MessageId"] for e in resp["Successful"]}) == 10

    got = {}
    for _ in range(10):
        for m in receive(sqs, queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]):
            got[m["MessageId"]] = m
        if len(got) == 10:
            break
    assert {m["Body"] for m in got.values()} == {e["MessageBody"] for e in entries}
    attributed = got[ok["With_Attributes"]["MessageId"]]
    assert attributed["MessageAttributes"] == attrs


def test_send_message_batch_partial_failure(sqs, queue):
    # An entry with a character outside the allowed set fails on its own; the others are sent.
    # moto differs: it accepts any character.
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=[
        {"Id": "good", "MessageBody": "fine"},
        {"Id": "bad", "MessageBody": "control \x01 inside"},
        {"Id": "also-good", "MessageBody": "fine too"},
    ])
    assert sorted(e["Id"] for e in resp["Successful"]) == ["also-good", "good"]
    assert len(resp["Failed"]) == 1
    failed = resp["Failed"][0]
    assert failed["Id"] == "bad"
    assert failed["SenderFault"] is True
    assert failed["Code"] == "InvalidMessageContents"
    assert failed["Message"]


def test_send_message_batch_entry_with_bad_delay_fails_alone(sqs, queue):
    # moto differs: its SenderFault is the string "true", not a boolean.
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=[
        {"Id": "ok", "MessageBody": "fine"},
        {"Id": "late", "MessageBody": "too late", "DelaySeconds": 901},
    ])
    assert [e["Id"] for e in resp["Successful"]] == ["ok"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in resp["Failed"]] == [
        ("late", True, "InvalidParameterValue")]


def test_send_message_batch_entry_too_big_fails_alone(sqs, make_queue):
    # moto differs: it fails the whole request.
    url = make_queue(MaximumMessageSize=1024)
    resp = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "fits", "MessageBody": "a" * 1024},
        {"Id": "too-big", "MessageBody": "a" * 1025},
    ])
    assert [e["Id"] for e in resp["Successful"]] == ["fits"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in resp["Failed"]] == [
        ("too-big", True, "InvalidParameterValue")]


def test_send_message_batch_too_long(sqs, queue):
    # The whole batch may not exceed 1 MiB (the sum of the entries' sizes), though each entry is fine.
    # AWS: "Batch requests cannot be longer than 1048576 bytes. You have sent 1048577 bytes."
    entries = [{"Id": f"e{i}", "MessageBody": "z" * 131_072} for i in range(8)]
    entries[0]["MessageBody"] += "z"
    with pytest.raises(ClientError) as e:
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert client_error(e) == ("AWS.SimpleQueueService.BatchRequestTooLong", 400)
    assert receive_now(sqs, queue) == []

    entries[0]["MessageBody"] = entries[0]["MessageBody"][:-1]  # exactly 1 MiB
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    assert len(resp["Successful"]) == 8 and resp.get("Failed", []) == []


def batch_entries(op, ids):
    if op == "send_message_batch":
        return [{"Id": i, "MessageBody": "m"} for i in ids]
    if op == "delete_message_batch":
        return [{"Id": i, "ReceiptHandle": f"handle-{n}"} for n, i in enumerate(ids)]
    return [{"Id": i, "ReceiptHandle": f"handle-{n}", "VisibilityTimeout": 0} for n, i in enumerate(ids)]


BATCH_OPS = ["send_message_batch", "delete_message_batch", "change_message_visibility_batch"]


@pytest.mark.parametrize("op", BATCH_OPS)
@pytest.mark.parametrize("ids, code", [
    ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
    ([f"e{i}" for i in range(11)], "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
    (["a", "b", "a"], "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
    (["has space"], "AWS.SimpleQueueService.InvalidBatchEntryId"),
    (["invalid:id"], "AWS.SimpleQueueService.InvalidBatchEntryId"),
    ([""], "AWS.SimpleQueueService.InvalidBatchEntryId"),
    (["x" * 81], "AWS.SimpleQueueService.InvalidBatchEntryId"),
], ids=["empty", "eleven", "repeated-id", "space-in-id", "colon-in-id", "empty-id", "id-too-long"])
def test_batch_request_validation(sqs, queue, op, ids, code):
    # moto differs: DeleteMessageBatch checks only for no entries and repeated receipt handles, and
    # ChangeMessageVisibilityBatch checks nothing.
    with pytest.raises(ClientError) as e:
        getattr(sqs, op)(QueueUrl=queue, Entries=batch_entries(op, ids))
    assert client_error(e) == (code, 400)
    assert receive_now(sqs, queue) == []


@pytest.mark.parametrize("op", BATCH_OPS)
def test_batch_on_missing_queue(sqs, queue, op):
    with pytest.raises(ClientError) as e:
        getattr(sqs, op)(QueueUrl=missing_queue_url(queue), Entries=batch_entries(op, ["a"]))
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)


def test_batch_entry_id_of_80_allowed_characters(sqs, queue):
    long_id = ("A-z_0" * 16)[:80]
    resp = sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": long_id, "MessageBody": "m"}])
    assert [e["Id"] for e in resp["Successful"]] == [long_id]


# --- ReceiveMessage -----------------------------------------------------------------------------

def test_receive_from_empty_queue(sqs, queue):
    resp = sqs.receive_message(QueueUrl=queue)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Messages" not in resp  # AWS answers {}


@pytest.mark.parametrize("kw", [
    {"MaxNumberOfMessages": 0}, {"MaxNumberOfMessages": 11},
    {"WaitTimeSeconds": -1}, {"WaitTimeSeconds": 21},
    {"VisibilityTimeout": -1}, {"VisibilityTimeout": 43201},
], ids=["max-0", "max-11", "wait-negative", "wait-21", "visibility-negative", "visibility-43201"])
def test_receive_parameter_out_of_range(sqs, queue, kw):
    # moto differs: it accepts VisibilityTimeout=-1.
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=queue, **kw)
    assert client_error(e) == ("InvalidParameterValue", 400)


def test_receive_from_missing_queue(sqs, queue):
    with pytest.raises(ClientError) as e:
        sqs.receive_message(QueueUrl=missing_queue_url(queue))
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)


def test_receive_returns_at_most_max_number_of_messages(sqs, queue):
    for start in (0, 10):
        sqs.send_message_batch(QueueUrl=queue, Entries=[
            {"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)][:15 - start])
    assert len(receive(sqs, queue)) == 1  # default MaxNumberOfMessages is 1
    seen = 1
    for _ in range(10):
        batch = receive(sqs, queue, MaxNumberOfMessages=10)
        assert 1 <= len(batch) <= 10
        seen += len(batch)
        if seen == 15:
            break
    assert seen == 15
    assert receive_now(sqs, queue, MaxNumberOfMessages=10) == []


def test_receive_system_attributes(sqs, queue):
    before = int(time.time() * 1000)
    sqs.send_message(QueueUrl=queue, MessageBody="attributes")
    msg = receive(sqs, queue, MessageSystemAttributeNames=["All"], VisibilityTimeout=0)[0]
    after = int(time.time() * 1000)
    a = msg["Attributes"]
    # Exactly these on a standard queue (AWSTraceHeader only when the message has one).
    assert set(a) == {"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}
    assert a["SenderId"]
    assert a["ApproximateReceiveCount"] == "1"
    sent, first = int(a["SentTimestamp"]), int(a["ApproximateFirstReceiveTimestamp"])
    assert before - 1000 <= sent <= first <= after + 1000

    # The legacy AttributeNames parameter works the same, and the count goes up on each receive.
    again = receive(sqs, queue, AttributeNames=["All"])[0]
    assert again["MessageId"] == msg["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert again["Attributes"]["ApproximateFirstReceiveTimestamp"] == a["ApproximateFirstReceiveTimestamp"]
    assert again["Attributes"]["SentTimestamp"] == a["SentTimestamp"]


def test_receive_only_the_requested_system_attributes(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    msg = receive(sqs, queue, MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
                  VisibilityTimeout=0)[0]
    assert set(msg["Attributes"]) == {"SentTimestamp", "ApproximateReceiveCount"}
    msg = receive(sqs, queue, MessageSystemAttributeNames=["SenderId", "SequenceNumber"], VisibilityTimeout=0)[0]
    assert set(msg["Attributes"]) == {"SenderId"}  # names that do not apply are ignored
    msg = receive(sqs, queue)[0]
    assert "Attributes" not in msg


ATTRS = {
    "pre.one": {"DataType": "String", "StringValue": "1"},
    "pre.two": {"DataType": "Number", "StringValue": "2"},
    "prefix": {"DataType": "String", "StringValue": "p"},
    "other": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
}


@pytest.mark.parametrize("names, expected", [
    (["All"], set(ATTRS)),
    ([".*"], set(ATTRS)),
    (["*"], set(ATTRS)),
    (["other"], {"other"}),
    (["other", "pre.one", "missing"], {"other", "pre.one"}),
    (["pre.*"], {"pre.one", "pre.two", "prefix"}),
    (["missing"], set()),
], ids=["All", "dot-star", "star", "one", "several", "prefix", "none-match"])
def test_receive_message_attribute_selection(sqs, queue, names, expected):
    # "X.*" selects the names that start with X, whatever follows (AWS: "Hel.*" selects "Hello"
    # and "Help.Me"); "*", ".*" and "All" select all.
    # moto differs: "*" selects nothing.
    sqs.send_message(QueueUrl=queue, MessageBody="m", MessageAttributes=ATTRS)
    msg = receive(sqs, queue, MessageAttributeNames=names)[0]
    got = msg.get("MessageAttributes", {})
    assert got == {k: ATTRS[k] for k in expected}
    if expected:
        # The MD5 covers the attributes returned (SDKs that verify it check it against them).
        assert msg["MD5OfMessageAttributes"] == md5_of_attributes(got)
    else:
        assert "MessageAttributes" not in msg and "MD5OfMessageAttributes" not in msg


def test_receive_without_attribute_names_returns_no_attributes(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m", MessageAttributes=ATTRS)
    msg = receive(sqs, queue)[0]
    assert "MessageAttributes" not in msg
    assert "MD5OfMessageAttributes" not in msg
    assert "Attributes" not in msg


# --- visibility ---------------------------------------------------------------------------------

def test_received_message_is_invisible_until_its_timeout_elapses(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="comes back")
    first = receive(sqs, queue, VisibilityTimeout=1, MessageSystemAttributeNames=["All"])[0]
    assert receive_now(sqs, queue) == []
    assert counts(sqs, queue) == (0, 1, 0)
    time.sleep(1.5)
    assert counts(sqs, queue) == (1, 0, 0)
    second = receive(sqs, queue, MessageSystemAttributeNames=["All"])[0]
    assert second["MessageId"] == first["MessageId"]
    assert second["Body"] == "comes back"
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"


def test_queue_visibility_timeout_is_the_default(sqs, make_queue):
    url = make_queue(VisibilityTimeout=1)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    receive(sqs, url)
    assert receive_now(sqs, url) == []
    time.sleep(1.5)
    assert len(receive(sqs, url)) == 1


def test_receive_visibility_timeout_overrides_the_queues(sqs, make_queue):
    url = make_queue(VisibilityTimeout=1)
    sqs.send_message(QueueUrl=url, MessageBody="m")
    receive(sqs, url, VisibilityTimeout=30)
    time.sleep(1.5)
    assert receive_now(sqs, url) == []
    assert counts(sqs, url) == (0, 1, 0)


def test_visibility_timeout_zero_leaves_the_message_visible(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    first = receive(sqs, queue, VisibilityTimeout=0)[0]
    second = receive(sqs, queue)[0]
    assert second["MessageId"] == first["MessageId"]


# --- long polling -------------------------------------------------------------------------------

def test_long_poll_returns_as_soon_as_a_message_arrives(sqs, endpoint, queue):
    sender = make_client(endpoint, "sqs")

    def send_later():
        time.sleep(0.5)
        sender.send_message(QueueUrl=queue, MessageBody="arrived")

    t = threading.Thread(target=send_later)
    start = time.monotonic()
    t.start()
    msgs = receive(sqs, queue, wait=5)
    elapsed = time.monotonic() - start
    t.join()
    assert [m["Body"] for m in msgs] == ["arrived"]
    assert 0.4 <= elapsed < 1.0


def test_long_poll_on_empty_queue_waits_the_full_time(sqs, queue):
    start = time.monotonic()
    assert receive(sqs, queue, wait=1) == []
    assert 0.9 <= time.monotonic() - start < 2.5


def test_queue_receive_wait_time_makes_receives_long_polls(sqs, make_queue):
    url = make_queue(ReceiveMessageWaitTimeSeconds=1)
    start = time.monotonic()
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    assert 0.9 <= time.monotonic() - start < 2.5
    # WaitTimeSeconds=0 on the request overrides it.
    start = time.monotonic()
    assert receive_now(sqs, url) == []
    assert time.monotonic() - start < 0.5


def test_long_poll_wakes_up_when_a_delayed_message_becomes_visible(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="delayed", DelaySeconds=1)
    start = time.monotonic()
    msgs = receive(sqs, queue, wait=5)
    elapsed = time.monotonic() - start
    assert [m["Body"] for m in msgs] == ["delayed"]
    assert 0.7 <= elapsed < 2.0


def test_concurrent_receivers_never_get_the_same_message(sqs, endpoint, make_queue):
    # moto differs: its receive is not atomic, so now and then it hands a message to two receivers.
    url = make_queue(VisibilityTimeout=120)
    sent = set()
    for b in range(20):
        resp = sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": f"msg {b * 10 + i}"} for i in range(10)])
        assert resp.get("Failed", []) == []
        sent |= {e["MessageId"] for e in resp["Successful"]}
    assert len(sent) == 200

    received, lock, errors = [], threading.Lock(), []

    def worker():
        try:
            client = make_client(endpoint, "sqs")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with lock:
                    if len(received) >= 200:
                        return
                msgs = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                              WaitTimeSeconds=1).get("Messages", [])
                if not msgs:
                    return
                with lock:
                    received.extend(m["MessageId"] for m in msgs)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(received) == len(set(received)), "a message was delivered twice"
    assert set(received) == sent


# --- DeleteMessage ------------------------------------------------------------------------------

def test_deleted_message_is_never_received_again(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="gone")
    msg = receive(sqs, queue, VisibilityTimeout=1)[0]
    resp = sqs.delete_message(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert counts(sqs, queue) == (0, 0, 0)
    time.sleep(1.5)
    assert receive_now(sqs, queue) == []
    assert counts(sqs, queue) == (0, 0, 0)


@pytest.mark.parametrize("handle", ["garbage", "AQEB" + "x" * 40, " "], ids=["word", "lookalike", "space"])
def test_delete_message_with_malformed_receipt_handle(sqs, queue, handle):
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    assert client_error(e)[0] == "ReceiptHandleIsInvalid"


def test_delete_message_twice_succeeds(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    handle = receive(sqs, queue)[0]["ReceiptHandle"]
    for _ in range(3):
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    assert counts(sqs, queue) == (0, 0, 0)


def test_delete_with_handle_whose_visibility_timeout_expired(sqs, queue):
    # The handle of the latest receive still deletes the message once it is visible again.
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    handle = receive(sqs, queue, VisibilityTimeout=1)[0]["ReceiptHandle"]
    time.sleep(1.3)
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    assert receive_now(sqs, queue) == []
    assert counts(sqs, queue) == (0, 0, 0)


def test_delete_message_on_missing_queue(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    handle = receive(sqs, queue)[0]["ReceiptHandle"]
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=missing_queue_url(queue), ReceiptHandle=handle)
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)


def test_delete_message_batch(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    handles = []
    for _ in range(5):
        handles += [m["ReceiptHandle"] for m in receive(sqs, queue, MaxNumberOfMessages=10)]
        if len(handles) == 3:
            break
    assert len(handles) == 3
    entries = [{"Id": f"d{i}", "ReceiptHandle": h} for i, h in enumerate(handles)]
    entries.append({"Id": "bogus", "ReceiptHandle": "garbage"})
    resp = sqs.delete_message_batch(QueueUrl=queue, Entries=entries)
    assert sorted(e["Id"] for e in resp["Successful"]) == ["d0", "d1", "d2"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in resp["Failed"]] == [
        ("bogus", True, "ReceiptHandleIsInvalid")]
    assert counts(sqs, queue) == (0, 0, 0)


# --- ChangeMessageVisibility --------------------------------------------------------------------

def test_change_visibility_to_zero_makes_the_message_visible_at_once(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    first = receive(sqs, queue, VisibilityTimeout=60)[0]
    assert receive_now(sqs, queue) == []
    resp = sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    again = receive(sqs, queue, MessageSystemAttributeNames=["ApproximateReceiveCount"])[0]
    assert again["MessageId"] == first["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_change_visibility_extends_the_timeout(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    msg = receive(sqs, queue, VisibilityTimeout=1)[0]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=30)
    time.sleep(1.5)
    assert receive_now(sqs, queue) == []
    assert counts(sqs, queue) == (0, 1, 0)


def test_change_visibility_shortens_the_timeout(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    msg = receive(sqs, queue, VisibilityTimeout=60)[0]
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=1)
    assert receive_now(sqs, queue) == []
    time.sleep(1.5)
    assert [m["MessageId"] for m in receive(sqs, queue)] == [msg["MessageId"]]


def test_change_visibility_after_the_timeout_expired(sqs, queue):
    # The latest receipt handle stays usable after the message became visible again.
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    msg = receive(sqs, queue, VisibilityTimeout=1)[0]
    time.sleep(1.3)
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=30)
    assert receive_now(sqs, queue) == []
    assert counts(sqs, queue) == (0, 1, 0)


def test_change_visibility_of_deleted_message(sqs, queue):
    # AWS: "Value <handle> for parameter ReceiptHandle is invalid. Reason: Message does not exist or
    # is not available for visibility timeout change."
    # moto differs: ReceiptHandleIsInvalid.
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    handle = receive(sqs, queue)[0]["ReceiptHandle"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=handle, VisibilityTimeout=10)
    assert client_error(e) == ("InvalidParameterValue", 400)


@pytest.mark.parametrize("timeout", [-1, 43201])
def test_change_visibility_out_of_range(sqs, queue, timeout):
    # moto differs: it accepts -1.
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    msg = receive(sqs, queue)[0]
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=timeout)
    assert client_error(e) == ("InvalidParameterValue", 400)


def test_change_visibility_with_malformed_receipt_handle(sqs, queue):
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle="garbage", VisibilityTimeout=0)
    assert client_error(e)[0] == "ReceiptHandleIsInvalid"


def test_change_message_visibility_batch(sqs, queue):
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(2)])
    msgs = []
    for _ in range(5):
        msgs += receive(sqs, queue, MaxNumberOfMessages=10, VisibilityTimeout=60)
        if len(msgs) == 2:
            break
    assert len(msgs) == 2
    resp = sqs.change_message_visibility_batch(QueueUrl=queue, Entries=[
        {"Id": "c0", "ReceiptHandle": msgs[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "c1", "ReceiptHandle": msgs[1]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "bogus", "ReceiptHandle": "garbage", "VisibilityTimeout": 0},
    ])
    assert sorted(e["Id"] for e in resp["Successful"]) == ["c0", "c1"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in resp["Failed"]] == [
        ("bogus", True, "ReceiptHandleIsInvalid")]
    again = []
    for _ in range(5):
        again += receive(sqs, queue, MaxNumberOfMessages=10)
        if len(again) == 2:
            break
    assert {m["MessageId"] for m in again} == {m["MessageId"] for m in msgs}


def test_change_message_visibility_batch_entry_out_of_range_fails_alone(sqs, queue):
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    msg = receive(sqs, queue, VisibilityTimeout=60)[0]
    resp = sqs.change_message_visibility_batch(QueueUrl=queue, Entries=[
        {"Id": "ok", "ReceiptHandle": msg["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "too-long", "ReceiptHandle": msg["ReceiptHandle"], "VisibilityTimeout": 43201},
    ])
    assert [e["Id"] for e in resp["Successful"]] == ["ok"]
    assert [(f["Id"], f["SenderFault"], f["Code"]) for f in resp["Failed"]] == [
        ("too-long", True, "InvalidParameterValue")]


# --- PurgeQueue ---------------------------------------------------------------------------------

def test_purge_queue(sqs, queue):
    # A second purge within 60 s fails, with HTTP 403.
    # moto differs: it allows it.
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
    sqs.send_message(QueueUrl=queue, MessageBody="delayed", DelaySeconds=60)
    receive(sqs, queue, VisibilityTimeout=60)  # one in flight
    resp = sqs.purge_queue(QueueUrl=queue)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert receive_now(sqs, queue, MaxNumberOfMessages=10) == []
    assert counts(sqs, queue) == (0, 0, 0)

    with pytest.raises(ClientError) as e:
        sqs.purge_queue(QueueUrl=queue)
    assert client_error(e) == ("AWS.SimpleQueueService.PurgeQueueInProgress", 403)


def test_purge_missing_queue(sqs, queue):
    with pytest.raises(ClientError) as e:
        sqs.purge_queue(QueueUrl=missing_queue_url(queue))
    assert client_error(e) == (NONEXISTENT_QUEUE, 400)


# --- queue counters -----------------------------------------------------------------------------

def test_approximate_counts_follow_the_messages(sqs, queue):
    assert counts(sqs, queue) == (0, 0, 0)
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    sqs.send_message(QueueUrl=queue, MessageBody="delayed", DelaySeconds=60)
    assert counts(sqs, queue) == (3, 0, 1)
    msg = receive(sqs, queue, VisibilityTimeout=60)[0]
    assert counts(sqs, queue) == (2, 1, 1)
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0)
    assert counts(sqs, queue) == (3, 0, 1)
    msg = receive(sqs, queue, VisibilityTimeout=60)[0]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"])
    assert counts(sqs, queue) == (2, 0, 1)
