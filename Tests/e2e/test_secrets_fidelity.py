"""Secrets Manager wire fidelity (issue 13): where Cloudless must answer as AWS does. Expected behaviour is real
AWS Secrets Manager, as its documentation and the answers LocalStack recorded from AWS show it.

Scenarios:
- DeleteSecret with ForceDeleteWithoutRecovery on a secret that does not exist succeeds, with ARN, Name and
  DeletionDate (deletes stay idempotent);
- raw requests without a ClientRequestToken (SDKs fill one in): CreateSecret, UpdateSecret and PutSecretValue
  with a value get InvalidRequestException, RotateSecret InvalidParameterException, before the secret is looked up;
- a secret created without a value, then given one: the new version is AWSCURRENT alone;
- a rotation through a Lambda function whose finishSecret moves AWSCURRENT itself ends with AWSCURRENT on the new
  version, AWSPREVIOUS on the old and no AWSPENDING, also when rotation runs twice in a row;
- tags keep the order they were added in; once tags were touched DescribeSecret lists them, even as `[]`;
  TagResource and UntagResource answer an empty document.
"""
import io
import json
import os
import re
import time
import uuid
import zipfile

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import account_of, make_client, sm_error, unique_secret_name, force_delete_secret, version_stages

TOKEN_MESSAGE = "You must provide a ClientRequestToken value. We recommend a UUID-type value."
ROTATOR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "lambda", "rotation", "rotate.py")


@pytest.fixture(scope="module")
def sm(endpoint):
    return make_client(endpoint, "secretsmanager")


@pytest.fixture
def secret_name(sm):
    name = unique_secret_name("fid")
    yield name
    force_delete_secret(sm, name)


def raw(endpoint, operation, body):
    data = json.dumps(body).encode()
    headers = {"X-Amz-Target": "secretsmanager." + operation, "Content-Type": "application/x-amz-json-1.1"}
    req = AWSRequest(method="POST", url=endpoint + "/", data=data, headers=headers)
    SigV4Auth(Credentials("test", "test"), "secretsmanager", "us-east-1").add_auth(req)
    return requests.post(endpoint + "/", headers=dict(req.headers.items()), data=data, timeout=30)


def test_force_deleting_a_secret_that_does_not_exist_succeeds(endpoint, sm):
    name = unique_secret_name("fid-missing")
    out = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert out["Name"] == name
    assert re.fullmatch(rf"arn:aws:secretsmanager:us-east-1:{account_of(endpoint)}:secret:{name}-[A-Za-z0-9]{{6}}", out["ARN"])
    assert abs(out["DeletionDate"].timestamp() - time.time()) < 60
    assert set(out) == {"ARN", "Name", "DeletionDate", "ResponseMetadata"}
    # By ARN: the same ARN comes back.
    arn = f"arn:aws:secretsmanager:us-east-1:{account_of(endpoint)}:secret:{name}-AbCdEf"
    out = sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    assert (out["ARN"], out["Name"]) == (arn, f"{name}-AbCdEf")
    # Without forcing it is still not found.
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId=name)
    assert sm_error(e)[:2] == ("ResourceNotFoundException", 400)


@pytest.mark.parametrize("operation,code", [
    ("CreateSecret", "InvalidRequestException"),
    ("UpdateSecret", "InvalidRequestException"),
    ("PutSecretValue", "InvalidRequestException"),
    ("RotateSecret", "InvalidParameterException"),
])
def test_raw_requests_without_a_client_request_token(endpoint, sm, operation, code):
    name = unique_secret_name("fid-notoken")
    body = {"SecretString": "thisisthesecret", "Description": "My secret string"}
    body["Name" if operation == "CreateSecret" else "SecretId"] = name
    resp = raw(endpoint, operation, body)
    assert resp.status_code == 400
    assert resp.json() == {"__type": code, "Message": TOKEN_MESSAGE}
    with pytest.raises(ClientError):
        sm.describe_secret(SecretId=name)  # nothing was created


def test_raw_update_without_a_value_needs_no_token(endpoint, sm, secret_name):
    sm.create_secret(Name=secret_name, SecretString="v0")
    resp = raw(endpoint, "UpdateSecret", {"SecretId": secret_name, "Description": "just metadata"})
    assert resp.status_code == 200, resp.text
    assert "VersionId" not in resp.json()
    assert sm.describe_secret(SecretId=secret_name)["Description"] == "just metadata"


def test_a_secret_created_without_a_value_then_given_one(sm, secret_name):
    created = sm.create_secret(Name=secret_name, Description="")
    assert set(created) == {"ARN", "Name", "ResponseMetadata"}
    described = sm.describe_secret(SecretId=secret_name)
    assert "VersionIdsToStages" not in described and "Tags" not in described
    put = sm.put_secret_value(SecretId=secret_name, SecretString="example-string-to-protect")
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert version_stages(sm, secret_name) == {put["VersionId"]: ["AWSCURRENT"]}
    second = sm.put_secret_value(SecretId=secret_name, SecretString="next")
    assert version_stages(sm, secret_name) == {put["VersionId"]: ["AWSPREVIOUS"], second["VersionId"]: ["AWSCURRENT"]}


