"""Secrets Manager versions and staging labels: PutSecretValue (AWSCURRENT / AWSPREVIOUS, custom labels,
idempotency tokens), GetSecretValue by VersionId / VersionStage, ListSecretVersionIds (IncludeDeprecated,
pagination) and UpdateSecretVersionStage."""
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import UUID_RE, error, force_delete_secret, sm_client, sm_error, unique_secret_name, version_stages


@pytest.fixture(scope="module")
def sm(endpoint):
    return sm_client(endpoint)


@pytest.fixture
def name(sm):
    n = unique_secret_name("versions")
    yield n
    force_delete_secret(sm, n)


def _stages(sm, name):
    return {k: sorted(v) for k, v in sm.describe_secret(SecretId=name)["VersionIdsToStages"].items()}


def test_put_moves_current_and_previous(sm, name):
    v1 = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    put = sm.put_secret_value(SecretId=name, SecretString="two")
    assert set(put) - {"ResponseMetadata"} == {"ARN", "Name", "VersionId", "VersionStages"}
    assert put["Name"] == name
    assert put["VersionStages"] == ["AWSCURRENT"]
    assert re.fullmatch(UUID_RE, put["VersionId"])
    v2 = put["VersionId"]
    assert _stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"
    prev = sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert (prev["SecretString"], prev["VersionId"], prev["VersionStages"]) == ("one", v1, ["AWSPREVIOUS"])

    # A third put: v1 loses its last label and is deprecated (hidden unless IncludeDeprecated).
    v3 = sm.put_secret_value(SecretId=name, SecretBinary=b"\x03three")["VersionId"]
    assert _stages(sm, name) == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    assert version_stages(sm, name) == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    assert version_stages(sm, name, include_deprecated=True) == {v1: [], v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}
    # A deprecated version can still be read by its id.
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["SecretString"] == "one"
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == b"\x03three"


def test_list_secret_version_ids_fields(sm, name):
    created = sm.create_secret(Name=name, SecretString="one")
    v2 = sm.put_secret_value(SecretId=name, SecretString="two")["VersionId"]
    sm.put_secret_value(SecretId=name, SecretString="three")
    out = sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)
    assert out["ARN"] == created["ARN"]
    assert out["Name"] == name
    by_id = {v["VersionId"]: v for v in out["Versions"]}
    assert len(by_id) == 3
    for v in out["Versions"]:
        assert v["KmsKeyIds"] == ["DefaultEncryptionKey"]
        assert "CreatedDate" in v
    # A deprecated version carries no VersionStages at all.
    assert "VersionStages" not in by_id[created["VersionId"]]
    assert by_id[v2]["VersionStages"] == ["AWSPREVIOUS"]


def test_list_secret_version_ids_pagination(sm, name):
    ids = [sm.create_secret(Name=name, SecretString="0")["VersionId"]]
    for i in range(1, 5):
        ids.append(sm.put_secret_value(SecretId=name, SecretString=str(i))["VersionId"])
    seen, token, pages = [], None, 0
    while True:
        kw = {"SecretId": name, "IncludeDeprecated": True, "MaxResults": 2}
        if token:
            kw["NextToken"] = token
        page = sm.list_secret_version_ids(**kw)
        pages += 1
        assert len(page["Versions"]) <= 2
        seen += [v["VersionId"] for v in page["Versions"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(ids)


def test_put_is_idempotent_with_client_request_token(sm, name):
    sm.create_secret(Name=name, SecretString="base")
    token = str(uuid.uuid4())
    first = sm.put_secret_value(SecretId=name, SecretString="value", ClientRequestToken=token)
    assert first["VersionId"] == token
    again = sm.put_secret_value(SecretId=name, SecretString="value", ClientRequestToken=token)
    assert again["VersionId"] == token
    assert len(version_stages(sm, name, include_deprecated=True)) == 2
    assert version_stages(sm, name)[token] == ["AWSCURRENT"]

    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId=name, SecretString="other value", ClientRequestToken=token)
    assert error(e) == ("ResourceExistsException", 400)
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId=name, SecretBinary=b"value", ClientRequestToken=token)
    assert error(e) == ("ResourceExistsException", 400)
    got = sm.get_secret_value(SecretId=name)
    assert (got["VersionId"], got["SecretString"]) == (token, "value")
    assert len(version_stages(sm, name, include_deprecated=True)) == 2


def test_put_requires_exactly_one_value(sm, name):
    sm.create_secret(Name=name, SecretString="base")
    with pytest.raises(ClientError) as e:
        sm.put_secret_value(SecretId=name, SecretString="s", SecretBinary=b"b")
    assert sm_error(e) == ("InvalidParameterException", 400,
                           "You can't specify both a binary secret value and a string secret value in the same secret.")
    assert len(version_stages(sm, name, include_deprecated=True)) == 1


def test_put_with_custom_stages(sm, name):
    v1 = sm.create_secret(Name=name, SecretString="S0")["VersionId"]
    put = sm.put_secret_value(SecretId=name, SecretString="S1", VersionStages=["one", "two", "three"])
    v2 = put["VersionId"]
    assert sorted(put["VersionStages"]) == ["one", "three", "two"]
    # AWSCURRENT stays where it was.
    assert _stages(sm, name) == {v1: ["AWSCURRENT"], v2: ["one", "three", "two"]}
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "S0"
    assert sm.get_secret_value(SecretId=name, VersionStage="two")["SecretString"] == "S1"

    # Labels named again move to the new version; a label left behind stays.
    v3 = sm.put_secret_value(SecretId=name, SecretString="S2", VersionStages=["one", "two", "four"])["VersionId"]
    assert _stages(sm, name) == {v1: ["AWSCURRENT"], v2: ["three"], v3: ["four", "one", "two"]}

    # All of v3's labels taken over: v3 is deprecated.
    v4 = sm.put_secret_value(SecretId=name, SecretString="S3",
                             VersionStages=["one", "two", "three", "four"])["VersionId"]
    assert _stages(sm, name) == {v1: ["AWSCURRENT"], v4: ["four", "one", "three", "two"]}
    assert sorted(version_stages(sm, name, include_deprecated=True)) == sorted([v1, v2, v3, v4])


