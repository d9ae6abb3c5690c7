#!/usr/bin/env python3
"""API Gateway on Cloudless: what a request through an invoke URL adds over a direct Lambda Invoke, for an HTTP API and
a REST API in one run.

One python function (returns `{"statusCode": 200, "body": "ok"}` at once) behind a quick-created HTTP API (payload 2.0)
and behind a REST API (resource `{proxy+}`, method ANY, AWS_PROXY integration, deployed to stage `Prod`). Direct invokes
(`POST /2015-03-31/functions/bench/invocations`), HTTP API requests (`GET /items/1?q=1`) and REST API requests
(`GET /Prod/items/1?q=1`), both by `Host: <id>.execute-api.localhost`, alternate in blocks on three kept-alive
`http.client` connections, so all see the same machine load. Reported: p50 and p99 of each, each API's p50 over the
direct invoke's (target ≤ 0.3 ms), and the server's CPU per request of each kind (utime+stime of the server process
from /proc, over its own blocks).

    python3 bench/apigateway.py                      # release build if present
    python3 bench/apigateway.py --cloudless-bin PATH --requests 3000
    python3 bench/apigateway.py --kinds rest         # one API kind only (beside the direct invokes)
    python3 bench/apigateway.py --kinds rest --perf after   # then bench/profiles/apigateway_rest-after.{folded,svg}

With `--perf TAG`, after the measurement each API kind runs `--perf-requests` more requests under
`perf record -e cpu-clock -F 999 -g -p PID`, folded by bench/flamegraph.py into bench/profiles/apigateway_<kind>-TAG.*.
"""
import argparse
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
from server import Server  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "bench"))
import flamegraph  # noqa: E402
from measure import cpu_seconds, default_bin, pct  # noqa: E402

HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'
SIGNED = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"


def timed(conn, method, path, body, headers):
    t = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    elapsed = time.perf_counter() - t
    assert r.status == 200, (r.status, data)
    return elapsed


def profile(pid, kind, conn, request, n, tag):
    """`n` requests of one kind under perf; its stacks folded into bench/profiles/apigateway_<kind>-<tag>.{folded,svg}."""
    data = tempfile.mktemp(prefix=f"cloudless-apigateway-{kind}-", suffix=".perf")
    rec = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-g", "-p", str(pid), "-o", data],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    for _ in range(n):
        timed(conn, *request)
    rec.send_signal(signal.SIGINT)
    rec.wait(60)
    script = subprocess.run(["perf", "script", "-i", data], capture_output=True, text=True, errors="replace")
    os.unlink(data)
    text = flamegraph.folded_text(flamegraph.fold(script.stdout.splitlines()))
    base = os.path.join(REPO, "bench", "profiles", f"apigateway_{kind}-{tag}")
    with open(base + ".folded", "w") as f:
        f.write(text)
    with open(base + ".svg", "w") as f:
        f.write(flamegraph.svg(flamegraph.read_folded(text), f"API Gateway {kind.upper()} API invoke ({tag}, {n} requests)"))
    print(f"wrote {base}.svg", file=sys.stderr)


def rest_api(client, function_arn):
    """A REST API whose `{proxy+}` resource passes ANY method to the function (AWS_PROXY), deployed to `Prod`."""
    api_id = client.create_rest_api(name="bench")["id"]
    root = next(r["id"] for r in client.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    proxy = client.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    client.put_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
    client.put_integration(restApiId=api_id, resourceId=proxy, httpMethod="ANY", type="AWS_PROXY", integrationHttpMethod="POST",
                           uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations")
    client.create_deployment(restApiId=api_id, stageName="Prod")
    return api_id


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cloudless-bin", default=default_bin())
    p.add_argument("--requests", type=int, default=2000, help="requests of each kind")
    p.add_argument("--block", type=int, default=200, help="requests per alternating block")
    p.add_argument("--kinds", default="http,rest", help="API kinds beside the direct invokes: http, rest or both")
    p.add_argument("--perf", metavar="TAG", help="then profile each API kind (bench/profiles/apigateway_<kind>-TAG.*)")
    p.add_argument("--perf-requests", type=int, default=3000)
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
        lam, apigw, rest = boto3.client("lambda", **kw), boto3.client("apigatewayv2", **kw), boto3.client("apigateway", **kw)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("bench.py", HANDLER)
        arn = lam.create_function(FunctionName="bench", Runtime=f"python3.{sys.version_info.minor}", Role="arn:aws:iam::000000000000:role/b",
                                  Handler="bench.handler", Code={"ZipFile": buf.getvalue()}, Timeout=30)["FunctionArn"]
        kinds = [("direct", ("POST", "/2015-03-31/functions/bench/invocations", b"{}", {"Authorization": SIGNED}))]
        if "http" in args.kinds:
            http_id = apigw.create_api(Name="bench", ProtocolType="HTTP", Target=arn)["ApiId"]
            kinds.append(("http", ("GET", "/items/1?q=1", None, {"Host": f"{http_id}.execute-api.localhost:{server.port}"})))
        if "rest" in args.kinds:
            rest_id = rest_api(rest, arn)
            kinds.append(("rest", ("GET", "/Prod/items/1?q=1", None, {"Host": f"{rest_id}.execute-api.localhost:{server.port}"})))
        conns = {kind: http.client.HTTPConnection("127.0.0.1", server.port, timeout=60) for kind, _ in kinds}
        for _ in range(100):
            for kind, a in kinds:
                timed(conns[kind], *a)
        pid = server.proc.pid
        times = {kind: [] for kind, _ in kinds}
        cpu = {kind: 0.0 for kind, _ in kinds}
        while len(times["direct"]) < args.requests:
            for kind, a in kinds:
                before = cpu_seconds(pid)
                for _ in range(args.block):
                    times[kind].append(timed(conns[kind], *a))
                cpu[kind] += cpu_seconds(pid) - before
        out = {"binary": args.cloudless_bin, "requests": len(times["direct"])}
        for kind in times:
            out[kind] = {"p50_ms": round(pct(times[kind], 50) * 1000, 3), "p99_ms": round(pct(times[kind], 99) * 1000, 3),
                         "server_cpu_us_per_request": round(cpu[kind] / len(times[kind]) * 1e6, 1)}
        for kind in times:
            if kind != "direct":
                out[f"{kind}_added_p50_ms"] = round(out[kind]["p50_ms"] - out["direct"]["p50_ms"], 3)
                out[f"{kind}_added_server_cpu_us"] = round(out[kind]["server_cpu_us_per_request"] - out["direct"]["server_cpu_us_per_request"], 1)
        print(json.dumps(out, indent=2), flush=True)
        if args.perf:
            for kind, a in kinds:
                if kind != "direct":
                    profile(pid, kind, conns[kind], a, args.perf_requests, args.perf)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
