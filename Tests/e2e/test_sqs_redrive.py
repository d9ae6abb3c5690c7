"""SQS dead-letter queue redrive and queue permissions, driven by boto3 over the AWS JSON 1.0 protocol:
StartMessageMoveTask / ListMessageMoveTasks / CancelMessageMoveTask (errors, task listings, moving back to
each message's source queue or to a chosen queue, rate limits, cancellation, a destination deleted while a
task runs), RedriveAllowPolicy (validation and enforcement when a RedrivePolicy names the queue),
AddPermission / RemovePermission (the queue's Policy document), and MessageRetentionPeriod expiry.

Expected behaviour is real AWS SQS: the API reference, and responses recorded against AWS (LocalStack's
AWS-validated snapshots in tests/aws/services/sqs/test_sqs_move_task.snapshot.json give the move-task error
codes, messages and listing shapes). AWS's message counts in task listings are approximate (a listing while
running, or the count CancelMessageMoveTask returns, may lag the messages actually moved), so those are
checked as ranges, and the messages themselves are counted where exact numbers matter.

Error codes are the ones botocore surfaces: SQS answers JSON requests with `x-amzn-query-error: <legacy
Query code>;Sender`, and botocore takes the code from that header (`InvalidParameterValue`,
`MissingParameter`, `ResourceNotFoundException`, `AWS.SimpleQueueService.NonExistentQueue`).

AddPermission's required lists: botocore rejects a missing one itself (ParamValidationError), so the
server's MissingParameter is reached with parameter validation off; an empty Actions list is
MissingParameter too, while an empty AWSAccountIds list fails AWS's principal check ("Value [] for parameter
PrincipalId is invalid. Reason: Unable to verify.", as moto records it from AWS).

Messages reach a dead-letter queue through a RedrivePolicy with maxReceiveCount=1: one receive with
VisibilityTimeout=0, then the next receive moves the message.

Retention expiry moves Cloudless's clock forward (`POST /_cloudless/clock {"advance": 61}`) and back again
afterwards, so those tests run against Cloudless only (AWS and moto have no such endpoint).

Timing: tasks at the default ("system-optimized") rate finish within a second or two; the rate-limited
tasks (MaxNumberOfMessagesPerSecond=1) are cancelled or fail within a few seconds."""
import base64
import json
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import make_client

NONEXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"
TASK_WAIT = 15  # seconds to wait for a default-rate task to finish


# --- helpers ------------------------------------------------------------------------------------

def client_error(excinfo):
    """(code, HTTP status, message) of a ClientError; every error here is the sender's fault."""
    err = excinfo.value.response
    assert err["Error"].get("Type") == "Sender", err
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def redrive_policy(target_arn, count=1):
    return json.dumps({"deadLetterTargetArn": target_arn, "maxReceiveCount": count})


