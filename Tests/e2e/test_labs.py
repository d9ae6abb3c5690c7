"""The course labs under fixtures/labs/ (S3 backup, SQS dead-letter queue, Secrets Manager rotation, CodeDeploy), each
run whole (or, for CodeDeploy, part by part) by its run.sh against a fresh server with the aws CLI v2 (Debian's), one of them again with the v1 CLI on the same
server (so it also shows the lab can be run twice), then checked from outside with boto3."""
import glob
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from helpers import make_client, tool_env
from server import REPO, Server, free_port

LABS = os.path.join(REPO, "fixtures", "labs")
V2 = "/usr/bin/aws"
V1 = f"{sys.executable} -m awscli"


@pytest.fixture(scope="module")
def server():
    s = Server().start()
    yield s
    s.stop()


def play(lab, server, tmp_path, cli, *args, **variables):
    """Run fixtures/labs/<lab>/run.sh `args` with `cli`, `variables` and no AWS_* variable of ours but the endpoint
    (run.sh sets its own dummy keys and region); returns its output, stdout and stderr interleaved."""
    config = tmp_path / "aws-config"
    config.write_text("")
    env = tool_env("AWS_", AWS_ENDPOINT_URL=server.endpoint, AWS_CLI=cli, LAB_WORK=str(tmp_path / "work"),
                   AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(config),
                   AWS_EC2_METADATA_DISABLED="true", **variables)
    run = subprocess.run([os.path.join(LABS, lab, "run.sh"), *args], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-4000:]
    assert run.stdout.rstrip().endswith("lab complete"), run.stdout[-2000:]
    return run.stdout


def test_s3_backup_lab_with_the_cli_v2(server, tmp_path):
    out = play("s3-backup", server, tmp_path, V2)
    assert "OK       backup/dump/orders.db   12582912 bytes" in out and "(3 parts of 5 MiB)" in out
    s3 = make_client(server.endpoint)
    key = "backup/documents/notes.txt"
    versions = s3.list_object_versions(Bucket="cloudless-lab-backup", Prefix=key)
    # The original, the mistaken overwrite, the restored copy of the original; and the mistaken delete's marker.
    assert [v["Size"] for v in versions["Versions"]] == [29, 35, 29]
    assert len(versions["DeleteMarkers"]) == 1 and not versions["DeleteMarkers"][0]["IsLatest"]
    current = s3.get_object(Bucket="cloudless-lab-backup", Key=key)
    assert current["Body"].read() == b"Shopping list\n- milk\n- bread\n"
    assert current["VersionId"] == versions["Versions"][0]["VersionId"]
    dump = s3.head_object(Bucket="cloudless-lab-backup", Key="backup/dump/orders.db", ChecksumMode="ENABLED")
    assert dump["ETag"].endswith('-3"') and dump["ChecksumSHA256"].endswith("-3")


