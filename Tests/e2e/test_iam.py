"""IAM over the Query protocol (Version 2010-05-08), from boto3, raw signed requests and the aws CLI v1 and v2.
Expected behaviour is real AWS IAM: shapes and member names of the botocore model, error codes, statuses and
messages as AWS answers them (LocalStack's AWS-recorded snapshots for the ones it recorded).

Covered: roles (create/get/list with paging/update/update description/update assume-role policy/delete, tags),
inline role, user and group policies, managed policies (create/get/list with scopes/delete, versions up to 5,
default version, tags, AWS managed policies), attachments to roles, users and groups and ListEntitiesForPolicy,
users (create/get with and without a name/list/rename/delete, tags), groups and their members, access keys
(create/list/update/delete/last used, the quota of 2, a key signing as its user and acting in its account),
instance profiles, the Query envelope and errors on the wire, region independence. Signature checks with issued
keys are in test_iam_strict.py.

Names are unique per run and every listing is narrowed to this run's paths, so the module also runs against
another emulator through E2E_ENDPOINT."""
import json
import os
import re
import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import make_client, tool_env

NS = "https://iam.amazonaws.com/doc/2010-05-08/"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
S3_READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
ID = {"role": r"AROA[A-Z2-7]{17}", "user": r"AIDA[A-Z2-7]{17}", "group": r"AGPA[A-Z2-7]{17}",
      "policy": r"ANPA[A-Z2-7]{17}", "profile": r"AIPA[A-Z2-7]{17}", "key": r"AKIA[A-Z2-7]{16}"}
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.fixture(scope="module")
def iam(endpoint):
    return make_client(endpoint, "iam")


@pytest.fixture(scope="module")
def acct(endpoint):
    return make_client(endpoint, "sts").get_caller_identity()["Account"]


@pytest.fixture
def run_id():
    return uuid.uuid4().hex[:10]


def err(excinfo):
    """(code, status, message) of a Query error; every IAM error here is the sender's."""
    r = excinfo.value.response
    assert r["Error"]["Type"] == "Sender", r
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def call_error(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    return err(ei)


def everything(iam, method, key, **kw):
    """All items of a paged listing, following Marker by hand (MaxItems=2 to cross pages)."""
    out, marker = [], None
    while True:
        page = getattr(iam, method)(MaxItems=2, **({"Marker": marker} if marker else {}), **kw)
        out += page[key]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            return out
        marker = page["Marker"]


# --- roles --------------------------------------------------------------------------------------

def test_role_lifecycle(iam, acct, run_id):
    name, path = f"role-{run_id}", f"/e2e/{run_id}/"
    created = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(TRUST),
                              Description="runs things", Tags=[{"Key": "team", "Value": "core"}])["Role"]
    assert re.fullmatch(ID["role"], created["RoleId"])
    assert created["Arn"] == f"arn:aws:iam::{acct}:role{path}{name}"
    assert (created["Path"], created["RoleName"], created["Description"]) == (path, name, "runs things")
    assert created["AssumeRolePolicyDocument"] == TRUST
    assert created["Tags"] == [{"Key": "team", "Value": "core"}]
    # CreateRole leaves out what was not given; GetRole shows the default session duration and RoleLastUsed.
    assert "MaxSessionDuration" not in created and "RoleLastUsed" not in created

    got = iam.get_role(RoleName=name.upper())["Role"]  # names match without case
    assert got["RoleName"] == name and got["RoleId"] == created["RoleId"]
    assert got["MaxSessionDuration"] == 3600 and got["RoleLastUsed"] == {}
    assert got["CreateDate"] == created["CreateDate"]

    iam.update_role(RoleName=name, Description="runs more", MaxSessionDuration=7200)
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("runs more", 7200)
    described = iam.update_role_description(RoleName=name, Description="third")["Role"]
    assert described["Description"] == "third" and described["Arn"] == created["Arn"]
    trust2 = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust2))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust2

    listed = iam.list_roles(PathPrefix=path)
    assert listed["IsTruncated"] is False
    assert [r["RoleName"] for r in listed["Roles"]] == [name]
    # Listings leave out tags and RoleLastUsed, as AWS documents.
    assert set(listed["Roles"][0]) == {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument",
                                       "Description", "MaxSessionDuration"}

    iam.delete_role(RoleName=name)
    assert call_error(iam.get_role, RoleName=name) == ("NoSuchEntity", 404, f"The role with name {name} cannot be found.")
    assert iam.list_roles(PathPrefix=path)["Roles"] == []