def visible_count(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def counts(sqs, url):
    """(visible, in flight) message counts of a queue."""
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def wait_until(condition, timeout, interval=0.2, what="condition"):
    """Poll `condition()` until it returns something truthy (returned) or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def dead_letter(sqs, source_url, dlq_url, expected):
    """Receive from `source_url` (RedrivePolicy maxReceiveCount=1) with VisibilityTimeout=0 until the DLQ
    holds `expected` messages (each message is received once, and the next receive moves it)."""
    for _ in range(4 * expected + 10):
        if visible_count(sqs, dlq_url) >= expected:
            break
        sqs.receive_message(QueueUrl=source_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert visible_count(sqs, dlq_url) == expected
    assert counts(sqs, source_url) == (0, 0)


def drain(sqs, url, expected, timeout=TASK_WAIT, exact=True):
    """Receive and delete messages from `url` until `expected` have arrived; returns them. With `exact`,
    nothing more may be visible afterwards."""
    got = []

    def more():
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                     MessageAttributeNames=["All"]).get("Messages", []):
            got.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return len(got) >= expected
    wait_until(more, timeout, interval=0, what=f"{expected} messages in {url}")
    if exact:
        assert len(got) == expected
        assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return got


def list_tasks(sqs, source_arn, **kw):
    return sqs.list_message_move_tasks(SourceArn=source_arn, **kw).get("Results", [])


def wait_for_status(sqs, source_arn, predicate, timeout=TASK_WAIT):
    """The newest task of `source_arn`, once `predicate(task)` holds."""
    def check():
        tasks = list_tasks(sqs, source_arn)
        return tasks[0] if tasks and predicate(tasks[0]) else None
    return wait_until(check, timeout, what=f"a task of {source_arn} to change status")


def decode_handle(handle):
    return json.loads(base64.b64decode(handle))


def encode_handle(task_id, source_arn):
    return base64.b64encode(json.dumps({"taskId": task_id, "sourceArn": source_arn}).encode()).decode()


def assert_recent_millis(value):
    """StartedTimestamp: epoch milliseconds, within a few minutes of now."""
    assert isinstance(value, int), value
    assert abs(value - time.time() * 1000) < 300_000, value


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


@pytest.fixture
def make_queue(sqs):
    """make_queue(name=None, **attributes) -> (url, arn); every queue made is deleted afterwards."""
    urls = []

    def make(name=None, **attributes):
        name = name or "e2e-redrive-" + uuid.uuid4().hex[:16]
        url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
        urls.append(url)
        return url, arn_of(sqs, url)
    yield make
    for url in urls:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


@pytest.fixture
def pipe(sqs, make_queue):
    """pipe(n) -> (source url, source arn, dlq url, dlq arn) with n messages ("message-0", ...) sent to the
    source and dead-lettered into the DLQ. Each message carries a String attribute `index`."""
    def make(n, dlq=None):
        dlq_url, dlq_arn = dlq or make_queue()
        src_url, src_arn = make_queue(RedrivePolicy=redrive_policy(dlq_arn))
        for i in range(n):
            sqs.send_message(QueueUrl=src_url, MessageBody=f"message-{i}",
                             MessageAttributes={"index": {"DataType": "String", "StringValue": str(i)}})
        dead_letter(sqs, src_url, dlq_url, n)
        return src_url, src_arn, dlq_url, dlq_arn
    return make


@pytest.fixture
def clock(endpoint):
    """advance(seconds): move the server's clock forward; it is moved back when the test ends."""
    moved = []

    def advance(seconds):
        r = requests.post(endpoint + "/_cloudless/clock", json={"advance": seconds}, timeout=10)
        assert r.status_code == 200, (r.status_code, r.text[:200])
        moved.append(seconds)
    yield advance
    if moved:
        requests.post(endpoint + "/_cloudless/clock", json={"advance": -sum(moved)}, timeout=10)


# --- StartMessageMoveTask / CancelMessageMoveTask errors ----------------------------------------

def test_start_requires_the_source_to_be_a_dead_letter_queue(sqs, make_queue):
    _, source_arn = make_queue()
    _, destination_arn = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(SourceArn=source_arn, DestinationArn=destination_arn)
    assert client_error(e) == ("InvalidParameterValue", 400, "Source queue must be configured as a Dead Letter Queue.")


def test_start_with_a_destination_that_does_not_exist(sqs, make_queue, pipe):
    _, _, _, dlq_arn = pipe(1)
    _, destination_arn = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn + "doesntexist")
    assert client_error(e) == (
        "ResourceNotFoundException", 404, "The resource that you specified for the DestinationArn parameter doesn't exist.")
    assert list_tasks(sqs, dlq_arn, MaxResults=10) == []


@pytest.mark.parametrize("rate", [0, 501, -1])
def test_start_with_a_rate_outside_1_to_500(sqs, pipe, rate):
    _, _, dlq_url, dlq_arn = pipe(1)
    with pytest.raises(ClientError) as e:
        sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=rate)
    code, status, _ = client_error(e)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert list_tasks(sqs, dlq_arn, MaxResults=10) == []
    assert visible_count(sqs, dlq_url) == 1


def test_cancel_with_a_garbage_task_handle(sqs):
    with pytest.raises(ClientError) as e:
        sqs.cancel_message_move_task(TaskHandle="foobared")
    assert client_error(e) == ("InvalidParameterValue", 400, "Value for parameter TaskHandle is invalid.")


