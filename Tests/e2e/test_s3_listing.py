"""S3 listing driven by boto3: ListObjects (v1) and ListObjectsV2 with prefixes, delimiters,
pagination, StartAfter, EncodingType=url, FetchOwner; correctness over 10,000+ keys and with keys
holding any UTF-8, spaces, '+', '%', '//' and a leading '/'. Expected behaviour is real AWS S3."""
import http.client
import threading
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote_plus, urlparse

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import error, raw_request

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def utf8_sorted(keys):
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def put_keys(endpoint, bucket, keys, threads=16):
    """Create empty objects fast: SigV4-signed PUTs on one keep-alive connection per thread."""
    host = urlparse(endpoint).netloc
    creds = Credentials("test", "test")
    local = threading.local()

    def put(key):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, timeout=60)
        path = f"/{bucket}/" + quote(key, safe="/~")
        req = AWSRequest(method="PUT", url=endpoint + path, data=b"")
        S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
        headers["Content-Length"] = "0"
        for attempt in range(3):
            try:
                conn.request("PUT", path, body=b"", headers=headers)
                resp = conn.getresponse()
                resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                if attempt == 2:
                    raise
        assert resp.status == 200, (key, resp.status)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, keys))


def put_all(s3, bucket, keys):
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")


def list_v2_all(s3, **kw):
    keys, prefixes, pages = [], [], 0
    token = None
    while True:
        args = dict(kw)
        if token:
            args["ContinuationToken"] = token
        resp = s3.list_objects_v2(**args)
        pages += 1
        keys += [o["Key"] for o in resp.get("Contents", [])]
        prefixes += [p["Prefix"] for p in resp.get("CommonPrefixes", [])]
        assert resp["KeyCount"] == len(resp.get("Contents", [])) + len(resp.get("CommonPrefixes", []))
        if not resp["IsTruncated"]:
            assert "NextContinuationToken" not in resp
            return keys, prefixes, pages
        token = resp["NextContinuationToken"]
        assert pages < 100


# --- ListObjectsV2 basics -----------------------------------------------------------------------

def test_list_v2_of_empty_bucket(s3, bucket):
    resp = s3.list_objects_v2(Bucket=bucket)
    assert resp["KeyCount"] == 0
    assert resp["IsTruncated"] is False
    assert resp["Name"] == bucket
    assert resp["Prefix"] == ""
    assert resp["MaxKeys"] == 1000
    assert "Contents" not in resp


def test_list_v2_orders_keys_by_utf8_bytes(s3, bucket):
    # U+FF21 sorts before U+1F600 in UTF-8 (and code points) but after it in UTF-16.
    keys = ["b", "a", "B", "aa", "a/b", "a-b", "é", "\uff21", "\U0001f600", "~", "0"]
    put_all(s3, bucket, keys)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == utf8_sorted(keys)


def test_list_v2_object_entry_fields(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="f", Body=b"12345")
    entry = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert entry["Key"] == "f"
    assert entry["Size"] == 5
    assert entry["ETag"] == put["ETag"]
    assert entry["StorageClass"] == "STANDARD"
    assert entry["LastModified"] == s3.head_object(Bucket=bucket, Key="f")["LastModified"]
    assert "Owner" not in entry


def test_list_v2_fetch_owner_adds_owner(s3, bucket):
    s3.put_object(Bucket=bucket, Key="f", Body=b"x")
    entry = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    assert entry["Owner"]["ID"]


def test_list_v2_prefix_filters_keys(s3, bucket):
    put_all(s3, bucket, ["logs/1", "logs/2", "logsX", "other/1"])
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="logs/")
    assert [o["Key"] for o in resp["Contents"]] == ["logs/1", "logs/2"]
    assert resp["Prefix"] == "logs/"
    assert resp["KeyCount"] == 2


def test_list_v2_prefix_without_match_is_empty(s3, bucket):
    put_all(s3, bucket, ["a"])
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="zzz")
    assert resp["KeyCount"] == 0 and "Contents" not in resp


def test_list_v2_delimiter_rolls_up_common_prefixes(s3, bucket):
    put_all(s3, bucket, ["a/1", "a/2", "b/1", "c", "d/e/f", "d/g"])
    resp = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["c"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "b/", "d/"]
    assert resp["KeyCount"] == 4
    assert resp["Delimiter"] == "/"


