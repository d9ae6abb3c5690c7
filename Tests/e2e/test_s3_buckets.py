"""S3 bucket operations driven by boto3: CreateBucket, HeadBucket, DeleteBucket, ListBuckets,
GetBucketLocation. Expected behaviour is real AWS S3 (service model + AWS documentation)."""
import datetime
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from helpers import error, make_client, raw_request


def new_name(prefix="e2e-b-"):
    return prefix + uuid.uuid4().hex[:20]


@pytest.fixture
def cleanup(s3):
    """Buckets created directly by a test (not via the `bucket` fixture); deleted afterwards."""
    created = []
    yield created
    for client, name in created:
        try:
            for o in client.list_objects_v2(Bucket=name).get("Contents", []):
                client.delete_object(Bucket=name, Key=o["Key"])
            client.delete_bucket(Bucket=name)
        except ClientError:
            pass


# --- CreateBucket -------------------------------------------------------------------------------

def test_create_bucket_in_us_east_1_returns_location_path(s3, cleanup):
    name = new_name()
    resp = s3.create_bucket(Bucket=name)
    cleanup.append((s3, name))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["Location"] == f"/{name}"


def test_create_bucket_with_location_constraint_records_region(endpoint, cleanup):
    eu = make_client(endpoint, region="eu-west-1")
    name = new_name()
    eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    cleanup.append((eu, name))
    assert eu.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    head = eu.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "eu-west-1"


def test_get_bucket_location_of_us_east_1_bucket_is_null(s3, bucket):
    resp = s3.get_bucket_location(Bucket=bucket)
    assert resp["LocationConstraint"] is None


def test_get_bucket_location_raw_xml_is_empty_location_constraint(endpoint, bucket):
    r = raw_request(endpoint, "GET", f"/{bucket}?location")
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.tag.endswith("LocationConstraint")
    assert (root.text or "") == ""


def test_create_bucket_with_explicit_us_east_1_constraint_is_invalid_location_constraint(s3):
    # AWS: us-east-1 is the default and may not be named explicitly.
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=new_name(), CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error(e) == ("InvalidLocationConstraint", 400)


def test_create_bucket_with_canned_acl_private_is_accepted(s3, cleanup):
    name = new_name()
    resp = s3.create_bucket(Bucket=name, ACL="private")
    cleanup.append((s3, name))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.head_bucket(Bucket=name)


def test_recreate_own_bucket_in_us_east_1_succeeds_and_keeps_objects(s3, bucket):
    # AWS (legacy behaviour of North Virginia): re-creating your own bucket returns 200 OK.
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    resp = s3.create_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"x"


def test_recreate_own_bucket_outside_us_east_1_is_bucket_already_owned_by_you(endpoint, cleanup):
    eu = make_client(endpoint, region="eu-west-1")
    name = new_name()
    eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    cleanup.append((eu, name))
    with pytest.raises(ClientError) as e:
        eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error(e) == ("BucketAlreadyOwnedByYou", 409)
    assert e.value.response["Error"]["BucketName"] == name


def test_create_bucket_owned_by_another_account_is_bucket_already_exists(endpoint, bucket):
    # A 12-digit access key id stands for another account. moto differs: it maps every key to one account.
    other = make_client(endpoint, access_key="111111111111")
    with pytest.raises(ClientError) as e:
        other.create_bucket(Bucket=bucket)
    assert error(e) == ("BucketAlreadyExists", 409)


INVALID_NAMES = [
    "UPPERCASE-bucket-name",
    "ab",
    "a" * 64,
    "under_score-bucket",
    "-leading-dash",
    "trailing-dash-",
    "double..dots",
    "192.168.5.4",
    "xn--punycode-prefix",
    "sthree-reserved-prefix",
    "reserved-suffix-s3alias",
    "reserved-suffix--ol-s3",
]


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_create_bucket_with_invalid_name_is_invalid_bucket_name(s3, name):
    # moto differs: it accepts most of these names, and its InvalidBucketName has no BucketName.
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as exc:
        r = exc.response
        assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("InvalidBucketName", 400)
        assert r["Error"]["BucketName"] == name
    else:
        s3.delete_bucket(Bucket=name)  # do not leave the wrongly accepted bucket behind
        pytest.fail(f"invalid bucket name {name!r} was accepted")


