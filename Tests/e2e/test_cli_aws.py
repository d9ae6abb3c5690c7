"""The AWS CLI, v1 (pip, botocore) and v2 (Debian's awscli 2.x), against the server.

Every test runs once per CLI. Each CLI runs in an isolated environment: static test credentials,
empty config and credentials files, no pager, `--endpoint-url` pointing at the server.
"""
import hashlib
import json
import os
import subprocess
import urllib.request
import uuid

import pytest

from helpers import bucket_keys, file_tree, purge_bucket, read_file, sha256_hex, tool_env, write_file


V2_PATH = "/usr/bin/aws"


def _v1_path():
    """The pip-installed v1 CLI: the first `aws` on PATH that is not Debian's v2."""
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "aws")
        if os.path.isfile(p) and os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath(V2_PATH):
            return p
    raise AssertionError("aws CLI v1 not found on PATH")


CLIS = {"v1": _v1_path, "v2": lambda: V2_PATH}
_checked_versions = set()


@pytest.fixture(params=["v1", "v2"])
def aws(request, endpoint, tmp_path):
    """A function running the selected AWS CLI: aws(*args, check=True, access_key="test")."""
    path = CLIS[request.param]()
    cfg = tmp_path / "aws-config"
    creds = tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    if request.param not in _checked_versions:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=120)
        out = version.stdout + version.stderr
        assert out.startswith(f"aws-cli/{request.param[1]}."), out
        _checked_versions.add(request.param)

    def run(*args, check=True, access_key="test", secret_key="test", input=None):
        env = tool_env(
            "AWS_",
            AWS_ACCESS_KEY_ID=access_key,
            AWS_SECRET_ACCESS_KEY=secret_key,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=str(cfg),
            AWS_SHARED_CREDENTIALS_FILE=str(creds),
            AWS_PAGER="",
            AWS_EC2_METADATA_DISABLED="true",
            AWS_MAX_ATTEMPTS="1",
        )
        cmd = [path, "--endpoint-url", endpoint, "--output", "json", *[str(a) for a in args]]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, input=input)
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)}\nrc={p.returncode}\nstdout={p.stdout}\nstderr={p.stderr}"
        return p

    run.version = request.param
    return run


@pytest.fixture
def bucket_name(s3, aws):
    """A unique bucket name; whatever the test left behind is removed afterwards."""
    name = f"cli-{aws.version}-{uuid.uuid4().hex[:16]}"
    yield name
    purge_bucket(s3, name)


def _ls_keys(stdout):
    """Keys from `aws s3 ls --recursive` lines: `2026-01-01 00:00:00       1234 some/key`."""
    keys = set()
    for line in stdout.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4:
            keys.add(parts[3])
    return keys


# ---------------------------------------------------------------- aws s3 (high level)
# Setup and most checks go through boto3: every CLI start costs about a second.


def test_mb_ls_rb(aws, bucket_name, s3):
    p = aws("s3", "mb", f"s3://{bucket_name}")
    assert f"make_bucket: {bucket_name}" in p.stdout
    listing = aws("s3", "ls").stdout
    assert bucket_name in [line.split()[-1] for line in listing.splitlines() if line.strip()]
    p = aws("s3", "rb", f"s3://{bucket_name}")
    assert f"remove_bucket: {bucket_name}" in p.stdout
    assert bucket_name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    p = aws("s3", "ls", f"s3://{bucket_name}", check=False)
    assert p.returncode != 0
    assert "NoSuchBucket" in p.stderr


