"""The course's ECS Fargate lab (fixtures/labs/ecs-fargate/run-lab.sh) run whole with the aws CLI v2 against a
server started with the lab's image map: secrets, cluster, the booking-service task definition, three awsvpc tasks,
`aws ecs wait services-stable`, a rollout with no failed request, `aws logs tail`, auto scaling acting."""
import os
import shutil
import subprocess

import pytest

from server import REPO, Server

LAB = os.path.join(REPO, "fixtures", "labs", "ecs-fargate")


@pytest.fixture(scope="module")
def server():
    s = Server(args=["--ecs-images", os.path.join(LAB, "images.json")]).start()
    yield s
    s.stop()


def test_the_lab_runs_offline_with_the_aws_cli_v2(server):
    aws = shutil.which("aws", path="/usr/bin") or "aws"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(ENDPOINT=server.endpoint, AWS=aws, AWS_PAGER="")
    run = subprocess.run([os.path.join(LAB, "run-lab.sh")], env=env, capture_output=True, text=True, timeout=240)
    out = run.stdout
    assert run.returncode == 0, out[-3000:] + run.stderr[-3000:]
    assert out.count('"version": "1"') == 3 and '{"DB_PASSWORD": "set"}' in out
    assert "succeeded, 0 failed" in out
    assert "(service booking-service) has reached a steady state." in out
    assert "Setting desired count to 6." in out and "desired count now 6" in out
    assert "/ecs/booking-service" in out or "GET /api/" in out
    assert out.rstrip().endswith("lab complete")
