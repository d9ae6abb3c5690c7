"""Application Auto Scaling through boto3 against real ECS services: registering scalable targets (with the capacity
clamped into the new bounds), target-tracking and step policies, describe calls and their paginators, AWS's error
codes and messages, deregistration, tags, and scaling as it happens: the test sets an ECS service's metrics
(`POST /_cloudless/ecs/metrics`) after moving the emulator's clock past the cooldown and runs a sweep
(`POST /_cloudless/application-autoscaling/evaluate`), then reads the desired count back from ECS.

The module runs on a server of its own because it moves the clock (or on E2E_ENDPOINT when set)."""
import datetime
import os
import shutil
import tempfile
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import error, error_message, make_client
from server import Server

ECS_DIMENSION = "ecs:service:DesiredCount"


@pytest.fixture(scope="module")
def aas_endpoint():
    if os.environ.get("E2E_ENDPOINT"):
        yield os.environ["E2E_ENDPOINT"]
        return
    data_dir = tempfile.mkdtemp(prefix="cloudless-aas-")
    s = Server(data_dir=data_dir).start()
    yield s.endpoint
    s.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def ecs(aas_endpoint):
    return make_client(aas_endpoint, "ecs")


@pytest.fixture(scope="module")
def aas(aas_endpoint):
    return make_client(aas_endpoint, "application-autoscaling")


@pytest.fixture(scope="module")
def account(aas_endpoint):
    return make_client(aas_endpoint, "sts").get_caller_identity()["Account"]


@pytest.fixture(scope="module")
def cluster(ecs):
    name = f"aas-{uuid.uuid4().hex[:10]}"
    ecs.create_cluster(clusterName=name)
    family = f"aas-{uuid.uuid4().hex[:10]}"
    ecs.register_task_definition(family=family, containerDefinitions=[{
        "name": "app", "image": "busybox", "command": ["sleep", "3600"], "memory": 64, "essential": True,
    }])
    yield {"name": name, "family": family, "services": []}
    for service in ecs.list_services(cluster=name).get("serviceArns", []):
        try:
            ecs.update_service(cluster=name, service=service, desiredCount=0)
            ecs.delete_service(cluster=name, service=service, force=True)
        except ClientError:
            pass
    try:
        ecs.delete_cluster(cluster=name)
    except ClientError:
        pass


def new_service(ecs, cluster, desired=1):
    """A fresh ECS service in the module's cluster; its scalable-target resource ID."""
    name = f"svc-{uuid.uuid4().hex[:8]}"
    ecs.create_service(cluster=cluster["name"], serviceName=name, taskDefinition=cluster["family"], desiredCount=desired)
    return name, f"service/{cluster['name']}/{name}"


def desired_count(ecs, cluster, service):
    return ecs.describe_services(cluster=cluster["name"], services=[service])["services"][0]["desiredCount"]


def register(aas, resource_id, lo, hi, **kw):
    return aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=ECS_DIMENSION,
                                        MinCapacity=lo, MaxCapacity=hi, **kw)


def cpu_policy(aas, resource_id, name="cpu", target=50.0, **config):
    return aas.put_scaling_policy(
        PolicyName=name, ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=ECS_DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": target,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            **config,
        })


def set_metrics(endpoint, cluster, service, cpu, memory=10.0):
    r = requests.post(f"{endpoint}/_cloudless/ecs/metrics",
                      json={"cluster": cluster["name"], "service": service, "cpu": cpu, "memory": memory}, timeout=10)
    assert r.status_code == 200, r.text