def test_create_bucket_with_dots_digits_and_max_length_is_accepted(s3, cleanup):
    dotted = "e2e." + uuid.uuid4().hex[:8] + ".1-2"
    longest = ("e2e-" + uuid.uuid4().hex * 2)[:63]
    for name in (dotted, longest):
        s3.create_bucket(Bucket=name)
        cleanup.append((s3, name))
        s3.head_bucket(Bucket=name)


# --- HeadBucket ---------------------------------------------------------------------------------

def test_head_bucket_returns_region_header(s3, bucket):
    resp = s3.head_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["BucketRegion"] == "us-east-1"
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"


def test_head_bucket_reports_access_point_alias_false(s3, bucket):
    # moto differs: no x-amz-access-point-alias header.
    resp = s3.head_bucket(Bucket=bucket)
    assert resp["AccessPointAlias"] is False


def test_head_missing_bucket_is_404_without_body(s3, endpoint):
    # moto differs: no x-amz-request-id header.
    name = new_name()
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert error(e) == ("404", 404)
    r = raw_request(endpoint, "HEAD", f"/{name}")
    assert r.status_code == 404
    assert r.content == b""
    assert r.headers.get("x-amz-request-id")


# --- DeleteBucket -------------------------------------------------------------------------------

def test_delete_empty_bucket_returns_204_and_bucket_is_gone(s3):
    name = new_name()
    s3.create_bucket(Bucket=name)
    resp = s3.delete_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert error(e) == ("404", 404)


def test_delete_non_empty_bucket_is_bucket_not_empty(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert error(e) == ("BucketNotEmpty", 409)
    assert e.value.response["Error"]["BucketName"] == bucket


def test_delete_bucket_with_only_incomplete_multipart_upload_succeeds(s3):
    # Multipart uploads in progress do not make a bucket "not empty" (AWS aborts them with the bucket).
    name = new_name()
    s3.create_bucket(Bucket=name)
    s3.create_multipart_upload(Bucket=name, Key="pending")
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_missing_bucket_is_no_such_bucket(s3):
    name = new_name()
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert error(e) == ("NoSuchBucket", 404)
    assert e.value.response["Error"]["BucketName"] == name


def test_bucket_name_is_reusable_after_delete(s3):
    name = new_name()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a", Body=b"old")
    s3.delete_object(Bucket=name, Key="a")
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    finally:
        s3.delete_bucket(Bucket=name)


# --- GetBucketLocation errors -------------------------------------------------------------------

def test_get_bucket_location_of_missing_bucket_is_no_such_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_location(Bucket=new_name())
    assert error(e) == ("NoSuchBucket", 404)


# --- ListBuckets --------------------------------------------------------------------------------

def test_list_buckets_includes_new_bucket_with_creation_date_and_owner(s3, bucket):
    resp = s3.list_buckets()
    found = [b for b in resp["Buckets"] if b["Name"] == bucket]
    assert len(found) == 1
    created = found[0]["CreationDate"]
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - created).total_seconds()) < 600
    assert resp["Owner"]["ID"]


def test_list_buckets_is_sorted_by_name(s3, bucket):
    # moto differs: it lists in creation order.
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == sorted(names)


