"""Secrets Manager basics with boto3: CreateSecret, GetSecretValue, DescribeSecret, UpdateSecret, names,
ARNs (full and partial), idempotency tokens and the errors AWS answers for them.

Error codes and messages are those AWS answers (JSON 1.1 `__type`, HTTP 400 for every client error).
"""
import datetime
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import (SECRET_ARN_SUFFIX, UUID_RE, error, force_delete_secret, sm_client, sm_error,
                     unique_secret_name)

NOT_FOUND = "Secrets Manager can't find the specified secret."
INVALID_NAME = ("Invalid name. Must be a valid name containing alphanumeric characters, "
                "or any of the following: -/_+=.@!")
MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion."


@pytest.fixture(scope="module")
def sm(endpoint):
    return sm_client(endpoint)


@pytest.fixture
def name(sm):
    n = unique_secret_name("basics")
    yield n
    force_delete_secret(sm, n)


def _arn_re(account, name, region="us-east-1"):
    return re.compile(rf"^arn:aws:secretsmanager:{region}:{account}:secret:{re.escape(name)}{SECRET_ARN_SUFFIX}$")


def _near_now(dt, slack=600):
    now = datetime.datetime.now(datetime.timezone.utc)
    return abs((dt - now).total_seconds()) < slack


def test_create_and_get_string(sm, account, name):
    out = sm.create_secret(Name=name, SecretString="s3cr3t-value")
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name", "VersionId"}
    assert out["Name"] == name
    assert _arn_re(account, name).match(out["ARN"]), out["ARN"]
    assert re.fullmatch(UUID_RE, out["VersionId"]), out["VersionId"]

    got = sm.get_secret_value(SecretId=name)
    assert set(got) - {"ResponseMetadata"} == {"ARN", "Name", "VersionId", "SecretString", "VersionStages",
                                               "CreatedDate"}
    assert got["ARN"] == out["ARN"]
    assert got["Name"] == name
    assert got["VersionId"] == out["VersionId"]
    assert got["SecretString"] == "s3cr3t-value"
    assert got["VersionStages"] == ["AWSCURRENT"]
    assert _near_now(got["CreatedDate"])


def test_create_and_get_binary(sm, name):
    data = bytes(range(256)) + b"\x00tail"
    out = sm.create_secret(Name=name, SecretBinary=data)
    got = sm.get_secret_value(SecretId=name)
    assert got["SecretBinary"] == data
    assert "SecretString" not in got
    assert got["VersionId"] == out["VersionId"]


def test_unicode_and_json_string_values(sm, name):
    value = '{"user": "z\u00fcrich", "password": "p\u00e4ss \U0001F511 \\"quoted\\"", "n": 1}'
    sm.create_secret(Name=name, SecretString=value)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == value


def test_get_by_name_full_arn_and_partial_arn(sm, name):
    arn = sm.create_secret(Name=name, SecretString="by-any-id")["ARN"]
    partial = arn[:-7]  # without "-" and the 6 random characters
    assert partial.endswith(":secret:" + name)
    for secret_id in (name, arn, partial):
        got = sm.get_secret_value(SecretId=secret_id)
        assert got["SecretString"] == "by-any-id", secret_id
        assert got["ARN"] == arn
        assert sm.describe_secret(SecretId=secret_id)["ARN"] == arn

    # A full ARN with other random characters names another secret: not found.
    other = arn[:-6] + ("AAAAAA" if arn[-6:] != "AAAAAA" else "BBBBBB")
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=other)
    assert sm_error(e) == ("ResourceNotFoundException", 400, NOT_FOUND)


@pytest.mark.parametrize("stem", ["a/b_c+d=e.f@g-h", "/leading/slash", "Mixed.Case@Domain", "x"])
def test_names_with_every_allowed_character(sm, account, stem):
    name = f"{stem}-{uuid.uuid4().hex[:8]}"
    try:
        out = sm.create_secret(Name=name, SecretString="v-" + stem)
        assert out["Name"] == name
        assert _arn_re(account, name).match(out["ARN"]), out["ARN"]
        for secret_id in (name, out["ARN"], out["ARN"][:-7]):
            assert sm.get_secret_value(SecretId=secret_id)["SecretString"] == "v-" + stem
    finally:
        force_delete_secret(sm, name)


def test_arn_suffix_is_random_per_secret(sm):
    names = [unique_secret_name("sfx") for _ in range(4)]
    try:
        suffixes = {sm.create_secret(Name=n, SecretString="x")["ARN"][-6:] for n in names}
        assert len(suffixes) == 4
    finally:
        for n in names:
            force_delete_secret(sm, n)


