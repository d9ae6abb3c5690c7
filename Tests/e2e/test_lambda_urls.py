"""Lambda function URLs: Create/Get/Update/Delete/ListFunctionUrlConfigs through boto3 (with AWS's errors for
versions, `$LATEST`, missing functions and aliases, duplicates), then real HTTP requests with `requests` to
`<url-id>.lambda-url.<region>.localhost:<port>` (and the `.localhost.localstack.cloud` form): the payload format 2.0
event the function receives (query string, cookies, headers, JSON and binary bodies), AWS's response mapping
(a `statusCode` result, a plain string, any other JSON, an error → 502), CORS (preflight and response headers),
AWS_IAM URLs refusing unsigned requests, and the aws CLI (v1 and v2) creating a URL and adding its permission.

Expected answers are real AWS Lambda's (botocore's model for shapes; AWS-recorded answers for messages and for the
response mapping).
"""
import base64
import json
import re

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import error, error_message, zip_bytes
from test_cli_aws import aws  # noqa: F401  (the per-CLI fixture)

HANDLERS = '''
import base64


def echo(event, context):
    return {"event": event, "arn": context.invoked_function_arn}


def shaped(event, context):
    return {"statusCode": 201, "headers": {"content-type": "text/plain", "x-custom": "yes"},
            "cookies": ["a=1", "b=2; Path=/"], "body": "created"}


def binary(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
            "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}


def plain(event, context):
    return "hello"


def listing(event, context):
    return ["hello", 3, True]


def no_status(event, context):
    return {"hello": "world"}


def fail(event, context):
    raise ValueError("boom")


def version(event, context):
    import os
    return os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
'''

URL_RE = r"http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)/"
QUALIFIER_PATTERN = "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)"


@pytest.fixture(scope="module")
def package():
    return zip_bytes({"app.py": HANDLERS})


@pytest.fixture
def url_for(fns, lam, package, loopback_dns):
    """url_for(handler, **config): a new function with that handler and a URL (AuthType NONE unless given)."""
    def make(handler, **config):
        name = fns.create(handler=f"app.{handler}", code=package, tag=handler.replace("_", "-"))["FunctionName"]
        config.setdefault("AuthType", "NONE")
        return lam.create_function_url_config(FunctionName=name, **config)["FunctionUrl"]
    return make


def arn(account, name):
    return f"arn:aws:lambda:us-east-1:{account}:function:{name}"


# --- Control plane ------------------------------------------------------------------------------

def test_url_config_lifecycle(fns, lam, package, account, server):
    name = fns.create(handler="app.echo", code=package, tag="life")["FunctionName"]
    created = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    m = re.fullmatch(URL_RE, created["FunctionUrl"])
    assert m and int(m.group(2)) == server.port, created["FunctionUrl"]
    assert (created["FunctionArn"], created["AuthType"]) == (arn(account, name), "NONE")
    assert "InvokeMode" not in created and "LastModifiedTime" not in created

    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert (*error(e), error_message(e)) == (
        "ResourceConflictException", 409,
        f"Failed to create function url config for [functionArn = {arn(account, name)}]. Error message:  "
        "FunctionUrlConfig exists for this Lambda function")

    got = lam.get_function_url_config(FunctionName=name)
    assert (got["FunctionUrl"], got["InvokeMode"], got["AuthType"]) == (created["FunctionUrl"], "BUFFERED", "NONE")
    assert got["CreationTime"] == created["CreationTime"]

    cors = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-one"],
            "ExposeHeaders": ["x-custom"], "MaxAge": 60, "AllowCredentials": True}
    updated = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM", Cors=cors)
    assert (updated["AuthType"], updated["Cors"], updated["FunctionUrl"]) == ("AWS_IAM", cors, created["FunctionUrl"])
    assert "InvokeMode" not in updated
    streamed = lam.update_function_url_config(FunctionName=name, InvokeMode="RESPONSE_STREAM")
    assert (streamed["InvokeMode"], streamed["AuthType"], streamed["Cors"]) == ("RESPONSE_STREAM", "AWS_IAM", cors)

    lam.delete_function_url_config(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.get_function_url_config(FunctionName=name)
    assert (*error(e), error_message(e)) == ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
    with pytest.raises(ClientError) as e:
        lam.delete_function_url_config(FunctionName=name)
    assert error(e) == ("ResourceNotFoundException", 404)


def test_url_configs_of_function_and_alias_are_listed(fns, lam, package, account):
    name = fns.create(handler="app.echo", code=package, tag="list")["FunctionName"]
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    plain = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    aliased = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert aliased["FunctionArn"] == arn(account, name) + ":live"
    assert aliased["FunctionUrl"] != plain["FunctionUrl"]
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionArn"] for c in listed] == [arn(account, name), arn(account, name) + ":live"]
    assert all(c["InvokeMode"] == "BUFFERED" for c in listed)
    first = lam.list_function_url_configs(FunctionName=name, MaxItems=1)
    assert len(first["FunctionUrlConfigs"]) == 1
    rest = lam.list_function_url_configs(FunctionName=name, Marker=first["NextMarker"])
    assert [c["FunctionArn"] for c in rest["FunctionUrlConfigs"]] == [arn(account, name) + ":live"]
    assert "NextMarker" not in rest

    # Deleting the alias deletes its URL.
    lam.delete_alias(FunctionName=name, Name="live")
    assert [c["FunctionArn"] for c in lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]] == [arn(account, name)]
    with pytest.raises(ClientError) as e:
        lam.list_function_url_configs(FunctionName="doesnotexist")
    assert (*error(e), error_message(e)) == ("ResourceNotFoundException", 404, "Function does not exist")


