"""CodeDeploy end to end: the API's round trips and errors, and Lambda deployments on real functions: a canary
that splits an alias's invocations about 10/90 until the emulator's clock is moved, hook functions that report
back through PutLifecycleEventHookExecutionStatus (a failure rolls the alias back), and a kill -9 mid-canary."""
import json
import subprocess
import time
import uuid
from collections import Counter

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import LAMBDA_ROLE, host_python_runtime, make_client, tool_env, zip_bytes
from server import Server


@pytest.fixture(scope="module")
def server():
    """Its own server: the module moves the emulator's clock and leaves function instances and deployments behind,
    which the shared server's later modules must not see."""
    s = Server().start()
    yield s
    s.stop()


ROLE = "arn:aws:iam::000000000000:role/codedeploy"

VERSIONED = """
def handler(event, context):
    return {"version": "%s"}
"""

HOOK = """
import boto3, os
def handler(event, context):
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"], lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=os.environ["HOOK_STATUS"])
    return {}
"""


def code_of(body):
    return {"ZipFile": zip_bytes({"handler.py": body})}


def advance(endpoint, seconds):
    requests.post(endpoint + "/_cloudless/clock", json={"advance": seconds}, timeout=10).raise_for_status()


def wait_status(cd, deployment_id, statuses, timeout=30):
    deadline = time.time() + timeout
    while True:
        info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        if info["status"] in statuses or time.time() > deadline:
            return info
        time.sleep(0.1)


def wait_weight(lam, name, weight, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        a = lam.get_alias(FunctionName=name, Name="live")
        if a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}).get("2") == weight:
            return a
        time.sleep(0.1)
    raise AssertionError(f"alias never reached weight {weight}: {a}")


def two_versions(lam, name):
    """A function with versions 1 and 2 and an alias `live` on version 1."""
    lam.create_function(FunctionName=name, Runtime=host_python_runtime(), Role=LAMBDA_ROLE, Handler="handler.handler",
                        Code=code_of(VERSIONED % "1"))
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, **code_of(VERSIONED % "2"))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")


