"""Lambda wire fidelity (issue 13): what AWS answers, field for field.

- Error bodies: every Lambda error carries `Type` (`User`), and the message under the member its shape names
  (`Message` for ResourceNotFoundException, `message` for InvalidParameterValueException, ResourceConflictException,
  RequestEntityTooLargeException...), no `__type` (the code is in `x-amzn-ErrorType`), with AWS's texts for missing
  functions, versions and aliases, invalid parameters and DeleteFunction's refused qualifiers.
- Configurations: RuntimeVersionConfig, and every block given stored and returned as given (TracingConfig,
  EphemeralStorage, ImageConfig, LoggingConfig with its JSON defaults, SnapStart, VpcConfig, KMSKeyArn,
  FileSystemConfigs, DeadLetterConfig), updates applied; enum values checked as AWS does.
- RevisionId moves with State / LastUpdateStatus: the Pending and InProgress answers carry their own.
- ListVersionsByFunction and ListFunctions leave out the state fields.
- TagResource / ListTags / UntagResource on event source mapping and code signing config ARNs.
- Code signing configs: Create / Get / Update / List / Delete, Put / Get / Delete FunctionCodeSigningConfig,
  ListFunctionsByCodeSigningConfig (stored; signatures are not checked).
- Code size: a direct zip over 50 MB is RequestEntityTooLargeException; through S3 a larger zip is accepted, and
  over 250 MB unzipped is refused.
- LoggingConfig JSON: Lambda's own events are JSON (platform.start / platform.report), `logging` records are JSON
  lines with level and requestId, in LoggingConfig.LogGroup when given.
"""
import io
import json
import os
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from helpers import LAMBDA_ROLE, error, fixture_zip, lambda_client, make_client, purge_bucket, zip_bytes


@pytest.fixture(scope="module")
def raw_lam(endpoint):
    """A client without botocore's parameter validation: the server's checks answer."""
    return lambda_client(endpoint, parameter_validation=False)


def fn_arn(account, name):
    return f"arn:aws:lambda:us-east-1:{account}:function:{name}"


def body_of(excinfo):
    """The error as botocore parsed it: the modeled members (Type, Message or message) sit at the top."""
    return excinfo.value.response


# --- error bodies ---------------------------------------------------------------------------------------------

def test_not_found_errors_carry_type_and_capital_message(fns, lam, account):
    name = fns.create(tag="err")["FunctionName"]
    missing = fns.name("missing")
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=missing)
    r = body_of(e)
    assert error(e) == ("ResourceNotFoundException", 404)
    assert r["Type"] == "User"
    assert r["Message"] == f"Function not found: {fn_arn(account, missing)}"
    assert "message" not in r

    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name, Qualifier="7")
    assert body_of(e)["Message"] == f"Function not found: {fn_arn(account, name)}:7"
    assert body_of(e)["Type"] == "User"

    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="nope")
    assert error(e) == ("ResourceNotFoundException", 404)
    assert body_of(e)["Message"] == f"Cannot find alias arn: {fn_arn(account, name)}:nope"
    assert body_of(e)["Type"] == "User"


def test_invalid_parameter_and_conflict_errors_use_lowercase_message(fns, lam):
    name = fns.create(tag="lower")["FunctionName"]
    with pytest.raises(ClientError) as e:
        fns.create(name=name)
    r = body_of(e)
    assert error(e) == ("ResourceConflictException", 409)
    assert r["Type"] == "User"
    assert r["message"] == f"Function already exist: {name}"
    assert "Message" not in r

    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=950)
    r = body_of(e)
    assert error(e) == ("InvalidParameterValueException", 400)
    assert r["Type"] == "User"
    assert r["message"].startswith("Specified ReservedConcurrentExecutions for function decreases")


