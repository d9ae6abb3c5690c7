"""DynamoDB as the course and the SDKs use it: boto3's resource API (Key/Attr builders, batch_writer), the client API
for exact errors, the table_exists waiter, paginators, a GSI query, a cancelled transaction, TTL on the emulator's
clock, the aws CLI v2, and kill -9 durability on a server of its own."""
import json
import os
import subprocess
import tempfile
import threading
import urllib.request
import uuid
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config
from botocore.exceptions import ClientError

from helpers import make_client, tool_env
from server import Server


def _resource(endpoint):
    return boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture(scope="module")
def ddb(endpoint):
    return make_client(endpoint, "dynamodb")


@pytest.fixture(scope="module")
def res(endpoint):
    return _resource(endpoint)


def _name(tag):
    return f"e2e-{tag}-{uuid.uuid4().hex[:8]}"


def _table(ddb, name, hash_key="id", range_key=None, extra=(), **kw):
    defs = [{"AttributeName": hash_key, "AttributeType": "S"}]
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        defs.append({"AttributeName": range_key, "AttributeType": "S"})
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    defs += [{"AttributeName": a, "AttributeType": t} for a, t in extra]
    return ddb.create_table(TableName=name, AttributeDefinitions=defs, KeySchema=schema, BillingMode="PAY_PER_REQUEST", **kw)


def _error(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


def test_resource_api_as_the_course_writes_it(ddb, res):
    name = _name("course")
    created = _table(ddb, name)
    assert created["TableDescription"]["TableStatus"] == "CREATING"
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    table = res.Table(name)
    assert table.table_status == "ACTIVE"
    big = Decimal("1234567890123456789012345678.9012345678")  # 38 significant digits
    table.put_item(Item={"id": "1", "title": "first", "price": big, "tags": {"a", "b"}, "meta": {"n": [1, "x", None, True]}})
    item = table.get_item(Key={"id": "1"})["Item"]
    assert item["price"] == big and item["tags"] == {"a", "b"} and item["meta"] == {"n": [Decimal(1), "x", None, True]}
    updated = table.update_item(Key={"id": "1"}, UpdateExpression="SET title = :t ADD visits :one REMOVE tags",
                                ExpressionAttributeValues={":t": "second", ":one": 1}, ReturnValues="ALL_NEW")["Attributes"]
    assert updated["title"] == "second" and updated["visits"] == 1 and "tags" not in updated
    # UpdateItem creates a missing item, as DynamoDB does.
    table.update_item(Key={"id": "2"}, UpdateExpression="SET title = :t", ExpressionAttributeValues={":t": "new"})
    assert table.get_item(Key={"id": "2"}, ProjectionExpression="title")["Item"] == {"title": "new"}
    table.delete_item(Key={"id": "2"})
    assert "Item" not in table.get_item(Key={"id": "2"})
    described = ddb.describe_table(TableName=name)["Table"]
    assert described["ItemCount"] == 1 and described["TableSizeBytes"] > 0
    ddb.delete_table(TableName=name)


def test_query_scan_builders_and_paginators(ddb, res):
    name = _name("query")
    _table(ddb, name, range_key="sk")
    table = res.Table(name)
    with table.batch_writer() as batch:
        for i in range(40):
            batch.put_item(Item={"id": "x", "sk": f"a{i:02d}", "n": i})
        for i in range(5):
            batch.put_item(Item={"id": "x", "sk": f"b{i}", "n": 100 + i})
            batch.put_item(Item={"id": "y", "sk": f"a{i}", "n": i})
    got = table.query(KeyConditionExpression=Key("id").eq("x") & Key("sk").begins_with("a"))
    assert [i["sk"] for i in got["Items"]] == [f"a{i:02d}" for i in range(40)]
    back = table.query(KeyConditionExpression=Key("id").eq("x") & Key("sk").between("a10", "a12"), ScanIndexForward=False)
    assert [i["sk"] for i in back["Items"]] == ["a12", "a11", "a10"]
    filtered = table.scan(FilterExpression=Attr("n").gt(5) & Attr("n").lt(100))
    assert filtered["Count"] == 34 and filtered["ScannedCount"] == 50
    # The filter applies after Limit items are read: Count ≤ ScannedCount, and a key to go on from.
    limited = table.query(KeyConditionExpression=Key("id").eq("x"), FilterExpression=Attr("n").gte(38), Limit=10)
    assert limited["Count"] == 0 and limited["ScannedCount"] == 10 and limited["LastEvaluatedKey"] == {"id": "x", "sk": "a09"}
    assert table.query(KeyConditionExpression=Key("id").eq("x"), Select="COUNT")["Count"] == 45
    pages = list(ddb.get_paginator("query").paginate(TableName=name, KeyConditionExpression="id = :x",
                                                     ExpressionAttributeValues={":x": {"S": "x"}}, PaginationConfig={"PageSize": 7}))
    assert sum(p["Count"] for p in pages) == 45 and len(pages) >= 7
    scanned = [i for p in ddb.get_paginator("scan").paginate(TableName=name, PaginationConfig={"PageSize": 12}) for i in p["Items"]]
    assert len(scanned) == 50
    segments = [i["sk"]["S"] + i["id"]["S"] for s in range(3) for i in ddb.scan(TableName=name, Segment=s, TotalSegments=3)["Items"]]
    assert sorted(segments) == sorted(i["sk"]["S"] + i["id"]["S"] for i in scanned)
    names = [n for p in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1}) for n in p["TableNames"]]
    assert name in names
    ddb.delete_table(TableName=name)


