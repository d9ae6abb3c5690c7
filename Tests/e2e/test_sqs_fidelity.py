"""SQS wire fidelity (issue 13): where Cloudless must answer as AWS does, field for field. Expected behaviour is
real Amazon SQS, as AWS's documentation and the answers LocalStack recorded from AWS show it.

Scenarios:
- a bare queue name as QueueUrl, in every operation that takes one (the caller's queue in the caller's region);
- the Query protocol over GET, signed in the Authorization header or in the query string (presigned), answered in
  JSON when the request asks for it (`Accept: application/json`), CreateQueue/ListQueues refused at a queue URL
  (InvalidAction), a missing queue worded "for this wsdl version", and `<UnknownOperationException/>` (404) for a
  request without an action or with one SQS does not have;
- FIFO receives fill a batch from one message group first; a message made visible again is back in its place;
  PurgeQueue clears the deduplication cache; DelaySeconds per message is refused (0 keeps the queue's delay);
  invalid MessageGroupId / MessageDeduplicationId (empty, too long, spaces), also on standard queues;
- an empty Policy / RedrivePolicy / RedriveAllowPolicy removes the attribute;
- MessageAttributeNames filters (`All`, `*`, `.*`, `prefix.*`) and system attribute names, with the MD5 of the
  attributes returned;
- `x-amzn-ErrorType` with the full shape id beside `x-amzn-query-error`, and AWS's JSON error names
  (`InvalidParameterValueException`, `MissingRequiredParameterException`);
- a queue's MaximumMessageSize bounds SendMessage and each SendMessageBatch entry, with AWS's texts.
"""
import hashlib
import json
import time
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode, urlparse

import pytest
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from helpers import make_client

NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"
VERSION = "2012-11-05"
TOKEN_REASON = "can only include alphanumeric and punctuation characters. 1 to 128 in length."


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


@pytest.fixture
def make_queue(sqs):
    urls = []

    def make(name=None, **kw):
        url = sqs.create_queue(QueueName=name or "fid-" + uuid.uuid4().hex[:12], **kw)["QueueUrl"]
        urls.append(url)
        return url
    yield make
    for url in urls:
        try:
            sqs.delete_queue(QueueUrl=url)
        except ClientError:
            pass


def fifo(make_queue, **attributes):
    return make_queue("fid-" + uuid.uuid4().hex[:12] + ".fifo", Attributes={"FifoQueue": "true", **attributes})


def name_of(url):
    return urlparse(url).path.split("/")[-1]


def signed(method, url, headers=None, body=b"", service="sqs"):
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(req)
    return requests.request(method, url, headers=dict(req.headers.items()), data=body, timeout=30)


def query_get(endpoint, params, path="/", headers=None):
    return signed("GET", endpoint + path + ("?" + urlencode(params, quote_via=quote) if params else ""), headers)


def md5_of_attributes(attributes):
    h = hashlib.md5()
    for name in sorted(attributes):
        v = attributes[name]
        for field in (name.encode(), v["DataType"].encode()):
            h.update(len(field).to_bytes(4, "big") + field)
        h.update(b"\x01")
        data = v["StringValue"].encode()
        h.update(len(data).to_bytes(4, "big") + data)
    return h.hexdigest()


