"""SQS FIFO queues driven by boto3 over the AWS JSON 1.0 protocol: CreateQueue rules for `.fifo` names
and the FIFO-only attributes, SendMessage(Batch) on FIFO queues (MessageGroupId, MessageDeduplicationId,
content-based deduplication, deduplication scope and window, SequenceNumber), ReceiveMessage ordering
and message-group locking, ReceiveRequestAttemptId, dead-letter queues of FIFO queues, and the FIFO
parameters on standard queues (fair queues). Expected behaviour is real AWS SQS: the API reference and
developer guide, and responses recorded against AWS (LocalStack's AWS-validated snapshots).

Error codes are the ones botocore surfaces: SQS answers JSON requests with `x-amzn-query-error:
<legacy Query code>;Sender`, and botocore takes the code from that header (`MissingParameter`,
`InvalidParameterValue`, `AWS.SimpleQueueService.NonExistentQueue`, ...).

Deduplication window: 5 minutes. The test of its expiry moves Cloudless's clock forward
(`POST /_cloudless/clock {"advance": 301}`) and back again afterwards, so it runs against Cloudless
only (moto has no such endpoint).

Timing: visibility timeouts of 1 s with sleeps of ~1.5 s; receives that expect messages use
WaitTimeSeconds=1, as short polling on AWS samples only some servers and may legitimately return
nothing."""
import hashlib
import json
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import make_client

DEDUP_WINDOW = 300  # seconds
MISSING_GROUP = "The request must contain the parameter MessageGroupId."
MISSING_DEDUP = ("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId "
                 "provided explicitly")
THROUGHPUT_NEEDS_GROUP_SCOPE = ("Invalid value for the parameter FifoThroughputLimit. Reason: To set "
                                "FifoThroughputLimit to perMessageGroupId, the DeduplicationScope must be "
                                "messageGroup.")

# GetQueueAttributes(All) of a fresh FIFO queue: the standard queue's keys plus the four FIFO ones.
FIFO_ALL_KEYS = {
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp", "DelaySeconds", "LastModifiedTimestamp", "MaximumMessageSize", "MessageRetentionPeriod",
    "QueueArn", "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "VisibilityTimeout",
    "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
}
# The system attributes a received FIFO message has (MessageSystemAttributeNames=["All"]).
FIFO_MESSAGE_ATTRIBUTES = {"SenderId", "SentTimestamp", "ApproximateReceiveCount",
                           "ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageDeduplicationId",
                           "MessageGroupId"}


# --- helpers ------------------------------------------------------------------------------------

def md5_hex(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def client_error(excinfo):
    """(code, HTTP status, message) of a ClientError; every error here is the sender's fault."""
    err = excinfo.value.response
    assert err["Error"].get("Type") == "Sender", err
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"].get("Message")


def receive(sqs, url, wait=1, **kw):
    """ReceiveMessage with a long poll of `wait` seconds; returns the list of messages."""
    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=wait, **kw).get("Messages", [])


def bodies(messages):
    return [m["Body"] for m in messages]


def drain(sqs, url, expected, **kw):
    """Receive (10 at a time) and delete until `expected` messages have arrived or a receive comes back
    empty; returns the messages in the order received. Deleting each batch unlocks its message groups."""
    got = []
    while len(got) < expected:
        batch = receive(sqs, url, MaxNumberOfMessages=10, **kw)
        if not batch:
            break
        got += batch
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    return got


def per_group(messages):
    """{MessageGroupId: [body, ...]} in the order received (messages need the MessageGroupId attribute)."""
    out = {}
    for m in messages:
        out.setdefault(m["Attributes"]["MessageGroupId"], []).append(m["Body"])
    return out


def counts(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def queue_arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def redrive(arn, count):
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": count})


def new_name(fifo=True):
    return "e2e-fifo-" + uuid.uuid4().hex[:16] + (".fifo" if fifo else "")


def send(sqs, url, body, group="g", dedup=None, **kw):
    """SendMessage to a FIFO queue; the deduplication id defaults to the body."""
    return sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group,
                            MessageDeduplicationId=dedup or body, **kw)