def test_raw_error_body_members(fns, lam, account):
    """The body on the wire: Type and Message (capital M for ResourceNotFoundException), code in x-amzn-ErrorType."""
    seen = []
    lam.meta.events.register("after-call.lambda.GetFunction", lambda http_response, **_: seen.append(http_response))
    missing = fns.name("raw")
    try:
        with pytest.raises(ClientError):
            lam.get_function(FunctionName=missing)
    finally:
        lam.meta.events.unregister("after-call.lambda.GetFunction")
    raw = seen[-1]
    assert raw.status_code == 404
    assert raw.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    # Exactly AWS's members: no `__type` (the code is in the header), no lower-case `message`.
    assert json.loads(raw.content) == {"Type": "User", "Message": f"Function not found: {fn_arn(account, missing)}"}


# --- configurations -------------------------------------------------------------------------------------------

def test_runtime_version_config(fns, lam):
    r = fns.create(tag="rtv")
    got = lam.get_function_configuration(FunctionName=r["FunctionName"])
    rv = got["RuntimeVersionConfig"]["RuntimeVersionArn"]
    assert rv.startswith("arn:aws:lambda:us-east-1::runtime:") and len(rv) > len("arn:aws:lambda:us-east-1::runtime:")
    assert r["RuntimeVersionConfig"] == got["RuntimeVersionConfig"]
    # One ARN per runtime: a second function on the same runtime shows the same.
    other = fns.create(tag="rtv2")
    assert other["RuntimeVersionConfig"] == got["RuntimeVersionConfig"]