def advance(endpoint, seconds):
    r = requests.post(f"{endpoint}/_cloudless/clock", json={"advance": seconds}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["now"]


def evaluate(endpoint):
    r = requests.post(f"{endpoint}/_cloudless/application-autoscaling/evaluate", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["evaluated"]


def sweep(endpoint, cluster, service, cpu, after):
    """Moves the clock `after` seconds, sets the service's CPU, then runs a sweep. In this order a background sweep
    that runs in between does exactly what the explicit one would (same clock, same metrics), so results do not
    depend on the server's own sweep timer."""
    advance(endpoint, after)
    set_metrics(endpoint, cluster, service, cpu=cpu)
    return evaluate(endpoint)


def activities(aas, resource_id):
    return aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingActivities"]


def test_register_answers_the_target_and_clamps_the_desired_count(aas, ecs, cluster, account):
    service, rid = new_service(ecs, cluster)
    arn = register(aas, rid, 2, 5)["ScalableTargetARN"]
    assert arn.startswith(f"arn:aws:application-autoscaling:us-east-1:{account}:scalable-target/")
    [t] = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])["ScalableTargets"]
    assert (t["MinCapacity"], t["MaxCapacity"], t["ScalableDimension"]) == (2, 5, ECS_DIMENSION)
    assert t["ScalableTargetARN"] == arn
    assert t["RoleARN"] == (f"arn:aws:iam::{account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
                            "AWSServiceRoleForApplicationAutoScaling_ECSService")
    assert t["SuspendedState"] == {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False,
                                   "ScheduledScalingSuspended": False}
    assert isinstance(t["CreationTime"], datetime.datetime)
    # Desired count 1 is below the new minimum: AWS raises it at once and says why.
    assert desired_count(ecs, cluster, service) == 2
    [a] = activities(aas, rid)
    assert a["Description"] == "Setting desired count to 2."
    assert a["Cause"] == "minimum capacity was set to 2"
    assert a["StatusCode"] == "Successful"
    # Registering again updates the bounds in place.
    assert register(aas, rid, 1, 3)["ScalableTargetARN"] == arn
    [t] = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])["ScalableTargets"]
    assert (t["MinCapacity"], t["MaxCapacity"]) == (1, 3)


def test_a_missing_ecs_service_cannot_be_registered(aas, cluster):
    rid = f"service/{cluster['name']}/no-such-service"
    with pytest.raises(ClientError) as e:
        register(aas, rid, 1, 2)
    assert error(e) == ("ValidationException", 400)
    assert error_message(e) == f"ECS service doesn't exist: {rid}"


def test_policies_need_a_registered_target(aas, ecs, cluster):
    _, rid = new_service(ecs, cluster)
    with pytest.raises(ClientError) as e:
        cpu_policy(aas, rid)
    assert error(e) == ("ObjectNotFoundException", 400)
    assert error_message(e) == (f"No scalable target registered for service namespace: ecs, resource ID: {rid}, "
                                f"scalable dimension: {ECS_DIMENSION}")


def test_target_tracking_policy_has_aws_arns_and_alarms(aas, ecs, cluster, account):
    _, rid = new_service(ecs, cluster)
    register(aas, rid, 1, 4)
    out = cpu_policy(aas, rid, ScaleOutCooldown=60, ScaleInCooldown=120)
    assert out["PolicyARN"].startswith(f"arn:aws:autoscaling:us-east-1:{account}:scalingPolicy:")
    assert out["PolicyARN"].endswith(f":resource/ecs/{rid}:policyName/cpu")
    names = [a["AlarmName"] for a in out["Alarms"]]
    assert len(names) == 2
    assert names[0].startswith(f"TargetTracking-{rid}-AlarmHigh-")
    assert names[1].startswith(f"TargetTracking-{rid}-AlarmLow-")
    for a in out["Alarms"]:
        assert a["AlarmARN"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{a['AlarmName']}"
    [p] = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=rid)["ScalingPolicies"]
    assert p["PolicyARN"] == out["PolicyARN"] and p["PolicyType"] == "TargetTrackingScaling"
    config = p["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 50.0 and config["ScaleOutCooldown"] == 60 and config["ScaleInCooldown"] == 120
    assert config["PredefinedMetricSpecification"] == {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}
    assert [a["AlarmName"] for a in p["Alarms"]] == names


def test_step_scaling_policy_is_kept_as_sent(aas, ecs, cluster):
    _, rid = new_service(ecs, cluster)
    register(aas, rid, 1, 4)
    step = {"AdjustmentType": "ChangeInCapacity", "Cooldown": 60, "MetricAggregationType": "Average",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}]}
    aas.put_scaling_policy(PolicyName="step", ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=ECS_DIMENSION,
                           PolicyType="StepScaling", StepScalingPolicyConfiguration=step)
    [p] = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=rid, PolicyNames=["step"])["ScalingPolicies"]
    assert p["PolicyType"] == "StepScaling"
    assert p["StepScalingPolicyConfiguration"] == step


