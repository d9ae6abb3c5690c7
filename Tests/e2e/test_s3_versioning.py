"""S3 versioning driven by boto3: Put/GetBucketVersioning, version ids on writes, reads and deletes, delete
markers, the null version of suspended buckets, ListObjectVersions (markers, delimiter, pagination against a
model) and DeleteObjects with versions. Expected answers are AWS's (LocalStack's recorded AWS snapshots)."""
import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import error, make_client, purge_versioned_bucket, raw_request
from test_cli_aws import aws  # noqa: F401  (the CLI fixture, v1 and v2)

VERSION_ID = re.compile(r"^[A-Za-z0-9._]{32}$")


def _new_bucket(s3, status=None):
    name = "e2e-v-" + uuid.uuid4().hex[:20]
    s3.create_bucket(Bucket=name)
    if status:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
    return name


@pytest.fixture
def vbucket(s3):
    """A bucket with versioning Enabled, emptied of every version afterwards."""
    name = _new_bucket(s3, "Enabled")
    yield name
    purge_versioned_bucket(s3, name)


@pytest.fixture
def plain_bucket(s3):
    name = _new_bucket(s3)
    yield name
    purge_versioned_bucket(s3, name)


# --- Put/GetBucketVersioning ---------------------------------------------------------------------

def test_bucket_versioning_states(s3, plain_bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=plain_bucket)
    s3.put_bucket_versioning(Bucket=plain_bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=plain_bucket)["Status"] == "Suspended"
    s3.put_bucket_versioning(Bucket=plain_bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    assert s3.get_bucket_versioning(Bucket=plain_bucket)["Status"] == "Enabled"


@pytest.mark.parametrize("config,code", [
    ({"Status": "enabled"}, "MalformedXML"),
    ({"Status": "Disabled"}, "MalformedXML"),
    ({}, "IllegalVersioningConfigurationException"),
])
def test_bucket_versioning_invalid(s3, plain_bucket, config, code):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=plain_bucket, VersioningConfiguration=config)
    assert error(e) == (code, 400)


def test_bucket_versioning_no_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket="e2e-missing-" + uuid.uuid4().hex[:8], VersioningConfiguration={"Status": "Enabled"})
    assert error(e) == ("NoSuchBucket", 404)


# --- versions on writes and reads ----------------------------------------------------------------

def test_put_get_head_by_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"two!")["VersionId"]
    assert VERSION_ID.match(v1) and VERSION_ID.match(v2) and v1 != v2
    latest = s3.get_object(Bucket=vbucket, Key="k")
    assert latest["Body"].read() == b"two!" and latest["VersionId"] == v2
    old = s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert old["Body"].read() == b"one" and old["VersionId"] == v1
    head = s3.head_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert head["ContentLength"] == 3 and head["VersionId"] == v1
    attrs = s3.get_object_attributes(Bucket=vbucket, Key="k", VersionId=v1, ObjectAttributes=["ObjectSize"])
    assert attrs["ObjectSize"] == 3 and attrs["VersionId"] == v1


def test_unknown_and_invalid_version_ids(s3, vbucket, plain_bucket):
    s3.put_object(Bucket=vbucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="A" * 32)
    assert error(e) == ("NoSuchVersion", 404)
    assert e.value.response["Error"]["VersionId"] == "A" * 32
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="not-a-version")
    assert error(e) == ("InvalidArgument", 400)
    assert e.value.response["Error"]["Message"] == "Invalid version id specified"
    # An unversioned bucket knows only the null version.
    s3.put_object(Bucket=plain_bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=plain_bucket, Key="k", VersionId="HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD")
    assert error(e) == ("InvalidArgument", 400)
    assert s3.get_object(Bucket=plain_bucket, Key="k", VersionId="null")["Body"].read() == b"x"


