"""API Gateway HTTP APIs (apigatewayv2): the control plane through boto3 and the aws CLI (APIs, quick create, routes,
integrations, stages, deployments, authorizers, CORS, tags, OpenAPI import, AWS's errors), then real requests to the
invoke URL `http://<api-id>.execute-api.localhost:<port>/<stage>/<path>` with `requests` (the Host form): route
selection, the payload format 2.0 (and 1.0) event a Python function receives, the response mapping (a bare string,
a dict without statusCode, cookies, an error → 500), CORS preflights, Lambda REQUEST authorizers allowing and
denying, and a stage without automatic deployment changing only when deployed.

Expected shapes are botocore's `apigatewayv2` model; messages and mapping rules are AWS's documented ones.
"""
import http.server
import json
import re
import threading

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import error, make_client, zip_bytes
from test_cli_aws import aws  # noqa: F401  (the per-CLI fixture)

HANDLERS = '''
import json


def echo(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(event)}


def shaped(event, context):
    return {"statusCode": 201, "headers": {"content-type": "text/plain", "x-custom": "yes"},
            "cookies": ["a=1", "b=2; Path=/"], "body": "created"}


def plain(event, context):
    return "hello"


def no_status(event, context):
    return {"hello": "world"}


def fail(event, context):
    raise ValueError("boom")


def allow_if_header(event, context):
    token = event["headers"].get("authorization", "")
    calls = event["requestContext"]["requestId"]
    return {"isAuthorized": token == "letmein", "context": {"who": "tester", "request": calls}}


def policy(event, context):
    effect = "Allow" if event["identitySource"][0] == "letmein" else "Deny"
    return {"principalId": "me", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["routeArn"]}]}, "context": {"k": "v"}}
'''


@pytest.fixture(scope="module")
def apigw(endpoint):
    return make_client(endpoint, "apigatewayv2")


@pytest.fixture(scope="module")
def functions(fns):
    """handler name → function ARN, one function per handler."""
    package = zip_bytes({"app.py": HANDLERS})
    out = {}
    for h in ["echo", "shaped", "plain", "no_status", "fail", "allow_if_header", "policy"]:
        out[h] = fns.create(handler=f"app.{h}", code=package, tag=h.replace("_", "-"))["FunctionArn"]
    return out


@pytest.fixture(scope="module")
def invoke(server):
    """invoke(api_id, method, path, **requests kwargs): a request through the Host form of the invoke URL."""
    def run(api_id, method, path, headers=None, **kw):
        h = {"Host": f"{api_id}.execute-api.localhost:{server.port}", **(headers or {})}
        return requests.request(method, f"http://127.0.0.1:{server.port}{path}", headers=h, timeout=60, **kw)
    return run


def quick_api(apigw, target, **kw):
    return apigw.create_api(Name="quick", ProtocolType="HTTP", Target=target, **kw)


# --- Control plane ------------------------------------------------------------------------------

