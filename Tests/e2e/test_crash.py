"""Crash consistency: kill -9 the server under concurrent writes, restart it on the same data
folder, and check that

- every acknowledged write (PutObject, CompleteMultipartUpload, DeleteObject) survived,
- a write that was in flight at the kill is either fully there or not at all (never torn),
- every listed key reads back without error and the listing matches the objects,
- no temporary files are left behind once the server is up again.

Runs its own server (never the shared session one) on a temporary data folder.
"""
import hashlib
import os
import random
import shutil
import signal
import tempfile
import threading
import time

from botocore.exceptions import ClientError

from helpers import make_client
from server import Server

ROUNDS = 4
SMALL_WORKERS = 4
MULTIPART_WORKERS = 2
MiB = 1024 * 1024
PART = 5 * MiB
BUCKET = "crash-test"


def _client(endpoint):
    return make_client(endpoint, connect_timeout=3, read_timeout=20, max_pool_connections=32)


def _sha(b):
    return hashlib.sha256(b).hexdigest()


STATS = {"put": 0, "delete": 0, "multipart": 0}


class Worker(threading.Thread):
    """Writes on its own keys (prefix per worker), so at most one operation per key is in flight.
    `ledger[key]` is the list of attempted operations: [state, acked] with state = sha256 of the
    written bytes, or None for a delete."""

    def __init__(self, endpoint, tid, kind, rnd_seed, ledger, killing, errors, round_no):
        super().__init__(daemon=True)
        self.s3 = _client(endpoint)
        self.tid, self.kind, self.rnd = tid, kind, random.Random(rnd_seed)
        self.ledger, self.killing, self.errors, self.round_no = ledger, killing, errors, round_no
        self.acked = 0

    def run(self):
        n = 0
        while not self.killing.is_set():
            n += 1
            try:
                if self.kind == "multipart":
                    self._multipart(f"mp/w{self.tid}/r{self.round_no}-{n}")
                else:
                    self._small(n)
            except Exception as e:
                if not self.killing.is_set():
                    self.errors.append(f"worker {self.tid} ({self.kind}) failed before the kill: {e!r}")
                return

    def _existing(self):
        return [k for k, ops in self.ledger.items() if ops and ops[-1][0] is not None]

    def _small(self, n):
        r = self.rnd.random()
        existing = self._existing()
        if r < 0.6 or not existing:
            key, op = f"small/w{self.tid}/r{self.round_no}-{n}", "put"
        elif r < 0.85:
            key, op = self.rnd.choice(existing), "put"
        else:
            key, op = self.rnd.choice(existing), "delete"
        ops = self.ledger.setdefault(key, [])
        if op == "put":
            data = os.urandom(self.rnd.choice([0, 1, 100, 4096, 65536, self.rnd.randint(1, 200_000)]))
            ops.append([_sha(data), False])
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        else:
            ops.append([None, False])
            self.s3.delete_object(Bucket=BUCKET, Key=key)
        ops[-1][1] = True
        STATS[op] += 1
        self.acked += 1

    def _multipart(self, key):
        data = os.urandom(self.rnd.randint(6 * MiB, 12 * MiB))
        ops = self.ledger.setdefault(key, [])
        ops.append([_sha(data), False])
        up = self.s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        parts = []
        for i, off in enumerate(range(0, len(data), PART), start=1):
            etag = self.s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=i,
                                       Body=data[off:off + PART])["ETag"]
            parts.append({"PartNumber": i, "ETag": etag})
        self.s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up, MultipartUpload={"Parts": parts})
        ops[-1][1] = True
        STATS["multipart"] += 1
        self.acked += 1


def _valid_states(ops):
    """States a key may be in after a crash: the result of its last acknowledged operation (or
    absent if none was acknowledged), or the result of any later, unacknowledged one."""
    last_acked = max((i for i, (_, acked) in enumerate(ops) if acked), default=None)
    valid = {ops[last_acked][0]} if last_acked is not None else {None}
    start = 0 if last_acked is None else last_acked + 1
    valid |= {state for state, _ in ops[start:]}
    return valid