def test_target_tracking_scales_the_service_out_and_back_in(aas, ecs, cluster, aas_endpoint):
    service, rid = new_service(ecs, cluster)
    register(aas, rid, 1, 6)
    alarms = cpu_policy(aas, rid)["Alarms"]
    high = next(a["AlarmName"] for a in alarms if "-AlarmHigh-" in a["AlarmName"])
    low = next(a["AlarmName"] for a in alarms if "-AlarmLow-" in a["AlarmName"])

    assert sweep(aas_endpoint, cluster, service, cpu=90.0, after=400) >= 1
    # 1 task at 90 % for a 50 % target: ceil(1 * 90 / 50) = 2.
    assert desired_count(ecs, cluster, service) == 2
    latest = activities(aas, rid)[0]
    assert latest["Description"] == "Setting desired count to 2."
    assert latest["Cause"] == f"monitor alarm {high} in state ALARM triggered policy cpu"
    assert latest["StatusCode"] == "Successful"
    assert latest["EndTime"] >= latest["StartTime"]

    # Within the scale-out cooldown nothing moves; after it, the service grows again (ceil(2 * 1.8) = 4).
    sweep(aas_endpoint, cluster, service, cpu=90.0, after=0)
    assert desired_count(ecs, cluster, service) == 2
    sweep(aas_endpoint, cluster, service, cpu=90.0, after=400)
    assert desired_count(ecs, cluster, service) == 4

    # Idle: back in, never below the minimum.
    sweep(aas_endpoint, cluster, service, cpu=5.0, after=400)
    assert desired_count(ecs, cluster, service) == 1
    newest = activities(aas, rid)
    assert newest[0]["Cause"] == f"monitor alarm {low} in state ALARM triggered policy cpu"
    assert [a["Description"] for a in newest] == ["Setting desired count to 1.", "Setting desired count to 4.",
                                                  "Setting desired count to 2."]


def test_disable_scale_in_keeps_the_capacity(aas, ecs, cluster, aas_endpoint):
    service, rid = new_service(ecs, cluster, desired=3)
    register(aas, rid, 1, 6)
    out = cpu_policy(aas, rid, DisableScaleIn=True)
    assert len(out["Alarms"]) == 1
    sweep(aas_endpoint, cluster, service, cpu=1.0, after=400)
    assert desired_count(ecs, cluster, service) == 3
    assert activities(aas, rid) == []


def test_describe_paginates(aas, ecs, cluster):
    rids = []
    for _ in range(5):
        _, rid = new_service(ecs, cluster, desired=0)
        register(aas, rid, 0, 2)
        cpu_policy(aas, rid)
        rids.append(rid)
    page = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=rids, MaxResults=2)
    assert len(page["ScalableTargets"]) == 2 and "NextToken" in page
    targets = [t["ResourceId"] for p in aas.get_paginator("describe_scalable_targets").paginate(
        ServiceNamespace="ecs", ResourceIds=rids, PaginationConfig={"PageSize": 2}) for t in p["ScalableTargets"]]
    assert sorted(targets) == sorted(rids)
    policies = [p["ResourceId"] for page in aas.get_paginator("describe_scaling_policies").paginate(
        ServiceNamespace="ecs", PaginationConfig={"PageSize": 2}) for p in page["ScalingPolicies"]]
    assert set(rids) <= set(policies)
    with pytest.raises(ClientError) as e:
        aas.describe_scalable_targets(ServiceNamespace="ecs", NextToken="not-a-token")
    assert error(e) == ("InvalidNextTokenException", 400)


