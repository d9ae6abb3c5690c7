"""The ECS scheduler with real processes: services reach a steady state, rolling deployments keep
minimumHealthyPercent of healthy tasks at every moment, a container that crashes at start trips the
circuit breaker and the service rolls back, a task whose secret does not exist stops with
ResourceInitializationError, an unhealthy task is replaced, dependsOn HEALTHY holds a container until its
sidecar is healthy, tasks get their own network address, awslogs lines reach CloudWatch Logs.

Tasks run the lab's booking service (fixtures/labs/ecs-fargate) through an image map. Health checks
follow the emulator's clock, so the tests move it instead of waiting. The module has its own server:
it moves the clock."""
import json
import os
import tempfile
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import error, make_client
from server import REPO, Server
from ecs_helpers import NETWORK, advance, wait_for

LAB = os.path.join(REPO, "fixtures", "labs", "ecs-fargate")
# The tests move the clock 5 s every quarter second: a start period and three retries give a server about a second
# of real time to come up, even on a busy machine.
HEALTH = {"command": ["CMD-SHELL", "curl -fsS http://localhost:3002/api/health || exit 1"],
          "interval": 5, "timeout": 3, "retries": 3, "startPeriod": 10}


@pytest.fixture(scope="module")
def server():
    folder = tempfile.mkdtemp(prefix="cloudless-ecs-images-")
    images = os.path.join(folder, "images.json")
    with open(images, "w") as f:
        json.dump({
            "booking-service": {"entryPoint": ["python3", "server.py"], "workingDirectory": os.path.join(LAB, "app")},
            "crasher": {"entryPoint": ["sh", "-c", "echo starting; exit 7"]},
        }, f)
    s = Server(args=["--ecs-images", images]).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def cluster(ecs):
    name = "sched-" + uuid.uuid4().hex[:8]
    ecs.create_cluster(clusterName=name, capacityProviders=["FARGATE"])
    yield name
    arns = ecs.list_services(cluster=name, maxResults=100)["serviceArns"]
    for s in ecs.describe_services(cluster=name, services=arns)["services"] if arns else []:
        if s["status"] == "ACTIVE":  # DRAINING ones are on their way out already
            ecs.delete_service(cluster=name, service=s["serviceArn"], force=True)
    deadline = time.time() + 30
    while time.time() < deadline and ecs.list_tasks(cluster=name)["taskArns"]:
        time.sleep(0.1)


def register(ecs, family, image="booking-service", health=True, env=None, **extra):
    container = {"name": "app", "image": image, "essential": True, "portMappings": [{"containerPort": 3002}],
                 "environment": [{"name": "PORT", "value": "3002"}, *(env or [])]}
    if health:
        container["healthCheck"] = HEALTH
    container.update(extra.pop("container", {}))
    return ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[container, *extra.pop("sidecars", [])], **extra)["taskDefinition"]


def service(ecs, cluster, name):
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def tasks_of(ecs, cluster, name, status="RUNNING"):
    arns = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus=status)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def address(task):
    return next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "privateIPv4Address")


def stable(ecs, cluster, name):
    s = service(ecs, cluster, name)
    return len(s["deployments"]) == 1 and s["runningCount"] == s["desiredCount"] \
        and s["deployments"][0]["rolloutState"] == "COMPLETED" and s


def create(ecs, server, cluster, name, family, desired, minimum=100, maximum=200, breaker=None, **kw):
    config = {"minimumHealthyPercent": minimum, "maximumPercent": maximum}
    if breaker:
        config["deploymentCircuitBreaker"] = breaker
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=family, desiredCount=desired,
                       launchType="FARGATE", networkConfiguration=NETWORK, deploymentConfiguration=config, **kw)
    return wait_for(lambda: stable(ecs, cluster, name), step=0.25, tick=lambda: advance(server, 5))


