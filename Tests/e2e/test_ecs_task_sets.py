"""Amazon ECS task sets with boto3: services with the EXTERNAL deployment controller run the task sets a client
creates (CreateTaskSet, DescribeTaskSets, UpdateTaskSet, UpdateServicePrimaryTaskSet, DeleteTaskSet), each keeping
ceil(desiredCount x scale%) tasks whose startedBy is the task set's id; a CODE_DEPLOY service starts with the PRIMARY
task set AWS creates for it. Task sets are kept in ecs.sqlite and survive a restart.

Containers are simulated (an image no image map names: RUNNING at once, until stopped), on Fargate with awsvpc.
Names are unique per test (the server is shared by every module) and each test's cluster is emptied and deleted
afterwards, except the restart test's, which has its own server."""
import os
import re
import uuid

import pytest

from helpers import error, error_message, make_client
from server import Server
from ecs_helpers import IMAGE, NETWORK, delete_families, purge_cluster, uid, wait_for

CONTROLLER_ONLY = ("Amazon ECS only supports task set management on services configured to use external "
                   "deployment controllers.")
CODE_DEPLOY_TD = ("Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
                  "Use AWS CodeDeploy to trigger a new deployment.")


def code(excinfo):
    """The error code of a ClientError, which AWS's JSON protocol answers with HTTP 400."""
    c, status = error(excinfo)
    assert status == 400
    return c


@pytest.fixture
def cluster(ecs):
    name = uid("ts")
    ecs.create_cluster(clusterName=name, capacityProviders=["FARGATE"])
    yield name
    purge_cluster(ecs, name)


@pytest.fixture(scope="module")
def families(ecs):
    made = []
    yield made
    delete_families(ecs, made)


def register(ecs, families, family=None, version="1"):
    """A Fargate awsvpc task definition with one simulated container; its ARN."""
    family = family or uid("tsfam")
    if family not in families:
        families.append(family)
    return ecs.register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": IMAGE, "essential": True,
                               "environment": [{"name": "V", "value": version}]}])["taskDefinition"]["taskDefinitionArn"]


def external_service(ecs, cluster, desired, name=None):
    name = name or uid("svc")
    svc = ecs.create_service(cluster=cluster, serviceName=name, desiredCount=desired,
                             deploymentController={"type": "EXTERNAL"})["service"]
    return name, svc


def create_set(ecs, cluster, service, td, **kw):
    kw.setdefault("launchType", "FARGATE")
    kw.setdefault("networkConfiguration", NETWORK)
    return ecs.create_task_set(cluster=cluster, service=service, taskDefinition=td, **kw)["taskSet"]


def task_set(ecs, cluster, service, ts_id, **kw):
    return ecs.describe_task_sets(cluster=cluster, service=service, taskSets=[ts_id], **kw)["taskSets"][0]


def service_of(ecs, cluster, name, **kw):
    return ecs.describe_services(cluster=cluster, services=[name], **kw)["services"][0]


def tasks_started_by(ecs, cluster, started_by, status="RUNNING"):
    arns = ecs.list_tasks(cluster=cluster, startedBy=started_by, desiredStatus=status)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def steady(ecs, cluster, service, ts_id, running):
    ts = task_set(ecs, cluster, service, ts_id)
    return ts if ts["runningCount"] == running and ts["pendingCount"] == 0 and ts["stabilityStatus"] == "STEADY_STATE" \
        else None


# --- the EXTERNAL controller, end to end ---------------------------------------------------------------------------

