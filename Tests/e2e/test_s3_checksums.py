"""S3 data integrity driven by boto3 and by hand-built aws-chunked requests: Content-MD5, the
flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) as headers and as aws-chunked
trailers, signed streaming uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]), multipart
checksums (COMPOSITE and FULL_OBJECT), and byte-exact storage. Expected behaviour is real AWS S3.

Expected checksum values are computed here: zlib for CRC32, hashlib for SHA*, awscrt (the optional
botocore[crt] dependency, which boto3 itself needs to send CRC32C/CRC64NVME) for CRC32C and CRC64NVME."""
import base64
import hashlib
import hmac
import os
import zlib

import awscrt.checksums
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import error, make_client

MIB = 1024 * 1024
ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Bytes that look like aws-chunked framing, to catch decoders that scan for delimiters.
TRICKY = b"0\r\n\r\n" + b"x-amz-checksum-crc32:AAAAAA==\r\n" + b"10;chunk-signature=" + bytes(range(256)) * 4


# Signatures are checked: this module runs against the session's --strict-auth server (conftest `server`).
pytestmark = pytest.mark.strict_auth


def digest(algorithm, data):
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return awscrt.checksums.crc32c(data).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return awscrt.checksums.crc64nvme(data).to_bytes(8, "big")
    if algorithm == "SHA1":
        return hashlib.sha1(data).digest()
    if algorithm == "SHA256":
        return hashlib.sha256(data).digest()
    raise ValueError(algorithm)


def b64(algorithm, data):
    return base64.b64encode(digest(algorithm, data)).decode()


def composite(algorithm, parts):
    """AWS COMPOSITE checksum: the checksum of the concatenated binary part checksums, then '-N'."""
    joined = b"".join(digest(algorithm, p) for p in parts)
    return f"{b64(algorithm, joined)}-{len(parts)}"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# --- the helpers themselves, against published check values -------------------------------------

def test_checksum_helpers_match_published_check_values():
    # CRC catalogue check values for the ASCII string "123456789".
    assert digest("CRC32", b"123456789").hex() == "cbf43926"
    assert digest("CRC32C", b"123456789").hex() == "e3069283"
    assert digest("CRC64NVME", b"123456789").hex() == "ae8b14860a799888"


# --- Content-MD5 --------------------------------------------------------------------------------

def test_correct_content_md5_is_accepted(s3, bucket):
    data = b"md5 protected body"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    s3.put_object(Bucket=bucket, Key="k", Body=data, ContentMD5=md5)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data


def test_wrong_content_md5_is_bad_digest_and_stores_nothing(s3, bucket):
    # moto differs: does not check Content-MD5.
    md5 = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"body", ContentMD5=md5)
    assert error(e) == ("BadDigest", 400)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    assert error(e) == ("404", 404)


def test_malformed_content_md5_is_invalid_digest(s3, bucket):
    # moto differs: does not check Content-MD5.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"body", ContentMD5="not-an-md5")
    assert error(e) == ("InvalidDigest", 400)


def test_wrong_content_md5_on_upload_part_is_bad_digest(s3, bucket):
    # moto differs: does not check Content-MD5.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"part", ContentMD5=md5)
    assert error(e) == ("BadDigest", 400)


# --- Flexible checksums as headers --------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_checksum_algorithm_returns_checksum(s3, bucket, algorithm):
    # moto differs: no x-amz-checksum-type.
    data = b"checksummed " + algorithm.encode()
    resp = s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algorithm)
    assert resp[f"Checksum{algorithm}"] == b64(algorithm, data)
    assert resp["ChecksumType"] == "FULL_OBJECT"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_head_and_get_with_checksum_mode_return_stored_checksum(s3, bucket, algorithm):
    # moto differs: no x-amz-checksum-type.
    data = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algorithm)
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == b64(algorithm, data)
    assert head["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == b64(algorithm, data)
    assert got["Body"].read() == data  # botocore also validates the returned checksum while reading


def test_get_without_checksum_mode_omits_checksum(endpoint, bucket, s3):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ChecksumAlgorithm="SHA256")
    plain = make_client(endpoint, response_checksum_validation="when_required")
    resp = plain.get_object(Bucket=bucket, Key="k")
    assert not [h for h in resp["ResponseMetadata"]["HTTPHeaders"] if h.startswith("x-amz-checksum-")]


