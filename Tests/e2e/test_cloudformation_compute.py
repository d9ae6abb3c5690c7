"""CloudFormation stacks of compute resources, used afterwards through their own APIs: an IAM role, a python Lambda
function from inline ZipFile code (invoked through the Lambda API), an SQS queue wired to it by an event source
mapping, and a function URL; then an ECS cluster, a Fargate awsvpc task definition (a simulated container) and a
service of two tasks, whose stack completes only once the service is stable. Both stacks are deleted; nothing is
left behind."""
import json
import uuid

import pytest

from helpers import make_client

WAIT = {"Delay": 1, "MaxAttempts": 60}

LAMBDA_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Timeout: 30
      MemorySize: 256
      Environment: {Variables: {STAGE: test}}
      Tags: [{Key: team, Value: compute}]
      Code:
        ZipFile: |
          def handler(event, context):
              return {"ok": True, "event": event}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      EventSourceArn: !GetAtt Queue.Arn
      FunctionName: !Ref Function
      BatchSize: 5
      Enabled: true
  Url:
    Type: AWS::Lambda::Url
    Properties:
      TargetFunctionArn: !GetAtt Function.Arn
      AuthType: NONE
  UrlPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Function
      Action: lambda:InvokeFunctionUrl
      Principal: '*'
      FunctionUrlAuthType: NONE
Outputs:
  FunctionName: {Value: !Ref Function}
  FunctionArn: {Value: !GetAtt Function.Arn}
  MappingId: {Value: !Ref Mapping}
  FunctionUrl: {Value: !GetAtt Url.FunctionUrl}
  QueueUrl: {Value: !Ref Queue}
"""

ECS_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Cluster:
    Type: AWS::ECS::Cluster
    Properties:
      ClusterSettings: [{Name: containerInsights, Value: enabled}]
  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      RequiresCompatibilities: [FARGATE]
      NetworkMode: awsvpc
      Cpu: '256'
      Memory: '512'
      ContainerDefinitions:
        - Name: app
          Image: example.com/cfn-e2e/app:1
          Essential: true
          PortMappings: [{ContainerPort: 8080}]
          Environment: [{Name: MODE, Value: Fast}]
          DockerLabels: {Team.Name: compute}
  Service:
    Type: AWS::ECS::Service
    Properties:
      Cluster: !Ref Cluster
      TaskDefinition: !Ref TaskDefinition
      DesiredCount: 2
      LaunchType: FARGATE
      NetworkConfiguration:
        AwsvpcConfiguration:
          Subnets: [subnet-12345678]
          AssignPublicIp: DISABLED
      DeploymentConfiguration: {MaximumPercent: 200, MinimumHealthyPercent: 100}
Outputs:
  ClusterName: {Value: !Ref Cluster}
  ClusterArn: {Value: !GetAtt Cluster.Arn}
  TaskDefinitionArn: {Value: !Ref TaskDefinition}
  ServiceArn: {Value: !Ref Service}
  ServiceName: {Value: !GetAtt Service.Name}
"""


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


def stack_name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def outputs(cfn, stack):
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def create(cfn, stack, template):
    cfn.create_stack(StackName=stack, TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    except Exception:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        reasons = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
        raise AssertionError(f"stack {stack} did not complete: {reasons}")
    return outputs(cfn, stack)


def delete(cfn, stack):
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)


