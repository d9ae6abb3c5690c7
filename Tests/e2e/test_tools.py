"""Third-party S3 tools against the server: s3cmd (SigV4 and SigV2), rclone and restic, on plain and on
versioned buckets.

Each tool runs with an isolated, generated configuration (never the user's) and a timeout.
"""
import hashlib
import json
import os
import subprocess
import uuid
from urllib.parse import urlparse

import pytest

from helpers import bucket_keys, file_tree, purge_bucket, purge_versioned_bucket, read_file, sha256_hex, tool_env, write_file

TIMEOUT = 120


def _run(cmd, env=None, check=True, input=None):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, env=env, timeout=TIMEOUT, input=input)
    if check:
        assert p.returncode == 0, (
            f"{' '.join(map(str, cmd))}\nrc={p.returncode}\nstdout={p.stdout.decode(errors='replace')[-3000:]}"
            f"\nstderr={p.stderr.decode(errors='replace')[-3000:]}")
    return p


@pytest.fixture
def bucket_name(s3):
    name = "tool-" + uuid.uuid4().hex[:20]
    yield name
    purge_bucket(s3, name)


@pytest.fixture
def versioned_bucket(s3):
    """A bucket with versioning Enabled, emptied of every version afterwards."""
    name = "tool-v-" + uuid.uuid4().hex[:18]
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    yield name
    purge_versioned_bucket(s3, name)


def _hostport(endpoint):
    u = urlparse(endpoint)
    return f"{u.hostname}:{u.port}"


def _clean_env(tmp_path):
    # HOME of its own: no ~/.s3cfg, ~/.aws, ~/.config/rclone from the user
    return tool_env("AWS_", "RCLONE_", "RESTIC_", "S3CMD", home=tmp_path / "home")


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
    src = write_file(tmp_path / "up" / "small.bin", small)
    s3cmd("put", src, f"s3://{b}/dir/small.bin")
    assert s3.get_object(Bucket=b, Key="dir/small.bin")["Body"].read() == small

    # 12 MiB with 5 MiB parts: a 3-part multipart upload.
    big = os.urandom(12 * 1024 * 1024 + 77)
    src_big = write_file(tmp_path / "up" / "big.bin", big)
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
    assert read_file(dst) == small
    assert sha256_hex(read_file(dst_big)) == sha256_hex(big)

    # sync up with --delete-removed.
    tree = tmp_path / "tree"
    write_file(tree / "one.txt", b"one")
    write_file(tree / "sub" / "two.txt", b"two")
    write_file(tree / "sub" / "three.txt", b"three")
    s3cmd("sync", f"{tree}/", f"s3://{b}/tree/")
    assert {k for k in bucket_keys(s3, b) if k.startswith("tree/")} == {"tree/one.txt", "tree/sub/two.txt", "tree/sub/three.txt"}
    os.remove(tree / "sub" / "three.txt")
    write_file(tree / "one.txt", b"one, changed")
    s3cmd("sync", "--delete-removed", f"{tree}/", f"s3://{b}/tree/")
    assert {k for k in bucket_keys(s3, b) if k.startswith("tree/")} == {"tree/one.txt", "tree/sub/two.txt"}
    assert s3.get_object(Bucket=b, Key="tree/one.txt")["Body"].read() == b"one, changed"

    # Metadata headers and copy.
    s3cmd("cp", f"s3://{b}/dir/small.bin", f"s3://{b}/copy/small.bin")
    assert s3.get_object(Bucket=b, Key="copy/small.bin")["Body"].read() == small

    # Delete: one key, then everything recursively, then the bucket.
    s3cmd("del", f"s3://{b}/dir/small.bin")
    assert "dir/small.bin" not in bucket_keys(s3, b)
    p = s3cmd("rb", f"s3://{b}", check=False)
    assert p.returncode != 0  # BucketNotEmpty
    s3cmd("del", "--recursive", "--force", f"s3://{b}")
    assert bucket_keys(s3, b) == set()
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
        write_file(src / rel, data)
    rclone("copy", src, f"cl:{b}/data")
    assert bucket_keys(s3, b) == {f"data/{k}" for k in files}

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
    write_file(src / "a.txt", b"alpha, changed")
    os.remove(src / "dir" / "b.bin")
    write_file(src / "new.txt", b"new")
    rclone("sync", src, f"cl:{b}/data")
    assert bucket_keys(s3, b) == {f"data/{k}" for k in file_tree(str(src))}
    rclone("check", src, f"cl:{b}/data")

    # A multipart upload: 12 MiB with 5 MiB chunks. Afterwards rclone HEADs the object with
    # `?versionId=null`, which AWS accepts on unversioned buckets (moto answers 400 there).
    big = os.urandom(12 * 1024 * 1024 + 4321)
    src_big = write_file(tmp_path / "big" / "big.bin", big)
    rclone("copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", src_big, f"cl:{b}/big/big.bin")
    head = s3.head_object(Bucket=b, Key="big/big.bin")
    assert head["ContentLength"] == len(big)
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]
    # rclone stores the whole-file MD5 as metadata for multipart objects, and check uses it.
    rclone("check", os.path.dirname(src_big), f"cl:{b}/big")
    dst = tmp_path / "down"
    rclone("copy", f"cl:{b}/big", dst)
    assert sha256_hex(read_file(dst / "big.bin")) == sha256_hex(big)

    # Download the whole data tree and compare.
    rclone("copy", f"cl:{b}/data", tmp_path / "down-data")
    assert file_tree(str(tmp_path / "down-data")) == file_tree(str(src))

    rclone("delete", f"cl:{b}/data/dir")
    assert not any(k.startswith("data/dir/") for k in bucket_keys(s3, b))
    rclone("purge", f"cl:{b}")
    assert b not in [x["Name"] for x in s3.list_buckets()["Buckets"]]


