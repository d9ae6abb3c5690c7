"""Amazon ECS from the aws CLI, v1 (pip's awscli, `python3 -m awscli`) and v2 (Debian's /usr/bin/aws): a cluster, a
task definition registered with --cli-input-json from a file, a Fargate service created, scaled, listed, described
and deleted with --force, a one-off task, and the CLI's four waiters (services-stable, tasks-running, tasks-stopped,
services-inactive) plus its automatic pagination.

The CLI waiters poll every 6 to 15 seconds, so each is called once the state is already final (boto3 waits for it
first, polling every second): they succeed at their first poll. A CLI start costs about a second, so the checks in
between go through boto3."""
import json
import subprocess
import sys

import pytest

from helpers import tool_env
from ecs_helpers import IMAGE, NETWORK, delete_families, purge_cluster, uid

V2_PATH = "/usr/bin/aws"
FAST = {"Delay": 1, "MaxAttempts": 30}


def cli(version, endpoint, tmp_path):
    """aws(*args, check=True) → CompletedProcess for CLI `version`, JSON output, in an isolated environment."""
    base = [sys.executable, "-m", "awscli"] if version == "v1" else [V2_PATH]
    cfg, creds = tmp_path / "aws-config", tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PAGER="",
                   AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")

    def run(*args, check=True):
        cmd = [*base, "--endpoint-url", endpoint, "--output", "json", *[str(a) for a in args]]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180, cwd=str(tmp_path))
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)}\nrc={p.returncode}\nstdout={p.stdout}\nstderr={p.stderr}"
        return p

    def json_of(*args):
        return json.loads(run(*args).stdout)

    run.json = json_of
    run.version = version
    version_out = run("--version")
    assert (version_out.stdout + version_out.stderr).startswith(f"aws-cli/{version[1]}."), version_out
    return run


@pytest.fixture(params=["v1", "v2"])
def aws(request, endpoint, tmp_path):
    return cli(request.param, endpoint, tmp_path)


@pytest.fixture
def names(ecs):
    """A cluster name and a family for the test; the cluster emptied and deleted, the family deleted afterwards."""
    n = {"cluster": uid("cli"), "family": uid("clifam")}
    yield n
    purge_cluster(ecs, n["cluster"])
    delete_families(ecs, [n["family"]])


def task_definition_json(family):
    return {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "0.25 vCPU",
        "memory": "0.5GB",
        "containerDefinitions": [{
            "name": "web", "image": IMAGE, "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "environment": [{"name": "FROM", "value": "cli"}],
        }],
        "tags": [{"key": "via", "value": "cli"}],
    }


