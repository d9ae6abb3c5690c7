#!/usr/bin/env python3
"""Cloudless benchmark: Cloudless vs moto server vs LocalStack, in one run.

    python3 bench/run.py                      # all three servers, full run (~2-3 min)
    python3 bench/run.py --quick              # smoke run with small N
    python3 bench/run.py --only cloudless,moto

Each server is started fresh and measured on its own (one after another, never
concurrently: the machine has 2 cores). Measured per server:

  ready      spawn -> first 200 on its health URL, best of 3 starts
  idle RSS   VmRSS summed over the server's process tree, 1 s after ready
  CPU/op     utime+stime of the server's process tree before/after N boto3 calls, / N
             (median of rounds); boto3 burns ~3 ms of *client* CPU per call, so
             wall time per call says little about the server
  wrk        unsigned GET of a 1 KiB object with wrk: requests/s and server CPU/request

Prints a markdown table (rows = metrics, columns = servers + target) and writes
the full results as JSON to bench/results/<timestamp>.json. See bench/README.md.

To add an operation (e.g. SQS SendMessage), add an Op to OPS (op name -> Op with a
setup and a call function); the harness times it, reads the server's CPU and
puts it in the table. Raw (wrk) loads go in WRK_LOADS.
"""

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
CREDS = dict(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
BUCKET = "cloudless-bench"
KiB = 1024
MiB = 1024 * 1024


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# /proc helpers: the server's process tree, its CPU time and its RSS
# --------------------------------------------------------------------------------------------

def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("ascii", "replace")
    except OSError:
        return None


def _stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = field 3, `state`)."""
    s = _read(f"/proc/{pid}/stat")
    if s is None:
        return None
    return s[s.rindex(")") + 2:].split()


def process_tree(root):
    """root and all its live descendants (by parent pid)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        f = _stat_fields(name)
        if f is None:
            continue
        children.setdefault(int(f[1]), []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if _read(f"/proc/{pid}/stat") is None:
            continue
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


@dataclass
class CpuSnapshot:
    ticks: int        # utime+stime+cutime+cstime over the tree, in clock ticks (complete, 10 ms steps)
    child_ticks: int  # the cutime+cstime part (CPU of reaped children)
    threads: dict     # (pid, tid) -> ns of CPU from /proc/PID/task/TID/schedstat (precise, live threads only)
    nprocs: int


def cpu_snapshot(root):
    ticks, child_ticks, threads = 0, 0, {}
    pids = process_tree(root)
    for pid in pids:
        f = _stat_fields(pid)
        if f is None:
            continue
        # fields 14-17: utime stime cutime cstime -> indexes 11..14 here
        ticks += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        child_ticks += int(f[13]) + int(f[14])
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            s = _read(f"/proc/{pid}/task/{tid}/schedstat")
            if s:
                threads[(pid, tid)] = int(s.split()[0])
    return CpuSnapshot(ticks, child_ticks, threads, len(pids))


def cpu_delta_s(before, after):
    """Server CPU seconds between two snapshots, and which counter was used.

    /proc/PID/stat is complete (it includes exited threads and reaped children) but only
    has 10 ms resolution; per-thread schedstat is in ns but misses threads that exited in
    between. The kernel keeps utime+stime == the threads' summed runtime, each of the two
    floored to a tick, so the coarse delta is within 2 ticks per process of the truth. The
    precise value is used when no thread or child went away and it agrees with the coarse one
    within that rounding; otherwise the coarse one."""
    coarse = (after.ticks - before.ticks) / CLK_TCK
    precise = sum(ns - before.threads.get(k, 0) for k, ns in after.threads.items()) / 1e9
    slack = 2.0 * max(before.nprocs, after.nprocs) / CLK_TCK
    lost = (any(k not in after.threads for k in before.threads)
            or after.child_ticks != before.child_ticks)
    if not lost and abs(precise - coarse) <= slack:
        return precise, "schedstat"
    return coarse, "stat"


def tree_rss_bytes(root):
    total = 0
    for pid in process_tree(root):
        s = _read(f"/proc/{pid}/status")
        if not s:
            continue
        m = re.search(r"^VmRSS:\s+(\d+)\s+kB", s, re.M)
        if m:
            total += int(m.group(1)) * 1024
    return total


# --------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------

class Unavailable(Exception):
    """The server cannot be run here (missing binary / venv, exits at start, never ready)."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, path, timeout=1.0):
    """Status code of a bare GET (raw socket: cheap enough to poll every millisecond), or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      f"Connection: close\r\n\r\n".encode())
            buf = b""
            while b"\r\n" not in buf:
                chunk = s.recv(1024)
                if not chunk:
                    break
                buf += chunk
            m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
            return int(m.group(1)) if m else None
    except OSError:
        return None


