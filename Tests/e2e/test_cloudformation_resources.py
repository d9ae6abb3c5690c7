"""CloudFormation stacks whose resources are really created in Cloudless's services and then used through their
own APIs: an SQS queue with a dead-letter queue (a message sent to it arrives), a log group with retention, a
secret with a generated password, an IAM role with inline and managed policies, an S3 bucket with versioning (an
object put in it); Ref and Fn::GetAtt values as AWS documents them; an update that modifies the queue in place and
replaces the bucket whose name changed; a failure on the last resource rolled back with nothing left behind;
DeletionPolicy Retain."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client, purge_versioned_bucket

WAIT = {"Delay": 1, "MaxAttempts": 60}

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Visibility: {Type: Number, Default: 30}
  BucketSuffix: {Type: String, Default: a}
Resources:
  DeadLetters:
    Type: AWS::SQS::Queue
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: !Ref Visibility
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 3
      Tags: [{Key: team, Value: blue}]
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/stack/${AWS::StackName}"
      RetentionInDays: 7
  Password:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: !Sub "${AWS::StackName}/db"
      GenerateSecretString:
        SecretStringTemplate: '{"username": "admin"}'
        GenerateStringKey: password
        PasswordLength: 24
        ExcludePunctuation: true
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
      Policies:
        - PolicyName: read-queue
          PolicyDocument:
            Version: '2012-10-17'
            Statement: [{Effect: Allow, Action: sqs:ReceiveMessage, Resource: !GetAtt Work.Arn}]
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-${BucketSuffix}"
      VersioningConfiguration: {Status: Enabled}
Outputs:
  QueueUrl: {Value: !Ref Work}
  QueueArn: {Value: !GetAtt Work.Arn}
  LogGroupArn: {Value: !GetAtt Logs.Arn}
  SecretArn: {Value: !Ref Password}
  RoleArn: {Value: !GetAtt Role.Arn}
  BucketName: {Value: !Ref Bucket}
  BucketArn: {Value: !GetAtt Bucket.Arn}
"""


@pytest.fixture(scope="module")
def cf(endpoint):
    return make_client(endpoint, "cloudformation")


def outputs(cf, name):
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    return stack, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_resources_are_created_in_their_services_and_used(endpoint, cf, account):
    name = "cfres-" + uuid.uuid4().hex[:8]
    cf.create_stack(StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"])
    cf.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAIT)
    stack, out = outputs(cf, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    sqs, logs, sm, iam, s3 = (make_client(endpoint, s) for s in ("sqs", "logs", "secretsmanager", "iam", "s3"))

    # The queue, with its redrive policy to the dead-letter queue and its tags.
    url = out["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["QueueArn"] == out["QueueArn"] and attrs["VisibilityTimeout"] == "30"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 3 and redrive["deadLetterTargetArn"].startswith(f"arn:aws:sqs:us-east-1:{account}:")
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"]["team"] == "blue"
    sqs.send_message(QueueUrl=url, MessageBody="through the stack")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "through the stack"

    # The log group, the secret, the role, the bucket.
    group = logs.describe_log_groups(logGroupNamePrefix=f"/stack/{name}")["logGroups"][0]
    assert group["retentionInDays"] == 7 and out["LogGroupArn"] == f"arn:aws:logs:us-east-1:{account}:log-group:/stack/{name}:*"
    value = json.loads(sm.get_secret_value(SecretId=out["SecretArn"])["SecretString"])
    assert value["username"] == "admin" and len(value["password"]) == 24 and value["password"].isalnum()
    role_name = out["RoleArn"].rsplit("/", 1)[1]
    assert role_name.startswith(f"{name}-Role-")
    assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == ["read-queue"]
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]] == \
        ["AWSLambdaBasicExecutionRole"]
    assert out["BucketName"] == f"{name}-a" and out["BucketArn"] == f"arn:aws:s3:::{name}-a"
    assert s3.get_bucket_versioning(Bucket=out["BucketName"])["Status"] == "Enabled"
    s3.put_object(Bucket=out["BucketName"], Key="k", Body=b"v")

    resources = {r["LogicalResourceId"]: r for r in cf.describe_stack_resources(StackName=name)["StackResources"]}
    assert resources["Work"]["PhysicalResourceId"] == url and resources["Work"]["ResourceStatus"] == "CREATE_COMPLETE"

    # Update: the queue changes in place (same URL), the bucket is replaced (its name changed).
    purge_versioned_bucket(s3, out["BucketName"])
    cf.update_stack(StackName=name, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"],
                    Parameters=[{"ParameterKey": "Visibility", "ParameterValue": "90"},
                                {"ParameterKey": "BucketSuffix", "ParameterValue": "b"}])
    cf.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAIT)
    _, after = outputs(cf, name)
    assert after["QueueUrl"] == url
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]["VisibilityTimeout"] == "90"
    assert after["BucketName"] == f"{name}-b"
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert f"{name}-b" in buckets and f"{name}-a" not in buckets
    events = [e["ResourceStatus"] for e in cf.describe_stack_events(StackName=name)["StackEvents"] if e["LogicalResourceId"] == name]
    assert events[0] == "UPDATE_COMPLETE" and "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS" in events

    # Delete: everything goes.
    cf.delete_stack(StackName=name)
    cf.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAIT)
    with pytest.raises(ClientError):
        sqs.get_queue_attributes(QueueUrl=url)
    assert not logs.describe_log_groups(logGroupNamePrefix=f"/stack/{name}")["logGroups"]
    with pytest.raises(ClientError):
        iam.get_role(RoleName=role_name)
    assert f"{name}-b" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_failure_on_the_last_resource_rolls_back_everything(endpoint, cf):
    name = "cffail-" + uuid.uuid4().hex[:8]
    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{name}-q"}},
            "Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/{name}"}},
            "Bad": {"Type": "AWS::Logs::LogGroup", "DependsOn": ["Queue", "Group"],
                    "Properties": {"LogGroupName": f"/{name}/bad", "RetentionInDays": 8}},
        }
    }
    cf.create_stack(StackName=name, TemplateBody=json.dumps(template))
    with pytest.raises(Exception):
        cf.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAIT)
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in cf.describe_stack_events(StackName=name)["StackEvents"]
              if e["LogicalResourceId"] == "Bad" and e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed and "retention" in failed[0]["ResourceStatusReason"].lower()
    sqs, logs = make_client(endpoint, "sqs"), make_client(endpoint, "logs")
    assert not sqs.list_queues(QueueNamePrefix=f"{name}-q").get("QueueUrls")
    assert not logs.describe_log_groups(logGroupNamePrefix=f"/{name}")["logGroups"]
    cf.delete_stack(StackName=name)


def test_retained_resources_outlive_their_stack(endpoint, cf):
    name = "cfkeep-" + uuid.uuid4().hex[:8]
    template = {"Resources": {"Kept": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain",
                                       "Properties": {"LogGroupName": f"/{name}/kept"}}}}
    stack_id = cf.create_stack(StackName=name, TemplateBody=json.dumps(template))["StackId"]
    cf.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAIT)
    cf.delete_stack(StackName=name)
    cf.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAIT)
    logs = make_client(endpoint, "logs")
    assert logs.describe_log_groups(logGroupNamePrefix=f"/{name}/kept")["logGroups"]
    # A deleted stack is found by its id only, as in AWS.
    statuses = [e["ResourceStatus"] for e in cf.describe_stack_events(StackName=stack_id)["StackEvents"]
                if e["LogicalResourceId"] == "Kept"]
    assert statuses[0] == "DELETE_SKIPPED"
    logs.delete_log_group(logGroupName=f"/{name}/kept")