def test_cancel_with_a_handle_whose_source_does_not_exist(sqs, make_queue):
    _, arn = make_queue()
    missing = arn.rsplit(":", 1)[0] + ":e2e-redrive-missing-" + uuid.uuid4().hex[:12]
    with pytest.raises(ClientError) as e:
        sqs.cancel_message_move_task(TaskHandle=encode_handle(str(uuid.uuid4()), missing))
    assert client_error(e) == (
        "ResourceNotFoundException", 404, "The resource that you specified for the SourceArn parameter doesn't exist.")


def test_cancel_with_a_handle_whose_task_does_not_exist(sqs, make_queue):
    _, arn = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.cancel_message_move_task(TaskHandle=encode_handle(str(uuid.uuid4()), arn))
    assert client_error(e) == ("ResourceNotFoundException", 404, "Task does not exist.")


# --- moving messages ----------------------------------------------------------------------------

def test_move_to_an_explicit_destination(sqs, make_queue, pipe):
    _, _, dlq_url, dlq_arn = pipe(2)
    destination_url, destination_arn = make_queue()
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn)["TaskHandle"]
    decoded = decode_handle(handle)
    assert set(decoded) == {"taskId", "sourceArn"}
    assert str(uuid.UUID(decoded["taskId"])) == decoded["taskId"]
    assert decoded["sourceArn"] == dlq_arn

    moved = drain(sqs, destination_url, 2)
    assert sorted(m["Body"] for m in moved) == ["message-0", "message-1"]
    for m in moved:
        index = m["Body"].split("-")[1]
        assert m["MessageAttributes"] == {"index": {"DataType": "String", "StringValue": index}}

    task = wait_for_status(sqs, dlq_arn, lambda t: t["Status"] != "RUNNING")
    assert_recent_millis(task.pop("StartedTimestamp"))
    assert task == {
        "ApproximateNumberOfMessagesMoved": 2, "ApproximateNumberOfMessagesToMove": 2,
        "SourceArn": dlq_arn, "DestinationArn": destination_arn, "Status": "COMPLETED",
    }
    assert counts(sqs, dlq_url) == (0, 0)


def test_move_back_to_each_messages_own_source_queue(sqs, make_queue, pipe):
    """No DestinationArn: each message goes back to the queue it was dead-lettered from, also when two
    source queues share the DLQ."""
    dlq = make_queue()
    dlq_url, dlq_arn = dlq
    a_url, _, _, _ = pipe(2, dlq=dlq)
    b_url, _ = make_queue(RedrivePolicy=redrive_policy(dlq_arn))
    sqs.send_message(QueueUrl=b_url, MessageBody="from-b",
                     MessageAttributes={"origin": {"DataType": "Number", "StringValue": "2"}})
    dead_letter(sqs, b_url, dlq_url, 3)

    sqs.start_message_move_task(SourceArn=dlq_arn)
    back_in_a = drain(sqs, a_url, 2)
    back_in_b = drain(sqs, b_url, 1)
    assert sorted(m["Body"] for m in back_in_a) == ["message-0", "message-1"]
    assert [m["Body"] for m in back_in_b] == ["from-b"]
    assert back_in_b[0]["MessageAttributes"] == {"origin": {"DataType": "Number", "StringValue": "2"}}

    task = wait_for_status(sqs, dlq_arn, lambda t: t["Status"] != "RUNNING")
    assert_recent_millis(task.pop("StartedTimestamp"))
    assert task == {
        "ApproximateNumberOfMessagesMoved": 3, "ApproximateNumberOfMessagesToMove": 3,
        "SourceArn": dlq_arn, "Status": "COMPLETED",
    }
    assert counts(sqs, dlq_url) == (0, 0)