def test_errors_carry_aws_codes_and_messages(aas, ecs, cluster):
    _, rid = new_service(ecs, cluster)
    with pytest.raises(ClientError) as e:
        aas.describe_scalable_targets(ServiceNamespace="nope")
    assert error(e) == ("ValidationException", 400)
    assert error_message(e).startswith("1 validation error detected: Value 'nope' at 'serviceNamespace' failed to "
                                       "satisfy constraint: Member must satisfy enum value set: [ecs,")
    with pytest.raises(ClientError) as e:
        register(aas, rid, 5, 2)
    assert error(e) == ("ValidationException", 400)
    register(aas, rid, 1, 2)
    with pytest.raises(ClientError) as e:
        aas.delete_scaling_policy(PolicyName="absent", ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=ECS_DIMENSION)
    assert error(e) == ("ObjectNotFoundException", 400)
    assert error_message(e) == (f"No scaling policy found for service namespace: ecs, resource ID: {rid}, "
                                f"scalable dimension: {ECS_DIMENSION}, policy name: absent")
    with pytest.raises(ClientError) as e:
        aas.delete_scheduled_action(ScheduledActionName="absent", ServiceNamespace="ecs", ResourceId=rid,
                                    ScalableDimension=ECS_DIMENSION)
    assert error(e) == ("ObjectNotFoundException", 400)


def test_deregistering_removes_the_policies_and_scheduled_actions(aas, ecs, cluster):
    _, rid = new_service(ecs, cluster)
    register(aas, rid, 1, 3)
    cpu_policy(aas, rid)
    aas.put_scheduled_action(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=ECS_DIMENSION,
                             ScheduledActionName="nightly", Schedule="cron(0 22 * * ? *)",
                             ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 1})
    aas.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=ECS_DIMENSION)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])["ScalableTargets"] == []
    assert aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=rid)["ScalingPolicies"] == []
    assert aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=rid)["ScheduledActions"] == []
    with pytest.raises(ClientError) as e:
        aas.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=ECS_DIMENSION)
    assert error(e) == ("ObjectNotFoundException", 400)


def test_tags(aas, ecs, cluster, account):
    _, rid = new_service(ecs, cluster)
    arn = register(aas, rid, 1, 3, Tags={"team": "a"})["ScalableTargetARN"]
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "a"}
    aas.tag_resource(ResourceARN=arn, Tags={"env": "e2e", "team": "b"})
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"env": "e2e", "team": "b"}
    aas.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"env": "e2e"}
    unknown = f"arn:aws:application-autoscaling:us-east-1:{account}:scalable-target/0123456789abcdef0123456789abcdef"
    with pytest.raises(ClientError) as e:
        aas.list_tags_for_resource(ResourceARN=unknown)
    assert error(e) == ("ResourceNotFoundException", 400)


def test_a_scheduled_action_applies_when_the_clock_reaches_it(aas, ecs, cluster, aas_endpoint):
    service, rid = new_service(ecs, cluster)
    register(aas, rid, 1, 3)
    now = requests.get(f"{aas_endpoint}/_cloudless/clock", timeout=10).json()["now"]
    at = datetime.datetime.fromtimestamp(now + 600, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    aas.put_scheduled_action(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=ECS_DIMENSION,
                             ScheduledActionName="peak", Schedule=f"at({at})",
                             ScalableTargetAction={"MinCapacity": 4, "MaxCapacity": 8})
    [a] = aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=rid)["ScheduledActions"]
    assert a["Schedule"] == f"at({at})" and a["ScalableTargetAction"] == {"MinCapacity": 4, "MaxCapacity": 8}
    assert a["ScheduledActionARN"].endswith(f":resource/ecs/{rid}:scheduledActionName/peak")
    evaluate(aas_endpoint)
    assert desired_count(ecs, cluster, service) == 1
    advance(aas_endpoint, 700)
    evaluate(aas_endpoint)
    assert desired_count(ecs, cluster, service) == 4
    [t] = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])["ScalableTargets"]
    assert (t["MinCapacity"], t["MaxCapacity"]) == (4, 8)
    causes = [x["Cause"] for x in activities(aas, rid)]
    assert causes[:2] == ["minimum capacity was set to 4", "scheduled action name peak was triggered"]
    aas.delete_scheduled_action(ServiceNamespace="ecs", ResourceId=rid, ScalableDimension=ECS_DIMENSION,
                                ScheduledActionName="peak")
    assert aas.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=rid)["ScheduledActions"] == []