def test_url_config_errors(fns, lam, package, account):
    name = fns.create(handler="app.echo", code=package, tag="err")["FunctionName"]
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    ops = {
        "create": (lambda **kw: lam.create_function_url_config(AuthType="NONE", **kw), "Function does not exist"),
        "update": (lambda **kw: lam.update_function_url_config(AuthType="NONE", **kw), "Function does not exist"),
        "get": (lambda **kw: lam.get_function_url_config(**kw), "The resource you requested does not exist."),
        "delete": (lambda **kw: lam.delete_function_url_config(**kw), "The resource you requested does not exist."),
    }
    for op, (call, missing) in ops.items():
        for kw in [{"FunctionName": "doesnotexist"}, {"FunctionName": arn(account, "doesnotexist")},
                   {"FunctionName": name, "Qualifier": "nosuchalias"}]:
            with pytest.raises(ClientError) as e:
                call(**kw)
            assert (*error(e), error_message(e)) == ("ResourceNotFoundException", 404, missing), (op, kw)
        for q in ["1", "2", "$LATEST"]:
            with pytest.raises(ClientError) as e:
                call(FunctionName=name, Qualifier=q)
            assert (*error(e), error_message(e)) == (
                "ValidationException", 400,
                f"1 validation error detected: Value '{q}' at 'qualifier' failed to satisfy constraint: {QUALIFIER_PATTERN}"), (op, q)
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=f"{name}:live", Qualifier="other", AuthType="NONE")
    assert (*error(e), error_message(e)) == (
        "InvalidParameterValueException", 400, "The derived qualifier from the function name does not match the specified qualifier.")
    for op in ["update", "get", "delete"]:
        with pytest.raises(ClientError) as e:
            ops[op][0](FunctionName=name)
        assert (*error(e), error_message(e)) == ("ResourceNotFoundException", 404, "The resource you requested does not exist."), op
    with pytest.raises(ClientError) as e:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE", InvokeMode="UNKNOWN")
    assert (*error(e), error_message(e)) == (
        "ValidationException", 400,
        "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]")


# --- Requests to the URL ------------------------------------------------------------------------

