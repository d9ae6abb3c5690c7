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


def tree_pss_bytes(root):
    """Proportional set size summed over the tree (/proc/PID/smaps_rollup `Pss:`): shared pages (libraries,
    the interpreter of a Python server) count once in total across the processes that map them."""
    total = 0
    for pid in process_tree(root):
        s = _read(f"/proc/{pid}/smaps_rollup")
        if not s:
            continue
        m = re.search(r"^Pss:\s+(\d+)\s+kB", s, re.M)
        if m:
            total += int(m.group(1)) * 1024
    return total


# --------------------------------------------------------------------------------------------
# Machine floor and package size (no server involved)
# --------------------------------------------------------------------------------------------

def measure_hash_floor(body, passes):
    """The floor of a PutObject of `body`: one MD5 pass (the ETag) plus one SHA-256 pass (x-amz-content-sha256)
    over the same bytes, with Python's hashlib (OpenSSL's implementations), in this thread. CPU time of the
    thread (CLOCK_THREAD_CPUTIME_ID), median of `passes`."""
    import hashlib
    md5, sha, both = [], [], []
    for _ in range(passes):
        t0 = time.thread_time()
        hashlib.md5(body).digest()
        t1 = time.thread_time()
        hashlib.sha256(body).digest()
        t2 = time.thread_time()
        md5.append((t1 - t0) * 1e3)
        sha.append((t2 - t1) * 1e3)
        both.append((t2 - t0) * 1e3)
    import ssl
    return {"ms": statistics.median(both), "md5_ms": statistics.median(md5), "sha256_ms": statistics.median(sha),
            "ms_all": both, "passes": passes, "bytes": len(body), "openssl": ssl.OPENSSL_VERSION}


def find_package(dist_dir, machine=None):
    """The newest dist/cloudless-*-linux-*.tar.gz for this machine's architecture (any, if none names it)."""
    import glob
    paths = glob.glob(os.path.join(dist_dir, "cloudless-*-linux-*.tar.gz"))
    if not paths:
        return None
    machine = (machine or platform.machine()).lower()
    aliases = {"x86_64": ("x86_64", "amd64", "x64"), "aarch64": ("aarch64", "arm64")}.get(machine, (machine,))
    mine = [p for p in paths if any(a in os.path.basename(p).lower() for a in aliases)]
    return max(mine or paths, key=os.path.getmtime)


