"""Lambda event source mappings on DynamoDB streams: a Python function stores each batch it gets in an S3 bucket;
20 puts, updates and deletes arrive in order with the right images; a batch the function fails is retried before
later records; a batch whose retries are spent goes to the OnFailure queue; CreateEventSourceMapping's checks and answer are Lambda's; a SAM function with a `DynamoDB` event,
deployed with create_stack, gets the records of its table."""
import json
import time
import uuid

import pytest

from helpers import LAMBDA_ROLE, host_python_runtime, make_client, zip_bytes
from server import Server

RECORDER = """
import json, os, boto3
s3 = boto3.client("s3")

def handler(event, context):
    records = event["Records"]
    first = records[0]["dynamodb"]["SequenceNumber"]
    bucket = os.environ["BUCKET"]
    # An item asking to fail fails its batch once (a marker remembers the failure), then succeeds.
    if any("fail" in (r["dynamodb"].get("NewImage") or {}) for r in records):
        try:
            s3.head_object(Bucket=bucket, Key="failed-" + first)
        except Exception:
            s3.put_object(Bucket=bucket, Key="failed-" + first, Body=b"1")
            raise Exception("first try fails")
    s3.put_object(Bucket=bucket, Key="batch-" + first, Body=json.dumps(event).encode())
    return {}
"""


@pytest.fixture(scope="module")
def ddb(endpoint):
    return make_client(endpoint, "dynamodb")


def stream_table(ddb, view="NEW_AND_OLD_IMAGES"):
    name = "esm-" + uuid.uuid4().hex[:8]
    t = ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    return name, t["TableDescription"]["LatestStreamArn"]


def batches(s3, bucket, want, timeout=60):
    """The records of the batches stored so far, in sequence order, once at least `want` have arrived."""
    deadline = time.time() + timeout
    while True:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []) if o["Key"].startswith("batch-")]
        records = [r for k in sorted(keys) for r in json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read())["Records"]]
        if len(records) >= want or time.time() > deadline:
            return records
        time.sleep(0.5)


