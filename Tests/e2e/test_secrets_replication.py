"""Secrets Manager replication between two regions of the same server: CreateSecret with AddReplicaRegions,
ReplicateSecretToRegions, RemoveRegionsFromReplication and StopReplicationToReplica."""
import re

import pytest
from botocore.exceptions import ClientError

from helpers import SECRET_ARN_SUFFIX, error, force_delete_secret, sm_client, unique_secret_name

PRIMARY, REPLICA = "us-east-1", "us-west-2"


@pytest.fixture(scope="module")
def sm(endpoint):
    return sm_client(endpoint, region=PRIMARY)


@pytest.fixture(scope="module")
def west(endpoint):
    return sm_client(endpoint, region=REPLICA)


@pytest.fixture
def name(sm, west):
    n = unique_secret_name("repl")
    yield n
    try:
        sm.remove_regions_from_replication(SecretId=n, RemoveReplicaRegions=[REPLICA])
    except Exception:
        pass
    force_delete_secret(sm, n)
    force_delete_secret(west, n)


def _replica_arn(primary_arn):
    return primary_arn.replace(f":{PRIMARY}:", f":{REPLICA}:")


def test_create_with_replica_region(sm, west, account, name):
    out = sm.create_secret(Name=name, SecretString="everywhere", AddReplicaRegions=[{"Region": REPLICA}])
    assert [(r["Region"], r["Status"]) for r in out["ReplicationStatus"]] == [(REPLICA, "InSync")]
    arn = out["ARN"]

    primary = sm.describe_secret(SecretId=name)
    assert [(r["Region"], r["Status"]) for r in primary["ReplicationStatus"]] == [(REPLICA, "InSync")]
    assert primary["PrimaryRegion"] == PRIMARY  # "the Region the secret is in"

    replica = west.describe_secret(SecretId=name)
    assert replica["ARN"] == _replica_arn(arn)
    assert re.fullmatch(rf"arn:aws:secretsmanager:{REPLICA}:{account}:secret:{re.escape(name)}{SECRET_ARN_SUFFIX}",
                        replica["ARN"])
    assert replica["ARN"][-6:] == arn[-6:]  # same random characters
    assert replica["PrimaryRegion"] == PRIMARY
    got = west.get_secret_value(SecretId=name)
    assert got["SecretString"] == "everywhere"
    assert got["VersionId"] == out["VersionId"]
    assert west.get_secret_value(SecretId=replica["ARN"])["SecretString"] == "everywhere"

    # New values reach the replica.
    v2 = sm.put_secret_value(SecretId=name, SecretString="changed")["VersionId"]
    got = west.get_secret_value(SecretId=name)
    assert (got["SecretString"], got["VersionId"]) == ("changed", v2)


def test_replicate_then_remove(sm, west, name):
    arn = sm.create_secret(Name=name, SecretString="later")["ARN"]
    with pytest.raises(ClientError) as e:
        west.describe_secret(SecretId=name)
    assert error(e) == ("ResourceNotFoundException", 400)

    out = sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": REPLICA}])
    assert out["ARN"] == arn
    assert [(r["Region"], r["Status"]) for r in out["ReplicationStatus"]] == [(REPLICA, "InSync")]
    assert west.get_secret_value(SecretId=name)["SecretString"] == "later"
    assert any(s["Name"] == name for s in west.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"])

    out = sm.remove_regions_from_replication(SecretId=name, RemoveReplicaRegions=[REPLICA])
    assert out["ARN"] == arn
    assert out["ReplicationStatus"] == []
    with pytest.raises(ClientError) as e:
        west.describe_secret(SecretId=name)
    assert error(e) == ("ResourceNotFoundException", 400)
    assert "ReplicationStatus" not in sm.describe_secret(SecretId=name) or \
        sm.describe_secret(SecretId=name)["ReplicationStatus"] == []
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "later"


def test_replicate_to_its_own_region_is_rejected(sm, name):
    sm.create_secret(Name=name, SecretString="x")
    with pytest.raises(ClientError) as e:
        sm.replicate_secret_to_regions(SecretId=name, AddReplicaRegions=[{"Region": PRIMARY}])
    assert error(e) == ("InvalidParameterException", 400)


def test_stop_replication_promotes_the_replica(sm, west, name):
    arn = sm.create_secret(Name=name, SecretString="split", AddReplicaRegions=[{"Region": REPLICA}])["ARN"]
    out = west.stop_replication_to_replica(SecretId=name)
    assert out["ARN"] == _replica_arn(arn)
    standalone = west.describe_secret(SecretId=name)
    assert standalone.get("PrimaryRegion", REPLICA) == REPLICA
    assert standalone.get("ReplicationStatus", []) == []
    primary = sm.describe_secret(SecretId=name)
    assert primary.get("ReplicationStatus", []) == []
    # Two independent secrets now.
    west.put_secret_value(SecretId=name, SecretString="west only")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "split"
    assert west.get_secret_value(SecretId=name)["SecretString"] == "west only"


def test_filter_primary_region(sm, west, name):
    plain = name + "-plain"
    try:
        sm.create_secret(Name=name, SecretString="x", AddReplicaRegions=[{"Region": REPLICA}])
        sm.create_secret(Name=plain, SecretString="y")

        def names(client, region):
            out = client.list_secrets(Filters=[{"Key": "primary-region", "Values": [region]},
                                               {"Key": "name", "Values": [name]}])
            return {s["Name"] for s in out["SecretList"]}
        # (Whether a secret that was never replicated has a primary region to match is not settled.)
        assert name in names(sm, PRIMARY)
        assert names(sm, REPLICA) == set()
        assert names(west, PRIMARY) == {name}
        listed = west.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
        assert [(s["Name"], s["PrimaryRegion"]) for s in listed] == [(name, PRIMARY)]
    finally:
        force_delete_secret(sm, plain)