def package_sizes(dist_dir, cloudless_bin):
    """Size of the packaged tarball and of the binary inside it; without a tarball, of the given binary."""
    import tarfile
    tgz = find_package(dist_dir)
    if tgz:
        out = {"basis": "package", "tarball": os.path.relpath(tgz, REPO), "tarball_bytes": os.path.getsize(tgz),
               "tarball_mtime": _dt.datetime.fromtimestamp(os.path.getmtime(tgz)).isoformat(timespec="seconds")}
        with tarfile.open(tgz) as t:
            bins = [m for m in t.getmembers() if m.isfile() and os.path.basename(m.name) == "cloudless"]
            if bins:
                out["binary_bytes"] = bins[0].size
                out["binary"] = bins[0].name
            out["unpacked_bytes"] = sum(m.size for m in t.getmembers() if m.isfile())
        return out
    if cloudless_bin and os.path.isfile(cloudless_bin):
        shown = os.path.relpath(cloudless_bin, REPO) if os.path.abspath(cloudless_bin).startswith(REPO + os.sep) \
            else cloudless_bin
        return {"basis": "given binary", "binary": shown, "binary_bytes": os.path.getsize(cloudless_bin),
                "note": f"no {os.path.relpath(dist_dir, REPO)}/cloudless-*-linux-*.tar.gz (scripts/package): "
                        f"size of the given binary {shown}"}
    return None


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

    def __init__(self, spec, workdir, data_dir=None, keep_data=False):
        """data_dir: reuse this folder (an existing-folder start); otherwise a new empty one.
        keep_data: leave the folder in place at stop() (the workdir is removed at the end of the run)."""
        self.spec = spec
        self.port = free_port()
        self.keep_data = keep_data or data_dir is not None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"{spec.name}-data-", dir=workdir)
        self.log_path = os.path.join(workdir, f"{spec.name}-{self.port}.log")
        self.proc = None
        self.ready_s = None
        self.ready_cpu_s = None

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
                # CPU the server's tree spent to get there: less noisy than the wall time on a shared machine
                self.ready_cpu_s = cpu_delta_s(CpuSnapshot(0, 0, {}, 1), cpu_snapshot(self.proc.pid))[0]
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
        if not self.keep_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def default_peers_dir():
    """The peers' start scripts: `../shared/peers` beside the repository, where the project's design notes keep them."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.normpath(os.path.join(repo, "..", "shared", "peers"))


def default_cloudless_bin():
    """.build/release/cloudless, else the newest .build*/release/cloudless (a --scratch-path build), else
    .build/debug/cloudless."""
    import glob
    p = os.path.join(REPO, ".build", "release", "cloudless")
    if os.path.exists(p):
        return p
    others = [q for q in glob.glob(os.path.join(REPO, ".build*", "release", "cloudless")) if os.path.isfile(q)]
    if others:
        return max(others, key=os.path.getmtime)
    p = os.path.join(REPO, ".build", "debug", "cloudless")
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
            check=check_moto, start_timeout=60,
            note="in memory, no data folder: its two start rows measure the same start"),
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
    servers: Optional[tuple] = None    # run on these servers only (None: all); targets are in bench/targets.json
    default: bool = True               # False: only when named in --ops (long set-ups outside issue 14's figures)
    client: str = "boto3"              # what makes the calls (the p50 wall row says it)


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


def _setup_put_64m(ctx):
    """The 64 MiB body, and the floor of its PutObject measured on the same bytes right before the PUTs (so
    under the same load of the machine as the server's figure)."""
    _setup_64m(ctx)
    if "floor_64m" not in ctx.state:
        ctx.state["floor_64m"] = measure_hash_floor(ctx.state["body_64m"], ctx.state.get("floor_passes", 5))


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


# Floors of the per-request rows (issue 14): what a request costs the server with no storage behind it, measured
# like the ops above. boto3 spends ~3 ms of its own CPU between calls, so the server idles and is woken for each
# request (and its caches go cold); the paced health GET shows that cost without SigV4, JSON or SQLite, the
# back-to-back one without the wake-ups.

def _sts_identity(ctx, i):
    r = ctx.client("sts").get_caller_identity()
    if not r.get("Account"):
        raise RuntimeError("GetCallerIdentity returned no Account")


class KeptAliveGet:
    """Unsigned GETs of one path over one kept-alive raw socket (no http.client: the client's own cost stays small)."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
        self.buf = b""

    def get(self):
        self.sock.sendall(self.request)
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        m = re.match(rb"HTTP/1\.1 (\d{3})", head)
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if not m or not length:
            raise RuntimeError(f"unexpected answer: {head[:200]!r}")
        n = int(length.group(1))
        while len(self.buf) < n:
            self._recv()
        self.buf = self.buf[n:]
        return int(m.group(1))

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed")
        self.buf += chunk

    def close(self):
        self.sock.close()


def boto3_pace_s(ctx):
    """The interval between two boto3 calls in this run: the median wall time of the STS floor's calls (measured
    here with 30 calls if that op did not run)."""
    if "boto3_pace_s" not in ctx.state:
        lat = []
        for i in range(30):
            t = time.perf_counter()
            _sts_identity(ctx, i)
            lat.append(time.perf_counter() - t)
        ctx.state["boto3_pace_s"] = statistics.median(lat[5:])
    return ctx.state["boto3_pace_s"]


def _setup_health(ctx, paced):
    key = "health_paced" if paced else "health"
    if key not in ctx.state:
        port = int(ctx.endpoint.rsplit(":", 1)[1])
        ctx.state[key] = KeptAliveGet(port, "/_cloudless/health")
        ctx.state[key + "_pace_s"] = boto3_pace_s(ctx) if paced else 0.0
        ctx.state[key + "_next"] = 0.0
        ctx.state.setdefault("op_extra", {})["floor_" + key] = {"pace_ms": ctx.state[key + "_pace_s"] * 1e3}


def _health(ctx, i, paced):
    key = "health_paced" if paced else "health"
    # Paced: spin (as boto3 computes) until one boto3 interval after the previous request started.
    while time.perf_counter() < ctx.state[key + "_next"]:
        pass
    ctx.state[key + "_next"] = time.perf_counter() + ctx.state[key + "_pace_s"]
    status = ctx.state[key].get()
    if status != 200:
        raise RuntimeError(f"GET /_cloudless/health answered {status}")


OPS = {
    "s3_put_1k": Op("S3 PutObject 1 KiB, signed", _put_1k, n=450, quick_n=60, setup=_setup_1k),
    "s3_get_1k": Op("S3 GetObject 1 KiB, signed", _get_1k, n=450, quick_n=60, setup=_setup_1k),
    "s3_put_64m": Op("S3 PutObject 64 MiB", _put_64m, n=5, quick_n=2, rounds=5, warmup=1,
                     setup=_setup_put_64m),
    "s3_get_64m": Op("S3 GetObject 64 MiB", _get_64m, n=5, quick_n=2, rounds=5, warmup=1,
                     setup=_setup_64m),
    # S3 versioning (issue 6): 10,000 versions of one key, listed a page of 1000 at a time, and all of them.
    # Cloudless only: writing the 10,000 versions to moto one after another had not finished after 13 minutes.
    # Not in the default run (the set-up is 10,000 boto3 PUTs): --ops s3_list_versions_page,s3_list_versions_all.
    "s3_list_versions_page": Op("S3 ListObjectVersions, a page of 1000 of 10,000 versions of one key", _list_versions_page,
                                n=50, quick_n=10, rounds=5, warmup=2, setup=_setup_versions,
                                servers=("cloudless",), default=False),
    "s3_list_versions_all": Op("S3 ListObjectVersions, all 10,000 versions (10 pages)", _list_versions_all,
                               n=5, quick_n=2, rounds=5, warmup=1, setup=_setup_versions,
                               servers=("cloudless",), default=False),
    # SQS (issue 3): sends run first and fill the queue; receives take messages and keep their receipt
    # handles; deletes use them. Warm-ups are counted in: each send warm-up leaves messages too.
    "sqs_send": Op("SQS SendMessage", _sqs_send, n=450, quick_n=60, setup=_setup_sqs),
    "sqs_send_batch": Op("SQS SendMessageBatch (10)", _sqs_send_batch, n=90, quick_n=15, setup=_setup_sqs),
    "sqs_receive": Op("SQS ReceiveMessage", _sqs_receive, n=300, quick_n=40, setup=_setup_sqs),
    "sqs_receive_batch": Op("SQS ReceiveMessage (10)", _sqs_receive_batch, n=60, quick_n=9, setup=_setup_sqs),
    "sqs_delete": Op("SQS DeleteMessage", _sqs_delete, n=300, quick_n=40, setup=_setup_sqs),
    "sqs_delete_batch": Op("SQS DeleteMessageBatch (10)", _sqs_delete_batch, n=60, quick_n=9, setup=_setup_sqs),
    # Secrets Manager (issue 4)
    "secrets_create": Op("Secrets Manager CreateSecret", _secrets_create, n=300, quick_n=40, setup=_setup_secrets),
    "secrets_get": Op("Secrets Manager GetSecretValue", _secrets_get, n=450, quick_n=60, setup=_setup_secrets),
    # Floors of the per-request rows (measured last, so the rows above are measured as before).
    "floor_sts": Op("STS GetCallerIdentity, signed (boto3; no storage)", _sts_identity, n=450, quick_n=60),
    "floor_health_paced": Op("unsigned GET /_cloudless/health, one kept-alive connection, paced like the boto3 calls",
                             lambda ctx, i: _health(ctx, i, True), n=450, quick_n=60,
                             setup=lambda ctx: _setup_health(ctx, True), servers=("cloudless",), client="raw socket"),
    "floor_health": Op("unsigned GET /_cloudless/health, one kept-alive connection, back to back",
                       lambda ctx, i: _health(ctx, i, False), n=450, quick_n=60,
                       setup=lambda ctx: _setup_health(ctx, False), servers=("cloudless",), client="raw socket"),
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
    if spec.name == "cloudless":
        res["size"] = package_sizes(args.dist_dir, args.cloudless_bin)
    # 1. start -> first 200. Fresh folder: best of N starts, each on a new empty data folder. Existing folder:
    #    the last fresh start's folder (made by that start) is kept; best of N restarts on it. The last restart
    #    stays up for the rest.
    fresh, existing, fresh_cpu, existing_cpu = [], [], [], []
    srv = None
    try:
        kept = None
        for k in range(args.starts):
            srv = Server(spec, workdir, keep_data=(k == args.starts - 1))
            srv.start()
            fresh.append(srv.ready_s * 1e3)
            fresh_cpu.append(srv.ready_cpu_s * 1e3)
            log(f"  [{spec.name}] fresh-folder start {k + 1}/{args.starts}: ready in {srv.ready_s * 1e3:.1f} ms "
                f"({srv.ready_cpu_s * 1e3:.1f} ms of CPU)")
            kept = srv.data_dir
            srv.stop()
            srv = None
        res["ready_fresh_ms"] = min(fresh)
        res["ready_fresh_ms_all"] = fresh
        res["ready_fresh_cpu_ms"] = min(fresh_cpu)
        res["ready_fresh_cpu_ms_all"] = fresh_cpu
        for k in range(args.starts):
            srv = Server(spec, workdir, data_dir=kept)
            srv.start()
            existing.append(srv.ready_s * 1e3)
            existing_cpu.append(srv.ready_cpu_s * 1e3)
            log(f"  [{spec.name}] existing-folder start {k + 1}/{args.starts}: ready in {srv.ready_s * 1e3:.1f} ms "
                f"({srv.ready_cpu_s * 1e3:.1f} ms of CPU)")
            if k < args.starts - 1:
                srv.stop()
                srv = None
        res["ready_existing_ms"] = min(existing)
        res["ready_existing_ms_all"] = existing
        res["ready_existing_cpu_ms"] = min(existing_cpu)
        res["ready_existing_cpu_ms_all"] = existing_cpu
        res["pid"] = srv.proc.pid

        # 2. idle RSS and PSS
        time.sleep(1.0)
        res["idle_rss_mib"] = tree_rss_bytes(srv.proc.pid) / MiB
        res["idle_pss_mib"] = tree_pss_bytes(srv.proc.pid) / MiB
        res["idle_procs"] = len(process_tree(srv.proc.pid))
        log(f"  [{spec.name}] idle RSS {res['idle_rss_mib']:.1f} MiB, PSS {res['idle_pss_mib']:.1f} MiB "
            f"({res['idle_procs']} process(es))")

        # 3. boto3 operations
        ctx = Ctx(srv.endpoint)
        ctx.state["floor_passes"] = 3 if args.quick else 5
        res["ops"] = {}
        for name, op in OPS.items():
            if (args.ops and name not in args.ops) or (not args.ops and not op.default):
                continue
            if op.servers is not None and spec.name not in op.servers:
                continue
            n = op.quick_n if args.quick else op.n
            try:
                t = time.perf_counter()
                r = measure_op(srv, ctx, op, n)
                r["elapsed_s"] = time.perf_counter() - t
                r.update(ctx.state.get("op_extra", {}).get(name, {}))
                if name == "floor_sts":
                    ctx.state["boto3_pace_s"] = r["wall_ms_p50"] / 1e3
                res["ops"][name] = r
                log(f"  [{spec.name}] {op.label}: server CPU {r['server_cpu_ms_per_op']:.3f} ms/op, "
                    f"client CPU {r['client_cpu_ms_per_op']:.2f} ms/op, p50 wall "
                    f"{r['wall_ms_p50']:.2f} ms (n={r['n']}, {r['elapsed_s']:.1f} s)")
            except Exception as e:  # keep going with the other operations
                res["ops"][name] = {"error": f"{type(e).__name__}: {e}"}
                log(f"  [{spec.name}] {op.label}: ERROR {type(e).__name__}: {e}")
        if "floor_64m" in ctx.state:
            res["floor_64m"] = ctx.state["floor_64m"]
            put = res["ops"].get("s3_put_64m", {}).get("server_cpu_ms_per_op")
            log(f"  [{spec.name}] floor: MD5 + SHA-256 of 64 MiB in {res['floor_64m']['ms']:.1f} ms of CPU"
                + (f"; PutObject 64 MiB = {put / res['floor_64m']['ms']:.2f} x floor" if put else ""))
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
# Report: rows, targets (bench/targets.json), baseline (bench/baseline.json), README splice.
# Everything below run_servers() is pure (results dict in, text / figures out): bench/test_run.py.
# --------------------------------------------------------------------------------------------

TARGETS_PATH = os.path.join(HERE, "targets.json")
BASELINE_PATH = os.path.join(HERE, "baseline.json")
README_PATH = os.path.join(REPO, "README.md")
README_BEGIN = "<!-- bench:begin -->"
README_END = "<!-- bench:end -->"
TOLERANCE = 0.20
DISPLAY = {"cloudless": "Cloudless", "moto": "moto", "localstack": "LocalStack"}


def fmt_ms(v):
    if v is None:
        return "—"
    if v < 1:
        return f"{v:.3f} ms"
    if v < 100:
        return f"{v:.2f} ms" if v < 10 else f"{v:.1f} ms"
    return f"{v:.0f} ms"


def fmt_mib(v):
    return f"{v:.1f} MiB"


def fmt_x(v):
    return f"{v:.2f} ×"


def fmt_rate(v):
    return f"{v:,.0f}"


@dataclass
class Row:
    id: str                    # key in targets.json and baseline.json
    label: str
    vals: dict                 # server -> value (None: not measured)
    errs: dict = field(default_factory=dict)   # server -> error text
    fmt: Callable = fmt_ms
    unit: str = "ms"
    better: Optional[str] = "lower"   # "lower" / "higher": a figure --check compares; None: context only
    detail: bool = False       # console only (not in the README's table, not in the baseline)
    basis: Optional[str] = None  # what the cloudless value was measured on; --check compares like with like


def _dig(d, path):
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def build_rows(results):
    """The table's rows, in order, from the per-server results of one run."""
    rows = []

    def get(path):
        return {n: _dig(r, path) for n, r in results.items()}

    def err(path):
        out = {}
        for n, r in results.items():
            v = _dig(r, path)
            out[n] = v.get("error") if isinstance(v, dict) else None
        return out

    def best_of(key):
        return max((len(r.get(key) or []) for r in results.values()), default=0)

    rows.append(Row("start_existing_ms", f"start → first answer, existing data folder (best of {best_of('ready_existing_ms_all')})",
                    get(["ready_existing_ms"])))
    rows.append(Row("start_fresh_ms", f"start → first answer, fresh data folder (best of {best_of('ready_fresh_ms_all')})",
                    get(["ready_fresh_ms"])))
    rows.append(Row("start_existing_cpu_ms", "server CPU to the first answer, existing data folder (least)",
                    get(["ready_existing_cpu_ms"])))
    rows.append(Row("start_fresh_cpu_ms", "server CPU to the first answer, fresh data folder (least)",
                    get(["ready_fresh_cpu_ms"])))
    rows.append(Row("idle_rss_mib", "idle RSS (1 s after ready)", get(["idle_rss_mib"]), fmt=fmt_mib, unit="MiB"))
    rows.append(Row("idle_pss_mib", "idle PSS (smaps_rollup)", get(["idle_pss_mib"]), fmt=fmt_mib, unit="MiB"))
    for name, op in OPS.items():
        if name == "s3_put_64m":
            rows.append(Row("floor_64m_ms", "floor: one MD5 + one SHA-256 pass over the 64 MiB body (hashlib, CPU)",
                            get(["floor_64m", "ms"]), better=None))
        floor = "floor: " if name.startswith("floor_") else ""
        rows.append(Row(f"{name}_cpu_ms", f"{floor}server CPU / {op.label}", get(["ops", name, "server_cpu_ms_per_op"]),
                        err(["ops", name])))
        if name == "s3_put_64m":
            ratio = {}
            for n, r in results.items():
                put, floor = _dig(r, ["ops", name, "server_cpu_ms_per_op"]), _dig(r, ["floor_64m", "ms"])
                ratio[n] = put / floor if put is not None and floor else None
            rows.append(Row("s3_put_64m_x_floor", "S3 PutObject 64 MiB: server CPU ÷ floor", ratio, err(["ops", name]),
                            fmt=fmt_x, unit="×"))
    for name, op in OPS.items():
        rows.append(Row(f"{name}_wall_p50_ms", f"p50 wall time / {op.label} ({op.client})", get(["ops", name, "wall_ms_p50"]),
                        err(["ops", name]), better=None, detail=True))
    rows.append(Row("sqs_wake_p50_ms", "SQS long-poll wake latency p50 (send answered → receive answered)",
                    get(["sqs_wake", "p50_ms"]), err(["sqs_wake"])))
    rows.append(Row("sqs_wake_p99_ms", "SQS long-poll wake latency p99", get(["sqs_wake", "p99_ms"]), err(["sqs_wake"])))
    for name, load in WRK_LOADS.items():
        rows.append(Row(f"{name}_rps", f"{load.label}: requests/s", get(["wrk", name, "requests_per_s"]),
                        err(["wrk", name]), fmt=fmt_rate, unit="req/s", better="higher"))
        rows.append(Row(f"{name}_cpu_ms", f"{load.label}: server CPU / request",
                        get(["wrk", name, "server_cpu_ms_per_req"]), err(["wrk", name])))
    rows.append(Row("rss_after_load_mib", "RSS after load", get(["rss_after_load_mib"]), fmt=fmt_mib, unit="MiB"))
    size = _dig(results.get("cloudless"), ["size"]) or {}
    if size.get("basis") == "package":
        rows.append(Row("size_tarball_mib", f"package size: `{os.path.basename(size['tarball'])}`",
                        {"cloudless": size["tarball_bytes"] / MiB}, fmt=fmt_mib, unit="MiB", basis="package"))
        rows.append(Row("size_binary_mib", "packaged binary, unpacked",
                        {"cloudless": (size.get("binary_bytes") or 0) / MiB or None}, fmt=fmt_mib, unit="MiB",
                        basis="package"))
    elif size.get("basis"):
        rows.append(Row("size_tarball_mib", "package size (no `dist/cloudless-*-linux-*.tar.gz` yet)",
                        {"cloudless": None}, fmt=fmt_mib, unit="MiB", basis=size["basis"]))
        rows.append(Row("size_binary_mib", f"binary size (the given binary, not a package: `{size['binary']}`)",
                        {"cloudless": size["binary_bytes"] / MiB}, fmt=fmt_mib, unit="MiB", basis=size["basis"]))
    return rows