def test_cp_small_and_multipart_roundtrip(aws, bucket_name, tmp_path, s3):
    s3.create_bucket(Bucket=bucket_name)
    small = os.urandom(1234)
    big = os.urandom(9 * 1024 * 1024 + 12345)  # > 8 MiB: the CLI uploads it in 2 parts
    src_small = write_file(str(tmp_path / "up" / "small.bin"), small)
    src_big = write_file(str(tmp_path / "up" / "big.bin"), big)
    aws("s3", "cp", src_small, f"s3://{bucket_name}/dir/small.bin")
    aws("s3", "cp", src_big, f"s3://{bucket_name}/dir/big.bin")

    # The big upload was multipart: its ETag is `"<md5 of the part md5s>-2"` as on AWS.
    head = s3.head_object(Bucket=bucket_name, Key="dir/big.bin")
    assert head["ContentLength"] == len(big)
    assert head["ETag"].strip('"').endswith("-2"), head["ETag"]
    head = s3.head_object(Bucket=bucket_name, Key="dir/small.bin")
    assert head["ETag"].strip('"') == hashlib.md5(small).hexdigest()

    # Download both (the big one with the CLI's ranged GETs) and compare bytes.
    dst_small = str(tmp_path / "down" / "small.bin")
    dst_big = str(tmp_path / "down" / "big.bin")
    aws("s3", "cp", f"s3://{bucket_name}/dir/small.bin", dst_small)
    aws("s3", "cp", f"s3://{bucket_name}/dir/big.bin", dst_big)
    assert read_file(dst_small) == small
    assert read_file(dst_big) == big

    # Streaming from stdin and to stdout (`-`).
    aws("s3", "cp", "-", f"s3://{bucket_name}/dir/stdin.txt", input="from stdin\n")
    assert aws("s3", "cp", f"s3://{bucket_name}/dir/stdin.txt", "-").stdout == "from stdin\n"

    # S3 -> S3 copy of the multipart object (the CLI uses CopyObject / UploadPartCopy).
    aws("s3", "cp", f"s3://{bucket_name}/dir/big.bin", f"s3://{bucket_name}/copy/big.bin")
    got = s3.get_object(Bucket=bucket_name, Key="copy/big.bin")["Body"].read()
    assert sha256_hex(got) == sha256_hex(big)

    # Missing key: non-zero exit with a 404.
    p = aws("s3", "cp", f"s3://{bucket_name}/nope", str(tmp_path / "nope"), check=False)
    assert p.returncode != 0
    assert "404" in p.stderr or "Not Found" in p.stderr or "NoSuchKey" in p.stderr


def test_cp_recursive_and_ls_recursive(aws, bucket_name, tmp_path, s3):
    s3.create_bucket(Bucket=bucket_name)
    src = tmp_path / "src"
    files = {
        "a.txt": b"alpha\n",
        "b/b.txt": b"beta\n",
        "b/c/c.bin": os.urandom(70000),
        "b/c/d/empty": b"",
        "space name.txt": b"with a space",
        "unicode-\u00e9\u00e8.txt": "\u00fcnic\u00f8de".encode(),
        "plus+sign=eq&amp.txt": b"special characters",
    }
    for rel, data in files.items():
        write_file(str(src / rel), data)
    aws("s3", "cp", "--recursive", str(src), f"s3://{bucket_name}/tree/")
    assert bucket_keys(s3, bucket_name) == {f"tree/{k}" for k in files}

    p = aws("s3", "ls", "--recursive", f"s3://{bucket_name}")
    assert _ls_keys(p.stdout) == {f"tree/{k}" for k in files}

    # Non-recursive ls shows common prefixes as `PRE name/`.
    p = aws("s3", "ls", f"s3://{bucket_name}/tree/")
    lines = [line.strip() for line in p.stdout.splitlines()]
    assert "PRE b/" in lines
    assert any(line.endswith(" a.txt") for line in lines)
    assert not any("c.bin" in line for line in lines)

    # Download the whole tree and compare.
    dst = tmp_path / "dst"
    aws("s3", "cp", "--recursive", f"s3://{bucket_name}/tree", str(dst))
    assert file_tree(str(dst)) == {k: sha256_hex(v) for k, v in files.items()}


def test_sync_delete(aws, bucket_name, tmp_path, s3):
    s3.create_bucket(Bucket=bucket_name)
    src = tmp_path / "src"
    write_file(str(src / "keep.txt"), b"keep")
    write_file(str(src / "gone.txt"), b"to be deleted")
    write_file(str(src / "sub/change.txt"), b"v1")
    aws("s3", "sync", str(src), f"s3://{bucket_name}/s")
    assert bucket_keys(s3, bucket_name) == {"s/keep.txt", "s/gone.txt", "s/sub/change.txt"}

    # A second sync with nothing changed uploads nothing (sizes and LastModified compare equal).
    p = aws("s3", "sync", str(src), f"s3://{bucket_name}/s")
    assert "upload:" not in p.stdout

    os.remove(src / "gone.txt")
    write_file(str(src / "sub/change.txt"), b"version two, longer")
    write_file(str(src / "new/new.bin"), os.urandom(5000))
    p = aws("s3", "sync", "--delete", str(src), f"s3://{bucket_name}/s")
    assert "delete:" in p.stdout
    assert bucket_keys(s3, bucket_name) == {"s/keep.txt", "s/sub/change.txt", "s/new/new.bin"}
    assert s3.get_object(Bucket=bucket_name, Key="s/sub/change.txt")["Body"].read() == b"version two, longer"

    # Sync down into a folder with a stray file: --delete removes it, the rest matches.
    dst = tmp_path / "dst"
    write_file(str(dst / "stray.txt"), b"stray")
    aws("s3", "sync", "--delete", f"s3://{bucket_name}/s", str(dst))
    assert file_tree(str(dst)) == file_tree(str(src))


