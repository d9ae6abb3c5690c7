"""What a process inside an ECS task sees: boto3 with no endpoint and no credentials in its code reads a secret
(AWS_ENDPOINT_URL and the task role's credentials endpoint), the task metadata endpoint v4 answers AWS's shapes,
and the environment is AWS's, not the emulator's. Also: kill -9 of the emulator mid-deployment, a restart, and
the service converges again with no old process left."""
import json
import os
import time
import uuid

import pytest

from helpers import make_client, pid_alive
from server import Server
from ecs_helpers import NETWORK, advance, wait_for

PROBE = r"""
import json, os, urllib.request
import boto3
secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["SECRET_ID"])["SecretString"]
identity = boto3.client("sts").get_caller_identity()
who, arn = identity["Account"], identity["Arn"]
meta = os.environ["ECS_CONTAINER_METADATA_URI_V4"]
task = json.load(urllib.request.urlopen(meta + "/task"))
container = json.load(urllib.request.urlopen(meta))
tagged = json.load(urllib.request.urlopen(meta + "/taskWithTags"))
stats = json.load(urllib.request.urlopen(meta + "/stats"))
task_stats = json.load(urllib.request.urlopen(meta + "/task/stats"))
print(json.dumps({"secret": secret, "account": who, "arn": arn, "task": task, "stats": stats, "task_stats": task_stats, "container": container, "tags": tagged.get("TaskTags"),
                  "env": sorted(os.environ)}), flush=True)
"""


@pytest.fixture(scope="module")
def server():
    s = Server(env={"CLOUDLESS_SECRET_MARKER": "must-not-leak"}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def clients(server):
    return {name: make_client(server.endpoint, name) for name in ("ecs", "logs", "secretsmanager")}


def test_boto3_inside_a_task_needs_no_configuration(server, clients):
    report, task = probe(clients)
    assert report["container"]["Name"] == "probe" and report["container"]["KnownStatus"] == "RUNNING"
    assert report["container"]["LogDriver"] == "awslogs"
    assert report["tags"] == {"team": "blue"}
    stats = report["stats"]
    assert stats["name"] == "probe" and stats["memory_stats"]["usage"] > 1_000_000
    assert stats["memory_stats"]["limit"] == 512 * 1_048_576
    assert stats["cpu_stats"]["cpu_usage"]["total_usage"] > 0 and stats["cpu_stats"]["system_cpu_usage"] > 0
    assert list(report["task_stats"].values())[0]["name"] == "probe"
    env = set(report["env"])
    assert {"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "ECS_CONTAINER_METADATA_URI_V4", "SECRET_ID"} <= env
    assert "CLOUDLESS_SECRET_MARKER" not in env and "AWS_ACCESS_KEY_ID" not in env


def test_task_role_credentials_are_verified_under_strict_auth():
    """The task role's temporary key signs the task's requests; a --strict-auth server verifies them."""
    s = Server(args=["--strict-auth"]).start()
    try:
        clients = {name: make_client(s.endpoint, name) for name in ("ecs", "logs", "secretsmanager")}
        report, task = probe(clients)
        assert report["arn"] == f"arn:aws:sts::000000000000:assumed-role/probe/{task['taskArn'].rsplit('/', 1)[1]}"
    finally:
        s.stop()


def probe(clients):
    """Run the probe task to its end; (its report, the task as RunTask answered it)."""
    ecs, logs, sm = clients["ecs"], clients["logs"], clients["secretsmanager"]
    name = "inside/" + uuid.uuid4().hex[:6]
    sm.create_secret(Name=name, SecretString="from-secrets-manager")
    cluster = "inside-" + uuid.uuid4().hex[:6]
    ecs.create_cluster(clusterName=cluster)
    group = "/ecs/" + cluster
    ecs.register_task_definition(
        family="probe", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        taskRoleArn="arn:aws:iam::000000000000:role/probe", executionRoleArn="arn:aws:iam::000000000000:role/exec",
        containerDefinitions=[{
            "name": "probe", "image": "python:3.11", "dockerLabels": {"cloudless.run": "process"},
            "entryPoint": ["python3", "-c", PROBE], "environment": [{"name": "SECRET_ID", "value": name}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "probe",
                "awslogs-create-group": "true"}}}])
    task = ecs.run_task(cluster=cluster, taskDefinition="probe", launchType="FARGATE", networkConfiguration=NETWORK,
                        tags=[{"key": "team", "value": "blue"}])["tasks"][0]
    t = wait_for(lambda: (t := ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"]])["tasks"][0])["lastStatus"] == "STOPPED" and t,
                 timeout=60)
    stream = f"probe/probe/{task['taskArn'].rsplit('/', 1)[1]}"
    lines = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]]
    assert t["containers"][0]["exitCode"] == 0, lines
    report = json.loads(lines[-1])
    assert report["secret"] == "from-secrets-manager"
    assert report["account"] == "000000000000"
    assert report["task"]["TaskARN"] == task["taskArn"]
    assert report["task"]["Family"] == "probe" and report["task"]["Revision"] == "1"
    assert report["task"]["Cluster"].endswith(f":cluster/{cluster}")
    assert report["task"]["Containers"][0]["Name"] == "probe"
    return report, task


