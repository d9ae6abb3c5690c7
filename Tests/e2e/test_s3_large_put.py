"""Large S3 uploads, whose bodies arrive in many reads of up to 1 MiB each (HTTPServer's LargeReadChannel) and feed
MD5, SHA-256 and CRC-32 a slice at a time (S3 BodyDigests, CRC-32 by carry-less multiplication): the stored bytes,
the ETag (the MD5), the CRC32 checksum boto3 sends, and every check S3 makes on them (x-amz-content-sha256,
Content-MD5, x-amz-checksum-crc32 as header and as aws-chunked trailer) hold across read and slice boundaries.
Expected values are computed here with hashlib and zlib."""
import base64
import hashlib
import os
import zlib

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import error, make_client, raw_request

MIB = 1024 * 1024
# Odd sizes: reads, 64 KiB digest slices and 16-byte CRC folds all end mid-way.
BODY = os.urandom(24 * MIB + 12_345)


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def md5_etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def assert_absent(s3, bucket, key):
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key=key)
    assert error(e)[1] == 404


def test_boto3_put_stores_exact_bytes_with_md5_etag_and_crc32(s3, bucket):
    # Over http boto3 signs the payload (x-amz-content-sha256 = its SHA-256) and sends x-amz-checksum-crc32.
    put = s3.put_object(Bucket=bucket, Key="big", Body=BODY)
    assert put["ETag"] == md5_etag(BODY)
    assert put["ChecksumCRC32"] == crc32_b64(BODY)
    got = s3.get_object(Bucket=bucket, Key="big", ChecksumMode="ENABLED")
    data = got["Body"].read()
    assert len(data) == len(BODY) and hashlib.sha256(data).digest() == hashlib.sha256(BODY).digest()
    assert got["ETag"] == md5_etag(BODY) and got["ChecksumCRC32"] == crc32_b64(BODY)


def test_aws_chunked_trailer_put_stores_exact_bytes(endpoint, s3, bucket):
    # As boto3 sends it over HTTPS: aws-chunked, 1 MiB chunks whose framing straddles the server's reads, the CRC32
    # in the trailer.
    client = make_client(endpoint)

    def force_trailer(params, **_):
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict) and algorithm.get("in") == "header":
            algorithm["in"] = "trailer"

    client.meta.events.register("before-call.s3.PutObject", force_trailer)
    put = client.put_object(Bucket=bucket, Key="chunked", Body=BODY)
    assert put["ETag"] == md5_etag(BODY) and put["ChecksumCRC32"] == crc32_b64(BODY)
    data = s3.get_object(Bucket=bucket, Key="chunked")["Body"].read()
    assert hashlib.sha256(data).digest() == hashlib.sha256(BODY).digest()


def test_payload_not_matching_its_signed_sha256_is_rejected_and_stores_nothing(endpoint, s3, bucket):
    # One byte changed in the last read: the signed x-amz-content-sha256 is the original body's.
    tampered = BODY[:-1] + bytes([BODY[-1] ^ 1])
    signed = AWSRequest(method="PUT", url=f"{endpoint}/{bucket}/sha", data=BODY)
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(signed)
    assert signed.headers["X-Amz-Content-SHA256"] == hashlib.sha256(BODY).hexdigest()
    r = requests.put(f"{endpoint}/{bucket}/sha", data=tampered, headers=dict(signed.headers.items()), timeout=60)
    assert r.status_code == 400, r.text
    assert "<Code>XAmzContentSHA256Mismatch</Code>" in r.text
    assert hashlib.sha256(tampered).hexdigest() in r.text
    assert_absent(s3, bucket, "sha")


def test_wrong_crc32_header_is_bad_digest_and_stores_nothing(endpoint, s3, bucket):
    tampered = bytes([BODY[0] ^ 0x80]) + BODY[1:]
    r = raw_request(endpoint, "PUT", f"/{bucket}/crc", body=BODY,
                    headers={"X-Amz-Checksum-Crc32": crc32_b64(tampered), "X-Amz-Sdk-Checksum-Algorithm": "CRC32"})
    assert r.status_code == 400, r.text
    assert "<Code>BadDigest</Code>" in r.text
    assert_absent(s3, bucket, "crc")


def test_wrong_content_md5_is_bad_digest_and_stores_nothing(s3, bucket):
    wrong = base64.b64encode(hashlib.md5(BODY[1:]).digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="md5", Body=BODY, ContentMD5=wrong)
    assert error(e) == ("BadDigest", 400)
    assert_absent(s3, bucket, "md5")


def test_small_requests_after_a_large_put_on_the_same_connection(endpoint, s3, bucket):
    # The connection's reads grew to 1 MiB for the large body; small requests on it afterwards still work (and the
    # read buffer shrinks back).
    s3.put_object(Bucket=bucket, Key="small", Body=b"small body")
    session = requests.Session()
    r = session.put(f"{endpoint}/{bucket}/big-then-small", data=BODY, timeout=60)
    assert r.status_code == 200 and r.headers["ETag"] == md5_etag(BODY)
    for _ in range(20):
        g = session.get(f"{endpoint}/{bucket}/small", timeout=10)
        assert g.status_code == 200 and g.content == b"small body"
    p = session.put(f"{endpoint}/{bucket}/after", data=b"x" * 100, timeout=10)
    assert p.status_code == 200 and p.headers["ETag"] == md5_etag(b"x" * 100)
    session.close()
