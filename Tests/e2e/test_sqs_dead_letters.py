"""SQS dead-letter queues: RedrivePolicy moves a message on the receive after maxReceiveCount, and
ListDeadLetterSourceQueues finds the queues that point at a DLQ."""
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


def _queue(sqs, **attributes):
    url = sqs.create_queue(QueueName="dlq-" + uuid.uuid4().hex[:16], Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _policy(arn, count):
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": count})


def test_message_moves_to_the_dead_letter_queue_after_max_receives(sqs):
    dlq, dlq_arn = _queue(sqs)
    src, _ = _queue(sqs, RedrivePolicy=_policy(dlq_arn, 2))
    sqs.send_message(QueueUrl=src, MessageBody="poison", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    for n in (1, 2):
        got = sqs.receive_message(QueueUrl=src, VisibilityTimeout=0, AttributeNames=["ApproximateReceiveCount"])["Messages"]
        assert got[0]["Body"] == "poison"
        assert got[0]["Attributes"]["ApproximateReceiveCount"] == str(n)
    # The third receive finds nothing: the message went to the DLQ instead.
    assert "Messages" not in sqs.receive_message(QueueUrl=src, VisibilityTimeout=0)
    moved = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in moved] == ["poison"]
    assert moved[0]["MessageAttributes"] == {"k": {"DataType": "String", "StringValue": "v"}}
    counts = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0" and counts["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_max_receive_count_accepts_a_string(sqs):
    _, dlq_arn = _queue(sqs)
    src, _ = _queue(sqs)
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": policy})
    got = json.loads(sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"])
    assert got["deadLetterTargetArn"] == dlq_arn


@pytest.mark.parametrize("policy", [
    lambda arn: _policy(arn.rsplit(":", 1)[0] + ":no-such-queue-" + uuid.uuid4().hex[:6], 3),  # target missing
    lambda arn: _policy(arn, 0),                                                           # count too small
    lambda arn: _policy(arn, 1001),                                                        # count too large
    lambda arn: "not json",
    lambda arn: json.dumps({"maxReceiveCount": 3}),                                        # no target
])
def test_invalid_redrive_policy_is_rejected_and_changes_nothing(sqs, policy):
    _, dlq_arn = _queue(sqs)
    src, _ = _queue(sqs)
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": policy(dlq_arn)})
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["All"])["Attributes"]


def test_list_dead_letter_source_queues(sqs):
    dlq, dlq_arn = _queue(sqs)
    a, _ = _queue(sqs, RedrivePolicy=_policy(dlq_arn, 3))
    b, _ = _queue(sqs, RedrivePolicy=_policy(dlq_arn, 4))
    _queue(sqs)  # not a source
    urls = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    assert sorted(urls) == sorted([a, b])
    first = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1)
    assert len(first["queueUrls"]) == 1 and "NextToken" in first
    second = sqs.list_dead_letter_source_queues(QueueUrl=dlq, MaxResults=1, NextToken=first["NextToken"])
    assert sorted(first["queueUrls"] + second["queueUrls"]) == sorted([a, b])
