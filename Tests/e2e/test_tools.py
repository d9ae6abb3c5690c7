"""Third-party S3 tools against the server: s3cmd (SigV4 and SigV2), rclone and restic.

Each tool runs with an isolated, generated configuration (never the user's) and a timeout.
"""
import hashlib
import json
import os
import subprocess
import uuid
from urllib.parse import urlparse

import pytest

TIMEOUT = 120


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _write(path, data):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _tree(root):
    out = {}
    for dirpath, _, files in os.walk(root):
        for fn in files:
            full = os.path.join(dirpath, fn)
            out[os.path.relpath(full, root).replace(os.sep, "/")] = _sha(_read(full))
    return out


def _run(cmd, env=None, check=True, input=None):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, env=env, timeout=TIMEOUT, input=input)
    if check:
        assert p.returncode == 0, (
            f"{' '.join(map(str, cmd))}\nrc={p.returncode}\nstdout={p.stdout.decode(errors='replace')[-3000:]}"
            f"\nstderr={p.stderr.decode(errors='replace')[-3000:]}")
    return p


def _keys(s3, bucket):
    return {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])}


def _purge(s3, name):
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass


@pytest.fixture
def bucket_name(s3):
    name = "tool-" + uuid.uuid4().hex[:20]
    yield name
    _purge(s3, name)


def _hostport(endpoint):
    u = urlparse(endpoint)
    return f"{u.hostname}:{u.port}"


def _clean_env(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RCLONE_", "RESTIC_", "S3CMD"))}
    env["HOME"] = str(tmp_path / "home")  # no ~/.s3cfg, ~/.aws, ~/.config/rclone from the user
    os.makedirs(env["HOME"], exist_ok=True)
    return env


# ---------------------------------------------------------------- s3cmd


@pytest.fixture(params=["sigv4", "sigv2"])
def s3cmd(request, endpoint, tmp_path):
    cfg = tmp_path / "s3cfg"
    hp = _hostport(endpoint)
    cfg.write_text(
        "[default]\n"
        "access_key = test\n"
        "secret_key = test\n"
        f"host_base = {hp}\n"
        f"host_bucket = {hp}\n"
        "use_https = False\n"
        "signature_v2 = False\n"
        "bucket_location = us-east-1\n"
        "check_ssl_certificate = False\n"
        "socket_timeout = 60\n"
        "max_retries = 1\n"
    )
    env = _clean_env(tmp_path)
    extra = ["--signature-v2"] if request.param == "sigv2" else []

    def run(*args, check=True):
        return _run(["/usr/bin/s3cmd", "-c", cfg, *extra, *args], env=env, check=check)

    run.mode = request.param
    return run


def test_s3cmd(s3cmd, bucket_name, tmp_path, s3):
    _run_s3cmd_scenario(s3cmd, bucket_name, tmp_path, s3)


def _run_s3cmd_scenario(s3cmd, b, tmp_path, s3):
    s3cmd("mb", f"s3://{b}")
    assert b in [x["Name"] for x in s3.list_buckets()["Buckets"]]
    out = s3cmd("ls").stdout.decode()
    assert f"s3://{b}" in out

    small = os.urandom(3000)
    src = _write(tmp_path / "up" / "small.bin", small)
    s3cmd("put", src, f"s3://{b}/dir/small.bin")
    assert s3.get_object(Bucket=b, Key="dir/small.bin")["Body"].read() == small

    # 12 MiB with 5 MiB parts: a 3-part multipart upload.
    big = os.urandom(12 * 1024 * 1024 + 77)
    src_big = _write(tmp_path / "up" / "big.bin", big)
    s3cmd("put", "--multipart-chunk-size-mb=5", src_big, f"s3://{b}/dir/big.bin")
    head = s3.head_object(Bucket=b, Key="dir/big.bin")
    assert head["ContentLength"] == len(big)
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]

    out = s3cmd("ls", f"s3://{b}/dir/").stdout.decode()
    assert f"s3://{b}/dir/small.bin" in out and f"s3://{b}/dir/big.bin" in out
    out = s3cmd("info", f"s3://{b}/dir/small.bin").stdout.decode()
    assert hashlib.md5(small).hexdigest() in out  # s3cmd prints the ETag as "MD5 sum"

    # Downloads; s3cmd checks the MD5 of single-part objects against the ETag itself.
    dst = str(tmp_path / "down" / "small.bin")
    dst_big = str(tmp_path / "down" / "big.bin")
    os.makedirs(os.path.dirname(dst))
    s3cmd("get", f"s3://{b}/dir/small.bin", dst)
    s3cmd("get", f"s3://{b}/dir/big.bin", dst_big)
    assert _read(dst) == small
    assert _sha(_read(dst_big)) == _sha(big)

    # sync up with --delete-removed.
    tree = tmp_path / "tree"
    _write(tree / "one.txt", b"one")
    _write(tree / "sub" / "two.txt", b"two")
    _write(tree / "sub" / "three.txt", b"three")
    s3cmd("sync", f"{tree}/", f"s3://{b}/tree/")
    assert {k for k in _keys(s3, b) if k.startswith("tree/")} == {"tree/one.txt", "tree/sub/two.txt", "tree/sub/three.txt"}
    os.remove(tree / "sub" / "three.txt")
    _write(tree / "one.txt", b"one, changed")
    s3cmd("sync", "--delete-removed", f"{tree}/", f"s3://{b}/tree/")
    assert {k for k in _keys(s3, b) if k.startswith("tree/")} == {"tree/one.txt", "tree/sub/two.txt"}
    assert s3.get_object(Bucket=b, Key="tree/one.txt")["Body"].read() == b"one, changed"

    # Metadata headers and copy.
    s3cmd("cp", f"s3://{b}/dir/small.bin", f"s3://{b}/copy/small.bin")
    assert s3.get_object(Bucket=b, Key="copy/small.bin")["Body"].read() == small

    # Delete: one key, then everything recursively, then the bucket.
    s3cmd("del", f"s3://{b}/dir/small.bin")
    assert "dir/small.bin" not in _keys(s3, b)
    p = s3cmd("rb", f"s3://{b}", check=False)
    assert p.returncode != 0  # BucketNotEmpty
    s3cmd("del", "--recursive", "--force", f"s3://{b}")
    assert _keys(s3, b) == set()
    s3cmd("rb", f"s3://{b}")
    assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]


