"""Amazon ECS's EC2 launch type with boto3: container instances (registered as the ECS agent does it), described,
listed with cluster query language filters and paginated, their attributes, task placement (resources, ports,
constraints, strategies) with AWS's failure reasons, resources shrinking while tasks run and growing back when they
stop, DRAINING replacing service tasks elsewhere, deregistration, the service event when nothing fits, and the
cluster's registeredContainerInstancesCount.

Containers are simulated (an image no image map names): no process is needed. Names are unique per test; each
test's cluster is emptied, its instances deregistered and the cluster deleted afterwards. The restart test has a
server of its own."""
import json
import re
import time
import uuid

import pytest

from helpers import error, error_message, make_client
from server import Server
from ecs_helpers import IMAGE, uid, wait_for


@pytest.fixture
def cluster(ecs):
    name = uid("ci")
    ecs.create_cluster(clusterName=name)
    yield name
    try:
        for a in ecs.list_services(cluster=name, maxResults=100)["serviceArns"]:
            ecs.delete_service(cluster=name, service=a, force=True)
        for t in ecs.list_tasks(cluster=name)["taskArns"]:
            ecs.stop_task(cluster=name, task=t)
        wait_for(lambda: not ecs.list_tasks(cluster=name)["taskArns"], timeout=20)
        for status in ("ACTIVE", "DRAINING"):
            for i in ecs.list_container_instances(cluster=name, status=status)["containerInstanceArns"]:
                ecs.deregister_container_instance(cluster=name, containerInstance=i, force=True)
        ecs.delete_cluster(cluster=name)
    except Exception:
        pass


@pytest.fixture(scope="module")
def families(ecs):
    made = []
    yield made
    for fam in made:
        for arn in ecs.list_task_definitions(familyPrefix=fam)["taskDefinitionArns"]:
            try:
                ecs.deregister_task_definition(taskDefinition=arn)
                ecs.delete_task_definitions(taskDefinitions=[arn])
            except Exception:
                pass


def register_td(ecs, families, cpu=256, memory=512, ports=None, **extra):
    family = uid("ec2")
    families.append(family)
    container = {"name": "app", "image": IMAGE, "essential": True, "cpu": cpu, "memory": memory}
    if ports:
        container["portMappings"] = [{"containerPort": p, "hostPort": p} for p in ports]
    return ecs.register_task_definition(family=family, containerDefinitions=[container], **extra)["taskDefinition"]


def register_instance(ecs, cluster, instance_type="t3.medium", zone="us-east-1a", cpu=None, memory=None, **kw):
    doc = {"instanceId": "i-" + uuid.uuid4().hex[:17], "region": "us-east-1", "availabilityZone": zone,
           "instanceType": instance_type, "imageId": "ami-0123456789abcdef0", "accountId": "000000000000"}
    resources = []
    if cpu is not None:
        resources.append({"name": "CPU", "type": "INTEGER", "integerValue": cpu})
    if memory is not None:
        resources.append({"name": "MEMORY", "type": "INTEGER", "integerValue": memory})
    args = {"cluster": cluster, "instanceIdentityDocument": json.dumps(doc), **kw}
    if resources:
        args["totalResources"] = resources
    return ecs.register_container_instance(**args)["containerInstance"]


def resources(instance, which="remainingResources"):
    out = {}
    for r in instance[which]:
        out[r["name"]] = r["stringSetValue"] if r["type"] == "STRINGSET" else r["integerValue"]
    return out


def describe(ecs, cluster, arn, **kw):
    return ecs.describe_container_instances(cluster=cluster, containerInstances=[arn], **kw)["containerInstances"][0]


def task_of(ecs, cluster, arn):
    return ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]