def test_rm_and_rb_force(aws, bucket_name, s3):
    s3.create_bucket(Bucket=bucket_name)
    for i in range(5):
        s3.put_object(Bucket=bucket_name, Key=f"p/{i}.txt", Body=f"n{i}".encode())
    s3.put_object(Bucket=bucket_name, Key="q.txt", Body=b"q")
    aws("s3", "rm", f"s3://{bucket_name}/q.txt")
    assert bucket_keys(s3, bucket_name) == {f"p/{i}.txt" for i in range(5)}
    # A non-empty bucket cannot be removed without --force: BucketNotEmpty.
    p = aws("s3", "rb", f"s3://{bucket_name}", check=False)
    assert p.returncode != 0
    assert "BucketNotEmpty" in p.stderr
    aws("s3", "rm", "--recursive", f"s3://{bucket_name}/p/")
    assert bucket_keys(s3, bucket_name) == set()
    s3.put_object(Bucket=bucket_name, Key="again.txt", Body=b"x")
    aws("s3", "rb", "--force", f"s3://{bucket_name}")
    assert bucket_name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_presign(aws, bucket_name, s3):
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="presigned.txt", Body=b"presigned body")
    url = aws("s3", "presign", f"s3://{bucket_name}/presigned.txt", "--expires-in", "300").stdout.strip()
    assert "X-Amz-Signature=" in url or "Signature=" in url
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        assert r.read() == b"presigned body"


# ---------------------------------------------------------------- aws s3api (low level)


def test_s3api_object_lifecycle(aws, bucket_name, tmp_path, s3):
    out = json.loads(aws("s3api", "create-bucket", "--bucket", bucket_name).stdout)
    assert out["Location"] == f"/{bucket_name}"  # us-east-1 answers the path form

    body = write_file(str(tmp_path / "body.json"), b'{"hello": "world"}')
    out = json.loads(aws("s3api", "put-object", "--bucket", bucket_name, "--key", "docs/a.json",
                         "--body", body, "--content-type", "application/json",
                         "--metadata", "owner=e2e,purpose=testing").stdout)
    assert out["ETag"].strip('"') == hashlib.md5(read_file(body)).hexdigest()

    head = json.loads(aws("s3api", "head-object", "--bucket", bucket_name, "--key", "docs/a.json").stdout)
    assert head["ContentLength"] == len(read_file(body))
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"owner": "e2e", "purpose": "testing"}
    assert head["ETag"] == out["ETag"]

    outfile = str(tmp_path / "got.json")
    got = json.loads(aws("s3api", "get-object", "--bucket", bucket_name, "--key", "docs/a.json", outfile).stdout)
    assert read_file(outfile) == read_file(body)
    assert got["ContentType"] == "application/json"
    assert got["Metadata"] == {"owner": "e2e", "purpose": "testing"}

    out = json.loads(aws("s3api", "copy-object", "--bucket", bucket_name, "--key", "docs/b.json",
                         "--copy-source", f"{bucket_name}/docs/a.json").stdout)
    assert out["CopyObjectResult"]["ETag"] == head["ETag"]
    head_b = s3.head_object(Bucket=bucket_name, Key="docs/b.json")
    assert head_b["Metadata"] == {"owner": "e2e", "purpose": "testing"}  # COPY directive keeps metadata
    assert head_b["ContentType"] == "application/json"

    s3.put_object(Bucket=bucket_name, Key="other.txt", Body=b"other")
    listing = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket_name, "--delimiter", "/").stdout)
    assert [p["Prefix"] for p in listing["CommonPrefixes"]] == ["docs/"]
    assert [o["Key"] for o in listing["Contents"]] == ["other.txt"]
    assert [o["Size"] for o in listing["Contents"]] == [5]

    aws("s3api", "put-object-tagging", "--bucket", bucket_name, "--key", "docs/a.json",
        "--tagging", json.dumps({"TagSet": [{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "e2e"}]}))
    tags = json.loads(aws("s3api", "get-object-tagging", "--bucket", bucket_name, "--key", "docs/a.json").stdout)
    assert sorted((t["Key"], t["Value"]) for t in tags["TagSet"]) == [("env", "test"), ("team", "e2e")]

    aws("s3api", "delete-object", "--bucket", bucket_name, "--key", "docs/a.json")
    p = aws("s3api", "get-object", "--bucket", bucket_name, "--key", "docs/a.json", outfile, check=False)
    assert p.returncode != 0
    assert "NoSuchKey" in p.stderr
    assert bucket_keys(s3, bucket_name) == {"docs/b.json", "other.txt"}