def test_only_one_running_task_per_source(sqs, make_queue, pipe):
    _, _, _, dlq_arn = pipe(10)
    _, destination_arn = make_queue()
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn,
                                         MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    try:
        with pytest.raises(ClientError) as e:
            sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn, MaxNumberOfMessagesPerSecond=1)
        assert client_error(e) == (
            "InvalidParameterValue", 400,
            "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
        tasks = list_tasks(sqs, dlq_arn, MaxResults=10)
        assert [(t["Status"], t["TaskHandle"]) for t in tasks] == [("RUNNING", handle)]
    finally:
        try:
            sqs.cancel_message_move_task(TaskHandle=handle)
        except ClientError:
            pass


def test_cancel_a_rate_limited_task_then_finish_with_a_new_one(sqs, make_queue, pipe):
    _, _, dlq_url, dlq_arn = pipe(10)
    destination_url, destination_arn = make_queue()
    handle = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn,
                                         MaxNumberOfMessagesPerSecond=1)["TaskHandle"]
    # At one message a second, the first two arrive within a few seconds, and the rest are still to move.
    first = drain(sqs, destination_url, 2, timeout=10, exact=False)

    running = list_tasks(sqs, dlq_arn)
    assert len(running) == 1
    task = dict(running[0])
    assert_recent_millis(task.pop("StartedTimestamp"))
    moved_so_far = task.pop("ApproximateNumberOfMessagesMoved")
    assert 0 <= moved_so_far < 10
    assert task == {
        "ApproximateNumberOfMessagesToMove": 10, "SourceArn": dlq_arn, "DestinationArn": destination_arn,
        "MaxNumberOfMessagesPerSecond": 1, "Status": "RUNNING", "TaskHandle": handle,
    }

    cancelled = sqs.cancel_message_move_task(TaskHandle=handle)
    assert isinstance(cancelled["ApproximateNumberOfMessagesMoved"], int)
    assert 0 <= cancelled["ApproximateNumberOfMessagesMoved"] < 10

    task = dict(wait_for_status(sqs, dlq_arn, lambda t: t["Status"] == "CANCELLED", timeout=10))
    assert_recent_millis(task.pop("StartedTimestamp"))
    moved_by_cancelled = task.pop("ApproximateNumberOfMessagesMoved")
    assert task == {
        "ApproximateNumberOfMessagesToMove": 10, "SourceArn": dlq_arn, "DestinationArn": destination_arn,
        "MaxNumberOfMessagesPerSecond": 1, "Status": "CANCELLED",
    }
    # Cancelled: nothing more moves.
    time.sleep(2)
    late = sqs.receive_message(QueueUrl=destination_url, MaxNumberOfMessages=10).get("Messages", [])
    left = visible_count(sqs, dlq_url)
    assert len(first) + len(late) + left == 10
    assert left > 0
    assert 2 <= moved_by_cancelled == len(first) + len(late)
    time.sleep(1.5)
    assert visible_count(sqs, dlq_url) == left
    for m in late:
        sqs.delete_message(QueueUrl=destination_url, ReceiptHandle=m["ReceiptHandle"])

    # A new task may start once the old one is no longer running; it moves the rest.
    handle2 = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn)["TaskHandle"]
    assert handle2 != handle
    rest = drain(sqs, destination_url, left)
    assert sorted(m["Body"] for m in first + late + rest) == sorted(f"message-{i}" for i in range(10))
    newest = wait_for_status(sqs, dlq_arn, lambda t: t["Status"] != "RUNNING")
    assert (newest["Status"], newest["ApproximateNumberOfMessagesMoved"], newest["ApproximateNumberOfMessagesToMove"]) \
        == ("COMPLETED", left, left)
    assert "TaskHandle" not in newest and "MaxNumberOfMessagesPerSecond" not in newest
    assert [t["Status"] for t in list_tasks(sqs, dlq_arn, MaxResults=10)] == ["COMPLETED", "CANCELLED"]


def test_destination_deleted_while_the_task_runs(sqs, make_queue, pipe):
    _, _, dlq_url, dlq_arn = pipe(10)
    destination_url, destination_arn = make_queue()
    sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn, MaxNumberOfMessagesPerSecond=1)
    sqs.delete_queue(QueueUrl=destination_url)

    task = dict(wait_for_status(sqs, dlq_arn, lambda t: t["Status"] != "RUNNING", timeout=30))
    assert_recent_millis(task.pop("StartedTimestamp"))
    moved = task.pop("ApproximateNumberOfMessagesMoved")
    assert 0 <= moved < 10
    assert task == {
        "ApproximateNumberOfMessagesToMove": 10, "SourceArn": dlq_arn, "DestinationArn": destination_arn,
        "MaxNumberOfMessagesPerSecond": 1, "Status": "FAILED", "FailureReason": NONEXISTENT_QUEUE,
    }
    assert visible_count(sqs, dlq_url) == 10 - moved
    assert sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1).get("Messages")


