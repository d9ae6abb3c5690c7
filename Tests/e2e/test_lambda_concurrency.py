"""Lambda reserved concurrency through boto3: Put/Get/DeleteFunctionConcurrency, their errors, and what invokes
meet: 0 reserved throttles every synchronous invoke (429), 1 reserved lets one of two simultaneous slow invokes run
and throttles the other.

Expected answers are real AWS Lambda's (botocore's model for shapes; AWS-recorded answers for messages).
"""
import threading
import time

import pytest
from botocore.exceptions import ClientError

from helpers import error, error_message, lambda_client, read_payload


def assert_throttled(exc):
    """`exc` (a ClientError) is Lambda's throttle for a function out of reserved concurrency."""
    r = exc.response
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("TooManyRequestsException", 429)
    assert r["Error"]["Message"] == "Rate Exceeded."
    assert r["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert r["Type"] == "User"


def test_concurrency_api(fns, lam):
    name = fns.create(tag="api")["FunctionName"]
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)
    r = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    assert (r["ResponseMetadata"]["HTTPStatusCode"], r["ReservedConcurrentExecutions"]) == (200, 0)
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 0
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 1
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 1}
    r = lam.delete_function_concurrency(FunctionName=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)


def test_concurrency_on_missing_function(lam, account):
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName="e2e-conc-doesnotexist", ReservedConcurrentExecutions=1)
    assert error(e) == ("ResourceNotFoundException", 404)
    assert error_message(e) == f"Function not found: arn:aws:lambda:us-east-1:{account}:function:e2e-conc-doesnotexist:$LATEST"


def test_concurrency_on_qualified_arn_is_refused(fns, lam, account):
    name = fns.create(tag="qual", Publish=True)["FunctionName"]
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=f"arn:aws:lambda:us-east-1:{account}:function:{name}:1",
                                     ReservedConcurrentExecutions=1)
    assert error(e) == ("InvalidParameterValueException", 400)
    assert error_message(e) == ("This operation is permitted on Lambda functions only. Aliases and versions do not support "
                                "this operation. Please specify either a function name or an unqualified function ARN.")


def test_concurrency_must_leave_100_unreserved(fns, lam):
    name = fns.create(tag="limit")["FunctionName"]
    limit = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    try:
        with pytest.raises(ClientError) as e:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=limit - 99)
        assert error(e) == ("InvalidParameterValueException", 400)
        assert error_message(e) == ("Specified ReservedConcurrentExecutions for function decreases account's "
                                    "UnreservedConcurrentExecution below its minimum value of [100].")
    finally:
        lam.delete_function_concurrency(FunctionName=name)


def test_zero_reserved_throttles_every_invoke(fns, lam):
    name = fns.create(tag="zero")["FunctionName"]
    assert read_payload(lam.invoke(FunctionName=name, Payload=b'{"ok": 1}')) == {"ok": 1}
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            lam.invoke(FunctionName=name, Payload=b"{}")
        assert_throttled(e.value)
    # An asynchronous invoke is still accepted (AWS queues it; with no concurrency it never runs).
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    lam.delete_function_concurrency(FunctionName=name)
    assert read_payload(lam.invoke(FunctionName=name, Payload=b'{"ok": 2}')) == {"ok": 2}


def test_one_reserved_throttles_the_second_of_two_slow_invokes(fns, lam, endpoint):
    name = fns.create(tag="one", handler="handler.sleep", Timeout=10)["FunctionName"]
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    barrier = threading.Barrier(2)
    outcomes = [None, None]

    def run(i):
        client = lambda_client(endpoint)
        barrier.wait()
        if i == 1:
            time.sleep(0.3)  # let the first one take the only slot
        try:
            r = client.invoke(FunctionName=name, Payload=b'{"seconds": 2}')
            outcomes[i] = ("ok", r["StatusCode"], read_payload(r))
        except ClientError as e:
            outcomes[i] = ("error", e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes[0] == ("ok", 200, {"slept": 2})
    assert outcomes[1][0] == "error", outcomes
    assert_throttled(outcomes[1][1])
    # Once the slot is free again, invokes run.
    assert read_payload(lam.invoke(FunctionName=name, Payload=b'{"seconds": 0}')) == {"slept": 0}