@dataclass
class ServerSpec:
    name: str
    health_path: str
    command: Callable      # (port, data_dir) -> argv
    env: dict = field(default_factory=dict)
    check: Callable = None  # () -> None or raise Unavailable
    start_timeout: float = 60.0
    poll_interval: float = 0.001
    note: str = ""


class Server:
    """One running server: a process group started with start_new_session, so stop() can
    signal the whole tree at once."""

    def __init__(self, spec, workdir):
        self.spec = spec
        self.port = free_port()
        self.data_dir = tempfile.mkdtemp(prefix=f"{spec.name}-data-", dir=workdir)
        self.log_path = os.path.join(workdir, f"{spec.name}-{self.port}.log")
        self.proc = None
        self.ready_s = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        env = dict(os.environ)
        env.update(self.spec.env)
        argv = self.spec.command(self.port, self.data_dir)
        logf = open(self.log_path, "ab")
        try:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        finally:
            logf.close()
        deadline = t0 + self.spec.start_timeout
        while True:
            if http_status(self.port, self.spec.health_path) == 200:
                self.ready_s = time.perf_counter() - t0
                return self
            if self.proc.poll() is not None:
                raise Unavailable(f"exited with code {self.proc.returncode} before ready; "
                                  f"log tail:\n{self.log_tail()}")
            if time.perf_counter() > deadline:
                raise Unavailable(f"not ready after {self.spec.start_timeout:.0f} s; "
                                  f"log tail:\n{self.log_tail()}")
            time.sleep(self.spec.poll_interval)

    def log_tail(self, n=15):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join("    " + line for line in lines[-n:])
        except OSError:
            return "    (no log)"

    def stop(self, timeout=15.0):
        """SIGTERM to the process group, then SIGKILL to the group and any stragglers."""
        if self.proc is None:
            return
        pid = self.proc.pid
        tree = process_tree(pid) if self.proc.poll() is None else []
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            if sig == signal.SIGKILL:
                for p in tree:  # descendants that left the group
                    try:
                        os.kill(p, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
            try:
                self.proc.wait(timeout if sig == signal.SIGTERM else 5)
                # the leader is gone; make sure nothing else of the group survives
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                break
            except subprocess.TimeoutExpired:
                continue
        self.proc = None
        shutil.rmtree(self.data_dir, ignore_errors=True)


def default_peers_dir():
    """The peers' start scripts: `../shared/peers` beside the repository, where the project's design notes keep them."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.normpath(os.path.join(repo, "..", "shared", "peers"))


def default_cloudless_bin():
    for kind in ("release", "debug"):
        p = os.path.join(REPO, ".build", kind, "cloudless")
        if os.path.exists(p):
            return p
    return os.path.join(REPO, ".build", "release", "cloudless")


def make_specs(args):
    peers = args.peers_dir

    def need_file(path, hint):
        def check():
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                raise Unavailable(f"{path} not found ({hint})")
        return check

    def check_moto():
        need_file(os.path.join(peers, "start-moto.sh"), "set --peers-dir")()
        py = os.environ.get("MOTO_PYTHON") or shutil.which("python3") or "python3"
        r = subprocess.run([py, "-c", "import moto.server"], capture_output=True)
        if r.returncode != 0:
            raise Unavailable(f"moto is not importable by {py} (pip install 'moto[server]')")

    def check_localstack():
        need_file(os.path.join(peers, "start-localstack.sh"), "set --peers-dir")()
        need_file(args.localstack_python,
                  f"build the venv once: VENV=/tmp/localstack-venv "
                  f"{os.path.join(peers, 'setup-localstack.sh')}, or pass --localstack-python")()

    cl_bin = args.cloudless_bin
    cl_note = "debug build: not representative" if f"{os.sep}debug{os.sep}" in cl_bin else ""
    return {
        "cloudless": ServerSpec(
            name="cloudless", health_path="/_cloudless/health",
            command=lambda port, d: [cl_bin, "serve", "--port", str(port), "--data-dir", d],
            check=need_file(cl_bin, "build it: swift build -c release"),
            start_timeout=30, note=cl_note),
        "moto": ServerSpec(
            name="moto", health_path="/moto-api/",
            command=lambda port, d: [os.path.join(peers, "start-moto.sh"), str(port)],
            check=check_moto, start_timeout=60),
        "localstack": ServerSpec(
            name="localstack", health_path="/_localstack/health",
            command=lambda port, d: [os.path.join(peers, "start-localstack.sh"), str(port), d],
            env={"LOCALSTACK_PYTHON": args.localstack_python},
            check=check_localstack, start_timeout=120),
    }


# --------------------------------------------------------------------------------------------
# Operations (boto3) -- op name -> Op. Add SQS / Secrets Manager etc. here.
# --------------------------------------------------------------------------------------------

class Ctx:
    """What an operation sees: the endpoint, lazily made boto3 clients, and shared state."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self._clients = {}
        self.state = {}

    def client(self, service):
        if service not in self._clients:
            import boto3
            from botocore.config import Config
            cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                         connect_timeout=10, read_timeout=120, max_pool_connections=4)
            self._clients[service] = boto3.client(service, endpoint_url=self.endpoint,
                                                  config=cfg, **CREDS)
        return self._clients[service]

    @property
    def s3(self):
        return self.client("s3")

    def ensure_bucket(self):
        if not self.state.get("bucket"):
            self.s3.create_bucket(Bucket=BUCKET)
            self.state["bucket"] = BUCKET
        return BUCKET


