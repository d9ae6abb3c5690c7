"""The deploy tools people drive Amazon ECS with, against Cloudless:

- ecs-deploy (PyPI `ecs-deploy`, the `ecs` command): `ecs deploy CLUSTER SERVICE --image CONTAINER IMAGE` registers
  a new revision and waits for the rollout, `ecs scale`, and a deploy whose new revision's container exits at once
  (its command changed with `--command`; the container runs as a local process through the docker label
  `cloudless.run=process`) on a service with the deployment circuit breaker: ecs-deploy sees the failure and, with
  `--rollback`, deploys the previous revision again. ecs-deploy builds its boto3 client without an endpoint, so it
  reaches Cloudless through AWS_ENDPOINT_URL (honoured by boto3 for every client).
- Ansible's community.aws modules ecs_cluster, ecs_taskdefinition and ecs_service converging a playbook twice (the
  second run changes nothing), ecs_task running and stopping a task, then the same modules removing everything.

The tools are installed from PyPI when missing (`python3 -m pip install ecs-deploy ansible`)."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from helpers import tool_env
from ecs_helpers import NETWORK, uid

FAST = {"Delay": 1, "MaxAttempts": 60}
IMAGE = "public.ecr.aws/docker/library/nginx:1.25"


def tool_path(name):
    here = os.path.join(os.path.dirname(sys.executable), name)
    return here if os.path.exists(here) else shutil.which(name)


@pytest.fixture(scope="module")
def tools():
    """ecs-deploy's `ecs` and ansible-playbook (with community.aws), installed with pip when missing."""
    def present():
        try:
            import ansible_collections.community.aws  # noqa: F401
            import ecs_deploy  # noqa: F401
        except ImportError:
            return False
        return bool(tool_path("ecs") and tool_path("ansible-playbook"))
    if not present():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "ecs-deploy", "ansible"], check=True, timeout=1200)
    assert present(), "ecs-deploy and ansible could not be installed"
    return {"ecs": tool_path("ecs"), "ansible-playbook": tool_path("ansible-playbook")}


@pytest.fixture
def env(endpoint, tmp_path):
    """An environment with only the test credentials, Cloudless as every client's endpoint, empty AWS config files."""
    cfg, creds = tmp_path / "aws-config", tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    return tool_env("AWS_", "ANSIBLE_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                    AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint,
                    AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(creds),
                    AWS_EC2_METADATA_DISABLED="true", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
                    ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                    ANSIBLE_DEPRECATION_WARNINGS="0", PYTHONUNBUFFERED="1")


@pytest.fixture
def names(ecs):
    """A cluster (with FARGATE) and a family for the test; everything in them removed afterwards."""
    n = {"cluster": uid("tools"), "family": uid("toolfam"), "service": uid("svc")}
    yield n
    cluster = n["cluster"]
    try:
        for arn in ecs.list_services(cluster=cluster)["serviceArns"]:
            ecs.delete_service(cluster=cluster, service=arn, force=True)
        for arn in ecs.list_tasks(cluster=cluster)["taskArns"]:
            ecs.stop_task(cluster=cluster, task=arn)
    except Exception:
        pass
    for status in ("ACTIVE", "INACTIVE"):
        for arn in ecs.list_task_definitions(familyPrefix=n["family"], status=status)["taskDefinitionArns"]:
            try:
                if status == "ACTIVE":
                    ecs.deregister_task_definition(taskDefinition=arn)
                ecs.delete_task_definitions(taskDefinitions=[arn])
            except Exception:
                pass
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            ecs.delete_cluster(cluster=cluster)
            break
        except ecs.exceptions.ClusterNotFoundException:
            break
        except Exception:
            time.sleep(0.2)


def describe_service(ecs, cluster, name):
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def register(ecs, family, container):
    return ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[container])["taskDefinition"]["taskDefinitionArn"]