def test_service_reaches_steady_state_with_three_tasks_on_one_port(ecs, server, cluster):
    register(ecs, "steady")
    s = create(ecs, server, cluster, "steady", "steady", 3)
    messages = [e["message"] for e in s["events"]]
    assert "(service steady) has reached a steady state." in messages
    assert any(m.startswith("(service steady) has started 3 tasks: (task ") for m in messages)
    assert any(m.endswith("deployment completed.") for m in messages)
    tasks = tasks_of(ecs, cluster, "steady")
    assert len(tasks) == 3
    addresses = {address(t) for t in tasks}
    assert len(addresses) == 3
    for t in tasks:
        assert t["lastStatus"] == "RUNNING" and t["healthStatus"] == "HEALTHY"
        assert t["containers"][0]["healthStatus"] == "HEALTHY"
        assert t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] == address(t)
        assert t["startedBy"] == s["deployments"][0]["id"] and t["group"] == "service:steady"
        for key in ("createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "connectivityAt"):
            assert key in t
    # Each task's own server answers on the same port at its own address.
    hosts = set()
    for a in addresses:
        with urllib.request.urlopen(f"http://{a}:3002/api/bookings", timeout=5) as r:
            hosts.add(json.load(r)["task"])
    assert len(hosts) == 3


@pytest.mark.parametrize("desired,minimum,maximum", [(3, 100, 200), (4, 50, 100)])
def test_rolling_update_never_drops_below_minimum_healthy(ecs, server, cluster, desired, minimum, maximum):
    name = f"roll-{minimum}-{maximum}"
    register(ecs, name)
    create(ecs, server, cluster, name, name, desired, minimum, maximum)
    new = register(ecs, name, env=[{"name": "APP_VERSION", "value": "2"}])
    ecs.update_service(cluster=cluster, service=name, taskDefinition=new["taskDefinitionArn"])
    floor = -(-desired * minimum // 100)
    ceiling = desired * maximum // 100
    mixed = False
    samples = 0
    deadline = time.time() + 60
    while time.time() < deadline:
        s = service(ecs, cluster, name)
        arns = ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"] + \
            ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus="STOPPED")["taskArns"]
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
        healthy = [t for t in tasks if t["lastStatus"] == "RUNNING" and t["healthStatus"] == "HEALTHY"]
        alive = [t for t in tasks if t["lastStatus"] != "STOPPED"]
        assert len(healthy) >= floor, (len(healthy), floor, s["events"][:5])
        assert len(alive) <= ceiling, (len(alive), ceiling)
        mixed = mixed or len({t["taskDefinitionArn"] for t in alive}) == 2
        if len(s["deployments"]) == 1 and s["deployments"][0]["rolloutState"] == "COMPLETED" \
                and s["deployments"][0]["taskDefinition"] == new["taskDefinitionArn"]:
            break
        # Sample every 50 ms; move the clock (health checks every 5 s) every fifth sample.
        samples += 1
        if samples % 5 == 0:
            advance(server, 5)
        time.sleep(0.05)
    else:
        raise AssertionError(f"the rolling update did not complete: {service(ecs, cluster, name)['events'][:5]}")
    assert mixed  # the samples saw old and new tasks side by side
    running = tasks_of(ecs, cluster, name)
    assert len(running) == desired and all(t["taskDefinitionArn"] == new["taskDefinitionArn"] for t in running)
    messages = [e["message"] for e in service(ecs, cluster, name)["events"]]
    assert any(m.startswith(f"(service {name}) has stopped ") and "running tasks" in m for m in messages)
    stopped = tasks_of(ecs, cluster, name, "STOPPED")
    assert stopped and all(t["stopCode"] == "ServiceSchedulerInitiated" for t in stopped)
    assert all(t["stoppedReason"].startswith("Scaling activity initiated by (deployment ecs-svc/") for t in stopped)
    ecs.delete_service(cluster=cluster, service=name, force=True)


def test_crash_at_start_trips_the_circuit_breaker_and_rolls_back(ecs, server, cluster):
    register(ecs, "breaker", health=False)
    s = create(ecs, server, cluster, "breaker", "breaker", 2, breaker={"enable": True, "rollback": True})
    good = s["deployments"][0]
    bad = register(ecs, "breaker", image="crasher", health=False)
    ecs.update_service(cluster=cluster, service="breaker", taskDefinition=bad["taskDefinitionArn"])

    def rolled_back():
        s = service(ecs, cluster, "breaker")
        primary = s["deployments"][0]
        return primary["taskDefinition"] == good["taskDefinition"] and primary["rolloutState"] == "COMPLETED" \
            and len(s["deployments"]) == 1 and s
    s = wait_for(rolled_back, timeout=60, step=0.2, tick=lambda: advance(server, 5))
    assert s["taskDefinition"] == good["taskDefinition"]
    assert s["deployments"][0]["rolloutStateReason"].startswith("ECS deployment ecs-svc/")
    messages = [e["message"] for e in s["events"]]
    assert any("deployment failed: tasks failed to start." in m for m in messages)
    assert any(m.startswith("(service breaker) rolling back to deployment ") for m in messages)
    failed = [t for t in tasks_of(ecs, cluster, "breaker", "STOPPED") if t["taskDefinitionArn"] == bad["taskDefinitionArn"]]
    crashed = [t for t in failed if t["stopCode"] == "EssentialContainerExited"]
    assert len(crashed) >= 3
    assert all(t["stoppedReason"] == "Essential container in task exited" for t in crashed)
    assert all(t["containers"][0]["exitCode"] == 7 for t in crashed)
    # Tasks of the failed deployment still starting when it rolled back were stopped by the scheduler.
    assert all(t["stopCode"] == "ServiceSchedulerInitiated" for t in failed if t not in crashed)
    # The service deployments: the first succeeded, the second was rolled back by the circuit breaker.
    listed = ecs.list_service_deployments(cluster=cluster, service="breaker")["serviceDeployments"]
    assert [d["status"] for d in listed] == ["ROLLBACK_SUCCESSFUL", "SUCCESSFUL"]
    sd = ecs.describe_service_deployments(serviceDeploymentArns=[listed[0]["serviceDeploymentArn"]])["serviceDeployments"][0]
    assert sd["deploymentCircuitBreaker"]["status"] == "TRIGGERED" and sd["deploymentCircuitBreaker"]["failureCount"] >= 3
    assert sd["deploymentCircuitBreaker"]["threshold"] == 3
    assert sd["rollback"]["reason"] == "Circuit breaker triggered."
    assert sd["sourceServiceRevisions"][0]["arn"] == listed[1]["targetServiceRevisionArn"]
    revisions = ecs.describe_service_revisions(serviceRevisionArns=[listed[0]["targetServiceRevisionArn"], sd["rollback"]["serviceRevisionArn"]])["serviceRevisions"]
    assert [r["taskDefinition"] for r in revisions] == [bad["taskDefinitionArn"], good["taskDefinition"]]
    assert revisions[0]["containerImages"][0] == {"containerName": "app", "image": "crasher", "imageDigest": revisions[0]["containerImages"][0]["imageDigest"]}
    assert service(ecs, cluster, "breaker")["currentServiceDeployment"] == listed[0]["serviceDeploymentArn"]
    ecs.delete_service(cluster=cluster, service="breaker", force=True)


def test_circuit_breaker_without_rollback_leaves_the_deployment_failed(ecs, server, cluster):
    register(ecs, "nobreak", image="crasher", health=False)
    ecs.create_service(cluster=cluster, serviceName="nobreak", taskDefinition="nobreak", desiredCount=1,
                       launchType="FARGATE", networkConfiguration=NETWORK,
                       deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    s = wait_for(lambda: (s := service(ecs, cluster, "nobreak"))["deployments"][0]["rolloutState"] == "FAILED" and s,
                 timeout=60, step=0.2, tick=lambda: advance(server, 60))
    d = s["deployments"][0]
    assert d["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert d["failedTasks"] >= 3 and d["status"] == "PRIMARY"
    ecs.delete_service(cluster=cluster, service="nobreak", force=True)


def test_stop_service_deployment_rolls_back(ecs, server, cluster):
    register(ecs, "stopdep", health=False)
    create(ecs, server, cluster, "stopdep", "stopdep", 1)
    # A second revision whose health check never passes: the deployment stays IN_PROGRESS until stopped.
    register(ecs, "stopdep", health=False, container={"healthCheck": {"command": ["CMD-SHELL", "false"], "interval": 5,
                                                                        "retries": 10, "startPeriod": 300}})
    ecs.update_service(cluster=cluster, service="stopdep", taskDefinition="stopdep")
    arn = wait_for(lambda: (d := ecs.list_service_deployments(cluster=cluster, service="stopdep", status=["IN_PROGRESS"])
                            ["serviceDeployments"]) and d[0]["serviceDeploymentArn"])
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ABORT")
    assert error(e)[0] == "InvalidParameterException"
    assert ecs.stop_service_deployment(serviceDeploymentArn=arn)["serviceDeploymentArn"] == arn
    done = wait_for(lambda: (sd := ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0])
                    ["status"] == "ROLLBACK_SUCCESSFUL" and sd)
    assert done["rollback"]["reason"] == "Service deployment stop requested."
    assert service(ecs, cluster, "stopdep")["taskDefinition"].endswith("stopdep:1")
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(serviceDeploymentArn=arn)
    assert error(e)[0] == "ConflictException"
    with pytest.raises(ClientError) as e:
        ecs.stop_service_deployment(serviceDeploymentArn=arn.rsplit("/", 1)[0] + "/nope")
    assert error(e)[0] == "ServiceDeploymentNotFoundException"
    missing = ecs.describe_service_deployments(serviceDeploymentArns=[arn + "x"])
    assert missing["failures"][0]["reason"] == "MISSING"
    ecs.delete_service(cluster=cluster, service="stopdep", force=True)


def test_missing_secret_stops_the_task_before_anything_starts(ecs, server, cluster):
    register(ecs, "nosecret", health=False, executionRoleArn="arn:aws:iam::000000000000:role/exec",
             container={"secrets": [{"name": "DB_PASSWORD",
                                     "valueFrom": "arn:aws:secretsmanager:us-east-1:000000000000:secret:does/not-exist"}]})
    arn = ecs.run_task(cluster=cluster, taskDefinition="nosecret", launchType="FARGATE",
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    t = wait_for(lambda: (t := ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0])["lastStatus"] == "STOPPED" and t)
    assert t["stopCode"] == "TaskFailedToStart"
    assert t["stoppedReason"].startswith("ResourceInitializationError: unable to pull secrets or registry auth: ")
    assert "ResourceNotFoundException" in t["stoppedReason"]
    assert "startedAt" not in t and "runtimeId" not in t["containers"][0]


def test_secret_by_arn_without_suffix_reaches_the_container(ecs, server, cluster):
    sm = make_client(server.endpoint, "secretsmanager")
    secret = sm.create_secret(Name="sched/db-" + uuid.uuid4().hex[:6], SecretString="hunter2")
    partial = secret["ARN"][:-7]
    register(ecs, "withsecret", health=True, executionRoleArn="arn:aws:iam::000000000000:role/exec",
             container={"secrets": [{"name": "DB_PASSWORD", "valueFrom": partial}]})
    create(ecs, server, cluster, "withsecret", "withsecret", 1)
    t = tasks_of(ecs, cluster, "withsecret")[0]
    with urllib.request.urlopen(f"http://{address(t)}:3002/api/secret", timeout=5) as r:
        assert json.load(r) == {"DB_PASSWORD": "set"}
    ecs.delete_service(cluster=cluster, service="withsecret", force=True)


def test_unhealthy_task_is_replaced(ecs, server, cluster):
    failing = {"command": ["CMD-SHELL", "test -f healthy"], "interval": 5, "timeout": 2, "retries": 2, "startPeriod": 0}
    register(ecs, "sick", health=False, container={"healthCheck": failing})
    ecs.create_service(cluster=cluster, serviceName="sick", taskDefinition="sick", desiredCount=1,
                       launchType="FARGATE", networkConfiguration=NETWORK)
    first = wait_for(lambda: tasks_of(ecs, cluster, "sick"))[0]["taskArn"]

    def replaced():
        stopped = ecs.describe_tasks(cluster=cluster, tasks=[first])["tasks"][0]
        return stopped["lastStatus"] == "STOPPED" and stopped
    stopped = wait_for(replaced, step=0.2, tick=lambda: advance(server, 5))
    assert stopped["stoppedReason"] == "Task failed container health checks"
    assert stopped["healthStatus"] == "UNHEALTHY"
    assert stopped["containers"][0]["healthStatus"] == "UNHEALTHY"
    messages = [e["message"] for e in service(ecs, cluster, "sick")["events"]]
    assert f"(service sick) (task {first.rsplit('/', 1)[1]}) failed container health checks." in messages
    replacement = wait_for(lambda: [t for t in tasks_of(ecs, cluster, "sick") if t["taskArn"] != first])
    assert replacement
    ecs.delete_service(cluster=cluster, service="sick", force=True)


def test_depends_on_healthy_holds_the_app_until_the_sidecar_is_healthy(ecs, server, cluster):
    sidecar = {"name": "sidecar", "image": "sidecar", "essential": True, "dockerLabels": {"cloudless.run": "process"},
               "entryPoint": ["sh", "-c", "sleep 600"],
               "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 1}}
    register(ecs, "ordered", health=False, sidecars=[sidecar],
             container={"dependsOn": [{"containerName": "sidecar", "condition": "HEALTHY"}]})
    arn = ecs.run_task(cluster=cluster, taskDefinition="ordered", launchType="FARGATE",
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]

    def containers():
        t = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        return t, {c["name"]: c for c in t["containers"]}
    wait_for(lambda: containers()[1]["sidecar"]["lastStatus"] == "RUNNING")
    time.sleep(0.3)
    t, c = containers()
    assert c["app"]["lastStatus"] == "PENDING" and t["lastStatus"] == "PENDING"
    assert c["sidecar"]["healthStatus"] == "UNKNOWN"
    advance(server, 5)
    t = wait_for(lambda: (r := containers())[0]["lastStatus"] == "RUNNING" and r[0])
    c = {x["name"]: x for x in t["containers"]}
    assert c["sidecar"]["healthStatus"] == "HEALTHY" and c["app"]["lastStatus"] == "RUNNING"
    ecs.stop_task(cluster=cluster, task=arn)
    wait_for(lambda: containers()[0]["lastStatus"] == "STOPPED")


def test_awslogs_lines_reach_cloudwatch_logs(ecs, server, cluster):
    logs = make_client(server.endpoint, "logs")
    group = "/ecs/sched-" + uuid.uuid4().hex[:6]
    register(ecs, "logged", health=False, executionRoleArn="arn:aws:iam::000000000000:role/exec", container={
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs",
            "awslogs-create-group": "true"}}})
    arn = ecs.run_task(cluster=cluster, taskDefinition="logged", launchType="FARGATE",
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    task_id = arn.rsplit("/", 1)[1]
    stream = f"ecs/app/{task_id}"

    def events():
        try:
            return logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
        except ClientError:
            return None  # the group and stream appear once the task starts
    events = wait_for(events)
    assert events[0]["message"] == "booking-service listening on 3002"
    ecs.stop_task(cluster=cluster, task=arn)


def test_awslogs_without_group_stops_the_task(ecs, server, cluster):
    register(ecs, "nogroup", health=False, executionRoleArn="arn:aws:iam::000000000000:role/exec", container={
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/missing-" + uuid.uuid4().hex[:6], "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "ecs"}}})
    arn = ecs.run_task(cluster=cluster, taskDefinition="nogroup", launchType="FARGATE",
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    t = wait_for(lambda: (t := ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0])["lastStatus"] == "STOPPED" and t)
    assert t["stopCode"] == "TaskFailedToStart"
    assert t["stoppedReason"].startswith("ResourceInitializationError: failed to validate logger args: ")
    assert "The specified log group does not exist." in t["stoppedReason"]


def test_stop_task_terminates_then_kills_after_stop_timeout(ecs, server, cluster):
    stubborn = {"name": "app", "image": "x", "dockerLabels": {"cloudless.run": "process"}, "stopTimeout": 1,
                "entryPoint": ["sh", "-c", "trap '' TERM; while true; do sleep 0.1; done"]}
    ecs.register_task_definition(family="stubborn", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512", containerDefinitions=[stubborn])
    arn = ecs.run_task(cluster=cluster, taskDefinition="stubborn", launchType="FARGATE",
                       networkConfiguration=NETWORK)["tasks"][0]["taskArn"]
    wait_for(lambda: ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]["lastStatus"] == "RUNNING")
    stopped = ecs.stop_task(cluster=cluster, task=arn, reason="done here")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    started = time.time()
    t = wait_for(lambda: (t := ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0])["lastStatus"] == "STOPPED" and t)
    assert 0.8 <= time.time() - started < 5
    assert t["stoppedReason"] == "done here" and t["stopCode"] == "UserInitiated"
    assert t["containers"][0]["exitCode"] == 137
    for key in ("stoppingAt", "executionStoppedAt", "stoppedAt"):
        assert key in t
