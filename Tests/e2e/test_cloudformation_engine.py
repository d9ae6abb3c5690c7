"""The CloudFormation engine's wider pieces, driven through boto3, curl and the aws CLI against the real binary:
custom resources backed by a python Lambda function answering with the cfn-response pattern (a urllib PUT to the
presigned-style ResponseURL), dynamic references to Secrets Manager, nested stacks (also through `aws cloudformation
package`), wait conditions signalled with curl, the AWS::LanguageExtensions transform (Fn::Length, Fn::ToJsonString,
Fn::ForEach), exports in use, capabilities, OnFailure, NextToken paging, and a kill -9 while a custom resource is
waited for (its own server)."""
import json
import subprocess
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client, purge_bucket, sm_client, tool_env, zip_bytes

WAIT = {"Delay": 1, "MaxAttempts": 60}

# The cfn-response pattern: the answer is a JSON document PUT (urllib, no content type) to event["ResponseURL"].
PROVIDER = r'''
import json
import urllib.request

import boto3


def send(event, context, status, data=None, physical_id=None, reason=None):
    body = json.dumps({
        "Status": status,
        "Reason": reason or "See the details in CloudWatch Log Stream: " + context.log_stream_name,
        "PhysicalResourceId": physical_id or context.log_stream_name,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": data or {},
    }).encode()
    headers = {"content-type": "", "content-length": str(len(body))}
    if event["ResourceProperties"].get("Client") == "urllib3":
        # What AWS's cfnresponse module does.
        import urllib3
        response = urllib3.PoolManager().request("PUT", event["ResponseURL"], headers=headers, body=body)
        assert response.status == 200
        return
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers=headers)
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def handler(event, context):
    props = event["ResourceProperties"]
    mode = props.get("Mode", "ok")
    if mode == "silent":
        return
    # Every request is kept in the bucket the test reads.
    key = "%s/%s" % (event["RequestType"], event.get("PhysicalResourceId", "-"))
    boto3.client("s3").put_object(Bucket=props["Bucket"], Key=key, Body=json.dumps(event).encode())
    if mode == "fail" and event["RequestType"] == "Create":
        send(event, context, "FAILED", reason="refused by the test")
        return
    send(event, context, "SUCCESS", physical_id="echo-" + props["Value"],
         data={"Echo": props["Value"], "Type": event["RequestType"],
               "Old": event.get("OldResourceProperties", {}).get("Value", "")})
'''


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


@pytest.fixture(scope="module")
def provider(fns):
    return fns.create(handler="index.handler", code=zip_bytes({"index.py": PROVIDER}), Timeout=30)["FunctionArn"]


def unique(prefix="engine"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def stack_of(cfn, name):
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def settled(cfn, name, timeout=60):
    """The stack's status once no operation is running (botocore's stack_rollback_complete waits for an *update*
    rollback, so create rollbacks are waited for here)."""
    deadline = time.time() + timeout
    while True:
        status = stack_of(cfn, name)["StackStatus"]
        if not status.endswith("_IN_PROGRESS") or time.time() > deadline:
            return status
        time.sleep(0.5)


def outputs(cfn, name):
    return {o["OutputKey"]: o["OutputValue"] for o in stack_of(cfn, name).get("Outputs", [])}


def failed_reasons(cfn, name):
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return {e["LogicalResourceId"]: e.get("ResourceStatusReason", "") for e in events if e["ResourceStatus"] == "CREATE_FAILED"}


def keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def request_of(s3, bucket, key):
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


CUSTOM = """
Parameters:
  Value: {Type: String, Default: one}
  Bucket: {Type: String}
  Token: {Type: String}
Resources:
  Echo:
    Type: Custom::Echo
    Properties: {ServiceToken: !Ref Token, Value: !Ref Value, Bucket: !Ref Bucket, Size: 5}
Outputs:
  Id: {Value: !Ref Echo}
  Echo: {Value: !GetAtt Echo.Echo}
  Type: {Value: !GetAtt Echo.Type}
  Old: {Value: !GetAtt Echo.Old}
"""


def params(**kw):
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in kw.items()]


