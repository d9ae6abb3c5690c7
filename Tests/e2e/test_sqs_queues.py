"""SQS queue management driven by boto3 over the AWS JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`):
CreateQueue, GetQueueUrl, ListQueues, DeleteQueue, GetQueueAttributes, SetQueueAttributes, TagQueue,
UntagQueue, ListQueueTags. Expected behaviour is real Amazon SQS: botocore's service model, the AWS
API reference, and responses recorded against AWS.

Error codes: SQS answers JSON errors with `__type` (e.g. `com.amazonaws.sqs#QueueDoesNotExist`) and an
`x-amzn-query-error: <legacy code>;Sender` header. botocore puts the legacy code in
`Error.Code` (`AWS.SimpleQueueService.NonExistentQueue`, `QueueAlreadyExists`, ...) and picks the
exception class from `__type` (`client.exceptions.QueueDoesNotExist`, `QueueNameExists`, ...), so
asserting both checks both halves of the wire format.

Limits: MaximumMessageSize is 1,024–1,048,576 bytes, default 1,048,576 (AWS raised it from 256 KiB in
2025; botocore's current model documents 1 MiB and AWS now reports "1048576" for a new queue).
"""
import time
import uuid
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError

from helpers import error, make_client

ACCOUNT = "000000000000"  # the account of access key "test"
OTHER_ACCOUNT = "111111111111"  # a 12-digit access key is its own account

DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}

# The keys GetQueueAttributes(All) returns for a fresh standard queue (as AWS answers).
STANDARD_ALL_KEYS = {
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
    "CreatedTimestamp", "DelaySeconds", "LastModifiedTimestamp", "MaximumMessageSize", "MessageRetentionPeriod",
    "QueueArn", "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "VisibilityTimeout",
}
FIFO_EXTRA_KEYS = {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}

NON_EXISTENT = "AWS.SimpleQueueService.NonExistentQueue"


def new_name(prefix="e2e-q-", fifo=False):
    return prefix + uuid.uuid4().hex[:16] + (".fifo" if fifo else "")


def host_of(endpoint):
    return urlparse(endpoint).netloc


def port_of(endpoint):
    return urlparse(endpoint).port


def queue_url(endpoint, name, account=ACCOUNT):
    return f"http://{host_of(endpoint)}/{account}/{name}"


@pytest.fixture(scope="module")
def sqs(endpoint):
    return make_client(endpoint, "sqs")


@pytest.fixture(scope="module")
def sqs_other(endpoint):
    """A client of another account (access key 111111111111)."""
    return make_client(endpoint, "sqs", access_key=OTHER_ACCOUNT)


@pytest.fixture
def created(sqs):
    """(client, QueueUrl) pairs of queues a test created; deleted afterwards (errors ignored)."""
    queues = []
    yield queues
    for client, url in queues:
        try:
            client.delete_queue(QueueUrl=url)
        except ClientError:
            pass


@pytest.fixture
def make_queue(sqs, created):
    """make_queue(name=None, client=sqs, **create_queue_kwargs) -> QueueUrl; deleted after the test."""
    def make(name=None, client=None, **kwargs):
        client = client or sqs
        url = client.create_queue(QueueName=name or new_name(), **kwargs)["QueueUrl"]
        created.append((client, url))
        return url
    return make


@pytest.fixture
def queue(make_queue):
    """A fresh standard queue with default attributes: its QueueUrl."""
    return make_queue()


def attrs(sqs, url, names=("All",)):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names)).get("Attributes", {})


def assert_error(excinfo, code, status=400):
    assert error(excinfo) == (code, status), excinfo.value.response["Error"]


# --- CreateQueue ----------------------------------------------------------------------------------

def test_create_queue_returns_url_with_client_host_account_and_name(sqs, endpoint, created):
    name = new_name()
    resp = sqs.create_queue(QueueName=name)
    created.append((sqs, resp["QueueUrl"]))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["QueueUrl"] == f"http://{host_of(endpoint)}/{ACCOUNT}/{name}"  # e.g. http://127.0.0.1:PORT/...


