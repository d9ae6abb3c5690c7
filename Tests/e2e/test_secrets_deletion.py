"""Secrets Manager deletion: DeleteSecret with a recovery window (7-30 days) or ForceDeleteWithoutRecovery,
what a secret scheduled for deletion still allows (DescribeSecret, RestoreSecret, a forced delete) and refuses
(InvalidRequestException, as AWS), and RestoreSecret."""
import datetime

import pytest
from botocore.exceptions import ClientError

from helpers import error, force_delete_secret, sm_client, sm_error, unique_secret_name

MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion."
NOT_FOUND = "Secrets Manager can't find the specified secret."
DAY = 86400


@pytest.fixture(scope="module")
def sm(endpoint):
    return sm_client(endpoint)


@pytest.fixture
def name(sm):
    n = unique_secret_name("deletion")
    yield n
    force_delete_secret(sm, n)


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def test_delete_with_default_window_of_30_days(sm, name):
    created = sm.create_secret(Name=name, SecretString="to delete")
    before = _now()
    out = sm.delete_secret(SecretId=name)
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name", "DeletionDate"}
    assert (out["ARN"], out["Name"]) == (created["ARN"], name)
    delta = (out["DeletionDate"] - before).total_seconds()
    assert 30 * DAY - 600 < delta < 31 * DAY, delta
    d = sm.describe_secret(SecretId=name)
    # The docs name it both the date of the deletion request and the date the deletion is scheduled for.
    deleted = d["DeletedDate"]
    assert (abs((deleted - before).total_seconds()) < 600
            or abs((deleted - out["DeletionDate"]).total_seconds()) < 600), (deleted, out["DeletionDate"])
    assert d["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}


@pytest.mark.parametrize("days", [7, 30])
def test_delete_with_recovery_window(sm, name, days):
    sm.create_secret(Name=name, SecretString="x")
    before = _now()
    out = sm.delete_secret(SecretId=name, RecoveryWindowInDays=days)
    delta = (out["DeletionDate"] - before).total_seconds()
    assert days * DAY - 600 < delta < (days + 1) * DAY, delta


@pytest.mark.parametrize("days", [6, 31, 365])
def test_recovery_window_out_of_range(sm, name, days):
    sm.create_secret(Name=name, SecretString="x")
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=days)
    assert error(e) == ("InvalidParameterException", 400)
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)


def test_force_and_window_together_are_rejected(sm, name):
    sm.create_secret(Name=name, SecretString="x")
    with pytest.raises(ClientError) as e:
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    assert sm_error(e) == ("InvalidParameterException", 400,
                           "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "x"


def test_scheduled_secret_refuses_changes_and_reads(sm, name):
    sm.create_secret(Name=name, SecretString="x", Tags=[{"Key": "k", "Value": "v"}])
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    refused = {
        "GetSecretValue": lambda: sm.get_secret_value(SecretId=name),
        "PutSecretValue": lambda: sm.put_secret_value(SecretId=name, SecretString="y"),
        "UpdateSecret": lambda: sm.update_secret(SecretId=name, SecretString="y"),
        "UpdateSecret(description)": lambda: sm.update_secret(SecretId=name, Description="d"),
        "TagResource": lambda: sm.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "b"}]),
        "UntagResource": lambda: sm.untag_resource(SecretId=name, TagKeys=["k"]),
    }
    for op, call in refused.items():
        with pytest.raises(ClientError) as e:
            call()
        assert sm_error(e) == ("InvalidRequestException", 400, MARKED_FOR_DELETION), op
    for op, call in {
        "RotateSecret": lambda: sm.rotate_secret(SecretId=name),
        "DeleteSecret": lambda: sm.delete_secret(SecretId=name),
    }.items():
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("InvalidRequestException", 400), op
    # Still described, with its tags; the value is untouched.
    d = sm.describe_secret(SecretId=name)
    assert "DeletedDate" in d
    assert d["Tags"] == [{"Key": "k", "Value": "v"}]
    assert len(d["VersionIdsToStages"]) == 1


def test_create_with_the_name_of_a_scheduled_secret(sm, name):
    sm.create_secret(Name=name, SecretString="x")
    sm.delete_secret(SecretId=name)
    with pytest.raises(ClientError) as e:
        sm.create_secret(Name=name, SecretString="again")
    assert sm_error(e) == ("InvalidRequestException", 400,
                           "You can't create this secret because a secret with this name is already scheduled "
                           "for deletion.")


def test_restore(sm, name):
    created = sm.create_secret(Name=name, SecretString="back again")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    out = sm.restore_secret(SecretId=created["ARN"])
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name"}
    assert (out["ARN"], out["Name"]) == (created["ARN"], name)
    assert "DeletedDate" not in sm.describe_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "back again"
    sm.put_secret_value(SecretId=name, SecretString="writable")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "writable"


def test_restore_unknown(sm):
    with pytest.raises(ClientError) as e:
        sm.restore_secret(SecretId=unique_secret_name("never"))
    assert sm_error(e) == ("ResourceNotFoundException", 400, NOT_FOUND)


def test_force_delete_is_immediate_and_frees_the_name(sm, name):
    first = sm.create_secret(Name=name, SecretString="first life")
    out = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert (out["ARN"], out["Name"]) == (first["ARN"], name)
    assert abs((out["DeletionDate"] - _now()).total_seconds()) < 600
    for call in (lambda: sm.describe_secret(SecretId=name), lambda: sm.get_secret_value(SecretId=name),
                 lambda: sm.restore_secret(SecretId=name)):
        with pytest.raises(ClientError) as e:
            call()
        assert sm_error(e) == ("ResourceNotFoundException", 400, NOT_FOUND)
    # The name is free again; the new secret has another ARN and none of the old versions.
    second = sm.create_secret(Name=name, SecretString="second life")
    assert second["ARN"] != first["ARN"]
    assert second["ARN"][:-6] == first["ARN"][:-6]
    assert list(sm.describe_secret(SecretId=name)["VersionIdsToStages"]) == [second["VersionId"]]
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=first["ARN"])
    assert sm_error(e) == ("ResourceNotFoundException", 400, NOT_FOUND)


def test_force_delete_of_a_scheduled_secret(sm, name):
    sm.create_secret(Name=name, SecretString="x")
    sm.delete_secret(SecretId=name)
    out = sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    assert out["Name"] == name
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId=name)
    assert error(e) == ("ResourceNotFoundException", 400)


def test_force_delete_of_an_unknown_secret_succeeds(sm):
    """AWS: "If you forcibly delete an already deleted or nonexistent secret, the operation does not return
    ResourceNotFoundException"."""
    missing = unique_secret_name("never")
    out = sm.delete_secret(SecretId=missing, ForceDeleteWithoutRecovery=True)
    assert out["Name"] == missing
    out = sm.delete_secret(SecretId=missing, ForceDeleteWithoutRecovery=True)
    assert out["Name"] == missing
    with pytest.raises(ClientError) as e:
        sm.describe_secret(SecretId=missing)
    assert error(e) == ("ResourceNotFoundException", 400)
