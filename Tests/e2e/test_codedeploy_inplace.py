"""CodeDeploy in place on local "servers": three on-premises instances (folders named by the tag `cloudless:root`), a
zip revision in S3 whose appspec.yml installs a file and runs hook scripts, OneAtATime; then a revision whose
ValidateService fails on the first instance: the deployment fails with HEALTH_CONSTRAINTS, the other instances are
left Skipped, and the automatic rollback redeploys the first revision. The engine drives `LocalServerAgent`."""
import io
import time
import uuid
import zipfile

import pytest

from helpers import make_client
from server import Server


@pytest.fixture(scope="module")
def server():
    """Its own server: the module moves the emulator's clock and leaves function instances and deployments behind,
    which the shared server's later modules must not see."""
    s = Server().start()
    yield s
    s.stop()


ROLE = "arn:aws:iam::000000000000:role/codedeploy"

APPSPEC = """version: 0.0
os: linux
files:
  - source: app/
    destination: /srv/app
hooks:
  ValidateService:
    - location: scripts/validate.sh
      timeout: 30
"""


def bundle(version, validate_exit, env_file):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("appspec.yml", APPSPEC)
        z.writestr("app/version.txt", version)
        info = zipfile.ZipInfo("scripts/validate.sh")
        info.external_attr = 0o100755 << 16
        z.writestr(info, f"#!/bin/sh\necho validating {version}\nenv > {env_file}\nexit {validate_exit}\n")
    return buf.getvalue()


def wait_status(cd, deployment_id, timeout=60):
    deadline = time.time() + timeout
    while True:
        info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        if info["status"] in ("Succeeded", "Failed", "Stopped") or time.time() > deadline:
            return info
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cd(endpoint):
    return make_client(endpoint, "codedeploy")


def test_one_at_a_time_then_failed_validation_rolls_back(cd, s3, bucket, tmp_path):
    app = "web-" + uuid.uuid4().hex[:8]
    names = [f"{app}-{i}" for i in range(3)]
    for n in names:
        cd.register_on_premises_instance(instanceName=n, iamUserArn=f"arn:aws:iam::000000000000:user/{n}")
        cd.add_tags_to_on_premises_instances(instanceNames=[n], tags=[
            {"Key": "app", "Value": app}, {"Key": "cloudless:root", "Value": str(tmp_path / n)}])
    cd.create_application(applicationName=app, computePlatform="Server")
    cd.create_deployment_group(applicationName=app, deploymentGroupName="g", serviceRoleArn=ROLE,
                               deploymentConfigName="CodeDeployDefault.OneAtATime",
                               onPremisesInstanceTagFilters=[{"Key": "app", "Value": app, "Type": "KEY_AND_VALUE"}],
                               autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]})
    s3.put_object(Bucket=bucket, Key="v1.zip", Body=bundle("v1", 0, tmp_path / "env.txt"))
    s3.put_object(Bucket=bucket, Key="v2.zip", Body=bundle("v2", 1, tmp_path / "env-v2.txt"))
    rev = lambda key: {"revisionType": "S3", "s3Location": {"bucket": bucket, "key": key, "bundleType": "zip"}}

    first = cd.create_deployment(applicationName=app, deploymentGroupName="g", revision=rev("v1.zip"))["deploymentId"]
    info = wait_status(cd, first)
    assert info["status"] == "Succeeded", info
    assert info["deploymentOverview"]["Succeeded"] == 3
    for n in names:
        assert (tmp_path / n / "srv" / "app" / "version.txt").read_text() == "v1"
    # Hook scripts get the agent's variables and Cloudless's endpoint, so the SDK and CLI in them call back here.
    env = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines() if "=" in line)
    assert env["DEPLOYMENT_ID"] == first and env["LIFECYCLE_EVENT"] == "ValidateService" and env["APPLICATION_NAME"] == app
    assert env["AWS_ENDPOINT_URL"] == cd.meta.endpoint_url and env["AWS_REGION"] == "us-east-1"

    second = cd.create_deployment(applicationName=app, deploymentGroupName="g", revision=rev("v2.zip"))["deploymentId"]
    info = wait_status(cd, second)
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "HEALTH_CONSTRAINTS", info
    assert info["deploymentOverview"]["Failed"] == 1 and info["deploymentOverview"]["Skipped"] == 2
    targets = cd.batch_get_deployment_targets(deploymentId=second, targetIds=names)["deploymentTargets"]
    failed = [t["instanceTarget"] for t in targets if t["instanceTarget"]["status"] == "Failed"][0]
    validate = [e for e in failed["lifecycleEvents"] if e["lifecycleEventName"] == "ValidateService"][0]
    assert validate["status"] == "Failed" and validate["diagnostics"]["errorCode"] == "ScriptFailed"
    assert "validating v2" in validate["diagnostics"]["logTail"]

    deadline = time.time() + 20
    while "rollbackDeploymentId" not in info.get("rollbackInfo", {}) and time.time() < deadline:
        time.sleep(0.2)
        info = cd.get_deployment(deploymentId=second)["deploymentInfo"]
    rollback = wait_status(cd, info["rollbackInfo"]["rollbackDeploymentId"])
    assert rollback["status"] == "Succeeded" and rollback["creator"] == "codeDeployRollback", rollback
    for n in names:
        assert (tmp_path / n / "srv" / "app" / "version.txt").read_text() == "v1"