@dataclass
class Op:
    label: str                 # row label in the table
    call: Callable             # (ctx, i) -> None; one operation
    n: int                     # operations measured in a full run
    quick_n: int               # ... in a --quick run
    rounds: int = 3            # n is split into this many rounds; the median round is reported
    warmup: int = 10
    setup: Optional[Callable] = None   # (ctx) -> None, before warm-up
    target_ms: Optional[float] = None  # server CPU per op target (Cloudless goal)


def _setup_1k(ctx):
    ctx.ensure_bucket()
    ctx.state["body_1k"] = os.urandom(KiB)
    ctx.s3.put_object(Bucket=BUCKET, Key="get-1k", Body=ctx.state["body_1k"])


def _put_1k(ctx, i):
    ctx.s3.put_object(Bucket=BUCKET, Key=f"put-1k/{i}", Body=ctx.state["body_1k"])


def _get_1k(ctx, i):
    body = ctx.s3.get_object(Bucket=BUCKET, Key="get-1k")["Body"].read()
    if len(body) != KiB:
        raise RuntimeError(f"GetObject returned {len(body)} bytes, expected {KiB}")


def _setup_64m(ctx):
    ctx.ensure_bucket()
    if "body_64m" not in ctx.state:
        ctx.state["body_64m"] = os.urandom(64 * MiB)


def _put_64m(ctx, i):
    ctx.s3.put_object(Bucket=BUCKET, Key="big-64m", Body=ctx.state["body_64m"])


def _get_64m(ctx, i):
    body = ctx.s3.get_object(Bucket=BUCKET, Key="big-64m")["Body"]
    n = 0
    with open(os.devnull, "wb") as null:
        for chunk in body.iter_chunks(MiB):
            null.write(chunk)
            n += len(chunk)
    if n != 64 * MiB:
        raise RuntimeError(f"GetObject returned {n} bytes, expected {64 * MiB}")


VERSIONS = 10_000
VERSIONS_BUCKET = "cloudless-bench-versions"