# ---------------------------------------------------------------- aws sts


def test_sts_get_caller_identity(aws):
    out = json.loads(aws("sts", "get-caller-identity").stdout)
    assert out["Account"] == "000000000000"
    assert out["Arn"] == "arn:aws:iam::000000000000:root"
    assert out["UserId"]
    # An access key that is a 12-digit number selects that account.
    out = json.loads(aws("sts", "get-caller-identity", access_key="123456789012").stdout)
    assert out["Account"] == "123456789012"
    assert out["Arn"] == "arn:aws:iam::123456789012:root"


# ---------------------------------------------------------------- aws sqs
# v1 speaks SQS's JSON protocol, v2 (2.9, Debian) the Query protocol: the same commands must work with both.


def test_sqs_queue_and_message_commands(aws):
    name = f"cli-{aws.version}-{uuid.uuid4().hex[:12]}"

    def run(*args):
        out = aws("sqs", *args).stdout
        return json.loads(out) if out.strip() else {}

    url = run("create-queue", "--queue-name", name, "--attributes", "VisibilityTimeout=40,DelaySeconds=0",
              "--tags", "team=core")["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")
    assert run("get-queue-url", "--queue-name", name)["QueueUrl"] == url
    assert url in run("list-queues", "--queue-name-prefix", name)["QueueUrls"]
    run("set-queue-attributes", "--queue-url", url, "--attributes", "MaximumMessageSize=2048")
    attrs = run("get-queue-attributes", "--queue-url", url, "--attribute-names", "All")["Attributes"]
    assert attrs["VisibilityTimeout"] == "40" and attrs["MaximumMessageSize"] == "2048"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    run("tag-queue", "--queue-url", url, "--tags", "env=test")
    assert run("list-queue-tags", "--queue-url", url)["Tags"] == {"team": "core", "env": "test"}
    run("untag-queue", "--queue-url", url, "--tag-keys", "team")
    assert run("list-queue-tags", "--queue-url", url)["Tags"] == {"env": "test"}

    sent = run("send-message", "--queue-url", url, "--message-body", "hello & <world>",
               "--message-attributes", json.dumps({"color": {"DataType": "String", "StringValue": "red"}}))
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hello & <world>").hexdigest()
    batch = run("send-message-batch", "--queue-url", url, "--entries",
                json.dumps([{"Id": "a", "MessageBody": "one"}, {"Id": "b", "MessageBody": "two"}]))
    assert sorted(e["Id"] for e in batch["Successful"]) == ["a", "b"]
    got = run("receive-message", "--queue-url", url, "--max-number-of-messages", "10", "--wait-time-seconds", "1",
              "--attribute-names", "All", "--message-attribute-names", "All")["Messages"]
    by_body = {m["Body"]: m for m in got}
    assert set(by_body) == {"hello & <world>", "one", "two"}
    assert by_body["hello & <world>"]["MessageAttributes"]["color"]["StringValue"] == "red"
    assert by_body["one"]["Attributes"]["ApproximateReceiveCount"] == "1"
    run("change-message-visibility", "--queue-url", url, "--receipt-handle", by_body["one"]["ReceiptHandle"],
        "--visibility-timeout", "0")
    run("delete-message", "--queue-url", url, "--receipt-handle", by_body["hello & <world>"]["ReceiptHandle"])
    deleted = run("delete-message-batch", "--queue-url", url, "--entries",
                  json.dumps([{"Id": "x", "ReceiptHandle": by_body["two"]["ReceiptHandle"]}]))
    assert [e["Id"] for e in deleted["Successful"]] == ["x"]
    again = run("receive-message", "--queue-url", url, "--wait-time-seconds", "1")["Messages"]
    assert [m["Body"] for m in again] == ["one"]
    run("purge-queue", "--queue-url", url)
    counts = run("get-queue-attributes", "--queue-url", url, "--attribute-names", "ApproximateNumberOfMessages",
                 "ApproximateNumberOfMessagesNotVisible")["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    run("add-permission", "--queue-url", url, "--label", "share", "--aws-account-ids", "111111111111",
        "--actions", "SendMessage")
    policy = json.loads(run("get-queue-attributes", "--queue-url", url, "--attribute-names", "Policy")["Attributes"]["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["share"]
    run("remove-permission", "--queue-url", url, "--label", "share")
    run("delete-queue", "--queue-url", url)
    missing = aws("sqs", "get-queue-url", "--queue-name", name, check=False)
    assert missing.returncode != 0
    assert "AWS.SimpleQueueService.NonExistentQueue" in missing.stderr


def test_sqs_fifo_and_dead_letter_commands(aws):
    name = f"cli-{aws.version}-{uuid.uuid4().hex[:12]}"

    def run(*args):
        out = aws("sqs", *args).stdout
        return json.loads(out) if out.strip() else {}

    dlq = run("create-queue", "--queue-name", name + "-dlq.fifo", "--attributes",
              "FifoQueue=true,ContentBasedDeduplication=true")["QueueUrl"]
    dlq_arn = run("get-queue-attributes", "--queue-url", dlq, "--attribute-names", "QueueArn")["Attributes"]["QueueArn"]
    src = run("create-queue", "--queue-name", name + ".fifo", "--attributes", json.dumps({
        "FifoQueue": "true", "ContentBasedDeduplication": "true",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})}))["QueueUrl"]
    first = run("send-message", "--queue-url", src, "--message-body", "a", "--message-group-id", "g")
    dup = run("send-message", "--queue-url", src, "--message-body", "a", "--message-group-id", "g")
    assert dup["MessageId"] == first["MessageId"] and dup["SequenceNumber"] == first["SequenceNumber"]
    run("send-message", "--queue-url", src, "--message-body", "b", "--message-group-id", "g")
    got = run("receive-message", "--queue-url", src, "--max-number-of-messages", "10", "--visibility-timeout", "0",
              "--wait-time-seconds", "1", "--attribute-names", "All")["Messages"]
    assert [m["Body"] for m in got] == ["a", "b"]
    assert got[0]["Attributes"]["MessageGroupId"] == "g"
    # The next receive exceeds maxReceiveCount: both move to the dead-letter queue, in order.
    assert run("receive-message", "--queue-url", src, "--wait-time-seconds", "1") == {}
    assert run("list-dead-letter-source-queues", "--queue-url", dlq)["queueUrls"] == [src]
    moved = run("receive-message", "--queue-url", dlq, "--max-number-of-messages", "10", "--wait-time-seconds", "1")
    assert [m["Body"] for m in moved["Messages"]] == ["a", "b"]
    run("delete-queue", "--queue-url", src)
    run("delete-queue", "--queue-url", dlq)


