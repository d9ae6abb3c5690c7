#!/usr/bin/env python3
"""Per-request server CPU of Cloudless, and where it goes (perf flame graphs).

    python3 bench/profile.py                                  # CPU/op of every row, one table
    python3 bench/profile.py --ops s3_put_1k,sqs_send --n 900
    python3 bench/profile.py --perf --tag after               # also bench/profiles/<op>-after.{folded,svg}
    python3 bench/profile.py --strict-auth                    # the server verifies every signature

One server (release build by default) on a temporary data folder and a free port; each operation is
set up, warmed up, then run in rounds of boto3 calls (the median round is reported). Server CPU is the
summed run time of the server's threads (/proc/PID/task/*/schedstat, ns), checked against utime+stime
of /proc/PID/stat. With --perf a second loop of the same operation runs under
`perf record -e cpu-clock -F 999 -g -p PID`, and `perf script` goes through bench/flamegraph.py into
folded stacks and an SVG. See bench/README.md ("Profiles").
"""

import argparse
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import flamegraph  # noqa: E402
import run  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
KiB = 1024


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_ns(pid):
    """(summed thread run time in ns from schedstat, utime+stime in ns from stat, thread ids)."""
    precise, tids = 0, set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                precise += int(f.read().split()[0])
            tids.add(tid)
        except OSError:
            pass
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    coarse = (int(fields[11]) + int(fields[12])) * 1_000_000_000 // CLK_TCK
    return precise, coarse, tids


def cpu_delta_ms(before, after):
    """Precise when no thread went away and it agrees with the tick counter within its rounding."""
    dp, dc = after[0] - before[0], after[1] - before[1]
    if before[2] <= after[2] and abs(dp - dc) <= 2 * 1e9 / CLK_TCK:
        return dp / 1e6
    return dc / 1e6


# The operations are bench/run.py's (the same calls its table measures); only the kept-alive unsigned GET is ours.
def setup_unsigned(ctx):
    run._setup_1k(ctx)
    ctx.state["conn"] = http.client.HTTPConnection("127.0.0.1", ctx.port)


def get_1k_unsigned(ctx, i):
    c = ctx.state["conn"]
    c.request("GET", f"/{run.BUCKET}/get-1k")
    r = c.getresponse()
    if r.status != 200 or len(r.read()) != KiB:
        raise RuntimeError(f"unsigned GET answered {r.status}")


# name -> (label, setup, call, n, rounds, perf n)
OPS = {
    "s3_put_1k": ("signed S3 PutObject 1 KiB (boto3)", run._setup_1k, run._put_1k, 450, 3, 1500),
    "s3_get_1k": ("signed S3 GetObject 1 KiB (boto3)", run._setup_1k, run._get_1k, 450, 3, 1500),
    "s3_get_1k_unsigned": ("unsigned S3 GetObject 1 KiB (http.client, kept alive)", setup_unsigned, get_1k_unsigned,
                           1500, 3, 5000),
    "sqs_send": ("SQS SendMessage (boto3, JSON protocol)", run._setup_sqs, run._sqs_send, 450, 3, 1500),
    "secrets_get": ("Secrets Manager GetSecretValue (boto3)", run._setup_secrets, run._secrets_get, 450, 3, 1500),
    "s3_put_64m": ("S3 PutObject 64 MiB (boto3)", run._setup_64m, run._put_64m, 5, 5, 6),
}


def start_server(binary, data_dir, strict):
    port = run.free_port()
    argv = [binary, "serve", "--port", str(port), "--data-dir", data_dir]
    if strict:
        argv.append("--strict-auth")
    logf = open(os.path.join(data_dir, "..", "server.log"), "ab")
    proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    logf.close()
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/_cloudless/health")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.01)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("server did not start")


def stop_server(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def measure(ctx, pid, call, n, rounds):
    per, start = [], 0
    size = max(1, n // rounds)
    for _ in range(rounds):
        b = cpu_ns(pid)
        for i in range(start, start + size):
            call(ctx, i)
        a = cpu_ns(pid)
        per.append(cpu_delta_ms(b, a) / size)
        start += size
    return statistics.median(per), per


def profile(ctx, pid, name, label, call, n, tag, out_dir, offset, call_graph):
    data = tempfile.mktemp(prefix=f"cloudless-{name}-", suffix=".perf")
    argv = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-p", str(pid), "-o", data]
    argv += ["--call-graph", "dwarf,16384"] if call_graph == "dwarf" else ["-g"]
    rec = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    for i in range(offset, offset + n):
        call(ctx, i)
    rec.send_signal(signal.SIGINT)
    rec.wait(60)
    script = subprocess.run(["perf", "script", "-i", data], capture_output=True, text=True, errors="replace")
    os.unlink(data)
    stacks = flamegraph.fold(script.stdout.splitlines())
    text = flamegraph.folded_text(stacks)
    os.makedirs(out_dir, exist_ok=True)
    base = os.path.join(out_dir, f"{name}-{tag}")
    with open(base + ".folded", "w") as f:
        f.write(text)
    with open(base + ".svg", "w") as f:
        f.write(flamegraph.svg(flamegraph.read_folded(text), f"{label} ({tag}, {n} calls)"))
    return base


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default=run.default_cloudless_bin())
    p.add_argument("--ops", default=",".join(OPS))
    p.add_argument("--n", type=int, help="calls per operation (default: per operation)")
    p.add_argument("--perf", action="store_true", help="also record flame graphs")
    p.add_argument("--call-graph", choices=["fp", "dwarf"], default="fp")
    p.add_argument("--tag", default="now", help="profile file suffix: bench/profiles/<op>-<tag>.svg")
    p.add_argument("--out", default=os.path.join(HERE, "profiles"))
    p.add_argument("--strict-auth", action="store_true")
    a = p.parse_args(argv)
    if not a.bin or not os.path.exists(a.bin):
        p.error("no release binary: swift build -c release --static-swift-stdlib, or pass --bin")
    if a.perf and not shutil.which("perf"):
        p.error("perf not found (apt-get install linux-perf)")
    work = tempfile.mkdtemp(prefix="cloudless-profile-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    proc, port = start_server(a.bin, data, a.strict_auth)
    rows = []
    try:
        ctx = run.Ctx(f"http://127.0.0.1:{port}")
        ctx.port = port
        for name in a.ops.split(","):
            label, setup, call, n, rounds, perf_n = OPS[name]
            n = a.n or n
            setup(ctx)
            warm = 1 if n < 20 else 20
            for i in range(warm):
                call(ctx, 10_000_000 + i)
            ms, per = measure(ctx, proc.pid, call, n, rounds)
            rows.append((label, ms))
            log(f"{name}: {ms:.3f} ms/op (rounds {', '.join(f'{x:.3f}' for x in per)})")
            if a.perf:
                base = profile(ctx, proc.pid, name, label, call, a.n or perf_n, a.tag, a.out, 20_000_000, a.call_graph)
                log(f"  profile: {os.path.relpath(base, REPO)}.svg")
    finally:
        stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n| server CPU per request ({os.path.basename(os.path.dirname(os.path.dirname(a.bin)))}"
          f"{', strict auth' if a.strict_auth else ''}) | ms |\n|---|---|")
    for label, ms in rows:
        print(f"| {label} | {ms:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
