"""The last CloudFormation/SAM pieces, driven through boto3 against the real binary: custom resources whose inline
functions answer through `import cfnresponse` (python) and `require('cfn-response')` (Node.js), the modules
CloudFormation places beside inline code;
`AWS::Serverless::LayerVersion` (hash-suffixed logical id, `Layers: [!Ref Layer]`, retained by default) with a
function's `EventInvokeConfig` (an asynchronous invocation's record reaches the SQS queue SAM generated for
OnSuccess) and `PropagateTags`; template `Rules` refusing CreateStack, UpdateStack and CreateChangeSet with the AssertDescription (and failing a
nested stack resource);
DeletionPolicy Snapshot (deleted: no served type has snapshots), RetainExceptOnCreate (retained on delete, deleted
when its creation rolls back), UpdateReplacePolicy Retain, a policy given by a parameter (AWS::LanguageExtensions),
and unrecognized policies refused."""
import io
import json
import time
import uuid
import zipfile

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import make_client, zip_bytes

WAIT = {"Delay": 1, "MaxAttempts": 90}


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


def unique(prefix):
    return f"cfn-fin-{prefix}-{uuid.uuid4().hex[:8]}"


def reasons(cfn, stack):
    return [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason"))
            for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]]


def create(cfn, stack, template, **kw):
    cfn.create_stack(StackName=stack, TemplateBody=template, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"], **kw)
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    except Exception:
        raise AssertionError(f"stack {stack} did not complete: {reasons(cfn, stack)}")
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def settled(cfn, stack, timeout=90):
    """The stack's status once no operation runs on it."""
    deadline = time.time() + timeout
    while True:
        status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS") or time.time() > deadline:
            return status
        time.sleep(0.5)


def delete(cfn, stack):
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)


def queue_exists(sqs, url):
    try:
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return True
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
        return False


CFNRESPONSE = """
Parameters:
  Value: {Type: String, Default: one}
  Mode: {Type: String, Default: ok}
Resources:
  Provider:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/cfn-finish
      Timeout: 30
      Code:
        ZipFile: |
          import cfnresponse

          def handler(event, context):
              props = event["ResourceProperties"]
              if props["Mode"] == "fail" and event["RequestType"] == "Create":
                  cfnresponse.send(event, context, cfnresponse.FAILED, {}, reason="refused through cfnresponse")
                  return
              cfnresponse.send(event, context, cfnresponse.SUCCESS, {"Echo": props["Value"], "Request": event["RequestType"]},
                               "echo-" + props["Value"])
  Echo:
    Type: Custom::Echo
    Properties: {ServiceToken: !GetAtt Provider.Arn, Value: !Ref Value, Mode: !Ref Mode}
  NodeProvider:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/cfn-finish
      Timeout: 30
      Code:
        ZipFile: |
          var response = require('cfn-response');
          exports.handler = function (event, context) {
            var value = event.ResourceProperties.Value;
            response.send(event, context, response.SUCCESS, {Echo: 'node-' + value}, 'node-' + value);
          };
  NodeEcho:
    Type: Custom::Echo
    Properties: {ServiceToken: !GetAtt NodeProvider.Arn, Value: !Ref Value}
Outputs:
  Id: {Value: !Ref Echo}
  Echo: {Value: !GetAtt Echo.Echo}
  Request: {Value: !GetAtt Echo.Request}
  NodeId: {Value: !Ref NodeEcho}
  NodeEcho: {Value: !GetAtt NodeEcho.Echo}
"""