def error_of(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Message"]


# --- QueueUrl as a bare queue name ---------------------------------------------------------------------------

def test_a_bare_queue_name_works_in_every_operation_that_takes_a_queue_url(sqs, make_queue):
    url = make_queue()
    name = name_of(url)
    sqs.set_queue_attributes(QueueUrl=name, Attributes={"VisibilityTimeout": "0"})
    assert sqs.get_queue_attributes(QueueUrl=name, AttributeNames=["VisibilityTimeout"])["Attributes"] == {"VisibilityTimeout": "0"}
    sqs.tag_queue(QueueUrl=name, Tags={"team": "a"})
    assert sqs.list_queue_tags(QueueUrl=name)["Tags"] == {"team": "a"}
    sqs.untag_queue(QueueUrl=name, TagKeys=["team"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=name)
    sqs.send_message(QueueUrl=name, MessageBody="one")
    sqs.send_message_batch(QueueUrl=name, Entries=[{"Id": "a", "MessageBody": "two"}])
    got = sqs.receive_message(QueueUrl=name, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in got) == ["one", "two"]
    sqs.change_message_visibility(QueueUrl=name, ReceiptHandle=got[0]["ReceiptHandle"], VisibilityTimeout=5)
    sqs.change_message_visibility_batch(QueueUrl=name, Entries=[{"Id": "a", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 5}])
    sqs.delete_message(QueueUrl=name, ReceiptHandle=got[0]["ReceiptHandle"])
    assert sqs.delete_message_batch(QueueUrl=name, Entries=[{"Id": "b", "ReceiptHandle": got[1]["ReceiptHandle"]}])["Successful"] == [{"Id": "b"}]
    assert sqs.list_dead_letter_source_queues(QueueUrl=name)["queueUrls"] == []
    sqs.add_permission(QueueUrl=name, Label="l1", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    sqs.remove_permission(QueueUrl=name, Label="l1")
    sqs.purge_queue(QueueUrl=name)
    sqs.delete_queue(QueueUrl=name)
    with pytest.raises(ClientError) as e:
        sqs.get_queue_attributes(QueueUrl=name, AttributeNames=["All"])
    assert error_of(e)[:2] == ("AWS.SimpleQueueService.NonExistentQueue", 400)


def test_a_bare_queue_name_that_does_not_exist_is_queue_does_not_exist(sqs):
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl="fid-none-" + uuid.uuid4().hex[:8], MessageBody="x")
    assert error_of(e) == ("AWS.SimpleQueueService.NonExistentQueue", 400, "The specified queue does not exist.")


def test_a_missing_queue_over_query_is_worded_for_the_wsdl_version(endpoint):
    # AWS: JSON says "The specified queue does not exist.", Query "... does not exist for this wsdl version."
    resp = query_get(endpoint, {"Action": "GetQueueUrl", "Version": VERSION, "QueueName": "fid-none-" + uuid.uuid4().hex[:8]})
    assert resp.status_code == 400
    error = ET.fromstring(resp.content).find(NS + "Error")
    assert error.find(NS + "Code").text == "AWS.SimpleQueueService.NonExistentQueue"
    assert error.find(NS + "Message").text == "The specified queue does not exist for this wsdl version."


def test_a_bare_queue_name_over_the_query_protocol(endpoint, sqs, make_queue):
    url = make_queue()
    resp = query_get(endpoint, {"Action": "SendMessage", "Version": VERSION, "QueueUrl": name_of(url), "MessageBody": "q"})
    assert resp.status_code == 200, resp.text
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]["Body"] == "q"


# --- Query over GET, JSON answers, unknown operations ---------------------------------------------------------

def test_query_get_signed_with_query_parameters(endpoint, sqs, make_queue):
    url = make_queue()
    params = {"Action": "GetQueueAttributes", "Version": VERSION, "QueueUrl": url, "AttributeName.1": "QueueArn"}
    req = AWSRequest(method="GET", url=endpoint + "/?" + urlencode(params, quote_via=quote))
    SigV4QueryAuth(Credentials("test", "test"), "sqs", "us-east-1", expires=300).add_auth(req)
    assert "X-Amz-Signature=" in req.url and "Authorization" not in req.headers
    resp = requests.get(req.url, timeout=30)
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.content)
    assert root.tag == NS + "GetQueueAttributesResponse"
    attribute = root.find(f"{NS}GetQueueAttributesResult/{NS}Attribute")
    assert attribute.find(NS + "Name").text == "QueueArn"
    assert attribute.find(NS + "Value").text.endswith(":" + name_of(url))


def test_query_get_presigned_is_verified_under_strict_auth(strict_server):
    endpoint = strict_server.endpoint
    client = make_client(endpoint, "sqs")
    url = client.create_queue(QueueName="fid-strict-" + uuid.uuid4().hex[:8])["QueueUrl"]
    try:
        params = {"Action": "GetQueueUrl", "Version": VERSION, "QueueName": name_of(url)}
        req = AWSRequest(method="GET", url=endpoint + "/?" + urlencode(params, quote_via=quote))
        SigV4QueryAuth(Credentials("test", "test"), "sqs", "us-east-1", expires=300).add_auth(req)
        resp = requests.get(req.url, timeout=30)
        assert resp.status_code == 200, resp.text
        assert ET.fromstring(resp.content).find(f"{NS}GetQueueUrlResult/{NS}QueueUrl").text == url
        # The same URL with another queue name no longer matches its signature.
        forged = req.url.replace("QueueName=" + name_of(url), "QueueName=" + name_of(url) + "x")
        resp = requests.get(forged, timeout=30)
        assert resp.status_code == 403, resp.text
        assert ET.fromstring(resp.content).find(f"{NS}Error/{NS}Code").text == "SignatureDoesNotMatch"
    finally:
        client.delete_queue(QueueUrl=url)