def test_register_describe_and_cluster_count(ecs, cluster, account):
    a = register_instance(ecs, cluster, "t3.medium", tags=[{"key": "team", "value": "core"}],
                          attributes=[{"name": "stack", "value": "prod"}],
                          versionInfo={"agentVersion": "1.80.0", "agentHash": "abc", "dockerVersion": "DockerVersion: 20.10"})
    b = register_instance(ecs, cluster, "m5.large", "us-east-1b", cpu=2048, memory=7680)
    assert re.fullmatch(rf"arn:aws:ecs:us-east-1:{account}:container-instance/{cluster}/[0-9a-f]{{32}}", a["containerInstanceArn"])
    assert a["ec2InstanceId"].startswith("i-")
    assert a["status"] == "ACTIVE" and a["agentConnected"] is True
    assert a["runningTasksCount"] == 0 and a["pendingTasksCount"] == 0
    assert a["versionInfo"]["agentVersion"] == "1.80.0"
    # Defaults when the agent sends no resources: CPU 2048, MEMORY 3920, the agent's reserved ports.
    reg = resources(a, "registeredResources")
    assert reg["CPU"] == 2048 and reg["MEMORY"] == 3920 and "22" in reg["PORTS"] and reg["PORTS_UDP"] == []
    cpu = next(r for r in a["registeredResources"] if r["name"] == "CPU")
    assert cpu == {"name": "CPU", "type": "INTEGER", "doubleValue": 0.0, "longValue": 0, "integerValue": 2048}
    assert resources(a) == reg
    assert resources(b, "registeredResources")["MEMORY"] == 7680
    attrs = {x["name"]: x.get("value") for x in a["attributes"]}
    assert attrs["ecs.instance-type"] == "t3.medium" and attrs["ecs.availability-zone"] == "us-east-1a"
    assert attrs["ecs.os-type"] == "linux" and attrs["stack"] == "prod" and attrs["ecs.ami-id"] == "ami-0123456789abcdef0"
    assert {x["name"]: x.get("value") for x in b["attributes"]}["ecs.availability-zone"] == "us-east-1b"

    missing = f"arn:aws:ecs:us-east-1:{account}:container-instance/{cluster}/{uuid.uuid4().hex}"
    out = ecs.describe_container_instances(cluster=cluster, containerInstances=[a["containerInstanceArn"], missing,
                                                                                 b["containerInstanceArn"].rsplit("/", 1)[1]])
    assert [i["containerInstanceArn"] for i in out["containerInstances"]] == [a["containerInstanceArn"], b["containerInstanceArn"]]
    assert out["failures"] == [{"arn": missing, "reason": "MISSING"}]
    assert "tags" not in out["containerInstances"][0] and "healthStatus" not in out["containerInstances"][0]
    full = describe(ecs, cluster, a["containerInstanceArn"], include=["TAGS", "CONTAINER_INSTANCE_HEALTH"])
    assert full["tags"] == [{"key": "team", "value": "core"}]
    assert full["healthStatus"]["overallStatus"] == "OK"
    assert ecs.list_tags_for_resource(resourceArn=a["containerInstanceArn"])["tags"] == [{"key": "team", "value": "core"}]
    ecs.tag_resource(resourceArn=a["containerInstanceArn"], tags=[{"key": "env", "value": "test"}])
    assert {t["key"] for t in ecs.list_tags_for_resource(resourceArn=a["containerInstanceArn"])["tags"]} == {"team", "env"}

    c = ecs.describe_clusters(clusters=[cluster])["clusters"][0]
    assert c["registeredContainerInstancesCount"] == 2
    with pytest.raises(Exception) as e:
        ecs.delete_cluster(cluster=cluster)
    assert error(e) == ("ClusterContainsContainerInstancesException", 400)
    with pytest.raises(Exception) as e:
        ecs.register_container_instance(cluster=uid("nocluster"))
    assert error(e) == ("ClusterNotFoundException", 400)


