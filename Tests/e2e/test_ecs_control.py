"""Amazon ECS's control plane with boto3: clusters, task definitions, tasks, services, tags, account settings,
capacity providers, every paginator and every waiter of botocore's model for the operations Cloudless serves.

Tasks run on Fargate (launchType FARGATE or the FARGATE capacity provider) with awsvpc networking; their containers
are simulated (an image no image map names: RUNNING at once, until stopped) unless they carry the docker label
`cloudless.run=process`, which runs their entryPoint as a local process. Names are unique per test (the server is
shared by every module) and each test's cluster is emptied and deleted afterwards."""
import datetime
import re
import uuid

import pytest
from botocore.exceptions import WaiterError

from helpers import error, error_message
from ecs_helpers import IMAGE, NETWORK, delete_families, purge_cluster, uid, wait_for

FAST = {"Delay": 1, "MaxAttempts": 30}
EXEC_ROLE = "arn:aws:iam::000000000000:role/ecsTaskExecutionRole"


@pytest.fixture
def cluster(ecs):
    """A fresh cluster with the Fargate capacity providers, emptied and deleted afterwards."""
    name = uid("ctl")
    ecs.create_cluster(clusterName=name, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    yield name
    purge_cluster(ecs, name)


@pytest.fixture(scope="module")
def families(ecs):
    """Task definition families the module registers; every revision deregistered and deleted after it."""
    made = []
    yield made
    delete_families(ecs, made)


def sim(name="app", **kw):
    """A simulated container."""
    return {"name": name, "image": IMAGE, "essential": True, **kw}


def proc(name, script, **kw):
    """A container that runs `sh -c script` as a local process."""
    return {"name": name, "image": "busybox:latest", "essential": True, "entryPoint": ["sh", "-c", script],
            "dockerLabels": {"cloudless.run": "process"}, **kw}


def register(ecs, families, family=None, containers=None, **kw):
    """A Fargate task definition (256 CPU, 512 MiB, awsvpc); returns the taskDefinition document."""
    family = family or uid("fam")
    if family not in families:
        families.append(family)
    args = {"family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
            "memory": "512", "containerDefinitions": containers or [sim()]}
    args.update(kw)
    return ecs.register_task_definition(**args)["taskDefinition"]


def run(ecs, cluster, td, **kw):
    kw.setdefault("launchType", "FARGATE")
    return ecs.run_task(cluster=cluster, taskDefinition=td, networkConfiguration=NETWORK, **kw)


def create_service(ecs, cluster, td, name=None, desired=1, **kw):
    name = name or uid("svc")
    kw.setdefault("launchType", "FARGATE")
    return ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=desired,
                              networkConfiguration=NETWORK, **kw)["service"]


def describe_task(ecs, cluster, arn, **kw):
    return ecs.describe_tasks(cluster=cluster, tasks=[arn], **kw)["tasks"][0]


def describe_service(ecs, cluster, name):
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def messages(service):
    return [e["message"] for e in service["events"]]


def stable(ecs, cluster, name):
    ecs.get_waiter("services_stable").wait(cluster=cluster, services=[name], WaiterConfig=FAST)
    return describe_service(ecs, cluster, name)


def settings_of(c):
    return {s["name"]: s["value"] for s in c.get("settings", [])}


