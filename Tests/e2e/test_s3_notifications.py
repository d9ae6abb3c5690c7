"""S3 event notifications to SQS, driven by boto3: PutBucketNotificationConfiguration and
GetBucketNotificationConfiguration (round trip, Id generation, filter rule names, clearing), the errors S3
answers (unparsable ARNs, missing destinations with numbered ArgumentName/ArgumentValue, unsupported events,
filter rules, overlapping configurations, x-amz-skip-destination-validation), the s3:TestEvent, and the event
messages for PutObject, PostObject, CopyObject, CompleteMultipartUpload, DeleteObject and DeleteObjects, with
prefix/suffix filters, versioned buckets, queue delays, long polls and a restart.

Expected behaviour is real AWS as documented in the S3 User Guide ("Event message structure", "Configuring
event notifications using object key name filtering") and observed in captured messages: events are compact
JSON with the keys in AWS's order, keys URL-encoded as HTML forms encode them (space as '+'), eTags without
quotes, no size or eTag on removals, and SQS reports S3 as SenderId AIDAJHIPRHEMV73VRJEBU.

AWS delivers events asynchronously (usually within seconds); Cloudless delivers them before the S3 answer.
The tests wait with long polls, so they hold for both."""
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import make_client, purge_bucket, raw_request, tool_env
from server import Server

S3_SENDER_ID = "AIDAJHIPRHEMV73VRJEBU"
RECORD_KEYS = ["eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
               "requestParameters", "responseElements", "s3"]
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# --- fixtures and helpers -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


@pytest.fixture
def make_queue(sqs):
    """make_queue(name_suffix="", **attributes) -> (url, arn); deleted afterwards."""
    urls = []

    def make(suffix="", **attributes):
        name = "e2e-notify-" + uuid.uuid4().hex[:12] + suffix
        url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
        urls.append(url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn
    yield make
    for url in urls:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


@pytest.fixture
def queue(make_queue):
    return make_queue()


def configure(s3, bucket, arn, events=("s3:ObjectCreated:*", "s3:ObjectRemoved:*"), rules=None, config_id="cfg", **kw):
    qc = {"Id": config_id, "QueueArn": arn, "Events": list(events)}
    if rules:
        qc["Filter"] = {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in rules]}}
    return s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [qc]}, **kw)


def receive_bodies(sqs, url, count, timeout=5):
    """Bodies (parsed JSON) of `count` messages, deleted as they come; fails after `timeout` seconds."""
    bodies, deadline = [], time.time() + timeout
    while len(bodies) < count and time.time() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert len(bodies) >= count, f"expected {count} messages, got {bodies}"
    return bodies


def records(sqs, url, count, timeout=5):
    """The event records of `count` messages after the s3:TestEvent (skipped)."""
    out = []
    deadline = time.time() + timeout
    while len(out) < count:
        left = deadline - time.time()
        assert left > 0, f"expected {count} events, got {out}"
        for body in receive_bodies(sqs, url, 1, timeout=left):
            if body.get("Event") == "s3:TestEvent":
                continue
            assert list(body) == ["Records"] and len(body["Records"]) == 1, body
            out.append(body["Records"][0])
    return out


def assert_empty(sqs, url, wait=1):
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])
    assert [m["Body"] for m in msgs] == []


def drain_test_event(sqs, url):
    body = receive_bodies(sqs, url, 1)[0]
    assert body["Event"] == "s3:TestEvent"


