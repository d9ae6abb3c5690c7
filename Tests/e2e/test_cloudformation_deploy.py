"""`aws cloudformation deploy` (CLI v1 and v2) and the change set API it is built on.

deploy creates a stack through a CREATE change set, finds nothing to do when run again unchanged (it reads the
empty change set's FAILED reason), updates through an UPDATE change set with a parameter override, and (v1, whose
S3 uploader honours AWS_ENDPOINT_URL_S3; the v2 2.9 CLI installed here has no way to point its uploader at another
endpoint) uploads the template to a Cloudless bucket and deploys it by TemplateURL. boto3 covers the change set
API's edges: DescribeChangeSet's shapes, the empty change set, the delete rules, IMPORT refused, the waiter,
GetTemplate of a change set, TemplateURL forms and a missing template object."""
import os
import subprocess
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client, purge_bucket, tool_env

V2_PATH = "/usr/bin/aws"
WAIT = {"Delay": 1, "MaxAttempts": 60}
EMPTY_REASON = "The submitted information didn't contain changes. Submit different information to create a change set."

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Description: deployed by the CLI
Parameters:
  Retention: {Type: Number, Default: 7}
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/cloudless/${AWS::StackName}"
      RetentionInDays: !Ref Retention
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""

HANDLES = """
Parameters:
  Label: {Type: String, Default: one}
Resources:
  First:
    Type: AWS::CloudFormation::WaitConditionHandle
  Second:
    Type: AWS::CloudFormation::WaitConditionHandle
Outputs:
  Label: {Value: !Ref Label}
"""


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


@pytest.fixture(scope="module")
def logs(endpoint):
    return make_client(endpoint, "logs")


def unique(prefix="deploy"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["v1", "v2"])
def aws(request, endpoint, tmp_path):
    """Run the selected CLI against the server: aws(*args, check=True)."""
    cfg = tmp_path / "aws-config"
    creds = tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    base = ["python3", "-m", "awscli"] if request.param == "v1" else [V2_PATH]

    def run(*args, check=True, **extra_env):
        env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                       AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PAGER="",
                       AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", **extra_env)
        cmd = [*base, "--endpoint-url", endpoint, *[str(a) for a in args]]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)}\nrc={p.returncode}\nstdout={p.stdout}\nstderr={p.stderr}"
        return p

    def deploy(*args, **kw):
        # deploy names its change set awscli-cloudformation-package-deploy-<epoch seconds>: AWS, like Cloudless,
        # refuses a second change set of that name, so a deploy starts in a second after the previous one ended.
        while int(time.time()) <= run.last_deploy:
            time.sleep(0.05)
        try:
            return run("cloudformation", "deploy", *args, **kw)
        finally:
            run.last_deploy = int(time.time())

    run.version = request.param
    run.last_deploy = 0
    run.deploy = deploy
    return run


def test_deploy_create_noop_update_delete(aws, cfn, logs, tmp_path):
    stack = unique(f"deploy-{aws.version}")
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    group = f"/cloudless/{stack}"

    out = aws.deploy("--template-file", path, "--stack-name", stack).stdout
    assert f"Successfully created/updated stack - {stack}" in out
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "CREATE_COMPLETE"
    assert s["Description"] == "deployed by the CLI"
    [summary] = cfn.list_change_sets(StackName=stack)["Summaries"]
    assert summary["ExecutionStatus"] == "EXECUTE_COMPLETE"
    assert summary["Status"] == "CREATE_COMPLETE"
    assert summary["ChangeSetId"].startswith(f"arn:aws:cloudformation:us-east-1:")
    assert f":changeSet/{summary['ChangeSetName']}/" in summary["ChangeSetId"]
    [lg] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert lg["retentionInDays"] == 7

    # Unchanged: the empty change set FAILED with AWS's reason, which the CLI reports as nothing to do.
    p = aws.deploy("--template-file", path, "--stack-name", stack, "--no-fail-on-empty-changeset")
    assert f"No changes to deploy. Stack {stack} is up to date" in p.stdout
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    # A parameter override: an UPDATE change set modifying the log group in place.
    out = aws.deploy("--template-file", path, "--stack-name", stack,
              "--parameter-overrides", "Retention=14").stdout
    assert f"Successfully created/updated stack - {stack}" in out
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "UPDATE_COMPLETE"
    assert s["Parameters"] == [{"ParameterKey": "Retention", "ParameterValue": "14"}]
    [lg] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert lg["retentionInDays"] == 14

    aws("cloudformation", "delete-stack", "--stack-name", stack)
    aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", stack)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []


