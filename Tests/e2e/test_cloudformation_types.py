"""CloudFormation's remaining resource types outside S3, each used afterwards through its own API with boto3: an SQS
queue's inline policy; a secret's rotation schedule (run by a rotation function of the same stack) and resource
policy; a Lambda layer version (used by a function), its permission and a function's event invoke configuration; an
IAM user in a group (UserToGroupAddition) whose access key signs a call, and an instance profile; an ECS capacity
provider associated with a cluster (and the stack's aws:cloudformation:* tags on ECS resources). One update changes
each in place and replaces the layer version; a bad rotation schedule fails and rolls back; delete leaves nothing."""
import json
import time
import uuid

import botocore
import pytest

from helpers import host_python_runtime, make_client, zip_bytes

WAIT = {"Delay": 1, "MaxAttempts": 90}
ASG = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:1:autoScalingGroupName/cfn-types"

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Stage: {Type: String, AllowedValues: [v1, v2]}
  Bucket: {Type: String}
  LayerDescription: {Type: String}
  Runtime: {Type: String}
Conditions:
  IsV2: !Equals [!Ref Stage, v2]
Resources:
  Queue:
    Type: AWS::SQS::Queue
  QueuePolicy:
    Type: AWS::SQS::QueueInlinePolicy
    Properties:
      Queue: !Ref Queue
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: arn:aws:iam::111122223333:root}
            Action: !If [IsV2, sqs:ReceiveMessage, sqs:SendMessage]
            Resource: !GetAtt Queue.Arn
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: s3cret
  RotatorRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Rotator:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: !Ref Runtime
      Handler: index.handler
      Role: !GetAtt RotatorRole.Arn
      Timeout: 30
      Code:
        ZipFile: |
          import boto3
          sm = boto3.client("secretsmanager")
          def handler(event, context):
              arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
              versions = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
              if step == "createSecret":
                  current = sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
                  try:  # the AWSPENDING version RotateSecret made has no value until this step
                      sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
                  except sm.exceptions.ResourceNotFoundException:
                      sm.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=current + "-rotated",
                                          VersionStages=["AWSPENDING"])
              elif step == "finishSecret":
                  current = next(v for v, stages in versions.items() if "AWSCURRENT" in stages)
                  if current != token:
                      sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                                                     RemoveFromVersionId=current)
  RotatorPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Rotator
      Action: lambda:InvokeFunction
      Principal: secretsmanager.amazonaws.com
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    DependsOn: RotatorPermission
    Properties:
      SecretId: !Ref Secret
      RotationLambdaARN: !GetAtt Rotator.Arn
      RotationRules:
        AutomaticallyAfterDays: !If [IsV2, 15, 30]
      RotateImmediatelyOnUpdate: !If [IsV2, false, true]
  SecretPolicy:
    Type: AWS::SecretsManager::ResourcePolicy
    Properties:
      SecretId: !Ref Secret
      BlockPublicPolicy: true
      ResourcePolicy:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: arn:aws:iam::111122223333:root}
            Action: !If [IsV2, secretsmanager:DescribeSecret, secretsmanager:GetSecretValue]
            Resource: '*'
  Layer:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Description: !Ref LayerDescription
      CompatibleRuntimes: [!Ref Runtime]
      LicenseInfo: MIT
      Content: {S3Bucket: !Ref Bucket, S3Key: layer.zip}
  LayerPermission:
    Type: AWS::Lambda::LayerVersionPermission
    Properties:
      LayerVersionArn: !Ref Layer
      Action: lambda:GetLayerVersion
      Principal: '111122223333'
  UsesLayer:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: !Ref Runtime
      Handler: index.handler
      Role: !GetAtt RotatorRole.Arn
      Layers: [!Ref Layer]
      Code:
        ZipFile: |
          import helper
          def handler(event, context):
              return helper.VALUE
  InvokeConfig:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref UsesLayer
      Qualifier: $LATEST
      MaximumRetryAttempts: !If [IsV2, 0, 1]
      MaximumEventAgeInSeconds: 300
      DestinationConfig:
        OnFailure: {Destination: !GetAtt Queue.Arn}
  Group:
    Type: AWS::IAM::Group
    Properties:
      Path: !If [IsV2, /cfn2/, /cfn/]
      Policies:
        - PolicyName: read-queues
          PolicyDocument:
            Version: '2012-10-17'
            Statement: [{Effect: Allow, Action: 'sqs:Get*', Resource: '*'}]
  User:
    Type: AWS::IAM::User
    Properties:
      Path: !If [IsV2, /moved/, /cfn/]
      Tags: [{Key: team, Value: types}]
  OtherUser:
    Type: AWS::IAM::User
  Membership:
    Type: AWS::IAM::UserToGroupAddition
    Properties:
      GroupName: !Ref Group
      Users: !If [IsV2, [!Ref User, !Ref OtherUser], [!Ref User]]
  Key:
    Type: AWS::IAM::AccessKey
    Properties:
      UserName: !Ref User
      Status: !If [IsV2, Inactive, Active]
  ProfileRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!If [IsV2, !Ref RotatorRole, !Ref ProfileRole]]
  Cluster:
    Type: AWS::ECS::Cluster
  CapacityProvider:
    Type: AWS::ECS::CapacityProvider
    Properties:
      AutoScalingGroupProvider:
        AutoScalingGroupArn: %(asg)s
        ManagedScaling: {Status: ENABLED, TargetCapacity: !If [IsV2, 60, 80]}
  Associations:
    Type: AWS::ECS::ClusterCapacityProviderAssociations
    Properties:
      Cluster: !Ref Cluster
      CapacityProviders: [!Ref CapacityProvider]
      DefaultCapacityProviderStrategy: [{CapacityProvider: !Ref CapacityProvider, Weight: !If [IsV2, 3, 1], Base: !If [IsV2, 1, 0]}]