def test_list_filter_and_pagination(ecs, cluster):
    t3 = [register_instance(ecs, cluster, "t3.medium")["containerInstanceArn"] for _ in range(3)]
    m5 = register_instance(ecs, cluster, "m5.large", "us-east-1b")["containerInstanceArn"]
    assert set(ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]) == set(t3) | {m5}
    assert set(ecs.list_container_instances(cluster=cluster, filter="attribute:ecs.instance-type == t3.medium")
               ["containerInstanceArns"]) == set(t3)
    assert ecs.list_container_instances(cluster=cluster, filter="attribute:ecs.instance-type =~ m5.*")["containerInstanceArns"] == [m5]
    assert ecs.list_container_instances(
        cluster=cluster, filter="attribute:ecs.availability-zone in [us-east-1b, us-east-1c]")["containerInstanceArns"] == [m5]
    assert set(ecs.list_container_instances(
        cluster=cluster, filter="not attribute:ecs.instance-type == m5.large and attribute:ecs.os-type exists")
        ["containerInstanceArns"]) == set(t3)
    pages = list(ecs.get_paginator("list_container_instances").paginate(cluster=cluster, PaginationConfig={"PageSize": 1}))
    assert len(pages) == 4 and all(len(p["containerInstanceArns"]) == 1 for p in pages)
    assert {a for p in pages for a in p["containerInstanceArns"]} == set(t3) | {m5}
    ecs.update_container_instances_state(cluster=cluster, containerInstances=[t3[0]], status="DRAINING")
    assert ecs.list_container_instances(cluster=cluster, status="DRAINING")["containerInstanceArns"] == [t3[0]]
    assert set(ecs.list_container_instances(cluster=cluster, status="ACTIVE")["containerInstanceArns"]) == set(t3[1:]) | {m5}
    with pytest.raises(Exception) as e:
        ecs.list_container_instances(cluster=cluster, filter="attribute:ecs.instance-type ==")
    assert error(e) == ("InvalidParameterException", 400)
    with pytest.raises(Exception) as e:
        ecs.update_container_instances_state(cluster=cluster, containerInstances=[t3[0]], status="DEREGISTERING")
    assert error(e) == ("InvalidParameterException", 400)


def test_attributes(ecs, cluster, families):
    a = register_instance(ecs, cluster)["containerInstanceArn"]
    b = register_instance(ecs, cluster)["containerInstanceArn"]
    put = ecs.put_attributes(cluster=cluster, attributes=[
        {"name": "stack", "value": "prod", "targetType": "container-instance", "targetId": a},
        {"name": "gpu", "targetId": b.rsplit("/", 1)[1]}])["attributes"]
    assert put == [{"name": "stack", "value": "prod", "targetType": "container-instance", "targetId": a},
                   {"name": "gpu", "targetType": "container-instance", "targetId": b}]
    listed = ecs.list_attributes(cluster=cluster, targetType="container-instance", attributeName="stack")["attributes"]
    assert listed == [{"name": "stack", "value": "prod", "targetType": "container-instance", "targetId": a}]
    assert ecs.list_attributes(cluster=cluster, targetType="container-instance", attributeName="stack",
                               attributeValue="dev")["attributes"] == []
    types = ecs.list_attributes(cluster=cluster, targetType="container-instance", attributeName="ecs.instance-type")["attributes"]
    assert {x["targetId"] for x in types} == {a, b}
    pages = list(ecs.get_paginator("list_attributes").paginate(cluster=cluster, targetType="container-instance",
                                                                PaginationConfig={"PageSize": 5}))
    assert len(pages) > 2 and sum(len(p["attributes"]) for p in pages) > 10
    # A custom attribute steers placement (memberOf).
    td = register_td(ecs, families)["taskDefinitionArn"]
    out = ecs.run_task(cluster=cluster, taskDefinition=td, count=2,
                       placementConstraints=[{"type": "memberOf", "expression": "attribute:stack == prod"}])
    assert {t["containerInstanceArn"] for t in out["tasks"]} == {a}
    ecs.delete_attributes(cluster=cluster, attributes=[{"name": "stack", "targetId": a}])
    assert "stack" not in {x["name"] for x in describe(ecs, cluster, a)["attributes"]}
    out = ecs.run_task(cluster=cluster, taskDefinition=td,
                       placementConstraints=[{"type": "memberOf", "expression": "attribute:stack == prod"}])
    assert out["tasks"] == []
    assert sorted(out["failures"], key=lambda f: f["arn"]) == sorted(
        [{"arn": a, "reason": "MemberOf"}, {"arn": b, "reason": "MemberOf"}], key=lambda f: f["arn"])
    with pytest.raises(Exception) as e:
        ecs.put_attributes(cluster=cluster, attributes=[{"name": "x", "value": "y", "targetId": uuid.uuid4().hex}])
    assert error(e) == ("TargetNotFoundException", 400)


