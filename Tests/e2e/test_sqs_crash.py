"""SQS durability: kill -9 the server while threads send and delete messages, restart it on the same data
folder, and check that every acknowledged send is still there (unless its delete was acknowledged too) and
that no acknowledged delete comes back."""
import random
import shutil
import tempfile
import threading
import time
import urllib.request

from helpers import make_client
from server import Server

ROUNDS = 3
SENDERS = 4


def _client(endpoint):
    return make_client(endpoint, "sqs", connect_timeout=3, read_timeout=20, max_pool_connections=16)


def _drain(sqs, url):
    """Every message left in the queue, by body (visibility long enough that none comes back mid-drain)."""
    seen = {}
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages", [])
        if not got:
            return seen
        for m in got:
            seen[m["Body"]] = seen.get(m["Body"], 0) + 1


def test_acknowledged_sends_and_deletes_survive_kill_9():
    data_dir = tempfile.mkdtemp(prefix="cloudless-sqs-crash-")
    try:
        # A delete in flight at the kill may or may not have happened: only acknowledged ones must stick.
        acked_sends, attempted_deletes, acked_deletes = set(), set(), set()
        lock = threading.Lock()
        server = Server(data_dir=data_dir).start()
        url = _client(server.endpoint).create_queue(QueueName="crash")["QueueUrl"]
        for round_no in range(ROUNDS):
            stop = threading.Event()

            def sender(worker):
                sqs = _client(server.endpoint)
                n = 0
                while not stop.is_set():
                    body = f"r{round_no}-w{worker}-{n}"
                    n += 1
                    try:
                        sqs.send_message(QueueUrl=url, MessageBody=body)
                    except Exception:
                        return  # the server died mid-request: not acknowledged
                    with lock:
                        acked_sends.add(body)

            def deleter():
                sqs = _client(server.endpoint)
                while not stop.is_set():
                    try:
                        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, VisibilityTimeout=600).get("Messages", [])
                        for m in got:
                            with lock:
                                attempted_deletes.add(m["Body"])
                            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                            with lock:
                                acked_deletes.add(m["Body"])
                    except Exception:
                        return

            threads = [threading.Thread(target=sender, args=(w,)) for w in range(SENDERS)]
            threads.append(threading.Thread(target=deleter))
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.4, 1.5))
            server.kill9()
            stop.set()
            for t in threads:
                t.join(30)
            server = Server(data_dir=data_dir, port=server.port).start()
        # Messages the deleter had received but not yet deleted are in flight for 600 s: move the emulator's
        # clock past that so they are visible again (they are not lost, only invisible).
        req = urllib.request.Request(server.endpoint + "/_cloudless/clock", data=b'{"advance": 601}', method="POST")
        urllib.request.urlopen(req, timeout=10).read()
        sqs = _client(server.endpoint)
        left = _drain(sqs, url)
        missing = acked_sends - attempted_deletes - set(left)
        resurrected = acked_deletes & set(left)
        assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {sorted(missing)[:5]}"
        assert not resurrected, f"{len(resurrected)} acknowledged deletes came back, e.g. {sorted(resurrected)[:5]}"
        assert len(acked_sends) > 50, "the load generator did not run"
        server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