def error_of(excinfo):
    return excinfo.value.response["Error"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


# --- configuration ------------------------------------------------------------------------------

def test_get_without_configuration_is_empty(s3, bucket, endpoint):
    resp = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert set(resp) == {"ResponseMetadata"}
    raw = raw_request(endpoint, "GET", f"/{bucket}?notification")
    assert raw.status_code == 200
    assert "<NotificationConfiguration" in raw.text and "QueueConfiguration" not in raw.text


def test_round_trip_with_filters_and_case_insensitive_rule_names(s3, bucket, queue, make_queue):
    _, arn = queue
    _, arn2 = make_queue()
    config = {
        "QueueConfigurations": [
            {"Id": "uploads", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
             "Filter": {"Key": {"FilterRules": [{"Name": "PREFIX", "Value": "in/"}, {"Name": "suffix", "Value": ".csv"}]}}},
            {"Id": "tags", "QueueArn": arn2, "Events": ["s3:ObjectTagging:*"]},
        ],
        "EventBridgeConfiguration": {},
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["QueueConfigurations"] == [
        {"Id": "uploads", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
         "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}, {"Name": "Suffix", "Value": ".csv"}]}}},
        {"Id": "tags", "QueueArn": arn2, "Events": ["s3:ObjectTagging:*"]},
    ]
    assert got["EventBridgeConfiguration"] == {}
    assert "TopicConfigurations" not in got and "LambdaFunctionConfigurations" not in got


def test_missing_id_is_generated(s3, bucket, queue):
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue[1], "Events": ["s3:ObjectCreated:*"]}]})
    cid = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]["Id"]
    # S3's generated ids are base64-encoded UUIDs.
    assert str(uuid.UUID(base64.b64decode(cid).decode())) == base64.b64decode(cid).decode()


def test_empty_configuration_clears(s3, bucket, queue):
    configure(s3, bucket, queue[1])
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert set(s3.get_bucket_notification_configuration(Bucket=bucket)) == {"ResponseMetadata"}


def test_topic_and_lambda_configurations_round_trip_when_validation_is_skipped(s3, bucket, queue):
    topic = "arn:aws:sns:us-east-1:000000000000:e2e-topic"
    fn = "arn:aws:lambda:us-east-1:000000000000:function:e2e-fn"
    config = {
        "TopicConfigurations": [{"Id": "t", "TopicArn": topic, "Events": ["s3:ObjectRemoved:*"]}],
        "QueueConfigurations": [{"Id": "q", "QueueArn": queue[1], "Events": ["s3:ObjectCreated:Put"]}],
        "LambdaFunctionConfigurations": [{"Id": "l", "LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:Copy"]}],
    }
    # Without the header, S3 checks every destination: SNS and Lambda are not served, so they do not exist.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    err, status = error_of(e)
    assert (err["Code"], status) == ("InvalidArgument", 400)
    assert err["Message"] == "Unable to validate the following destination configurations"
    assert {err["ArgumentName1"], err["ArgumentName2"]} == {topic, fn}

    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config, SkipDestinationValidation=True)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["TopicConfigurations"] == config["TopicConfigurations"]
    assert got["QueueConfigurations"] == config["QueueConfigurations"]
    assert got["LambdaFunctionConfigurations"] == config["LambdaFunctionConfigurations"]


def test_configuration_of_missing_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_notification_configuration(Bucket="e2e-missing-" + uuid.uuid4().hex[:12])
    assert error_of(e)[0]["Code"] == "NoSuchBucket"


def test_configuration_survives_bucket_recreation_only_as_empty(s3, queue):
    name = "e2e-" + uuid.uuid4().hex[:20]
    s3.create_bucket(Bucket=name)
    configure(s3, name, queue[1])
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        assert set(s3.get_bucket_notification_configuration(Bucket=name)) == {"ResponseMetadata"}
    finally:
        purge_bucket(s3, name)