def test_ranged_get_omits_full_object_checksum(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789", ChecksumAlgorithm="CRC32")
    resp = s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-3", ChecksumMode="ENABLED")
    assert "ChecksumCRC32" not in resp
    assert resp["Body"].read() == b"0123"


def test_default_boto3_put_stores_crc32(s3, bucket):
    # boto3 (request_checksum_calculation=when_supported) sends x-amz-checksum-crc32 on every PutObject.
    data = b"default checksum"
    s3.put_object(Bucket=bucket, Key="k", Body=data)
    assert s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")["ChecksumCRC32"] == b64("CRC32", data)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_explicit_correct_checksum_value(s3, bucket, algorithm):
    # moto differs: does not echo a checksum the client computed itself.
    data = b"explicit value"
    resp = s3.put_object(Bucket=bucket, Key="k", Body=data, **{f"Checksum{algorithm}": b64(algorithm, data)})
    assert resp[f"Checksum{algorithm}"] == b64(algorithm, data)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_wrong_checksum_value_is_bad_digest(s3, bucket, algorithm):
    # moto differs: does not verify x-amz-checksum-* values.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"actual data",
                      **{f"Checksum{algorithm}": b64(algorithm, b"other data")})
    assert error(e) == ("BadDigest", 400)
    assert e.value.response["Error"]["Message"] == f"The {algorithm} you specified did not match the calculated checksum."
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    assert error(e) == ("404", 404)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_malformed_checksum_value_is_invalid_request(s3, bucket, algorithm):
    # moto differs: does not verify x-amz-checksum-* values.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data", **{f"Checksum{algorithm}": "abc"})
    assert error(e) == ("InvalidRequest", 400)
    assert e.value.response["Error"]["Message"] == f"Value for x-amz-checksum-{algorithm.lower()} header is invalid."


def test_put_with_two_checksum_headers_is_invalid_request(s3, bucket):
    # moto differs: accepts several checksum headers.
    data = b"data"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumSHA256=b64("SHA256", data), ChecksumCRC32=b64("CRC32", data))
    assert error(e) == ("InvalidRequest", 400)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_upload_part_with_wrong_checksum_is_bad_digest(s3, bucket, algorithm):
    # moto differs: does not verify x-amz-checksum-* values.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm=algorithm)["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"part",
                       ChecksumAlgorithm=algorithm, **{f"Checksum{algorithm}": b64(algorithm, b"not the part")})
    assert error(e) == ("BadDigest", 400)


# --- aws-chunked with an unsigned trailer, as boto3 sends it over HTTPS ------------------------