Outputs:
  QueueUrl: {Value: !Ref Queue}
  QueueArn: {Value: !GetAtt Queue.Arn}
  QueuePolicy: {Value: !Ref QueuePolicy}
  SecretArn: {Value: !Ref Secret}
  Rotation: {Value: !Ref Rotation}
  SecretPolicy: {Value: !GetAtt SecretPolicy.Id}
  RotatorArn: {Value: !GetAtt Rotator.Arn}
  Layer: {Value: !Ref Layer}
  LayerArn: {Value: !GetAtt Layer.LayerVersionArn}
  LayerPermission: {Value: !Ref LayerPermission}
  UsesLayer: {Value: !Ref UsesLayer}
  InvokeConfig: {Value: !Ref InvokeConfig}
  Group: {Value: !Ref Group}
  GroupArn: {Value: !GetAtt Group.Arn}
  User: {Value: !Ref User}
  UserArn: {Value: !GetAtt User.Arn}
  Membership: {Value: !Ref Membership}
  KeyId: {Value: !Ref Key}
  KeySecret: {Value: !GetAtt Key.SecretAccessKey}
  Profile: {Value: !Ref Profile}
  ProfileArn: {Value: !GetAtt Profile.Arn}
  ProfileRole: {Value: !Ref ProfileRole}
  RotatorRole: {Value: !Ref RotatorRole}
  OtherUser: {Value: !Ref OtherUser}
  Cluster: {Value: !Ref Cluster}
  ClusterArn: {Value: !GetAtt Cluster.Arn}
  CapacityProvider: {Value: !Ref CapacityProvider}
  Associations: {Value: !Ref Associations}
""" % {"asg": ASG}

BAD_TEMPLATE = """
Resources:
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties: {SecretString: x}
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref Secret
      HostedRotationLambda: {RotationType: PostgreSQLSingleUser}
      RotationRules: {AutomaticallyAfterDays: 30}
Outputs:
  SecretArn: {Value: !Ref Secret}
"""


@pytest.fixture(scope="module")
def clients(endpoint):
    return {name: make_client(endpoint, name) for name in
            ["cloudformation", "sqs", "secretsmanager", "lambda", "iam", "ecs", "sts", "s3"]}


def wait_for(cfn, stack, waiter):
    try:
        cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig=WAIT)
    except Exception:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        reasons = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
        raise AssertionError(f"stack {stack} did not reach {waiter}: {reasons}")


def outputs(cfn, stack):
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def parameters(stage, bucket, description):
    values = {"Stage": stage, "Bucket": bucket, "LayerDescription": description, "Runtime": host_python_runtime()}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def until(check, timeout=30):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(0.2)


def invoke(lam, name):
    out = lam.invoke(FunctionName=name)
    assert "FunctionError" not in out, out["Payload"].read()
    return json.loads(out["Payload"].read())


def missing(call, *codes):
    """True when `call` fails with one of AWS's not-found codes."""
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] in codes
    return False