def test_external_service_blue_green_with_task_sets(ecs, cluster, families, account):
    blue_td = register(ecs, families, version="1")
    green_td = register(ecs, families, family=blue_td.split("/")[-1].split(":")[0], version="2")
    name, svc = external_service(ecs, cluster, desired=4)
    assert svc["taskSets"] == [] and svc["deployments"] == []
    assert svc["deploymentController"] == {"type": "EXTERNAL"}

    blue = create_set(ecs, cluster, name, blue_td, externalId="blue", scale={"value": 100, "unit": "PERCENT"},
                      tags=[{"key": "colour", "value": "blue"}])
    assert re.fullmatch(r"ecs-svc/\d{19}", blue["id"])
    assert blue["taskSetArn"] == f"arn:aws:ecs:us-east-1:{account}:task-set/{cluster}/{name}/{blue['id']}"
    assert blue["serviceArn"] == svc["serviceArn"] and blue["clusterArn"] == svc["clusterArn"]
    assert blue["status"] == "ACTIVE" and blue["externalId"] == "blue" and "startedBy" not in blue
    assert blue["taskDefinition"] == blue_td
    assert blue["computedDesiredCount"] == 4 and blue["runningCount"] == 0 and blue["pendingCount"] == 0
    assert blue["scale"] == {"value": 100.0, "unit": "PERCENT"}
    assert blue["launchType"] == "FARGATE" and blue["platformFamily"] == "Linux" and blue["platformVersion"]
    assert blue["networkConfiguration"] == NETWORK
    assert blue["loadBalancers"] == [] and blue["serviceRegistries"] == []
    assert blue["stabilityStatus"] == "STABILIZING" and blue["stabilityStatusAt"] and blue["createdAt"] and blue["updatedAt"]
    assert blue["tags"] == [{"key": "colour", "value": "blue"}]

    # The scheduler keeps computedDesiredCount tasks running; they carry the task set's id.
    ts = wait_for(lambda: steady(ecs, cluster, name, blue["id"], 4))
    assert ts["stabilityStatusAt"] >= blue["stabilityStatusAt"]
    running = tasks_started_by(ecs, cluster, blue["id"])
    assert len(running) == 4
    assert all(t["startedBy"] == blue["id"] and t["group"] == f"service:{name}" and t["taskDefinitionArn"] == blue_td
               and t["launchType"] == "FARGATE" and t["lastStatus"] == "RUNNING" for t in running)
    svc = service_of(ecs, cluster, name)
    assert svc["runningCount"] == 4 and svc["pendingCount"] == 0 and svc["deployments"] == []
    assert [s["id"] for s in svc["taskSets"]] == [blue["id"]]
    assert "taskDefinition" not in svc  # no primary task set yet

    # Blue becomes the primary: the service shows its settings.
    primary = ecs.update_service_primary_task_set(cluster=cluster, service=name, primaryTaskSet=blue["taskSetArn"])["taskSet"]
    assert primary["id"] == blue["id"] and primary["status"] == "PRIMARY"
    svc = service_of(ecs, cluster, name)
    assert svc["taskDefinition"] == blue_td and svc["launchType"] == "FARGATE" and svc["networkConfiguration"] == NETWORK
    assert [(s["id"], s["status"]) for s in svc["taskSets"]] == [(blue["id"], "PRIMARY")]

    # Green starts at scale 0 (none given): nothing to run, steady at once.
    green = create_set(ecs, cluster, name, green_td, externalId="green")
    assert green["scale"] == {"value": 0.0, "unit": "PERCENT"} and green["computedDesiredCount"] == 0
    assert green["stabilityStatus"] == "STEADY_STATE" and green["status"] == "ACTIVE"

    # Scale green to 30 %: ceil(4 x 0.3) = 2 tasks besides blue's 4.
    up = ecs.update_task_set(cluster=cluster, service=name, taskSet=green["id"],
                             scale={"value": 30, "unit": "PERCENT"})["taskSet"]
    assert up["computedDesiredCount"] == 2 and up["scale"] == {"value": 30.0, "unit": "PERCENT"}
    wait_for(lambda: steady(ecs, cluster, name, green["id"], 2))
    assert all(t["startedBy"] == green["id"] and t["taskDefinitionArn"] == green_td
               for t in tasks_started_by(ecs, cluster, green["id"]))
    wait_for(lambda: service_of(ecs, cluster, name)["runningCount"] == 6)

    # UpdateService desiredCount changes every task set's computedDesiredCount: 5 x 100 % and ceil(5 x 30 %) = 2.
    svc = ecs.update_service(cluster=cluster, service=name, desiredCount=5)["service"]
    assert {s["id"]: s["computedDesiredCount"] for s in svc["taskSets"]} == {blue["id"]: 5, green["id"]: 2}
    wait_for(lambda: steady(ecs, cluster, name, blue["id"], 5))
    wait_for(lambda: service_of(ecs, cluster, name)["runningCount"] == 7)

    # Deleting a task set that runs tasks, or the primary, needs force.
    with pytest.raises(Exception) as e:
        ecs.delete_task_set(cluster=cluster, service=name, taskSet=green["id"])
    assert code(e) == "InvalidParameterException"
    with pytest.raises(Exception) as e:
        ecs.delete_task_set(cluster=cluster, service=name, taskSet=blue["id"])
    assert code(e) == "InvalidParameterException"

    # Swap: green to 100 % and primary, blue to 0 %.
    ecs.update_task_set(cluster=cluster, service=name, taskSet=green["taskSetArn"], scale={"value": 100, "unit": "PERCENT"})
    swapped = ecs.update_service_primary_task_set(cluster=cluster, service=name, primaryTaskSet=green["id"])["taskSet"]
    assert swapped["status"] == "PRIMARY" and swapped["computedDesiredCount"] == 5
    svc = service_of(ecs, cluster, name)
    assert svc["taskDefinition"] == green_td
    assert {s["id"]: s["status"] for s in svc["taskSets"]} == {blue["id"]: "ACTIVE", green["id"]: "PRIMARY"}
    ecs.update_task_set(cluster=cluster, service=name, taskSet=blue["id"], scale={"value": 0, "unit": "PERCENT"})
    wait_for(lambda: steady(ecs, cluster, name, blue["id"], 0))
    wait_for(lambda: steady(ecs, cluster, name, green["id"], 5))
    svc = wait_for(lambda: (lambda s: s if s["runningCount"] == 5 and s["pendingCount"] == 0 else None)(
        service_of(ecs, cluster, name)))
    assert sum(s["runningCount"] for s in svc["taskSets"]) == svc["runningCount"]
    stopped = tasks_started_by(ecs, cluster, blue["id"], status="STOPPED")
    assert len(stopped) == 4 + 1 and all(t["stopCode"] == "ServiceSchedulerInitiated" for t in stopped)
    assert any("has reached a steady state" in ev["message"] for ev in svc["events"])
    assert any(f"taskSet {green['id']}) has started" in ev["message"] for ev in svc["events"])

    # Blue, ACTIVE at scale 0, may go without force: DRAINING, then gone.
    gone = ecs.delete_task_set(cluster=cluster, service=name, taskSet=blue["id"])["taskSet"]
    assert gone["status"] == "DRAINING" and gone["id"] == blue["id"]
    wait_for(lambda: ecs.describe_task_sets(cluster=cluster, service=name, taskSets=[blue["id"]])["failures"])
    out = ecs.describe_task_sets(cluster=cluster, service=name, taskSets=[blue["id"], green["id"]], include=["TAGS"])
    assert [s["id"] for s in out["taskSets"]] == [green["id"]]
    assert out["failures"] == [{"arn": blue["taskSetArn"], "reason": "MISSING"}]
    assert [s["id"] for s in service_of(ecs, cluster, name)["taskSets"]] == [green["id"]]

    # The primary goes with force: its tasks stop and the service has no task set left.
    forced = ecs.delete_task_set(cluster=cluster, service=name, taskSet=green["id"], force=True)["taskSet"]
    assert forced["status"] == "DRAINING"
    wait_for(lambda: service_of(ecs, cluster, name)["taskSets"] == [])
    wait_for(lambda: not tasks_started_by(ecs, cluster, green["id"]))
    svc = service_of(ecs, cluster, name)
    assert svc["runningCount"] == 0 and "taskDefinition" not in svc and svc["status"] == "ACTIVE"


