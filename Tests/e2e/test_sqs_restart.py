"""SQS state that must survive `kill -9`: in-flight messages stay hidden until their visibility timeout ends and then
come back; a FIFO group stays locked while its message is in flight; the 5-minute deduplication window and
ReceiveRequestAttemptId survive; a message move task that was running carries on after the restart. Also: hundreds of
concurrent long polls hold no thread and cost no CPU while they wait, and all wake when messages arrive."""
import json
import os
import shutil
import tempfile
import threading
import time

import requests

from helpers import make_client
from server import Server


def _sqs(endpoint):
    return make_client(endpoint, "sqs", read_timeout=30, max_pool_connections=16)


def test_in_flight_messages_dedup_ids_and_group_locks_survive_kill_9():
    data_dir = tempfile.mkdtemp(prefix="cloudless-sqs-restart-")
    try:
        server = Server(data_dir=data_dir).start()
        sqs = _sqs(server.endpoint)
        std = sqs.create_queue(QueueName="restart-std")["QueueUrl"]
        fifo = sqs.create_queue(QueueName="restart.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        sqs.send_message(QueueUrl=std, MessageBody="in flight")
        sqs.send_message(QueueUrl=std, MessageBody="waiting")
        first = sqs.send_message(QueueUrl=fifo, MessageBody="g1", MessageGroupId="g", MessageDeduplicationId="d1")
        sqs.send_message(QueueUrl=fifo, MessageBody="g2", MessageGroupId="g", MessageDeduplicationId="d2")
        taken = sqs.receive_message(QueueUrl=std, MaxNumberOfMessages=1, VisibilityTimeout=3)["Messages"]
        assert [m["Body"] for m in taken] == ["in flight"]
        locked = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=1, VisibilityTimeout=3,
                                     ReceiveRequestAttemptId="attempt-1")["Messages"]
        assert [m["Body"] for m in locked] == ["g1"]
        server.kill9()

        server = Server(data_dir=data_dir, port=server.port).start()
        sqs = _sqs(server.endpoint)
        # Still in flight: only the other standard message is visible, and the FIFO group stays locked.
        got = sqs.receive_message(QueueUrl=std, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages", [])
        assert [m["Body"] for m in got] == ["waiting"]
        assert sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10).get("Messages", []) == []
        # The same attempt id hands back the same message and receipt handle.
        again = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=1, VisibilityTimeout=3,
                                    ReceiveRequestAttemptId="attempt-1")["Messages"]
        assert [(m["Body"], m["ReceiptHandle"]) for m in again] == [(m["Body"], m["ReceiptHandle"]) for m in locked]
        # The deduplication id is still remembered: the resend is accepted but not stored again.
        dup = sqs.send_message(QueueUrl=fifo, MessageBody="g1 again", MessageGroupId="g", MessageDeduplicationId="d1")
        assert dup["MessageId"] == first["MessageId"]
        assert dup["SequenceNumber"] == first["SequenceNumber"]
        time.sleep(3.5)
        back = sqs.receive_message(QueueUrl=std, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
        assert [m["Body"] for m in back] == ["in flight"]
        assert back[0]["ReceiptHandle"] != taken[0]["ReceiptHandle"]
        order = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
        assert [m["Body"] for m in order] == ["g1", "g2"]
        server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def test_a_running_message_move_task_resumes_after_kill_9():
    data_dir = tempfile.mkdtemp(prefix="cloudless-sqs-move-")
    try:
        server = Server(data_dir=data_dir).start()
        sqs = _sqs(server.endpoint)
        dlq = sqs.create_queue(QueueName="move-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        src = sqs.create_queue(QueueName="move-src", Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
        for i in range(6):
            sqs.send_message(QueueUrl=src, MessageBody=f"m{i}")
        for _ in range(2):
            sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
        assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"]["ApproximateNumberOfMessages"] == "6"
        sqs.start_message_move_task(SourceArn=dlq_arn, MaxNumberOfMessagesPerSecond=2)
        time.sleep(1.2)
        server.kill9()

        server = Server(data_dir=data_dir, port=server.port).start()
        sqs = _sqs(server.endpoint)
        deadline = time.time() + 10
        while time.time() < deadline:
            task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
            if task["Status"] != "RUNNING":
                break
            time.sleep(0.3)
        assert task["Status"] == "COMPLETED"
        assert task["ApproximateNumberOfMessagesMoved"] == 6
        bodies = set()
        while True:
            got = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
            if not got:
                break
            bodies |= {m["Body"] for m in got}
        assert bodies == {f"m{i}" for i in range(6)}
        server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _proc_stat(pid):
    """(CPU seconds used, thread count) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as f:
        threads = next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
    return (int(fields[11]) + int(fields[12])) / ticks, threads


POLLERS = 300


def test_hundreds_of_long_polls_hold_no_thread_and_all_wake():
    server = Server().start()
    try:
        sqs = _sqs(server.endpoint)
        url = sqs.create_queue(QueueName="many-polls")["QueueUrl"]
        _, threads_before = _proc_stat(server.proc.pid)
        results, errors = [], []
        lock = threading.Lock()

        def poll():
            # Unsigned JSON requests: the server parses but does not verify signatures unless --strict-auth.
            try:
                r = requests.post(server.endpoint + "/", timeout=30, headers={
                    "X-Amz-Target": "AmazonSQS.ReceiveMessage", "Content-Type": "application/x-amz-json-1.0"},
                    data=json.dumps({"QueueUrl": url, "WaitTimeSeconds": 15, "MaxNumberOfMessages": 1}))
                r.raise_for_status()
                with lock:
                    results.append((time.monotonic(), [m["Body"] for m in r.json().get("Messages", [])]))
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(e))

        pollers = [threading.Thread(target=poll) for _ in range(POLLERS)]
        for t in pollers:
            t.start()
        time.sleep(2.0)  # every poll is now waiting
        cpu0, threads_waiting = _proc_stat(server.proc.pid)
        time.sleep(2.0)
        cpu1, _ = _proc_stat(server.proc.pid)
        # Waiting polls are continuations, not threads, and nothing spins.
        assert threads_waiting <= threads_before + 4, (threads_before, threads_waiting)
        assert cpu1 - cpu0 < 0.2, f"{cpu1 - cpu0:.3f} s of CPU while {POLLERS} polls waited"
        sent_at = time.monotonic()
        for i in range(0, POLLERS, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(k), "MessageBody": f"m{i + k}"} for k in range(10)])
        for t in pollers:
            t.join(30)
        assert errors == []
        bodies = [b for _, got in results for b in got]
        assert sorted(bodies) == sorted(f"m{i}" for i in range(POLLERS))  # each message to exactly one poll
        assert max(t for t, _ in results) - sent_at < 5.0
    finally:
        server.stop()
