"""S3 multipart uploads driven by boto3: Create/UploadPart/UploadPartCopy/Complete/Abort,
ListMultipartUploads, ListParts, the boto3 transfer manager, GetObject PartNumber.
Expected behaviour is real AWS S3."""
import hashlib
import io
import os

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from helpers import error

MIB = 1024 * 1024
BIG = os.urandom(5 * MIB)        # the smallest size allowed for a part that is not the last
TAIL = os.urandom(1234)


def multipart_etag(parts):
    """AWS multipart ETag: md5 of the concatenated binary md5 digests of the parts, then '-N'."""
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def upload(s3, bucket, key, parts, **create_kw):
    """Create an upload and send the parts; returns (upload_id, [{'ETag', 'PartNumber'}])."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create_kw)["UploadId"]
    done = []
    for n, data in enumerate(parts, start=1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=data)["ETag"]
        done.append({"ETag": etag, "PartNumber": n})
    return upload_id, done


def complete(s3, bucket, key, upload_id, parts):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})


@pytest.fixture
def two_part_object(s3, bucket):
    key = "mp/two-parts.bin"
    upload_id, parts = upload(s3, bucket, key, [BIG, TAIL])
    complete(s3, bucket, key, upload_id, parts)
    return key


# --- Happy path ---------------------------------------------------------------------------------

def test_create_multipart_upload_returns_upload_id(s3, bucket):
    resp = s3.create_multipart_upload(Bucket=bucket, Key="k")
    assert resp["Bucket"] == bucket
    assert resp["Key"] == "k"
    assert resp["UploadId"]


def test_upload_part_returns_md5_etag(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    resp = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=TAIL)
    assert resp["ETag"] == '"' + hashlib.md5(TAIL).hexdigest() + '"'


def test_complete_multipart_upload_assembles_parts_with_multipart_etag(s3, bucket):
    upload_id, parts = upload(s3, bucket, "obj", [BIG, TAIL])
    resp = complete(s3, bucket, "obj", upload_id, parts)
    assert resp["ETag"] == multipart_etag([BIG, TAIL])
    assert resp["Bucket"] == bucket and resp["Key"] == "obj"
    assert resp["Location"]
    got = s3.get_object(Bucket=bucket, Key="obj")
    assert got["ETag"] == resp["ETag"]
    assert got["ContentLength"] == len(BIG) + len(TAIL)
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(BIG + TAIL).digest()


def test_single_small_part_upload_completes(s3, bucket):
    upload_id, parts = upload(s3, bucket, "one", [b"tiny"])
    resp = complete(s3, bucket, "one", upload_id, parts)
    assert resp["ETag"] == multipart_etag([b"tiny"])
    assert s3.get_object(Bucket=bucket, Key="one")["Body"].read() == b"tiny"


def test_non_consecutive_part_numbers_complete_in_order(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="gaps")["UploadId"]
    parts = []
    for n, data in ((2, BIG), (5, BIG), (9, TAIL)):
        etag = s3.upload_part(Bucket=bucket, Key="gaps", UploadId=upload_id, PartNumber=n, Body=data)["ETag"]
        parts.append({"ETag": etag, "PartNumber": n})
    resp = complete(s3, bucket, "gaps", upload_id, parts)
    assert resp["ETag"] == multipart_etag([BIG, BIG, TAIL])
    assert s3.head_object(Bucket=bucket, Key="gaps")["ContentLength"] == 2 * len(BIG) + len(TAIL)


def test_completing_with_a_subset_of_uploaded_parts_uses_only_those(s3, bucket):
    upload_id, parts = upload(s3, bucket, "subset", [BIG, b"dropped", TAIL])
    complete(s3, bucket, "subset", upload_id, [parts[0], parts[2]])
    body = s3.get_object(Bucket=bucket, Key="subset")["Body"].read()
    assert body == BIG + TAIL


def test_upload_part_again_replaces_the_part(s3, bucket):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="re")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="re", UploadId=upload_id, PartNumber=1, Body=b"old data")
    etag = s3.upload_part(Bucket=bucket, Key="re", UploadId=upload_id, PartNumber=1, Body=b"new")["ETag"]
    complete(s3, bucket, "re", upload_id, [{"ETag": etag, "PartNumber": 1}])
    assert s3.get_object(Bucket=bucket, Key="re")["Body"].read() == b"new"


def test_multipart_object_keeps_metadata_and_content_type_from_create(s3, bucket):
    upload_id, parts = upload(s3, bucket, "meta", [b"abc"], ContentType="text/plain", Metadata={"origin": "mp"})
    complete(s3, bucket, "meta", upload_id, parts)
    head = s3.head_object(Bucket=bucket, Key="meta")
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"origin": "mp"}


def test_completed_upload_is_no_longer_listed(s3, bucket):
    upload_id, parts = upload(s3, bucket, "gone", [b"x"])
    complete(s3, bucket, "gone", upload_id, parts)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_list_objects_shows_multipart_etag_and_size(s3, bucket, two_part_object):
    entry = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert entry["Key"] == two_part_object
    assert entry["ETag"] == multipart_etag([BIG, TAIL])
    assert entry["Size"] == len(BIG) + len(TAIL)


def test_copy_of_multipart_object_gets_single_part_md5_etag(s3, bucket, two_part_object):
    resp = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": two_part_object})
    assert resp["CopyObjectResult"]["ETag"] == '"' + hashlib.md5(BIG + TAIL).hexdigest() + '"'


def test_get_object_attributes_reports_total_parts_count(s3, bucket, two_part_object):
    # moto differs: no ObjectParts for multipart objects without checksums.
    resp = s3.get_object_attributes(Bucket=bucket, Key=two_part_object, ObjectAttributes=["ObjectParts", "ETag", "ObjectSize"])
    assert resp["ObjectParts"]["TotalPartsCount"] == 2
    assert resp["ETag"] == multipart_etag([BIG, TAIL]).strip('"')
    assert resp["ObjectSize"] == len(BIG) + len(TAIL)


# --- Errors on Complete -------------------------------------------------------------------------

def test_complete_with_wrong_etag_is_invalid_part(s3, bucket):
    upload_id, _ = upload(s3, bucket, "k", [b"data"])
    with pytest.raises(ClientError) as e:
        complete(s3, bucket, "k", upload_id, [{"ETag": '"d41d8cd98f00b204e9800998ecf8427e"', "PartNumber": 1}])
    assert error(e) == ("InvalidPart", 400)


def test_complete_with_never_uploaded_part_number_is_invalid_part(s3, bucket):
    upload_id, parts = upload(s3, bucket, "k", [b"data"])
    with pytest.raises(ClientError) as e:
        complete(s3, bucket, "k", upload_id, [{"ETag": parts[0]["ETag"], "PartNumber": 2}])
    assert error(e) == ("InvalidPart", 400)


def test_complete_with_parts_out_of_order_is_invalid_part_order(s3, bucket):
    # moto differs: completes with the parts in the given order.
    # Both parts are large enough, so only the order is wrong.
    upload_id, parts = upload(s3, bucket, "k", [BIG, BIG])
    with pytest.raises(ClientError) as e:
        complete(s3, bucket, "k", upload_id, [parts[1], parts[0]])
    assert error(e) == ("InvalidPartOrder", 400)


def test_complete_with_small_non_last_part_is_entity_too_small(s3, bucket):
    # moto differs: no MinSizeAllowed/ProposedSize in the error.
    upload_id, parts = upload(s3, bucket, "k", [b"data", b"data"])
    with pytest.raises(ClientError) as e:
        complete(s3, bucket, "k", upload_id, parts)
    assert error(e) == ("EntityTooSmall", 400)
    err = e.value.response["Error"]
    assert err["MinSizeAllowed"] == "5242880"
    assert err["ProposedSize"] == "4"


def test_part_of_exactly_5_mib_is_large_enough(s3, bucket):
    upload_id, parts = upload(s3, bucket, "k", [BIG, b"end"])
    assert complete(s3, bucket, "k", upload_id, parts)["ETag"] == multipart_etag([BIG, b"end"])


def test_complete_without_parts_is_invalid_request(s3, bucket):
    # moto differs: answers 500.
    upload_id, _ = upload(s3, bucket, "k", [b"data"])
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    assert error(e) == ("InvalidRequest", 400)


def test_complete_unknown_upload_is_no_such_upload(s3, bucket):
    # moto differs: answers 500.
    with pytest.raises(ClientError) as e:
        complete(s3, bucket, "k", "no-such-upload-id", [{"ETag": '"x"', "PartNumber": 1}])
    assert error(e) == ("NoSuchUpload", 404)
    assert e.value.response["Error"]["UploadId"] == "no-such-upload-id"


def test_upload_part_to_unknown_upload_is_no_such_upload(s3, bucket):
    # moto differs: answers 500.
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId="no-such-upload-id", PartNumber=1, Body=b"x")
    assert error(e) == ("NoSuchUpload", 404)


@pytest.mark.parametrize("number", [0, 10001])
def test_upload_part_number_out_of_range_is_invalid_argument(s3, bucket, number):
    # moto differs: answers NoSuchUpload for part number 0.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"x")
    assert error(e) == ("InvalidArgument", 400)


def test_upload_id_is_bound_to_its_key(s3, bucket):
    # moto differs: accepts an upload id under another key.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="right")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="wrong", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert error(e) == ("NoSuchUpload", 404)


# --- Abort --------------------------------------------------------------------------------------

def test_abort_multipart_upload_returns_204_and_discards_it(s3, bucket):
    # moto differs: answers 500 for a part sent to an aborted upload.
    upload_id, _ = upload(s3, bucket, "k", [b"data"])
    assert s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=2, Body=b"x")
    assert error(e) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="k")
    assert error(e) == ("404", 404)


def test_abort_unknown_upload_is_no_such_upload(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId="no-such-upload-id")
    assert error(e) == ("NoSuchUpload", 404)


# --- ListMultipartUploads -----------------------------------------------------------------------

def test_list_multipart_uploads_shows_uploads_in_progress(s3, bucket):
    # moto differs: lists uploads in creation order, not by key.
    ids = {k: s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"] for k in ("b/two", "a/one")}
    resp = s3.list_multipart_uploads(Bucket=bucket)
    assert resp["Bucket"] == bucket
    assert [(u["Key"], u["UploadId"]) for u in resp["Uploads"]] == [("a/one", ids["a/one"]), ("b/two", ids["b/two"])]
    for u in resp["Uploads"]:
        assert u["Initiated"]
        assert u["StorageClass"] == "STANDARD"
    assert resp["IsTruncated"] is False


def test_list_multipart_uploads_prefix_and_delimiter(s3, bucket):
    # moto differs: ignores the delimiter.
    for k in ("logs/a", "logs/sub/b", "other"):
        s3.create_multipart_upload(Bucket=bucket, Key=k)
    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="logs/", Delimiter="/")
    assert [u["Key"] for u in resp["Uploads"]] == ["logs/a"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["logs/sub/"]


def test_list_multipart_uploads_paginates_with_markers(s3, bucket):
    for k in ("k1", "k2", "k3"):
        s3.create_multipart_upload(Bucket=bucket, Key=k)
    seen, kw = [], {}
    for _ in range(5):
        resp = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=2, **kw)
        seen += [u["Key"] for u in resp.get("Uploads", [])]
        if not resp["IsTruncated"]:
            break
        kw = {"KeyMarker": resp["NextKeyMarker"], "UploadIdMarker": resp["NextUploadIdMarker"]}
    assert seen == ["k1", "k2", "k3"]


def test_list_multipart_uploads_lists_several_uploads_of_one_key(s3, bucket):
    ids = {s3.create_multipart_upload(Bucket=bucket, Key="same")["UploadId"] for _ in range(2)}
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert {u["UploadId"] for u in uploads} == ids


# --- ListParts ----------------------------------------------------------------------------------

def test_list_parts_reports_number_size_and_etag(s3, bucket):
    upload_id, parts = upload(s3, bucket, "k", [b"first", b"second!"])
    resp = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in resp["Parts"]] == [
        (1, 5, parts[0]["ETag"]), (2, 7, parts[1]["ETag"])]
    assert all(p["LastModified"] for p in resp["Parts"])
    assert resp["IsTruncated"] is False
    assert resp["UploadId"] == upload_id
    assert resp["StorageClass"] == "STANDARD"


def test_list_parts_paginates(s3, bucket):
    upload_id, _ = upload(s3, bucket, "k", [b"1", b"2", b"3"])
    first = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in first["Parts"]] == [1, 2]
    assert first["IsTruncated"] is True
    assert first["NextPartNumberMarker"] == 2
    assert first["MaxParts"] == 2
    second = s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id, MaxParts=2,
                           PartNumberMarker=first["NextPartNumberMarker"])
    assert [p["PartNumber"] for p in second["Parts"]] == [3]
    assert second["IsTruncated"] is False
    assert second["PartNumberMarker"] == 2


def test_list_parts_of_unknown_upload_is_no_such_upload(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="k", UploadId="no-such-upload-id")
    assert error(e) == ("NoSuchUpload", 404)


# --- UploadPartCopy -----------------------------------------------------------------------------

def test_upload_part_copy_with_ranges_assembles_object(s3, bucket):
    src = BIG + TAIL
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    first = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "src"},
                                CopySourceRange=f"bytes=0-{len(BIG) - 1}")
    second = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=2,
                                 CopySource={"Bucket": bucket, "Key": "src"},
                                 CopySourceRange=f"bytes={len(BIG)}-{len(src) - 1}")
    assert first["CopyPartResult"]["ETag"] == '"' + hashlib.md5(BIG).hexdigest() + '"'
    assert second["CopyPartResult"]["ETag"] == '"' + hashlib.md5(TAIL).hexdigest() + '"'
    complete(s3, bucket, "dst", upload_id, [
        {"ETag": first["CopyPartResult"]["ETag"], "PartNumber": 1},
        {"ETag": second["CopyPartResult"]["ETag"], "PartNumber": 2}])
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src


def test_upload_part_copy_without_range_copies_whole_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"whole source")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    res = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource=f"{bucket}/src")
    complete(s3, bucket, "dst", upload_id, [{"ETag": res["CopyPartResult"]["ETag"], "PartNumber": 1}])
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"whole source"


def test_upload_part_copy_range_beyond_source_is_invalid_argument(s3, bucket):
    # moto differs: accepts a range past the end of the source.
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1,
                            CopySource=f"{bucket}/src", CopySourceRange="bytes=0-100")
    assert error(e) == ("InvalidArgument", 400)


def test_upload_part_copy_from_missing_source_is_no_such_key(s3, bucket):
    # moto differs: bare 404 without the NoSuchKey code.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=upload_id, PartNumber=1, CopySource=f"{bucket}/absent")
    assert error(e) == ("NoSuchKey", 404)


# --- GetObject / HeadObject with PartNumber -----------------------------------------------------

def test_get_object_part_number_returns_that_part(s3, bucket, two_part_object):
    # moto differs: ignores partNumber (whole object, 200).
    total = len(BIG) + len(TAIL)
    resp = s3.get_object(Bucket=bucket, Key=two_part_object, PartNumber=2)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["Body"].read() == TAIL
    assert resp["ContentLength"] == len(TAIL)
    assert resp["ContentRange"] == f"bytes {len(BIG)}-{total - 1}/{total}"
    assert resp["PartsCount"] == 2
    assert resp["ETag"] == multipart_etag([BIG, TAIL])


def test_head_object_part_number_reports_part_size(s3, bucket, two_part_object):
    # moto differs: ignores partNumber (whole object, 200).
    resp = s3.head_object(Bucket=bucket, Key=two_part_object, PartNumber=1)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert resp["ContentLength"] == len(BIG)
    assert resp["PartsCount"] == 2
    assert resp["ContentRange"] == f"bytes 0-{len(BIG) - 1}/{len(BIG) + len(TAIL)}"


def test_get_object_part_number_beyond_parts_count_is_invalid_part_number(s3, bucket, two_part_object):
    # moto differs: ignores partNumber.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key=two_part_object, PartNumber=3)
    assert error(e) == ("InvalidPartNumber", 416)


def test_get_object_with_part_number_and_range_is_invalid_request(s3, bucket, two_part_object):
    # moto differs: ignores partNumber.
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key=two_part_object, PartNumber=1, Range="bytes=0-8")
    assert error(e) == ("InvalidRequest", 400)


# --- boto3 transfer manager ---------------------------------------------------------------------

def test_upload_file_and_download_file_with_forced_multipart(s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    data = os.urandom(20 * MIB)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=4)
    s3.upload_file(str(src), bucket, "big/file.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ContentLength"] == len(data)
    chunks = [data[i:i + 5 * MIB] for i in range(0, len(data), 5 * MIB)]
    assert head["ETag"] == multipart_etag(chunks)
    dst = tmp_path / "dst.bin"
    s3.download_file(bucket, "big/file.bin", str(dst), Config=cfg)
    assert hashlib.sha256(dst.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_upload_fileobj_with_uneven_last_chunk(s3, bucket):
    data = os.urandom(11 * MIB + 17)
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_fileobj(io.BytesIO(data), bucket, "uneven.bin", Config=cfg)
    out = io.BytesIO()
    s3.download_fileobj(bucket, "uneven.bin", out, Config=cfg)
    assert out.getvalue() == data
    assert s3.head_object(Bucket=bucket, Key="uneven.bin")["ETag"].endswith('-3"')