def _read_state(s3, key):
    try:
        return _sha(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise


def _listed(s3):
    return [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
            for o in page.get("Contents", [])]


def _leftover_temp_files(data_dir):
    """Files inside any folder named tmp/.tmp/temp under the data folder."""
    found = []
    for dirpath, _, files in os.walk(data_dir):
        parts = os.path.relpath(dirpath, data_dir).split(os.sep)
        if any(p in ("tmp", ".tmp", "temp") for p in parts):
            found += [os.path.join(dirpath, f) for f in files]
    return found


def _assert_no_temp_files(data_dir):
    deadline = time.time() + 2.0
    while True:
        left = _leftover_temp_files(data_dir)
        if not left or time.time() > deadline:
            break
        time.sleep(0.1)
    assert not left, f"temporary files left after restart: {left[:20]}"


def _verify(s3, ledger, context):
    """Check every key of the ledger and the listing; collapse the ledger to the observed states."""
    problems = []
    observed = {}
    for key, ops in sorted(ledger.items()):
        try:
            state = _read_state(s3, key)
        except Exception as e:
            problems.append(f"{key}: read failed: {e!r}")
            continue
        valid = _valid_states(ops)
        if state not in valid:
            kind = "missing" if state is None else ("resurrected" if valid == {None} else "wrong content")
            problems.append(f"{key}: {kind}; ops={[(s and s[:8], a) for s, a in ops]} got={state and state[:8]}")
        observed[key] = state
    listed = _listed(s3)
    assert len(listed) == len(set(listed)), "duplicate keys in the listing"
    unknown = set(listed) - set(ledger)
    if unknown:
        problems.append(f"listed keys never written: {sorted(unknown)[:10]}")
    for key in unknown:
        try:
            s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        except Exception as e:
            problems.append(f"listed key {key} does not read: {e!r}")
    present = {k for k, st in observed.items() if st is not None}
    missing_from_list = present - set(listed)
    if missing_from_list:
        problems.append(f"objects readable but not listed: {sorted(missing_from_list)[:10]}")
    ghost = (set(listed) & set(observed)) - present
    if ghost:
        problems.append(f"listed but not readable: {sorted(ghost)[:10]}")
    assert not problems, f"{context}:\n" + "\n".join(problems[:40])
    for key in list(ledger):
        if observed.get(key) is None:
            del ledger[key]  # absent now; a later reappearance shows up as a listed unknown key
        else:
            ledger[key] = [[observed[key], True]]


def _abort_leftover_uploads(s3):
    for up in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
        try:
            s3.abort_multipart_upload(Bucket=BUCKET, Key=up["Key"], UploadId=up["UploadId"])
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NoSuchUpload", e.response


def test_kill9_under_concurrent_writes():
    t_start = time.time()
    root = tempfile.mkdtemp(prefix="cloudless-crash-")
    data_dir = os.path.join(root, "data")
    os.makedirs(data_dir)
    seed = random.randrange(1 << 30)
    rnd = random.Random(seed)
    ledger = {}
    total_acked = 0
    srv = Server(data_dir=data_dir).start()
    passed = False
    try:
        _client(srv.endpoint).create_bucket(Bucket=BUCKET)
        # One acknowledged multipart object before any crash, so every round re-checks one.
        seed_worker = Worker(srv.endpoint, 99, "multipart", seed, {}, threading.Event(), [], 0)
        seed_worker._multipart("mp/seed")
        ledger.update(seed_worker.ledger)
        for round_no in range(1, ROUNDS + 1):
            killing = threading.Event()
            errors = []
            workers = []
            for i in range(SMALL_WORKERS + MULTIPART_WORKERS):
                kind = "multipart" if i >= SMALL_WORKERS else "small"
                mine = {k: v for k, v in ledger.items() if k.startswith((f"small/w{i}/", f"mp/w{i}/"))}
                workers.append(Worker(srv.endpoint, i, kind, rnd.randrange(1 << 30), mine, killing, errors, round_no))
            for w in workers:
                w.start()
            delay = rnd.uniform(0.3, 2.0)
            time.sleep(delay)
            killing.set()
            srv.kill9()
            assert srv.proc.returncode == -signal.SIGKILL
            for w in workers:
                w.join(30)
                assert not w.is_alive(), "a client thread hung after the kill"
            assert not errors, "\n".join(errors)
            for w in workers:
                ledger.update(w.ledger)
                total_acked += w.acked

            srv = Server(data_dir=data_dir).start()
            _assert_no_temp_files(data_dir)
            s3 = _client(srv.endpoint)
            s3.head_bucket(Bucket=BUCKET)
            _verify(s3, ledger, f"round {round_no} (seed {seed}, killed after {delay:.2f}s)")
            _abort_leftover_uploads(s3)

        # A clean stop and start keeps everything too.
        assert srv.stop() == 0
        srv = Server(data_dir=data_dir).start()
        _assert_no_temp_files(data_dir)
        _verify(_client(srv.endpoint), ledger, "after a clean restart")
        print(f"crash test: seed {seed}, acknowledged {STATS}, {len(ledger)} objects at the end")
        assert total_acked >= 10, f"only {total_acked} writes were acknowledged in {ROUNDS} rounds"
        assert time.time() - t_start < 150
        passed = True
    finally:
        srv.stop()
        if passed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"crash test data folder and server logs kept in {root}")