def test_list_v2_prefix_and_delimiter_list_one_level(s3, bucket):
    put_all(s3, bucket, ["d/e/f", "d/e/g", "d/h", "d/i/j", "dx"])
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="d/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["d/h"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["d/e/", "d/i/"]


def test_list_v2_with_multi_character_non_slash_delimiter(s3, bucket):
    put_all(s3, bucket, ["2024--01--x", "2024--02--y", "2025", "plain"])
    resp = s3.list_objects_v2(Bucket=bucket, Delimiter="--")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["2024--"]
    assert [o["Key"] for o in resp["Contents"]] == ["2025", "plain"]


def test_list_v2_max_keys_paginates_with_continuation_token(s3, bucket):
    # moto differs: does not echo ContinuationToken.
    keys = [f"k{i}" for i in range(7)]
    put_all(s3, bucket, keys)
    first = s3.list_objects_v2(Bucket=bucket, MaxKeys=3)
    assert first["IsTruncated"] is True
    assert first["KeyCount"] == 3
    assert first["MaxKeys"] == 3
    token = first["NextContinuationToken"]
    second = s3.list_objects_v2(Bucket=bucket, MaxKeys=3, ContinuationToken=token)
    assert second["ContinuationToken"] == token
    third = s3.list_objects_v2(Bucket=bucket, MaxKeys=3, ContinuationToken=second["NextContinuationToken"])
    assert third["IsTruncated"] is False
    got = [o["Key"] for page in (first, second, third) for o in page["Contents"]]
    assert got == utf8_sorted(keys)


def test_list_v2_max_keys_counts_common_prefixes(s3, bucket):
    put_all(s3, bucket, ["a/1", "a/2", "b/1", "c", "d/1", "e"])
    keys, prefixes, pages = list_v2_all(s3, Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert prefixes == ["a/", "b/", "d/"]
    assert keys == ["c", "e"]
    assert pages == 3


def test_list_v2_start_after_skips_keys(s3, bucket):
    put_all(s3, bucket, ["a", "b", "c", "d"])
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="b")
    assert [o["Key"] for o in resp["Contents"]] == ["c", "d"]
    assert resp["StartAfter"] == "b"


def test_list_v2_start_after_need_not_be_an_existing_key(s3, bucket):
    put_all(s3, bucket, ["a", "b", "c"])
    resp = s3.list_objects_v2(Bucket=bucket, StartAfter="bb")
    assert [o["Key"] for o in resp["Contents"]] == ["c"]


def test_list_v2_invalid_continuation_token_is_invalid_argument(s3, bucket):
    # moto differs: accepts any continuation token.
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket, ContinuationToken="not-a-real-token")
    assert error(e) == ("InvalidArgument", 400)


def test_list_v2_invalid_encoding_type_is_invalid_argument(s3, bucket):
    # moto differs: accepts any encoding-type.
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket, EncodingType="base64")
    assert error(e) == ("InvalidArgument", 400)


def test_list_objects_of_missing_bucket_is_no_such_bucket(s3):
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="e2e-missing-" + uuid.uuid4().hex[:12])
    assert error(e) == ("NoSuchBucket", 404)


# --- Encoding -----------------------------------------------------------------------------------

ODD_KEYS = [
    "with space",
    "plus+sign",
    "percent%2Fliteral",
    "100%",
    "日本語/ключ/😀",
    "double//slash",
    "/leading",
    "amp&lt<gt>",
    "eq=value",
]


def test_list_roundtrips_keys_with_special_characters(s3, bucket):
    put_all(s3, bucket, ODD_KEYS)
    v2 = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    v1 = [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]]
    assert v2 == utf8_sorted(ODD_KEYS)
    assert v1 == utf8_sorted(ODD_KEYS)


def test_list_v2_encoding_type_url_percent_encodes_keys(s3, bucket):
    # With EncodingType given explicitly boto3 does not decode the answer, so the raw values are seen.
    put_all(s3, bucket, ODD_KEYS)
    resp = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert resp["EncodingType"] == "url"
    raw = [o["Key"] for o in resp["Contents"]]
    for value in raw:
        assert value.isascii() and " " not in value, value
    assert [unquote_plus(v) for v in raw] == utf8_sorted(ODD_KEYS)
    assert "eq%3Dvalue" in raw  # AWS encodes '=' (seen in recorded AWS responses)