def advance_clock(endpoint, seconds):
    r = requests.post(endpoint + "/_cloudless/clock", json={"advance": seconds}, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:200])


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


@pytest.fixture
def make_queue(sqs):
    """make_queue(fifo=True, name=None, **attributes) -> queue URL. A FIFO queue gets FifoQueue=true
    (and a `.fifo` name) unless the attributes say otherwise; every queue made is deleted afterwards."""
    urls = []

    def make(fifo=True, name=None, **attributes):
        attrs = {"FifoQueue": "true", **attributes} if fifo else dict(attributes)
        url = sqs.create_queue(QueueName=name or new_name(fifo),
                               Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]
        urls.append(url)
        return url
    yield make
    for url in urls:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


@pytest.fixture
def fifo(make_queue):
    """A fresh FIFO queue with default attributes (no content-based deduplication)."""
    return make_queue()


# --- CreateQueue --------------------------------------------------------------------------------

def test_fifo_name_without_fifo_queue_attribute_is_invalid_parameter_value(sqs):
    # moto differs: it creates a standard queue named *.fifo
    name = new_name()
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name)
    assert client_error(e)[:2] == ("InvalidParameterValue", 400)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def test_fifo_queue_attribute_without_fifo_name_is_invalid_parameter_value(sqs):
    name = new_name(fifo=False)
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})
    assert client_error(e)[:2] == ("InvalidParameterValue", 400)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def test_fifo_queue_attributes_and_their_defaults(sqs, make_queue):
    url = make_queue()
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert set(a) == FIFO_ALL_KEYS
    assert {k: a[k] for k in ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
                              "FifoThroughputLimit")} == {
        "FifoQueue": "true", "ContentBasedDeduplication": "false", "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue"}
    # Each FIFO attribute can be asked for by name.
    named = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue", "DeduplicationScope"])
    assert named["Attributes"] == {"FifoQueue": "true", "DeduplicationScope": "queue"}


def test_create_high_throughput_fifo_queue(sqs, make_queue):
    url = make_queue(ContentBasedDeduplication="true", DeduplicationScope="messageGroup",
                     FifoThroughputLimit="perMessageGroupId")
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert set(a) == FIFO_ALL_KEYS
    assert (a["ContentBasedDeduplication"], a["DeduplicationScope"], a["FifoThroughputLimit"]) == (
        "true", "messageGroup", "perMessageGroupId")


def test_message_group_scope_without_high_throughput_is_allowed(sqs, make_queue):
    url = make_queue(DeduplicationScope="messageGroup", FifoThroughputLimit="perQueue")
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DeduplicationScope", "FifoThroughputLimit"])
    assert a["Attributes"] == {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perQueue"}


@pytest.mark.parametrize("attributes", [
    {"FifoThroughputLimit": "perMessageGroupId"},
    {"FifoThroughputLimit": "perMessageGroupId", "DeduplicationScope": "queue"},
], ids=["scope-default", "scope-queue"])
def test_per_message_group_throughput_needs_message_group_scope(sqs, attributes):
    # AWS: InvalidAttributeValue, "... To set FifoThroughputLimit to perMessageGroupId, the
    # DeduplicationScope must be messageGroup."
    # moto differs: it accepts the combination.
    name = new_name()
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", **attributes})
    assert client_error(e) == ("InvalidAttributeValue", 400, THROUGHPUT_NEEDS_GROUP_SCOPE)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def test_set_queue_scope_on_per_message_group_queue_is_rejected(sqs, make_queue):
    # Going back to queue scope while keeping perMessageGroupId is the same invalid combination; the
    # queue is unchanged. Changing both together is fine.
    # moto differs: it accepts the combination.
    url = make_queue(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue"})
    assert client_error(e) == ("InvalidAttributeValue", 400, THROUGHPUT_NEEDS_GROUP_SCOPE)
    names = ["DeduplicationScope", "FifoThroughputLimit"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"] == {
        "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue",
                                                       "FifoThroughputLimit": "perQueue"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"] == {
        "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"}


@pytest.mark.parametrize("attribute, value, message", [
    ("FifoQueue", "false", "Unknown Attribute FifoQueue."),
    ("ContentBasedDeduplication", "false", "Unknown Attribute ContentBasedDeduplication."),
    ("DeduplicationScope", "queue",
     "You can specify the DeduplicationScope only when FifoQueue is set to true."),
    ("FifoThroughputLimit", "perQueue",
     "You can specify the FifoThroughputLimit only when FifoQueue is set to true."),
])
def test_fifo_attributes_on_a_standard_queue_are_invalid_attribute_name(sqs, attribute, value, message):
    # moto differs: it accepts FIFO attributes on standard queues
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=new_name(fifo=False), Attributes={attribute: value})
    assert client_error(e) == ("InvalidAttributeName", 400, message)


# --- SendMessage: required and forbidden parameters ----------------------------------------------

def test_send_without_message_group_id_is_missing_parameter(sqs, fifo):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=fifo, MessageBody="m", MessageDeduplicationId="d")
    assert client_error(e) == ("MissingParameter", 400, MISSING_GROUP)
    assert counts(sqs, fifo) == (0, 0)


