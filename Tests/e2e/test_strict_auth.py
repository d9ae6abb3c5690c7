"""`--strict-auth`: signatures are verified as AWS does (credentials test/test).

Covers header-signed requests from boto3 in all the body encodings it uses, hand-built
aws-chunked uploads with chunk signatures (as the Java/Go/JS SDKs send them), presigned URLs,
and the AWS error codes for each kind of failure. The last test checks that the default
(non-strict) mode accepts any secret.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import io
import os
import time
import urllib.error
import urllib.request
import uuid
import zlib
from urllib.parse import quote, urlparse, urlsplit, urlunsplit

import botocore.httpchecksum
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from helpers import make_client as client

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def strict(local_strict_server):
    """Always a local --strict-auth cloudless (even with E2E_ENDPOINT): the session's shared one."""
    return local_strict_server


@pytest.fixture(scope="module")
def good(strict):
    return client(strict.endpoint)


@pytest.fixture
def sbucket(good):
    name = "strict-" + uuid.uuid4().hex[:16]
    good.create_bucket(Bucket=name)
    yield name
    for page in good.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            good.delete_object(Bucket=name, Key=o["Key"])
    good.delete_bucket(Bucket=name)


def err(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    # A missing "Error" means botocore could not parse the error body for this protocol.
    e = r.get("Error", {})
    return e.get("Code", "<unparseable error body>"), r["ResponseMetadata"]["HTTPStatusCode"], e.get("Message", "")


def exists(s3, bucket, key):
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        return False


def http_get(url, method="GET", data=None):
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with _opener.open(req, timeout=15) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def xml_code_and_message(body):
    import xml.etree.ElementTree as ET
    root = ET.fromstring(body)
    if root.tag.split("}")[-1] == "ErrorResponse":
        root = root.find("{*}Error")
    return root.findtext("{*}Code"), root.findtext("{*}Message") or ""


# ---------------------------------------------------------------- hand-made SigV4


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _q(s):
    return quote(s, safe="-_.~")


class Signed:
    """A SigV4 header-signed request, with the signing key kept for chunk signatures."""

    def __init__(self, endpoint, method, path, headers, payload_hash, query=(), access_key="test",
                 secret="test", when=None, region="us-east-1", service="s3"):
        u = urlparse(endpoint)
        self.host, self.port = u.hostname, u.port
        when = when or datetime.datetime.now(datetime.timezone.utc)
        self.amz_date = when.strftime("%Y%m%dT%H%M%SZ")
        datestamp = when.strftime("%Y%m%d")
        h = {"host": f"{self.host}:{self.port}", **{k.lower(): str(v) for k, v in headers.items()}}
        h["x-amz-date"] = self.amz_date
        h["x-amz-content-sha256"] = payload_hash
        signed = sorted(h)
        canonical_headers = "".join(f"{k}:{' '.join(h[k].strip().split())}\n" for k in signed)
        self.qs = "&".join(f"{k}={v}" for k, v in sorted((_q(k), _q(v)) for k, v in query))
        creq = "\n".join([method, path, self.qs, canonical_headers, ";".join(signed), payload_hash])
        self.scope = f"{datestamp}/{region}/{service}/aws4_request"
        sts = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope, hashlib.sha256(creq.encode()).hexdigest()])
        self.key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), datestamp), region), service), "aws4_request")
        self.signature = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{self.scope}, "
                              f"SignedHeaders={';'.join(signed)}, Signature={self.signature}")
        self.method, self.path, self.headers = method, path, h

    def chunk_signature(self, previous, data):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, previous,
                         hashlib.sha256(b"").hexdigest(), hashlib.sha256(data).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()

    def trailer_signature(self, previous, trailer_text):
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amz_date, self.scope, previous,
                         hashlib.sha256(trailer_text.encode()).hexdigest()])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()

    def send(self, body=b""):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.putrequest(self.method, self.path + ("?" + self.qs if self.qs else ""), skip_host=True,
                            skip_accept_encoding=True)
            for k, v in self.headers.items():
                conn.putheader(k, v)
            conn.endheaders(body if body else None)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()


CHUNK = 64 * 1024


