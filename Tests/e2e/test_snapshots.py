"""State snapshots: `POST /_cloudless/snapshots/<name>` saves the whole state while the server serves,
`POST …/<name>/restore` brings it back, `cloudless snapshot save|restore|list|delete` drives both from the command
line, `cloudless serve --snapshot NAME` starts from one.

The module runs its own server (a restore replaces every service's state: the shared server's other modules must not
see it). Writers run in threads while saves and restores happen; each writer's writes are numbered, so what a state
holds of them says whether it is one moment of the server (a prefix, or after a restore a contiguous run) or a
mixture."""
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests

from ecs_helpers import NETWORK, uid, wait_for
from helpers import (LAMBDA_ROLE, fixture_zip, host_python_runtime, lambda_client, make_client, pid_alive,
                     read_payload, sm_client)
from server import Server, binary_path

SNAPSHOTS = "/_cloudless/snapshots"


@pytest.fixture(scope="module")
def server():
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def sqs(server):
    return make_client(server.endpoint, "sqs")


@pytest.fixture(scope="module")
def sm(server):
    return sm_client(server.endpoint)


def save(server, name):
    r = requests.post(f"{server.endpoint}{SNAPSHOTS}/{name}", timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def restore(server, name):
    r = requests.post(f"{server.endpoint}{SNAPSHOTS}/{name}/restore", timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def all_keys(s3, bucket):
    return {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])}


def drain(sqs, url):
    """Every message body in the queue (received once each: deleted as read)."""
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return bodies
        for m in got:
            bodies.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


class Writer(threading.Thread):
    """Numbered writes of one kind, one after another, until stopped. `done[i]` is the time write i was answered,
    `began[i]` when it was sent."""

    def __init__(self, write):
        super().__init__(daemon=True)
        self.write = write
        self.began, self.done = [], []
        self.stop_flag = threading.Event()
        self.error = None

    def run(self):
        i = 0
        try:
            while not self.stop_flag.is_set():
                self.began.append(time.monotonic())
                self.write(i)
                self.done.append(time.monotonic())
                i += 1
        except Exception as e:  # reported by the test
            self.error = e

    def finish(self):
        self.stop_flag.set()
        self.join(30)
        assert self.error is None, self.error
        return len(self.done)

    def bounds(self, start, end):
        """(writes surely in a state taken between start and end, writes that may be in it): answered before `start`,
        sent before `end`."""
        surely = sum(1 for t in self.done if t < start)
        maybe = sum(1 for t in self.began if t < end)
        return surely, maybe


def prefix_length(indices):
    """n when `indices` is exactly {0..n-1}, else fails."""
    n = len(indices)
    assert indices == set(range(n)), f"not a prefix: missing {sorted(set(range(max(indices, default=-1) + 1)) - indices)[:10]}"
    return n


def test_save_under_concurrent_writers_restores_exactly_the_saved_moment(server, sqs, sm):
    s3 = make_client(server.endpoint)
    bucket = "snap-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName="snap-" + uuid.uuid4().hex[:12])["QueueUrl"]
    secret = "snap/" + uuid.uuid4().hex[:12]
    sm.create_secret(Name=secret, SecretString="-1")
    # Objects are overwritten (key i % 40): the bytes restored must be those of the last write before the save.
    w_objects = Writer(lambda i: s3.put_object(Bucket=bucket, Key=f"o{i % 40}", Body=f"{i}:" .encode() + os.urandom(64).hex().encode()))
    w_new = Writer(lambda i: s3.put_object(Bucket=bucket, Key=f"n{i}", Body=str(i).encode()))
    w_messages = Writer(lambda i: sqs.send_message(QueueUrl=url, MessageBody=str(i)))
    w_secret = Writer(lambda i: sm.put_secret_value(SecretId=secret, SecretString=str(i)))
    writers = [w_objects, w_new, w_messages, w_secret]
    for w in writers:
        w.start()
    time.sleep(0.6)
    start = time.monotonic()
    saved = save(server, "writers")
    end = time.monotonic()
    time.sleep(0.4)
    for w in writers:
        w.finish()
    # s3, sqs and secretsmanager at least: a database the shared server never used is not in a snapshot (its absence).
    assert saved["name"] == "writers" and saved["databases"] >= 3 and saved["linkedFiles"] >= 2
    # After the save the state moved on; the restore takes it back.
    restore(server, "writers")

    n_new = prefix_length({int(k[1:]) for k in all_keys(s3, bucket) if k.startswith("n")})
    surely, maybe = w_new.bounds(start, end)
    assert surely <= n_new <= maybe
    # The objects' writer: its last write in the snapshot is found from the bytes, and every key holds the last
    # write of it up to that one.
    contents = {}
    for k in [k for k in all_keys(s3, bucket) if k.startswith("o")]:
        contents[k] = s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode()
    last = max(int(v.split(":")[0]) for v in contents.values())
    surely, maybe = w_objects.bounds(start, end)
    assert surely <= last + 1 <= maybe
    assert set(contents) == {f"o{i}" for i in range(min(40, last + 1))}
    for k, v in contents.items():
        i = int(k[1:])
        expected_writer_index = last - ((last - i) % 40)
        assert int(v.split(":")[0]) == expected_writer_index, (k, v, last)
    # Messages: exactly the prefix sent before the save (nothing from after it, nothing lost).
    bodies = drain(sqs, url)
    assert len(bodies) == len(set(bodies))
    n_messages = prefix_length({int(b) for b in bodies})
    surely, maybe = w_messages.bounds(start, end)
    assert surely <= n_messages <= maybe
    # The secret's current value is the last one put before the save, and its versions are the ones made till then.
    value = int(sm.get_secret_value(SecretId=secret)["SecretString"])
    surely, maybe = w_secret.bounds(start, end)
    assert surely <= value + 1 <= maybe
    versions = sm.list_secret_version_ids(SecretId=secret, IncludeDeprecated=True)["Versions"]
    assert len(versions) <= value + 2