def test_inline_python_custom_resource_answers_through_cfnresponse(cfn, endpoint):
    stack = unique("cfnresp")
    out = create(cfn, stack, CFNRESPONSE)
    assert out == {"Id": "echo-one", "Echo": "one", "Request": "Create", "NodeId": "node-one", "NodeEcho": "node-one"}
    # The module sits beside the inline handler in the function's code.
    lam = make_client(endpoint, "lambda")
    name = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Provider")["StackResourceDetail"]["PhysicalResourceId"]
    package = requests.get(lam.get_function(FunctionName=name)["Code"]["Location"], timeout=30).content
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        assert sorted(z.namelist()) == ["cfnresponse.py", "index.py"]
        assert "def send(event, context, responseStatus, responseData" in z.read("cfnresponse.py").decode()
    cfn.update_stack(StackName=stack, UsePreviousTemplate=True, Parameters=[{"ParameterKey": "Value", "ParameterValue": "two"}])
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]} == {
        "Id": "echo-two", "Echo": "two", "Request": "Update", "NodeId": "node-two", "NodeEcho": "node-two"}
    delete(cfn, stack)

    failing = unique("cfnfail")
    cfn.create_stack(StackName=failing, TemplateBody=CFNRESPONSE, Parameters=[{"ParameterKey": "Mode", "ParameterValue": "fail"}])
    assert settled(cfn, failing) == "ROLLBACK_COMPLETE"
    failed = [r for r in reasons(cfn, failing) if r[0] == "Echo" and r[1] == "CREATE_FAILED"]
    assert failed and "refused through cfnresponse" in failed[0][2]
    delete(cfn, failing)


SAM = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Bucket: {Type: String}
Resources:
  Helpers:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: !Sub "${AWS::StackName}-helpers"
      ContentUri: {Bucket: !Ref Bucket, Key: layer.zip}
      CompatibleRuntimes: [python3.11]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Layers: [!Ref Helpers]
      Tags: {team: finish}
      PropagateTags: true
      InlineCode: |
        import helper

        def handler(event, context):
            return {"greeting": helper.greet(event.get("name", "?"))}
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        MaximumEventAgeInSeconds: 120
        DestinationConfig:
          OnSuccess: {Type: SQS}
Outputs:
  FunctionName: {Value: !Ref Fn}
  LayerArn: {Value: !Ref Helpers}
  SuccessQueue: {Value: !Ref FnEventInvokeConfigOnSuccessQueue}
"""


def test_sam_layer_version_and_event_invoke_config(cfn, endpoint, s3, bucket, sqs):
    lam = make_client(endpoint, "lambda")
    s3.put_object(Bucket=bucket, Key="layer.zip",
                  Body=zip_bytes({"python/helper.py": "def greet(name):\n    return 'hello ' + name\n"}))
    stack = unique("samlayer")
    out = create(cfn, stack, SAM, Parameters=[{"ParameterKey": "Bucket", "ParameterValue": bucket}])
    layer_arn = out["LayerArn"]
    try:
        assert f":layer:{stack}-helpers:1" in layer_arn
        resources = {r["LogicalResourceId"]: r["ResourceType"]
                     for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
        layer_ids = [k for k, v in resources.items() if v == "AWS::Lambda::LayerVersion"]
        assert len(layer_ids) == 1 and layer_ids[0].startswith("Helpers") and len(layer_ids[0]) == len("Helpers") + 10
        assert resources["FnEventInvokeConfig"] == "AWS::Lambda::EventInvokeConfig"
        assert resources["FnEventInvokeConfigOnSuccessQueue"] == "AWS::SQS::Queue"

        processed = cfn.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
        if isinstance(processed, str):
            processed = json.loads(processed)
        assert processed["Resources"][layer_ids[0]]["DeletionPolicy"] == "Retain"
        assert processed["Resources"]["Fn"]["Properties"]["Layers"] == [{"Ref": layer_ids[0]}]
        role_policies = [p["PolicyName"] for p in processed["Resources"]["FnRole"]["Properties"]["Policies"]]
        assert "FnEventInvokeConfigOnSuccessSQSPolicy" in role_policies

        name = out["FunctionName"]
        config = lam.get_function_configuration(FunctionName=name)
        assert [l["Arn"] for l in config["Layers"]] == [layer_arn]
        result = lam.invoke(FunctionName=name, Payload=json.dumps({"name": "sam"}).encode())
        assert json.loads(result["Payload"].read()) == {"greeting": "hello sam"}

        invoke_config = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="$LATEST")
        assert invoke_config["MaximumRetryAttempts"] == 0 and invoke_config["MaximumEventAgeInSeconds"] == 120
        queue_url = out["SuccessQueue"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        assert invoke_config["DestinationConfig"]["OnSuccess"]["Destination"] == queue_arn
        # PropagateTags: the generated queue and role carry the function's Tags (which replace lambda:createdBy).
        assert sqs.list_queue_tags(QueueUrl=queue_url)["Tags"]["team"] == "finish"
        function_tags = lam.list_tags(Resource=config["FunctionArn"])["Tags"]
        assert function_tags["team"] == "finish" and "lambda:createdBy" not in function_tags

        lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"name": "async"}).encode())
        deadline = time.time() + 60
        record = None
        while record is None and time.time() < deadline:
            messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
            if messages:
                record = json.loads(messages[0]["Body"])
        assert record is not None, "the asynchronous invocation's record did not reach the OnSuccess queue"
        assert record["responsePayload"] == {"greeting": "hello async"}
        assert record["requestContext"]["condition"] == "Success"
    finally:
        delete(cfn, stack)
    # SAM layers are retained by default: the version outlives the stack.
    layer_name = layer_arn.split(":")[6]
    versions = lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]
    assert [v["LayerVersionArn"] for v in versions] == [layer_arn]
    lam.delete_layer_version(LayerName=layer_name, VersionNumber=1)


RULES = """
Parameters:
  Env: {Type: String, Default: test}
  Size: {Type: String, Default: small}