def test_query_answers_json_when_the_request_asks_for_it(endpoint, sqs, make_queue):
    url = make_queue()
    sqs.send_message(QueueUrl=url, MessageBody="json please")
    accept = {"Accept": "application/json"}
    resp = query_get(endpoint, {"Action": "ListQueues", "Version": VERSION, "QueueNamePrefix": name_of(url)}, headers=accept)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    doc = resp.json()
    assert doc["ListQueuesResponse"]["ListQueuesResult"]["queueUrls"] == [url]
    assert doc["ListQueuesResponse"]["ResponseMetadata"]["RequestId"] == resp.headers["x-amzn-RequestId"]

    resp = query_get(endpoint, {"Action": "ReceiveMessage", "Version": VERSION, "QueueUrl": url, "VisibilityTimeout": "0"}, headers=accept)
    assert resp.json()["ReceiveMessageResponse"]["ReceiveMessageResult"]["messages"][0]["Body"] == "json please"

    resp = query_get(endpoint, {"Action": "GetQueueAttributes", "Version": VERSION, "AttributeName.1": "All"},
                     path=urlparse(url).path, headers=accept)
    attributes = resp.json()["GetQueueAttributesResponse"]["GetQueueAttributesResult"]["Attributes"]
    assert {"Name": "VisibilityTimeout", "Value": "30"} in attributes

    # An operation without output answers only its metadata.
    resp = query_get(endpoint, {"Action": "PurgeQueue", "Version": VERSION, "QueueUrl": url}, headers=accept)
    assert list(resp.json()["PurgeQueueResponse"]) == ["ResponseMetadata"]

    # Errors too, with the Query code.
    resp = query_get(endpoint, {"Action": "GetQueueUrl", "Version": VERSION, "QueueName": "fid-none-" + uuid.uuid4().hex[:8]},
                     headers=accept)
    assert resp.status_code == 400
    assert resp.json()["Error"] == {"Type": "Sender", "Code": "AWS.SimpleQueueService.NonExistentQueue",
                                    "Message": "The specified queue does not exist for this wsdl version."}
    assert resp.json()["RequestId"] == resp.headers["x-amzn-RequestId"]

    # Without the header the answer is XML, as before.
    resp = query_get(endpoint, {"Action": "ListQueues", "Version": VERSION})
    assert resp.status_code == 200 and b"<ListQueuesResponse" in resp.content


@pytest.mark.parametrize("accept", [None, "application/json"])
def test_a_get_without_an_action_is_unknown_operation(endpoint, make_queue, accept):
    url = make_queue()
    resp = query_get(endpoint, {}, path=urlparse(url).path, headers={"Accept": accept} if accept else None)
    assert resp.status_code == 404
    assert resp.text.strip() == "<UnknownOperationException/>"


@pytest.mark.parametrize("action", ["CreateQueue", "ListQueues"])
def test_account_wide_actions_are_refused_at_a_queue_url(endpoint, make_queue, action):
    url = make_queue()
    params = {"Action": action, "Version": VERSION}
    if action == "CreateQueue":
        params["QueueName"] = "fid-" + uuid.uuid4().hex[:12]
    resp = query_get(endpoint, params, path=urlparse(url).path)
    assert resp.status_code == 400, resp.text
    error = ET.fromstring(resp.content).find(NS + "Error")
    assert error.find(NS + "Code").text == "InvalidAction"
    assert error.find(NS + "Message").text == f"The action {action} is not valid for this endpoint."
    # GetQueueUrl is served there (for any queue).
    resp = query_get(endpoint, {"Action": "GetQueueUrl", "Version": VERSION, "QueueName": name_of(url)}, path=urlparse(url).path)
    assert resp.status_code == 200, resp.text


def test_an_unknown_action_is_unknown_operation(endpoint):
    form = urlencode({"Action": "FlyToTheMoon", "Version": VERSION}).encode()
    resp = signed("POST", endpoint + "/", {"Content-Type": "application/x-www-form-urlencoded"}, form)
    assert resp.status_code == 404
    assert resp.text.strip() == "<UnknownOperationException/>"