def test_role_errors(iam, run_id):
    name = f"role-{run_id}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    try:
        assert call_error(iam.create_role, RoleName=name.upper(), AssumeRolePolicyDocument=json.dumps(TRUST)) == (
            "EntityAlreadyExists", 409, f"Role with name {name.upper()} already exists.")
        assert call_error(iam.create_role, RoleName=f"bad-{run_id}", AssumeRolePolicyDocument="{not json") == (
            "MalformedPolicyDocument", 400, "This policy contains invalid Json")
        assert call_error(iam.update_assume_role_policy, RoleName=name, PolicyDocument="[1") == (
            "MalformedPolicyDocument", 400, "This policy contains invalid Json")
        assert call_error(iam.create_role, RoleName="has space", AssumeRolePolicyDocument=json.dumps(TRUST)) == (
            "ValidationError", 400, "1 validation error detected: Value 'has space' at 'roleName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
        assert call_error(iam.update_role, RoleName=name, MaxSessionDuration=60000) == (
            "ValidationError", 400, "1 validation error detected: Value '60000' at 'maxSessionDuration' failed to "
            "satisfy constraint: Member must have value less than or equal to 43200")
        missing = f"missing-{run_id}"
        for fn, kw in [(iam.get_role, {}), (iam.update_role, {"Description": "x"}), (iam.delete_role, {}),
                       (iam.tag_role, {"Tags": [{"Key": "k", "Value": "v"}]}), (iam.list_role_tags, {}),
                       (iam.update_assume_role_policy, {"PolicyDocument": json.dumps(TRUST)}),
                       (iam.list_role_policies, {}), (iam.list_attached_role_policies, {})]:
            assert call_error(fn, RoleName=missing, **kw) == (
                "NoSuchEntity", 404, f"The role with name {missing} cannot be found."), fn
    finally:
        iam.delete_role(RoleName=name)


def test_list_roles_pages_in_name_order(iam, run_id):
    path = f"/paged/{run_id}/"
    names = [f"r{i}-{run_id}" for i in (3, 1, 4, 0, 2)]
    for n in names:
        iam.create_role(RoleName=n, Path=path, AssumeRolePolicyDocument=json.dumps(TRUST))
    try:
        assert [r["RoleName"] for r in everything(iam, "list_roles", "Roles", PathPrefix=path)] == sorted(names)
        first = iam.list_roles(PathPrefix=path, MaxItems=3)
        assert first["IsTruncated"] is True and len(first["Roles"]) == 3
        paginated = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate(
            PathPrefix=path, PaginationConfig={"PageSize": 2}) for r in page["Roles"]]
        assert paginated == sorted(names)
        assert [r["RoleName"] for r in iam.list_roles(PathPrefix=f"/paged/{run_id}/x")["Roles"]] == []
    finally:
        for n in names:
            iam.delete_role(RoleName=n)


def test_role_tags(iam, run_id):
    name = f"tagged-{run_id}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=[{"Key": "env", "Value": "dev"}])
    try:
        iam.tag_role(RoleName=name, Tags=[{"Key": "team", "Value": "a"}, {"Key": "ENV", "Value": "prod"}])
        # Keys are case-insensitive: ENV replaced env in place.
        assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "ENV", "Value": "prod"}, {"Key": "team", "Value": "a"}]
        iam.untag_role(RoleName=name, TagKeys=["env", "nothing"])
        assert iam.list_role_tags(RoleName=name) | {"ResponseMetadata": None} == {
            "Tags": [{"Key": "team", "Value": "a"}], "IsTruncated": False, "ResponseMetadata": None}
        assert iam.get_role(RoleName=name)["Role"]["Tags"] == [{"Key": "team", "Value": "a"}]
        assert call_error(iam.tag_role, RoleName=name, Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}]) == (
            "InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        iam.untag_role(RoleName=name, TagKeys=["team"])
        assert iam.list_role_tags(RoleName=name)["Tags"] == []
        assert "Tags" not in iam.get_role(RoleName=name)["Role"]
    finally:
        iam.delete_role(RoleName=name)


# --- inline policies ----------------------------------------------------------------------------

def test_inline_role_policies(iam, endpoint, run_id):
    name = f"inline-{run_id}"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    # Characters that URL encoding must carry: %, +, spaces, slashes, non-ASCII.
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                   "Resource": "arn:aws:s3:::b/a%2Fb c+d/\u00e9"}]}
    text = json.dumps(doc, indent=2)
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=text)
    iam.put_role_policy(RoleName=name, PolicyName="another", PolicyDocument=json.dumps(S3_READ))
    got = iam.get_role_policy(RoleName=name.upper(), PolicyName="read")
    assert (got["RoleName"], got["PolicyName"], got["PolicyDocument"]) == (name, "read", doc)
    # On the wire the document is URL-encoded (RFC 3986), exactly the text that was put.
    root = query(endpoint, {"Action": "GetRolePolicy", "RoleName": name, "PolicyName": "read"})[1]
    wire = root.find(f"{{{NS}}}GetRolePolicyResult/{{{NS}}}PolicyDocument").text
    assert "%20" in wire and "+" not in wire and "%25" in wire
    assert requests.utils.unquote(wire) == text

    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["another", "read"]
    page = iam.list_role_policies(RoleName=name, MaxItems=1)
    assert page["PolicyNames"] == ["another"] and page["IsTruncated"] is True
    assert iam.list_role_policies(RoleName=name, Marker=page["Marker"])["PolicyNames"] == ["read"]
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps(S3_READ))  # replaces
    assert iam.get_role_policy(RoleName=name, PolicyName="read")["PolicyDocument"] == S3_READ

    assert call_error(iam.delete_role, RoleName=name) == (
        "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    assert call_error(iam.get_role_policy, RoleName=name, PolicyName="nope") == (
        "NoSuchEntity", 404, "The role policy with name nope cannot be found.")
    assert call_error(iam.put_role_policy, RoleName=name, PolicyName="bad", PolicyDocument='{"Version": "2012-10-17"}') == (
        "MalformedPolicyDocument", 400, "Syntax errors in policy.")
    iam.delete_role_policy(RoleName=name, PolicyName="read")
    iam.delete_role_policy(RoleName=name, PolicyName="another")
    assert call_error(iam.delete_role_policy, RoleName=name, PolicyName="read") == (
        "NoSuchEntity", 404, "The role policy with name read cannot be found.")
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    iam.delete_role(RoleName=name)