Rules:
  TestSizes:
    RuleCondition: !Equals [!Ref Env, test]
    Assertions:
      - Assert: {"Fn::Contains": [[small, medium], !Ref Size]}
        AssertDescription: For test stacks, Size must be small or medium
Resources:
  Queue: {Type: AWS::SQS::Queue}
"""


def test_rules_refuse_create_update_and_change_set(cfn, s3, bucket, endpoint):
    stack = unique("rules")

    def params(**kw):
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in kw.items()]

    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody=RULES, Parameters=params(Size="huge"))
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert e.value.response["Error"]["Message"] == "For test stacks, Size must be small or medium"
    with pytest.raises(ClientError):
        cfn.describe_stacks(StackName=stack)  # nothing was created

    with pytest.raises(ClientError) as e:
        cfn.create_change_set(StackName=stack, ChangeSetName="cs", ChangeSetType="CREATE", TemplateBody=RULES,
                              Parameters=params(Size="huge"))
    assert e.value.response["Error"]["Message"] == "For test stacks, Size must be small or medium"

    # The rule's condition is false for prod: its assertion is not checked.
    create(cfn, stack, RULES, Parameters=params(Env="prod", Size="huge"))
    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName=stack, UsePreviousTemplate=True, Parameters=params(Env="test", Size="huge"))
    assert e.value.response["Error"]["Message"] == "For test stacks, Size must be small or medium"
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    delete(cfn, stack)

    # A nested stack's rules fail its resource in the parent, which rolls back.
    s3.put_object(Bucket=bucket, Key="rules.yaml", Body=RULES.encode())
    parent = unique("rules-parent")
    cfn.create_stack(StackName=parent, TemplateBody=f"""
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: {endpoint}/{bucket}/rules.yaml
      Parameters: {{Size: huge}}
""")
    assert settled(cfn, parent) == "ROLLBACK_COMPLETE"
    failed = [r for r in reasons(cfn, parent) if r[0] == "Child" and r[1] == "CREATE_FAILED"]
    assert failed and failed[0][2] == "For test stacks, Size must be small or medium"
    delete(cfn, parent)


POLICIES = """
Parameters:
  Suffix: {Type: String, Default: a}
  Fail: {Type: String, Default: "no"}
Conditions:
  Failing: !Equals [!Ref Fail, "yes"]
Resources:
  Snap:
    Type: AWS::SQS::Queue
    DeletionPolicy: Snapshot
  Keep:
    Type: AWS::SQS::Queue
    DeletionPolicy: RetainExceptOnCreate
  Replaced:
    Type: AWS::SQS::Queue
    UpdateReplacePolicy: Retain
    Properties: {QueueName: !Sub "${AWS::StackName}-${Suffix}"}
  Broken:
    Type: AWS::SQS::Queue
    Condition: Failing
    DependsOn: [Keep, Snap]
    Properties: {QueueName: "not a valid name!"}