def test_create_queue_url_follows_the_host_the_client_used(endpoint, created):
    local = make_client(f"http://localhost:{port_of(endpoint)}", "sqs")
    name = new_name()
    url = local.create_queue(QueueName=name)["QueueUrl"]
    created.append((local, url))
    assert url == f"http://localhost:{port_of(endpoint)}/{ACCOUNT}/{name}"
    assert local.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_create_queue_with_same_name_and_no_attributes_is_idempotent(sqs, make_queue):
    name = new_name()
    url = make_queue(name)
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url


def test_create_queue_with_identical_attributes_is_idempotent(sqs, make_queue):
    name = new_name()
    attributes = {"VisibilityTimeout": "69", "DelaySeconds": "5"}
    url = make_queue(name, Attributes=attributes)
    assert sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"] == url
    # A subset of matching attributes, or none at all, also returns the existing queue.
    assert sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    assert attrs(sqs, url)["VisibilityTimeout"] == "69"


def test_create_queue_with_explicit_default_values_matches_a_default_queue(sqs, make_queue):
    name = new_name()
    url = make_queue(name)
    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30", "DelaySeconds": "0"})
    assert again["QueueUrl"] == url


def test_create_queue_with_different_attributes_is_queue_already_exists(sqs, make_queue):
    # moto differs: its message is "The specified queue already exists.", without the attribute
    name = new_name()
    make_queue(name, Attributes={"DelaySeconds": "1"})
    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "2"})
    assert_error(e, "QueueAlreadyExists")
    assert "DelaySeconds" in e.value.response["Error"]["Message"]
    # A non-default value against a default queue is also a difference.
    other = new_name()
    make_queue(other)
    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName=other, Attributes={"VisibilityTimeout": "31"})
    assert_error(e, "QueueAlreadyExists")


def test_create_queue_compares_against_current_attributes_after_set(sqs, make_queue):
    name = new_name()
    url = make_queue(name, Attributes={"DelaySeconds": "1"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2"})
    assert sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "2"})["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "1"})
    assert_error(e, "QueueAlreadyExists")


@pytest.mark.parametrize("attribute,low,high", [
    ("DelaySeconds", "0", "900"),
    ("MaximumMessageSize", "1024", "1048576"),
    ("MessageRetentionPeriod", "60", "1209600"),
    ("ReceiveMessageWaitTimeSeconds", "0", "20"),
    ("VisibilityTimeout", "0", "43200"),
])
def test_create_queue_accepts_attribute_range_bounds(sqs, make_queue, attribute, low, high):
    for value in (low, high):
        url = make_queue(Attributes={attribute: value})
        assert attrs(sqs, url, [attribute]) == {attribute: value}


@pytest.mark.parametrize("attribute,value", [
    ("DelaySeconds", "-1"),
    ("DelaySeconds", "901"),
    ("MaximumMessageSize", "1023"),
    ("MaximumMessageSize", "1048577"),
    ("MessageRetentionPeriod", "59"),
    ("MessageRetentionPeriod", "1209601"),
    ("ReceiveMessageWaitTimeSeconds", "-1"),
    ("ReceiveMessageWaitTimeSeconds", "21"),
    ("VisibilityTimeout", "-1"),
    ("VisibilityTimeout", "43201"),
    ("VisibilityTimeout", "abc"),
    ("DelaySeconds", "1.5"),
])
def test_create_queue_with_out_of_range_attribute_is_invalid_attribute_value(sqs, attribute, value):
    # moto differs: it does not validate attribute values
    name = new_name()
    with pytest.raises(sqs.exceptions.InvalidAttributeValue) as e:
        sqs.create_queue(QueueName=name, Attributes={attribute: value})
    assert_error(e, "InvalidAttributeValue")
    assert attribute in e.value.response["Error"]["Message"]
    # Nothing was created.
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def test_create_queue_with_unknown_attribute_is_invalid_attribute_name(sqs):
    # moto differs: it accepts any attribute name
    name = new_name()
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as e:
        sqs.create_queue(QueueName=name, Attributes={"Colour": "blue"})
    assert_error(e, "InvalidAttributeName")
    assert e.value.response["Error"]["Message"] == "Unknown Attribute Colour."
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


@pytest.mark.parametrize("attribute", ["QueueArn", "ApproximateNumberOfMessages", "CreatedTimestamp"])
def test_create_queue_with_read_only_attribute_is_invalid_attribute_name(sqs, attribute):
    # moto differs: it accepts them (or answers 500)
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as e:
        sqs.create_queue(QueueName=new_name(), Attributes={attribute: "1"})
    assert_error(e, "InvalidAttributeName")


@pytest.mark.parametrize("attributes", [
    {"FifoQueue": "false"},
    {"ContentBasedDeduplication": "false"},
    {"DeduplicationScope": "queue"},
    {"FifoThroughputLimit": "perQueue"},
], ids=["FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"])
def test_create_standard_queue_with_fifo_attribute_is_invalid_attribute_name(sqs, attributes):
    # moto differs: it accepts FIFO attributes on standard queues (or answers 500)
    # AWS rejects every FIFO-only attribute on a standard queue, even FifoQueue=false.
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as e:
        sqs.create_queue(QueueName=new_name(), Attributes=attributes)
    assert_error(e, "InvalidAttributeName")


@pytest.mark.parametrize("name", [
    "a" * 81,
    "has.dot",
    "has space",
    "has/slash",
    "has:colon",
    "ümlaut",
    "x.fifo.fifo",
])
def test_create_queue_with_invalid_name_is_invalid_parameter_value(sqs, name):
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name)
    assert_error(e, "InvalidParameterValue")


