"""SAM's DeploymentPreference through CloudFormation: a function with AutoPublishAlias `live` and a
Canary10Percent5Minutes preference with a PreTraffic hook. The create points the alias at version 1 directly; an
update of the code makes CloudFormation start a CodeDeploy deployment instead of moving the alias (the alias routes
10 % to the new version until the emulator's clock is moved past the canary's 5 minutes, then the stack completes on
the new version); a hook reporting Failed fails the alias's update and the stack rolls back with the alias on the
previous version; a CancelUpdateStack, or a kill -9, mid-canary stops the deployment (CodeDeploy rolls the alias back)
before the stack's rollback, so the alias stays on the previous version however the clock moves."""
import time
import uuid

import pytest
import requests

from helpers import host_python_runtime, make_client
from server import Server


@pytest.fixture(scope="module")
def server():
    """Its own server: the module moves the emulator's clock and leaves function instances and deployments behind,
    which the shared server's later modules must not see."""
    s = Server().start()
    yield s
    s.stop()


WAIT = {"Delay": 1, "MaxAttempts": 90}

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  HookStatus: {Type: String}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: %(runtime)s
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return {"release": "%(release)s"}
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Hooks: {PreTraffic: !Ref PreTrafficHook}
  PreTrafficHook:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: %(runtime)s
      Handler: index.handler
      Timeout: 30
      Environment: {Variables: {HOOK_STATUS: !Ref HookStatus}}
      Policies:
        - Statement: [{Effect: Allow, Action: "codedeploy:PutLifecycleEventHookExecutionStatus", Resource: "*"}]
      InlineCode: |
        import boto3, os
        def handler(event, context):
            boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"],
                lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                status=os.environ["HOOK_STATUS"])
            return {}
Outputs:
  FunctionName: {Value: !Ref Fn}
  Application: {Value: !Ref ServerlessDeploymentApplication}
  Group: {Value: !Ref FnDeploymentGroup}
