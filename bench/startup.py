#!/usr/bin/env python3
"""Cloudless start-up and idle memory (issue 14: start in <= 20 ms, idle in <= 20 MiB).

Starts the binary N times with a fresh data folder and N times with an existing one (made by a previous start),
measures wall time from just before the spawn to the first 200 on /_cloudless/health (a bare GET on a raw socket,
polled every 0.5 ms), the server's CPU time (utime+stime) at that moment, and, 1 s after the last start became
ready, its memory from /proc (VmRSS, and Pss, Private_Dirty, Private_Clean, Shared_* from smaps_rollup) and its
thread count. Prints a markdown table; --json writes every round. A script, not a test: nothing fails.

    python3 bench/startup.py                                   # bench/run.py's default binary (a release build if present)
    python3 bench/startup.py --bin .build/release/cloudless --starts 20
    python3 bench/startup.py --bin NEW --before OLD --starts 10     # both in one run, in turn

A third kind starts on the existing folder and polls a real S3 ListBuckets instead of the health check: work moved
after the port opens must not just move the cost to the first request.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def health(port):
    """True once GET /_cloudless/health answers 200 (bench/run.py's bare raw-socket GET)."""
    return run.http_status(port, "/_cloudless/health") == 200


def list_buckets(port, timeout=1.0):
    """True once S3 ListBuckets answers 200: a real request through the gateway, S3 and s3.sqlite (signed in form only:
    the server checks signatures only under --strict-auth)."""
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    auth = (f"AWS4-HMAC-SHA256 Credential=test/{date[:8]}/us-east-1/s3/aws4_request, "
            f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={'0' * 64}")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nx-amz-date: {date}\r\n"
                      f"x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nAuthorization: {auth}\r\n"
                      f"Connection: close\r\n\r\n".encode())
            buf = b""
            while b"</ListAllMyBucketsResult>" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return buf.startswith(b"HTTP/1.1 200") and b"</ListAllMyBucketsResult>" in buf
    except OSError:
        return False


def cpu_ms(pid):
    """The process's CPU time: its live threads' run time in ns (schedstat), else utime+stime in 10 ms ticks."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e6
    except OSError:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / CLK_TCK  # utime, stime (fields 14, 15)


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Pss", "Private_Dirty", "Private_Clean", "Shared_Clean", "Shared_Dirty", "Anonymous"):
                out[k] = int(v.split()[0])
    return out  # kB, except Threads


class Run:
    def __init__(self, binary, data_dir, extra_env):
        self.binary, self.data_dir, self.env = binary, data_dir, dict(os.environ, **extra_env)
        self.port = run.free_port()
        self.proc = None

    def start(self, timeout=30, ready=health):
        argv = [self.binary, "serve", "--port", str(self.port), "--data-dir", self.data_dir, "--log-level", "error"]
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=self.env, start_new_session=True)
        while not ready(self.port):
            if self.proc.poll() is not None:
                sys.exit(f"cloudless exited with {self.proc.returncode} before ready")
            if time.perf_counter() - t0 > timeout:
                sys.exit("cloudless not ready in time")
            time.sleep(0.0005)
        ready_ms = (time.perf_counter() - t0) * 1000
        return ready_ms, cpu_ms(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def version_ms(binary, n):
    best = None
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, check=True)
        d = (time.perf_counter() - t0) * 1000
        best = d if best is None else min(best, d)
    return best


KINDS = (("existing", "≤ 20 ms"), ("fresh", "≤ 30 ms"), ("existing-s3", ""))


def measure(binary, starts, idle, seed=None):
    """Every round of one binary: fresh and existing folders to the first health 200, and an existing folder to the
    first S3 ListBuckets 200 (deferred work must not just move the cost to the first request)."""
    work = tempfile.mkdtemp(prefix="cloudless-startup-")
    rounds = {kind: [] for kind, _ in KINDS}
    mem = None
    try:
        existing = os.path.join(work, "existing")
        r = Run(seed or binary, existing, {})
        r.start()
        r.stop()  # the existing folder now holds the master key (and with --seed an older binary's every database)
        for i in range(starts):
            for kind, _ in KINDS:
                folder = os.path.join(work, f"fresh-{i}") if kind == "fresh" else existing
                r = Run(binary, folder, {})
                try:
                    rounds[kind].append(r.start(ready=list_buckets if kind == "existing-s3" else health))
                    if kind == "existing" and i == starts - 1:
                        time.sleep(idle)
                        mem = memory(r.proc.pid)
                finally:
                    r.stop()
                if kind == "fresh":
                    shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rounds, mem


def report(binary, starts, rounds, mem, ver, idle):
    def row(name, values, fmt, target=""):
        print(f"| {name} | {target} | " + " | ".join(fmt(v) for v in values) + " |")

    size = os.path.getsize(binary) / 2**20
    print(f"binary: {binary} ({size:.0f} MiB), {starts} starts each\n")
    print("| metric | target | best | median | worst |")
    print("|---|---|---|---|---|")
    for kind, target in KINDS:
        walls = sorted(w for w, _ in rounds[kind])
        cpus = sorted(c for _, c in rounds[kind])
        what = ("start → first S3 ListBuckets 200, existing folder" if kind == "existing-s3"
                else f"start → first 200, {kind} folder")
        row(f"{what} (wall)", [walls[0], statistics.median(walls), walls[-1]], lambda v: f"{v:.1f} ms", target)
        row(f"server CPU at that answer, {kind.replace('-s3', '')} folder", [cpus[0], statistics.median(cpus), cpus[-1]],
            lambda v: f"{v:.1f} ms")
    print(f"| `--version` (wall) | | {ver:.1f} ms | | |")
    print()
    print(f"idle, {idle:g} s after ready (existing folder):\n")
    print("| VmRSS | Pss | Private_Dirty | Private_Clean | Shared_Clean | Anonymous | threads |")
    print("|---|---|---|---|---|---|---|")
    mib = lambda k: f"{mem[k] / 1024:.1f} MiB"
    print(f"| {mib('VmRSS')} (target ≤ 20 MiB) | {mib('Pss')} | {mib('Private_Dirty')} | {mib('Private_Clean')} | "
          f"{mib('Shared_Clean')} | {mib('Anonymous')} | {mem['Threads']} |")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=None, help="the cloudless binary (default: a release build if present)")
    ap.add_argument("--before", default=None, help="a second binary, measured in the same run, batch by batch in turn")
    ap.add_argument("--starts", type=int, default=10, help="starts per kind (fresh, existing, existing to ListBuckets)")
    ap.add_argument("--seed", default=None, help="make the existing folder with this binary's first start (default: the "
                    "one measured); a binary that opens every database at start leaves all of them there")
    ap.add_argument("--idle", type=float, default=1.0, help="seconds after ready before memory is read")
    ap.add_argument("--json", default=None, help="write every round to this file")
    args = ap.parse_args()
    binaries = [os.path.abspath(args.bin or run.default_cloudless_bin())]
    if args.before:
        binaries.insert(0, os.path.abspath(args.before))
    # In turn, a few starts at a time: both binaries see the same load when the machine is shared.
    results = {b: ({kind: [] for kind, _ in KINDS}, None) for b in binaries}
    batch = 2 if args.before else args.starts
    done = 0
    while done < args.starts:
        n = min(batch, args.starts - done)
        for b in binaries:
            rounds, mem = measure(b, n, args.idle, args.seed and os.path.abspath(args.seed))
            for kind in rounds:
                results[b][0][kind].extend(rounds[kind])
            results[b] = (results[b][0], mem)
        done += n
    out = {}
    for b in binaries:
        ver = version_ms(b, args.starts)
        report(b, args.starts, results[b][0], results[b][1], ver, args.idle)
        out[b] = {"rounds": results[b][0], "memory_kB": results[b][1], "version_ms": ver}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
