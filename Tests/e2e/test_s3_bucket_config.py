"""S3 bucket sub-resources: stored and read back exactly, with AWS's "not found" answers and input checks
(codes and messages as AWS recorded them in LocalStack's snapshots), and ACLs on buckets and objects."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import error, error_message, purge_bucket, raw_request

OWNER_GRANT = "FULL_CONTROL"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"


def new_name(prefix="cfg"):
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def acl_bucket(s3):
    """A bucket that allows ACLs (ObjectOwnership ObjectWriter, set at creation)."""
    name = new_name("acl")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    yield name
    purge_bucket(s3, name)


def test_new_bucket_reads_back_every_subresource_like_terraform(s3, bucket):
    """What the AWS provider reads after CreateBucket: each answer or its documented 'not found'."""
    own = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert own == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert enc == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in acl["Grants"]] == [("CanonicalUser", OWNER_GRANT)]
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations") is None
    for call, code in [
        (s3.get_bucket_tagging, "NoSuchTagSet"),
        (s3.get_bucket_policy, "NoSuchBucketPolicy"),
        (s3.get_bucket_policy_status, "NoSuchBucketPolicy"),
        (s3.get_bucket_cors, "NoSuchCORSConfiguration"),
        (s3.get_bucket_website, "NoSuchWebsiteConfiguration"),
        (s3.get_bucket_replication, "ReplicationConfigurationNotFoundError"),
    ]:
        with pytest.raises(ClientError) as e:
            call(Bucket=bucket)
        assert error(e) == (code, 404), call
        assert e.value.response["Error"]["BucketName"] == bucket
    assert s3.list_bucket_analytics_configurations(Bucket=bucket)["IsTruncated"] is False
    assert "AnalyticsConfigurationList" not in s3.list_bucket_analytics_configurations(Bucket=bucket)
    assert "MetricsConfigurationList" not in s3.list_bucket_metrics_configurations(Bucket=bucket)
    assert "InventoryConfigurationList" not in s3.list_bucket_inventory_configurations(Bucket=bucket)
    assert "IntelligentTieringConfigurationList" not in s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_metrics_configuration(Bucket=bucket, Id="nope")
    assert error(e) == ("NoSuchConfiguration", 404)


def test_subresources_of_a_missing_bucket_are_no_such_bucket(s3):
    name = new_name()
    for call in [s3.get_bucket_tagging, s3.get_bucket_encryption, s3.delete_bucket_encryption, s3.get_bucket_cors,
                 s3.get_public_access_block, s3.get_bucket_acl]:
        with pytest.raises(ClientError) as e:
            call(Bucket=name)
        assert error(e) == ("NoSuchBucket", 404)


def test_bucket_tagging_crud_and_validation(s3, bucket):
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "tag1", "Value": "tag1"}, {"Key": "tag2", "Value": ""}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "tag1", "Value": "tag1"}, {"Key": "tag2", "Value": ""}]
    bad = [
        ([{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}], "Cannot provide multiple Tags with the same key"),
        ([{"Key": "aws:x", "Value": "1"}], "Your TagKey cannot be prefixed with aws:"),
        ([{"Key": "k" * 129, "Value": "1"}], "The TagKey you have provided is invalid"),
        ([{"Key": "k", "Value": "v" * 257}], "The TagValue you have provided is invalid"),
    ]
    for tags, message in bad:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
        assert error(e) == ("InvalidTag", 400) and error_message(e) == message
    with pytest.raises(ClientError) as e:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]})
    assert error(e) == ("BadRequest", 400) and error_message(e) == "Bucket tag count cannot be greater than 50"
    # 50 is fine; bad input changed nothing before that
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"][0] == {"Key": "tag1", "Value": "tag1"}
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(50)]})
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    # An empty TagSet removes the tags, as DeleteBucketTagging does.
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error(e) == ("NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error(e) == ("NoSuchTagSet", 404)


def test_bucket_policy_is_stored_byte_exact_and_validated(s3, bucket):
    policy = ('{"Version": "2012-10-17",\n  "Statement": [{"Sid": "r", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},'
              f' "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{bucket}/*"}}]}}')
    assert s3.put_bucket_policy(Bucket=bucket, Policy=policy)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    for body, message in [
        ("", "Policies must be valid JSON and the first byte must be '{'"),
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ("{}", "Missing required field Statement"),
    ]:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_policy(Bucket=bucket, Policy=body)
        assert error(e) == ("MalformedPolicy", 400) and error_message(e) == message
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy
    public = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    conditional = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=conditional)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert error(e) == ("NoSuchBucketPolicy", 404)


def test_bucket_cors_configuration_crud_and_validation(s3, bucket):
    rules = [{"AllowedHeaders": ["x-amz-expected-bucket-owner", "x-amz-server-side-encryption-customer-algorithm"],
              "AllowedMethods": ["GET", "PUT", "HEAD"],
              "AllowedOrigins": ["https://test.com", "https://app.test.com", "http://test.com:80"],
              "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000, "ID": "r1"}]
    assert s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["MYMETHOD"]}]})
    assert error(e) == ("InvalidRequest", 400)
    assert error_message(e) == "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": []})
    assert error(e) == ("MalformedXML", 400)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert error(e) == ("NoSuchCORSConfiguration", 404)
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_bucket_encryption_crud_and_validation(s3, bucket):
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "my-key"},
                      "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms)
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"] == kms
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": []})
    assert error(e) == ("MalformedXML", 400)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "randomkeyid"}}]})
    assert error(e) == ("InvalidArgument", 400)
    assert error_message(e) == "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse"
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]


def test_default_encryption_applies_to_new_objects(s3, bucket):
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "my-key"},
                      "BucketKeyEnabled": True}]}
    s3.put_object(Bucket=bucket, Key="before", Body=b"x")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms)
    put = s3.put_object(Bucket=bucket, Key="after", Body=b"x")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == ("aws:kms", "my-key", True)
    head = s3.head_object(Bucket=bucket, Key="after")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"], head["BucketKeyEnabled"]) == ("aws:kms", "my-key", True)
    # An object written before keeps its encryption; a request's own choice wins over the default.
    assert s3.head_object(Bucket=bucket, Key="before")["ServerSideEncryption"] == "AES256"
    own = s3.put_object(Bucket=bucket, Key="own", Body=b"x", ServerSideEncryption="AES256")
    assert own["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in own
    # A copy takes the destination's default, not the source's encryption; so does a multipart upload.
    copied = s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "own"})
    assert copied["ServerSideEncryption"] == "aws:kms"
    mpu = s3.create_multipart_upload(Bucket=bucket, Key="parts")
    assert (mpu["ServerSideEncryption"], mpu["SSEKMSKeyId"]) == ("aws:kms", "my-key")
    s3.abort_multipart_upload(Bucket=bucket, Key="parts", UploadId=mpu["UploadId"])
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.put_object(Bucket=bucket, Key="later", Body=b"x")["ServerSideEncryption"] == "AES256"


def test_ownership_controls_and_public_access_block(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]
    with pytest.raises(ClientError) as e:
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "RandomValue"}]})
    assert error(e) == ("MalformedXML", 400)
    assert s3.delete_bucket_ownership_controls(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert error(e) == ("OwnershipControlsNotFoundError", 404)

    off = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=off)
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == off
    assert s3.delete_public_access_block(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        s3.get_public_access_block(Bucket=bucket)
    assert error(e) == ("NoSuchPublicAccessBlockConfiguration", 404)


def test_object_ownership_header_at_creation(s3, cleanup_names):
    name = new_name()
    cleanup_names.append(name)
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerPreferred")
    assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    other = new_name()
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=other, ObjectOwnership="RandomValue")
    assert error(e) == ("InvalidArgument", 400)
    assert error_message(e) == "Invalid x-amz-object-ownership header: RandomValue"
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=other)
    assert error(e)[1] == 404


@pytest.fixture
def cleanup_names(s3):
    names = []
    yield names
    for n in names:
        purge_bucket(s3, n)


def test_logging_request_payment_accelerate_replication(s3, bucket, cleanup_names):
    target = new_name("logs")
    cleanup_names.append(target)
    s3.create_bucket(Bucket=target)
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "log"}})
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {"TargetBucket": target, "TargetPrefix": "log"}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": new_name(), "TargetPrefix": "x"}})
    assert error(e) == ("InvalidTargetBucketForLogging", 400)
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)

    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"

    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"

    # Replication needs versioning, which this bucket does not have.
    config = {"Role": "arn:aws:iam::000000000000:role/r", "Rules": [
        {"ID": "id", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "Tax"},
         "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{target}"}}]}
    with pytest.raises(ClientError) as e:
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config)
    assert error(e) == ("InvalidRequest", 400)
    assert error_message(e) == "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
    assert s3.delete_bucket_replication(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_bucket_acl_canned_grants_and_document(s3, acl_bucket):
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=acl_bucket)["Grants"]
    assert [(g["Grantee"]["Type"], g["Grantee"].get("URI"), g["Permission"]) for g in grants] == [
        ("CanonicalUser", None, "FULL_CONTROL"), ("Group", ALL_USERS, "READ")]
    s3.put_bucket_acl(Bucket=acl_bucket, GrantRead=f'uri="{LOG_DELIVERY}"')
    grants = s3.get_bucket_acl(Bucket=acl_bucket)["Grants"]
    assert grants == [{"Grantee": {"Type": "Group", "URI": LOG_DELIVERY}, "Permission": "READ"}]
    owner = s3.get_bucket_acl(Bucket=acl_bucket)["Owner"]
    policy = {"Owner": owner, "Grants": [
        {"Grantee": {"ID": owner["ID"], "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"URI": LOG_DELIVERY, "Type": "Group"}, "Permission": "WRITE"}]}
    s3.put_bucket_acl(Bucket=acl_bucket, AccessControlPolicy=policy)
    grants = s3.get_bucket_acl(Bucket=acl_bucket)["Grants"]
    assert [(g["Grantee"]["Type"], g["Permission"]) for g in grants] == [("CanonicalUser", "FULL_CONTROL"), ("Group", "WRITE")]


def test_bucket_acl_errors_change_nothing(s3, acl_bucket, endpoint):
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    before = s3.get_bucket_acl(Bucket=acl_bucket)["Grants"]
    cases = [
        (dict(ACL="fake-acl"), "InvalidArgument", None),
        (dict(GrantWrite='uri="http://acs.amazonaws.com/groups/s3/FakeGroup"'), "InvalidArgument", "Invalid group uri"),
        (dict(GrantWrite='fakekey="1234"'), "InvalidArgument", "Argument format not recognized"),
        (dict(GrantWrite='id="wrong-id"'), "InvalidArgument", "Invalid id"),
        (dict(ACL="private", GrantWrite=f'uri="{LOG_DELIVERY}"'), "InvalidRequest",
         "Specifying both Canned ACLs and Header Grants is not allowed"),
    ]
    for kwargs, code, message in cases:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_acl(Bucket=acl_bucket, **kwargs)
        assert error(e) == (code, 400), kwargs
        if message:
            assert error_message(e) == message
    owner = s3.get_bucket_acl(Bucket=acl_bucket)["Owner"]
    for grantee, code in [({"Type": "BadType", "ID": "wrong-id"}, "MalformedACLError"),
                          ({"Type": "CanonicalUser", "ID": "wrong-id"}, "InvalidArgument"),
                          ({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/FakeGroup"}, "InvalidArgument")]:
        with pytest.raises(ClientError) as e:
            s3.put_bucket_acl(Bucket=acl_bucket, AccessControlPolicy={"Owner": owner, "Grants": [
                {"Grantee": grantee, "Permission": "FULL_CONTROL"}]})
        assert error(e) == (code, 400), grantee
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=acl_bucket, AccessControlPolicy={"Owner": owner, "Grants": [
            {"Grantee": {"Type": "Group", "URI": LOG_DELIVERY}, "Permission": "WRONG-PERMISSION"}]})
    assert error(e) == ("MalformedACLError", 400)
    r = raw_request(endpoint, "PUT", f"/{acl_bucket}?acl")
    assert r.status_code == 400 and b"<Code>MissingSecurityHeader</Code>" in r.content
    assert b"<MissingHeaderName>x-amz-acl</MissingHeaderName>" in r.content
    r = raw_request(endpoint, "PUT", f"/{acl_bucket}?acl", body=b"<AccessControlPolicy><nope/></AccessControlPolicy>")
    assert r.status_code == 400 and b"<Code>MalformedACLError</Code>" in r.content
    r = raw_request(endpoint, "PUT", f"/{acl_bucket}?acl", headers={"x-amz-acl": "private"}, body=b"<AccessControlPolicy/>")
    assert r.status_code == 400 and b"<Code>UnexpectedContent</Code>" in r.content
    assert s3.get_bucket_acl(Bucket=acl_bucket)["Grants"] == before


def test_object_acl_lives_with_the_object(s3, acl_bucket):
    s3.put_object(Bucket=acl_bucket, Key="pub", Body=b"x", ACL="public-read")
    grants = s3.get_object_acl(Bucket=acl_bucket, Key="pub")["Grants"]
    assert [(g["Grantee"].get("URI"), g["Permission"]) for g in grants] == [(None, "FULL_CONTROL"), (ALL_USERS, "READ")]
    # The ACL is no header of the object.
    head = s3.head_object(Bucket=acl_bucket, Key="pub")["ResponseMetadata"]["HTTPHeaders"]
    assert "acl" not in head
    # A copy gets its own (default) ACL; a multipart upload the one it was created with.
    s3.copy_object(Bucket=acl_bucket, Key="copy", CopySource={"Bucket": acl_bucket, "Key": "pub"})
    assert len(s3.get_object_acl(Bucket=acl_bucket, Key="copy")["Grants"]) == 1
    up = s3.create_multipart_upload(Bucket=acl_bucket, Key="mp", GrantRead=f'uri="{ALL_USERS}"')["UploadId"]
    etag = s3.upload_part(Bucket=acl_bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"y")["ETag"]
    s3.complete_multipart_upload(Bucket=acl_bucket, Key="mp", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object_acl(Bucket=acl_bucket, Key="mp")["Grants"] == [{"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]
    s3.put_object_acl(Bucket=acl_bucket, Key="pub", ACL="private")
    assert len(s3.get_object_acl(Bucket=acl_bucket, Key="pub")["Grants"]) == 1
    assert s3.get_object(Bucket=acl_bucket, Key="pub")["Body"].read() == b"x"
    with pytest.raises(ClientError) as e:
        s3.get_object_acl(Bucket=acl_bucket, Key="missing")
    assert error(e) == ("NoSuchKey", 404)


def test_bucket_owner_enforced_rejects_acls(s3, bucket, cleanup_names):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="public-read")
    assert error(e) == ("AccessControlListNotSupported", 400)
    with pytest.raises(ClientError) as e:
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert error(e) == ("AccessControlListNotSupported", 400)
    # What is the default anyway is accepted.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    name = new_name()
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, ACL="public-read")
    assert error(e) == ("InvalidBucketAclWithObjectOwnership", 400)
    cleanup_names.append(name)
    s3.create_bucket(Bucket=name, ACL="public-read", ObjectOwnership="ObjectWriter")
    assert len(s3.get_bucket_acl(Bucket=name)["Grants"]) == 2


def test_configuration_survives_a_restart(tmp_path):
    from helpers import make_client
    from server import Server
    data = tmp_path / "data"
    data.mkdir()
    srv = Server(data_dir=str(data)).start()
    try:
        s3 = make_client(srv.endpoint)
        s3.create_bucket(Bucket="persist", ObjectOwnership="ObjectWriter")
        s3.put_bucket_tagging(Bucket="persist", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
        s3.put_object(Bucket="persist", Key="k", Body=b"x", ACL="public-read")
        srv.kill9()
        srv = Server(data_dir=str(data)).start()
        s3 = make_client(srv.endpoint)
        assert s3.get_bucket_tagging(Bucket="persist")["TagSet"] == [{"Key": "a", "Value": "b"}]
        assert len(s3.get_object_acl(Bucket="persist", Key="k")["Grants"]) == 2
        assert s3.get_bucket_ownership_controls(Bucket="persist")["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "ObjectWriter"}]
    finally:
        srv.stop()


def test_aws_cli_v1_and_v2_read_and_write_subresources(endpoint, bucket, tmp_path):
    """The CLI's s3api commands for a few sub-resources (one process per call, so few calls)."""
    import os
    import subprocess
    from test_cli_aws import V2_PATH, _v1_path
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}

    def run(cli, *args):
        p = subprocess.run([cli, "--endpoint-url", endpoint, "--output", "json", "s3api", *args],
                           capture_output=True, text=True, env=env, timeout=120)
        return p
    v1, v2 = _v1_path(), V2_PATH
    p = run(v1, "put-bucket-tagging", "--bucket", bucket, "--tagging", "TagSet=[{Key=team,Value=web}]")
    assert p.returncode == 0, p.stderr
    p = run(v2, "get-bucket-tagging", "--bucket", bucket)
    assert json.loads(p.stdout)["TagSet"] == [{"Key": "team", "Value": "web"}]
    p = run(v2, "put-bucket-cors", "--bucket", bucket, "--cors-configuration",
            json.dumps({"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}))
    assert p.returncode == 0, p.stderr
    p = run(v1, "get-bucket-cors", "--bucket", bucket)
    assert json.loads(p.stdout)["CORSRules"] == [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]
    p = run(v2, "get-bucket-policy", "--bucket", bucket)
    assert p.returncode != 0 and "NoSuchBucketPolicy" in p.stderr
    p = run(v1, "put-bucket-website", "--bucket", bucket, "--website-configuration",
            json.dumps({"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "404.html"}}))
    assert p.returncode == 0, p.stderr
    got = json.loads(run(v2, "get-bucket-website", "--bucket", bucket).stdout)
    assert got["IndexDocument"] == {"Suffix": "index.html"} and got["ErrorDocument"] == {"Key": "404.html"}
    p = run(v1, "get-public-access-block", "--bucket", bucket)
    assert json.loads(p.stdout)["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    p = run(v2, "put-bucket-acl", "--bucket", bucket, "--acl", "public-read")
    assert p.returncode != 0 and "AccessControlListNotSupported" in p.stderr


def test_form_upload_acl_field(s3, acl_bucket):
    import requests
    post = s3.generate_presigned_post(acl_bucket, "form.txt", Fields={"acl": "public-read"}, Conditions=[{"acl": "public-read"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("form.txt", b"hello")}, timeout=10)
    assert r.status_code == 204, r.text
    grants = s3.get_object_acl(Bucket=acl_bucket, Key="form.txt")["Grants"]
    assert [(g["Grantee"].get("URI"), g["Permission"]) for g in grants] == [(None, "FULL_CONTROL"), (ALL_USERS, "READ")]