def test_list_v2_encoding_type_url_encodes_prefix_delimiter_and_common_prefixes(s3, bucket):
    put_all(s3, bucket, ["dir one/a b/x", "dir one/c"])
    resp = s3.list_objects_v2(Bucket=bucket, Prefix="dir one/", Delimiter="/", EncodingType="url")
    assert unquote_plus(resp["Prefix"]) == "dir one/" and " " not in resp["Prefix"]
    assert [unquote_plus(p["Prefix"]) for p in resp["CommonPrefixes"]] == ["dir one/a b/"]
    assert [unquote_plus(o["Key"]) for o in resp["Contents"]] == ["dir one/c"]


def test_list_v2_without_encoding_type_returns_xml_escaped_keys(endpoint, s3, bucket):
    keys = ["amp&lt<gt>", "quote\"'", "日本語"]
    put_all(s3, bucket, keys)
    r = raw_request(endpoint, "GET", f"/{bucket}?list-type=2")
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.tag == NS + "ListBucketResult"
    listed = [c.find(NS + "Key").text for c in root.findall(NS + "Contents")]
    assert listed == utf8_sorted(keys)
    assert root.find(NS + "EncodingType") is None


# --- ListObjects (v1) ---------------------------------------------------------------------------

def test_list_v1_includes_owner_and_empty_marker(s3, bucket):
    # moto differs: omits an empty Marker.
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    resp = s3.list_objects(Bucket=bucket)
    assert resp["Marker"] == ""
    assert resp["Contents"][0]["Owner"]["ID"]
    assert resp["IsTruncated"] is False


def test_list_v1_marker_pagination_without_delimiter_has_no_next_marker(s3, bucket):
    # moto differs: sends NextMarker without a delimiter.
    put_all(s3, bucket, ["a", "b", "c", "d", "e"])
    first = s3.list_objects(Bucket=bucket, MaxKeys=2)
    assert [o["Key"] for o in first["Contents"]] == ["a", "b"]
    assert first["IsTruncated"] is True
    assert "NextMarker" not in first  # AWS only sends NextMarker when a delimiter is given
    second = s3.list_objects(Bucket=bucket, MaxKeys=2, Marker="b")
    assert [o["Key"] for o in second["Contents"]] == ["c", "d"]
    assert second["Marker"] == "b"


def test_list_v1_next_marker_with_delimiter(s3, bucket):
    # moto differs: does not count common prefixes toward MaxKeys in v1.
    put_all(s3, bucket, ["a/1", "a/2", "b", "c/1", "d"])
    first = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert first["IsTruncated"] is True
    assert [p["Prefix"] for p in first["CommonPrefixes"]] == ["a/"]
    assert [o["Key"] for o in first["Contents"]] == ["b"]
    assert first["NextMarker"] == "b"
    second = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2, Marker=first["NextMarker"])
    assert [p["Prefix"] for p in second["CommonPrefixes"]] == ["c/"]
    assert [o["Key"] for o in second["Contents"]] == ["d"]
    assert second["IsTruncated"] is False


def test_list_v1_next_marker_can_be_a_common_prefix(s3, bucket):
    # moto differs: does not count common prefixes toward MaxKeys in v1.
    put_all(s3, bucket, ["a", "b/1", "b/2", "c"])
    first = s3.list_objects(Bucket=bucket, Delimiter="/", MaxKeys=2)
    assert first["IsTruncated"] is True
    assert first["NextMarker"] == "b/"
    second = s3.list_objects(Bucket=bucket, Delimiter="/", Marker="b/")
    assert [o["Key"] for o in second["Contents"]] == ["c"]
    assert "CommonPrefixes" not in second


