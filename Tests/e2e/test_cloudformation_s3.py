"""AWS::S3::Bucket and AWS::S3::BucketPolicy through CloudFormation, checked through S3's own API with boto3: a
bucket carrying every configuration Cloudless's S3 serves (versioning, encryption, public access block, tags,
lifecycle, CORS, website, ownership with a canned ACL, acceleration, logging, notifications to a queue and a
function that really deliver) with its bucket policy, and an Object Lock bucket with a default retention; an update
that removes some configurations and changes others; a bad property rolled back with nothing left; an SNS
notification refused by name; a malformed policy failing with S3's error."""
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client, purge_versioned_bucket

WAIT = {"Delay": 1, "MaxAttempts": 60}

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  FunctionArn: {Type: String}
Resources:
  Uploads:
    Type: AWS::SQS::Queue
  Data:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-data"
      VersioningConfiguration: {Status: Enabled}
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: "aws:kms", KMSMasterKeyID: alias/data}
            BucketKeyEnabled: true
      PublicAccessBlockConfiguration: {BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: true}
      OwnershipControls:
        Rules: [{ObjectOwnership: BucketOwnerPreferred}]
      AccessControl: PublicRead
      Tags: [{Key: team, Value: blue}]
      LifecycleConfiguration:
        Rules:
          - Id: logs
            Status: Enabled
            Prefix: logs/
            ExpirationInDays: 30
            NoncurrentVersionExpiration: {NoncurrentDays: 7}
            AbortIncompleteMultipartUpload: {DaysAfterInitiation: 2}
          - Id: archive
            Status: Enabled
            TagFilters: [{Key: archive, Value: "yes"}]
            Transitions: [{StorageClass: GLACIER, TransitionInDays: 60}]
      CorsConfiguration:
        CorsRules:
          - Id: web
            AllowedOrigins: [https://example.com]
            AllowedMethods: [GET, PUT]
            AllowedHeaders: ["*"]
            ExposedHeaders: [ETag]
            MaxAge: 600
      WebsiteConfiguration:
        IndexDocument: index.html
        ErrorDocument: error.html
        RoutingRules:
          - RoutingRuleCondition: {KeyPrefixEquals: old/}
            RedirectRule: {ReplaceKeyPrefixWith: new/, HttpRedirectCode: "301"}
      AccelerateConfiguration: {AccelerationStatus: Enabled}
      LoggingConfiguration: {LogFilePrefix: access/}
      NotificationConfiguration:
        QueueConfigurations:
          - Event: s3:ObjectCreated:*
            Queue: !GetAtt Uploads.Arn
            Filter: {S3Key: {Rules: [{Name: prefix, Value: in/}, {Name: suffix, Value: .csv}]}}
        LambdaConfigurations:
          - Event: s3:ObjectCreated:Put
            Function: !Ref FunctionArn
            Filter: {S3Key: {Rules: [{Name: suffix, Value: .jpg}]}}
  DataPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Data
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
            Action: s3:GetObject
            Resource: !Sub "${Data.Arn}/*"
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt Data.Arn, !Sub "${Data.Arn}/*"]
            Condition: {Bool: {"aws:SecureTransport": false}}
  Locked:
    Type: AWS::S3::Bucket
    Properties:
      ObjectLockEnabled: true
      ObjectLockConfiguration:
        ObjectLockEnabled: Enabled
        Rule: {DefaultRetention: {Mode: GOVERNANCE, Days: 1}}
Outputs:
  Bucket: {Value: !Ref Data}
  Arn: {Value: !GetAtt Data.Arn}
  DomainName: {Value: !GetAtt Data.DomainName}
  RegionalDomainName: {Value: !GetAtt Data.RegionalDomainName}
  DualStackDomainName: {Value: !GetAtt Data.DualStackDomainName}
  WebsiteURL: {Value: !GetAtt Data.WebsiteURL}
  PolicyRef: {Value: !Ref DataPolicy}
  Locked: {Value: !Ref Locked}
  QueueUrl: {Value: !Ref Uploads}
