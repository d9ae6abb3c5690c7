"""Asynchronous invocation: Get/Put/Update/Delete/ListFunctionEventInvokeConfig (AWS's errors from its recordings),
the durable event queue with AWS's retries (one minute, then two) and maximum event age on the emulator's clock,
OnSuccess / OnFailure destinations (an SQS queue, another function) with AWS's invocation record, dead-letter
queues, S3 event notifications to a function, and queued events surviving kill -9.

Runs its own cloudless: it moves the clock, which every service of a server shares."""
import json
import shutil
import tempfile
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from helpers import LambdaFunctions, error, error_message, make_client, purge_bucket, zip_bytes
from server import Server


@pytest.fixture(scope="module")
def server():
    s = Server(data_dir=tempfile.mkdtemp(prefix="cloudless-lambda-async-")).start()
    yield s
    s.stop()
    shutil.rmtree(s.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def sqs(server):
    return make_client(server.endpoint, "sqs")


def advance(server, seconds):
    req = urllib.request.Request(server.endpoint + "/_cloudless/clock", method="POST",
                                 data=json.dumps({"advance": seconds}).encode())
    urllib.request.urlopen(req, timeout=10).read()


def new_queue(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs, url, wait=10, attributes=False):
    """The next message (its body parsed as JSON), waiting up to `wait` seconds; None when none came."""
    deadline = time.time() + wait
    while time.time() < deadline:
        kw = {"MessageAttributeNames": ["All"]} if attributes else {}
        got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=1, **kw).get("Messages", [])
        if got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
            m = got[0]
            return (json.loads(m["Body"]), m) if attributes else json.loads(m["Body"])
    return None


# --- The configuration API ----------------------------------------------------------------------

def test_event_invoke_config_lifecycle(fns, lam):
    name = fns.create(tag="cfg")["FunctionName"]
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert put["FunctionArn"] == arn + ":$LATEST"
    assert put["MaximumRetryAttempts"] == 0
    assert "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    # Put replaces the whole configuration; Update changes only what it names.
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert put["MaximumEventAgeInSeconds"] == 60 and "MaximumRetryAttempts" not in put
    upd = lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert (upd["MaximumEventAgeInSeconds"], upd["MaximumRetryAttempts"]) == (60, 1)
    got = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="$LATEST")
    assert (got["MaximumEventAgeInSeconds"], got["MaximumRetryAttempts"]) == (60, 1)
    assert got["LastModified"] >= put["LastModified"]

    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    # A published version has no configuration of its own.
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier=version)
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"The function {arn}:{version} doesn't have an EventInvokeConfig"
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier=version, MaximumEventAgeInSeconds=120)
    lam.put_function_event_invoke_config(FunctionName=f"{name}:live", MaximumRetryAttempts=2)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{arn}:$LATEST", f"{arn}:{version}", f"{arn}:live"]
    page = lam.list_function_event_invoke_configs(FunctionName=name, MaxItems=2)
    assert len(page["FunctionEventInvokeConfigs"]) == 2
    rest = lam.list_function_event_invoke_configs(FunctionName=name, Marker=page["NextMarker"])
    assert [c["FunctionArn"] for c in rest["FunctionEventInvokeConfigs"]] == [f"{arn}:live"]
    assert "NextMarker" not in rest

    for q in ("$LATEST", version, "live"):
        r = lam.delete_function_event_invoke_config(FunctionName=name, Qualifier=q)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"] == []
    with pytest.raises(ClientError) as e:
        lam.delete_function_event_invoke_config(FunctionName=name)
    assert error_message(e) == f"The function {arn}:$LATEST doesn't have an EventInvokeConfig"
    with pytest.raises(ClientError) as e:
        lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"The function {arn}:$LATEST doesn't have an EventInvokeConfig"