def test_create_queue_name_of_80_characters_with_hyphens_and_underscores_is_accepted(sqs, make_queue):
    name = ("Ab-_" + uuid.uuid4().hex * 3)[:80]
    assert len(name) == 80
    url = make_queue(name)
    assert url.endswith(f"/{ACCOUNT}/{name}")


def test_fifo_queue_name_counts_suffix_towards_80_characters(sqs, make_queue):
    name = (uuid.uuid4().hex * 3)[:75] + ".fifo"
    assert len(name) == 80
    url = make_queue(name, Attributes={"FifoQueue": "true"})
    assert url.endswith("/" + name)
    too_long = (uuid.uuid4().hex * 3)[:76] + ".fifo"
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=too_long, Attributes={"FifoQueue": "true"})
    assert_error(e, "InvalidParameterValue")


def test_fifo_suffix_without_fifo_queue_attribute_is_invalid_parameter_value(sqs):
    # moto differs: it creates a standard queue named *.fifo
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=new_name(fifo=True))
    assert_error(e, "InvalidParameterValue")


def test_fifo_queue_attribute_without_fifo_suffix_is_invalid_parameter_value(sqs):
    name = new_name()
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})
    assert_error(e, "InvalidParameterValue")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


def test_create_fifo_queue_with_fifo_attributes(sqs, make_queue):
    name = new_name(fifo=True)
    url = make_queue(name, Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true",
        "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId",
    })
    a = attrs(sqs, url)
    assert set(a) == STANDARD_ALL_KEYS | FIFO_EXTRA_KEYS
    assert a["FifoQueue"] == "true"
    assert a["ContentBasedDeduplication"] == "true"
    assert a["DeduplicationScope"] == "messageGroup"
    assert a["FifoThroughputLimit"] == "perMessageGroupId"
    assert a["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


def test_fifo_queue_defaults(sqs, make_queue):
    url = make_queue(new_name(fifo=True), Attributes={"FifoQueue": "true"})
    a = attrs(sqs, url)
    assert set(a) == STANDARD_ALL_KEYS | FIFO_EXTRA_KEYS
    assert {k: a[k] for k in FIFO_EXTRA_KEYS} == {
        "FifoQueue": "true", "ContentBasedDeduplication": "false",
        "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue",
    }
    assert {k: a[k] for k in DEFAULTS} == DEFAULTS


def test_create_fifo_queue_accepts_capitalised_boolean_values(sqs, make_queue):
    # AWS takes "True"/"False" and reports the values back in lower case.
    url = make_queue(new_name(fifo=True), Attributes={"FifoQueue": "True", "ContentBasedDeduplication": "False"})
    a = attrs(sqs, url, ["FifoQueue", "ContentBasedDeduplication"])
    assert a == {"FifoQueue": "true", "ContentBasedDeduplication": "false"}


def test_create_fifo_queue_idempotent_and_conflicting(sqs, make_queue):
    # moto differs: its message does not name the attribute
    name = new_name(fifo=True)
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    url = make_queue(name, Attributes=attributes)
    assert sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"] == url
    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"})
    assert_error(e, "QueueAlreadyExists")
    assert "ContentBasedDeduplication" in e.value.response["Error"]["Message"]


@pytest.mark.parametrize("attribute,value", [
    ("ContentBasedDeduplication", "maybe"),
    ("DeduplicationScope", "everywhere"),
    ("FifoThroughputLimit", "fast"),
])
def test_create_fifo_queue_with_invalid_fifo_attribute_value_is_invalid_attribute_value(sqs, attribute, value):
    # moto differs: it does not validate attribute values
    with pytest.raises(sqs.exceptions.InvalidAttributeValue) as e:
        sqs.create_queue(QueueName=new_name(fifo=True), Attributes={"FifoQueue": "true", attribute: value})
    assert_error(e, "InvalidAttributeValue")


def test_create_queue_with_tags(sqs, make_queue):
    tags = {"team": "core", "Env": "", "env": "dev"}
    url = make_queue(tags=tags)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == tags


def test_queue_names_are_case_sensitive(sqs, make_queue):
    name = new_name("E2E-Case-")
    url = make_queue(name)
    lower = make_queue(name.lower())
    assert url != lower
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName=name.lower())["QueueUrl"] == lower
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name.upper())


