"""The real AWS SAM CLI against Cloudless, pointed at it only by AWS_ENDPOINT_URL (sam builds its clients without
--endpoint-url): `sam build` of a python function, `sam deploy --resolve-s3` (which first creates SAM's managed
stack `aws-sam-cli-managed-default`: a versioned, encrypted S3 bucket and its bucket policy), the function invoked;
a second deploy with nothing changed ("No changes to deploy", exit 0); a deploy of changed code (new answer);
`sam delete --no-prompts` (stack, function, role and the uploaded artifacts gone, the managed stack kept).

Then the SAM events lab (fixtures/labs/sam-events) as its README has it: deployed, its function URL curled, an upload
and a message recorded by the function, its logs read, and deleted. And the course's serverless API
(fixtures/labs/sam-api) as its README has it: deployed, called with curl and with its client script, deleted.

sam comes from the virtualenv `scripts/install-deps --test` makes (it pins its own boto3)."""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client
from sam_tools import run_tool, sam_path, tool_environment

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: sam CLI e2e
Globals:
  Function:
    Runtime: python3.11
    Timeout: 20
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Environment:
        Variables: {GREETING: hi}
Outputs:
  FunctionName:
    Value: !Ref HelloFunction
  RoleArn:
    Value: !GetAtt HelloFunctionRole.Arn
"""

APP = """\
import os

def handler(event, context):
    return {"greeting": os.environ["GREETING"], "version": VERSION, "echo": event.get("n")}

VERSION = %d
"""

MANAGED_STACK = "aws-sam-cli-managed-default"


@pytest.fixture(scope="module")
def project(tmp_path_factory, endpoint):
    """A sam project folder, a runner of `sam ...` in it and the stack's name."""
    root = tmp_path_factory.mktemp("sam-project")
    (root / "hello").mkdir()
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "hello" / "app.py").write_text(APP % 1)
    env = tool_environment(endpoint, root / "home")
    sam = sam_path()

    def run(*args, check=True):
        return run_tool([sam, *args], env, root, check=check)

    return root, run, f"sam-e2e-{uuid.uuid4().hex[:8]}"


def deploy(run, stack, check=True):
    return run("deploy", "--stack-name", stack, "--resolve-s3", "--no-confirm-changeset", "--no-fail-on-empty-changeset",
               "--capabilities", "CAPABILITY_IAM", "--region", "us-east-1", check=check)


def outputs(cfn, stack):
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return described, {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def invoke(lam, name, n):
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())
    assert "FunctionError" not in r, r["Payload"].read()
    return json.loads(r["Payload"].read())


def test_build_and_deploy_with_resolve_s3(project, endpoint):
    root, run, stack = project
    cfn, lam, s3 = make_client(endpoint, "cloudformation"), make_client(endpoint, "lambda"), make_client(endpoint)
    build = run("build")
    assert "Build Succeeded" in build.stdout, build.stdout
    assert (root / ".aws-sam" / "build" / "HelloFunction" / "app.py").exists()

    out = deploy(run, stack)
    text = out.stdout + out.stderr
    assert f"Successfully created/updated stack - {stack}" in text, text

    # The managed stack sam made for its artifacts: a bucket with versioning, encryption and a policy.
    managed, managed_out = outputs(cfn, MANAGED_STACK)
    assert managed["StackStatus"] == "CREATE_COMPLETE"
    bucket = managed_out["SourceBucket"]
    types = {r["LogicalResourceId"]: r["ResourceType"] for r in cfn.describe_stack_resources(StackName=MANAGED_STACK)["StackResources"]}
    assert types == {"SamCliSourceBucket": "AWS::S3::Bucket", "SamCliSourceBucketBucketPolicy": "AWS::S3::BucketPolicy"}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert any(st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for st in policy["Statement"])
    # The zipped code and the packaged template, uploaded through Cloudless's S3 (the change set names the
    # template by TemplateURL); the stack's template points at the code.
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    code = [k for k in keys if not k.endswith(".template")]
    assert len(keys) == 2 and len(code) == 1, keys
    assert f"s3://{bucket}/{code[0]}" in str(cfn.get_template(StackName=stack)["TemplateBody"])

    described, out = outputs(cfn, stack)
    assert described["StackStatus"] == "CREATE_COMPLETE"
    config = lam.get_function_configuration(FunctionName=out["FunctionName"])
    assert config["Runtime"] == "python3.11" and config["Role"] == out["RoleArn"]
    assert invoke(lam, out["FunctionName"], 7) == {"greeting": "hi", "version": 1, "echo": 7}


