"""Lambda resource policies through boto3: AddPermission (statements as AWS builds them: principals, SourceArn,
SourceAccount, FunctionUrlAuthType and PrincipalOrgID conditions, per version or alias), GetPolicy, RemovePermission,
RevisionId checks, and the errors AWS answers (duplicate and unknown statement ids, bad principals and qualifiers,
missing functions, versions and aliases). Policies are stored, not enforced.

Expected answers are real AWS Lambda's (botocore's model for shapes; AWS-recorded answers for messages).
"""
import json

import pytest
from botocore.exceptions import ClientError

from helpers import error, error_message


@pytest.fixture(scope="module")
def fn(fns, lam):
    """A function with version 1 and alias `live` → 1."""
    name = fns.create(tag="p")["FunctionName"]
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


def arn(account, name):
    return f"arn:aws:lambda:us-east-1:{account}:function:{name}"


def test_add_get_remove_lifecycle(fns, lam, account):
    name = fns.create(tag="life")["FunctionName"]
    added = lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                               Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::my-bucket")
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = json.loads(added["Statement"])
    assert statement == {"Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                         "Action": "lambda:InvokeFunction", "Resource": arn(account, name),
                         "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}}}
    # AWS's member order.
    assert list(statement) == ["Sid", "Effect", "Principal", "Action", "Resource", "Condition"]
    lam.add_permission(FunctionName=name, StatementId="sqs", Action="lambda:InvokeFunction", Principal="sqs.amazonaws.com")

    got = lam.get_policy(FunctionName=name)
    policy = json.loads(got["Policy"])
    assert (policy["Version"], policy["Id"]) == ("2012-10-17", "default")
    assert [s["Sid"] for s in policy["Statement"]] == ["s3", "sqs"]
    assert policy["Statement"][0] == statement

    lam.remove_permission(FunctionName=name, StatementId="s3")
    after = lam.get_policy(FunctionName=name)
    assert [s["Sid"] for s in json.loads(after["Policy"])["Statement"]] == ["sqs"]
    assert after["RevisionId"] != got["RevisionId"]
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="non-existent")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == "Statement non-existent is not found in resource policy."

    lam.remove_permission(FunctionName=name, StatementId="sqs")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == "The resource you requested does not exist."
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="sqs")
    assert error_message(e) == "No policy is associated with the given resource."


def test_principals_and_conditions(fn, lam, account):
    def added(**kw):
        return json.loads(lam.add_permission(FunctionName=fn, Action="lambda:InvokeFunctionUrl", **kw)["Statement"])

    url = added(StatementId="url", Principal="*", FunctionUrlAuthType="NONE")
    assert url["Principal"] == "*"
    assert url["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    acct = added(StatementId="acct", Principal="111122223333")
    assert acct["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert "Condition" not in acct
    role = added(StatementId="role", Principal="arn:aws:iam::111122223333:role/caller", SourceAccount="111122223333",
                 PrincipalOrgID="o-abc123defg")
    assert role["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/caller"}
    assert role["Condition"] == {"StringEquals": {"AWS:SourceAccount": "111122223333", "aws:PrincipalOrgID": "o-abc123defg"}}
    sids = [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=fn)["Policy"])["Statement"]]
    assert sids == ["url", "acct", "role"]
    for sid in sids:
        lam.remove_permission(FunctionName=fn, StatementId=sid)


def test_qualified_policies_are_separate(fn, lam, account):
    on_alias = lam.add_permission(FunctionName=fn, Qualifier="live", StatementId="a", Action="lambda:InvokeFunction",
                                  Principal="events.amazonaws.com")
    assert json.loads(on_alias["Statement"])["Resource"] == arn(account, fn) + ":live"
    on_version = lam.add_permission(FunctionName=f"{fn}:1", StatementId="v", Action="lambda:InvokeFunction",
                                    Principal="events.amazonaws.com")
    assert json.loads(on_version["Statement"])["Resource"] == arn(account, fn) + ":1"
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=fn, Qualifier="live")["Policy"])["Statement"]] == ["a"]
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=fn, Qualifier="1")["Policy"])["Statement"]] == ["v"]
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=fn)
    assert error_message(e) == "The resource you requested does not exist."
    lam.remove_permission(FunctionName=fn, Qualifier="live", StatementId="a")
    lam.remove_permission(FunctionName=fn, Qualifier="1", StatementId="v")