def test_put_with_awscurrent_and_a_custom_label(sm, name):
    v1 = sm.create_secret(Name=name, SecretString="a")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="b", VersionStages=["AWSCURRENT", "MyLabel"])["VersionId"]
    assert _stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "MyLabel"]}


def test_current_leaving_a_pending_version_drops_pending(sm, name):
    """Recorded on AWS: a version holding AWSCURRENT and AWSPENDING keeps only AWSPREVIOUS once a new
    value takes AWSCURRENT."""
    v0 = sm.create_secret(Name=name, SecretString="Something1")["VersionId"]
    put = sm.put_secret_value(SecretId=name, SecretString="Something2", VersionStages=["AWSPENDING"])
    v1 = put["VersionId"]
    assert put["VersionStages"] == ["AWSPENDING"]
    assert version_stages(sm, name) == {v0: ["AWSCURRENT"], v1: ["AWSPENDING"]}
    out = sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT",
                                         RemoveFromVersionId=v0, MoveToVersionId=v1)
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name"}
    assert version_stages(sm, name) == {v0: ["AWSPREVIOUS"], v1: ["AWSCURRENT", "AWSPENDING"]}
    v2 = sm.put_secret_value(SecretId=name, SecretString="SS3")["VersionId"]
    assert version_stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}


def test_get_secret_value_version_errors(sm, name):
    created = sm.create_secret(Name=name, SecretString="test")
    vid = created["VersionId"]
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=created["ARN"], VersionStage="AWSPREVIOUS")
    assert sm_error(e) == ("ResourceNotFoundException", 400,
                           "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS")
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name, VersionStage="AWSPENDING")
    assert sm_error(e) == ("ResourceNotFoundException", 400,
                           "Secrets Manager can't find the specified secret value for staging label: AWSPENDING")
    other = str(uuid.uuid4())
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name, VersionId=other)
    assert sm_error(e) == ("ResourceNotFoundException", 400,
                           f"Secrets Manager can't find the specified secret value for VersionId: {other}")
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name, VersionId=vid, VersionStage="AWSPREVIOUS")
    assert sm_error(e) == ("InvalidRequestException", 400,
                           "You provided a VersionStage that is not associated to the provided VersionId.")
    # Matching id and stage is fine.
    got = sm.get_secret_value(SecretId=name, VersionId=vid, VersionStage="AWSCURRENT")
    assert (got["VersionId"], got["SecretString"]) == (vid, "test")


def test_update_secret_version_stage_moves_current(sm, name):
    v1 = sm.create_secret(Name=name, SecretString="v1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="v2")["VersionId"]
    v3 = sm.put_secret_value(SecretId=name, SecretString="v3")["VersionId"]
    assert _stages(sm, name) == {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}

    # Roll back to the deprecated v1: AWSPREVIOUS follows to the version AWSCURRENT left.
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", RemoveFromVersionId=v3,
                                   MoveToVersionId=v1)
    assert _stages(sm, name) == {v1: ["AWSCURRENT"], v3: ["AWSPREVIOUS"]}
    got = sm.get_secret_value(SecretId=name)
    assert (got["VersionId"], got["SecretString"]) == (v1, "v1")


def test_update_secret_version_stage_requires_remove_from_for_an_attached_label(sm, name):
    v1 = sm.create_secret(Name=name, SecretString="v1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="v2", VersionStages=["STAGING"])["VersionId"]
    with pytest.raises(ClientError) as e:
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=v2)
    code, status, message = sm_error(e)
    assert (code, status) == ("InvalidParameterException", 400)
    assert v1 in message
    assert _stages(sm, name) == {v1: ["AWSCURRENT"], v2: ["STAGING"]}


def test_update_secret_version_stage_custom_label_add_move_remove(sm, name):
    v1 = sm.create_secret(Name=name, SecretString="v1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="v2")["VersionId"]
    # Attach a new label.
    sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", MoveToVersionId=v1)
    assert _stages(sm, name) == {v1: ["AWSPREVIOUS", "BLUE"], v2: ["AWSCURRENT"]}
    assert sm.get_secret_value(SecretId=name, VersionStage="BLUE")["SecretString"] == "v1"
    # Move it.
    sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", RemoveFromVersionId=v1, MoveToVersionId=v2)
    assert _stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "BLUE"]}
    # Remove it.
    sm.update_secret_version_stage(SecretId=name, VersionStage="BLUE", RemoveFromVersionId=v2)
    assert _stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
    # Removing AWSPREVIOUS deprecates v1.
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSPREVIOUS", RemoveFromVersionId=v1)
    assert _stages(sm, name) == {v2: ["AWSCURRENT"]}
    assert version_stages(sm, name, include_deprecated=True) == {v1: [], v2: ["AWSCURRENT"]}


def test_update_secret_version_stage_remove_from_a_version_without_the_label(sm, name):
    v1 = sm.create_secret(Name=name, SecretString="v1")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="v2")["VersionId"]
    with pytest.raises(ClientError) as e:
        sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", RemoveFromVersionId=v1,
                                       MoveToVersionId=v1)
    assert error(e) == ("InvalidParameterException", 400)
    assert _stages(sm, name) == {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}