def load_targets(path=TARGETS_PATH):
    with open(path) as f:
        doc = json.load(f)
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def target_limit(spec, res):
    """The limit a target sets for one server's results (None if it cannot be computed from this run)."""
    if spec is None:
        return None
    if "max" in spec:
        return spec["max"]
    if "max_x_floor" in spec:
        floor = _dig(res, ["floor_64m", "ms"])
        return spec["max_x_floor"] * floor if floor else None
    raise ValueError(f"target without max / max_x_floor: {spec}")


def target_text(spec, row, res):
    if spec is None:
        return ""
    if "max" in spec:
        return f"≤ {spec['max']:g} {row.unit}".replace(" ×", "×")
    limit = target_limit(spec, res)
    return f"≤ {spec['max_x_floor']:g} × floor" + (f" = {row.fmt(limit)}" if limit else "")


def holds_text(spec, rows=None, server="cloudless"):
    """The `holds` note of a target, the values of its `see` rows in this run (server's column), its profile."""
    holds = (spec or {}).get("holds") or "not stated in bench/targets.json"
    by_id = {r.id: r for r in rows or []}
    seen = [f"{by_id[i].label}: {by_id[i].fmt(by_id[i].vals[server])}" for i in (spec or {}).get("see", [])
            if i in by_id and by_id[i].vals.get(server) is not None]
    if seen:
        holds += " [this run: " + "; ".join(seen) + "]"
    if spec and spec.get("profile"):
        holds += f" (profile: `{spec['profile']}`)"
    return holds