# --- FIFO -----------------------------------------------------------------------------------------------------

def test_a_fifo_receive_fills_the_batch_from_one_group_first(sqs, make_queue):
    url = fifo(make_queue, ContentBasedDeduplication="true")
    for group, body in [("g1", "a1"), ("g2", "b1"), ("g1", "a2"), ("g2", "b2"), ("g1", "a3")]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["a1", "a2", "a3", "b1", "b2"]


def test_a_fifo_message_made_visible_again_is_back_in_its_place(sqs, make_queue):
    url = fifo(make_queue, ContentBasedDeduplication="true")
    for body in ["m1", "m2", "m3", "m4"]:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert [m["Body"] for m in first] == ["m1", "m2"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in again] == ["m2", "m3", "m4"]


def test_purging_a_fifo_queue_clears_its_deduplication_cache(sqs, make_queue):
    url = fifo(make_queue)
    first = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d1")["MessageId"]
    assert sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d1")["MessageId"] == first
    sqs.purge_queue(QueueUrl=url)
    second = sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d1")["MessageId"]
    assert second != first
    assert [m["MessageId"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]] == [second]


def test_a_fifo_send_with_delay_seconds_is_refused_and_zero_keeps_the_queue_delay(sqs, make_queue):
    url = fifo(make_queue, ContentBasedDeduplication="true", DelaySeconds="1")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="late", MessageGroupId="g", DelaySeconds=2)
    assert error_of(e) == ("InvalidParameterValue", 400,
                           "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.")
    sqs.send_message(QueueUrl=url, MessageBody="zero", MessageGroupId="g", DelaySeconds=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3)["Messages"][0]["Body"] == "zero"


@pytest.mark.parametrize("value", ["", "a" * 129, "group 123"], ids=["empty", "too_long", "spaces"])
@pytest.mark.parametrize("kind", ["standard", "fifo"])
def test_invalid_group_and_deduplication_ids(sqs, make_queue, value, kind):
    url = make_queue() if kind == "standard" else fifo(make_queue)
    for parameter in ["MessageGroupId", "MessageDeduplicationId"]:
        kw = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if kind == "fifo" else {}
        kw[parameter] = value
        with pytest.raises(ClientError) as e:
            sqs.send_message(QueueUrl=url, MessageBody="x", **kw)
        assert error_of(e) == ("InvalidParameterValue", 400,
                               f"Value {value} for parameter {parameter} is invalid. Reason: {parameter} {TOKEN_REASON}")
        assert e.value.response["Error"]["QueryErrorCode"] == "InvalidParameterValueException"


# --- attributes -----------------------------------------------------------------------------------------------

def test_an_empty_policy_removes_the_attribute(sqs, make_queue):
    dead = make_queue()
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = make_queue()
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn}]})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "Policy": policy, "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "3"}),
        "RedriveAllowPolicy": json.dumps({"redrivePermission": "allowAll"})})
    names = ["Policy", "RedrivePolicy", "RedriveAllowPolicy"]
    assert set(names) <= set(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])
    for name in names:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={name: ""})
        assert name not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])
    # Emptying one that was never set is accepted too.
    sqs.set_queue_attributes(QueueUrl=dead, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["All"])["Attributes"]


@pytest.mark.parametrize("names,expected", [
    ([], []),
    (["All"], ["General", "Hello", "Help.Me"]),
    (["*"], ["General", "Hello", "Help.Me"]),
    ([".*"], ["General", "Hello", "Help.Me"]),
    (["Foo", "Help"], []),
    (["Hello", "General"], ["General", "Hello"]),
    (["Foo", "Hello"], ["Hello"]),
    (["Hel.*"], ["Hello", "Help.Me"]),
    (["AWS."], []),
    (["..foo"], []),
], ids=["none", "All", "star", "dot-star", "missing", "existing", "mixed", "prefix", "illegal-1", "illegal-2"])
def test_message_attribute_name_filters(sqs, make_queue, names, expected):
    url = make_queue(Attributes={"VisibilityTimeout": "0"})
    attributes = {"Help.Me": {"DataType": "String", "StringValue": "Me"},
                  "Hello": {"DataType": "String", "StringValue": "There"},
                  "General": {"DataType": "String", "StringValue": "Kenobi"}}
    sqs.send_message(QueueUrl=url, MessageBody="msg", MessageAttributes=attributes)
    m = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=names)["Messages"][0]
    assert sorted(m.get("MessageAttributes", {})) == expected
    if expected:
        assert m["MD5OfMessageAttributes"] == md5_of_attributes({k: attributes[k] for k in expected})
    else:
        assert "MD5OfMessageAttributes" not in m
    assert "Attributes" not in m