# ---------------------------------------------------------------- rclone


@pytest.fixture
def rclone(endpoint, tmp_path):
    env = _clean_env(tmp_path)
    conf = tmp_path / "rclone.conf"
    conf.write_text("")
    env.update(
        RCLONE_CONFIG=str(conf),
        RCLONE_CONFIG_CL_TYPE="s3",
        RCLONE_CONFIG_CL_PROVIDER="Other",
        RCLONE_CONFIG_CL_ENDPOINT=endpoint,
        RCLONE_CONFIG_CL_ACCESS_KEY_ID="test",
        RCLONE_CONFIG_CL_SECRET_ACCESS_KEY="test",
        RCLONE_CONFIG_CL_REGION="us-east-1",
        RCLONE_CONFIG_CL_FORCE_PATH_STYLE="true",
    )

    def run(*args, check=True):
        return _run(["rclone", "--retries", "1", "--low-level-retries", "1", "--contimeout", "10s",
                     "--timeout", "60s", *args], env=env, check=check)

    return run


def test_rclone(rclone, bucket_name, tmp_path, s3):
    b = bucket_name
    rclone("mkdir", f"cl:{b}")
    assert b in [x["Name"] for x in s3.list_buckets()["Buckets"]]

    src = tmp_path / "src"
    files = {
        "a.txt": b"alpha",
        "dir/b.bin": os.urandom(200_000),
        "dir/deeper/c.txt": b"gamma" * 100,
        "with space.txt": b"spaces",
        "unicod\u00e9.txt": b"unicode name",
        "empty.txt": b"",
    }
    for rel, data in files.items():
        _write(src / rel, data)
    rclone("copy", src, f"cl:{b}/data")
    assert _keys(s3, b) == {f"data/{k}" for k in files}

    out = rclone("ls", f"cl:{b}/data").stdout.decode()
    listed = {line.split(None, 1)[1] for line in out.splitlines() if line.strip()}
    assert listed == set(files)
    out = rclone("lsjson", "-R", "--hash", f"cl:{b}/data").stdout.decode()
    entries = {e["Path"]: e for e in json.loads(out) if not e["IsDir"]}
    assert {p: e["Size"] for p, e in entries.items()} == {k: len(v) for k, v in files.items()}
    assert entries["a.txt"]["Hashes"]["md5"] == hashlib.md5(b"alpha").hexdigest()

    assert rclone("cat", f"cl:{b}/data/dir/deeper/c.txt").stdout == b"gamma" * 100
    rclone("check", src, f"cl:{b}/data")  # compares sizes and MD5s (ETags)

    # sync: change one file, delete one, add one; the remote mirrors the source.
    _write(src / "a.txt", b"alpha, changed")
    os.remove(src / "dir" / "b.bin")
    _write(src / "new.txt", b"new")
    rclone("sync", src, f"cl:{b}/data")
    assert _keys(s3, b) == {f"data/{k}" for k in _tree(str(src))}
    rclone("check", src, f"cl:{b}/data")

    # A multipart upload: 12 MiB with 5 MiB chunks. Afterwards rclone HEADs the object with
    # `?versionId=null`, which AWS accepts on unversioned buckets (moto answers 400 there).
    big = os.urandom(12 * 1024 * 1024 + 4321)
    src_big = _write(tmp_path / "big" / "big.bin", big)
    rclone("copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", src_big, f"cl:{b}/big/big.bin")
    head = s3.head_object(Bucket=b, Key="big/big.bin")
    assert head["ContentLength"] == len(big)
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]
    # rclone stores the whole-file MD5 as metadata for multipart objects, and check uses it.
    rclone("check", os.path.dirname(src_big), f"cl:{b}/big")
    dst = tmp_path / "down"
    rclone("copy", f"cl:{b}/big", dst)
    assert _sha(_read(dst / "big.bin")) == _sha(big)

    # Download the whole data tree and compare.
    rclone("copy", f"cl:{b}/data", tmp_path / "down-data")
    assert _tree(str(tmp_path / "down-data")) == _tree(str(src))

    rclone("delete", f"cl:{b}/data/dir")
    assert not any(k.startswith("data/dir/") for k in _keys(s3, b))
    rclone("purge", f"cl:{b}")
    assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]