def test_send_without_deduplication_id_needs_content_based_deduplication(sqs, fifo):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=fifo, MessageBody="m", MessageGroupId="g")
    assert client_error(e) == ("InvalidParameterValue", 400, MISSING_DEDUP)
    assert counts(sqs, fifo) == (0, 0)


def test_send_without_deduplication_id_on_content_based_queue(sqs, make_queue):
    url = make_queue(ContentBasedDeduplication="true")
    resp = sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId="g")
    assert resp["MD5OfMessageBody"] == md5_hex("m")
    assert [m["MessageId"] for m in receive(sqs, url)] == [resp["MessageId"]]


def test_per_message_delay_is_rejected_on_fifo(sqs, fifo):
    # Only the queue's DelaySeconds applies to FIFO messages; an explicit 0 is accepted.
    with pytest.raises(ClientError) as e:
        send(sqs, fifo, "late", DelaySeconds=2)
    assert client_error(e) == ("InvalidParameterValue", 400,
                               "Value 2 for parameter DelaySeconds is invalid. Reason: The request include "
                               "parameter that is not valid for this queue type.")
    send(sqs, fifo, "now", DelaySeconds=0)
    assert bodies(receive(sqs, fifo)) == ["now"]


def test_queue_delay_applies_to_fifo_messages(sqs, make_queue):
    url = make_queue(DelaySeconds=1)
    send(sqs, url, "first")
    send(sqs, url, "second")
    assert receive(sqs, url, wait=0) == []
    time.sleep(1.5)
    assert bodies(drain(sqs, url, 2)) == ["first", "second"]


@pytest.mark.parametrize("value", ["a" * 129, "group 123"], ids=["too-long", "space"])
def test_invalid_message_group_id_on_fifo(sqs, fifo, value):
    # 1 to 128 alphanumeric and punctuation characters.
    # moto differs: it accepts them.
    with pytest.raises(ClientError) as e:
        send(sqs, fifo, "m", group=value)
    assert client_error(e) == (
        "InvalidParameterValue", 400,
        f"Value {value} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include "
        "alphanumeric and punctuation characters. 1 to 128 in length.")


@pytest.mark.parametrize("value", ["", "a" * 129, "group 123"], ids=["empty", "too-long", "space"])
def test_invalid_message_deduplication_id(sqs, fifo, value):
    # moto differs: it accepts them (and takes the empty one for a missing one).
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=fifo, MessageBody="m", MessageGroupId="g", MessageDeduplicationId=value)
    assert client_error(e) == (
        "InvalidParameterValue", 400,
        f"Value {value} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can "
        "only include alphanumeric and punctuation characters. 1 to 128 in length.")
    assert counts(sqs, fifo) == (0, 0)