"""


@pytest.fixture(scope="module")
def cf(endpoint):
    return make_client(endpoint, "cloudformation")


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


def outputs(cf, name):
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    return stack, {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def receive(sqs, url, wait=10):
    """The next message body (parsed), waiting up to `wait` seconds; None when none came."""
    deadline = time.time() + wait
    while time.time() < deadline:
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=1).get("Messages", [])
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            return json.loads(got[0]["Body"])
    return None


def receive_record(sqs, url, wait=10):
    """The next S3 event record, past the s3:TestEvent S3 sends when a configuration is put."""
    while True:
        body = receive(sqs, url, wait)
        if body is None or body.get("Event") != "s3:TestEvent":
            return body and body["Records"][0]


def failure(cf, name, logical_id):
    """The status reason of the resource's first *_FAILED event."""
    for e in cf.describe_stack_events(StackName=name)["StackEvents"]:
        if e["LogicalResourceId"] == logical_id and e["ResourceStatus"].endswith("_FAILED"):
            return e["ResourceStatusReason"]
    return None


def wait_failed_create(cf, name):
    with pytest.raises(Exception):
        cf.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAIT)
    assert cf.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"


def test_every_configuration_deployed_used_updated_and_deleted(endpoint, cf, sqs, s3, fns, lam, account):
    name = "cfs3-" + uuid.uuid4().hex[:8]
    # The function the bucket notifies; its successful invocations are recorded in a queue.
    done_url = sqs.create_queue(QueueName=f"{name}-invoked")["QueueUrl"]
    done_arn = sqs.get_queue_attributes(QueueUrl=done_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fn = fns.create(tag="s3", handler="handler.echo")["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName=fn, DestinationConfig={"OnSuccess": {"Destination": done_arn}})
    params = [{"ParameterKey": "FunctionArn", "ParameterValue": fn}]
    cf.create_stack(StackName=name, TemplateBody=TEMPLATE, Parameters=params)
    cf.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAIT)
    _, out = outputs(cf, name)
    bucket = f"{name}-data"
    try:
        assert out["Bucket"] == bucket and out["PolicyRef"] == bucket
        assert out["Arn"] == f"arn:aws:s3:::{bucket}"
        assert out["DomainName"] == f"{bucket}.s3.amazonaws.com"
        assert out["RegionalDomainName"] == f"{bucket}.s3.us-east-1.amazonaws.com"
        assert out["DualStackDomainName"] == f"{bucket}.s3.dualstack.us-east-1.amazonaws.com"
        assert out["WebsiteURL"] == f"http://{bucket}.s3-website-us-east-1.amazonaws.com"

        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/data"}
        assert rule["BucketKeyEnabled"] is True
        assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
        assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerPreferred"}]
        grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
        assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"} in grants
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
        assert tags["team"] == "blue" and tags["aws:cloudformation:stack-name"] == name

        rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
        assert rules["logs"]["Filter"] == {"Prefix": "logs/"} and rules["logs"]["Expiration"] == {"Days": 30}
        assert rules["logs"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}
        assert rules["logs"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 2}
        assert rules["archive"]["Filter"] == {"Tag": {"Key": "archive", "Value": "yes"}}
        assert rules["archive"]["Transitions"] == [{"Days": 60, "StorageClass": "GLACIER"}]
        assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [{
            "ID": "web", "AllowedHeaders": ["*"], "AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://example.com"],
            "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]
        site = s3.get_bucket_website(Bucket=bucket)
        assert site["IndexDocument"] == {"Suffix": "index.html"} and site["ErrorDocument"] == {"Key": "error.html"}
        assert site["RoutingRules"] == [{"Condition": {"KeyPrefixEquals": "old/"},
                                         "Redirect": {"HttpRedirectCode": "301", "ReplaceKeyPrefixWith": "new/"}}]
        assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
        assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {"TargetBucket": bucket, "TargetPrefix": "access/"}
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert policy["Statement"][0] == {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                                          "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
        assert policy["Statement"][1]["Condition"] == {"Bool": {"aws:SecureTransport": False}}
        locked = s3.get_object_lock_configuration(Bucket=out["Locked"])["ObjectLockConfiguration"]
        assert locked == {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}

        # Notifications deliver: a .csv under in/ to the queue, a .jpg to the function, anything else nowhere.
        notification = s3.get_bucket_notification_configuration(Bucket=bucket)
        queue_arn = notification["QueueConfigurations"][0]["QueueArn"]
        assert queue_arn.endswith(":" + out["QueueUrl"].rsplit("/", 1)[1])
        assert notification["LambdaFunctionConfigurations"][0]["LambdaFunctionArn"] == fn
        assert receive(sqs, out["QueueUrl"])["Event"] == "s3:TestEvent"
        s3.put_object(Bucket=bucket, Key="in/rows.csv", Body=b"a,b")
        s3.put_object(Bucket=bucket, Key="cat.jpg", Body=b"meow")
        s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"neither")
        event = receive_record(sqs, out["QueueUrl"])
        assert event["eventName"] == "ObjectCreated:Put" and event["s3"]["object"]["key"] == "in/rows.csv"
        invoked = receive(sqs, done_url)["requestPayload"]["Records"][0]
        assert invoked["s3"]["bucket"]["name"] == bucket and invoked["s3"]["object"]["key"] == "cat.jpg"

        # Update: CORS, website, ACL, ownership, acceleration, logging and the function's notification removed;
        # lifecycle, tags, encryption, versioning and the policy changed.
        updated = (TEMPLATE
                   .replace("VersioningConfiguration: {Status: Enabled}", "VersioningConfiguration: {Status: Suspended}")
                   .replace('{SSEAlgorithm: "aws:kms", KMSMasterKeyID: alias/data}', "{SSEAlgorithm: AES256}")
                   .replace("{Key: team, Value: blue}", "{Key: team, Value: green}")
                   .replace("ExpirationInDays: 30", "ExpirationInDays: 10")
                   .replace("Action: s3:GetObject", 'Action: ["s3:GetObject", "s3:ListBucket"]'))
        cut = lambda text, start, end: text[:text.index(start)] + text[text.index(end):]
        updated = cut(updated, "      OwnershipControls:", "      Tags:")
        updated = cut(updated, "      CorsConfiguration:", "      NotificationConfiguration:")
        updated = cut(updated, "        LambdaConfigurations:", "  DataPolicy:")
        cf.update_stack(StackName=name, TemplateBody=updated, Parameters=params)
        cf.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=WAIT)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
        assert tags["team"] == "green"
        rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
        assert rules["logs"]["Expiration"] == {"Days": 10} and "archive" in rules
        for get, code in [(s3.get_bucket_cors, "NoSuchCORSConfiguration"), (s3.get_bucket_website, "NoSuchWebsiteConfiguration")]:
            with pytest.raises(ClientError) as e:
                get(Bucket=bucket)
            assert e.value.response["Error"]["Code"] == code
        assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerEnforced"}]
        assert all(g["Grantee"].get("URI") is None for g in s3.get_bucket_acl(Bucket=bucket)["Grants"])
        assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
        assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
        notification = s3.get_bucket_notification_configuration(Bucket=bucket)
        assert "LambdaFunctionConfigurations" not in notification and len(notification["QueueConfigurations"]) == 1
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Action"] == ["s3:GetObject", "s3:ListBucket"]
        s3.put_object(Bucket=bucket, Key="in/more.csv", Body=b"c")
        s3.put_object(Bucket=bucket, Key="dog.jpg", Body=b"woof")
        assert receive_record(sqs, out["QueueUrl"])["s3"]["object"]["key"] == "in/more.csv"
        assert receive(sqs, done_url, wait=1.5) is None
    finally:
        purge_versioned_bucket(s3, bucket)
        cf.delete_stack(StackName=name)
        cf.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAIT)
        sqs.delete_queue(QueueUrl=done_url)
    # The policy and both buckets went with the stack.
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert bucket not in names and out["Locked"] not in names


