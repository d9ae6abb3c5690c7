"""S3 wire fidelity (issue 13): answers field for field as AWS gives them today.

Scenarios: owners without DisplayName (ListBuckets, ListObjects FetchOwner, ListObjectVersions, multipart listings,
ACL grantees); BucketArn in ListBuckets and CreateBucket; default encryption (AES256, the KMS key asked, or the aws/s3
managed key) on PUT, GET, HEAD, copy, upload part, part copy, complete; ListMultipartUploads next markers; checksum
types and AWS's checksum-mode and part error texts; x-amz-expected-bucket-owner and x-amz-source-expected-bucket-owner;
IllegalLocationConstraintException; analytics, metrics, inventory and intelligent-tiering configurations stored by id
(validation, paging, restart); method and sub-resource pairs no operation accepts (MethodNotAllowed), and real
operations Cloudless does not serve (NotImplemented, never another operation). Expected behaviour is real AWS S3."""
import re
import uuid
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError

from helpers import error, error_message, make_client, raw_request
from server import Server

MIB = 1024 * 1024
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def new_name():
    return "e2e-fid-" + uuid.uuid4().hex[:16]


def xml_of(r):
    return ET.fromstring(r.content)


# --- owners and bucket ARNs ------------------------------------------------------------------------------------------

def test_owners_carry_no_display_name(s3, bucket, endpoint):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.create_multipart_upload(Bucket=bucket, Key="up")
    owners = [
        s3.list_buckets()["Owner"],
        s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"],
        s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"],
        s3.list_object_versions(Bucket=bucket)["Versions"][0]["Owner"],
        s3.get_bucket_acl(Bucket=bucket)["Owner"],
        s3.get_bucket_acl(Bucket=bucket)["Grants"][0]["Grantee"],
        s3.get_object_acl(Bucket=bucket, Key="k")["Grants"][0]["Grantee"],
    ]
    upload = s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]
    owners += [upload["Owner"], upload["Initiator"]]
    parts = s3.list_parts(Bucket=bucket, Key="up", UploadId=upload["UploadId"])
    owners += [parts["Owner"], parts["Initiator"]]
    assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]  # only with FetchOwner
    for o in owners:
        assert "DisplayName" not in o, o
        assert len(o["ID"]) == 64
    assert b"DisplayName" not in raw_request(endpoint, "GET", "/").content


def test_bucket_arn_in_list_buckets_and_create_bucket(s3, endpoint):
    name = new_name()
    r = raw_request(endpoint, "PUT", f"/{name}")
    try:
        assert r.status_code == 200
        assert r.headers["x-amz-bucket-arn"] == f"arn:aws:s3:::{name}"
        listed = [b for b in s3.list_buckets()["Buckets"] if b["Name"] == name]
        assert listed[0]["BucketArn"] == f"arn:aws:s3:::{name}"
        assert s3.create_bucket(Bucket=name)["BucketArn"] == f"arn:aws:s3:::{name}"  # us-east-1 re-create: 200
    finally:
        s3.delete_bucket(Bucket=name)


# --- default encryption --------------------------------------------------------------------------------------------

def sse(response):
    return response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-server-side-encryption")


def test_every_write_and_read_says_aes256_by_default(s3, bucket):
    assert s3.put_object(Bucket=bucket, Key="a", Body=b"x")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="a")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="a")["ServerSideEncryption"] == "AES256"
    assert s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"})["ServerSideEncryption"] == "AES256"
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")
    assert up["ServerSideEncryption"] == "AES256"
    p1 = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=b"y" * 10)
    assert p1["ServerSideEncryption"] == "AES256"
    p2 = s3.upload_part_copy(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=2, CopySource={"Bucket": bucket, "Key": "a"})
    assert p2["ServerSideEncryption"] == "AES256"
    s3.abort_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"])
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")
    p1 = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=b"y")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"ETag": p1["ETag"], "PartNumber": 1}]})
    assert done["ServerSideEncryption"] == "AES256"


def test_the_kms_key_asked_for_is_answered_on_every_step(s3, bucket):
    key = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    put = s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", key)
    head = s3.head_object(Bucket=bucket, Key="a")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    assert up["SSEKMSKeyId"] == key
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=b"y")
    assert (part["ServerSideEncryption"], part["SSEKMSKeyId"]) == ("aws:kms", key)
    copied = s3.upload_part_copy(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=2, CopySource={"Bucket": bucket, "Key": "a"})
    assert (copied["ServerSideEncryption"], copied["SSEKMSKeyId"]) == ("aws:kms", key)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    assert (done["ServerSideEncryption"], done["SSEKMSKeyId"]) == ("aws:kms", key)
    got = s3.get_object(Bucket=bucket, Key="m")
    assert (got["ServerSideEncryption"], got["SSEKMSKeyId"]) == ("aws:kms", key)


