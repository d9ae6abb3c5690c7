"""CloudFormation stack operations beyond create/update/delete, from boto3: drift detection of SQS queues
(DetectStackDrift, DescribeStackDriftDetectionStatus, DetectStackResourceDrift, DescribeStackResourceDrifts and the
DriftInformation of stacks and resources), termination protection, stack policies (also from a Cloudless S3 URL),
CancelUpdateStack, ContinueUpdateRollback (ResourcesToSkip), RollbackStack after DisableRollback, and the
DELETE_SKIPPED record of a retained resource; drift and termination protection from the aws CLI v1 and v2.

A slow update is an ECS service on EC2 in a cluster without container instances (never stable, as on AWS); a
rollback that fails is one whose queue was deleted outside CloudFormation meanwhile."""
import json
import os
import subprocess
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client, tool_env

WAIT = {"Delay": 0.2, "MaxAttempts": 100}
V2_CLI = "/usr/bin/aws"


def cli_path(version):
    """The aws CLI v2 (Debian's), or the pip-installed v1: the first `aws` on PATH that is not v2."""
    if version == "v2":
        return V2_CLI
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "aws")
        if os.path.isfile(p) and os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath(V2_CLI):
            return p
    raise AssertionError("aws CLI v1 not found on PATH")


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


@pytest.fixture(scope="module")
def ecs(endpoint):
    return make_client(endpoint, "ecs")