# --- GetQueueUrl ----------------------------------------------------------------------------------

def test_get_queue_url_returns_the_created_url(sqs, make_queue):
    name = new_name()
    url = make_queue(name)
    resp = sqs.get_queue_url(QueueName=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["QueueUrl"] == url


def test_get_queue_url_of_missing_queue_is_non_existent_queue(sqs):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=new_name())
    assert_error(e, NON_EXISTENT)
    assert e.value.response["Error"]["Message"] == "The specified queue does not exist."


def test_get_queue_url_with_own_owner_account_id(sqs, make_queue, endpoint):
    name = new_name()
    url = make_queue(name)
    assert sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=ACCOUNT)["QueueUrl"] == url
    assert url == queue_url(endpoint, name)


def test_get_queue_url_with_owner_account_that_has_no_such_queue_is_non_existent_queue(sqs, make_queue):
    # moto differs: it ignores QueueOwnerAWSAccountId
    name = new_name()
    make_queue(name)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="222222222222")
    assert_error(e, NON_EXISTENT)


# --- ListQueues -----------------------------------------------------------------------------------

def test_list_queues_filters_by_prefix(sqs, make_queue):
    prefix = new_name("e2e-lq-") + "-"
    a = [make_queue(prefix + "a-" + str(i)) for i in range(2)]
    b = make_queue(prefix + "b-0")
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix + "a-")["QueueUrls"]) == sorted(a)
    assert sqs.list_queues(QueueNamePrefix=prefix + "b-")["QueueUrls"] == [b]
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == sorted(a + [b])
    assert set(a + [b]) <= set(sqs.list_queues()["QueueUrls"])


def test_list_queues_prefix_is_case_sensitive(sqs, make_queue):
    prefix = new_name("e2e-LQ-")
    make_queue(prefix + "-x")
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=prefix.lower())


def test_list_queues_with_no_match_has_no_queue_urls(sqs):
    resp = sqs.list_queues(QueueNamePrefix=new_name("e2e-none-"))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "QueueUrls" not in resp
    assert "NextToken" not in resp


