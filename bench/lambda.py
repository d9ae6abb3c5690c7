#!/usr/bin/env python3
"""Lambda on Cloudless: cold start, warm invoke latency and throughput, beside the floor of this machine.

No peer runs here: LocalStack, moto and Floci all need Docker to run a function. So the comparison is with what
no emulator can beat on this machine: starting the bare interpreter (`python3 -c pass`) and one loopback HTTP
round-trip to the same server (`GET /_cloudless/health`).

    python3 bench/lambda.py                       # release build if present, else debug (flagged)
    python3 bench/lambda.py --cloudless-bin PATH --warm 2000 --cold 30 --seconds 10

Invokes are sent with a kept-alive `http.client` connection (unsigned: Cloudless does not check signatures
without --strict-auth), so boto3's own ~2 ms per call is not in the numbers. The handler returns its event at
once, so what is measured is Cloudless's share. A cold start is forced by changing the function's environment
(instances of the old configuration are retired), as in AWS.
"""
import argparse
import base64
import http.client
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
from server import Server  # noqa: E402
from measure import default_bin, pct  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HANDLER = "def handler(event, context):\n    return event\n"


def ms(seconds):
    return seconds * 1000


class Client:
    """One kept-alive connection; `invoke` answers (status, body, headers)."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, r.read(), dict(r.getheaders())

    def invoke(self, name, payload=b'{"n": 1}', log_tail=False):
        headers = {"Content-Type": "application/json", "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"}
        if log_tail:
            headers["X-Amz-Log-Type"] = "Tail"
        return self.request("POST", f"/2015-03-31/functions/{name}/invocations", payload, headers)


def python_start_floor(n):
    """Wall times of `python3 -c pass`, with the interpreter the python runtime uses (the host's python3, which
    runs this script)."""
    python = os.path.realpath(sys.executable)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t)
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cloudless-bin", default=default_bin())
    p.add_argument("--cold", type=int, default=20, help="cold starts measured")
    p.add_argument("--warm", type=int, default=1000, help="warm invokes measured")
    p.add_argument("--seconds", type=float, default=8, help="duration of the concurrency-8 throughput run")
    p.add_argument("--concurrency", type=int, default=8)
    args = p.parse_args()
    os.environ["CLOUDLESS_BIN"] = args.cloudless_bin
    if "/debug/" in args.cloudless_bin:
        print("note: a debug build; numbers are not representative", file=sys.stderr)

    data = tempfile.mkdtemp(prefix="cloudless-bench-lambda-")
    server = Server(data_dir=data).start()
    try:
        import boto3
        from botocore.config import Config
        lam = boto3.client("lambda", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bench.py", HANDLER)
        runtime = f"python3.{sys.version_info.minor}"
        lam.create_function(FunctionName="bench", Runtime=runtime, Role="arn:aws:iam::000000000000:role/bench",
                            Handler="bench.handler", Code={"ZipFile": buf.getvalue()}, Timeout=30)
        client = Client(server.port)

        # The floor: the bare interpreter's start, and one HTTP round-trip to the same server.
        floor_python = python_start_floor(args.cold)
        for _ in range(50):
            client.request("GET", "/_cloudless/health")
        rtt = []
        for _ in range(args.warm):
            t = time.perf_counter()
            client.request("GET", "/_cloudless/health")
            rtt.append(time.perf_counter() - t)

        # Cold starts: each after a configuration change retired the warm instance.
        cold, init = [], []
        for i in range(args.cold):
            lam.update_function_configuration(FunctionName="bench", Environment={"Variables": {"RUN": str(i)}})
            t = time.perf_counter()
            status, body, headers = client.invoke("bench", log_tail=True)
            cold.append(time.perf_counter() - t)
            assert status == 200 and body == b'{"n": 1}', (status, body)
            tail = base64.b64decode(headers.get("X-Amz-Log-Result", "")).decode()
            for part in tail.split("\t"):
                if part.startswith("Init Duration:"):
                    init.append(float(part.split()[2]) / 1000)

        # Warm invokes, one at a time.
        for _ in range(50):
            client.invoke("bench")
        warm = []
        for _ in range(args.warm):
            t = time.perf_counter()
            status, body, _ = client.invoke("bench")
            warm.append(time.perf_counter() - t)
            assert status == 200

        # Throughput: N clients invoking back to back (N warm instances after the first round).
        for _ in range(3):
            threads = [threading.Thread(target=lambda: Client(server.port).invoke("bench")) for _ in range(args.concurrency)]
            [t.start() for t in threads]
            [t.join() for t in threads]
        counts = [0] * args.concurrency
        stop_at = time.perf_counter() + args.seconds
        errors = []

        def worker(k):
            c = Client(server.port)
            while time.perf_counter() < stop_at:
                status, _, _ = c.invoke("bench")
                if status != 200:
                    errors.append(status)
                counts[k] += 1
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.concurrency)]
        started = time.perf_counter()
        [t.start() for t in threads]
        [t.join() for t in threads]
        elapsed = time.perf_counter() - started
        throughput = sum(counts) / elapsed

        floor_med = statistics.median(floor_python)
        rows = [
            ("floor: `python3 -c pass`, median", f"{ms(floor_med):.1f} ms"),
            ("floor: loopback HTTP round-trip (`GET /_cloudless/health`), p50 / p99", f"{ms(pct(rtt, 50)):.2f} / {ms(pct(rtt, 99)):.2f} ms"),
            ("cold invoke (new instance), p50 / p99", f"{ms(pct(cold, 50)):.1f} / {ms(pct(cold, 99)):.1f} ms"),
            ("cold invoke over the bare interpreter start, p50", f"{ms(pct(cold, 50) - floor_med):+.1f} ms"),
            ("REPORT Init Duration, p50", f"{ms(pct(init, 50)):.1f} ms" if init else "n/a"),
            ("warm invoke, p50 / p99", f"{ms(pct(warm, 50)):.2f} / {ms(pct(warm, 99)):.2f} ms"),
            ("warm invoke over the HTTP round-trip, p50", f"{ms(pct(warm, 50) - pct(rtt, 50)):+.2f} ms"),
            (f"invokes/s at concurrency {args.concurrency} ({args.seconds:.0f} s)", f"{throughput:,.0f}" + (f" ({len(errors)} errors)" if errors else "")),
        ]
        print(f"\nLambda on Cloudless ({os.path.relpath(args.cloudless_bin, REPO)}, {runtime} handler returning its event)\n")
        print("| metric | value |\n|---|---|")
        for k, v in rows:
            print(f"| {k} | {v} |")
        lam.delete_function(FunctionName="bench")
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
