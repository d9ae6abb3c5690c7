"""Access keys issued through IAM are credentials (run against a `--strict-auth` server, where every signature is
checked, as on AWS): a key from CreateAccessKey signs requests to every service as its user, in the account that
issued it; set Inactive it is refused (S3: InvalidAccessKeyId, the other services: InvalidClientTokenId), Active
again it signs again, deleted it is refused for good. Keys and their status survive kill -9."""
import shutil
import tempfile
import urllib.error
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client
from server import Server

pytestmark = pytest.mark.strict_auth

S3_REFUSED = ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")
TOKEN_REFUSED = ("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def err(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def http_get(url):
    try:
        with _opener.open(urllib.request.Request(url), timeout=15) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def as_key(endpoint, key, service):
    return make_client(endpoint, service, access_key=key["AccessKeyId"], secret=key["SecretAccessKey"])


@pytest.fixture(scope="module")
def admin(endpoint):
    """IAM with the server's static credentials (test/test)."""
    return make_client(endpoint, "iam")


@pytest.fixture
def issued(admin):
    """A fresh user with one access key; both removed afterwards."""
    user = "signer-" + uuid.uuid4().hex[:12]
    admin.create_user(UserName=user, Path="/signers/")
    key = admin.create_access_key(UserName=user)["AccessKey"]
    yield user, key
    for k in admin.list_access_keys(UserName=user)["AccessKeyMetadata"]:
        admin.delete_access_key(UserName=user, AccessKeyId=k["AccessKeyId"])
    admin.delete_user(UserName=user)


def test_an_issued_key_signs_for_every_service_as_its_user(endpoint, admin, issued):
    user, key = issued
    account = make_client(endpoint, "sts").get_caller_identity()["Account"]
    ident = as_key(endpoint, key, "sts").get_caller_identity()
    assert (ident["Account"], ident["Arn"], ident["UserId"]) == (
        account, f"arn:aws:iam::{account}:user/signers/{user}", admin.get_user(UserName=user)["User"]["UserId"])

    s3 = as_key(endpoint, key, "s3")
    bucket = "iam-key-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"signed by an IAM key")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"signed by an IAM key"
    assert bucket in [b["Name"] for b in make_client(endpoint).list_buckets()["Buckets"]]  # same account as test/test
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    assert http_get(url) == (200, b"signed by an IAM key")

    sqs = as_key(endpoint, key, "sqs")
    queue = sqs.create_queue(QueueName="iam-key-" + uuid.uuid4().hex[:12])["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="hi")
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]] == ["hi"]
    sqs.delete_queue(QueueUrl=queue)

    sm = as_key(endpoint, key, "secretsmanager")
    secret = "iam-key-" + uuid.uuid4().hex[:12]
    sm.create_secret(Name=secret, SecretString="s3cr3t")
    assert sm.get_secret_value(SecretId=secret)["SecretString"] == "s3cr3t"
    sm.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)

    me = as_key(endpoint, key, "iam")
    assert me.get_user()["User"]["UserName"] == user
    assert [k["AccessKeyId"] for k in me.list_access_keys()["AccessKeyMetadata"]] == [key["AccessKeyId"]]

    # The right key id with a wrong secret is a bad signature, not an unknown key.
    wrong = {**key, "SecretAccessKey": "x" * 40}
    assert err(as_key(endpoint, wrong, "s3").list_buckets)[:2] == ("SignatureDoesNotMatch", 403)
    assert err(as_key(endpoint, wrong, "sts").get_caller_identity)[:2] == ("SignatureDoesNotMatch", 403)

    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_inactive_and_deleted_keys_stop_signing(endpoint, admin, issued):
    user, key = issued
    s3, sts, sqs, iam = (as_key(endpoint, key, s) for s in ("s3", "sts", "sqs", "iam"))
    bucket = "iam-off-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    assert http_get(url)[0] == 200

    admin.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert err(s3.list_buckets) == S3_REFUSED
    assert err(s3.get_object, Bucket=bucket, Key="k") == S3_REFUSED
    assert err(sts.get_caller_identity) == TOKEN_REFUSED
    assert err(iam.get_user) == TOKEN_REFUSED
    assert err(sqs.list_queues)[:2] == ("InvalidClientTokenId", 403)
    status, body = http_get(url)
    assert status == 403 and b"<Code>InvalidAccessKeyId</Code>" in body
    # The static credentials are untouched.
    assert make_client(endpoint).get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"

    admin.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    assert sts.get_caller_identity()["Arn"].endswith(f":user/signers/{user}")
    assert http_get(url) == (200, b"x")

    admin.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    assert err(s3.list_buckets) == S3_REFUSED
    assert err(sts.get_caller_identity) == TOKEN_REFUSED
    assert err(iam.list_access_keys) == TOKEN_REFUSED
    assert http_get(url)[0] == 403
    cleanup = make_client(endpoint)
    cleanup.delete_object(Bucket=bucket, Key="k")
    cleanup.delete_bucket(Bucket=bucket)


def test_keys_act_in_their_account_and_survive_kill_9():
    """Its own server: a second static key names account 123456789012, whose IAM issues the keys."""
    data_dir = tempfile.mkdtemp(prefix="cloudless-iam-strict-")
    args = ["--strict-auth", "--credentials", "test:test,123456789012:owner-secret"]
    server = Server(data_dir=data_dir, args=args).start()
    try:
        owner = make_client(server.endpoint, "iam", access_key="123456789012", secret="owner-secret")
        owner.create_user(UserName="builder")
        active = owner.create_access_key(UserName="builder")["AccessKey"]
        inactive = owner.create_access_key(UserName="builder")["AccessKey"]
        owner.update_access_key(UserName="builder", AccessKeyId=inactive["AccessKeyId"], Status="Inactive")

        ident = as_key(server.endpoint, active, "sts").get_caller_identity()
        assert (ident["Account"], ident["Arn"]) == ("123456789012", "arn:aws:iam::123456789012:user/builder")
        bucket = "acct-" + uuid.uuid4().hex[:12]
        as_key(server.endpoint, active, "s3").create_bucket(Bucket=bucket)
        in_account = make_client(server.endpoint, access_key="123456789012", secret="owner-secret")
        assert bucket in [b["Name"] for b in in_account.list_buckets()["Buckets"]]
        assert bucket not in [b["Name"] for b in make_client(server.endpoint).list_buckets()["Buckets"]]
        # The default account's IAM knows no such user.
        assert err(make_client(server.endpoint, "iam").get_user, UserName="builder")[:2] == ("NoSuchEntity", 404)

        server.kill9()
        server = Server(data_dir=data_dir, args=args, port=server.port).start()
        ident = as_key(server.endpoint, active, "sts").get_caller_identity()
        assert (ident["Account"], ident["Arn"]) == ("123456789012", "arn:aws:iam::123456789012:user/builder")
        assert err(as_key(server.endpoint, inactive, "sts").get_caller_identity) == TOKEN_REFUSED
        assert bucket in [b["Name"] for b in as_key(server.endpoint, active, "s3").list_buckets()["Buckets"]]

        owner = make_client(server.endpoint, "iam", access_key="123456789012", secret="owner-secret")
        owner.delete_access_key(UserName="builder", AccessKeyId=active["AccessKeyId"])
        assert err(as_key(server.endpoint, active, "s3").list_buckets) == S3_REFUSED
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