def test_ids_of_128_punctuation_and_alphanumeric_characters_are_accepted(sqs, fifo):
    punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    group = ((punctuation + "AZaz09") * 4)[:128]
    dedup = (("d" + punctuation) * 4)[:128]
    assert len(group) == len(dedup) == 128
    send(sqs, fifo, "m", group=group, dedup=dedup)
    msg = receive(sqs, fifo, MessageSystemAttributeNames=["All"])[0]
    assert msg["Attributes"]["MessageGroupId"] == group
    assert msg["Attributes"]["MessageDeduplicationId"] == dedup


# --- SendMessage: sequence numbers --------------------------------------------------------------

def test_sequence_numbers_are_digit_strings_increasing_within_a_group(sqs, fifo):
    # "SequenceNumber continues to increase for a particular MessageGroupId."
    # moto differs: its sequence numbers are random.
    sent = {"a": [], "b": []}
    for i in range(3):
        for g in ("a", "b"):
            sent[g].append(send(sqs, fifo, f"{g}-{i}", group=g))
    for g, responses in sent.items():
        for resp in responses:
            assert isinstance(resp["SequenceNumber"], str) and resp["SequenceNumber"].isdigit(), resp
            assert str(uuid.UUID(resp["MessageId"])) == resp["MessageId"]
        seqs = [int(r["SequenceNumber"]) for r in responses]
        assert seqs[0] < seqs[1] < seqs[2], (g, seqs)
    # The received SequenceNumber is the one SendMessage returned.
    by_id = {r["MessageId"]: r["SequenceNumber"] for rs in sent.values() for r in rs}
    got = drain(sqs, fifo, 6, MessageSystemAttributeNames=["SequenceNumber"])
    assert {m["MessageId"]: m["Attributes"]["SequenceNumber"] for m in got} == by_id


# --- SendMessage: deduplication -----------------------------------------------------------------

def test_same_deduplication_id_is_accepted_but_delivered_once(sqs, fifo):
    first = send(sqs, fifo, "original", dedup="same")
    again = send(sqs, fifo, "duplicate", dedup="same")
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    # The duplicate is reported as the message already accepted; the MD5 is of the body just sent
    # (SDKs that check it, like the Java SDK, compare it with what they sent).
    # moto differs: it gives the duplicate a new MessageId.
    assert again["MessageId"] == first["MessageId"]
    assert again["MD5OfMessageBody"] == md5_hex("duplicate")
    got = drain(sqs, fifo, 2)
    assert bodies(got) == ["original"]
    assert got[0]["MessageId"] == first["MessageId"]
    assert counts(sqs, fifo) == (0, 0)


def test_deduplication_holds_after_the_first_message_is_deleted(sqs, fifo):
    # "Amazon SQS continues tracking the deduplication ID even after the message has been received
    # and deleted."
    # moto differs: it forgets the deduplication id when the message is deleted.
    send(sqs, fifo, "once", dedup="d1")
    assert bodies(drain(sqs, fifo, 1)) == ["once"]
    send(sqs, fifo, "twice", dedup="d1")
    assert receive(sqs, fifo) == []
    assert counts(sqs, fifo) == (0, 0)


def test_deduplication_is_queue_wide_by_default(sqs, fifo):
    send(sqs, fifo, "in-a", group="a", dedup="shared")
    send(sqs, fifo, "in-b", group="b", dedup="shared")
    send(sqs, fifo, "other", group="b", dedup="other")
    assert bodies(drain(sqs, fifo, 3)) == ["in-a", "other"]