def name(prefix="ops"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def message(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def status(cfn, stack):
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


def wait_status(cfn, stack, done, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = status(cfn, stack)
        if s in done:
            return s
        time.sleep(0.1)
    raise AssertionError(f"stack {stack} still {s}")


def events(cfn, stack):
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason"))
            for e in reversed(cfn.describe_stack_events(StackName=stack)["StackEvents"])]


def detect(cfn, stack, **kw):
    detection = cfn.detect_stack_drift(StackName=stack, **kw)["StackDriftDetectionId"]
    deadline = time.time() + 10
    while time.time() < deadline:
        out = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        if out["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            return out
        time.sleep(0.05)
    raise AssertionError("drift detection did not finish")


QUEUES = {
    "Resources": {
        "Main": {"Type": "AWS::SQS::Queue",
                 "Properties": {"VisibilityTimeout": 30, "Tags": [{"Key": "team", "Value": "core"}]}},
        "Other": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        "Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
    },
    "Outputs": {"Main": {"Value": {"Ref": "Main"}}, "Other": {"Value": {"Ref": "Other"}}},
}


def test_drift_of_queues(cfn, sqs):
    stack = name("drift")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(QUEUES), Tags=[{"Key": "env", "Value": "test"}])
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["DriftInformation"] == {"StackDriftStatus": "NOT_CHECKED"}
    urls = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}

    first = detect(cfn, stack)
    assert first["DetectionStatus"] == "DETECTION_COMPLETE"
    assert first["StackDriftStatus"] == "IN_SYNC" and first["DriftedStackResourceCount"] == 0
    assert first["StackId"] == described["StackId"]

    # Out of band: Main's visibility timeout changed, Other deleted.
    sqs.set_queue_attributes(QueueUrl=urls["Main"], Attributes={"VisibilityTimeout": "45"})
    sqs.delete_queue(QueueUrl=urls["Other"])
    second = detect(cfn, stack)
    assert second["StackDriftStatus"] == "DRIFTED" and second["DriftedStackResourceCount"] == 2

    drifts = {d["LogicalResourceId"]: d for d in cfn.describe_stack_resource_drifts(StackName=stack)["StackResourceDrifts"]}
    assert set(drifts) == {"Main", "Other", "Logs"}  # the wait condition handle is not checked, so not listed
    assert drifts["Logs"]["StackResourceDriftStatus"] == "IN_SYNC"
    main = drifts["Main"]
    assert main["StackResourceDriftStatus"] == "MODIFIED"
    assert main["PhysicalResourceId"] == urls["Main"]
    assert main["PropertyDifferences"] == [{"PropertyPath": "/VisibilityTimeout", "ExpectedValue": "30",
                                            "ActualValue": "45", "DifferenceType": "NOT_EQUAL"}]
    assert json.loads(main["ExpectedProperties"])["VisibilityTimeout"] == 30
    assert json.loads(main["ActualProperties"])["VisibilityTimeout"] == "45"
    # The stack's tag on the queue is CloudFormation's doing, not drift.
    assert {t["Key"] for t in json.loads(main["ActualProperties"])["Tags"]} == {"team", "env"}
    assert drifts["Other"]["StackResourceDriftStatus"] == "DELETED"

    deleted = cfn.describe_stack_resource_drifts(StackName=stack, StackResourceDriftStatusFilters=["DELETED"])
    assert [d["LogicalResourceId"] for d in deleted["StackResourceDrifts"]] == ["Other"]
    drifted = ["MODIFIED", "DELETED"]
    page = cfn.describe_stack_resource_drifts(StackName=stack, MaxResults=1, StackResourceDriftStatusFilters=drifted)
    assert [d["LogicalResourceId"] for d in page["StackResourceDrifts"]] == ["Main"]
    rest = cfn.describe_stack_resource_drifts(StackName=stack, MaxResults=1, NextToken=page["NextToken"],
                                              StackResourceDriftStatusFilters=drifted)
    assert [d["LogicalResourceId"] for d in rest["StackResourceDrifts"]] == ["Other"] and "NextToken" not in rest

    handle = cfn.detect_stack_resource_drift(StackName=stack, LogicalResourceId="Handle")["StackResourceDrift"]
    assert handle["StackResourceDriftStatus"] == "NOT_CHECKED"
    one = cfn.detect_stack_resource_drift(StackName=stack, LogicalResourceId="Main")["StackResourceDrift"]
    assert one["StackResourceDriftStatus"] == "MODIFIED"

    info = cfn.describe_stacks(StackName=stack)["Stacks"][0]["DriftInformation"]
    assert info["StackDriftStatus"] == "DRIFTED" and "LastCheckTimestamp" in info
    summaries = {r["LogicalResourceId"]: r["DriftInformation"]
                 for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]}
    assert summaries["Main"]["StackResourceDriftStatus"] == "MODIFIED" and "LastCheckTimestamp" in summaries["Main"]
    assert summaries["Handle"] == {"StackResourceDriftStatus": "NOT_CHECKED"}
    assert summaries["Logs"]["StackResourceDriftStatus"] == "IN_SYNC"
    detail = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Other")["StackResourceDetail"]
    assert detail["DriftInformation"]["StackResourceDriftStatus"] == "DELETED"

    # Put back as the template says: in sync again (only the resources asked for are checked).
    sqs.set_queue_attributes(QueueUrl=urls["Main"], Attributes={"VisibilityTimeout": "30"})
    assert detect(cfn, stack, LogicalResourceIds=["Main"])["StackDriftStatus"] == "IN_SYNC"

    with pytest.raises(ClientError) as e:
        cfn.describe_stack_drift_detection_status(StackDriftDetectionId="00000000-0000-0000-0000-000000000000")
    assert message(e)[0] == "ValidationError"
    with pytest.raises(ClientError) as e:
        cfn.detect_stack_resource_drift(StackName=stack, LogicalResourceId="Nope")
    assert message(e) == ("ValidationError", f"Resource Nope does not exist for stack {stack}")
    cfn.delete_stack(StackName=stack)


def test_termination_protection(cfn):
    stack = name("protect")
    cfn.create_stack(StackName=stack, EnableTerminationProtection=True,
                     TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["EnableTerminationProtection"] is True
    with pytest.raises(ClientError) as e:
        cfn.delete_stack(StackName=stack)
    assert message(e) == ("ValidationError", f"Stack [{stack}] cannot be deleted while TerminationProtection is enabled")
    assert status(cfn, stack) == "CREATE_COMPLETE"
    stack_id = cfn.update_termination_protection(StackName=stack, EnableTerminationProtection=False)["StackId"]
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["EnableTerminationProtection"] is False
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig=WAIT)


