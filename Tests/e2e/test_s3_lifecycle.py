"""S3 lifecycle driven by boto3: Put/Get/DeleteBucketLifecycleConfiguration with AWS's validation errors, the
x-amz-expiration header, and the rules carried out by the sweeper at the emulator's clock: the clock is moved
forward (`POST /_cloudless/clock`) and a sweep run at once (`POST /_cloudless/s3/lifecycle/run`).

Runs its own cloudless (the clock is shared by every service of a server), so it needs the binary."""
import datetime
import json
import re
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import error, make_client, purge_versioned_bucket
from server import Server
from test_cli_aws import aws  # noqa: F401  (the CLI fixture, v1 and v2)

DAY = 86400


@pytest.fixture(scope="module")
def server():
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture
def bucket(s3):
    name = "e2e-lc-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    yield name
    purge_versioned_bucket(s3, name)


def advance(endpoint, seconds):
    requests.post(endpoint + "/_cloudless/clock", json={"advance": seconds}, timeout=5).raise_for_status()


def sweep(endpoint):
    r = requests.post(endpoint + "/_cloudless/s3/lifecycle/run", timeout=30)
    r.raise_for_status()
    return r.json()


def rule(rule_id, filter_=None, **actions):
    return {"ID": rule_id, "Status": "Enabled", "Filter": filter_ if filter_ is not None else {}, **actions}


def parse_expiration(header):
    m = re.fullmatch(r'expiry-date="([^"]+)", rule-id="([^"]*)"', header)
    assert m, header
    date = datetime.datetime.strptime(m.group(1), "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=datetime.timezone.utc)
    return date, m.group(2)


def next_midnight_after(t, days):
    t = t + datetime.timedelta(days=days)
    return datetime.datetime(t.year, t.month, t.day, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=1)


# --- configuration -------------------------------------------------------------------------------

def test_lifecycle_crud(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error(e) == ("NoSuchLifecycleConfiguration", 404)
    assert e.value.response["Error"]["BucketName"] == bucket
    rules = [rule("wholebucket", {"Prefix": ""}, Expiration={"Days": 7}),
             rule("uploads", {"Prefix": "tmp/"}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2}),
             rule("old", {"And": {"Prefix": "x", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
                  NoncurrentVersionExpiration={"NoncurrentDays": 3, "NewerNoncurrentVersions": 2})]
    put = s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert put["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == rules and got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules[:1]},
                                          TransitionDefaultMinimumObjectSize="varies_by_storage_class")
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == rules[:1] and got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error(e) == ("NoSuchLifecycleConfiguration", 404)


def test_lifecycle_date_rule_round_trip(s3, bucket):
    date = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule("d", Expiration={"Date": date})]})
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["Expiration"] == {"Date": date}


@pytest.mark.parametrize("bad,code", [
    ({"ID": "no-filter", "Status": "Enabled", "Expiration": {"Days": 7}}, "MalformedXML"),
    (rule("x", NoncurrentVersionExpiration={}), "MalformedXML"),
    (rule("x", {"And": {"Prefix": "test"}, "Prefix": ""}, Expiration={"Days": 7}), "MalformedXML"),
    (rule("x", {"ObjectSizeGreaterThan": 500, "Prefix": ""}, Expiration={"Days": 7}), "MalformedXML"),
    (rule("x", Expiration={"Date": datetime.datetime(2023, 1, 1, 2, 2)}), "InvalidArgument"),
    (rule("x", {"And": {"Tags": [{"Key": "t", "Value": "1"}, {"Key": "t", "Value": "2"}]}}, Expiration={"Days": 1}), "InvalidRequest"),
    (rule("x", Expiration={"Days": 1, "ExpiredObjectDeleteMarker": True}), "MalformedXML"),
    (rule("x", Expiration={"Days": 0}), "InvalidArgument"),
    ({"ID": "x", "Status": "On", "Filter": {}, "Expiration": {"Days": 1}}, "MalformedXML"),
    (rule("x"), "InvalidRequest"),
])
def test_lifecycle_validation(s3, bucket, bad, code):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [bad]})
    assert error(e) == (code, 400)


def test_lifecycle_bad_minimum_object_size(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule("x", Expiration={"Days": 1})]},
                                              TransitionDefaultMinimumObjectSize="value")
    assert error(e) == ("InvalidRequest", 400)
    assert e.value.response["Error"]["Message"] == "Invalid TransitionDefaultMinimumObjectSize found: value"


# --- x-amz-expiration ----------------------------------------------------------------------------

