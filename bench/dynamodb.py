#!/usr/bin/env python3
"""Server CPU per DynamoDB operation, Cloudless beside moto in the same run (issue 17's bench rows).

    python3 bench/dynamodb.py [--cloudless-bin PATH] [--n 1000] [--runs 3]

Each server runs on a free port with its own data folder; CPU is utime+stime of its process from /proc/PID/stat
before and after N boto3 calls (PutItem of a ~200-byte item, GetItem of it, a Query reading a 100-item page), / N.
With --runs R both servers are measured R times, alternating (Cloudless, moto, Cloudless, …), each on a fresh server;
the table gives every run's figure.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
from botocore.config import Config

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def wait_ready(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


def start(kind, binary):
    port = free_port()
    folder = tempfile.mkdtemp(prefix=f"bench-ddb-{kind}-")
    if kind == "cloudless":
        cmd = [binary, "serve", "--port", str(port), "--data-dir", folder, "--log-level", "error"]
        ready = f"http://127.0.0.1:{port}/_cloudless/health"
    else:
        cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        ready = f"http://127.0.0.1:{port}/moto-api/"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_ready(ready)
    return proc, port, folder


def measure(port, n):
    ddb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))
    ddb.create_table(TableName="bench", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    item = lambda pk, sk: {"pk": {"S": pk}, "sk": {"N": str(sk)}, "name": {"S": "x" * 100}, "n": {"N": "42"},
                           "tags": {"SS": ["a", "b"]}, "m": {"M": {"k": {"S": "v"}}}}
    for i in range(1000):  # other hash keys: the Query must not read them
        ddb.put_item(TableName="bench", Item=item(f"other{i % 10}", i))
    for i in range(100):
        ddb.put_item(TableName="bench", Item=item("page", i))
    ops = {
        "PutItem": lambda i: ddb.put_item(TableName="bench", Item=item("put", i)),
        "GetItem": lambda i: ddb.get_item(TableName="bench", Key={"pk": {"S": "put"}, "sk": {"N": str(i)}}),
        "Query (100-item page)": lambda i: ddb.query(TableName="bench", KeyConditionExpression="pk = :p",
                                                      ExpressionAttributeValues={":p": {"S": "page"}}),
    }
    return ddb, ops


def main():
    ap = argparse.ArgumentParser()
    release = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "cloudless")
    ap.add_argument("--cloudless-bin", default=release)
    ap.add_argument("--n", type=int, default=1000, help="calls per operation (CPU ticks are 10 ms: keep N large)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--only", default="cloudless,moto")
    args = ap.parse_args()
    if "/debug/" in args.cloudless_bin:
        print("note: a debug build; numbers are not representative", file=sys.stderr)
    results = {}
    for kind in [k for _ in range(args.runs) for k in args.only.split(",")]:
        proc, port, folder = start(kind, args.cloudless_bin)
        try:
            _, ops = measure(port, args.n)
            for name, op in ops.items():
                for i in range(20):
                    op(i)  # warm
                before = cpu_seconds(proc.pid)
                for i in range(args.n):
                    op(i)
                results.setdefault(name, {}).setdefault(kind, []).append((cpu_seconds(proc.pid) - before) / args.n * 1e6)
                print(f"{kind} {name}: {results[name][kind][-1]:.0f} µs", file=sys.stderr, flush=True)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:  # moto's server may not stop on SIGTERM
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            shutil.rmtree(folder, ignore_errors=True)
    kinds = args.only.split(",")
    print("| server CPU per call (µs) | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for name, row in results.items():
        print(f"| {name} | " + " | ".join(", ".join(f"{v:.0f}" for v in row.get(k, [])) for k in kinds) + " |")


if __name__ == "__main__":
    main()