def sqs_state(server):
    sqs = make_client(server.endpoint, "sqs")
    urls = {n: sqs.get_queue_url(QueueName=n)["QueueUrl"] for n in ("lab-orders", "lab-orders-dlq")}
    attrs = {n: sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"] for n, u in urls.items()}
    tasks = sqs.list_message_move_tasks(SourceArn=attrs["lab-orders-dlq"]["QueueArn"], MaxResults=10)["Results"]
    return attrs, tasks


def test_sqs_dead_letter_lab_with_the_cli_v2(server, tmp_path):
    out = play("sqs-dead-letter", server, tmp_path, V2)
    assert out.count("FAILED    message") == 3 and "processed order 1005: 2 x lamp" in out
    attrs, tasks = sqs_state(server)
    policy = json.loads(attrs["lab-orders"]["RedrivePolicy"])
    assert policy["deadLetterTargetArn"] == attrs["lab-orders-dlq"]["QueueArn"] and int(policy["maxReceiveCount"]) == 3
    for a in attrs.values():
        assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")
    # The dead-letter queue held the poison message: the move task took exactly one back.
    assert [(t["Status"], t["ApproximateNumberOfMessagesMoved"]) for t in tasks] == [("COMPLETED", 1)]


def test_sqs_dead_letter_lab_again_with_the_cli_v1(server, tmp_path):
    """The same lab with the v1 CLI, which has `sqs start-message-move-task`, so the redrive goes through the CLI this
    time; after the v2 test on the same server its queues exist already and are emptied first."""
    try:
        before = len(sqs_state(server)[1])
    except Exception:  # run alone: no queues yet
        before = 0
    out = play("sqs-dead-letter", server, tmp_path, V1)
    assert ("emptied queue lab-orders-dlq" in out) == (before > 0)
    assert "$ aws sqs start-message-move-task" in out and "the move task (status, messages moved): COMPLETED 1" in out
    attrs, tasks = sqs_state(server)
    assert [(t["Status"], t["ApproximateNumberOfMessagesMoved"]) for t in tasks] == [("COMPLETED", 1)] * (before + 1)
    for a in attrs.values():
        assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


def test_secrets_rotation_lab_with_the_cli_v2(server, tmp_path):
    out = play("secrets-rotation", server, tmp_path, V2)
    assert "login refused" in out and ", 0 failed" in out
    sm = make_client(server.endpoint, "secretsmanager")
    d = sm.describe_secret(SecretId="lab/orders-db")
    assert d["RotationEnabled"] and "LastRotatedDate" in d
    stages = d["VersionIdsToStages"]
    current = sm.get_secret_value(SecretId="lab/orders-db")
    previous = sm.get_secret_value(SecretId="lab/orders-db", VersionStage="AWSPREVIOUS")
    # AWSCURRENT is the version the rotation made (not the one create-secret made), with another password.
    assert sorted(stages.values()) == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    assert current["VersionId"] != previous["VersionId"] and stages[current["VersionId"]] == ["AWSCURRENT"]
    new, old = json.loads(current["SecretString"]), json.loads(previous["SecretString"])
    assert new["password"] != old["password"] and new["host"] == str(tmp_path / "work" / "orders.db")
    # The database itself now takes the new password and refuses the old one.
    spec = importlib.util.spec_from_file_location("lab_db", os.path.join(LABS, "secrets-rotation", "db.py"))
    db = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(db)
    db.connect(new["host"], "app", new["password"]).close()
    with pytest.raises(db.AccessDenied):
        db.connect(old["host"], "app", old["password"])


@pytest.fixture
def web_servers(tmp_path):
    """Three free ports for the CodeDeploy lab's local servers; the web apps its hook scripts started are stopped
    afterwards (through their pid files), as the next run's reset would."""
    yield [free_port() for _ in range(3)]
    for pidfile in glob.glob(str(tmp_path / "work" / "servers" / "*" / "var" / "run" / "webapp.pid")):
        try:
            os.kill(int(open(pidfile).read()), signal.SIGTERM)
        except (OSError, ValueError):
            pass


def test_codedeploy_lab_in_place_with_the_cli_v2(server, tmp_path, web_servers):
    out = play("codedeploy", server, tmp_path, V2, "inplace", PORTS=" ".join(map(str, web_servers)))
    assert "error, instances failed, skipped, succeeded: HEALTH_CONSTRAINTS 1 2 0" in out
    # The first server deployed (one at a time) fails its validation; the lab shows that server's scripts.log.
    failed_port = int(re.search(r"\[stderr\]webapp on port (\d+) answered /health with 500", out).group(1))
    assert failed_port in web_servers
    cd = make_client(server.endpoint, "codedeploy")
    deployments = cd.batch_get_deployments(deploymentIds=cd.list_deployments(
        applicationName="lab-webapp", deploymentGroupName="lab-webapp-servers")["deployments"])["deploymentsInfo"]
    by_key = sorted((d["createTime"], d["revision"]["s3Location"]["key"], d["status"], d["creator"]) for d in deployments)
    # Version 1, version 2 (failed), and the rollback to version 1 that CodeDeploy made itself.
    assert [x[1:] for x in by_key] == [("webapp-v1.zip", "Succeeded", "user"), ("webapp-v2.zip", "Failed", "user"),
                                       ("webapp-v1.zip", "Succeeded", "codeDeployRollback")]
    for i, port in enumerate(web_servers, 1):
        root = tmp_path / "work" / "servers" / f"web-{i}"
        assert (root / "opt" / "webapp" / "VERSION").read_text().strip() == "1"
        assert not (root / "opt" / "webapp" / "FAIL_VALIDATION").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            assert r.status == 200
    assert [t for t in cd.list_on_premises_instances(registrationStatus="Registered")["instanceNames"]
            if t.startswith("lab-web-")] == ["lab-web-1", "lab-web-2", "lab-web-3"]


def canary_state(server):
    cd = make_client(server.endpoint, "codedeploy")
    lam = make_client(server.endpoint, "lambda")
    ids = cd.list_deployments(applicationName="lab-canary", deploymentGroupName="lab-canary-live")["deployments"]
    deployments = sorted(cd.batch_get_deployments(deploymentIds=ids)["deploymentsInfo"], key=lambda d: d["createTime"])
    return deployments, lam.get_alias(FunctionName="lab-canary", Name="live")


def test_codedeploy_lab_lambda_canary_with_the_cli_v2(server, tmp_path):
    out = play("codedeploy", server, tmp_path, V2, "lambda")
    on_v2 = int(re.search(r"^version 2: (\d+) of 200 invocations", out, re.M).group(1))
    assert 5 <= on_v2 <= 45 and "ok: the alias's weight on version 2: 0.1" in out
    deployments, alias = canary_state(server)
    assert [(d["status"], d["deploymentConfigName"]) for d in deployments] == [
        ("Succeeded", "CodeDeployDefault.LambdaCanary10Percent5Minutes")]
    assert alias["FunctionVersion"] == "2" and not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")


def test_codedeploy_lab_lambda_canary_again_with_the_cli_v1(server, tmp_path):
    """The canary with the v1 CLI; after the v2 test on the same server the function and application exist already:
    the reset removes them and the lab starts again from version 1."""
    try:
        before = len(canary_state(server)[0])
    except Exception:  # run alone: no application yet
        before = 0
    out = play("codedeploy", server, tmp_path, V1, "lambda")
    assert ("deleted function lab-canary" in out) == (before > 0)
    assert "$ aws lambda invoke --function-name lab-canary --qualifier live" in out
    assert "ok: the alias (version, routing): 2 None" in out
    deployments, alias = canary_state(server)
    # The deployments made under the deleted application of the same name are still listed.
    assert [d["status"] for d in deployments] == ["Succeeded"] * (before + 1)
    assert alias["FunctionVersion"] == "2"


def test_codedeploy_lab_ecs_blue_green_with_the_cli_v2(server, tmp_path):
    out = play("codedeploy", server, tmp_path, V2, "ecs")
    summary = re.search(r"^(\d+) requests: (.*), (\d+) failed$", out, re.M)
    assert summary and int(summary.group(3)) == 0 and int(summary.group(1)) >= 20, out[-3000:]
    assert "versions in order: 1 → 2" in out
    ecs = make_client(server.endpoint, "ecs")
    elbv2 = make_client(server.endpoint, "elbv2")
    cd = make_client(server.endpoint, "codedeploy")
    service = ecs.describe_services(cluster="lab-bluegreen", services=["lab-web"])["services"][0]
    (task_set,) = service["taskSets"]
    version_2 = re.search(r'TaskDefinition: "(arn:[^"]+)"', out).group(1)  # from the AppSpec the lab printed
    assert task_set["status"] == "PRIMARY" and task_set["taskDefinition"] == version_2
    green = elbv2.describe_target_groups(Names=["lab-web-green"])["TargetGroups"][0]["TargetGroupArn"]
    assert task_set["loadBalancers"][0]["targetGroupArn"] == green
    lb = elbv2.describe_load_balancers(Names=["lab-web-alb"])["LoadBalancers"][0]
    production = [l for l in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"] if l["Port"] == 80]
    weights = {g["TargetGroupArn"]: g.get("Weight", 1) for g in production[0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]}
    assert {arn for arn, w in weights.items() if w > 0} == {green}
    (dep,) = cd.list_deployments(applicationName="lab-web-ecs", deploymentGroupName="lab-web")["deployments"]
    assert cd.get_deployment(deploymentId=dep)["deploymentInfo"]["status"] == "Succeeded"