def _setup_versions(ctx):
    """A versioned bucket holding VERSIONS versions of one key, and the markers at which each page of 1000
    starts. Written one after another: moto loses versions written concurrently to one key."""
    if "version_pages" in ctx.state:
        return
    s3 = ctx.s3
    s3.create_bucket(Bucket=VERSIONS_BUCKET)
    s3.put_bucket_versioning(Bucket=VERSIONS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for i in range(VERSIONS):
        s3.put_object(Bucket=VERSIONS_BUCKET, Key="hot-key", Body=b"v%d" % i)
    pages, kw = [], {}
    while True:
        pages.append(kw)
        r = s3.list_object_versions(Bucket=VERSIONS_BUCKET, MaxKeys=1000, **kw)
        if not r["IsTruncated"]:
            break
        kw = {"KeyMarker": r["NextKeyMarker"], "VersionIdMarker": r["NextVersionIdMarker"]}
    ctx.state["version_pages"] = pages


def _list_versions_page(ctx, i):
    pages = ctx.state["version_pages"]
    r = ctx.s3.list_object_versions(Bucket=VERSIONS_BUCKET, MaxKeys=1000, **pages[i % len(pages)])
    if len(r.get("Versions", [])) != 1000:
        raise RuntimeError(f"ListObjectVersions returned {len(r.get('Versions', []))} versions, expected 1000")


def _list_versions_all(ctx, i):
    n = sum(len(p.get("Versions", [])) for p in ctx.s3.get_paginator("list_object_versions").paginate(
        Bucket=VERSIONS_BUCKET, PaginationConfig={"PageSize": 1000}))
    if n != VERSIONS:
        raise RuntimeError(f"ListObjectVersions listed {n} versions, expected {VERSIONS}")


def _setup_sqs(ctx):
    sqs = ctx.client("sqs")
    if "queue_url" not in ctx.state:
        ctx.state["queue_url"] = sqs.create_queue(QueueName="bench-queue")["QueueUrl"]


def _sqs_send(ctx, i):
    ctx.client("sqs").send_message(QueueUrl=ctx.state["queue_url"], MessageBody=f"message {i} " + "x" * 200)


def _sqs_receive(ctx, i, count=1):
    """Receive `count` messages (the send benchmarks fill the queue first); their receipt handles wait for the
    delete benchmarks. The default 30 s visibility timeout keeps them from coming back meanwhile."""
    sqs = ctx.client("sqs")
    msgs = sqs.receive_message(QueueUrl=ctx.state["queue_url"], MaxNumberOfMessages=count,
                               WaitTimeSeconds=1).get("Messages", [])
    if len(msgs) != count:
        raise RuntimeError(f"ReceiveMessage returned {len(msgs)} messages, expected {count}")
    ctx.state.setdefault("receipts", []).extend(m["ReceiptHandle"] for m in msgs)


def _sqs_delete(ctx, i):
    ctx.client("sqs").delete_message(QueueUrl=ctx.state["queue_url"], ReceiptHandle=ctx.state["receipts"].pop())


def _sqs_send_batch(ctx, i):
    entries = [{"Id": str(k), "MessageBody": f"message {i}.{k} " + "x" * 200} for k in range(10)]
    r = ctx.client("sqs").send_message_batch(QueueUrl=ctx.state["queue_url"], Entries=entries)
    if r.get("Failed"):
        raise RuntimeError(f"SendMessageBatch failed entries: {r['Failed']}")


def _sqs_receive_batch(ctx, i):
    _sqs_receive(ctx, i, count=10)


def _sqs_delete_batch(ctx, i):
    receipts = [ctx.state["receipts"].pop() for _ in range(10)]
    r = ctx.client("sqs").delete_message_batch(
        QueueUrl=ctx.state["queue_url"], Entries=[{"Id": str(k), "ReceiptHandle": h} for k, h in enumerate(receipts)])
    if r.get("Failed"):
        raise RuntimeError(f"DeleteMessageBatch failed entries: {r['Failed']}")


def measure_wake_latency(ctx, trials):
    """Long-poll wake latency: a ReceiveMessage (WaitTimeSeconds=10) waits on an empty queue in a thread; 50 ms
    later a SendMessage is made. Latency = the receive's answer arrived - the send's answer arrived (0 when the
    receive answered first): the server has stored the message before it answers the send, so this is the time
    from "message available" to "waiting consumer has it", plus the client's thread switch."""
    import threading
    sqs = ctx.client("sqs")
    url = sqs.create_queue(QueueName="bench-wake")["QueueUrl"]
    import boto3
    from botocore.config import Config
    receiver = boto3.client("sqs", endpoint_url=ctx.endpoint, config=Config(retries={"max_attempts": 1}, read_timeout=60),
                            **CREDS)
    lat = []
    for _ in range(trials):
        got = {}

        def poll():
            m = receiver.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
            got["t"] = time.perf_counter()
            got["m"] = m

        th = threading.Thread(target=poll)
        th.start()
        time.sleep(0.05)
        sqs.send_message(QueueUrl=url, MessageBody="wake")
        t0 = time.perf_counter()
        th.join(15)
        if not got.get("m"):
            raise RuntimeError("the long poll returned no message")
        lat.append(max(0.0, got["t"] - t0) * 1e3)
        receiver.delete_message(QueueUrl=url, ReceiptHandle=got["m"][0]["ReceiptHandle"])
    lat.sort()
    return {"n": trials, "p50_ms": statistics.median(lat), "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))],
            "max_ms": lat[-1]}


def _setup_secrets(ctx):
    sm = ctx.client("secretsmanager")
    if "secret_name" not in ctx.state:
        ctx.state["secret_name"] = "bench/secret"
        sm.create_secret(Name="bench/secret", SecretString='{"username": "app", "password": "' + "x" * 40 + '"}')


def _secrets_create(ctx, i):
    ctx.client("secretsmanager").create_secret(Name=f"bench/created-{i}-{time.monotonic_ns()}", SecretString="s3cr3t-" + "x" * 40)


def _secrets_get(ctx, i):
    v = ctx.client("secretsmanager").get_secret_value(SecretId=ctx.state["secret_name"])
    if "SecretString" not in v:
        raise RuntimeError("GetSecretValue returned no SecretString")


OPS = {
    "s3_put_1k": Op("S3 PutObject 1 KiB", _put_1k, n=450, quick_n=60, setup=_setup_1k,
                    target_ms=0.15),
    "s3_get_1k": Op("S3 GetObject 1 KiB", _get_1k, n=450, quick_n=60, setup=_setup_1k,
                    target_ms=0.1),
    "s3_put_64m": Op("S3 PutObject 64 MiB", _put_64m, n=5, quick_n=2, rounds=5, warmup=1,
                     setup=_setup_64m, target_ms=60.0),
    "s3_get_64m": Op("S3 GetObject 64 MiB", _get_64m, n=5, quick_n=2, rounds=5, warmup=1,
                     setup=_setup_64m),
    # S3 versioning (issue 6): 10,000 versions of one key, listed a page of 1000 at a time, and all of them.
    "s3_list_versions_page": Op("S3 ListObjectVersions, a page of 1000 of 10,000 versions of one key", _list_versions_page,
                                n=50, quick_n=10, rounds=5, warmup=2, setup=_setup_versions),
    "s3_list_versions_all": Op("S3 ListObjectVersions, all 10,000 versions (10 pages)", _list_versions_all,
                               n=5, quick_n=2, rounds=5, warmup=1, setup=_setup_versions),
    # SQS (issue 3): sends run first and fill the queue; receives take messages and keep their receipt
    # handles; deletes use them. Warm-ups are counted in: each send warm-up leaves messages too.
    "sqs_send": Op("SQS SendMessage", _sqs_send, n=450, quick_n=60, setup=_setup_sqs, target_ms=0.1),
    "sqs_send_batch": Op("SQS SendMessageBatch (10)", _sqs_send_batch, n=90, quick_n=15, setup=_setup_sqs),
    "sqs_receive": Op("SQS ReceiveMessage", _sqs_receive, n=300, quick_n=40, setup=_setup_sqs, target_ms=0.1),
    "sqs_receive_batch": Op("SQS ReceiveMessage (10)", _sqs_receive_batch, n=60, quick_n=9, setup=_setup_sqs),
    "sqs_delete": Op("SQS DeleteMessage", _sqs_delete, n=300, quick_n=40, setup=_setup_sqs, target_ms=0.1),
    "sqs_delete_batch": Op("SQS DeleteMessageBatch (10)", _sqs_delete_batch, n=60, quick_n=9, setup=_setup_sqs),
    # Secrets Manager (issue 4)
    "secrets_create": Op("Secrets Manager CreateSecret", _secrets_create, n=300, quick_n=40, setup=_setup_secrets,
                         target_ms=0.1),
    "secrets_get": Op("Secrets Manager GetSecretValue", _secrets_get, n=450, quick_n=60, setup=_setup_secrets,
                      target_ms=0.1),
}


# --------------------------------------------------------------------------------------------
# Raw load with wrk -- name -> WrkLoad
# --------------------------------------------------------------------------------------------

@dataclass
class WrkLoad:
    label: str
    setup: Callable            # (ctx) -> URL path to load (unsigned GET unless `lua` is given)
    expect_bytes: Optional[int] = None
    lua: Optional[str] = None  # wrk -s script, path relative to bench/
    public_read_key: Optional[str] = None  # if the unsigned GET gets 403, make this key public-read


def _wrk_get_1k_setup(ctx):
    ctx.ensure_bucket()
    ctx.s3.put_object(Bucket=BUCKET, Key="wrk-1k", Body=os.urandom(KiB))
    return f"/{BUCKET}/wrk-1k"


WRK_LOADS = {
    "s3_get_1k_wrk": WrkLoad("S3 GET 1 KiB (wrk, unsigned)", _wrk_get_1k_setup, expect_bytes=KiB,
                             public_read_key="wrk-1k"),
}


def raw_get(port, path):
    """(status, body length) of an unsigned GET."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, len(r.read())
    finally:
        c.close()


def parse_wrk(out):
    res = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", out)
    if m:
        res["requests"] = int(m.group(1))
        res["duration_s"] = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(3)]
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["requests_per_s"] = float(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if m:
        res["p50_ms"] = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
    return res


# --------------------------------------------------------------------------------------------
# Measuring one server
# --------------------------------------------------------------------------------------------

def measure_op(srv, ctx, op, n):
    if op.setup:
        op.setup(ctx)
    for i in range(op.warmup):
        op.call(ctx, -1 - i)
    rounds = max(1, min(op.rounds, n))
    per_round = max(1, n // rounds)
    pid = srv.proc.pid
    cpu_ms, client_ms, sources, lat = [], [], set(), []
    i = 0
    for _ in range(rounds):
        c0 = os.times()
        s0 = cpu_snapshot(pid)
        for _ in range(per_round):
            t = time.perf_counter()
            op.call(ctx, i)
            lat.append(time.perf_counter() - t)
            i += 1
        s1 = cpu_snapshot(pid)
        c1 = os.times()
        d, src = cpu_delta_s(s0, s1)
        sources.add(src)
        cpu_ms.append(d * 1e3 / per_round)
        client_ms.append(((c1.user - c0.user) + (c1.system - c0.system)) * 1e3 / per_round)
    return {
        "n": per_round * rounds,
        "rounds": rounds,
        "server_cpu_ms_per_op": statistics.median(cpu_ms),
        "server_cpu_ms_per_op_rounds": cpu_ms,
        "cpu_counter": "+".join(sorted(sources)),
        "client_cpu_ms_per_op": statistics.median(client_ms),
        "wall_ms_p50": statistics.median(lat) * 1e3,
        "wall_ms_p90": sorted(lat)[int(0.9 * (len(lat) - 1))] * 1e3,
    }


def measure_wrk(srv, ctx, load, args):
    path = load.setup(ctx)
    status, nbytes = raw_get(srv.port, path)
    extra = {}
    if status == 403 and load.public_read_key:
        # moto applies S3 ACLs to anonymous requests: make the one object public-read
        ctx.s3.put_object_acl(Bucket=BUCKET, Key=load.public_read_key, ACL="public-read")
        status, nbytes = raw_get(srv.port, path)
        extra["public_read_acl"] = True
    if status != 200 or (load.expect_bytes is not None and nbytes != load.expect_bytes):
        raise RuntimeError(f"unsigned GET {path} answered {status} with {nbytes} bytes")
    argv = [args.wrk, f"-t{args.wrk_threads}", f"-c{args.wrk_connections}",
            f"-d{args.wrk_duration}s", "--timeout", "5s", "--latency"]
    if load.lua:
        argv += ["-s", os.path.join(HERE, load.lua)]
    argv.append(srv.endpoint + path)
    # short warm-up so lazily started pieces (LocalStack's S3 provider, JITs, pools) are up
    subprocess.run(argv[:1] + ["-t1", "-c2", "-d1s", srv.endpoint + path],
                   capture_output=True, timeout=30)
    s0 = cpu_snapshot(srv.proc.pid)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=args.wrk_duration + 60)
    s1 = cpu_snapshot(srv.proc.pid)
    if r.returncode != 0:
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
    res = parse_wrk(r.stdout)
    res.update(extra)
    if not res.get("requests"):
        raise RuntimeError(f"could not parse wrk output:\n{r.stdout}")
    d, src = cpu_delta_s(s0, s1)
    res["server_cpu_ms_per_req"] = d * 1e3 / res["requests"]
    res["server_cpu_s"] = d
    res["cpu_counter"] = src
    res["server_cores_busy"] = d / res["duration_s"] if res.get("duration_s") else None
    res["command"] = " ".join(argv)
    return res


def bench_server(spec, args, workdir, res):
    """Fills `res` as it goes, so an interrupted run still reports what was measured."""
    res.update(name=spec.name, note=spec.note)
    if spec.check:
        spec.check()
    # 1. start -> first 200, best of N starts; the last start stays up for the rest
    starts = []
    srv = None
    try:
        for k in range(args.starts):
            srv = Server(spec, workdir)
            srv.start()
            starts.append(srv.ready_s * 1e3)
            log(f"  [{spec.name}] start {k + 1}/{args.starts}: ready in {srv.ready_s * 1e3:.1f} ms")
            if k < args.starts - 1:
                srv.stop()
                srv = None
        res["ready_ms"] = min(starts)
        res["ready_ms_all"] = starts
        res["pid"] = srv.proc.pid

        # 2. idle RSS
        time.sleep(1.0)
        res["idle_rss_mib"] = tree_rss_bytes(srv.proc.pid) / MiB
        res["idle_procs"] = len(process_tree(srv.proc.pid))
        log(f"  [{spec.name}] idle RSS {res['idle_rss_mib']:.1f} MiB "
            f"({res['idle_procs']} process(es))")

        # 3. boto3 operations
        ctx = Ctx(srv.endpoint)
        res["ops"] = {}
        for name, op in OPS.items():
            if args.ops and name not in args.ops:
                continue
            n = op.quick_n if args.quick else op.n
            try:
                t = time.perf_counter()
                r = measure_op(srv, ctx, op, n)
                r["elapsed_s"] = time.perf_counter() - t
                res["ops"][name] = r
                log(f"  [{spec.name}] {op.label}: server CPU {r['server_cpu_ms_per_op']:.3f} ms/op, "
                    f"client CPU {r['client_cpu_ms_per_op']:.2f} ms/op, p50 wall "
                    f"{r['wall_ms_p50']:.2f} ms (n={r['n']}, {r['elapsed_s']:.1f} s)")
            except Exception as e:  # keep going with the other operations
                res["ops"][name] = {"error": f"{type(e).__name__}: {e}"}
                log(f"  [{spec.name}] {op.label}: ERROR {type(e).__name__}: {e}")
        ctx.state.pop("body_64m", None)
        if not args.ops or "sqs_wake" in args.ops:
            try:
                r = measure_wake_latency(ctx, 20 if args.quick else 100)
                res["sqs_wake"] = r
                log(f"  [{spec.name}] SQS long-poll wake latency: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms")
            except Exception as e:
                res["sqs_wake"] = {"error": f"{type(e).__name__}: {e}"}
                log(f"  [{spec.name}] SQS long-poll wake latency: ERROR {type(e).__name__}: {e}")

        # 4. wrk
        res["wrk"] = {}
        if args.no_wrk or not shutil.which(args.wrk):
            if not args.no_wrk:
                log(f"  [{spec.name}] wrk not found at {args.wrk}: skipped")
        else:
            for name, load in WRK_LOADS.items():
                if args.ops and name not in args.ops:
                    continue
                try:
                    r = measure_wrk(srv, ctx, load, args)
                    res["wrk"][name] = r
                    log(f"  [{spec.name}] {load.label}: {r['requests_per_s']:.0f} req/s, server CPU "
                        f"{r['server_cpu_ms_per_req']:.3f} ms/req, non-2xx {r['non_2xx']}, "
                        f"socket errors {r['socket_errors']}")
                except Exception as e:
                    res["wrk"][name] = {"error": f"{type(e).__name__}: {e}"}
                    log(f"  [{spec.name}] {load.label}: ERROR {type(e).__name__}: {e}")

        res["rss_after_load_mib"] = tree_rss_bytes(srv.proc.pid) / MiB
        res["procs_after_load"] = len(process_tree(srv.proc.pid))
    finally:
        if srv is not None:
            srv.stop()
    return res


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def fmt_ms(v):
    if v is None:
        return "—"
    if v < 1:
        return f"{v:.3f} ms"
    if v < 100:
        return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms"
    return f"{v:.0f} ms"


def build_rows(results):
    """[(label, target text, target check or None, {server: value}, formatter)]"""
    rows = []

    def get(path):
        out = {}
        for name, r in results.items():
            v = r
            for k in path:
                v = v.get(k) if isinstance(v, dict) else None
            out[name] = v
        return out

    def err(path):
        out = {}
        for name, r in results.items():
            v = r
            for k in path:
                v = v.get(k) if isinstance(v, dict) else None
            out[name] = v.get("error") if isinstance(v, dict) else None
        return out

    starts = max((len(r.get("ready_ms_all") or []) for r in results.values()), default=0)
    rows.append((f"start → first answer (best of {starts})", "≤ 20 ms", lambda v: v <= 20,
                 get(["ready_ms"]), {}, fmt_ms))
    rows.append(("idle RSS (1 s after ready)", "≤ 20 MiB", lambda v: v <= 20,
                 get(["idle_rss_mib"]), {}, lambda v: f"{v:.1f} MiB"))
    for name, op in OPS.items():
        t = op.target_ms
        rows.append((f"server CPU / {op.label}", f"≤ {t:g} ms" if t is not None else "",
                     (lambda v, t=t: v <= t) if t is not None else None,
                     get(["ops", name, "server_cpu_ms_per_op"]), err(["ops", name]), fmt_ms))
    for name, op in OPS.items():
        rows.append((f"p50 wall time / {op.label} (boto3)", "", None,
                     get(["ops", name, "wall_ms_p50"]), err(["ops", name]), fmt_ms))
    rows.append(("SQS long-poll wake latency p50 (send answered → receive answered)", "", None,
                 get(["sqs_wake", "p50_ms"]), err(["sqs_wake"]), fmt_ms))
    rows.append(("SQS long-poll wake latency p99", "≤ 5 ms", lambda v: v <= 5,
                 get(["sqs_wake", "p99_ms"]), err(["sqs_wake"]), fmt_ms))
    for name, load in WRK_LOADS.items():
        rows.append((f"{load.label}: requests/s", "", None,
                     get(["wrk", name, "requests_per_s"]), err(["wrk", name]),
                     lambda v: f"{v:,.0f}"))
        rows.append((f"{load.label}: server CPU / request", "", None,
                     get(["wrk", name, "server_cpu_ms_per_req"]), err(["wrk", name]), fmt_ms))
    rows.append(("RSS after load", "", None, get(["rss_after_load_mib"]), {},
                 lambda v: f"{v:.1f} MiB"))
    return rows


def markdown_table(results, order):
    names = [n for n in order if n in results]
    lines = ["| metric | target | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    for label, target, ok, vals, errs, fmt in build_rows(results):
        if all(vals.get(n) is None and not errs.get(n) for n in names):
            continue
        cells = []
        for n in names:
            v = vals.get(n)
            if v is None:
                cells.append("error" if errs.get(n) else "—")
                continue
            cell = fmt(v)
            if ok is not None and n == "cloudless":
                cell += " ✓" if ok(v) else " ✗"
            cells.append(cell)
        lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="cloudless,moto,localstack",
                   help="comma-separated servers to run (default: cloudless,moto,localstack)")
    p.add_argument("--quick", action="store_true", help="small N: a smoke run (~1 min)")
    p.add_argument("--cloudless-bin", default=default_cloudless_bin(),
                   help="Cloudless binary (default: .build/release/cloudless, else .build/debug/)")
    p.add_argument("--localstack-python",
                   default=os.environ.get("LOCALSTACK_PYTHON", "/tmp/localstack-venv/bin/python"),
                   help="python of the LocalStack venv (default: $LOCALSTACK_PYTHON or "
                        "/tmp/localstack-venv/bin/python)")
    p.add_argument("--peers-dir", default=os.environ.get("CLOUDLESS_PEERS_DIR", default_peers_dir()),
                   help="folder with start-moto.sh / start-localstack.sh (default: $CLOUDLESS_PEERS_DIR, else "
                        "../shared/peers beside the repository)")
    p.add_argument("--ops", default="",
                   help="comma-separated subset of operations (names: "
                        + ", ".join(list(OPS) + ["sqs_wake"] + list(WRK_LOADS)) + ")")
    p.add_argument("--starts", type=int, default=3, help="starts for the ready time (best of)")
    p.add_argument("--wrk", default="/usr/bin/wrk")
    p.add_argument("--wrk-duration", type=int, default=None, help="seconds (default 5, quick 2)")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--wrk-connections", type=int, default=16)
    p.add_argument("--no-wrk", action="store_true")
    p.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    p.add_argument("--no-json", action="store_true", help="do not write bench/results/*.json")
    a = p.parse_args(argv)
    a.only = [s.strip() for s in a.only.split(",") if s.strip()]
    a.ops = {s.strip() for s in a.ops.split(",") if s.strip()}
    unknown = a.ops - set(OPS) - set(WRK_LOADS) - {"sqs_wake"}
    if unknown:
        p.error(f"unknown --ops {sorted(unknown)}")
    if a.wrk_duration is None:
        a.wrk_duration = 2 if a.quick else 5
    if a.quick:
        a.starts = min(a.starts, 2)
    return a


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None):
    args = parse_args(argv)
    specs = make_specs(args)
    bad = [n for n in args.only if n not in specs]
    if bad:
        log(f"unknown server(s) {bad}; choose from {list(specs)}")
        return 2
    # Ctrl-C / kill: raise KeyboardInterrupt so the finally: blocks stop the servers. SIGINT is set
    # explicitly because Python keeps it ignored when started in the background by a script.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _raise_interrupt)

    started = _dt.datetime.now()
    results, skipped = {}, {}
    workdir = tempfile.mkdtemp(prefix="cloudless-bench-")
    interrupted = False
    try:
        for name in args.only:
            spec = specs[name]
            log(f"== {name}")
            t = time.perf_counter()
            res = results[name] = {}
            try:
                bench_server(spec, args, workdir, res)
                res["elapsed_s"] = time.perf_counter() - t
            except Unavailable as e:
                del results[name]
                skipped[name] = str(e)
                log(f"  [{name}] SKIPPED: {e}")
            except KeyboardInterrupt:
                raise
            except Exception as e:
                res["error"] = f"{type(e).__name__}: {e}"
                if "ready_ms" not in res:
                    del results[name]
                    skipped[name] = res["error"]
                log(f"  [{name}] FAILED: {type(e).__name__}: {e}")
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: servers stopped; partial results below")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    elapsed = (_dt.datetime.now() - started).total_seconds()
    print()
    print(f"## Cloudless benchmark — {started:%Y-%m-%d %H:%M:%S}"
          f"{' (quick)' if args.quick else ''}{' (interrupted)' if interrupted else ''}")
    print()
    if results:
        print(markdown_table(results, args.only))
        print()
    for name, r in results.items():
        if r.get("note"):
            print(f"- {name}: {r['note']}")
    for name, why in skipped.items():
        print(f"- {name}: skipped — {why.splitlines()[0]}")
    for name, r in results.items():
        for kind in ("ops", "wrk"):
            for op, v in (r.get(kind) or {}).items():
                if "error" in v:
                    print(f"- {name} {op}: {v['error']}")
    print(f"- server CPU = utime+stime of the server's process tree (/proc), per operation; "
          f"✓/✗ = Cloudless against its target; {os.cpu_count()} CPUs; run took {elapsed:.0f} s")

    if not args.no_json:
        os.makedirs(args.results_dir, exist_ok=True)
        path = os.path.join(args.results_dir, f"{started:%Y%m%d-%H%M%S}.json")
        doc = {
            "started": started.isoformat(timespec="seconds"),
            "elapsed_s": elapsed,
            "quick": args.quick,
            "interrupted": interrupted,
            "host": {"cpus": os.cpu_count(), "kernel": platform.release(),
                     "python": platform.python_version(), "clk_tck": CLK_TCK},
            "client": {"boto3": _version("boto3"), "botocore": _version("botocore")},
            "args": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
            "targets": {"ready_ms": 20, "idle_rss_mib": 20,
                        **{f"{k}_server_cpu_ms": op.target_ms for k, op in OPS.items()
                           if op.target_ms is not None}},
            "servers": results,
            "skipped": skipped,
        }
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"- results: {os.path.relpath(path)}")
    return 130 if interrupted else 0


def _version(mod):
    try:
        return __import__(mod).__version__
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