def app_spec(name, before=None):
    spec = {"version": 0.0, "Resources": [{name: {"Type": "AWS::Lambda::Function", "Properties": {
        "Name": name, "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}}}]}
    if before:
        spec["Hooks"] = [{"BeforeAllowTraffic": before}]
    return json.dumps(spec)


def lambda_group(cd, app, config="CodeDeployDefault.LambdaCanary10Percent5Minutes"):
    cd.create_application(applicationName=app, computePlatform="Lambda")
    cd.create_deployment_group(applicationName=app, deploymentGroupName="g", serviceRoleArn=ROLE, deploymentConfigName=config,
                               deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
                               autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]})


def deploy(cd, app, content):
    return cd.create_deployment(applicationName=app, deploymentGroupName="g", revision={
        "revisionType": "AppSpecContent", "appSpecContent": {"content": content}})["deploymentId"]


@pytest.fixture(scope="module")
def cd(endpoint):
    return make_client(endpoint, "codedeploy")


@pytest.fixture(scope="module")
def lam(endpoint):
    return make_client(endpoint, "lambda")


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_api_round_trips_and_errors(cd):
    app = "app-" + uuid.uuid4().hex[:8]
    cd.create_application(applicationName=app, computePlatform="Server", tags=[{"Key": "team", "Value": "a"}])
    with pytest.raises(ClientError) as e:
        cd.create_application(applicationName=app)
    assert code(e) == "ApplicationAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        cd.get_application(applicationName="nope-" + app)
    assert code(e) == "ApplicationDoesNotExistException"
    assert cd.get_application(applicationName=app)["application"]["computePlatform"] == "Server"
    configs = [c for page in cd.get_paginator("list_deployment_configs").paginate() for c in page["deploymentConfigsList"]]
    assert "CodeDeployDefault.LambdaCanary10Percent5Minutes" in configs and "CodeDeployDefault.ECSAllAtOnce" in configs
    canary = cd.get_deployment_config(deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent15Minutes")["deploymentConfigInfo"]
    assert canary["trafficRoutingConfig"] == {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 10, "canaryInterval": 15}}
    with pytest.raises(ClientError) as e:
        cd.delete_deployment_config(deploymentConfigName="CodeDeployDefault.AllAtOnce")
    assert code(e) == "InvalidOperationException"
    cd.create_deployment_config(deploymentConfigName=app + "-two", minimumHealthyHosts={"type": "HOST_COUNT", "value": 2})
    cd.create_deployment_group(applicationName=app, deploymentGroupName="web", serviceRoleArn=ROLE, deploymentConfigName=app + "-two",
                               onPremisesInstanceTagFilters=[{"Key": "app", "Value": app, "Type": "KEY_AND_VALUE"}])
    with pytest.raises(ClientError) as e:
        cd.create_deployment_group(applicationName=app, deploymentGroupName="web", serviceRoleArn=ROLE)
    assert code(e) == "DeploymentGroupAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        cd.create_deployment_group(applicationName=app, deploymentGroupName="x", serviceRoleArn=ROLE, deploymentConfigName="nope")
    assert code(e) == "DeploymentConfigDoesNotExistException"
    group = cd.get_deployment_group(applicationName=app, deploymentGroupName="web")["deploymentGroupInfo"]
    assert group["deploymentConfigName"] == app + "-two" and group["computePlatform"] == "Server"
    with pytest.raises(ClientError) as e:
        cd.get_deployment(deploymentId="d-ABCDEFGHI")
    assert code(e) == "DeploymentDoesNotExistException"
    # No instance carries the group's tag: the deployment fails with NO_INSTANCES.
    dep = cd.create_deployment(applicationName=app, deploymentGroupName="web", revision={
        "revisionType": "AppSpecContent", "appSpecContent": {"content": "version: 0.0\nos: linux\n"}})["deploymentId"]
    info = wait_status(cd, dep, {"Failed", "Succeeded"})
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "NO_INSTANCES"
    assert dep in cd.list_deployments(applicationName=app, deploymentGroupName="web", includeOnlyStatuses=["Failed"])["deployments"]
    cd.register_on_premises_instance(instanceName=app + "-i", iamUserArn="arn:aws:iam::000000000000:user/i")
    cd.add_tags_to_on_premises_instances(instanceNames=[app + "-i"], tags=[{"Key": "app", "Value": app}])
    assert cd.list_on_premises_instances(tagFilters=[{"Key": "app", "Value": app, "Type": "KEY_AND_VALUE"}])["instanceNames"] == [app + "-i"]
    cd.deregister_on_premises_instance(instanceName=app + "-i")
    cd.delete_deployment_group(applicationName=app, deploymentGroupName="web")
    cd.delete_application(applicationName=app)


def test_lambda_canary_splits_then_completes_on_the_clock(cd, lam, endpoint):
    name = "cd-canary-" + uuid.uuid4().hex[:8]
    two_versions(lam, name)
    app = name
    lambda_group(cd, app)
    dep = deploy(cd, app, app_spec(name))
    wait_weight(lam, name, 0.1)
    with pytest.raises(ClientError) as e:
        deploy(cd, app, app_spec(name))
    assert code(e) == "DeploymentLimitExceededException"
    counts = Counter(lam.invoke(FunctionName=name, Qualifier="live")["ExecutedVersion"] for _ in range(300))
    assert set(counts) == {"1", "2"} and 12 <= counts["2"] <= 55, counts
    assert cd.get_deployment(deploymentId=dep)["deploymentInfo"]["status"] == "InProgress"
    advance(endpoint, 301)
    info = wait_status(cd, dep, {"Succeeded", "Failed", "Stopped"})
    assert info["status"] == "Succeeded", info
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "2" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    targets = cd.list_deployment_targets(deploymentId=dep)["targetIds"]
    t = cd.batch_get_deployment_targets(deploymentId=dep, targetIds=targets)["deploymentTargets"][0]["lambdaTarget"]
    assert [e["lifecycleEventName"] for e in t["lifecycleEvents"]] == ["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]
    assert all(e["status"] == "Succeeded" for e in t["lifecycleEvents"])


def test_hooks_succeed_and_fail_with_rollback(cd, lam, endpoint):
    name = "cd-hooks-" + uuid.uuid4().hex[:8]
    two_versions(lam, name)
    for status in ("Succeeded", "Failed"):
        lam.create_function(FunctionName=f"{name}-{status}", Runtime=host_python_runtime(), Role=LAMBDA_ROLE, Handler="handler.handler",
                            Code=code_of(HOOK), Environment={"Variables": {"HOOK_STATUS": status}}, Timeout=30)
    lambda_group(cd, name, config="CodeDeployDefault.LambdaAllAtOnce")
    ok = deploy(cd, name, app_spec(name, before=f"{name}-Succeeded"))
    info = wait_status(cd, ok, {"Succeeded", "Failed", "Stopped"}, timeout=60)
    assert info["status"] == "Succeeded", info
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    # Back to 1 by hand, then a deployment whose hook reports Failed: rolled back, the alias on version 1.
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="1")
    bad = deploy(cd, name, app_spec(name, before=f"{name}-Failed"))
    info = wait_status(cd, bad, {"Succeeded", "Failed", "Stopped"}, timeout=60)
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE", info
    deadline = time.time() + 20
    while "rollbackDeploymentId" not in info.get("rollbackInfo", {}) and time.time() < deadline:
        time.sleep(0.1)
        info = cd.get_deployment(deploymentId=bad)["deploymentInfo"]
    rollback = wait_status(cd, info["rollbackInfo"]["rollbackDeploymentId"], {"Succeeded", "Failed"})
    assert rollback["status"] == "Succeeded" and rollback["creator"] == "codeDeployRollback"
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == bad
    alias = lam.get_alias(FunctionName=name, Name="live")
    assert alias["FunctionVersion"] == "1" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")


def test_lambda_revision_from_s3(cd, lam, s3, bucket):
    name = "cd-s3-" + uuid.uuid4().hex[:8]
    two_versions(lam, name)
    lambda_group(cd, name, config="CodeDeployDefault.LambdaAllAtOnce")
    s3.put_object(Bucket=bucket, Key="appspec.yaml", Body=app_spec(name).encode())
    revision = {"revisionType": "S3", "s3Location": {"bucket": bucket, "key": "appspec.yaml", "bundleType": "YAML"}}
    cd.register_application_revision(applicationName=name, revision=revision, description="first")
    assert cd.list_application_revisions(applicationName=name)["revisions"] == [revision]
    assert cd.get_application_revision(applicationName=name, revision=revision)["revisionInfo"]["description"] == "first"
    dep = cd.create_deployment(applicationName=name, deploymentGroupName="g", revision=revision)["deploymentId"]
    assert wait_status(cd, dep, {"Succeeded", "Failed"})["status"] == "Succeeded"
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    missing = dict(revision, s3Location=dict(revision["s3Location"], key="nope.yaml"))
    dep = cd.create_deployment(applicationName=name, deploymentGroupName="g", revision=missing)["deploymentId"]
    info = wait_status(cd, dep, {"Succeeded", "Failed"})
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "REVISION_MISSING", info
    with pytest.raises(ClientError) as e:
        cd.create_deployment(applicationName=name, deploymentGroupName="g", revision=dict(
            revision, s3Location=dict(revision["s3Location"], bundleType="zip")))
    assert code(e) == "InvalidRevisionException"


def test_cli_create_and_wait(endpoint, lam, cd):
    name = "cd-cli-" + uuid.uuid4().hex[:8]
    two_versions(lam, name)
    lambda_group(cd, name, config="CodeDeployDefault.LambdaAllAtOnce")
    env = tool_env(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    out = subprocess.run(["aws", "--endpoint-url", endpoint, "deploy", "create-deployment", "--application-name", name,
                          "--deployment-group-name", "g", "--revision",
                          json.dumps({"revisionType": "AppSpecContent", "appSpecContent": {"content": app_spec(name)}})],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    dep = json.loads(out.stdout)["deploymentId"]
    wait_status(cd, dep, {"Succeeded", "Failed"})
    waited = subprocess.run(["aws", "--endpoint-url", endpoint, "deploy", "wait", "deployment-successful", "--deployment-id", dep],
                            env=env, capture_output=True, text=True, timeout=60)
    assert waited.returncode == 0, waited.stderr


def test_kill9_mid_canary_then_completes():
    server = Server().start()
    try:
        cd = make_client(server.endpoint, "codedeploy")
        lam = make_client(server.endpoint, "lambda")
        name = "cd-crash-" + uuid.uuid4().hex[:8]
        two_versions(lam, name)
        lambda_group(cd, name)
        dep = deploy(cd, name, app_spec(name))
        wait_weight(lam, name, 0.1)
        server.kill9()
        server.start()
        assert cd.get_deployment(deploymentId=dep)["deploymentInfo"]["status"] == "InProgress"
        advance(server.endpoint, 301)
        info = wait_status(cd, dep, {"Succeeded", "Failed", "Stopped"})
        assert info["status"] == "Succeeded", info
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    finally:
        server.stop()