def near_now(dt, slack=600):
    return abs((dt - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < slack


# --- clusters -----------------------------------------------------------------------------------------------------


def test_create_cluster_is_idempotent(ecs, account):
    name = uid("idem")
    try:
        first = ecs.create_cluster(clusterName=name, tags=[{"key": "team", "value": "a"}])["cluster"]
        assert first["clusterArn"] == f"arn:aws:ecs:us-east-1:{account}:cluster/{name}"
        assert first["clusterName"] == name
        assert first["status"] == "ACTIVE"
        for count in ("registeredContainerInstancesCount", "runningTasksCount", "pendingTasksCount",
                      "activeServicesCount"):
            assert first[count] == 0
        again = ecs.create_cluster(clusterName=name)["cluster"]
        assert again["clusterArn"] == first["clusterArn"]
        assert again["status"] == "ACTIVE"
        listed = [a for p in ecs.get_paginator("list_clusters").paginate() for a in p["clusterArns"]]
        assert listed.count(first["clusterArn"]) == 1
    finally:
        purge_cluster(ecs, name)


def test_create_cluster_answers_settings_and_tags(ecs):
    # AWS's CreateCluster answers the cluster with its settings and tags (the CLI reference's create-cluster example).
    name = uid("echo")
    try:
        out = ecs.create_cluster(clusterName=name, settings=[{"name": "containerInsights", "value": "enhanced"}],
                                 tags=[{"key": "team", "value": "e2e"}])["cluster"]
        assert out["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
        assert out["tags"] == [{"key": "team", "value": "e2e"}]
    finally:
        purge_cluster(ecs, name)


def test_describe_clusters_include_settings_statistics_tags(ecs, families):
    name = uid("incl")
    try:
        ecs.create_cluster(clusterName=name, tags=[{"key": "env", "value": "e2e"}],
                           settings=[{"name": "containerInsights", "value": "enabled"}],
                           capacityProviders=["FARGATE"])
        plain = ecs.describe_clusters(clusters=[name])["clusters"][0]
        assert "tags" not in plain or plain["tags"] == []
        assert "settings" not in plain or plain["settings"] == []
        full = ecs.describe_clusters(clusters=[name], include=["SETTINGS", "STATISTICS", "TAGS"])["clusters"][0]
        assert full["tags"] == [{"key": "env", "value": "e2e"}]
        assert settings_of(full) == {"containerInsights": "enabled"}
        stats = {s["name"]: s["value"] for s in full["statistics"]}
        assert stats["runningFargateTasksCount"] == "0"
        assert full["capacityProviders"] == ["FARGATE"]

        td = register(ecs, families)
        run(ecs, name, td["taskDefinitionArn"], count=2)
        wait_for(lambda: ecs.describe_clusters(clusters=[name])["clusters"][0]["runningTasksCount"] == 2)
        full = ecs.describe_clusters(clusters=[name], include=["STATISTICS"])["clusters"][0]
        stats = {s["name"]: s["value"] for s in full["statistics"]}
        assert stats["runningFargateTasksCount"] == "2"
    finally:
        purge_cluster(ecs, name)


def test_describe_clusters_missing(ecs, account):
    name = uid("nope")
    out = ecs.describe_clusters(clusters=[name])
    assert out["clusters"] == []
    assert out["failures"] == [{"arn": f"arn:aws:ecs:us-east-1:{account}:cluster/{name}", "reason": "MISSING"}]


def test_list_clusters_paginates(ecs):
    names = [uid("page") for _ in range(3)]
    try:
        for n in names:
            ecs.create_cluster(clusterName=n)
        pages = list(ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 1}))
        assert all(len(p["clusterArns"]) <= 1 for p in pages)
        arns = [a for p in pages for a in p["clusterArns"]]
        assert len(arns) == len(set(arns))
        assert {a.rsplit("/", 1)[1] for a in arns} >= set(names)
        first = ecs.list_clusters(maxResults=2)
        assert len(first["clusterArns"]) == 2 and first["nextToken"]
        second = ecs.list_clusters(maxResults=2, nextToken=first["nextToken"])
        assert not set(second["clusterArns"]) & set(first["clusterArns"])
    finally:
        for n in names:
            purge_cluster(ecs, n)


def test_update_cluster_settings(ecs, cluster):
    out = ecs.update_cluster_settings(cluster=cluster, settings=[{"name": "containerInsights", "value": "enabled"}])
    assert settings_of(out["cluster"]) == {"containerInsights": "enabled"}
    out = ecs.update_cluster(cluster=cluster, settings=[{"name": "containerInsights", "value": "disabled"}])
    assert settings_of(out["cluster"]) == {"containerInsights": "disabled"}
    got = ecs.describe_clusters(clusters=[cluster], include=["SETTINGS"])["clusters"][0]
    assert settings_of(got) == {"containerInsights": "disabled"}
    with pytest.raises(Exception) as e:
        ecs.update_cluster_settings(cluster=uid("gone"), settings=[{"name": "containerInsights", "value": "enabled"}])
    assert error(e)[0] == "ClusterNotFoundException"


def test_put_cluster_capacity_providers(ecs, cluster):
    out = ecs.put_cluster_capacity_providers(
        cluster=cluster, capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                                         {"capacityProvider": "FARGATE_SPOT", "weight": 4}])["cluster"]
    assert out["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    strategy = {s["capacityProvider"]: s for s in out["defaultCapacityProviderStrategy"]}
    assert strategy["FARGATE"]["base"] == 1 and strategy["FARGATE_SPOT"]["weight"] == 4
    got = ecs.describe_clusters(clusters=[cluster])["clusters"][0]
    assert got["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    with pytest.raises(Exception) as e:
        ecs.put_cluster_capacity_providers(cluster=cluster, capacityProviders=["FARGATE"],
                                           defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT"}])
    assert error(e) == ("InvalidParameterException", 400)


def test_delete_cluster_with_service_then_inactive(ecs, families, account):
    name = uid("del")
    ecs.create_cluster(clusterName=name)
    try:
        td = register(ecs, families)
        svc = create_service(ecs, name, td["taskDefinitionArn"], desired=1)
        with pytest.raises(Exception) as e:
            ecs.delete_cluster(cluster=name)
        assert error(e) == ("ClusterContainsServicesException", 400)
        ecs.delete_service(cluster=name, service=svc["serviceName"], force=True)
        ecs.get_waiter("services_inactive").wait(cluster=name, services=[svc["serviceName"]], WaiterConfig=FAST)
        wait_for(lambda: ecs.describe_clusters(clusters=[name])["clusters"][0]["runningTasksCount"] == 0)
        gone = ecs.delete_cluster(cluster=name)["cluster"]
        assert gone["status"] == "INACTIVE"
        after = ecs.describe_clusters(clusters=[name])
        assert after["clusters"][0]["status"] == "INACTIVE"
        assert after["clusters"][0]["clusterArn"] == f"arn:aws:ecs:us-east-1:{account}:cluster/{name}"
        assert after["failures"] == []
        assert gone["clusterArn"] not in ecs.list_clusters()["clusterArns"]
        with pytest.raises(Exception) as e:
            ecs.delete_cluster(cluster=name)
        assert error(e) == ("ClusterNotFoundException", 400)
    finally:
        purge_cluster(ecs, name)


def test_delete_cluster_with_running_task(ecs, cluster, families):
    td = register(ecs, families)
    run(ecs, cluster, td["taskDefinitionArn"])
    with pytest.raises(Exception) as e:
        ecs.delete_cluster(cluster=cluster)
    assert error(e) == ("ClusterContainsTasksException", 400)


# --- task definitions ---------------------------------------------------------------------------------------------


def test_register_returns_every_field_with_defaults(ecs, families, account):
    family = uid("full")
    families.append(family)
    out = ecs.register_task_definition(
        family=family, taskRoleArn="arn:aws:iam::000000000000:role/app", executionRoleArn=EXEC_ROLE,
        networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="1 vCPU", memory="2GB",
        runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[{
            "name": "web", "image": IMAGE, "portMappings": [{"containerPort": 8080}],
            "environment": [{"name": "MODE", "value": "e2e"}], "command": ["serve"],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/e2e",
                                                                    "awslogs-region": "us-east-1",
                                                                    "awslogs-stream-prefix": "web"}},
        }],
        tags=[{"key": "app", "value": "web"}])
    td = out["taskDefinition"]
    assert out["tags"] == [{"key": "app", "value": "web"}]
    assert td["taskDefinitionArn"] == f"arn:aws:ecs:us-east-1:{account}:task-definition/{family}:1"
    assert td["family"] == family and td["revision"] == 1 and td["status"] == "ACTIVE"
    assert td["cpu"] == "1024" and td["memory"] == "2048"
    assert td["networkMode"] == "awsvpc"
    assert td["requiresCompatibilities"] == ["FARGATE"]
    assert "FARGATE" in td["compatibilities"] and "EC2" in td["compatibilities"]
    assert td["taskRoleArn"] == "arn:aws:iam::000000000000:role/app"
    assert td["executionRoleArn"] == EXEC_ROLE
    assert td["runtimePlatform"] == {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
    assert td["volumes"] == [] and td["placementConstraints"] == []
    assert near_now(td["registeredAt"])
    assert td["registeredBy"].startswith(f"arn:aws:iam::{account}:")
    attrs = {a["name"] for a in td["requiresAttributes"]}
    assert {"com.amazonaws.ecs.capability.logging-driver.awslogs", "ecs.capability.execution-role-awslogs",
            "ecs.capability.task-eni"} <= attrs
    c = td["containerDefinitions"][0]
    assert c["name"] == "web" and c["image"] == IMAGE and c["command"] == ["serve"]
    assert c["cpu"] == 0 and c["essential"] is True
    assert c["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    assert c["environment"] == [{"name": "MODE", "value": "e2e"}]
    assert c["mountPoints"] == [] and c["volumesFrom"] == []
    assert c["logConfiguration"]["options"]["awslogs-group"] == "/ecs/e2e"
    assert "tags" not in td
    # DescribeTaskDefinition answers the same document; the tags only when asked.
    got = ecs.describe_task_definition(taskDefinition=f"{family}:1")
    assert got["taskDefinition"] == td
    assert "tags" not in got or got["tags"] == []
    assert ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])["tags"] == [{"key": "app", "value": "web"}]


def test_fargate_size_is_validated(ecs, families):
    family = uid("size")
    families.append(family)
    with pytest.raises(Exception) as e:
        ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                     cpu="256", memory="4096", containerDefinitions=[sim()])
    assert error(e) == ("ClientException", 400)
    assert error_message(e) == ("No Fargate configuration exists for given values: 256 CPU, 4096 memory. "
                                "See the Amazon ECS documentation for the valid values.")
    with pytest.raises(Exception) as e:
        ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                     containerDefinitions=[sim()])
    assert error(e) == ("ClientException", 400)
    assert "cpu" in error_message(e)
    with pytest.raises(Exception) as e:
        ecs.register_task_definition(family=family, networkMode="bridge", requiresCompatibilities=["FARGATE"],
                                     cpu="256", memory="512", containerDefinitions=[sim()])
    assert error(e) == ("ClientException", 400)
    # Nothing was registered by the refused calls.
    assert ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"] == []