def fargate_service(ecs, names, td, desired=1, **kw):
    ecs.create_cluster(clusterName=names["cluster"], capacityProviders=["FARGATE"])
    ecs.create_service(cluster=names["cluster"], serviceName=names["service"], taskDefinition=td, desiredCount=desired,
                       launchType="FARGATE", networkConfiguration=NETWORK, **kw)
    ecs.get_waiter("services_stable").wait(cluster=names["cluster"], services=[names["service"]], WaiterConfig=FAST)


def ecs_deploy(tools, env, *args, timeout=300):
    cmd = [tools["ecs"], *args, "--access-key-id", "test", "--secret-access-key", "test", "--region", "us-east-1"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    p.output = p.stdout + p.stderr
    return p


# --- ecs-deploy ---------------------------------------------------------------------------------------------------


def test_ecs_deploy_new_image(tools, env, ecs, names):
    one = register(ecs, names["family"], {"name": "web", "image": IMAGE, "essential": True,
                                          "environment": [{"name": "KEEP", "value": "me"}]})
    fargate_service(ecs, names, one, desired=2)
    p = ecs_deploy(tools, env, "deploy", names["cluster"], names["service"], "--image", "web",
                   "public.ecr.aws/docker/library/nginx:1.27", "--timeout", "120")
    assert p.returncode == 0, p.output
    assert f"Deploying based on task definition: {names['family']}:1" in p.output
    assert "Successfully created revision: 2" in p.output
    assert "Deployment successful" in p.output
    s = describe_service(ecs, names["cluster"], names["service"])
    assert s["taskDefinition"].endswith(f"task-definition/{names['family']}:2")
    assert len(s["deployments"]) == 1 and s["deployments"][0]["rolloutState"] == "COMPLETED"
    assert s["runningCount"] == 2
    td = ecs.describe_task_definition(taskDefinition=s["taskDefinition"])["taskDefinition"]
    c = td["containerDefinitions"][0]
    assert c["image"] == "public.ecr.aws/docker/library/nginx:1.27"
    assert c["environment"] == [{"name": "KEEP", "value": "me"}]
    assert td["cpu"] == "256" and td["networkMode"] == "awsvpc" and td["requiresCompatibilities"] == ["FARGATE"]
    tasks = ecs.describe_tasks(cluster=names["cluster"], tasks=ecs.list_tasks(
        cluster=names["cluster"], serviceName=names["service"])["taskArns"])["tasks"]
    assert {t["taskDefinitionArn"] for t in tasks} == {s["taskDefinition"]}
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"}


def test_ecs_scale(tools, env, ecs, names):
    fargate_service(ecs, names, register(ecs, names["family"], {"name": "web", "image": IMAGE}), desired=1)
    p = ecs_deploy(tools, env, "scale", names["cluster"], names["service"], "3", "--timeout", "120")
    assert p.returncode == 0, p.output
    assert "Successfully changed desired count to: 3" in p.output
    assert "Scaling successful" in p.output
    s = describe_service(ecs, names["cluster"], names["service"])
    assert s["desiredCount"] == 3 and s["runningCount"] == 3
    p = ecs_deploy(tools, env, "scale", names["cluster"], names["service"], "1", "--timeout", "120")
    assert p.returncode == 0, p.output
    assert describe_service(ecs, names["cluster"], names["service"])["runningCount"] == 1


def test_ecs_deploy_failure_is_detected_and_rolled_back(tools, env, ecs, names):
    good = register(ecs, names["family"], {
        "name": "app", "image": "busybox:latest", "essential": True, "command": ["sh", "-c", "sleep 600"],
        "dockerLabels": {"cloudless.run": "process"}})
    fargate_service(ecs, names, good, desired=1,
                    deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    p = ecs_deploy(tools, env, "deploy", names["cluster"], names["service"],
                   "--command", "app", json.dumps(["sh", "-c", "exit 1"]), "--rollback", "--timeout", "120")
    assert p.returncode == 1, p.output
    assert "Successfully created revision: 2" in p.output
    assert "Deployment failed" in p.output
    assert f"Rolling back to task definition: {names['family']}:1" in p.output
    assert "Rollback successful" in p.output
    assert "Deployment failed, but service has been rolled back to previous task definition" in p.output
    s = describe_service(ecs, names["cluster"], names["service"])
    assert s["taskDefinition"] == good
    assert len(s["deployments"]) == 1 and s["deployments"][0]["rolloutState"] == "COMPLETED"
    assert s["runningCount"] == 1
    # The failed revision was deregistered by the rollback.
    bad = ecs.describe_task_definition(taskDefinition=f"{names['family']}:2")["taskDefinition"]
    assert bad["status"] == "INACTIVE"
    assert bad["containerDefinitions"][0]["command"] == ["sh", "-c", "exit 1"]
    msgs = [e["message"] for e in s["events"]]
    assert any("is unable to consistently start tasks successfully" in m for m in msgs)
    stopped = ecs.describe_tasks(cluster=names["cluster"], tasks=ecs.list_tasks(
        cluster=names["cluster"], serviceName=names["service"], desiredStatus="STOPPED")["taskArns"])["tasks"]
    failed = [t for t in stopped if t["taskDefinitionArn"] == bad["taskDefinitionArn"]]
    assert failed and {t["stopCode"] for t in failed} == {"EssentialContainerExited"}
    assert {t["containers"][0]["exitCode"] for t in failed} == {1}


def test_ecs_deploy_failure_without_rollback_reports_circuit_breaker(tools, env, ecs, names):
    good = register(ecs, names["family"], {
        "name": "app", "image": "busybox:latest", "essential": True, "command": ["sh", "-c", "sleep 600"],
        "dockerLabels": {"cloudless.run": "process"}})
    fargate_service(ecs, names, good, desired=1,
                    deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}})
    p = ecs_deploy(tools, env, "deploy", names["cluster"], names["service"], "--ignore-warnings",
                   "--command", "app", json.dumps(["sh", "-c", "exit 1"]), "--timeout", "120")
    # With warnings ignored, ecs-deploy keeps polling until the primary deployment's rolloutState is FAILED.
    assert p.returncode == 1, p.output
    assert "Deployment Failed! ECS deployment circuit breaker: tasks failed to start." in p.output
    s = describe_service(ecs, names["cluster"], names["service"])
    assert s["deployments"][0]["rolloutState"] == "FAILED"
    assert s["deployments"][0]["taskDefinition"].endswith(f"{names['family']}:2")
    assert s["deployments"][0]["failedTasks"] >= 3


