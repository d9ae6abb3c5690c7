"""CloudWatch Logs through boto3: log groups, streams, retention, PutLogEvents' batch rules, GetLogEvents' tokens,
FilterLogEvents with filter patterns and pagination, tags and metric filters, with AWS's error codes and messages.
Retention is checked by moving the emulator's clock on a server of its own; events survive kill -9; a Lambda
function's output lands in its log group. (The aws CLI v1/v2 and `aws logs tail` are in test_logs_cli.py.)"""
import io
import json
import re
import shutil
import tempfile
import time
import uuid
import zipfile

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import error, error_message, make_client
from server import Server

DAY = 86_400_000
HOUR = 3_600_000


def now_ms():
    return int(time.time() * 1000)


def unique(prefix="/e2e/logs"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def logs(endpoint):
    return make_client(endpoint, "logs")


@pytest.fixture
def group(logs):
    """A fresh log group, deleted afterwards."""
    name = unique()
    logs.create_log_group(logGroupName=name)
    yield name
    try:
        logs.delete_log_group(logGroupName=name)
    except ClientError:
        pass


def put(logs, group, stream, messages, start=None, step=1):
    """Events `messages` in `group`/`stream` (created when missing), `step` ms apart from `start` (now - 1 s)."""
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    start = now_ms() - 1000 if start is None else start
    events = [{"timestamp": start + i * step, "message": m} for i, m in enumerate(messages)]
    out = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    assert "rejectedLogEventsInfo" not in out
    return events


def expect_error(code, message, call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    assert error(e) == (code, 400)
    assert error_message(e) == message


# ---------------------------------------------------------------- groups


def test_create_describe_delete_log_group(logs, account):
    name = unique()
    before = now_ms()
    logs.create_log_group(logGroupName=name, tags={"env": "testing"})
    after = now_ms()
    try:
        expect_error("ResourceAlreadyExistsException", "The specified log group already exists",
                     logs.create_log_group, logGroupName=name)
        [entry] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert before <= entry.pop("creationTime") <= after
        assert entry == {
            "logGroupName": name, "metricFilterCount": 0, "storedBytes": 0, "logGroupClass": "STANDARD",
            "arn": f"arn:aws:logs:us-east-1:{account}:log-group:{name}:*",
            "logGroupArn": f"arn:aws:logs:us-east-1:{account}:log-group:{name}", "deletionProtectionEnabled": False,
        }
        assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"env": "testing"}
    finally:
        logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    expect_error("ResourceNotFoundException", "The specified log group does not exist.", logs.delete_log_group, logGroupName=name)


def test_log_group_names_are_checked(logs):
    expect_error("InvalidParameterException", "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
                 logs.create_log_group, logGroupName="a" * 513)
    expect_error("InvalidParameterException",
                 "1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
                 logs.create_log_group, logGroupName="bad name!")
    # Every allowed character.
    name = unique("/aws/lambda/Fn_1.v2#x")
    logs.create_log_group(logGroupName=name)
    logs.delete_log_group(logGroupName=name)


def test_describe_log_groups_prefix_pattern_and_pages(logs):
    base = unique()
    names = [f"{base}/{c}" for c in "edcba"]
    for n in names:
        logs.create_log_group(logGroupName=n)
    try:
        listed = [g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=base)["logGroups"]]
        assert listed == sorted(names)
        # A name pattern is a case-sensitive substring, and only the identifying fields come back.
        tail = base.rsplit("-", 1)[1]
        found = logs.describe_log_groups(logGroupNamePattern=f"{tail}/c")["logGroups"]
        assert [g["logGroupName"] for g in found] == [f"{base}/c"]
        assert set(found[0]) == {"logGroupName", "creationTime", "arn", "logGroupArn", "logGroupClass", "metricFilterCount"}
        assert logs.describe_log_groups(logGroupNamePattern=f"{tail.upper()}/C")["logGroups"] == []
        expect_error("InvalidParameterException", "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
                     logs.describe_log_groups, logGroupNamePrefix=base, logGroupNamePattern=tail)
        # Pages of two, in name order.
        pages, token = [], None
        while True:
            kw = {"logGroupNamePrefix": base, "limit": 2, **({"nextToken": token} if token else {})}
            page = logs.describe_log_groups(**kw)
            pages.append([g["logGroupName"] for g in page["logGroups"]])
            token = page.get("nextToken")
            if not token:
                break
        assert pages == [sorted(names)[0:2], sorted(names)[2:4], sorted(names)[4:]]
        paginated = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=base, PaginationConfig={"PageSize": 3})
        assert [g["logGroupName"] for p in paginated for g in p["logGroups"]] == sorted(names)
        expect_error("InvalidParameterException",
                     "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: "
                     "Member must have value less than or equal to 50",
                     logs.describe_log_groups, limit=51)
        listed = logs.list_log_groups(logGroupNamePattern=f"^{base}/a|{tail}/e")["logGroups"]
        assert [g["logGroupName"] for g in listed] == [f"{base}/a", f"{base}/e"]
        assert set(listed[0]) == {"logGroupName", "logGroupArn", "logGroupClass"}
    finally:
        for n in names:
            logs.delete_log_group(logGroupName=n)