def test_kms_without_a_key_uses_the_aws_managed_key(s3, bucket, account):
    put = s3.put_object(Bucket=bucket, Key="a", Body=b"x", ServerSideEncryption="aws:kms")
    managed = put["SSEKMSKeyId"]
    assert re.fullmatch(rf"arn:aws:kms:us-east-1:{account}:key/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}", managed)
    assert s3.head_object(Bucket=bucket, Key="a")["SSEKMSKeyId"] == managed
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    by_default = s3.put_object(Bucket=bucket, Key="b", Body=b"x")
    assert (by_default["ServerSideEncryption"], by_default["SSEKMSKeyId"]) == ("aws:kms", managed)
    assert s3.create_multipart_upload(Bucket=bucket, Key="m")["SSEKMSKeyId"] == managed


# --- multipart listings and checksums ------------------------------------------------------------------------------

def test_list_multipart_uploads_always_answers_next_markers(s3, bucket):
    empty = s3.list_multipart_uploads(Bucket=bucket)
    assert (empty["NextKeyMarker"], empty["NextUploadIdMarker"], empty["IsTruncated"]) == ("", "", False)
    ids = [s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"] for k in ("a", "b")]
    full = s3.list_multipart_uploads(Bucket=bucket)
    assert (full["NextKeyMarker"], full["NextUploadIdMarker"], full["IsTruncated"]) == ("b", ids[1], False)
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"], page["IsTruncated"]) == ("a", ids[0], True)


def test_checksum_type_is_answered_where_aws_answers_it(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="a", Body=b"x", ChecksumAlgorithm="CRC32")
    assert put["ChecksumType"] == "FULL_OBJECT"
    assert s3.head_object(Bucket=bucket, Key="a", ChecksumMode="ENABLED")["ChecksumType"] == "FULL_OBJECT"
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ChecksumType"] == "FULL_OBJECT"
    assert s3.list_object_versions(Bucket=bucket)["Versions"][0]["ChecksumType"] == "FULL_OBJECT"
    attributes = s3.get_object_attributes(Bucket=bucket, Key="a", ObjectAttributes=["Checksum"])
    assert attributes["Checksum"]["ChecksumType"] == "FULL_OBJECT"
    copied = s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"})
    assert copied["CopyObjectResult"]["ChecksumType"] == "FULL_OBJECT"
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="SHA256")
    assert up["ChecksumType"] == "COMPOSITE"
    assert s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["ChecksumType"] == "COMPOSITE"
    assert s3.list_parts(Bucket=bucket, Key="m", UploadId=up["UploadId"])["ChecksumType"] == "COMPOSITE"
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=b"y", ChecksumAlgorithm="SHA256")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"ETag": part["ETag"], "PartNumber": 1, "ChecksumSHA256": part["ChecksumSHA256"]}]})
    assert done["ChecksumType"] == "COMPOSITE"


def test_full_object_type_with_sha1_uses_aws_text(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="SHA1", ChecksumType="FULL_OBJECT")
    assert error(e) == ("InvalidRequest", 400)
    assert error_message(e) == "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads") is None


def test_complete_in_another_checksum_mode_uses_aws_text(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", ChecksumAlgorithm="CRC32")
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=b"y", ChecksumAlgorithm="CRC32")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"], ChecksumType="FULL_OBJECT", MultipartUpload={
            "Parts": [{"ETag": part["ETag"], "PartNumber": 1, "ChecksumCRC32": part["ChecksumCRC32"]}]})
    assert error(e) == ("InvalidRequest", 400)
    assert error_message(e) == ("The upload was created using the COMPOSITE checksum mode. "
                                "The complete request must use the same checksum mode.")
    assert s3.list_parts(Bucket=bucket, Key="m", UploadId=up["UploadId"])["Parts"][0]["PartNumber"] == 1