def test_create_stack_by_template_url(aws, cfn, s3, endpoint):
    bucket = unique("tpl")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="t.yaml", Body=HANDLES.encode())
        stack = unique(f"url-{aws.version}")
        aws("cloudformation", "create-stack", "--stack-name", stack, "--template-url", f"{endpoint}/{bucket}/t.yaml")
        aws("cloudformation", "wait", "stack-create-complete", "--stack-name", stack)
        assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        aws("cloudformation", "delete-stack", "--stack-name", stack)
        aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", stack)
    finally:
        purge_bucket(s3, bucket)


# v1 only: the v2 CLI installed here (2.9) creates deploy's S3 uploader without --endpoint-url and predates
# AWS_ENDPOINT_URL_S3, so it would upload to AWS itself.
@pytest.mark.parametrize("aws", ["v1"], indirect=True)
def test_deploy_through_s3_bucket(aws, cfn, s3, endpoint, tmp_path):
    bucket = unique("deploy-bucket")
    s3.create_bucket(Bucket=bucket)
    stack = unique("deploy-s3")
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    try:
        out = aws.deploy("--template-file", path, "--stack-name", stack, "--s3-bucket", bucket,
                  "--s3-prefix", "templates", AWS_ENDPOINT_URL_S3=endpoint).stdout
        assert f"Successfully created/updated stack - {stack}" in out
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert len(keys) == 1 and keys[0].startswith("templates/") and keys[0].endswith(".template")
        assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        assert "AWS::Logs::LogGroup" in cfn.get_template(StackName=stack)["TemplateBody"]
        aws("cloudformation", "delete-stack", "--stack-name", stack)
        aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", stack)
    finally:
        purge_bucket(s3, bucket)


def test_change_set_shapes_waiter_and_execute(cfn):
    stack = unique("cs")
    created = cfn.create_change_set(StackName=stack, ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=HANDLES,
                                    Description="review me", Tags=[{"Key": "team", "Value": "core"}],
                                    Parameters=[{"ParameterKey": "Label", "ParameterValue": "two"}])
    cs_id, stack_id = created["Id"], created["StackId"]
    assert cs_id.startswith("arn:aws:cloudformation:us-east-1:") and ":changeSet/first/" in cs_id
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"] == []
    # Done on the first poll: the waiter's default delay is 30 s.
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=cs_id, WaiterConfig={"Delay": 30, "MaxAttempts": 1})
    d = cfn.describe_change_set(ChangeSetName="first", StackName=stack)
    assert d["ChangeSetId"] == cs_id and d["StackId"] == stack_id and d["StackName"] == stack
    assert d["Status"] == "CREATE_COMPLETE" and d["ExecutionStatus"] == "AVAILABLE"
    assert d["Description"] == "review me"
    assert d["Parameters"] == [{"ParameterKey": "Label", "ParameterValue": "two"}]
    assert d["Tags"] == [{"Key": "team", "Value": "core"}]
    assert [c["Type"] for c in d["Changes"]] == ["Resource", "Resource"]
    assert [c["ResourceChange"] for c in d["Changes"]] == [
        {"Action": "Add", "LogicalResourceId": name, "ResourceType": "AWS::CloudFormation::WaitConditionHandle",
         "Scope": [], "Details": []} for name in ("First", "Second")]
    tpl = cfn.get_template(StackName=stack, ChangeSetName="first", TemplateStage="Original")
    assert "WaitConditionHandle" in tpl["TemplateBody"]

    cfn.execute_change_set(ChangeSetName=cs_id)
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    assert s["StackId"] == stack_id
    assert s["Outputs"][0]["OutputValue"] == "two"
    assert s["Tags"] == [{"Key": "team", "Value": "core"}]
    assert cfn.describe_change_set(ChangeSetName=cs_id)["ExecutionStatus"] == "EXECUTE_COMPLETE"
    with pytest.raises(ClientError) as e:
        cfn.execute_change_set(ChangeSetName=cs_id)
    assert e.value.response["Error"]["Code"] == "InvalidChangeSetStatus"

    # UPDATE: a removed resource, then the same template again (empty).
    one = HANDLES.replace("  Second:\n    Type: AWS::CloudFormation::WaitConditionHandle\n", "")
    first_id = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="First")["StackResourceDetail"]["PhysicalResourceId"]
    second_id = cfn.describe_stack_resource(StackName=stack, LogicalResourceId="Second")["StackResourceDetail"]["PhysicalResourceId"]
    cfn.create_change_set(StackName=stack, ChangeSetName="shrink", TemplateBody=one,
                          Parameters=[{"ParameterKey": "Label", "UsePreviousValue": True}])
    d = cfn.describe_change_set(ChangeSetName="shrink", StackName=stack)
    assert [c["ResourceChange"] for c in d["Changes"]] == [
        {"PolicyAction": "Delete", "Action": "Remove", "LogicalResourceId": "Second", "PhysicalResourceId": second_id,
         "ResourceType": "AWS::CloudFormation::WaitConditionHandle", "Scope": [], "Details": []}]
    cfn.create_change_set(StackName=stack, ChangeSetName="same", UsePreviousTemplate=True,
                          Parameters=[{"ParameterKey": "Label", "UsePreviousValue": True}])
    with pytest.raises(Exception) as w:
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName="same", StackName=stack, WaiterConfig=WAIT)
    assert "FAILED" in str(w.value)
    d = cfn.describe_change_set(ChangeSetName="same", StackName=stack)
    assert (d["Status"], d["ExecutionStatus"], d["StatusReason"]) == ("FAILED", "UNAVAILABLE", EMPTY_REASON)
    assert d["Changes"] == []
    cfn.execute_change_set(ChangeSetName="shrink", StackName=stack)
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
    resources = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    assert [(r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources] == [("First", first_id)]
    # Executing one change set deleted the stack's others.
    assert [c["ChangeSetName"] for c in cfn.list_change_sets(StackName=stack)["Summaries"]] == ["shrink"]
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)


