"""Secrets Manager rotation through a real Lambda function (a local python process): RotateSecret invokes the
function for createSecret, setSecret, testSecret and finishSecret; the new version becomes AWSCURRENT, the old one
AWSPREVIOUS, and DescribeSecret shows the rotation fields."""
import io
import os
import time
import uuid
import zipfile

from helpers import make_client

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "lambda", "rotation", "rotate.py")


def _zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(FIXTURE, "rotate.py")
    return buf.getvalue()


def test_rotate_secret_runs_the_four_steps_in_lambda(endpoint):
    lam = make_client(endpoint, "lambda")
    sm = make_client(endpoint, "secretsmanager")
    fn = "rotator-" + uuid.uuid4().hex[:8]
    arn = lam.create_function(FunctionName=fn, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/rotation",
                              Handler="rotate.handler", Code={"ZipFile": _zip()}, Timeout=30)["FunctionArn"]
    name = "rotated/" + uuid.uuid4().hex[:8]
    first = sm.create_secret(Name=name, SecretString="s3cret")["VersionId"]
    out = sm.rotate_secret(SecretId=name, RotationLambdaARN=arn, RotationRules={"AutomaticallyAfterDays": 7})
    token = out["VersionId"]
    deadline = time.time() + 30
    while time.time() < deadline:
        if sm.get_secret_value(SecretId=name)["VersionId"] == token:
            break
        time.sleep(0.2)
    value = sm.get_secret_value(SecretId=name)
    assert (value["VersionId"], value["SecretString"]) == (token, "s3cret-rotated")
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["VersionId"] == first
    for _ in range(50):
        d = sm.describe_secret(SecretId=name)
        if "LastRotatedDate" in d:
            break
        time.sleep(0.1)
    assert d["RotationEnabled"] is True
    assert d["RotationLambdaARN"] == arn
    assert d["RotationRules"]["AutomaticallyAfterDays"] == 7
    assert "LastRotatedDate" in d and "NextRotationDate" in d
    assert d["VersionIdsToStages"] == {token: ["AWSCURRENT"], first: ["AWSPREVIOUS"]}
    lam.delete_function(FunctionName=fn)


def test_a_failing_rotation_function_leaves_the_current_value(endpoint):
    lam = make_client(endpoint, "lambda")
    sm = make_client(endpoint, "secretsmanager")
    fn = "badrotator-" + uuid.uuid4().hex[:8]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("rotate.py", "def handler(event, context):\n    raise RuntimeError('cannot rotate')\n")
    arn = lam.create_function(FunctionName=fn, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/rotation",
                              Handler="rotate.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]
    name = "unrotated/" + uuid.uuid4().hex[:8]
    first = sm.create_secret(Name=name, SecretString="keep")["VersionId"]
    sm.rotate_secret(SecretId=name, RotationLambdaARN=arn)
    time.sleep(2)
    value = sm.get_secret_value(SecretId=name)
    assert (value["VersionId"], value["SecretString"]) == (first, "keep")
    assert "LastRotatedDate" not in sm.describe_secret(SecretId=name)
    lam.delete_function(FunctionName=fn)


def test_the_new_version_is_pending_without_a_value_from_rotate_secret_on(endpoint):
    """As AWS does: RotateSecret labels the new version id AWSPENDING before the first step, with no value until
    createSecret puts one (AWS's rotation templates check the label and probe GetSecretValue for the value). A
    rotation that failed leaves it, and the next RotateSecret with another token is refused."""
    from botocore.exceptions import ClientError
    lam = make_client(endpoint, "lambda")
    sm = make_client(endpoint, "secretsmanager")
    fn = "pendingrotator-" + uuid.uuid4().hex[:8]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("rotate.py", "def handler(event, context):\n    raise RuntimeError('cannot rotate')\n")
    arn = lam.create_function(FunctionName=fn, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/rotation",
                              Handler="rotate.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]
    name = "pending/" + uuid.uuid4().hex[:8]
    first = sm.create_secret(Name=name, SecretString="keep")["VersionId"]
    token = sm.rotate_secret(SecretId=name, RotationLambdaARN=arn)["VersionId"]
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {first: ["AWSCURRENT"], token: ["AWSPENDING"]}
    for kw in ({"VersionId": token, "VersionStage": "AWSPENDING"}, {"VersionStage": "AWSPENDING"}):
        try:
            sm.get_secret_value(SecretId=name, **kw)
            raise AssertionError(f"the pending version has a value ({kw})")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ResourceNotFoundException", e.response
    time.sleep(2)
    assert sm.get_secret_value(SecretId=name)["VersionId"] == first
    try:
        sm.rotate_secret(SecretId=name, ClientRequestToken=str(uuid.uuid4()))
        raise AssertionError("a second rotation started while the first is unfinished")
    except ClientError as e:
        assert (e.response["Error"]["Code"], e.response["Error"]["Message"]) == (
            "InvalidRequestException", "A previous rotation isn't complete. That rotation will be reattempted.")
    lam.delete_function(FunctionName=fn)