def evaluate_targets(rows, results, targets, server="cloudless"):
    """[(row, limit, value, met)] for each row with a target; met is None when the value is missing."""
    out = []
    res = results.get(server)
    for row in rows:
        spec = targets.get(row.id)
        if spec is None or res is None:
            continue
        limit, v = target_limit(spec, res), row.vals.get(server)
        out.append((row, limit, v, None if v is None or limit is None else v <= limit))
    return out


def markdown_table(results, order, targets=None, rows=None, detail=True):
    """Rows = metrics, columns = target, servers (in `order`), what holds a target that is not met."""
    targets = targets or {}
    rows = build_rows(results) if rows is None else rows
    names = [n for n in order if n in results]
    cl = results.get("cloudless")
    lines = ["| metric | target | " + " | ".join(DISPLAY.get(n, n) for n in names) + " | what holds it |",
             "|---|---|" + "---|" * len(names) + "---|"]
    for row in rows:
        if row.detail and not detail:
            continue
        if all(row.vals.get(n) is None and not row.errs.get(n) for n in names):
            continue
        spec = targets.get(row.id)
        limit = target_limit(spec, cl) if cl is not None else None
        cells, holds = [], ""
        for n in names:
            v = row.vals.get(n)
            if v is None:
                cells.append("error" if row.errs.get(n) else "—")
                if n == "cloudless" and spec is not None:
                    holds = "not measured in this run"
                continue
            cell = row.fmt(v)
            if n == "cloudless" and limit is not None:
                if v <= limit:
                    cell += " ✓"
                else:
                    cell += " ✗"
                    holds = holds_text(spec, rows)
            cells.append(cell)
        target = target_text(spec, row, cl) if spec else ""
        lines.append(f"| {row.label} | {target} | " + " | ".join(cells) + f" | {holds} |")
    return "\n".join(lines)


