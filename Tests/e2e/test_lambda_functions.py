"""Lambda control plane through boto3: CreateFunction (zip, validation, duplicates, Pending then Active),
GetFunction / GetFunctionConfiguration, ListFunctions paging, UpdateFunctionCode / UpdateFunctionConfiguration
(revision ids, waiters, the next invoke runs the new code and environment), DeleteFunction, tags and
GetAccountSettings.

Expected answers are real AWS Lambda's (botocore's model for shapes; AWS-recorded answers for messages).
At the end of the module every function it made is deleted and no instance process may be left.
"""
import base64
import hashlib
import re

import pytest
from botocore.exceptions import ClientError

from helpers import (LAMBDA_ROLE, error, error_message, fixture_zip,
                     host_python_runtime, lambda_client, read_payload, zip_bytes)


@pytest.fixture(scope="module")
def raw_lam(endpoint):
    """A client that skips botocore's own parameter validation, so the server's checks are what answers."""
    return lambda_client(endpoint, parameter_validation=False)


def arn(account, name):
    return f"arn:aws:lambda:us-east-1:{account}:function:{name}"


# --- CreateFunction -----------------------------------------------------------------------------

def test_create_answers_pending_then_reads_active(fns, lam, account):
    code = fixture_zip("python")
    name = fns.name("create")
    r = fns.create(name=name, handler="handler.echo", code=code, Description="first", Timeout=7, MemorySize=256,
                   Environment={"Variables": {"A": "1"}})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert r["FunctionName"] == name
    assert r["FunctionArn"] == arn(account, name)
    assert r["Runtime"] == host_python_runtime()
    assert r["Role"] == LAMBDA_ROLE
    assert r["Handler"] == "handler.echo"
    assert r["Description"] == "first"
    assert r["Timeout"] == 7
    assert r["MemorySize"] == 256
    assert r["Version"] == "$LATEST"
    assert r["PackageType"] == "Zip"
    assert r["Architectures"] == ["x86_64"]
    assert r["EphemeralStorage"] == {"Size": 512}
    assert r["Environment"] == {"Variables": {"A": "1"}}
    assert r["TracingConfig"] == {"Mode": "PassThrough"}
    assert r["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert r["CodeSize"] == len(code)
    assert r["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000", r["LastModified"]), r["LastModified"]
    assert re.fullmatch(r"[0-9a-f-]{36}", r["RevisionId"])
    assert (r["State"], r["StateReason"], r["StateReasonCode"]) == ("Pending", "The function is being created.", "Creating")

    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    c = lam.get_function_configuration(FunctionName=name)
    assert c["State"] == "Active"
    assert c["LastUpdateStatus"] == "Successful"
    for key in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
        assert key not in c, key
    assert c["CodeSha256"] == r["CodeSha256"]
    assert c["FunctionArn"] == r["FunctionArn"]


def test_create_answer_has_no_last_update_status(fns):
    """AWS's CreateFunction answer (State Pending) carries no LastUpdateStatus; it appears once the function is read."""
    r = fns.create(tag="nolus")
    assert r["State"] == "Pending"
    assert "LastUpdateStatus" not in r


def test_create_duplicate_is_409(fns, lam):
    name = fns.name("dup")
    fns.create(name=name)
    with pytest.raises(ClientError) as e:
        fns.create(name=name)
    assert error(e) == ("ResourceConflictException", 409)
    assert error_message(e) == f"Function already exist: {name}"


def test_create_invalid_role(raw_lam, fns):
    name = fns.name("badrole")
    with pytest.raises(ClientError) as e:
        raw_lam.create_function(FunctionName=name, Runtime=host_python_runtime(), Role="r1", Handler="handler.echo",
                                Code={"ZipFile": fixture_zip("python")})
    assert error(e) == ("ValidationException", 400)
    assert error_message(e) == (
        "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+")


@pytest.mark.parametrize("runtime", ["non-existent-runtime", "PYTHON3.12"])
def test_create_invalid_runtime(raw_lam, fns, runtime):
    with pytest.raises(ClientError) as e:
        raw_lam.create_function(FunctionName=fns.name("badrt"), Runtime=runtime, Role=LAMBDA_ROLE,
                                Handler="handler.echo", Code={"ZipFile": fixture_zip("python")})
    assert error(e) == ("InvalidParameterValueException", 400)
    # AWS: "Value X at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x,
    # python3.14, ...] or be a valid ARN" (the list changes as runtimes come and go).
    message = error_message(e)
    m = re.fullmatch(re.escape(f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum "
                               "value set: [") + r"([a-z0-9.]+(, [a-z0-9.]+)*)\] or be a valid ARN", message)
    assert m, message
    assert {"python3.12", "nodejs20.x", "provided.al2023"} <= set(m.group(1).split(", "))


def test_create_invalid_zip(fns):
    with pytest.raises(ClientError) as e:
        fns.create(tag="badzip", code=b"this is not a zip file")
    assert error(e) == ("InvalidParameterValueException", 400)
    assert error_message(e) == "Could not unzip uploaded file. Please check your file, then try to upload again."


def test_create_invalid_name_characters(raw_lam):
    with pytest.raises(ClientError) as e:
        raw_lam.create_function(FunctionName="my-function!", Runtime=host_python_runtime(), Role=LAMBDA_ROLE,
                                Handler="handler.echo", Code={"ZipFile": fixture_zip("python")})
    assert error(e) == ("ValidationException", 400)
    assert error_message(e).startswith(
        "1 validation error detected: Value 'my-function!' at 'functionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: "), error_message(e)


def test_create_name_too_long(raw_lam):
    name = "a" * 65
    with pytest.raises(ClientError) as e:
        raw_lam.create_function(FunctionName=name, Runtime=host_python_runtime(), Role=LAMBDA_ROLE,
                                Handler="handler.echo", Code={"ZipFile": fixture_zip("python")})
    assert error(e) == ("InvalidParameterValueException", 400)
    assert (f"Value '{name}' at 'functionName' failed to satisfy constraint: Member must have length less than or "
            "equal to 64") in error_message(e), error_message(e)


@pytest.mark.parametrize("field,value,message", [
    ("Timeout", 901, "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
                     "Member must have value less than or equal to 900"),
    ("Timeout", 0, "1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: "
                   "Member must have value greater than or equal to 1"),
    ("MemorySize", 64, "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: "
                       "Member must have value greater than or equal to 128"),
    ("MemorySize", 10241, "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy constraint: "
                          "Member must have value less than or equal to 10240"),
])
def test_create_out_of_range(raw_lam, fns, field, value, message):
    with pytest.raises(ClientError) as e:
        raw_lam.create_function(FunctionName=fns.name("range"), Runtime=host_python_runtime(), Role=LAMBDA_ROLE,
                                Handler="handler.echo", Code={"ZipFile": fixture_zip("python")}, **{field: value})
    assert error(e) == ("ValidationException", 400)
    assert error_message(e) == message


# --- Get / List / Delete ------------------------------------------------------------------------

def test_get_function(fns, lam, account):
    name = fns.name("get")
    fns.create(name=name, Tags={"team": "e2e"})
    r = lam.get_function(FunctionName=name)
    assert r["Configuration"]["FunctionName"] == name
    assert r["Configuration"]["State"] == "Active"
    assert r["Code"]["RepositoryType"] == "S3"
    assert isinstance(r["Code"]["Location"], str) and r["Code"]["Location"]
    assert r["Tags"] == {"team": "e2e"}
    # The same function by ARN and by partial ARN.
    assert lam.get_function(FunctionName=arn(account, name))["Configuration"]["FunctionName"] == name
    assert lam.get_function_configuration(FunctionName=f"{account}:function:{name}")["FunctionName"] == name


def test_get_missing_function_and_version(fns, lam, account):
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName="e2e-fn-does-not-exist")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: {arn(account, 'e2e-fn-does-not-exist')}"
    assert e.value.response["Type"] == "User"

    name = fns.name("nover")
    fns.create(name=name)
    with pytest.raises(ClientError) as e:
        lam.get_function_configuration(FunctionName=name, Qualifier="1221")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: {arn(account, name)}:1221"