def test_list_queues_without_max_results_has_no_next_token(sqs, make_queue):
    prefix = new_name("e2e-lq-") + "-"
    urls = [make_queue(prefix + str(i)) for i in range(3)]
    resp = sqs.list_queues(QueueNamePrefix=prefix)
    assert sorted(resp["QueueUrls"]) == sorted(urls)
    assert "NextToken" not in resp


def test_list_queues_paginates_with_max_results_and_next_token(sqs, make_queue):
    # moto differs: it ignores MaxResults and never returns NextToken
    prefix = new_name("e2e-lq-") + "-"
    urls = [make_queue(prefix + str(i)) for i in range(5)]
    first = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert len(first["QueueUrls"]) == 2
    assert first["NextToken"]
    seen = list(first["QueueUrls"])
    token = first["NextToken"]
    while token:
        page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=token)
        assert 1 <= len(page["QueueUrls"]) <= 2
        seen += page["QueueUrls"]
        token = page.get("NextToken")
    assert len(seen) == 5
    assert sorted(seen) == sorted(urls)


def test_list_queues_max_results_covering_everything_has_no_next_token(sqs, make_queue):
    # moto differs: it ignores MaxResults and never returns NextToken
    prefix = new_name("e2e-lq-") + "-"
    urls = [make_queue(prefix + str(i)) for i in range(3)]
    resp = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=3)
    assert sorted(resp["QueueUrls"]) == sorted(urls)
    assert "NextToken" not in resp
    rest = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    page2 = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=10, NextToken=rest["NextToken"])
    assert len(page2["QueueUrls"]) == 1
    assert "NextToken" not in page2


def test_list_queues_paginator_walks_all_pages(sqs, make_queue):
    prefix = new_name("e2e-lq-") + "-"
    urls = [make_queue(prefix + str(i)) for i in range(4)]
    pages = sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix, PaginationConfig={"PageSize": 3})
    seen = [u for page in pages for u in page.get("QueueUrls", [])]
    assert sorted(seen) == sorted(urls)


# --- DeleteQueue ----------------------------------------------------------------------------------

def test_delete_queue_removes_it(sqs):
    name = new_name()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    resp = sqs.delete_queue(QueueUrl=url)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=name)
    assert_error(e, NON_EXISTENT)
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=name)


def test_recreate_queue_right_after_delete_is_queue_deleted_recently(sqs):
    # moto differs: it lets the name be reused at once
    name = new_name()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDeletedRecently) as e:
        sqs.create_queue(QueueName=name)
    assert_error(e, "AWS.SimpleQueueService.QueueDeletedRecently")
    assert "60 seconds" in e.value.response["Error"]["Message"]


def test_delete_missing_queue_is_non_existent_queue(sqs, endpoint):
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.delete_queue(QueueUrl=queue_url(endpoint, new_name()))
    assert_error(e, NON_EXISTENT)