def test_fargate_awslogs_needs_execution_role(ecs, families):
    family = uid("logs")
    families.append(family)
    logged = sim(logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "g", "awslogs-region": "us-east-1",
                                                                      "awslogs-stream-prefix": "p"}})
    with pytest.raises(Exception) as e:
        ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                     cpu="256", memory="512", containerDefinitions=[logged])
    assert error(e) == ("ClientException", 400)
    assert error_message(e) == "Fargate requires task definition to have execution role ARN to support log driver awslogs."
    td = register(ecs, families, family=family, containers=[logged], executionRoleArn=EXEC_ROLE)
    assert td["revision"] == 1


def test_revisions_and_latest_active(ecs, families):
    family = uid("rev")
    revs = [register(ecs, families, family=family, containers=[sim(environment=[{"name": "N", "value": str(i)}])])
            for i in range(3)]
    assert [t["revision"] for t in revs] == [1, 2, 3]
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 3
    out = ecs.deregister_task_definition(taskDefinition=f"{family}:3")["taskDefinition"]
    assert out["status"] == "INACTIVE"
    assert near_now(out["deregisteredAt"])
    # The family alone names the latest ACTIVE revision; an INACTIVE one is still described by revision.
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 2
    assert ecs.describe_task_definition(taskDefinition=revs[2]["taskDefinitionArn"])["taskDefinition"]["status"] == "INACTIVE"
    # A new revision continues after the highest one, deregistered or not.
    assert register(ecs, families, family=family)["revision"] == 4
    with pytest.raises(Exception) as e:
        ecs.describe_task_definition(taskDefinition=uid("never"))
    assert error(e) == ("ClientException", 400)
    assert error_message(e) == "Unable to describe task definition."


def test_list_task_definitions_filters_sort_and_pages(ecs, families):
    family = uid("lst")
    arns = [register(ecs, families, family=family)["taskDefinitionArn"] for _ in range(3)]
    ecs.deregister_task_definition(taskDefinition=arns[0])
    assert ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"] == arns[1:]
    assert ecs.list_task_definitions(familyPrefix=family, sort="DESC")["taskDefinitionArns"] == arns[:0:-1]
    assert ecs.list_task_definitions(familyPrefix=family, status="INACTIVE")["taskDefinitionArns"] == [arns[0]]
    pages = list(ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE",
                                                                     PaginationConfig={"PageSize": 1}))
    assert [a for p in pages for a in p["taskDefinitionArns"]] == arns[1:]
    assert len([p for p in pages if p["taskDefinitionArns"]]) == 2


def test_list_task_definition_families(ecs, families):
    base = uid("famlist")
    live, dead = base + "-live", base + "-dead"
    register(ecs, families, family=live)
    gone = register(ecs, families, family=dead)
    ecs.deregister_task_definition(taskDefinition=gone["taskDefinitionArn"])
    assert ecs.list_task_definition_families(familyPrefix=base, status="ACTIVE")["families"] == [live]
    assert ecs.list_task_definition_families(familyPrefix=base, status="INACTIVE")["families"] == [dead]
    assert ecs.list_task_definition_families(familyPrefix=base, status="ALL")["families"] == [dead, live]
    pages = list(ecs.get_paginator("list_task_definition_families").paginate(
        familyPrefix=base, status="ALL", PaginationConfig={"PageSize": 1}))
    assert [f for p in pages for f in p["families"]] == [dead, live]


def test_list_task_definition_families_lists_active_and_inactive_by_default(ecs, families):
    # AWS: "By default, both ACTIVE and INACTIVE task definition families are listed" (ListTaskDefinitionFamilies'
    # status member in the API reference).
    base = uid("famdefault")
    live, dead = base + "-live", base + "-dead"
    register(ecs, families, family=live)
    gone = register(ecs, families, family=dead)
    ecs.deregister_task_definition(taskDefinition=gone["taskDefinitionArn"])
    assert ecs.list_task_definition_families(familyPrefix=base)["families"] == [dead, live]


def test_delete_task_definitions(ecs, families, cluster):
    family = uid("delete")
    one = register(ecs, families, family=family)["taskDefinitionArn"]
    two = register(ecs, families, family=family)["taskDefinitionArn"]
    out = ecs.delete_task_definitions(taskDefinitions=[one])
    assert out["taskDefinitions"] == []
    assert out["failures"][0]["arn"] == one
    assert out["failures"][0]["reason"] == ("The specified task definition is still in ACTIVE status. "
                                            "Please deregister the target and try again.")
    ecs.deregister_task_definition(taskDefinition=one)
    out = ecs.delete_task_definitions(taskDefinitions=[one])
    assert out["failures"] == []
    assert out["taskDefinitions"][0]["taskDefinitionArn"] == one
    assert out["taskDefinitions"][0]["status"] == "DELETE_IN_PROGRESS"
    assert ecs.describe_task_definition(taskDefinition=one)["taskDefinition"]["status"] == "DELETE_IN_PROGRESS"
    assert one in ecs.list_task_definitions(familyPrefix=family, status="DELETE_IN_PROGRESS")["taskDefinitionArns"]
    assert ecs.list_task_definitions(familyPrefix=family, status="INACTIVE")["taskDefinitionArns"] == []
    with pytest.raises(Exception) as e:
        run(ecs, cluster, one)
    assert error(e) == ("ClientException", 400)
    assert run(ecs, cluster, two)["tasks"][0]["taskDefinitionArn"] == two


# --- tasks --------------------------------------------------------------------------------------------------------