def test_list_functions_pages_with_marker(fns, lam):
    names = sorted(fns.name("list") for _ in range(5))
    for n in names:
        fns.create(name=n)
    seen, pages, marker = [], 0, None
    while True:
        kw = {"MaxItems": 2}
        if marker:
            kw["Marker"] = marker
        page = lam.list_functions(**kw)
        pages += 1
        assert len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
        assert pages < 1000
    assert len(seen) == len(set(seen)), "a function came twice"
    assert sorted(n for n in seen if n in names) == names
    # The paginator walks the same pages.
    via_paginator = [f["FunctionName"] for p in lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 2}) for f in p["Functions"]]
    assert sorted(n for n in via_paginator if n in names) == names
    assert len(via_paginator) == len(seen)


def test_list_functions_entries_are_configurations(fns, lam):
    name = fns.name("listcfg")
    created = fns.create(name=name, Description="listed")
    entry = next(f for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]
                 if f["FunctionName"] == name)
    assert entry["FunctionArn"] == created["FunctionArn"]
    assert entry["Description"] == "listed"
    assert entry["CodeSha256"] == created["CodeSha256"]
    assert entry["Version"] == "$LATEST"


def test_delete_function_then_404(fns, lam, account):
    name = fns.name("del")
    fns.create(name=name)
    assert lam.invoke(FunctionName=name, Payload=b'{"a": 1}')["StatusCode"] == 200
    r = lam.delete_function(FunctionName=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (lambda: lam.get_function(FunctionName=name), lambda: lam.get_function_configuration(FunctionName=name),
                 lambda: lam.delete_function(FunctionName=name)):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("ResourceNotFoundException", 404)
        assert error_message(e) == f"Function not found: {arn(account, name)}"
    assert name not in [f["FunctionName"] for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]]


