"""An ECS service behind an Application Load Balancer, with real traffic: two tasks (python http.server as local
processes, each in its own network namespace) registered in an `ip` target group as they start, in service once the
load balancer's health checks pass (`aws elbv2 wait target-in-service`), both reached through the load balancer; a
rolling deployment to a new task definition during which no request fails (new tasks serve before old ones drain);
a scale-in that drains its task (DEACTIVATING while the target is `draining`) before stopping it.

Needs the ELBv2 service (branch `elb`) merged. The module has its own server: it maps an image to a process and
moves the emulator's clock (health-check intervals, the deregistration delay)."""
import shutil
import subprocess
import threading
import time
import uuid

import pytest
import requests

from helpers import make_client, tool_env
from ecs_helpers import NETWORK, advance, server_with_images, wait_for

# Answers every GET with its version and an id of its own process, so responses tell the tasks apart.
APP = r"""
import http.server, os, uuid
ME = uuid.uuid4().hex[:8]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{os.environ.get('VERSION', '?')} {ME}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
"""


@pytest.fixture(scope="module")
def server():
    s = server_with_images({"lb-web": {"entryPoint": ["python3", "-c", APP]}}, prefix="cloudless-ecs-lb-")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def elbv2(endpoint):
    return make_client(endpoint, "elbv2")


@pytest.fixture(scope="module")
def stack(server, ecs, elbv2):
    """A cluster, an internet-facing ALB with an HTTP listener forwarding to an `ip` target group (fast health checks,
    a 2-second deregistration delay), and a service of two tasks behind it."""
    name = "lb-" + uuid.uuid4().hex[:8]
    ecs.create_cluster(clusterName=name)
    lb = elbv2.create_load_balancer(Name=name, Subnets=["subnet-12345678", "subnet-87654321"], Type="application",
                                    Scheme="internet-facing")["LoadBalancers"][0]
    tg = elbv2.create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId="vpc-12345678", TargetType="ip", HealthCheckPath="/",
        HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
    )["TargetGroups"][0]
    elbv2.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"],
                                         Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
    elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
    register(ecs, name, "v1")
    ecs.create_service(
        cluster=name, serviceName="web", taskDefinition=f"{name}:1", desiredCount=2, launchType="FARGATE",
        networkConfiguration=NETWORK, healthCheckGracePeriodSeconds=30,
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200},
        loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "web", "containerPort": 8080}])
    yield {"cluster": name, "lb": lb, "tg": tg["TargetGroupArn"], "family": name}
    try:
        ecs.delete_service(cluster=name, service="web", force=True)
        wait_for(lambda: not ecs.list_tasks(cluster=name)["taskArns"], timeout=30, tick=lambda: advance(server, 2))
        ecs.delete_cluster(cluster=name)
        elbv2.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
        elbv2.delete_target_group(TargetGroupArn=tg["TargetGroupArn"])
    except Exception:
        pass


def register(ecs, family, version):
    ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "web", "image": "lb-web", "essential": True, "stopTimeout": 2,
                               "portMappings": [{"containerPort": 8080}],
                               "environment": [{"name": "VERSION", "value": version}]}])


def through_lb(server, lb):
    """One GET through the load balancer (Host routing on Cloudless's port): its body, or None when it failed."""
    try:
        r = requests.get(server.endpoint + "/", headers={"Host": lb["DNSName"]}, timeout=5)
        return r.text if r.status_code == 200 else None
    except requests.RequestException:
        return None


def health(elbv2, tg):
    return {d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]}


def running(ecs, cluster, desired="RUNNING"):
    arns = ecs.list_tasks(cluster=cluster, serviceName="web", desiredStatus=desired)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def address(task):
    return next(d["value"] for d in task["attachments"][0]["details"] if d["name"] == "privateIPv4Address")


def tick(server):
    return lambda: advance(server, 1)