def test_get_with_query_string_and_cookies(url_for, account, fns):
    url = url_for("echo")
    url_id = re.fullmatch(URL_RE, url).group(1)
    r = requests.get(url + "some/path?a=1&b=x%20y&a=2", headers={"Cookie": "c1=v1; c2=v2", "X-Multi": "one",
                                                               "User-Agent": "e2e-agent"}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f-]{36}", r.headers["x-amzn-RequestId"])
    out = r.json()
    event = out["event"]
    assert re.fullmatch(rf"arn:aws:lambda:us-east-1:{account}:function:{fns.prefix}-echo-[0-9a-f]{{12}}", out["arn"])
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default", "/some/path")
    assert event["rawQueryString"] == "a=1&b=x%20y&a=2"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one"
    assert event["headers"]["user-agent"] == "e2e-agent"
    assert all(k == k.lower() for k in event["headers"])
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    ctx = event["requestContext"]
    assert (ctx["apiId"], ctx["domainPrefix"], ctx["routeKey"], ctx["stage"]) == (url_id, url_id, "$default", "$default")
    assert ctx["domainName"] == f"{url_id}.lambda-url.us-east-1.localhost"
    assert ctx["http"] == {"method": "GET", "path": "/some/path", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                           "userAgent": "e2e-agent"}
    assert re.fullmatch(r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000", ctx["time"])
    assert isinstance(ctx["timeEpoch"], int)


def test_post_json_and_binary_bodies(url_for):
    url = url_for("echo")
    event = requests.post(url, json={"k": "v"}, timeout=60).json()["event"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"k": "v"}', False)
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["content-type"] == "application/json"
    data = bytes(range(256))
    event = requests.put(url + "bin", data=data, headers={"Content-Type": "application/octet-stream"}, timeout=60).json()["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data


def test_the_function_of_an_alias_url_sees_the_alias_arn(fns, lam, package, account, loopback_dns):
    name = fns.create(handler="app.echo", code=package, tag="alias")["FunctionName"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="$LATEST")
    url = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")["FunctionUrl"]
    assert requests.get(url, timeout=60).json()["arn"] == arn(account, name) + ":live"


def test_localstack_host_form_and_the_url_goes_with_its_function(fns, lam, package, server, loopback_dns):
    name = fns.create(handler="app.plain", code=package, tag="host")["FunctionName"]
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    url_id = re.fullmatch(URL_RE, url).group(1)
    r = requests.get(f"http://{url_id}.lambda-url.us-east-1.localhost.localstack.cloud:{server.port}/", timeout=60)
    assert (r.status_code, r.text) == (200, "hello")
    lam.delete_function(FunctionName=name)
    assert requests.get(url, timeout=60).status_code == 403


def test_shaped_response(url_for):
    r = requests.get(url_for("shaped"), timeout=60)
    assert (r.status_code, r.text) == (201, "created")
    assert (r.headers["Content-Type"], r.headers["x-custom"]) == ("text/plain", "yes")
    assert r.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2; Path=/"]


def test_base64_response_is_decoded(url_for):
    r = requests.get(url_for("binary"), timeout=60)
    assert (r.status_code, r.content) == (200, bytes(range(256)))
    assert r.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("handler, body", [("plain", b"hello"), ("listing", b'["hello", 3, true]'),
                                           ("no_status", b'{"hello": "world"}')])
def test_other_results_are_json_bodies(url_for, handler, body):
    r = requests.get(url_for(handler), timeout=60)
    assert (r.status_code, r.headers["Content-Type"]) == (200, "application/json")
    assert r.content == body


def test_error_is_502(url_for):
    r = requests.post(url_for("fail"), data=b"{}", timeout=60)
    assert (r.status_code, r.text) == (502, "Internal Server Error")


def test_cors(url_for):
    url = url_for("shaped", Cors={"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET", "POST"],
                                  "AllowHeaders": ["x-one"], "ExposeHeaders": ["x-custom"], "MaxAge": 60})
    pre = requests.options(url, headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST"}, timeout=60)
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert pre.headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert pre.headers["Access-Control-Allow-Headers"] == "x-one"
    assert pre.headers["Access-Control-Max-Age"] == "60"
    assert pre.text == ""  # answered without invoking
    other = requests.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, timeout=60)
    assert "Access-Control-Allow-Origin" not in other.headers
    r = requests.get(url, headers={"Origin": "https://example.com"}, timeout=60)
    assert (r.status_code, r.text) == (201, "created")
    assert r.headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert r.headers["Access-Control-Expose-Headers"] == "x-custom"


def test_aws_iam_url_refuses_unsigned_requests_and_unknown_urls_are_forbidden(url_for, server):
    r = requests.get(url_for("plain", AuthType="AWS_IAM"), timeout=60)
    forbidden = {"Message": "Forbidden. For troubleshooting Function URL authorization issues, see: "
                            "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}
    assert (r.status_code, r.json(), r.headers["x-amzn-ErrorType"]) == (403, forbidden, "AccessDeniedException")
    r = requests.get(f"http://{'0' * 32}.lambda-url.us-east-1.localhost:{server.port}/", timeout=60)
    assert (r.status_code, r.json()) == (403, forbidden)


def test_cli_creates_url_and_permission(aws, fns, package, loopback_dns):
    name = fns.create(handler="app.plain", code=package, tag=f"cli{aws.version}")["FunctionName"]
    created = json.loads(aws("lambda", "create-function-url-config", "--function-name", name, "--auth-type", "NONE").stdout)
    added = json.loads(aws("lambda", "add-permission", "--function-name", name, "--statement-id", "url",
                           "--action", "lambda:InvokeFunctionUrl", "--principal", "*",
                           "--function-url-auth-type", "NONE").stdout)
    assert json.loads(added["Statement"])["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert requests.get(created["FunctionUrl"], timeout=60).text == "hello"


def test_url_of_a_weighted_alias_routes_by_weight(fns, lam, package, loopback_dns):
    name = fns.create(handler="app.version", code=package, tag="weights")["FunctionName"]
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"V": "2"}})
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    url = lam.create_function_url_config(FunctionName=name, Qualifier="canary", AuthType="NONE")["FunctionUrl"]
    seen = {requests.get(url, timeout=30).text for _ in range(60)}
    assert seen == {"1", "2"}


def test_aws_iam_url_verifies_signatures_under_strict_auth(strict_server, package, loopback_dns):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from helpers import LambdaFunctions
    strict = LambdaFunctions(strict_server, "e2e-urls-strict")
    try:
        name = strict.create(handler="app.plain", code=package)["FunctionName"]
        url = strict.lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]

        def signed(secret):
            req = AWSRequest(method="GET", url=url + "path?q=1")
            SigV4Auth(Credentials("test", secret), "lambda", "us-east-1").add_auth(req)
            return requests.get(url + "path?q=1", headers=dict(req.headers.items()), timeout=60)

        r = signed("test")
        assert (r.status_code, r.text) == (200, "hello")
        r = signed("wrong-secret")
        assert r.status_code == 403
        assert r.json()["message"].startswith("The request signature we calculated does not match")
        assert requests.get(url, timeout=60).status_code == 403  # unsigned
    finally:
        strict.cleanup()