def test_kill_9_mid_deployment_then_the_service_converges_with_no_old_process(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    s = Server(data_dir=data).start()
    ecs = make_client(s.endpoint, "ecs")
    ecs.create_cluster(clusterName="k9")
    app = {"name": "app", "image": "x", "dockerLabels": {"cloudless.run": "process"},
           "entryPoint": ["sh", "-c", "sleep 600 & wait"]}
    for version in ("1", "2"):
        ecs.register_task_definition(family="k9", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                     cpu="256", memory="512",
                                     containerDefinitions=[{**app, "environment": [{"name": "V", "value": version}]}])
    ecs.create_service(cluster="k9", serviceName="svc", taskDefinition="k9:1", desiredCount=2, launchType="FARGATE",
                       networkConfiguration=NETWORK)

    def stable(td):
        svc = ecs.describe_services(cluster="k9", services=["svc"])["services"][0]
        d = svc["deployments"]
        return len(d) == 1 and d[0]["rolloutState"] == "COMPLETED" and d[0]["taskDefinition"].endswith(td) \
            and svc["runningCount"] == 2
    wait_for(lambda: stable("k9:1"), tick=lambda: advance(s, 2))
    ecs.update_service(cluster="k9", service="svc", taskDefinition="k9:2")
    time.sleep(0.2)
    old = [pid for pid, _, cwd, _ in live_tasks(data)]
    assert old
    s.kill9()
    deadline = time.time() + 5
    while time.time() < deadline and any(pid_alive(p) for p in old):
        time.sleep(0.05)
    assert not any(pid_alive(p) for p in old), "a task process outlived kill -9 of the emulator"

    s2 = Server(data_dir=data, port=s.port).start()
    try:
        wait_for(lambda: stable("k9:2"), timeout=30, tick=lambda: advance(s2, 2))
        stopped = ecs.describe_tasks(cluster="k9", tasks=ecs.list_tasks(cluster="k9", desiredStatus="STOPPED")["taskArns"])["tasks"]
        gone = [t for t in stopped if t["stopCode"] == "TerminationNotice"]
        assert gone and all("emulator restarted" in t["stoppedReason"] for t in gone)
        running = ecs.describe_tasks(cluster="k9", tasks=ecs.list_tasks(cluster="k9")["taskArns"])["tasks"]
        assert len(running) == 2 and all(t["taskDefinitionArn"].endswith("k9:2") for t in running)
        ecs.delete_service(cluster="k9", service="svc", force=True)
        wait_for(lambda: not ecs.list_tasks(cluster="k9")["taskArns"])
    finally:
        s2.stop()


def live_tasks(data):
    """(pid, cmdline, cwd, environ) of live processes started by the server of `data`."""
    from server import live_processes
    root = os.path.realpath(data)
    return [p for p in live_processes() if p[2] == root or p[2].startswith(root + "/")]