def targets_summary(rows, results, targets):
    """Lines saying how many targets are met and, for each one that is not, what holds it."""
    ev = evaluate_targets(rows, results, targets)
    if not ev:
        return []
    met = [e for e in ev if e[3]]
    lines = [f"- targets met: {len(met)} of {len(ev)}" + (" — every target met" if len(met) == len(ev) else "")]
    for row, limit, v, ok in ev:
        if ok is None:
            lines.append(f"  - not measured: {row.label}")
        elif not ok:
            lines.append(f"  - ✗ {row.label}: {row.fmt(v)} > {row.fmt(limit)} — {holds_text(targets.get(row.id), rows)}")
    return lines


# ---- baseline and --check --------------------------------------------------------------------

def figures(rows, server="cloudless"):
    """The server's figures of a run, as the baseline stores them: {row id: {label, value, better[, basis]}}."""
    out = {}
    for row in rows:
        v = row.vals.get(server)
        if row.detail or v is None:
            continue
        f = {"label": row.label, "value": round(v, 6), "better": row.better}
        if row.basis:
            f["basis"] = row.basis
        out[row.id] = f
    return out


def compare(base, cur, tolerance=TOLERANCE, partial=False):
    """Each baseline figure against the current one: [{id, label, base, cur, change, status}], status one of
    ok, regressed (worse by more than `tolerance`), improved, missing (not measured now; "not run" when `partial`,
    i.e. --ops chose a subset), basis (measured on
    something else, e.g. the given binary against a package: not compared), context (not a compared figure)."""
    out = []
    for fid, b in base.items():
        c = cur.get(fid)
        row = {"id": fid, "label": b.get("label", fid), "base": b.get("value"), "cur": c and c.get("value"),
               "change": None, "better": b.get("better")}
        if b.get("better") not in ("lower", "higher"):
            row["status"] = "context"
        elif c is None or c.get("value") is None:
            row["status"] = "not run" if partial else "missing"
        elif b.get("basis") != c.get("basis"):
            row["status"] = "basis"
        else:
            bv, cv = b["value"], c["value"]
            row["change"] = (cv - bv) / bv if bv else None
            if b["better"] == "lower":
                worse, better = cv > bv * (1 + tolerance), cv < bv * (1 - tolerance)
            else:
                worse, better = cv < bv * (1 - tolerance), cv > bv * (1 + tolerance)
            row["status"] = "regressed" if worse else "improved" if better else "ok"
        out.append(row)
    return out