def test_invoke_missing_function_names_latest(lam, account):
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="e2e-fn-never-made")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: {arn(account, 'e2e-fn-never-made')}:$LATEST"


def test_delete_missing_function_with_qualifier(lam, account):
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName="e2e-fn-never-made", Qualifier="1233")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: {arn(account, 'e2e-fn-never-made')}"


# --- Updates ------------------------------------------------------------------------------------

def test_update_configuration_is_used_by_next_invoke(fns, lam):
    name = fns.name("updcfg")
    created = fns.create(name=name, handler="handler.echo_env", Environment={"Variables": {"GREETING": "hello"}})
    assert read_payload(lam.invoke(FunctionName=name, Payload=b'{"n": 1}')) == {"event": {"n": 1}, "greeting": "hello"}

    r = lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "bonjour"}},
                                          Description="changed", Timeout=9, MemorySize=512)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["LastUpdateStatus"] == "InProgress"
    assert r["LastUpdateStatusReason"] == "The function is being created."
    assert r["LastUpdateStatusReasonCode"] == "Creating"
    assert r["State"] == "Active"
    assert (r["Description"], r["Timeout"], r["MemorySize"]) == ("changed", 9, 512)
    assert r["Environment"] == {"Variables": {"GREETING": "bonjour"}}
    assert r["RevisionId"] != created["RevisionId"]
    assert r["CodeSha256"] == created["CodeSha256"]

    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    c = lam.get_function_configuration(FunctionName=name)
    assert c["LastUpdateStatus"] == "Successful"
    assert "LastUpdateStatusReason" not in c
    # LastUpdateStatus moved from InProgress to Successful: AWS gives the new state its own RevisionId.
    assert c["RevisionId"] != r["RevisionId"]
    assert read_payload(lam.invoke(FunctionName=name, Payload=b'{"n": 2}')) == {"event": {"n": 2}, "greeting": "bonjour"}

    # The handler can change too.
    lam.update_function_configuration(FunctionName=name, Handler="handler.version")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert read_payload(lam.invoke(FunctionName=name)) == "$LATEST"


def test_update_code_is_used_by_next_invoke(fns, lam):
    name = fns.name("updcode")
    created = fns.create(name=name, handler="app.handler",
                         code=zip_bytes({"app.py": "def handler(e, c):\n    return 'first code'\n"}))
    assert read_payload(lam.invoke(FunctionName=name)) == "first code"
    new_zip = zip_bytes({"app.py": "def handler(e, c):\n    return 'second code'\n"})
    r = lam.update_function_code(FunctionName=name, ZipFile=new_zip)
    assert r["LastUpdateStatus"] == "InProgress"
    assert r["CodeSha256"] == base64.b64encode(hashlib.sha256(new_zip).digest()).decode()
    assert r["CodeSize"] == len(new_zip)
    assert r["CodeSha256"] != created["CodeSha256"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == r["CodeSha256"]
    assert read_payload(lam.invoke(FunctionName=name)) == "second code"


def test_update_with_stale_revision_id_is_412(fns, lam):
    name = fns.name("rev")
    fns.create(name=name)
    # The Active function's RevisionId (the Pending answer of CreateFunction has its own, as in AWS).
    active = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    lam.update_function_configuration(FunctionName=name, Description="one", RevisionId=active)
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName=name, Description="two", RevisionId=active)
    assert error(e) == ("PreconditionFailedException", 412)
    assert error_message(e) == ("The Revision Id provided does not match the latest Revision Id. Call the "
                                "GetFunction/GetAlias API to retrieve the latest Revision Id")
    assert lam.get_function_configuration(FunctionName=name)["Description"] == "one"
    current = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    lam.update_function_configuration(FunctionName=name, Description="three", RevisionId=current)
    assert lam.get_function_configuration(FunctionName=name)["Description"] == "three"