def test_list_message_move_tasks_newest_first_with_max_results(sqs, make_queue, pipe):
    """Three completed tasks, each to its own destination: MaxResults (default 1, at most 10) takes the
    newest first."""
    src_url, _, dlq_url, dlq_arn = pipe(1)
    destinations = []
    for round_ in range(3):
        if round_:
            sqs.send_message(QueueUrl=src_url, MessageBody=f"round-{round_}")
            dead_letter(sqs, src_url, dlq_url, 1)
        destination_url, destination_arn = make_queue()
        destinations.append(destination_arn)
        sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=destination_arn)
        drain(sqs, destination_url, 1)
        wait_for_status(sqs, dlq_arn, lambda t: t["Status"] == "COMPLETED" and t["DestinationArn"] == destination_arn)

    newest_first = destinations[::-1]
    assert [t["DestinationArn"] for t in list_tasks(sqs, dlq_arn)] == newest_first[:1]
    assert [t["DestinationArn"] for t in list_tasks(sqs, dlq_arn, MaxResults=1)] == newest_first[:1]
    assert [t["DestinationArn"] for t in list_tasks(sqs, dlq_arn, MaxResults=2)] == newest_first[:2]
    everything = list_tasks(sqs, dlq_arn, MaxResults=10)
    assert [t["DestinationArn"] for t in everything] == newest_first
    assert all(t["Status"] == "COMPLETED" and "TaskHandle" not in t for t in everything)
    started = [t["StartedTimestamp"] for t in everything]
    assert started == sorted(started, reverse=True)


# --- RedriveAllowPolicy -------------------------------------------------------------------------

def _arns(prefix, n):
    return [f"{prefix}:e2e-redrive-src-{i}" for i in range(n)]


@pytest.mark.parametrize("policy", [
    lambda prefix: {"redrivePermission": "allowAll"},
    lambda prefix: {"redrivePermission": "denyAll"},
    lambda prefix: {"redrivePermission": "byQueue", "sourceQueueArns": _arns(prefix, 1)},
    lambda prefix: {"redrivePermission": "byQueue", "sourceQueueArns": _arns(prefix, 10)},
], ids=["allowAll", "denyAll", "byQueue-1", "byQueue-10"])
def test_redrive_allow_policy_is_accepted_and_shown(sqs, make_queue, policy):
    url, arn = make_queue()
    prefix = arn.rsplit(":", 1)[0]
    document = policy(prefix)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedriveAllowPolicy": json.dumps(document)})
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedriveAllowPolicy"])["Attributes"]
    assert json.loads(shown["RedriveAllowPolicy"]) == document
    # Also at creation.
    url2, _ = make_queue(RedriveAllowPolicy=json.dumps(document))
    all_attrs = sqs.get_queue_attributes(QueueUrl=url2, AttributeNames=["All"])["Attributes"]
    assert json.loads(all_attrs["RedriveAllowPolicy"]) == document


@pytest.mark.parametrize("policy", [
    lambda prefix: json.dumps({"redrivePermission": "byQueue"}),
    lambda prefix: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": []}),
    lambda prefix: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": _arns(prefix, 11)}),
    lambda prefix: json.dumps({"redrivePermission": "allowSome"}),
    lambda prefix: json.dumps({"redrivePermission": "allowAll", "sourceQueueArns": _arns(prefix, 1)}),
    lambda prefix: json.dumps({"sourceQueueArns": _arns(prefix, 1)}),
    lambda prefix: "not json",
], ids=["byQueue-without-arns", "byQueue-empty-arns", "byQueue-11-arns", "unknown-permission",
        "allowAll-with-arns", "no-permission", "not-json"])
def test_malformed_redrive_allow_policy_is_rejected(sqs, make_queue, policy):
    url, arn = make_queue()
    text = policy(arn.rsplit(":", 1)[0])
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedriveAllowPolicy": text})
    code, status, _ = client_error(e)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "RedriveAllowPolicy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # And CreateQueue with it creates nothing.
    name = "e2e-redrive-" + uuid.uuid4().hex[:16]
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name, Attributes={"RedriveAllowPolicy": text})
    code, status, _ = client_error(e)
    assert (code, status) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as e:
        sqs.get_queue_url(QueueName=name)
    assert e.value.response["Error"]["Code"] == NONEXISTENT_QUEUE


