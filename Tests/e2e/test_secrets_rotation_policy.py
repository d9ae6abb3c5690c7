"""Secrets Manager rotation settings, resource policies and tags.

There is no Lambda service (yet): RotateSecret naming a function answers what AWS answers when Secrets Manager
cannot invoke that function, and leaves the secret as it was."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import error, force_delete_secret, sm_client, sm_error, unique_secret_name

CANNOT_INVOKE = ("Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy "
                 "grants access to the principal secretsmanager.amazonaws.com.")
ROTATION_FIELDS = ("RotationEnabled", "RotationLambdaARN", "RotationRules", "LastRotatedDate", "NextRotationDate")


@pytest.fixture(scope="module")
def sm(endpoint):
    return sm_client(endpoint)


@pytest.fixture
def name(sm):
    n = unique_secret_name("rotpol")
    yield n
    force_delete_secret(sm, n)


# ---------------------------------------------------------------- rotation


def test_rotate_without_a_function(sm, name):
    created = sm.create_secret(Name=name, SecretString="init")
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId=name, RotationRules={"AutomaticallyAfterDays": 1})
    assert sm_error(e) == ("InvalidRequestException", 400,
                           "No Lambda rotation function ARN is associated with this secret.")
    d = sm.describe_secret(SecretId=name)
    assert d["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    for field in ROTATION_FIELDS:
        assert field not in d, field


@pytest.mark.parametrize("rules, immediately", [
    ({"AutomaticallyAfterDays": 1}, None),
    ({"ScheduleExpression": "rate(10 days)"}, False),
    ({"ScheduleExpression": "cron(0 16 1,15 * ? *)", "Duration": "2h"}, True),
])
def test_rotate_with_a_function_that_cannot_be_invoked(sm, account, name, rules, immediately):
    created = sm.create_secret(Name=name, SecretString="init")
    kw = {"SecretId": name, "RotationLambdaARN": f"arn:aws:lambda:us-east-1:{account}:function:rotate-{name}",
          "RotationRules": rules}
    if immediately is not None:
        kw["RotateImmediately"] = immediately
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(**kw)
    assert sm_error(e) == ("AccessDeniedException", 400, CANNOT_INVOKE)
    # Nothing changed: no rotation settings, no AWSPENDING version.
    d = sm.describe_secret(SecretId=name)
    assert d["VersionIdsToStages"] == {created["VersionId"]: ["AWSCURRENT"]}
    for field in ROTATION_FIELDS:
        assert field not in d, field
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "init"


def test_rotate_and_cancel_unknown_or_deleted(sm, name):
    sm.create_secret(Name=name, SecretString="init")
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    with pytest.raises(ClientError) as e:
        sm.rotate_secret(SecretId=name)
    assert error(e) == ("InvalidRequestException", 400)
    with pytest.raises(ClientError) as e:
        sm.cancel_rotate_secret(SecretId=name)
    assert error(e) == ("InvalidRequestException", 400)
    missing = unique_secret_name("never")
    for call in (lambda: sm.rotate_secret(SecretId=missing), lambda: sm.cancel_rotate_secret(SecretId=missing)):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("ResourceNotFoundException", 400)


# ---------------------------------------------------------------- resource policies


def _policy(account, principal=None):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": principal or {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "secretsmanager:GetSecretValue",
            "Resource": "*",
        }],
    })


def test_resource_policy_put_get_delete(sm, account, name):
    created = sm.create_secret(Name=name, SecretString="guarded")
    got = sm.get_resource_policy(SecretId=name)
    assert set(got) - {"ResponseMetadata"} == {"ARN", "Name"}
    assert (got["ARN"], got["Name"]) == (created["ARN"], name)

    policy = _policy(account)
    out = sm.put_resource_policy(SecretId=name, ResourcePolicy=policy)
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name"}
    assert (out["ARN"], out["Name"]) == (created["ARN"], name)
    got = sm.get_resource_policy(SecretId=created["ARN"])
    assert json.loads(got["ResourcePolicy"]) == json.loads(policy)

    # Replaced by a second put.
    wider = _policy(account, principal="*")
    sm.put_resource_policy(SecretId=name, ResourcePolicy=wider)
    assert json.loads(sm.get_resource_policy(SecretId=name)["ResourcePolicy"]) == json.loads(wider)

    out = sm.delete_resource_policy(SecretId=name)
    assert set(out) - {"ResponseMetadata"} == {"ARN", "Name"}
    assert (out["ARN"], out["Name"]) == (created["ARN"], name)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    # Deleting again is fine.
    sm.delete_resource_policy(SecretId=name)


def test_resource_policy_block_public_policy(sm, account, name):
    sm.create_secret(Name=name, SecretString="guarded")
    with pytest.raises(ClientError) as e:
        sm.put_resource_policy(SecretId=name, ResourcePolicy=_policy(account, principal="*"), BlockPublicPolicy=True)
    assert error(e) == ("PublicPolicyException", 400)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)
    # A policy for one account is not public.
    sm.put_resource_policy(SecretId=name, ResourcePolicy=_policy(account), BlockPublicPolicy=True)
    assert "ResourcePolicy" in sm.get_resource_policy(SecretId=name)


def test_resource_policy_must_be_json(sm, name):
    sm.create_secret(Name=name, SecretString="guarded")
    with pytest.raises(ClientError) as e:
        sm.put_resource_policy(SecretId=name, ResourcePolicy="{not json")
    assert error(e) == ("MalformedPolicyDocumentException", 400)
    assert "ResourcePolicy" not in sm.get_resource_policy(SecretId=name)


def test_validate_resource_policy(sm, account, name):
    sm.create_secret(Name=name, SecretString="guarded")
    out = sm.validate_resource_policy(SecretId=name, ResourcePolicy=_policy(account))
    assert out["PolicyValidationPassed"] is True
    assert out["ValidationErrors"] == []
    # Without a secret too.
    out = sm.validate_resource_policy(ResourcePolicy=_policy(account))
    assert out["PolicyValidationPassed"] is True
    with pytest.raises(ClientError) as e:
        sm.validate_resource_policy(ResourcePolicy="{not json")
    assert error(e) == ("MalformedPolicyDocumentException", 400)
    with pytest.raises(ClientError) as e:
        sm.validate_resource_policy(SecretId=unique_secret_name("never"), ResourcePolicy=_policy(account))
    assert error(e) == ("ResourceNotFoundException", 400)


# ---------------------------------------------------------------- tags


def _tags(sm, name):
    return sorted((t["Key"], t["Value"]) for t in sm.describe_secret(SecretId=name).get("Tags", []))


def test_tag_and_untag(sm, name):
    created = sm.create_secret(Name=name, SecretString="tagged", Tags=[{"Key": "a", "Value": "1"}])
    out = sm.tag_resource(SecretId=name, Tags=[{"Key": "b", "Value": "2"}, {"Key": "c", "Value": ""}])
    assert set(out) == {"ResponseMetadata"}
    assert _tags(sm, name) == [("a", "1"), ("b", "2"), ("c", "")]
    # An existing key is overwritten, by ARN as well.
    sm.tag_resource(SecretId=created["ARN"], Tags=[{"Key": "a", "Value": "one"}])
    assert _tags(sm, name) == [("a", "one"), ("b", "2"), ("c", "")]
    out = sm.untag_resource(SecretId=name, TagKeys=["b", "does-not-exist"])
    assert set(out) == {"ResponseMetadata"}
    assert _tags(sm, name) == [("a", "one"), ("c", "")]
    # Tags do not create versions.
    assert list(sm.describe_secret(SecretId=name)["VersionIdsToStages"]) == [created["VersionId"]]


def test_tags_keep_case_and_unicode(sm, name):
    sm.create_secret(Name=name, SecretString="tagged")
    tags = [{"Key": "Env", "Value": "Prod"}, {"Key": "env", "Value": "dev"},
            {"Key": "owner:team", "Value": "caf\u00e9 + co/ops=1@x"}]
    sm.tag_resource(SecretId=name, Tags=tags)
    assert _tags(sm, name) == sorted((t["Key"], t["Value"]) for t in tags)
    sm.untag_resource(SecretId=name, TagKeys=["env"])
    assert _tags(sm, name) == [("Env", "Prod"), ("owner:team", "caf\u00e9 + co/ops=1@x")]


def test_tag_with_many_keys_round_trips(sm, name):
    sm.create_secret(Name=name, SecretString="tagged")
    tags = [{"Key": f"k{i:02d}-{uuid.uuid4().hex[:6]}", "Value": f"v{i}"} for i in range(40)]
    sm.tag_resource(SecretId=name, Tags=tags)
    assert _tags(sm, name) == sorted((t["Key"], t["Value"]) for t in tags)