def test_a_stopped_task_of_a_task_set_is_replaced(ecs, cluster, families):
    td = register(ecs, families)
    name, _ = external_service(ecs, cluster, desired=2)
    ts = create_set(ecs, cluster, name, td, scale={"value": 100, "unit": "PERCENT"})
    wait_for(lambda: steady(ecs, cluster, name, ts["id"], 2))
    before = {t["taskArn"] for t in tasks_started_by(ecs, cluster, ts["id"])}
    victim = sorted(before)[0]
    ecs.stop_task(cluster=cluster, task=victim, reason="chaos")
    now = wait_for(lambda: (lambda arns: arns if len(arns) == 2 and arns - before else None)(
        {t["taskArn"] for t in tasks_started_by(ecs, cluster, ts["id"])}))
    assert victim not in now
    wait_for(lambda: steady(ecs, cluster, name, ts["id"], 2))
    assert service_of(ecs, cluster, name)["runningCount"] == 2
    stopped = ecs.describe_tasks(cluster=cluster, tasks=[victim])["tasks"][0]
    assert stopped["stoppedReason"] == "chaos" and stopped["startedBy"] == ts["id"]


def test_describe_task_sets_filters_tags_and_failures(ecs, cluster, families, account):
    td = register(ecs, families)
    name, _ = external_service(ecs, cluster, desired=0)
    a = create_set(ecs, cluster, name, td, tags=[{"key": "team", "value": "a"}])
    b = create_set(ecs, cluster, name, td, scale={"value": 50, "unit": "PERCENT"})
    every = ecs.describe_task_sets(cluster=cluster, service=name)
    assert [s["id"] for s in every["taskSets"]] == [a["id"], b["id"]] and every["failures"] == []
    assert all("tags" not in s for s in every["taskSets"])
    tagged = ecs.describe_task_sets(cluster=cluster, service=name, taskSets=[a["taskSetArn"]], include=["TAGS"])
    assert tagged["taskSets"][0]["tags"] == [{"key": "team", "value": "a"}]
    missing = "ecs-svc/1234567890123456789"
    out = ecs.describe_task_sets(cluster=cluster, service=name, taskSets=[missing, b["id"]])
    assert [s["id"] for s in out["taskSets"]] == [b["id"]]
    assert out["failures"] == [{"arn": f"arn:aws:ecs:us-east-1:{account}:task-set/{cluster}/{name}/{missing}",
                                "reason": "MISSING"}]
    # desiredCount 0: every task set is steady with nothing to run.
    assert all(s["computedDesiredCount"] == 0 and s["stabilityStatus"] == "STEADY_STATE" for s in every["taskSets"])
    # The task set's tags through the tagging API.
    ecs.tag_resource(resourceArn=b["taskSetArn"], tags=[{"key": "k", "value": "v"}])
    assert ecs.list_tags_for_resource(resourceArn=b["taskSetArn"])["tags"] == [{"key": "k", "value": "v"}]
    ecs.untag_resource(resourceArn=b["taskSetArn"], tagKeys=["k"])
    assert ecs.list_tags_for_resource(resourceArn=b["taskSetArn"])["tags"] == []
    # A services' DescribeServices lists them without tags unless asked.
    svc = service_of(ecs, cluster, name)
    assert [s["id"] for s in svc["taskSets"]] == [a["id"], b["id"]] and all("tags" not in s for s in svc["taskSets"])
    svc = service_of(ecs, cluster, name, include=["TAGS"])
    assert svc["taskSets"][0]["tags"] == [{"key": "team", "value": "a"}]