def _refusing(prefix, kind):
    """A RedriveAllowPolicy that does not let a new queue use the DLQ."""
    return {
        "denyAll": {"redrivePermission": "denyAll"},
        "byQueue-others": {"redrivePermission": "byQueue", "sourceQueueArns": _arns(prefix, 2)},
    }[kind]


@pytest.mark.parametrize("kind", ["denyAll", "byQueue-others"])
def test_redrive_policy_refused_by_the_targets_allow_policy(sqs, make_queue, kind):
    _, probe_arn = make_queue()
    prefix = probe_arn.rsplit(":", 1)[0]
    source_name = "e2e-redrive-" + uuid.uuid4().hex[:16]
    _, dlq_arn = make_queue(RedriveAllowPolicy=json.dumps(_refusing(prefix, kind)))

    # CreateQueue naming the DLQ fails, and creates no queue.
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=source_name, Attributes={"RedrivePolicy": redrive_policy(dlq_arn, 3)})
    code, status, _ = client_error(e)
    assert (code, status) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as e:
        sqs.get_queue_url(QueueName=source_name)
    assert e.value.response["Error"]["Code"] == NONEXISTENT_QUEUE

    # SetQueueAttributes naming it fails, and changes nothing.
    url, _ = make_queue(name=source_name)
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": redrive_policy(dlq_arn, 3)})
    code, status, _ = client_error(e)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


@pytest.mark.parametrize("kind", ["allowAll", "byQueue-listing-the-source"])
def test_redrive_policy_allowed_by_the_targets_allow_policy(sqs, make_queue, kind):
    _, probe_arn = make_queue()
    prefix = probe_arn.rsplit(":", 1)[0]
    names = ["e2e-redrive-" + uuid.uuid4().hex[:16] for _ in range(2)]
    allow = {"redrivePermission": "allowAll"} if kind == "allowAll" else \
        {"redrivePermission": "byQueue", "sourceQueueArns": [f"{prefix}:{n}" for n in names] + _arns(prefix, 1)}
    dlq_url, dlq_arn = make_queue(RedriveAllowPolicy=json.dumps(allow))

    created, _ = make_queue(name=names[0], RedrivePolicy=redrive_policy(dlq_arn))
    later, _ = make_queue(name=names[1])
    sqs.set_queue_attributes(QueueUrl=later, Attributes={"RedrivePolicy": redrive_policy(dlq_arn)})
    for url in (created, later):
        shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
        assert json.loads(shown) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}
    assert sorted(sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"]) == sorted([created, later])
    # And the redrive works.
    sqs.send_message(QueueUrl=created, MessageBody="to the dlq")
    dead_letter(sqs, created, dlq_url, 1)


# --- AddPermission / RemovePermission -----------------------------------------------------------

def _policy(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
    return json.loads(attrs["Policy"]) if "Policy" in attrs else None


def _statements_by_sid(policy):
    return {s["Sid"]: s for s in (policy or {}).get("Statement", [])}


def test_add_permission_writes_a_statement_per_label(sqs, make_queue):
    url, arn = make_queue()
    account = arn.split(":")[4]
    sqs.add_permission(QueueUrl=url, Label="send-only", AWSAccountIds=[account], Actions=["SendMessage"])
    sqs.add_permission(QueueUrl=url, Label="consume", AWSAccountIds=[account],
                       Actions=["ReceiveMessage", "DeleteMessage"])

    policy = _policy(sqs, url)
    assert policy["Version"] == "2012-10-17"
    by_sid = _statements_by_sid(policy)
    assert len(policy["Statement"]) == 2
    assert by_sid["send-only"] == {
        "Sid": "send-only", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "SQS:SendMessage", "Resource": arn,
    }
    consume = dict(by_sid["consume"])
    actions = consume.pop("Action")
    assert isinstance(actions, list) and sorted(actions) == ["SQS:DeleteMessage", "SQS:ReceiveMessage"]
    assert consume == {
        "Sid": "consume", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Resource": arn,
    }


def test_add_permission_with_a_label_in_use_is_rejected(sqs, make_queue):
    url, arn = make_queue()
    account = arn.split(":")[4]
    sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=[account], Actions=["SendMessage"])
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=[account], Actions=["ReceiveMessage"])
    code, status, _ = client_error(e)
    assert (code, status) == ("InvalidParameterValue", 400)
    statements = _policy(sqs, url)["Statement"]
    assert [(s["Sid"], s["Action"]) for s in statements] == [("dup", "SQS:SendMessage")]