def _crc32_b64(data):
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def signed_chunked_put(endpoint, bucket, key, data, trailer=False, tamper=None):
    """PutObject with STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: every chunk carries a
    signature chained from the request signature. `tamper`: 'chunk-signature', 'chunk-data',
    'trailer-signature' or 'trailer-value'."""
    chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] + [b""]
    # Compute the encoded length first (signatures are always 64 hex digits).
    length = sum(len(f"{len(c):x};chunk-signature=".encode()) + 64 + 2 + len(c) + (2 if c else 0) for c in chunks)
    checksum = _crc32_b64(data)
    trailer_text = f"x-amz-checksum-crc32:{checksum}\n"
    if trailer:
        length += len(trailer_text.replace("\n", "\r\n")) + len("x-amz-trailer-signature:") + 64 + 2 + 2
    else:
        length += 2
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(data)),
        "content-length": str(length),
    }
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    if trailer:
        mode += "-TRAILER"
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    req = Signed(endpoint, "PUT", f"/{bucket}/{key}", headers, mode)
    body = bytearray()
    previous = req.signature
    for i, c in enumerate(chunks):
        sig = req.chunk_signature(previous, c)
        previous = sig
        sent = c
        if tamper == "chunk-signature" and i == 0:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        if tamper == "chunk-data" and i == 0:
            sent = bytes([c[0] ^ 1]) + c[1:]
        body += f"{len(c):x};chunk-signature={sig}\r\n".encode() + sent + (b"\r\n" if c else b"")
    if trailer:
        if tamper == "trailer-value":
            trailer_sent = f"x-amz-checksum-crc32:{_crc32_b64(data + b'x')}\n"
        else:
            trailer_sent = trailer_text
        tsig = req.trailer_signature(previous, trailer_text)
        if tamper == "trailer-signature":
            tsig = ("0" if tsig[0] != "0" else "1") + tsig[1:]
        body += trailer_sent.replace("\n", "\r\n").encode() + f"x-amz-trailer-signature:{tsig}\r\n".encode()
    body += b"\r\n"
    assert len(body) == length, (len(body), length)
    return req.send(bytes(body))


# ---------------------------------------------------------------- correctly signed requests work


def test_correctly_signed_calls_work(strict, good, sbucket):
    good.put_object(Bucket=sbucket, Key="a.txt", Body=b"hello")
    assert good.get_object(Bucket=sbucket, Key="a.txt")["Body"].read() == b"hello"
    assert [o["Key"] for o in good.list_objects_v2(Bucket=sbucket)["Contents"]] == ["a.txt"]
    assert sbucket in [b["Name"] for b in good.list_buckets()["Buckets"]]
    good.copy_object(Bucket=sbucket, Key="b.txt", CopySource={"Bucket": sbucket, "Key": "a.txt"})
    good.delete_objects(Bucket=sbucket, Delete={"Objects": [{"Key": "b.txt"}]})
    # Keys that need URI encoding in the canonical request.
    for key in ["with space.txt", "plus+and=equals&amp", "unicod\u00e9/\u00fc.txt", "tilde~star*(paren)", "a//b"]:
        good.put_object(Bucket=sbucket, Key=key, Body=key.encode())
        assert good.get_object(Bucket=sbucket, Key=key)["Body"].read() == key.encode()
    # Query parameters that need encoding.
    out = good.list_objects_v2(Bucket=sbucket, Prefix="unicod\u00e9/", Delimiter="/", StartAfter="a b+c")
    assert [o["Key"] for o in out.get("Contents", [])] == ["unicod\u00e9/\u00fc.txt"]
    ident = client(strict.endpoint, "sts").get_caller_identity()
    assert ident["Account"] == "000000000000"