def test_delete_marker_lifecycle(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"data")["VersionId"]
    d = s3.delete_object(Bucket=vbucket, Key="k")
    assert d["DeleteMarker"] is True and VERSION_ID.match(d["VersionId"])
    marker = d["VersionId"]
    # The latest is a delete marker: 404 NoSuchKey, with the marker's headers.
    r = raw_request(s3.meta.endpoint_url, "GET", f"/{vbucket}/k")
    assert r.status_code == 404 and b"<Code>NoSuchKey</Code>" in r.content
    assert r.headers["x-amz-delete-marker"] == "true" and r.headers["x-amz-version-id"] == marker
    # The marker itself, by id: 405 MethodNotAllowed.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert error(e) == ("MethodNotAllowed", 405)
    assert e.value.response["Error"]["ResourceType"] == "DeleteMarker"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert error(e)[1] == 405
    assert "k" not in [o["Key"] for o in s3.list_objects_v2(Bucket=vbucket).get("Contents", [])]
    # Deleting the marker brings the previous version back.
    dd = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert dd["DeleteMarker"] is True and dd["VersionId"] == marker
    assert s3.get_object(Bucket=vbucket, Key="k")["VersionId"] == v1
    # Deleting a version removes it for good.
    assert s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)["VersionId"] == v1
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert error(e) == ("NoSuchVersion", 404)
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=vbucket, Key="k", VersionId="bad-version")
    assert error(e) == ("InvalidArgument", 400)


def test_copy_from_version_and_tagging_by_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="src", Body=b"second")
    c = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert c["CopySourceVersionId"] == v1 and VERSION_ID.match(c["VersionId"])
    assert s3.get_object(Bucket=vbucket, Key="dst")["Body"].read() == b"first"
    t = s3.put_object_tagging(Bucket=vbucket, Key="src", VersionId=v1, Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})
    assert t["VersionId"] == v1
    got = s3.get_object_tagging(Bucket=vbucket, Key="src", VersionId=v1)
    assert got["VersionId"] == v1 and got["TagSet"] == [{"Key": "a", "Value": "1"}]
    assert s3.get_object_tagging(Bucket=vbucket, Key="src")["TagSet"] == []
    assert s3.delete_object_tagging(Bucket=vbucket, Key="src", VersionId=v1)["VersionId"] == v1
    marker = s3.delete_object(Bucket=vbucket, Key="src")["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="dst2", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": marker})
    assert error(e) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=vbucket, Key="src", VersionId=marker, Tagging={"TagSet": []})
    assert error(e) == ("MethodNotAllowed", 405)


def test_multipart_upload_gets_a_version(s3, vbucket):
    up = s3.create_multipart_upload(Bucket=vbucket, Key="mp")
    part = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p" * 10)
    done = s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert VERSION_ID.match(done["VersionId"])
    assert s3.head_object(Bucket=vbucket, Key="mp")["VersionId"] == done["VersionId"]


