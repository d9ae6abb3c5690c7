"""CloudFormation over the Query protocol (Version 2010-05-15) from boto3: stacks of
AWS::CloudFormation::WaitConditionHandle resources (a type with no work), created, described, updated and deleted
with botocore's waiters, and a stack whose unknown resource type fails and rolls back.

Stack names are unique per run, so the module also runs against another emulator through E2E_ENDPOINT."""
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Description: handles
Parameters:
  Suffix: {Type: String, Default: one}
  Secret: {Type: String, NoEcho: true, Default: hush}
Conditions:
  Two: !Equals [!Ref Suffix, two]
Resources:
  First:
    Type: AWS::CloudFormation::WaitConditionHandle
  Second:
    Type: AWS::CloudFormation::WaitConditionHandle
    DependsOn: First
  Extra:
    Type: AWS::CloudFormation::WaitConditionHandle
    Condition: Two
Outputs:
  FirstUrl:
    Value: !Ref First
    Export: {Name: !Sub "${AWS::StackName}-first"}
  Label:
    Value: !Sub "${AWS::StackName}-${Suffix}-${AWS::Region}"
"""

WAIT = {"Delay": 1, "MaxAttempts": 60}


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


def name(prefix="e2e"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def statuses(cfn, stack):
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]


def test_stack_lifecycle(cfn):
    stack = name()
    stack_id = cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE, Tags=[{"Key": "team", "Value": "core"}])["StackId"]
    assert stack_id.startswith("arn:aws:cloudformation:us-east-1:")
    assert f":stack/{stack}/" in stack_id
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)

    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "CREATE_COMPLETE"
    assert s["StackId"] == stack_id
    assert s["Description"] == "handles"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in s["Parameters"]} == {"Suffix": "one", "Secret": "****"}
    assert s["Tags"] == [{"Key": "team", "Value": "core"}]
    outputs = {o["OutputKey"]: o for o in s["Outputs"]}
    assert outputs["Label"]["OutputValue"] == f"{stack}-one-us-east-1"
    # A presigned-style URL on the emulator itself (AWS's is an https S3 URL), so that signals can reach it.
    assert outputs["FirstUrl"]["OutputValue"].startswith(("https://", "http://"))
    assert "X-Amz-Signature=" in outputs["FirstUrl"]["OutputValue"]
    assert outputs["FirstUrl"]["ExportName"] == f"{stack}-first"

    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert sorted(r["LogicalResourceId"] for r in resources) == ["First", "Second"]
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in resources)
    one = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="First")["StackResourceDetail"]
    assert one["PhysicalResourceId"] == outputs["FirstUrl"]["OutputValue"]
    assert len(cfn.describe_stack_resources(StackName=stack)["StackResources"]) == 2

    events = statuses(cfn, stack)
    assert events[0] == (stack, "CREATE_IN_PROGRESS")
    assert events[-1] == (stack, "CREATE_COMPLETE")
    assert events.index(("First", "CREATE_COMPLETE")) < events.index(("Second", "CREATE_IN_PROGRESS"))

    exports = {e["Name"]: e for e in cfn.list_exports()["Exports"]}
    assert exports[f"{stack}-first"]["ExportingStackId"] == stack_id
    assert cfn.get_template(StackName=stack)["TemplateBody"] == TEMPLATE
    assert stack in [x["StackName"] for x in cfn.list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]]

    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName=stack, TemplateBody=TEMPLATE, Tags=[{"Key": "team", "Value": "core"}])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert e.value.response["Error"]["Message"] == "No updates are to be performed."

    cfn.update_stack(StackName=stack, UsePreviousTemplate=True,
                     Parameters=[{"ParameterKey": "Suffix", "ParameterValue": "two"},
                                 {"ParameterKey": "Secret", "UsePreviousValue": True}])
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "UPDATE_COMPLETE"
    assert "LastUpdatedTime" in s
    assert {o["OutputKey"]: o["OutputValue"] for o in s["Outputs"]}["Label"] == f"{stack}-two-us-east-1"
    assert sorted(r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]) == \
        ["Extra", "First", "Second"]

    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    with pytest.raises(ClientError) as e:
        cfn.describe_stacks(StackName=stack)
    assert e.value.response["Error"]["Message"] == f"Stack with id {stack} does not exist"
    gone = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert gone["StackStatus"] == "DELETE_COMPLETE"
    assert f"{stack}-first" not in [e["Name"] for e in cfn.list_exports()["Exports"]]


def test_unknown_type_rolls_back(cfn):
    stack = name()
    body = """
Resources:
  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
  Odd: {Type: AWS::Nothing::Here, DependsOn: Handle}
"""
    cfn.create_stack(StackName=stack, TemplateBody=body)
    with pytest.raises(Exception):
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Odd"
    assert failed[0]["ResourceStatusReason"] == "Resource type AWS::Nothing::Here is not supported by Cloudless"
    assert (events[0]["LogicalResourceId"], events[0]["ResourceStatus"]) == (stack, "ROLLBACK_COMPLETE")
    assert ("Handle", "DELETE_COMPLETE") in statuses(cfn, stack)
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)


def test_errors(cfn):
    stack = name()
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody="Resources: {}")
    assert e.value.response["Error"]["Message"] == "Template format error: At least one Resources member must be defined."
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody="Resources:\n  A: {Type: AWS::CloudFormation::WaitConditionHandle, DependsOn: B}\n")
    assert e.value.response["Error"]["Message"] == \
        "Template format error: Unresolved resource dependencies [B] in the Resources block of the template"
    with pytest.raises(ClientError) as e:
        cfn.describe_stacks(StackName=stack)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    assert e.value.response["Error"]["Code"] == "AlreadyExistsException"
    assert e.value.response["Error"]["Message"] == f"Stack [{stack}] already exists"
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    v = cfn.validate_template(TemplateBody=TEMPLATE)
    assert v["Description"] == "handles"
    assert {p["ParameterKey"]: p.get("DefaultValue") for p in v["Parameters"]} == {"Suffix": "one", "Secret": "hush"}
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