def best_figures(a, b):
    """Per figure, the better of two runs' values (lower or higher as the figure says); figures measured on a
    different basis are not mixed. --check uses it to confirm a regression with another run: interference from
    other loads only ever makes a figure worse, so a real regression survives the best of two runs."""
    out = dict(a)
    for fid, f in b.items():
        o = out.get(fid)
        if o is None or o.get("value") is None:
            out[fid] = f
        elif f.get("value") is None or f.get("basis") != o.get("basis"):
            continue
        elif (f["better"] == "lower" and f["value"] < o["value"]) or (f["better"] == "higher" and f["value"] > o["value"]):
            out[fid] = f
    return out


def check_failed(cmp):
    return [r for r in cmp if r["status"] in ("regressed", "missing")]


def check_table(cmp, tolerance=TOLERANCE):
    lines = ["| figure | baseline | now | change | verdict |", "|---|---|---|---|---|"]
    verdict = {"ok": "ok", "improved": "better", "regressed": f"**REGRESSED** (> {tolerance:.0%})",
               "missing": "**NOT MEASURED**", "basis": "not compared (measured on something else)",
               "context": "context only", "not run": "not run (--ops)"}
    for r in cmp:
        fmtv = (lambda v: "—" if v is None else f"{v:.4g}")
        ch = "" if r["change"] is None else f"{r['change']:+.0%}"
        lines.append(f"| {r['label']} | {fmtv(r['base'])} | {fmtv(r['cur'])} | {ch} | {verdict[r['status']]} |")
    return "\n".join(lines)


# ---- README ----------------------------------------------------------------------------------

def splice_readme(text, block, begin=README_BEGIN, end=README_END):
    """`text` with what lies between the begin and end markers replaced by `block` (markers kept)."""
    if text.count(begin) != 1 or text.count(end) != 1:
        raise ValueError(f"README must hold {begin} and {end} exactly once each")
    i, j = text.index(begin) + len(begin), text.index(end)
    if j < i:
        raise ValueError(f"{end} comes before {begin}")
    return text[:i] + "\n" + block.strip("\n") + "\n" + text[j:]


