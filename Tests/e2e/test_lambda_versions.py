"""Lambda versions and aliases through boto3: PublishVersion (idempotent, CodeSha256 guard), ListVersionsByFunction,
invoking a version or an alias by Qualifier and by `name:qualifier`, deleting a version, alias CRUD and its errors,
and a weighted alias whose traffic split matches its weight over 1,000 invokes.

Expected answers are real AWS Lambda's (botocore's model for shapes; AWS-recorded answers for messages).
"""
import base64
import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from helpers import (error, error_message, lambda_client, read_payload, zip_bytes)


def arn(account, name):
    return f"arn:aws:lambda:us-east-1:{account}:function:{name}"


def code(marker):
    """A package whose handler answers `marker` and the version that ran it."""
    return zip_bytes({"app.py": "import os\n\n\ndef handler(event, context):\n"
                                f"    return {{'code': {marker!r}, 'version': os.environ['AWS_LAMBDA_FUNCTION_VERSION']}}\n"})


def sha(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def wait_updated(lam, name):
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})


@pytest.fixture(scope="module")
def two_versions(fns, lam):
    """A function with version 1 (code "one"), version 2 (code "two") and $LATEST (code "three")."""
    name = fns.name("two")
    fns.create(name=name, handler="app.handler", code=code("one"))
    lam.publish_version(FunctionName=name, Description="first")
    lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    wait_updated(lam, name)
    lam.publish_version(FunctionName=name, Description="second")
    lam.update_function_code(FunctionName=name, ZipFile=code("three"))
    wait_updated(lam, name)
    return name


# --- Versions -----------------------------------------------------------------------------------

def test_publish_version(fns, lam, account):
    name = fns.name("pub")
    first = code("one")
    created = fns.create(name=name, handler="app.handler", code=first)
    v1 = lam.publish_version(FunctionName=name, Description="First version")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert v1["Version"] == "1"
    assert v1["FunctionArn"] == arn(account, name) + ":1"
    assert v1["Description"] == "First version"
    assert v1["CodeSha256"] == created["CodeSha256"] == sha(first)
    assert v1["State"] == "Active"
    assert v1["RevisionId"] != created["RevisionId"]

    # Nothing changed since: publishing again gives the same version.
    again = lam.publish_version(FunctionName=name, Description="ignored")
    assert again["Version"] == "1"
    assert again["FunctionArn"] == v1["FunctionArn"]

    # The version's configuration and the guard on CodeSha256.
    assert lam.get_function_configuration(FunctionName=name, Qualifier="1")["Version"] == "1"
    assert lam.get_function(FunctionName=f"{name}:1")["Configuration"]["FunctionArn"] == v1["FunctionArn"]
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, CodeSha256="somenonexistentsha256")
    assert error(e) == ("InvalidParameterValueException", 400)
    assert error_message(e) == (f"CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST "
                                f"({created['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.")

    lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    wait_updated(lam, name)
    v2 = lam.publish_version(FunctionName=name, CodeSha256=sha(code("two")))
    assert v2["Version"] == "2"
    assert v2["CodeSha256"] == sha(code("two"))


def test_create_with_publish(fns, account):
    """CreateFunction with Publish answers version 1, with the function's unqualified ARN (as AWS does)."""
    name = fns.name("crpub")
    r = fns.create(name=name, handler="app.handler", code=code("one"), Publish=True)
    assert r["Version"] == "1"
    assert r["FunctionArn"] == arn(account, name)


def test_list_versions(two_versions, lam):
    r = lam.list_versions_by_function(FunctionName=two_versions)
    assert [v["Version"] for v in r["Versions"]] == ["$LATEST", "1", "2"]
    assert [v["Description"] for v in r["Versions"][1:]] == ["first", "second"]
    assert r["Versions"][1]["CodeSha256"] == sha(code("one"))
    assert r["Versions"][2]["CodeSha256"] == sha(code("two"))
    assert r["Versions"][0]["CodeSha256"] == sha(code("three"))
    assert r["Versions"][1]["FunctionArn"].endswith(f":function:{two_versions}:1")