@pytest.mark.parametrize("cli", ["v1", "v2"])
def test_aws_cli_round_trip(s3, sqs, bucket, queue, endpoint, tmp_path, cli):
    """The AWS CLI (v1 from pip, v2 from Debian) sets and reads a configuration; the TestEvent follows."""
    url, arn = queue
    path = "/usr/bin/aws" if cli == "v2" else next(
        p for p in (os.path.join(d, "aws") for d in os.environ.get("PATH", "").split(os.pathsep))
        if os.path.isfile(p) and os.path.realpath(p) != os.path.realpath("/usr/bin/aws"))
    (tmp_path / "config").write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "config"),
                   AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true")
    config = {"QueueConfigurations": [{"Id": "cli", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                       "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".log"}]}}}]}

    def aws(*args):
        p = subprocess.run([path, "--endpoint-url", endpoint, "--output", "json", "s3api", *args],
                           capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else None

    aws("put-bucket-notification-configuration", "--bucket", bucket, "--notification-configuration", json.dumps(config))
    got = aws("get-bucket-notification-configuration", "--bucket", bucket)
    assert got["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"] == [{"Name": "Suffix", "Value": ".log"}]
    assert got["QueueConfigurations"][0]["Id"] == "cli"
    drain_test_event(sqs, url)


# --- configuration errors -----------------------------------------------------------------------

@pytest.mark.parametrize("skip", [False, True])
def test_unparsable_arn(s3, bucket, skip):
    with pytest.raises(ClientError) as e:
        configure(s3, bucket, "invalid-queue", SkipDestinationValidation=skip)
    err, status = error_of(e)
    assert (err["Code"], status) == ("InvalidArgument", 400)
    assert err["Message"] == "The ARN could not be parsed"
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("Queue", "invalid-queue")


def test_missing_queues_are_listed_with_numbered_arguments(s3, bucket):
    a = "arn:aws:sqs:us-east-1:000000000000:e2e-missing-" + uuid.uuid4().hex[:8]
    b = a + "-2"
    config = {"QueueConfigurations": [
        {"Id": "a", "QueueArn": a, "Events": ["s3:ObjectCreated:*"]},
        {"Id": "b", "QueueArn": b, "Events": ["s3:ObjectRemoved:*"]},
    ]}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    err, status = error_of(e)
    assert (err["Code"], status) == ("InvalidArgument", 400)
    assert err["Message"] == "Unable to validate the following destination configurations"
    assert (err["ArgumentName1"], err["ArgumentValue1"]) == (a, "The destination queue does not exist")
    assert (err["ArgumentName2"], err["ArgumentValue2"]) == (b, "The destination queue does not exist")
    assert set(s3.get_bucket_notification_configuration(Bucket=bucket)) == {"ResponseMetadata"}

    # x-amz-skip-destination-validation stores it anyway.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config, SkipDestinationValidation=True)
    assert [c["QueueArn"] for c in s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]] == [a, b]


def test_fifo_queue_is_not_a_destination(s3, bucket, make_queue):
    _, arn = make_queue(".fifo", FifoQueue="true")
    with pytest.raises(ClientError) as e:
        configure(s3, bucket, arn)
    assert error_of(e)[0]["Message"] == "Unable to validate the following destination configurations"


@pytest.mark.parametrize("event", ["s3:ObjectCreated", "ObjectCreated:Put", "s3:ObjectCreated:Get", "s3:*"])
def test_unsupported_event(s3, bucket, queue, event):
    with pytest.raises(ClientError) as e:
        configure(s3, bucket, queue[1], events=[event])
    err, status = error_of(e)
    assert (err["Code"], status, err["Message"]) == ("InvalidArgument", 400, "The event is not supported for notifications")


def test_invalid_filter_rule_name(s3, bucket, queue):
    with pytest.raises(ClientError) as e:
        configure(s3, bucket, queue[1], rules=[("INVALID", "does not matter")])
    err, status = error_of(e)
    assert (err["Code"], status) == ("InvalidArgument", 400)
    assert err["Message"] == "filter rule name must be either prefix or suffix"
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("FilterRule.Name", "INVALID")


def test_destination_in_another_region(s3, bucket):
    with pytest.raises(ClientError) as e:
        configure(s3, bucket, "arn:aws:sqs:eu-west-1:000000000000:elsewhere", SkipDestinationValidation=True)
    err, _ = error_of(e)
    assert err["Message"] == "The notification destination service region is not valid for the bucket location constraint"


def test_overlapping_configurations(s3, bucket, queue, make_queue):
    _, arn2 = make_queue()

    def put(a, b):
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
            dict(Id="a", QueueArn=queue[1], **a), dict(Id="b", QueueArn=arn2, **b)]})

    def rules(**kw):
        return {"Filter": {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in kw.items()]}}}

    with pytest.raises(ClientError) as e:
        put({"Events": ["s3:ObjectCreated:*"]}, {"Events": ["s3:ObjectCreated:Put"]})
    err, status = error_of(e)
    assert (err["Code"], status) == ("InvalidArgument", 400)
    assert err["Message"] == "Configurations overlap. Configurations on the same bucket cannot share a common event type."
    assert err["ArgumentName"] == "Event"

    with pytest.raises(ClientError) as e:
        put({"Events": ["s3:ObjectCreated:*"], **rules(prefix="images")}, {"Events": ["s3:ObjectCreated:*"], **rules(prefix="images/")})
    assert error_of(e)[0]["Message"] == ("Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules "
                                         "if the prefixes are overlapping for the same event type.")

    # Disjoint prefixes, or disjoint event types, are fine.
    put({"Events": ["s3:ObjectCreated:*"], **rules(prefix="images/")}, {"Events": ["s3:ObjectCreated:*"], **rules(prefix="logs/")})
    put({"Events": ["s3:ObjectCreated:*"]}, {"Events": ["s3:ObjectRemoved:*"]})
    assert len(s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]) == 2


