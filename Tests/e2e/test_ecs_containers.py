"""What a process container of an ECS task gets, one member of its container definition at a time: environment
files from S3 below `environment`, secrets with a JSON key, a Parameter Store reference refused with AWS's text,
`dependsOn` SUCCESS / COMPLETE with non-essential containers, a dependency that can never be met, `startTimeout`,
an exec-form (CMD) health check, `ulimits`, `workingDirectory`. Output is read back through awslogs.

The module has its own server: it moves the clock."""
import json
import socket
import urllib.request
import uuid

import pytest

from helpers import make_client
from server import Server
from ecs_helpers import NETWORK, advance, wait_for

ROLE = "arn:aws:iam::000000000000:role/exec"


@pytest.fixture(scope="module")
def server():
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def c(server):
    class Clients:
        ecs = make_client(server.endpoint, "ecs")
        logs = make_client(server.endpoint, "logs")
        s3 = make_client(server.endpoint, "s3")
        sm = make_client(server.endpoint, "secretsmanager")
        cluster = "ctr-" + uuid.uuid4().hex[:8]
        group = "/ecs/ctr-" + uuid.uuid4().hex[:8]
    Clients.ecs.create_cluster(clusterName=Clients.cluster)
    Clients.logs.create_log_group(logGroupName=Clients.group)
    return Clients


def container(name, command, **extra):
    return {"name": name, "image": "x", "dockerLabels": {"cloudless.run": "process"},
            "entryPoint": ["sh", "-c", command], **extra}


