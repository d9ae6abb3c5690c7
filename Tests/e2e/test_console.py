"""The console (/_cloudless/console/) in headless Chromium, and the internal endpoints it relies on: the request log
(/_cloudless/requests and its event stream) and SQS peek (/_cloudless/sqs/peek/...). Screenshots of every page go to
Tests/e2e/artifacts/console/ (gitignored)."""
import json
import os
import re
import time
import uuid

import pytest
import requests

from browser import Browser
from helpers import make_client, purge_bucket, sm_client

ARTIFACTS = os.path.join(os.path.dirname(__file__), "artifacts", "console")
PAGES = ["", "s3", "sqs", "secretsmanager", "lambda", "ecs", "logs", "iam", "cloudformation", "requests"]


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def seeded(endpoint):
    """One of each thing the pages list, so that every table has a row to draw."""
    tag = uuid.uuid4().hex[:10]
    s3, sqs, sm = make_client(endpoint), make_client(endpoint, "sqs"), sm_client(endpoint)
    logs, iam = make_client(endpoint, "logs"), make_client(endpoint, "iam")
    bucket = f"console-{tag}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="docs/readme.txt", Body=b"hello")
    s3.put_object(Bucket=bucket, Key="top.txt", Body=b"v1")
    s3.delete_object(Bucket=bucket, Key="top.txt")
    dlq = sqs.create_queue(QueueName=f"console-dlq-{tag}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(QueueName=f"console-{tag}", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
    secret = sm.create_secret(Name=f"console/{tag}", SecretString="first-value-" + tag)
    sm.put_secret_value(SecretId=secret["ARN"], SecretString="second-value-" + tag)
    logs.create_log_group(logGroupName=f"/console/{tag}")
    logs.create_log_stream(logGroupName=f"/console/{tag}", logStreamName="s1")
    logs.put_log_events(logGroupName=f"/console/{tag}", logStreamName="s1",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": f"hello {tag}"},
                                   {"timestamp": int(time.time() * 1000), "message": f"other {tag}"}])
    iam.create_role(RoleName=f"console-{tag}", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    yield {"tag": tag, "bucket": bucket, "queue": queue, "dlq": dlq, "secret": secret["ARN"], "s3": s3, "sqs": sqs, "sm": sm}
    purge_bucket(s3, bucket)
    for q in (queue, dlq):
        sqs.delete_queue(QueueUrl=q)
    sm.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
    logs.delete_log_group(logGroupName=f"/console/{tag}")
    iam.delete_role(RoleName=f"console-{tag}")


def page_errors(browser):
    """What the page reported as errors, less the browser's note on an API answering 4xx (a bucket without a CORS
    configuration answers 404 NoSuchCORSConfiguration: an answer, not a fault of the page)."""
    def expected(source, text):
        m = re.search(r"status of (\d+)", text)
        return source == "network" and m and int(m.group(1)) < 500 and "/_cloudless/" not in text
    return [e for e in browser.errors if not expected(*e)]


def load(browser, url, name):
    """Open a page, wait until it has drawn (no 'Loading…' left), check it reported no error, keep a screenshot."""
    browser.errors.clear()
    browser.goto(url)
    browser.wait("!!(document.body.dataset.ready || document.querySelector('#needs-sign-in'))")
    time.sleep(0.2)  # let late answers land before the screenshot and the error check
    browser.screenshot(os.path.join(ARTIFACTS, f"{name}.png"))
    assert browser.js("document.querySelectorAll('#content .error').length") == 0, browser.js("document.body.innerText")
    assert page_errors(browser) == []


def test_every_page_loads_without_errors(browser, endpoint, seeded):
    console = f"{endpoint}/_cloudless/console"
    for page in PAGES:
        load(browser, f"{console}/{page}", page or "overview")
        assert browser.js("document.querySelector('nav a.current').getAttribute('href')") == f"/_cloudless/console/{page}"
    tag = seeded["tag"]
    load(browser, f"{console}/s3?bucket={seeded['bucket']}", "s3-bucket")
    assert browser.wait("document.body.innerText.includes('docs/')")
    assert "Enabled" in browser.js("document.body.innerText")  # versioning, from GetBucketVersioning
    load(browser, f"{console}/s3?bucket={seeded['bucket']}&versions=1", "s3-versions")
    assert "delete marker" in browser.js("document.body.innerText")
    load(browser, f"{console}/s3?bucket={seeded['bucket']}&prefix=docs/", "s3-prefix")
    assert "readme.txt" in browser.js("document.body.innerText")
    load(browser, f"{console}/sqs?queue={seeded['queue']}", "sqs-queue")
    assert f"console-dlq-{tag}" in browser.js("document.body.innerText")  # its dead-letter queue
    load(browser, f"{console}/sqs?queue={seeded['dlq']}", "sqs-dlq")
    assert f"console-{tag}" in browser.js("document.body.innerText")  # its source queue
    load(browser, f"{console}/logs?group=/console/{tag}", "logs-group")
    browser.wait(f"document.querySelector('#tail-rows').innerText.includes('hello {tag}')")
    browser.fill("#filter-pattern", "other")
    browser.click("section button")
    browser.wait(f"document.querySelector('#tail-rows').innerText.includes('other {tag}')")
    assert f"hello {tag}" not in browser.js("document.querySelector('#tail-rows').innerText")
    assert page_errors(browser) == []


def test_account_switcher_shows_another_account(browser, endpoint):
    other = make_client(endpoint, access_key="222233334444")
    name = "console-acct-" + uuid.uuid4().hex[:8]
    other.create_bucket(Bucket=name)
    try:
        load(browser, f"{endpoint}/_cloudless/console/s3", "s3-default-account")
        assert name not in browser.js("document.body.innerText")
        browser.fill("#switcher input[name=account]", "222233334444")
        browser.js("document.querySelector('#switcher').requestSubmit()")
        browser.wait_event("Page.loadEventFired")
        browser.wait(f"document.body.innerText.includes('{name}')")
        browser.js("sessionStorage.clear()")
    finally:
        other.delete_bucket(Bucket=name)


def test_upload_through_the_page_lands_in_the_bucket(browser, endpoint, seeded, tmp_path):
    data = os.urandom(3000) + b"console upload"
    path = tmp_path / "upload me.bin"
    path.write_bytes(data)
    load(browser, f"{endpoint}/_cloudless/console/s3?bucket={seeded['bucket']}&prefix=docs/", "s3-before-upload")
    browser.set_files("#upload-file", [str(path)])
    browser.click("#upload")
    browser.wait_event("Page.loadEventFired")  # the page reloads with the new listing
    browser.wait("document.body.innerText.includes('upload me.bin')")
    assert seeded["s3"].get_object(Bucket=seeded["bucket"], Key="docs/upload me.bin")["Body"].read() == data
    assert page_errors(browser) == []


def test_message_sent_through_the_page_is_received_by_boto3(browser, endpoint, seeded):
    body = "from the console " + uuid.uuid4().hex
    load(browser, f"{endpoint}/_cloudless/console/sqs?queue={seeded['queue']}", "sqs-before-send")
    browser.fill("#message-body", body)
    browser.click("#send")
    message_id = browser.wait("document.querySelector('#sent-id').textContent")
    browser.wait(f"document.querySelector('#peek').innerText.includes({json.dumps(body)})")
    browser.click("#peek-button")  # peeking again counts no receive
    time.sleep(0.3)
    browser.screenshot(os.path.join(ARTIFACTS, "sqs-after-send.png"))
    got = seeded["sqs"].receive_message(QueueUrl=seeded["queue"], WaitTimeSeconds=2, AttributeNames=["All"])["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in got] == [(message_id, body)]
    assert got[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    seeded["sqs"].delete_message(QueueUrl=seeded["queue"], ReceiptHandle=got[0]["ReceiptHandle"])
    assert page_errors(browser) == []


def test_secret_value_appears_only_after_the_click(browser, endpoint, seeded):
    tag = seeded["tag"]
    load(browser, f"{endpoint}/_cloudless/console/secretsmanager?secret={seeded['secret']}", "secret-before-reveal")
    html = browser.js("document.documentElement.outerHTML")
    assert "value-" + tag not in html
    assert "AWSCURRENT" in html and "AWSPREVIOUS" in html
    # Versions are listed newest first or not: find each button by the value its version holds.
    versions = seeded["sm"].list_secret_version_ids(SecretId=seeded["secret"])["Versions"]
    current = next(v["VersionId"] for v in versions if "AWSCURRENT" in v["VersionStages"])
    previous = next(v["VersionId"] for v in versions if "AWSPREVIOUS" in v["VersionStages"])
    browser.click(f".reveal[data-version='{current}']")
    assert browser.wait("document.querySelector('.secret-value') && document.querySelector('.secret-value').textContent") == "second-value-" + tag
    browser.screenshot(os.path.join(ARTIFACTS, "secret-revealed.png"))
    browser.click(f".reveal[data-version='{previous}']")
    browser.wait(f"document.body.innerText.includes('first-value-{tag}')")
    # One value at a time: the first is hidden again.
    assert browser.js("Array.from(document.querySelectorAll('.secret-value')).map(e => e.textContent)") == ["first-value-" + tag]
    assert page_errors(browser) == []


def test_request_log_page_is_live_and_never_shows_values(browser, endpoint, seeded):
    load(browser, f"{endpoint}/_cloudless/console/requests", "requests")
    browser.wait("document.querySelector('#live-state').textContent === 'live'")
    queue = seeded["queue"]
    seeded["sqs"].send_message(QueueUrl=queue, MessageBody="request-log-body-" + seeded["tag"])
    browser.wait("document.querySelector('#request-rows').innerText.includes('SendMessage')")
    try:
        seeded["sqs"].get_queue_url(QueueName="missing-" + seeded["tag"])
    except Exception:
        pass
    browser.wait("document.querySelector('#request-rows').innerText.includes('QueueDoesNotExist')")
    # The filter: errors only.
    browser.js("document.querySelector('#filter-errors').checked = true")
    browser.js("document.querySelector('form.inline').requestSubmit()")
    browser.wait("!document.querySelector('#request-rows').innerText.includes('SendMessage')")
    assert "GetQueueUrl" in browser.js("document.querySelector('#request-rows').innerText")
    browser.screenshot(os.path.join(ARTIFACTS, "requests-errors.png"))
    text = browser.js("document.body.innerText")
    assert "request-log-body" not in text and "value-" + seeded["tag"] not in text
    assert page_errors(browser) == []
    m = seeded["sqs"].receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
    for msg in m:
        seeded["sqs"].delete_message(QueueUrl=queue, ReceiptHandle=msg["ReceiptHandle"])


def test_request_log_endpoint_and_stream(endpoint, seeded):
    sm = seeded["sm"]
    sm.get_secret_value(SecretId=seeded["secret"])
    r = requests.get(f"{endpoint}/_cloudless/requests", params={"service": "secretsmanager", "operation": "GetSecretValue"}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    entries = r.json()["requests"]
    assert entries and {e["service"] for e in entries} == {"secretsmanager"}
    last = entries[-1]
    assert last["operation"] == "GetSecretValue" and last["status"] == 200 and last["accessKeyId"] == "test"
    assert last["region"] == "us-east-1" and re.fullmatch(r"\d{12}", last["account"]) and last["durationMs"] >= 0
    assert "value-" + seeded["tag"] not in r.text
    with requests.get(f"{endpoint}/_cloudless/requests/stream", params={"service": "sqs"}, stream=True, timeout=10) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines).startswith(":")
        seeded["s3"].list_buckets()  # filtered out
        seeded["sqs"].list_queues()
        data = next(line for line in lines if line.startswith("data:"))
        event = json.loads(data[5:])
        assert event["service"] == "sqs" and event["operation"] == "ListQueues"


def test_peek_changes_nothing(endpoint, seeded):
    sqs, queue = seeded["sqs"], seeded["queue"]
    account, name = queue.split("/")[-2:]
    peek = f"{endpoint}/_cloudless/sqs/peek/{account}/us-east-1/{name}"
    sent = sqs.send_message(QueueUrl=queue, MessageBody="peek me")["MessageId"]
    for _ in range(3):
        r = requests.get(peek, timeout=10)
        assert r.status_code == 200
        [m] = [m for m in r.json()["messages"] if m["messageId"] == sent]
        assert m["state"] == "visible" and m["receiveCount"] == 0 and m["body"] == "peek me"
    got = sqs.receive_message(QueueUrl=queue, AttributeNames=["All"], VisibilityTimeout=30)["Messages"][0]
    assert got["Attributes"]["ApproximateReceiveCount"] == "1"
    [m] = [m for m in requests.get(peek, timeout=10).json()["messages"] if m["messageId"] == sent]
    assert m["state"] == "inFlight" and m["receiveCount"] == 1
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1" and attrs["ApproximateNumberOfMessages"] == "0"
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=got["ReceiptHandle"])
    assert requests.get(f"{endpoint}/_cloudless/sqs/peek/{account}/us-east-1/missing-queue", timeout=10).status_code == 404
    assert requests.get(f"{endpoint}/_cloudless/sqs/peek/{account}", timeout=10).status_code == 400


def test_assets_are_cached_by_etag(endpoint):
    r = requests.get(f"{endpoint}/_cloudless/console/assets/aws.js", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["ETag"]
    again = requests.get(f"{endpoint}/_cloudless/console/assets/aws.js", headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    assert requests.get(f"{endpoint}/_cloudless/console/assets/missing.js", timeout=10).status_code == 404
    redirect = requests.get(f"{endpoint}/_cloudless/console", allow_redirects=False, timeout=10)
    assert redirect.status_code == 302 and redirect.headers["Location"] == "/_cloudless/console/"


def test_strict_auth_sign_in_checks_the_secret(browser, local_strict_server):
    endpoint = local_strict_server.endpoint
    make_client(endpoint).create_bucket(Bucket="console-strict")
    try:
        load(browser, f"{endpoint}/_cloudless/console/s3", "strict-signed-out")
        assert browser.js("document.querySelector('#needs-sign-in') !== null")
        browser.fill("#switcher input[name=accessKeyId]", "test")
        browser.fill("#switcher input[name=secretAccessKey]", "wrong")
        browser.js("document.querySelector('#switcher').requestSubmit()")
        assert "SignatureDoesNotMatch" in browser.wait("document.querySelector('#sign-in-error') && document.querySelector('#sign-in-error').textContent")
        browser.screenshot(os.path.join(ARTIFACTS, "strict-wrong-secret.png"))
        assert browser.js("sessionStorage.getItem('cloudless.console')") is None
        browser.errors.clear()
        browser.fill("#switcher input[name=secretAccessKey]", "test")
        browser.js("document.querySelector('#switcher').requestSubmit()")
        browser.wait_event("Page.loadEventFired")
        assert "Account 000000000000" in browser.wait("document.querySelector('#signed-in') && document.querySelector('#signed-in').textContent")
        browser.wait("document.body.innerText.includes('console-strict')")  # signed S3 ListBuckets passed
        browser.screenshot(os.path.join(ARTIFACTS, "strict-signed-in.png"))
        assert page_errors(browser) == []
        # The request log and SQS peek answer signed calls only: the pages sign them (the stream by a presigned URL)
        # and show the signer's account alone (the refused wrong-secret sign-in above has none).
        load(browser, f"{endpoint}/_cloudless/console/requests", "strict-requests")
        browser.wait("document.querySelector('#live-state').textContent === 'live'")
        sqs = make_client(endpoint, "sqs")
        queue = sqs.create_queue(QueueName="console-strict")["QueueUrl"]
        browser.wait("document.querySelector('#request-rows').innerText.includes('CreateQueue')")
        accounts = browser.js("Array.from(document.querySelectorAll('#request-rows tr')).map((r) => r.children[3].textContent)")
        assert accounts and set(accounts) == {"000000000000"}
        assert page_errors(browser) == []
        sqs.send_message(QueueUrl=queue, MessageBody="peeked under strict auth")
        load(browser, f"{endpoint}/_cloudless/console/sqs?queue={queue}", "strict-sqs-peek")
        browser.wait("document.body.innerText.includes('peeked under strict auth')")
        assert page_errors(browser) == []
        browser.js("sessionStorage.clear()")
    finally:
        make_client(endpoint).delete_bucket(Bucket="console-strict")
        sqs = make_client(endpoint, "sqs")
        for url in sqs.list_queues(QueueNamePrefix="console-strict").get("QueueUrls", []):
            sqs.delete_queue(QueueUrl=url)


def test_lambda_invoke_shows_result_and_log_tail(browser, endpoint, fns, seeded):
    name = fns.create(tag="console", handler="handler.echo")["FunctionName"]
    fns.lam.publish_version(FunctionName=name)
    fns.lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    dlq_arn = seeded["sqs"].get_queue_attributes(QueueUrl=seeded["dlq"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = fns.lam.create_event_source_mapping(EventSourceArn=dlq_arn, FunctionName=name, Enabled=False)["UUID"]
    load(browser, f"{endpoint}/_cloudless/console/lambda?function={name}", "lambda-function")
    text = browser.js("document.body.innerText")
    assert "live" in text and "handler.echo" in text and mapping in text and dlq_arn in text
    fns.lam.delete_event_source_mapping(UUID=mapping)
    browser.fill("#payload", '{"from": "console"}')
    browser.js("document.querySelector('#qualifier').value = 'live'")
    browser.click("#invoke")
    out = browser.wait("document.querySelector('#invoke-output') && document.querySelector('#invoke-output').textContent", timeout=30)
    assert json.loads(out) == {"from": "console"}
    log = browser.js("document.querySelector('#invoke-log').textContent")
    assert "START RequestId" in log and "REPORT RequestId" in log
    assert "1" == browser.js("document.querySelector('#invoke-result').innerText.match(/Version\\s+(\\S+)/)[1]")
    browser.screenshot(os.path.join(ARTIFACTS, "lambda-invoked.png"))
    assert page_errors(browser) == []


def test_cloudformation_stack_with_resources_and_events(browser, endpoint, seeded):
    cfn = make_client(endpoint, "cloudformation")
    name = "console-" + seeded["tag"]
    cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                                                                "Outputs": {"Url": {"Value": {"Ref": "Queue"}}}}))
    try:
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60})
        load(browser, f"{endpoint}/_cloudless/console/cloudformation", "cloudformation-stacks")
        assert name in browser.js("document.body.innerText")
        load(browser, f"{endpoint}/_cloudless/console/cloudformation?stack={name}", "cloudformation-stack")
        browser.wait("document.body.innerText.includes('AWS::SQS::Queue')")
        text = browser.js("document.body.innerText")
        assert "CREATE_COMPLETE" in text and "Url = " in text
        assert page_errors(browser) == []
    finally:
        cfn.delete_stack(StackName=name)


def test_iam_page_lists_roles_users_and_policies(browser, endpoint, seeded):
    iam = make_client(endpoint, "iam")
    user, policy = f"console-{seeded['tag']}", f"console-{seeded['tag']}"
    iam.create_user(UserName=user)
    arn = iam.create_policy(PolicyName=policy, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]
    try:
        load(browser, f"{endpoint}/_cloudless/console/iam", "iam-listed")
        text = browser.js("document.body.innerText")
        assert f"role/console-{seeded['tag']}" in text and f"user/{user}" in text and arn in text
        # The page's Query calls carry Action in the URL, so the request log names them.
        logged = requests.get(f"{endpoint}/_cloudless/requests", params={"service": "iam"}, timeout=10).json()["requests"]
        assert {"ListRoles", "ListUsers", "ListPolicies"} <= {e["operation"] for e in logged}
    finally:
        iam.delete_user(UserName=user)
        iam.delete_policy(PolicyArn=arn)


@pytest.fixture(scope="module")
def ecs_server(tmp_path_factory):
    """A server of its own whose image map runs a container as a shell that logs and sleeps."""
    folder = tmp_path_factory.mktemp("console-ecs")
    images = folder / "images.json"
    images.write_text(json.dumps({"console-sleeper": {"entryPoint": ["sh", "-c", "echo hello-from-ecs; exec sleep 120"]}}))
    from server import Server
    s = Server(args=["--ecs-images", str(images)]).start()
    yield s
    s.stop()


def test_ecs_cluster_page_shows_services_tasks_and_logs(browser, ecs_server):
    endpoint = ecs_server.endpoint
    ecs = make_client(endpoint, "ecs")
    ecs.create_cluster(clusterName="console")
    ecs.register_task_definition(
        family="console-app", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        executionRoleArn="arn:aws:iam::000000000000:role/exec",
        containerDefinitions=[{"name": "app", "image": "console-sleeper", "essential": True, "logConfiguration": {
            "logDriver": "awslogs", "options": {"awslogs-group": "/ecs/console", "awslogs-region": "us-east-1",
                                                "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true"}}}])
    ecs.create_service(cluster="console", serviceName="web", taskDefinition="console-app", desiredCount=1, launchType="FARGATE",
                       networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-12345678"]}})
    try:
        load(browser, f"{endpoint}/_cloudless/console/ecs?cluster=console", "ecs-cluster")
        # Counts and events update in place (the page polls): wait for the task to run and the steady state event.
        browser.wait("document.body.innerText.includes('RUNNING / RUNNING')", timeout=30)
        browser.wait("document.body.innerText.includes('has reached a steady state')", timeout=30)
        browser.wait("Array.from(document.querySelectorAll('button')).some(b => b.textContent === 'Logs')")
        browser.js("Array.from(document.querySelectorAll('button')).find(b => b.textContent === 'Logs').click()")
        browser.wait("document.body.innerText.includes('hello-from-ecs')", timeout=20)
        # The chosen task's logs stay on screen while the page refreshes.
        time.sleep(2.5)
        assert "hello-from-ecs" in browser.js("document.body.innerText")
        browser.screenshot(os.path.join(ARTIFACTS, "ecs-cluster-logs.png"))
        assert "PRIMARY" in browser.js("document.body.innerText")
        assert page_errors(browser) == []
    finally:
        ecs.delete_service(cluster="console", service="web", force=True)
        deadline = time.time() + 30
        while time.time() < deadline and ecs.list_tasks(cluster="console")["taskArns"]:
            time.sleep(0.2)


def test_download_and_delete_through_the_page(browser, endpoint, seeded, tmp_path):
    bucket, s3 = seeded["bucket"], seeded["s3"]
    s3.put_object(Bucket=bucket, Key="dl/file.txt", Body=b"download me")
    browser.call("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    load(browser, f"{endpoint}/_cloudless/console/s3?bucket={bucket}&prefix=dl/", "s3-download")
    browser.js("Array.from(document.querySelectorAll('button')).find(b => b.textContent === 'Download').click()")
    deadline = time.time() + 15
    while time.time() < deadline and not (tmp_path / "file.txt").exists():
        time.sleep(0.1)
    assert (tmp_path / "file.txt").read_bytes() == b"download me"
    # Delete asks for confirmation (the test's browser accepts it), then the object is gone.
    browser.js("Array.from(document.querySelectorAll('button')).find(b => b.textContent === 'Delete').click()")
    browser.wait_event("Page.loadEventFired")
    with pytest.raises(Exception):
        s3.head_object(Bucket=bucket, Key="dl/file.txt")
    versions = s3.list_object_versions(Bucket=bucket, Prefix="dl/")
    assert [m["Key"] for m in versions["DeleteMarkers"]] == ["dl/file.txt"]  # versioned bucket: a delete marker
    assert page_errors(browser) == []


def test_purge_through_the_page(browser, endpoint, seeded):
    sqs = seeded["sqs"]
    queue = sqs.create_queue(QueueName="console-purge-" + seeded["tag"])["QueueUrl"]
    try:
        for i in range(3):
            sqs.send_message(QueueUrl=queue, MessageBody=f"m{i}")
        load(browser, f"{endpoint}/_cloudless/console/sqs?queue={queue}", "sqs-before-purge")
        assert browser.js("document.querySelector('#peek').innerText.includes('m2')")
        browser.click("#purge")
        browser.wait("document.querySelector('#peek').innerText.includes('The queue is empty.')")
        assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []) == []
        assert page_errors(browser) == []
    finally:
        sqs.delete_queue(QueueUrl=queue)


def test_open_event_stream_does_not_hold_shutdown():
    """SIGTERM ends the request log's event stream at once: a browser left on the request log page must not keep
    the server alive for its whole grace period (3 s)."""
    from server import Server
    s = Server().start()
    try:
        with requests.get(f"{s.endpoint}/_cloudless/requests/stream", stream=True, timeout=10) as stream:
            assert next(stream.iter_lines(decode_unicode=True)).startswith(":")
            started = time.monotonic()
            s.stop()
            assert s.proc.returncode == 0
            assert time.monotonic() - started < 1.5
    finally:
        s.stop()


def test_move_task_started_from_the_dead_letter_queue_page(browser, endpoint, seeded):
    sqs, tag = seeded["sqs"], seeded["tag"]
    dlq = sqs.create_queue(QueueName=f"console-mdlq-{tag}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(QueueName=f"console-msrc-{tag}", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
    try:
        sqs.send_message(QueueUrl=source, MessageBody="dead letter")
        assert sqs.receive_message(QueueUrl=source, VisibilityTimeout=0)["Messages"]
        assert sqs.receive_message(QueueUrl=source, VisibilityTimeout=0).get("Messages", []) == []  # moved to the DLQ
        load(browser, f"{endpoint}/_cloudless/console/sqs?queue={dlq}", "sqs-dlq-before-move")
        assert "dead letter" in browser.js("document.querySelector('#peek').innerText")
        browser.js("Array.from(document.querySelectorAll('button')).find(b => b.textContent === 'Start a move task').click()")
        browser.wait("document.body.innerText.includes('COMPLETED') || document.body.innerText.includes('RUNNING')")
        deadline = time.time() + 15
        got = []
        while time.time() < deadline and not got:
            got = sqs.receive_message(QueueUrl=source, WaitTimeSeconds=1).get("Messages", [])
        assert [m["Body"] for m in got] == ["dead letter"]
        assert page_errors(browser) == []
    finally:
        sqs.delete_queue(QueueUrl=source)
        sqs.delete_queue(QueueUrl=dlq)