def test_event_invoke_config_errors(fns, lam, sqs, account):
    name = fns.create(tag="cfgerr")["FunctionName"]
    other = fns.create(tag="cfgother")["FunctionName"]
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    missing = f"arn:aws:lambda:us-east-1:{account}:function:doesnotexist"

    def fails(code, message=None, status=400, **kw):
        with pytest.raises(ClientError) as e:
            lam.put_function_event_invoke_config(**kw)
        assert error(e) == (code, status)
        if message:
            assert error_message(e) == message

    fails("InvalidParameterValueException", "You must specify at least one of error handling or destination setting.",
          FunctionName="doesnotexist")
    fails("ResourceNotFoundException", "The function doesn't exist.", 404, FunctionName="doesnotexist", MaximumRetryAttempts=1)
    fails("ResourceNotFoundException", "The function doesn't exist.", 404, FunctionName=missing, MaximumRetryAttempts=1)
    fails("InvalidParameterValueException", f"The destination ARN {missing} is invalid.",
          FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": missing}})
    fails("InvalidParameterValueException", "You can't specify the function as a destination for itself.",
          FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}})
    iam_arn = arn.replace(":lambda:", ":iam:")
    fails("InvalidParameterValueException",
          f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination={iam_arn}), onFailure=null) is invalid.",
          FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": iam_arn}})
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn.replace(":lambda:", ":_-/!lambda:")}})
    assert error(e) == ("ValidationException", 400)
    assert "at 'destinationConfig.onFailure.destination' failed to satisfy constraint" in error_message(e)
    fails("InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.",
          FunctionName=f"{name}:one", Qualifier="two", MaximumRetryAttempts=1)
    fails("ResourceNotFoundException", "The function doesn't exist.", 404, FunctionName=name, Qualifier="nosuchalias",
          MaximumRetryAttempts=1)
    # (botocore itself refuses values under the minimum.)
    for kw, field, bound in (({"MaximumRetryAttempts": 3}, "maximumRetryAttempts", 2),
                             ({"MaximumEventAgeInSeconds": 21601}, "maximumEventAgeInSeconds", 21600)):
        with pytest.raises(ClientError) as e:
            lam.put_function_event_invoke_config(FunctionName=name, **kw)
        assert error(e) == ("ValidationException", 400)
        value = list(kw.values())[0]
        assert error_message(e) == (f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: "
                                    f"Member must have value less than or equal to {bound}")
    # Nothing was stored by the refused requests.
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert error(e) == ("ResourceNotFoundException", 404)
    with pytest.raises(ClientError) as e:
        lam.list_function_event_invoke_configs(FunctionName="doesnotexist")
    assert error_message(e) == "The function doesn't exist."
    # Another function, and an empty destination, are accepted.
    other_arn = lam.get_function(FunctionName=other)["Configuration"]["FunctionArn"]
    put = lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": other_arn}, "OnFailure": {}})
    assert put["DestinationConfig"] == {"OnSuccess": {"Destination": other_arn}, "OnFailure": {}}


# --- Destinations and retries --------------------------------------------------------------------

def test_success_record_goes_to_the_on_success_queue(fns, lam, sqs):
    url, qarn = new_queue(sqs, "async-success")
    name = fns.create(tag="ok", handler="handler.echo")["FunctionName"]
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": qarn}})
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"hello": "async"}')
    assert r["StatusCode"] == 202
    request_id = r["ResponseMetadata"]["RequestId"]
    record = receive(sqs, url)
    assert record is not None
    assert record["version"] == "1.0"
    assert record["requestContext"] == {"requestId": request_id, "functionArn": arn + ":$LATEST",
                                        "condition": "Success", "approximateInvokeCount": 1}
    assert record["requestPayload"] == {"hello": "async"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"hello": "async"}
    assert record["timestamp"].endswith("Z")


def test_failure_without_retries_goes_to_the_on_failure_queue(fns, lam, sqs):
    url, qarn = new_queue(sqs, "async-failure")
    name = fns.create(tag="fail", handler="handler.fail")["FunctionName"]
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": qarn}, "OnSuccess": {"Destination": qarn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 7}')
    record = receive(sqs, url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"x": 7}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "boom 7"
    assert receive(sqs, url, wait=1.5) is None  # one record, not one per destination