# --- Operations on a queue that does not exist ----------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda c, u: c.get_queue_attributes(QueueUrl=u, AttributeNames=["All"]),
    lambda c, u: c.set_queue_attributes(QueueUrl=u, Attributes={"DelaySeconds": "1"}),
    lambda c, u: c.tag_queue(QueueUrl=u, Tags={"k": "v"}),
    lambda c, u: c.untag_queue(QueueUrl=u, TagKeys=["k"]),
    lambda c, u: c.list_queue_tags(QueueUrl=u),
    lambda c, u: c.delete_queue(QueueUrl=u),
], ids=["GetQueueAttributes", "SetQueueAttributes", "TagQueue", "UntagQueue", "ListQueueTags", "DeleteQueue"])
def test_operation_on_deleted_queue_is_non_existent_queue(sqs, call):
    url = sqs.create_queue(QueueName=new_name())["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        call(sqs, url)
    assert_error(e, NON_EXISTENT)


# --- GetQueueAttributes ---------------------------------------------------------------------------

def test_get_queue_attributes_all_of_new_standard_queue(sqs, endpoint):
    name = new_name()
    before = time.time()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        a = attrs(sqs, url)
        assert set(a) == STANDARD_ALL_KEYS
        assert {k: a[k] for k in DEFAULTS} == DEFAULTS
        assert a["QueueArn"] == f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"
        assert a["ApproximateNumberOfMessages"] == "0"
        assert a["ApproximateNumberOfMessagesNotVisible"] == "0"
        assert a["ApproximateNumberOfMessagesDelayed"] == "0"
        # Epoch seconds, as whole numbers.
        assert a["CreatedTimestamp"].isdigit(), a["CreatedTimestamp"]  # moto differs: fractional seconds
        assert a["LastModifiedTimestamp"].isdigit(), a["LastModifiedTimestamp"]
        assert abs(int(a["CreatedTimestamp"]) - before) < 120
        assert int(a["LastModifiedTimestamp"]) >= int(a["CreatedTimestamp"])
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_get_queue_attributes_selected_names_only(sqs, queue):
    resp = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn", "VisibilityTimeout"])
    assert set(resp["Attributes"]) == {"QueueArn", "VisibilityTimeout"}
    assert resp["Attributes"]["VisibilityTimeout"] == "30"
    assert resp["Attributes"]["QueueArn"].endswith(":" + queue.rsplit("/", 1)[1])
    assert attrs(sqs, queue, ["ApproximateNumberOfMessages"]) == {"ApproximateNumberOfMessages": "0"}


def test_get_queue_attributes_without_names_returns_no_attributes(sqs, queue):
    resp = sqs.get_queue_attributes(QueueUrl=queue)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not resp.get("Attributes")


def test_get_queue_attributes_with_unknown_name_is_invalid_attribute_name(sqs, queue):
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as e:
        sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["Foobar"])
    assert_error(e, "InvalidAttributeName")
    assert e.value.response["Error"]["Message"] == "Unknown Attribute Foobar."


def test_get_queue_attributes_reflects_create_attributes(sqs, make_queue):
    given = {"DelaySeconds": "15", "MaximumMessageSize": "2048", "MessageRetentionPeriod": "120",
             "ReceiveMessageWaitTimeSeconds": "10", "VisibilityTimeout": "45"}
    url = make_queue(Attributes=given)
    a = attrs(sqs, url)
    assert {k: a[k] for k in given} == given


# --- SetQueueAttributes ---------------------------------------------------------------------------

def test_set_queue_attributes_changes_are_reflected(sqs, queue):
    created_at = attrs(sqs, queue, ["CreatedTimestamp"])["CreatedTimestamp"]
    time.sleep(1.1)
    new = {"DelaySeconds": "420", "MaximumMessageSize": "2048", "VisibilityTimeout": "69",
           "MessageRetentionPeriod": "604800", "ReceiveMessageWaitTimeSeconds": "20"}
    resp = sqs.set_queue_attributes(QueueUrl=queue, Attributes=new)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    a = attrs(sqs, queue)
    assert {k: a[k] for k in new} == new
    assert a["CreatedTimestamp"] == created_at
    assert int(float(a["LastModifiedTimestamp"])) > int(float(created_at))


def test_set_queue_attributes_back_to_defaults(sqs, make_queue):
    url = make_queue(Attributes={"VisibilityTimeout": "100", "DelaySeconds": "10"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30", "DelaySeconds": "0"})
    assert attrs(sqs, url, ["VisibilityTimeout", "DelaySeconds"]) == {"VisibilityTimeout": "30", "DelaySeconds": "0"}


@pytest.mark.parametrize("attribute,low,high", [
    ("DelaySeconds", "0", "900"),
    ("MaximumMessageSize", "1024", "1048576"),
    ("MessageRetentionPeriod", "60", "1209600"),
    ("ReceiveMessageWaitTimeSeconds", "0", "20"),
    ("VisibilityTimeout", "0", "43200"),
])
def test_set_queue_attributes_accepts_attribute_range_bounds(sqs, queue, attribute, low, high):
    for value in (low, high):
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={attribute: value})
        assert attrs(sqs, queue, [attribute]) == {attribute: value}


@pytest.mark.parametrize("attribute,value", [
    ("DelaySeconds", "901"),
    ("MaximumMessageSize", "1023"),
    ("MaximumMessageSize", "1048577"),
    ("MessageRetentionPeriod", "59"),
    ("MessageRetentionPeriod", "1209601"),
    ("ReceiveMessageWaitTimeSeconds", "21"),
    ("VisibilityTimeout", "43201"),
    ("VisibilityTimeout", "-1"),
    ("DelaySeconds", "soon"),
])
def test_set_queue_attributes_invalid_value_is_rejected_and_nothing_changes(sqs, queue, attribute, value):
    # moto differs: it does not validate attribute values
    before = attrs(sqs, queue)
    # A valid change next to the invalid one must not be applied either.
    valid = {"ReceiveMessageWaitTimeSeconds": "7"} if attribute != "ReceiveMessageWaitTimeSeconds" else {"DelaySeconds": "7"}
    with pytest.raises(sqs.exceptions.InvalidAttributeValue) as e:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={**valid, attribute: value})
    assert_error(e, "InvalidAttributeValue")
    assert attribute in e.value.response["Error"]["Message"]
    after = attrs(sqs, queue)
    assert {k: after[k] for k in DEFAULTS} == {k: before[k] for k in DEFAULTS}