def test_every_block_given_is_stored_and_returned(fns, lam, account):
    dlq = f"arn:aws:sqs:us-east-1:{account}:dead-letters"
    kms = f"arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    efs = f"arn:aws:elasticfilesystem:us-east-1:{account}:access-point/fsap-0123456789abcdef0"
    r = fns.create(tag="blocks", TracingConfig={"Mode": "Active"}, EphemeralStorage={"Size": 2048},
                   LoggingConfig={"LogFormat": "JSON"}, SnapStart={"ApplyOn": "PublishedVersions"},
                   VpcConfig={"SubnetIds": ["subnet-0a1b2c3d"], "SecurityGroupIds": ["sg-0a1b2c3d"]},
                   KMSKeyArn=kms, FileSystemConfigs=[{"Arn": efs, "LocalMountPath": "/mnt/data"}],
                   DeadLetterConfig={"TargetArn": dlq})
    name = r["FunctionName"]
    for c in (r, lam.get_function(FunctionName=name)["Configuration"]):
        assert c["TracingConfig"] == {"Mode": "Active"}
        assert c["EphemeralStorage"] == {"Size": 2048}
        assert c["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO",
                                      "LogGroup": f"/aws/lambda/{name}"}
        assert c["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
        assert c["VpcConfig"]["SubnetIds"] == ["subnet-0a1b2c3d"]
        assert c["VpcConfig"]["SecurityGroupIds"] == ["sg-0a1b2c3d"]
        assert c["KMSKeyArn"] == kms
        assert c["FileSystemConfigs"] == [{"Arn": efs, "LocalMountPath": "/mnt/data"}]
        assert c["DeadLetterConfig"] == {"TargetArn": dlq}

    # An unrelated update keeps every block; the blocks an update names apply.
    lam.update_function_configuration(FunctionName=name, Description="other")
    c = lam.get_function_configuration(FunctionName=name)
    assert c["TracingConfig"] == {"Mode": "Active"}
    assert c["EphemeralStorage"] == {"Size": 2048}
    lam.update_function_configuration(FunctionName=name, EphemeralStorage={"Size": 4096},
                                      LoggingConfig={"LogFormat": "Text"}, TracingConfig={"Mode": "PassThrough"},
                                      VpcConfig={"SubnetIds": [], "SecurityGroupIds": []}, KMSKeyArn="")
    c = lam.get_function_configuration(FunctionName=name)
    assert c["EphemeralStorage"] == {"Size": 4096}
    assert c["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert c["TracingConfig"] == {"Mode": "PassThrough"}
    assert c["VpcConfig"]["SubnetIds"] == [] and c["VpcConfig"]["SecurityGroupIds"] == []
    assert "KMSKeyArn" not in c
    # SnapStart is applied to published versions.
    v = lam.publish_version(FunctionName=name)
    assert v["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}


def test_logging_levels_given_are_kept(fns, lam):
    r = fns.create(tag="levels", LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG",
                                                "SystemLogLevel": "WARN", "LogGroup": "/custom/fidelity"})
    assert r["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "WARN",
                                  "LogGroup": "/custom/fidelity"}
    lam.update_function_configuration(FunctionName=r["FunctionName"], LoggingConfig={"ApplicationLogLevel": "ERROR"})
    c = lam.get_function_configuration(FunctionName=r["FunctionName"])
    assert c["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "ERROR", "SystemLogLevel": "WARN",
                                  "LogGroup": "/custom/fidelity"}


def test_image_config_of_an_image_function(fns, lam, account):
    name = fns.name("image")
    uri = f"{account}.dkr.ecr.us-east-1.amazonaws.com/app:latest"
    image = {"EntryPoint": ["/app/run"], "Command": ["serve", "--fast"], "WorkingDirectory": "/app"}
    r = lam.create_function(FunctionName=name, Role=LAMBDA_ROLE, PackageType="Image", Code={"ImageUri": uri},
                            ImageConfig=image)
    assert r["ImageConfigResponse"] == {"ImageConfig": image}
    assert "RuntimeVersionConfig" not in r
    assert lam.get_function_configuration(FunctionName=name)["ImageConfigResponse"] == {"ImageConfig": image}
    lam.update_function_configuration(FunctionName=name, ImageConfig={"Command": ["other"]})
    assert lam.get_function_configuration(FunctionName=name)["ImageConfigResponse"] == {"ImageConfig": {"Command": ["other"]}}


@pytest.mark.parametrize("kw,field,value,allowed", [
    ({"TracingConfig": {"Mode": "Sometimes"}}, "tracingConfig.mode", "Sometimes", "[Active, PassThrough]"),
    ({"LoggingConfig": {"LogFormat": "XML"}}, "loggingConfig.logFormat", "XML", "[JSON, Text]"),
    ({"SnapStart": {"ApplyOn": "Always"}}, "snapStart.applyOn", "Always", "[PublishedVersions, None]"),
])
def test_enum_values_are_checked(fns, raw_lam, kw, field, value, allowed):
    name = fns.name("enum")
    with pytest.raises(ClientError) as e:
        raw_lam.create_function(FunctionName=name, Runtime="python3.12", Role=LAMBDA_ROLE, Handler="handler.echo",
                                Code={"ZipFile": fixture_zip("python")}, **kw)
    assert error(e) == ("ValidationException", 400)
    assert e.value.response["Error"]["Message"] == (
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
        f"Member must satisfy enum value set: {allowed}")
    with pytest.raises(ClientError):
        raw_lam.get_function(FunctionName=name)


def test_ephemeral_storage_out_of_range(fns, raw_lam):
    name = fns.create(tag="eph")["FunctionName"]
    with pytest.raises(ClientError) as e:
        raw_lam.update_function_configuration(FunctionName=name, EphemeralStorage={"Size": 100})
    assert error(e) == ("ValidationException", 400)
    assert e.value.response["Error"]["Message"] == ("1 validation error detected: Value '100' at 'ephemeralStorage.size' "
                                                    "failed to satisfy constraint: Member must have value greater than or equal to 512")
    assert raw_lam.get_function_configuration(FunctionName=name)["EphemeralStorage"] == {"Size": 512}


def test_invalid_parameters_as_aws_words_them(fns, lam, raw_lam):
    name = fns.create(tag="inval")["FunctionName"]
    with pytest.raises(ClientError) as e:
        raw_lam.update_function_configuration(FunctionName=name, Runtime="python2.0")
    assert error(e) == ("InvalidParameterValueException", 400)
    assert body_of(e)["message"].startswith("Value python2.0 at 'runtime' failed to satisfy constraint: "
                                            "Member must satisfy enum value set: [")
    assert body_of(e)["message"].endswith("] or be a valid ARN")
    assert body_of(e)["Type"] == "User"

    with pytest.raises(ClientError) as e:
        raw_lam.list_functions(MaxItems=0)
    assert error(e) == ("ValidationException", 400)
    assert e.value.response["Error"]["Message"] == ("1 validation error detected: Value '0' at 'maxItems' failed to satisfy "
                                                    "constraint: Member must have value greater than or equal to 1")

    with pytest.raises(ClientError) as e:
        raw_lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=-1)
    assert error(e) == ("ValidationException", 400)
    assert e.value.response["Error"]["Message"] == ("1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' "
                                                    "failed to satisfy constraint: Member must have value greater than or equal to 0")
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5000)
    assert error(e) == ("InvalidParameterValueException", 400)
    assert body_of(e)["message"] == ("Specified ReservedConcurrentExecutions for function decreases account's "
                                     "UnreservedConcurrentExecution below its minimum value of [100].")
    assert "Concurrency" not in lam.get_function(FunctionName=name)


