"""Helpers shared by the end-to-end test modules: boto3 clients, error unpacking, bucket cleanup,
local files and isolated environments for command-line tools. (Fixtures live in conftest.py.)"""
import hashlib
import os

import boto3
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def make_client(endpoint, service="s3", addressing="path", access_key="test", secret="test",
                region="us-east-1", **cfg):
    """A boto3 client for `endpoint` that never retries. `cfg` goes to botocore's Config; an `s3`
    entry there is merged over the addressing style."""
    cfg["s3"] = {"addressing_style": addressing, **cfg.get("s3", {})}
    # total_max_attempts counts the first attempt: botocore's max_attempts counts retries, so 1 sent a request twice
    # when the connection died (a call in flight at a kill -9 then reached the restarted server a second time).
    config = Config(retries={"total_max_attempts": 1}, **cfg)
    return boto3.client(service, endpoint_url=endpoint, config=config, region_name=region,
                        aws_access_key_id=access_key, aws_secret_access_key=secret)


def error(excinfo):
    """(code, http status) of a botocore ClientError caught by pytest.raises."""
    r = excinfo.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def raw_request(endpoint, method, path, region="us-east-1", headers=None, body=b""):
    """A SigV4-signed request sent with `requests`, so the raw response (status, headers, body) can be
    inspected."""
    req = AWSRequest(method=method, url=endpoint + path, data=body, headers=dict(headers or {}))
    S3SigV4Auth(Credentials("test", "test"), "s3", region).add_auth(req)
    return requests.request(method, endpoint + path, headers=dict(req.headers.items()), data=body, timeout=30)


def purge_bucket(s3, name):
    """Delete every object and multipart upload in bucket `name`, then the bucket; errors are ignored."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass


def purge_versioned_bucket(s3, name, bypass=False):
    """Delete every version and delete marker (with `bypass`, bypassing governance retention: Object Lock
    buckets only), every multipart upload, then the bucket `name`; errors are ignored."""
    extra = {"BypassGovernanceRetention": True} if bypass else {}
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            items = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                     for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if items:
                s3.delete_objects(Bucket=name, Delete={"Objects": items, "Quiet": True}, **extra)
    except Exception:
        pass
    purge_bucket(s3, name)


def bucket_keys(s3, bucket):
    """Every key in `bucket`, as a set."""
    return {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])}


# --- local files --------------------------------------------------------------------------------

def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def write_file(path, data):
    """Write bytes to `path` (str or Path), creating its folders; returns the path as a str."""
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def file_tree(root):
    """{relative posix path: sha256} for every file under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for fn in files:
            full = os.path.join(dirpath, fn)
            out[os.path.relpath(full, root).replace(os.sep, "/")] = sha256_hex(read_file(full))
    return out


# --- command-line tools -------------------------------------------------------------------------

def tool_env(*drop_prefixes, home=None, **variables):
    """A copy of this process's environment for running a tool in isolation: variables starting with
    any of `drop_prefixes` removed, HOME pointed at `home` (created) when given, then `variables` set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}
    if home is not None:
        env["HOME"] = str(home)
        os.makedirs(env["HOME"], exist_ok=True)
    env.update(variables)
    return env



# --- Secrets Manager ----------------------------------------------------------------------------

SECRET_ARN_SUFFIX = r"-[A-Za-z0-9]{6}"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def sm_client(endpoint, region="us-east-1", **cfg):
    """A Secrets Manager boto3 client for `endpoint` (no retries)."""
    return make_client(endpoint, "secretsmanager", region=region, **cfg)


def account_of(endpoint):
    """The account the server gives the test credentials (STS GetCallerIdentity)."""
    return make_client(endpoint, "sts").get_caller_identity()["Account"]


def error_message(excinfo):
    """The message of a botocore ClientError caught by pytest.raises."""
    return excinfo.value.response["Error"]["Message"]


def sm_error(excinfo):
    """(code, http status, message) of a botocore ClientError caught by pytest.raises."""
    code, status = error(excinfo)
    return code, status, error_message(excinfo)


def unique_secret_name(prefix="e2e"):
    import uuid
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def force_delete_secret(sm, secret_id):
    """Delete a secret without recovery; errors (already gone, ...) are ignored."""
    try:
        sm.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
    except Exception:
        pass


def version_stages(sm, secret_id, include_deprecated=False):
    """{VersionId: sorted stages} from ListSecretVersionIds (all pages)."""
    out, token = {}, None
    while True:
        kw = {"SecretId": secret_id, "IncludeDeprecated": include_deprecated}
        if token:
            kw["NextToken"] = token
        page = sm.list_secret_version_ids(**kw)
        for v in page["Versions"]:
            out[v["VersionId"]] = sorted(v.get("VersionStages", []))
        token = page.get("NextToken")
        if not token:
            return out


# --- Lambda -------------------------------------------------------------------------------------

LAMBDA_ROLE = "arn:aws:iam::000000000000:role/lambda-e2e"
LAMBDA_FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "lambda")
LAMBDA_UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
LAMBDA_LOG_STREAM_RE = r"\d{4}/\d{2}/\d{2}/\[(\$LATEST|\d+)\][0-9a-f]{32}"


def host_python_runtime():
    """The python3.* runtime whose interpreter this machine has (the one running the suite), so the function runs
    under an interpreter that exists here and has boto3."""
    import sys
    return f"python3.{sys.version_info.minor}"


def lambda_client(endpoint, region="us-east-1", **cfg):
    """A Lambda boto3 client (no retries, long read timeout for slow invokes)."""
    cfg.setdefault("read_timeout", 120)
    return make_client(endpoint, "lambda", region=region, **cfg)


def zip_bytes(files, executable=("bootstrap",)):
    """A zip (bytes) of {archive name: str or bytes}; names in `executable` get mode 0755, others 0644."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if name.split("/")[-1] in executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data.encode() if isinstance(data, str) else data)
    return buf.getvalue()