def test_custom_resource_create_update_delete(cfn, s3, bucket, provider):
    stack = unique("custom")
    cfn.create_stack(StackName=stack, TemplateBody=CUSTOM, Parameters=params(Bucket=bucket, Token=provider))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert outputs(cfn, stack) == {"Id": "echo-one", "Echo": "one", "Type": "Create", "Old": ""}
    create = request_of(s3, bucket, "Create/-")
    assert create["RequestType"] == "Create" and create["ResourceType"] == "Custom::Echo"
    assert create["LogicalResourceId"] == "Echo" and create["StackId"] == stack_of(cfn, stack)["StackId"]
    assert create["ResourceProperties"] == {"ServiceToken": provider, "Value": "one", "Bucket": bucket, "Size": "5"}
    assert "PhysicalResourceId" not in create and "OldResourceProperties" not in create
    assert "X-Amz-Signature=" in create["ResponseURL"]

    cfn.update_stack(StackName=stack, TemplateBody=CUSTOM, Parameters=params(Bucket=bucket, Token=provider, Value="two"))
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert outputs(cfn, stack) == {"Id": "echo-two", "Echo": "two", "Type": "Update", "Old": "one"}
    update = request_of(s3, bucket, "Update/echo-one")
    assert update["OldResourceProperties"]["Value"] == "one" and update["ResourceProperties"]["Value"] == "two"
    # A new physical id replaced the resource: the old one got a Delete in the cleanup.
    assert request_of(s3, bucket, "Delete/echo-one")["ResourceProperties"]["Value"] == "one"

    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert "Delete/echo-two" in keys(s3, bucket)


def test_custom_resource_failure_and_timeout(cfn, s3, bucket, provider):
    stack = unique("custom-fail")
    body = CUSTOM.replace("Size: 5}", "Size: 5}\n  Bad:\n    Type: AWS::CloudFormation::CustomResource\n    DependsOn: Echo\n"
                          "    Properties: {ServiceToken: !Ref Token, Value: bad, Bucket: !Ref Bucket, Mode: fail, Client: urllib3}")
    cfn.create_stack(StackName=stack, TemplateBody=body, Parameters=params(Bucket=bucket, Token=provider))
    assert settled(cfn, stack) == "ROLLBACK_COMPLETE"
    reason = failed_reasons(cfn, stack)["Bad"]
    assert reason.startswith("Received response status [FAILED] from custom resource. Message returned: refused by the test")
    # The rollback sent a Delete for what had been created, and one for the failed resource (with the physical id
    # its FAILED answer gave: cfn-response's default, the log stream name).
    deletes = [request_of(s3, bucket, k) for k in keys(s3, bucket) if k.startswith("Delete/")]
    assert sorted(d["LogicalResourceId"] for d in deletes) == ["Bad", "Echo"]
    bad = next(d for d in deletes if d["LogicalResourceId"] == "Bad")
    assert bad["PhysicalResourceId"] not in ("", "-") and bad["ResourceProperties"]["Mode"] == "fail"

    silent = unique("custom-silent")
    started = time.time()
    cfn.create_stack(StackName=silent, TemplateBody="""
Parameters:
  Token: {Type: String}
Resources:
  Quiet:
    Type: Custom::Quiet
    Properties: {ServiceToken: !Ref Token, Mode: silent, ServiceTimeout: 2}
""", Parameters=params(Token=provider))
    assert settled(cfn, silent) == "ROLLBACK_COMPLETE"
    assert time.time() - started < 30
    assert failed_reasons(cfn, silent)["Quiet"].startswith(
        "CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [")
    for name in (stack, silent):
        cfn.delete_stack(StackName=name)