def test_retention_policies(logs, group):
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 7
    expect_error("InvalidParameterException",
                 "1 validation error detected: Value '4' at 'retentionInDays' failed to satisfy constraint: Member must "
                 "satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, "
                 "2557, 2922, 3288, 3653]",
                 logs.put_retention_policy, logGroupName=group, retentionInDays=4)
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    expect_error("ResourceNotFoundException", "The specified log group does not exist.",
                 logs.put_retention_policy, logGroupName=group + "-missing", retentionInDays=1)


# ---------------------------------------------------------------- streams


def test_log_streams(logs, group, account):
    logs.create_log_stream(logGroupName=group, logStreamName="b-stream")
    expect_error("ResourceAlreadyExistsException", "The specified log stream already exists",
                 logs.create_log_stream, logGroupName=group, logStreamName="b-stream")
    expect_error("ResourceNotFoundException", "The specified log group does not exist.",
                 logs.create_log_stream, logGroupName=group + "-missing", logStreamName="x")
    [s] = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert set(s) == {"logStreamName", "creationTime", "arn", "storedBytes"}
    assert s["arn"] == f"arn:aws:logs:us-east-1:{account}:log-group:{group}:log-stream:b-stream"
    assert s["storedBytes"] == 0

    put(logs, group, "a-stream", ["one", "two"], start=now_ms() - 5000)
    latest = put(logs, group, "c-stream", ["three"])
    by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [x["logStreamName"] for x in by_name] == ["a-stream", "b-stream", "c-stream"]
    c = by_name[2]
    assert c["firstEventTimestamp"] == c["lastEventTimestamp"] == latest[0]["timestamp"]
    assert c["lastIngestionTime"] >= latest[0]["timestamp"]
    assert len(c["uploadSequenceToken"]) == 56
    by_time = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
    assert [x["logStreamName"] for x in by_time] == ["c-stream", "a-stream", "b-stream"]
    assert [x["logStreamName"] for x in logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="a")["logStreams"]] == ["a-stream"]
    expect_error("InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.",
                 logs.describe_log_streams, logGroupName=group, orderBy="LastEventTime", logStreamNamePrefix="a")
    page = logs.describe_log_streams(logGroupName=group, limit=2)
    assert [x["logStreamName"] for x in page["logStreams"]] == ["a-stream", "b-stream"]
    rest = logs.describe_log_streams(logGroupName=group, limit=2, nextToken=page["nextToken"])
    assert [x["logStreamName"] for x in rest["logStreams"]] == ["c-stream"] and "nextToken" not in rest
    # The group by ARN; not by name and ARN at once.
    arn = f"arn:aws:logs:us-east-1:{account}:log-group:{group}"
    assert len(logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]) == 3
    assert len(logs.describe_log_streams(logGroupIdentifier=arn + ":*")["logStreams"]) == 3
    expect_error("ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
                 logs.describe_log_streams, logGroupName=group, logGroupIdentifier=arn)

    logs.delete_log_stream(logGroupName=group, logStreamName="a-stream")
    expect_error("ResourceNotFoundException", "The specified log stream does not exist.",
                 logs.delete_log_stream, logGroupName=group, logStreamName="a-stream")
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]] == ["three"]


