"""The Cloudless process itself: health and reset endpoints, request ids, STS identity and
account isolation, the command line and environment, signals, ephemeral mode and persistence.

Tests that need particular options start their own server; the others use the session server.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client as client
from server import Server, binary_path, free_port

OPTIONS = ["--host", "--port", "--data-dir", "--ephemeral", "--account-id", "--region", "--log-level",
           "--strict-auth", "--credentials", "--ecs-images", "--faults", "--init-dir"]
# What `cloudless --help` says it serves, and the internal endpoints `serve --help` documents.
SERVICES = ["S3", "SQS", "Secrets Manager", "Lambda", "ECS", "Application Auto Scaling", "CloudFormation", "SAM", "IAM",
            "STS", "CloudWatch Logs"]
ENDPOINTS = ["/_cloudless/health", "/_localstack/health", "/_cloudless/reset", "/_cloudless/clock",
             "/_cloudless/s3/lifecycle/run", "/_cloudless/website/", "/_cloudless/lambda/code/", "/_cloudless/ecs/metrics",
             "/_cloudless/application-autoscaling/evaluate", "/_cloudless/ecs/metadata/", "/_cloudless/ecs/credentials/",
             "/_cloudless/cloudformation/callback/", "/_cloudless/faults", "/_localstack/init"]


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


def get_json(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    with _opener.open(req, timeout=10) as r:
        return r.status, dict(r.headers), json.loads(r.read() or b"null")


@pytest.fixture
def tmp_root():
    root = tempfile.mkdtemp(prefix="cloudless-platform-")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def own_server(tmp_root):
    """Start extra servers on demand; all are stopped afterwards."""
    started = []

    def start(args=(), env=None, data_dir=None):
        d = data_dir or os.path.join(tmp_root, f"data-{len(started)}")
        os.makedirs(d, exist_ok=True)
        s = Server(data_dir=d, args=args, env=env).start()
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


# ---------------------------------------------------------------- health and reset


def test_cloudless_health(endpoint):
    status, headers, body = get_json(endpoint + "/_cloudless/health")
    assert status == 200
    assert headers.get("Content-Type", "").startswith("application/json")
    assert isinstance(body["version"], str) and body["version"]
    assert isinstance(body["uptime"], (int, float)) and body["uptime"] >= 0
    assert isinstance(body["services"], dict)
    assert "s3" in body["services"] and "sts" in body["services"]


def test_uptime_grows(own_server):
    s = own_server()
    _, _, a = get_json(s.endpoint + "/_cloudless/health")
    time.sleep(1.2)
    _, _, b = get_json(s.endpoint + "/_cloudless/health")
    assert b["uptime"] > a["uptime"]


def test_localstack_compatible_health(endpoint):
    status, _, body = get_json(endpoint + "/_localstack/health")
    assert status == 200
    assert isinstance(body["services"], dict)
    assert "s3" in body["services"] and "sts" in body["services"]
    for name, state in body["services"].items():
        assert state in ("running", "available"), (name, state)


def test_reset_empties_all_state(own_server):
    s = own_server()
    a = client(s.endpoint)
    b = client(s.endpoint, access_key="111111111111")
    a.create_bucket(Bucket="reset-a")
    a.put_object(Bucket="reset-a", Key="k", Body=b"v")
    a.create_multipart_upload(Bucket="reset-a", Key="pending")
    b.create_bucket(Bucket="reset-b")
    status, _, _ = get_json(s.endpoint + "/_cloudless/reset", method="POST")
    assert status == 200
    assert a.list_buckets()["Buckets"] == []
    assert b.list_buckets()["Buckets"] == []
    with pytest.raises(ClientError) as ei:
        a.head_bucket(Bucket="reset-a")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # The names are free again, and the server keeps working normally.
    a.create_bucket(Bucket="reset-a")
    assert a.list_objects_v2(Bucket="reset-a").get("Contents", []) == []
    assert a.list_multipart_uploads(Bucket="reset-a").get("Uploads", []) == []
    # A reset is persistent: a restart does not bring the old state back.
    assert s.stop() == 0
    s2 = own_server(data_dir=s.data_dir)
    assert [x["Name"] for x in client(s2.endpoint).list_buckets()["Buckets"]] == ["reset-a"]
    assert client(s2.endpoint, access_key="111111111111").list_buckets()["Buckets"] == []


# ---------------------------------------------------------------- request ids


def _raw(endpoint, method, path, body=None, headers=None):
    host, port = endpoint.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def test_every_response_has_request_id(endpoint, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    cases = [
        ("GET", "/", None),                                   # ListBuckets (anonymous)
        ("GET", f"/{bucket}?list-type=2", None),              # ListObjectsV2
        ("HEAD", f"/{bucket}/k", None),                       # HeadObject
        ("GET", f"/{bucket}/k", None),                        # GetObject
        ("GET", f"/{bucket}/missing", None),                  # 404 NoSuchKey
        ("HEAD", f"/{bucket}/missing", None),                 # 404 without a body
        ("GET", "/no-such-bucket-" + uuid.uuid4().hex[:8], None),  # 404 NoSuchBucket
        ("PUT", "/Invalid_Bucket", None),                     # 400 InvalidBucketName
        ("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15"),  # STS
        ("POST", "/", "Action=NoSuchAction&Version=2011-06-15"),       # STS error
        ("GET", "/_cloudless/health", None),
        ("GET", "/_localstack/health", None),
    ]
    missing = []
    for method, path, body in cases:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        status, h = _raw(endpoint, method, path, body=body, headers=headers)
        if not h.get("x-amz-request-id"):
            missing.append((method, path, status))
    assert not missing, f"responses without x-amz-request-id: {missing}"
    # boto3 sees it too, on success and on error.
    assert s3.list_buckets()["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as ei:
        s3.get_object(Bucket=bucket, Key="nope")
    assert ei.value.response["ResponseMetadata"]["RequestId"]
    # Ids are unique per request.
    ids = {s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["RequestId"] for _ in range(5)}
    assert len(ids) == 5


# ---------------------------------------------------------------- STS and accounts


def test_sts_caller_identity_default_account(endpoint):
    out = client(endpoint, "sts").get_caller_identity()
    assert out["Account"] == "000000000000"
    assert out["Arn"] == "arn:aws:iam::000000000000:root"
    assert out["UserId"]


def test_sts_caller_identity_account_from_access_key(endpoint):
    out = client(endpoint, "sts", access_key="123456789012").get_caller_identity()
    assert out["Account"] == "123456789012"
    assert out["Arn"] == "arn:aws:iam::123456789012:root"


def test_accounts_isolate_state(endpoint):
    one = client(endpoint, access_key="111111111111")
    two = client(endpoint, access_key="222222222222")
    default = client(endpoint)
    name = "acct-" + uuid.uuid4().hex[:16]
    one.create_bucket(Bucket=name)
    try:
        one.put_object(Bucket=name, Key="secret", Body=b"account one")
        assert name in [b["Name"] for b in one.list_buckets()["Buckets"]]
        assert name not in [b["Name"] for b in two.list_buckets()["Buckets"]]
        assert name not in [b["Name"] for b in default.list_buckets()["Buckets"]]
        # A bucket another account made is not readable as if it were this account's.
        with pytest.raises(ClientError) as ei:
            two.get_object(Bucket=name, Key="secret")
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] in (403, 404)
    finally:
        one.delete_object(Bucket=name, Key="secret")
        one.delete_bucket(Bucket=name)


# ---------------------------------------------------------------- command line and environment


def test_help_mentions_every_option():
    p = subprocess.run([binary_path(), "--help"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    text = p.stdout + p.stderr
    missing = [o for o in OPTIONS + SERVICES if o not in " ".join(text.split())]
    assert not missing, f"--help does not mention {missing}:\n{text}"
    assert "more services to come" not in text
    p = subprocess.run([binary_path(), "serve", "--help"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    missing = [o for o in OPTIONS + ENDPOINTS if o not in "".join((p.stdout + p.stderr).split())]
    assert not missing, f"serve --help does not mention {missing}"


def test_version_names_the_commit(endpoint):
    """`cloudless --version`: the version and the commit it was built from, the same as the health endpoint says
    (test_package.py checks the commit against git for a fresh build)."""
    p = subprocess.run([binary_path(), "--version"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    m = re.fullmatch(r"cloudless (\d+\.\d+\.\d+) \(commit ([0-9a-f]{7,40}(?:-dirty)?|unknown)\)\n", p.stdout)
    assert m, p.stdout
    _, _, health = get_json(endpoint + "/_cloudless/health")
    assert (health["version"], health["commit"]) == (m.group(1), m.group(2))


@pytest.mark.parametrize("args", [["serve", "--port", "not-a-number"], ["serve", "--no-such-option"],
                                  ["serve", "--log-level", "shouting"], ["no-such-command"]])
def test_bad_command_line_fails_fast(args, tmp_root):
    port = free_port()
    p = subprocess.Popen([binary_path(), *args, "--data-dir", tmp_root], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env={**os.environ, "CLOUDLESS_PORT": str(port)})
    try:
        out, _ = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise AssertionError(f"{args} was accepted: the server kept running")
    assert p.returncode != 0
    assert out.strip(), "no message for a bad command line"


def _spawn(args, env_extra, log):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDLESS_")}
    env.update(env_extra)
    return subprocess.Popen([binary_path(), *args], stdout=log, stderr=subprocess.STDOUT, env=env)


def _wait_health(url, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"cloudless exited with {proc.returncode}")
        try:
            with _opener.open(url + "/_cloudless/health", timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.05)
    raise AssertionError("not ready")


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def test_environment_variables_are_honoured(tmp_root):
    port = free_port()
    data_dir = os.path.join(tmp_root, "env-data")
    with open(os.path.join(tmp_root, "env.log"), "ab") as log:
        proc = _spawn(["serve"], {
            "CLOUDLESS_HOST": "127.0.0.1",
            "CLOUDLESS_PORT": str(port),
            "CLOUDLESS_DATA_DIR": data_dir,
            "CLOUDLESS_ACCOUNT_ID": "123456789012",
            "CLOUDLESS_REGION": "eu-west-1",
            "CLOUDLESS_LOG_LEVEL": "debug",
        }, log)
        try:
            ep = f"http://127.0.0.1:{port}"
            _wait_health(ep, proc)
            # CLOUDLESS_ACCOUNT_ID is the account of non-numeric access keys.
            assert client(ep, "sts").get_caller_identity()["Account"] == "123456789012"
            s3 = client(ep)
            s3.create_bucket(Bucket="env-bucket")
            s3.put_object(Bucket="env-bucket", Key="k", Body=b"v")
            # CLOUDLESS_DATA_DIR holds the state.
            assert os.path.isdir(data_dir) and os.listdir(data_dir)
            assert _stop(proc) == 0
        finally:
            _stop(proc)
        # The same state comes back through the command-line form of the options.
        port2 = free_port()
        proc = subprocess.Popen([binary_path(), "serve", "--port", str(port2), "--data-dir", data_dir,
                                 "--account-id", "123456789012", "--region", "eu-west-1", "--log-level", "error"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            ep = f"http://127.0.0.1:{port2}"
            _wait_health(ep, proc)
            assert client(ep).get_object(Bucket="env-bucket", Key="k")["Body"].read() == b"v"
        finally:
            assert _stop(proc) == 0


def test_host_option_binds_only_that_address(tmp_root):
    port = free_port()
    with open(os.path.join(tmp_root, "host.log"), "ab") as log:
        proc = _spawn(["serve"], {"CLOUDLESS_HOST": "127.0.0.2", "CLOUDLESS_PORT": str(port),
                                  "CLOUDLESS_DATA_DIR": os.path.join(tmp_root, "host-data")}, log)
        try:
            _wait_health(f"http://127.0.0.2:{port}", proc)
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
        finally:
            assert _stop(proc) == 0


def test_flag_wins_over_environment(own_server):
    other = free_port()
    s = own_server(env={"CLOUDLESS_PORT": str(other)})  # the harness passes --port
    get_json(s.endpoint + "/_cloudless/health")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", other), timeout=2).close()


def test_strict_auth_from_environment(own_server):
    s = own_server(env={"CLOUDLESS_STRICT_AUTH": "true"})
    with pytest.raises(ClientError) as ei:
        client(s.endpoint, secret="wrong").list_buckets()
    assert ei.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    client(s.endpoint).list_buckets()


# ---------------------------------------------------------------- lifecycle: signals, ephemeral, persistence


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_shuts_down_cleanly(own_server, sig):
    s = own_server()
    s3 = client(s.endpoint)
    s3.create_bucket(Bucket="sig")
    s3.put_object(Bucket="sig", Key="k", Body=b"v")
    # An idle keep-alive connection must not hold the shutdown up.
    host, port = "127.0.0.1", s.port
    idle = http.client.HTTPConnection(host, port, timeout=10)
    idle.request("GET", "/_cloudless/health")
    idle.getresponse().read()
    t0 = time.time()
    s.proc.send_signal(sig)
    rc = s.proc.wait(10)
    elapsed = time.time() - t0
    idle.close()
    assert rc == 0, f"exit code {rc} after {sig!r}"
    assert elapsed < 5, f"took {elapsed:.1f}s to stop"
    # The port is released.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    # And what was written survives.
    s2 = own_server(data_dir=s.data_dir)
    assert client(s2.endpoint).get_object(Bucket="sig", Key="k")["Body"].read() == b"v"


def test_sigterm_during_upload_still_exits_zero(own_server):
    s = own_server()
    s3 = client(s.endpoint)
    s3.create_bucket(Bucket="busy")
    host, port = "127.0.0.1", s.port
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(f"PUT /busy/slow HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 1000000\r\n\r\n".encode()
                 + b"x" * 1000)
    time.sleep(0.2)
    t0 = time.time()
    s.proc.send_signal(signal.SIGTERM)
    rc = s.proc.wait(15)
    sock.close()
    assert rc == 0
    assert time.time() - t0 < 12
    s2 = own_server(data_dir=s.data_dir)
    with pytest.raises(ClientError):
        client(s2.endpoint).head_object(Bucket="busy", Key="slow")  # a half-sent object never appears


def _leftovers(folder):
    return [os.path.join(d, f) for d, dirs, files in os.walk(folder) for f in files + dirs]


def test_ephemeral_leaves_nothing_behind(own_server, tmp_root):
    """With --ephemeral the state lives in a folder that is gone at exit: either the given
    --data-dir is removed, or a private temporary folder (under TMPDIR) is used and removed."""
    data_dir = os.path.join(tmp_root, "ephemeral-data")
    os.makedirs(data_dir)
    tmpdir = os.path.join(tmp_root, "tmpdir")
    os.makedirs(tmpdir)
    s = own_server(args=["--ephemeral"], data_dir=data_dir, env={"TMPDIR": tmpdir})
    s3 = client(s.endpoint)
    s3.create_bucket(Bucket="eph")
    s3.put_object(Bucket="eph", Key="k", Body=b"v" * 100_000)
    s3.create_multipart_upload(Bucket="eph", Key="pending")
    assert s.stop() == 0
    assert not os.path.exists(data_dir) or not _leftovers(data_dir), _leftovers(data_dir)
    assert not _leftovers(tmpdir), _leftovers(tmpdir)
    # A new ephemeral server on the same folder starts empty.
    os.makedirs(data_dir, exist_ok=True)
    s = own_server(args=["--ephemeral"], data_dir=data_dir, env={"TMPDIR": tmpdir})
    assert client(s.endpoint).list_buckets()["Buckets"] == []


def test_ephemeral_without_data_dir(tmp_root):
    tmpdir = os.path.join(tmp_root, "tmpdir")
    os.makedirs(tmpdir)
    port = free_port()
    with open(os.path.join(tmp_root, "eph.log"), "ab") as log:
        proc = _spawn(["serve", "--ephemeral", "--port", str(port)], {"TMPDIR": tmpdir}, log)
        try:
            ep = f"http://127.0.0.1:{port}"
            _wait_health(ep, proc)
            client(ep).create_bucket(Bucket="eph")
            client(ep).put_object(Bucket="eph", Key="k", Body=b"v")
        finally:
            assert _stop(proc) == 0
    assert not _leftovers(tmpdir), _leftovers(tmpdir)
    assert not os.path.exists(os.path.join(os.getcwd(), ".cloudless", "eph")), "wrote to the default ./.cloudless"


def test_ephemeral_from_environment(tmp_root):
    tmpdir = os.path.join(tmp_root, "tmpdir-env")
    os.makedirs(tmpdir)
    port = free_port()
    with open(os.path.join(tmp_root, "eph-env.log"), "ab") as log:
        proc = _spawn(["serve"], {"CLOUDLESS_EPHEMERAL": "1", "CLOUDLESS_PORT": str(port), "TMPDIR": tmpdir}, log)
        try:
            ep = f"http://127.0.0.1:{port}"
            _wait_health(ep, proc)
            client(ep).create_bucket(Bucket="eph")
        finally:
            assert _stop(proc) == 0
    assert not _leftovers(tmpdir), _leftovers(tmpdir)


def test_state_persists_across_restart(own_server):
    s = own_server()
    s3 = client(s.endpoint)
    s3.create_bucket(Bucket="persist")
    s3.put_object(Bucket="persist", Key="dir/obj.txt", Body=b"persisted bytes", ContentType="text/plain",
                  Metadata={"color": "blue"})
    s3.put_object_tagging(Bucket="persist", Key="dir/obj.txt", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    up = s3.create_multipart_upload(Bucket="persist", Key="big")["UploadId"]
    part = os.urandom(5 * 1024 * 1024)
    e1 = s3.upload_part(Bucket="persist", Key="big", UploadId=up, PartNumber=1, Body=part)["ETag"]
    e2 = s3.upload_part(Bucket="persist", Key="big", UploadId=up, PartNumber=2, Body=b"tail")["ETag"]
    s3.complete_multipart_upload(Bucket="persist", Key="big", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    pending = s3.create_multipart_upload(Bucket="persist", Key="pending")["UploadId"]
    s3.upload_part(Bucket="persist", Key="pending", UploadId=pending, PartNumber=1, Body=b"p1")
    acct = client(s.endpoint, access_key="111111111111")
    acct.create_bucket(Bucket="persist-other")
    head = s3.head_object(Bucket="persist", Key="dir/obj.txt")
    assert s.stop() == 0

    s2 = own_server(data_dir=s.data_dir)
    s3 = client(s2.endpoint)
    got = s3.get_object(Bucket="persist", Key="dir/obj.txt")
    assert got["Body"].read() == b"persisted bytes"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"}
    assert got["ETag"] == head["ETag"]
    assert got["LastModified"] == head["LastModified"]
    assert s3.get_object_tagging(Bucket="persist", Key="dir/obj.txt")["TagSet"] == [{"Key": "t", "Value": "1"}]
    big = s3.get_object(Bucket="persist", Key="big")
    assert big["Body"].read() == part + b"tail"
    assert big["ETag"].strip('"').endswith("-2")
    uploads = s3.list_multipart_uploads(Bucket="persist").get("Uploads", [])
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("pending", pending)]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket="persist", Key="pending", UploadId=pending)["Parts"]] == [1]
    assert [b["Name"] for b in client(s2.endpoint, access_key="111111111111").list_buckets()["Buckets"]] == ["persist-other"]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["persist"]


def test_service_not_served_yet_answers_in_its_own_protocol(endpoint):
    """A JSON-protocol request for a service Cloudless does not serve yet gets a JSON error that SDKs can parse,
    not S3's XML."""
    u = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        # Kinesis is not served: the credential scope names it.
        conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "Kinesis_20131202.ListStreams",
                                                        "Content-Type": "application/x-amz-json-1.1",
                                                        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00"})
        r = conn.getresponse()
        body = json.loads(r.read())
    finally:
        conn.close()
    assert r.status == 400
    assert r.getheader("Content-Type", "").startswith("application/x-amz-json")
    assert body["__type"] == "InvalidAction"
    assert "kinesis" in body["message"]
    assert r.getheader("x-amzn-RequestId")