def test_redeploy_without_changes(project, endpoint):
    root, run, stack = project
    cfn = make_client(endpoint, "cloudformation")
    before = [e["EventId"] for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]]
    out = deploy(run, stack)
    assert "No changes to deploy" in out.stdout + out.stderr, out.stdout + out.stderr
    described, _ = outputs(cfn, stack)
    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert [e["EventId"] for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]] == before


def test_deploy_changed_code(project, endpoint):
    root, run, stack = project
    cfn, lam = make_client(endpoint, "cloudformation"), make_client(endpoint, "lambda")
    (root / "hello" / "app.py").write_text(APP % 2)
    run("build")
    out = deploy(run, stack)
    assert f"Successfully created/updated stack - {stack}" in out.stdout + out.stderr
    described, out = outputs(cfn, stack)
    assert described["StackStatus"] == "UPDATE_COMPLETE"
    assert invoke(lam, out["FunctionName"], 8) == {"greeting": "hi", "version": 2, "echo": 8}


def test_delete(project, endpoint):
    root, run, stack = project
    cfn, lam, iam, s3 = (make_client(endpoint, s) for s in ("cloudformation", "lambda", "iam", "s3"))
    _, out = outputs(cfn, stack)
    _, managed_out = outputs(cfn, MANAGED_STACK)
    bucket = managed_out["SourceBucket"]
    before = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    current = [k for k in before if f"s3://{bucket}/{k}" in str(cfn.get_template(StackName=stack)["TemplateBody"])]
    assert len(before) == 4 and len(current) == 1   # two deploys: two codes, two packaged templates
    deleted = run("delete", "--stack-name", stack, "--no-prompts", "--region", "us-east-1")
    assert "Deleted successfully" in deleted.stdout + deleted.stderr, deleted.stdout + deleted.stderr
    with pytest.raises(ClientError) as e:
        cfn.describe_stacks(StackName=stack)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=out["FunctionName"])
    with pytest.raises(ClientError):
        iam.get_role(RoleName=out["RoleArn"].split("/")[-1])
    # sam deleted the artifacts of the stack's last deploy (its code and packaged template), as on AWS; those of
    # the first deploy stay. The managed stack stays for the next project.
    after = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert current[0] not in after and len(after) == 2 and after < before
    assert outputs(cfn, MANAGED_STACK)[0]["StackStatus"] == "CREATE_COMPLETE"


# --- the SAM events lab (fixtures/labs/sam-events), deployed as its README says ------------------------------------

LABS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "labs")


def test_sam_events_lab(tmp_path, endpoint):
    """The lab's README, command by command: sam build/deploy/logs/delete, the aws CLI (v1, given --endpoint-url
    as the README says) for outputs, the upload, the message, the records and the clean-up, curl for the URL."""
    root = tmp_path / "sam-events"
    shutil.copytree(os.path.join(LABS, "sam-events"), root)
    env = tool_environment(endpoint, tmp_path / "home", AWS_PAGER="")
    sam = sam_path()
    stack = f"sam-events-{uuid.uuid4().hex[:6]}"

    def run(*args):
        return run_tool([sam, *args], env, root)

    def aws(*args):
        return run_tool(["python3", "-m", "awscli", "--endpoint-url", endpoint, *args], env, root).stdout

    def output(key):
        return aws("cloudformation", "describe-stacks", "--stack-name", stack, "--query",
                   f"Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue", "--output", "text").strip()

    def records(expected, timeout=60):
        deadline = time.time() + timeout
        while True:
            listed = aws("s3", "ls", f"s3://{bucket}/records/", "--recursive")
            keys = sorted(line.split()[-1] for line in listed.splitlines() if line.strip())
            if len(keys) >= expected or time.time() > deadline:
                return keys
            time.sleep(0.5)

    run("build")
    out = run("deploy", "--stack-name", stack, "--resolve-s3", "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset")
    assert f"Successfully created/updated stack - {stack}" in out.stdout + out.stderr
    url, bucket, queue, function = (output(k) for k in ("FunctionUrl", "BucketName", "QueueUrl", "FunctionName"))
    assert bucket == f"{stack}-uploads-000000000000"

    # The URL: the greeting comes from the secret.
    r = subprocess.run(["curl", "-sS", "--max-time", "60", url + "?name=ada"], capture_output=True, text=True, check=True)
    assert json.loads(r.stdout) == {"message": "hello from Secrets Manager, ada!", "stage": "lab"}

    # An upload under uploads/ and a message reach the function, which records each in the bucket; an upload
    # elsewhere does not (the event's prefix filter).
    (root / "note.txt").write_text("hello\n")
    aws("s3", "cp", "note.txt", f"s3://{bucket}/uploads/note.txt")
    aws("s3", "cp", "note.txt", f"s3://{bucket}/elsewhere/skip.txt")
    assert records(1) == ["records/s3/uploads/note.txt.json"]
    message_id = json.loads(aws("sqs", "send-message", "--queue-url", queue, "--message-body", "first job"))["MessageId"]
    assert records(2) == ["records/s3/uploads/note.txt.json", f"records/sqs/{message_id}.json"]
    s3 = make_client(endpoint)
    record = json.loads(s3.get_object(Bucket=bucket, Key="records/s3/uploads/note.txt.json")["Body"].read())
    assert record == {"event": "ObjectCreated:Put", "key": "uploads/note.txt", "size": 6}
    assert json.loads(s3.get_object(Bucket=bucket, Key=f"records/sqs/{message_id}.json")["Body"].read()) == {"body": "first job"}

    # The logs, through `sam logs` and the aws CLI.
    logs = run("logs", "--stack-name", stack, "--name", "AppFunction").stdout
    for line in ('"source": "url"', '"source": "s3"', '"source": "sqs"', '"body": "first job"'):
        assert line in logs, logs
    messages = aws("logs", "filter-log-events", "--log-group-name", f"/aws/lambda/{function}", "--query", "events[].message",
                   "--output", "text")
    assert f'"messageId": "{message_id}"' in messages

    # Clean up as the README says: empty the bucket, then sam delete.
    aws("s3", "rm", f"s3://{bucket}", "--recursive")
    run("delete", "--stack-name", stack, "--no-prompts")
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=bucket)
    with pytest.raises(ClientError):
        make_client(endpoint, "lambda").get_function(FunctionName=function)