def test_boto3_default_put_object_encodings(strict, good, sbucket, monkeypatch):
    data = os.urandom(300_000)
    # Plain bytes and a file object: signed payload with a CRC32 header checksum (http defaults).
    good.put_object(Bucket=sbucket, Key="bytes", Body=data)
    good.put_object(Bucket=sbucket, Key="file", Body=io.BytesIO(data))
    good.put_object(Bucket=sbucket, Key="sha256", Body=data, ChecksumAlgorithm="SHA256")
    # Multipart through the transfer manager.
    big = os.urandom(6 * 1024 * 1024 + 5)
    good.upload_fileobj(io.BytesIO(big), sbucket, "multipart",
                        Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
    # Unsigned payload (what boto3 sends over https when payload signing is off).
    client(strict.endpoint, s3={"payload_signing_enabled": False}).put_object(Bucket=sbucket, Key="unsigned", Body=data)
    # What boto3 sends to AWS over https: aws-chunked body, STREAMING-UNSIGNED-PAYLOAD-TRAILER,
    # Transfer-Encoding: chunked and a CRC32 trailer. botocore only does this for https URLs, so
    # let it believe this one is.
    real = botocore.httpchecksum.urlparse

    def as_https(url):
        p = real(url)
        return p._replace(scheme="https") if p.scheme == "http" else p

    monkeypatch.setattr(botocore.httpchecksum, "urlparse", as_https)
    trailer_client = client(strict.endpoint)
    trailer_client.put_object(Bucket=sbucket, Key="trailer", Body=data)
    trailer_client.put_object(Bucket=sbucket, Key="trailer-file", Body=io.BytesIO(data))
    trailer_client.upload_fileobj(io.BytesIO(big), sbucket, "trailer-multipart",
                                  Config=TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                                        multipart_chunksize=5 * 1024 * 1024))
    monkeypatch.undo()
    for key in ["bytes", "file", "sha256", "unsigned", "trailer", "trailer-file"]:
        got = good.get_object(Bucket=sbucket, Key=key)
        assert got["Body"].read() == data, key
        assert got["ContentLength"] == len(data), key
        assert "aws-chunked" not in got.get("ContentEncoding", ""), key
    for key in ["multipart", "trailer-multipart"]:
        assert good.get_object(Bucket=sbucket, Key=key)["Body"].read() == big, key


@pytest.mark.parametrize("trailer", [False, True], ids=["payload", "payload-trailer"])
def test_signed_aws_chunked_upload(strict, good, sbucket, trailer):
    data = os.urandom(3 * CHUNK + 1234)
    status, body = signed_chunked_put(strict.endpoint, sbucket, "chunked", data, trailer=trailer)
    assert status == 200, body[:600]
    got = good.get_object(Bucket=sbucket, Key="chunked")
    assert got["Body"].read() == data
    assert got["ContentLength"] == len(data)


@pytest.mark.parametrize("tamper,trailer", [("chunk-signature", False), ("chunk-data", False),
                                            ("chunk-signature", True), ("trailer-signature", True)])
def test_tampered_aws_chunked_upload_is_refused(strict, good, sbucket, tamper, trailer):
    data = os.urandom(2 * CHUNK + 99)
    status, body = signed_chunked_put(strict.endpoint, sbucket, "tampered", data, trailer=trailer, tamper=tamper)
    assert status == 403, body[:600]
    assert xml_code_and_message(body)[0] == "SignatureDoesNotMatch"
    assert not exists(good, sbucket, "tampered")


def test_signed_trailer_with_wrong_checksum_is_bad_digest(strict, good, sbucket):
    # The trailer is correctly signed, but its CRC32 does not match the data.
    data = os.urandom(CHUNK + 10)
    status, body = signed_chunked_put(strict.endpoint, sbucket, "badcrc", data, trailer=True, tamper="trailer-value")
    assert status in (400, 403), body[:600]
    assert xml_code_and_message(body)[0] in ("BadDigest", "SignatureDoesNotMatch")
    assert not exists(good, sbucket, "badcrc")


def test_payload_hash_mismatch(strict, good, sbucket):
    req = Signed(strict.endpoint, "PUT", f"/{sbucket}/mismatch", {"content-length": "7"},
                 hashlib.sha256(b"other").hexdigest())
    status, body = req.send(b"payload")
    assert status == 400, body[:600]
    assert xml_code_and_message(body)[0] == "XAmzContentSHA256Mismatch"
    assert not exists(good, sbucket, "mismatch")


# ---------------------------------------------------------------- failures


