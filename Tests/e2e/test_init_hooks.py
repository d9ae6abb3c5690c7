"""Init hooks: --init-dir runs its *.sh and *.py scripts in name order once the server is ready, as clients of it;
/_cloudless/health says `init` running, done or failed, /_localstack/init answers in LocalStack's shape."""
import os
import subprocess
import sys
import time
import uuid

import pytest
import requests

from helpers import make_client
from server import Server, binary_path

SUFFIX = uuid.uuid4().hex[:10]
BUCKET = f"init-bucket-{SUFFIX}"
QUEUE = f"init-queue-{SUFFIX}"


def write(folder, name, text):
    (folder / name).write_text(text)


def wait_for_init(endpoint, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = requests.get(endpoint + "/_cloudless/health", timeout=5).json()["init"]
        if state != "running":
            return state
        time.sleep(0.05)
    raise AssertionError("init still running")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A server whose hooks all succeed; the first waits for the test to open its gate."""
    folder = tmp_path_factory.mktemp("init-good")
    gate = folder / "gate"
    write(folder, "00-gate.sh", f'while [ ! -e "{gate}" ]; do sleep 0.05; done\n')
    # The aws CLI (v1: it reads AWS_ENDPOINT_URL) and boto3, with nothing but the environment the hook gets.
    write(folder, "10-bucket.sh", f'set -e\n"{sys.executable}" -m awscli s3api create-bucket --bucket {BUCKET}\n'
                                  'echo "bucket made at $AWS_ENDPOINT_URL in $AWS_DEFAULT_REGION"\n')
    write(folder, "20-queue.py", "import boto3\n"
                                 f"print('queue', boto3.client('sqs').create_queue(QueueName='{QUEUE}')['QueueUrl'])\n")
    write(folder, "README.txt", "exit 1\n")  # not a hook
    s = Server(args=["--init-dir", str(folder)]).start()
    s.gate = gate
    yield s
    s.stop()


@pytest.fixture(scope="module")
def failing(tmp_path_factory):
    """A server whose second hook fails; the order file records what ran."""
    folder = tmp_path_factory.mktemp("init-failing")
    order = folder / "order.txt"
    for name in ["b.sh", "a.py", "c-fails.sh", "d.sh"]:
        if name.endswith(".py"):
            write(folder, name, f"open('{order}', 'a').write('{name}\\n')\n")
        else:
            write(folder, name, f'echo {name} >> "{order}"\n' + ('echo "c is failing" >&2\nexit 3\n' if "fails" in name else ""))
    s = Server(env={"CLOUDLESS_INIT_DIR": str(folder)}).start()
    s.order = order
    yield s
    s.stop()


def test_hooks_create_a_bucket_and_a_queue_and_health_says_done(good):
    assert requests.get(good.endpoint + "/_cloudless/health", timeout=5).json()["init"] == "running"
    stage = requests.get(good.endpoint + "/_localstack/init/ready", timeout=5).json()
    assert stage["completed"] is False
    assert stage["scripts"][0] == {"stage": "READY", "name": "00-gate.sh", "state": "RUNNING"}
    good.gate.write_text("")
    assert wait_for_init(good.endpoint) == "done"
    assert BUCKET in [b["Name"] for b in make_client(good.endpoint).list_buckets()["Buckets"]]
    assert make_client(good.endpoint, "sqs").get_queue_url(QueueName=QUEUE)["QueueUrl"].endswith("/" + QUEUE)
    init = requests.get(good.endpoint + "/_localstack/init", timeout=5).json()
    assert init["completed"] == {"BOOT": True, "START": True, "READY": True, "SHUTDOWN": False}
    assert [(x["name"], x["state"]) for x in init["scripts"]] == [
        ("00-gate.sh", "SUCCESSFUL"), ("10-bucket.sh", "SUCCESSFUL"), ("20-queue.py", "SUCCESSFUL")]
    log = open(good.log_path, encoding="utf-8", errors="replace").read()
    assert f"init 10-bucket.sh: bucket made at {good.endpoint} in us-east-1" in log
    assert f"init 20-queue.py: queue {good.endpoint}" in log


def test_a_failing_hook_marks_failed_later_hooks_run_in_name_order_and_the_server_serves(failing):
    assert wait_for_init(failing.endpoint) == "failed"
    assert failing.order.read_text().split() == ["a.py", "b.sh", "c-fails.sh", "d.sh"]
    scripts = requests.get(failing.endpoint + "/_localstack/init/ready", timeout=5).json()["scripts"]
    assert [(x["name"], x["state"]) for x in scripts] == [
        ("a.py", "SUCCESSFUL"), ("b.sh", "SUCCESSFUL"), ("c-fails.sh", "ERROR"), ("d.sh", "SUCCESSFUL")]
    make_client(failing.endpoint).list_buckets()  # still serving
    log = open(failing.log_path, encoding="utf-8", errors="replace").read()
    assert "init c-fails.sh: c is failing" in log and "init c-fails.sh: failed with exit status 3" in log


def test_a_missing_init_folder_stops_the_start(tmp_path):
    p = subprocess.run([binary_path(), "serve", "--port", "0", "--ephemeral", "--init-dir", str(tmp_path / "none")],
                       capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert p.returncode != 0 and "does not exist" in p.stderr


def test_without_init_dir_init_is_done_from_the_start(endpoint):
    assert requests.get(endpoint + "/_cloudless/health", timeout=5).json()["init"] == "done"
    assert requests.get(endpoint + "/_localstack/init/ready", timeout=5).json() == {"completed": True, "scripts": []}
