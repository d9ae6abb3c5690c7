"""AWS::DynamoDB::Table through CloudFormation: a table with a GSI, a stream and TTL deployed with create_stack;
DescribeTable shows it; Outputs give GetAtt Arn and StreamArn; an update adds a GSI (and changes throughput and tags
in place); a second GSI change in one update fails and rolls back; a table with DeletionProtectionEnabled stops the
stack's delete; SAM's SimpleTable deploys; deleting the stack removes the table."""
import time
import uuid

import pytest

from helpers import make_client

WAIT = {"Delay": 1, "MaxAttempts": 60}

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Extra: {Type: String, Default: "no"}
  Read: {Type: Number, Default: 2}
Conditions:
  WithExtra: !Equals [!Ref Extra, "yes"]
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: status, AttributeType: S}
        - !If [WithExtra, {AttributeName: owner, AttributeType: S}, !Ref AWS::NoValue]
      KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
      ProvisionedThroughput: {ReadCapacityUnits: !Ref Read, WriteCapacityUnits: "3"}
      GlobalSecondaryIndexes:
        - IndexName: byStatus
          KeySchema: [{AttributeName: status, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
        - !If
          - WithExtra
          - IndexName: byOwner
            KeySchema: [{AttributeName: owner, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
            Projection: {ProjectionType: KEYS_ONLY}
            ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
          - !Ref AWS::NoValue
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      TimeToLiveSpecification: {AttributeName: expires, Enabled: true}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      Tags: [{Key: team, Value: !Ref Extra}]
Outputs:
  Name: {Value: !Ref Orders}
  Arn: {Value: !GetAtt Orders.Arn}
  StreamArn: {Value: !GetAtt Orders.StreamArn}
"""


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


@pytest.fixture(scope="module")
def ddb(endpoint):
    return make_client(endpoint, "dynamodb")


def settle(cfn, stack):
    """The stack once no operation is in progress on it."""
    for _ in range(120):
        s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if "IN_PROGRESS" not in s["StackStatus"]:
            return s
        time.sleep(0.5)
    raise AssertionError(f"{stack} still {s['StackStatus']}")


def outputs(cfn, stack):
    return {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}


def test_table_stack_create_update_delete(cfn, ddb, account):
    stack = "ddb-" + uuid.uuid4().hex[:8]
    cfn.create_stack(StackName=stack, TemplateBody=TEMPLATE)
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    out = outputs(cfn, stack)
    name = out["Name"]
    # No TableName: CloudFormation's <stack>-<logical id>-<suffix>.
    assert name.startswith(f"{stack}-Orders-") and len(name) == len(stack) + len("-Orders-") + 13
    t = ddb.describe_table(TableName=name)["Table"]
    assert out["Arn"] == t["TableArn"] == f"arn:aws:dynamodb:us-east-1:{account}:table/{name}"
    assert out["StreamArn"] == t["LatestStreamArn"]
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 2 and t["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert [g["IndexName"] for g in t["GlobalSecondaryIndexes"]] == ["byStatus"]
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "team", "Value": "no"}]
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "owner": {"S": "ann"}, "status": {"S": "new"}})

    # One GSI added, throughput and tags changed in place: the same table, its item kept, the new index backfilled.
    cfn.update_stack(StackName=stack, TemplateBody=TEMPLATE,
                     Parameters=[{"ParameterKey": "Extra", "ParameterValue": "yes"}, {"ParameterKey": "Read", "ParameterValue": "4"}])
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert outputs(cfn, stack)["Name"] == name
    t = ddb.describe_table(TableName=name)["Table"]
    assert sorted(g["IndexName"] for g in t["GlobalSecondaryIndexes"]) == ["byOwner", "byStatus"]
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 4
    assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "team", "Value": "yes"}]
    got = ddb.query(TableName=name, IndexName="byOwner", KeyConditionExpression="#o = :o",
                    ExpressionAttributeNames={"#o": "owner"}, ExpressionAttributeValues={":o": {"S": "ann"}})
    assert got["Count"] == 1

    # Replacing both indexes in one update is two GSI changes: CloudFormation refuses, the stack rolls back.
    two = TEMPLATE.replace("IndexName: byStatus", "IndexName: byStatus2")
    cfn.update_stack(StackName=stack, TemplateBody=two, Parameters=[{"ParameterKey": "Extra", "ParameterValue": "no"}, {"ParameterKey": "Read", "ParameterValue": "4"}])
    assert settle(cfn, stack)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    failed = [e for e in cfn.describe_stack_events(StackName=stack)["StackEvents"] if e["ResourceStatus"] == "UPDATE_FAILED" and e["LogicalResourceId"] == "Orders"]
    assert "Cannot perform more than one GSI creation or deletion in a single update" in failed[0]["ResourceStatusReason"]
    t = ddb.describe_table(TableName=name)["Table"]
    assert sorted(g["IndexName"] for g in t["GlobalSecondaryIndexes"]) == ["byOwner", "byStatus"]

    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName=name)


def test_deletion_protection_stops_the_stack_delete(cfn, ddb):
    stack = "ddbp-" + uuid.uuid4().hex[:8]
    body = """
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: %s
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      DeletionProtectionEnabled: %s
Outputs:
  Arn: {Value: !GetAtt T.Arn}
"""
    name = stack + "-table"
    cfn.create_stack(StackName=stack, TemplateBody=body % (name, "true"))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert ddb.describe_table(TableName=name)["Table"]["DeletionProtectionEnabled"] is True
    cfn.delete_stack(StackName=stack)
    assert settle(cfn, stack)["StackStatus"] == "DELETE_FAILED"
    failed = [e for e in cfn.describe_stack_events(StackName=stack)["StackEvents"] if e["ResourceStatus"] == "DELETE_FAILED" and e["LogicalResourceId"] == "T"]
    assert "protected against deletion" in failed[0]["ResourceStatusReason"]
    assert ddb.describe_table(TableName=name)["Table"]["TableName"] == name
    # Turning protection off lets the delete through (a DELETE_FAILED stack cannot be updated, as in AWS).
    ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert name not in ddb.list_tables()["TableNames"]


def test_stream_arn_of_a_table_without_stream_fails(cfn, ddb):
    stack = "ddbs-" + uuid.uuid4().hex[:8]
    body = """
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
Outputs:
  S: {Value: !GetAtt T.StreamArn}
"""
    cfn.create_stack(StackName=stack, TemplateBody=body)
    assert settle(cfn, stack)["StackStatus"] == "ROLLBACK_COMPLETE"
    cfn.delete_stack(StackName=stack)


def test_sam_simple_table(cfn, ddb):
    stack = "ddbsam-" + uuid.uuid4().hex[:8]
    body = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Things:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: thingId, Type: Number}
      Tags: {app: things}
Outputs:
  Name: {Value: !Ref Things}
"""
    cfn.create_stack(StackName=stack, TemplateBody=body, Capabilities=["CAPABILITY_AUTO_EXPAND"])
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    name = outputs(cfn, stack)["Name"]
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["KeySchema"] == [{"AttributeName": "thingId", "KeyType": "HASH"}]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ddb.put_item(TableName=name, Item={"thingId": {"N": "7"}})
    assert ddb.get_item(TableName=name, Key={"thingId": {"N": "7"}})["Item"] == {"thingId": {"N": "7"}}
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    assert name not in ddb.list_tables()["TableNames"]