def test_run_task_count_overrides_startedby_group_tags(ecs, cluster, families, account):
    td = register(ecs, families, containers=[sim("app"), sim("side", essential=False)])
    overrides = {"containerOverrides": [{"name": "app", "command": ["run", "--fast"],
                                         "environment": [{"name": "LEVEL", "value": "debug"}]}]}
    out = run(ecs, cluster, td["taskDefinitionArn"], count=3, startedBy="e2e-runner", group="batch:nightly",
              overrides=overrides, tags=[{"key": "job", "value": "nightly"}])
    assert out["failures"] == []
    tasks = out["tasks"]
    assert len(tasks) == 3 and len({t["taskArn"] for t in tasks}) == 3
    for t in tasks:
        assert re.fullmatch(rf"arn:aws:ecs:us-east-1:{account}:task/{cluster}/[0-9a-f]{{32}}", t["taskArn"])
        assert t["clusterArn"].endswith(f":cluster/{cluster}")
        assert t["taskDefinitionArn"] == td["taskDefinitionArn"]
        assert t["desiredStatus"] == "RUNNING"
        assert t["lastStatus"] in ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING")
        assert t["launchType"] == "FARGATE"
        assert t["startedBy"] == "e2e-runner"
        assert t["group"] == "batch:nightly"
        assert t["cpu"] == "256" and t["memory"] == "512"
        assert t["overrides"]["containerOverrides"] == overrides["containerOverrides"]
        assert sorted(c["name"] for c in t["containers"]) == ["app", "side"]
        assert any(a["type"] == "ElasticNetworkInterface" for a in t["attachments"])
        assert near_now(t["createdAt"])
    # Without a group, the task's group is the family.
    plain = run(ecs, cluster, td["taskDefinitionArn"])["tasks"][0]
    assert plain["group"] == f"family:{td['family']}"
    assert "startedBy" not in plain


def test_tasks_running_waiter_and_lifecycle_timestamps(ecs, cluster, families):
    td = register(ecs, families)
    arn = run(ecs, cluster, td["taskDefinitionArn"])["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[arn], WaiterConfig=FAST)
    t = describe_task(ecs, cluster, arn)
    assert t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "RUNNING"
    assert t["containers"][0]["lastStatus"] == "RUNNING"
    assert t["connectivity"] == "CONNECTED"
    assert t["createdAt"] <= t["startedAt"]
    assert t["connectivityAt"] <= t["startedAt"]
    assert t["pullStartedAt"] <= t["pullStoppedAt"] <= t["startedAt"]
    eni = next(a for a in t["attachments"] if a["type"] == "ElasticNetworkInterface")
    assert eni["status"] == "ATTACHED"
    assert "privateIPv4Address" in {d["name"] for d in eni["details"]}


def test_capacity_provider_strategy_task(ecs, cluster, families):
    td = register(ecs, families)
    t = ecs.run_task(cluster=cluster, taskDefinition=td["taskDefinitionArn"], networkConfiguration=NETWORK,
                     capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])["tasks"][0]
    assert t["capacityProviderName"] == "FARGATE"
    # AWS reports the Fargate launch type for tasks a Fargate capacity provider places.
    assert t["launchType"] == "FARGATE"
    with pytest.raises(Exception) as e:
        ecs.run_task(cluster=cluster, taskDefinition=td["taskDefinitionArn"], networkConfiguration=NETWORK,
                     launchType="FARGATE", capacityProviderStrategy=[{"capacityProvider": "FARGATE"}])
    assert error(e) == ("InvalidParameterException", 400)


def test_run_task_errors(ecs, cluster, families):
    td = register(ecs, families)["taskDefinitionArn"]
    with pytest.raises(Exception) as e:
        ecs.run_task(cluster=cluster, taskDefinition=td, networkConfiguration=NETWORK)
    assert error(e) == ("InvalidParameterException", 400)
    assert error_message(e) == "No Container Instances were found in your cluster."
    with pytest.raises(Exception) as e:
        ecs.run_task(cluster=cluster, taskDefinition=td, launchType="FARGATE")
    assert error(e) == ("InvalidParameterException", 400)
    assert error_message(e) == "Network Configuration must be provided when networkMode 'awsvpc' is specified."
    with pytest.raises(Exception) as e:
        run(ecs, cluster, td, count=11)
    assert error(e) == ("InvalidParameterException", 400)
    with pytest.raises(Exception) as e:
        run(ecs, uid("nocluster"), td)
    assert error(e) == ("ClusterNotFoundException", 400)
    with pytest.raises(Exception) as e:
        run(ecs, cluster, uid("nofamily"))
    assert error(e) == ("ClientException", 400)


def test_list_tasks_filters(ecs, cluster, families):
    a = register(ecs, families)
    b = register(ecs, families)
    ta = run(ecs, cluster, a["taskDefinitionArn"], count=2, startedBy="alpha")["tasks"]
    tb = run(ecs, cluster, b["taskDefinitionArn"], startedBy="beta")["tasks"]
    svc = create_service(ecs, cluster, b["taskDefinitionArn"], desired=1)
    svc_tasks = wait_for(lambda: ecs.list_tasks(cluster=cluster, serviceName=svc["serviceName"])["taskArns"])
    assert len(svc_tasks) == 1
    ta_arns = {t["taskArn"] for t in ta}
    assert set(ecs.list_tasks(cluster=cluster, family=a["family"])["taskArns"]) == ta_arns
    assert set(ecs.list_tasks(cluster=cluster, startedBy="alpha")["taskArns"]) == ta_arns
    assert ecs.list_tasks(cluster=cluster, startedBy="beta")["taskArns"] == [tb[0]["taskArn"]]
    assert set(ecs.list_tasks(cluster=cluster, family=b["family"])["taskArns"]) == {tb[0]["taskArn"], svc_tasks[0]}
    assert len(ecs.list_tasks(cluster=cluster, launchType="FARGATE")["taskArns"]) == 4
    assert ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"] == []
    ecs.stop_task(cluster=cluster, task=tb[0]["taskArn"])
    assert ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"] == [tb[0]["taskArn"]]
    assert tb[0]["taskArn"] not in ecs.list_tasks(cluster=cluster)["taskArns"]
    pages = list(ecs.get_paginator("list_tasks").paginate(cluster=cluster, PaginationConfig={"PageSize": 1}))
    assert sorted(a for p in pages for a in p["taskArns"]) == sorted(ta_arns | {svc_tasks[0]})
    with pytest.raises(Exception) as e:
        ecs.list_tasks(cluster=cluster, family=a["family"], serviceName=svc["serviceName"])
    assert error(e) == ("InvalidParameterException", 400)