def test_list_versions_latest_arn_is_qualified(two_versions, lam, account):
    """In ListVersionsByFunction, AWS names $LATEST by its qualified ARN."""
    latest = lam.list_versions_by_function(FunctionName=two_versions)["Versions"][0]
    assert latest["FunctionArn"] == arn(account, two_versions) + ":$LATEST"


def test_list_functions_all_versions(two_versions, lam, account):
    arns = {f["FunctionArn"] for p in lam.get_paginator("list_functions").paginate(FunctionVersion="ALL")
            for f in p["Functions"] if f["FunctionName"] == two_versions}
    assert {arn(account, two_versions) + ":1", arn(account, two_versions) + ":2"} <= arns
    plain = [f for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]
             if f["FunctionName"] == two_versions]
    assert [f["Version"] for f in plain] == ["$LATEST"]


def test_invoke_version_by_qualifier_and_name(two_versions, lam):
    for kw, expected in [({"Qualifier": "1"}, ("one", "1")), ({"Qualifier": "2"}, ("two", "2")),
                         ({"Qualifier": "$LATEST"}, ("three", "$LATEST")), ({}, ("three", "$LATEST"))]:
        r = lam.invoke(FunctionName=two_versions, **kw)
        assert r["ExecutedVersion"] == expected[1], kw
        assert read_payload(r) == {"code": expected[0], "version": expected[1]}, kw
    r = lam.invoke(FunctionName=f"{two_versions}:1")
    assert (r["ExecutedVersion"], read_payload(r)) == ("1", {"code": "one", "version": "1"})


def test_delete_version(fns, lam, account):
    name = fns.name("delver")
    fns.create(name=name, handler="app.handler", code=code("one"))
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    wait_updated(lam, name)
    lam.publish_version(FunctionName=name)
    assert lam.delete_function(FunctionName=name, Qualifier="1")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "2"]
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Qualifier="1")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: {arn(account, name)}:1"
    assert read_payload(lam.invoke(FunctionName=name, Qualifier="2")) == {"code": "two", "version": "2"}


# --- Aliases ------------------------------------------------------------------------------------

def test_alias_lifecycle(two_versions, lam, account):
    name = two_versions
    a = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="the live one")
    assert a["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert a["AliasArn"] == arn(account, name) + ":live"
    assert (a["Name"], a["FunctionVersion"], a["Description"]) == ("live", "1", "the live one")
    assert "RoutingConfig" not in a
    assert lam.get_alias(FunctionName=name, Name="live")["RevisionId"] == a["RevisionId"]

    lam.create_alias(FunctionName=name, Name="beta", FunctionVersion="2")
    listed = lam.list_aliases(FunctionName=name)["Aliases"]
    assert sorted(x["Name"] for x in listed) == ["beta", "live"]
    assert [x["Name"] for x in lam.list_aliases(FunctionName=name, FunctionVersion="2")["Aliases"]] == ["beta"]

    r = lam.invoke(FunctionName=name, Qualifier="live")
    assert (r["ExecutedVersion"], read_payload(r)) == ("1", {"code": "one", "version": "1"})
    r = lam.invoke(FunctionName=f"{name}:beta")
    assert (r["ExecutedVersion"], read_payload(r)) == ("2", {"code": "two", "version": "2"})
    assert lam.get_function_configuration(FunctionName=name, Qualifier="live")["Version"] == "1"

    u = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2", Description="moved")
    assert (u["FunctionVersion"], u["Description"]) == ("2", "moved")
    assert u["RevisionId"] != a["RevisionId"]
    assert lam.invoke(FunctionName=name, Qualifier="live")["ExecutedVersion"] == "2"

    assert lam.delete_alias(FunctionName=name, Name="live")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [x["Name"] for x in lam.list_aliases(FunctionName=name)["Aliases"]] == ["beta"]
    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="live")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Cannot find alias arn: {arn(account, name)}:live"
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Qualifier="live")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: {arn(account, name)}:live"
    lam.delete_alias(FunctionName=name, Name="beta")


def test_alias_conflicts_and_missing_targets(two_versions, lam, account):
    name = two_versions
    lam.create_alias(FunctionName=name, Name="dup", FunctionVersion="1")
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="dup", FunctionVersion="2")
    assert error(e) == ("ResourceConflictException", 409)
    assert error_message(e) == f"Alias already exists: {arn(account, name)}:dup"
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="nowhere", FunctionVersion="10")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: {arn(account, name)}:10"
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name + "-unknown", Name="x", FunctionVersion="1")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e).startswith(f"Function not found: {arn(account, name)}-unknown")
    lam.delete_alias(FunctionName=name, Name="dup")