def _rotator_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(ROTATOR, "rotate.py")
    return buf.getvalue()


def _rotated(sm, name, token, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sm.describe_secret(SecretId=name)
        if d.get("VersionIdsToStages", {}).get(token) == ["AWSCURRENT"]:
            return d
        time.sleep(0.2)
    return sm.describe_secret(SecretId=name)


def test_a_lambda_rotation_twice_in_a_row_leaves_aws_stages(endpoint, sm, secret_name):
    lam = make_client(endpoint, "lambda")
    fn = "fid-rotator-" + uuid.uuid4().hex[:8]
    arn = lam.create_function(FunctionName=fn, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/rotation",
                              Handler="rotate.handler", Code={"ZipFile": _rotator_zip()}, Timeout=30)["FunctionArn"]
    try:
        v0 = sm.create_secret(Name=secret_name, SecretString="s")["VersionId"]
        v1 = sm.rotate_secret(SecretId=secret_name, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 1})["VersionId"]
        d = _rotated(sm, secret_name, v1)
        assert d["VersionIdsToStages"] == {v1: ["AWSCURRENT"], v0: ["AWSPREVIOUS"]}
        assert sm.get_secret_value(SecretId=secret_name)["SecretString"] == "s-rotated"
        v2 = sm.rotate_secret(SecretId=secret_name)["VersionId"]
        d = _rotated(sm, secret_name, v2)
        assert d["VersionIdsToStages"] == {v2: ["AWSCURRENT"], v1: ["AWSPREVIOUS"]}
        assert version_stages(sm, secret_name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
        assert version_stages(sm, secret_name, include_deprecated=True)[v0] == []
        assert sm.get_secret_value(SecretId=secret_name)["SecretString"] == "s-rotated-rotated"
        assert "LastRotatedDate" in d and d["RotationEnabled"] is True
    finally:
        lam.delete_function(FunctionName=fn)


def test_tags_keep_their_order_and_tag_answers_are_empty(endpoint, sm, secret_name):
    arn = sm.create_secret(Name=secret_name)["ARN"]
    assert "Tags" not in sm.describe_secret(SecretId=arn)
    out = sm.tag_resource(SecretId=arn, Tags=[{"Key": "tag1", "Value": "value1"}])
    assert set(out) == {"ResponseMetadata"}
    sm.tag_resource(SecretId=arn, Tags=[{"Key": "tag2", "Value": "value2"}])
    assert sm.describe_secret(SecretId=arn)["Tags"] == [{"Key": "tag1", "Value": "value1"}, {"Key": "tag2", "Value": "value2"}]
    out = sm.untag_resource(SecretId=arn, TagKeys=["tag1"])
    assert set(out) == {"ResponseMetadata"}
    assert sm.describe_secret(SecretId=arn)["Tags"] == [{"Key": "tag2", "Value": "value2"}]
    sm.untag_resource(SecretId=arn, TagKeys=["tag2"])
    assert sm.describe_secret(SecretId=arn)["Tags"] == []
    sm.tag_resource(SecretId=arn, Tags=[{"Key": "tag3", "Value": "value3"}, {"Key": "tag4", "Value": "value4"}])
    assert sm.describe_secret(SecretId=arn)["Tags"] == [{"Key": "tag3", "Value": "value3"}, {"Key": "tag4", "Value": "value4"}]
    sm.untag_resource(SecretId=arn, TagKeys=["tag3", "tag4"])
    assert sm.describe_secret(SecretId=arn)["Tags"] == []
    # The raw answers are empty documents.
    resp = raw(endpoint, "TagResource", {"SecretId": arn, "Tags": [{"Key": "k", "Value": "v"}]})
    assert resp.status_code == 200 and resp.content in (b"", b"{}")
    resp = raw(endpoint, "UntagResource", {"SecretId": arn, "TagKeys": ["k"]})
    assert resp.status_code == 200 and resp.content in (b"", b"{}")


def test_a_deleted_secret_cannot_be_tagged(sm, secret_name):
    sm.create_secret(Name=secret_name, SecretString="x", Tags=[{"Key": "initial-tag", "Value": "initial-value"}])
    sm.delete_secret(SecretId=secret_name, RecoveryWindowInDays=7)
    message = "You can't perform this operation on the secret because it was marked for deletion."
    with pytest.raises(ClientError) as e:
        sm.tag_resource(SecretId=secret_name, Tags=[{"Key": "k", "Value": "v"}])
    assert sm_error(e) == ("InvalidRequestException", 400, message)
    with pytest.raises(ClientError) as e:
        sm.untag_resource(SecretId=secret_name, TagKeys=["initial-tag"])
    assert sm_error(e) == ("InvalidRequestException", 400, message)