def queue_template(timeout, extra=None):
    resources = {"Main": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": timeout}},
                 "Free": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": timeout}}}
    resources.update(extra or {})
    return json.dumps({"Resources": resources, "Outputs": {"Main": {"Value": {"Ref": "Main"}},
                                                          "Free": {"Value": {"Ref": "Free"}}}})


PROTECT_MAIN = json.dumps({"Statement": [
    {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": "Update:*", "Principal": "*", "Resource": "LogicalResourceId/Main"},
]})
ALLOW_ALL = json.dumps({"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]})


def test_stack_policy(cfn, sqs, endpoint):
    stack = name("policy")
    cfn.create_stack(StackName=stack, TemplateBody=queue_template(30), StackPolicyBody=PROTECT_MAIN)
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert json.loads(cfn.get_stack_policy(StackName=stack)["StackPolicyBody"]) == json.loads(PROTECT_MAIN)
    urls = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}

    cfn.update_stack(StackName=stack, TemplateBody=queue_template(60))
    assert wait_status(cfn, stack, {"UPDATE_ROLLBACK_COMPLETE", "UPDATE_COMPLETE"}) == "UPDATE_ROLLBACK_COMPLETE"
    failed = [e for e in events(cfn, stack) if e[1] == "UPDATE_FAILED"]
    assert failed == [("Main", "UPDATE_FAILED", "Action denied by stack policy: Statement [#2] does not allow "
                       "[Update:Modify] for resource [LogicalResourceId/Main]")]
    for q in urls.values():
        assert sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"] == "30"

    # A policy for this update only (from a Cloudless S3 URL) lets it through; the stack's policy stays.
    s3 = make_client(endpoint, "s3")
    bucket = name("policies")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="allow.json", Body=ALLOW_ALL.encode())
    cfn.update_stack(StackName=stack, TemplateBody=queue_template(60),
                     StackPolicyDuringUpdateURL=f"{endpoint}/{bucket}/allow.json")
    assert wait_status(cfn, stack, {"UPDATE_ROLLBACK_COMPLETE", "UPDATE_COMPLETE"}) == "UPDATE_COMPLETE"
    assert sqs.get_queue_attributes(QueueUrl=urls["Main"], AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"] == "60"
    assert json.loads(cfn.get_stack_policy(StackName=stack)["StackPolicyBody"]) == json.loads(PROTECT_MAIN)

    # SetStackPolicy (from S3 too): removing a resource is Update:Delete, denied here.
    no_delete = json.dumps({"Statement": [{"Effect": "Deny", "Action": "Update:Delete", "Principal": "*", "Resource": "*"},
                                          {"Effect": "Allow", "Action": "Update:Modify", "Principal": "*", "Resource": "*"}]})
    s3.put_object(Bucket=bucket, Key="no-delete.json", Body=no_delete.encode())
    cfn.set_stack_policy(StackName=stack, StackPolicyURL=f"{endpoint}/{bucket}/no-delete.json")
    assert json.loads(cfn.get_stack_policy(StackName=stack)["StackPolicyBody"]) == json.loads(no_delete)
    cfn.update_stack(StackName=stack, TemplateBody=json.dumps(
        {"Resources": {"Main": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}}}}))
    assert wait_status(cfn, stack, {"UPDATE_ROLLBACK_COMPLETE", "UPDATE_COMPLETE"}) == "UPDATE_ROLLBACK_COMPLETE"
    assert ("Free", "UPDATE_FAILED", "Action denied by stack policy: Statement [#1] does not allow [Update:Delete] "
            "for resource [LogicalResourceId/Free]") in events(cfn, stack)
    sqs.get_queue_attributes(QueueUrl=urls["Free"])  # still there

    with pytest.raises(ClientError) as e:
        cfn.set_stack_policy(StackName=stack, StackPolicyBody="{not json")
    assert message(e) == ("ValidationError", "Error validating stack policy: Invalid stack policy")
    with pytest.raises(ClientError) as e:
        cfn.set_stack_policy(StackName=stack, StackPolicyBody=ALLOW_ALL, StackPolicyURL=f"{endpoint}/{bucket}/allow.json")
    assert message(e) == ("ValidationError", "You cannot specify both StackPolicyURL and StackPolicyBody")
    cfn.delete_stack(StackName=stack)
    for key in ("allow.json", "no-delete.json"):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


def ecs_template(count, timeout=30, extra=None):
    """A queue, and an EC2 service that depends on it: with no container instance in the cluster, a service asked
    for a task never becomes stable, so an update that asks for one runs until it is cancelled."""
    resources = {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": timeout}},
        "Cluster": {"Type": "AWS::ECS::Cluster"},
        "Task": {"Type": "AWS::ECS::TaskDefinition",
                 "Properties": {"RequiresCompatibilities": ["EC2"], "Memory": "128",
                                "ContainerDefinitions": [{"Name": "app", "Image": "example.com/ops/app:1", "Essential": True}]}},
        "Service": {"Type": "AWS::ECS::Service", "DependsOn": "Queue",
                    "Properties": {"Cluster": {"Ref": "Cluster"}, "TaskDefinition": {"Ref": "Task"},
                                   "DesiredCount": count, "LaunchType": "EC2"}},
    }
    resources.update(extra or {})
    return json.dumps({"Resources": resources, "Outputs": {
        "Queue": {"Value": {"Ref": "Queue"}}, "Cluster": {"Value": {"Ref": "Cluster"}}, "Service": {"Value": {"Ref": "Service"}}}})


def start_update(cfn, stack, body):
    """UpdateStack answers once the update is done (or after 10 s): send it aside, and return once the service is
    updating (the queue, updated before it, done)."""
    update = threading.Thread(target=lambda: cfn.update_stack(StackName=stack, TemplateBody=body))
    update.start()
    deadline = time.time() + 10
    while time.time() < deadline and ("Service", "UPDATE_IN_PROGRESS", None) not in events(cfn, stack):
        time.sleep(0.05)
    assert status(cfn, stack) == "UPDATE_IN_PROGRESS"
    return update


def test_cancel_update_stack(cfn, sqs, ecs):
    stack = name("cancel")
    cfn.create_stack(StackName=stack, TemplateBody=ecs_template(0))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    out = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
    with pytest.raises(ClientError) as e:
        cfn.cancel_update_stack(StackName=stack)
    assert message(e) == ("ValidationError", "CancelUpdateStack cannot be called from current stack status")

    started = time.time()
    update = start_update(cfn, stack, ecs_template(1, timeout=60))
    assert ecs.describe_services(cluster=out["Cluster"], services=[out["Service"]])["services"][0]["desiredCount"] == 1
    cfn.cancel_update_stack(StackName=stack)
    update.join()
    assert wait_status(cfn, stack, {"UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"}) == "UPDATE_ROLLBACK_COMPLETE"
    assert time.time() - started < 10
    log = events(cfn, stack)
    assert ("Service", "UPDATE_FAILED", "Resource update cancelled") in log
    assert (stack, "UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled") in log
    # Both the queue and the half-updated service are back as they were.
    assert ecs.describe_services(cluster=out["Cluster"], services=[out["Service"]])["services"][0]["desiredCount"] == 0
    assert sqs.get_queue_attributes(QueueUrl=out["Queue"], AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"] == "30"
    assert json.loads(json.dumps(cfn.get_template(StackName=stack)["TemplateBody"])) == json.loads(ecs_template(0))
    cfn.delete_stack(StackName=stack)


def test_continue_update_rollback(cfn, sqs, ecs):
    stack = name("continue")
    cfn.create_stack(StackName=stack, TemplateBody=ecs_template(0))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    out = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
    # While the update waits for the service, the queue it updated is deleted outside CloudFormation: the rollback
    # cannot update it back.
    update = start_update(cfn, stack, ecs_template(1, timeout=60))
    sqs.delete_queue(QueueUrl=out["Queue"])
    cfn.cancel_update_stack(StackName=stack)
    update.join()
    assert wait_status(cfn, stack, {"UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE"}) == "UPDATE_ROLLBACK_FAILED"
    queue = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Queue")["StackResourceDetail"]
    assert queue["ResourceStatus"] == "UPDATE_FAILED"
    assert ecs.describe_services(cluster=out["Cluster"], services=[out["Service"]])["services"][0]["desiredCount"] == 0
    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName=stack, TemplateBody=ecs_template(0))
    assert "UPDATE_ROLLBACK_FAILED state and can not be updated" in message(e)[1]

    cfn.continue_update_rollback(StackName=stack)  # the same failure again
    assert wait_status(cfn, stack, {"UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE"}) == "UPDATE_ROLLBACK_FAILED"
    with pytest.raises(ClientError) as e:
        cfn.continue_update_rollback(StackName=stack, ResourcesToSkip=["Nope"])
    assert message(e) == ("ValidationError", f"Resource Nope does not exist for stack {stack}")
    cfn.continue_update_rollback(StackName=stack, ResourcesToSkip=["Queue"])
    assert wait_status(cfn, stack, {"UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE"}) == "UPDATE_ROLLBACK_COMPLETE"
    resources = {r["LogicalResourceId"]: r["ResourceStatus"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
    assert resources["Queue"] == "UPDATE_COMPLETE"
    # A skipped resource's state is unknown: drift detection leaves it unchecked.
    drift = cfn.detect_stack_resource_drift(StackName=stack, LogicalResourceId="Queue")["StackResourceDrift"]
    assert drift["StackResourceDriftStatus"] == "NOT_CHECKED"
    with pytest.raises(ClientError) as e:
        cfn.continue_update_rollback(StackName=stack)
    assert message(e) == ("ValidationError", "ContinueUpdateRollback cannot be called from current stack status")
    stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=stack)  # the queue already gone is no failure
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig=WAIT)


BAD_QUEUE = {"Type": "AWS::SQS::Queue", "DependsOn": "Queue", "Properties": {"MaximumMessageSize": 1}}


def test_rollback_stack(cfn, sqs):
    stack = name("rollback")
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{stack}-q", "VisibilityTimeout": 30}}
    cfn.create_stack(StackName=stack, DisableRollback=True, TemplateBody=json.dumps({"Resources": {"Queue": queue, "Bad": BAD_QUEUE}}))
    assert wait_status(cfn, stack, {"CREATE_FAILED", "ROLLBACK_COMPLETE"}) == "CREATE_FAILED"
    url = sqs.get_queue_url(QueueName=f"{stack}-q")["QueueUrl"]  # kept for inspection
    with pytest.raises(ClientError) as e:
        cfn.cancel_update_stack(StackName=stack)
    assert message(e)[1] == "CancelUpdateStack cannot be called from current stack status"
    stack_id = cfn.rollback_stack(StackName=stack)["StackId"]
    assert wait_status(cfn, stack, {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED"}) == "ROLLBACK_COMPLETE"
    with pytest.raises(ClientError) as e:
        sqs.get_queue_attributes(QueueUrl=url)
    assert e.value.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    assert [st for lid, st, _ in events(cfn, stack) if lid == stack][-2:] == ["ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]
    cfn.delete_stack(StackName=stack_id)

    # An update left UPDATE_FAILED by DisableRollback, rolled back on request.
    stack = name("rollback")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue",
                                                                                        "Properties": {"VisibilityTimeout": 30}}},
                                                               "Outputs": {"Url": {"Value": {"Ref": "Queue"}}}}))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    url = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"][0]["OutputValue"]
    cfn.update_stack(StackName=stack, DisableRollback=True, TemplateBody=json.dumps(
        {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 90}}, "Bad": BAD_QUEUE}}))
    assert wait_status(cfn, stack, {"UPDATE_FAILED", "UPDATE_ROLLBACK_COMPLETE"}) == "UPDATE_FAILED"
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["DisableRollback"] is True
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"] == "90"
    cfn.rollback_stack(StackName=stack)
    assert wait_status(cfn, stack, {"UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED"}) == "UPDATE_ROLLBACK_COMPLETE"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"] == "30"
    assert [r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]] == ["Queue"]
    with pytest.raises(ClientError) as e:
        cfn.rollback_stack(StackName=stack)
    assert message(e)[0] == "ValidationError"
    cfn.delete_stack(StackName=stack)


