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
    config = Config(retries={"max_attempts": 1}, **cfg)
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
