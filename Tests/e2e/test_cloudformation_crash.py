"""kill -9 of the server in the middle of a stack operation, then a restart on the same data folder: the stack ends
in a terminal state (never left IN_PROGRESS) and nothing is orphaned.

- During a create, while the ECS service (which completes only once stable, a second or so) and three Lambda
  functions are in progress: after the restart the stack is ROLLBACK_COMPLETE and every resource it had made or
  was making is gone: the ECS service and cluster, the task definition, the functions and their role, the queue.
- During a delete of a complete stack: after the restart the stack is DELETE_COMPLETE, with nothing left.
- During an update (the service from two tasks to three, waiting to be stable, and a queue added): after the restart
  the stack is UPDATE_ROLLBACK_COMPLETE, the service is back to two tasks and the added queue is gone.
- During a replacement (a new ServiceName: a second service made and waited for): after the restart the stack is
  UPDATE_ROLLBACK_COMPLETE with its first service, and the second one is gone.

Runs its own server (never the shared session one)."""
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client
from server import Server

FUNCTION = """
  Function{n}:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub '${{AWS::StackName}}-fn{n}'
      Runtime: python3.11
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              return {n}
"""

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Queue:
    Type: AWS::SQS::Queue
  Cluster:
    Type: AWS::ECS::Cluster
  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      RequiresCompatibilities: [FARGATE]
      NetworkMode: awsvpc
      Cpu: '256'
      Memory: '512'
      ContainerDefinitions:
        - Name: app
          Image: example.com/crash/app:1
          Essential: true
          # A service is stable once its tasks are healthy (the first check after 5 s). NEVER_STABLE's check
          # fails, so a create or update waits for its service until the kill, however loaded the machine.
          HealthCheck: {Command: [CMD-SHELL, 'true'], Interval: 5, Timeout: 2, Retries: 1}
  Service:
    Type: AWS::ECS::Service
    Properties:
      Cluster: !Ref Cluster
      TaskDefinition: !Ref TaskDefinition
      DesiredCount: 2
      LaunchType: FARGATE
      NetworkConfiguration: {AwsvpcConfiguration: {Subnets: [subnet-12345678]}}
""" + "".join(FUNCTION.format(n=n) for n in range(3))

NEVER_STABLE = TEMPLATE.replace("[CMD-SHELL, 'true']", "[CMD-SHELL, 'false']")


@pytest.fixture
def crashing():
    """A server of its own on a temporary data folder; `restart()` kills it with SIGKILL and starts it again there."""
    data = tempfile.mkdtemp(prefix="cloudless-cfn-crash-")
    # The service's tasks run a real process (with a health check: see TEMPLATE).
    images = data + "-images.json"
    with open(images, "w") as f:
        json.dump({"example.com/crash/app:*": {"entryPoint": ["sleep"], "command": ["600"]}}, f)
    args = ["--ecs-images", images]

    class Box:
        server = Server(data_dir=data, args=args).start()

        def restart(self):
            self.server.kill9()
            self.server = Server(data_dir=data, port=self.server.port, args=args).start()
            return self.server

    box = Box()
    yield box
    box.server.stop()
    shutil.rmtree(data, ignore_errors=True)
    if os.path.exists(images):
        os.remove(images)


def clients(endpoint):
    return {s: make_client(endpoint, s) for s in ("cloudformation", "ecs", "lambda", "iam", "sqs")}


def in_background(call, **kwargs):
    """Start a stack operation without waiting for its answer: Cloudless answers CreateStack/DeleteStack only once
    the stack is done (up to 10 s), so that waiters succeed on their first poll; the kill comes before."""
    t = threading.Thread(target=lambda: _ignore_errors(call, **kwargs), daemon=True)
    t.start()
    return t


def _ignore_errors(call, **kwargs):
    try:
        call(**kwargs)
    except Exception:
        pass   # the connection dies with the server


def wait_for_event(cfn, stack, logical_id, status, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        except ClientError:   # not created yet
            time.sleep(0.02)
            continue
        if any(e["LogicalResourceId"] == logical_id and e["ResourceStatus"] == status for e in events):
            return events
        time.sleep(0.02)
    raise AssertionError(f"{logical_id} never reached {status}")


def wait_terminal(cfn, stack, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not s["StackStatus"].endswith("_IN_PROGRESS"):
            return s
        time.sleep(0.1)
    raise AssertionError(f"{stack} still {s['StackStatus']} {timeout} s after the restart")


def leftovers(c, stack):
    """What of the stack's resources still exists, whatever the stack knows of them."""
    left = []
    for arn in c["ecs"].list_clusters()["clusterArns"]:
        services = c["ecs"].list_services(cluster=arn)["serviceArns"]
        cluster = c["ecs"].describe_clusters(clusters=[arn])["clusters"][0]
        if cluster["status"] == "ACTIVE" and stack in cluster["clusterName"]:
            left.append(("cluster", arn))
        left += [("service", s) for s in services]
    left += [("task definition", a) for a in c["ecs"].list_task_definitions(status="ACTIVE")["taskDefinitionArns"]]
    left += [("function", f["FunctionName"]) for f in c["lambda"].list_functions()["Functions"]
             if f["FunctionName"].startswith(stack)]
    left += [("role", r["RoleName"]) for r in c["iam"].list_roles()["Roles"] if r["RoleName"].startswith(stack)]
    left += [("queue", q) for q in c["sqs"].list_queues().get("QueueUrls", []) if stack in q]
    return left