def test_revision_id_is_the_configuration_s(fns, lam):
    """A policy shares the RevisionId of what it is attached to; each change of the policy makes a new one."""
    name = fns.create(tag="rev")["FunctionName"]
    active = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="one", Action="lambda:InvokeFunction",
                           Principal="sns.amazonaws.com", RevisionId="wrong")
    assert (*error(e), error_message(e)) == (
        "PreconditionFailedException", 412,
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id")
    lam.add_permission(FunctionName=name, StatementId="one", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com",
                       RevisionId=active)
    revision = lam.get_policy(FunctionName=name)["RevisionId"]
    assert revision != active
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] == revision
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="one", RevisionId=active)
    assert error(e) == ("PreconditionFailedException", 412)
    lam.remove_permission(FunctionName=name, StatementId="one", RevisionId=revision)
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] not in (active, revision)

    alias = lam.create_alias(FunctionName=name, Name="rev", FunctionVersion="$LATEST")
    lam.add_permission(FunctionName=name, Qualifier="rev", StatementId="a", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", RevisionId=alias["RevisionId"])
    after = lam.get_alias(FunctionName=name, Name="rev")["RevisionId"]
    assert after != alias["RevisionId"]
    assert lam.get_policy(FunctionName=name, Qualifier="rev")["RevisionId"] == after


@pytest.mark.parametrize("kw, expected", [
    ({"StatementId": "example.com"},
     ("ValidationException", 400, "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy "
                                  "constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")),
    ({"Qualifier": "$LATEST"},
     ("InvalidParameterValueException", 400, "We currently do not support adding policies for $LATEST.")),
    ({"Principal": "invalid principal"},
     ("InvalidParameterValueException", 400, "The provided principal was invalid. Please check the principal and try again.")),
    ({"Qualifier": "invalid-qualifier-with-?-char"},
     ("ValidationException", 400, "1 validation error detected: Value 'invalid-qualifier-with-?-char' at 'qualifier' failed "
                                  "to satisfy constraint: Member must satisfy regular expression pattern: "
                                  "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")),
])
def test_add_permission_validation(fn, lam, kw, expected):
    args = {"FunctionName": fn, "StatementId": "x", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com", **kw}
    with pytest.raises(ClientError) as e:
        lam.add_permission(**args)
    assert (*error(e), error_message(e)) == expected


def test_permission_not_found_errors(fn, lam, account):
    base = {"StatementId": "x", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"}
    cases = [
        (lambda: lam.add_permission(FunctionName="doesnotexist", **base),
         f"Function not found: {arn(account, 'doesnotexist')}"),
        (lambda: lam.add_permission(FunctionName=fn, Qualifier="alias-doesnotexist", **base),
         f"Cannot find alias arn: {arn(account, fn)}:alias-doesnotexist"),
        (lambda: lam.add_permission(FunctionName=fn, Qualifier="42", **base),
         f"Function not found: {arn(account, fn)}:42"),
        (lambda: lam.add_permission(FunctionName=fn, Qualifier="valid-with-$-but-doesnotexist", **base),
         f"Function not found: {arn(account, fn)}:valid-with-$-but-doesnotexist"),
        (lambda: lam.remove_permission(FunctionName="doesnotexist", StatementId="x"),
         f"No policy found for: {arn(account, 'doesnotexist')}"),
        (lambda: lam.remove_permission(FunctionName=fn, StatementId="x", Qualifier="alias-doesnotexist"),
         f"Cannot find alias arn: {arn(account, fn)}:alias-doesnotexist"),
        (lambda: lam.get_policy(FunctionName="doesnotexist"), "The resource you requested does not exist."),
        (lambda: lam.get_policy(FunctionName=fn, Qualifier="42"), "The resource you requested does not exist."),
    ]
    for call, message in cases:
        with pytest.raises(ClientError) as e:
            call()
        assert (*error(e), error_message(e)) == ("ResourceNotFoundException", 404, message)
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=f"{fn}:live", Qualifier="1", **base)
    assert (*error(e), error_message(e)) == (
        "InvalidParameterValueException", 400, "The derived qualifier from the function name does not match the specified qualifier.")


def test_duplicate_statement_id(fn, lam):
    lam.add_permission(FunctionName=fn, StatementId="dup", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=fn, StatementId="dup", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    assert (*error(e), error_message(e)) == (
        "ResourceConflictException", 409,
        "The statement id (dup) provided already exists. Please provide a new statement id, or remove the existing statement.")
    lam.remove_permission(FunctionName=fn, StatementId="dup")


def test_policy_goes_with_the_alias_and_the_function(fns, lam):
    name = fns.create(tag="gone")["FunctionName"]
    lam.create_alias(FunctionName=name, Name="beta", FunctionVersion="$LATEST")
    lam.add_permission(FunctionName=name, Qualifier="beta", StatementId="b", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    lam.delete_alias(FunctionName=name, Name="beta")
    lam.create_alias(FunctionName=name, Name="beta", FunctionVersion="$LATEST")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name, Qualifier="beta")
    assert error(e) == ("ResourceNotFoundException", 404)
    lam.add_permission(FunctionName=name, StatementId="f", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    lam.delete_function(FunctionName=name)
    fns.create(name=name)
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error(e) == ("ResourceNotFoundException", 404)