def test_client_token_makes_create_task_set_idempotent(ecs, cluster, families):
    td = register(ecs, families)
    name, _ = external_service(ecs, cluster, desired=0)
    first = create_set(ecs, cluster, name, td, clientToken="tok-1")
    again = create_set(ecs, cluster, name, td, clientToken="tok-1")
    other = create_set(ecs, cluster, name, td, clientToken="tok-2")
    assert again["id"] == first["id"] and other["id"] != first["id"]
    assert len(ecs.describe_task_sets(cluster=cluster, service=name)["taskSets"]) == 2


def test_task_set_errors(ecs, cluster, families):
    td = register(ecs, families)
    # A task set on a service with the ECS controller.
    ecs_svc = uid("ecs")
    ecs.create_service(cluster=cluster, serviceName=ecs_svc, taskDefinition=td, desiredCount=0, launchType="FARGATE",
                       networkConfiguration=NETWORK)
    with pytest.raises(Exception) as e:
        create_set(ecs, cluster, ecs_svc, td)
    assert code(e) == "InvalidParameterException" and error_message(e) == CONTROLLER_ONLY
    with pytest.raises(Exception) as e:
        ecs.describe_task_sets(cluster=cluster, service=ecs_svc)
    assert code(e) == "InvalidParameterException"
    # No such service, no such cluster.
    with pytest.raises(Exception) as e:
        create_set(ecs, cluster, "no-such-service", td)
    assert code(e) == "ServiceNotFoundException"
    with pytest.raises(Exception) as e:
        ecs.describe_task_sets(cluster=cluster, service="no-such-service")
    assert code(e) == "ServiceNotFoundException"
    with pytest.raises(Exception) as e:
        create_set(ecs, "no-such-cluster-" + uuid.uuid4().hex[:6], "svc", td)
    assert code(e) == "ClusterNotFoundException"

    name, _ = external_service(ecs, cluster, desired=2)
    # No such task set.
    for call in (lambda: ecs.update_task_set(cluster=cluster, service=name, taskSet="ecs-svc/1111111111111111111",
                                             scale={"value": 10, "unit": "PERCENT"}),
                 lambda: ecs.delete_task_set(cluster=cluster, service=name, taskSet="ecs-svc/1111111111111111111"),
                 lambda: ecs.update_service_primary_task_set(cluster=cluster, service=name,
                                                             primaryTaskSet="ecs-svc/1111111111111111111")):
        with pytest.raises(Exception) as e:
            call()
        assert code(e) == "TaskSetNotFoundException"
    # awsvpc needs a network configuration; a scale is 0 to 100 percent.
    with pytest.raises(Exception) as e:
        ecs.create_task_set(cluster=cluster, service=name, taskDefinition=td, launchType="FARGATE")
    assert code(e) == "InvalidParameterException" and "awsvpc" in error_message(e)
    with pytest.raises(Exception) as e:
        create_set(ecs, cluster, name, td, scale={"value": 150, "unit": "PERCENT"})
    assert code(e) == "InvalidParameterException"
    with pytest.raises(Exception) as e:
        create_set(ecs, cluster, name, "no-such-family-" + uuid.uuid4().hex[:6])
    assert code(e) == "ClientException"
    # At most five task sets.
    for _ in range(5):
        create_set(ecs, cluster, name, td)
    with pytest.raises(Exception) as e:
        create_set(ecs, cluster, name, td)
    assert code(e) == "InvalidParameterException"
    assert error_message(e) == ("5 deployments exist on the service. Unable to create new TaskSet since this "
                                "exceeds the maximum limit.")