# ---------------------------------------------------------------- PutLogEvents


def test_put_log_events_rules(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    expect_error("InvalidParameterException", "Log events in a single PutLogEvents request must be in chronological order.",
                 logs.put_log_events, logGroupName=group, logStreamName="s",
                 logEvents=[{"timestamp": now, "message": "Message 0"}, {"timestamp": now - 2 * DAY, "message": "Message 1"}])
    expect_error("ResourceNotFoundException", "The specified log stream does not exist.",
                 logs.put_log_events, logGroupName=group, logStreamName="missing", logEvents=[{"timestamp": now, "message": "x"}])
    expect_error("ResourceNotFoundException", "The specified log group does not exist.",
                 logs.put_log_events, logGroupName=group + "-missing", logStreamName="s", logEvents=[{"timestamp": now, "message": "x"}])
    expect_error("InvalidParameterException", "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
                 logs.put_log_events, logGroupName=group, logStreamName="s",
                 logEvents=[{"timestamp": now - 2 * DAY, "message": "a"}, {"timestamp": now, "message": "b"}])

    # 15 days old and 3 hours ahead are set aside; the rest is kept. A sequence token is accepted and ignored.
    out = logs.put_log_events(logGroupName=group, logStreamName="s", sequenceToken="whatever", logEvents=[
        {"timestamp": now - 15 * DAY, "message": "too old"},
        {"timestamp": now, "message": "kept 🙀 参よ"},
        {"timestamp": now + 3 * HOUR, "message": "too new"},
    ])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2}
    token = out["nextSequenceToken"]
    assert len(token) == 56 and token.isdigit()
    assert logs.describe_log_streams(logGroupName=group)["logStreams"][0]["uploadSequenceToken"] == token
    assert [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName="s")["events"]] == ["kept 🙀 参よ"]
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] == len("kept 🙀 参よ".encode())
    # Within two hours ahead is fine.
    out = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now + HOUR, "message": "soon"}])
    assert "rejectedLogEventsInfo" not in out and out["nextSequenceToken"] != token


def test_put_log_events_size_limits(logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    big = "x" * 600_000
    expect_error("InvalidParameterException", "Upload too large: 1200052 bytes exceeds limit of 1048576",
                 logs.put_log_events, logGroupName=group, logStreamName="s",
                 logEvents=[{"timestamp": now, "message": big}, {"timestamp": now, "message": big}])
    # 1 MiB less the 26 bytes of overhead is the largest single event.
    largest = "y" * (1_048_576 - 26)
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now, "message": largest}])
    [e] = logs.get_log_events(logGroupName=group, logStreamName="s")["events"]
    assert e["message"] == largest


# ---------------------------------------------------------------- GetLogEvents