def test_part_errors_use_aws_texts(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")
    parts = [{"ETag": s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=n, Body=b"z")["ETag"],
              "PartNumber": n} for n in (1, 2)]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"], MultipartUpload={"Parts": parts[::-1]})
    assert error(e) == ("InvalidPartOrder", 400)
    assert error_message(e) == "The list of parts was not in ascending order. Parts must be ordered by part number."
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    assert error(e) == ("EntityTooSmall", 400)
    assert error_message(e) == "Your proposed upload is smaller than the minimum allowed size"
    assert len(s3.list_parts(Bucket=bucket, Key="m", UploadId=up["UploadId"])["Parts"]) == 2


# --- expected bucket owner and location constraints ----------------------------------------------------------------

def test_expected_bucket_owner_is_checked_first(s3, bucket, account):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=account)["Body"].read() == b"x"
    for bad in ("abc", "12345678901", "1234567890123"):
        with pytest.raises(ClientError) as e:
            s3.delete_object(Bucket=bucket, Key="k", ExpectedBucketOwner=bad)
        assert error(e) == ("InvalidBucketOwnerAWSAccountID", 400)
        assert error_message(e) == f"The value of the expected bucket owner parameter must be an AWS Account ID... [{bad}]"
    other = "999999999999" if account != "999999999999" else "888888888888"
    calls = [
        lambda: s3.delete_object(Bucket=bucket, Key="k", ExpectedBucketOwner=other),
        lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"changed", ExpectedBucketOwner=other),
        lambda: s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=other),
        lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}, ExpectedBucketOwner=other),
        lambda: s3.delete_bucket(Bucket=bucket, ExpectedBucketOwner=other),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("AccessDenied", 403)
    # Nothing changed: the bad key id is refused before the key is even read.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    long_key = "k" * 1100
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key=long_key, Body=b"x", ExpectedBucketOwner="abc")
    assert error(e) == ("InvalidBucketOwnerAWSAccountID", 400)


def test_expected_source_bucket_owner_guards_copies(s3, bucket, account):
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    source = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="ok", CopySource=source, ExpectedSourceBucketOwner=account)
    other = "999999999999" if account != "999999999999" else "888888888888"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="no", CopySource=source, ExpectedSourceBucketOwner=other)
    assert error(e) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="no", CopySource=source, ExpectedSourceBucketOwner="x")
    assert error(e) == ("InvalidBucketOwnerAWSAccountID", 400)
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.upload_part_copy(Bucket=bucket, Key="m", UploadId=up, PartNumber=1, CopySource=source, ExpectedSourceBucketOwner=other)
    assert error(e) == ("AccessDenied", 403)
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="m", UploadId=up)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["ok", "src"]


def test_location_constraint_of_another_region_is_illegal(endpoint):
    west = make_client(endpoint, region="eu-west-1")
    name = new_name()
    with pytest.raises(ClientError) as e:
        west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    assert error(e) == ("IllegalLocationConstraintException", 400)
    assert error_message(e) == ("The eu-central-1 location constraint is incompatible for the region specific endpoint "
                                "this request was sent to.")
    with pytest.raises(ClientError) as e:
        west.create_bucket(Bucket=name)
    assert error(e) == ("IllegalLocationConstraintException", 400)
    assert error_message(e) == ("The unspecified location constraint is incompatible for the region specific endpoint "
                                "this request was sent to.")
    with pytest.raises(ClientError) as e:
        west.head_bucket(Bucket=name)
    assert error(e)[1] == 404


# --- configurations kept by id -------------------------------------------------------------------------------------

ANALYTICS = {"Id": "a1", "Filter": {"Prefix": "logs/"}, "StorageClassAnalysis": {"DataExport": {
    "OutputSchemaVersion": "V_1", "Destination": {"S3BucketDestination": {
        "Format": "CSV", "Bucket": "arn:aws:s3:::dest", "Prefix": "out"}}}}}
METRICS = {"Id": "m1", "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}]}}}
INVENTORY = {"Id": "i1", "IsEnabled": True, "IncludedObjectVersions": "Current", "Schedule": {"Frequency": "Daily"},
             "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::dest", "Format": "CSV"}},
             "OptionalFields": ["Size", "ETag"]}