def test_restore_while_requests_arrive_leaves_no_mixture(server):
    s3 = make_client(server.endpoint)
    bucket = "mix-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    for i in range(50):
        s3.put_object(Bucket=bucket, Key=f"s{i}", Body=f"saved {i}".encode())
    save(server, "mixture")
    for i in range(50):
        s3.put_object(Bucket=bucket, Key=f"s{i}", Body=f"later {i}".encode())
    # Readers read every object while a writer adds numbered keys; the restore happens in the middle of both.
    failures, seen = [], []
    stop = threading.Event()

    def reader():
        c = make_client(server.endpoint)
        while not stop.is_set():
            try:
                bodies = {c.get_object(Bucket=bucket, Key=f"s{i}")["Body"].read().decode().split()[0] for i in (0, 49)}
                seen.append(bodies)
            except Exception as e:
                failures.append(e)
    readers = [threading.Thread(target=reader, daemon=True) for _ in range(2)]
    w = Writer(lambda i: s3.put_object(Bucket=bucket, Key=f"w{i}", Body=str(i).encode()))
    for t in readers:
        t.start()
    w.start()
    time.sleep(0.5)
    before = time.monotonic()
    restore(server, "mixture")
    after = time.monotonic()
    time.sleep(0.5)
    stop.set()
    for t in readers:
        t.join(30)
    total = w.finish()
    assert failures == []
    assert {"saved"} in seen and {"later"} in seen
    # Every object is the saved one now.
    for i in range(50):
        assert s3.get_object(Bucket=bucket, Key=f"s{i}")["Body"].read() == f"saved {i}".encode()
    # The writer's keys from before the restore are gone, those after it are all there: one contiguous run
    # ending with its last write, which begins at a write sent before the restore was answered.
    present = sorted(int(k[1:]) for k in all_keys(s3, bucket) if k.startswith("w"))
    assert present, "no write after the restore"
    assert present == list(range(present[0], total))
    assert sum(1 for t in w.done if t < before) <= present[0] <= sum(1 for t in w.began if t < after)


def test_restore_of_a_few_hundred_objects_is_fast(server, sqs, sm):
    s3 = make_client(server.endpoint)
    bucket = "fast-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName="fast-" + uuid.uuid4().hex[:12])["QueueUrl"]
    for i in range(300):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=os.urandom(1024))
    for i in range(0, 50, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": str(j)} for j in range(i, i + 10)])
    for i in range(20):
        sm.create_secret(Name=f"fast/{uuid.uuid4().hex[:8]}", SecretString=str(i))
    saved = save(server, "fast")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(0, 300, 2)]})
    for i in range(100):
        s3.put_object(Bucket=bucket, Key=f"extra{i}", Body=b"x")
    times = []
    for _ in range(3):
        started = time.monotonic()
        r = restore(server, "fast")
        times.append((time.monotonic() - started, r["milliseconds"]))
    print(f"\nsave: {saved['milliseconds']} ms; restore (wall s, server ms): {times}")
    assert min(t for t, _ in times) < 0.5, times
    assert all(t < 1.5 for t, _ in times), times
    assert all_keys(s3, bucket) == {f"k{i}" for i in range(300)}
    assert len(drain(sqs, url)) == 50


