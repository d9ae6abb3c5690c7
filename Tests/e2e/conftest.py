import os
import uuid

import boto3
import pytest
from botocore.config import Config

from server import Server

CREDS = dict(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")


@pytest.fixture(scope="session")
def server():
    """The shared server for the session (or E2E_ENDPOINT when set)."""
    if os.environ.get("E2E_ENDPOINT"):
        class External:
            endpoint = os.environ["E2E_ENDPOINT"]
            port = int(endpoint.rsplit(":", 1)[1].rstrip("/"))
            data_dir = None
        yield External()
        return
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def endpoint(server):
    return server.endpoint


def make_client(endpoint, service="s3", addressing="path", **kw):
    cfg = Config(s3={"addressing_style": addressing}, retries={"max_attempts": 1}, **kw)
    return boto3.client(service, endpoint_url=endpoint, config=cfg, **CREDS)


@pytest.fixture(scope="session")
def s3(endpoint):
    return make_client(endpoint)


@pytest.fixture
def bucket(s3):
    """A fresh bucket, emptied and deleted afterwards."""
    name = "e2e-" + uuid.uuid4().hex[:20]
    s3.create_bucket(Bucket=name)
    yield name
    try:
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        for up in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        s3.delete_bucket(Bucket=name)
    except Exception:
        pass