def test_every_type_created_used_updated_and_deleted(clients, endpoint):
    cfn, sqs, sm, lam, iam, ecs = (clients[n] for n in ["cloudformation", "sqs", "secretsmanager", "lambda", "iam", "ecs"])
    bucket = "cfn-types-" + uuid.uuid4().hex[:12]
    clients["s3"].create_bucket(Bucket=bucket)
    clients["s3"].put_object(Bucket=bucket, Key="layer.zip", Body=zip_bytes({"python/helper.py": "VALUE = 'from-layer'\n"}))
    stack = "cfn-types-" + uuid.uuid4().hex[:8]
    cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=parameters("v1", bucket, "first"),
                     Capabilities=["CAPABILITY_IAM"])
    wait_for(cfn, stack, "stack_create_complete")
    out = outputs(cfn, stack)
    try:
        # SQS: the inline policy is the queue's Policy; its Ref is the queue URL.
        assert out["QueuePolicy"] == out["QueueUrl"]
        policy = json.loads(sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["Policy"])["Attributes"]["Policy"])
        assert policy["Statement"][0]["Action"] == "sqs:SendMessage"

        # Secrets Manager: rotation is on and ran through the stack's own rotation function; the policy is set.
        assert out["Rotation"] == out["SecretArn"] == out["SecretPolicy"]
        d = sm.describe_secret(SecretId=out["SecretArn"])
        assert d["RotationEnabled"] is True and d["RotationLambdaARN"] == out["RotatorArn"]
        assert d["RotationRules"]["AutomaticallyAfterDays"] == 30
        assert until(lambda: sm.get_secret_value(SecretId=out["SecretArn"])["SecretString"] == "s3cret-rotated")
        assert until(lambda: "LastRotatedDate" in sm.describe_secret(SecretId=out["SecretArn"]))
        rp = json.loads(sm.get_resource_policy(SecretId=out["SecretArn"])["ResourcePolicy"])
        assert rp["Statement"][0]["Action"] == "secretsmanager:GetSecretValue"

        # Lambda: the layer version is listed, shared, and used by a function; the async configuration is set.
        layer_name = out["Layer"].split(":")[6]
        assert out["Layer"] == out["LayerArn"] and out["Layer"].endswith(":1") and layer_name == f"{stack}-Layer"
        listed = lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]
        assert [v["LayerVersionArn"] for v in listed] == [out["Layer"]]
        assert listed[0]["Description"] == "first" and listed[0]["LicenseInfo"] == "MIT"
        assert out["LayerPermission"].startswith(out["Layer"] + "#")
        assert "111122223333" in lam.get_layer_version_policy(LayerName=layer_name, VersionNumber=1)["Policy"]
        assert invoke(lam, out["UsesLayer"]) == "from-layer"
        config = lam.get_function_event_invoke_config(FunctionName=out["UsesLayer"], Qualifier="$LATEST")
        assert config["MaximumRetryAttempts"] == 1 and config["MaximumEventAgeInSeconds"] == 300
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == out["QueueArn"]
        assert out["InvokeConfig"] == f"{out['UsesLayer']}|$LATEST"

        # IAM: the user is in the group; its access key signs a call as the user; the profile holds its role.
        group = iam.get_group(GroupName=out["Group"])
        assert [u["UserName"] for u in group["Users"]] == [out["User"]] and group["Group"]["Arn"] == out["GroupArn"]
        assert iam.list_group_policies(GroupName=out["Group"])["PolicyNames"] == ["read-queues"]
        user = iam.get_user(UserName=out["User"])["User"]
        assert user["Arn"] == out["UserArn"] and user["Path"] == "/cfn/"
        assert {"Key": "team", "Value": "types"} in user["Tags"]
        signed = make_client(endpoint, "sts", access_key=out["KeyId"], secret=out["KeySecret"])
        assert signed.get_caller_identity()["Arn"] == out["UserArn"]
        keys = iam.list_access_keys(UserName=out["User"])["AccessKeyMetadata"]
        assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(out["KeyId"], "Active")]
        profile = iam.get_instance_profile(InstanceProfileName=out["Profile"])["InstanceProfile"]
        assert profile["Arn"] == out["ProfileArn"] and [r["RoleName"] for r in profile["Roles"]] == [out["ProfileRole"]]

        # ECS: the capacity provider is on the cluster; CloudFormation's system tags are on what the stack made.
        assert out["Associations"] == out["Cluster"]
        cluster = ecs.describe_clusters(clusters=[out["Cluster"]])["clusters"][0]
        assert cluster["capacityProviders"] == [out["CapacityProvider"]]
        assert cluster["defaultCapacityProviderStrategy"][0]["capacityProvider"] == out["CapacityProvider"]
        cp = ecs.describe_capacity_providers(capacityProviders=[out["CapacityProvider"]])["capacityProviders"][0]
        assert cp["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 80
        tags = {t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=out["ClusterArn"])["tags"]}
        assert tags["aws:cloudformation:stack-name"] == stack and tags["aws:cloudformation:logical-id"] == "Cluster"

        # One update: every type changes in place, the layer version is replaced (a new description).
        before = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
        cfn.update_stack(StackName=stack, TemplateBody=TEMPLATE, Parameters=parameters("v2", bucket, "second"),
                         Capabilities=["CAPABILITY_IAM"])
        wait_for(cfn, stack, "stack_update_complete")
        after = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
        for same in ["QueuePolicy", "Rotation", "SecretPolicy", "InvokeConfig", "User", "Group", "Key", "Membership", "Profile",
                     "CapacityProvider", "Associations"]:
            assert after[same] == before[same], same
        assert after["Layer"] == before["Layer"][:-1] + "2"  # the next version of the same layer
        out = outputs(cfn, stack)

        policy = json.loads(sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["Policy"])["Attributes"]["Policy"])
        assert policy["Statement"][0]["Action"] == "sqs:ReceiveMessage"
        d = sm.describe_secret(SecretId=out["SecretArn"])
        assert d["RotationRules"]["AutomaticallyAfterDays"] == 15
        assert sm.get_secret_value(SecretId=out["SecretArn"])["SecretString"] == "s3cret-rotated"  # not rotated again
        rp = json.loads(sm.get_resource_policy(SecretId=out["SecretArn"])["ResourcePolicy"])
        assert rp["Statement"][0]["Action"] == "secretsmanager:DescribeSecret"
        assert [v["LayerVersionArn"] for v in lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]] == [out["Layer"]]
        assert out["LayerPermission"].startswith(out["Layer"] + "#")
        assert lam.get_function_configuration(FunctionName=out["UsesLayer"])["Layers"][0]["Arn"] == out["Layer"]
        assert invoke(lam, out["UsesLayer"]) == "from-layer"
        assert lam.get_function_event_invoke_config(FunctionName=out["UsesLayer"], Qualifier="$LATEST")["MaximumRetryAttempts"] == 0
        assert "/moved/" in out["UserArn"] and iam.get_user(UserName=out["User"])["User"]["Arn"] == out["UserArn"]
        keys = iam.list_access_keys(UserName=out["User"])["AccessKeyMetadata"]
        assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(out["KeyId"], "Inactive")]
        group = iam.get_group(GroupName=out["Group"])
        assert group["Group"]["Path"] == "/cfn2/" and group["Group"]["Arn"] == out["GroupArn"]
        assert sorted(u["UserName"] for u in group["Users"]) == sorted([out["User"], out["OtherUser"]])
        profile = iam.get_instance_profile(InstanceProfileName=out["Profile"])["InstanceProfile"]
        assert [r["RoleName"] for r in profile["Roles"]] == [out["RotatorRole"]]
        cp = ecs.describe_capacity_providers(capacityProviders=[out["CapacityProvider"]])["capacityProviders"][0]
        assert cp["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 60
        cluster = ecs.describe_clusters(clusters=[out["Cluster"]])["clusters"][0]
        assert cluster["capacityProviders"] == [out["CapacityProvider"]]
        assert cluster["defaultCapacityProviderStrategy"] == [{"capacityProvider": out["CapacityProvider"], "weight": 3, "base": 1}]
    finally:
        cfn.delete_stack(StackName=stack)
        wait_for(cfn, stack, "stack_delete_complete")

    # Nothing is left.
    assert missing(lambda: sqs.get_queue_attributes(QueueUrl=out["QueueUrl"]), "AWS.SimpleQueueService.NonExistentQueue")
    assert missing(lambda: sm.describe_secret(SecretId=out["SecretArn"]), "ResourceNotFoundException")
    assert lam.list_layer_versions(LayerName=layer_name)["LayerVersions"] == []
    assert missing(lambda: lam.get_function(FunctionName=out["UsesLayer"]), "ResourceNotFoundException")
    assert missing(lambda: iam.get_user(UserName=out["User"]), "NoSuchEntity")
    assert missing(lambda: iam.get_user(UserName=out["OtherUser"]), "NoSuchEntity")
    assert missing(lambda: iam.get_group(GroupName=out["Group"]), "NoSuchEntity")
    assert missing(lambda: iam.get_instance_profile(InstanceProfileName=out["Profile"]), "NoSuchEntity")
    assert ecs.describe_capacity_providers(capacityProviders=[out["CapacityProvider"]])["capacityProviders"] == []
    assert ecs.describe_clusters(clusters=[out["Cluster"]])["clusters"][0]["status"] == "INACTIVE"
    clients["s3"].delete_object(Bucket=bucket, Key="layer.zip")
    clients["s3"].delete_bucket(Bucket=bucket)


def test_a_hosted_rotation_lambda_fails_naming_it_and_rolls_back(clients):
    cfn, sm = clients["cloudformation"], clients["secretsmanager"]
    stack = "cfn-types-bad-" + uuid.uuid4().hex[:8]
    cfn.create_stack(StackName=stack, TemplateBody=BAD_TEMPLATE)
    try:
        status = until(lambda: (lambda st: st if st.endswith("_COMPLETE") or st.endswith("_FAILED") else None)(
            cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]))
        assert status == "ROLLBACK_COMPLETE"
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        failed = [e for e in events if e["LogicalResourceId"] == "Rotation" and e["ResourceStatus"] == "CREATE_FAILED"]
        assert failed and "HostedRotationLambda" in failed[0]["ResourceStatusReason"]
        secret = [r for r in cfn.describe_stack_resources(StackName=stack)["StackResources"] if r["LogicalResourceId"] == "Secret"]
        assert not secret or missing(lambda: sm.describe_secret(SecretId=secret[0]["PhysicalResourceId"]), "ResourceNotFoundException")
        names = [s["Name"] for s in sm.list_secrets()["SecretList"]]
        assert not [n for n in names if n.startswith(f"{stack}-Secret-")]
    finally:
        cfn.delete_stack(StackName=stack)
        wait_for(cfn, stack, "stack_delete_complete")