@pytest.fixture
def s3_trailer(endpoint):
    """A boto3 client that sends flexible checksums the way it does over HTTPS: aws-chunked body with
    the checksum in a trailer (x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
    client = make_client(endpoint)

    def force_trailer(params, **_):
        algorithm = params["context"].get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict) and algorithm.get("in") == "header":
            algorithm["in"] = "trailer"

    for op in ("PutObject", "UploadPart"):
        client.meta.events.register(f"before-call.s3.{op}", force_trailer)
    return client


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_aws_chunked_trailer_checksum_stores_exact_bytes(s3_trailer, bucket, algorithm):
    # moto differs: takes the trailer value from inside the data (TRICKY bytes).
    data = TRICKY + os.urandom(200_000)
    resp = s3_trailer.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=algorithm)
    assert resp[f"Checksum{algorithm}"] == b64(algorithm, data)
    got = s3_trailer.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["ContentLength"] == len(data)
    assert "ContentEncoding" not in got  # aws-chunked is a transfer detail, not stored
    assert got[f"Checksum{algorithm}"] == b64(algorithm, data)


def test_upload_part_with_aws_chunked_trailer_checksum(s3_trailer, bucket):
    # moto differs: takes the trailer value from inside the data (TRICKY bytes).
    upload_id = s3_trailer.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32C")["UploadId"]
    data = TRICKY + b"part"
    resp = s3_trailer.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=data, ChecksumAlgorithm="CRC32C")
    assert resp["ChecksumCRC32C"] == b64("CRC32C", data)
    s3_trailer.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={
        "Parts": [{"ETag": resp["ETag"], "PartNumber": 1, "ChecksumCRC32C": resp["ChecksumCRC32C"]}]})
    assert s3_trailer.get_object(Bucket=bucket, Key="k")["Body"].read() == data


def test_aws_chunked_with_content_encoding_gzip_keeps_gzip(s3_trailer, bucket):
    data = b"\x1f\x8b pretend gzip bytes"
    s3_trailer.put_object(Bucket=bucket, Key="k", Body=data, ContentEncoding="gzip", ChecksumAlgorithm="CRC32")
    got = s3_trailer.get_object(Bucket=bucket, Key="k")
    assert got["ContentEncoding"] == "gzip"
    assert got["Body"].read() == data


# --- hand-built aws-chunked requests (signed streaming, as the Java/Go SDKs send over HTTP) -----

MODES = {
    "signed": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "signed-trailer": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "unsigned-trailer": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
}


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region="us-east-1", service="s3"):
    k = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        k = _hmac(k, part)
    return k


def chunk_signature(key, amz_date, scope, previous, chunk):
    to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY_SHA256, sha256(chunk)])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def trailer_signature(key, amz_date, scope, previous, canonical_trailer):
    to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous, sha256(canonical_trailer.encode())])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_chunk_signer_matches_aws_documented_example():
    # The worked example of "Signature Calculations ... Chunked Upload" in the S3 API reference:
    # 65 KiB of 'a' in 64 KiB chunks, seed signature and the three chunk signatures as published there.
    key = signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524")
    scope = "20130524/us-east-1/s3/aws4_request"
    prev = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    expected = ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]
    for chunk, want in zip([b"a" * 65536, b"a" * 1024, b""], expected):
        prev = chunk_signature(key, "20130524T000000Z", scope, prev, chunk)
        assert prev == want


class _StreamingSigner(S3SigV4Auth):
    def __init__(self, content_sha256):
        super().__init__(Credentials("test", "test"), "s3", "us-east-1")
        self._content_sha256 = content_sha256

    def payload(self, request):
        return self._content_sha256


def streaming_put(endpoint, path, data, mode, chunk_size=64 * 1024, trailer_algorithm="CRC32", corrupt=None,
                  extra_headers=None):
    """PUT `data` as an aws-chunked body. `corrupt` in {None, 'chunk-signature', 'trailer-checksum',
    'trailer-signature', 'decoded-length'}. Returns the requests.Response."""
    signed = mode.startswith("signed")
    trailer = mode.endswith("trailer")
    trailer_name = f"x-amz-checksum-{trailer_algorithm.lower()}"
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]

    def encode(sigs, trailer_sig):
        out = bytearray()
        for chunk, sig in zip(chunks, sigs):
            out += f"{len(chunk):x}".encode()
            if signed:
                out += f";chunk-signature={sig}".encode()
            out += b"\r\n" + chunk
            if chunk:
                out += b"\r\n"
        if trailer:
            value = b64(trailer_algorithm, b"wrong" if corrupt == "trailer-checksum" else data)
            out += f"{trailer_name}:{value}\r\n".encode()
            if signed:
                out += f"x-amz-trailer-signature:{trailer_sig}\r\n".encode()
        out += b"\r\n"
        return bytes(out), (f"{trailer_name}:{value}\n" if trailer else None)

    placeholder, _ = encode(["0" * 64] * len(chunks), "0" * 64)
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data) + (1 if corrupt == "decoded-length" else 0)),
        "Content-Length": str(len(placeholder)),
    }
    if trailer:
        headers["X-Amz-Trailer"] = trailer_name
    headers.update(extra_headers or {})
    req = AWSRequest(method="PUT", url=endpoint + path, headers=headers)
    _StreamingSigner(MODES[mode]).add_auth(req)
    amz_date = req.headers["X-Amz-Date"]
    seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = signing_key("test", amz_date[:8])

    sigs, prev = [], seed
    for chunk in chunks:
        prev = chunk_signature(key, amz_date, scope, prev, chunk)
        sigs.append(prev)
    if corrupt == "chunk-signature":
        sigs[0] = chunk_signature(key, amz_date, scope, seed, b"tampered")
    _, canonical = encode(sigs, "0" * 64)
    trailer_sig = trailer_signature(key, amz_date, scope, sigs[-1], canonical) if trailer else None
    if corrupt == "trailer-signature":
        trailer_sig = "f" * 64
    body, _ = encode(sigs, trailer_sig)
    assert len(body) == len(placeholder)
    return requests.put(endpoint + path, data=body, headers=dict(req.headers.items()), timeout=60)


@pytest.mark.parametrize("mode", list(MODES))
def test_aws_chunked_upload_stores_exact_bytes(endpoint, s3, bucket, mode):
    data = TRICKY + os.urandom(150_000)  # three 64 KiB chunks, the last one partial
    r = streaming_put(endpoint, f"/{bucket}/chunked", data, mode)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["ContentLength"] == len(data)


@pytest.mark.parametrize("mode", ["signed-trailer", "unsigned-trailer"])
def test_aws_chunked_trailer_checksum_is_stored(endpoint, s3, bucket, mode):
    # moto differs: does not store trailer checksums.
    data = os.urandom(70_000)
    r = streaming_put(endpoint, f"/{bucket}/k", data, mode, trailer_algorithm="CRC64NVME")
    assert r.status_code == 200, r.text
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == b64("CRC64NVME", data)


def test_aws_chunked_upload_with_empty_body(endpoint, s3, bucket):
    r = streaming_put(endpoint, f"/{bucket}/empty", b"", "signed")
    assert r.status_code == 200, r.text
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""


def test_aws_chunked_upload_keeps_user_headers(endpoint, s3, bucket):
    r = streaming_put(endpoint, f"/{bucket}/k", b"hello", "signed",
                      extra_headers={"Content-Type": "text/plain", "x-amz-meta-origin": "chunked"})
    assert r.status_code == 200, r.text
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"origin": "chunked"}
    assert head["ContentLength"] == 5


@pytest.mark.parametrize("mode", ["signed", "signed-trailer"])
def test_aws_chunked_with_bad_chunk_signature_is_rejected(endpoint, s3, bucket, mode):
    # moto differs: does not verify chunk signatures.
    r = streaming_put(endpoint, f"/{bucket}/k", os.urandom(100_000), mode, corrupt="chunk-signature")
    assert r.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in r.content
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


def test_aws_chunked_with_bad_trailer_signature_is_rejected(endpoint, s3, bucket):
    # moto differs: does not verify trailer signatures.
    r = streaming_put(endpoint, f"/{bucket}/k", b"data", "signed-trailer", corrupt="trailer-signature")
    assert r.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in r.content


@pytest.mark.parametrize("mode", ["signed-trailer", "unsigned-trailer"])
def test_aws_chunked_with_wrong_trailer_checksum_is_bad_digest(endpoint, s3, bucket, mode):
    # moto differs: does not verify trailer checksums.
    r = streaming_put(endpoint, f"/{bucket}/k", b"some data", mode, corrupt="trailer-checksum")
    assert r.status_code == 400
    assert b"<Code>BadDigest</Code>" in r.content
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


def test_aws_chunked_with_wrong_decoded_length_is_rejected(endpoint, s3, bucket):
    # moto differs: ignores x-amz-decoded-content-length.
    r = streaming_put(endpoint, f"/{bucket}/k", b"some data", "signed", corrupt="decoded-length")
    assert 400 <= r.status_code < 500
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


# --- Stored bytes are the user's bytes ----------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 65_536, 3 * MIB + 7])
def test_stored_bytes_are_exactly_the_uploaded_bytes(s3, bucket, size):
    data = os.urandom(size)
    s3.put_object(Bucket=bucket, Key="bin", Body=data)
    got = s3.get_object(Bucket=bucket, Key="bin")["Body"].read()
    assert len(got) == size
    assert sha256(got) == sha256(data)


def test_stored_bytes_survive_copy(s3, bucket):
    data = TRICKY + os.urandom(100_000)
    s3.put_object(Bucket=bucket, Key="src", Body=data)
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert sha256(s3.get_object(Bucket=bucket, Key="dst")["Body"].read()) == sha256(data)


def test_copy_object_keeps_source_checksum(s3, bucket):
    data = b"copy my checksum"
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="SHA256")
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    assert resp["CopyObjectResult"]["ChecksumSHA256"] == b64("SHA256", data)
    assert s3.head_object(Bucket=bucket, Key="dst", ChecksumMode="ENABLED")["ChecksumSHA256"] == b64("SHA256", data)


def test_copy_object_with_new_checksum_algorithm(s3, bucket):
    # moto differs: keeps the source algorithm.
    data = b"recompute my checksum"
    s3.put_object(Bucket=bucket, Key="src", Body=data, ChecksumAlgorithm="SHA256")
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", ChecksumAlgorithm="CRC32C")
    assert resp["CopyObjectResult"]["ChecksumCRC32C"] == b64("CRC32C", data)


# --- Multipart checksums ------------------------------------------------------------------------

PART1 = os.urandom(5 * MIB)
PART2 = os.urandom(777)


def _upload_parts(s3, bucket, key, algorithm, checksum_type):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm,
                                           ChecksumType=checksum_type)["UploadId"]
    parts = []
    for n, data in enumerate((PART1, PART2), start=1):
        resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data,
                              ChecksumAlgorithm=algorithm)
        assert resp[f"Checksum{algorithm}"] == b64(algorithm, data)
        parts.append({"ETag": resp["ETag"], "PartNumber": n, f"Checksum{algorithm}": resp[f"Checksum{algorithm}"]})
    return upload_id, parts


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_multipart_composite_checksum(s3, bucket, algorithm):
    # moto differs: no checksum on CompleteMultipartUpload.
    upload_id, parts = _upload_parts(s3, bucket, "mp", algorithm, "COMPOSITE")
    resp = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
    expected = composite(algorithm, [PART1, PART2])
    assert resp[f"Checksum{algorithm}"] == expected
    assert resp["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == expected
    assert head["ChecksumType"] == "COMPOSITE"


def test_multipart_composite_parts_are_listed_with_checksums(s3, bucket):
    # moto differs: no ChecksumAlgorithm in ListParts.
    upload_id, parts = _upload_parts(s3, bucket, "mp", "SHA256", "COMPOSITE")
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert listed["ChecksumAlgorithm"] == "SHA256"
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [b64("SHA256", PART1), b64("SHA256", PART2)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
    attrs = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["Checksum", "ObjectParts"])
    assert attrs["Checksum"]["ChecksumSHA256"] == composite("SHA256", [PART1, PART2]).split("-")[0]
    assert attrs["Checksum"]["ChecksumType"] == "COMPOSITE"
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2
    assert [(p["PartNumber"], p["Size"], p["ChecksumSHA256"]) for p in attrs["ObjectParts"]["Parts"]] == [
        (1, len(PART1), b64("SHA256", PART1)), (2, len(PART2), b64("SHA256", PART2))]


def test_multipart_composite_get_part_returns_part_checksum(s3, bucket):
    # moto differs: returns the whole-object checksum for a part.
    upload_id, parts = _upload_parts(s3, bucket, "mp", "CRC32", "COMPOSITE")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
    resp = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2, ChecksumMode="ENABLED")
    assert resp["ChecksumCRC32"] == b64("CRC32", PART2)
    assert resp["Body"].read() == PART2


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_multipart_full_object_checksum(s3, bucket, algorithm):
    # moto differs: no checksum on CompleteMultipartUpload.
    upload_id, parts = _upload_parts(s3, bucket, "mp", algorithm, "FULL_OBJECT")
    whole = b64(algorithm, PART1 + PART2)
    resp = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id, ChecksumType="FULL_OBJECT",
        MultipartUpload={"Parts": [{"ETag": p["ETag"], "PartNumber": p["PartNumber"]} for p in parts]},
        **{f"Checksum{algorithm}": whole})
    assert resp[f"Checksum{algorithm}"] == whole
    assert resp["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == whole
    assert head["ChecksumType"] == "FULL_OBJECT"


def test_multipart_full_object_checksum_is_computed_when_not_sent(s3, bucket):
    # moto differs: no checksum on CompleteMultipartUpload.
    upload_id, parts = _upload_parts(s3, bucket, "mp", "CRC32C", "FULL_OBJECT")
    resp = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload_id,
        MultipartUpload={"Parts": [{"ETag": p["ETag"], "PartNumber": p["PartNumber"]} for p in parts]})
    assert resp["ChecksumCRC32C"] == b64("CRC32C", PART1 + PART2)


def test_multipart_full_object_with_wrong_checksum_is_bad_digest(s3, bucket):
    # moto differs: does not verify the full-object checksum.
    upload_id, parts = _upload_parts(s3, bucket, "mp", "CRC32C", "FULL_OBJECT")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload_id, ChecksumType="FULL_OBJECT",
            ChecksumCRC32C=b64("CRC32C", b"not the object"),
            MultipartUpload={"Parts": [{"ETag": p["ETag"], "PartNumber": p["PartNumber"]} for p in parts]})
    assert error(e) == ("BadDigest", 400)


def test_multipart_without_algorithm_gets_crc64nvme_full_object_checksum(s3, bucket):
    # moto differs: no default CRC64NVME.
    # AWS computes a CRC64NVME full-object checksum for multipart uploads created without an algorithm.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    for n, data in enumerate((PART1, PART2), start=1):
        parts.append({"ETag": s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=n, Body=data)["ETag"],
                      "PartNumber": n})
    resp = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert resp["ChecksumCRC64NVME"] == b64("CRC64NVME", PART1 + PART2)
    assert resp["ChecksumType"] == "FULL_OBJECT"


def test_multipart_composite_complete_with_wrong_part_checksum_is_invalid_part(s3, bucket):
    # moto differs: does not check part checksums on complete.
    upload_id, parts = _upload_parts(s3, bucket, "mp", "CRC32", "COMPOSITE")
    parts[0]["ChecksumCRC32"] = b64("CRC32", b"bbb")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
    assert error(e) == ("InvalidPart", 400)


def test_multipart_composite_complete_without_part_checksums_is_invalid_request(s3, bucket):
    # moto differs: does not check part checksums on complete.
    upload_id, parts = _upload_parts(s3, bucket, "mp", "SHA1", "COMPOSITE")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={
            "Parts": [{"ETag": p["ETag"], "PartNumber": p["PartNumber"]} for p in parts]})
    assert error(e) == ("InvalidRequest", 400)


@pytest.mark.parametrize("algorithm,checksum_type", [("CRC64NVME", "COMPOSITE"), ("SHA1", "FULL_OBJECT"), ("SHA256", "FULL_OBJECT")])
def test_incompatible_checksum_type_is_invalid_request(s3, bucket, algorithm, checksum_type):
    # moto differs: accepts any algorithm/type pair.
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm=algorithm, ChecksumType=checksum_type)
    assert error(e) == ("InvalidRequest", 400)


def test_upload_part_with_other_algorithm_than_upload_is_invalid_request(s3, bucket):
    # moto differs: accepts any part algorithm.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32C",
                                           ChecksumType="FULL_OBJECT")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"x", ChecksumAlgorithm="CRC32")
    assert error(e) == ("InvalidRequest", 400)


def test_list_multipart_uploads_reports_checksum_algorithm(s3, bucket):
    s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm="CRC32C", ChecksumType="FULL_OBJECT")
    upload = s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]
    assert upload["ChecksumAlgorithm"] == "CRC32C"
    assert upload["ChecksumType"] == "FULL_OBJECT"