def test_list_buckets_prefix_filters_buckets(s3, cleanup):
    # moto differs: not sorted by name, no BucketRegion.
    prefix = new_name("e2e-pfx-")[:20] + "-"
    names = [prefix + s for s in ("b", "a")]
    for n in names:
        s3.create_bucket(Bucket=n)
        cleanup.append((s3, n))
    resp = s3.list_buckets(Prefix=prefix)
    assert [b["Name"] for b in resp["Buckets"]] == sorted(names)
    assert resp["Prefix"] == prefix
    assert all(b["BucketRegion"] == "us-east-1" for b in resp["Buckets"])


def test_list_buckets_prefix_is_case_sensitive(s3, bucket):
    resp = s3.list_buckets(Prefix=bucket.upper())
    assert resp["Buckets"] == []


def test_list_buckets_max_buckets_paginates_with_continuation_token(s3, cleanup):
    # moto differs: ignores MaxBuckets/ContinuationToken.
    prefix = new_name("e2e-pg-")[:20] + "-"
    names = [prefix + s for s in ("c", "a", "b")]
    for n in names:
        s3.create_bucket(Bucket=n)
        cleanup.append((s3, n))
    seen, token, pages = [], None, 0
    while True:
        kw = {"Prefix": prefix, "MaxBuckets": 1}
        if token:
            kw["ContinuationToken"] = token
        resp = s3.list_buckets(**kw)
        pages += 1
        assert len(resp["Buckets"]) <= 1
        seen += [b["Name"] for b in resp["Buckets"]]
        token = resp.get("ContinuationToken")
        if not token:
            break
        assert pages < 10
    assert seen == sorted(names)


def test_list_buckets_filters_by_bucket_region(endpoint, s3, cleanup):
    # moto differs: no BucketRegion in ListBuckets.
    eu = make_client(endpoint, region="eu-west-1")
    name = new_name()
    eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    cleanup.append((eu, name))
    hit = s3.list_buckets(BucketRegion="eu-west-1", Prefix=name)["Buckets"]
    assert [(b["Name"], b["BucketRegion"]) for b in hit] == [(name, "eu-west-1")]
    assert s3.list_buckets(BucketRegion="us-east-1", Prefix=name)["Buckets"] == []


def test_list_buckets_with_unknown_bucket_region_is_invalid_argument(s3):
    # AWS: InvalidArgument "Argument value eu-east-1 is not a valid AWS Region". moto differs: accepts it.
    with pytest.raises(ClientError) as e:
        s3.list_buckets(BucketRegion="eu-east-1")
    assert error(e) == ("InvalidArgument", 400)


def test_list_buckets_only_shows_buckets_of_the_calling_account(endpoint, bucket):
    # moto differs: maps every access key to one account.
    other = make_client(endpoint, access_key="222222222222")
    assert bucket not in [b["Name"] for b in other.list_buckets()["Buckets"]]


# --- Response envelope --------------------------------------------------------------------------

def test_bucket_responses_carry_request_id_headers(s3, bucket):
    # moto differs: sends x-amzn-requestid instead of x-amz-request-id.
    for resp in (s3.list_buckets(), s3.head_bucket(Bucket=bucket), s3.get_bucket_location(Bucket=bucket)):
        headers = resp["ResponseMetadata"]["HTTPHeaders"]
        assert headers.get("x-amz-request-id")
        assert headers.get("x-amz-id-2")


def test_no_such_bucket_error_xml_has_code_message_bucket_name_and_request_id(endpoint):
    # moto differs: no x-amz-request-id header.
    name = new_name()
    r = raw_request(endpoint, "GET", f"/{name}?list-type=2")
    assert r.status_code == 404
    root = ET.fromstring(r.content)
    assert root.tag == "Error"
    fields = {child.tag: (child.text or "") for child in root}
    assert fields["Code"] == "NoSuchBucket"
    assert fields["Message"] == "The specified bucket does not exist"
    assert fields["BucketName"] == name
    assert fields["RequestId"] == r.headers["x-amz-request-id"]
    assert r.headers.get("x-amz-id-2")
    assert r.headers["Content-Type"].startswith("application/xml")