def test_two_retries_one_then_two_minutes_apart(server, fns, lam, sqs):
    url, qarn = new_queue(sqs, "async-retries")
    name = fns.create(tag="retry", handler="handler.fail")["FunctionName"]
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnFailure": {"Destination": qarn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 1}')
    # The first attempt fails at once; the retry waits a minute of the emulator's clock.
    assert receive(sqs, url, wait=3) is None
    advance(server, 61)
    assert receive(sqs, url, wait=3) is None
    advance(server, 70)  # the third attempt waits two minutes after the second
    assert receive(sqs, url, wait=2) is None
    advance(server, 60)
    record = receive(sqs, url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    logs = make_client(server.endpoint, "logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    starts = [e["timestamp"] for e in events if e["message"].startswith("START RequestId: " + record["requestContext"]["requestId"])]
    assert len(starts) == 3
    # The log is stamped on the emulator's clock: the attempts are one, then two minutes apart there.
    assert 60_000 <= starts[1] - starts[0] < 80_000
    assert 120_000 <= starts[2] - starts[1] < 150_000


def test_event_older_than_the_maximum_age_is_dropped_to_on_failure(server, fns, lam, sqs):
    url, qarn = new_queue(sqs, "async-age")
    name = fns.create(tag="age", handler="handler.fail")["FunctionName"]
    lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60,
                                         DestinationConfig={"OnFailure": {"Destination": qarn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 2}')
    assert receive(sqs, url, wait=2) is None
    advance(server, 61)
    record = receive(sqs, url)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responsePayload"]["errorMessage"] == "boom 2"


def test_a_function_destination_is_invoked_with_the_record(fns, lam, sqs):
    url, qarn = new_queue(sqs, "async-chain")
    second = fns.create(tag="second", handler="handler.echo")["FunctionName"]
    second_arn = lam.get_function(FunctionName=second)["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName=second, DestinationConfig={"OnSuccess": {"Destination": qarn}})
    first = fns.create(tag="first", handler="handler.echo")["FunctionName"]
    lam.put_function_event_invoke_config(FunctionName=first, DestinationConfig={"OnSuccess": {"Destination": second_arn}})
    lam.invoke(FunctionName=first, InvocationType="Event", Payload=b'{"step": 1}')
    outer = receive(sqs, url)
    assert outer["requestContext"]["functionArn"] == second_arn + ":$LATEST"
    inner = outer["requestPayload"]
    assert inner["requestContext"]["condition"] == "Success"
    assert inner["requestPayload"] == {"step": 1}
    assert outer["responsePayload"] == inner  # the second function echoed the record it was given


def test_alias_uses_its_own_configuration(fns, lam, sqs):
    url, qarn = new_queue(sqs, "async-alias")
    name = fns.create(tag="alias", handler="handler.echo", Publish=True)["FunctionName"]
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="prod", DestinationConfig={"OnSuccess": {"Destination": qarn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 0}')  # $LATEST: no destination
    lam.invoke(FunctionName=f"{name}:prod", InvocationType="Event", Payload=b'{"n": 1}')
    record = receive(sqs, url)
    assert record["requestContext"]["functionArn"] == f"{arn}:prod"
    assert record["responseContext"]["executedVersion"] == "1"
    assert record["requestPayload"] == {"n": 1}
    assert receive(sqs, url, wait=1.5) is None


def test_dead_letter_queue_gets_the_event_with_error_attributes(fns, lam, sqs):
    url, qarn = new_queue(sqs, "async-dlq")
    name = fns.create(tag="dlq", handler="handler.fail", DeadLetterConfig={"TargetArn": qarn})["FunctionName"]
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {"TargetArn": qarn}
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    r = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 3}')
    body, message = receive(sqs, url, attributes=True)
    assert body == {"x": 3}
    attrs = {k: (v["DataType"], v["StringValue"]) for k, v in message["MessageAttributes"].items()}
    assert attrs == {"RequestID": ("String", r["ResponseMetadata"]["RequestId"]), "ErrorCode": ("Number", "200"),
                     "ErrorMessage": ("String", "boom 3")}
    lam.update_function_configuration(FunctionName=name, DeadLetterConfig={"TargetArn": ""})
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName=name)


def test_a_function_that_cannot_start_fails_its_attempts(fns, lam, sqs):
    url, qarn = new_queue(sqs, "async-nostart")
    # A provided runtime without its bootstrap: every attempt fails before the handler runs.
    name = fns.create(tag="nostart", runtime="provided.al2023", handler="x", code=zip_bytes({"readme.txt": "no bootstrap"}))["FunctionName"]
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": qarn}})
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 5}')
    record = receive(sqs, url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responsePayload"]["errorType"] == "InvalidRuntimeException"
    assert "bootstrap" in record["responsePayload"]["errorMessage"]


# --- S3 event notifications -----------------------------------------------------------------------

def test_s3_notification_invokes_the_function(server, fns, lam, sqs):
    s3 = make_client(server.endpoint)
    url, qarn = new_queue(sqs, "async-s3")
    name = fns.create(tag="s3", handler="handler.echo")["FunctionName"]
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": qarn}})
    bucket = "async-s3-events"
    s3.create_bucket(Bucket=bucket)
    try:
        missing = arn + "-missing"
        with pytest.raises(ClientError) as e:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
                "LambdaFunctionConfigurations": [{"LambdaFunctionArn": missing, "Events": ["s3:ObjectCreated:*"]}]})
        assert error(e) == ("InvalidArgument", 400)
        assert e.value.response["Error"]["ArgumentName1"] == missing
        assert e.value.response["Error"]["ArgumentValue1"] == "The destination Lambda does not exist"
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"Id": "to-lambda", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
                                              "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".jpg"}]}}}]})
        got = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
        assert got[0]["LambdaFunctionArn"] == arn
        s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"not selected")
        s3.put_object(Bucket=bucket, Key="photos/cat.jpg", Body=b"meow")
        record = receive(sqs, url)
        event = record["requestPayload"]["Records"][0]
        assert event["eventSource"] == "aws:s3"
        assert event["eventName"] == "ObjectCreated:Put"
        assert event["s3"]["configurationId"] == "to-lambda"
        assert event["s3"]["bucket"]["name"] == bucket
        assert event["s3"]["object"]["key"] == "photos/cat.jpg"
        assert event["s3"]["object"]["size"] == 4
        assert record["responsePayload"] == record["requestPayload"]
        assert receive(sqs, url, wait=1.5) is None  # notes.txt was not selected
    finally:
        purge_bucket(s3, bucket)


def test_a_queued_event_survives_kill_9():
    data_dir = tempfile.mkdtemp(prefix="cloudless-lambda-async-restart-")
    try:
        server = Server(data_dir=data_dir).start()
        fns = LambdaFunctions(server, "e2e-async-restart")
        sqs = make_client(server.endpoint, "sqs")
        url, qarn = new_queue(sqs, "async-restart")
        name = fns.create(tag="r", handler="handler.fail")["FunctionName"]
        fns.lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1,
                                                 DestinationConfig={"OnFailure": {"Destination": qarn}})
        r = fns.lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 4}')
        assert receive(sqs, url, wait=2) is None  # first attempt failed; the retry waits a minute
        server.kill9()

        server = Server(data_dir=data_dir, port=server.port).start()
        advance(server, 61)
        record = receive(make_client(server.endpoint, "sqs"), url)
        assert record["requestContext"]["requestId"] == r["ResponseMetadata"]["RequestId"]
        assert record["requestContext"]["approximateInvokeCount"] == 2
        fns.server = server
        fns.cleanup()
        server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