def test_delete_function_qualifiers(fns, lam, account):
    name = fns.create(tag="delq", Publish=True)["FunctionName"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert error(e) == ("InvalidParameterValueException", 400)
    assert body_of(e)["message"] == "$LATEST version cannot be deleted without deleting the function."
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="live")
    assert error(e) == ("InvalidParameterValueException", 400)
    assert body_of(e)["message"] == "Deletion of aliases is not currently supported."
    # Nothing was deleted.
    assert lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]["Version"] == "1"
    assert lam.get_function(FunctionName=name)["Configuration"]["Version"] == "$LATEST"


# --- RevisionId and list shapes -------------------------------------------------------------------------------

def test_revision_id_moves_with_state(fns, lam):
    created = fns.create(tag="rev")
    name = created["FunctionName"]
    active = lam.get_function(FunctionName=name)["Configuration"]
    assert created["State"] == "Pending" and active["State"] == "Active"
    assert active["RevisionId"] != created["RevisionId"]
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == active["RevisionId"]
    updated = lam.update_function_configuration(FunctionName=name, Description="x", RevisionId=active["RevisionId"])
    assert updated["LastUpdateStatus"] == "InProgress"
    after = lam.get_function_configuration(FunctionName=name)
    assert after["LastUpdateStatus"] == "Successful"
    assert len({created["RevisionId"], active["RevisionId"], updated["RevisionId"], after["RevisionId"]}) == 4
    code = lam.update_function_code(FunctionName=name, ZipFile=fixture_zip("python", {"extra.txt": "x"}))
    assert code["RevisionId"] != lam.get_function_configuration(FunctionName=name)["RevisionId"] != after["RevisionId"]