def test_expiration_header_picks_the_matching_rule(s3, bucket):
    rules = [rule("by-prefix", {"Prefix": "testobject"}, Expiration={"Days": 7}),
             rule("big", {"ObjectSizeGreaterThan": 20}, Expiration={"Days": 3}),
             rule("tagged", {"Tag": {"Key": "k", "Value": "v"}}, Expiration={"Days": 7}),
             rule("markers", Expiration={"ExpiredObjectDeleteMarker": True})]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    put = s3.put_object(Bucket=bucket, Key="testobject-1", Body=b"test")
    date, rule_id = parse_expiration(put["Expiration"])
    head = s3.head_object(Bucket=bucket, Key="testobject-1")
    assert parse_expiration(head["Expiration"]) == (date, "by-prefix")
    assert date == next_midnight_after(head["LastModified"], 7)
    assert s3.get_object(Bucket=bucket, Key="testobject-1")["Expiration"] == head["Expiration"]
    # The soonest expiration wins.
    put = s3.put_object(Bucket=bucket, Key="testobject-2", Body=b"a" * 22)
    assert parse_expiration(put["Expiration"])[1] == "big"
    assert parse_expiration(s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="k=v")["Expiration"])[1] == "tagged"
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="t2", Body=b"x", Tagging="k=other")
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="plain", Body=b"x")


def test_expiration_header_only_for_the_current_version_read_as_such(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={
        "Rules": [rule("r", Expiration={"Days": 3}, NoncurrentVersionExpiration={"NoncurrentDays": 1})]})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="k", VersionId=v1)
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="k", VersionId=v2)
    assert parse_expiration(s3.head_object(Bucket=bucket, Key="k")["Expiration"])[1] == "r"


# --- the sweeper ---------------------------------------------------------------------------------

def test_expiration_days_on_unversioned_bucket(s3, endpoint, bucket):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        rule("tmp", {"Prefix": "tmp/"}, Expiration={"Days": 1}),
        rule("small", {"And": {"Prefix": "sized/", "ObjectSizeLessThan": 10}}, Expiration={"Days": 1}),
        rule("tagged", {"And": {"Prefix": "tags/", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
             Expiration={"Days": 1}),
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 1}},
    ]})
    for key, body, tags in [("tmp/a", b"x", ""), ("keep/a", b"x", ""), ("sized/small", b"x", ""), ("sized/big", b"x" * 20, ""),
                            ("tags/both", b"x", "a=1&b=2"), ("tags/one", b"x", "a=1")]:
        s3.put_object(Bucket=bucket, Key=key, Body=body, Tagging=tags)
    assert sweep(endpoint)["expired"] == 0  # nothing is due yet
    advance(endpoint, 2 * DAY + 1)
    assert sweep(endpoint)["expired"] == 3
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {"keep/a", "sized/big", "tags/one"}
    assert "Versions" in s3.list_object_versions(Bucket=bucket, Prefix="keep/")
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=bucket)


def test_expiration_date(s3, endpoint, bucket):
    now = datetime.datetime.fromtimestamp(requests.get(endpoint + "/_cloudless/clock", timeout=5).json()["now"], datetime.timezone.utc)
    date = datetime.datetime(now.year, now.month, now.day, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=2)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule("d", Expiration={"Date": date})]})
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert parse_expiration(put["Expiration"]) == (date, "d")
    advance(endpoint, DAY)
    sweep(endpoint)
    assert s3.head_object(Bucket=bucket, Key="k")
    advance(endpoint, 2 * DAY)
    assert sweep(endpoint)["expired"] == 1
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_versioned_expiration_noncurrent_and_markers(s3, endpoint, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        rule("current", {"Prefix": "cur/"}, Expiration={"Days": 1}),
        rule("noncurrent", {"Prefix": "nc/"}, NoncurrentVersionExpiration={"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}),
        rule("markers", {"Prefix": "dm/"}, Expiration={"ExpiredObjectDeleteMarker": True}),
    ]})
    cur = s3.put_object(Bucket=bucket, Key="cur/a", Body=b"x")["VersionId"]
    nc = [s3.put_object(Bucket=bucket, Key="nc/a", Body=str(i).encode())["VersionId"] for i in range(4)]
    lone = s3.delete_object(Bucket=bucket, Key="dm/lone")["VersionId"]  # a marker with nothing behind it
    s3.put_object(Bucket=bucket, Key="dm/kept", Body=b"x")
    kept_marker = s3.delete_object(Bucket=bucket, Key="dm/kept")["VersionId"]
    advance(endpoint, 2 * DAY + 1)
    result = sweep(endpoint)
    assert result == {"expired": 1, "noncurrentExpired": 2, "deleteMarkersRemoved": 1, "uploadsAborted": 0}
    listing = s3.list_object_versions(Bucket=bucket)
    versions = [(v["Key"], v["VersionId"]) for v in listing["Versions"]]
    markers = {m["Key"]: m for m in listing["DeleteMarkers"]}
    # The current version is hidden behind a new delete marker, not removed.
    assert ("cur/a", cur) in versions and markers["cur/a"]["IsLatest"] is True
    # The newest noncurrent version is kept (NewerNoncurrentVersions 1), older ones go.
    assert [v for k, v in versions if k == "nc/a"] == [nc[3], nc[2]]
    assert "dm/lone" not in markers and markers["dm/kept"]["VersionId"] == kept_marker
    assert lone not in [m["VersionId"] for m in listing["DeleteMarkers"]]