def test_api_lifecycle_and_errors(apigw, server):
    created = apigw.create_api(Name="shop", ProtocolType="HTTP", Description="d", Tags={"team": "a"})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    api_id = created["ApiId"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert created["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{server.port}"
    assert (created["Name"], created["ProtocolType"], created["RouteSelectionExpression"]) == (
        "shop", "HTTP", "$request.method $request.path")
    assert created["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert created["Tags"] == {"team": "a"} and "CreatedDate" in created

    got = apigw.get_api(ApiId=api_id)
    assert (got["Name"], got["Description"]) == ("shop", "d")
    assert api_id in [a["ApiId"] for a in apigw.get_apis()["Items"]]
    updated = apigw.update_api(ApiId=api_id, Name="shop2", CorsConfiguration={"AllowOrigins": ["https://a.example"]})
    assert (updated["Name"], updated["CorsConfiguration"]) == ("shop2", {"AllowOrigins": ["https://a.example"]})
    apigw.delete_cors_configuration(ApiId=api_id)
    assert "CorsConfiguration" not in apigw.get_api(ApiId=api_id)

    arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}"
    apigw.tag_resource(ResourceArn=arn, Tags={"env": "dev"})
    assert apigw.get_tags(ResourceArn=arn)["Tags"] == {"team": "a", "env": "dev"}
    apigw.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert apigw.get_tags(ResourceArn=arn)["Tags"] == {"env": "dev"}

    with pytest.raises(ClientError) as e:
        apigw.create_api(Name="ws", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    assert error(e) == ("BadRequestException", 400)
    with pytest.raises(ClientError) as e:
        apigw.create_route(ApiId=api_id, RouteKey="FETCH /x")
    assert error(e) == ("BadRequestException", 400)
    apigw.create_route(ApiId=api_id, RouteKey="GET /x")
    with pytest.raises(ClientError) as e:
        apigw.create_route(ApiId=api_id, RouteKey="GET /x")
    assert error(e) == ("ConflictException", 409)
    with pytest.raises(ClientError) as e:
        apigw.get_route(ApiId=api_id, RouteId="nope123")
    assert error(e) == ("NotFoundException", 404)

    apigw.delete_api(ApiId=api_id)
    with pytest.raises(ClientError) as e:
        apigw.get_api(ApiId=api_id)
    assert error(e) == ("NotFoundException", 404)
    assert e.value.response["Error"]["Message"] == "Invalid API identifier specified"


def test_quick_create_makes_route_integration_and_default_stage(apigw, functions, invoke):
    api = quick_api(apigw, functions["echo"])
    api_id = api["ApiId"]
    routes = apigw.get_routes(ApiId=api_id)["Items"]
    integrations = apigw.get_integrations(ApiId=api_id)["Items"]
    stages = apigw.get_stages(ApiId=api_id)["Items"]
    assert [r["RouteKey"] for r in routes] == ["$default"]
    assert routes[0]["Target"] == f"integrations/{integrations[0]['IntegrationId']}" and routes[0]["ApiGatewayManaged"]
    assert (integrations[0]["IntegrationType"], integrations[0]["PayloadFormatVersion"], integrations[0]["IntegrationUri"]) == (
        "AWS_PROXY", "2.0", functions["echo"])
    assert [(s["StageName"], s["AutoDeploy"]) for s in stages] == [("$default", True)]
    assert stages[0]["DeploymentId"] in [d["DeploymentId"] for d in apigw.get_deployments(ApiId=api_id)["Items"]]

    r = invoke(api_id, "GET", "/anything/here?x=1")
    assert r.status_code == 200, r.text
    assert r.headers["apigw-requestid"]
    event = r.json()
    assert (event["routeKey"], event["rawPath"], event["requestContext"]["stage"]) == ("$default", "/anything/here", "$default")


def test_paging(apigw):
    api_id = apigw.create_api(Name="paged", ProtocolType="HTTP")["ApiId"]
    for i in range(3):
        apigw.create_route(ApiId=api_id, RouteKey=f"GET /p{i}")
    first = apigw.get_routes(ApiId=api_id, MaxResults="2")
    assert len(first["Items"]) == 2 and first["NextToken"]
    rest = apigw.get_routes(ApiId=api_id, NextToken=first["NextToken"])
    assert [r["RouteKey"] for r in first["Items"] + rest["Items"]] == ["GET /p0", "GET /p1", "GET /p2"]
    assert "NextToken" not in rest


@pytest.mark.parametrize("aws", ["v2"], indirect=True)
def test_cli_quick_create(aws, functions, invoke):
    created = json.loads(aws("apigatewayv2", "create-api", "--name", "cli", "--protocol-type", "HTTP",
                             "--target", functions["plain"]).stdout)
    r = invoke(created["ApiId"], "GET", "/")
    assert (r.status_code, r.text, r.headers["content-type"]) == (200, "hello", "application/json")
    got = json.loads(aws("apigatewayv2", "get-api", "--api-id", created["ApiId"]).stdout)
    assert got["ApiEndpoint"] == created["ApiEndpoint"]
    missing = aws("apigatewayv2", "get-api", "--api-id", "zzzzzzzzzz", check=False)
    assert missing.returncode != 0 and "NotFoundException" in missing.stderr


# --- Invoke ---------------------------------------------------------------------------------------

def make_api(apigw, functions, routes, stage="prod", auto=True, cors=None, version="2.0"):
    """An API with `routes` ({route key: handler}) on one stage."""
    kw = {"CorsConfiguration": cors} if cors else {}
    api_id = apigw.create_api(Name="routes", ProtocolType="HTTP", **kw)["ApiId"]
    integrations = {}
    for key, handler in routes.items():
        if handler not in integrations:
            integrations[handler] = apigw.create_integration(
                ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=functions[handler],
                PayloadFormatVersion=version)["IntegrationId"]
        apigw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integrations[handler]}")
    apigw.create_stage(ApiId=api_id, StageName=stage, AutoDeploy=auto, StageVariables={"color": "blue"})
    return api_id


def test_route_selection_and_event(apigw, functions, invoke):
    api_id = make_api(apigw, functions, {"ANY /{proxy+}": "echo", "GET /items/{id}": "echo", "GET /items/special": "echo"})
    r = invoke(api_id, "GET", "/prod/items/42?a=1&a=2&b=x", headers={"Cookie": "c1=v1; c2=v2", "X-Multi": "one",
                                                                    "User-Agent": "e2e-agent"})
    assert r.status_code == 200, r.text
    e = r.json()
    assert (e["version"], e["routeKey"], e["rawPath"], e["rawQueryString"]) == ("2.0", "GET /items/{id}", "/prod/items/42", "a=1&a=2&b=x")
    assert e["pathParameters"] == {"id": "42"}
    assert e["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert e["cookies"] == ["c1=v1", "c2=v2"] and "cookie" not in e["headers"]
    assert e["headers"]["x-multi"] == "one" and e["stageVariables"] == {"color": "blue"}
    assert e["headers"]["host"] == f"{api_id}.execute-api.localhost"
    ctx = e["requestContext"]
    assert (ctx["apiId"], ctx["domainPrefix"], ctx["stage"], ctx["routeKey"]) == (api_id, api_id, "prod", "GET /items/{id}")
    assert ctx["domainName"] == f"{api_id}.execute-api.localhost"
    assert ctx["http"] == {"method": "GET", "path": "/prod/items/42", "protocol": "HTTP/1.1", "sourceIp": ctx["http"]["sourceIp"],
                           "userAgent": "e2e-agent"}
    assert re.fullmatch(r"\d{12}", ctx["accountId"]) and ctx["requestId"] == r.headers["apigw-requestid"]
    assert isinstance(ctx["timeEpoch"], int) and ctx["time"]
    assert e["isBase64Encoded"] is False and "body" not in e

    assert invoke(api_id, "GET", "/prod/items/special").json()["routeKey"] == "GET /items/special"
    greedy = invoke(api_id, "POST", "/prod/items/42", data=b'{"k": 1}', headers={"content-type": "application/json"}).json()
    assert (greedy["routeKey"], greedy["pathParameters"], greedy["body"]) == ("ANY /{proxy+}", {"proxy": "items/42"}, '{"k": 1}')
    binary = invoke(api_id, "PUT", "/prod/bin", data=bytes([0, 255, 1]), headers={"content-type": "application/octet-stream"}).json()
    assert (binary["isBase64Encoded"], binary["body"]) == (True, "AP8B")

    missing = invoke(api_id, "GET", "/prod")
    assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})
    assert invoke(api_id, "GET", "/other/items/1").status_code == 404


def test_response_mapping(apigw, functions, invoke):
    api_id = make_api(apigw, functions, {"GET /shaped": "shaped", "GET /plain": "plain", "GET /dict": "no_status",
                                         "GET /fail": "fail"}, stage="$default")
    shaped = invoke(api_id, "GET", "/shaped")
    assert (shaped.status_code, shaped.text, shaped.headers["content-type"], shaped.headers["x-custom"]) == (201, "created", "text/plain", "yes")
    assert shaped.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2; Path=/"]
    plain = invoke(api_id, "GET", "/plain")
    assert (plain.status_code, plain.text) == (200, "hello")
    d = invoke(api_id, "GET", "/dict")
    assert (d.status_code, d.json(), d.headers["content-type"]) == (200, {"hello": "world"}, "application/json")
    f = invoke(api_id, "GET", "/fail")
    assert (f.status_code, f.json()) == (500, {"message": "Internal Server Error"})


def test_payload_format_1(apigw, functions, invoke):
    api_id = make_api(apigw, functions, {"GET /v1/{name}": "echo"}, version="1.0")
    e = invoke(api_id, "GET", "/prod/v1/joe?q=1&q=2").json()
    assert (e["version"], e["resource"], e["path"], e["httpMethod"]) == ("1.0", "/v1/{name}", "/v1/joe", "GET")
    assert e["pathParameters"] == {"name": "joe"} and e["multiValueQueryStringParameters"] == {"q": ["1", "2"]}
    assert e["queryStringParameters"] == {"q": "2"} and e["requestContext"]["stage"] == "prod"


def test_cors_preflight_and_headers(apigw, functions, invoke):
    cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-token"],
            "ExposeHeaders": ["x-custom"], "MaxAge": 300}
    api_id = make_api(apigw, functions, {"GET /shaped": "shaped"}, cors=cors)
    pre = invoke(api_id, "OPTIONS", "/prod/shaped", headers={"Origin": "https://app.example",
                                                             "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204
    assert (pre.headers["access-control-allow-origin"], pre.headers["access-control-allow-methods"],
            pre.headers["access-control-allow-headers"], pre.headers["access-control-max-age"]) == (
        "https://app.example", "GET,POST", "x-token", "300")
    other = invoke(api_id, "OPTIONS", "/prod/shaped", headers={"Origin": "https://evil.example",
                                                               "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in other.headers
    got = invoke(api_id, "GET", "/prod/shaped", headers={"Origin": "https://app.example"})
    assert (got.status_code, got.headers["access-control-allow-origin"], got.headers["access-control-expose-headers"]) == (
        201, "https://app.example", "x-custom")


def test_request_authorizer_simple_and_policy(apigw, functions, invoke):
    api_id = make_api(apigw, functions, {"GET /open": "echo"})
    integration = apigw.get_integrations(ApiId=api_id)["Items"][0]["IntegrationId"]
    simple = apigw.create_authorizer(ApiId=api_id, Name="simple", AuthorizerType="REQUEST", AuthorizerUri=functions["allow_if_header"],
                                     AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True,
                                     IdentitySource=["$request.header.Authorization"], AuthorizerResultTtlInSeconds=0)
    policy = apigw.create_authorizer(ApiId=api_id, Name="policy", AuthorizerType="REQUEST", AuthorizerUri=functions["policy"],
                                     AuthorizerPayloadFormatVersion="2.0", IdentitySource=["$request.querystring.key"],
                                     AuthorizerResultTtlInSeconds=300)
    apigw.create_route(ApiId=api_id, RouteKey="GET /simple", Target=f"integrations/{integration}",
                       AuthorizationType="CUSTOM", AuthorizerId=simple["AuthorizerId"])
    apigw.create_route(ApiId=api_id, RouteKey="GET /policy", Target=f"integrations/{integration}",
                       AuthorizationType="CUSTOM", AuthorizerId=policy["AuthorizerId"])
    assert apigw.get_authorizer(ApiId=api_id, AuthorizerId=simple["AuthorizerId"])["EnableSimpleResponses"] is True

    ok = invoke(api_id, "GET", "/prod/simple", headers={"Authorization": "letmein"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["requestContext"]["authorizer"]["lambda"]["who"] == "tester"
    denied = invoke(api_id, "GET", "/prod/simple", headers={"Authorization": "wrong"})
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
    missing = invoke(api_id, "GET", "/prod/simple")
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})

    allowed = invoke(api_id, "GET", "/prod/policy?key=letmein")
    assert allowed.status_code == 200 and allowed.json()["requestContext"]["authorizer"]["lambda"] == {"k": "v"}
    assert invoke(api_id, "GET", "/prod/policy?key=nope").status_code == 403
    # Cached for 300 s: the same identity is answered without the function (its answer would be the same anyway).
    assert invoke(api_id, "GET", "/prod/policy?key=letmein").status_code == 200


def test_stage_without_auto_deploy_changes_when_deployed(apigw, functions, invoke):
    api_id = make_api(apigw, functions, {"GET /a": "plain"}, auto=False)
    assert invoke(api_id, "GET", "/prod/a").status_code == 404  # nothing deployed yet
    d = apigw.create_deployment(ApiId=api_id, StageName="prod")
    assert d["DeploymentStatus"] == "DEPLOYED" and d["AutoDeployed"] is False
    assert apigw.get_stage(ApiId=api_id, StageName="prod")["DeploymentId"] == d["DeploymentId"]
    assert invoke(api_id, "GET", "/prod/a").text == "hello"
    integration = apigw.get_integrations(ApiId=api_id)["Items"][0]["IntegrationId"]
    apigw.create_route(ApiId=api_id, RouteKey="GET /b", Target=f"integrations/{integration}")
    assert invoke(api_id, "GET", "/prod/b").status_code == 404
    apigw.create_deployment(ApiId=api_id, StageName="prod")
    assert invoke(api_id, "GET", "/prod/b").text == "hello"


def test_import_openapi_yaml(apigw, functions, invoke):
    body = f"""
openapi: 3.0.1
info:
  title: imported
  version: '1.0'
paths:
  /hello:
    get:
      x-amazon-apigateway-integration:
        type: aws_proxy
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{functions['plain']}/invocations
        payloadFormatVersion: '2.0'
        httpMethod: POST
"""
    api = apigw.import_api(Body=body)
    assert api["Name"] == "imported"
    assert [r["RouteKey"] for r in apigw.get_routes(ApiId=api["ApiId"])["Items"]] == ["GET /hello"]
    apigw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True)
    assert invoke(api["ApiId"], "GET", "/hello").text == "hello"


def test_unknown_api_id_is_forbidden(invoke):
    r = invoke("zzzzzzzzzz", "GET", "/prod/x")
    assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})


@pytest.fixture
def echo_server():
    """A local HTTP server answering each request with its method, path, a header and its body as JSON."""
    class Echo(http.server.BaseHTTPRequestHandler):
        def answer(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            out = json.dumps({"method": self.command, "path": self.path, "x": self.headers.get("x-test"), "body": body}).encode()
            self.send_response(202)
            self.send_header("content-type", "application/json")
            self.send_header("x-from", "echo")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        do_GET = do_POST = do_PUT = answer

        def log_message(self, *a):
            pass
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    yield s.server_address[1]
    s.shutdown()


def test_http_proxy_integration(apigw, invoke, echo_server):
    api_id = apigw.create_api(Name="proxy", ProtocolType="HTTP")["ApiId"]
    integration = apigw.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
                                           IntegrationUri=f"http://127.0.0.1:{echo_server}/up/{{proxy}}",
                                           PayloadFormatVersion="1.0")
    assert (integration["IntegrationType"], integration["TimeoutInMillis"]) == ("HTTP_PROXY", 30000)
    apigw.create_route(ApiId=api_id, RouteKey="ANY /fwd/{proxy+}", Target=f"integrations/{integration['IntegrationId']}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    r = invoke(api_id, "POST", "/fwd/a/b?k=v", data=b"payload", headers={"x-test": "t1"})
    assert (r.status_code, r.headers["x-from"]) == (202, "echo")
    assert r.json() == {"method": "POST", "path": "/up/a/b?k=v", "x": "t1", "body": "payload"}
    with pytest.raises(ClientError) as e:
        apigw.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri="not a url", IntegrationMethod="GET")
    assert error(e) == ("BadRequestException", 400)