def test_lambda_stack(cfn, endpoint):
    lam = make_client(endpoint, "lambda")
    sqs = make_client(endpoint, "sqs")
    stack = stack_name("cfn-fn")
    out = create(cfn, stack, LAMBDA_TEMPLATE)
    name = out["FunctionName"]
    try:
        assert name.startswith(f"{stack}-Function-") and len(name) <= 64
        config = lam.get_function_configuration(FunctionName=name)
        assert config["FunctionArn"] == out["FunctionArn"]
        assert config["Runtime"] == "python3.11" and config["Handler"] == "index.handler"
        assert config["MemorySize"] == 256 and config["Timeout"] == 30
        assert config["Environment"]["Variables"] == {"STAGE": "test"}
        assert lam.list_tags(Resource=out["FunctionArn"])["Tags"]["team"] == "compute"

        result = lam.invoke(FunctionName=name, Payload=json.dumps({"n": 1}).encode())
        assert "FunctionError" not in result
        assert json.loads(result["Payload"].read()) == {"ok": True, "event": {"n": 1}}

        mapping = lam.get_event_source_mapping(UUID=out["MappingId"])
        assert mapping["FunctionArn"] == out["FunctionArn"] and mapping["BatchSize"] == 5
        queue_arn = sqs.get_queue_attributes(QueueUrl=out["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert mapping["EventSourceArn"] == queue_arn

        url = lam.get_function_url_config(FunctionName=name)
        assert url["FunctionUrl"] == out["FunctionUrl"] and url["AuthType"] == "NONE"
        policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
        assert any(s["Action"] == "lambda:InvokeFunctionUrl" for s in policy["Statement"])
    finally:
        delete(cfn, stack)
    assert not [f for f in lam.list_functions()["Functions"] if f["FunctionName"] == name]
    assert not [m for m in lam.list_event_source_mappings()["EventSourceMappings"] if m["UUID"] == out["MappingId"]]
    assert not [u for u in sqs.list_queues().get("QueueUrls", []) if u == out["QueueUrl"]]


def test_ecs_stack(cfn, ecs):
    stack = stack_name("cfn-ecs")
    out = create(cfn, stack, ECS_TEMPLATE)
    cluster = out["ClusterName"]
    try:
        # CREATE_COMPLETE comes only once the service is stable: two tasks running, one deployment done.
        service = ecs.describe_services(cluster=cluster, services=[out["ServiceArn"]])["services"][0]
        assert service["serviceName"] == out["ServiceName"]
        assert service["desiredCount"] == 2 and service["runningCount"] == 2
        assert len(service["deployments"]) == 1 and service["deployments"][0]["rolloutState"] == "COMPLETED"
        assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == ["subnet-12345678"]
        described = ecs.describe_clusters(clusters=[cluster], include=["SETTINGS"])["clusters"][0]
        assert described["clusterArn"] == out["ClusterArn"]
        assert described["settings"] == [{"name": "containerInsights", "value": "enabled"}]
        td = ecs.describe_task_definition(taskDefinition=out["TaskDefinitionArn"])["taskDefinition"]
        container = td["containerDefinitions"][0]
        assert td["networkMode"] == "awsvpc" and td["requiresCompatibilities"] == ["FARGATE"]
        assert container["portMappings"][0]["containerPort"] == 8080
        assert container["environment"] == [{"name": "MODE", "value": "Fast"}]
        assert container["dockerLabels"] == {"Team.Name": "compute"}
        tasks = ecs.list_tasks(cluster=cluster, serviceName=out["ServiceName"], desiredStatus="RUNNING")["taskArns"]
        assert len(tasks) == 2
    finally:
        delete(cfn, stack)
    assert ecs.describe_clusters(clusters=[cluster])["clusters"][0]["status"] == "INACTIVE"
    assert ecs.describe_task_definition(taskDefinition=out["TaskDefinitionArn"])["taskDefinition"]["status"] == "INACTIVE"
    service = ecs.describe_services(cluster=out["ClusterArn"], services=[out["ServiceArn"]])["services"]
    assert not service or service[0]["status"] == "INACTIVE"


SCALING = """
  Target:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ServiceNamespace: ecs
      ScalableDimension: ecs:service:DesiredCount
      ResourceId: !Sub "service/${Cluster}/${Service.Name}"
      MinCapacity: 1
      MaxCapacity: 5
  Policy:
    Type: AWS::ApplicationAutoScaling::ScalingPolicy
    Properties:
      PolicyName: cpu
      PolicyType: TargetTrackingScaling
      ScalingTargetId: !Ref Target
      TargetTrackingScalingPolicyConfiguration:
        TargetValue: 60
        PredefinedMetricSpecification: {PredefinedMetricType: ECSServiceAverageCPUUtilization}
"""


def update(cfn, stack, template):
    cfn.update_stack(StackName=stack, TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
    try:
        cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
    except Exception:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        reasons = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
        raise AssertionError(f"stack {stack} did not update: {reasons}")
    return outputs(cfn, stack)


def test_ecs_stack_update_and_scaling(cfn, ecs, endpoint):
    aas = make_client(endpoint, "application-autoscaling")
    stack = stack_name("cfn-ecs-up")
    out = create(cfn, stack, ECS_TEMPLATE)
    cluster = out["ClusterName"]
    try:
        # A new image is a new revision (the old one deregistered); three tasks; a scalable target and its policy.
        template = (ECS_TEMPLATE.replace("app:1", "app:2").replace("DesiredCount: 2", "DesiredCount: 3")
                    .replace("Outputs:", SCALING.rstrip() + "\nOutputs:", 1))
        new = update(cfn, stack, template)
        assert new["TaskDefinitionArn"] != out["TaskDefinitionArn"] and new["ServiceArn"] == out["ServiceArn"]
        service = ecs.describe_services(cluster=cluster, services=[out["ServiceArn"]])["services"][0]
        assert service["taskDefinition"] == new["TaskDefinitionArn"]
        assert service["desiredCount"] == 3 and service["runningCount"] == 3 and len(service["deployments"]) == 1
        old = ecs.describe_task_definition(taskDefinition=out["TaskDefinitionArn"])["taskDefinition"]
        assert old["status"] == "INACTIVE"
        resource = f"service/{cluster}/{out['ServiceName']}"
        targets = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
        assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(1, 5)]
        policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
        assert [p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in policies] == [60]
    finally:
        delete(cfn, stack)
    assert not aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    assert ecs.describe_clusters(clusters=[cluster])["clusters"][0]["status"] == "INACTIVE"


def test_lambda_code_update(cfn, endpoint):
    lam = make_client(endpoint, "lambda")
    stack = stack_name("cfn-fn-up")
    out = create(cfn, stack, LAMBDA_TEMPLATE)
    try:
        template = LAMBDA_TEMPLATE.replace('return {"ok": True, "event": event}', 'return {"ok": "again"}').replace("STAGE: test", "STAGE: prod")
        update(cfn, stack, template)
        assert lam.get_function_configuration(FunctionName=out["FunctionName"])["Environment"]["Variables"] == {"STAGE": "prod"}
        result = lam.invoke(FunctionName=out["FunctionName"], Payload=b"{}")
        assert json.loads(result["Payload"].read()) == {"ok": "again"}
    finally:
        delete(cfn, stack)


SETTINGS_TEMPLATE = """
Parameters:
  Level: {Type: String, Default: WARN}
  Signing: {Type: String, Default: ""}
Conditions:
  Signed: !Not [!Equals [!Ref Signing, ""]]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Role: !GetAtt Role.Arn
      KmsKeyArn: arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555
      LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: !Ref Level, SystemLogLevel: INFO}
      SnapStart: {ApplyOn: PublishedVersions}
      VpcConfig: {SubnetIds: [subnet-0123456789abcdef0], SecurityGroupIds: [sg-0123456789abcdef0]}
      TracingConfig: {Mode: Active}
      EphemeralStorage: {Size: 1024}
      CodeSigningConfigArn: !If [Signed, !Ref Signing, !Ref AWS::NoValue]
      Code:
        ZipFile: |
          def handler(event, context):
              return "ok"
Outputs:
  FunctionName: {Value: !Ref Function}
"""


def test_lambda_function_settings_reach_the_function(cfn, endpoint):
    """Every configuration block a template gives is handed to Lambda (KmsKeyArn under the API's KMSKeyArn), an
    update changes them in place, and CodeSigningConfigArn is attached and detached without replacement."""
    lam = make_client(endpoint, "lambda")
    signing = lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [
        "arn:aws:signer:us-east-1:000000000000:/signing-profiles/p/abcdefghij"]})["CodeSigningConfig"]["CodeSigningConfigArn"]
    stack = stack_name("cfn-fn-settings")
    out = create(cfn, stack, SETTINGS_TEMPLATE)
    name = out["FunctionName"]
    try:
        config = lam.get_function_configuration(FunctionName=name)
        assert config["KMSKeyArn"].endswith(":key/11111111-2222-3333-4444-555555555555")
        assert config["LoggingConfig"]["LogFormat"] == "JSON" and config["LoggingConfig"]["ApplicationLogLevel"] == "WARN"
        assert config["SnapStart"]["ApplyOn"] == "PublishedVersions"
        assert config["VpcConfig"]["SubnetIds"] == ["subnet-0123456789abcdef0"]
        assert config["VpcConfig"]["SecurityGroupIds"] == ["sg-0123456789abcdef0"]
        assert config["TracingConfig"] == {"Mode": "Active"} and config["EphemeralStorage"] == {"Size": 1024}
        assert "CodeSigningConfigArn" not in lam.get_function_code_signing_config(FunctionName=name)

        cfn.update_stack(StackName=stack, TemplateBody=SETTINGS_TEMPLATE, Capabilities=["CAPABILITY_IAM"],
                         Parameters=[{"ParameterKey": "Level", "ParameterValue": "ERROR"},
                                     {"ParameterKey": "Signing", "ParameterValue": signing}])
        cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
        assert outputs(cfn, stack)["FunctionName"] == name
        assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"]["ApplicationLogLevel"] == "ERROR"
        assert lam.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == signing

        update(cfn, stack, SETTINGS_TEMPLATE)
        assert "CodeSigningConfigArn" not in lam.get_function_code_signing_config(FunctionName=name)
    finally:
        delete(cfn, stack)
        lam.delete_code_signing_config(CodeSigningConfigArn=signing)