def test_run_task_places_and_resources_come_back(ecs, cluster, families):
    td = register_td(ecs, families)["taskDefinitionArn"]
    with pytest.raises(Exception) as e:
        ecs.run_task(cluster=cluster, taskDefinition=td)
    assert error(e) == ("InvalidParameterException", 400)
    assert error_message(e) == "No Container Instances were found in your cluster."

    inst = register_instance(ecs, cluster, cpu=1024, memory=2048)["containerInstanceArn"]
    big = register_td(ecs, families, cpu=512, memory=1024)["taskDefinitionArn"]
    # No launch type and no capacity provider strategy: the EC2 launch type.
    out = ecs.run_task(cluster=cluster, taskDefinition=big, count=2)
    assert out["failures"] == [] and len(out["tasks"]) == 2
    for t in out["tasks"]:
        assert t["launchType"] == "EC2" and t["containerInstanceArn"] == inst
    arns = [t["taskArn"] for t in out["tasks"]]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=arns, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    i = describe(ecs, cluster, inst)
    assert resources(i)["CPU"] == 0 and resources(i)["MEMORY"] == 0
    assert i["runningTasksCount"] == 2 and i["pendingTasksCount"] == 0
    assert set(ecs.list_tasks(cluster=cluster, containerInstance=inst)["taskArns"]) == set(arns)
    assert set(ecs.list_tasks(cluster=cluster, containerInstance=inst.rsplit("/", 1)[1])["taskArns"]) == set(arns)

    # Full: the task is not created, the failure names the instance and the resource.
    out = ecs.run_task(cluster=cluster, taskDefinition=big)
    assert out["tasks"] == [] and out["failures"] == [{"arn": inst, "reason": "RESOURCE:CPU"}]
    ecs.stop_task(cluster=cluster, task=arns[0])
    wait_for(lambda: resources(describe(ecs, cluster, inst))["CPU"] == 512)
    assert resources(describe(ecs, cluster, inst))["MEMORY"] == 1024
    hungry = register_td(ecs, families, cpu=0, memory=1500)["taskDefinitionArn"]
    out = ecs.run_task(cluster=cluster, taskDefinition=hungry)
    assert out["tasks"] == [] and out["failures"] == [{"arn": inst, "reason": "RESOURCE:MEMORY"}]
    ecs.stop_task(cluster=cluster, task=arns[1])
    wait_for(lambda: resources(describe(ecs, cluster, inst))["MEMORY"] == 2048)
    i = describe(ecs, cluster, inst)
    assert resources(i)["CPU"] == 1024 and i["runningTasksCount"] == 0

    # Host ports: a second task wanting the same port does not fit; the port is back once the first stops.
    web = register_td(ecs, families, cpu=0, memory=128, ports=[8080])["taskDefinitionArn"]
    first = ecs.run_task(cluster=cluster, taskDefinition=web)["tasks"][0]
    assert "8080" in resources(describe(ecs, cluster, inst))["PORTS"]
    out = ecs.run_task(cluster=cluster, taskDefinition=web)
    assert out["tasks"] == [] and out["failures"] == [{"arn": inst, "reason": "RESOURCE:PORTS"}]
    ecs.stop_task(cluster=cluster, task=first["taskArn"])
    wait_for(lambda: "8080" not in resources(describe(ecs, cluster, inst))["PORTS"])

    # Some fit, some do not: those placed are created, the rest are failures.
    out = ecs.run_task(cluster=cluster, taskDefinition=big, count=3)
    assert len(out["tasks"]) == 2 and out["failures"] == [{"arn": inst, "reason": "RESOURCE:CPU"}]
    with pytest.raises(Exception) as e:
        ecs.run_task(cluster=cluster, taskDefinition=td, placementStrategy=[{"type": "binpack", "field": "disk"}])
    assert error(e) == ("InvalidParameterException", 400)