def test_describe_tasks_tags_and_missing(ecs, cluster, families, account):
    td = register(ecs, families)
    arn = run(ecs, cluster, td["taskDefinitionArn"], tags=[{"key": "k", "value": "v"}])["tasks"][0]["taskArn"]
    missing = f"arn:aws:ecs:us-east-1:{account}:task/{cluster}/{uuid.uuid4().hex}"
    out = ecs.describe_tasks(cluster=cluster, tasks=[arn, missing])
    assert [t["taskArn"] for t in out["tasks"]] == [arn]
    assert out["tasks"][0].get("tags", []) == []
    assert out["failures"] == [{"arn": missing, "reason": "MISSING"}]
    tagged = ecs.describe_tasks(cluster=cluster, tasks=[arn.rsplit("/", 1)[1]], include=["TAGS"])["tasks"][0]
    assert tagged["taskArn"] == arn
    assert tagged["tags"] == [{"key": "k", "value": "v"}]


def test_stop_task_reason_and_tasks_stopped_waiter(ecs, cluster, families):
    td = register(ecs, families)
    arn = run(ecs, cluster, td["taskDefinitionArn"])["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[arn], WaiterConfig=FAST)
    out = ecs.stop_task(cluster=cluster, task=arn, reason="maintenance window")["task"]
    assert out["desiredStatus"] == "STOPPED"
    assert out["stoppedReason"] == "maintenance window"
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=FAST)
    t = describe_task(ecs, cluster, arn)
    assert t["lastStatus"] == "STOPPED" and t["desiredStatus"] == "STOPPED"
    assert t["stopCode"] == "UserInitiated"
    assert t["stoppedReason"] == "maintenance window"
    assert t["startedAt"] <= t["stoppingAt"] <= t["stoppedAt"]
    assert t["executionStoppedAt"] <= t["stoppedAt"]
    assert all(c["lastStatus"] == "STOPPED" for c in t["containers"])
    # Stopping a stopped task answers it again.
    again = ecs.stop_task(cluster=cluster, task=arn)["task"]
    assert again["lastStatus"] == "STOPPED"
    with pytest.raises(Exception) as e:
        ecs.stop_task(cluster=cluster, task=uuid.uuid4().hex)
    assert error(e) == ("InvalidParameterException", 400)
    assert error_message(e) == "The referenced task was not found."


def test_essential_process_exit_stops_task(ecs, cluster, families):
    td = register(ecs, families, containers=[proc("job", "exit 3")])
    arn = run(ecs, cluster, td["taskDefinitionArn"])["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=FAST)
    t = describe_task(ecs, cluster, arn)
    assert t["lastStatus"] == "STOPPED"
    assert t["stopCode"] == "EssentialContainerExited"
    assert t["stoppedReason"] == "Essential container in task exited"
    c = t["containers"][0]
    assert c["name"] == "job" and c["lastStatus"] == "STOPPED" and c["exitCode"] == 3
    for stamp in ("createdAt", "startedAt", "stoppingAt", "stoppedAt", "executionStoppedAt"):
        assert isinstance(t[stamp], datetime.datetime), stamp
    assert arn in ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"]


def test_tasks_running_waiter_fails_on_stopped_task(ecs, cluster, families):
    td = register(ecs, families, containers=[proc("job", "exit 0")])
    arn = run(ecs, cluster, td["taskDefinitionArn"])["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(cluster=cluster, tasks=[arn], WaiterConfig=FAST)
    with pytest.raises(WaiterError) as e:
        ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[arn], WaiterConfig=FAST)
    assert "failure state" in str(e.value)
    assert describe_task(ecs, cluster, arn)["containers"][0]["exitCode"] == 0


# --- services -----------------------------------------------------------------------------------------------------


def test_create_service_reaches_steady_state(ecs, cluster, families, account):
    td = register(ecs, families)
    name = uid("svc")
    svc = create_service(ecs, cluster, td["taskDefinitionArn"], name=name, desired=2, tags=[{"key": "t", "value": "1"}])
    assert svc["serviceArn"] == f"arn:aws:ecs:us-east-1:{account}:service/{cluster}/{name}"
    assert svc["serviceName"] == name and svc["status"] == "ACTIVE"
    assert svc["desiredCount"] == 2 and svc["launchType"] == "FARGATE"
    assert svc["taskDefinition"] == td["taskDefinitionArn"]
    assert svc["schedulingStrategy"] == "REPLICA"
    assert svc["deploymentController"] == {"type": "ECS"}
    assert svc["deploymentConfiguration"]["maximumPercent"] == 200
    assert svc["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    assert svc["networkConfiguration"] == NETWORK
    assert len(svc["deployments"]) == 1 and svc["deployments"][0]["status"] == "PRIMARY"
    assert svc["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    s = stable(ecs, cluster, name)
    assert s["runningCount"] == 2 and s["pendingCount"] == 0
    d = s["deployments"][0]
    assert d["rolloutState"] == "COMPLETED" and d["runningCount"] == 2 and d["desiredCount"] == 2
    assert re.fullmatch(r"ecs-svc/\d{19}", d["id"])
    msgs = wait_for(lambda: messages(describe_service(ecs, cluster, name))
                    if f"(service {name}) has reached a steady state." in messages(describe_service(ecs, cluster, name))
                    else None)
    assert any(m.startswith(f"(service {name}) has started 2 tasks:") for m in msgs)
    assert f"(service {name}) (deployment {d['id']}) deployment completed." in msgs
    assert svc["serviceArn"] in ecs.list_services(cluster=cluster)["serviceArns"]
    arns = ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]
    assert len(arns) == 2
    for t in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]:
        assert t["group"] == f"service:{name}"
        assert t["startedBy"] == d["id"]
    c = ecs.describe_clusters(clusters=[cluster])["clusters"][0]
    assert c["activeServicesCount"] == 1 and c["runningTasksCount"] == 2


def test_update_desired_count(ecs, cluster, families):
    td = register(ecs, families)
    name = create_service(ecs, cluster, td["taskDefinitionArn"], desired=1)["serviceName"]
    stable(ecs, cluster, name)
    out = ecs.update_service(cluster=cluster, service=name, desiredCount=3)["service"]
    assert out["desiredCount"] == 3
    assert stable(ecs, cluster, name)["runningCount"] == 3
    assert len(ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]) == 3
    ecs.update_service(cluster=cluster, service=name, desiredCount=1)
    s = stable(ecs, cluster, name)
    assert s["runningCount"] == 1 and len(s["deployments"]) == 1
    wait_for(lambda: len(ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]) == 1)
    assert any(m.startswith(f"(service {name}) has stopped 2 running tasks:") for m in messages(s))


