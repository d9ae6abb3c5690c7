"""DynamoDB's PartiQL as boto3 and the aws CLI v2 send it: ExecuteStatement with parameters, a paged scan, a GSI read,
INSERT/UPDATE/DELETE with their errors and RETURNING, BatchExecuteStatement with a failing entry, ExecuteTransaction
all-or-nothing with its idempotency token, and the stream record a PartiQL write leaves."""
import json
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client, tool_env


@pytest.fixture(scope="module")
def ddb(endpoint):
    return make_client(endpoint, "dynamodb")


def _table(ddb, tag, **kw):
    name = f"e2e-pql-{tag}-{uuid.uuid4().hex[:8]}"
    extra = kw.pop("extra", [])
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}] + extra,
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}], **kw)
    return name


def _error(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


def test_select_with_parameters_paging_and_an_index(ddb):
    name = _table(ddb, "select", extra=[{"AttributeName": "g", "AttributeType": "S"}],
                  GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                           "Projection": {"ProjectionType": "ALL"}}])
    for p in ("a", "b"):
        for sk in range(5):
            ddb.execute_statement(Statement=f'INSERT INTO "{name}" VALUE {{\'pk\': ?, \'sk\': ?, \'g\': ?, \'tags\': <<\'x\', \'y\'>>}}',
                                  Parameters=[{"S": p}, {"N": str(sk)}, {"S": "even" if sk % 2 == 0 else "odd"}])
    got = ddb.execute_statement(Statement=f'SELECT sk, tags FROM "{name}" WHERE pk = ? AND sk BETWEEN ? AND ? ORDER BY sk DESC',
                                Parameters=[{"S": "a"}, {"N": "1"}, {"N": "3"}])["Items"]
    assert [i["sk"]["N"] for i in got] == ["3", "2", "1"]
    assert sorted(got[0]["tags"]["SS"]) == ["x", "y"] and "pk" not in got[0]
    # A scan, 3 items a page, resumed by NextToken until there is none.
    seen, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        page = ddb.execute_statement(Statement=f'SELECT * FROM "{name}" WHERE sk >= 1', Limit=3, **kw)
        seen += [(i["pk"]["S"], i["sk"]["N"]) for i in page["Items"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages >= 3 and sorted(seen) == sorted((p, str(s)) for p in "ab" for s in range(1, 5))
    odd = ddb.execute_statement(Statement=f'SELECT pk, sk FROM "{name}"."by-g" WHERE g = \'odd\' AND pk = \'b\'')["Items"]
    assert sorted(i["sk"]["N"] for i in odd) == ["1", "3"]
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f'SELECT * FROM "{name}" WHERE pk = ? AND sk = ?', Parameters=[{"S": "a"}])
    assert _error(e) == ("ValidationException", "Number of parameters in request and statement don't match.")
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f'SELECT * FROM "{name}" WHERE')
    assert _error(e)[1].startswith("Statement wasn't well formed, can't be processed:")
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement='SELECT * FROM "e2e-pql-missing"')
    assert _error(e) == ("ResourceNotFoundException", "Requested resource not found")
    ddb.delete_table(TableName=name)


def test_insert_update_delete(ddb):
    name = _table(ddb, "write")
    ddb.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': 1, 'n': 1, 'l': [1], 'm': {{'a': 'b'}}}}")
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': 1}}")
    assert _error(e) == ("DuplicateItemException", "Duplicate primary key exists in table")
    out = ddb.execute_statement(Statement=f"UPDATE \"{name}\" SET n = n + 1 SET l = list_append(l, [2]) SET m.a = 'c' "
                                          f"REMOVE gone WHERE pk = 'p' AND sk = 1 RETURNING ALL NEW *")["Items"]
    assert out[0]["n"] == {"N": "2"} and out[0]["l"] == {"L": [{"N": "1"}, {"N": "2"}]} and out[0]["m"] == {"M": {"a": {"S": "c"}}}
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"UPDATE \"{name}\" SET n = 10 WHERE pk = 'p' AND sk = 1 AND n = 1",
                              ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert _error(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert e.value.response["Item"]["n"] == {"N": "2"}
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"UPDATE \"{name}\" SET n = 10 WHERE pk = 'p'")
    assert _error(e) == ("ValidationException", "Where clause does not contain a mandatory equality on all key attributes")
    item = ddb.get_item(TableName=name, Key={"pk": {"S": "p"}, "sk": {"N": "1"}})["Item"]
    assert item["n"] == {"N": "2"}
    old = ddb.execute_statement(Statement=f"DELETE FROM \"{name}\" WHERE pk = 'p' AND sk = 1 RETURNING ALL OLD *")["Items"]
    assert old[0]["n"] == {"N": "2"}
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "p"}, "sk": {"N": "1"}})
    ddb.delete_table(TableName=name)