# ---------------------------------------------------------------- restic


def test_restic(endpoint, bucket_name, tmp_path, s3):
    env = _clean_env(tmp_path)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        RESTIC_PASSWORD="correct horse battery staple",
        RESTIC_CACHE_DIR=str(tmp_path / "restic-cache"),
    )
    repo = f"s3:{endpoint}/{bucket_name}"

    def restic(*args, check=True):
        return _run(["restic", "-r", repo, *args], env=env, check=check)

    src = tmp_path / "src"
    files = {
        "doc.txt": b"hello restic\n" * 50,
        "bin/random.bin": os.urandom(3 * 1024 * 1024 + 11),  # several restic blobs and a pack
        "bin/small.bin": os.urandom(10),
        "deep/a/b/c.txt": b"deep",
        "empty": b"",
    }
    for rel, data in files.items():
        _write(src / rel, data)

    restic("init")
    assert "config" in _keys(s3, bucket_name)
    restic("backup", src)
    snaps = json.loads(restic("snapshots", "--json").stdout)
    assert len(snaps) == 1

    # Second backup after a change, then forget + prune the first (exercises deletes and listings).
    _write(src / "doc.txt", b"changed\n")
    _write(src / "bin/extra.bin", os.urandom(500_000))
    restic("backup", src)
    restic("forget", "--keep-last", "1", "--prune")
    snaps = json.loads(restic("snapshots", "--json").stdout)
    assert len(snaps) == 1
    restic("check", "--read-data")

    target = tmp_path / "restore"
    restic("restore", "latest", "--target", target)
    restored_root = str(target) + str(src)  # restic restores the absolute source path under target
    assert _tree(restored_root) == _tree(str(src))