def test_wrong_secret_is_signature_does_not_match(strict, good, sbucket):
    bad = client(strict.endpoint, secret="not-the-secret")
    assert err(bad.list_buckets)[:2] == ("SignatureDoesNotMatch", 403)
    assert err(bad.put_object, Bucket=sbucket, Key="nope", Body=b"x")[:2] == ("SignatureDoesNotMatch", 403)
    assert not exists(good, sbucket, "nope")
    good.put_object(Bucket=sbucket, Key="there", Body=b"x")
    assert err(bad.get_object, Bucket=sbucket, Key="there")[:2] == ("SignatureDoesNotMatch", 403)
    assert err(bad.delete_object, Bucket=sbucket, Key="there")[:2] == ("SignatureDoesNotMatch", 403)
    assert exists(good, sbucket, "there")
    sts = client(strict.endpoint, "sts", secret="not-the-secret")
    assert err(sts.get_caller_identity)[:2] == ("SignatureDoesNotMatch", 403)


def test_unknown_access_key(strict, sbucket):
    bad = client(strict.endpoint, access_key="AKIAIOSFODNN7EXAMPLE", secret="test")
    assert err(bad.list_buckets)[:2] == ("InvalidAccessKeyId", 403)
    assert err(bad.get_object, Bucket=sbucket, Key="x")[:2] == ("InvalidAccessKeyId", 403)
    # STS names the same failure InvalidClientTokenId.
    sts = client(strict.endpoint, "sts", access_key="AKIAIOSFODNN7EXAMPLE", secret="test")
    assert err(sts.get_caller_identity)[:2] == ("InvalidClientTokenId", 403)


def test_anonymous_request_is_denied(strict, good, sbucket):
    good.put_object(Bucket=sbucket, Key="private", Body=b"secret")
    for method, path in [("GET", "/"), ("GET", f"/{sbucket}"), ("GET", f"/{sbucket}/private"),
                         ("PUT", f"/{sbucket}/anon")]:
        status, body = http_get(strict.endpoint + path, method=method, data=b"x" if method == "PUT" else None)
        assert status == 403, (method, path, status, body[:300])
        assert xml_code_and_message(body)[0] == "AccessDenied"
    assert not exists(good, sbucket, "anon")


def test_request_time_too_skewed(strict, sbucket):
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    req = Signed(strict.endpoint, "GET", f"/{sbucket}", {}, hashlib.sha256(b"").hexdigest(),
                 query=[("list-type", "2")], when=when)
    status, body = req.send()
    assert status == 403, body[:600]
    assert xml_code_and_message(body)[0] == "RequestTimeTooSkewed"
    # The same request signed now is fine (so the failure is the time, not the signer).
    req = Signed(strict.endpoint, "GET", f"/{sbucket}", {}, hashlib.sha256(b"").hexdigest(),
                 query=[("list-type", "2")])
    status, body = req.send()
    assert status == 200, body[:600]


def test_malformed_authorization_header(strict, sbucket):
    for auth in ["AWS4-HMAC-SHA256 garbage", "Bearer abc",
                 "AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=zz"]:
        u = urlparse(strict.endpoint)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            conn.request("GET", f"/{sbucket}", headers={"Authorization": auth,
                                                         "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                                                         "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())})
            r = conn.getresponse()
            body = r.read()
        finally:
            conn.close()
        assert r.status in (400, 403), (auth, r.status, body[:300])
        assert xml_code_and_message(body)[0] in (
            "AuthorizationHeaderMalformed", "InvalidArgument", "SignatureDoesNotMatch", "AccessDenied",
            "IncompleteSignature", "InvalidRequest"), (auth, body[:300])


# ---------------------------------------------------------------- presigned URLs
# Both query-signing schemes: SigV4 (X-Amz-Signature) and SigV2 (Signature/Expires), which
# botocore still picks by default for S3 presigning against a custom endpoint.

SIGS = ["s3v4", "s3"]