@pytest.mark.parametrize("bad", ["Inv Name", " Inv*Name? ", " Inv *?!]Name\\-]"])
def test_invalid_names_are_rejected_by_every_operation(sm, bad):
    calls = [
        lambda: sm.create_secret(Name=bad, SecretString="x"),
        lambda: sm.describe_secret(SecretId=bad),
        lambda: sm.get_secret_value(SecretId=bad),
        lambda: sm.put_secret_value(SecretId=bad, SecretString="x"),
        lambda: sm.update_secret(SecretId=bad, Description="d"),
        lambda: sm.tag_resource(SecretId=bad, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: sm.untag_resource(SecretId=bad, TagKeys=["k"]),
        lambda: sm.list_secret_version_ids(SecretId=bad, IncludeDeprecated=True),
        lambda: sm.delete_secret(SecretId=bad, ForceDeleteWithoutRecovery=True),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert sm_error(e) == ("ValidationException", 400, INVALID_NAME)


def test_create_duplicate_name(sm, name):
    sm.create_secret(Name=name, SecretString="first")
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=name, SecretString="second")
    assert sm_error(e) == ("ResourceExistsException", 400,
                           f"The operation failed because the secret {name} already exists.")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "first"


def test_create_is_idempotent_with_client_request_token(sm, name):
    token = str(uuid.uuid4())
    first = sm.create_secret(Name=name, SecretString="same", ClientRequestToken=token)
    assert first["VersionId"] == token
    again = sm.create_secret(Name=name, SecretString="same", ClientRequestToken=token)
    assert (again["ARN"], again["Name"], again["VersionId"]) == (first["ARN"], name, token)
    # Same token, other value: the version cannot change.
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=name, SecretString="different", ClientRequestToken=token)
    assert error(e) == ("ResourceExistsException", 400)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "same"
    assert list(sm.describe_secret(SecretId=name)["VersionIdsToStages"]) == [token]


def test_create_with_both_values_is_rejected(sm, name):
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=name, SecretString="s", SecretBinary=b"b")
    assert sm_error(e) == ("InvalidParameterException", 400,
                           "You can't specify both a binary secret value and a string secret value in the same secret.")
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId=name)
    assert error(e) == ("ResourceNotFoundException", 400)


