"""No S3 event lost in a crash: writers PUT objects into a bucket whose notifications go to an SQS queue (nine keys in ten)
and to a Lambda function (the other key in ten, whose OnSuccess destination is a second queue), while the server is
killed with SIGKILL at random moments and restarted on the same data folder. Every PUT that got its 200 must have
its event delivered at least once (as AWS promises): to the queue directly, and through the function to its
destination. Events are staged in S3's outbox in the object's transaction and delivered again after a restart."""
import json
import random
import shutil
import tempfile
import threading
import time

from helpers import LAMBDA_ROLE, fixture_zip, host_python_runtime, make_client
from server import Server

PUTS = 1000
WRITERS = 4
KILLS = 10  # then the writers finish undisturbed: the module stays well under a minute
ACCOUNT = "000000000000"


def _client(endpoint, service):
    return make_client(endpoint, service, connect_timeout=2, read_timeout=20, max_pool_connections=16)


def _drain(sqs, url, wanted, decode, deadline):
    """{key: [event records]} read from the queue until every wanted key is seen or the deadline passes."""
    seen = {}
    while time.time() < deadline and not wanted <= set(seen):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=1).get("Messages", [])
        for m in got:
            record = decode(json.loads(m["Body"]))
            seen.setdefault(record["s3"]["object"]["key"], []).append(record)
    return seen


def test_every_acknowledged_put_has_its_event_after_kill_9():
    data_dir = tempfile.mkdtemp(prefix="cloudless-s3-notify-crash-")
    server = Server(data_dir=data_dir).start()
    try:
        endpoint = server.endpoint
        sqs, s3, lam = _client(endpoint, "sqs"), _client(endpoint, "s3"), _client(endpoint, "lambda")
        events_url = sqs.create_queue(QueueName="s3-events")["QueueUrl"]
        done_url = sqs.create_queue(QueueName="fn-done")["QueueUrl"]
        arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:"
        fn = lam.create_function(FunctionName="crash-echo", Runtime=host_python_runtime(), Role=LAMBDA_ROLE,
                                 Handler="handler.echo", Code={"ZipFile": fixture_zip("python")})["FunctionArn"]
        lam.put_function_event_invoke_config(FunctionName="crash-echo",
                                             DestinationConfig={"OnSuccess": {"Destination": arn + "fn-done"}})
        s3.create_bucket(Bucket="crash")
        s3.put_bucket_notification_configuration(Bucket="crash", NotificationConfiguration={
            "QueueConfigurations": [{"Id": "all", "QueueArn": arn + "s3-events", "Events": ["s3:ObjectCreated:*"],
                                     "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "q/"}]}}}],
            "LambdaFunctionConfigurations": [{"Id": "fn", "LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:Put"],
                                              "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "fn/"}]}}}],
        })
        sqs.purge_queue(QueueUrl=events_url)  # the s3:TestEvent

        acked = {}  # key -> ETag of the PUT that got its 200
        lock = threading.Lock()
        finished = threading.Event()
        kills = 0

        def writer(w):
            n = 0
            client = _client(endpoint, "s3")
            while not finished.is_set():
                key = f"{'fn' if n % 10 == 0 else 'q'}/w{w}-{n}"
                n += 1
                try:
                    etag = client.put_object(Bucket="crash", Key=key, Body=key.encode())["ETag"]
                except Exception:
                    time.sleep(0.05)  # the server died mid-request (or is starting): not acknowledged
                    continue
                with lock:
                    acked[key] = etag
                    if len(acked) >= PUTS:
                        finished.set()

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        while not finished.is_set() and kills < KILLS:
            finished.wait(random.uniform(0.2, 0.9))
            if finished.is_set():
                break
            server.kill9()
            kills += 1
            server = Server(data_dir=data_dir, port=server.port).start()
        for t in threads:
            t.join(60)
        assert kills >= 3, f"only {kills} kills: the writers were too fast for the test to mean anything"

        # One more kill with nothing in flight, then the leftovers (if any) are delivered by the restarted server.
        server.kill9()
        server = Server(data_dir=data_dir, port=server.port).start()
        deadline = time.time() + 40
        # Stronger than acknowledged: every object that exists (a PUT whose answer the kill cut off may have committed)
        # has its event, since the event commits with the object.
        stored = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crash") for o in page.get("Contents", [])}
        assert set(acked) <= stored
        to_queue = {k for k in stored if k.startswith("q/")}
        direct = _drain(sqs, events_url, to_queue, lambda doc: doc["Records"][0], deadline)
        missing = sorted(to_queue - set(direct))
        unacked = len(stored - set(acked))
        assert not missing, (f"{len(missing)} of {len(to_queue)} stored objects have no event ({kills} kills, "
                             f"{len([k for k in missing if k in acked])} of them acknowledged): {missing[:10]}")
        for key, records in direct.items():
            assert all(r["eventName"] == "ObjectCreated:Put" and r["s3"]["configurationId"] == "all" for r in records)
            if key in acked:
                assert acked[key].strip('"') in {r["s3"]["object"]["eTag"] for r in records}
        # A re-delivery is the same message as the first delivery: the same bytes under one sequencer. (A key may
        # also have two events of its own: botocore retries a PUT whose connection died after the commit.)
        by_sequencer = {}
        for records in direct.values():
            for r in records:
                by_sequencer.setdefault(r["s3"]["object"]["sequencer"], []).append(json.dumps(r, sort_keys=True))
        assert all(len(set(copies)) == 1 for copies in by_sequencer.values())
        duplicates = sum(len(copies) - 1 for copies in by_sequencer.values())

        through_fn = {k for k in stored if k.startswith("fn/")}
        via = _drain(sqs, done_url, through_fn, lambda doc: doc["requestPayload"]["Records"][0], deadline + 30)
        lost = sorted(through_fn - set(via))
        assert not lost, f"{len(lost)} of {len(through_fn)} stored objects never reached the function's destination: {lost[:10]}"
        with open(server.log_path, "rb") as f:
            print(f"{len(acked)} PUTs acknowledged, {unacked} more stored without an answer, {kills} kills, {duplicates} events delivered twice; "
                  f"re-delivered after restarts: {f.read().count(b'delivered events left from before')} times")
    finally:
        server.kill9()
        shutil.rmtree(data_dir, ignore_errors=True)


def test_a_clean_stop_sends_nothing_twice():
    """SIGTERM: the outbox deletes what it delivered before the process ends, so the next start re-sends nothing."""
    data_dir = tempfile.mkdtemp(prefix="cloudless-s3-notify-stop-")
    server = Server(data_dir=data_dir).start()
    try:
        sqs, s3 = _client(server.endpoint, "sqs"), _client(server.endpoint, "s3")
        url = sqs.create_queue(QueueName="events")["QueueUrl"]
        s3.create_bucket(Bucket="stop")
        s3.put_bucket_notification_configuration(Bucket="stop", NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:events", "Events": ["s3:ObjectCreated:*"]}]})
        sqs.purge_queue(QueueUrl=url)
        keys = {f"k{n}" for n in range(20)}
        for k in keys:
            s3.put_object(Bucket="stop", Key=k, Body=b"x")
        assert server.stop() == 0
        server = Server(data_dir=data_dir, port=server.port).start()
        seen = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=2).get("Messages", [])
            if not got:
                break
            seen += [json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"] for m in got]
        assert sorted(seen) == sorted(keys)
    finally:
        server.kill9()
        shutil.rmtree(data_dir, ignore_errors=True)
