"""Presigned URLs made by boto3 (SigV4 and SigV2 query authentication, path and virtual-hosted
style) and used with requests, urllib and curl; presigned POST forms; Expect: 100-continue.
Expected behaviour is real AWS S3.

Virtual-hosted names (bucket.localhost, bucket.s3.localhost.localstack.cloud) need no DNS here:
requests go to 127.0.0.1 with the Host header the URL names (curl: --resolve)."""
import hashlib
import os
import shutil
import subprocess
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from helpers import make_client


# Signatures are checked: this module runs against the session's --strict-auth server (conftest `server`).
pytestmark = pytest.mark.strict_auth


def client(endpoint, addressing="path", signature_version="s3v4"):
    """A client that names its signature version (the suite's `s3` leaves the choice to botocore)."""
    return make_client(endpoint, addressing=addressing, signature_version=signature_version)


def to_loopback(url, port):
    """(url aimed at 127.0.0.1, Host header the original url names)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}")), parts.netloc


def send(method, url, port, **kw):
    target, host = to_loopback(url, port)
    headers = dict(kw.pop("headers", {}))
    headers["Host"] = host
    return requests.request(method, target, headers=headers, timeout=30, **kw)


def xml_code(response):
    root = ET.fromstring(response.content)
    return root.findtext("Code")


def vhost_endpoints(port):
    return [f"http://localhost:{port}", f"http://s3.localhost.localstack.cloud:{port}"]


@pytest.fixture
def obj(s3, bucket):
    data = b"presigned payload " + os.urandom(64)
    s3.put_object(Bucket=bucket, Key="dir/obj.bin", Body=data)
    return "dir/obj.bin", data


@pytest.fixture
def v4(endpoint):
    """A path-style client that presigns with SigV4 (query parameters X-Amz-*)."""
    return client(endpoint)


def test_presigned_get_with_default_boto3_client_settings(s3, bucket, obj):
    # The suite's plain boto3 client: botocore picks the presign algorithm itself.
    key, data = obj
    r = requests.get(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}), timeout=30)
    assert r.status_code == 200, r.text
    assert r.content == data


# --- SigV4, path style --------------------------------------------------------------------------

def test_presigned_get_with_requests(v4, s3, bucket, obj):
    key, data = obj
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    r = requests.get(url, timeout=30)
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'


def test_presigned_get_with_urllib(v4, s3, bucket, obj):
    key, data = obj
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        assert resp.read() == data


def test_presigned_get_with_curl(v4, s3, bucket, obj, tmp_path):
    key, data = obj
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    out = tmp_path / "out.bin"
    res = subprocess.run(["curl", "-sS", "-o", str(out), "-w", "%{http_code}", url],
                         capture_output=True, text=True, timeout=60)
    assert res.stdout == "200", res.stderr
    assert out.read_bytes() == data


def test_presigned_put_with_requests(v4, s3, bucket):
    url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up/loaded"}, ExpiresIn=300)
    data = os.urandom(10_000)
    r = requests.put(url, data=data, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
    assert s3.get_object(Bucket=bucket, Key="up/loaded")["Body"].read() == data


def test_presigned_put_with_signed_content_type_and_metadata(v4, s3, bucket):
    url = v4.generate_presigned_url("put_object", Params={
        "Bucket": bucket, "Key": "typed", "ContentType": "text/plain", "Metadata": {"who": "presigned"}})
    r = requests.put(url, data=b"hello", headers={"Content-Type": "text/plain", "x-amz-meta-who": "presigned"}, timeout=30)
    assert r.status_code == 200, r.text
    head = s3.head_object(Bucket=bucket, Key="typed")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"who": "presigned"}


def test_presigned_put_with_different_signed_content_type_is_signature_does_not_match(v4, s3, bucket):
    # moto differs: does not verify presigned signatures.
    url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "typed", "ContentType": "text/plain"})
    r = requests.put(url, data=b"hello", headers={"Content-Type": "image/png"}, timeout=30)
    assert r.status_code == 403
    assert xml_code(r) == "SignatureDoesNotMatch"


def test_presigned_put_with_curl_upload_file_uses_expect_100_continue(v4, s3, bucket, tmp_path):
    data = os.urandom(2 * 1024 * 1024 + 3)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "curl/big.bin"})
    res = subprocess.run(["curl", "-sS", "-v", "-T", str(src), "-H", "Expect: 100-continue",
                          "-o", os.devnull, "-w", "%{http_code}", url],
                         capture_output=True, text=True, timeout=60)
    assert res.stdout == "200", res.stderr[-2000:]
    assert "> Expect: 100-continue" in res.stderr
    assert "< HTTP/1.1 100" in res.stderr  # the server answered the interim response
    got = s3.get_object(Bucket=bucket, Key="curl/big.bin")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def test_expect_100_continue_with_failing_request_gets_final_answer_without_body(v4, s3, tmp_path):
    # A PUT into a missing bucket: the server may answer the error right away instead of 100.
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(2 * 1024 * 1024))
    url = v4.generate_presigned_url("put_object", Params={"Bucket": "e2e-missing-" + uuid.uuid4().hex[:12], "Key": "k"})
    res = subprocess.run(["curl", "-sS", "-T", str(src), "-H", "Expect: 100-continue", "-w", "\n%{http_code}", url],
                         capture_output=True, text=True, timeout=60)
    body, status = res.stdout.rsplit("\n", 1)
    assert status == "404", res.stderr
    assert "<Code>NoSuchBucket</Code>" in body


def test_presigned_head_and_delete(v4, s3, bucket, obj):
    key, data = obj
    head_url = v4.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": key})
    r = requests.head(head_url, timeout=30)
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == len(data)
    del_url = v4.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": key})
    assert requests.delete(del_url, timeout=30).status_code == 204
    assert requests.head(head_url, timeout=30).status_code == 404


def test_presigned_get_with_response_overrides(v4, s3, bucket, obj):
    # moto differs: ignores response-content-disposition.
    key, _ = obj
    url = v4.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": key,
        "ResponseContentDisposition": 'attachment; filename="report.pdf"',
        "ResponseContentType": "application/pdf"})
    r = requests.get(url, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert r.headers["Content-Type"] == "application/pdf"


def test_presigned_get_of_key_with_special_characters(v4, s3, bucket):
    key = "dir with space/ü+%2F&=?#~.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"odd key")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.content == b"odd key"


def test_presigned_get_of_missing_key_is_no_such_key_xml(v4, s3, bucket):
    # moto differs: no x-amz-request-id header.
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "absent"})
    r = requests.get(url, timeout=30)
    assert r.status_code == 404
    root = ET.fromstring(r.content)
    assert root.findtext("Code") == "NoSuchKey"
    assert root.findtext("Key") == "absent"
    assert root.findtext("RequestId") == r.headers["x-amz-request-id"]


# --- SigV4 failures -----------------------------------------------------------------------------

def test_expired_presigned_url_is_access_denied(v4, s3, bucket, obj):
    # moto differs: does not check expiry.
    key, _ = obj
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=1)
    time.sleep(2.1)
    r = requests.get(url, timeout=30)
    assert r.status_code == 403
    root = ET.fromstring(r.content)
    assert root.findtext("Code") == "AccessDenied"
    assert root.findtext("Message") == "Request has expired"


def test_presigned_url_with_tampered_signature_is_signature_does_not_match(v4, s3, bucket, obj):
    # moto differs: does not verify presigned signatures.
    key, _ = obj
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    sig = query["X-Amz-Signature"]
    query["X-Amz-Signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    r = requests.get(urlunsplit(parts._replace(query=urlencode(query))), timeout=30)
    assert r.status_code == 403
    assert xml_code(r) == "SignatureDoesNotMatch"


def test_presigned_url_for_other_key_is_signature_does_not_match(v4, s3, bucket, obj):
    # moto differs: does not verify presigned signatures.
    key, _ = obj
    s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    r = requests.get(url.replace("/dir/obj.bin?", "/other?"), timeout=30)
    assert r.status_code == 403
    assert xml_code(r) == "SignatureDoesNotMatch"


def test_presigned_get_url_used_for_put_is_signature_does_not_match(v4, s3, bucket, obj):
    # moto differs: does not verify presigned signatures.
    key, data = obj
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    r = requests.put(url, data=b"overwrite", timeout=30)
    assert r.status_code == 403
    assert xml_code(r) == "SignatureDoesNotMatch"
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_presigned_url_expiring_after_more_than_a_week_is_rejected(v4, s3, bucket, obj):
    # moto differs: does not check X-Amz-Expires.
    key, _ = obj
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=604801)
    r = requests.get(url, timeout=30)
    assert r.status_code == 400
    assert xml_code(r) == "AuthorizationQueryParametersError"


def test_presigned_url_without_x_amz_date_is_authorization_query_parameters_error(v4, s3, bucket, obj):
    # moto differs: answers 403.
    key, _ = obj
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "X-Amz-Date"}
    r = requests.get(urlunsplit(parts._replace(query=urlencode(query))), timeout=30)
    assert r.status_code == 400
    assert xml_code(r) == "AuthorizationQueryParametersError"


# --- SigV4, virtual-hosted style ----------------------------------------------------------------

@pytest.mark.parametrize("vhost_endpoint", ["localhost", "s3.localhost.localstack.cloud"])
def test_presigned_get_virtual_hosted(server, s3, bucket, obj, vhost_endpoint):
    key, data = obj
    vclient = client(f"http://{vhost_endpoint}:{server.port}", addressing="virtual")
    url = vclient.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    assert urlsplit(url).netloc == f"{bucket}.{vhost_endpoint}:{server.port}"
    assert urlsplit(url).path == f"/{key}"
    r = send("GET", url, server.port)
    assert r.status_code == 200, r.text
    assert r.content == data


@pytest.mark.parametrize("vhost_endpoint", ["localhost", "s3.localhost.localstack.cloud"])
def test_presigned_put_virtual_hosted(server, s3, bucket, vhost_endpoint):
    vclient = client(f"http://{vhost_endpoint}:{server.port}", addressing="virtual")
    url = vclient.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v/put"})
    r = send("PUT", url, server.port, data=b"virtual put")
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="v/put")["Body"].read() == b"virtual put"


def test_presigned_get_virtual_hosted_with_curl(server, s3, bucket, obj, tmp_path):
    key, data = obj
    host = "s3.localhost.localstack.cloud"
    vclient = client(f"http://{host}:{server.port}", addressing="virtual")
    url = vclient.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    out = tmp_path / "out.bin"
    res = subprocess.run(["curl", "-sS", "--resolve", f"{bucket}.{host}:{server.port}:127.0.0.1",
                          "-o", str(out), "-w", "%{http_code}", url], capture_output=True, text=True, timeout=60)
    assert res.stdout == "200", res.stderr
    assert out.read_bytes() == data


# --- SigV2 query authentication -----------------------------------------------------------------

def test_presigned_get_sigv2(endpoint, bucket, obj):
    key, data = obj
    url = client(endpoint, signature_version="s3").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    query = parse_qs(urlsplit(url).query)
    assert {"AWSAccessKeyId", "Signature", "Expires"} <= set(query)
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.content == data


def test_presigned_put_sigv2(endpoint, s3, bucket):
    url = client(endpoint, signature_version="s3").generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2/put"})
    r = requests.put(url, data=b"sigv2 body", timeout=30)
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="v2/put")["Body"].read() == b"sigv2 body"


def test_presigned_get_sigv2_virtual_hosted(server, bucket, obj):
    key, data = obj
    vclient = client(f"http://s3.localhost.localstack.cloud:{server.port}", addressing="virtual", signature_version="s3")
    url = vclient.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    r = send("GET", url, server.port)
    assert r.status_code == 200, r.text
    assert r.content == data


def test_presigned_sigv2_with_tampered_signature_is_signature_does_not_match(endpoint, bucket, obj):
    # moto differs: does not verify presigned signatures.
    key, _ = obj
    url = client(endpoint, signature_version="s3").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["Signature"] = "AAAA" + query["Signature"][4:]
    r = requests.get(urlunsplit(parts._replace(query=urlencode(query))), timeout=30)
    assert r.status_code == 403
    assert xml_code(r) == "SignatureDoesNotMatch"


def test_expired_presigned_sigv2_url_is_access_denied(endpoint, bucket, obj):
    # moto differs: does not check expiry.
    key, _ = obj
    url = client(endpoint, signature_version="s3").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=1)
    time.sleep(2.1)
    r = requests.get(url, timeout=30)
    assert r.status_code == 403
    assert xml_code(r) == "AccessDenied"


# --- Presigned POST (browser form upload) -------------------------------------------------------

def test_presigned_post_form_upload(s3, bucket):
    post = s3.generate_presigned_post(bucket, "forms/${filename}", ExpiresIn=300)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("hello.txt", b"form body")}, timeout=30)
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="forms/hello.txt")["Body"].read() == b"form body"


def test_presigned_post_success_action_status_201_returns_xml(s3, bucket):
    # moto differs: ignores success_action_status.
    post = s3.generate_presigned_post(bucket, "forms/k", Fields={"success_action_status": "201"},
                                      Conditions=[{"success_action_status": "201"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("k", b"x")}, timeout=30)
    assert r.status_code == 201, r.text
    root = ET.fromstring(r.content)
    assert root.tag.endswith("PostResponse")
    assert root.findtext("Key") == "forms/k"
    assert root.findtext("Bucket") == bucket


def test_presigned_post_violating_policy_is_access_denied(s3, bucket):
    # moto differs: does not enforce POST policy conditions.
    post = s3.generate_presigned_post(bucket, "forms/limited", Conditions=[["content-length-range", 1, 10]])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x" * 100)}, timeout=30)
    assert r.status_code == 400
    assert xml_code(r) == "EntityTooLarge"


def test_curl_is_available():
    # The curl-based tests above need curl on PATH.
    assert shutil.which("curl")
