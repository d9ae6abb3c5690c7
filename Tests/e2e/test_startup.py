"""Start-up and the background scheduler, against the real binary.

A start opens no service database: each is opened (and on a fresh folder created) by its service's first use, and
what an earlier run left to finish (an event source mapping's poller, ECS tasks…) resumes right after the port is
bound, with no request. A fresh data folder is set up without an fsync storm, and what is written right after that
first start still survives kill -9. Periodic work runs on one scheduler that
follows the emulator's clock: moving the clock runs what fell due at once (the log retention sweep, every 10 s of
emulator time, frees expired events' bytes without waiting 10 real seconds).

Runs its own servers (a fresh folder each), so it needs the binary."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest

from helpers import LambdaFunctions, make_client
from server import Server, binary_path, free_port

DAY = 86400


def wait_ready(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, f"exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_cloudless/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("not ready in time")


def sync_calls(trace_file):
    with open(trace_file) as f:
        return [line for line in f if any(f" {name}(" in line or line.startswith(f"{name}(")
                                          for name in ("fsync", "fdatasync", "syncfs", "sync_file_range"))]


def test_a_fresh_folder_is_set_up_without_an_fsync_storm_and_survives_kill_9(tmp_path):
    data_dir = str(tmp_path / "data")
    trace = str(tmp_path / "trace")
    port = free_port()
    # Only the sync calls are traced (seccomp filter): the server runs at nearly full speed.
    proc = subprocess.Popen(
        ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=fsync,fdatasync,syncfs,sync_file_range", "-o", trace,
         binary_path(), "serve", "--port", str(port), "--data-dir", data_dir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        time.sleep(0.3)  # what runs right after the port opens (the orphan sweep) is counted too
        calls = sync_calls(trace)
        # The master key and its check value are written durably (file and folder: 4 syncs); no database costs one.
        assert len(calls) <= 4, "".join(calls)
        assert databases(data_dir) == []  # each is created by its first use
        endpoint = f"http://127.0.0.1:{port}"
        make_client(endpoint, "s3").create_bucket(Bucket="first-start")
        queue = make_client(endpoint, "sqs").create_queue(QueueName="first-start")["QueueUrl"]
        make_client(endpoint, "sqs").send_message(QueueUrl=queue, MessageBody="kept")
        make_client(endpoint, "secretsmanager").create_secret(Name="first-start", SecretString="kept")
        # Nor does a database's creation on first use: written without fsync, like a first start's were.
        assert len(sync_calls(trace)) <= 4, "".join(sync_calls(trace))
    finally:
        children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split() if proc.poll() is None else []
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
        proc.wait(10)

    server = Server(data_dir=data_dir).start()
    try:
        assert [b["Name"] for b in make_client(server.endpoint, "s3").list_buckets()["Buckets"]] == ["first-start"]
        sqs = make_client(server.endpoint, "sqs")
        url = sqs.get_queue_url(QueueName="first-start")["QueueUrl"]
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=url).get("Messages", [])] == ["kept"]
        assert make_client(server.endpoint, "secretsmanager").get_secret_value(SecretId="first-start")["SecretString"] == "kept"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def own_server():
    data_dir = tempfile.mkdtemp(prefix="cloudless-startup-")
    s = Server(data_dir=data_dir).start()
    yield s
    s.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def advance(server, seconds):
    req = urllib.request.Request(server.endpoint + "/_cloudless/clock", method="POST",
                                 data=json.dumps({"advance": seconds}).encode())
    urllib.request.urlopen(req, timeout=10).close()


def test_moving_the_clock_runs_the_retention_sweep_at_once(own_server):
    logs = make_client(own_server.endpoint, "logs")
    logs.create_log_group(logGroupName="swept")
    logs.create_log_stream(logGroupName="swept", logStreamName="s")
    logs.put_log_events(logGroupName="swept", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "expires in a day"}])
    logs.put_retention_policy(logGroupName="swept", retentionInDays=1)
    stored = lambda: logs.describe_log_groups(logGroupNamePrefix="swept")["logGroups"][0]["storedBytes"]
    assert stored() == len("expires in a day")
    advance(own_server, 2 * DAY)
    # The sweep is due every 10 s of emulator time: the move makes it due now, not in 10 real seconds.
    deadline = time.time() + 2
    while stored() != 0:
        assert time.time() < deadline, "the retention sweep did not run when the clock moved"
        time.sleep(0.05)


def test_moving_the_clock_ends_a_recovery_window_at_once(own_server):
    sm = make_client(own_server.endpoint, "secretsmanager")
    sm.create_secret(Name="short-lived", SecretString="x")
    sm.delete_secret(SecretId="short-lived", RecoveryWindowInDays=7)
    advance(own_server, 8 * DAY)
    deadline = time.time() + 2
    while any(s["Name"] == "short-lived" for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]):
        assert time.time() < deadline, "the secret outlived its recovery window"
        time.sleep(0.05)


def databases(data_dir):
    return sorted(f for f in os.listdir(data_dir) if f.endswith(".sqlite"))


def test_every_service_finds_its_own_data_after_kill_9_with_its_database_opened_on_first_use(tmp_path):
    """Each database is opened by its service's first request after the start: each service gets its own, with what
    it committed."""
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    server = Server(data_dir=data_dir).start()
    try:
        e = server.endpoint
        make_client(e, "s3").create_bucket(Bucket="side-by-side")
        make_client(e, "sqs").create_queue(QueueName="side-by-side")
        make_client(e, "secretsmanager").create_secret(Name="side-by-side", SecretString="kept")
        make_client(e, "logs").create_log_group(logGroupName="side-by-side")
        make_client(e, "iam").create_user(UserName="side-by-side")
        make_client(e, "ecs").create_cluster(clusterName="side-by-side")
    finally:
        server.stop(sig=signal.SIGKILL)
    for _ in range(2):  # twice: the second start opens databases the first one reopened
        server = Server(data_dir=data_dir).start()
        try:
            e = server.endpoint
            assert [b["Name"] for b in make_client(e, "s3").list_buckets()["Buckets"]] == ["side-by-side"]
            assert make_client(e, "sqs").list_queues()["QueueUrls"][0].endswith("/side-by-side")
            assert make_client(e, "secretsmanager").get_secret_value(SecretId="side-by-side")["SecretString"] == "kept"
            assert [g["logGroupName"] for g in make_client(e, "logs").describe_log_groups()["logGroups"]] == ["side-by-side"]
            assert [u["UserName"] for u in make_client(e, "iam").list_users()["Users"]] == ["side-by-side"]
            clusters = make_client(e, "ecs").describe_clusters(clusters=["side-by-side"])["clusters"]
            assert [c["status"] for c in clusters] == ["ACTIVE"]
        finally:
            server.stop(sig=signal.SIGKILL)


def test_a_database_that_cannot_be_opened_fails_its_services_requests_with_its_error(tmp_path):
    """The database is opened by the first request, so its failure is that request's: a 500 that says which database
    and why, and the log says it too. The other services serve; once the file is fixed, the next request opens it."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "logs.sqlite").write_bytes(b"this is not an SQLite database, " * 256)
    server = Server(data_dir=str(data_dir)).start()
    try:
        logs = make_client(server.endpoint, "logs")
        with pytest.raises(logs.exceptions.ClientError) as e:
            logs.describe_log_groups()
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert "logs.sqlite" in str(e.value) and "not a database" in str(e.value)
        assert make_client(server.endpoint, "s3").list_buckets()["Buckets"] == []
        (data_dir / "logs.sqlite").unlink()
        assert logs.describe_log_groups()["logGroups"] == []
    finally:
        server.stop()
    assert "cannot open database" in open(server.log_path, errors="replace").read()