# --- the course's serverless API (fixtures/labs/sam-api), deployed as its README says --------------------------------

def curl(*args):
    """curl's status line and body: `-w` puts the status after the body."""
    r = subprocess.run(["curl", "-sS", "--max-time", "60", "-w", "\n%{http_code}", *args], capture_output=True, text=True,
                       check=True)
    body, _, status = r.stdout.rpartition("\n")
    return int(status), json.loads(body) if body.strip() else None


README = os.path.join(LABS, "..", "..", "README.md")


def readme_lab_commands(root, stack, port, sam):
    """The README's commands for the course's serverless API (the `sh` block of its section) as a bash script for
    this run: the lab copied to `root`, the stack named `stack`, the server on `port`, `sam` from its virtualenv."""
    with open(README) as f:
        text = f.read()
    section = text[text.index("## The serverless API lab, with sam"):]
    start = section.index("```sh\n") + 6
    block = section[start:section.index("\n```", start)]
    block = (block.replace("cd fixtures/labs/sam-api", f"cd {root}").replace("--stack-name sam-api", f"--stack-name {stack}")
             .replace("4566", str(port)))
    return f'set -euo pipefail\nsam() {{ "{sam}" "$@"; }}\n{block}\n'


def test_course_serverless_api(tmp_path, server, endpoint):
    """The README's commands for the course's template (Events: Api on ANY /api/{proxy+}, a DynamoDB table,
    DynamoDBCrudPolicy, ApiUrl), run as written: `sam build`, `sam deploy --resolve-s3`, curl, the course's client,
    and `sam delete`. Between deploy and delete: curl in the host form, the path form and AWS's own host; the client by
    URL and by stack name; the items read back with boto3's Table resource."""
    root = tmp_path / "sam-api"
    shutil.copytree(os.path.join(LABS, "sam-api"), root)
    env = tool_environment(endpoint, tmp_path / "home", AWS_PAGER="")
    stack = f"sam-api-{uuid.uuid4().hex[:6]}"
    port = endpoint.rsplit(":", 1)[1]
    script = readme_lab_commands(root, stack, port, sam_path())
    deploy_and_call, _, delete_line = script.rpartition("\nsam delete ")
    assert delete_line.startswith(f"--stack-name {stack} --no-prompts")

    def aws(*args):
        return run_tool(["python3", "-m", "awscli", "--endpoint-url", endpoint, *args], env, root).stdout

    def output(key):
        return aws("cloudformation", "describe-stacks", "--stack-name", stack, "--query",
                   f"Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue", "--output", "text").strip()

    ran = run_tool(["bash", "-c", deploy_and_call], env, tmp_path, timeout=600)
    assert f"Successfully created/updated stack - {stack}" in ran.stdout + ran.stderr
    api_url, table = output("ApiUrl"), output("TableName")
    api = api_url.split("/")[2].split(".")[0]
    assert api_url == f"https://{api}.execute-api.us-east-1.amazonaws.com/Prod/"
    host_form = f"http://{api}.execute-api.localhost:{port}/Prod"
    path_form = f"{endpoint}/_cloudless/execute-api/{api}/Prod"
    # What the README's curl and client printed after sam's output: the item stored, the item read back (curl adds no
    # newline; attributes come in any order, as from DynamoDB), then the client's run to its end.
    printed = ran.stdout.split(f"Successfully created/updated stack - {stack} in us-east-1\n", 1)[1].lstrip()
    decoder, at = json.JSONDecoder(), 0
    for _ in range(2):
        item, at = decoder.raw_decode(printed, at)
        assert item == {"id": "first", "name": "lab"}, printed
    assert printed[at:].startswith(f"API: {path_form}/\n") and "\nkept " in printed, printed
    if server.data_dir is not None:   # our own server: its log says where the stage answers
        with open(server.log_path, encoding="utf-8", errors="replace") as f:
            assert f"API Gateway: {api} stage Prod is served at {host_form}/" in f.read()

    # curl: the README's item read back in the host form, the path form and through AWS's own host name (the
    # connection sent to Cloudless); the handler's 404s; API Gateway's answer outside /api/.
    assert curl(f"{host_form}/api/items/first") == (200, {"id": "first", "name": "lab"})
    assert curl(f"{path_form}/api/items/first") == (200, {"id": "first", "name": "lab"})
    assert curl("--connect-to", f"::127.0.0.1:{port}",
                f"http://{api}.execute-api.us-east-1.amazonaws.com/Prod/api/items/first") == (200, {"id": "first", "name": "lab"})
    assert curl(f"{host_form}/api/items/nobody") == (404, {"message": "no such item"})
    assert curl(f"{host_form}/api/hello") == (404, {"message": "not found"})
    for url in (f"{host_form}/hello", f"{path_form}/"):
        assert curl(url) == (403, {"message": "Missing Authentication Token"})
    status, listed = curl(f"{path_form}/api/items")
    assert status == 200 and {"id": "first", "name": "lab"} in listed

    # The course's client, given the URL (as the README ran it) and given the stack: each run creates two items and
    # deletes the second.
    kept = [tuple(ran.stdout.rsplit("\nkept ", 1)[1].strip().split(", deleted "))]
    r = subprocess.run(["python3", str(root / "client.py"), "--stack", stack], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"API: {path_form}/"
    assert [line.split(" {")[0] for line in lines[1:3]] == ["POST /api/items -> 201"] * 2
    assert lines[3].startswith("GET /api/items -> 200 [")
    assert lines[5].startswith("DELETE /api/items/") and " -> 204" in lines[5]
    assert lines[6].endswith('-> 404 {"message": "no such item"}')
    first, second = lines[-1].removeprefix("kept ").split(", deleted ")
    assert lines[4] == f'GET /api/items/{first} -> 200 {{"id": "{first}", "name": "apple"}}'
    kept.append((first, second))

    # The items as the table holds them, through the same resource API the course's helper class uses.
    items = boto3_table(endpoint, table)
    assert items.get_item(Key={"id": "first"})["Item"] == {"id": "first", "name": "lab"}
    for first, second in kept:
        assert items.get_item(Key={"id": first})["Item"] == {"id": first, "name": "apple"}
        assert "Item" not in items.get_item(Key={"id": second})
    assert sorted(i["id"] for i in items.scan()["Items"]) == sorted(["first", *(k[0] for k in kept)])

    deleted = run_tool(["bash", "-c", f'set -euo pipefail\nsam() {{ "{sam_path()}" "$@"; }}\nsam delete {delete_line}'], env, root)
    assert "Deleted successfully" in deleted.stdout + deleted.stderr
    with pytest.raises(ClientError) as e:
        make_client(endpoint, "dynamodb").describe_table(TableName=table)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert api not in [a["id"] for a in make_client(endpoint, "apigateway").get_rest_apis()["items"]]
    assert curl(f"{path_form}/api/items") == (403, {"message": "Forbidden"})
    assert not [f for f in make_client(endpoint, "lambda").list_functions()["Functions"] if f["FunctionName"].startswith(stack)]


def boto3_table(endpoint, name):
    import boto3
    return boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test").Table(name)