def test_service_lifecycle_and_waiters(aws, ecs, names, tmp_path):
    cluster, family = names["cluster"], names["family"]
    out = aws.json("ecs", "create-cluster", "--cluster-name", cluster, "--capacity-providers", "FARGATE",
                   "--tags", "key=owner,value=e2e")
    assert out["cluster"]["clusterName"] == cluster and out["cluster"]["status"] == "ACTIVE"

    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps(task_definition_json(family)))
    td = aws.json("ecs", "register-task-definition", "--cli-input-json", f"file://{path}")
    assert td["taskDefinition"]["family"] == family and td["taskDefinition"]["revision"] == 1
    assert td["taskDefinition"]["cpu"] == "256" and td["taskDefinition"]["memory"] == "512"
    assert td["taskDefinition"]["containerDefinitions"][0]["portMappings"] == [
        {"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]
    assert td["tags"] == [{"key": "via", "value": "cli"}]
    # A second revision, so that the CLI's automatic pagination has two pages with --page-size 1.
    second = ecs.register_task_definition(**task_definition_json(family))["taskDefinition"]["taskDefinitionArn"]
    listed = aws.json("ecs", "list-task-definitions", "--family-prefix", family, "--page-size", "1")
    assert listed["taskDefinitionArns"] == [td["taskDefinition"]["taskDefinitionArn"], second]

    service = uid("web")
    svc = aws.json("ecs", "create-service", "--cluster", cluster, "--service-name", service,
                   "--task-definition", family, "--desired-count", "2", "--launch-type", "FARGATE",
                   "--network-configuration", "awsvpcConfiguration={subnets=[subnet-12345678],assignPublicIp=DISABLED}")
    assert svc["service"]["taskDefinition"] == second
    assert svc["service"]["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == ["subnet-12345678"]
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[service], WaiterConfig=FAST)
    assert aws("ecs", "wait", "services-stable", "--cluster", cluster, "--services", service).returncode == 0

    arns = aws.json("ecs", "list-services", "--cluster", cluster)["serviceArns"]
    assert [a.rsplit("/", 1)[1] for a in arns] == [service]
    got = aws.json("ecs", "describe-services", "--cluster", cluster, "--services", service)["services"][0]
    assert got["runningCount"] == 2 and got["deployments"][0]["rolloutState"] == "COMPLETED"
    assert f"(service {service}) has reached a steady state." in [e["message"] for e in got["events"]]

    tasks = aws.json("ecs", "list-tasks", "--cluster", cluster, "--service-name", service)["taskArns"]
    assert len(tasks) == 2
    assert aws("ecs", "wait", "tasks-running", "--cluster", cluster, "--tasks", *tasks).returncode == 0
    described = aws.json("ecs", "describe-tasks", "--cluster", cluster, "--tasks", *tasks)
    assert {t["lastStatus"] for t in described["tasks"]} == {"RUNNING"}
    assert described["failures"] == []

    up = aws.json("ecs", "update-service", "--cluster", cluster, "--service", service, "--desired-count", "1")
    assert up["service"]["desiredCount"] == 1
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[service], WaiterConfig=FAST)
    stopped = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED")["taskArns"]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=stopped, WaiterConfig=FAST)
    assert aws("ecs", "wait", "tasks-stopped", "--cluster", cluster, "--tasks", *stopped).returncode == 0

    gone = aws.json("ecs", "delete-service", "--cluster", cluster, "--service", service, "--force")
    assert gone["service"]["status"] == "DRAINING"
    ecs.get_waiter("services_inactive").wait(cluster=cluster, services=[service], WaiterConfig=FAST)
    assert aws("ecs", "wait", "services-inactive", "--cluster", cluster, "--services", service).returncode == 0

    deleted = aws.json("ecs", "delete-cluster", "--cluster", cluster)
    assert deleted["cluster"]["status"] == "INACTIVE"


def test_run_task_stop_task_and_errors(aws, ecs, names):
    cluster, family = names["cluster"], names["family"]
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(**task_definition_json(family))
    out = aws.json("ecs", "run-task", "--cluster", cluster, "--task-definition", family, "--count", "2",
                   "--launch-type", "FARGATE", "--started-by", "cli-e2e",
                   "--network-configuration", json.dumps(NETWORK))
    arns = [t["taskArn"] for t in out["tasks"]]
    assert len(arns) == 2 and out["failures"] == []
    assert {t["startedBy"] for t in out["tasks"]} == {"cli-e2e"}
    stopped = aws.json("ecs", "stop-task", "--cluster", cluster, "--task", arns[0], "--reason", "done by cli")
    assert stopped["task"]["desiredStatus"] == "STOPPED" and stopped["task"]["stoppedReason"] == "done by cli"
    listed = aws.json("ecs", "list-tasks", "--cluster", cluster, "--started-by", "cli-e2e")["taskArns"]
    assert listed == [arns[1]]
    # A waiter that meets a failure state ends at once with the CLI's waiter error (exit status 255).
    p = aws("ecs", "wait", "services-stable", "--cluster", cluster, "--services", uid("absent"), check=False)
    assert p.returncode == 255
    assert "Waiter ServicesStable failed" in p.stderr
    # A service error is reported with its code.
    p = aws("ecs", "delete-service", "--cluster", cluster, "--service", uid("absent"), check=False)
    # v2 exits 254 for a service's error, v1 255.
    assert p.returncode == (254 if aws.version == "v2" else 255)
    assert "ServiceNotFoundException" in p.stderr
