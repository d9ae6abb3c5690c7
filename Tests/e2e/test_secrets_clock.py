"""Secrets Manager behaviour that takes days on AWS, checked by moving the emulator's clock
(`POST /_cloudless/clock {"advance": seconds}`): secrets are removed when their recovery window ends,
LastAccessedDate is kept to the day, and unlabeled versions are pruned once there are more than 100 of
them and they are older than 24 hours.

Runs its own cloudless (the clock is shared by every service of a server), so it needs the binary."""
import datetime
import json
import shutil
import tempfile
import urllib.request

import pytest
from botocore.exceptions import ClientError

from helpers import error, sm_client, unique_secret_name, version_stages
from server import Server

DAY = 86400


@pytest.fixture(scope="module")
def own_server():
    data_dir = tempfile.mkdtemp(prefix="cloudless-sm-clock-")
    s = Server(data_dir=data_dir).start()
    yield s
    s.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def sm(own_server):
    return sm_client(own_server.endpoint)


def _advance(server, seconds):
    """Move the server's clock; returns its new `now` as an aware datetime."""
    req = urllib.request.Request(server.endpoint + "/_cloudless/clock", method="POST",
                                 data=json.dumps({"advance": seconds}).encode())
    with urllib.request.urlopen(req, timeout=10) as r:
        now = json.loads(r.read())["now"]
    return datetime.datetime.fromtimestamp(now, datetime.timezone.utc)


def _server_now(server):
    return _advance(server, 0)


def _midnight(dt):
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


def test_recovery_window_ends_with_the_secret_gone(own_server, sm):
    name = unique_secret_name("clock-del")
    sm.create_secret(Name=name, SecretString="short-lived")
    out = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    start = _server_now(own_server)
    assert 7 * DAY - 600 < (out["DeletionDate"] - start).total_seconds() < 8 * DAY

    # Six days later it can still be seen and restored.
    _advance(own_server, 6 * DAY)
    assert "DeletedDate" in sm.describe_secret(SecretId=name)
    listed = sm.list_secrets(IncludePlannedDeletion=True, Filters=[{"Key": "name", "Values": [name]}])
    assert [s["Name"] for s in listed["SecretList"]] == [name]

    # Past the window it is gone for good, and the name is free.
    _advance(own_server, 2 * DAY)
    for call in (lambda: sm.describe_secret(SecretId=name), lambda: sm.restore_secret(SecretId=name),
                 lambda: sm.get_secret_value(SecretId=name)):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("ResourceNotFoundException", 400)
    listed = sm.list_secrets(IncludePlannedDeletion=True, Filters=[{"Key": "name", "Values": [name]}])
    assert listed["SecretList"] == []
    sm.create_secret(Name=name, SecretString="reborn")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "reborn"


def test_restored_secret_outlives_its_window(own_server, sm):
    name = unique_secret_name("clock-restore")
    sm.create_secret(Name=name, SecretString="kept")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    _advance(own_server, 3 * DAY)
    sm.restore_secret(SecretId=name)
    _advance(own_server, 10 * DAY)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "kept"


def test_last_accessed_date_is_kept_to_the_day(own_server, sm):
    name = unique_secret_name("clock-access")
    sm.create_secret(Name=name, SecretString="read me")
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=name)
    sm.get_secret_value(SecretId=name)
    first_day = _midnight(_server_now(own_server))
    assert sm.describe_secret(SecretId=name)["LastAccessedDate"] == first_day
    # Describing is not an access; two days later the date has not moved.
    later = _advance(own_server, 2 * DAY)
    assert sm.describe_secret(SecretId=name)["LastAccessedDate"] == first_day
    # A read moves it to that day's midnight (UTC); BatchGetSecretValue reads too.
    sm.batch_get_secret_value(SecretIdList=[name])
    assert sm.describe_secret(SecretId=name)["LastAccessedDate"] == _midnight(later)
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    assert listed[0]["LastAccessedDate"] == _midnight(later)


def test_unlabeled_versions_are_pruned_past_100_after_24_hours(own_server, sm):
    name = unique_secret_name("clock-prune")
    order = [sm.create_secret(Name=name, SecretString="v0")["VersionId"]]
    for i in range(1, 105):
        order.append(sm.put_secret_value(SecretId=name, SecretString=f"v{i}")["VersionId"])
    # 105 versions, 103 of them unlabeled: none is removed while younger than 24 hours.
    everything = version_stages(sm, name, include_deprecated=True)
    assert set(everything) == set(order)
    assert sm.get_secret_value(SecretId=name, VersionId=order[0])["SecretString"] == "v0"

    _advance(own_server, DAY + 3600)
    order.append(sm.put_secret_value(SecretId=name, SecretString="v105")["VersionId"])
    left = version_stages(sm, name, include_deprecated=True)
    # The labeled versions stay; unlabeled ones are removed oldest first, down to at most 100.
    assert left[order[-1]] == ["AWSCURRENT"]
    assert left[order[-2]] == ["AWSPREVIOUS"]
    unlabeled = [v for v in order[:-2] if v in left]
    assert len(unlabeled) <= 100
    assert len(unlabeled) >= 94  # (at most 100 versions in all)
    assert unlabeled == order[len(order) - 2 - len(unlabeled):-2]  # the newest survive
    assert set(left) <= set(order)
    with pytest.raises(ClientError) as e:
        sm.get_secret_value(SecretId=name, VersionId=order[0])
    assert error(e) == ("ResourceNotFoundException", 400)
    assert sm.get_secret_value(SecretId=name, VersionId=unlabeled[0])["SecretString"] == \
        f"v{order.index(unlabeled[0])}"