def test_create_without_value(sm, name):
    out = sm.create_secret(Name=name, Description="no value yet")
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name"}
    d = sm.describe_secret(SecretId=name)
    assert "VersionIdsToStages" not in d
    assert d["Description"] == "no value yet"
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name)
    assert sm_error(e) == ("ResourceNotFoundException", 400,
                           "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
    # The first value put gets AWSCURRENT even with no VersionStages.
    put = sm.put_secret_value(SecretId=name, SecretString="now")
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "now"


def test_describe_fields(sm, account, name):
    created = sm.create_secret(Name=name, SecretString="described", Description="A described secret",
                               KmsKeyId="alias/e2e-key",
                               Tags=[{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": "test"}])
    d = sm.describe_secret(SecretId=name)
    assert d["ARN"] == created["ARN"]
    assert d["Name"] == name
    assert d["Description"] == "A described secret"
    assert d["KmsKeyId"] == "alias/e2e-key"
    assert sorted((t["Key"], t["Value"]) for t in d["Tags"]) == [("env", "test"), ("team", "blue")]
    assert d["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert _near_now(d["CreatedDate"])
    assert _near_now(d["LastChangedDate"])
    # Never rotated, never read, not deleted, not replicated: those fields are absent.
    for absent in ("RotationEnabled", "RotationLambdaARN", "RotationRules", "LastRotatedDate", "NextRotationDate",
                   "LastAccessedDate", "DeletedDate", "PrimaryRegion", "ReplicationStatus", "OwningService"):
        assert absent not in d, absent


def test_describe_minimal_secret_has_no_optional_fields(sm, name):
    sm.create_secret(Name=name, SecretString="plain")
    d = sm.describe_secret(SecretId=name)
    for absent in ("Description", "KmsKeyId", "Tags", "LastAccessedDate", "RotationEnabled", "DeletedDate"):
        assert absent not in d, absent


def test_last_accessed_date_is_set_by_reads_and_rounded_to_the_day(sm, name):
    sm.create_secret(Name=name, SecretString="read me")
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=name)
    sm.get_secret_value(SecretId=name)
    d = sm.describe_secret(SecretId=name)
    accessed = d["LastAccessedDate"]
    today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    # Rounded down to midnight UTC of the day of the read (a run crossing midnight may see yesterday).
    assert accessed in (today, today - datetime.timedelta(days=1)), accessed
    assert (accessed.hour, accessed.minute, accessed.second, accessed.microsecond) == (0, 0, 0, 0)


def test_update_description_only_creates_no_version(sm, name):
    created = sm.create_secret(Name=name, SecretString="unchanged")
    out = sm.update_secret(SecretId=name, Description="new description")
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name"}
    assert out["ARN"] == created["ARN"]
    d = sm.describe_secret(SecretId=name)
    assert d["Description"] == "new description"
    assert d["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "unchanged"


def test_update_value_moves_current_and_keeps_description(sm, name):
    created = sm.create_secret(Name=name, SecretString="v1", Description="keep me")
    out = sm.update_secret(SecretId=name, SecretString="v2")
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name", "VersionId"}
    assert out["VersionId"] != created["VersionId"]
    got = sm.get_secret_value(SecretId=name)
    assert (got["SecretString"], got["VersionId"]) == ("v2", out["VersionId"])
    d = sm.describe_secret(SecretId=name)
    assert d["Description"] == "keep me"
    assert {k: sorted(v) for k, v in d["VersionIdsToStages"].items()} == {
        created["VersionId"]: ["AWSPREVIOUS"], out["VersionId"]: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretString"] == "v1"

    # By ARN, to a binary value, with a new description at the same time.
    bin_out = sm.update_secret(SecretId=created["ARN"], SecretBinary=b"\x01\x02", Description="d2")
    got = sm.get_secret_value(SecretId=name)
    assert got["SecretBinary"] == b"\x01\x02" and "SecretString" not in got
    assert got["VersionId"] == bin_out["VersionId"]
    assert sm.describe_secret(SecretId=name)["Description"] == "d2"


def test_update_is_idempotent_with_client_request_token(sm, name):
    sm.create_secret(Name=name, SecretString="v1")
    token = str(uuid.uuid4())
    first = sm.update_secret(SecretId=name, SecretString="v2", ClientRequestToken=token)
    assert first["VersionId"] == token
    sm.update_secret(SecretId=name, SecretString="v2", ClientRequestToken=token)  # a no-op
    assert len(sm.describe_secret(SecretId=name)["VersionIdsToStages"]) == 2
    assert sm.get_secret_value(SecretId=name)["VersionId"] == token
    with pytest.raises(ClientError) as e:
        sm.update_secret(SecretId=name, SecretString="v3", ClientRequestToken=token)
    assert error(e) == ("ResourceExistsException", 400)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v2"


def test_update_with_both_values_is_rejected(sm, name):
    sm.create_secret(Name=name, SecretString="v1")
    with pytest.raises(ClientError) as e:
        sm.update_secret(SecretId=name, SecretString="s", SecretBinary=b"b")
    assert sm_error(e) == ("InvalidParameterException", 400,
                           "You can't specify both a binary secret value and a string secret value in the same secret.")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v1"


def test_update_kms_key_id_shows_in_describe(sm, name):
    sm.create_secret(Name=name, SecretString="v1")
    sm.update_secret(SecretId=name, KmsKeyId="alias/other-key", SecretString="v2")
    assert sm.describe_secret(SecretId=name)["KmsKeyId"] == "alias/other-key"
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "v2"


def test_unknown_secret_is_not_found_everywhere(sm):
    missing = unique_secret_name("missing")
    policy = '{"Version":"2012-10-17","Statement":[]}'
    calls = {
        "DescribeSecret": lambda: sm.describe_secret(SecretId=missing),
        "GetSecretValue": lambda: sm.get_secret_value(SecretId=missing),
        "PutSecretValue": lambda: sm.put_secret_value(SecretId=missing, SecretString="x"),
        "UpdateSecret": lambda: sm.update_secret(SecretId=missing, SecretString="x"),
        "DeleteSecret": lambda: sm.delete_secret(SecretId=missing),
        "RestoreSecret": lambda: sm.restore_secret(SecretId=missing),
        "TagResource": lambda: sm.tag_resource(SecretId=missing, Tags=[{"Key": "k", "Value": "v"}]),
        "UntagResource": lambda: sm.untag_resource(SecretId=missing, TagKeys=["k"]),
        "ListSecretVersionIds": lambda: sm.list_secret_version_ids(SecretId=missing),
        "GetResourcePolicy": lambda: sm.get_resource_policy(SecretId=missing),
        "PutResourcePolicy": lambda: sm.put_resource_policy(SecretId=missing, ResourcePolicy=policy),
        "DeleteResourcePolicy": lambda: sm.delete_resource_policy(SecretId=missing),
        "RotateSecret": lambda: sm.rotate_secret(SecretId=missing),
        "CancelRotateSecret": lambda: sm.cancel_rotate_secret(SecretId=missing),
        "UpdateSecretVersionStage": lambda: sm.update_secret_version_stage(
            SecretId=missing, VersionStage="X", MoveToVersionId=str(uuid.uuid4())),
    }
    for op, call in calls.items():
        with pytest.raises(ClientError) as e:
            call()
        assert sm_error(e) == ("ResourceNotFoundException", 400, NOT_FOUND), op


def test_error_body_is_json_1_1(endpoint, sm):
    """The raw answer: HTTP 400, `application/x-amz-json-1.1`, `__type` and `message`/`Message`."""
    import json

    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps({"SecretId": unique_secret_name("raw")}).encode()
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"})
    SigV4Auth(Credentials("test", "test"), "secretsmanager", "us-east-1").add_auth(req)
    r = requests.post(endpoint + "/", data=body, headers=dict(req.headers.items()), timeout=30)
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/x-amz-json-1.1")
    doc = r.json()
    assert doc["__type"].rsplit("#", 1)[-1] == "ResourceNotFoundException"
    assert (doc.get("message") or doc.get("Message")) == NOT_FOUND


def test_course_commands_boto3(sm):
    """The course's example, verbatim: a secret named MySecret holding password123."""
    force_delete_secret(sm, "MySecret")
    try:
        sm.create_secret(Name="MySecret", SecretString="password123")
        assert sm.get_secret_value(SecretId="MySecret")["SecretString"] == "password123"
    finally:
        force_delete_secret(sm, "MySecret")