def test_change_set_resumes_after_update_failed(cfn, sqs):
    """`deploy --disable-rollback` leaves UPDATE_FAILED; the next deploy (a change set) resumes from there."""
    stack = name("resume")
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}}
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": {"Queue": queue}, "Outputs": {"Url": {"Value": {"Ref": "Queue"}}}}))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    url = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"][0]["OutputValue"]

    def deploy(resources, **kw):
        body = json.dumps({"Resources": resources, "Outputs": {"Url": {"Value": {"Ref": "Queue"}}}})
        cs = cfn.create_change_set(StackName=stack, ChangeSetName=name("cs"), ChangeSetType="UPDATE", TemplateBody=body)["Id"]
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=cs, WaiterConfig=WAIT)
        cfn.execute_change_set(ChangeSetName=cs, **kw)

    updated = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 90}}
    deploy({"Queue": updated, "Bad": BAD_QUEUE}, DisableRollback=True)
    assert wait_status(cfn, stack, {"UPDATE_FAILED", "UPDATE_ROLLBACK_COMPLETE"}) == "UPDATE_FAILED"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"] == "90"
    bad = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Bad")["StackResourceDetail"]
    assert bad["ResourceStatus"] == "CREATE_FAILED"

    fixed = {"Type": "AWS::SQS::Queue", "DependsOn": "Queue", "Properties": {"MaximumMessageSize": 2048}}
    deploy({"Queue": updated, "Bad": fixed})
    assert wait_status(cfn, stack, {"UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}) == "UPDATE_COMPLETE"
    resources = {r["LogicalResourceId"]: r["ResourceStatus"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
    assert resources == {"Queue": "UPDATE_COMPLETE", "Bad": "CREATE_COMPLETE"}
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"][0]["OutputValue"] == url  # the same queue
    cfn.delete_stack(StackName=stack)


def test_retained_resource_is_delete_skipped(cfn, sqs):
    stack = name("retain")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": {
        "Kept": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain", "Properties": {"QueueName": f"{stack}-kept"}},
        "Gone": {"Type": "AWS::SQS::Queue"}}}))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig=WAIT)
    resources = {r["LogicalResourceId"]: r["ResourceStatus"] for r in cfn.describe_stack_resources(StackName=stack_id)["StackResources"]}
    assert resources == {"Kept": "DELETE_SKIPPED", "Gone": "DELETE_COMPLETE"}
    assert ("Kept", "DELETE_SKIPPED", None) in events(cfn, stack_id)
    url = sqs.get_queue_url(QueueName=f"{stack}-kept")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)