def test_update_task_definition_rolls_a_deployment(ecs, cluster, families):
    family = uid("roll")
    one = register(ecs, families, family=family)["taskDefinitionArn"]
    two = register(ecs, families, family=family, containers=[sim(environment=[{"name": "V", "value": "2"}])])["taskDefinitionArn"]
    name = create_service(ecs, cluster, one, desired=2)["serviceName"]
    before = stable(ecs, cluster, name)
    old_id = before["deployments"][0]["id"]
    out = ecs.update_service(cluster=cluster, service=name, taskDefinition=two)["service"]
    assert out["taskDefinition"] == two
    assert [d["status"] for d in out["deployments"]] == ["PRIMARY", "ACTIVE"]
    assert out["deployments"][0]["taskDefinition"] == two
    assert out["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    assert out["deployments"][1]["id"] == old_id and out["deployments"][1]["taskDefinition"] == one
    s = stable(ecs, cluster, name)
    assert len(s["deployments"]) == 1
    d = s["deployments"][0]
    assert d["status"] == "PRIMARY" and d["taskDefinition"] == two and d["rolloutState"] == "COMPLETED"
    arns = ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]
    assert {t["taskDefinitionArn"] for t in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]} == {two}
    stopped = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus="STOPPED")["taskArns"]
    old = ecs.describe_tasks(cluster=cluster, tasks=stopped)["tasks"]
    assert len(old) == 2 and {t["taskDefinitionArn"] for t in old} == {one}
    assert {t["stopCode"] for t in old} == {"ServiceSchedulerInitiated"}
    # forceNewDeployment starts another deployment of the same task definition.
    out = ecs.update_service(cluster=cluster, service=name, forceNewDeployment=True)["service"]
    assert len(out["deployments"]) == 2 and out["deployments"][0]["taskDefinition"] == two
    assert stable(ecs, cluster, name)["deployments"][0]["rolloutState"] == "COMPLETED"


def test_circuit_breaker_rolls_back(ecs, cluster, families):
    family = uid("cb")
    good = register(ecs, families, family=family)["taskDefinitionArn"]
    bad = register(ecs, families, family=family, containers=[proc("app", "exit 1")])["taskDefinitionArn"]
    name = create_service(ecs, cluster, good, desired=1, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}})["serviceName"]
    first = stable(ecs, cluster, name)["deployments"][0]["id"]
    failed_id = ecs.update_service(cluster=cluster, service=name, taskDefinition=bad)["service"]["deployments"][0]["id"]

    def rolled_back():
        s = describe_service(ecs, cluster, name)
        return s if len(s["deployments"]) == 1 and s["deployments"][0]["rolloutState"] == "COMPLETED" \
            and s["deployments"][0]["id"] != failed_id and s["taskDefinition"] == good else None

    s = wait_for(rolled_back, timeout=60, step=0.5)
    assert s["deployments"][0]["taskDefinition"] == good
    msgs = messages(s)
    assert f"(service {name}) (deployment {failed_id}) deployment failed: tasks failed to start." in msgs
    assert any(first in m and "rolling back" in m for m in msgs)
    stopped = ecs.describe_tasks(cluster=cluster, tasks=ecs.list_tasks(
        cluster=cluster, serviceName=name, desiredStatus="STOPPED")["taskArns"])["tasks"]
    bad_tasks = [t for t in stopped if t["taskDefinitionArn"] == bad]
    assert len(bad_tasks) >= 3
    assert {t["stopCode"] for t in bad_tasks} == {"EssentialContainerExited"}


def test_delete_service_needs_force_then_drains(ecs, cluster, families):
    td = register(ecs, families)
    name = create_service(ecs, cluster, td["taskDefinitionArn"], desired=2)["serviceName"]
    stable(ecs, cluster, name)
    with pytest.raises(Exception) as e:
        ecs.delete_service(cluster=cluster, service=name)
    assert error(e) == ("InvalidParameterException", 400)
    assert error_message(e) == "The service cannot be stopped while it is scaled above 0."
    out = ecs.delete_service(cluster=cluster, service=name, force=True)["service"]
    assert out["status"] == "DRAINING"
    assert out["desiredCount"] == 0
    ecs.get_waiter("services_inactive").wait(cluster=cluster, services=[name], WaiterConfig=FAST)
    s = describe_service(ecs, cluster, name)
    assert s["status"] == "INACTIVE" and s["runningCount"] == 0
    assert s["serviceArn"] not in ecs.list_services(cluster=cluster)["serviceArns"]
    assert ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"] == []
    with pytest.raises(Exception) as e:
        ecs.update_service(cluster=cluster, service=name, desiredCount=1)
    assert error(e) == ("ServiceNotActiveException", 400)
    with pytest.raises(Exception) as e:
        ecs.delete_service(cluster=cluster, service=name, force=True)
    assert error(e) == ("ServiceNotActiveException", 400)
    # The name is free again once the service is INACTIVE.
    again = create_service(ecs, cluster, td["taskDefinitionArn"], name=name, desired=0)
    assert again["status"] == "ACTIVE"


def test_delete_service_at_zero_needs_no_force(ecs, cluster, families):
    td = register(ecs, families)
    name = create_service(ecs, cluster, td["taskDefinitionArn"], desired=0)["serviceName"]
    assert ecs.delete_service(cluster=cluster, service=name)["service"]["status"] == "DRAINING"


def test_create_service_retried_with_its_client_token_answers_the_same_service(ecs, cluster, families):
    td = register(ecs, families)["taskDefinitionArn"]
    name = uid("tok")
    first = ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=0,
                               launchType="FARGATE", networkConfiguration=NETWORK, clientToken="retry-1")["service"]
    again = ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=0,
                               launchType="FARGATE", networkConfiguration=NETWORK, clientToken="retry-1")["service"]
    assert again["serviceArn"] == first["serviceArn"] and again["createdAt"] == first["createdAt"]
    with pytest.raises(Exception) as e:
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=td, desiredCount=0,
                           launchType="FARGATE", networkConfiguration=NETWORK, clientToken="retry-2")
    assert error(e) == ("InvalidParameterException", 400)


