"""The SAM transform (AWS::Serverless-2016-10-31), done by Cloudless: a SAM template with Globals, an inline python
function, an SQS event, a public function URL and an explicit Policies list becomes a Lambda function, its generated
role, an event source mapping and a URL with its public permission. The function is invoked through the Lambda API
and by a message sent to the queue (seen in its CloudWatch Logs); GetTemplate Processed shows the expanded
resources; an event type Cloudless does not serve is refused; deleting the stack removes everything."""
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client

WAIT = {"Delay": 1, "MaxAttempts": 90}

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Timeout: 30
    MemorySize: 256
    Environment: {Variables: {STAGE: test, FROM: globals}}
    Tags: {team: sam}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: 60}
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Environment: {Variables: {FROM: function}}
      InlineCode: |
        def handler(event, context):
            for record in event.get("Records", []):
                print("sam-body:" + record["body"])
            return {"ok": True}
      Policies:
        - AmazonSQSReadOnlyAccess
        - SQSSendMessagePolicy: {QueueName: !GetAtt Queue.QueueName}
        - Statement: [{Effect: Allow, Action: "logs:CreateLogStream", Resource: "*"}]
      FunctionUrlConfig: {AuthType: NONE}
      Events:
        Jobs:
          Type: SQS
          Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 1}
Outputs:
  FunctionName: {Value: !Ref Function}
  FunctionArn: {Value: !GetAtt Function.Arn}
  RoleArn: {Value: !GetAtt FunctionRole.Arn}
  QueueUrl: {Value: !Ref Queue}
  FunctionUrl: {Value: !GetAtt FunctionUrl.FunctionUrl}
"""


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


def create(cfn, stack, template):
    cfn.create_stack(StackName=stack, TemplateBody=template, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    except Exception:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        reasons = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
        raise AssertionError(f"stack {stack} did not complete: {reasons}")
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def test_sam_function_stack(cfn, endpoint):
    lam = make_client(endpoint, "lambda")
    sqs = make_client(endpoint, "sqs")
    iam = make_client(endpoint, "iam")
    logs = make_client(endpoint, "logs")
    stack = f"cfn-sam-{uuid.uuid4().hex[:10]}"
    out = create(cfn, stack, TEMPLATE)
    name = out["FunctionName"]
    role_name = out["RoleArn"].split("/")[-1]
    try:
        resources = {r["LogicalResourceId"]: r["ResourceType"]
                     for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
        assert resources == {
            "Queue": "AWS::SQS::Queue", "Function": "AWS::Lambda::Function", "FunctionRole": "AWS::IAM::Role",
            "FunctionJobs": "AWS::Lambda::EventSourceMapping", "FunctionUrl": "AWS::Lambda::Url",
            "FunctionUrlPublicPermissions": "AWS::Lambda::Permission",
        }

        config = lam.get_function_configuration(FunctionName=name)
        assert config["Runtime"] == "python3.11" and config["Handler"] == "index.handler"
        assert config["Timeout"] == 30 and config["MemorySize"] == 256
        assert config["Environment"]["Variables"] == {"STAGE": "test", "FROM": "function"}
        assert config["Role"] == out["RoleArn"]
        tags = lam.list_tags(Resource=out["FunctionArn"])["Tags"]
        assert tags["lambda:createdBy"] == "SAM" and tags["team"] == "sam"

        attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]]
        assert set(attached) == {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                                 "arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess",
                                 "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"}
        assert sorted(iam.list_role_policies(RoleName=role_name)["PolicyNames"]) == ["FunctionRolePolicy1", "FunctionRolePolicy2"]

        result = lam.invoke(FunctionName=name, Payload=b"{}")
        assert "FunctionError" not in result
        assert json.loads(result["Payload"].read()) == {"ok": True}

        url = lam.get_function_url_config(FunctionName=name)
        assert url["AuthType"] == "NONE" and url["FunctionUrl"] == out["FunctionUrl"]
        policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
        assert any(s["Action"] == "lambda:InvokeFunctionUrl" for s in policy["Statement"])

        marker = uuid.uuid4().hex
        sqs.send_message(QueueUrl=out["QueueUrl"], MessageBody=marker)
        deadline = time.time() + 60
        seen = False
        while time.time() < deadline and not seen:
            try:
                events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
                seen = any(f"sam-body:{marker}" in e["message"] for e in events)
            except ClientError:
                pass
            if not seen:
                time.sleep(1)
        assert seen, "the queued message did not reach the function"

        original = cfn.get_template(StackName=stack)["TemplateBody"]
        assert "AWS::Serverless::Function" in str(original)
        processed = cfn.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
        if isinstance(processed, str):
            processed = json.loads(processed)
        assert "Transform" not in processed and "Globals" not in processed
        types = {k: v["Type"] for k, v in processed["Resources"].items()}
        assert types == resources
        summary = cfn.get_template_summary(StackName=stack)
        assert "AWS::Lambda::Function" in summary["ResourceTypes"]
        assert "AWS::Serverless::Function" not in summary["ResourceTypes"]
    finally:
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)

    with pytest.raises(ClientError):
        lam.get_function(FunctionName=name)
    with pytest.raises(ClientError):
        iam.get_role(RoleName=role_name)
    with pytest.raises(ClientError):
        sqs.get_queue_attributes(QueueUrl=out["QueueUrl"])
    assert lam.list_event_source_mappings(FunctionName=name).get("EventSourceMappings", []) == []


def test_unsupported_event_type_refused(cfn):
    template = TEMPLATE.replace("Type: SQS", "Type: Schedule").replace(
        "Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 1}", "Properties: {Schedule: rate(1 minute)}")
    stack = f"cfn-sam-{uuid.uuid4().hex[:10]}"
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody=template, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "Event type Schedule" in e.value.response["Error"]["Message"]
    assert "not supported by Cloudless" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        cfn.validate_template(TemplateBody=template)
    assert "Event type Schedule" in e.value.response["Error"]["Message"]
    ok = cfn.validate_template(TemplateBody=TEMPLATE)
    assert ok["DeclaredTransforms"] == ["AWS::Serverless-2016-10-31"]


ALIAS_TEMPLATE = """
Transform: [AWS::Serverless-2016-10-31]
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      InlineCode: |
        def handler(event, context):
            return {"version": context.function_version}
      AutoPublishAlias: live
      FunctionUrlConfig: {AuthType: AWS_IAM}
      Events:
        Upload:
          Type: S3
          Properties: {Bucket: !Ref Uploads, Events: "s3:ObjectCreated:*"}