def test_get_log_events_tokens(logs, group, account):
    events = put(logs, group, "s", [f"message {i}" for i in range(25)], start=now_ms() - 60_000, step=100)
    messages = [e["message"] for e in events]

    # From the head, forward: 10, 10, 5, then the same token again with nothing new.
    page = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=10)
    got = [e["message"] for e in page["events"]]
    token = page["nextForwardToken"]
    assert token.startswith("f/") and page["nextBackwardToken"].startswith("b/")
    sizes = [len(got)]
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True, limit=10, nextToken=token)
        got += [e["message"] for e in page["events"]]
        sizes.append(len(page["events"]))
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert got == messages
    assert sizes == [10, 10, 5, 0]
    again = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=token)
    assert again["events"] == [] and again["nextForwardToken"] == token
    # New events show up behind the token.
    put(logs, group, "s", ["late"], start=events[-1]["timestamp"] + 1)
    later = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=token)
    assert [e["message"] for e in later["events"]] == ["late"] and later["nextForwardToken"] != token

    # Without a token the newest come first; backward tokens page towards the oldest.
    page = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10)
    assert [e["message"] for e in page["events"]] == messages[16:] + ["late"]
    back = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10, nextToken=page["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == messages[6:16]
    back = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10, nextToken=back["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == messages[:6]
    end = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10, nextToken=back["nextBackwardToken"])
    assert end["events"] == [] and end["nextBackwardToken"] == back["nextBackwardToken"]

    # startTime is inclusive, endTime exclusive; every event carries its ingestion time.
    window = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True,
                                 startTime=events[3]["timestamp"], endTime=events[6]["timestamp"])["events"]
    assert [e["message"] for e in window] == messages[3:6]
    assert all(set(e) == {"timestamp", "message", "ingestionTime"} for e in window)

    arn = f"arn:aws:logs:us-east-1:{account}:log-group:{group}"
    assert len(logs.get_log_events(logGroupIdentifier=arn, logStreamName="s")["events"]) == 26
    expect_error("InvalidParameterException", "The specified nextToken is invalid.",
                 logs.get_log_events, logGroupName=group, logStreamName="s", nextToken="invalid-token")
    expect_error("InvalidParameterException",
                 "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
                 "Member must have value less than or equal to 10000",
                 logs.get_log_events, logGroupName=group, logStreamName="s", limit=10001)
    expect_error("ResourceNotFoundException", "The specified log stream does not exist.",
                 logs.get_log_events, logGroupName=group, logStreamName="missing")
    expect_error("ResourceNotFoundException", "The specified log group does not exist.",
                 logs.get_log_events, logGroupName=group + "-missing", logStreamName="s")


# ---------------------------------------------------------------- FilterLogEvents


def test_filter_log_events_streams_times_and_pages(logs, group):
    start = now_ms() - 60_000
    a = put(logs, group, "app-a", [f"a{i}" for i in range(10)], start=start, step=10)
    b = put(logs, group, "app-b", [f"b{i}" for i in range(10)], start=start + 5, step=10)
    put(logs, group, "other", ["o0"], start=start + 1)

    out = logs.filter_log_events(logGroupName=group)
    # Interleaved across streams by timestamp.
    assert [e["message"] for e in out["events"]] == ["a0", "o0", "b0"] + [x for i in range(1, 10) for x in (f"a{i}", f"b{i}")]
    assert out["searchedLogStreams"] == [] and "nextToken" not in out
    first = out["events"][0]
    assert set(first) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    assert first["logStreamName"] == "app-a" and first["timestamp"] == a[0]["timestamp"]
    assert len({e["eventId"] for e in out["events"]}) == 21

    assert [e["message"] for e in logs.filter_log_events(logGroupName=group, logStreamNames=["app-b"])["events"]] == [f"b{i}" for i in range(10)]
    by_prefix = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="app-")["events"]
    assert {e["logStreamName"] for e in by_prefix} == {"app-a", "app-b"} and len(by_prefix) == 20
    assert logs.filter_log_events(logGroupName=group, logStreamNames=["nope"])["events"] == []
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName=group, logStreamNames=["app-a"], logStreamNamePrefix="app")
    assert error(e) == ("InvalidParameterException", 400)
    # Both ends of the time range are inclusive.
    window = logs.filter_log_events(logGroupName=group, startTime=b[2]["timestamp"], endTime=a[5]["timestamp"])["events"]
    assert [e["message"] for e in window] == ["b2", "a3", "b3", "a4", "b4", "a5"]

    # Pages of 8: 8, 8, 5 and no token on the last.
    pages, token = [], None
    while True:
        page = logs.filter_log_events(logGroupName=group, limit=8, **({"nextToken": token} if token else {}))
        pages.append(len(page["events"]))
        token = page.get("nextToken")
        if not token:
            break
    assert pages == [8, 8, 5]
    paginated = logs.get_paginator("filter_log_events").paginate(logGroupName=group, PaginationConfig={"PageSize": 6})
    assert [e["message"] for p in paginated for e in p["events"]] == [e["message"] for e in out["events"]]

    expect_error("InvalidParameterException", "The specified nextToken is invalid.",
                 logs.filter_log_events, logGroupName=group, nextToken="invalid-token")
    expect_error("InvalidParameterException",
                 "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
                 "Member must have value less than or equal to 10000",
                 logs.filter_log_events, logGroupName=group, limit=10001)
    expect_error("ResourceNotFoundException", "The specified log group does not exist.",
                 logs.filter_log_events, logGroupName=group + "-missing")