@pytest.mark.parametrize("value", ["70000", "shouting"])
def test_the_usual_command_line_and_argument_parsers_forms_fail_alike(tmp_path, value):
    """`serve --opt value` is read without ArgumentParser (QuickServeArguments); `--opt=value` goes through it. A bad
    value gets the same message and exit code either way."""
    option = "--port" if value == "70000" else "--log-level"
    outs = []
    for form in ([option, value], [f"{option}={value}"]):
        p = subprocess.run([binary_path(), "serve", "--data-dir", str(tmp_path), *form], capture_output=True,
                           text=True, timeout=30)
        outs.append((p.returncode, p.stderr))
    assert outs[0] == outs[1]
    assert outs[0][0] == 64 and outs[0][1].startswith("Error: ")


def test_the_usual_command_line_and_argument_parsers_forms_start_alike(tmp_path):
    for form in (["--account-id", "123456789012", "--ephemeral"], ["--account-id=123456789012", "--ephemeral"]):
        server = Server(data_dir=str(tmp_path), args=form).start()
        try:
            assert make_client(server.endpoint, "sts").get_caller_identity()["Account"] == "123456789012"
        finally:
            assert server.stop() == 0


def test_a_fresh_start_creates_no_database_until_its_service_is_used(tmp_path):
    """Nothing a start does without a request opens a database: not the sweeps (Secrets Manager's every second), not
    a reset, not a snapshot. A service's first request creates its database, and only its own."""
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    server = Server(data_dir=data_dir).start()
    try:
        e = server.endpoint
        time.sleep(1.5)  # the 1 s sweeps and what runs once the port is bound have run
        post = lambda path: urllib.request.urlopen(urllib.request.Request(e + path, method="POST", data=b""), timeout=30).close()
        post("/_cloudless/reset")
        post("/_cloudless/snapshots/empty")
        advance(server, 2 * DAY)  # every sweep on the emulator's clock falls due
        time.sleep(0.3)
        assert databases(data_dir) == []
        assert make_client(e, "sts").get_caller_identity()["Account"]  # no database of its own
        assert databases(data_dir) == []
        make_client(e, "s3").list_buckets()
        assert databases(data_dir) == ["s3.sqlite"]
        make_client(e, "sqs").create_queue(QueueName="used")
        assert databases(data_dir) == ["s3.sqlite", "sqs.sqlite"]
        # The snapshot saved before SQS was used had no SQS: restored, the queue is gone (its database empty again).
        post("/_cloudless/snapshots/empty/restore")
        assert make_client(e, "sqs").list_queues().get("QueueUrls", []) == []
    finally:
        server.stop()


def test_an_event_source_mapping_resumes_after_a_restart_with_no_request_to_lambda(tmp_path):
    """Work an earlier run left runs again right after the port is bound: the mapping's poller takes a message sent
    after the restart although nothing asked Lambda for anything (SQS's requests do not open lambda.sqlite)."""
    data_dir = str(tmp_path / "data")
    os.mkdir(data_dir)
    server = Server(data_dir=data_dir).start()
    try:
        fns = LambdaFunctions(server, "lazydb")
        name = fns.create(Timeout=30)["FunctionName"]
        sqs = make_client(server.endpoint, "sqs")
        url = sqs.create_queue(QueueName="resumed", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        fns.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=1)
        server.stop()
        server.start()
        sqs = make_client(server.endpoint, "sqs")
        sqs.send_message(QueueUrl=url, MessageBody="after the restart")
        deadline = time.time() + 60
        while True:
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
                break
            assert time.time() < deadline, f"the mapping's poller did not resume: {attrs}"
            time.sleep(0.2)
        fns.cleanup()
    finally:
        server.stop()