def test_delete_service_with_force_removes_task_sets(ecs, cluster, families):
    td = register(ecs, families)
    name, _ = external_service(ecs, cluster, desired=2)
    a = create_set(ecs, cluster, name, td, scale={"value": 100, "unit": "PERCENT"})
    b = create_set(ecs, cluster, name, td, scale={"value": 50, "unit": "PERCENT"})
    wait_for(lambda: steady(ecs, cluster, name, a["id"], 2))
    wait_for(lambda: steady(ecs, cluster, name, b["id"], 1))
    with pytest.raises(Exception) as e:
        ecs.delete_service(cluster=cluster, service=name)
    assert code(e) == "InvalidParameterException"
    svc = ecs.delete_service(cluster=cluster, service=name, force=True)["service"]
    assert svc["status"] == "DRAINING"
    svc = wait_for(lambda: (lambda s: s if s["status"] == "INACTIVE" else None)(service_of(ecs, cluster, name)))
    assert svc["taskSets"] == [] and svc["runningCount"] == 0
    assert not tasks_started_by(ecs, cluster, a["id"]) and not tasks_started_by(ecs, cluster, b["id"])
    with pytest.raises(Exception) as e:
        ecs.describe_task_sets(cluster=cluster, service=name)
    assert code(e) == "ServiceNotFoundException"


# --- CODE_DEPLOY ---------------------------------------------------------------------------------------------------