# --- Ansible ------------------------------------------------------------------------------------------------------


PLAY_HEADER = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  module_defaults:
    group/community.aws.aws:
      endpoint_url: "{endpoint}"
      access_key: test
      secret_key: test
      region: us-east-1
  tasks:
"""

CONVERGE = """
    - name: cluster
      community.aws.ecs_cluster:
        name: "{cluster}"
        state: present
        capacity_providers: [FARGATE]
        capacity_provider_strategy:
          - capacity_provider: FARGATE
            weight: 1
    - name: task definition
      community.aws.ecs_taskdefinition:
        family: "{family}"
        state: present
        network_mode: awsvpc
        launch_type: FARGATE
        cpu: "256"
        memory: "512"
        containers:
          - name: web
            image: "{image}"
            essential: true
            portMappings:
              - containerPort: 80
                hostPort: 80
                protocol: tcp
            environment:
              - name: STAGE
                value: e2e
      register: td
    - name: service
      community.aws.ecs_service:
        name: "{service}"
        cluster: "{cluster}"
        state: present
        task_definition: "{family}:1"
        desired_count: 2
        launch_type: FARGATE
        network_configuration:
          subnets: [subnet-12345678]
        wait: true
        delay: 1
        repeat: 30
"""

TASKS = """
    - name: run a task
      community.aws.ecs_task:
        operation: run
        cluster: "{cluster}"
        task_definition: "{family}:1"
        count: 1
        started_by: ansible
        launch_type: FARGATE
        network_configuration:
          subnets: [subnet-12345678]
        wait: true
      register: ran
    - name: stop it
      community.aws.ecs_task:
        operation: stop
        cluster: "{cluster}"
        task_definition: "{family}:1"
        task: "{{{{ ran.task[0].taskArn }}}}"
        wait: true
    - name: record the task
      ansible.builtin.copy:
        content: "{{{{ ran.task[0].taskArn }}}}"
        dest: "{out}"