def test_errors_list_and_delete(server):
    base = server.endpoint + SNAPSHOTS
    r = requests.post(f"{base}/no-such-snapshot/restore")
    assert r.status_code == 404 and r.json()["code"] == "SnapshotNotFound"
    assert requests.delete(f"{base}/no-such-snapshot").status_code == 404
    for bad in ("a%2Fb", "..", "%2E%2E", ".hidden", "a%20b", "a/b", "../b", "x/../b/restore"):
        # http.client sends the path as written (requests would resolve the dots first).
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        c.request("POST", f"{SNAPSHOTS}/{bad}")
        r = c.getresponse()
        body = json.loads(r.read())
        c.close()
        assert r.status == 400 and body["code"] == "InvalidSnapshotName", (bad, body)
    before = time.time()
    save(server, "listed")
    listed = {s["name"]: s for s in requests.get(base).json()["snapshots"]}
    assert "listed" in listed
    assert before - 1 <= listed["listed"]["created"] <= time.time() + 1
    assert listed["listed"]["size"] > 0
    assert requests.delete(f"{base}/listed").json() == {"deleted": "listed"}
    assert "listed" not in {s["name"] for s in requests.get(base).json()["snapshots"]}
    assert requests.post(f"{base}/listed/restore").status_code == 404
    assert not [n for n in os.listdir(os.path.join(server.data_dir, "snapshots")) if n.startswith(".")]


def cli(*args, port=None, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([binary_path(), "snapshot", *args, *(["--port", str(port)] if port else [])],
                          capture_output=True, text=True, timeout=60, env=e)


def test_cli_subcommands(server, sqs):
    url = sqs.create_queue(QueueName="cli-" + uuid.uuid4().hex[:12])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    r = cli("save", "cli-one", port=server.port)
    assert r.returncode == 0 and r.stdout.startswith("saved cli-one:"), r
    sqs.send_message(QueueUrl=url, MessageBody="dropped")
    # CLOUDLESS_PORT names the server when --port does not.
    r = cli("restore", "cli-one", env={"CLOUDLESS_PORT": str(server.port)})
    assert r.returncode == 0 and r.stdout.startswith("restored cli-one in "), r
    assert drain(sqs, url) == ["kept"]
    r = cli("list", port=server.port)
    assert r.returncode == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in r.stdout.splitlines()}
    assert rows["cli-one"][1].endswith("Z") and int(rows["cli-one"][2]) > 0
    r = cli("restore", "missing", port=server.port)
    assert r.returncode != 0 and "SnapshotNotFound" in r.stderr + r.stdout
    r = cli("save", "a/b", port=server.port)
    assert r.returncode != 0 and "InvalidSnapshotName" in r.stderr + r.stdout
    r = cli("delete", "cli-one", port=server.port)
    assert r.returncode == 0 and "deleted cli-one" in r.stdout
    assert "cli-one" not in cli("list", port=server.port).stdout


def test_start_from_snapshot_and_restore_survives_restart():
    s = Server().start()
    try:
        s3 = make_client(s.endpoint)
        s3.create_bucket(Bucket="boot")
        s3.put_object(Bucket="boot", Key="a", Body=b"at save")
        save(s, "boot")
        s3.put_object(Bucket="boot", Key="a", Body=b"after save")
        s3.put_object(Bucket="boot", Key="b", Body=b"after save")
        restore(s, "boot")
        # A restored state is the state: it survives kill -9 and a restart.
        s.kill9()
        s.start()
        assert all_keys(s3, "boot") == {"a"}
        assert s3.get_object(Bucket="boot", Key="a")["Body"].read() == b"at save"
        s3.put_object(Bucket="boot", Key="c", Body=b"later")
        s.stop()
        # --snapshot NAME starts from the snapshot whatever the folder held.
        s.args = ["--snapshot", "boot"]
        s.start()
        assert all_keys(s3, "boot") == {"a"}
        assert s3.get_object(Bucket="boot", Key="a")["Body"].read() == b"at save"
        s.stop()
        s.args = ["--snapshot", "nope"]
        with pytest.raises(RuntimeError):
            s.start(timeout=10)
    finally:
        s.stop()


