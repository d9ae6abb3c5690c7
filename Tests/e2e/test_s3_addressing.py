"""Path-style and virtual-hosted-style addressing with boto3 and raw signed requests.

Virtual-hosted requests name the bucket in the Host header: <bucket>.localhost:PORT and
<bucket>.s3.localhost.localstack.cloud:PORT. Those names need no DNS here: the `loopback_dns`
fixture makes this process resolve them to 127.0.0.1, and raw requests send the Host header
explicitly. Expected behaviour is real AWS S3 (its virtual-hosted rules applied to these hosts)."""
import io
import os
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import error, make_client

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
VHOST_SUFFIXES = ["localhost", "s3.localhost.localstack.cloud"]


# Signatures are checked: this module runs against the session's --strict-auth server (conftest `server`).
pytestmark = pytest.mark.strict_auth


@pytest.fixture(params=VHOST_SUFFIXES)
def vclient(request, server, loopback_dns):
    """A boto3 client using virtual-hosted style against one of the bucket host suffixes."""
    c = make_client(f"http://{request.param}:{server.port}", addressing="virtual")
    seen = []
    c.meta.events.register("before-send.s3", lambda request, **_: seen.append(request.url))
    c.sent_urls = seen
    c.suffix = request.param
    return c


def signed(server, method, host, path, headers=None, body=b""):
    """A SigV4-signed request for `host` (Host header), sent to 127.0.0.1."""
    url = f"http://{host}{path}"
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
    hdrs = dict(req.headers.items())
    hdrs["Host"] = host
    return requests.request(method, f"http://127.0.0.1:{server.port}{path}", headers=hdrs, data=body, timeout=30)


# --- path style ---------------------------------------------------------------------------------

def test_path_style_on_ip_endpoint(s3, bucket):
    s3.put_object(Bucket=bucket, Key="p", Body=b"path")
    assert s3.get_object(Bucket=bucket, Key="p")["Body"].read() == b"path"


@pytest.mark.parametrize("suffix", ["localhost", "s3.localhost.localstack.cloud"])
def test_path_style_on_named_endpoint(server, bucket, loopback_dns, suffix):
    # moto differs: takes "s3" in s3.localhost.localstack.cloud for a bucket name.
    c = make_client(f"http://{suffix}:{server.port}", addressing="path")
    c.put_object(Bucket=bucket, Key="p", Body=b"path on name")
    assert c.get_object(Bucket=bucket, Key="p")["Body"].read() == b"path on name"


# --- virtual-hosted style with boto3 ------------------------------------------------------------

def test_virtual_hosted_put_get_head_delete(vclient, s3, bucket):
    vclient.put_object(Bucket=bucket, Key="v/obj", Body=b"virtual")
    assert vclient.sent_urls[-1].startswith(f"http://{bucket}.{vclient.suffix}:")
    assert vclient.get_object(Bucket=bucket, Key="v/obj")["Body"].read() == b"virtual"
    assert vclient.head_object(Bucket=bucket, Key="v/obj")["ContentLength"] == 7
    assert s3.get_object(Bucket=bucket, Key="v/obj")["Body"].read() == b"virtual"  # same object via path style
    vclient.delete_object(Bucket=bucket, Key="v/obj")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="v/obj")
    assert error(e) == ("404", 404)