def test_service_errors(ecs, cluster, families):
    td = register(ecs, families)["taskDefinitionArn"]
    name = create_service(ecs, cluster, td, desired=0)["serviceName"]
    with pytest.raises(Exception) as e:
        create_service(ecs, cluster, td, name=name, desired=0)
    assert error(e) == ("InvalidParameterException", 400)
    assert error_message(e) == "Creation of service was not idempotent."
    ghost = uid("ghost")
    with pytest.raises(Exception) as e:
        ecs.update_service(cluster=cluster, service=ghost, desiredCount=1)
    assert error(e) == ("ServiceNotFoundException", 400)
    with pytest.raises(Exception) as e:
        ecs.delete_service(cluster=cluster, service=ghost)
    assert error(e) == ("ServiceNotFoundException", 400)
    out = ecs.describe_services(cluster=cluster, services=[name, ghost])
    assert [s["serviceName"] for s in out["services"]] == [name]
    assert len(out["failures"]) == 1 and out["failures"][0]["reason"] == "MISSING"
    assert out["failures"][0]["arn"].endswith(ghost)
    with pytest.raises(Exception) as e:
        ecs.create_service(cluster=cluster, serviceName=uid("nonet"), taskDefinition=td, desiredCount=1,
                           launchType="FARGATE")
    assert error(e) == ("InvalidParameterException", 400)
    with pytest.raises(Exception) as e:
        ecs.create_service(cluster=uid("nocluster"), serviceName=uid("x"), taskDefinition=td,
                           launchType="FARGATE", networkConfiguration=NETWORK)
    assert error(e) == ("ClusterNotFoundException", 400)


def test_services_stable_waiter_fails_for_missing_and_draining(ecs, cluster, families):
    with pytest.raises(WaiterError):
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=[uid("absent")], WaiterConfig=FAST)
    td = register(ecs, families)
    name = create_service(ecs, cluster, td["taskDefinitionArn"], desired=1)["serviceName"]
    stable(ecs, cluster, name)
    ecs.delete_service(cluster=cluster, service=name, force=True)
    ecs.get_waiter("services_inactive").wait(cluster=cluster, services=[name], WaiterConfig=FAST)
    with pytest.raises(WaiterError) as e:
        ecs.get_waiter("services_stable").wait(cluster=cluster, services=[name], WaiterConfig=FAST)
    assert "failure state" in str(e.value)


def test_list_services_paginates(ecs, cluster, families):
    td = register(ecs, families)["taskDefinitionArn"]
    arns = {create_service(ecs, cluster, td, desired=0)["serviceArn"] for _ in range(3)}
    pages = list(ecs.get_paginator("list_services").paginate(cluster=cluster, PaginationConfig={"PageSize": 1}))
    assert all(len(p["serviceArns"]) <= 1 for p in pages)
    assert {a for p in pages for a in p["serviceArns"]} == arns
    assert set(ecs.list_services(cluster=cluster, launchType="FARGATE")["serviceArns"]) == arns
    assert ecs.list_services(cluster=cluster, launchType="EC2")["serviceArns"] == []
    # Without maxResults, ListServices answers at most 10 services and a token.
    arns |= {create_service(ecs, cluster, td, desired=0)["serviceArn"] for _ in range(9)}
    first = ecs.list_services(cluster=cluster)
    assert len(first["serviceArns"]) == 10 and first["nextToken"]
    rest = ecs.list_services(cluster=cluster, nextToken=first["nextToken"])
    assert set(first["serviceArns"]) | set(rest["serviceArns"]) == arns and "nextToken" not in rest


def test_list_services_by_namespace_paginates(ecs, cluster, families):
    td = register(ecs, families)["taskDefinitionArn"]
    ns = uid("ns")
    arns = {create_service(ecs, cluster, td, desired=0,
                           serviceConnectConfiguration={"enabled": True, "namespace": ns})["serviceArn"]
            for _ in range(2)}
    create_service(ecs, cluster, td, desired=0)
    pages = list(ecs.get_paginator("list_services_by_namespace").paginate(namespace=ns, PaginationConfig={"PageSize": 1}))
    assert {a for p in pages for a in p["serviceArns"]} == arns


# --- tags ---------------------------------------------------------------------------------------------------------