def test_list_v1_prefix_and_delimiter(s3, bucket):
    put_all(s3, bucket, ["p/a/1", "p/b", "q"])
    resp = s3.list_objects(Bucket=bucket, Prefix="p/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["p/b"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["p/a/"]
    assert resp["Prefix"] == "p/" and resp["Delimiter"] == "/"


# --- 10,000+ keys -------------------------------------------------------------------------------

BIG_COUNT = 10_050
BIG_GROUPS = 7


@pytest.fixture(scope="module")
def big_bucket(s3, endpoint):
    """A bucket with 10,050 empty objects under 7 'directories' plus a few odd keys (module-wide)."""
    name = "e2e-big-" + uuid.uuid4().hex[:16]
    s3.create_bucket(Bucket=name)
    keys = [f"g{i % BIG_GROUPS}/obj-{i:06d}" for i in range(BIG_COUNT - len(ODD_KEYS))] + ODD_KEYS
    put_keys(endpoint, name, keys)
    yield name, keys
    for i in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})
    s3.delete_bucket(Bucket=name)


def test_list_v2_paginates_over_10000_keys(s3, big_bucket):
    name, keys = big_bucket
    listed, _, pages = list_v2_all(s3, Bucket=name)
    assert len(listed) == BIG_COUNT
    assert listed == utf8_sorted(keys)
    assert pages == 11


def test_list_v1_paginates_over_10000_keys(s3, big_bucket):
    name, keys = big_bucket
    listed, marker = [], None
    while True:
        kw = {"Bucket": name}
        if marker:
            kw["Marker"] = marker
        resp = s3.list_objects(**kw)
        page = [o["Key"] for o in resp["Contents"]]
        assert len(page) <= 1000
        listed += page
        if not resp["IsTruncated"]:
            break
        marker = page[-1]
    assert listed == utf8_sorted(keys)


def test_list_v2_paginator_with_delimiter_over_10000_keys(s3, big_bucket):
    name, keys = big_bucket
    prefixes, contents = [], []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name, Delimiter="/"):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        contents += [o["Key"] for o in page.get("Contents", [])]
    expected_prefixes = {k.split("/", 1)[0] + "/" for k in keys if "/" in k}
    assert prefixes == utf8_sorted(expected_prefixes)
    assert contents == utf8_sorted(k for k in keys if "/" not in k)


def test_list_v2_prefix_in_large_bucket_with_start_after(s3, big_bucket):
    name, keys = big_bucket
    group = utf8_sorted(k for k in keys if k.startswith("g3/"))
    start = group[500]
    listed, _, _ = list_v2_all(s3, Bucket=name, Prefix="g3/", StartAfter=start, MaxKeys=250)
    assert listed == group[501:]


# --- Model-based listing (hypothesis) -----------------------------------------------------------

import itertools  # noqa: E402

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_namespaces = itertools.count()
SMALL_KEY = st.text(st.sampled_from("ab/-é"), min_size=1, max_size=5)


def model_listing(keys, prefix, delimiter):
    contents, prefixes = [], set()
    for k in utf8_sorted(set(keys)):
        if not k.startswith(prefix):
            continue
        rest = k[len(prefix):]
        if delimiter and delimiter in rest:
            prefixes.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
        else:
            contents.append(k)
    return contents, utf8_sorted(prefixes)


@settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(SMALL_KEY, min_size=1, max_size=12, unique=True),
       prefix=st.text(st.sampled_from("ab/"), max_size=2),
       delimiter=st.sampled_from(["", "/", "-", "b/"]),
       max_keys=st.integers(1, 5))
def test_property_list_v2_matches_model(s3, bucket, keys, prefix, delimiter, max_keys):
    ns = f"n{next(_namespaces)}:"
    full = [ns + k for k in keys]
    put_all(s3, bucket, full)
    kw = {"Bucket": bucket, "Prefix": ns + prefix, "MaxKeys": max_keys}
    if delimiter:
        kw["Delimiter"] = delimiter
    got_keys, got_prefixes, _ = list_v2_all(s3, **kw)
    want_keys, want_prefixes = model_listing(full, ns + prefix, delimiter)
    assert got_keys == want_keys
    assert got_prefixes == want_prefixes
    # v1 with markers gives the same answer
    v1_keys, v1_prefixes, marker = [], [], None
    while True:
        args = dict(kw, **({"Marker": marker} if marker else {}))
        resp = s3.list_objects(**args)
        v1_keys += [o["Key"] for o in resp.get("Contents", [])]
        v1_prefixes += [p["Prefix"] for p in resp.get("CommonPrefixes", [])]
        if not resp["IsTruncated"]:
            break
        marker = resp.get("NextMarker") or resp["Contents"][-1]["Key"]
    assert v1_keys == want_keys
    assert v1_prefixes == want_prefixes