def test_ecs_and_lambda_state_follows_a_restore(server):
    lam = lambda_client(server.endpoint)
    ecs = make_client(server.endpoint, "ecs")
    kept = uid("snap-fn")
    lam.create_function(FunctionName=kept, Runtime=host_python_runtime(), Role=LAMBDA_ROLE, Handler="handler.echo",
                        Code={"ZipFile": fixture_zip("python")})
    cluster = uid("snap")
    ecs.create_cluster(clusterName=cluster)
    family = uid("snap")
    ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "sleeper", "image": "busybox", "essential": True, "entryPoint": ["sh", "-c", "sleep 300"],
                               "dockerLabels": {"cloudless.run": "process"}}])
    save(server, "compute")
    # After the save: a function (invoked: its instance process runs) and a task whose container is a process.
    later = uid("snap-fn")
    lam.create_function(FunctionName=later, Runtime=host_python_runtime(), Role=LAMBDA_ROLE, Handler="handler.echo",
                        Code={"ZipFile": fixture_zip("python")})
    assert read_payload(lam.invoke(FunctionName=later, Payload=b'{"x": 1}')) == {"x": 1}
    task = ecs.run_task(cluster=cluster, taskDefinition=family, launchType="FARGATE", networkConfiguration=NETWORK)["tasks"][0]
    wait_for(lambda: ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["tasks"][0]["lastStatus"] == "RUNNING")
    pids = processes_under(server.data_dir)
    assert pids, "the function instance and the container should run as processes"
    restore(server, "compute")
    assert wait_for(lambda: not [p for p in pids if pid_alive(p)], timeout=10)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=later)
    assert ecs.list_tasks(cluster=cluster)["taskArns"] == []
    assert ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["failures"][0]["reason"] == "MISSING"
    # What was saved still works.
    assert read_payload(lam.invoke(FunctionName=kept, Payload=b'{"y": 2}')) == {"y": 2}
    lam.delete_function(FunctionName=kept)
    ecs.deregister_task_definition(taskDefinition=f"{family}:1")
    ecs.delete_cluster(cluster=cluster)


def processes_under(data_dir):
    """Pids of processes whose working folder is under the data folder (function instances, ECS containers)."""
    root = os.path.realpath(data_dir)
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd.startswith(root + "/"):
                out.append(int(entry))
    return out


# --- background writers: event pipelines, stack operations, long polls ------------------------------------------

# The function of the pipeline: each S3 notification it is given becomes a marker object `<key>` in the done bucket.
FORWARD = b'''
import json
import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        for r in json.loads(record["body"]).get("Records", []):
            s3.put_object(Bucket=r["s3"]["bucket"]["name"] + "-done", Key=r["s3"]["object"]["key"], Body=b"done")
    return {}
'''


def pipeline_settled(sqs, url):
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                  "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_notifications_and_an_event_source_agree_with_the_objects_after_save_and_restore(server, sqs):
    """Objects put into a bucket notify a queue, whose event source mapping's function marks each object done in a
    second bucket; saves and a restore happen while all of it runs. After the restore and once the pipeline has
    drained, the marked objects are exactly the objects: no object lost its notification, no marker survived its
    object."""
    s3 = make_client(server.endpoint)
    lam = lambda_client(server.endpoint)
    bucket = "pipe-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket + "-done")
    # A short visibility timeout: batches in flight at the save come back soon after the restore.
    url = sqs.create_queue(QueueName=bucket, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    fn = uid("pipe")
    lam.create_function(FunctionName=fn, Runtime=host_python_runtime(), Role=LAMBDA_ROLE, Handler="forward.handler",
                        Code={"ZipFile": fixture_zip("python", {"forward.py": FORWARD})}, Timeout=10)
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=5)["UUID"]

    def put(i):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=str(i).encode())
        time.sleep(0.02)
    w = Writer(put)
    w.start()
    assert wait_for(lambda: all_keys(s3, bucket + "-done"), timeout=15)  # the function runs
    start = time.monotonic()
    save(server, "pipeline")
    end = time.monotonic()
    time.sleep(0.3)
    save(server, "pipeline-later")  # a second save under way of the same work, never restored
    time.sleep(0.3)
    restore(server, "pipeline")
    time.sleep(0.3)
    w.finish()
    objects = all_keys(s3, bucket)
    surely, _ = w.bounds(start, end)
    assert {f"k{i}" for i in range(surely)} <= objects  # what the save surely held came back
    wait_for(lambda: pipeline_settled(sqs, url), timeout=20, step=0.2)
    done = all_keys(s3, bucket + "-done")
    assert done == objects, (sorted(objects - done)[:5], sorted(done - objects)[:5])
    lam.delete_event_source_mapping(UUID=mapping)
    lam.delete_function(FunctionName=fn)