def test_set_queue_attributes_unknown_name_is_invalid_attribute_name(sqs, queue):
    # moto differs: it accepts any attribute name
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as e:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Colour": "blue", "VisibilityTimeout": "5"})
    assert_error(e, "InvalidAttributeName")
    assert attrs(sqs, queue, ["VisibilityTimeout"]) == {"VisibilityTimeout": "30"}


@pytest.mark.parametrize("attribute", ["QueueArn", "CreatedTimestamp", "ApproximateNumberOfMessages"])
def test_set_queue_attributes_read_only_name_is_invalid_attribute_name(sqs, queue, attribute):
    # moto differs: it accepts them (or answers 500)
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as e:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={attribute: "1"})
    assert_error(e, "InvalidAttributeName")


@pytest.mark.parametrize("value", ["true", "false"])
def test_set_fifo_queue_on_standard_queue_is_invalid_attribute_name(sqs, queue, value):
    # moto differs: it accepts FifoQueue on a standard queue
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as e:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"FifoQueue": value})
    assert_error(e, "InvalidAttributeName")
    assert e.value.response["Error"]["Message"] == "Unknown Attribute FifoQueue."


def test_set_content_based_deduplication_on_standard_queue_is_invalid_attribute_name(sqs, queue):
    # moto differs: it accepts it on a standard queue
    with pytest.raises(sqs.exceptions.InvalidAttributeName) as e:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"ContentBasedDeduplication": "true"})
    assert_error(e, "InvalidAttributeName")


def test_set_fifo_queue_type_cannot_change(sqs, make_queue):
    # moto differs: it accepts FifoQueue=false on a FIFO queue
    url = make_queue(new_name(fifo=True), Attributes={"FifoQueue": "true"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})  # no change: accepted
    with pytest.raises(sqs.exceptions.InvalidAttributeValue) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"})
    assert_error(e, "InvalidAttributeValue")
    assert attrs(sqs, url, ["FifoQueue"]) == {"FifoQueue": "true"}


def test_set_fifo_attributes_on_fifo_queue(sqs, make_queue):
    url = make_queue(new_name(fifo=True), Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "ContentBasedDeduplication": "false", "DeduplicationScope": "messageGroup",
        "FifoThroughputLimit": "perMessageGroupId"})
    a = attrs(sqs, url, ["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"])
    assert a == {"ContentBasedDeduplication": "false", "DeduplicationScope": "messageGroup",
                 "FifoThroughputLimit": "perMessageGroupId"}


# --- Tags -----------------------------------------------------------------------------------------