"""


@pytest.fixture(scope="module")
def clients(endpoint):
    return (make_client(endpoint, "cloudformation"), make_client(endpoint, "codedeploy"), make_client(endpoint, "lambda"))


def template(release):
    """The code itself changes (SAM names the version by a hash of the template's code)."""
    return TEMPLATE % {"runtime": host_python_runtime(), "release": release}


def params(hook):
    return [{"ParameterKey": "HookStatus", "ParameterValue": hook}]


def outputs(cfn, stack):
    return {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}


def status(cfn, stack):
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def wait_for(what, check, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def update(cfn, stack, release, hook):
    cfn.update_stack(StackName=stack, TemplateBody=template(release), Parameters=params(hook), Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])


def test_canary_through_codedeploy_then_a_failing_hook_rolls_back(clients, endpoint):
    cfn, cd, lam = clients
    stack = "dp-" + uuid.uuid4().hex[:8]
    cfn.create_stack(StackName=stack, TemplateBody=template("one"), Parameters=params("Succeeded"), Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    except Exception:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        raise AssertionError([(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events])
    out = outputs(cfn, stack)
    fn, app, group = out["FunctionName"], out["Application"], out["Group"]
    try:
        # The generated CodeDeploy resources, as SAM names and shapes them.
        types = {r["LogicalResourceId"]: r["ResourceType"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
        assert types["ServerlessDeploymentApplication"] == "AWS::CodeDeploy::Application"
        assert types["FnDeploymentGroup"] == "AWS::CodeDeploy::DeploymentGroup"
        assert types["CodeDeployServiceRole"] == "AWS::IAM::Role"
        info = cd.get_deployment_group(applicationName=app, deploymentGroupName=group)["deploymentGroupInfo"]
        assert info["deploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        assert info["deploymentStyle"] == {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"}
        assert info["computePlatform"] == "Lambda"
        # Created directly: no deployment.
        assert lam.get_alias(FunctionName=fn, Name="live")["FunctionVersion"] == "1"
        assert cd.list_deployments(applicationName=app, deploymentGroupName=group)["deployments"] == []

        # A code change: CloudFormation hands the alias's move to CodeDeploy, which runs the hook then the canary.
        update(cfn, stack, "two", "Succeeded")
        deployment = wait_for("a deployment", lambda: cd.list_deployments(applicationName=app, deploymentGroupName=group)["deployments"])[0]
        alias = wait_for("the canary's 10 %", lambda: (lambda a: a if a.get("RoutingConfig", {}).get("AdditionalVersionWeights") else None)(
            lam.get_alias(FunctionName=fn, Name="live")))
        assert alias["FunctionVersion"] == "1"
        assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.1}
        spec = cd.get_deployment(deploymentId=deployment)["deploymentInfo"]
        assert spec["status"] == "InProgress"
        assert spec["revision"]["revisionType"] == "AppSpecContent"
        assert status(cfn, stack) == "UPDATE_IN_PROGRESS"
        requests.post(endpoint + "/_cloudless/clock", json={"advance": 301}, timeout=10).raise_for_status()
        cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
        assert cd.get_deployment(deploymentId=deployment)["deploymentInfo"]["status"] == "Succeeded"
        alias = lam.get_alias(FunctionName=fn, Name="live")
        assert alias["FunctionVersion"] == "2" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")

        def deployments():
            return set(cd.list_deployments(applicationName=app, deploymentGroupName=group)["deployments"])

        # CancelUpdateStack mid-canary: the deployment is stopped with rollback before the stack sets the alias back.
        before = deployments()
        update(cfn, stack, "three", "Succeeded")
        wait_for("the canary's 10 %", lambda: lam.get_alias(FunctionName=fn, Name="live").get("RoutingConfig", {}).get("AdditionalVersionWeights"))
        cfn.cancel_update_stack(StackName=stack)
        wait_for("the cancel's rollback", lambda: status(cfn, stack) == "UPDATE_ROLLBACK_COMPLETE", timeout=60)
        cancelled = [cd.get_deployment(deploymentId=d)["deploymentInfo"] for d in deployments() - before]
        assert sorted(d["status"] for d in cancelled) == ["Stopped", "Succeeded"]  # and its rollback
        alias = lam.get_alias(FunctionName=fn, Name="live")
        assert alias["FunctionVersion"] == "2" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
        requests.post(endpoint + "/_cloudless/clock", json={"advance": 600}, timeout=10).raise_for_status()
        time.sleep(0.5)
        assert lam.get_alias(FunctionName=fn, Name="live")["FunctionVersion"] == "2"

        # A hook that reports Failed: the deployment fails, the alias's update fails and the stack rolls back.
        before = deployments()
        update(cfn, stack, "four", "Failed")
        wait_for("the rollback", lambda: status(cfn, stack) == "UPDATE_ROLLBACK_COMPLETE", timeout=90)
        later = [cd.get_deployment(deploymentId=d)["deploymentInfo"] for d in deployments() - before]
        failed = [d["deploymentId"] for d in later if d["status"] == "Failed"]
        assert len(failed) == 1
        # CodeDeploy's automatic rollback (SAM's AutoRollbackConfiguration) ran before the stack rolled back.
        assert [d["status"] for d in later if d.get("creator") == "codeDeployRollback"] == ["Succeeded"]
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        reasons = [e.get("ResourceStatusReason", "") for e in events
                   if e["LogicalResourceId"] == "FnAliaslive" and e["ResourceStatus"] == "UPDATE_FAILED"]
        assert reasons and failed[0] in reasons[0]
        alias = lam.get_alias(FunctionName=fn, Name="live")
        assert alias["FunctionVersion"] == "2" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
        assert lam.invoke(FunctionName=fn, Qualifier="live")["Payload"].read() == b'{"release": "two"}'
    finally:
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert app not in cd.list_applications()["applications"]


def test_kill9_mid_canary_rolls_the_stack_and_the_deployment_back():
    server = Server().start()
    try:
        cfn, cd, lam = (make_client(server.endpoint, "cloudformation"), make_client(server.endpoint, "codedeploy"),
                        make_client(server.endpoint, "lambda"))
        stack = "dpk-" + uuid.uuid4().hex[:8]
        cfn.create_stack(StackName=stack, TemplateBody=template("one"), Parameters=params("Succeeded"),
                         Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
        out = outputs(cfn, stack)
        fn, app, group = out["FunctionName"], out["Application"], out["Group"]
        update(cfn, stack, "two", "Succeeded")
        wait_for("the canary's 10 %", lambda: lam.get_alias(FunctionName=fn, Name="live").get("RoutingConfig", {}).get("AdditionalVersionWeights"))
        server.kill9()
        server.start()
        wait_for("the stack's rollback", lambda: status(cfn, stack) == "UPDATE_ROLLBACK_COMPLETE", timeout=60)
        infos = [cd.get_deployment(deploymentId=d)["deploymentInfo"]
                 for d in cd.list_deployments(applicationName=app, deploymentGroupName=group)["deployments"]]
        assert sorted(d["status"] for d in infos) == ["Stopped", "Succeeded"]  # the canary, and CodeDeploy's rollback
        requests.post(server.endpoint + "/_cloudless/clock", json={"advance": 600}, timeout=10).raise_for_status()
        time.sleep(0.5)
        alias = lam.get_alias(FunctionName=fn, Name="live")
        assert alias["FunctionVersion"] == "1" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    finally:
        server.stop()