def test_a_long_poll_waiting_during_a_restore_returns_the_restored_message(server, sqs):
    url = sqs.create_queue(QueueName="poll-" + uuid.uuid4().hex[:12])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="saved")
    save(server, "long-poll")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    answer = {}

    def poll():
        c = make_client(server.endpoint, "sqs")
        answer["messages"] = c.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
        answer["at"] = time.monotonic()
    t = threading.Thread(target=poll, daemon=True)
    t.start()
    time.sleep(0.5)
    restore(server, "long-poll")
    restored = time.monotonic()
    t.join(25)
    assert [m["Body"] for m in answer["messages"]] == ["saved"]
    assert answer["at"] - restored < 3  # woken by the restore, not by its 20 s deadline


WAITING_STACK = json.dumps({
    "Resources": {
        "Early": {"Type": "AWS::SQS::Queue"},
        "Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
        # Never signalled: it fails after 3 s and the stack rolls back.
        "Wait": {"Type": "AWS::CloudFormation::WaitCondition", "Properties": {"Handle": {"Ref": "Handle"}, "Timeout": "3"}},
        "Late": {"Type": "AWS::SQS::Queue", "DependsOn": "Wait"},
    }})


def resource_status(cfn, stack, logical):
    try:
        return cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical)["StackResourceDetail"]["ResourceStatus"]
    except cfn.exceptions.ClientError:
        return None  # not started yet


def test_a_stack_operation_running_during_a_restore_writes_nothing_afterwards(server, sqs):
    cfn = make_client(server.endpoint, "cloudformation")
    save(server, "no-stack")
    stack = uid("restored-away")
    # CreateStack answers when its operation ends or after 10 s: the restore comes meanwhile.
    creating = threading.Thread(target=lambda: make_client(server.endpoint, "cloudformation").create_stack(
        StackName=stack, TemplateBody=WAITING_STACK), daemon=True)
    creating.start()
    assert wait_for(lambda: resource_status(cfn, stack, "Early") == "CREATE_COMPLETE", timeout=10)
    assert resource_status(cfn, stack, "Wait") == "CREATE_IN_PROGRESS"
    early = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Early")["StackResourceDetail"]["PhysicalResourceId"]
    restore(server, "no-stack")
    creating.join(15)
    # Past the wait condition's timeout and the rollback it would cause: still no stack, no queue of it.
    time.sleep(3.5)
    with pytest.raises(cfn.exceptions.ClientError) as e:
        cfn.describe_stacks(StackName=stack)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert stack not in [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]]
    assert early not in sqs.list_queues().get("QueueUrls", [])
    assert not [u for u in sqs.list_queues().get("QueueUrls", []) if stack in u]


def test_a_stack_the_snapshot_caught_in_progress_is_rolled_back_after_the_restore(server, sqs):
    cfn = make_client(server.endpoint, "cloudformation")
    stack = uid("caught")
    creating = threading.Thread(target=lambda: make_client(server.endpoint, "cloudformation").create_stack(
        StackName=stack, TemplateBody=WAITING_STACK.replace('"Timeout": "3"', '"Timeout": "60"')), daemon=True)
    creating.start()
    assert wait_for(lambda: resource_status(cfn, stack, "Wait") == "CREATE_IN_PROGRESS", timeout=10)
    save(server, "caught")
    restore(server, "caught")  # the operation running now is stopped; the saved one is recovered
    creating.join(15)
    assert wait_for(lambda: cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE", timeout=10)
    early = [e["PhysicalResourceId"] for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]
             if e["LogicalResourceId"] == "Early" and e["ResourceStatus"] == "DELETE_COMPLETE"]
    assert early and early[0] not in sqs.list_queues().get("QueueUrls", [])  # nothing orphaned


def test_reset_is_exclusive_and_stops_a_waiting_stack_operation(server):
    cfn = make_client(server.endpoint, "cloudformation")
    stack = uid("reset-away")
    creating = threading.Thread(target=lambda: make_client(server.endpoint, "cloudformation").create_stack(
        StackName=stack, TemplateBody=WAITING_STACK.replace('"Timeout": "3"', '"Timeout": "60"')), daemon=True)
    creating.start()
    assert wait_for(lambda: resource_status(cfn, stack, "Wait") == "CREATE_IN_PROGRESS", timeout=10)
    started = time.monotonic()
    r = requests.post(f"{server.endpoint}/_cloudless/reset", timeout=60)
    assert r.status_code == 200 and r.json() == {"reset": True}
    assert time.monotonic() - started < 10  # the operation was stopped, not waited for (60 s)
    creating.join(15)
    time.sleep(1)
    assert cfn.list_stacks()["StackSummaries"] == []