def test_message_group_scope_deduplicates_per_group(sqs, make_queue):
    # moto differs: it gives a duplicate a new MessageId.
    url = make_queue(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    a = send(sqs, url, "in-a", group="a", dedup="shared")
    b = send(sqs, url, "in-b", group="b", dedup="shared")
    a2 = send(sqs, url, "in-a again", group="a", dedup="shared")
    assert a["MessageId"] != b["MessageId"]
    assert a2["MessageId"] == a["MessageId"]
    got = per_group(drain(sqs, url, 3, MessageSystemAttributeNames=["MessageGroupId"]))
    assert got == {"a": ["in-a"], "b": ["in-b"]}


def test_content_based_deduplication_uses_the_sha256_of_the_body(sqs, make_queue):
    # The generated MessageDeduplicationId is the hex SHA-256 of the body, attributes not included.
    # moto differs: it gives a duplicate a new MessageId.
    url = make_queue(ContentBasedDeduplication="true")
    body = '{"order": 1}'
    first = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    # Same body, other attributes: still a duplicate (only the body is hashed).
    again = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g",
                             MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    assert again["MessageId"] == first["MessageId"]
    other = sqs.send_message(QueueUrl=url, MessageBody=body + " ", MessageGroupId="g")
    # An explicit deduplication id takes precedence over the content.
    explicit = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g", MessageDeduplicationId="x")
    got = drain(sqs, url, 4, MessageSystemAttributeNames=["All"])
    assert [m["MessageId"] for m in got] == [first["MessageId"], other["MessageId"], explicit["MessageId"]]
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == [sha256_hex(body), sha256_hex(body + " "), "x"]


def test_explicit_id_equal_to_the_content_hash_is_a_duplicate(sqs, make_queue):
    # "If you send one message with ContentBasedDeduplication enabled and then another message with a
    # MessageDeduplicationId that is the same as the one generated for the first ..., the two messages
    # are treated as duplicates."
    # moto differs: it gives a duplicate a new MessageId.
    url = make_queue(ContentBasedDeduplication="true")
    first = sqs.send_message(QueueUrl=url, MessageBody="content", MessageGroupId="g")
    again = send(sqs, url, "other content", dedup=sha256_hex("content"))
    assert again["MessageId"] == first["MessageId"]
    assert bodies(drain(sqs, url, 2)) == ["content"]


def test_deduplication_window_ends_after_five_minutes(sqs, endpoint, fifo):
    # Cloudless only: moves the emulator's clock past the window (and back afterwards); moto has no
    # such endpoint.
    send(sqs, fifo, "first", dedup="d")
    assert bodies(drain(sqs, fifo, 1)) == ["first"]
    advance_clock(endpoint, DEDUP_WINDOW - 10)
    try:
        send(sqs, fifo, "inside the window", dedup="d")
        assert receive(sqs, fifo) == []
        advance_clock(endpoint, 11)
        resp = send(sqs, fifo, "after the window", dedup="d")
        got = receive(sqs, fifo, MaxNumberOfMessages=10)
        assert bodies(got) == ["after the window"]
        assert got[0]["MessageId"] == resp["MessageId"]
    finally:
        advance_clock(endpoint, -(DEDUP_WINDOW + 1))


# --- ReceiveMessage -----------------------------------------------------------------------------

def test_messages_of_a_group_arrive_in_send_order(sqs, fifo):
    # Sent interleaved with another group; each group keeps its own order.
    for i in range(12):
        send(sqs, fifo, f"a{i}", group="a")
        if i % 3 == 0:
            send(sqs, fifo, f"b{i}", group="b")
    got = drain(sqs, fifo, 16, MessageSystemAttributeNames=["MessageGroupId"])
    assert per_group(got) == {"a": [f"a{i}" for i in range(12)], "b": ["b0", "b3", "b6", "b9"]}


def test_one_receive_returns_several_messages_of_a_group_in_order(sqs, fifo):
    for i in range(3):
        send(sqs, fifo, f"m{i}")
    assert bodies(receive(sqs, fifo, MaxNumberOfMessages=10)) == ["m0", "m1", "m2"]


def test_group_is_locked_while_a_message_is_in_flight(sqs, fifo):
    send(sqs, fifo, "a1", group="a")
    send(sqs, fifo, "a2", group="a")
    send(sqs, fifo, "b1", group="b")
    first = receive(sqs, fifo, MaxNumberOfMessages=1)
    assert bodies(first) == ["a1"]
    # a2 waits behind a1; group b still delivers.
    assert bodies(receive(sqs, fifo, MaxNumberOfMessages=10)) == ["b1"]
    assert receive(sqs, fifo, MaxNumberOfMessages=10) == []
    assert counts(sqs, fifo) == (1, 2)
    # Deleting a1 unlocks the group.
    sqs.delete_message(QueueUrl=fifo, ReceiptHandle=first[0]["ReceiptHandle"])
    assert bodies(receive(sqs, fifo, MaxNumberOfMessages=10)) == ["a2"]


def test_new_messages_of_a_locked_group_wait(sqs, fifo):
    send(sqs, fifo, "m1")
    held = receive(sqs, fifo)
    assert bodies(held) == ["m1"]
    send(sqs, fifo, "m2")
    assert receive(sqs, fifo, MaxNumberOfMessages=10) == []
    sqs.delete_message(QueueUrl=fifo, ReceiptHandle=held[0]["ReceiptHandle"])
    assert bodies(receive(sqs, fifo)) == ["m2"]


def test_delete_with_an_expired_receipt_handle_is_rejected_on_fifo(sqs, fifo):
    # Unlike a standard queue, a FIFO queue refuses a receipt handle whose visibility timeout has
    # expired; the message stays and the next receive gets it.
    # moto differs: it deletes the message.
    send(sqs, fifo, "m")
    handle = receive(sqs, fifo, VisibilityTimeout=1)[0]["ReceiptHandle"]
    time.sleep(1.5)
    with pytest.raises(ClientError) as e:
        sqs.delete_message(QueueUrl=fifo, ReceiptHandle=handle)
    assert client_error(e) == (
        "InvalidParameterValue", 400,
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")
    assert bodies(receive(sqs, fifo)) == ["m"]


def test_after_visibility_timeout_the_same_messages_come_back_in_order(sqs, fifo):
    # moto differs: after the timeout it returns only the last of the three.
    sent = [send(sqs, fifo, f"m{i}")["MessageId"] for i in range(3)]
    first = receive(sqs, fifo, MaxNumberOfMessages=10, VisibilityTimeout=1)
    assert [m["MessageId"] for m in first] == sent
    assert receive(sqs, fifo, wait=0, MaxNumberOfMessages=10) == []
    time.sleep(1.5)
    again = receive(sqs, fifo, MaxNumberOfMessages=10, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    assert [m["MessageId"] for m in again] == sent
    assert [m["Attributes"]["ApproximateReceiveCount"] for m in again] == ["2", "2", "2"]
    assert {m["ReceiptHandle"] for m in again}.isdisjoint(m["ReceiptHandle"] for m in first)


def test_receive_fifo_system_attributes(sqs, fifo):
    before = int(time.time() * 1000)
    resp = send(sqs, fifo, "attributes", group="group-1", dedup="dedup-1")
    msg = receive(sqs, fifo, MessageSystemAttributeNames=["All"], VisibilityTimeout=0)[0]
    after = int(time.time() * 1000)
    a = msg["Attributes"]
    assert set(a) == FIFO_MESSAGE_ATTRIBUTES
    assert (a["MessageGroupId"], a["MessageDeduplicationId"], a["SequenceNumber"]) == (
        "group-1", "dedup-1", resp["SequenceNumber"])
    assert a["ApproximateReceiveCount"] == "1"
    assert a["SenderId"]
    assert before - 1000 <= int(a["SentTimestamp"]) <= int(a["ApproximateFirstReceiveTimestamp"]) <= after + 1000
    # Asked for by name (legacy AttributeNames too), and the count goes up.
    again = receive(sqs, fifo, AttributeNames=["MessageGroupId", "SequenceNumber", "ApproximateReceiveCount"])[0]
    assert again["Attributes"] == {"MessageGroupId": "group-1", "SequenceNumber": resp["SequenceNumber"],
                                   "ApproximateReceiveCount": "2"}


def test_receive_request_attempt_id_retry_returns_the_same_messages_and_handles(sqs, fifo):
    # "During a visibility timeout, subsequent calls with the same ReceiveRequestAttemptId return the
    # same messages and receipt handles."
    # moto differs: it ignores ReceiveRequestAttemptId.
    for i in range(3):
        send(sqs, fifo, f"m{i}")
    first = receive(sqs, fifo, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    assert bodies(first) == ["m0", "m1"]
    retry = receive(sqs, fifo, MaxNumberOfMessages=2, ReceiveRequestAttemptId="attempt-1")
    assert [(m["MessageId"], m["ReceiptHandle"]) for m in retry] == [
        (m["MessageId"], m["ReceiptHandle"]) for m in first]
    # Another attempt id is a new receive: the group is still locked, so nothing.
    assert receive(sqs, fifo, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt-2") == []
    # The retried handles are valid.
    sqs.delete_message_batch(QueueUrl=fifo, Entries=[
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(retry)])
    assert bodies(receive(sqs, fifo, MaxNumberOfMessages=10)) == ["m2"]


# --- SendMessageBatch ---------------------------------------------------------------------------

def test_send_message_batch_keeps_the_entry_order(sqs, fifo):
    # moto differs: its sequence numbers are random.
    entries = [{"Id": f"e{i}", "MessageBody": f"m{i}", "MessageGroupId": "a" if i % 3 else "b",
                "MessageDeduplicationId": f"d{i}"} for i in range(10)]
    resp = sqs.send_message_batch(QueueUrl=fifo, Entries=entries)
    assert resp.get("Failed", []) == []
    assert [e["Id"] for e in resp["Successful"]] == [e["Id"] for e in entries]
    for ok, entry in zip(resp["Successful"], entries):
        assert ok["MD5OfMessageBody"] == md5_hex(entry["MessageBody"])
        assert ok["SequenceNumber"].isdigit()
    for group in ("a", "b"):
        seqs = [int(ok["SequenceNumber"]) for ok, e in zip(resp["Successful"], entries) if e["MessageGroupId"] == group]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    got = drain(sqs, fifo, 10, MessageSystemAttributeNames=["MessageGroupId"])
    assert per_group(got) == {"a": [e["MessageBody"] for e in entries if e["MessageGroupId"] == "a"],
                              "b": [e["MessageBody"] for e in entries if e["MessageGroupId"] == "b"]}


def test_send_message_batch_deduplicates_within_the_batch(sqs, fifo):
    resp = sqs.send_message_batch(QueueUrl=fifo, Entries=[
        {"Id": "one", "MessageBody": "first", "MessageGroupId": "g", "MessageDeduplicationId": "same"},
        {"Id": "two", "MessageBody": "second", "MessageGroupId": "g", "MessageDeduplicationId": "same"},
        {"Id": "three", "MessageBody": "third", "MessageGroupId": "g", "MessageDeduplicationId": "other"},
    ])
    assert resp.get("Failed", []) == []
    assert sorted(e["Id"] for e in resp["Successful"]) == ["one", "three", "two"]
    assert bodies(drain(sqs, fifo, 3)) == ["first", "third"]


@pytest.mark.parametrize("missing, message", [
    ("MessageGroupId", MISSING_GROUP),
    ("MessageDeduplicationId", MISSING_DEDUP),
])
def test_send_message_batch_entry_without_fifo_ids_fails_the_request(sqs, fifo, missing, message):
    # AWS rejects the whole batch (no Successful/Failed split) with InvalidParameterValue, also for a
    # missing MessageGroupId (a single SendMessage says MissingParameter).
    # moto differs: MissingParameter for the missing MessageGroupId.
    entries = [{"Id": "ok", "MessageBody": "fine", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
               {"Id": "bad", "MessageBody": "lacking", "MessageGroupId": "g", "MessageDeduplicationId": "d2"}]
    del entries[1][missing]
    with pytest.raises(ClientError) as e:
        sqs.send_message_batch(QueueUrl=fifo, Entries=entries)
    assert client_error(e) == ("InvalidParameterValue", 400, message)
    assert receive(sqs, fifo) == []


# --- Dead-letter queues -------------------------------------------------------------------------

def test_fifo_source_needs_a_fifo_dead_letter_queue(sqs, make_queue):
    # "The dead-letter queue of a FIFO queue must also be a FIFO queue", and a standard queue's a
    # standard one. AWS: InvalidParameterValue, "Value <policy> for parameter RedrivePolicy is invalid.
    # Reason: Dead-letter queue must be same type of queue as the source.." (two full stops).
    # moto differs: InvalidParameterCombination for a FIFO source, and it accepts a FIFO DLQ for a
    # standard source.
    def rejected(excinfo, policy):
        assert client_error(excinfo) == (
            "InvalidParameterValue", 400, f"Value {policy} for parameter RedrivePolicy is invalid. "
            "Reason: Dead-letter queue must be same type of queue as the source..")

    to_standard = redrive(queue_arn(sqs, make_queue(fifo=False)), 2)
    to_fifo = redrive(queue_arn(sqs, make_queue()), 2)
    with pytest.raises(ClientError) as e:
        make_queue(RedrivePolicy=to_standard)
    rejected(e, to_standard)
    src = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": to_standard})
    rejected(e, to_standard)
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["All"])["Attributes"]
    with pytest.raises(ClientError) as e:
        make_queue(fifo=False, RedrivePolicy=to_fifo)
    rejected(e, to_fifo)
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": to_fifo})
    got = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(got["RedrivePolicy"]) == json.loads(to_fifo)


def test_fifo_messages_move_to_the_dead_letter_queue_in_order(sqs, make_queue):
    # moto differs: the moved messages arrive in the dead-letter queue out of order.
    dlq = make_queue()
    src = make_queue(RedrivePolicy=redrive(queue_arn(sqs, dlq), 1))
    sent = [send(sqs, src, f"p{i}", dedup=f"dedup-{i}")["MessageId"] for i in range(3)]
    got = receive(sqs, src, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert [m["MessageId"] for m in got] == sent
    # The next receive moves the three (each received maxReceiveCount=1 times) and finds the message
    # sent after them.
    send(sqs, src, "next")
    later = []
    for _ in range(3):
        later = receive(sqs, src, MaxNumberOfMessages=10)
        if later:
            break
    assert bodies(later) == ["next"]
    moved = drain(sqs, dlq, 3, MessageSystemAttributeNames=["All"])
    assert [m["MessageId"] for m in moved] == sent
    assert [m["Body"] for m in moved] == ["p0", "p1", "p2"]
    assert [(m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"]) for m in moved] == [
        ("g", "dedup-0"), ("g", "dedup-1"), ("g", "dedup-2")]


# --- FIFO parameters on standard queues ---------------------------------------------------------

def test_message_group_id_on_a_standard_queue_is_accepted(sqs, make_queue):
    # Fair queues: a standard queue takes MessageGroupId and returns it as a system attribute.
    url = make_queue(fifo=False)
    resp = sqs.send_message(QueueUrl=url, MessageBody="fair", MessageGroupId="tenant-1")
    assert "SequenceNumber" not in resp
    msg = receive(sqs, url, MessageSystemAttributeNames=["All"])[0]
    assert msg["MessageId"] == resp["MessageId"]
    assert set(msg["Attributes"]) == {"SenderId", "SentTimestamp", "ApproximateReceiveCount",
                                      "ApproximateFirstReceiveTimestamp", "MessageGroupId"}
    assert msg["Attributes"]["MessageGroupId"] == "tenant-1"


@pytest.mark.parametrize("value", ["", "a" * 129, "group 123"], ids=["empty", "too-long", "space"])
def test_invalid_message_group_id_on_a_standard_queue(sqs, make_queue, value):
    # moto differs: it accepts any group id on standard queues.
    url = make_queue(fifo=False)
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="m", MessageGroupId=value)
    assert client_error(e) == (
        "InvalidParameterValue", 400,
        f"Value {value} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include "
        "alphanumeric and punctuation characters. 1 to 128 in length.")


def test_message_deduplication_id_on_a_standard_queue_is_rejected(sqs, make_queue):
    # moto differs: it accepts (and ignores) it.
    url = make_queue(fifo=False)
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="m", MessageDeduplicationId="d")
    code, status, message = client_error(e)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "MessageDeduplicationId" in message
    assert receive(sqs, url, wait=0) == []
