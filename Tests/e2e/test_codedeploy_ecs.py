"""CodeDeploy's ECS blue/green deployments on a real service: two tasks (python http.server as local processes)
behind an Application Load Balancer with a production and a test listener and two target groups. An AllAtOnce
deployment to version 2 while requests flow through the production listener (none fails; the answers switch from
v1 to v2; the original task set is deleted), then a 10 % canary to version 3 watched through the listener before and
after the emulator's clock moves, then a version whose AfterAllowTestTraffic hook (a Lambda function) reports Failed:
rolled back, all traffic on the previous version, the replacement task set gone; and a kill -9 mid-canary, after which
the deployment finishes."""
import http.client
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter

import pytest
import requests

from helpers import LAMBDA_ROLE, host_python_runtime, make_client, tool_env, zip_bytes
from ecs_helpers import NETWORK, advance, server_with_images, wait_for

ROLE = "arn:aws:iam::000000000000:role/codedeploy"

# Answers every GET with its version.
APP = r"""
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ.get("VERSION", "?").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
"""

HOOK = """
import boto3
def handler(event, context):
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"], lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"], status="Failed")
    return {}
"""


@pytest.fixture(scope="module")
def server():
    s = server_with_images({"cd-web": {"entryPoint": ["python3", "-c", APP]}}, prefix="cloudless-cd-ecs-")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def elbv2(endpoint):
    return make_client(endpoint, "elbv2")


@pytest.fixture(scope="module")
def cd(endpoint):
    return make_client(endpoint, "codedeploy")


def register(ecs, family, version):
    return ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "web", "image": "cd-web", "essential": True, "stopTimeout": 2,
                               "portMappings": [{"containerPort": 8080}],
                               "environment": [{"name": "VERSION", "value": version}]}])["taskDefinition"]["taskDefinitionArn"]


def bound(server, listener_arn):
    rows = requests.get(server.endpoint + "/_cloudless/elbv2/listeners", timeout=5).json()["listeners"]
    return next(r["address"] for r in rows if r["listenerArn"] == listener_arn)


def get(address):
    """One GET on a listener's own port: the body, or None when it failed."""
    host, port = address.rsplit(":", 1)
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=5)
        c.request("GET", "/")
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        return body if r.status == 200 else None
    except OSError:
        return None


@pytest.fixture(scope="module")
def stack(server, ecs, elbv2, cd):
    """Cluster, ALB, target groups blue (production listener :80) and green (test listener :8080), a CODE_DEPLOY
    service of two v1 tasks on blue, and a CodeDeploy ECS application and group with rollback on failure."""
    name = "cd-" + uuid.uuid4().hex[:8]
    ecs.create_cluster(clusterName=name)
    lb = elbv2.create_load_balancer(Name=name, Subnets=["subnet-12345678", "subnet-87654321"], Type="application")["LoadBalancers"][0]
    tgs = {}
    for color in ("blue", "green"):
        tg = elbv2.create_target_group(
            Name=f"{name}-{color}", Protocol="HTTP", Port=8080, VpcId="vpc-12345678", TargetType="ip", HealthCheckPath="/",
            HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
        )["TargetGroups"][0]
        elbv2.modify_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"],
                                             Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "1"}])
        tgs[color] = tg
    prod = elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs["blue"]["TargetGroupArn"]}])["Listeners"][0]
    test = elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=8080,
                                 DefaultActions=[{"Type": "forward", "TargetGroupArn": tgs["green"]["TargetGroupArn"]}])["Listeners"][0]
    register(ecs, name, "v1")
    ecs.create_service(
        cluster=name, serviceName="web", taskDefinition=f"{name}:1", desiredCount=2, launchType="FARGATE",
        networkConfiguration=NETWORK, healthCheckGracePeriodSeconds=30, deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[{"targetGroupArn": tgs["blue"]["TargetGroupArn"], "containerName": "web", "containerPort": 8080}])
    cd.create_application(applicationName=name, computePlatform="ECS")
    cd.create_deployment_group(
        applicationName=name, deploymentGroupName="g", serviceRoleArn=ROLE,
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": 0}},
        ecsServices=[{"serviceName": "web", "clusterName": name}],
        loadBalancerInfo={"targetGroupPairInfoList": [{
            "targetGroups": [{"name": f"{name}-blue"}, {"name": f"{name}-green"}],
            "prodTrafficRoute": {"listenerArns": [prod["ListenerArn"]]},
            "testTrafficRoute": {"listenerArns": [test["ListenerArn"]]}}]})
    prod_address = bound(server, prod["ListenerArn"])
    # Both v1 tasks serve through the production listener once the health checks pass.
    wait_for(lambda: {get(prod_address) for _ in range(6)} == {"v1"}, timeout=40, step=0.1, tick=lambda: advance(server, 1))
    yield {"cluster": name, "app": name, "prod": prod_address, "prodArn": prod["ListenerArn"], "tgs": tgs}
    try:
        ecs.delete_service(cluster=name, service="web", force=True)
        wait_for(lambda: not ecs.list_tasks(cluster=name)["taskArns"], timeout=30, tick=lambda: advance(server, 2))
        ecs.delete_cluster(cluster=name)
    except Exception:
        pass