def bucket_stack(name, properties, extra=None):
    resources = {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name, **properties}}}
    resources.update(extra or {})
    return json.dumps({"Resources": resources})


def test_a_bad_property_rolls_back_with_nothing_left(cf, s3):
    name = "cfs3bad-" + uuid.uuid4().hex[:8]
    cf.create_stack(StackName=name, TemplateBody=bucket_stack(name, {
        "CorsConfiguration": {"CorsRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]},
        "LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "ExpirationInDays": 0}]}}))
    wait_failed_create(cf, name)
    assert failure(cf, name, "Bucket") == "'Days' for Expiration action must be a positive integer"
    assert name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    cf.delete_stack(StackName=name)


def test_an_unserved_notification_type_is_refused_by_name(cf, s3, account):
    name = "cfs3sns-" + uuid.uuid4().hex[:8]
    cf.create_stack(StackName=name, TemplateBody=bucket_stack(name, {"NotificationConfiguration": {"TopicConfigurations": [
        {"Event": "s3:ObjectCreated:*", "Topic": f"arn:aws:sns:us-east-1:{account}:uploads"}]}}))
    wait_failed_create(cf, name)
    assert failure(cf, name, "Bucket").startswith("NotificationConfiguration.TopicConfigurations is not supported")
    assert name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    cf.delete_stack(StackName=name)


def test_a_malformed_policy_fails_with_s3s_error(cf, s3):
    name = "cfs3pol-" + uuid.uuid4().hex[:8]
    cf.create_stack(StackName=name, TemplateBody=bucket_stack(name, {}, {"Policy": {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}}}}))
    wait_failed_create(cf, name)
    assert failure(cf, name, "Policy") == "Missing required field Principal"
    assert name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    cf.delete_stack(StackName=name)


def managed_stack_template():
    """The shape of the stack `sam deploy --resolve-s3` creates (aws-sam-cli-managed-default): a versioned,
    encrypted, private source bucket and a policy that lets the Serverless Application Repository read it and
    refuses plain HTTP. Booleans as strings, as SAM CLI writes them."""
    arn = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "SamCliSourceBucket"}]]}
    objects = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "SamCliSourceBucket"}, "/*"]]}
    return json.dumps({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Managed Stack for AWS SAM CLI",
        "Resources": {
            "SamCliSourceBucket": {"Type": "AWS::S3::Bucket", "Properties": {
                "PublicAccessBlockConfiguration": {k: "true" for k in (
                    "BlockPublicPolicy", "BlockPublicAcls", "IgnorePublicAcls", "RestrictPublicBuckets")},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "Tags": [{"Key": "ManagedStackSource", "Value": "AwsSamCli"}]}},
            "SamCliSourceBucketBucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": "SamCliSourceBucket"},
                "PolicyDocument": {"Statement": [
                    {"Action": ["s3:GetObject"], "Effect": "Allow", "Resource": objects,
                     "Principal": {"Service": "serverlessrepo.amazonaws.com"},
                     "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}},
                    {"Action": ["s3:*"], "Effect": "Deny", "Resource": [arn, objects], "Principal": "*",
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
        },
        "Outputs": {"SourceBucket": {"Value": {"Ref": "SamCliSourceBucket"}}},
    })


def test_the_sam_cli_managed_stack_deploys(cf, s3, account):
    name = "cfs3sam-" + uuid.uuid4().hex[:8]
    cf.create_change_set(StackName=name, ChangeSetName="InitialCreation", ChangeSetType="CREATE",
                         TemplateBody=managed_stack_template(), Tags=[{"Key": "ManagedStackSource", "Value": "AwsSamCli"}])
    cf.get_waiter("change_set_create_complete").wait(StackName=name, ChangeSetName="InitialCreation", WaiterConfig=WAIT)
    cf.execute_change_set(StackName=name, ChangeSetName="InitialCreation")
    cf.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=WAIT)
    _, out = outputs(cf, name)
    bucket = out["SourceBucket"]
    try:
        assert bucket.startswith(f"{name}-samclisourcebucket-")
        statements = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
        assert statements[0]["Resource"] == f"arn:aws:s3:::{bucket}/*"
        assert statements[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
        assert statements[1]["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
        assert set(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()) == {True}
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                     for r in cf.describe_stack_resources(StackName=name)["StackResources"]}
        assert resources["SamCliSourceBucketBucketPolicy"] == bucket
        s3.put_object(Bucket=bucket, Key="app/template.yaml", Body=b"x")
    finally:
        purge_versioned_bucket(s3, bucket)
        cf.delete_stack(StackName=name)
        cf.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=WAIT)
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