def test_list_versions_and_functions_leave_out_state_fields(fns, lam):
    name = fns.create(tag="lv", Publish=True)["FunctionName"]
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    listed = [f for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"] if f["FunctionName"] == name]
    assert len(listed) == 1
    for entry in versions + listed:
        for key in ("State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
                    "LastUpdateStatusReasonCode"):
            assert key not in entry, key
        assert {"FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSize", "Description", "Timeout",
                "MemorySize", "LastModified", "CodeSha256", "Version", "RevisionId", "PackageType", "Architectures",
                "EphemeralStorage", "TracingConfig", "SnapStart", "LoggingConfig"} <= set(entry)


# --- tags on event source mappings and code signing configs --------------------------------------------------------

def test_tags_on_event_source_mapping(fns, lam, endpoint, account):
    sqs = make_client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=fns.name("esmq"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = fns.create(tag="esm")["FunctionName"]
    m = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name, Enabled=False, Tags={"a": "1"})
    try:
        arn = m["EventSourceMappingArn"]
        assert arn == f"arn:aws:lambda:us-east-1:{account}:event-source-mapping:{m['UUID']}"
        assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1"}
        lam.tag_resource(Resource=arn, Tags={"b": "2", "a": "3"})
        assert lam.list_tags(Resource=arn)["Tags"] == {"a": "3", "b": "2"}
        lam.untag_resource(Resource=arn, TagKeys=["a"])
        assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
        missing = f"arn:aws:lambda:us-east-1:{account}:event-source-mapping:00000000-0000-0000-0000-000000000000"
        with pytest.raises(ClientError) as e:
            lam.tag_resource(Resource=missing, Tags={"x": "y"})
        assert error(e) == ("ResourceNotFoundException", 404)
        assert body_of(e)["Type"] == "User"
    finally:
        lam.delete_event_source_mapping(UUID=m["UUID"])
        sqs.delete_queue(QueueUrl=url)


# --- code signing configs ----------------------------------------------------------------------------------------

PROFILE = "arn:aws:signer:us-east-1:000000000000:/signing-profiles/fidelity/abcdef1234"


def test_code_signing_config_lifecycle(fns, lam, account):
    c = lam.create_code_signing_config(Description="d", AllowedPublishers={"SigningProfileVersionArns": [PROFILE]},
                                       Tags={"team": "x"})
    assert c["ResponseMetadata"]["HTTPStatusCode"] == 201
    csc = c["CodeSigningConfig"]
    arn = csc["CodeSigningConfigArn"]
    assert arn == f"arn:aws:lambda:us-east-1:{account}:code-signing-config:{csc['CodeSigningConfigId']}"
    assert len(csc["CodeSigningConfigId"]) == 21 and csc["CodeSigningConfigId"].startswith("csc-")
    assert csc["AllowedPublishers"] == {"SigningProfileVersionArns": [PROFILE]}
    assert csc["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert csc["Description"] == "d"
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"] == csc
    assert arn in [x["CodeSigningConfigArn"] for x in lam.list_code_signing_configs()["CodeSigningConfigs"]]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "x"}

    u = lam.update_code_signing_config(CodeSigningConfigArn=arn, CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"})
    assert u["CodeSigningConfig"]["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"}
    assert u["CodeSigningConfig"]["AllowedPublishers"] == {"SigningProfileVersionArns": [PROFILE]}

    name = fns.create(tag="csc")["FunctionName"]
    assert lam.get_function_code_signing_config(FunctionName=name).keys() == {"ResponseMetadata"}
    put = lam.put_function_code_signing_config(FunctionName=name, CodeSigningConfigArn=arn)
    assert (put["FunctionName"], put["CodeSigningConfigArn"]) == (name, arn)
    got = lam.get_function_code_signing_config(FunctionName=name)
    assert (got["FunctionName"], got["CodeSigningConfigArn"]) == (name, arn)
    assert lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"] == [fn_arn(account, name)]
    # The code is not signed: stored, not checked, so updates still deploy.
    lam.update_function_code(FunctionName=name, ZipFile=fixture_zip("python"))

    with pytest.raises(ClientError) as e:
        lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert error(e) == ("ResourceConflictException", 409)
    lam.delete_function_code_signing_config(FunctionName=name)
    assert lam.get_function_code_signing_config(FunctionName=name).keys() == {"ResponseMetadata"}
    assert lam.delete_code_signing_config(CodeSigningConfigArn=arn)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        lam.get_code_signing_config(CodeSigningConfigArn=arn)
    assert error(e) == ("ResourceNotFoundException", 404)
    assert body_of(e)["Message"] == f"The Lambda code signing configuration {arn} can not be found."
    assert body_of(e)["Type"] == "User"


def test_put_function_code_signing_config_unknown_config(fns, lam, account):
    name = fns.create(tag="cscmiss")["FunctionName"]
    missing = f"arn:aws:lambda:us-east-1:{account}:code-signing-config:csc-0123456789abcdefg"
    with pytest.raises(ClientError) as e:
        lam.put_function_code_signing_config(FunctionName=name, CodeSigningConfigArn=missing)
    assert error(e) == ("CodeSigningConfigNotFoundException", 404)
    assert body_of(e)["Message"] == ("The code signing configuration cannot be found. Check that the provided configuration "
                                     f"is not deleted: {missing}.")
    assert body_of(e)["Type"] == "User"
    assert lam.get_function_code_signing_config(FunctionName=name).keys() == {"ResponseMetadata"}


def test_create_function_with_code_signing_config(fns, lam, account):
    arn = lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [PROFILE]})["CodeSigningConfig"]["CodeSigningConfigArn"]
    try:
        name = fns.create(tag="csccreate", CodeSigningConfigArn=arn)["FunctionName"]
        assert lam.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == arn
        lam.delete_function(FunctionName=name)
        missing = f"arn:aws:lambda:us-east-1:{account}:code-signing-config:csc-0123456789abcdefg"
        other = fns.name("cscbad")
        with pytest.raises(ClientError) as e:
            fns.create(name=other, CodeSigningConfigArn=missing)
        assert error(e) == ("CodeSigningConfigNotFoundException", 404)
        with pytest.raises(ClientError):
            lam.get_function(FunctionName=other)
    finally:
        lam.delete_code_signing_config(CodeSigningConfigArn=arn)


