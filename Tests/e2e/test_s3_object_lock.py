"""S3 Object Lock driven by boto3: Get/PutObjectLockConfiguration (default retention), Put/GetObjectRetention
(GOVERNANCE, COMPLIANCE, bypass), Put/GetObjectLegalHold, x-amz-object-lock-* headers on writes and reads, and
the deletes a lock refuses. Expected answers are AWS's (LocalStack's recorded AWS snapshots)."""
import datetime
import json
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import error, purge_versioned_bucket, raw_request
from test_cli_aws import aws  # noqa: F401  (the CLI fixture, v1 and v2)


def _future(days=1):
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=days)


@pytest.fixture
def advance(endpoint):
    """advance(seconds) moves the server's clock forward; it is moved back after the test (the clock is shared)."""
    moved = []

    def move(seconds):
        requests.post(endpoint + "/_cloudless/clock", json={"advance": seconds}, timeout=5).raise_for_status()
        moved.append(seconds)
    yield move
    requests.post(endpoint + "/_cloudless/clock", json={"advance": -sum(moved)}, timeout=5)


@pytest.fixture
def lock_bucket(s3, endpoint):
    name = "e2e-lock-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield name
    # COMPLIANCE retention cannot be bypassed: clean up with the clock past every retention, then move it back.
    requests.post(endpoint + "/_cloudless/clock", json={"advance": 3 * 86400}, timeout=5)
    purge_versioned_bucket(s3, name, bypass=True)
    requests.post(endpoint + "/_cloudless/clock", json={"advance": -3 * 86400}, timeout=5)


@pytest.fixture
def plain_bucket(s3):
    name = "e2e-nolock-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    yield name
    purge_versioned_bucket(s3, name)


def test_lock_bucket_is_versioned_and_configured(s3, lock_bucket):
    assert s3.get_bucket_versioning(Bucket=lock_bucket)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=lock_bucket)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=lock_bucket, VersioningConfiguration={"Status": "Suspended"})
    assert error(e) == ("InvalidBucketState", 409)
    s3.put_bucket_versioning(Bucket=lock_bucket, VersioningConfiguration={"Status": "Enabled"})


def test_lock_configuration_on_existing_bucket(s3, plain_bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=plain_bucket)
    assert error(e) == ("ObjectLockConfigurationNotFoundError", 404)
    config = {"ObjectLockEnabled": "Enabled"}
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=plain_bucket, ObjectLockConfiguration=config)
    assert error(e) == ("InvalidBucketState", 409)
    assert "Versioning must be 'Enabled'" in e.value.response["Error"]["Message"]
    s3.put_bucket_versioning(Bucket=plain_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=plain_bucket, ObjectLockConfiguration=config)
    assert s3.get_object_lock_configuration(Bucket=plain_bucket)["ObjectLockConfiguration"] == config


@pytest.mark.parametrize("config", [
    {},
    {"Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE"}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "BAD", "Days": 1}}},
    {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}},
])
def test_lock_configuration_malformed(s3, lock_bucket, config):
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration=config)
    assert error(e) == ("MalformedXML", 400)


