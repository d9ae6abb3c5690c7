import glob
import json
import os
import shutil
import socket
import tempfile
import time
import uuid

import pytest

from helpers import LambdaFunctions, account_of, make_client, purge_bucket
from server import Server, leftover_processes


def worker_id(config):
    """The pytest-xdist worker this process is (gw0, gw1, ...), or None for the controller or a run without `-n`."""
    return getattr(config, "workerinput", {}).get("workerid")


def started_servers():
    """(pid, data folder) of every server this process started."""
    return [(s.proc.pid if s.proc else None, s.data_dir) for s in Server.started]


def pytest_sessionfinish(session, exitstatus):
    """After the whole suite (every server stopped): no process a Cloudless started may still be alive. With
    parallel workers (`-n`), each worker leaves the servers it started in the run's folder and the controller checks
    them all once every worker has finished (a worker's own check would see another's live functions)."""
    if external_server():
        return
    run = os.environ.get("CLOUDLESS_E2E_RUN")
    wid = worker_id(session.config)
    if wid is not None:
        with open(os.path.join(run, f"{wid}.json"), "w") as f:
            json.dump(started_servers(), f)
        return
    servers = started_servers()
    if run:
        for name in sorted(glob.glob(os.path.join(run, "*.json"))):
            with open(name) as f:
                servers += [tuple(s) for s in json.load(f)]
        shutil.rmtree(run, ignore_errors=True)
    if not servers:
        return
    deadline = time.time() + 5
    left = leftover_processes(servers)
    while left and time.time() < deadline:
        time.sleep(0.1)
        left = leftover_processes(servers)
    if left:
        print("\nProcesses started by Cloudless are still alive after the suite:")
        for pid, cmdline in left:
            print(f"  {pid}: {cmdline}")
        session.exitstatus = 1
    elif session.config.option.verbose >= 0:
        print(f"\nNo process started by the suite's {len(servers)} Cloudless servers is left.")


# The modules that take longest (20 s to 100 s each, measured 2026-12-08), run first so that parallel workers
# (`-n`, whole modules each) do not end waiting on one of them; the rest follow in file order.
SLOWEST_FIRST = [
    "test_labs", "test_sqs_concurrency", "test_cli_aws", "test_sam_cli", "test_package", "test_secrets_tools",
    "test_cloudformation_deploy_preference", "test_ecs_tools", "test_logs_cli", "test_ecs_lab", "test_console",
    "test_elbv2", "test_tools", "test_cloudformation_crash", "test_iam", "test_ecs_control", "test_snapshots",
    "test_sqs_messages", "test_ecs_cli", "test_lambda_async",
]


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__, len(rank)))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "strict_auth: run the module against the session's --strict-auth server (see `server`)")
    # The controller's folder where parallel workers (pytest-xdist) leave the servers they started; workers inherit it.
    if worker_id(config) is None:
        os.environ["CLOUDLESS_E2E_RUN"] = tempfile.mkdtemp(prefix="cloudless-e2e-run-")


def external_server():
    """The server E2E_ENDPOINT names, or None when it is not set."""
    if not os.environ.get("E2E_ENDPOINT"):
        return None

    class External:
        endpoint = os.environ["E2E_ENDPOINT"]
        port = int(endpoint.rsplit(":", 1)[1].rstrip("/"))
        data_dir = None
    return External()


@pytest.fixture(scope="session")
def default_server():
    """The shared server for the session (or E2E_ENDPOINT when set)."""
    external = external_server()
    if external:
        yield external
        return
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def local_strict_server():
    """A local cloudless started with --strict-auth: one for the whole session, started on first use."""
    s = Server(args=["--strict-auth"]).start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def strict_server(request):
    """The server for modules marked `strict_auth`: local_strict_server, or E2E_ENDPOINT when set."""
    return external_server() or request.getfixturevalue("local_strict_server")


@pytest.fixture(scope="module")
def server(request):
    """The server a module runs against: default_server, or strict_server for modules marked
    `pytestmark = pytest.mark.strict_auth`.

    Cloudless verifies signatures only with --strict-auth; AWS always does. Modules that check both
    accepted and rejected signatures are marked so that the signatures are really checked. With
    E2E_ENDPOINT set, both are that endpoint, used as it is."""
    strict = request.node.get_closest_marker("strict_auth") is not None
    return request.getfixturevalue("strict_server" if strict else "default_server")


@pytest.fixture(scope="module")
def endpoint(server):
    return server.endpoint


@pytest.fixture(scope="module")
def s3(endpoint):
    return make_client(endpoint)


@pytest.fixture(scope="module")
def ecs(endpoint):
    """An ECS client for the module's server."""
    return make_client(endpoint, "ecs")


@pytest.fixture
def bucket(s3):
    """A fresh bucket, emptied and deleted afterwards."""
    name = "e2e-" + uuid.uuid4().hex[:20]
    s3.create_bucket(Bucket=name)
    yield name
    purge_bucket(s3, name)


@pytest.fixture(scope="module")
def account(endpoint):
    """The account id the module's server answers for the default keys."""
    return account_of(endpoint)


@pytest.fixture(scope="module")
def fns(server, request):
    """The Lambda functions a module creates (`fns.create(...)`), named after the module; all deleted after it,
    then checked to have left no process behind. A module with its own server overrides `server`."""
    f = LambdaFunctions(server, "e2e-" + request.module.__name__.removeprefix("test_").removeprefix("lambda_")[:10])
    yield f
    f.cleanup()


@pytest.fixture(scope="module")
def lam(fns):
    """The Lambda client of `fns`."""
    return fns.lam


@pytest.fixture
def loopback_dns(monkeypatch):
    """Resolve *.localhost and *.localstack.cloud to 127.0.0.1 inside this test process."""
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")
                                      or host.endswith(".localstack.cloud")):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