Outputs:
  FunctionName: {Value: !Ref Function}
  AliasArn: {Value: !Ref FunctionAliaslive}
"""


def test_sam_change_set_with_alias_and_s3_event(cfn, endpoint):
    lam = make_client(endpoint, "lambda")
    stack = f"cfn-sam-cs-{uuid.uuid4().hex[:10]}"
    cfn.create_change_set(StackName=stack, ChangeSetName="initial", ChangeSetType="CREATE", TemplateBody=ALIAS_TEMPLATE,
                          Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName="initial", WaiterConfig=WAIT)
    try:
        changes = cfn.describe_change_set(StackName=stack, ChangeSetName="initial")["Changes"]
        types = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["ResourceType"] for c in changes}
        version = next(k for k in types if k.startswith("FunctionVersion"))
        assert types == {
            "Uploads": "AWS::S3::Bucket", "Function": "AWS::Lambda::Function", "FunctionRole": "AWS::IAM::Role",
            version: "AWS::Lambda::Version", "FunctionAliaslive": "AWS::Lambda::Alias",
            "FunctionUrl": "AWS::Lambda::Url", "FunctionUploadPermission": "AWS::Lambda::Permission",
        }
        processed = cfn.get_template(StackName=stack, ChangeSetName="initial", TemplateStage="Processed")["TemplateBody"]
        if isinstance(processed, str):
            processed = json.loads(processed)
        bucket = processed["Resources"]["Uploads"]
        assert bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"] == [
            {"Event": "s3:ObjectCreated:*", "Function": {"Ref": "FunctionAliaslive"}}]

        cfn.execute_change_set(StackName=stack, ChangeSetName="initial")
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        out = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        name = out["FunctionName"]
        alias = lam.get_alias(FunctionName=name, Name="live")
        assert alias["AliasArn"] == out["AliasArn"] and alias["FunctionVersion"] == "1"
        result = lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
        assert json.loads(result["Payload"].read()) == {"version": "1"}
        url = lam.get_function_url_config(FunctionName=name, Qualifier="live")
        assert url["AuthType"] == "AWS_IAM"

        # New code: a new version (its logical id follows the code), and the alias moves to it.
        cfn.update_stack(StackName=stack, TemplateBody=ALIAS_TEMPLATE.replace('{"version"', '{"v"'),
                         Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
        result = lam.invoke(FunctionName=name, Qualifier="live", Payload=b"{}")
        assert json.loads(result["Payload"].read()) == {"v": "2"}
    finally:
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