@pytest.mark.parametrize("cli", ["v1", "v2"])
def test_drift_and_protection_from_the_aws_cli(cfn, sqs, endpoint, cli, tmp_path):
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                   AWS_PAGER="", AWS_MAX_ATTEMPTS="1")

    def aws(*args, check=True):
        p = subprocess.run([cli_path(cli), "--endpoint-url", endpoint, "--output", "json", "cloudformation", *args],
                           capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0 or not check, p.stderr
        return p

    stack = name("cli")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 600}}},
         "Outputs": {"Url": {"Value": {"Ref": "Q"}}}}))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    url = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"][0]["OutputValue"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "900"})

    detection = json.loads(aws("detect-stack-drift", "--stack-name", stack).stdout)["StackDriftDetectionId"]
    deadline = time.time() + 10
    while True:
        out = json.loads(aws("describe-stack-drift-detection-status", "--stack-drift-detection-id", detection).stdout)
        if out["DetectionStatus"] != "DETECTION_IN_PROGRESS" or time.time() > deadline:
            break
    assert out["DetectionStatus"] == "DETECTION_COMPLETE" and out["StackDriftStatus"] == "DRIFTED"
    drifts = json.loads(aws("describe-stack-resource-drifts", "--stack-name", stack,
                            "--stack-resource-drift-status-filters", "MODIFIED").stdout)["StackResourceDrifts"]
    assert [(d["LogicalResourceId"], d["PropertyDifferences"][0]["PropertyPath"], d["PropertyDifferences"][0]["ActualValue"])
            for d in drifts] == [("Q", "/MessageRetentionPeriod", "900")]

    aws("update-termination-protection", "--stack-name", stack, "--enable-termination-protection")
    refused = aws("delete-stack", "--stack-name", stack, check=False)
    assert refused.returncode != 0
    assert f"Stack [{stack}] cannot be deleted while TerminationProtection is enabled" in refused.stderr
    aws("update-termination-protection", "--stack-name", stack, "--no-enable-termination-protection")
    aws("delete-stack", "--stack-name", stack)
