"""What the ECS end-to-end modules share: an awsvpc network configuration, unique names, waiting for a condition
(optionally moving the emulator's clock between tries), emptying a cluster, and a server whose `--ecs-images` map
runs containers as local processes."""
import json
import os
import tempfile
import time
import uuid

import requests

NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-12345678"], "securityGroups": ["sg-12345678"]}}
IMAGE = "public.ecr.aws/docker/library/nginx:latest"


def server_with_images(images, prefix="cloudless-ecs-images-"):
    """A started server of its own whose `--ecs-images` map is `images` (image → entryPoint, command...)."""
    from server import Server
    path = os.path.join(tempfile.mkdtemp(prefix=prefix), "images.json")
    with open(path, "w") as f:
        json.dump(images, f)
    return Server(args=["--ecs-images", path]).start()


def uid(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def advance(server, seconds):
    """Move the emulator's clock (health checks, back-offs, retention follow it)."""
    requests.post(server.endpoint + "/_cloudless/clock", json={"advance": seconds}).raise_for_status()


def wait_for(check, timeout=30, step=0.05, tick=None):
    """check() until it returns something truthy, and return that; tick() (moving the clock) between tries."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        if tick:
            tick()
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s: {check}")


def purge_cluster(ecs, name):
    """Delete the cluster's services (force), stop its tasks, wait for them to go, delete the cluster."""
    try:
        arns = [a for p in ecs.get_paginator("list_services").paginate(cluster=name) for a in p["serviceArns"]]
        for a in arns:
            try:
                ecs.delete_service(cluster=name, service=a, force=True)
            except Exception:
                pass  # DRAINING already
        for t in ecs.list_tasks(cluster=name)["taskArns"]:
            try:
                ecs.stop_task(cluster=name, task=t, reason="e2e cleanup")
            except Exception:
                pass
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                ecs.delete_cluster(cluster=name)
                return
            except Exception:
                time.sleep(0.2)
    except Exception:
        pass


def delete_families(ecs, families):
    """Deregister and delete every revision of the task definition families named."""
    for family in families:
        for status in ("ACTIVE", "INACTIVE"):
            try:
                arns = ecs.list_task_definitions(familyPrefix=family, status=status)["taskDefinitionArns"]
            except Exception:
                continue
            for arn in arns:
                try:
                    if status == "ACTIVE":
                        ecs.deregister_task_definition(taskDefinition=arn)
                    ecs.delete_task_definitions(taskDefinitions=[arn])
                except Exception:
                    pass