def test_suspended_versioning_null_version(s3, plain_bucket):
    b = plain_bucket
    s3.put_object(Bucket=b, Key="k", Body=b"pre")  # the null version of an unversioned bucket
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"v1")["VersionId"]
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=b, Key="k", Body=b"s1")["VersionId"] == "null"
    assert s3.put_object(Bucket=b, Key="k", Body=b"s2")["VersionId"] == "null"
    versions = s3.list_object_versions(Bucket=b)["Versions"]
    # The null version was replaced twice: pre and s1 are gone, v1 stays.
    assert [(v["VersionId"], v["IsLatest"], v["Size"]) for v in versions] == [("null", True, 2), (v1, False, 2)]
    d = s3.delete_object(Bucket=b, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    listing = s3.list_object_versions(Bucket=b)
    assert [v["VersionId"] for v in listing["Versions"]] == [v1]
    assert [(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [("null", True)]
    assert s3.get_object(Bucket=b, Key="k", VersionId=v1)["Body"].read() == b"v1"


def test_delete_objects_with_versions(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="a", Body=b"1")["VersionId"]
    res = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a"}, {"Key": "never"}]})
    deleted = {d["Key"]: d for d in res["Deleted"]}
    assert deleted["a"]["DeleteMarker"] is True and "VersionId" not in deleted["a"]
    marker = deleted["a"]["DeleteMarkerVersionId"]
    assert deleted["never"]["DeleteMarker"] is True
    res = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a", "VersionId": marker}]})
    assert res["Deleted"] == [{"Key": "a", "VersionId": marker, "DeleteMarker": True, "DeleteMarkerVersionId": marker}]
    res = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a", "VersionId": "B" * 32}]})
    assert [(x["Code"], x["VersionId"]) for x in res["Errors"]] == [("NoSuchVersion", "B" * 32)]
    res = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a", "VersionId": v1}]})
    assert res["Deleted"] == [{"Key": "a", "VersionId": v1}]
    assert "Versions" not in s3.list_object_versions(Bucket=vbucket, Prefix="a")


def test_delete_versioned_bucket_not_empty(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=vbucket, Key="k")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=vbucket)
    assert error(e) == ("BucketNotEmpty", 409)
    assert e.value.response["Error"]["Message"].endswith("You must delete all versions in the bucket.")


# --- ListObjectVersions --------------------------------------------------------------------------

def test_list_object_versions_shape(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"abc")["VersionId"]
    marker = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    r = s3.list_object_versions(Bucket=vbucket)
    assert r["Name"] == vbucket and r["MaxKeys"] == 1000 and r["IsTruncated"] is False
    assert r["KeyMarker"] == "" and r["VersionIdMarker"] == ""
    (v,) = r["Versions"]
    assert (v["Key"], v["VersionId"], v["IsLatest"], v["Size"], v["StorageClass"]) == ("k", v1, False, 3, "STANDARD")
    assert v["ETag"] == '"900150983cd24fb0d6963f7d28e17f72"' and "ID" in v["Owner"]
    (m,) = r["DeleteMarkers"]
    assert (m["Key"], m["VersionId"], m["IsLatest"]) == ("k", marker, True)


def test_list_object_versions_markers_errors(s3, vbucket):
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket=vbucket, VersionIdMarker="x" * 32)
    assert error(e) == ("InvalidArgument", 400)
    assert e.value.response["Error"]["Message"] == "A version-id marker cannot be specified without a key marker."
    r = raw_request(s3.meta.endpoint_url, "GET", f"/{vbucket}?versions&encoding-type=bad")
    assert r.status_code == 400 and b"Invalid Encoding Method specified in Request" in r.content


def _build_model(s3, bucket):
    """Keys with several versions and delete markers; returns the expected listing as [(key, version id, is marker)]."""
    model = {}
    plan = ["a/1", "a/1", "a/2", "b", "b", "b", "c/x/y", "d%20e", "d%20e", "é"]
    for i, key in enumerate(plan):
        v = s3.put_object(Bucket=bucket, Key=key, Body=b"x" * i)["VersionId"]
        model.setdefault(key, []).insert(0, (key, v, False))
    for key in ["a/1", "b", "é"]:
        v = s3.delete_object(Bucket=bucket, Key=key)["VersionId"]
        model[key].insert(0, (key, v, True))
    s3.put_object(Bucket=bucket, Key="b", Body=b"again")
    model["b"].insert(0, ("b", s3.head_object(Bucket=bucket, Key="b")["VersionId"], False))
    return [e for key in sorted(model, key=lambda k: k.encode()) for e in model[key]]


def _entries(page):
    items = [(v["Key"], v["VersionId"], False) for v in page.get("Versions", [])]
    items += [(m["Key"], m["VersionId"], True) for m in page.get("DeleteMarkers", [])]
    return items


def test_list_object_versions_pagination_matches_model(s3, vbucket):
    expected = _build_model(s3, vbucket)
    order = {e: i for i, e in enumerate(expected)}
    # boto3's paginator (it resumes with NextKeyMarker / NextVersionIdMarker).
    for size in (1, 2, 3, 1000):
        got = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=vbucket, PaginationConfig={"PageSize": size}):
            assert len(_entries(page)) <= size
            got += sorted(_entries(page), key=order.get)
        assert got == expected, size
    # By hand with max-keys 1..3: the markers name the last entry of each page.
    for size in (1, 2, 3):
        got, kw = [], {}
        while True:
            page = s3.list_object_versions(Bucket=vbucket, MaxKeys=size, **kw)
            entries = sorted(_entries(page), key=order.get)
            got += entries
            if not page["IsTruncated"]:
                break
            assert (page["NextKeyMarker"], page["NextVersionIdMarker"]) == entries[-1][:2]
            kw = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
        assert got == expected, size
    # A key marker alone skips every version of that key.
    after_b = s3.list_object_versions(Bucket=vbucket, KeyMarker="b")
    assert sorted(_entries(after_b), key=order.get) == [e for e in expected if e[0].encode() > b"b"]


