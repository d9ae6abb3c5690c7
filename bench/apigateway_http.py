#!/usr/bin/env python3
"""API Gateway HTTP API on Cloudless: what a request through an invoke URL adds over a direct Lambda Invoke.

One python function (returns a fixed 2.0 answer at once) behind a quick-created HTTP API. Direct invokes
(`POST /2015-03-31/functions/bench/invocations`) and API requests (`GET /items/1`, `Host: <id>.execute-api.localhost`)
alternate in blocks on two kept-alive `http.client` connections, so both see the same machine load. Reported: p50 and
p99 of each, the p50 difference (target ≤ 0.3 ms), and the server's CPU per request of each kind (utime+stime of the
server process from /proc, over its own block).

    python3 bench/apigateway_http.py                      # release build if present
    python3 bench/apigateway_http.py --cloudless-bin PATH --requests 3000
"""
import argparse
import http.client
import io
import json
import os
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
from server import Server  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'
SIGNED = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"


def default_bin():
    release = os.path.join(REPO, ".build", "release", "cloudless")
    return release if os.path.exists(release) else os.path.join(REPO, ".build", "debug", "cloudless")


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(conn, method, path, body, headers):
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    elapsed = time.perf_counter() - t
    assert r.status == 200, (r.status, data)
    return elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cloudless-bin", default=default_bin())
    p.add_argument("--requests", type=int, default=2000, help="requests of each kind")
    p.add_argument("--block", type=int, default=200, help="requests per alternating block")
    args = p.parse_args()
    os.environ["CLOUDLESS_BIN"] = args.cloudless_bin
    if "/debug/" in args.cloudless_bin:
        print("note: a debug build; numbers are not representative", file=sys.stderr)
    server = Server(data_dir=tempfile.mkdtemp(prefix="cloudless-bench-apigw-")).start()
    try:
        import boto3
        from botocore.config import Config
        kw = dict(endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"max_attempts": 1}))
        lam, apigw = boto3.client("lambda", **kw), boto3.client("apigatewayv2", **kw)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bench.py", HANDLER)
        arn = lam.create_function(FunctionName="bench", Runtime=f"python3.{sys.version_info.minor}", Role="arn:aws:iam::000000000000:role/b",
                                  Handler="bench.handler", Code={"ZipFile": buf.getvalue()}, Timeout=30)["FunctionArn"]
        api_id = apigw.create_api(Name="bench", ProtocolType="HTTP", Target=arn)["ApiId"]
        direct = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        api = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        direct_args = ("POST", "/2015-03-31/functions/bench/invocations", b"{}", {"Authorization": SIGNED})
        api_args = ("GET", "/items/1?q=1", None, {"Host": f"{api_id}.execute-api.localhost:{server.port}"})
        for _ in range(100):
            timed(direct, *direct_args)
            timed(api, *api_args)
        pid = server.proc.pid
        times = {"direct": [], "api": []}
        cpu = {"direct": 0.0, "api": 0.0}
        while len(times["api"]) < args.requests:
            for kind, conn, a in (("direct", direct, direct_args), ("api", api, api_args)):
                before = cpu_seconds(pid)
                for _ in range(args.block):
                    times[kind].append(timed(conn, *a))
                cpu[kind] += cpu_seconds(pid) - before
        out = {"binary": args.cloudless_bin, "requests": len(times["api"])}
        for kind in times:
            out[kind] = {"p50_ms": round(pct(times[kind], 50) * 1000, 3), "p99_ms": round(pct(times[kind], 99) * 1000, 3),
                         "server_cpu_us_per_request": round(cpu[kind] / len(times[kind]) * 1e6, 1)}
        out["added_p50_ms"] = round(out["api"]["p50_ms"] - out["direct"]["p50_ms"], 3)
        out["added_server_cpu_us"] = round(out["api"]["server_cpu_us_per_request"] - out["direct"]["server_cpu_us_per_request"], 1)
        print(json.dumps(out, indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