"""

REMOVE = """
    - name: service scaled to zero
      community.aws.ecs_service:
        name: "{service}"
        cluster: "{cluster}"
        state: present
        task_definition: "{family}:1"
        desired_count: 0
        launch_type: FARGATE
        network_configuration:
          subnets: [subnet-12345678]
    - name: service removed
      community.aws.ecs_service:
        name: "{service}"
        cluster: "{cluster}"
        state: absent
        wait: true
        delay: 1
        repeat: 30
    - name: task definition removed
      community.aws.ecs_taskdefinition:
        family: "{family}"
        revision: 1
        containers: []
        state: absent
    - name: cluster removed
      community.aws.ecs_cluster:
        name: "{cluster}"
        state: absent
        delay: 1
        repeat: 30
"""


def playbook(tools, env, tmp_path, name, body, **values):
    path = tmp_path / f"{name}.yml"
    path.write_text((PLAY_HEADER + body).format(**values))
    p = subprocess.run([tools["ansible-playbook"], "-i", "localhost,", str(path)], capture_output=True, text=True,
                       env=env, timeout=600, cwd=str(tmp_path))
    p.output = p.stdout + p.stderr
    assert p.returncode == 0, p.output
    recap = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", p.stdout)
    assert recap, p.output
    p.ok, p.changed, _, p.failed = map(int, recap.groups())
    return p


def test_ansible_converges_twice_then_removes(tools, env, ecs, names, tmp_path, endpoint):
    values = dict(endpoint=endpoint, image=IMAGE, out=str(tmp_path / "task-arn"), **names)
    first = playbook(tools, env, tmp_path, "converge", CONVERGE, **values)
    assert first.changed == 3, first.output
    s = describe_service(ecs, names["cluster"], names["service"])
    assert s["status"] == "ACTIVE" and s["desiredCount"] == 2 and s["runningCount"] == 2
    assert s["taskDefinition"].endswith(f"task-definition/{names['family']}:1")
    c = ecs.describe_clusters(clusters=[names["cluster"]])["clusters"][0]
    assert c["capacityProviders"] == ["FARGATE"]
    td = ecs.describe_task_definition(taskDefinition=names["family"])["taskDefinition"]
    assert td["revision"] == 1 and td["cpu"] == "256" and td["requiresCompatibilities"] == ["FARGATE"]

    second = playbook(tools, env, tmp_path, "converge", CONVERGE, **values)
    assert second.changed == 0, second.output
    assert ecs.list_task_definitions(familyPrefix=names["family"])["taskDefinitionArns"] == [td["taskDefinitionArn"]]

    ran = playbook(tools, env, tmp_path, "tasks", TASKS, **values)
    assert ran.changed >= 2, ran.output
    arn = (tmp_path / "task-arn").read_text().strip()
    t = ecs.describe_tasks(cluster=names["cluster"], tasks=[arn])["tasks"][0]
    assert t["lastStatus"] == "STOPPED" and t["startedBy"] == "ansible" and t["stopCode"] == "UserInitiated"

    gone = playbook(tools, env, tmp_path, "remove", REMOVE, **values)
    assert gone.failed == 0
    assert describe_service(ecs, names["cluster"], names["service"])["status"] == "INACTIVE"
    assert ecs.describe_task_definition(taskDefinition=td["taskDefinitionArn"])["taskDefinition"]["status"] == "INACTIVE"
    assert ecs.describe_clusters(clusters=[names["cluster"]])["clusters"][0]["status"] == "INACTIVE"