KEY_TEMPLATE = """
Parameters:
  Status: {Type: String}
Resources:
  User:
    Type: AWS::IAM::User
  Key:
    Type: AWS::IAM::AccessKey
    Properties: {UserName: !Ref User, Status: !Ref Status}
Outputs:
  UserArn: {Value: !GetAtt User.Arn}
  KeyId: {Value: !Ref Key}
  Secret: {Value: !GetAtt Key.SecretAccessKey}
"""


def test_a_stack_access_key_signs_under_strict_auth_until_made_inactive(strict_server):
    """Against a --strict-auth server (every signature checked, as on AWS)."""
    cfn = make_client(strict_server.endpoint, "cloudformation")
    stack = "cfn-types-key-" + uuid.uuid4().hex[:8]
    cfn.create_stack(StackName=stack, TemplateBody=KEY_TEMPLATE, Parameters=[{"ParameterKey": "Status", "ParameterValue": "Active"}],
                     Capabilities=["CAPABILITY_IAM"])
    wait_for(cfn, stack, "stack_create_complete")
    out = outputs(cfn, stack)
    try:
        signed = make_client(strict_server.endpoint, "sts", access_key=out["KeyId"], secret=out["Secret"])
        assert signed.get_caller_identity()["Arn"] == out["UserArn"]
        forged = make_client(strict_server.endpoint, "sts", access_key=out["KeyId"], secret="not-" + out["Secret"])
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            forged.get_caller_identity()
        assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"

        cfn.update_stack(StackName=stack, TemplateBody=KEY_TEMPLATE, Parameters=[{"ParameterKey": "Status", "ParameterValue": "Inactive"}],
                         Capabilities=["CAPABILITY_IAM"])
        wait_for(cfn, stack, "stack_update_complete")
        assert outputs(cfn, stack)["KeyId"] == out["KeyId"]
        with pytest.raises(botocore.exceptions.ClientError) as inactive:
            signed.get_caller_identity()
        assert inactive.value.response["Error"]["Code"] == "InvalidClientTokenId"
    finally:
        cfn.delete_stack(StackName=stack)
        wait_for(cfn, stack, "stack_delete_complete")
    with pytest.raises(botocore.exceptions.ClientError) as deleted:
        make_client(strict_server.endpoint, "sts", access_key=out["KeyId"], secret=out["Secret"]).get_caller_identity()
    assert deleted.value.response["Error"]["Code"] == "InvalidClientTokenId"