def test_gsi_query_and_projection(ddb, res):
    name = _name("gsi")
    _table(ddb, name, extra=[("email", "S")], GlobalSecondaryIndexes=[
        {"IndexName": "byEmail", "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    table = res.Table(name)
    table.put_item(Item={"id": "u1", "email": "a@x", "name": "Ann"})
    table.put_item(Item={"id": "u2", "name": "No email"})  # not in the sparse index
    got = table.query(IndexName="byEmail", KeyConditionExpression=Key("email").eq("a@x"))
    assert got["Items"] == [{"id": "u1", "email": "a@x"}]
    assert table.scan(IndexName="byEmail")["Count"] == 1
    with pytest.raises(ClientError) as e:
        table.query(IndexName="byEmail", KeyConditionExpression=Key("email").eq("a@x"), Select="ALL_ATTRIBUTES")
    assert _error(e) == ("ValidationException", "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byEmail because its projection type is not ALL")
    with pytest.raises(ClientError) as e:
        table.query(IndexName="nope", KeyConditionExpression=Key("email").eq("a@x"))
    assert _error(e) == ("ValidationException", "The table does not have the specified index: nope")
    ddb.delete_table(TableName=name)


def test_errors_are_aws_texts(ddb):
    name = _name("errors")
    _table(ddb, name)
    with pytest.raises(ClientError) as e:
        _table(ddb, name)
    assert _error(e) == ("ResourceInUseException", f"Table already exists: {name}")
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName="nope-table")
    assert _error(e) == ("ResourceNotFoundException", "Requested resource not found: Table: nope-table not found")
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=name, Key={"id": {"S": "a"}, "x": {"S": "b"}})
    assert _error(e) == ("ValidationException", "The provided key element does not match the schema")
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"id": {"N": "1"}})
    assert _error(e) == ("ValidationException", "One or more parameter values were invalid: Type mismatch for key id expected: S actual: N")
    ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"id": {"S": "a"}}, ConditionExpression="attribute_not_exists(id)",
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert _error(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert e.value.response["Item"] == {"id": {"S": "a"}, "v": {"N": "1"}}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"id": {"S": "b"}, "big": {"S": "x" * (400 * 1024)}})
    assert _error(e) == ("ValidationException", "Item size has exceeded the maximum allowed size")
    capacity = ddb.put_item(TableName=name, Item={"id": {"S": "c"}, "s": {"S": "x" * 1500}}, ReturnConsumedCapacity="TOTAL")
    assert capacity["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 2.0}
    ddb.delete_table(TableName=name)


def test_transaction_cancels_and_is_idempotent(ddb):
    name = _name("tx")
    _table(ddb, name)
    ddb.put_item(TableName=name, Item={"id": {"S": "acct"}, "balance": {"N": "10"}})
    items = [
        {"Put": {"TableName": name, "Item": {"id": {"S": "order"}}}},
        {"Update": {"TableName": name, "Key": {"id": {"S": "acct"}}, "UpdateExpression": "SET balance = balance - :p",
                    "ConditionExpression": "balance >= :p", "ExpressionAttributeValues": {":p": {"N": "50"}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ]
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=items)
    assert _error(e) == ("TransactionCanceledException",
                         "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]")
    reasons = e.value.response["CancellationReasons"]
    assert reasons[0] == {"Code": "None"}
    assert reasons[1]["Code"] == "ConditionalCheckFailed" and reasons[1]["Item"]["balance"] == {"N": "10"}
    assert "Item" not in ddb.get_item(TableName=name, Key={"id": {"S": "order"}})  # nothing half-applied
    items[1]["Update"]["ExpressionAttributeValues"] = {":p": {"N": "4"}}
    ddb.transact_write_items(TransactItems=items, ClientRequestToken="tok-1")
    ddb.transact_write_items(TransactItems=items, ClientRequestToken="tok-1")  # a repeat changes nothing
    assert ddb.get_item(TableName=name, Key={"id": {"S": "acct"}})["Item"]["balance"] == {"N": "6"}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=items[:1], ClientRequestToken="tok-1")
    assert _error(e)[0] == "IdempotentParameterMismatchException"
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[items[0], {"Delete": {"TableName": name, "Key": {"id": {"S": "order"}}}}])
    assert _error(e) == ("ValidationException", "Transaction request cannot include multiple operations on one item")
    got = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": {"id": {"S": "acct"}}}},
                                                {"Get": {"TableName": name, "Key": {"id": {"S": "none"}}}}])
    assert got["Responses"][0]["Item"]["balance"] == {"N": "6"} and got["Responses"][1] == {}
    ddb.delete_table(TableName=name)