def test_tasks_register_and_serve_through_the_load_balancer(server, ecs, elbv2, stack):
    cluster, tg = stack["cluster"], stack["tg"]
    # Both tasks registered with their own addresses and the container port; healthy once the checks pass.
    def both_running():
        ts = running(ecs, cluster)
        return ts if len(ts) == 2 and all(t["lastStatus"] == "RUNNING" for t in ts) else None
    tasks = wait_for(both_running, timeout=20)
    wait_for(lambda: sorted(health(elbv2, tg)) == sorted(address(t) for t in tasks)
             and set(health(elbv2, tg).values()) == {"healthy"}, timeout=30, tick=tick(server))
    described = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert {d["Target"]["Port"] for d in described} == {8080}
    # The aws CLI's waiter agrees (it checks at once, then every 15 s: the targets are already in service).
    aws = shutil.which("aws")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    subprocess.run([aws, "elbv2", "wait", "target-in-service", "--target-group-arn", tg, "--endpoint-url", server.endpoint],
                   env=env, check=True, timeout=60)
    # Requests through the load balancer reach both tasks.
    answers = {through_lb(server, stack["lb"]) for _ in range(30)}
    assert None not in answers
    assert len(answers) == 2 and all(a.startswith("v1 ") for a in answers)
    events = [e["message"] for e in ecs.describe_services(cluster=cluster, services=["web"])["services"][0]["events"]]
    assert sum(m == f"(service web) registered 1 targets in (target-group {tg})" for m in events) == 2
    wait_for(lambda: ecs.describe_services(cluster=cluster, services=["web"])["services"][0]["deployments"][0]["rolloutState"]
             == "COMPLETED", timeout=20, tick=tick(server))


def test_a_rolling_deployment_loses_no_request(server, ecs, elbv2, stack):
    cluster, tg, lb = stack["cluster"], stack["tg"], stack["lb"]
    register(ecs, stack["family"], "v2")
    answers, failures, stop = [], [], threading.Event()

    def load():
        while not stop.is_set():
            a = through_lb(server, lb)
            (answers if a else failures).append(a)
            time.sleep(0.01)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        ecs.update_service(cluster=cluster, service="web", taskDefinition=f"{stack['family']}:2")

        def done():
            s = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
            return len(s["deployments"]) == 1 and s["deployments"][0]["rolloutState"] == "COMPLETED" \
                and s["runningCount"] == 2 and len(health(elbv2, tg)) == 2
        # The old tasks stay registered until the new ones are healthy; then they drain (2 s) and stop. The clock moves
        # 1 s per 0.5 s waited: a new task still starting on a busy machine stays within its 30 s grace period.
        wait_for(done, timeout=60, step=0.5, tick=tick(server))
        time.sleep(0.5)
    finally:
        stop.set()
        loader.join()
    assert failures == []
    assert any(a.startswith("v1 ") for a in answers) and answers[-1].startswith("v2 ")
    assert len({a for a in answers[-20:]}) == 2  # both new tasks serve
    events = [e["message"] for e in ecs.describe_services(cluster=cluster, services=["web"])["services"][0]["events"]]
    assert "(service web) has begun draining connections on 1 tasks." in events
    assert f"(service web) deregistered 1 targets in (target-group {tg})" in events
    stopped = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"])["tasks"]
    assert len(stopped) == 2 and all(t["stoppedReason"].startswith("Scaling activity initiated by") for t in stopped)


def test_scale_in_drains_before_stopping(server, ecs, elbv2, stack):
    cluster, tg, lb = stack["cluster"], stack["tg"], stack["lb"]
    before = {t["taskArn"] for t in running(ecs, cluster)}
    ecs.update_service(cluster=cluster, service="web", desiredCount=1)
    # The task scaled in stays DEACTIVATING while its target drains; it serves no new request meanwhile.
    # (desiredStatus STOPPED already: ListTasks shows it among the stopping tasks)
    leaving = wait_for(lambda: [t for t in running(ecs, cluster, "STOPPED")
                                if t["lastStatus"] == "DEACTIVATING" and t["taskArn"] in before], timeout=10)[0]
    assert leaving["desiredStatus"] == "STOPPED"
    assert health(elbv2, tg).get(address(leaving)) == "draining"
    assert all(through_lb(server, lb) is not None for _ in range(10))
    wait_for(lambda: ecs.describe_tasks(cluster=cluster, tasks=[leaving["taskArn"]])["tasks"][0]["lastStatus"] == "STOPPED",
             timeout=20, tick=tick(server))
    assert address(leaving) not in health(elbv2, tg)
    kept = before - {leaving["taskArn"]}
    assert {t["taskArn"] for t in running(ecs, cluster)} == kept
    assert len({through_lb(server, lb) for _ in range(10)}) == 1