TEXT_EVENTS = ["hello", "world", "hello world", "goodbye world", "hello cruela", "goodbye cruel world",
               "[ERROR] disk full", "[WARN] disk slow", "ERRORS are not ERROR-free"]
JSON_EVENTS = [
    {"level": "ERROR", "latency": 250, "user": {"id": 1}, "ok": False, "path": "/api/orders"},
    {"level": "INFO", "latency": 12.5, "user": {"id": 2}, "ok": True, "path": "/api/users"},
    {"level": "WARN", "latency": 100, "user": {"id": 3}, "ok": True, "path": "/health", "retry": None},
]


@pytest.mark.parametrize("pattern, expected", [
    ("hello", ["hello", "hello world", "hello cruela"]),
    ("goodbye world", ["goodbye world", "goodbye cruel world"]),
    ('"hello cruel"', []),
    ('"cruel world"', ["goodbye cruel world"]),
    # Whole terms: `ERROR` is in `[ERROR]`, `ERROR-free` and `"ERROR"`, not in `ERRORS`.
    ("?ERROR ?WARN", ["[ERROR] disk full", "[WARN] disk slow", "ERRORS are not ERROR-free",
                      json.dumps(JSON_EVENTS[0]), json.dumps(JSON_EVENTS[2])]),
    ("disk -slow", ["[ERROR] disk full"]),
    ("ERROR -full", ["ERRORS are not ERROR-free", json.dumps(JSON_EVENTS[0])]),
    ("%cruela?%", ["hello cruela", "goodbye cruel world"]),
    ("", TEXT_EVENTS + [json.dumps(e) for e in JSON_EVENTS]),
    ('{ $.level = "ERROR" }', [json.dumps(JSON_EVENTS[0])]),
    ("{ $.latency >= 100 }", [json.dumps(JSON_EVENTS[0]), json.dumps(JSON_EVENTS[2])]),
    ("{ $.latency < 100 && $.ok IS TRUE }", [json.dumps(JSON_EVENTS[1])]),
    ('{ $.level = "ERROR" || $.user.id = 3 }', [json.dumps(JSON_EVENTS[0]), json.dumps(JSON_EVENTS[2])]),
    ('{ $.path = "/api/*" && $.level != "INFO" }', [json.dumps(JSON_EVENTS[0])]),
    ("{ $.retry IS NULL }", [json.dumps(JSON_EVENTS[2])]),
    ("{ $.retry NOT EXISTS }", [json.dumps(JSON_EVENTS[0]), json.dumps(JSON_EVENTS[1])]),
    ("[level, ..., last = world]", ["hello world", "goodbye world", "goodbye cruel world"]),
])
def test_filter_patterns(logs, group, pattern, expected):
    put(logs, group, "s", TEXT_EVENTS + [json.dumps(e) for e in JSON_EVENTS])
    got = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
    assert [e["message"] for e in got] == expected


def test_bad_filter_patterns_are_refused(logs, group):
    for bad in ['{ $.level = }', '"unclosed', "{ $.latency > high }"]:
        with pytest.raises(ClientError) as e:
            logs.filter_log_events(logGroupName=group, filterPattern=bad)
        assert error(e) == ("InvalidParameterException", 400), bad