def test_abort_incomplete_multipart_uploads(s3, endpoint, bucket):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        rule("abort", {"Prefix": "up/"}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})]})
    old = s3.create_multipart_upload(Bucket=bucket, Key="up/old")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="up/old", UploadId=old, PartNumber=1, Body=b"p")
    other = s3.create_multipart_upload(Bucket=bucket, Key="other/old")["UploadId"]
    advance(endpoint, 2 * DAY + 1)
    fresh = s3.create_multipart_upload(Bucket=bucket, Key="up/fresh")["UploadId"]
    assert sweep(endpoint)["uploadsAborted"] == 1
    ids = {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])}
    assert ids == {other, fresh}
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="up/old", UploadId=old)
    assert error(e) == ("NoSuchUpload", 404)


def test_locked_versions_survive_noncurrent_expiration(s3, endpoint):
    name = "e2e-lc-lock-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    try:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
            rule("nc", NoncurrentVersionExpiration={"NoncurrentDays": 1})]})
        held = s3.put_object(Bucket=name, Key="k", Body=b"1", ObjectLockLegalHoldStatus="ON")["VersionId"]
        free = s3.put_object(Bucket=name, Key="k", Body=b"2")["VersionId"]
        s3.put_object(Bucket=name, Key="k", Body=b"3")
        advance(endpoint, 2 * DAY + 1)
        assert sweep(endpoint)["noncurrentExpired"] == 1
        ids = [v["VersionId"] for v in s3.list_object_versions(Bucket=name)["Versions"]]
        assert held in ids and free not in ids
        s3.put_object_legal_hold(Bucket=name, Key="k", VersionId=held, LegalHold={"Status": "OFF"})
    finally:
        purge_versioned_bucket(s3, name, bypass=True)


# --- the AWS CLI (v1 and v2) ---------------------------------------------------------------------

def test_cli_lifecycle(aws, s3, bucket):
    config = {"Rules": [rule("cli", {"Prefix": "logs/"}, Expiration={"Days": 30},
                             AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7})]}
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket, "--lifecycle-configuration", json.dumps(config))
    out = json.loads(aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket).stdout)
    assert out["Rules"] == config["Rules"]


def test_lifecycle_actions_publish_lifecycle_expiration_events(s3, endpoint, bucket):
    sqs = make_client(endpoint, "sqs")
    url = sqs.create_queue(QueueName="lc-events-" + uuid.uuid4().hex[:8])["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
        {"Id": "lc", "QueueArn": arn, "Events": ["s3:LifecycleExpiration:*"]}]})
    sqs.purge_queue(QueueUrl=url)  # the s3:TestEvent
    v1 = s3.put_object(Bucket=bucket, Key="doc", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="doc", Body=b"two")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        rule("all", Expiration={"Days": 1}, NoncurrentVersionExpiration={"NoncurrentDays": 1})]})
    advance(endpoint, 2 * DAY + 1)
    assert sweep(endpoint)["expired"] == 1
    records = []
    for _ in range(5):
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            records += json.loads(m["Body"])["Records"]
        if len(records) >= 2:
            break
    events = {(r["eventName"], r["s3"]["object"].get("versionId")) for r in records}
    marker = s3.list_object_versions(Bucket=bucket, Prefix="doc")["DeleteMarkers"][0]["VersionId"]
    assert events == {("LifecycleExpiration:DeleteMarkerCreated", marker), ("LifecycleExpiration:Delete", v1)}
    assert {r["userIdentity"]["principalId"] for r in records} == {"s3.amazonaws.com"}
    sqs.delete_queue(QueueUrl=url)