def test_stream_records_through_the_streams_client(ddb, endpoint):
    name = _name("stream")
    table = _table(ddb, name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
    streams = make_client(endpoint, "dynamodbstreams")
    ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(TableName=name, Key={"id": {"S": "a"}}, UpdateExpression="SET v = v + :one", ExpressionAttributeValues={":one": {"N": "1"}})
    ddb.delete_item(TableName=name, Key={"id": {"S": "a"}})
    arn = table["LatestStreamArn"]
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [arn]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=it)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["dynamodb"]["OldImage"]["v"] == {"N": "1"} and records[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert records[0]["dynamodb"]["SequenceNumber"] < records[2]["dynamodb"]["SequenceNumber"]
    ddb.delete_table(TableName=name)


def test_legacy_parameters(ddb):
    name = _name("legacy")
    _table(ddb, name, range_key="sk")
    ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "5"}},
                 Expected={"id": {"Exists": False}})
    ddb.update_item(TableName=name, Key={"id": {"S": "a"}, "sk": {"S": "1"}},
                    AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "2"}}})
    got = ddb.query(TableName=name, KeyConditions={"id": {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "EQ"}},
                    QueryFilter={"n": {"AttributeValueList": [{"N": "6"}], "ComparisonOperator": "GT"}}, AttributesToGet=["n"])
    assert got["Items"] == [{"n": {"N": "7"}}]
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=name, Key={"id": {"S": "a"}, "sk": {"S": "1"}}, AttributesToGet=["n"], ProjectionExpression="n")
    assert _error(e) == ("ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
    ddb.delete_table(TableName=name)


@pytest.fixture
def own_server():
    """A server of the test's own: moving its clock must not touch the session's server."""
    s = Server().start()
    yield s
    s.stop()


def test_time_to_live_on_the_emulator_clock(own_server):
    endpoint = own_server.endpoint
    ddb = make_client(endpoint, "dynamodb")
    name = _name("ttl")
    _table(ddb, name)
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    now = int(ddb.describe_table(TableName=name)["Table"]["CreationDateTime"].timestamp())
    ddb.put_item(TableName=name, Item={"id": {"S": "soon"}, "exp": {"N": str(now + 3600)}})
    ddb.put_item(TableName=name, Item={"id": {"S": "later"}, "exp": {"N": str(now + 86400)}})
    req = urllib.request.Request(endpoint + "/_cloudless/clock", data=json.dumps({"advance": 7200}).encode(), method="POST")
    urllib.request.urlopen(req).read()
    for _ in range(50):  # the sweep runs at once when the clock moves
        if ddb.scan(TableName=name)["Count"] == 1:
            break
        threading.Event().wait(0.1)
    assert [i["id"]["S"] for i in ddb.scan(TableName=name)["Items"]] == ["later"]
    ddb.delete_table(TableName=name)


def test_aws_cli_v2(endpoint, tmp_path):
    cfg = tmp_path / "config"
    cfg.write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(cfg), AWS_PAGER="")
    name = _name("cli")

    def aws(*args):
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "--output", "json", "dynamodb", *args],
                           capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else None

    aws("create-table", "--table-name", name, "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "AttributeName=sk,AttributeType=N", "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
        "--billing-mode", "PAY_PER_REQUEST")
    aws("wait", "table-exists", "--table-name", name)
    for sk in ("10", "9", "100"):
        aws("put-item", "--table-name", name, "--item", json.dumps({"pk": {"S": "p"}, "sk": {"N": sk}}))
    assert aws("get-item", "--table-name", name, "--key", '{"pk": {"S": "p"}, "sk": {"N": "9"}}')["Item"]["sk"] == {"N": "9"}
    got = aws("query", "--table-name", name, "--key-condition-expression", "pk = :p", "--expression-attribute-values",
              '{":p": {"S": "p"}}')
    assert [i["sk"]["N"] for i in got["Items"]] == ["9", "10", "100"]
    aws("delete-table", "--table-name", name)