def app_spec(td_arn, hooks=None):
    spec = {"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": {
        "TaskDefinition": td_arn, "LoadBalancerInfo": {"ContainerName": "web", "ContainerPort": 8080}}}}]}
    if hooks:
        spec["Hooks"] = [{k: v} for k, v in hooks.items()]
    return {"revisionType": "AppSpecContent", "appSpecContent": {"content": json.dumps(spec)}}


def status(cd, dep):
    return cd.get_deployment(deploymentId=dep)["deploymentInfo"]["status"]


def task_sets(ecs, stack):
    return ecs.describe_services(cluster=stack["cluster"], services=["web"])["services"][0]["taskSets"]


def test_all_at_once_switches_versions_without_a_failed_request(server, ecs, cd, stack):
    td = register(ecs, stack["cluster"], "v2")
    answers, failures, stop = [], [], threading.Event()

    def load():
        while not stop.is_set():
            sent = time.time()
            a = get(stack["prod"])
            (answers if a else failures).append((sent, a))
            time.sleep(0.005)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        began = time.time()
        dep = cd.create_deployment(applicationName=stack["app"], deploymentGroupName="g", revision=app_spec(td))["deploymentId"]
        wait_for(lambda: status(cd, dep) in ("Succeeded", "Failed", "Stopped"), timeout=40, step=0.1, tick=lambda: advance(server, 1))
        done = time.time()
        print(f"AllAtOnce deployment: {done - began:.1f} s")
        time.sleep(1)
    finally:
        stop.set()
        loader.join()
    assert status(cd, dep) == "Succeeded"
    assert failures == []
    after = {a for sent, a in answers if sent > done}
    assert answers[0][1] == "v1" and after == {"v2"}, (len(answers), after)
    print(f"requests through the production listener during it: {len(answers)}, failed: {len(failures)}")
    # One task set left: the replacement, primary, on the green target group.
    wait_for(lambda: len(task_sets(ecs, stack)) == 1, timeout=10)
    (ts,) = task_sets(ecs, stack)
    assert ts["status"] == "PRIMARY" and ts["taskDefinition"] == td
    assert ts["loadBalancers"][0]["targetGroupArn"] == stack["tgs"]["green"]["TargetGroupArn"]
    target = cd.batch_get_deployment_targets(deploymentId=dep, targetIds=[f"{stack['cluster']}:web"])["deploymentTargets"][0]
    assert target["deploymentTargetType"] == "ECSTarget"
    events = target["ecsTarget"]["lifecycleEvents"]
    assert [e["lifecycleEventName"] for e in events] == ["BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic",
                                                        "AfterAllowTestTraffic", "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]
    assert {e["status"] for e in events} == {"Succeeded"}
    info = target["ecsTarget"]["taskSetsInfo"]
    labels = {i["taskSetLabel"]: (i["trafficWeight"], i["targetGroup"]["name"]) for i in info}
    assert labels["Green"] == (100.0, f"{stack['cluster']}-green")
    assert labels.get("Blue", (0.0,))[0] == 0.0  # the original, draining or gone
    # The aws CLI's waiter agrees (it checks at once).
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    waited = subprocess.run([shutil.which("aws"), "--endpoint-url", server.endpoint, "deploy", "wait", "deployment-successful",
                             "--deployment-id", dep], env=env, capture_output=True, text=True, timeout=60)
    assert waited.returncode == 0, waited.stderr


def test_canary_sends_ten_percent_until_the_clock_moves(server, ecs, elbv2, cd, stack):
    td = register(ecs, stack["cluster"], "v3")
    dep = cd.create_deployment(applicationName=stack["app"], deploymentGroupName="g", revision=app_spec(td),
                               deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes")["deploymentId"]

    def weights():
        action = elbv2.describe_listeners(ListenerArns=[stack["prodArn"]])["Listeners"][0]["DefaultActions"][0]
        return sorted(g["Weight"] for g in action["ForwardConfig"]["TargetGroups"])
    # The clock moves for the health checks only until the canary step is applied.
    wait_for(lambda: weights() == [10, 90], timeout=40, step=0.1, tick=lambda: advance(server, 1))
    counts = Counter(get(stack["prod"]) for _ in range(300))
    assert None not in counts
    assert set(counts) == {"v2", "v3"}
    assert 0.04 <= counts["v3"] / 300 <= 0.18, counts
    print(f"canary: {counts['v3']} of 300 requests on v3")
    assert status(cd, dep) == "InProgress"
    advance(server, 301)
    wait_for(lambda: status(cd, dep) == "Succeeded", timeout=20, step=0.1)
    assert {get(stack["prod"]) for _ in range(20)} == {"v3"}
    wait_for(lambda: [ts["taskDefinition"] for ts in task_sets(ecs, stack)] == [td], timeout=10)


def test_failing_hook_rolls_back_to_the_previous_version(server, ecs, cd, stack):
    lam = make_client(server.endpoint, "lambda")
    fn = "cd-hook-" + uuid.uuid4().hex[:8]
    lam.create_function(FunctionName=fn, Runtime=host_python_runtime(), Role=LAMBDA_ROLE, Handler="handler.handler",
                        Code={"ZipFile": zip_bytes({"handler.py": HOOK})})
    before = [ts["id"] for ts in task_sets(ecs, stack)]
    td = register(ecs, stack["cluster"], "v4")
    dep = cd.create_deployment(applicationName=stack["app"], deploymentGroupName="g",
                               revision=app_spec(td, {"AfterAllowTestTraffic": fn}))["deploymentId"]
    wait_for(lambda: status(cd, dep) in ("Failed", "Succeeded"), timeout=40, step=0.1, tick=lambda: advance(server, 1))
    info = cd.get_deployment(deploymentId=dep)["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    rb = wait_for(lambda: info_rb(cd, dep), timeout=10)
    wait_for(lambda: status(cd, rb) == "Succeeded", timeout=20, step=0.1)
    assert cd.get_deployment(deploymentId=rb)["deploymentInfo"]["creator"] == "codeDeployRollback"
    # All traffic on v3 again; the replacement task set is gone, the original is primary.
    assert {get(stack["prod"]) for _ in range(30)} == {"v3"}
    wait_for(lambda: [ts["id"] for ts in task_sets(ecs, stack)] == before, timeout=10)
    assert task_sets(ecs, stack)[0]["status"] == "PRIMARY"


def info_rb(cd, dep):
    return cd.get_deployment(deploymentId=dep)["deploymentInfo"].get("rollbackInfo", {}).get("rollbackDeploymentId")


def test_kill9_mid_canary_then_completes(server, ecs, elbv2, cd, stack):
    td = register(ecs, stack["cluster"], "v5")
    dep = cd.create_deployment(applicationName=stack["app"], deploymentGroupName="g", revision=app_spec(td),
                               deploymentConfigName="CodeDeployDefault.ECSCanary10Percent5Minutes")["deploymentId"]

    def weights():
        action = elbv2.describe_listeners(ListenerArns=[stack["prodArn"]])["Listeners"][0]["DefaultActions"][0]
        return sorted(g["Weight"] for g in action["ForwardConfig"]["TargetGroups"])
    wait_for(lambda: weights() == [10, 90], timeout=40, step=0.1, tick=lambda: advance(server, 1))
    # The clock's offset does not survive the emulator: moved again after the restart, past the canary's 5 minutes.
    offset = requests.get(server.endpoint + "/_cloudless/clock", timeout=5).json()["offset"]
    server.kill9()
    server.start(timeout=60)  # the restart replaces the killed tasks; slow on a loaded machine
    assert status(cd, dep) == "InProgress"
    assert weights() == [10, 90]
    advance(server, offset + 301)
    wait_for(lambda: status(cd, dep) in ("Succeeded", "Failed", "Stopped"), timeout=30, step=0.1)
    assert status(cd, dep) == "Succeeded"
    assert weights() == [0, 100]
    wait_for(lambda: [ts["taskDefinition"] for ts in task_sets(ecs, stack)] == [td], timeout=20, tick=lambda: advance(server, 1))
    # The tasks that died with the emulator are replaced; once healthy, every answer is v5.
    prod = bound(server, stack["prodArn"])
    wait_for(lambda: {get(prod) for _ in range(6)} == {"v5"}, timeout=40, step=0.1, tick=lambda: advance(server, 1))