def test_a_call_in_flight_at_a_kill_is_sent_once():
    """The premise of the tests below: the stack operation started in the background is not re-sent when the kill
    cuts its connection (botocore retried it once, and the copy started a second operation on the restarted server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    received = []

    def die_mid_request():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            received.append(conn.recv(65536))
            conn.close()   # as a kill -9 of the server does

    threading.Thread(target=die_mid_request, daemon=True).start()
    cfn = make_client(f"http://127.0.0.1:{listener.getsockname()[1]}", "cloudformation")
    with pytest.raises(Exception):
        cfn.update_stack(StackName="s", TemplateBody=TEMPLATE)
    time.sleep(0.2)
    listener.close()
    assert len(received) == 1


def test_kill_during_create_rolls_back_everything(crashing):
    c = clients(crashing.server.endpoint)
    stack = f"crash-{uuid.uuid4().hex[:8]}"
    in_background(c["cloudformation"].create_stack, StackName=stack, TemplateBody=NEVER_STABLE, Capabilities=["CAPABILITY_NAMED_IAM"])
    # The service is being made (its tasks starting, the stack waiting for it to be stable): kill now.
    wait_for_event(c["cloudformation"], stack, "Service", "CREATE_IN_PROGRESS")
    deadline = time.time() + 10
    while not c["ecs"].list_services(cluster=c["ecs"].list_clusters()["clusterArns"][0])["serviceArns"]:
        assert time.time() < deadline, "the service was never made"
        time.sleep(0.02)
    c = clients(crashing.restart().endpoint)
    s = wait_terminal(c["cloudformation"], stack)
    events = c["cloudformation"].describe_stack_events(StackName=s["StackId"])["StackEvents"]
    assert s["StackStatus"] == "ROLLBACK_COMPLETE", [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
    events = c["cloudformation"].describe_stack_events(StackName=s["StackId"])["StackEvents"]
    assert any(e["LogicalResourceId"] == stack and e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"
               and "interrupted" in e.get("ResourceStatusReason", "") for e in events)
    deadline = time.time() + 15
    while (left := leftovers(c, stack)) and time.time() < deadline:
        time.sleep(0.2)
    assert left == [], f"orphaned by the crash: {left}"
    statuses = {r["LogicalResourceId"]: r["ResourceStatus"]
                for r in c["cloudformation"].describe_stack_resources(StackName=s["StackId"])["StackResources"]}
    assert all(v == "DELETE_COMPLETE" for v in statuses.values()), statuses
    # A new stack of the same name can be made once the rolled-back one is deleted.
    c["cloudformation"].delete_stack(StackName=stack)
    c["cloudformation"].get_waiter("stack_delete_complete").wait(StackName=s["StackId"], WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def test_kill_during_delete_finishes_it(crashing):
    c = clients(crashing.server.endpoint)
    stack = f"crash-{uuid.uuid4().hex[:8]}"
    c["cloudformation"].create_stack(StackName=stack, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_NAMED_IAM"])
    c["cloudformation"].get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60})
    stack_id = c["cloudformation"].describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    in_background(c["cloudformation"].delete_stack, StackName=stack)
    # The service is deleted first (it waits for INACTIVE); kill while that runs.
    wait_for_event(c["cloudformation"], stack_id, "Service", "DELETE_IN_PROGRESS")
    c = clients(crashing.restart().endpoint)
    s = wait_terminal(c["cloudformation"], stack_id)
    events = c["cloudformation"].describe_stack_events(StackName=stack_id)["StackEvents"]
    assert s["StackStatus"] == "DELETE_COMPLETE", [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
    with pytest.raises(ClientError):
        c["cloudformation"].describe_stacks(StackName=stack)
    deadline = time.time() + 15
    while (left := leftovers(c, stack)) and time.time() < deadline:
        time.sleep(0.2)
    assert left == [], f"orphaned by the crash: {left}"


def test_kill_during_update_rolls_it_back(crashing):
    c = clients(crashing.server.endpoint)
    stack = f"crash-{uuid.uuid4().hex[:8]}"
    c["cloudformation"].create_stack(StackName=stack, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_NAMED_IAM"])
    c["cloudformation"].get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60})
    before = {r["LogicalResourceId"]: r["PhysicalResourceId"]
              for r in c["cloudformation"].describe_stack_resources(StackName=stack)["StackResources"]}
    # Three tasks of a new revision instead of two (in place: the update waits for the service to be stable again,
    # which it never is) and a new queue.
    updated = NEVER_STABLE.replace("DesiredCount: 2", "DesiredCount: 3") + "  Extra:\n    Type: AWS::SQS::Queue\n"
    in_background(c["cloudformation"].update_stack, StackName=stack, TemplateBody=updated, Capabilities=["CAPABILITY_NAMED_IAM"])
    wait_for_event(c["cloudformation"], stack, "Service", "UPDATE_IN_PROGRESS")
    deadline = time.time() + 10   # kill once ECS has the new desired count (the update reached the service)
    while c["ecs"].describe_services(cluster=before["Cluster"], services=[before["Service"]])["services"][0]["desiredCount"] != 3:
        assert time.time() < deadline, "the update never reached the service"
        time.sleep(0.02)
    c = clients(crashing.restart().endpoint)
    s = wait_terminal(c["cloudformation"], stack)
    events = c["cloudformation"].describe_stack_events(StackName=stack)["StackEvents"]
    assert s["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
    after = {r["LogicalResourceId"]: r["PhysicalResourceId"]
             for r in c["cloudformation"].describe_stack_resources(StackName=stack)["StackResources"]}
    assert after == before
    service = c["ecs"].describe_services(cluster=before["Cluster"], services=[before["Service"]])["services"][0]
    assert service["desiredCount"] == 2
    # The queue the update added is gone again: only the stack's own queue is left.
    assert [q for q in c["sqs"].list_queues().get("QueueUrls", []) if stack in q] == [
        c["sqs"].get_queue_url(QueueName=before["Queue"].rsplit("/", 1)[1])["QueueUrl"]]
    c["cloudformation"].delete_stack(StackName=stack)
    c["cloudformation"].get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60})
    assert leftovers(c, stack) == []


def test_kill_during_replacement_keeps_the_old_service_only(crashing):
    c = clients(crashing.server.endpoint)
    stack = f"crash-{uuid.uuid4().hex[:8]}"
    c["cloudformation"].create_stack(StackName=stack, TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_NAMED_IAM"])
    c["cloudformation"].get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60})
    before = {r["LogicalResourceId"]: r["PhysicalResourceId"]
              for r in c["cloudformation"].describe_stack_resources(StackName=stack)["StackResources"]}
    # A new ServiceName (create-only): a second service is made and waited for (it never gets stable), then the
    # first would be deleted.
    updated = NEVER_STABLE.replace("DesiredCount: 2", "DesiredCount: 2\n      ServiceName: !Sub '${AWS::StackName}-renamed'")
    in_background(c["cloudformation"].update_stack, StackName=stack, TemplateBody=updated, Capabilities=["CAPABILITY_NAMED_IAM"])
    # Kill as soon as the replacement exists: its tasks are being made and prepared (or not yet), the stack waits.
    deadline = time.time() + 30
    while not any(s.endswith(f"/{stack}-renamed") for s in c["ecs"].list_services(cluster=before["Cluster"])["serviceArns"]):
        assert time.time() < deadline, "the replacement service never appeared"
        time.sleep(0.02)
    c = clients(crashing.restart().endpoint)
    s = wait_terminal(c["cloudformation"], stack)
    events = c["cloudformation"].describe_stack_events(StackName=stack)["StackEvents"]
    assert s["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE", [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
    after = {r["LogicalResourceId"]: r["PhysicalResourceId"]
             for r in c["cloudformation"].describe_stack_resources(StackName=stack)["StackResources"]}
    assert after == before
    # The UpdateStack in flight at the kill reached the emulator once (a client retry used to start a second update
    # on the restarted server once the recovery was done, which then waited for a service that is never stable).
    assert [e["ResourceStatusReason"] for e in events if e["LogicalResourceId"] == stack
            and e["ResourceStatus"] == "UPDATE_IN_PROGRESS"] == ["User Initiated"]
    # The rollback deleted the service the replacement had made, under the resource's logical id.
    assert any(e["LogicalResourceId"] == "Service" and e["ResourceStatus"] == "DELETE_COMPLETE"
               and e.get("PhysicalResourceId", "").endswith(f"/{stack}-renamed") for e in events)
    deadline = time.time() + 15
    while (services := c["ecs"].list_services(cluster=before["Cluster"])["serviceArns"]) != [before["Service"]]:
        assert time.time() < deadline, f"services left in the cluster: {services}"
        time.sleep(0.2)
    c["cloudformation"].delete_stack(StackName=stack)
    c["cloudformation"].get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60})
    assert leftovers(c, stack) == []