def test_settings_and_code_signing_configs_survive_a_restart(account):
    """State is in SQLite: a restarted server answers the same."""
    import shutil
    import tempfile
    from helpers import LambdaFunctions
    from server import Server
    data_dir = tempfile.mkdtemp(prefix="cloudless-lambda-fidelity-")
    server = Server(data_dir=data_dir).start()
    try:
        fns = LambdaFunctions(server, "e2e-fidelity-restart")
        csc = fns.lam.create_code_signing_config(AllowedPublishers={"SigningProfileVersionArns": [PROFILE]})["CodeSigningConfig"]
        name = fns.create(tag="r", TracingConfig={"Mode": "Active"}, LoggingConfig={"LogFormat": "JSON"},
                          EphemeralStorage={"Size": 1024}, CodeSigningConfigArn=csc["CodeSigningConfigArn"])["FunctionName"]
        before = fns.lam.get_function_configuration(FunctionName=name)
        server.stop()
        server = Server(data_dir=data_dir, port=server.port).start()
        fns.server = server
        after = fns.lam.get_function_configuration(FunctionName=name)
        assert {k: v for k, v in after.items() if k != "ResponseMetadata"} == {k: v for k, v in before.items() if k != "ResponseMetadata"}
        assert fns.lam.get_code_signing_config(CodeSigningConfigArn=csc["CodeSigningConfigArn"])["CodeSigningConfig"] == csc
        assert fns.lam.get_function_code_signing_config(FunctionName=name)["CodeSigningConfigArn"] == csc["CodeSigningConfigArn"]
        fns.cleanup()
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


# --- code size ----------------------------------------------------------------------------------------------------

def stored_zip(size, name="blob.bin"):
    """A zip holding `size` random bytes stored (not deflated): the zip is a little over `size`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("handler.py", "def echo(event, context):\n    return event\n")
        z.writestr(name, os.urandom(size))
    return buf.getvalue()


def test_direct_zip_over_50_mb_is_request_entity_too_large(fns, lam):
    name = fns.name("big")
    seen = []
    lam.meta.events.register("after-call.lambda.CreateFunction", lambda http_response, **_: seen.append(http_response))
    try:
        with pytest.raises(ClientError) as e:
            fns.create(name=name, code=stored_zip(51 * 1024 * 1024))
    finally:
        lam.meta.events.unregister("after-call.lambda.CreateFunction")
    assert error(e) == ("RequestEntityTooLargeException", 413)
    # botocore models this error under another name, so the body is read as sent: Type and a lower-case message.
    assert json.loads(seen[-1].content) == {"Type": "User", "message": "Zipped size must be smaller than 52428800 bytes"}
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=name)


def test_larger_zip_through_s3_is_accepted_up_to_the_unzipped_limit(fns, lam, s3):
    bucket = fns.name("code").lower()
    s3.create_bucket(Bucket=bucket)
    try:
        big = stored_zip(60 * 1024 * 1024)
        s3.put_object(Bucket=bucket, Key="big.zip", Body=big)
        r = fns.create(tag="s3big", code={"S3Bucket": bucket, "S3Key": "big.zip"})
        assert r["CodeSize"] == len(big)
        # 260 MB of zeros deflate to a small zip, but unzipped they pass Lambda's 250 MB.
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("handler.py", "def echo(event, context):\n    return event\n")
            with z.open("zeros.bin", "w", force_zip64=True) as f:
                chunk = bytes(1024 * 1024)
                for _ in range(260):
                    f.write(chunk)
        s3.put_object(Bucket=bucket, Key="huge.zip", Body=buf.getvalue())
        name = fns.name("s3huge")
        with pytest.raises(ClientError) as e:
            fns.create(name=name, code={"S3Bucket": bucket, "S3Key": "huge.zip"})
        assert error(e) == ("InvalidParameterValueException", 400)
        assert body_of(e)["message"] == "Unzipped size must be smaller than 262144000 bytes"
        assert body_of(e)["Type"] == "User"
    finally:
        purge_bucket(s3, bucket)


# --- JSON logs ----------------------------------------------------------------------------------------------------

LOGGING_HANDLER = """
import logging
logger = logging.getLogger("app")