# ---------------------------------------------------------------- tags and metric filters


def test_tags_by_name_and_by_arn(logs, account):
    name = unique()
    arn = f"arn:aws:logs:us-east-1:{account}:log-group:{name}"
    logs.create_log_group(logGroupName=name, tags={"env": "testing1"})
    try:
        logs.tag_resource(resourceArn=arn, tags={"test1": "val1", "test2": "val2"})
        assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"env": "testing1", "test1": "val1", "test2": "val2"}
        logs.tag_log_group(logGroupName=name, tags={"test3": "val3", "env": "testing2"})
        assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {
            "env": "testing2", "test1": "val1", "test2": "val2", "test3": "val3"}
        logs.untag_resource(resourceArn=arn, tagKeys=["env", "test1"])
        logs.untag_log_group(logGroupName=name, tags=["test3"])
        assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"test2": "val2"}
        assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"test2": "val2"}
        with pytest.raises(ClientError) as e:
            logs.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
        assert error(e) == ("TooManyTagsException", 400)
    finally:
        logs.delete_log_group(logGroupName=name)
    expect_error("ResourceNotFoundException", "The specified log group does not exist.", logs.list_tags_for_resource, resourceArn=arn)
    expect_error("ResourceNotFoundException", "The specified log group does not exist.", logs.list_tags_log_group, logGroupName=name)


def test_metric_filters(logs, group):
    transformation = {"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", "defaultValue": 0.0}
    logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", metricTransformations=[transformation])
    logs.put_metric_filter(logGroupName=group, filterName="slow", filterPattern="{ $.latency > 100 }",
                           metricTransformations=[{"metricName": "Slow", "metricNamespace": "App", "metricValue": "$.latency"}])
    [f] = logs.describe_metric_filters(logGroupName=group, filterNamePrefix="err")["metricFilters"]
    assert f.pop("creationTime") > 0
    assert f == {"filterName": "errors", "filterPattern": "ERROR", "logGroupName": group, "applyOnTransformedLogs": False,
                 "metricTransformations": [transformation]}
    assert [x["filterName"] for x in logs.describe_metric_filters(logGroupName=group, metricName="Slow", metricNamespace="App")["metricFilters"]] == ["slow"]
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["metricFilterCount"] == 2
    expect_error("InvalidParameterException",
                 "1 validation error detected: Value '[MetricTransformation(metricName=metric1, metricNamespace=namespace1, "
                 "metricValue=1, defaultValue=null, unit=null, dimensions=null), MetricTransformation(metricName=metric2, "
                 "metricNamespace=namespace2, metricValue=1, defaultValue=null, unit=null, dimensions=null)]' at "
                 "'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1",
                 logs.put_metric_filter, logGroupName=group, filterName="two", filterPattern="x", metricTransformations=[
                     {"metricName": "metric1", "metricNamespace": "namespace1", "metricValue": "1"},
                     {"metricName": "metric2", "metricNamespace": "namespace2", "metricValue": "1"}])
    logs.delete_metric_filter(logGroupName=group, filterName="errors")
    assert [x["filterName"] for x in logs.describe_metric_filters(logGroupName=group)["metricFilters"]] == ["slow"]
    tested = logs.test_metric_filter(filterPattern="[ip, user, status = 4*, bytes]",
                                     logEventMessages=["1.2.3.4 ana 404 10", "1.2.3.4 ana 200 10", "short"])["matches"]
    assert tested == [{"eventNumber": 1, "eventMessage": "1.2.3.4 ana 404 10",
                       "extractedValues": {"$ip": "1.2.3.4", "$user": "ana", "$status": "404", "$bytes": "10"}}]


# ---------------------------------------------------------------- retention on the emulator's clock, durability