def test_update_missing_alias(two_versions, lam, account):
    with pytest.raises(ClientError) as e:
        lam.update_alias(FunctionName=two_versions, Name="non-existent", FunctionVersion="1")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Alias not found: {arn(account, two_versions)}:non-existent"


ROUTING_ERRORS = [
    ("toomany", "1", {"1": 0.8, "2": 0.2}, "InvalidParameterValueException", 400,
     "Number of items in AdditionalVersionWeights cannot be greater than 1"),
    ("toohigh", "1", {"2": 2}, "ValidationException", 400,
     "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy "
     "constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must "
     "have value greater than or equal to 0.0, Member must not be null]"),
    ("sameversion", "1", {"1": 0.5}, "InvalidParameterValueException", 400,
     "Invalid function version 1. Function version 1 is already included in routing configuration."),
    ("versionmissing", "1", {"10": 0.5}, "ResourceNotFoundException", 404, "Function not found: {arn}:10"),
    ("latesttarget", "$LATEST", {"1": 0.5}, "InvalidParameterValueException", 400,
     "$LATEST is not supported for an alias pointing to more than 1 version"),
]


@pytest.mark.parametrize("case,version,weights,code_,status,message", ROUTING_ERRORS, ids=[c[0] for c in ROUTING_ERRORS])
def test_alias_routing_config_errors(two_versions, endpoint, account, case, version, weights, code_, status, message):
    raw = lambda_client(endpoint, parameter_validation=False)
    with pytest.raises(ClientError) as e:
        raw.create_alias(FunctionName=two_versions, Name=f"bad-{case}", FunctionVersion=version,
                         RoutingConfig={"AdditionalVersionWeights": weights})
    assert error(e) == (code_, status)
    assert error_message(e) == message.replace("{arn}", arn(account, two_versions))


def test_alias_empty_routing_config(two_versions, lam):
    """An empty AdditionalVersionWeights is accepted and leaves no RoutingConfig in the alias."""
    a = lam.create_alias(FunctionName=two_versions, Name="emptyrc", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in a
    w = lam.update_alias(FunctionName=two_versions, Name="emptyrc", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    assert w["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    cleared = lam.update_alias(FunctionName=two_versions, Name="emptyrc", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in cleared
    assert "RoutingConfig" not in lam.get_alias(FunctionName=two_versions, Name="emptyrc")
    lam.delete_alias(FunctionName=two_versions, Name="emptyrc")


INVOKES = 1000
WEIGHT = 0.1
# A fair router lands within 5 points of 10 % (over 5 standard deviations of 1,000 draws: one run in millions
# fails by chance; 3 points failed one CI run in a few hundred); a router that ignores the weight or inverts it does not.
TOLERANCE = 0.05


def test_weighted_alias_splits_traffic(fns, lam):
    """1,000 invokes of an alias on version 1 with 10 % to version 2: version 2 gets 10 % ± 3 points of them, and
    every answer's X-Amz-Executed-Version is the version whose code ran."""
    name = fns.name("weighted")
    fns.create(name=name, handler="handler.version")
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"RELEASE": "2"}})
    wait_updated(lam, name)
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    alias = lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": WEIGHT}})
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": WEIGHT}}

    clients = [lambda_client(fns.server.endpoint, max_pool_connections=2) for _ in range(8)]

    def invoke(i):
        r = clients[i % 8].invoke(FunctionName=name, Qualifier="canary")
        assert r["StatusCode"] == 200 and "FunctionError" not in r, r
        ran = read_payload(r)
        return r["ExecutedVersion"], ran

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(invoke, range(INVOKES)))
    mismatched = [x for x in results if x[0] != x[1]]
    assert mismatched == []
    counts = {v: sum(1 for x in results if x[0] == v) for v in ("1", "2")}
    assert counts["1"] + counts["2"] == INVOKES, counts
    share = counts["2"] / INVOKES
    assert abs(share - WEIGHT) <= TOLERANCE, counts