def test_stream_records_arrive_in_order(fns, lam, ddb, s3, bucket, account):
    name, stream = stream_table(ddb)
    fn = fns.create(handler="index.handler", code=zip_bytes({"index.py": RECORDER}),
                    Environment={"Variables": {"BUCKET": bucket}}, Timeout=30)["FunctionName"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn)  # no StartingPosition
    m = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn, StartingPosition="TRIM_HORIZON",
                                        BatchSize=5, MaximumRetryAttempts=3,
                                        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{account}:dlq"}})
    assert m["BatchSize"] == 5 and m["StartingPosition"] == "TRIM_HORIZON" and m["MaximumRetryAttempts"] == 3
    assert m["DestinationConfig"]["OnFailure"]["Destination"].endswith(":dlq")
    # 20 changes: puts of 1..8, updates of 1..4, deletes of 5..8, one put asking to fail once, puts of 9..11.
    ops = []
    for i in range(1, 9):
        ddb.put_item(TableName=name, Item={"id": {"N": str(i)}, "v": {"S": f"a{i}"}})
        ops.append(("INSERT", i))
    for i in range(1, 5):
        ddb.update_item(TableName=name, Key={"id": {"N": str(i)}}, UpdateExpression="SET v = :v",
                        ExpressionAttributeValues={":v": {"S": f"b{i}"}})
        ops.append(("MODIFY", i))
    for i in range(5, 9):
        ddb.delete_item(TableName=name, Key={"id": {"N": str(i)}})
        ops.append(("REMOVE", i))
    ddb.put_item(TableName=name, Item={"id": {"N": "100"}, "fail": {"BOOL": True}})
    ops.append(("INSERT", 100))
    for i in range(9, 12):
        ddb.put_item(TableName=name, Item={"id": {"N": str(i)}})
        ops.append(("INSERT", i))
    records = batches(s3, bucket, len(ops))
    assert [(r["eventName"], int(r["dynamodb"]["Keys"]["id"]["N"])) for r in records] == ops
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 20
    first = records[0]
    assert first["eventSource"] == "aws:dynamodb" and first["eventVersion"] == "1.1" and first["awsRegion"] == "us-east-1"
    assert first["eventSourceARN"] == stream and len(first["eventID"]) > 0
    assert first["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES" and "OldImage" not in first["dynamodb"]
    assert first["dynamodb"]["NewImage"] == {"id": {"N": "1"}, "v": {"S": "a1"}}
    modify = records[8]["dynamodb"]
    assert modify["OldImage"]["v"] == {"S": "a1"} and modify["NewImage"]["v"] == {"S": "b1"}
    remove = records[12]["dynamodb"]
    assert remove["OldImage"] == {"id": {"N": "5"}, "v": {"S": "a5"}} and "NewImage" not in remove
    # The failed batch was retried (its marker exists) and later records waited for it: the order above holds.
    assert any(o["Key"].startswith("failed-") for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    got = lam.get_event_source_mapping(UUID=m["UUID"])
    assert got["State"] == "Enabled" and got["LastProcessingResult"] == "OK"
    lam.delete_event_source_mapping(UUID=m["UUID"])


def test_latest_starts_after_existing_records(fns, lam, ddb, s3, bucket):
    name, stream = stream_table(ddb, view="KEYS_ONLY")
    ddb.put_item(TableName=name, Item={"id": {"N": "1"}})
    fn = fns.create(handler="index.handler", code=zip_bytes({"index.py": RECORDER}),
                    Environment={"Variables": {"BUCKET": bucket}}, Timeout=30)["FunctionName"]
    m = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn, StartingPosition="LATEST")
    assert m["BatchSize"] == 100
    ddb.put_item(TableName=name, Item={"id": {"N": "2"}})
    records = batches(s3, bucket, 1)
    assert [r["dynamodb"]["Keys"] for r in records] == [{"id": {"N": "2"}}]
    assert "NewImage" not in records[0]["dynamodb"]
    lam.delete_event_source_mapping(UUID=m["UUID"])


POISONED = """
import json, os, boto3
s3 = boto3.client("s3")

def handler(event, context):
    if any("poison" in (r["dynamodb"].get("NewImage") or {}) for r in event["Records"]):
        raise Exception("poisoned batch")
    first = event["Records"][0]["dynamodb"]["SequenceNumber"]
    s3.put_object(Bucket=os.environ["BUCKET"], Key="batch-" + first, Body=json.dumps(event).encode())
"""


def test_batch_passed_over_is_sent_to_on_failure_destination(endpoint, fns, lam, ddb, s3, bucket):
    sqs = make_client(endpoint, "sqs")
    queue = sqs.create_queue(QueueName="esm-failures-" + uuid.uuid4().hex[:6])["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name, stream = stream_table(ddb, view="NEW_IMAGE")
    fn = fns.create(handler="index.handler", code=zip_bytes({"index.py": POISONED}),
                    Environment={"Variables": {"BUCKET": bucket}}, Timeout=30)
    m = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName=fn["FunctionName"], StartingPosition="TRIM_HORIZON",
                                        MaximumRetryAttempts=1, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    ddb.put_item(TableName=name, Item={"id": {"N": "1"}, "poison": {"BOOL": True}})
    deadline, got = time.time() + 60, []
    while not got and time.time() < deadline:
        got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2).get("Messages", [])
    assert got, "no record reached the OnFailure queue"
    record = json.loads(got[0]["Body"])
    assert record["version"] == "1.0" and record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["functionArn"] == fn["FunctionArn"]
    assert record["requestContext"]["approximateInvokeCount"] == 2  # the first try and one retry
    info = record["DDBStreamBatchInfo"]
    assert info["streamArn"] == stream and info["batchSize"] == 1 and info["shardId"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    # The shard moved past the poisoned batch: the next change is delivered.
    ddb.put_item(TableName=name, Item={"id": {"N": "2"}})
    assert [r["dynamodb"]["Keys"] for r in batches(s3, bucket, 1)] == [{"id": {"N": "2"}}]
    lam.delete_event_source_mapping(UUID=m["UUID"])


SAM = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Bucket: {Type: String}
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: N}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Recorder:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: %s
      Handler: index.handler
      Timeout: 30
      Environment: {Variables: {BUCKET: !Ref Bucket}}
      InlineCode: |
%s
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Items.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
Outputs:
  Table: {Value: !Ref Items}
"""


def test_sam_dynamodb_event(endpoint, lam, ddb, s3, bucket):
    cfn = make_client(endpoint, "cloudformation")
    stack = "esmsam-" + uuid.uuid4().hex[:8]
    code = "\n".join("        " + line for line in RECORDER.strip().splitlines())
    cfn.create_stack(StackName=stack, TemplateBody=SAM % (host_python_runtime(), code),
                     Parameters=[{"ParameterKey": "Bucket", "ParameterValue": bucket}],
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 90})
    table = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}["Table"]
    for i in range(3):
        ddb.put_item(TableName=table, Item={"id": {"N": str(i)}})
    records = batches(s3, bucket, 3)
    assert [r["dynamodb"]["NewImage"] for r in records] == [{"id": {"N": str(i)}} for i in range(3)]
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 90})


def test_position_survives_kill9():
    """The mapping's position is in lambda.sqlite: after kill -9 and a start on the same folder, delivery resumes
    after the last batch done, with nothing delivered twice."""
    server = Server().start()
    try:
        ddb, s3 = make_client(server.endpoint, "dynamodb"), make_client(server.endpoint)
        lam = make_client(server.endpoint, "lambda", read_timeout=120)
        bucket = "esm-restart-" + uuid.uuid4().hex[:8]
        s3.create_bucket(Bucket=bucket)
        name, stream = stream_table(ddb, view="KEYS_ONLY")
        lam.create_function(FunctionName="esm-restart", Runtime=host_python_runtime(), Role=LAMBDA_ROLE, Handler="index.handler",
                            Code={"ZipFile": zip_bytes({"index.py": RECORDER})}, Environment={"Variables": {"BUCKET": bucket}},
                            Timeout=30)
        m = lam.create_event_source_mapping(EventSourceArn=stream, FunctionName="esm-restart", StartingPosition="TRIM_HORIZON")
        for i in range(3):
            ddb.put_item(TableName=name, Item={"id": {"N": str(i)}})
        assert len(batches(s3, bucket, 3)) == 3
        deadline = time.time() + 30
        while lam.get_event_source_mapping(UUID=m["UUID"]).get("LastProcessingResult") != "OK" and time.time() < deadline:
            time.sleep(0.2)
        server.kill9()
        server.start()
        for i in range(3, 5):
            ddb.put_item(TableName=name, Item={"id": {"N": str(i)}})
        records = batches(s3, bucket, 5)
        assert [int(r["dynamodb"]["Keys"]["id"]["N"]) for r in records] == [0, 1, 2, 3, 4]
        lam.delete_function(FunctionName="esm-restart")
    finally:
        server.stop()