# --- s3:TestEvent -------------------------------------------------------------------------------

def test_test_event_when_configuration_is_set(s3, sqs, bucket, queue):
    url, arn = queue
    before = time.time()
    resp = configure(s3, bucket, arn)
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, AttributeNames=["All"]).get("Messages", [])
    assert len(msgs) == 1
    body = json.loads(msgs[0]["Body"])
    assert list(body) == ["Service", "Event", "Time", "Bucket", "RequestId", "HostId"]
    assert body["Service"] == "Amazon S3"
    assert body["Event"] == "s3:TestEvent"
    assert body["Bucket"] == bucket
    assert body["RequestId"] == resp["ResponseMetadata"]["RequestId"]
    assert body["HostId"] == resp["ResponseMetadata"]["HostId"]
    assert ISO_MS.match(body["Time"])
    assert abs(time.mktime(time.strptime(body["Time"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone - before) < 5
    assert msgs[0]["Body"] == json.dumps(body, separators=(",", ":"))  # compact, as AWS writes it
    assert msgs[0]["Attributes"]["SenderId"] == S3_SENDER_ID


def test_no_test_event_when_validation_is_skipped(s3, sqs, bucket, queue):
    url, arn = queue
    configure(s3, bucket, arn, SkipDestinationValidation=True)
    assert_empty(sqs, url)


# --- object events ------------------------------------------------------------------------------

def test_put_object_event_has_awss_fields(s3, sqs, bucket, queue):
    url, arn = queue
    configure(s3, bucket, arn)
    drain_test_event(sqs, url)
    put = s3.put_object(Bucket=bucket, Key="photos/Happy Face@2x.jpg", Body=b"0123456789")
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, AttributeNames=["All"]).get("Messages", [])
    assert len(msgs) == 1 and msgs[0]["Attributes"]["SenderId"] == S3_SENDER_ID
    assert msgs[0]["Body"] == json.dumps(json.loads(msgs[0]["Body"]), separators=(",", ":"))
    body = json.loads(msgs[0]["Body"])
    assert list(body) == ["Records"]
    rec = body["Records"][0]
    assert list(rec) == RECORD_KEYS
    assert rec["eventVersion"] == "2.1"
    assert rec["eventSource"] == "aws:s3"
    assert rec["awsRegion"] == "us-east-1"
    assert ISO_MS.match(rec["eventTime"])
    assert rec["eventName"] == "ObjectCreated:Put"
    assert rec["userIdentity"] == {"principalId": "AWS:AIDATEST"}
    assert rec["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert rec["responseElements"] == {"x-amz-request-id": put["ResponseMetadata"]["RequestId"],
                                       "x-amz-id-2": put["ResponseMetadata"]["HostId"]}
    s3part = rec["s3"]
    assert list(s3part) == ["s3SchemaVersion", "configurationId", "bucket", "object"]
    assert s3part["s3SchemaVersion"] == "1.0"
    assert s3part["configurationId"] == "cfg"
    assert list(s3part["bucket"]) == ["name", "ownerIdentity", "arn"]
    assert s3part["bucket"]["name"] == bucket
    assert s3part["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert re.match(r"^A[A-Z0-9]{13}$", s3part["bucket"]["ownerIdentity"]["principalId"])
    obj = s3part["object"]
    assert list(obj) == ["key", "size", "eTag", "sequencer"]  # no versionId: the bucket is not versioned
    assert obj["key"] == "photos/Happy+Face%402x.jpg"
    assert obj["size"] == 10
    assert obj["eTag"] == put["ETag"].strip('"')
    assert re.match(r"^[0-9A-F]{18}$", obj["sequencer"])


def test_copy_multipart_post_and_delete_events(s3, sqs, bucket, queue, endpoint):
    url, arn = queue
    configure(s3, bucket, arn)
    drain_test_event(sqs, url)

    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    copy = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})

    mpu = s3.create_multipart_upload(Bucket=bucket, Key="big")
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=mpu["UploadId"], PartNumber=1, Body=b"m" * 100)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=mpu["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})

    form = s3.generate_presigned_post(bucket, "posted.txt")
    posted = requests.post(form["url"], data=form["fields"], files={"file": ("posted.txt", b"form bytes")}, timeout=10)
    assert posted.status_code == 204

    s3.delete_object(Bucket=bucket, Key="src")
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "dst"}, {"Key": "never-existed"}], "Quiet": True})

    # AWS does not promise delivery order: look events up by (event name, key).
    got = {(r["eventName"], r["s3"]["object"]["key"]): r["s3"]["object"] for r in records(sqs, url, 7)}
    order = [("ObjectCreated:Put", "src"), ("ObjectCreated:Copy", "dst"), ("ObjectCreated:CompleteMultipartUpload", "big"),
             ("ObjectCreated:Post", "posted.txt"), ("ObjectRemoved:Delete", "src"), ("ObjectRemoved:Delete", "dst"),
             ("ObjectRemoved:Delete", "never-existed")]  # S3 sends removals whether or not the key existed
    assert sorted(got) == sorted(order)
    objs = [got[k] for k in order]
    assert (objs[1]["size"], objs[1]["eTag"]) == (6, copy["CopyObjectResult"]["ETag"].strip('"'))
    assert (objs[2]["size"], objs[2]["eTag"]) == (100, done["ETag"].strip('"'))
    assert objs[2]["eTag"].endswith("-1")
    assert (objs[3]["size"], objs[3]["eTag"]) == (10, hashlib.md5(b"form bytes").hexdigest())
    for removed in objs[4:]:
        assert list(removed) == ["key", "sequencer"]
    # Sequencers only grow: for one key, the later event sorts after the earlier.
    assert objs[4]["sequencer"] > objs[0]["sequencer"]
    assert objs[5]["sequencer"] > objs[1]["sequencer"]