def folder_files(folder):
    """{relative posix path: bytes} of every file under `folder` (caches skipped)."""
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for fn in files:
            full = os.path.join(dirpath, fn)
            out[os.path.relpath(full, folder).replace(os.sep, "/")] = read_file(full)
    return out


def fixture_zip(name, extra=None):
    """The zip of fixtures/lambda/<name>/ (plus `extra` {name: data} files)."""
    files = folder_files(os.path.join(LAMBDA_FIXTURES, name))
    files.update(extra or {})
    return zip_bytes(files)


def unique_function_name(prefix="e2e"):
    import uuid
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def read_payload(response):
    """The decoded JSON payload of an Invoke answer (None for an empty body)."""
    import json
    raw = response["Payload"].read()
    return json.loads(raw) if raw else None


def tail_lines(response):
    """The lines of an Invoke answer's LogResult (LogType=Tail)."""
    import base64
    return base64.b64decode(response["LogResult"]).decode().splitlines()


def tail_request_id(response):
    """The request id from the START line of an Invoke answer's LogResult."""
    import re
    for line in tail_lines(response):
        m = re.match(r"START RequestId: (\S+) Version: ", line)
        if m:
            return m.group(1)
    raise AssertionError(f"no START line in {tail_lines(response)}")


def lambda_processes(data_dir, exclude_pids=()):
    """[(pid, cmdline, cwd)] of live processes whose cwd is under `data_dir` or whose command line names it
    (function instances and their children), leaving out `exclude_pids` (the server itself). Zombies are skipped."""
    from server import live_processes
    root = os.path.realpath(data_dir)
    return [(pid, cmdline, cwd) for pid, cmdline, cwd, _ in live_processes()
            if pid not in exclude_pids and (root in cmdline or data_dir in cmdline or cwd == root or cwd.startswith(root + "/"))]


def wait_no_lambda_processes(data_dir, exclude_pids=(), timeout=10):
    """Wait until lambda_processes(data_dir) is empty; returns what is left at the deadline."""
    import time
    deadline = time.time() + timeout
    while True:
        left = lambda_processes(data_dir, exclude_pids)
        if not left or time.time() > deadline:
            return left
        time.sleep(0.1)


def pid_alive(pid):
    """True while process `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class LambdaFunctions:
    """The functions one test module creates: `create(...)` makes one with a unique name; `cleanup()` deletes them
    all and then checks that no instance process is left under the server's data folder (when it is known)."""

    def __init__(self, server, prefix):
        self.server = server
        self.prefix = prefix
        self.lam = lambda_client(server.endpoint)
        self.names = []

    def name(self, tag=""):
        n = unique_function_name(f"{self.prefix}{('-' + tag) if tag else ''}")
        self.names.append(n)
        return n

    def create(self, handler="handler.echo", runtime=None, code=None, name=None, tag="", **kw):
        """CreateFunction: by default the Python fixture, host Python runtime."""
        name = name or self.name(tag)
        if name not in self.names:
            self.names.append(name)
        if code is None:
            code = {"ZipFile": fixture_zip("python")}
        elif isinstance(code, bytes):
            code = {"ZipFile": code}
        return self.lam.create_function(FunctionName=name, Runtime=runtime or host_python_runtime(), Role=LAMBDA_ROLE,
                                        Handler=handler, Code=code, **kw)

    def server_pids(self):
        proc = getattr(self.server, "proc", None)
        return (proc.pid,) if proc else ()

    def cleanup(self):
        for n in self.names:
            try:
                self.lam.delete_function(FunctionName=n)
            except Exception:
                pass
        data_dir = getattr(self.server, "data_dir", None)
        if data_dir:
            left = wait_no_lambda_processes(data_dir, self.server_pids(), timeout=5)
            assert left == [], f"function processes left after deleting the module's functions: {left}"
