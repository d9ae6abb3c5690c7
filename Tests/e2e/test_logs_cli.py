"""CloudWatch Logs from the aws CLI: v1 (pip) and v2 (Debian) for log groups, get-log-events and filter-log-events
(with the CLI's own pagination), and v2's `aws logs tail` (v1 has no tail) with --since, --filter-pattern, stream
selection, formats and --follow, which polls FilterLogEvents every 5 seconds from the newest timestamp it has seen.

Each CLI runs in an isolated environment (static test credentials, empty config files, no pager, `--endpoint-url`);
a CLI start costs about a second, so setup and most checks go through boto3."""
import datetime
import json
import os
import queue
import subprocess
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client, tool_env

V2_PATH = "/usr/bin/aws"


def _v1_path():
    """The pip-installed v1 CLI: the first `aws` on PATH that is not Debian's v2."""
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "aws")
        if os.path.isfile(p) and os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath(V2_PATH):
            return p
    raise AssertionError("aws CLI v1 not found on PATH")


_checked_versions = set()


def _cli(version, endpoint, tmp_path):
    """aws(*args, check=True) for CLI `version` ("v1" or "v2"); JSON output. `aws.popen(*args)` starts it instead."""
    path = _v1_path() if version == "v1" else V2_PATH
    cfg, creds = tmp_path / "aws-config", tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    if version not in _checked_versions:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=120)
        assert (out.stdout + out.stderr).startswith(f"aws-cli/{version[1]}."), out
        _checked_versions.add(version)
    env = tool_env("AWS_", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                   AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(creds), AWS_PAGER="",
                   AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1", PYTHONUNBUFFERED="1")

    def command(args):
        return [path, "--endpoint-url", endpoint, "--output", "json", *[str(a) for a in args]]

    def run(*args, check=True):
        cmd = command(args)
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=str(tmp_path))
        if check:
            assert p.returncode == 0, f"{' '.join(cmd)}\nrc={p.returncode}\nstdout={p.stdout}\nstderr={p.stderr}"
        return p

    run.popen = lambda *args: subprocess.Popen(command(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                               env=env, cwd=str(tmp_path))
    run.version = version
    return run


@pytest.fixture(params=["v1", "v2"])
def aws(request, endpoint, tmp_path):
    return _cli(request.param, endpoint, tmp_path)


@pytest.fixture
def aws2(endpoint, tmp_path):
    return _cli("v2", endpoint, tmp_path)


@pytest.fixture(scope="module")
def logs(endpoint):
    return make_client(endpoint, "logs")


@pytest.fixture
def group(logs):
    name = f"/e2e/cli-{uuid.uuid4().hex[:12]}"
    logs.create_log_group(logGroupName=name)
    yield name
    try:
        logs.delete_log_group(logGroupName=name)
    except ClientError:
        pass


def now_ms():
    return int(time.time() * 1000)


def put(logs, group, stream, events):
    """(timestamp, message) pairs into `group`/`stream`, created when missing."""
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    out = logs.put_log_events(logGroupName=group, logStreamName=stream,
                              logEvents=[{"timestamp": t, "message": m} for t, m in events])
    assert "rejectedLogEventsInfo" not in out


def iso(ts):
    """The timestamp as `aws logs tail` prints it in its detailed format."""
    return datetime.datetime.fromtimestamp(ts / 1000, datetime.timezone.utc).isoformat(timespec="microseconds")


# ---------------------------------------------------------------- aws logs (v1 and v2)


def test_groups_streams_and_put_from_the_cli(aws, logs):
    name = f"/e2e/cli-{aws.version}-{uuid.uuid4().hex[:10]}"
    aws("logs", "create-log-group", "--log-group-name", name, "--tags", "team=core")
    try:
        p = aws("logs", "create-log-group", "--log-group-name", name, check=False)
        assert p.returncode != 0
        assert "ResourceAlreadyExistsException" in p.stderr and "The specified log group already exists" in p.stderr
        aws("logs", "put-retention-policy", "--log-group-name", name, "--retention-in-days", "14")
        [g] = json.loads(aws("logs", "describe-log-groups", "--log-group-name-prefix", name).stdout)["logGroups"]
        # (Debian's v2 is older than logGroupClass: its model drops the field.)
        assert (g["logGroupName"], g["retentionInDays"], g["metricFilterCount"]) == (name, 14, 0)
        p = aws("logs", "put-retention-policy", "--log-group-name", name, "--retention-in-days", "4", check=False)
        assert p.returncode != 0 and "InvalidParameterException" in p.stderr
        aws("logs", "create-log-stream", "--log-group-name", name, "--log-stream-name", "web")
        ts = now_ms()
        out = json.loads(aws("logs", "put-log-events", "--log-group-name", name, "--log-stream-name", "web", "--log-events",
                             f"timestamp={ts},message=first", f"timestamp={ts + 1},message=second").stdout)
        assert len(out["nextSequenceToken"]) == 56
        assert [e["message"] for e in logs.get_log_events(logGroupName=name, logStreamName="web")["events"]] == ["first", "second"]
        streams = json.loads(aws("logs", "describe-log-streams", "--log-group-name", name).stdout)["logStreams"]
        assert [(s["logStreamName"], s["lastEventTimestamp"]) for s in streams] == [("web", ts + 1)]
        assert json.loads(aws("logs", "list-tags-log-group", "--log-group-name", name).stdout)["tags"] == {"team": "core"}
        aws("logs", "delete-log-group", "--log-group-name", name)
        p = aws("logs", "delete-log-group", "--log-group-name", name, check=False)
        assert p.returncode != 0
        assert "ResourceNotFoundException" in p.stderr and "The specified log group does not exist." in p.stderr
    finally:
        try:
            logs.delete_log_group(logGroupName=name)
        except ClientError:
            pass


def test_get_log_events_from_the_cli(aws, logs, group):
    start = now_ms() - 10_000
    put(logs, group, "s", [(start + i, f"line {i}") for i in range(12)])
    out = json.loads(aws("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "s",
                         "--start-from-head", "--limit", "5").stdout)
    assert [e["message"] for e in out["events"]] == [f"line {i}" for i in range(5)]
    nxt = json.loads(aws("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "s", "--start-from-head",
                         "--limit", "5", "--next-token", out["nextForwardToken"]).stdout)
    assert [e["message"] for e in nxt["events"]] == [f"line {i}" for i in range(5, 10)]
    newest = json.loads(aws("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "s", "--limit", "3",
                            "--start-time", str(start + 2), "--end-time", str(start + 11)).stdout)
    assert [e["message"] for e in newest["events"]] == ["line 8", "line 9", "line 10"]
    p = aws("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "missing", check=False)
    assert p.returncode != 0
    assert "ResourceNotFoundException" in p.stderr and "The specified log stream does not exist." in p.stderr
    p = aws("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "s", "--next-token", "invalid-token",
            check=False)
    assert p.returncode != 0
    assert "InvalidParameterException" in p.stderr and "The specified nextToken is invalid." in p.stderr


def test_filter_log_events_from_the_cli(aws, logs, group):
    start = now_ms() - 10_000
    put(logs, group, "api", [(start + 2 * i, f"GET /items/{i} {'500 ERROR' if i % 3 == 0 else '200 OK'}") for i in range(10)])
    put(logs, group, "worker", [(start + 2 * i + 1, json.dumps({"job": i, "ms": 100 * i})) for i in range(10)])

    # The CLI follows nextToken itself: pages of 4 come back as one list, in timestamp order across streams.
    out = json.loads(aws("logs", "filter-log-events", "--log-group-name", group, "--page-size", "4").stdout)
    assert len(out["events"]) == 20
    assert [e["logStreamName"] for e in out["events"]] == ["api", "worker"] * 10
    assert "nextToken" not in out and "NextToken" not in out
    # --max-items stops early and hands out a token to resume from.
    first = json.loads(aws("logs", "filter-log-events", "--log-group-name", group, "--max-items", "7", "--page-size", "3").stdout)
    assert len(first["events"]) == 7 and first["NextToken"]
    rest = json.loads(aws("logs", "filter-log-events", "--log-group-name", group, "--starting-token", first["NextToken"],
                          "--page-size", "3").stdout)
    assert [e["eventId"] for e in first["events"] + rest["events"]] == [e["eventId"] for e in out["events"]]

    errors = json.loads(aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "ERROR").stdout)
    assert [e["message"] for e in errors["events"]] == [f"GET /items/{i} 500 ERROR" for i in (0, 3, 6, 9)]
    slow = json.loads(aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "{ $.ms >= 700 }").stdout)
    assert [json.loads(e["message"])["job"] for e in slow["events"]] == [7, 8, 9]
    only = json.loads(aws("logs", "filter-log-events", "--log-group-name", group, "--log-stream-names", "worker",
                          "--start-time", str(start + 5), "--end-time", str(start + 9)).stdout)
    assert [json.loads(e["message"])["job"] for e in only["events"]] == [2, 3, 4]
    p = aws("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "{ $.ms > }", check=False)
    assert p.returncode != 0 and "InvalidParameterException" in p.stderr


# ---------------------------------------------------------------- aws logs tail (v2)


def test_tail_since_filters_and_formats(aws2, logs, group):
    now = now_ms()
    put(logs, group, "app-1", [(now - 2 * 3_600_000, "two hours ago"), (now - 60_000, "a minute ago")])
    put(logs, group, "app-2", [(now - 20_000, "ERROR twenty seconds ago")])
    put(logs, group, "batch", [(now - 10_000, "batch ten seconds ago")])

    # By default: the last ten minutes, every stream, `<timestamp> <stream> <message>`.
    out = aws2("logs", "tail", group, "--color", "off").stdout
    assert out.splitlines() == [
        f"{iso(now - 60_000)} app-1 a minute ago",
        f"{iso(now - 20_000)} app-2 ERROR twenty seconds ago",
        f"{iso(now - 10_000)} batch batch ten seconds ago",
    ]
    since = aws2("logs", "tail", group, "--since", "3h", "--format", "short", "--color", "off").stdout
    short = datetime.datetime.fromtimestamp((now - 2 * 3_600_000) / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    assert since.splitlines()[0] == f"{short} two hours ago"
    assert len(since.splitlines()) == 4
    # A relative --since counts back from the CLI's clock (started a few seconds after `now`).
    assert aws2("logs", "tail", group, "--since", "40s", "--color", "off").stdout.splitlines() == [
        f"{iso(now - 20_000)} app-2 ERROR twenty seconds ago", f"{iso(now - 10_000)} batch batch ten seconds ago"]
    assert [line.split(" ", 2)[2] for line in aws2("logs", "tail", group, "--filter-pattern", "ERROR").stdout.splitlines()] == [
        "ERROR twenty seconds ago"]
    assert [line.split(" ", 2)[1] for line in aws2("logs", "tail", group, "--log-stream-name-prefix", "app").stdout.splitlines()] == [
        "app-1", "app-2"]
    assert [line.split(" ", 2)[1] for line in aws2("logs", "tail", group, "--log-stream-names", "batch", "app-1").stdout.splitlines()] == [
        "app-1", "batch"]
    p = aws2("logs", "tail", group + "-missing", check=False)
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr


def test_tail_follow_prints_new_events_once(aws2, logs, group):
    now = now_ms()
    put(logs, group, "s", [(now - 5_000, "before start")])
    proc = aws2.popen("logs", "tail", group, "--follow", "--color", "off")
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in proc.stdout], daemon=True).start()

    def next_line(timeout):
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line from `aws logs tail --follow` within {timeout}s; stderr: "
                                 + (proc.stderr.read() if proc.poll() is not None else "(still running)"))

    try:
        assert next_line(30) == f"{iso(now - 5_000)} s before start"
        # Written after the first poll: shown by a later poll (every 5 s), once, even when a new event shares the
        # newest timestamp the CLI has seen (it polls again from that timestamp and skips event ids it printed).
        put(logs, group, "s", [(now - 5_000, "same millisecond"), (now_ms(), "after start")])
        put(logs, group, "t", [(now_ms(), "another stream")])
        got = [next_line(15) for _ in range(3)]
        assert sorted(line.split(" ", 1)[1] for line in got) == ["s after start", "s same millisecond", "t another stream"]
        assert got[0] == f"{iso(now - 5_000)} s same millisecond"
        # Nothing is printed twice.
        with pytest.raises(queue.Empty):
            lines.get(timeout=6)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
