#!/usr/bin/env python3
"""CloudFormation on Cloudless: create and delete of a 20-resource stack (5 S3 buckets, 5 SQS queues, 5 secrets, an
IAM role and 4 python Lambda functions), wall time and the server's CPU, beside the same 20 resources made and
removed through their own APIs, one call after another with boto3. The difference is what CloudFormation adds:
parsing, the dependency waves, the events and the stack's records in SQLite, and the polling a client does.

    python3 bench/cloudformation.py                 # release build if present, else debug (flagged)
    python3 bench/cloudformation.py --cloudless-bin PATH --runs 7

Completion is seen by polling DescribeStacks every 10 ms over a kept-alive connection, as a waiter would (faster);
the polls' own CPU is measured apart and taken out of the stack's. Server CPU is the run time of the server's
threads from /proc (no process is started: no function is invoked).
"""
import argparse
import http.client
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "e2e"))
from server import Server  # noqa: E402
import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from measure import default_bin  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ROLE_DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
CODE = "def handler(event, context):\n    return event\n"


def template():
    """The 20 resources, the functions depending on the role (two waves, as most stacks are)."""
    r = []
    for i in range(5):
        r.append(f"  Bucket{i}:\n    Type: AWS::S3::Bucket\n")
        r.append(f"  Queue{i}:\n    Type: AWS::SQS::Queue\n    Properties: {{VisibilityTimeout: 60}}\n")
        r.append(f"  Secret{i}:\n    Type: AWS::SecretsManager::Secret\n    Properties: {{SecretString: 'value-{i}'}}\n")
    r.append(f"  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {ROLE_DOC}\n")
    for i in range(4):
        r.append(f"  Function{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.11\n"
                 f"      Handler: index.handler\n      Role: !GetAtt Role.Arn\n      Code:\n        ZipFile: |\n"
                 + "".join(f"          {line}\n" for line in CODE.splitlines()))
    return "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n" + "".join(r)