def test_default_retention_applies_to_new_versions(s3, lock_bucket):
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule})
    got = s3.get_object_lock_configuration(Bucket=lock_bucket)["ObjectLockConfiguration"]
    assert got == {"ObjectLockEnabled": "Enabled", "Rule": rule}
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"data")["VersionId"]
    head = s3.head_object(Bucket=lock_bucket, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    delta = head["ObjectLockRetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(hours=23) < delta <= datetime.timedelta(days=1, minutes=1)
    assert s3.get_object_retention(Bucket=lock_bucket, Key="k", VersionId=v)["Retention"]["Mode"] == "GOVERNANCE"
    # Explicit headers win over the default.
    until = _future(2)
    s3.put_object(Bucket=lock_bucket, Key="k2", Body=b"x", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    head = s3.head_object(Bucket=lock_bucket, Key="k2")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"] == until


@pytest.mark.parametrize("kwargs,argument,message", [
    ({"ObjectLockMode": "GOVERNANCE"}, "x-amz-object-lock-retain-until-date", "must both be supplied"),
    ({"ObjectLockRetainUntilDate": _future()}, "x-amz-object-lock-mode", "must both be supplied"),
    ({"ObjectLockMode": "BAD-VALUE", "ObjectLockRetainUntilDate": _future()}, "x-amz-object-lock-mode", "Unknown wormMode directive."),
    ({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": datetime.datetime(2020, 1, 1)},
     "x-amz-object-lock-retain-until-date", "The retain until date must be in the future!"),
])
def test_put_object_lock_headers_invalid(s3, lock_bucket, kwargs, argument, message):
    for call in (lambda: s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x", **kwargs),
                 lambda: s3.create_multipart_upload(Bucket=lock_bucket, Key="k", **kwargs)):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("InvalidArgument", 400)
        assert e.value.response["Error"]["ArgumentName"] == argument
        assert message in e.value.response["Error"]["Message"]


def test_lock_headers_need_a_lock_bucket_and_an_integrity_header(s3, lock_bucket, plain_bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=plain_bucket, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert error(e) == ("InvalidRequest", 400)
    assert e.value.response["Error"]["Message"] == "Bucket is missing Object Lock Configuration"
    # A PUT with lock parameters must carry Content-MD5 or a checksum (a raw request sends neither).
    r = raw_request(s3.meta.endpoint_url, "PUT", f"/{lock_bucket}/k", body=b"x",
                    headers={"x-amz-object-lock-legal-hold": "ON"})
    assert r.status_code == 400 and b"Content-MD5 OR x-amz-checksum- HTTP header is required" in r.content


def test_retention_governance_and_bypass(s3, lock_bucket):
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object_retention(Bucket=lock_bucket, Key="k")
    assert error(e) == ("NoSuchObjectLockConfiguration", 404)
    until = _future(2)
    r = s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object_retention(Bucket=lock_bucket, Key="k")["Retention"] == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    # Shortening needs the bypass; extending does not.
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _future(1)})
    assert error(e) == ("AccessDenied", 403)
    assert e.value.response["Error"]["Message"] == "Access Denied because object protected by object lock."
    s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _future(1)},
                            BypassGovernanceRetention=True)
    s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _future(2)})
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": datetime.datetime(2020, 1, 1)})
    assert error(e) == ("InvalidArgument", 400)
    assert e.value.response["Error"]["Message"] == "The retain until date must be in the future!"
    for bad in ({"Mode": "GOVERNANCE"}, {"Mode": "BAD-VALUE", "RetainUntilDate": until}):
        with pytest.raises(ClientError) as e:
            s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention=bad, BypassGovernanceRetention=True)
        assert error(e) == ("MalformedXML", 400)
    # Deleting the version: refused, then allowed with the bypass. A delete without version only adds a marker.
    marker = s3.delete_object(Bucket=lock_bucket, Key="k")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=v)
    assert error(e) == ("AccessDenied", 403)
    res = s3.delete_objects(Bucket=lock_bucket, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert [(x["Code"], x["VersionId"]) for x in res["Errors"]] == [("AccessDenied", v)]
    s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    # The delete marker carries no lock: PUT/GET of its retention is 405.
    with pytest.raises(ClientError) as e:
        s3.get_object_retention(Bucket=lock_bucket, Key="k", VersionId=marker["VersionId"])
    assert error(e) == ("MethodNotAllowed", 405)


def test_compliance_cannot_be_bypassed_until_it_ends(s3, lock_bucket, advance):
    until = _future(1)
    v = s3.put_object(Bucket=lock_bucket, Key="c", Body=b"x", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)["VersionId"]
    for call in (lambda: s3.delete_object(Bucket=lock_bucket, Key="c", VersionId=v, BypassGovernanceRetention=True),
                 lambda: s3.put_object_retention(Bucket=lock_bucket, Key="c", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until},
                                                 BypassGovernanceRetention=True)):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("AccessDenied", 403)
    # Retention runs on the emulator's clock.
    advance(2 * 86400)
    assert s3.delete_object(Bucket=lock_bucket, Key="c", VersionId=v)["VersionId"] == v