def test_inline_user_and_group_policies(iam, run_id):
    user, group = f"iu-{run_id}", f"ig-{run_id}"
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.put_user_policy(UserName=user, PolicyName="u", PolicyDocument=json.dumps(S3_READ))
    iam.put_group_policy(GroupName=group, PolicyName="g", PolicyDocument=json.dumps(S3_READ))
    assert iam.get_user_policy(UserName=user, PolicyName="u")["PolicyDocument"] == S3_READ
    assert iam.get_user_policy(UserName=user, PolicyName="u")["UserName"] == user
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["u"]
    assert iam.get_group_policy(GroupName=group, PolicyName="g")["PolicyDocument"] == S3_READ
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["g"]
    assert call_error(iam.get_user_policy, UserName=user, PolicyName="x") == (
        "NoSuchEntity", 404, "The user policy with name x cannot be found.")
    assert call_error(iam.delete_user, UserName=user) == (
        "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    assert call_error(iam.delete_group, GroupName=group) == (
        "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
    assert call_error(iam.put_user_policy, UserName=f"no-{run_id}", PolicyName="u", PolicyDocument=json.dumps(S3_READ)) == (
        "NoSuchEntity", 404, f"The user with name no-{run_id} cannot be found.")
    iam.delete_user_policy(UserName=user, PolicyName="u")
    iam.delete_group_policy(GroupName=group, PolicyName="g")
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []
    iam.delete_user(UserName=user)
    iam.delete_group(GroupName=group)


# --- managed policies ---------------------------------------------------------------------------

def test_managed_policy_versions(iam, acct, run_id):
    name = f"mp-{run_id}"
    arn = f"arn:aws:iam::{acct}:policy/team/{name}"
    policy = iam.create_policy(PolicyName=name, Path="/team/", PolicyDocument=json.dumps(S3_READ),
                               Description="reads")["Policy"]
    assert re.fullmatch(ID["policy"], policy["PolicyId"])
    assert (policy["Arn"], policy["Path"], policy["DefaultVersionId"], policy["AttachmentCount"],
            policy["PermissionsBoundaryUsageCount"], policy["IsAttachable"]) == (arn, "/team/", "v1", 0, 0, True)
    assert policy["CreateDate"] == policy["UpdateDate"]
    got = iam.get_policy(PolicyArn=arn)["Policy"]
    assert got["Description"] == "reads" and got["PolicyId"] == policy["PolicyId"]

    docs = {f"v{n}": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": f"s3:Get{n}", "Resource": "*"}]}
            for n in range(2, 6)}
    for vid, doc in docs.items():
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=vid == "v3")["PolicyVersion"]
        assert (v["VersionId"], v["IsDefaultVersion"]) == (vid, vid == "v3")
        assert "Document" not in v  # not returned by CreatePolicyVersion, as AWS documents
    assert call_error(iam.create_policy_version, PolicyArn=arn, PolicyDocument=json.dumps(S3_READ)) == (
        "LimitExceeded", 409,
        "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in versions] == [
        ("v5", False), ("v4", False), ("v3", True), ("v2", False), ("v1", False)]
    assert all("Document" not in v for v in versions)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    v4 = iam.get_policy_version(PolicyArn=arn, VersionId="v4")["PolicyVersion"]
    assert (v4["Document"], v4["IsDefaultVersion"]) == (docs["v4"], False)
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"] == S3_READ

    iam.set_default_policy_version(PolicyArn=arn, VersionId="v4")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v4"
    assert call_error(iam.delete_policy_version, PolicyArn=arn, VersionId="v4") == (
        "DeleteConflict", 409, "Cannot delete the default version of a policy.")
    assert call_error(iam.get_policy_version, PolicyArn=arn, VersionId="v9") == (
        "NoSuchEntity", 404, f"Policy {arn} version v9 does not exist or is not attachable.")
    assert call_error(iam.set_default_policy_version, PolicyArn=arn, VersionId="v9") == (
        "NoSuchEntity", 404, f"Policy {arn} version v9 does not exist or is not attachable.")
    assert call_error(iam.delete_policy, PolicyArn=arn) == (
        "DeleteConflict", 409, "This policy has more than one version. Before you delete a policy, you must delete the "
        "policy's versions. The default version is deleted with the policy.")
    for vid in ["v1", "v2", "v3", "v5"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=vid)
    # Version numbers go on after deletions.
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(S3_READ))["PolicyVersion"]["VersionId"] == "v6"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v6")
    iam.delete_policy(PolicyArn=arn)
    assert call_error(iam.get_policy, PolicyArn=arn) == ("NoSuchEntity", 404, f"Policy {arn} was not found.")


def test_managed_policy_errors_and_tags(iam, acct, run_id):
    name = f"mpt-{run_id}"
    arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(S3_READ),
                            Tags=[{"Key": "a", "Value": "1"}])["Policy"]["Arn"]
    try:
        assert arn == f"arn:aws:iam::{acct}:policy/{name}"
        assert call_error(iam.create_policy, PolicyName=name, Path="/other/", PolicyDocument=json.dumps(S3_READ)) == (
            "EntityAlreadyExists", 409, f"A policy called {name} already exists. Duplicate names are not allowed.")
        assert call_error(iam.create_policy, PolicyName=f"x-{run_id}", PolicyDocument="nope") == (
            "MalformedPolicyDocument", 400, "This policy contains invalid Json")
        assert call_error(iam.get_policy, PolicyArn=f"arn:aws:iam::{acct}:policy-{name}") == (
            "ValidationError", 400, "Invalid ARN:  Could not be parsed!")
        assert call_error(iam.delete_policy, PolicyArn=f"arn:aws:iam::{acct}:policy/none-{run_id}") == (
            "NoSuchEntity", 404, f"Policy arn:aws:iam::{acct}:policy/none-{run_id} was not found.")
        # The path is part of the ARN: the same name under another path is not this policy.
        assert call_error(iam.get_policy, PolicyArn=f"arn:aws:iam::{acct}:policy/other/{name}")[:2] == ("NoSuchEntity", 404)

        iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "A", "Value": "3"}])
        assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "A", "Value": "3"}, {"Key": "b", "Value": "2"}]
        iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
        assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "b", "Value": "2"}]
    finally:
        iam.delete_policy(PolicyArn=arn)