def test_strategies_and_distinct_instance(ecs, cluster, families):
    small = register_instance(ecs, cluster, memory=1024)["containerInstanceArn"]
    large = register_instance(ecs, cluster, memory=8192)["containerInstanceArn"]
    td = register_td(ecs, families, cpu=0, memory=256)["taskDefinitionArn"]
    out = ecs.run_task(cluster=cluster, taskDefinition=td, count=3, placementStrategy=[{"type": "binpack", "field": "memory"}])
    assert [t["containerInstanceArn"] for t in out["tasks"]] == [small] * 3
    spread_td = register_td(ecs, families, cpu=0, memory=128)["taskDefinitionArn"]
    out = ecs.run_task(cluster=cluster, taskDefinition=spread_td, count=2,
                       placementStrategy=[{"type": "spread", "field": "instanceId"}])
    assert {t["containerInstanceArn"] for t in out["tasks"]} == {small, large}
    distinct_td = register_td(ecs, families, cpu=0, memory=64)["taskDefinitionArn"]
    out = ecs.run_task(cluster=cluster, taskDefinition=distinct_td, count=3, group="one-per-host",
                       placementConstraints=[{"type": "distinctInstance"}])
    assert {t["containerInstanceArn"] for t in out["tasks"]} == {small, large} and len(out["tasks"]) == 2
    assert sorted(f["arn"] for f in out["failures"]) == sorted([small, large])
    assert {f["reason"] for f in out["failures"]} == {"DistinctInstance"}
    out = ecs.run_task(cluster=cluster, taskDefinition=td, placementConstraints=[
        {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}],
        placementStrategy=[{"type": "binpack", "field": "memory"}, {"type": "spread", "field": "instanceId"}])
    assert len(out["tasks"]) == 1 and out["failures"] == []


def test_start_task_on_named_instances(ecs, cluster, families, account):
    a = register_instance(ecs, cluster)["containerInstanceArn"]
    b = register_instance(ecs, cluster)["containerInstanceArn"]
    td = register_td(ecs, families)["taskDefinitionArn"]
    missing = uuid.uuid4().hex
    out = ecs.start_task(cluster=cluster, taskDefinition=td, containerInstances=[a, b.rsplit("/", 1)[1], missing],
                         startedBy="me")
    assert sorted(t["containerInstanceArn"] for t in out["tasks"]) == sorted([a, b])
    assert all(t["launchType"] == "EC2" and t["startedBy"] == "me" for t in out["tasks"])
    assert out["failures"] == [{"arn": f"arn:aws:ecs:us-east-1:{account}:container-instance/{cluster}/{missing}", "reason": "MISSING"}]
    huge = register_td(ecs, families, cpu=4096, memory=512)["taskDefinitionArn"]
    out = ecs.start_task(cluster=cluster, taskDefinition=huge, containerInstances=[a])
    assert out["tasks"] == [] and out["failures"] == [{"arn": a, "reason": "RESOURCE:CPU"}]