def cpu_seconds(pid):
    """The server's CPU time: the sum of its threads' run time from /proc/PID/task/*/schedstat (nanoseconds; the
    10 ms ticks of /proc/PID/stat are too coarse for 20 resources). Its threads live as long as it does."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


class Poller:
    """DescribeStacks over one kept-alive connection (unsigned: Cloudless checks no signature without --strict-auth)."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.calls = 0

    def status(self, stack):
        body = urllib.parse.urlencode({"Action": "DescribeStacks", "Version": "2010-05-15", "StackName": stack})
        self.conn.request("POST", "/", body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0"})
        r = self.conn.getresponse()
        text = r.read().decode()
        self.calls += 1
        if r.status != 200:
            return "GONE" if "does not exist" in text else f"HTTP {r.status}"
        return text.split("<StackStatus>", 1)[1].split("<", 1)[0]

    def until(self, stack, done, interval=0.01, timeout=120):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            s = self.status(stack)
            if s in done:
                return s
            if not s.endswith("_IN_PROGRESS"):
                raise RuntimeError(f"{stack}: {s}")
            time.sleep(interval)
        raise RuntimeError(f"{stack} did not finish")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cloudless-bin", default=default_bin())
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    os.environ["CLOUDLESS_BIN"] = args.cloudless_bin
    if "/debug/" in args.cloudless_bin:
        print(f"note: {args.cloudless_bin} is a debug build; numbers are not representative")

    data = tempfile.mkdtemp(prefix="cloudless-bench-cfn-")
    server = Server(data_dir=data).start()
    pid = server.proc.pid
    cfg = Config(retries={"max_attempts": 1})
    c = {s: boto3.client(s, endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id="test",
                         aws_secret_access_key="test", config=cfg)
         for s in ("cloudformation", "s3", "sqs", "secretsmanager", "iam", "lambda")}
    body = template()
    poller = Poller(server.port)
    try:
        # What one DescribeStacks poll costs the server, to take the polling out of the stack's CPU.
        c["cloudformation"].create_stack(StackName="probe", TemplateBody="Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")
        poller.until("probe", {"CREATE_COMPLETE"})
        before = cpu_seconds(pid)
        for _ in range(300):
            poller.status("probe")
        poll_cpu = (cpu_seconds(pid) - before) / 300
        import io
        import zipfile
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("index.py", CODE)
        zipped = buf.getvalue()

        rows = {k: [] for k in ("stack_create_wall", "stack_create_cpu", "stack_delete_wall", "stack_delete_cpu",
                                "api_create_wall", "api_create_cpu", "api_delete_wall", "api_delete_cpu")}
        for run in range(args.runs + 1):   # the first run warms up and is not counted
            name = f"bench-{uuid.uuid4().hex[:8]}"
            poller.calls = 0
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            c["cloudformation"].create_stack(StackName=name, TemplateBody=body)
            poller.until(name, {"CREATE_COMPLETE"})
            create_wall, create_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0 - poller.calls * poll_cpu
            poller.calls = 0
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            c["cloudformation"].delete_stack(StackName=name)
            poller.until(name, {"GONE", "DELETE_COMPLETE"})
            delete_wall, delete_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0 - poller.calls * poll_cpu

            # The same resources through their own APIs.
            tag = uuid.uuid4().hex[:8]
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            for i in range(5):
                c["s3"].create_bucket(Bucket=f"api-{tag}-{i}")
                c["sqs"].create_queue(QueueName=f"api-{tag}-{i}", Attributes={"VisibilityTimeout": "60"})
                c["secretsmanager"].create_secret(Name=f"api-{tag}-{i}", SecretString=f"value-{i}")
            role = c["iam"].create_role(RoleName=f"api-{tag}", AssumeRolePolicyDocument=ROLE_DOC)["Role"]["Arn"]
            for i in range(4):
                c["lambda"].create_function(FunctionName=f"api-{tag}-{i}", Runtime="python3.11", Handler="index.handler",
                                            Role=role, Code={"ZipFile": zipped})
            api_create_wall, api_create_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
            cpu0, t0 = cpu_seconds(pid), time.perf_counter()
            for i in range(4):
                c["lambda"].delete_function(FunctionName=f"api-{tag}-{i}")
            c["iam"].delete_role(RoleName=f"api-{tag}")
            for i in range(5):
                c["s3"].delete_bucket(Bucket=f"api-{tag}-{i}")
                c["sqs"].delete_queue(QueueUrl=c["sqs"].get_queue_url(QueueName=f"api-{tag}-{i}")["QueueUrl"])
                c["secretsmanager"].delete_secret(SecretId=f"api-{tag}-{i}", ForceDeleteWithoutRecovery=True)
            api_delete_wall, api_delete_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
            if run == 0:
                continue
            for k, v in (("stack_create_wall", create_wall), ("stack_create_cpu", create_cpu),
                         ("stack_delete_wall", delete_wall), ("stack_delete_cpu", delete_cpu),
                         ("api_create_wall", api_create_wall), ("api_create_cpu", api_create_cpu),
                         ("api_delete_wall", api_delete_wall), ("api_delete_cpu", api_delete_cpu)):
                rows[k].append(v)

        med = {k: statistics.median(v) * 1000 for k, v in rows.items()}
        print(f"\nCloudFormation on Cloudless ({os.path.relpath(args.cloudless_bin, REPO)}), 20 resources, "
              f"median of {args.runs} runs; one DescribeStacks poll costs the server {poll_cpu * 1000:.2f} ms\n")
        print("| metric | target | Cloudless |\n|---|---|---|")
        print(f"| CreateStack → CREATE_COMPLETE, wall | | {med['stack_create_wall']:.0f} ms |")
        print(f"| the same 20 resources through their APIs (boto3, one after another), wall | | {med['api_create_wall']:.0f} ms |")
        print(f"| create: wall beyond the API calls' | | {med['stack_create_wall'] - med['api_create_wall']:+.0f} ms |")
        print(f"| CreateStack, server CPU (polls taken out) | | {med['stack_create_cpu']:.0f} ms |")
        print(f"| the 20 API calls, server CPU | | {med['api_create_cpu']:.0f} ms |")
        print(f"| create: CloudFormation's own server CPU beyond the resources' | ≤ 500 ms | {med['stack_create_cpu'] - med['api_create_cpu']:+.0f} ms |")
        print(f"| DeleteStack → gone, wall | | {med['stack_delete_wall']:.0f} ms |")
        print(f"| the 20 resources deleted through their APIs, wall | | {med['api_delete_wall']:.0f} ms |")
        print(f"| DeleteStack, server CPU (polls taken out) | | {med['stack_delete_cpu']:.0f} ms |")
        print(f"| the API deletes, server CPU | | {med['api_delete_cpu']:.0f} ms |")
    finally:
        server.stop()
        import shutil
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