def test_endpoint_from_the_environment_and_the_v1_sqs_exception(endpoint, tmp_path):
    """What the README says of AWS_ENDPOINT_URL: boto3 reaches Cloudless through the variable alone, SQS included; the
    CLI v1 reaches it for S3 but sends SQS in us-east-1 to the legacy AWS host, so `aws sqs` there needs
    --endpoint-url (which works). Debian 12's CLI v2 (2.9) predates the variable (2.13) and ignores it."""
    cfg = tmp_path / "aws-config"
    cfg.write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(cfg), AWS_PAGER="",
                   AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", AWS_ENDPOINT_URL=endpoint)

    def run(*args):
        return subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)

    name = "env-endpoint-" + uuid.uuid4().hex[:8]
    sdk = "import boto3, sys; print(boto3.client('sqs').create_queue(QueueName=sys.argv[1])['QueueUrl'])"
    made = run("python3", "-c", sdk, name)
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip()
    v1 = CLIS["v1"]()
    try:
        assert url.startswith(endpoint) and url.endswith("/" + name), url
        buckets = run(v1, "--output", "json", "s3api", "list-buckets")
        assert buckets.returncode == 0 and "Buckets" in json.loads(buckets.stdout), buckets.stderr
        legacy = run(v1, "--debug", "sqs", "list-queues", "--queue-name-prefix", name, "--cli-connect-timeout", "1",
                     "--cli-read-timeout", "1")
        assert "queue.amazonaws.com" in legacy.stderr
        given = run(v1, "--output", "json", "--endpoint-url", endpoint, "sqs", "list-queues", "--queue-name-prefix", name)
        assert given.returncode == 0 and json.loads(given.stdout)["QueueUrls"] == [url], given.stderr
    finally:
        run(v1, "--endpoint-url", endpoint, "sqs", "delete-queue", "--queue-url", url)