def test_change_set_refusals_and_delete_rules(cfn):
    stack = unique("cs-rules")
    with pytest.raises(ClientError) as e:
        cfn.create_change_set(StackName=stack, ChangeSetName="imp", ChangeSetType="IMPORT", TemplateBody=HANDLES,
                              ResourcesToImport=[{"ResourceType": "AWS::CloudFormation::WaitConditionHandle",
                                                  "LogicalResourceId": "First", "ResourceIdentifier": {"Id": "x"}}])
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert "IMPORT" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        cfn.create_change_set(StackName=stack, ChangeSetName="upd", ChangeSetType="UPDATE", TemplateBody=HANDLES)
    assert e.value.response["Error"]["Message"] == f"Stack [{stack}] does not exist"

    cfn.create_change_set(StackName=stack, ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=HANDLES)
    with pytest.raises(ClientError) as e:
        cfn.create_change_set(StackName=stack, ChangeSetName="c1", ChangeSetType="CREATE", TemplateBody=HANDLES)
    assert e.value.response["Error"]["Code"] == "AlreadyExistsException"
    with pytest.raises(ClientError) as e:
        cfn.update_stack(StackName=stack, TemplateBody=HANDLES)
    assert "REVIEW_IN_PROGRESS" in e.value.response["Error"]["Message"]
    # Deleting the only change set of a stack under review leaves the stack.
    cfn.delete_change_set(ChangeSetName="c1", StackName=stack)
    assert cfn.list_change_sets(StackName=stack)["Summaries"] == []
    assert cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    with pytest.raises(ClientError) as e:
        cfn.describe_change_set(ChangeSetName="c1", StackName=stack)
    assert e.value.response["Error"]["Code"] == "ChangeSetNotFound"
    with pytest.raises(ClientError) as e:
        cfn.describe_change_set(ChangeSetName="c1")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    # DeleteStack removes a stack under review.
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    with pytest.raises(ClientError) as e:
        cfn.describe_stacks(StackName=stack)
    assert "does not exist" in e.value.response["Error"]["Message"]


def test_template_url_forms(cfn, s3, endpoint):
    bucket = unique("tpl-forms")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="dir/handles.yaml", Body=HANDLES.encode())
        port = endpoint.rsplit(":", 1)[1]
        for url in (f"{endpoint}/{bucket}/dir/handles.yaml", f"http://localhost:{port}/{bucket}/dir/handles.yaml",
                    f"https://{bucket}.s3.amazonaws.com/dir/handles.yaml",
                    f"https://s3.us-east-1.amazonaws.com/{bucket}/dir/handles.yaml"):
            summary = cfn.get_template_summary(TemplateURL=url)
            assert summary["ResourceTypes"] == ["AWS::CloudFormation::WaitConditionHandle"], url
        assert cfn.validate_template(TemplateURL=f"{endpoint}/{bucket}/dir/handles.yaml")["Parameters"][0]["ParameterKey"] == "Label"
        with pytest.raises(ClientError) as e:
            cfn.validate_template(TemplateURL=f"{endpoint}/{bucket}/dir/missing.yaml")
        assert e.value.response["Error"] == {"Type": "Sender", "Code": "ValidationError",
                                             "Message": "TemplateURL must reference a valid S3 object to which you have access."}
        stack = unique("cs-url")
        cfn.create_change_set(StackName=stack, ChangeSetName="u", ChangeSetType="CREATE",
                              TemplateURL=f"{endpoint}/{bucket}/dir/handles.yaml")
        assert len(cfn.describe_change_set(ChangeSetName="u", StackName=stack)["Changes"]) == 2
        cfn.delete_stack(StackName=stack)
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    finally:
        purge_bucket(s3, bucket)