Outputs:
  Snap: {Value: !Ref Snap}
  Keep: {Value: !Ref Keep}
  Replaced: {Value: !Ref Replaced}
"""


def test_deletion_and_update_replace_policies(cfn, sqs):
    stack = unique("policies")
    out = create(cfn, stack, POLICIES)
    stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    # The change set says what happens to the replaced queue; executing it replaces the queue and keeps the old one.
    cfn.create_change_set(StackName=stack, ChangeSetName="rename", UsePreviousTemplate=True,
                          Parameters=[{"ParameterKey": "Suffix", "ParameterValue": "b"}])
    cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName="rename", WaiterConfig=WAIT)
    changes = [c["ResourceChange"] for c in cfn.describe_change_set(StackName=stack, ChangeSetName="rename")["Changes"]]
    assert [(c["LogicalResourceId"], c["Replacement"], c["PolicyAction"]) for c in changes] == [("Replaced", "True", "ReplaceAndRetain")]
    cfn.execute_change_set(StackName=stack, ChangeSetName="rename")
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
    replacement = cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    new_url = next(o["OutputValue"] for o in replacement if o["OutputKey"] == "Replaced")
    assert new_url != out["Replaced"]
    assert queue_exists(sqs, out["Replaced"])  # UpdateReplacePolicy Retain kept the replaced queue
    delete(cfn, stack)
    assert not queue_exists(sqs, out["Snap"])  # Snapshot on a type without snapshots: deleted
    assert queue_exists(sqs, out["Keep"])  # RetainExceptOnCreate: retained on delete
    assert not queue_exists(sqs, new_url)
    # The replaced queue was skipped in the update's cleanup, the RetainExceptOnCreate one in the delete.
    skipped = {(e["LogicalResourceId"], e["PhysicalResourceId"])
               for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"] if e["ResourceStatus"] == "DELETE_SKIPPED"}
    assert skipped == {("Keep", out["Keep"]), ("Replaced", out["Replaced"])}
    for url in (out["Keep"], out["Replaced"]):
        sqs.delete_queue(QueueUrl=url)

    # A creation that rolls back deletes what it created, RetainExceptOnCreate included.
    failing = unique("rollback")
    cfn.create_stack(StackName=failing, TemplateBody=POLICIES, Parameters=[{"ParameterKey": "Fail", "ParameterValue": "yes"}])
    assert settled(cfn, failing) == "ROLLBACK_COMPLETE"
    events = reasons(cfn, failing)
    keep_url = next(e for e in cfn.describe_stack_events(StackName=failing)["StackEvents"]
                    if e["LogicalResourceId"] == "Keep" and e["ResourceStatus"] == "CREATE_COMPLETE")["PhysicalResourceId"]
    assert ("Keep", "DELETE_COMPLETE", None) in [(a, b, None) for a, b, _ in events]
    assert not queue_exists(sqs, keep_url)
    delete(cfn, failing)

    # AWS::LanguageExtensions: a policy may be a Ref to a parameter.
    extended = unique("langext")
    out = create(cfn, extended, """
Transform: AWS::LanguageExtensions
Parameters:
  Policy: {Type: String, Default: Delete}
Resources:
  Q: {Type: AWS::SQS::Queue, DeletionPolicy: !Ref Policy}
Outputs:
  Q: {Value: !Ref Q}
""", Parameters=[{"ParameterKey": "Policy", "ParameterValue": "Retain"}])
    delete(cfn, extended)
    assert queue_exists(sqs, out["Q"])
    sqs.delete_queue(QueueUrl=out["Q"])

    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=unique("badpolicy"), TemplateBody="Resources: {B: {Type: AWS::SQS::Queue, DeletionPolicy: Keep}}")
    assert e.value.response["Error"]["Message"] == "Template format error: Unrecognized DeletionPolicy Keep for resource B"