def test_list_object_versions_prefix_delimiter_encoding(s3, vbucket):
    expected = _build_model(s3, vbucket)
    r = s3.list_object_versions(Bucket=vbucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "c/"]
    assert {e[0] for e in _entries(r)} == {"b", "d%20e", "é"}
    r = s3.list_object_versions(Bucket=vbucket, Prefix="a/", Delimiter="/")
    assert sorted(_entries(r), key=expected.index) == [e for e in expected if e[0].startswith("a/")]
    # Common prefixes count as entries when paginating.
    got, kw = [], {}
    while True:
        page = s3.list_object_versions(Bucket=vbucket, Delimiter="/", MaxKeys=2, **kw)
        got += [p["Prefix"] for p in page.get("CommonPrefixes", [])] + [e[:2] for e in _entries(page)]
        if not page["IsTruncated"]:
            break
        kw = {"KeyMarker": page["NextKeyMarker"]}
        if "NextVersionIdMarker" in page:
            kw["VersionIdMarker"] = page["NextVersionIdMarker"]
    assert got.count("a/") == 1 and got.count("c/") == 1
    assert len(got) == 2 + len([e for e in expected if "/" not in e[0]])
    # encoding-type=url, as the raw document shows it.
    r = raw_request(s3.meta.endpoint_url, "GET", f"/{vbucket}?versions&encoding-type=url&prefix=d")
    assert b"<Key>d%2520e</Key>" in r.content and b"<EncodingType>url</EncodingType>" in r.content


def test_list_object_versions_many_versions_of_one_key(s3, vbucket):
    ids = [s3.put_object(Bucket=vbucket, Key="hot", Body=str(i).encode())["VersionId"] for i in range(120)]
    got = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=vbucket, PaginationConfig={"PageSize": 50}):
        got += [v["VersionId"] for v in page["Versions"]]
    assert got == ids[::-1]
    assert s3.get_object(Bucket=vbucket, Key="hot", VersionId=ids[3])["Body"].read() == b"3"


def test_unversioned_bucket_lists_null_versions(s3, plain_bucket):
    s3.put_object(Bucket=plain_bucket, Key="k", Body=b"x")
    (v,) = s3.list_object_versions(Bucket=plain_bucket)["Versions"]
    assert v["VersionId"] == "null" and v["IsLatest"] is True
    assert "VersionId" not in s3.put_object(Bucket=plain_bucket, Key="k", Body=b"y")


# --- durability ----------------------------------------------------------------------------------

def test_versions_and_markers_survive_kill9():
    from server import Server  # its own local server, restarted (as the other kill -9 tests, whatever E2E_ENDPOINT says)
    srv = Server().start()
    try:
        s3 = make_client(srv.endpoint)
        s3.create_bucket(Bucket="kept")
        s3.put_bucket_versioning(Bucket="kept", VersioningConfiguration={"Status": "Enabled"})
        for i in range(3):
            s3.put_object(Bucket="kept", Key="k", Body=str(i).encode())
        s3.delete_object(Bucket="kept", Key="k")
        s3.put_object(Bucket="kept", Key="other", Body=b"x")
        before = s3.list_object_versions(Bucket="kept")
        srv.kill9()
        srv = Server(data_dir=srv.data_dir, port=srv.port).start()
        s3 = make_client(srv.endpoint)
        after = s3.list_object_versions(Bucket="kept")
        for field in ("Versions", "DeleteMarkers"):
            assert after[field] == before[field]
        assert s3.get_bucket_versioning(Bucket="kept")["Status"] == "Enabled"
        old = [v for v in before["Versions"] if v["Key"] == "k"][-1]
        assert s3.get_object(Bucket="kept", Key="k", VersionId=old["VersionId"])["Body"].read() == b"0"
        with pytest.raises(ClientError) as e:
            s3.get_object(Bucket="kept", Key="k")
        assert error(e) == ("NoSuchKey", 404)
    finally:
        srv.kill9()


# --- the AWS CLI (v1 and v2) ---------------------------------------------------------------------

def test_cli_versioning(aws, s3, plain_bucket, tmp_path):
    b = plain_bucket
    aws("s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled")
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=b, Key="k", Body=b"two")
    marker = s3.delete_object(Bucket=b, Key="k")["VersionId"]
    out = json.loads(aws("s3api", "list-object-versions", "--bucket", b).stdout)
    assert [v["Size"] for v in out["Versions"]] == [3, 3] and out["Versions"][1]["VersionId"] == v1
    assert [(m["VersionId"], m["IsLatest"]) for m in out["DeleteMarkers"]] == [(marker, True)]
    got = json.loads(aws("s3api", "get-object", "--bucket", b, "--key", "k", "--version-id", v1, str(tmp_path / "out")).stdout)
    assert got["VersionId"] == v1 and (tmp_path / "out").read_bytes() == b"one"
    out = json.loads(aws("s3api", "delete-object", "--bucket", b, "--key", "k", "--version-id", marker).stdout)
    assert out == {"DeleteMarker": True, "VersionId": marker}
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"two"