def test_versioned_bucket_events_carry_version_ids(s3, sqs, queue):
    # A bucket created with Object Lock is versioned.
    name = "e2e-" + uuid.uuid4().hex[:20]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    url, arn = queue
    configure(s3, name, arn)
    drain_test_event(sqs, url)
    put = s3.put_object(Bucket=name, Key="k", Body=b"v1")
    marker = s3.delete_object(Bucket=name, Key="k")
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=name, Key="k", VersionId=marker["VersionId"])
    # One key: its sequencers give the order, whatever the delivery order.
    got = sorted(records(sqs, url, 3), key=lambda r: r["s3"]["object"]["sequencer"])
    assert [r["eventName"] for r in got] == ["ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated", "ObjectRemoved:Delete"]
    assert got[0]["s3"]["object"]["versionId"] == put["VersionId"]
    assert list(got[1]["s3"]["object"]) == ["key", "versionId", "sequencer"]
    assert got[1]["s3"]["object"]["versionId"] == marker["VersionId"]
    assert got[2]["s3"]["object"]["versionId"] == marker["VersionId"]
    s3.delete_object(Bucket=name, Key="k", VersionId=put["VersionId"])
    s3.delete_bucket(Bucket=name)


def test_event_types_and_key_filters_select_events(s3, sqs, bucket, make_queue):
    (copies, copies_arn), (csv, csv_arn) = make_queue(), make_queue()
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
        {"Id": "copies", "QueueArn": copies_arn, "Events": ["s3:ObjectCreated:Copy"]},
        {"Id": "csv", "QueueArn": csv_arn, "Events": ["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"],
         "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in+box/"}, {"Name": "suffix", "Value": ".csv"}]}}},
    ]})
    drain_test_event(sqs, copies)
    drain_test_event(sqs, csv)
    # Filters match the URL-encoded key: a space is written "+".
    for key in ["in box/a.csv", "in box/a.txt", "out/a.csv", "in box/sub/b.csv"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.copy_object(Bucket=bucket, Key="in box/copy.csv", CopySource={"Bucket": bucket, "Key": "out/a.csv"})
    s3.delete_object(Bucket=bucket, Key="out/a.csv")
    s3.delete_object(Bucket=bucket, Key="in box/a.csv")

    got = records(sqs, csv, 3)
    assert sorted((r["eventName"], r["s3"]["object"]["key"], r["s3"]["configurationId"]) for r in got) == [
        ("ObjectCreated:Put", "in+box/a.csv", "csv"), ("ObjectCreated:Put", "in+box/sub/b.csv", "csv"),
        ("ObjectRemoved:Delete", "in+box/a.csv", "csv")]
    assert_empty(sqs, csv)
    got = records(sqs, copies, 1)
    assert [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["configurationId"]) for r in got] == [
        ("ObjectCreated:Copy", "in+box/copy.csv", "copies")]
    assert_empty(sqs, copies)


