#!/usr/bin/env python3
"""Added latency of an Application Load Balancer: the same GET to a local HTTP target, direct and through a listener's
own port (and by Host through Cloudless's port), one keep-alive client connection each, sequential. Prints p50/p90 of
each path and the p50 the load balancer adds.

    python3 bench/elb.py [--cloudless-bin PATH] [-n 2000] [--rps SECONDS] [--target-nagle] [--perf TAG]

Also prints Cloudless's CPU time (utime+stime) per request on each path, and requests per second on each path with
`wrk` (Debian's `wrk`; 4 connections for `--rps` seconds, default 3; 0 skips it). `--target-nagle`: the target writes head and
body in two packets without TCP_NODELAY (as many servers do), which costs 40 ms per answer on a kept-alive
connection unless the proxy acknowledges at once. `--perf TAG`: afterwards, each proxied path again under
`perf record` (as bench/profile.py does), drawn to bench/profiles/elb_proxy-TAG.{folded,svg} (listener port) and
elb_proxy_host-TAG.{folded,svg} (by Host on Cloudless's port).
"""
import argparse
import glob
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import flamegraph  # noqa: E402
from measure import cpu_seconds, free_port  # noqa: E402


def default_bin():
    found = sorted(glob.glob(os.path.join(REPO, ".build*/release/cloudless")), key=os.path.getmtime)
    return found[-1] if found else os.path.join(REPO, ".build/debug/cloudless")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    nagle = False

    def setup(self):
        super().setup()
        # Head and body go out in two writes: without this, Nagle and delayed ACKs add 40 ms to every answer.
        if not self.nagle:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def timings(host, port, n, headers=None):
    """Milliseconds per GET, one kept-alive connection."""
    c = http.client.HTTPConnection(host, port, timeout=10)
    out = []
    for i in range(n + n // 10):  # the first tenth warms up
        t = time.perf_counter()
        c.request("GET", "/bench", headers=headers or {})
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        if i >= n // 10:
            out.append((time.perf_counter() - t) * 1000)
    c.close()
    return out


def requests_per_second(host, port, seconds, headers=None):
    """wrk's Requests/sec for GETs on 4 kept-alive connections (one thread), or None without wrk."""
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    argv = [wrk, "-t1", "-c4", f"-d{max(1, round(seconds))}s"]
    for k, v in (headers or {}).items():
        argv += ["-H", f"{k}: {v}"]
    out = subprocess.run(argv + [f"http://{host}:{port}/bench"], capture_output=True, text=True, timeout=seconds + 30).stdout
    line = next((l for l in out.splitlines() if l.startswith("Requests/sec:")), None)
    return float(line.split()[1]) if line else None


def pct(values, p):
    return sorted(values)[int(len(values) * p / 100)]


def profile(pid, name, title, n, call_graph, *a, **kw):
    """`timings(*a, **kw)` under perf, folded and drawn to bench/profiles/<name>.{folded,svg}."""
    data = tempfile.mktemp(prefix=f"cloudless-{name}-", suffix=".perf")
    argv = ["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-p", str(pid), "-o", data]
    argv += ["--call-graph", "dwarf,16384"] if call_graph == "dwarf" else ["-g"]
    rec = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    timings(*a, n=n, **kw)
    rec.send_signal(signal.SIGINT)
    rec.wait(60)
    script = subprocess.run(["perf", "script", "-i", data], capture_output=True, text=True, errors="replace")
    os.unlink(data)
    text = flamegraph.folded_text(flamegraph.fold(script.stdout.splitlines()))
    base = os.path.join(HERE, "profiles", name)
    with open(base + ".folded", "w") as f:
        f.write(text)
    with open(base + ".svg", "w") as f:
        f.write(flamegraph.svg(flamegraph.read_folded(text), f"{title} ({n} requests)"))
    print(f"profile: {base}.svg")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cloudless-bin", default=default_bin())
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--rps", type=int, default=3, metavar="SECONDS", help="wrk run per path (0: none)")
    ap.add_argument("--target-nagle", action="store_true")
    ap.add_argument("--perf", metavar="TAG", help="also profile each proxied path: bench/profiles/elb_proxy[_host]-TAG.svg")
    ap.add_argument("--call-graph", choices=["fp", "dwarf"], default="fp")
    args = ap.parse_args()
    Handler.nagle = args.target_nagle
    class Target(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # wrk resets its connections at the end of a run

    target = Target(("127.0.0.1", 0), Handler)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    data = tempfile.mkdtemp(prefix="cloudless-elb-bench-")
    port = free_port()
    proc = subprocess.Popen([args.cloudless_bin, "serve", "--port", str(port), "--data-dir", data, "--log-level", "info"],
                            stdout=open(os.environ.get("ELB_BENCH_LOG", os.devnull), "w"), stderr=subprocess.STDOUT)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(endpoint + "/_cloudless/health", timeout=1)
                break
            except Exception:
                time.sleep(0.05)
        elb = boto3.client("elbv2", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        lb = elb.create_load_balancer(Name="bench", Subnets=["subnet-1", "subnet-2"])["LoadBalancers"][0]
        tg = elb.create_target_group(Name="bench", Protocol="HTTP", Port=target.server_address[1], VpcId="vpc-1",
                                     TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1"}])
        listener_port = free_port()
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=listener_port,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
        time.sleep(0.5)
        rows, cpu = {}, {}

        def run(name, *a, **kw):
            before = cpu_seconds(proc.pid)
            rows.setdefault(name, []).extend(timings(*a, **kw))
            cpu[name] = cpu.get(name, 0) + cpu_seconds(proc.pid) - before

        for _ in range(3):  # interleaved rounds: noise hits every path alike
            run("direct", "127.0.0.1", target.server_address[1], args.n)
            run("listener port", "127.0.0.1", listener_port, args.n)
            run("by Host on Cloudless's port", "127.0.0.1", port, args.n, {"Host": f"{lb['DNSName']}:{port}"})
        print(f"binary: {args.cloudless_bin}; {3 * args.n} requests per path (ms){'; target without TCP_NODELAY' if args.target_nagle else ''}")
        print("| path | p50 | p90 | Cloudless CPU per request (µs) |\n|---|---|---|---|")
        for name, values in rows.items():
            per = cpu[name] / len(values) / 1.1 * 1e6  # the warm-up tenth ran too
            print(f"| {name} | {pct(values, 50):.3f} | {pct(values, 90):.3f} | {per:.0f} |")
        direct = statistics.median(rows["direct"])
        for name in ("listener port", "by Host on Cloudless's port"):
            print(f"added p50, {name}: {statistics.median(rows[name]) - direct:.3f} ms")
        if args.rps > 0:
            paths = [("direct", target.server_address[1], None), ("listener port", listener_port, None),
                     ("by Host on Cloudless's port", port, {"Host": f"{lb['DNSName']}:{port}"})]
            for name, to, headers in paths:
                rps = requests_per_second("127.0.0.1", to, args.rps, headers)
                print(f"requests per second, {name}: " + (f"{rps:.0f}" if rps else "(no figure: is Debian's wrk installed?)"))
        if args.perf:
            profile(proc.pid, f"elb_proxy-{args.perf}", f"GET through a listener's own port ({args.perf})", args.n,
                    args.call_graph, "127.0.0.1", listener_port)
            profile(proc.pid, f"elb_proxy_host-{args.perf}", f"GET by Host on Cloudless's port ({args.perf})", args.n,
                    args.call_graph, "127.0.0.1", port, headers={"Host": f"{lb['DNSName']}:{port}"})
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
