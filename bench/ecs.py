#!/usr/bin/env python3
"""ECS on Cloudless: how long a service takes to reach a steady state and to roll out a new revision, with and
without a health check, and the scheduler's CPU with many tasks running idle, beside the floor of this machine.

No peer runs here: LocalStack's free edition answers ECS with 501, its paid one, Floci and AWS's own emulator need
Docker, and moto starts no task at all. The floor is what no emulator can beat on this machine: three bare
`python3 -m http.server` processes started at once, until each answers a request.

    python3 bench/ecs.py                          # release build if present, else debug (flagged)
    python3 bench/ecs.py --cloudless-bin PATH --runs 5 --idle-tasks 50

Tasks run `python3 -m http.server 8080` through an image map, in awsvpc mode (each in its own network
namespace where the host allows it). "Steady" is what `aws ecs wait services-stable` checks plus the deployment
COMPLETED and every task answering HTTP. Health checks use AWS's shortest interval, 5 s, on real time.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
from server import Server  # noqa: E402
import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from measure import cpu_seconds, default_bin, free_port  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-12345678"]}}


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return r.status == 200
    except Exception:
        return False


def floor(runs):
    """Three bare `python3 -m http.server` started together, until all three answer."""
    times = []
    for _ in range(runs):
        ports = [free_port() for _ in range(3)]
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "http.server", str(p), "--bind", "127.0.0.1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in ports]
        pending = set(ports)
        while pending:
            pending = {p for p in pending if not answers(f"http://127.0.0.1:{p}/")}
            time.sleep(0.002)
        times.append(time.perf_counter() - t0)
        for p in procs:
            p.kill()
            p.wait()
    return times


def task_urls(ecs, cluster, service):
    arns = ecs.list_tasks(cluster=cluster, serviceName=service)["taskArns"]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
    return [f"http://{d['value']}:8080/" for t in tasks for a in t["attachments"] for d in a["details"]
            if d["name"] == "privateIPv4Address"]


def steady(ecs, cluster, service, revision):
    s = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    d = s["deployments"]
    if not (len(d) == 1 and d[0]["rolloutState"] == "COMPLETED" and d[0]["taskDefinition"].endswith(f":{revision}")
            and s["runningCount"] == s["desiredCount"]):
        return False
    urls = task_urls(ecs, cluster, service)
    return len(urls) == s["desiredCount"] and all(answers(u) for u in urls)


def wait_steady(ecs, cluster, service, revision, t0, limit=120):
    while time.perf_counter() - t0 < limit:
        if steady(ecs, cluster, service, revision):
            return time.perf_counter() - t0
        time.sleep(0.01)
    raise RuntimeError("no steady state")


def service_runs(ecs, runs, health):
    """(create → steady, rolling update → steady) per run."""
    created, rolled = [], []
    for i in range(runs):
        cluster = f"bench-{'h' if health else 'n'}-{i}-{os.getpid()}"
        ecs.create_cluster(clusterName=cluster)
        container = {"name": "web", "image": "bench-http", "portMappings": [{"containerPort": 8080}]}
        if health:
            container["healthCheck"] = {"command": ["CMD-SHELL", "curl -fs http://127.0.0.1:8080/ || exit 1"],
                                        "interval": 5, "timeout": 2, "retries": 3}
        for _ in range(2):
            ecs.register_task_definition(family=cluster, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                         cpu="256", memory="512", containerDefinitions=[container])
        t0 = time.perf_counter()
        ecs.create_service(cluster=cluster, serviceName="web", taskDefinition=f"{cluster}:1", desiredCount=3,
                           launchType="FARGATE", networkConfiguration=NETWORK)
        created.append(wait_steady(ecs, cluster, "web", 1, t0))
        t0 = time.perf_counter()
        ecs.update_service(cluster=cluster, service="web", taskDefinition=f"{cluster}:2")
        rolled.append(wait_steady(ecs, cluster, "web", 2, t0))
        ecs.delete_service(cluster=cluster, service="web", force=True)
        while ecs.list_tasks(cluster=cluster)["taskArns"]:
            time.sleep(0.05)
    return created, rolled


def idle_cpu(ecs, server, tasks, seconds):
    """The emulator's own CPU (not its tasks') over `seconds` with `tasks` tasks running idle."""
    ecs.create_cluster(clusterName="idle")
    ecs.register_task_definition(family="idle", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
                                 memory="512", containerDefinitions=[{"name": "sleep", "image": "sleeper",
                                                                      "dockerLabels": {"cloudless.run": "process"},
                                                                      "entryPoint": ["sleep", "3600"]}])
    ecs.create_service(cluster="idle", serviceName="idle", taskDefinition="idle", desiredCount=tasks,
                       launchType="FARGATE", networkConfiguration=NETWORK)
    while True:
        s = ecs.describe_services(cluster="idle", services=["idle"])["services"][0]
        if s["runningCount"] == tasks and s["deployments"][0]["rolloutState"] == "COMPLETED":
            break
        time.sleep(0.2)
    time.sleep(2)
    pid = server.proc.pid
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    used = (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)
    ecs.delete_service(cluster="idle", service="idle", force=True)
    return used


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cloudless-bin", default=default_bin())
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--health-runs", type=int, default=3)
    ap.add_argument("--idle-tasks", type=int, default=50)
    ap.add_argument("--idle-seconds", type=float, default=10)
    args = ap.parse_args()
    os.environ["CLOUDLESS_BIN"] = args.cloudless_bin
    if "/debug/" in args.cloudless_bin:
        print(f"note: {args.cloudless_bin} is a debug build; numbers are not representative")
    folder = tempfile.mkdtemp(prefix="cloudless-bench-ecs-")
    images = os.path.join(folder, "images.json")
    with open(images, "w") as f:
        json.dump({"bench-http": {"entryPoint": [sys.executable, "-m", "http.server", "8080", "--bind", "0.0.0.0"]}}, f)
    server = Server(args=["--ecs-images", images, "--log-level", "warning"]).start()
    try:
        ecs = boto3.client("ecs", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
        base = floor(args.runs)
        created, rolled = service_runs(ecs, args.runs, health=False)
        h_created, h_rolled = service_runs(ecs, args.health_runs, health=True)
        cpu = idle_cpu(ecs, server, args.idle_tasks, args.idle_seconds)
    finally:
        server.stop()
    med = statistics.median
    f = med(base)
    rows = [
        ("floor: 3 × `python3 -m http.server` until each answers, median", "", f"{f * 1000:.0f} ms"),
        ("CreateService (3 tasks) → steady, median", "", f"{med(created) * 1000:.0f} ms"),
        ("… over the floor", "≤ 2 s", f"+{(med(created) - f) * 1000:.0f} ms"),
        ("rolling update of the 3 tasks (100/200) → steady, median", "", f"{med(rolled) * 1000:.0f} ms"),
        ("… over the floor", "≤ 2 s", f"+{(med(rolled) - f) * 1000:.0f} ms"),
        ("with a 5 s health check: CreateService → steady, median", "", f"{med(h_created) * 1000:.0f} ms"),
        ("… beyond the first interval (5 s)", "≤ 1 s", f"+{(med(h_created) - 5) * 1000:.0f} ms"),
        ("with a 5 s health check: rolling update → steady, median", "", f"{med(h_rolled) * 1000:.0f} ms"),
        (f"scheduler CPU with {args.idle_tasks} tasks running idle", "< 1 % of a core", f"{cpu * 100:.2f} %"),
    ]
    print("| metric | target | Cloudless |\n|---|---|---|")
    for name, target, value in rows:
        print(f"| {name} | {target} | {value} |")


if __name__ == "__main__":
    main()
