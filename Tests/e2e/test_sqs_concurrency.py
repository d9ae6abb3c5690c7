"""SQS under concurrent load: 2 producers and 8 consumers, each thread with its own boto3 client, over
20,000 messages sent with SendMessageBatch, received 10 at a time and deleted with DeleteMessageBatch.

- standard queue: every message is received and deleted exactly once (every delete acknowledged), and
  no message is handed to a second consumer while its visibility timeout is open;
- FIFO queue with 20 message groups: each group's messages arrive in send order, each once, and a
  group's next messages are never handed out while earlier ones are still in flight;
- dead-letter queue: with maxReceiveCount=1 and consumers that give back (ChangeMessageVisibility 0)
  a known tenth of the messages instead of deleting them, exactly that tenth ends up in the
  dead-letter queue (ApproximateNumberOfMessages and the messages themselves).

moto differs: with concurrent consumers it now and then hands a message to two of them at once and
delivers a FIFO group out of order, its sequence numbers are random, and under this load some of its
receives fail with HTTP 500.

Expected behaviour is real AWS SQS. Clients are made before the threads start (creating boto3 clients
is not thread-safe). The sizes are module constants; MESSAGES=20,000 is the size the suite runs."""
import json
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client

MESSAGES = 20_000      # per test
PRODUCERS = 2
CONSUMERS = 8
GROUPS = 20            # FIFO test
POISON_EVERY = 10      # dead-letter test: every 10th message is given back instead of deleted
VISIBILITY = 60        # seconds; far longer than a consumer holds a message
DEADLINE = 600         # seconds per test before the consumers give up


def client(endpoint):
    return make_client(endpoint, "sqs", connect_timeout=5, read_timeout=60, max_pool_connections=4)


def counts(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
            int(a["ApproximateNumberOfMessagesDelayed"]))


def entries_of(messages):
    return [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]


@pytest.fixture(scope="module")
def sqs(endpoint):
    return client(endpoint)


@pytest.fixture
def make_queue(sqs):
    """make_queue(fifo=False, **attributes) -> queue URL; deleted after the test."""
    urls = []

    def make(fifo=False, **attributes):
        name = "e2e-load-" + uuid.uuid4().hex[:16] + (".fifo" if fifo else "")
        attrs = {"FifoQueue": "true", **attributes} if fifo else dict(attributes)
        url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attrs.items()})["QueueUrl"]
        urls.append(url)
        return url
    yield make
    for url in urls:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