def test_code_deploy_service_starts_with_its_primary_task_set(ecs, cluster, families):
    td = register(ecs, families)
    td2 = register(ecs, families, family=td.split("/")[-1].split(":")[0], version="2")
    name = uid("cd")
    svc = ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=2, launchType="FARGATE",
                             networkConfiguration=NETWORK, deploymentController={"type": "CODE_DEPLOY"})["service"]
    assert svc["deployments"] == [] and len(svc["taskSets"]) == 1
    ts = svc["taskSets"][0]
    assert ts["status"] == "PRIMARY" and "externalId" not in ts and ts["scale"] == {"value": 100.0, "unit": "PERCENT"}
    assert ts["computedDesiredCount"] == 2 and ts["taskDefinition"] == td and ts["launchType"] == "FARGATE"
    assert re.fullmatch(r"ecs-svc/\d{19}", ts["id"]) and ts["taskSetArn"].endswith(f":task-set/{cluster}/{name}/{ts['id']}")
    assert ts["networkConfiguration"] == NETWORK

    wait_for(lambda: steady(ecs, cluster, name, ts["id"], 2))
    running = tasks_started_by(ecs, cluster, ts["id"])
    assert len(running) == 2 and all(t["startedBy"] == ts["id"] and t["group"] == f"service:{name}" for t in running)
    assert wait_for(lambda: service_of(ecs, cluster, name)["runningCount"] == 2)

    # The task definition changes only through CodeDeploy; desiredCount through UpdateService.
    with pytest.raises(Exception) as e:
        ecs.update_service(cluster=cluster, service=name, taskDefinition=td2)
    assert code(e) == "InvalidParameterException" and error_message(e) == CODE_DEPLOY_TD
    svc = ecs.update_service(cluster=cluster, service=name, desiredCount=3)["service"]
    assert svc["taskSets"][0]["computedDesiredCount"] == 3 and svc["taskDefinition"] == td
    wait_for(lambda: steady(ecs, cluster, name, ts["id"], 3))

    # Clients see the task sets but do not manage them: CodeDeploy does.
    assert [s["id"] for s in ecs.describe_task_sets(cluster=cluster, service=name)["taskSets"]] == [ts["id"]]
    with pytest.raises(Exception) as e:
        create_set(ecs, cluster, name, td2)
    assert code(e) == "InvalidParameterException" and error_message(e) == CONTROLLER_ONLY


# --- restart -------------------------------------------------------------------------------------------------------

def test_task_sets_survive_a_restart(tmp_path):
    data = str(tmp_path / "data")
    os.makedirs(data)
    s = Server(data_dir=data).start()
    try:
        ecs = make_client(s.endpoint, "ecs")
        ecs.create_cluster(clusterName="rs")
        td = ecs.register_task_definition(
            family="rs", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "app", "image": IMAGE}])["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster="rs", serviceName="svc", desiredCount=2, deploymentController={"type": "EXTERNAL"})
        a = create_set(ecs, "rs", "svc", td, externalId="a", scale={"value": 100, "unit": "PERCENT"})
        b = create_set(ecs, "rs", "svc", td, externalId="b", scale={"value": 50, "unit": "PERCENT"})
        ecs.update_service_primary_task_set(cluster="rs", service="svc", primaryTaskSet=a["id"])
        wait_for(lambda: steady(ecs, "rs", "svc", a["id"], 2))
        wait_for(lambda: steady(ecs, "rs", "svc", b["id"], 1))
    finally:
        s.stop()

    s2 = Server(data_dir=data, port=s.port).start()
    try:
        ecs = make_client(s2.endpoint, "ecs")
        sets = {t["id"]: t for t in ecs.describe_task_sets(cluster="rs", service="svc")["taskSets"]}
        assert set(sets) == {a["id"], b["id"]}
        assert sets[a["id"]]["status"] == "PRIMARY" and sets[a["id"]]["externalId"] == "a"
        assert sets[b["id"]]["scale"] == {"value": 50.0, "unit": "PERCENT"}
        wait_for(lambda: steady(ecs, "rs", "svc", a["id"], 2))
        wait_for(lambda: steady(ecs, "rs", "svc", b["id"], 1))
        ecs.delete_service(cluster="rs", service="svc", force=True)
        wait_for(lambda: not ecs.list_tasks(cluster="rs")["taskArns"])
    finally:
        s2.stop()
