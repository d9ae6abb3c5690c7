"""A function's asynchronous invocation queue: the internal endpoint
GET /_cloudless/lambda/async-queue/<account>/<region>/<function>[:<qualifier>][/<request id>] (states, attempts,
next attempt on the emulator's clock, counts; payloads only one at a time) and the console's "Asynchronous queue"
section on the Lambda function's page, in headless Chromium.

Runs its own cloudless: it moves the clock, which every service of a server shares."""
import json
import os
import shutil
import tempfile
import time

import pytest
import requests

from browser import Browser
from server import Server
from test_console import ARTIFACTS, load, page_errors
from test_lambda_async import advance


@pytest.fixture(scope="module")
def server():
    s = Server(data_dir=tempfile.mkdtemp(prefix="cloudless-lambda-queue-")).start()
    yield s
    s.stop()
    shutil.rmtree(s.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def queue_url(endpoint, lam, name, suffix=""):
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    _, _, _, region, account, _, _ = arn.split(":")
    return f"{endpoint}/_cloudless/lambda/async-queue/{account}/{region}/{name}{suffix}"


def wait_for(fetch, until, timeout=20):
    """`fetch()` until `until(answer)` holds; the last answer."""
    deadline = time.time() + timeout
    while True:
        got = fetch()
        if until(got) or time.time() > deadline:
            return got
        time.sleep(0.1)


def test_queued_events_show_their_states_and_drain(server, fns, lam):
    name = fns.create(tag="sleepq", handler="handler.sleep", Timeout=10)["FunctionName"]
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)  # one at a time: the rest wait
    url = queue_url(server.endpoint, lam, name)
    sent = [lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"seconds": 1.5, "n": n}).encode())
            ["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] for n in range(3)]
    d = wait_for(lambda: requests.get(url, timeout=10).json(), lambda d: d["counts"]["running"] == 1 and d["counts"]["total"] == 3)
    assert d["counts"]["running"] == 1 and d["counts"]["total"] == 3, d
    assert [e["requestId"] for e in d["invocations"]] == sent  # first received first
    assert sorted(e["state"] for e in d["invocations"]) == ["queued", "queued", "running"]
    assert all(e["attempts"] == 0 and e["qualifier"] == "$LATEST" and e["payloadSize"] > 0 for e in d["invocations"])
    assert all("payload" not in e for e in d["invocations"])  # payloads may hold secrets: never in the list
    assert d["functionArn"].endswith(":function:" + name)
    # They drain one by one (a throttled event is not an attempt), and the queue ends empty.
    seen = wait_for(lambda: requests.get(url, timeout=10).json(), lambda d: d["counts"]["total"] < 3)
    assert all(e["attempts"] == 0 for e in seen["invocations"])
    empty = wait_for(lambda: requests.get(url, timeout=10).json(), lambda d: d["counts"]["total"] == 0, timeout=30)
    assert empty["invocations"] == [] and empty["counts"] == {"total": 0, "queued": 0, "running": 0, "waitingToRetry": 0, "retried": 0}
    assert empty["finished"] == {"Success": 3}  # since the server started, by condition


def test_a_failing_event_shows_its_retries_and_the_page_shows_it(server, fns, lam, browser):
    name = fns.create(tag="failq", handler="handler.fail")["FunctionName"]
    url = queue_url(server.endpoint, lam, name)
    request_id = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"x": 41}')["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    d = wait_for(lambda: requests.get(url, timeout=10).json(),
                 lambda d: d["invocations"] and d["invocations"][0]["state"] == "waitingToRetry")
    [e] = d["invocations"]
    assert (e["requestId"], e["attempts"], e["lastError"]) == (request_id, 1, "Unhandled")
    assert 50_000 <= e["nextAttempt"] - d["now"] <= 60_000  # AWS retries after a minute (the emulator's clock)
    assert d["counts"] == {"total": 1, "queued": 0, "running": 0, "waitingToRetry": 1, "retried": 1}
    # Reading changes nothing: the same answer again, the attempt still waiting.
    assert requests.get(url, timeout=10).json()["invocations"] == [e]
    # One invocation, asked for by request id, carries the payload and the last answer.
    one = requests.get(f"{url}/{request_id}", timeout=10).json()
    assert json.loads(one["payload"]) == {"x": 41} and "boom 41" in one["lastResponse"]
    # A qualifier filters: the event ran $LATEST, nothing is queued for a version.
    assert requests.get(queue_url(server.endpoint, lam, name, ":1"), timeout=10).json()["counts"]["total"] == 0
    assert requests.get(queue_url(server.endpoint, lam, name, ":$LATEST"), timeout=10).json()["counts"]["total"] == 1

    advance(server, 61)
    d = wait_for(lambda: requests.get(url, timeout=10).json(), lambda d: d["invocations"][0]["attempts"] == 2)
    [e] = d["invocations"]
    assert e["state"] == "waitingToRetry" and 110_000 <= e["nextAttempt"] - d["now"] <= 120_000  # then two minutes

    load(browser, f"{server.endpoint}/_cloudless/console/lambda?function={name}", "lambda-async-queue")
    rows = browser.wait(f"(t => t.includes({json.dumps(request_id)}) && t)(document.querySelector('#async-rows').innerText)")
    assert "waiting to retry" in rows and "Unhandled" in rows and '"x"' not in rows
    assert "1 waiting to retry" in browser.js("document.querySelector('#async-counts').innerText")
    browser.click(f".async-show[data-request='{request_id}']")
    shown = browser.wait("document.querySelector('#async-payload-text') && document.querySelector('#async-payload-text').textContent")
    assert json.loads(shown) == {"x": 41}
    # The section polls: the last attempt (after two more minutes) empties it on the open page.
    advance(server, 121)
    browser.wait("document.querySelector('#async-rows').innerText.includes('No asynchronous invocation is waiting')", timeout=20)
    counts = browser.js("document.querySelector('#async-counts').innerText")
    assert "0 queued" in counts and "1 out of retries" in counts
    assert requests.get(url, timeout=10).json()["finished"] == {"RetriesExhausted": 1}
    browser.screenshot(os.path.join(ARTIFACTS, "lambda-async-queue-drained.png"))
    assert page_errors(browser) == []


def test_unknown_function_and_bad_paths(server, account):
    base = f"{server.endpoint}/_cloudless/lambda/async-queue/{account}/us-east-1/"
    r = requests.get(base + "no-such-function", timeout=10)
    assert r.status_code == 404 and r.json()["error"] == "ResourceNotFoundException"
    assert requests.get(base, timeout=10).status_code == 400
    assert requests.post(base + "no-such-function", timeout=10).status_code == 405