TIERING = {"Id": "t1", "Status": "Enabled", "Filter": {"Prefix": "cold/"},
           "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}, {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}

KINDS = [
    ("analytics", "AnalyticsConfiguration", "AnalyticsConfigurationList", ANALYTICS),
    ("metrics", "MetricsConfiguration", "MetricsConfigurationList", METRICS),
    ("inventory", "InventoryConfiguration", "InventoryConfigurationList", INVENTORY),
    ("intelligent_tiering", "IntelligentTieringConfiguration", "IntelligentTieringConfigurationList", TIERING),
]


@pytest.mark.parametrize("kind,member,list_member,config", KINDS, ids=[k[0] for k in KINDS])
def test_configurations_are_stored_by_id(s3, bucket, kind, member, list_member, config):
    put = getattr(s3, f"put_bucket_{kind}_configuration")
    get = getattr(s3, f"get_bucket_{kind}_configuration")
    delete = getattr(s3, f"delete_bucket_{kind}_configuration")
    listing = getattr(s3, f"list_bucket_{kind}_configurations")
    put(Bucket=bucket, Id=config["Id"], **{member: config})
    second = {**config, "Id": "z9"}
    put(Bucket=bucket, Id="z9", **{member: second})
    assert get(Bucket=bucket, Id=config["Id"])[member] == config
    listed = listing(Bucket=bucket)
    assert listed["IsTruncated"] is False
    assert listed[list_member] == [config, second]
    delete(Bucket=bucket, Id="z9")
    assert listing(Bucket=bucket)[list_member] == [config]
    for call in (lambda: get(Bucket=bucket, Id="z9"), lambda: delete(Bucket=bucket, Id="z9")):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("NoSuchConfiguration", 404)
        assert error_message(e) == "The specified configuration does not exist."


def test_configurations_list_a_hundred_to_a_page(s3, bucket):
    for n in range(101):
        s3.put_bucket_metrics_configuration(Bucket=bucket, Id=f"m{n:03}", MetricsConfiguration={"Id": f"m{n:03}"})
    first = s3.list_bucket_metrics_configurations(Bucket=bucket)
    assert (first["IsTruncated"], len(first["MetricsConfigurationList"])) == (True, 100)
    rest = s3.list_bucket_metrics_configurations(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert rest["IsTruncated"] is False
    assert [c["Id"] for c in rest["MetricsConfigurationList"]] == ["m100"]


@pytest.mark.parametrize("query,body", [
    ("analytics&id=a1", b"<AnalyticsConfiguration><Id>a1</Id></AnalyticsConfiguration>"),
    ("analytics&id=a1", b"<AnalyticsConfiguration><Id>a1</Id><StorageClassAnalysis><DataExport><OutputSchemaVersion>V_2"
                        b"</OutputSchemaVersion></DataExport></StorageClassAnalysis></AnalyticsConfiguration>"),
    ("metrics&id=m1", b"<MetricsConfiguration><Filter><Prefix>a</Prefix></Filter></MetricsConfiguration>"),
    ("metrics&id=m1", b"<MetricsConfiguration><Id>m1</Id><Filter><Prefix>a</Prefix><Tag><Key>k</Key></Tag></Filter>"
                      b"</MetricsConfiguration>"),
    ("metrics&id=m1", b"<NotMetrics><Id>m1</Id></NotMetrics>"),
    ("metrics&id=m1", b"<MetricsConfiguration><Id>m1</Id>"),
    ("inventory&id=i1", b"<InventoryConfiguration><Id>i1</Id><IsEnabled>maybe</IsEnabled></InventoryConfiguration>"),
    ("inventory&id=i1", b"<InventoryConfiguration><Id>i1</Id><IsEnabled>true</IsEnabled><IncludedObjectVersions>All"
                        b"</IncludedObjectVersions><Schedule><Frequency>Monthly</Frequency></Schedule><Destination>"
                        b"<S3BucketDestination><Bucket>arn:aws:s3:::d</Bucket><Format>CSV</Format></S3BucketDestination>"
                        b"</Destination></InventoryConfiguration>"),
    ("intelligent-tiering&id=t1", b"<IntelligentTieringConfiguration><Id>t1</Id><Status>Enabled</Status>"
                                  b"</IntelligentTieringConfiguration>"),
    ("intelligent-tiering&id=t1", b"<IntelligentTieringConfiguration><Id>t1</Id><Status>Enabled</Status><Tiering><Days>1"
                                  b"</Days><AccessTier>HOT</AccessTier></Tiering></IntelligentTieringConfiguration>"),
])
def test_a_bad_configuration_is_malformed_xml_and_stores_nothing(s3, bucket, endpoint, query, body):
    r = raw_request(endpoint, "PUT", f"/{bucket}?{query}", body=body)
    assert r.status_code == 400
    assert xml_of(r).findtext("Code") == "MalformedXML"
    listed = raw_request(endpoint, "GET", f"/{bucket}?{query.split('&')[0]}")
    assert listed.status_code == 200
    assert len(list(xml_of(listed))) == 1  # IsTruncated alone


def test_configuration_ids_must_match_the_document(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_analytics_configuration(Bucket=bucket, Id="other", AnalyticsConfiguration=ANALYTICS)
    assert error(e) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_inventory_configuration(Bucket=bucket, Id="other", InventoryConfiguration=INVENTORY)
    assert error(e) == ("IdMismatch", 400)
    assert error_message(e) == "Document ID does not match the specified configuration ID."
    not_arn = {**INVENTORY, "Destination": {"S3BucketDestination": {"Bucket": "dest", "Format": "CSV"}}}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_inventory_configuration(Bucket=bucket, Id="i1", InventoryConfiguration=not_arn)
    assert error(e) == ("InvalidS3DestinationBucket", 400)
    assert error_message(e) == "Invalid bucket ARN."
    assert "AnalyticsConfigurationList" not in s3.list_bucket_analytics_configurations(Bucket=bucket)
    assert "InventoryConfigurationList" not in s3.list_bucket_inventory_configurations(Bucket=bucket)


def test_configurations_survive_a_restart_and_go_with_the_bucket():
    server = Server().start()
    try:
        s3 = make_client(server.endpoint)
        name = new_name()
        s3.create_bucket(Bucket=name)
        s3.put_bucket_inventory_configuration(Bucket=name, Id="i1", InventoryConfiguration=INVENTORY)
        server.stop()
        server.start()
        assert s3.list_bucket_inventory_configurations(Bucket=name)["InventoryConfigurationList"] == [INVENTORY]
        s3.delete_bucket(Bucket=name)
        s3.create_bucket(Bucket=name)
        assert "InventoryConfigurationList" not in s3.list_bucket_inventory_configurations(Bucket=name)
    finally:
        server.stop()


# --- method and sub-resource pairs no operation accepts ------------------------------------------------------------

@pytest.mark.parametrize("method,path,resource", [
    ("POST", "/{b}/k?tagging", "OBJECT"),
    ("POST", "/{b}/k", "OBJECT"),
    ("POST", "/{b}/k?acl", "OBJECT"),
    ("DELETE", "/{b}?uploads", "BUCKET"),
    ("DELETE", "/{b}?versions", "BUCKET"),
    ("DELETE", "/{b}?location", "BUCKET"),
    ("DELETE", "/{b}?acl", "BUCKET"),
    ("PUT", "/{b}?uploads", "BUCKET"),
    ("PUT", "/{b}?location", "BUCKET"),
    ("POST", "/{b}?policyStatus", "BUCKET"),
    ("POST", "/{b}?analytics&id=x", "BUCKET"),
    ("PUT", "/", "SERVICE"),
])
def test_a_method_no_operation_accepts_is_method_not_allowed(s3, bucket, endpoint, method, path, resource):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = raw_request(endpoint, method, path.format(b=bucket))
    assert r.status_code == 405, r.content
    doc = xml_of(r)
    assert (doc.findtext("Code"), doc.findtext("Method"), doc.findtext("ResourceType")) == ("MethodNotAllowed", method, resource)
    assert doc.findtext("Message") == "The specified method is not allowed against this resource."
    # Nothing changed.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads") is None


def test_delete_bucket_ignores_parameters_that_name_no_subresource(s3, endpoint):
    name = new_name()
    s3.create_bucket(Bucket=name)
    assert raw_request(endpoint, "DELETE", f"/{name}?x-id=DeleteBucket").status_code == 204
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert error(e)[1] == 404


@pytest.mark.parametrize("method,path", [
    ("POST", "/{b}/k?restore"),
    ("POST", "/{b}/k?select&select-type=2"),
    ("GET", "/{b}/k?torrent"),
    ("PUT", "/{b}/k?encryption"),
    ("PUT", "/{b}/k?renameObject"),
    ("PUT", "/{b}?abac"),
    ("GET", "/{b}?session"),
    ("POST", "/{b}?metadataTable"),
    ("GET", "/{b}?metadataConfiguration"),
    ("DELETE", "/{b}?metadataTable"),
])
def test_a_real_operation_cloudless_does_not_serve_is_not_implemented(s3, bucket, endpoint, method, path):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = raw_request(endpoint, method, path.format(b=bucket), body=b"<Nothing/>" if method in ("PUT", "POST") else b"")
    assert r.status_code == 501, r.content
    assert xml_of(r).findtext("Code") == "NotImplemented"
    # Never taken for the operation the bare method names (PutObject, a form upload, DeleteBucket).
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