def test_dynamic_references_to_secrets(cfn, endpoint):
    sm = sm_client(endpoint)
    sqs = make_client(endpoint, "sqs")
    secret = unique("db")
    sm.create_secret(Name=secret, SecretString=json.dumps({"password": "pw-123"}))
    stack = unique("dynref")
    reference = "{{resolve:secretsmanager:%s:SecretString:password}}" % secret
    try:
        cfn.create_stack(StackName=stack, TemplateBody=json.dumps({"Resources": {"Queue": {
            "Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "dsn", "Value": "user:" + reference + "@db"}]}}}}))
        cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
        url = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Queue")["StackResourceDetail"]["PhysicalResourceId"]
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"]["dsn"] == "user:pw-123@db"
        # The stack shows the reference, never the value.
        shown = json.dumps(cfn.describe_stack_events(StackName=stack)["StackEvents"], default=str)
        assert reference in shown and "pw-123" not in shown
        assert "pw-123" not in json.dumps(cfn.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"])

        ssm = unique("dynref-ssm")
        cfn.create_stack(StackName=ssm, TemplateBody=json.dumps({"Resources": {"Group": {
            "Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "{{resolve:ssm:/team/name}}"}}}}))
        assert settled(cfn, ssm) == "ROLLBACK_COMPLETE"
        assert "{{resolve:ssm:/team/name}}" in failed_reasons(cfn, ssm)["Group"]
        cfn.delete_stack(StackName=ssm)
    finally:
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
        sm.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)


CHILD = """
Parameters:
  Label: {Type: String}
Resources:
  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {Tags: [{Key: label, Value: !Ref Label}]}
Outputs:
  QueueUrl: {Value: !Ref Queue}
  Label: {Value: !Ref Label}
"""

PARENT = """
Parameters:
  Label: {Type: String, Default: one}
  Url: {Type: String}
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Ref Url
      Parameters: {Label: !Ref Label}
      Tags: [{Key: tier, Value: child}]
Outputs:
  ChildQueue: {Value: !GetAtt Child.Outputs.QueueUrl}
  ChildLabel: {Value: !GetAtt Child.Outputs.Label}
  ChildId: {Value: !Ref Child}
"""


def test_nested_stacks(cfn, s3, bucket, endpoint):
    sqs = make_client(endpoint, "sqs")
    s3.put_object(Bucket=bucket, Key="child.yaml", Body=CHILD.encode())
    s3.put_object(Bucket=bucket, Key="bad.yaml", Body=b"Parameters:\n  Label: {Type: String}\nResources:\n  Nope: {Type: AWS::Nothing::Here}\n")
    url = f"{endpoint}/{bucket}/child.yaml"
    parent = unique("parent")
    cfn.create_stack(StackName=parent, TemplateBody=PARENT, Parameters=params(Url=url))
    cfn.get_waiter("stack_create_complete").wait(StackName=parent, WaiterConfig=WAIT)
    out = outputs(cfn, parent)
    parent_id = stack_of(cfn, parent)["StackId"]
    child = stack_of(cfn, out["ChildId"])
    assert child["StackName"].startswith(f"{parent}-Child-") and child["StackStatus"] == "CREATE_COMPLETE"
    assert child["ParentId"] == parent_id and child["RootId"] == parent_id
    assert {"Key": "tier", "Value": "child"} in child["Tags"]
    assert out["ChildLabel"] == "one"
    assert sqs.list_queue_tags(QueueUrl=out["ChildQueue"])["Tags"]["label"] == "one"
    assert child["StackName"] in [s["StackName"] for s in cfn.describe_stacks()["Stacks"]]

    cfn.update_stack(StackName=parent, TemplateBody=PARENT, Parameters=params(Url=url, Label="two"))
    cfn.get_waiter("stack_update_complete").wait(StackName=parent, WaiterConfig=WAIT)
    assert stack_of(cfn, out["ChildId"])["StackStatus"] == "UPDATE_COMPLETE"
    assert sqs.list_queue_tags(QueueUrl=out["ChildQueue"])["Tags"]["label"] == "two"

    cfn.delete_stack(StackName=parent)
    cfn.get_waiter("stack_delete_complete").wait(StackName=parent, WaiterConfig=WAIT)
    assert stack_of(cfn, out["ChildId"])["StackStatus"] == "DELETE_COMPLETE"

    failing = unique("parent-bad")
    cfn.create_stack(StackName=failing, TemplateBody=PARENT, Parameters=params(Url=f"{endpoint}/{bucket}/bad.yaml"))
    assert settled(cfn, failing) == "ROLLBACK_COMPLETE"
    reason = failed_reasons(cfn, failing)["Child"]
    assert reason.startswith("Embedded stack arn:aws:cloudformation:") and "was not successfully created" in reason
    children = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"].startswith(f"{failing}-Child-")]
    assert [s["StackStatus"] for s in children] == ["DELETE_COMPLETE"]
    cfn.delete_stack(StackName=failing)


def test_package_uploads_nested_templates(cfn, s3, bucket, endpoint, tmp_path):
    (tmp_path / "child.yaml").write_text(CHILD)
    (tmp_path / "parent.yaml").write_text(PARENT.replace("TemplateURL: !Ref Url", "TemplateURL: ./child.yaml")
                                          .replace("  Url: {Type: String}\n", ""))
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                   AWS_ENDPOINT_URL_S3=endpoint, AWS_PAGER="", AWS_MAX_ATTEMPTS="1")

    def aws(*args):
        p = subprocess.run(["python3", "-m", "awscli", "--endpoint-url", endpoint, *map(str, args)], capture_output=True,
                           text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout

    aws("cloudformation", "package", "--template-file", tmp_path / "parent.yaml", "--s3-bucket", bucket,
        "--output-template-file", tmp_path / "packaged.yaml")
    packaged = (tmp_path / "packaged.yaml").read_text()
    assert "child.yaml" not in packaged and bucket in packaged
    stack = unique("packaged")
    aws("cloudformation", "deploy", "--template-file", tmp_path / "packaged.yaml", "--stack-name", stack)
    assert stack_of(cfn, stack)["StackStatus"] == "CREATE_COMPLETE"
    assert outputs(cfn, stack)["ChildLabel"] == "one"
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)


WAITING = """
Parameters:
  Timeout: {Type: Number, Default: 60}
Resources:
  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
  Wait:
    Type: AWS::CloudFormation::WaitCondition
    Properties: {Handle: !Ref Handle, Timeout: !Ref Timeout, Count: 2}
Outputs:
  Data: {Value: !GetAtt Wait.Data}
"""


def curl_put(url, doc):
    # What instance user data runs: curl -X PUT -H 'Content-Type:' --data-binary '<json>' "<handle url>"
    subprocess.run(["curl", "-sf", "-X", "PUT", "-H", "Content-Type:", "--data-binary", json.dumps(doc), url], check=True,
                   timeout=30)


def test_wait_condition_signalled_with_curl(cfn):
    stack = unique("wait")

    def signal():
        url = None
        for _ in range(200):
            try:
                url = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Handle")["StackResourceDetail"].get("PhysicalResourceId")
            except ClientError:
                pass  # not created yet
            if url:
                break
            time.sleep(0.1)
        curl_put(url, {"Status": "SUCCESS", "Reason": "configured", "UniqueId": "web-1", "Data": "ready"})
        curl_put(url, {"Status": "SUCCESS", "Reason": "configured", "UniqueId": "web-2", "Data": "also ready"})

    t = threading.Thread(target=signal)
    t.start()
    cfn.create_stack(StackName=stack, TemplateBody=WAITING)
    t.join()
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert json.loads(outputs(cfn, stack)["Data"]) == {"web-1": "ready", "web-2": "also ready"}
    cfn.delete_stack(StackName=stack)

    late = unique("wait-timeout")
    cfn.create_stack(StackName=late, TemplateBody=WAITING, Parameters=params(Timeout="1"))
    assert settled(cfn, late) == "ROLLBACK_COMPLETE"
    assert failed_reasons(cfn, late)["Wait"] == "WaitCondition timed out. Received 0 conditions when expecting 2"
    cfn.delete_stack(StackName=late)


def test_language_extensions(cfn):
    stack = unique("langext")
    body = """
Transform: AWS::LanguageExtensions
Parameters:
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
Resources:
  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
  Fn::ForEach::Handles:
    - Name
    - !Ref Names
    - Handle${Name}: {Type: AWS::CloudFormation::WaitConditionHandle}
Outputs:
  Count: {Value: {"Fn::Length": !Ref Names}}
  Doc: {Value: {"Fn::ToJsonString": {names: !Ref Names}}}
"""
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody=body)
    assert e.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
    assert e.value.response["Error"]["Message"] == "Requires capabilities : [CAPABILITY_AUTO_EXPAND]"
    cfn.create_stack(StackName=stack, TemplateBody=body, Capabilities=["CAPABILITY_AUTO_EXPAND"],
                     Parameters=params(Names="x,y,z,w"))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert outputs(cfn, stack) == {"Count": "4", "Doc": '{"names":["x","y","z","w"]}'}
    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert sorted(r["LogicalResourceId"] for r in resources) == ["Handle", "Handlew", "Handlex", "Handley", "Handlez"]
    # GetTemplate shows the original template; Processed, the expanded one.
    assert "Fn::ForEach::Handles" in cfn.get_template(StackName=stack)["TemplateBody"]
    processed = cfn.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
    processed = processed if isinstance(processed, dict) else json.loads(processed)
    assert sorted(processed["Resources"]) == ["Handle", "Handlew", "Handlex", "Handley", "Handlez"]
    cfn.delete_stack(StackName=stack)


def test_exports_in_use(cfn):
    exporter, importer = unique("exporter"), unique("importer")
    export = f"{exporter}-value"
    body = """
Parameters:
  V: {Type: String, Default: one}
Resources:
  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}
Outputs:
  O: {Value: !Ref V, Export: {Name: !Sub "${AWS::StackName}-value"}}
"""
    cfn.create_stack(StackName=exporter, TemplateBody=body)
    cfn.create_stack(StackName=importer, TemplateBody=json.dumps({
        "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"Got": {"Value": {"Fn::ImportValue": export}}}}))
    cfn.get_waiter("stack_create_complete").wait(StackName=importer, WaiterConfig=WAIT)
    assert cfn.list_imports(ExportName=export)["Imports"] == [importer]
    with pytest.raises(ClientError) as e:
        cfn.list_imports(ExportName=f"{exporter}-nothing")
    assert e.value.response["Error"]["Message"] == f"Export '{exporter}-nothing' is not imported by any stack."

    # UpdateStack answers once the (short) operation has ended.
    cfn.update_stack(StackName=exporter, TemplateBody=body, Parameters=params(V="two"))
    s = stack_of(cfn, exporter)
    assert s["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert outputs(cfn, exporter)["O"] == "one"
    events = cfn.describe_stack_events(StackName=exporter)["StackEvents"]
    assert any(ev.get("ResourceStatusReason") == f"Cannot update export {export} as it is in use by {importer}." for ev in events)

    cfn.delete_stack(StackName=exporter)
    s = stack_of(cfn, exporter)
    assert s["StackStatus"] == "DELETE_FAILED"
    assert s["StackStatusReason"] == f"Export {export} cannot be deleted as it is in use by {importer}"

    cfn.delete_stack(StackName=importer)
    cfn.get_waiter("stack_delete_complete").wait(StackName=importer, WaiterConfig=WAIT)
    cfn.delete_stack(StackName=exporter)
    cfn.get_waiter("stack_delete_complete").wait(StackName=exporter, WaiterConfig=WAIT)


def test_capabilities(cfn):
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}}}
    plain = json.dumps({"Resources": {"Role": role}})
    named = json.dumps({"Resources": {"Role": {**role, "Properties": {**role["Properties"], "RoleName": unique("role")}}}})
    stack = unique("caps")
    summary = cfn.validate_template(TemplateBody=plain)
    assert summary["Capabilities"] == ["CAPABILITY_IAM"]
    assert summary["CapabilitiesReason"] == "The following resource(s) require capabilities: [AWS::IAM::Role]"
    for call in (lambda: cfn.create_stack(StackName=stack, TemplateBody=plain),
                 lambda: cfn.create_change_set(StackName=stack, ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=plain)):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
        assert e.value.response["Error"]["Message"] == "Requires capabilities : [CAPABILITY_IAM]"
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody=named, Capabilities=["CAPABILITY_IAM"])
    assert e.value.response["Error"]["Message"] == "Requires capabilities : [CAPABILITY_NAMED_IAM]"
    assert stack not in [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]]

    # A transform needs CAPABILITY_AUTO_EXPAND for CreateStack, not for a change set the caller reviews.
    sam = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}\n"
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=stack, TemplateBody=sam)
    assert e.value.response["Error"]["Message"] == "Requires capabilities : [CAPABILITY_AUTO_EXPAND]"
    cfn.create_change_set(StackName=stack, ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=sam)
    cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName="c1", WaiterConfig=WAIT)
    cfn.delete_stack(StackName=stack)


def test_on_failure_and_paging(cfn):
    bad = "Resources:\n  Handle: {Type: AWS::CloudFormation::WaitConditionHandle}\n  Nope: {Type: AWS::Nothing::Here, DependsOn: Handle}\n"
    gone = unique("onfail-delete")
    stack_id = cfn.create_stack(StackName=gone, TemplateBody=bad, OnFailure="DELETE")["StackId"]
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig=WAIT)
    kept = unique("onfail-keep")
    cfn.create_stack(StackName=kept, TemplateBody=bad, OnFailure="DO_NOTHING")
    assert stack_of(cfn, kept)["StackStatus"] == "CREATE_FAILED"
    with pytest.raises(ClientError) as e:
        cfn.create_stack(StackName=unique(), TemplateBody=bad, OnFailure="ROLLBACK", DisableRollback=True)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    cfn.delete_stack(StackName=kept)

    # 101 exports and the 104 events of 50 resources come back in pages of 100.
    many = unique("paging")
    handles = {f"H{i}": {"Type": "AWS::CloudFormation::WaitConditionHandle"} for i in range(50)}
    exports = {f"O{i}": {"Value": str(i), "Export": {"Name": f"{many}-{i}"}} for i in range(101)}
    cfn.create_stack(StackName=many, TemplateBody=json.dumps({"Resources": handles, "Outputs": exports}))
    cfn.get_waiter("stack_create_complete").wait(StackName=many, WaiterConfig=WAIT)
    first = cfn.list_exports()
    assert len(first["Exports"]) == 100 and "NextToken" in first
    names = [e["Name"] for page in cfn.get_paginator("list_exports").paginate() for e in page["Exports"]]
    assert len([n for n in names if n.startswith(many + "-")]) == 101
    events = cfn.describe_stack_events(StackName=many)
    assert len(events["StackEvents"]) == 100 and "NextToken" in events
    everything = [e for page in cfn.get_paginator("describe_stack_events").paginate(StackName=many) for e in page["StackEvents"]]
    assert len(everything) == 102
    resources = [r for page in cfn.get_paginator("list_stack_resources").paginate(StackName=many)
                 for r in page["StackResourceSummaries"]]
    assert len(resources) == 50
    cfn.delete_stack(StackName=many)


def test_restart_while_a_custom_resource_is_waited_for():
    """kill -9 while the stack waits for a function that never answers: after the restart the stack is rolled back
    (never left IN_PROGRESS), and what had been created gets its Delete."""
    from helpers import LambdaFunctions
    from server import Server
    srv = Server().start()
    fns = LambdaFunctions(srv, "e2e-cfncrash")
    try:
        cfn = make_client(srv.endpoint, "cloudformation")
        s3 = make_client(srv.endpoint)
        bucket = unique("crash-bucket")
        s3.create_bucket(Bucket=bucket)
        token = fns.create(handler="index.handler", code=zip_bytes({"index.py": PROVIDER}), Timeout=30)["FunctionArn"]
        stack = unique("crash")
        body = CUSTOM.replace("Size: 5}", "Size: 5}\n  Quiet:\n    Type: Custom::Quiet\n    DependsOn: Echo\n"
                              "    Properties: {ServiceToken: !Ref Token, Mode: silent, Bucket: !Ref Bucket}")
        # CreateStack answers after 10 s at most: it runs aside while the server is killed.
        creating = threading.Thread(target=lambda: _ignore_errors(
            lambda: cfn.create_stack(StackName=stack, TemplateBody=body, Parameters=params(Bucket=bucket, Token=token))))
        creating.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Quiet")["StackResourceDetail"]["ResourceStatus"] \
                        == "CREATE_IN_PROGRESS":
                    break
            except ClientError:
                pass
            time.sleep(0.1)
        srv.kill9()
        creating.join()
        srv = Server(data_dir=srv.data_dir, port=srv.port).start()
        fns.server = srv
        assert settled(cfn, stack) == "ROLLBACK_COMPLETE"
        assert "Delete/echo-one" in keys(s3, bucket)
        cfn.delete_stack(StackName=stack)
        purge_bucket(s3, bucket)
    finally:
        fns.cleanup()
        srv.stop()


def _ignore_errors(call):
    try:
        call()
    except Exception:
        pass