def readme_block(doc, targets):
    results, order = doc["servers"], doc.get("order") or list(doc["servers"])
    rows = build_rows(results)
    meta = doc.get("meta", {})
    when = doc.get("started", "")[:16].replace("T", " ")
    binary = meta.get("cloudless_bin") or "?"
    kind = "debug build: not representative" if f"{os.sep}debug{os.sep}" in binary else "release build"
    load = meta.get("loadavg_start")
    shown = os.path.relpath(binary, REPO) if os.path.abspath(binary).startswith(REPO + os.sep) else binary
    built = meta.get("cloudless_bin_mtime")
    out = [f"Generated by `python3 bench/run.py --readme` from one run on {when}"
           f"{' (quick run: small N)' if doc.get('quick') else ''}: Cloudless {kind} `{shown}`"
           f"{' of ' + built.replace('T', ' ') if built else ''}"
           f"{', repository at commit ' + meta['git'][:10] if meta.get('git') else ''}, {doc.get('host', {}).get('cpus', '?')} "
           f"CPUs{f', load average {load:.1f} at the start' if load is not None else ''}. Server CPU is `utime+stime` "
           f"of the server's process tree from `/proc` (boto3's own ~3 ms per call is not counted); ✓/✗ is Cloudless "
           f"against its target (`bench/targets.json`, which also says what holds a ✗); see `bench/README.md`.",
           "", markdown_table(results, order, targets, rows=rows, detail=False), ""]
    for name, why in (doc.get("skipped") or {}).items():
        out.append(f"- {DISPLAY.get(name, name)}: skipped — {why.splitlines()[0]}")
    for name, r in results.items():
        if r.get("note"):
            out.append(f"- {DISPLAY.get(name, name)}: {r['note']}")
        if (r.get("size") or {}).get("note"):
            out.append(f"- {DISPLAY.get(name, name)} size: {r['size']['note']}")
    for name, op in OPS.items():
        if op.servers and any(_dig(r, ["ops", name]) for r in results.values()):
            if any(n in results and n not in op.servers for n in order):
                out.append(f"- {op.label}: run on {', '.join(DISPLAY.get(s, s) for s in op.servers)} only")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=None,
                   help="comma-separated servers to run (default: cloudless,moto,localstack; with --check: cloudless)")
    p.add_argument("--quick", action="store_true", help="small N: a smoke run (~1 min)")
    p.add_argument("--cloudless-bin", default=default_cloudless_bin(),
                   help="Cloudless binary (default: .build/release/cloudless, else the newest .build*/release/"
                        "cloudless, else .build/debug/cloudless)")
    p.add_argument("--localstack-python",
                   default=os.environ.get("LOCALSTACK_PYTHON", "/tmp/localstack-venv/bin/python"),
                   help="python of the LocalStack venv (default: $LOCALSTACK_PYTHON or "
                        "/tmp/localstack-venv/bin/python)")
    p.add_argument("--peers-dir", default=os.environ.get("CLOUDLESS_PEERS_DIR", default_peers_dir()),
                   help="folder with start-moto.sh / start-localstack.sh (default: $CLOUDLESS_PEERS_DIR, else "
                        "../shared/peers beside the repository)")
    p.add_argument("--dist-dir", default=os.path.join(REPO, "dist"),
                   help="where scripts/package leaves cloudless-*-linux-*.tar.gz (default: dist/)")
    p.add_argument("--ops", default="",
                   help="comma-separated subset of operations (names: "
                        + ", ".join(list(OPS) + ["sqs_wake"] + list(WRK_LOADS)) + "); the default is all but "
                        + ", ".join(n for n, op in OPS.items() if not op.default))
    p.add_argument("--starts", type=int, default=5,
                   help="starts on fresh folders, then restarts on an existing one (best of each)")
    p.add_argument("--wrk", default="/usr/bin/wrk")
    p.add_argument("--wrk-duration", type=int, default=None, help="seconds (default 5, quick 2)")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--wrk-connections", type=int, default=16)
    p.add_argument("--no-wrk", action="store_true")
    p.add_argument("--results-dir", default=os.path.join(HERE, "results"))
    p.add_argument("--no-json", action="store_true", help="do not write bench/results/*.json")
    p.add_argument("--from-json", metavar="PATH",
                   help="do not measure: report a run saved in bench/results/*.json (with --readme, --write-baseline, "
                        "--check)")
    p.add_argument("--targets", default=TARGETS_PATH, help="targets file (default: bench/targets.json)")
    p.add_argument("--baseline", default=BASELINE_PATH, help="baseline file (default: bench/baseline.json)")
    p.add_argument("--readme", nargs="?", const=README_PATH, default=None, metavar="PATH",
                   help="rewrite the table between <!-- bench:begin --> and <!-- bench:end --> in README.md "
                        "(or PATH) from this run")
    p.add_argument("--write-baseline", action="store_true",
                   help="write this run's Cloudless figures to bench/baseline.json")
    p.add_argument("--check", action="store_true",
                   help=f"compare this run's Cloudless figures with bench/baseline.json; exit 1 if one is worse by "
                        f"more than {TOLERANCE * 100:.0f} %% (or was not measured). Runs Cloudless only unless --only is given")
    p.add_argument("--check-retries", type=int, default=2,
                   help="with --check: when a figure is worse, run again (up to this many times) and keep each "
                        "figure's best before failing (default 2)")
    a = p.parse_args(argv)
    if a.only is None:
        a.only = "cloudless" if a.check else "cloudless,moto,localstack"
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


def _git_head():
    try:
        r = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or None
    except Exception:
        return None