def test_list_policies_scopes_and_aws_managed(iam, acct, run_id):
    path = f"/scoped/{run_id}/"
    mine = [iam.create_policy(PolicyName=f"p{i}-{run_id}", Path=path, PolicyDocument=json.dumps(S3_READ),
                              Description="not listed")["Policy"]["Arn"] for i in range(3)]
    role = f"scoped-{run_id}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    try:
        local = everything(iam, "list_policies", "Policies", Scope="Local", PathPrefix=path)
        assert [p["Arn"] for p in local] == mine
        assert all("Description" not in p and "Tags" not in p for p in local)
        assert iam.list_policies(Scope="AWS", PathPrefix=path)["Policies"] == []

        aws = {p["PolicyName"]: p for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
        for name in ["AdministratorAccess", "AmazonS3FullAccess", "AmazonSQSFullAccess", "SecretsManagerReadWrite",
                     "AWSLambdaBasicExecutionRole"]:
            assert name in aws, name
            assert aws[name]["Arn"].startswith("arn:aws:iam::aws:policy/") and aws[name]["IsAttachable"] is True
        assert aws["AWSLambdaBasicExecutionRole"]["Arn"] == LAMBDA_BASIC
        assert aws["AWSLambdaBasicExecutionRole"]["Path"] == "/service-role/"
        assert not any(p["Arn"].startswith(f"arn:aws:iam::{acct}:") for p in aws.values())
        basic = iam.get_policy(PolicyArn=LAMBDA_BASIC)["Policy"]
        assert (basic["PolicyName"], basic["DefaultVersionId"], basic["Description"]) == (
            "AWSLambdaBasicExecutionRole", "v1", "Provides write permissions to CloudWatch Logs.")
        version = iam.get_policy_version(PolicyArn=LAMBDA_BASIC, VersionId="v1")["PolicyVersion"]
        assert version["IsDefaultVersion"] is True
        assert version["Document"]["Statement"][0]["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream",
                                                                 "logs:PutLogEvents"]
        admin = iam.get_policy_version(PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess", VersionId="v1")
        assert admin["PolicyVersion"]["Document"]["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
        assert call_error(iam.delete_policy, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")[:2] == ("NoSuchEntity", 404)

        iam.attach_role_policy(RoleName=role, PolicyArn=mine[1])
        attached = iam.list_policies(Scope="Local", OnlyAttached=True, PathPrefix=path)["Policies"]
        assert [(p["Arn"], p["AttachmentCount"]) for p in attached] == [(mine[1], 1)]
        iam.detach_role_policy(RoleName=role, PolicyArn=mine[1])
        assert iam.list_policies(Scope="Local", OnlyAttached=True, PathPrefix=path)["Policies"] == []
    finally:
        iam.delete_role(RoleName=role)
        for arn in mine:
            iam.delete_policy(PolicyArn=arn)


def test_attachments_and_entities_for_policy(iam, acct, run_id):
    role, user, group = f"ar-{run_id}", f"au-{run_id}", f"ag-{run_id}"
    iam.create_role(RoleName=role, Path="/svc/", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    arn = iam.create_policy(PolicyName=f"ap-{run_id}", PolicyDocument=json.dumps(S3_READ))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)  # again: no-op
    iam.attach_role_policy(RoleName=role, PolicyArn=LAMBDA_BASIC)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)

    assert sorted(iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], key=lambda p: p["PolicyArn"]) == [
        {"PolicyName": f"ap-{run_id}", "PolicyArn": arn},
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": LAMBDA_BASIC}]
    assert iam.list_attached_role_policies(RoleName=role, PathPrefix="/service-role/")["AttachedPolicies"] == [
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": LAMBDA_BASIC}]
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [{"PolicyName": f"ap-{run_id}", "PolicyArn": arn}]
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == [{"PolicyName": f"ap-{run_id}", "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3

    role_id = iam.get_role(RoleName=role)["Role"]["RoleId"]
    user_id = iam.get_user(UserName=user)["User"]["UserId"]
    group_id = iam.get_group(GroupName=group)["Group"]["GroupId"]
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert (entities["PolicyRoles"], entities["PolicyUsers"], entities["PolicyGroups"], entities["IsTruncated"]) == (
        [{"RoleName": role, "RoleId": role_id}], [{"UserName": user, "UserId": user_id}],
        [{"GroupName": group, "GroupId": group_id}], False)
    only_roles = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert (only_roles["PolicyRoles"], only_roles["PolicyUsers"], only_roles["PolicyGroups"]) == (
        [{"RoleName": role, "RoleId": role_id}], [], [])
    assert iam.list_entities_for_policy(PolicyArn=arn, PathPrefix="/svc/")["PolicyUsers"] == []
    assert [r["RoleName"] for r in iam.list_entities_for_policy(PolicyArn=LAMBDA_BASIC)["PolicyRoles"]] == [role]

    missing = f"arn:aws:iam::{acct}:policy/ap-{run_id}123"
    assert call_error(iam.attach_role_policy, RoleName=role, PolicyArn=missing) == (
        "NoSuchEntity", 404, f"Policy {missing} does not exist or is not attachable.")
    assert call_error(iam.attach_user_policy, UserName=user, PolicyArn=f"policy-name-ap-{run_id}") == (
        "ValidationError", 400, "Invalid ARN:  Could not be parsed!")
    assert call_error(iam.attach_role_policy, RoleName=f"none-{run_id}", PolicyArn=arn) == (
        "NoSuchEntity", 404, f"The role with name none-{run_id} cannot be found.")
    assert call_error(iam.detach_user_policy, UserName=user, PolicyArn=LAMBDA_BASIC) == (
        "NoSuchEntity", 404, f"Policy {LAMBDA_BASIC} was not found.")
    assert call_error(iam.delete_role, RoleName=role) == (
        "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    assert call_error(iam.delete_user, UserName=user) == (
        "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
    assert call_error(iam.delete_policy, PolicyArn=arn) == (
        "DeleteConflict", 409, "Cannot delete a policy attached to entities.")

    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    iam.detach_role_policy(RoleName=role, PolicyArn=LAMBDA_BASIC)
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    iam.delete_policy(PolicyArn=arn)
    iam.delete_role(RoleName=role)
    iam.delete_user(UserName=user)
    iam.delete_group(GroupName=group)


def test_attachment_quota(iam, run_id):
    role = f"quota-{run_id}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    arns = [iam.create_policy(PolicyName=f"q{i}-{run_id}", PolicyDocument=json.dumps(S3_READ))["Policy"]["Arn"]
            for i in range(11)]
    try:
        for arn in arns[:10]:
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        assert call_error(iam.attach_role_policy, RoleName=role, PolicyArn=arns[10]) == (
            "LimitExceeded", 409, "Cannot exceed quota for PoliciesPerRole: 10")
    finally:
        for arn in arns:
            try:
                iam.detach_role_policy(RoleName=role, PolicyArn=arn)
            except ClientError:
                pass
            iam.delete_policy(PolicyArn=arn)
        iam.delete_role(RoleName=role)


# --- users, groups, access keys -----------------------------------------------------------------

def test_user_lifecycle(iam, acct, run_id):
    name, path = f"user-{run_id}", f"/people/{run_id}/"
    user = iam.create_user(UserName=name, Path=path, Tags=[{"Key": "dept", "Value": "eng"}])["User"]
    assert re.fullmatch(ID["user"], user["UserId"])
    assert (user["UserName"], user["Path"], user["Arn"]) == (name, path, f"arn:aws:iam::{acct}:user{path}{name}")
    assert user["Tags"] == [{"Key": "dept", "Value": "eng"}]
    got = iam.get_user(UserName=name.upper())["User"]
    assert (got["UserName"], got["UserId"], got["Tags"]) == (name, user["UserId"], user["Tags"])
    assert call_error(iam.create_user, UserName=name) == ("EntityAlreadyExists", 409, f"User with name {name} already exists.")
    listed = iam.list_users(PathPrefix=path)["Users"]
    assert [u["UserName"] for u in listed] == [name] and "Tags" not in listed[0]

    iam.tag_user(UserName=name, Tags=[{"Key": "level", "Value": "3"}])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "dept", "Value": "eng"}, {"Key": "level", "Value": "3"}]
    iam.untag_user(UserName=name, TagKeys=["dept"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "level", "Value": "3"}]

    # Renaming carries the user's id, policies and groups along.
    group = f"ug-{run_id}"
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(S3_READ))
    new, new_path = f"renamed-{run_id}", f"/moved/{run_id}/"
    iam.update_user(UserName=name, NewUserName=new, NewPath=new_path)
    assert call_error(iam.get_user, UserName=name) == ("NoSuchEntity", 404, f"The user with name {name} cannot be found.")
    moved = iam.get_user(UserName=new)["User"]
    assert (moved["UserId"], moved["Path"], moved["Arn"]) == (user["UserId"], new_path, f"arn:aws:iam::{acct}:user{new_path}{new}")
    assert iam.list_user_policies(UserName=new)["PolicyNames"] == ["p"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=new)["Groups"]] == [group]
    assert call_error(iam.delete_user, UserName=new)[:2] == ("DeleteConflict", 409)
    iam.delete_user_policy(UserName=new, PolicyName="p")
    assert call_error(iam.delete_user, UserName=new) == (
        "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
    iam.remove_user_from_group(GroupName=group, UserName=new)
    iam.delete_user(UserName=new)
    iam.delete_group(GroupName=group)
    assert iam.list_users(PathPrefix=new_path)["Users"] == []


def test_get_user_without_name_is_the_caller(iam, endpoint, acct, run_id):
    root = iam.get_user()["User"]
    assert (root["UserId"], root["Arn"]) == (acct, f"arn:aws:iam::{acct}:root")
    name = f"me-{run_id}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    try:
        me = make_client(endpoint, "iam", access_key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        assert me.get_user()["User"]["UserName"] == name
        # Without UserName, key operations are about the caller's own keys.
        assert [k["AccessKeyId"] for k in me.list_access_keys()["AccessKeyMetadata"]] == [key["AccessKeyId"]]
        ident = make_client(endpoint, "sts", access_key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
        assert (ident["Account"], ident["Arn"], ident["UserId"]) == (
            acct, f"arn:aws:iam::{acct}:user/{name}", iam.get_user(UserName=name)["User"]["UserId"])
    finally:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user(UserName=name)


def test_groups(iam, acct, run_id):
    group, path = f"grp-{run_id}", f"/teams/{run_id}/"
    created = iam.create_group(GroupName=group, Path=path)["Group"]
    assert re.fullmatch(ID["group"], created["GroupId"])
    assert created["Arn"] == f"arn:aws:iam::{acct}:group{path}{group}"
    assert call_error(iam.create_group, GroupName=group.upper()) == (
        "EntityAlreadyExists", 409, f"Group with name {group.upper()} already exists.")
    users = [f"m{i}-{run_id}" for i in range(3)]
    for u in users:
        iam.create_user(UserName=u)
        iam.add_user_to_group(GroupName=group, UserName=u)
    iam.add_user_to_group(GroupName=group, UserName=users[0])  # again: no-op
    got = iam.get_group(GroupName=group)
    assert got["Group"]["GroupId"] == created["GroupId"]
    assert [u["UserName"] for u in got["Users"]] == users and got["IsTruncated"] is False
    assert [u["UserName"] for u in everything(iam, "get_group", "Users", GroupName=group)] == users
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix=path)["Groups"]] == [group]
    assert [g["GroupId"] for g in iam.list_groups_for_user(UserName=users[1])["Groups"]] == [created["GroupId"]]
    assert call_error(iam.delete_group, GroupName=group) == (
        "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
    assert call_error(iam.get_group, GroupName=f"none-{run_id}") == (
        "NoSuchEntity", 404, f"The group with name none-{run_id} cannot be found.")
    assert call_error(iam.add_user_to_group, GroupName=group, UserName=f"none-{run_id}") == (
        "NoSuchEntity", 404, f"The user with name none-{run_id} cannot be found.")
    for u in users:
        iam.remove_user_from_group(GroupName=group, UserName=u)
        iam.delete_user(UserName=u)
    assert iam.get_group(GroupName=group)["Users"] == []
    iam.delete_group(GroupName=group)
    assert iam.list_groups(PathPrefix=path)["Groups"] == []


def test_access_keys(iam, endpoint, run_id):
    name = f"keys-{run_id}"
    iam.create_user(UserName=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert re.fullmatch(ID["key"], first["AccessKeyId"])
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", first["SecretAccessKey"])
    assert (first["UserName"], first["Status"]) == (name, "Active")
    second = iam.create_access_key(UserName=name)["AccessKey"]
    assert call_error(iam.create_access_key, UserName=name) == (
        "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert sorted((k["AccessKeyId"], k["Status"], k["UserName"]) for k in listed) == sorted(
        [(first["AccessKeyId"], "Active", name), (second["AccessKeyId"], "Active", name)])
    assert all("SecretAccessKey" not in k for k in listed)

    iam.update_access_key(UserName=name, AccessKeyId=first["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert statuses == {first["AccessKeyId"]: "Inactive", second["AccessKeyId"]: "Active"}
    assert call_error(iam.update_access_key, UserName=name, AccessKeyId=first["AccessKeyId"], Status="Paused") == (
        "ValidationError", 400, "1 validation error detected: Value at 'status' failed to satisfy constraint: "
        "Member must satisfy enum value set")
    last = iam.get_access_key_last_used(AccessKeyId=second["AccessKeyId"])
    assert (last["UserName"], last["AccessKeyLastUsed"]) == (name, {"ServiceName": "N/A", "Region": "N/A"})

    assert call_error(iam.delete_user, UserName=name) == (
        "DeleteConflict", 409, "Cannot delete entity, must delete access keys first.")
    unknown = "AKIA" + "A" * 16
    assert call_error(iam.delete_access_key, UserName=name, AccessKeyId=unknown) == (
        "NoSuchEntity", 404, f"The Access Key with id {unknown} cannot be found.")
    for k in (first, second):
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
    iam.delete_user(UserName=name)
    assert call_error(iam.list_access_keys, UserName=name) == ("NoSuchEntity", 404, f"The user with name {name} cannot be found.")


def test_issued_key_acts_in_the_account_that_created_it(endpoint, run_id):
    # Without --strict-auth a 12-digit access key names its account; a key IAM issues there acts in it.
    other = make_client(endpoint, "iam", access_key="111122223333")
    name = f"acct-{run_id}"
    other.create_user(UserName=name)
    key = other.create_access_key(UserName=name)["AccessKey"]
    try:
        ident = make_client(endpoint, "sts", access_key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
        assert (ident["Account"], ident["Arn"]) == ("111122223333", f"arn:aws:iam::111122223333:user/{name}")
        mine = make_client(endpoint, "iam", access_key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        assert mine.get_user(UserName=name)["User"]["Arn"] == f"arn:aws:iam::111122223333:user/{name}"
        # The default account has no such user.
        assert call_error(make_client(endpoint, "iam").get_user, UserName=name)[:2] == ("NoSuchEntity", 404)
    finally:
        other.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        other.delete_user(UserName=name)


# --- instance profiles --------------------------------------------------------------------------

def test_instance_profiles(iam, acct, run_id):
    name, role, role2 = f"ip-{run_id}", f"ipr-{run_id}", f"ipr2-{run_id}"
    path = f"/ip/{run_id}/"
    profile = iam.create_instance_profile(InstanceProfileName=name, Path=path)["InstanceProfile"]
    assert re.fullmatch(ID["profile"], profile["InstanceProfileId"])
    assert (profile["Arn"], profile["Roles"]) == (f"arn:aws:iam::{acct}:instance-profile{path}{name}", [])
    assert call_error(iam.create_instance_profile, InstanceProfileName=name) == (
        "EntityAlreadyExists", 409, f"Instance Profile {name} already exists.")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_role(RoleName=role2, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    got = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    assert [(r["RoleName"], r["AssumeRolePolicyDocument"]) for r in got["Roles"]] == [(role, TRUST)]
    assert call_error(iam.add_role_to_instance_profile, InstanceProfileName=name, RoleName=role2) == (
        "LimitExceeded", 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix=path)["InstanceProfiles"]] == [name]
    assert [p["InstanceProfileId"] for p in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]] == [
        profile["InstanceProfileId"]]
    assert iam.list_instance_profiles_for_role(RoleName=role2)["InstanceProfiles"] == []
    assert call_error(iam.delete_role, RoleName=role) == (
        "DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")
    assert call_error(iam.delete_instance_profile, InstanceProfileName=name) == (
        "DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")
    iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role)
    assert iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Roles"] == []
    iam.delete_instance_profile(InstanceProfileName=name)
    assert call_error(iam.get_instance_profile, InstanceProfileName=name) == (
        "NoSuchEntity", 404, f"Instance Profile {name} cannot be found.")
    iam.delete_role(RoleName=role)
    iam.delete_role(RoleName=role2)


# --- the wire -----------------------------------------------------------------------------------

def query(endpoint, params, region="us-east-1", sign=True):
    """A form-encoded Query POST (SigV4-signed for `iam` unless `sign` is false); (response, parsed XML root)."""
    body = {"Version": "2010-05-08", **params}
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials("test", "test"), "iam", region).add_auth(req)
    prepared = req.prepare()
    r = requests.post(endpoint + "/", data=prepared.body, headers=dict(prepared.headers.items()), timeout=30)
    return r, ET.fromstring(r.content)


def test_query_envelope_and_errors_on_the_wire(iam, endpoint, run_id):
    name = f"wire-{run_id}"
    iam.create_role(RoleName=name, Path=f"/wire/{run_id}/", AssumeRolePolicyDocument=json.dumps(TRUST),
                    Tags=[{"Key": "k", "Value": "v"}])
    try:
        r, root = query(endpoint, {"Action": "ListRoles", "PathPrefix": f"/wire/{run_id}/"})
        assert r.status_code == 200 and r.headers["Content-Type"] == "text/xml"
        assert root.tag == f"{{{NS}}}ListRolesResponse"
        members = root.findall(f"{{{NS}}}ListRolesResult/{{{NS}}}Roles/{{{NS}}}member")
        assert [m.findtext(f"{{{NS}}}RoleName") for m in members] == [name]
        assert root.findtext(f"{{{NS}}}ListRolesResult/{{{NS}}}IsTruncated") == "false"
        assert root.findtext(f"{{{NS}}}ResponseMetadata/{{{NS}}}RequestId") == r.headers["x-amzn-RequestId"]
        # Dates carry whole seconds, as IAM writes them.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", members[0].findtext(f"{{{NS}}}CreateDate"))
        tags = root.find(f"{{{NS}}}ListRolesResult/{{{NS}}}Roles/{{{NS}}}member/{{{NS}}}Tags")
        assert tags is None

        # An operation without output answers only ResponseMetadata.
        r, root = query(endpoint, {"Action": "UntagRole", "RoleName": name, "TagKeys.member.1": "k"})
        assert r.status_code == 200 and [c.tag for c in root] == [f"{{{NS}}}ResponseMetadata"]

        r, root = query(endpoint, {"Action": "GetRole", "RoleName": f"none-{run_id}"})
        assert r.status_code == 404 and root.tag == f"{{{NS}}}ErrorResponse"
        assert [root.findtext(f"{{{NS}}}Error/{{{NS}}}{t}") for t in ("Type", "Code", "Message")] == [
            "Sender", "NoSuchEntity", f"The role with name none-{run_id} cannot be found."]
        assert root.findtext(f"{{{NS}}}RequestId") == r.headers["x-amzn-RequestId"]

        r, root = query(endpoint, {"Action": "GetRole"})
        assert r.status_code == 400
        assert root.findtext(f"{{{NS}}}Error/{{{NS}}}Message") == (
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null")
        r, root = query(endpoint, {"Action": "FlyToTheMoon"})
        assert (r.status_code, root.findtext(f"{{{NS}}}Error/{{{NS}}}Code"), root.findtext(f"{{{NS}}}Error/{{{NS}}}Message")) == (
            400, "InvalidAction", "Could not find operation FlyToTheMoon for version 2010-05-08")

        # Unsigned, the Version in the form names the service.
        r, root = query(endpoint, {"Action": "GetRole", "RoleName": name}, sign=False)
        assert r.status_code == 200 and root.findtext(f"{{{NS}}}GetRoleResult/{{{NS}}}Role/{{{NS}}}RoleName") == name
    finally:
        iam.delete_role(RoleName=name)


def test_iam_is_global(endpoint, run_id):
    """Roles made through one region are the same roles from any other: IAM has no regions."""
    east = make_client(endpoint, "iam", region="us-east-1")
    west = make_client(endpoint, "iam", region="eu-west-1")
    name = f"global-{run_id}"
    east.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    assert west.get_role(RoleName=name)["Role"]["RoleId"] == east.get_role(RoleName=name)["Role"]["RoleId"]
    r, root = query(endpoint, {"Action": "GetRole", "RoleName": name}, region="ap-southeast-2")
    assert r.status_code == 200
    west.delete_role(RoleName=name)
    assert call_error(east.get_role, RoleName=name)[:2] == ("NoSuchEntity", 404)


# --- the aws CLI v1 and v2 ----------------------------------------------------------------------

V2_PATH = "/usr/bin/aws"


def _v1_path():
    """The pip-installed v1 CLI: the first `aws` on PATH that is not Debian's v2."""
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "aws")
        if os.path.isfile(p) and os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath(V2_PATH):
            return p
    raise AssertionError("aws CLI v1 not found on PATH")


@pytest.fixture(params=["v1", "v2"])
def aws(request, endpoint, tmp_path):
    """aws(*args, check=True) runs the selected CLI in an isolated environment; JSON output."""
    path = _v1_path() if request.param == "v1" else V2_PATH
    cfg, creds = tmp_path / "aws-config", tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=120)
    assert (version.stdout + version.stderr).startswith(f"aws-cli/{request.param[1]}."), version

    def run(*args, check=True):
        env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                       AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PAGER="",
                       AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")
        cmd = [path, "--endpoint-url", endpoint, "--output", "json", *[str(a) for a in args]]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=str(tmp_path))
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)}\nrc={p.returncode}\nstdout={p.stdout}\nstderr={p.stderr}"
        return p

    run.version = request.param
    return run


def test_cli_roles_policies_users_and_keys(aws, iam, acct, tmp_path, run_id):
    role, user = f"cli-{aws.version}-{run_id}", f"cliu-{aws.version}-{run_id}"
    (tmp_path / "trust.json").write_text(json.dumps(TRUST, indent=2))
    (tmp_path / "read.json").write_text(json.dumps(S3_READ))
    created = json.loads(aws("iam", "create-role", "--role-name", role, "--path", "/cli/",
                             "--assume-role-policy-document", "file://trust.json",
                             "--tags", "Key=tool,Value=cli").stdout)["Role"]
    assert created["Arn"] == f"arn:aws:iam::{acct}:role/cli/{role}"
    assert created["AssumeRolePolicyDocument"] == TRUST  # the CLI decodes the URL-encoded document
    assert json.loads(aws("iam", "get-role", "--role-name", role, "--query", "Role.[RoleName,MaxSessionDuration]").stdout) == [role, 3600]
    aws("iam", "put-role-policy", "--role-name", role, "--policy-name", "read", "--policy-document", "file://read.json")
    assert json.loads(aws("iam", "get-role-policy", "--role-name", role, "--policy-name", "read").stdout)["PolicyDocument"] == S3_READ
    assert json.loads(aws("iam", "list-role-policies", "--role-name", role).stdout)["PolicyNames"] == ["read"]
    arn = json.loads(aws("iam", "create-policy", "--policy-name", f"clip-{aws.version}-{run_id}",
                         "--policy-document", "file://read.json").stdout)["Policy"]["Arn"]
    aws("iam", "attach-role-policy", "--role-name", role, "--policy-arn", arn)
    aws("iam", "attach-role-policy", "--role-name", role, "--policy-arn", LAMBDA_BASIC)
    attached = json.loads(aws("iam", "list-attached-role-policies", "--role-name", role).stdout)["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted([arn, LAMBDA_BASIC])
    # The CLI's own pagination follows Marker.
    names = json.loads(aws("iam", "list-roles", "--path-prefix", "/cli/", "--page-size", "1",
                           "--query", "Roles[].RoleName").stdout)
    assert role in names
    assert json.loads(aws("iam", "list-policies", "--scope", "AWS", "--query",
                          "Policies[?PolicyName=='AdministratorAccess'].Arn").stdout) == ["arn:aws:iam::aws:policy/AdministratorAccess"]

    aws("iam", "create-user", "--user-name", user)
    key = json.loads(aws("iam", "create-access-key", "--user-name", user).stdout)["AccessKey"]
    assert re.fullmatch(ID["key"], key["AccessKeyId"]) and len(key["SecretAccessKey"]) == 40
    aws("iam", "update-access-key", "--user-name", user, "--access-key-id", key["AccessKeyId"], "--status", "Inactive")
    listed = json.loads(aws("iam", "list-access-keys", "--user-name", user).stdout)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(key["AccessKeyId"], "Inactive")]

    # A service error: v1 exits with 255, v2 with 254.
    failed = {"v1": 255, "v2": 254}[aws.version]
    p = aws("iam", "get-role", "--role-name", f"none-{run_id}", check=False)
    assert p.returncode == failed
    assert "NoSuchEntity" in p.stderr and f"The role with name none-{run_id} cannot be found." in p.stderr
    p = aws("iam", "delete-role", "--role-name", role, check=False)
    assert p.returncode == failed and "DeleteConflict" in p.stderr

    aws("iam", "delete-access-key", "--user-name", user, "--access-key-id", key["AccessKeyId"])
    aws("iam", "delete-user", "--user-name", user)
    aws("iam", "detach-role-policy", "--role-name", role, "--policy-arn", arn)
    aws("iam", "detach-role-policy", "--role-name", role, "--policy-arn", LAMBDA_BASIC)
    aws("iam", "delete-policy", "--policy-arn", arn)
    aws("iam", "delete-role-policy", "--role-name", role, "--policy-name", "read")
    aws("iam", "delete-role", "--role-name", role)
    assert call_error(iam.get_role, RoleName=role)[:2] == ("NoSuchEntity", 404)
    assert call_error(iam.get_user, UserName=user)[:2] == ("NoSuchEntity", 404)