def test_virtual_hosted_list_objects(vclient, s3, bucket):
    for k in ("a", "b/c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = vclient.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert resp["Name"] == bucket
    assert [o["Key"] for o in resp["Contents"]] == ["a"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["b/"]


def test_virtual_hosted_create_and_delete_bucket(vclient, s3):
    # moto differs: takes "s3" in s3.localhost.localstack.cloud for a bucket name.
    name = "e2e-v-" + uuid.uuid4().hex[:20]
    vclient.create_bucket(Bucket=name)
    try:
        s3.head_bucket(Bucket=name)
        assert vclient.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    finally:
        vclient.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert error(e) == ("404", 404)


def test_virtual_hosted_list_buckets_on_service_host(vclient, bucket):
    # moto differs: takes "s3" in s3.localhost.localstack.cloud for a bucket name.
    names = [b["Name"] for b in vclient.list_buckets()["Buckets"]]
    assert bucket in names


def test_virtual_hosted_keys_with_special_characters(vclient, bucket):
    # moto differs: drops leading slashes of keys in virtual-hosted requests.
    keys = ["with space", "plus+", "pct%41", "ü/日本", "//double", "/lead"]
    for k in keys:
        vclient.put_object(Bucket=bucket, Key=k, Body=k.encode())
    for k in keys:
        assert vclient.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode()
    listed = [o["Key"] for o in vclient.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys, key=lambda s: s.encode())


def test_virtual_hosted_missing_bucket_is_no_such_bucket(vclient):
    name = "e2e-missing-" + uuid.uuid4().hex[:12]
    with pytest.raises(ClientError) as e:
        vclient.list_objects_v2(Bucket=name)
    assert error(e) == ("NoSuchBucket", 404)
    assert e.value.response["Error"]["BucketName"] == name


def test_virtual_hosted_copy_object(vclient, s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me")
    vclient.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"copy me"


def test_virtual_hosted_multipart_transfer(vclient, s3, bucket):
    data = os.urandom(11 * 1024 * 1024)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    vclient.upload_fileobj(io.BytesIO(data), bucket, "mp/v.bin", Config=cfg)
    assert s3.head_object(Bucket=bucket, Key="mp/v.bin")["ETag"].endswith('-3"')
    out = io.BytesIO()
    vclient.download_fileobj(bucket, "mp/v.bin", out)
    assert out.getvalue() == data


def test_virtual_hosted_responses_carry_request_id_headers(vclient, bucket):
    # moto differs: x-amzn-requestid instead of x-amz-request-id.
    resp = vclient.put_object(Bucket=bucket, Key="r", Body=b"x")
    assert resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id")
    assert resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-id-2")


# --- raw requests with explicit Host headers ----------------------------------------------------

@pytest.mark.parametrize("suffix", VHOST_SUFFIXES)
def test_raw_virtual_hosted_get_object(server, s3, bucket, suffix):
    s3.put_object(Bucket=bucket, Key="raw/key.txt", Body=b"raw vhost")
    r = signed(server, "GET", f"{bucket}.{suffix}:{server.port}", "/raw/key.txt")
    assert r.status_code == 200, r.text
    assert r.content == b"raw vhost"


@pytest.mark.parametrize("suffix", VHOST_SUFFIXES)
def test_raw_virtual_hosted_root_lists_the_bucket(server, s3, bucket, suffix):
    s3.put_object(Bucket=bucket, Key="only", Body=b"x")
    r = signed(server, "GET", f"{bucket}.{suffix}:{server.port}", "/?list-type=2")
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.findtext(NS + "Name") == bucket
    assert [c.findtext(NS + "Key") for c in root.findall(NS + "Contents")] == ["only"]


@pytest.mark.parametrize("suffix", VHOST_SUFFIXES)
def test_raw_service_host_without_bucket_lists_buckets(server, bucket, suffix):
    # moto differs: takes "s3" in s3.localhost.localstack.cloud for a bucket name.
    r = signed(server, "GET", f"{suffix}:{server.port}", "/")
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.tag == NS + "ListAllMyBucketsResult"
    assert bucket in [b.findtext(NS + "Name") for b in root.iter(NS + "Bucket")]


@pytest.mark.parametrize("suffix", VHOST_SUFFIXES)
def test_raw_virtual_hosted_bucket_name_with_dots(server, s3, suffix):
    # moto differs: takes the first label as the bucket name.
    name = "e2e.dots." + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=name)
    try:
        r = signed(server, "PUT", f"{name}.{suffix}:{server.port}", "/k", body=b"dotted")
        assert r.status_code == 200, r.text
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"dotted"
    finally:
        s3.delete_object(Bucket=name, Key="k")
        s3.delete_bucket(Bucket=name)


def test_raw_host_header_without_port(server, s3, bucket):
    # Clients behind a proxy may send the Host without the port.
    s3.put_object(Bucket=bucket, Key="np", Body=b"no port")
    r = signed(server, "GET", f"{bucket}.s3.localhost.localstack.cloud", "/np")
    assert r.status_code == 200, r.text
    assert r.content == b"no port"


def test_raw_path_style_with_ip_host(server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="ip", Body=b"ip host")
    r = signed(server, "GET", f"127.0.0.1:{server.port}", f"/{bucket}/ip")
    assert r.status_code == 200
    assert r.content == b"ip host"


def test_raw_virtual_hosted_missing_key_error_names_key(server, bucket):
    r = signed(server, "GET", f"{bucket}.localhost:{server.port}", "/nothing/here")
    assert r.status_code == 404
    root = ET.fromstring(r.content)
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Key") == "nothing/here"