def test_batch_and_transaction(ddb):
    name = _table(ddb, "batch")
    ddb.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': 1}}")
    r = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': 2}}"},
        {"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': 1}}"},
        {"Statement": f"UPDATE \"{name}\" SET v = ? WHERE pk = 'p' AND sk = 1", "Parameters": [{"S": "x"}]},
    ])["Responses"]
    assert "Error" not in r[0] and r[1]["Error"]["Code"] == "DuplicateItem" and "Error" not in r[2]
    reads = ddb.batch_execute_statement(Statements=[
        {"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'p' AND sk = 1"},
        {"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'p' AND sk = 2"},
        {"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'p' AND sk = 3"},
    ])["Responses"]
    assert reads[0]["Item"]["v"] == {"S": "x"} and reads[1]["Item"]["sk"] == {"N": "2"} and "Item" not in reads[2]
    # A transaction whose second statement fails writes nothing at all.
    statements = [{"Statement": f"INSERT INTO \"{name}\" VALUE {{'pk': 't', 'sk': 1}}"},
                  {"Statement": f"UPDATE \"{name}\" SET v = 'y' WHERE pk = 'p' AND sk = 1 AND v = 'nope'"},
                  {"Statement": f"DELETE FROM \"{name}\" WHERE pk = 'p' AND sk = 2"}]
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=statements)
    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [c["Code"] for c in e.value.response["CancellationReasons"]] == ["None", "ConditionalCheckFailed", "None"]
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "t"}, "sk": {"N": "1"}})
    assert "Item" in ddb.get_item(TableName=name, Key={"pk": {"S": "p"}, "sk": {"N": "2"}})
    statements[1] = {"Statement": f"UPDATE \"{name}\" SET v = 'y' WHERE pk = 'p' AND sk = 1 AND v = 'x'"}
    token = uuid.uuid4().hex
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
    # The same request again is answered as the first, without running the INSERT twice.
    ddb.execute_transaction(TransactStatements=statements, ClientRequestToken=token)
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=statements[:1], ClientRequestToken=token)
    assert e.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    got = ddb.execute_transaction(TransactStatements=[
        {"Statement": f"SELECT v FROM \"{name}\" WHERE pk = 'p' AND sk = 1"},
        {"Statement": f"SELECT * FROM \"{name}\" WHERE pk = 'p' AND sk = 2"}])["Responses"]
    assert got[0]["Item"] == {"v": {"S": "y"}} and "Item" not in got[1]
    ddb.delete_table(TableName=name)


def test_stream_record_of_a_partiql_write(ddb, endpoint):
    name = _table(ddb, "stream", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    ddb.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': 1, 'v': 1}}")
    ddb.execute_statement(Statement=f"UPDATE \"{name}\" SET v = 2 WHERE pk = 'p' AND sk = 1")
    ddb.execute_statement(Statement=f"DELETE FROM \"{name}\" WHERE pk = 'p' AND sk = 1")
    streams = make_client(endpoint, "dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=it)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert records[1]["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    ddb.delete_table(TableName=name)


def test_aws_cli_v2_execute_statement(ddb, endpoint, tmp_path):
    name = _table(ddb, "cli")
    cfg = tmp_path / "config"
    cfg.write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(cfg), AWS_PAGER="")

    def aws(*args):
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", endpoint, "--output", "json", "dynamodb", *args],
                           capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else None

    ddb.execute_statement(Statement=f"INSERT INTO \"{name}\" VALUE {{'pk': 'c', 'sk': 7, 'who': 'cli'}}")
    # One CLI run (each costs seconds): a parameterised SELECT.
    got = aws("execute-statement", "--statement", f"SELECT * FROM \"{name}\" WHERE pk = ? AND who = ?",
              "--parameters", '[{"S": "c"}, {"S": "cli"}]')
    assert got["Items"] == [{"pk": {"S": "c"}, "sk": {"N": "7"}, "who": {"S": "cli"}}]
    ddb.delete_table(TableName=name)