def raw_put(url, data):
    """PUT without any header the URL did not sign (urllib would add a Content-Type)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        conn.request("PUT", parts.path + "?" + parts.query, body=data)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _flip_first(s):
    # The first character carries 6 data bits in both hex and base64 signatures.
    return ("A" if s[0] != "A" else "B") + s[1:] if not s[0].isdigit() else ("1" if s[0] != "1" else "2") + s[1:]


@pytest.mark.parametrize("sigv", SIGS)
def test_presigned_urls_work(strict, good, sbucket, sigv):
    presigner = client(strict.endpoint, signature_version=sigv)
    good.put_object(Bucket=sbucket, Key="p.txt", Body=b"presigned")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": sbucket, "Key": "p.txt"}, ExpiresIn=300)
    assert ("X-Amz-Signature=" in url) == (sigv == "s3v4"), url
    assert http_get(url) == (200, b"presigned")
    url = presigner.generate_presigned_url("put_object", Params={"Bucket": sbucket, "Key": "up.txt"}, ExpiresIn=300)
    status, body = raw_put(url, b"uploaded via presigned PUT")
    assert status == 200, body[:300]
    assert good.get_object(Bucket=sbucket, Key="up.txt")["Body"].read() == b"uploaded via presigned PUT"
    # Keys that need encoding.
    key = "dir/with space+plus/\u00fcber.txt"
    good.put_object(Bucket=sbucket, Key=key, Body=b"encoded")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": sbucket, "Key": key}, ExpiresIn=300)
    assert http_get(url) == (200, b"encoded")


@pytest.mark.parametrize("sigv", SIGS)
def test_presigned_url_expired(strict, good, sbucket, sigv):
    presigner = client(strict.endpoint, signature_version=sigv)
    good.put_object(Bucket=sbucket, Key="e.txt", Body=b"expiring")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": sbucket, "Key": "e.txt"}, ExpiresIn=1)
    time.sleep(2.1)
    status, body = http_get(url)
    assert status == 403, body[:300]
    code, message = xml_code_and_message(body)
    assert code == "AccessDenied"
    assert "Request has expired" in message


@pytest.mark.parametrize("sigv", SIGS)
def test_presigned_url_tampered(strict, good, sbucket, sigv):
    presigner = client(strict.endpoint, signature_version=sigv)
    good.put_object(Bucket=sbucket, Key="a.txt", Body=b"aaa")
    good.put_object(Bucket=sbucket, Key="b.txt", Body=b"bbb")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": sbucket, "Key": "a.txt"}, ExpiresIn=300)
    parts = urlsplit(url)
    params = dict(p.split("=", 1) for p in parts.query.split("&"))
    expires_param = "X-Amz-Expires" if sigv == "s3v4" else "Expires"
    sig_param = "X-Amz-Signature" if sigv == "s3v4" else "Signature"
    later = str(int(params[expires_param]) + 300)
    tampered = [
        urlunsplit(parts._replace(path=parts.path.replace("/a.txt", "/b.txt"))),  # another key
        urlunsplit(parts._replace(query=parts.query.replace(f"{expires_param}={params[expires_param]}",
                                                            f"{expires_param}={later}"))),
        urlunsplit(parts._replace(query=parts.query.replace(f"{sig_param}={params[sig_param]}",
                                                            f"{sig_param}={_flip_first(params[sig_param])}"))),
    ]
    for t in tampered:
        assert t != url
        status, body = http_get(t)
        assert status == 403, (t, status, body[:300])
        assert xml_code_and_message(body)[0] == "SignatureDoesNotMatch", body[:300]
    # A presigned GET does not authorise a PUT to the same URL.
    status, body = raw_put(url, b"overwrite")
    assert status == 403, body[:300]
    assert good.get_object(Bucket=sbucket, Key="a.txt")["Body"].read() == b"aaa"


# ---------------------------------------------------------------- the default mode is permissive


def test_without_strict_auth_any_secret_is_accepted(endpoint):
    name = "lax-" + uuid.uuid4().hex[:16]
    lax = client(endpoint, secret="completely-wrong")
    lax.create_bucket(Bucket=name)
    try:
        lax.put_object(Bucket=name, Key="k", Body=b"v")
        assert lax.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
        assert client(endpoint, access_key="AKIAIOSFODNN7EXAMPLE", secret="x").list_buckets()
        assert client(endpoint, "sts", secret="wrong").get_caller_identity()["Account"] == "000000000000"
    finally:
        lax.delete_object(Bucket=name, Key="k")
        lax.delete_bucket(Bucket=name)