@pytest.fixture(scope="module")
def own_server():
    data_dir = tempfile.mkdtemp(prefix="cloudless-logs-")
    s = Server(data_dir=data_dir).start()
    yield s
    s.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def test_retention_hides_expired_events_and_frees_their_bytes(own_server):
    logs = make_client(own_server.endpoint, "logs")
    name = unique()
    logs.create_log_group(logGroupName=name)
    now = now_ms()
    put(logs, name, "s", ["kept for now"], start=now)
    logs.put_retention_policy(logGroupName=name, retentionInDays=1)
    # An event older than the retention is set aside as expired.
    out = logs.put_log_events(logGroupName=name, logStreamName="s",
                              logEvents=[{"timestamp": now - 2 * DAY, "message": "expired"}, {"timestamp": now, "message": "b"}])
    assert out["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    assert [e["message"] for e in logs.filter_log_events(logGroupName=name)["events"]] == ["kept for now", "b"]

    requests.post(own_server.endpoint + "/_cloudless/clock", json={"advance": 2 * 86400}, timeout=10).raise_for_status()
    assert logs.get_log_events(logGroupName=name, logStreamName="s")["events"] == []
    assert logs.filter_log_events(logGroupName=name)["events"] == []
    put(logs, name, "s", ["fresh"], start=now + 2 * DAY)
    assert [e["message"] for e in logs.get_log_events(logGroupName=name, logStreamName="s")["events"]] == ["fresh"]
    # The sweep frees the expired events' bytes (it runs every 10 seconds).
    deadline = time.time() + 15
    while logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["storedBytes"] != len("fresh"):
        assert time.time() < deadline, "storedBytes never dropped to the unexpired events"
        time.sleep(0.5)


def test_acknowledged_events_survive_kill_9():
    data_dir = tempfile.mkdtemp(prefix="cloudless-logs-crash-")
    try:
        server = Server(data_dir=data_dir).start()
        logs = make_client(server.endpoint, "logs")
        logs.create_log_group(logGroupName="/crash/app")
        logs.put_retention_policy(logGroupName="/crash/app", retentionInDays=30)
        events = put(logs, "/crash/app", "s", [f"line {i}" for i in range(200)])
        server.kill9()
        server = Server(data_dir=data_dir, port=server.port).start()
        logs = make_client(server.endpoint, "logs")
        got = logs.get_log_events(logGroupName="/crash/app", logStreamName="s", startFromHead=True)["events"]
        assert [(e["timestamp"], e["message"]) for e in got] == [(e["timestamp"], e["message"]) for e in events]
        assert logs.describe_log_groups(logGroupNamePrefix="/crash/app")["logGroups"][0]["retentionInDays"] == 30
        server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def test_lambda_output_lands_in_its_log_group(endpoint, logs):
    lam = make_client(endpoint, "lambda", read_timeout=60)
    name = f"logs-e2e-{uuid.uuid4().hex[:8]}"
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    print('handling', event['n'])\n    return event['n']\n")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/logs-e2e",
                        Handler="app.handler", Code={"ZipFile": code.getvalue()})
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        for n in (1, 2):
            assert lam.invoke(FunctionName=name, Payload=json.dumps({"n": n}))["Payload"].read() == str(n).encode()
        group = f"/aws/lambda/{name}"
        [stream] = logs.describe_log_streams(logGroupName=group)["logStreams"]
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", stream["logStreamName"]), stream["logStreamName"]
        messages = [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"],
                                                              startFromHead=True)["events"]]
        assert [m.split(" ", 1)[0] for m in messages] == ["START", "handling", "END", "REPORT"] * 2
        # Each event ends with its newline, as Lambda writes them.
        assert messages[1] == "handling 1\n" and messages[5] == "handling 2\n"
        assert "Init Duration" in messages[3] and "Init Duration" not in messages[7]
        reports = logs.filter_log_events(logGroupName=group, filterPattern="REPORT")["events"]
        assert [e["message"].split("\t")[0] for e in reports] == [m.split("\t")[0] for m in messages if m.startswith("REPORT")]
    finally:
        lam.delete_function(FunctionName=name)
        try:
            logs.delete_log_group(logGroupName=f"/aws/lambda/{name}")
        except ClientError:
            pass