def test_update_missing_function_is_404(lam, account):
    with pytest.raises(ClientError) as e:
        lam.update_function_configuration(FunctionName="e2e-fn-never-made", Description="x")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: {arn(account, 'e2e-fn-never-made')}"


# --- Tags ---------------------------------------------------------------------------------------

def test_tags_lifecycle(fns, lam):
    name = fns.name("tags")
    fn_arn = fns.create(name=name, Tags={"A": "tag-a"})["FunctionArn"]
    assert lam.list_tags(Resource=fn_arn)["Tags"] == {"A": "tag-a"}
    assert lam.tag_resource(Resource=fn_arn, Tags={"B": "tag-b", "C": "tag-c"})["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.tag_resource(Resource=fn_arn, Tags={"C": "tag-c-newsuffix", "D": "tag-d"})
    assert lam.list_tags(Resource=fn_arn)["Tags"] == {"A": "tag-a", "B": "tag-b", "C": "tag-c-newsuffix", "D": "tag-d"}
    assert lam.untag_resource(Resource=fn_arn, TagKeys=["A", "B", "nonexisting"])["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=fn_arn)["Tags"] == {"C": "tag-c-newsuffix", "D": "tag-d"}
    assert lam.get_function(FunctionName=name)["Tags"] == {"C": "tag-c-newsuffix", "D": "tag-d"}
    lam.untag_resource(Resource=fn_arn, TagKeys=["C", "D"])
    assert lam.list_tags(Resource=fn_arn)["Tags"] == {}


def test_tags_on_missing_function(lam, account):
    missing = arn(account, "e2e-fn-no-tags-here")
    for call in (lambda: lam.list_tags(Resource=missing), lambda: lam.tag_resource(Resource=missing, Tags={"a": "b"}),
                 lambda: lam.untag_resource(Resource=missing, TagKeys=["a"])):
        with pytest.raises(ClientError) as e:
            call()
        assert error(e) == ("ResourceNotFoundException", 404)
        assert error_message(e) == f"Function not found: {missing}"


def test_tags_on_version_arn_are_refused(fns, lam, account):
    name = fns.name("tagver")
    fns.create(name=name, Publish=True)
    with pytest.raises(ClientError) as e:
        lam.tag_resource(Resource=arn(account, name) + ":1", Tags={"a": "b"})
    assert error(e) == ("InvalidParameterValueException", 400)
    assert error_message(e) == "Tags on function aliases and versions are not supported. Please specify a function ARN."


# --- Account settings ---------------------------------------------------------------------------

def test_account_settings(fns, lam):
    before = lam.get_account_settings()
    assert sorted(before["AccountLimit"]) == ["CodeSizeUnzipped", "CodeSizeZipped", "ConcurrentExecutions",
                                              "TotalCodeSize", "UnreservedConcurrentExecutions"]
    assert sorted(before["AccountUsage"]) == ["FunctionCount", "TotalCodeSize"]
    listed = [f for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]]
    assert before["AccountUsage"]["FunctionCount"] == len(listed)
    assert before["AccountLimit"]["UnreservedConcurrentExecutions"] <= before["AccountLimit"]["ConcurrentExecutions"]

    name = fns.name("acct")
    created = fns.create(name=name)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)
    after = lam.get_account_settings()
    assert after["AccountUsage"]["FunctionCount"] == before["AccountUsage"]["FunctionCount"] + 1
    assert after["AccountUsage"]["TotalCodeSize"] >= before["AccountUsage"]["TotalCodeSize"] + created["CodeSize"]
    assert (after["AccountLimit"]["UnreservedConcurrentExecutions"]
            == before["AccountLimit"]["UnreservedConcurrentExecutions"] - 5)