def test_remove_permission(sqs, make_queue):
    url, arn = make_queue()
    account = arn.split(":")[4]
    for label, action in (("one", "SendMessage"), ("two", "ReceiveMessage")):
        sqs.add_permission(QueueUrl=url, Label=label, AWSAccountIds=[account], Actions=[action])

    with pytest.raises(ClientError) as e:
        sqs.remove_permission(QueueUrl=url, Label="no-such-label")
    code, status, _ = client_error(e)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert set(_statements_by_sid(_policy(sqs, url))) == {"one", "two"}

    sqs.remove_permission(QueueUrl=url, Label="one")
    assert set(_statements_by_sid(_policy(sqs, url))) == {"two"}
    assert _statements_by_sid(_policy(sqs, url))["two"]["Action"] == "SQS:ReceiveMessage"

    sqs.remove_permission(QueueUrl=url, Label="two")
    assert _statements_by_sid(_policy(sqs, url)) == {}
    # The label is free again.
    sqs.add_permission(QueueUrl=url, Label="one", AWSAccountIds=[account], Actions=["GetQueueAttributes"])
    assert _statements_by_sid(_policy(sqs, url))["one"]["Action"] == "SQS:GetQueueAttributes"


def test_add_permission_with_no_actions(sqs, make_queue):
    url, arn = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="empty", AWSAccountIds=[arn.split(":")[4]], Actions=[])
    assert client_error(e) == ("MissingParameter", 400, "The request must contain the parameter Actions.")
    assert _policy(sqs, url) is None


def test_add_permission_with_an_empty_account_list(sqs, make_queue):
    """An empty (but present) AWSAccountIds fails the principal check, as moto records AWS's answer."""
    url, _ = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="empty", AWSAccountIds=[], Actions=["SendMessage"])
    assert client_error(e) == (
        "InvalidParameterValue", 400, "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.")
    assert _policy(sqs, url) is None


@pytest.mark.parametrize("missing", ["Actions", "AWSAccountIds"])
def test_add_permission_without_a_required_list(endpoint, sqs, make_queue, missing):
    """botocore checks required parameters itself (ParamValidationError); with that check off the request
    reaches the server without the member."""
    url, arn = make_queue()
    raw = make_client(endpoint, "sqs", parameter_validation=False)
    params = {"QueueUrl": url, "Label": "partial", "AWSAccountIds": [arn.split(":")[4]], "Actions": ["SendMessage"]}
    del params[missing]
    with pytest.raises(ClientError) as e:
        raw.add_permission(**params)
    code, status, _ = client_error(e)
    assert (code, status) == ("MissingParameter", 400)
    assert _policy(sqs, url) is None


# --- MessageRetentionPeriod ---------------------------------------------------------------------

def test_messages_expire_after_the_retention_period(sqs, make_queue, clock):
    url, _ = make_queue(MessageRetentionPeriod=60)
    sqs.send_message(QueueUrl=url, MessageBody="old")
    clock(30)
    sqs.send_message(QueueUrl=url, MessageBody="young")
    assert counts(sqs, url) == (2, 0)
    clock(31)  # "old" is 61 s old, "young" 31 s
    assert counts(sqs, url) == (1, 0)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [m["Body"] for m in got] == ["young"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0)


def test_in_flight_message_past_its_retention_is_gone_after_its_visibility_timeout(sqs, make_queue, clock):
    url, _ = make_queue(MessageRetentionPeriod=60)
    sqs.send_message(QueueUrl=url, MessageBody="in flight")
    got = sqs.receive_message(QueueUrl=url, VisibilityTimeout=120, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in got] == ["in flight"]
    clock(61)   # retention over, still in flight
    clock(60)   # visibility timeout over too
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert counts(sqs, url) == (0, 0)