def test_system_attribute_name_filters(sqs, make_queue):
    url = make_queue(Attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=url, MessageBody="msg")
    every = {"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}
    assert set(sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"])["Messages"][0]["Attributes"]) == every
    assert set(sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]["Attributes"]) == every
    assert set(sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["SenderId", "SequenceNumber"])
               ["Messages"][0]["Attributes"]) == {"SenderId"}
    # The wildcards of message attribute names work here too.
    assert set(sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=[".*"])["Messages"][0]["Attributes"]) == every
    assert set(sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["Approximate.*"])["Messages"][0]["Attributes"]) == {
        "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"}
    # Both lists together: their union.
    assert set(sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["All"], AttributeNames=["SenderId"])
               ["Messages"][0]["Attributes"]) == every


# --- errors ---------------------------------------------------------------------------------------------------

def json_call(endpoint, operation, body):
    return signed("POST", endpoint + "/", {"X-Amz-Target": "AmazonSQS." + operation, "Content-Type": "application/x-amz-json-1.0"},
                  json.dumps(body).encode())


def test_the_error_type_header_carries_the_full_shape_id(endpoint, make_queue):
    resp = json_call(endpoint, "GetQueueUrl", {"QueueName": "fid-none-" + uuid.uuid4().hex[:8]})
    assert resp.status_code == 400
    assert resp.headers["x-amzn-ErrorType"] == "com.amazonaws.sqs#QueueDoesNotExist"
    assert resp.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert resp.json() == {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."}

    url = make_queue()
    resp = json_call(endpoint, "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11})
    assert resp.headers["x-amzn-ErrorType"] == "com.amazonaws.sqs#InvalidParameterValueException"
    assert resp.headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    assert resp.json()["__type"] == "com.amazonaws.sqs#InvalidParameterValueException"

    resp = json_call(endpoint, "SendMessage", {"QueueUrl": url})
    assert resp.headers["x-amzn-ErrorType"] == "com.amazonaws.sqs#MissingRequiredParameterException"
    assert resp.headers["x-amzn-query-error"] == "MissingParameter;Sender"


def test_boto3_reads_the_query_code_and_keeps_the_json_one(sqs, make_queue):
    url = make_queue()
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="")
    assert e.value.response["Error"]["Code"] == "MissingParameter"
    assert e.value.response["Error"]["QueryErrorCode"] == "MissingRequiredParameterException"


# --- MaximumMessageSize ---------------------------------------------------------------------------------------

def test_a_changed_maximum_message_size_bounds_send_message(sqs, make_queue):
    url = make_queue()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})
    sqs.send_message(QueueUrl=url, MessageBody="a" * 1024)
    attributes = {"k": {"DataType": "String", "StringValue": "x"}}
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="a" * (1024 - len("kStringx") + 1), MessageAttributes=attributes)
    assert error_of(e) == ("InvalidParameterValue", 400,
                           "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.")


def test_a_changed_maximum_message_size_bounds_each_batch_entry(sqs, make_queue):
    url = make_queue(Attributes={"MaximumMessageSize": "1024"})
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "MessageBody": "a" * 1024}, {"Id": "big", "MessageBody": "a" * 1025}])
    assert [s["Id"] for s in out["Successful"]] == ["ok"]
    assert out["Failed"] == [{"Id": "big", "SenderFault": True, "Code": "InvalidParameterValue",
                              "Message": "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes."}]
    # A larger limit lets a batch entry of exactly that size through.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "2048"})
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "1", "MessageBody": "a" * (2048 - len("kStringx")), "MessageAttributes": {"k": {"DataType": "String", "StringValue": "x"}}},
        {"Id": "2", "MessageBody": "a"}])
    assert [s["Id"] for s in out["Successful"]] == ["1", "2"]
    assert out.get("Failed", []) == []