def check_tagging(ecs, arn, initial=()):
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == list(initial)
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "3"}])
    tags = {t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags == {**{t["key"]: t["value"] for t in initial}, "a": "3", "b": "2"}
    ecs.untag_resource(resourceArn=arn, tagKeys=["a", "never-there"])
    tags = {t["key"]: t["value"] for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags == {**{t["key"]: t["value"] for t in initial}, "b": "2"}


def test_tags_on_cluster_task_definition_service_task(ecs, cluster, families):
    c_arn = ecs.describe_clusters(clusters=[cluster])["clusters"][0]["clusterArn"]
    check_tagging(ecs, c_arn)
    td = ecs.register_task_definition(family=uid("tagfam"), networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                      cpu="256", memory="512", containerDefinitions=[sim()],
                                      tags=[{"key": "from", "value": "register"}])
    families.append(td["taskDefinition"]["family"])
    check_tagging(ecs, td["taskDefinition"]["taskDefinitionArn"], [{"key": "from", "value": "register"}])
    td_arn = td["taskDefinition"]["taskDefinitionArn"]
    svc = create_service(ecs, cluster, td_arn, desired=0, tags=[{"key": "svc", "value": "x"}])
    check_tagging(ecs, svc["serviceArn"], [{"key": "svc", "value": "x"}])
    task = run(ecs, cluster, td_arn)["tasks"][0]
    check_tagging(ecs, task["taskArn"])
    assert describe_task(ecs, cluster, task["taskArn"], include=["TAGS"])["tags"] == [{"key": "b", "value": "2"}]
    svc_doc = ecs.describe_services(cluster=cluster, services=[svc["serviceName"]], include=["TAGS"])["services"][0]
    assert {t["key"] for t in svc_doc["tags"]} == {"svc", "b"}
    with pytest.raises(Exception) as e:
        ecs.tag_resource(resourceArn=c_arn, tags=[{"key": "aws:reserved", "value": "x"}])
    assert error(e) == ("InvalidParameterException", 400)


def test_propagate_tags_from_task_definition(ecs, cluster, families):
    td = ecs.register_task_definition(family=uid("prop"), networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                      cpu="256", memory="512", containerDefinitions=[sim()],
                                      tags=[{"key": "owner", "value": "td"}])["taskDefinition"]
    families.append(td["family"])
    t = run(ecs, cluster, td["taskDefinitionArn"], propagateTags="TASK_DEFINITION", tags=[{"key": "own", "value": "task"}])
    arn = t["tasks"][0]["taskArn"]
    tags = {x["key"]: x["value"] for x in ecs.list_tags_for_resource(resourceArn=arn)["tags"]}
    assert tags == {"owner": "td", "own": "task"}


# --- account settings ---------------------------------------------------------------------------------------------


def test_account_settings_principal_default_effective_delete(ecs, account):
    user = f"arn:aws:iam::{account}:user/e2e-{uuid.uuid4().hex[:8]}"
    out = ecs.put_account_setting(name="awsvpcTrunking", value="enabled", principalArn=user)["setting"]
    assert out == {"name": "awsvpcTrunking", "value": "enabled", "principalArn": user, "type": "user"}
    mine = ecs.list_account_settings(name="awsvpcTrunking", principalArn=user)["settings"]
    assert [(s["name"], s["value"], s["principalArn"]) for s in mine] == [("awsvpcTrunking", "enabled", user)]
    # Effective settings list every setting, the principal's own value winning.
    pages = list(ecs.get_paginator("list_account_settings").paginate(
        principalArn=user, effectiveSettings=True, PaginationConfig={"PageSize": 2}))
    assert all(len(p["settings"]) <= 2 for p in pages)
    effective = {s["name"]: s["value"] for p in pages for s in p["settings"]}
    assert effective["awsvpcTrunking"] == "enabled"
    assert {"serviceLongArnFormat", "taskLongArnFormat", "containerInstanceLongArnFormat", "containerInsights"} <= set(effective)
    assert effective["serviceLongArnFormat"] == "enabled"
    deleted = ecs.delete_account_setting(name="awsvpcTrunking", principalArn=user)["setting"]
    assert deleted["name"] == "awsvpcTrunking" and deleted["value"] == "enabled"
    assert ecs.list_account_settings(name="awsvpcTrunking", principalArn=user)["settings"] == []
    effective = {s["name"]: s["value"] for s in ecs.list_account_settings(
        name="awsvpcTrunking", principalArn=user, effectiveSettings=True)["settings"]}
    assert effective == {"awsvpcTrunking": "disabled"}


def test_account_setting_default(ecs, account):
    user = f"arn:aws:iam::{account}:user/e2e-{uuid.uuid4().hex[:8]}"
    try:
        out = ecs.put_account_setting_default(name="fargateTaskRetirementWaitPeriod", value="14")["setting"]
        assert out["name"] == "fargateTaskRetirementWaitPeriod" and out["value"] == "14"
        eff = ecs.list_account_settings(name="fargateTaskRetirementWaitPeriod", principalArn=user,
                                        effectiveSettings=True)["settings"]
        assert [s["value"] for s in eff] == ["14"]
        with pytest.raises(Exception) as e:
            ecs.put_account_setting_default(name="fargateTaskRetirementWaitPeriod", value="3")
        assert error(e) == ("InvalidParameterException", 400)
        with pytest.raises(Exception) as e:
            ecs.put_account_setting(name="noSuchSetting", value="enabled")
        assert error(e)[0] in ("InvalidParameterException", "ValidationException")
    finally:
        ecs.put_account_setting_default(name="fargateTaskRetirementWaitPeriod", value="7")


# --- capacity providers -------------------------------------------------------------------------------------------


def test_capacity_providers(ecs, account):
    builtin = ecs.describe_capacity_providers(capacityProviders=["FARGATE", "FARGATE_SPOT"])["capacityProviders"]
    assert [(c["name"], c["status"]) for c in builtin] == [("FARGATE", "ACTIVE"), ("FARGATE_SPOT", "ACTIVE")]
    name = uid("cp")
    asg = f"arn:aws:autoscaling:us-east-1:{account}:autoScalingGroup:{uuid.uuid4()}:autoScalingGroupName/{name}"
    cp = ecs.create_capacity_provider(name=name, autoScalingGroupProvider={
        "autoScalingGroupArn": asg, "managedScaling": {"status": "ENABLED", "targetCapacity": 80}},
        tags=[{"key": "k", "value": "v"}])["capacityProvider"]
    assert cp["capacityProviderArn"] == f"arn:aws:ecs:us-east-1:{account}:capacity-provider/{name}"
    assert cp["status"] == "ACTIVE"
    scaling = cp["autoScalingGroupProvider"]["managedScaling"]
    assert scaling["status"] == "ENABLED" and scaling["targetCapacity"] == 80
    assert scaling["minimumScalingStepSize"] == 1 and scaling["maximumScalingStepSize"] == 10000
    assert cp["autoScalingGroupProvider"]["managedTerminationProtection"] == "DISABLED"
    with pytest.raises(Exception) as e:
        ecs.create_capacity_provider(name=name, autoScalingGroupProvider={"autoScalingGroupArn": asg})
    assert error(e) == ("InvalidParameterException", 400)
    with pytest.raises(Exception) as e:
        ecs.create_capacity_provider(name="fargate-" + name, autoScalingGroupProvider={"autoScalingGroupArn": asg})
    assert error(e) == ("InvalidParameterException", 400)
    got = ecs.describe_capacity_providers(capacityProviders=[name, uid("absent")], include=["TAGS"])
    assert [c["name"] for c in got["capacityProviders"]] == [name]
    assert got["capacityProviders"][0]["tags"] == [{"key": "k", "value": "v"}]
    assert got["failures"][0]["reason"] == "MISSING"
    listed = [c["name"] for c in ecs.describe_capacity_providers()["capacityProviders"]]
    assert "FARGATE" in listed
    up = ecs.update_capacity_provider(name=name, autoScalingGroupProvider={
        "managedScaling": {"targetCapacity": 50}})["capacityProvider"]
    assert up["autoScalingGroupProvider"]["managedScaling"]["targetCapacity"] == 50
    assert up["autoScalingGroupProvider"]["managedScaling"]["status"] == "ENABLED"
    assert up["updateStatus"] == "UPDATE_COMPLETE"
    # A provider in a cluster's list cannot go.
    cl = uid("cpcl")
    ecs.create_cluster(clusterName=cl, capacityProviders=[name])
    with pytest.raises(Exception) as e:
        ecs.delete_capacity_provider(capacityProvider=name)
    assert error(e)[0] in ("InvalidParameterException", "ResourceInUseException")
    ecs.delete_cluster(cluster=cl)
    gone = ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert gone["name"] == name
    after = ecs.describe_capacity_providers(capacityProviders=[name])
    assert after["capacityProviders"] == [] or after["capacityProviders"][0]["status"] == "INACTIVE"


def test_delete_capacity_provider_answers_delete_in_progress(ecs, account):
    # AWS deletes a capacity provider asynchronously: DeleteCapacityProvider answers it still ACTIVE, with
    # updateStatus DELETE_IN_PROGRESS (the CLI reference's delete-capacity-provider example).
    name = uid("cpdel")
    asg = f"arn:aws:autoscaling:us-east-1:{account}:autoScalingGroup:{uuid.uuid4()}:autoScalingGroupName/{name}"
    ecs.create_capacity_provider(name=name, autoScalingGroupProvider={"autoScalingGroupArn": asg})
    gone = ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert gone["name"] == name
    assert gone["status"] == "ACTIVE"
    assert gone["updateStatus"] == "DELETE_IN_PROGRESS"