def test_queue_delay_applies(s3, sqs, bucket, make_queue):
    url, arn = make_queue(DelaySeconds=1)
    configure(s3, bucket, arn, SkipDestinationValidation=True)
    s3.put_object(Bucket=bucket, Key="late", Body=b"x")
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    time.sleep(1.3)
    assert records(sqs, url, 1)[0]["s3"]["object"]["key"] == "late"


def test_event_wakes_a_long_poll(s3, sqs, bucket, queue, endpoint):
    url, arn = queue
    configure(s3, bucket, arn, SkipDestinationValidation=True)
    result = {}

    def poll():
        client = make_client(endpoint, "sqs")
        started = time.time()
        result["msgs"] = client.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
        result["waited"] = time.time() - started
    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    s3.put_object(Bucket=bucket, Key="wake", Body=b"x")
    t.join(15)
    assert len(result["msgs"]) == 1 and result["waited"] < 5


def test_trace_header_becomes_aws_trace_header(s3, sqs, bucket, queue, endpoint):
    url, arn = queue
    configure(s3, bucket, arn, SkipDestinationValidation=True)
    trace = "Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1"
    client = make_client(endpoint)

    def add_trace(request, **kwargs):
        request.headers["X-Amzn-Trace-Id"] = trace
    client.meta.events.register("before-send.s3.PutObject", add_trace)
    client.put_object(Bucket=bucket, Key="traced", Body=b"x")
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"]
    assert msgs[0]["Attributes"]["AWSTraceHeader"] == trace


def test_writes_succeed_when_the_queue_is_gone(s3, sqs, bucket, queue):
    url, arn = queue
    configure(s3, bucket, arn)
    sqs.delete_queue(QueueUrl=url)
    s3.put_object(Bucket=bucket, Key="still-works", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="still-works")
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]["QueueArn"] == arn


# --- durability ---------------------------------------------------------------------------------

def test_configuration_survives_restart():
    """The configuration is in s3.sqlite: kill -9, start again on the same folder, events still flow."""
    server = Server().start()
    data = server.data_dir
    try:
        s3, sqs = make_client(server.endpoint), make_client(server.endpoint, "sqs")
        s3.create_bucket(Bucket="notify-restart")
        url = sqs.create_queue(QueueName="notify-restart")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        configure(s3, "notify-restart", arn, rules=[("suffix", ".txt")])
        before = s3.get_bucket_notification_configuration(Bucket="notify-restart")
        drain_test_event(sqs, url)
        server.kill9()

        server = Server(data_dir=data, port=server.port).start()
        s3, sqs = make_client(server.endpoint), make_client(server.endpoint, "sqs")
        after = s3.get_bucket_notification_configuration(Bucket="notify-restart")
        assert after["QueueConfigurations"] == before["QueueConfigurations"]
        s3.put_object(Bucket="notify-restart", Key="after.txt", Body=b"x")
        s3.put_object(Bucket="notify-restart", Key="after.bin", Body=b"x")
        got = records(sqs, url, 1)
        assert got[0]["s3"]["object"]["key"] == "after.txt"
        assert_empty(sqs, url)
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)