def run(c, family, containers, **extra):
    for ctr in containers:
        ctr.setdefault("logConfiguration", {"logDriver": "awslogs", "options": {
            "awslogs-group": c.group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": family}})
    c.ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
                                   memory="512", executionRoleArn=ROLE, containerDefinitions=containers, **extra)
    return c.ecs.run_task(cluster=c.cluster, taskDefinition=family, launchType="FARGATE",
                          networkConfiguration=NETWORK)["tasks"][0]["taskArn"]


def describe(c, arn):
    return c.ecs.describe_tasks(cluster=c.cluster, tasks=[arn])["tasks"][0]


def stopped(c, arn, **kw):
    return wait_for(lambda: (t := describe(c, arn))["lastStatus"] == "STOPPED" and t, **kw)


def output(c, family, name, arn):
    stream = f"{family}/{name}/{arn.rsplit('/', 1)[1]}"
    return [e["message"] for e in c.logs.get_log_events(logGroupName=c.group, logStreamName=stream)["events"]]


def test_environment_files_environment_and_secrets(c):
    bucket = "ctr-env-" + uuid.uuid4().hex[:8]
    c.s3.create_bucket(Bucket=bucket)
    c.s3.put_object(Bucket=bucket, Key="app.env", Body=b"# settings\nFROM_FILE=file\nBOTH=file\n\nEMPTY=\n")
    arn = c.sm.create_secret(Name="ctr/db-" + uuid.uuid4().hex[:6], SecretString=json.dumps({"user": "admin", "password": "pw"}))["ARN"]
    task = run(c, "envs", [container(
        "app", "echo FROM_FILE=$FROM_FILE BOTH=$BOTH EMPTY=[$EMPTY] DB_USER=$DB_USER WHOLE=$WHOLE PWD=$(pwd)",
        environmentFiles=[{"value": f"arn:aws:s3:::{bucket}/app.env", "type": "s3"}],
        environment=[{"name": "BOTH", "value": "environment"}],
        secrets=[{"name": "DB_USER", "valueFrom": f"{arn}:user::"}, {"name": "WHOLE", "valueFrom": arn}],
        workingDirectory="/tmp")])
    t = stopped(c, task)
    assert t["containers"][0]["exitCode"] == 0
    line = output(c, "envs", "app", task)[0]
    assert line.startswith("FROM_FILE=file BOTH=environment EMPTY=[] DB_USER=admin WHOLE={")
    assert line.endswith(" PWD=/tmp")


def test_missing_environment_file_stops_the_task(c):
    task = run(c, "noenvfile", [container("app", "true", environmentFiles=[
        {"value": "arn:aws:s3:::no-such-bucket-" + uuid.uuid4().hex[:6] + "/x.env", "type": "s3"}])])
    t = stopped(c, task)
    assert t["stopCode"] == "TaskFailedToStart"
    assert t["stoppedReason"].startswith("ResourceInitializationError: failed to download env files")
    assert "NoSuchBucket" in t["stoppedReason"]


def test_parameter_store_secret_is_refused_with_awss_text(c):
    task = run(c, "ssm", [container("app", "true", secrets=[{"name": "P", "valueFrom": "/my/parameter"}])])
    t = stopped(c, task)
    assert t["stopCode"] == "TaskFailedToStart"
    assert t["stoppedReason"].startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        "unable to retrieve secrets from ssm")


def test_depends_on_success_and_complete_with_non_essential_containers(c):
    task = run(c, "ordering", [
        container("init", "echo init; exit 0", essential=False),
        container("migrate", "echo migrate; exit 3", essential=False),
        container("app", "echo app started; sleep 600",
                  dependsOn=[{"containerName": "init", "condition": "SUCCESS"},
                             {"containerName": "migrate", "condition": "COMPLETE"}]),
    ])
    t = wait_for(lambda: (t := describe(c, task))["lastStatus"] == "RUNNING" and t)
    by_name = {x["name"]: x for x in t["containers"]}
    assert by_name["init"]["exitCode"] == 0 and by_name["migrate"]["exitCode"] == 3
    assert by_name["app"]["lastStatus"] == "RUNNING"
    wait_for(lambda: output(c, "ordering", "app", task) == ["app started"])
    c.ecs.stop_task(cluster=c.cluster, task=task)
    stopped(c, task)


def test_a_dependency_that_cannot_be_met_stops_the_task(c):
    task = run(c, "failedinit", [
        container("init", "exit 1", essential=False),
        container("app", "sleep 600", dependsOn=[{"containerName": "init", "condition": "SUCCESS"}]),
    ])
    t = stopped(c, task)
    assert t["stopCode"] == "TaskFailedToStart"
    app = next(x for x in t["containers"] if x["name"] == "app")
    assert "runtimeId" not in app and app["lastStatus"] == "STOPPED"


def test_start_timeout_gives_up_on_a_dependency(server, c):
    task = run(c, "slowdep", [
        container("sidecar", "sleep 600", healthCheck={"command": ["CMD-SHELL", "false"], "interval": 5, "retries": 100}),
        container("app", "sleep 600", startTimeout=30,
                  dependsOn=[{"containerName": "sidecar", "condition": "HEALTHY"}]),
    ])
    wait_for(lambda: describe(c, task)["containers"][0]["lastStatus"] == "RUNNING")
    assert describe(c, task)["lastStatus"] == "PENDING"
    advance(server, 31)
    t = stopped(c, task)
    assert t["stopCode"] == "TaskFailedToStart"
    assert "did not start within 30 seconds" in next(x for x in t["containers"] if x["name"] == "app")["reason"]


def test_exec_form_health_check(server, c):
    task = run(c, "cmdcheck", [container("app", "sleep 600", healthCheck={
        "command": ["CMD", "test", "-d", "/"], "interval": 5, "timeout": 2, "retries": 1})])
    wait_for(lambda: describe(c, task)["lastStatus"] == "RUNNING")
    t = wait_for(lambda: (t := describe(c, task))["healthStatus"] == "HEALTHY" and t, tick=lambda: advance(server, 5), step=0.2)
    assert t["containers"][0]["healthStatus"] == "HEALTHY"
    c.ecs.stop_task(cluster=c.cluster, task=task)
    stopped(c, task)


def test_ulimits_apply_to_the_process(c):
    task = run(c, "limits", [container("app", "echo nofile=$(ulimit -n) core=$(ulimit -c)", ulimits=[
        {"name": "nofile", "softLimit": 1000, "hardLimit": 2000}, {"name": "core", "softLimit": 0, "hardLimit": 0}])])
    stopped(c, task)
    assert output(c, "limits", "app", task) == ["nofile=1000 core=0"]


def test_host_network_task_stops_when_its_port_is_taken(c):
    """Without a network namespace (host and bridge modes), tasks share the host's ports: a port another process
    holds stops the task with Docker's reason, and a free one serves from the host's address."""
    c.ecs.register_container_instance(cluster=c.cluster, instanceIdentityDocument=json.dumps({
        "instanceId": "i-" + uuid.uuid4().hex[:17], "region": "us-east-1", "availabilityZone": "us-east-1a",
        "instanceType": "t3.medium"}))
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    try:
        for family, port in (("hostclash", taken), ("hostfree", free)):
            c.ecs.register_task_definition(family=family, networkMode="host", containerDefinitions=[{
                "name": "web", "image": "x", "memory": 128, "dockerLabels": {"cloudless.run": "process"},
                "entryPoint": ["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                "portMappings": [{"containerPort": port}]}])
        clash = c.ecs.run_task(cluster=c.cluster, taskDefinition="hostclash", launchType="EC2")["tasks"][0]["taskArn"]
        t = stopped(c, clash)
        assert t["stopCode"] == "TaskFailedToStart"
        assert t["stoppedReason"] == ("CannotStartContainerError: Error response from daemon: driver failed programming "
                                      f"external connectivity on endpoint web: Bind for 0.0.0.0:{taken} failed: port is already allocated")
        ok = c.ecs.run_task(cluster=c.cluster, taskDefinition="hostfree", launchType="EC2")["tasks"][0]["taskArn"]
        wait_for(lambda: describe(c, ok)["lastStatus"] == "RUNNING")
        wait_for(lambda: _answers(f"http://127.0.0.1:{free}/"))
        c.ecs.stop_task(cluster=c.cluster, task=ok)
        stopped(c, ok)
    finally:
        holder.close()


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200
    except Exception:
        return False