def test_kill9_keeps_acknowledged_writes():
    data_dir = tempfile.mkdtemp(prefix="cloudless-e2e-ddb-")
    srv = Server(data_dir=data_dir).start()
    try:
        ddb = make_client(srv.endpoint, "dynamodb", connect_timeout=3, read_timeout=10)
        _table(ddb, "crash")
        acked, stop = [], threading.Event()

        def writer(w):
            client = make_client(srv.endpoint, "dynamodb", connect_timeout=3, read_timeout=10)
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    if n % 2:
                        keys = [f"w{w}-b{n}-{i}" for i in range(10)]
                        client.batch_write_item(RequestItems={"crash": [{"PutRequest": {"Item": {"id": {"S": k}}}} for k in keys]})
                    else:
                        keys = [f"w{w}-t{n}-{i}" for i in range(4)]
                        client.transact_write_items(TransactItems=[{"Put": {"TableName": "crash", "Item": {"id": {"S": k}}}} for k in keys])
                    acked.append(keys)
                except Exception:
                    return

        threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(3)]
        for t in threads:
            t.start()
        threading.Event().wait(1.5)
        srv.kill9()
        stop.set()
        for t in threads:
            t.join(15)
        srv = Server(data_dir=data_dir).start()
        ddb = make_client(srv.endpoint, "dynamodb")
        stored = {i["id"]["S"] for p in ddb.get_paginator("scan").paginate(TableName="crash") for i in p["Items"]}
        assert acked, "no write was acknowledged before the kill"
        for keys in acked:
            assert set(keys) <= stored
        # A write in flight at the kill is all there or not at all.
        groups = {}
        for k in stored:
            groups.setdefault(k.rsplit("-", 1)[0], set()).add(k)
        for prefix, ks in groups.items():
            assert len(ks) == (10 if "-b" in prefix else 4), prefix
    finally:
        srv.stop()


def test_snapshot_restore_brings_tables_and_items_back(own_server):
    ddb = make_client(own_server.endpoint, "dynamodb")
    _table(ddb, "snap")
    ddb.put_item(TableName="snap", Item={"id": {"S": "kept"}})

    def post(path):
        urllib.request.urlopen(urllib.request.Request(own_server.endpoint + path, data=b"", method="POST")).read()

    post("/_cloudless/snapshots/ddb")
    ddb.put_item(TableName="snap", Item={"id": {"S": "after"}})
    ddb.delete_table(TableName="snap")
    post("/_cloudless/snapshots/ddb/restore")
    assert [i["id"]["S"] for i in ddb.scan(TableName="snap")["Items"]] == ["kept"]
    post("/_cloudless/reset")
    assert ddb.list_tables()["TableNames"] == []