def service_tasks(ecs, cluster, name):
    arns = ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def test_draining_replaces_service_tasks(ecs, cluster, families):
    a = register_instance(ecs, cluster)["containerInstanceArn"]
    td = register_td(ecs, families)["taskDefinitionArn"]
    name = uid("svc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=2, launchType="EC2")
    first = wait_for(lambda: (lambda ts: ts if len(ts) == 2 and all(t["lastStatus"] == "RUNNING" for t in ts) else None)(
        service_tasks(ecs, cluster, name)))
    assert {t["containerInstanceArn"] for t in first} == {a}
    standalone = ecs.run_task(cluster=cluster, taskDefinition=td)["tasks"][0]["taskArn"]
    b = register_instance(ecs, cluster, zone="us-east-1b")["containerInstanceArn"]
    drained = ecs.update_container_instances_state(cluster=cluster, containerInstances=[a], status="DRAINING")
    assert drained["containerInstances"][0]["status"] == "DRAINING" and drained["failures"] == []

    def moved():
        ts = service_tasks(ecs, cluster, name)
        ok = len(ts) == 2 and all(t["containerInstanceArn"] == b and t["lastStatus"] == "RUNNING" for t in ts)
        return ts if ok else None
    moved_tasks = wait_for(moved)
    for t in first:
        old = task_of(ecs, cluster, t["taskArn"])
        assert old["desiredStatus"] == "STOPPED"
    # Standalone tasks keep running on a DRAINING instance; nothing new is placed there.
    assert task_of(ecs, cluster, standalone)["lastStatus"] == "RUNNING"
    out = ecs.run_task(cluster=cluster, taskDefinition=td)
    assert out["tasks"][0]["containerInstanceArn"] == b
    svc = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    assert svc["runningCount"] == 2
    stopped = [re.search(r"has stopped (\d+) running tasks", ev["message"]) for ev in svc["events"]]
    assert sum(int(m.group(1)) for m in stopped if m) == 2
    wait_for(lambda: describe(ecs, cluster, a)["runningTasksCount"] == 1)
    stats = {x["name"]: x["value"] for x in ecs.describe_clusters(clusters=[cluster], include=["STATISTICS"])["clusters"][0]["statistics"]}
    assert stats["activeEC2ServiceCount"] == "1" and stats["activeFargateServiceCount"] == "0"
    assert int(stats["runningEC2TasksCount"]) + int(stats["pendingEC2TasksCount"]) == 4
    assert stats["runningFargateTasksCount"] == "0"
    # ACTIVE again: it takes tasks again.
    assert ecs.update_container_instances_state(cluster=cluster, containerInstances=[a], status="ACTIVE")["containerInstances"][0]["status"] == "ACTIVE"
    out = ecs.start_task(cluster=cluster, taskDefinition=td, containerInstances=[a])
    assert len(out["tasks"]) == 1
    assert {t["taskArn"] for t in moved_tasks} == {t["taskArn"] for t in service_tasks(ecs, cluster, name)}


def test_deregistration(ecs, cluster, families):
    busy = register_instance(ecs, cluster)["containerInstanceArn"]
    idle = register_instance(ecs, cluster)["containerInstanceArn"]
    td = register_td(ecs, families)["taskDefinitionArn"]
    task = ecs.start_task(cluster=cluster, taskDefinition=td, containerInstances=[busy])["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[task], WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    with pytest.raises(Exception) as e:
        ecs.deregister_container_instance(cluster=cluster, containerInstance=busy)
    assert error(e) == ("InvalidParameterException", 400)
    assert error_message(e) == "Found running tasks on the instance."
    gone = ecs.deregister_container_instance(cluster=cluster, containerInstance=idle.rsplit("/", 1)[1])["containerInstance"]
    assert gone["status"] == "INACTIVE" and gone["containerInstanceArn"] == idle
    assert ecs.describe_clusters(clusters=[cluster])["clusters"][0]["registeredContainerInstancesCount"] == 1
    forced = ecs.deregister_container_instance(cluster=cluster, containerInstance=busy, force=True)["containerInstance"]
    assert forced["status"] == "INACTIVE"
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[task], WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []
    assert describe(ecs, cluster, busy)["status"] == "INACTIVE"
    assert ecs.describe_clusters(clusters=[cluster])["clusters"][0]["registeredContainerInstancesCount"] == 0
    with pytest.raises(Exception) as e:
        ecs.deregister_container_instance(cluster=cluster, containerInstance=busy)
    assert error(e) == ("InvalidParameterException", 400)
    with pytest.raises(Exception) as e:
        ecs.run_task(cluster=cluster, taskDefinition=td)
    assert error_message(e) == "No Container Instances were found in your cluster."


def test_service_event_when_nothing_fits(ecs, cluster, families):
    hungry = register_td(ecs, families, cpu=0, memory=4096)["taskDefinitionArn"]
    empty = uid("svc")
    ecs.create_service(cluster=cluster, serviceName=empty, taskDefinition=hungry, desiredCount=1, launchType="EC2")
    no_instances = (f"(service {empty}) was unable to place a task because no container instance met all of its "
                    "requirements. Reason: No Container Instances were found in your cluster. For more information, "
                    "see the Troubleshooting section of the Amazon ECS Developer Guide.")
    wait_for(lambda: any(ev["message"] == no_instances
                         for ev in ecs.describe_services(cluster=cluster, services=[empty])["services"][0]["events"]))
    ecs.delete_service(cluster=cluster, service=empty, force=True)

    small = register_instance(ecs, cluster, memory=2048)["containerInstanceArn"]
    name = uid("svc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=hungry, desiredCount=1)
    expected = (f"(service {name}) was unable to place a task because no container instance met all of its requirements. "
                f"The closest matching (container-instance {small.rsplit('/', 1)[1]}) has insufficient memory available. "
                "For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.")
    events = lambda: ecs.describe_services(cluster=cluster, services=[name])["services"][0]["events"]
    wait_for(lambda: any(ev["message"] == expected for ev in events()))
    time.sleep(1.5)
    # At most once every five minutes of the emulator's clock.
    assert sum(ev["message"] == expected for ev in events()) == 1
    svc = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    assert svc["launchType"] == "EC2" and svc["runningCount"] == 0 and svc["pendingCount"] == 0
    assert ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"] == []
    # Room appears: the service places its task there.
    big = register_instance(ecs, cluster, memory=8192)["containerInstanceArn"]
    placed = wait_for(lambda: service_tasks(ecs, cluster, name))
    assert placed[0]["containerInstanceArn"] == big


def test_instances_survive_a_restart(families, tmp_path):
    """Container instances are in ecs.sqlite (schema v2): after a restart they are there, with what their tasks
    (simulated ones survive a restart) still reserve."""
    s = Server(data_dir=str(tmp_path)).start()
    try:
        ecs = make_client(s.endpoint, "ecs")
        name = uid("ci")
        ecs.create_cluster(clusterName=name)
        inst = register_instance(ecs, name, "m5.large", attributes=[{"name": "stack", "value": "prod"}])["containerInstanceArn"]
        drained = register_instance(ecs, name)["containerInstanceArn"]
        ecs.update_container_instances_state(cluster=name, containerInstances=[drained], status="DRAINING")
        td = register_td(ecs, [], cpu=512, memory=1024)["taskDefinitionArn"]
        task = ecs.run_task(cluster=name, taskDefinition=td)["tasks"][0]["taskArn"]
        ecs.get_waiter("tasks_running").wait(cluster=name, tasks=[task], WaiterConfig={"Delay": 1, "MaxAttempts": 20})
        s.stop()
        s = Server(data_dir=str(tmp_path), port=s.port).start()
        ecs = make_client(s.endpoint, "ecs")
        i = describe(ecs, name, inst)
        assert i["status"] == "ACTIVE" and {a["name"]: a.get("value") for a in i["attributes"]}["stack"] == "prod"
        assert resources(i)["CPU"] == 2048 - 512 and resources(i)["MEMORY"] == 3920 - 1024
        assert describe(ecs, name, drained)["status"] == "DRAINING"
        assert ecs.list_tasks(cluster=name, containerInstance=inst)["taskArns"] == [task]
        assert ecs.describe_clusters(clusters=[name])["clusters"][0]["registeredContainerInstancesCount"] == 2
    finally:
        s.stop()