def test_tag_list_untag_queue(sqs, queue):
    tags = {"tag1": "value1", "tag2": "value2", "tag3": ""}
    assert sqs.tag_queue(QueueUrl=queue, Tags=tags)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == tags
    assert sqs.untag_queue(QueueUrl=queue, TagKeys=["tag1", "tag3"])["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"tag2": "value2"}
    sqs.untag_queue(QueueUrl=queue, TagKeys=["tag2"])
    resp = sqs.list_queue_tags(QueueUrl=queue)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not resp.get("Tags")


def test_list_queue_tags_of_untagged_queue_has_no_tags(sqs, queue):
    resp = sqs.list_queue_tags(QueueUrl=queue)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not resp.get("Tags")


def test_tag_queue_overwrites_existing_keys_and_keeps_others(sqs, queue):
    sqs.tag_queue(QueueUrl=queue, Tags={"tag1": "value1", "tag2": "value2"})
    sqs.tag_queue(QueueUrl=queue, Tags={"tag1": "VALUE1", "tag3": "value3"})
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"tag1": "VALUE1", "tag2": "value2", "tag3": "value3"}


def test_tag_keys_are_case_sensitive(sqs, queue):
    tags = {"MyTag": "value1", "mytag": "value2"}
    sqs.tag_queue(QueueUrl=queue, Tags=tags)
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == tags
    sqs.untag_queue(QueueUrl=queue, TagKeys=["MYTAG", "mytag"])
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"MyTag": "value1"}


def test_untag_queue_ignores_missing_keys(sqs, queue):
    sqs.tag_queue(QueueUrl=queue, Tags={"tag1": "value1", "tag2": "value2"})
    sqs.untag_queue(QueueUrl=queue, TagKeys=["tag1", "nope"])
    assert sqs.list_queue_tags(QueueUrl=queue)["Tags"] == {"tag2": "value2"}


def test_tags_do_not_change_attributes_or_idempotent_create(sqs, make_queue):
    name = new_name()
    url = make_queue(name)
    before = attrs(sqs, url)
    sqs.tag_queue(QueueUrl=url, Tags={"k": "v"})
    assert sqs.create_queue(QueueName=name)["QueueUrl"] == url
    after = attrs(sqs, url)
    assert {k: after[k] for k in DEFAULTS} == {k: before[k] for k in DEFAULTS}


# --- Queue URLs given back ------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "sqs.us-east-1.localhost.localstack.cloud"])
def test_queue_url_is_accepted_with_any_local_host_form(sqs, endpoint, make_queue, host):
    name = new_name()
    make_queue(name)
    url = f"http://{host}:{port_of(endpoint)}/{ACCOUNT}/{name}"
    a = attrs(sqs, url, ["QueueArn"])
    assert a == {"QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "11"})
    sqs.tag_queue(QueueUrl=url, Tags={"host": host})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"host": host}
    assert attrs(sqs, queue_url(endpoint, name), ["VisibilityTimeout"]) == {"VisibilityTimeout": "11"}
    sqs.delete_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=name)


# --- Accounts -------------------------------------------------------------------------------------

def test_queues_are_isolated_per_account(sqs, sqs_other, endpoint, make_queue):
    # moto differs: it maps every access key to its one default account, so there is no isolation
    name = new_name()
    other_url = make_queue(name, client=sqs_other, Attributes={"DelaySeconds": "3"})
    assert other_url == queue_url(endpoint, name, OTHER_ACCOUNT)
    assert attrs(sqs_other, other_url, ["QueueArn"]) == {"QueueArn": f"arn:aws:sqs:us-east-1:{OTHER_ACCOUNT}:{name}"}

    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName=name)
    assert_error(e, NON_EXISTENT)
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=name)

    # The same name is free in this account, with other attributes.
    own_url = make_queue(name, Attributes={"DelaySeconds": "4"})
    assert own_url == queue_url(endpoint, name)
    assert sqs.list_queues(QueueNamePrefix=name)["QueueUrls"] == [own_url]
    assert sqs_other.list_queues(QueueNamePrefix=name)["QueueUrls"] == [other_url]
    assert attrs(sqs_other, other_url, ["DelaySeconds"]) == {"DelaySeconds": "3"}
    assert attrs(sqs, own_url, ["DelaySeconds"]) == {"DelaySeconds": "4"}

    # Deleting one account's queue leaves the other's.
    sqs.delete_queue(QueueUrl=own_url)
    assert sqs_other.get_queue_url(QueueName=name)["QueueUrl"] == other_url