class Run:
    """Runs producer and consumer threads, collects their exceptions, and stops the consumers when
    `done()` holds or the deadline passes."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors = []
        self.threads = []

    def thread(self, fn, *args):
        def body():
            try:
                fn(*args)
            except Exception as exc:  # reported by join()
                with self.lock:
                    self.errors.append(repr(exc))
                self.stop.set()
        t = threading.Thread(target=body, daemon=True)
        self.threads.append(t)
        return t

    def run(self, done):
        started = time.monotonic()
        for t in self.threads:
            t.start()
        while not self.stop.is_set() and time.monotonic() - started < DEADLINE:
            if done():
                break
            time.sleep(0.2)
        self.stop.set()
        for t in self.threads:
            t.join(60)
        assert self.errors == [], self.errors[:5]
        assert not any(t.is_alive() for t in self.threads), "a worker did not stop"
        return time.monotonic() - started


def send_batch(sqs, url, entries, sent, lock):
    """SendMessageBatch (up to 10 entries); records MessageId -> (body, SequenceNumber) in `sent`."""
    resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert resp.get("Failed", []) == [], resp["Failed"][:3]
    assert len(resp["Successful"]) == len(entries)
    by_id = {e["Id"]: e for e in entries}
    with lock:
        for ok in resp["Successful"]:
            sent[ok["MessageId"]] = (by_id[ok["Id"]]["MessageBody"], ok.get("SequenceNumber"))


def produce(sqs, url, bodies, sent, lock):
    """Send the bodies in order, 10 to a batch."""
    for i in range(0, len(bodies), 10):
        send_batch(sqs, url, [{"Id": str(j), "MessageBody": b} for j, b in enumerate(bodies[i:i + 10])], sent, lock)


# --- standard queue -----------------------------------------------------------------------------

def test_standard_queue_every_message_once(sqs, endpoint, make_queue):
    url = make_queue(VisibilityTimeout=VISIBILITY)
    run = Run()
    sent = {}                # MessageId -> (body, None)
    receives = {}            # MessageId -> [(consumer, time the receive was sent, time it returned)]
    deleted = []             # MessageIds whose delete was acknowledged
    clients = [client(endpoint) for _ in range(PRODUCERS + CONSUMERS)]

    def producer(p):
        produce(clients[p], url, [f"m-{i:05d}" for i in range(p, MESSAGES, PRODUCERS)], sent, run.lock)

    def consumer(c):
        sqs_c = clients[PRODUCERS + c]
        while not run.stop.is_set():
            before = time.monotonic()
            msgs = sqs_c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                         VisibilityTimeout=VISIBILITY).get("Messages", [])
            after = time.monotonic()
            if not msgs:
                continue
            with run.lock:
                for m in msgs:
                    receives.setdefault(m["MessageId"], []).append((c, before, after))
            resp = sqs_c.delete_message_batch(QueueUrl=url, Entries=entries_of(msgs))
            assert resp.get("Failed", []) == [], resp["Failed"][:3]
            with run.lock:
                deleted.extend(msgs[int(ok["Id"])]["MessageId"] for ok in resp["Successful"])

    for p in range(PRODUCERS):
        run.thread(producer, p)
    for c in range(CONSUMERS):
        run.thread(consumer, c)
    elapsed = run.run(lambda: len(deleted) >= MESSAGES)
    print(f"standard: {MESSAGES} messages in {elapsed:.1f} s")

    assert len(sent) == MESSAGES
    # No message was handed to a second consumer while the first one's visibility window was open:
    # for two receives of a message, the later one returned less than VISIBILITY seconds after the
    # earlier one was sent.
    overlapping = {}
    for mid, r in receives.items():
        r = sorted(r, key=lambda x: x[1])
        if any(later[2] < earlier[1] + VISIBILITY for earlier, later in zip(r, r[1:])):
            overlapping[mid] = r
    assert not overlapping, (f"{len(overlapping)} messages received twice in their window, "
                             f"e.g. {list(overlapping.items())[:3]}")
    # Every message received exactly once (consumers delete at once, so there is no expiry either).
    assert set(receives) == set(sent), (len(set(sent) - set(receives)), len(set(receives) - set(sent)))
    twice = [mid for mid, r in receives.items() if len(r) != 1]
    assert not twice, f"{len(twice)} messages received more than once"
    # Every delete acknowledged, once per message.
    assert len(deleted) == MESSAGES and set(deleted) == set(sent)
    assert counts(sqs, url) == (0, 0, 0)


# --- FIFO queue ---------------------------------------------------------------------------------

def test_fifo_queue_order_per_group_and_no_overlap(sqs, endpoint, make_queue):
    url = make_queue(fifo=True, VisibilityTimeout=VISIBILITY)
    run = Run()
    sent = {}                # MessageId -> (body, SequenceNumber)
    batches = []             # (consumer, receive returned at, delete sent at, [(group, index, MessageId, seq)])
    deleted = []
    per_group = MESSAGES // GROUPS
    clients = [client(endpoint) for _ in range(PRODUCERS + CONSUMERS)]

    def producer(p):
        # Each group belongs to one producer, which sends it in order, 10 at a time, round-robin over
        # its groups.
        mine = [g for g in range(GROUPS) if g % PRODUCERS == p]
        for start in range(0, per_group, 10):
            for g in mine:
                chunk = [{"Id": str(j), "MessageBody": f"g{g:02d}-{k:05d}", "MessageGroupId": f"g{g:02d}",
                          "MessageDeduplicationId": f"g{g:02d}-{k:05d}"}
                         for j, k in enumerate(range(start, min(start + 10, per_group)))]
                send_batch(clients[p], url, chunk, sent, run.lock)

    def consumer(c):
        sqs_c = clients[PRODUCERS + c]
        while not run.stop.is_set():
            msgs = sqs_c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                         VisibilityTimeout=VISIBILITY,
                                         MessageSystemAttributeNames=["MessageGroupId", "SequenceNumber"]
                                         ).get("Messages", [])
            returned = time.monotonic()
            if not msgs:
                continue
            got = []
            for m in msgs:
                group, index = m["Body"].split("-")
                assert m["Attributes"]["MessageGroupId"] == group, m
                got.append((group, int(index), m["MessageId"], m["Attributes"]["SequenceNumber"]))
            delete_sent = time.monotonic()
            resp = sqs_c.delete_message_batch(QueueUrl=url, Entries=entries_of(msgs))
            assert resp.get("Failed", []) == [], resp["Failed"][:3]
            with run.lock:
                batches.append((c, returned, delete_sent, got))
                deleted.extend(msgs[int(ok["Id"])]["MessageId"] for ok in resp["Successful"])

    for p in range(PRODUCERS):
        run.thread(producer, p)
    for c in range(CONSUMERS):
        run.thread(consumer, c)
    elapsed = run.run(lambda: len(deleted) >= per_group * GROUPS)
    print(f"fifo: {per_group * GROUPS} messages in {GROUPS} groups in {elapsed:.1f} s")

    assert len(sent) == per_group * GROUPS
    # Per group: the batches, in the order the server handed them out, carry the indexes 0..n-1 in
    # order, each once, with increasing sequence numbers.
    by_group = {}
    for c, returned, delete_sent, got in sorted(batches, key=lambda b: b[1]):
        parts = {}
        for group, index, mid, seq in got:
            parts.setdefault(group, []).append((index, mid, seq))
        for group, part in parts.items():
            by_group.setdefault(group, []).append((c, returned, delete_sent, part))
    assert sorted(by_group) == [f"g{g:02d}" for g in range(GROUPS)]
    for group, group_batches in by_group.items():
        indexes = [index for *_, part in group_batches for index, _, _ in part]
        assert indexes == list(range(per_group)), f"{group} out of order: {first_disorder(indexes)}"
        seqs = [int(seq) for *_, part in group_batches for _, _, seq in part]
        assert all(a < b for a, b in zip(seqs, seqs[1:])), f"{group}: sequence numbers not increasing"
        assert all(sent[mid][1] == seq for *_, part in group_batches for _, mid, seq in part)
        # No overlap: a group's next batch came back only after the previous batch's delete was sent
        # (until then the previous messages were in flight and the group locked).
        for prev, nxt in zip(group_batches, group_batches[1:]):
            assert nxt[1] > prev[2], (
                f"{group}: consumer {nxt[0]} got indexes {nxt[3][0][0]}.. before consumer {prev[0]} "
                f"deleted {prev[3][0][0]}..{prev[3][-1][0]}")
    assert len(deleted) == per_group * GROUPS and set(deleted) == set(sent)
    assert counts(sqs, url) == (0, 0, 0)


def first_disorder(indexes):
    for pos, (a, b) in enumerate(zip(indexes, indexes[1:])):
        if b != a + 1:
            return f"at position {pos + 1}: {a} then {b} (of {len(indexes)})"
    return f"{len(indexes)} indexes, first {indexes[:1]}"


# --- dead-letter queue --------------------------------------------------------------------------

def test_dead_letter_queue_gets_exactly_the_given_back_messages(sqs, endpoint, make_queue):
    dlq = make_queue()
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = make_queue(VisibilityTimeout=VISIBILITY,
                     RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}))
    run = Run()
    sent = {}
    receives = {}            # MessageId -> number of times received from the source queue
    deleted = []
    released = []
    poison_count = len(range(0, MESSAGES, POISON_EVERY))
    clients = [client(endpoint) for _ in range(PRODUCERS + CONSUMERS)]

    def is_poison(body):
        return int(body[2:]) % POISON_EVERY == 0

    def producer(p):
        produce(clients[p], url, [f"m-{i:05d}" for i in range(p, MESSAGES, PRODUCERS)], sent, run.lock)

    def consumer(c):
        sqs_c = clients[PRODUCERS + c]
        while not run.stop.is_set():
            msgs = sqs_c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                         VisibilityTimeout=VISIBILITY).get("Messages", [])
            if not msgs:
                continue
            with run.lock:
                for m in msgs:
                    receives[m["MessageId"]] = receives.get(m["MessageId"], 0) + 1
            good = [m for m in msgs if not is_poison(m["Body"])]
            bad = [m for m in msgs if is_poison(m["Body"])]
            if bad:
                # Given back at once: the next receive that finds it moves it (maxReceiveCount=1).
                resp = sqs_c.change_message_visibility_batch(QueueUrl=url, Entries=[
                    {**e, "VisibilityTimeout": 0} for e in entries_of(bad)])
                assert resp.get("Failed", []) == [], resp["Failed"][:3]
                with run.lock:
                    released.extend(m["MessageId"] for m in bad)
            if good:
                resp = sqs_c.delete_message_batch(QueueUrl=url, Entries=entries_of(good))
                assert resp.get("Failed", []) == [], resp["Failed"][:3]
                with run.lock:
                    deleted.extend(good[int(ok["Id"])]["MessageId"] for ok in resp["Successful"])

    def finished():
        # All good messages deleted and the source queue empty: every poison message has moved.
        if len(deleted) < MESSAGES - poison_count or len(released) < poison_count:
            return False
        return counts(sqs, url) == (0, 0, 0)

    for p in range(PRODUCERS):
        run.thread(producer, p)
    for c in range(CONSUMERS):
        run.thread(consumer, c)
    elapsed = run.run(finished)
    print(f"dead-letter: {MESSAGES} messages, {poison_count} moved, in {elapsed:.1f} s")

    poison = {mid for mid, (body, _) in sent.items() if is_poison(body)}
    assert len(sent) == MESSAGES and len(poison) == poison_count
    # Each message was received once: good ones were deleted, poison ones moved on their next receive.
    assert set(receives) == set(sent)
    assert [mid for mid, n in receives.items() if n != 1] == []
    assert sorted(released) == sorted(poison)
    assert len(deleted) == MESSAGES - poison_count and set(deleted) == set(sent) - poison
    assert counts(sqs, url) == (0, 0, 0)
    # The dead-letter queue holds exactly the poison messages.
    assert counts(sqs, dlq) == (poison_count, 0, 0)
    moved = {}
    while True:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                  VisibilityTimeout=600).get("Messages", [])
        if not got:
            break
        for m in got:
            assert m["MessageId"] not in moved, "a dead-letter message was received twice"
            moved[m["MessageId"]] = m["Body"]
    assert set(moved) == poison
    assert all(moved[mid] == sent[mid][0] for mid in poison)
    assert counts(sqs, dlq) == (0, poison_count, 0)