def test_legal_hold(s3, lock_bucket):
    v = s3.put_object(Bucket=lock_bucket, Key="h", Body=b"x")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object_legal_hold(Bucket=lock_bucket, Key="h")
    assert error(e) == ("NoSuchObjectLockConfiguration", 404)
    s3.put_object_legal_hold(Bucket=lock_bucket, Key="h", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key="h")["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=lock_bucket, Key="h")["ObjectLockLegalHoldStatus"] == "ON"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=lock_bucket, Key="h", VersionId=v, BypassGovernanceRetention=True)
    assert error(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.put_object_legal_hold(Bucket=lock_bucket, Key="h", LegalHold={})
    assert error(e) == ("MalformedXML", 400)
    s3.put_object_legal_hold(Bucket=lock_bucket, Key="h", VersionId=v, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key="h", VersionId=v)["LegalHold"] == {"Status": "OFF"}
    s3.delete_object(Bucket=lock_bucket, Key="h", VersionId=v)
    # Set at upload, by a copy and by a multipart upload.
    s3.put_object(Bucket=lock_bucket, Key="h2", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key="h2")["LegalHold"] == {"Status": "ON"}
    c = s3.copy_object(Bucket=lock_bucket, Key="h3", CopySource={"Bucket": lock_bucket, "Key": "h2"})
    # A copy does not inherit the source's lock.
    assert "ObjectLockLegalHoldStatus" not in s3.head_object(Bucket=lock_bucket, Key="h3", VersionId=c["VersionId"])
    up = s3.create_multipart_upload(Bucket=lock_bucket, Key="h4", ObjectLockLegalHoldStatus="ON")
    part = s3.upload_part(Bucket=lock_bucket, Key="h4", UploadId=up["UploadId"], PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=lock_bucket, Key="h4", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=lock_bucket, Key="h4")["ObjectLockLegalHoldStatus"] == "ON"
    for key in ("h2", "h4"):
        s3.put_object_legal_hold(Bucket=lock_bucket, Key=key, LegalHold={"Status": "OFF"})


def test_operations_on_a_bucket_without_lock(s3, plain_bucket):
    s3.put_object(Bucket=plain_bucket, Key="k", Body=b"x")
    calls = [
        lambda: s3.put_object_retention(Bucket=plain_bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _future()}),
        lambda: s3.get_object_retention(Bucket=plain_bucket, Key="k"),
        lambda: s3.put_object_legal_hold(Bucket=plain_bucket, Key="k", LegalHold={"Status": "ON"}),
        lambda: s3.get_object_legal_hold(Bucket=plain_bucket, Key="k"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("InvalidRequest", 400)
        assert e.value.response["Error"]["Message"] == "Bucket is missing Object Lock Configuration"
    for call in (lambda: s3.delete_object(Bucket=plain_bucket, Key="k", BypassGovernanceRetention=True),
                 lambda: s3.delete_objects(Bucket=plain_bucket, Delete={"Objects": [{"Key": "k"}]}, BypassGovernanceRetention=True)):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("InvalidArgument", 400)
        assert e.value.response["Error"]["ArgumentName"] == "x-amz-bypass-governance-retention"


def test_lock_errors_on_missing_bucket_and_key(s3, lock_bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object_legal_hold(Bucket="e2e-missing-" + uuid.uuid4().hex[:8], Key="k", LegalHold={"Status": "ON"})
    assert error(e) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=lock_bucket, Key="non-existing-key", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": _future()})
    assert error(e) == ("NoSuchKey", 404)


# --- the AWS CLI (v1 and v2) ---------------------------------------------------------------------

def test_cli_object_lock(aws, s3, lock_bucket):
    until = _future(1).strftime("%Y-%m-%dT%H:%M:%SZ")
    aws("s3api", "put-object-lock-configuration", "--bucket", lock_bucket, "--object-lock-configuration",
        json.dumps({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}))
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x")["VersionId"]
    assert s3.head_object(Bucket=lock_bucket, Key="k")["ObjectLockMode"] == "GOVERNANCE"
    aws("s3api", "put-object-retention", "--bucket", lock_bucket, "--key", "k", "--version-id", v,
        "--retention", json.dumps({"Mode": "COMPLIANCE", "RetainUntilDate": until}), "--bypass-governance-retention")
    out = json.loads(aws("s3api", "get-object-retention", "--bucket", lock_bucket, "--key", "k").stdout)
    assert out["Retention"]["Mode"] == "COMPLIANCE" and out["Retention"]["RetainUntilDate"].startswith(until[:19])