def test_rclone_versioned_bucket(rclone, versioned_bucket, tmp_path, s3):
    b = versioned_bucket
    src = write_file(tmp_path / "f.txt", b"first version")
    rclone("copyto", src, f"cl:{b}/f.txt")
    write_file(src, b"second, longer version")
    rclone("copyto", src, f"cl:{b}/f.txt")
    assert rclone("cat", f"cl:{b}/f.txt").stdout == b"second, longer version"
    # --s3-versions lists old versions as f-v<time>.txt (from ListObjectVersions) and reads them by that name.
    listed = json.loads(rclone("lsjson", "--s3-versions", f"cl:{b}").stdout)
    names = sorted(x["Name"] for x in listed)
    assert len(names) == 2 and names[1] == "f.txt" and names[0].startswith("f-v") and names[0].endswith(".txt")
    assert rclone("cat", "--s3-versions", f"cl:{b}/{names[0]}").stdout == b"first version"
    # A delete hides the file behind a delete marker; the versions stay until cleanup-hidden removes them.
    rclone("delete", f"cl:{b}")
    assert json.loads(rclone("lsjson", f"cl:{b}").stdout) == []
    assert len(json.loads(rclone("lsjson", "--s3-versions", f"cl:{b}").stdout)) == 2
    assert [m["Key"] for m in s3.list_object_versions(Bucket=b)["DeleteMarkers"]] == ["f.txt"]
    rclone("backend", "cleanup-hidden", f"cl:{b}")
    listing = s3.list_object_versions(Bucket=b)
    assert "Versions" not in listing


# ---------------------------------------------------------------- restic


def test_restic_versioned_bucket(endpoint, versioned_bucket, tmp_path, s3):
    env = _clean_env(tmp_path)
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
               RESTIC_PASSWORD="versioned", RESTIC_CACHE_DIR=str(tmp_path / "restic-cache"))

    def restic(*args):
        return _run(["restic", "-r", f"s3:{endpoint}/{versioned_bucket}", *args], env=env)

    src = tmp_path / "src"
    write_file(src / "a.txt", b"alpha\n" * 100)
    write_file(src / "bin/r.bin", os.urandom(1024 * 1024 + 7))
    restic("init")
    restic("backup", src)
    write_file(src / "a.txt", b"changed\n")
    restic("backup", src)
    restic("forget", "--keep-last", "1", "--prune")
    # restic's deletes became delete markers: the older versions are still in the bucket.
    assert s3.list_object_versions(Bucket=versioned_bucket).get("DeleteMarkers")
    restic("check", "--read-data")
    target = tmp_path / "restore"
    restic("restore", "latest", "--target", target)
    assert file_tree(str(target) + str(src)) == file_tree(str(src))


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
        write_file(src / rel, data)

    restic("init")
    assert "config" in bucket_keys(s3, bucket_name)
    restic("backup", src)
    snaps = json.loads(restic("snapshots", "--json").stdout)
    assert len(snaps) == 1

    # Second backup after a change, then forget + prune the first (exercises deletes and listings).
    write_file(src / "doc.txt", b"changed\n")
    write_file(src / "bin/extra.bin", os.urandom(500_000))
    restic("backup", src)
    restic("forget", "--keep-last", "1", "--prune")
    snaps = json.loads(restic("snapshots", "--json").stdout)
    assert len(snaps) == 1
    restic("check", "--read-data")

    target = tmp_path / "restore"
    restic("restore", "latest", "--target", target)
    restored_root = str(target) + str(src)  # restic restores the absolute source path under target
    assert file_tree(restored_root) == file_tree(str(src))