def handler(event, context):
    logger.debug("hidden at INFO")
    logger.info("hello %s", event.get("who"))
    logger.warning("careful")
    return "ok"
"""


def wait_events(logs, group, count):
    deadline = time.time() + 10
    while True:
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except ClientError:
            events = []
        if len(events) >= count or time.time() > deadline:
            return [e["message"] for e in events]
        time.sleep(0.2)


def test_json_log_format_writes_json_lines(fns, lam, endpoint):
    group = "/fidelity/" + fns.name("jsonlogs")
    name = fns.create(tag="jsonlog", handler="app.handler", code=zip_bytes({"app.py": LOGGING_HANDLER}),
                      LoggingConfig={"LogFormat": "JSON", "LogGroup": group})["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"who": "world"}))
    assert json.loads(r["Payload"].read()) == "ok"
    request_id = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    messages = wait_events(make_client(endpoint, "logs"), group, 4)
    docs = [json.loads(m) for m in messages]
    assert [d.get("type") for d in docs] == ["platform.start", None, None, "platform.report"]
    assert docs[0]["record"] == {"requestId": request_id, "version": "$LATEST"}
    assert [(d["level"], d["message"], d["logger"], d["requestId"]) for d in docs[1:3]] == [
        ("INFO", "hello world", "app", request_id), ("WARNING", "careful", "app", request_id)]
    report = docs[3]["record"]
    assert report["requestId"] == request_id and report["status"] == "success"
    assert {"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB"} <= set(report["metrics"])
    assert report["metrics"]["memorySizeMB"] == 128
    assert all(m.endswith("\n") for m in messages)

    # SystemLogLevel WARN leaves out Lambda's INFO events; ApplicationLogLevel ERROR the app's info and warning.
    lam.update_function_configuration(FunctionName=name, LoggingConfig={"SystemLogLevel": "WARN", "ApplicationLogLevel": "ERROR"})
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    lam.invoke(FunctionName=name, Payload=b"{}")
    time.sleep(0.5)
    assert len(wait_events(make_client(endpoint, "logs"), group, 5)) == 4


NODE_LOGGING_HANDLER = """
exports.handler = async (event) => {
  console.debug("hidden at INFO");
  console.log("hello", event.who);
  console.error("bad");
  return "ok";
};
"""


def test_json_log_format_node_console(fns, lam, endpoint):
    name = fns.create(tag="jsonnode", runtime="nodejs20.x", handler="index.handler",
                      code=zip_bytes({"index.js": NODE_LOGGING_HANDLER}), LoggingConfig={"LogFormat": "JSON"})["FunctionName"]
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"who": "node"}))
    assert json.loads(r["Payload"].read()) == "ok"
    request_id = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    docs = [json.loads(m) for m in wait_events(make_client(endpoint, "logs"), f"/aws/lambda/{name}", 4)]
    assert [d.get("type") for d in docs] == ["platform.start", None, None, "platform.report"]
    assert [(d["level"], d["message"], d["requestId"]) for d in docs[1:3]] == [
        ("INFO", "hello node", request_id), ("ERROR", "bad", request_id)]