def run_servers(args, specs):
    """Measure the servers of args.only one after another; the run's document (as saved in bench/results/)."""
    # Ctrl-C / kill: raise KeyboardInterrupt so the finally: blocks stop the servers. SIGINT is set
    # explicitly because Python keeps it ignored when started in the background by a script.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _raise_interrupt)
    started = _dt.datetime.now()
    load0 = os.getloadavg()[0]
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
                if "ready_existing_ms" not in res and "ready_fresh_ms" not in res:
                    del results[name]
                    skipped[name] = res["error"]
                log(f"  [{name}] FAILED: {type(e).__name__}: {e}")
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: servers stopped; partial results below")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": (_dt.datetime.now() - started).total_seconds(),
        "quick": args.quick,
        "interrupted": interrupted,
        "order": args.only,
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(),
                 "python": platform.python_version(), "clk_tck": CLK_TCK},
        "client": {"boto3": _version("boto3"), "botocore": _version("botocore")},
        "meta": {"cloudless_bin": args.cloudless_bin, "git": _git_head(),
                 "cloudless_bin_mtime": (_dt.datetime.fromtimestamp(os.path.getmtime(args.cloudless_bin))
                                         .isoformat(timespec="minutes") if os.path.exists(args.cloudless_bin) else None),
                 "loadavg_start": load0, "loadavg_end": os.getloadavg()[0]},
        "args": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
        "servers": results,
        "skipped": skipped,
    }


def main(argv=None):
    args = parse_args(argv)
    targets = load_targets(args.targets)
    specs = None
    if args.from_json:
        with open(args.from_json) as f:
            doc = json.load(f)
    else:
        specs = make_specs(args)
        bad = [n for n in args.only if n not in specs]
        if bad:
            log(f"unknown server(s) {bad}; choose from {list(specs)}")
            return 2
        doc = run_servers(args, specs)
    results, order = doc["servers"], doc.get("order") or list(doc["servers"])
    rows = build_rows(results)

    print()
    print(f"## Cloudless benchmark — {doc['started'].replace('T', ' ')}"
          f"{' (quick)' if doc.get('quick') else ''}{' (interrupted)' if doc.get('interrupted') else ''}")
    print()
    if results:
        print(markdown_table(results, order, targets, rows=rows))
        print()
    for name, r in results.items():
        if r.get("note"):
            print(f"- {name}: {r['note']}")
        if (r.get("size") or {}).get("note"):
            print(f"- {name} size: {r['size']['note']}")
    for name, why in (doc.get("skipped") or {}).items():
        print(f"- {name}: skipped — {why.splitlines()[0]}")
    for name, r in results.items():
        for kind in ("ops", "wrk"):
            for op, v in (r.get(kind) or {}).items():
                if "error" in v:
                    print(f"- {name} {op}: {v['error']}")
    for line in targets_summary(rows, results, targets):
        print(line)
    print(f"- server CPU = utime+stime of the server's process tree (/proc), per operation; "
          f"✓/✗ = Cloudless against bench/targets.json; {doc.get('host', {}).get('cpus')} CPUs; "
          f"run took {doc.get('elapsed_s', 0):.0f} s")

    if not args.from_json and not args.no_json:
        os.makedirs(args.results_dir, exist_ok=True)
        path = os.path.join(args.results_dir, f"{doc['started'].replace('-', '').replace(':', '').replace('T', '-')}.json")
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"- results: {os.path.relpath(path)}")

    status = 130 if doc.get("interrupted") else 0
    if (args.readme or args.write_baseline) and (doc.get("interrupted") or "cloudless" not in results):
        log("not writing the README / baseline: the run was interrupted or has no Cloudless results")
        return status or 1
    if args.write_baseline:
        base = {"_comment": "Cloudless's figures of one run of bench/run.py, written by --write-baseline; "
                            "--check fails if a figure is worse by more than 20 % (see bench/README.md).",
                "started": doc["started"], "quick": doc.get("quick", False), "meta": doc.get("meta", {}),
                "figures": figures(rows)}
        with open(args.baseline, "w") as f:
            json.dump(base, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"- baseline written: {os.path.relpath(args.baseline)} ({len(base['figures'])} figures)")
    if args.readme:
        with open(args.readme) as f:
            text = f.read()
        with open(args.readme, "w") as f:
            f.write(splice_readme(text, readme_block(doc, targets)))
        print(f"- README table rewritten: {os.path.relpath(args.readme)}")
    if args.check:
        with open(args.baseline) as f:
            base = json.load(f)
        figs = figures(rows)
        cmp = compare(base["figures"], figs, partial=bool(args.ops))
        runs = 1
        while check_failed(cmp) and not args.from_json and runs <= args.check_retries and not doc.get("interrupted"):
            log(f"--check: {len(check_failed(cmp))} figure(s) worse than the baseline; another run to confirm "
                f"({runs + 1} of at most {args.check_retries + 1}), keeping each figure's best")
            again = run_servers(args, specs)
            if again.get("interrupted"):
                break
            figs = best_figures(figs, figures(build_rows(again["servers"])))
            cmp = compare(base["figures"], figs, partial=bool(args.ops))
            runs += 1
        print()
        print(f"### --check against {os.path.relpath(args.baseline)} (run of {base.get('started')})"
              + (f": each figure the best of {runs} runs" if runs > 1 else ""))
        print()
        print(check_table(cmp))
        print()
        bad = check_failed(cmp)
        if bad:
            for r in bad:
                print(f"- {r['status'].upper()}: {r['label']}: {r['base']:.4g} → "
                      + ("not measured" if r["cur"] is None else f"{r['cur']:.4g} ({r['change']:+.0%})"))
            print(f"- check FAILED: {len(bad)} figure(s) regressed by more than {TOLERANCE:.0%} or not measured")
            return 1
        print(f"- check passed: no figure worse than the baseline by more than {TOLERANCE:.0%}")
    return status


def _version(mod):
    try:
        return __import__(mod).__version__
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
