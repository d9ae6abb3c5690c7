"""API Gateway REST APIs: the control plane through boto3 and the aws CLI v2 (AWS's error codes and texts), and
invoke URLs answering through a deployed stage — by Host (`<api>.execute-api.localhost`), by the
`/_cloudless/execute-api/<api>/…` path and by LocalStack's `/restapis/<api>/<stage>/_user_request_/…` — with Lambda
proxy integrations (payload format 1.0 event, result mapping, 502 on a malformed result or a failed function),
MOCK, HTTP_PROXY and AWS (mapping templates) integrations, an imported OpenAPI document, TOKEN authorizers, API
keys, stage variables, a change that is not live until redeployed (while stage changes are at once), and a snapshot
restore.

Expected answers are real API Gateway's (botocore's `apigateway` model for shapes; AWS's developer guide for the
invoke answers).
"""
import json
import time
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import make_client, zip_bytes
from server import Server
from test_cli_aws import aws  # noqa: F401  (the per-CLI fixture)

HANDLERS = '''
import json


def echo(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json", "X-Fn": context.function_name},
            "multiValueHeaders": {"X-Multi": ["a", "b"]}, "body": json.dumps(event)}


def bad(event, context):
    return {"statusCode": 200, "body": {"not": "a string"}}


def fail(event, context):
    raise ValueError("boom")


def named(event, context):
    return {"statusCode": 200, "body": context.function_name}


def greet(event, context):
    if event.get("name") == "error":
        raise ValueError("Bad name given")
    return {"greeting": "hello " + event.get("name", "")}


def authorizer(event, context):
    token = event.get("authorizationToken", "")
    if token == "unauthorized":
        raise Exception("Unauthorized")
    effect = "Allow" if token.startswith("allow") else "Deny"
    return {"principalId": "user-" + token,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]},
            "context": {"tier": "gold", "count": 3}}


def request_authorizer(event, context):
    headers = event.get("headers") or {}
    query = event.get("queryStringParameters") or {}
    effect = "Allow" if headers.get("X-User") == "ok" else "Deny"
    return {"principalId": "p",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]},
            "context": {"rid": context.aws_request_id, "tenant": query.get("tenant", ""), "type": event["type"]}}
'''

REGION = "us-east-1"


def err(excinfo):
    """(code, message) of a botocore ClientError."""
    e = excinfo.value.response["Error"]
    return e["Code"], e.get("Message")


@pytest.fixture(scope="module")
def apigw(endpoint):
    return make_client(endpoint, "apigateway")


@pytest.fixture(scope="module")
def functions(fns):
    """{handler: function ARN} of the module's python functions."""
    package = zip_bytes({"app.py": HANDLERS})
    return {h: fns.create(handler=f"app.{h}", code=package, tag=h)["FunctionArn"]
            for h in ["echo", "bad", "fail", "named", "greet", "authorizer", "request_authorizer"]}


def lambda_uri(arn):
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"


@pytest.fixture
def api(apigw):
    """A new REST API (id, root resource id), deleted afterwards."""
    a = apigw.create_rest_api(name="e2e-" + uuid.uuid4().hex[:8])
    yield a["id"], a["rootResourceId"]
    apigw.delete_rest_api(restApiId=a["id"])


def add_method(apigw, api_id, resource_id, method="ANY", integration=None, **method_kw):
    method_kw.setdefault("authorizationType", "NONE")
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=method, **method_kw)
    apigw.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method, **integration)


def proxy(arn):
    return {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": lambda_uri(arn)}


def invoke(server, api_id, path, via="host", method="GET", **kw):
    """A request to the invoke URL `/<path>` (path starts with the stage) in one of the three forms."""
    if via == "host":
        headers = dict(kw.pop("headers", {}))
        headers["Host"] = f"{api_id}.execute-api.localhost:{server.port}"
        return requests.request(method, f"http://127.0.0.1:{server.port}/{path}", headers=headers, timeout=60, **kw)
    if via == "path":
        return requests.request(method, f"{server.endpoint}/_cloudless/execute-api/{api_id}/{path}", timeout=60, **kw)
    stage, _, rest = path.partition("/")
    return requests.request(method, f"{server.endpoint}/restapis/{api_id}/{stage}/_user_request_/{rest}", timeout=60, **kw)


# -- control plane ---------------------------------------------------------------------------------------------------

def test_rest_api_round_trip_and_errors(apigw, api, account):
    api_id, root = api
    assert len(api_id) == 10 and api_id.isalnum() and api_id.islower()
    got = apigw.get_rest_api(restApiId=api_id)
    assert got["rootResourceId"] == root and got["endpointConfiguration"]["types"] == ["EDGE"]
    assert api_id in [a["id"] for a in apigw.get_rest_apis(limit=500)["items"]]
    updated = apigw.update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/binaryMediaTypes/image~1png"}])
    assert updated["name"] == "renamed" and updated["binaryMediaTypes"] == ["image/png"]

    with pytest.raises(ClientError) as e:
        apigw.get_rest_api(restApiId="nosuchapi0")
    assert err(e) == ("NotFoundException", f"Invalid API identifier specified {account}:nosuchapi0")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    pets = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")
    assert pets["path"] == "/pets"
    pet = apigw.create_resource(restApiId=api_id, parentId=pets["id"], pathPart="{id}")
    assert pet["path"] == "/pets/{id}"
    with pytest.raises(ClientError) as e:
        apigw.create_resource(restApiId=api_id, parentId=root, pathPart="pets")
    assert err(e) == ("ConflictException", "Another resource with the same parent already has this name: pets")
    with pytest.raises(ClientError) as e:
        apigw.create_resource(restApiId=api_id, parentId="nosuchres0", pathPart="x")
    assert err(e) == ("NotFoundException", "Invalid Resource identifier specified")
    with pytest.raises(ClientError) as e:
        apigw.create_resource(restApiId=api_id, parentId=root, pathPart="bad/part")
    assert err(e)[0] == "BadRequestException"

    apigw.put_method(restApiId=api_id, resourceId=pet["id"], httpMethod="GET", authorizationType="NONE",
                     requestParameters={"method.request.querystring.q": False})
    with pytest.raises(ClientError) as e:
        apigw.put_method(restApiId=api_id, resourceId=pet["id"], httpMethod="GET", authorizationType="NONE")
    assert err(e) == ("ConflictException", "Method already exists for this resource")
    m = apigw.update_method(restApiId=api_id, resourceId=pet["id"], httpMethod="GET",
                            patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}])
    assert m["apiKeyRequired"] is True and m["requestParameters"] == {"method.request.querystring.q": False}
    with pytest.raises(ClientError) as e:
        apigw.get_integration(restApiId=api_id, resourceId=pet["id"], httpMethod="GET")
    assert err(e) == ("NotFoundException", "Invalid Integration identifier specified")
    with pytest.raises(ClientError) as e:
        apigw.create_deployment(restApiId=api_id, stageName="prod")
    assert err(e) == ("BadRequestException", "No integration defined for method")

    integ = apigw.put_integration(restApiId=api_id, resourceId=pet["id"], httpMethod="GET", type="MOCK",
                                  requestTemplates={"application/json": '{"statusCode": 200}'})
    assert integ["type"] == "MOCK" and integ["passthroughBehavior"] == "WHEN_NO_MATCH" and integ["timeoutInMillis"] == 29000
    apigw.put_method_response(restApiId=api_id, resourceId=pet["id"], httpMethod="GET", statusCode="200")
    ir = apigw.put_integration_response(restApiId=api_id, resourceId=pet["id"], httpMethod="GET", statusCode="200",
                                        selectionPattern="", responseTemplates={"application/json": '{"ok": true}'})
    assert ir["statusCode"] == "200"
    full = apigw.get_resource(restApiId=api_id, resourceId=pet["id"], embed=["methods"])
    assert full["resourceMethods"]["GET"]["methodIntegration"]["integrationResponses"]["200"]["responseTemplates"]
    listed = {r["path"]: r for r in apigw.get_resources(restApiId=api_id)["items"]}
    assert set(listed) == {"/", "/pets", "/pets/{id}"} and listed["/pets/{id}"]["resourceMethods"] == {"GET": {}}
    page = apigw.get_resources(restApiId=api_id, limit=2)
    assert len(page["items"]) == 2 and page["position"]

    d = apigw.create_deployment(restApiId=api_id, stageName="prod", description="first")
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    assert stage["deploymentId"] == d["id"]
    stage = apigw.update_stage(restApiId=api_id, stageName="prod",
                               patchOperations=[{"op": "replace", "path": "/variables/fn", "value": "x"}])
    assert stage["variables"] == {"fn": "x"}
    with pytest.raises(ClientError) as e:
        apigw.create_stage(restApiId=api_id, stageName="prod", deploymentId=d["id"])
    assert err(e) == ("ConflictException", "Stage already exists")
    with pytest.raises(ClientError) as e:
        apigw.get_stage(restApiId=api_id, stageName="nope")
    assert err(e) == ("NotFoundException", "Invalid Stage identifier specified")
    with pytest.raises(ClientError) as e:
        apigw.delete_deployment(restApiId=api_id, deploymentId=d["id"])
    assert err(e) == ("BadRequestException", "Active stages pointing to this deployment must be moved or deleted")

    arn = f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"
    apigw.tag_resource(resourceArn=arn, tags={"team": "a", "env": "dev"})
    apigw.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert apigw.get_tags(resourceArn=arn)["tags"] == {"team": "a"}

    moved = apigw.update_resource(restApiId=api_id, resourceId=pets["id"],
                                  patchOperations=[{"op": "replace", "path": "/pathPart", "value": "animals"}])
    assert moved["path"] == "/animals"
    assert apigw.get_resource(restApiId=api_id, resourceId=pet["id"])["path"] == "/animals/{id}"
    apigw.delete_resource(restApiId=api_id, resourceId=pets["id"])
    assert [r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]] == ["/"]


def test_api_keys_and_usage_plans(apigw):
    key = apigw.create_api_key(name="k-" + uuid.uuid4().hex[:6], enabled=True)
    try:
        assert "value" in key and len(key["value"]) >= 20
        assert "value" not in apigw.get_api_key(apiKey=key["id"])
        assert apigw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == key["value"]
        plan = apigw.create_usage_plan(name="plan", throttle={"rateLimit": 10.0, "burstLimit": 5})
        try:
            apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
            assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]
            with pytest.raises(ClientError) as e:
                apigw.get_usage_plan(usagePlanId="nope00")
            assert err(e) == ("NotFoundException", "Invalid Usage Plan ID specified")
        finally:
            apigw.delete_usage_plan(usagePlanId=plan["id"])
    finally:
        apigw.delete_api_key(apiKey=key["id"])
    with pytest.raises(ClientError) as e:
        apigw.get_api_key(apiKey=key["id"])
    assert err(e) == ("NotFoundException", "Invalid API Key identifier specified")


@pytest.mark.parametrize("aws", ["v2"], indirect=True)
def test_cli_round_trip(aws, account):
    created = json.loads(aws("apigateway", "create-rest-api", "--name", "cli-api").stdout)
    try:
        resources = json.loads(aws("apigateway", "get-resources", "--rest-api-id", created["id"]).stdout)["items"]
        assert [r["path"] for r in resources] == ["/"]
        missing = aws("apigateway", "get-rest-api", "--rest-api-id", "nosuchapi0", check=False)
        assert missing.returncode != 0
        assert "NotFoundException" in missing.stderr and f"Invalid API identifier specified {account}:nosuchapi0" in missing.stderr
    finally:
        aws("apigateway", "delete-rest-api", "--rest-api-id", created["id"])


# -- invoke URLs ------------------------------------------------------------------------------------------------------

@pytest.fixture
def proxy_api(apigw, api, functions):
    """`/` and `/{proxy+}` ANY → echo, `/items/{id}` GET → echo, `/bad` → bad, `/fail` → fail; deployed to `prod`."""
    api_id, root = api
    add_method(apigw, api_id, root, integration=proxy(functions["echo"]))
    greedy = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    add_method(apigw, api_id, greedy, integration=proxy(functions["echo"]))
    items = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
    item = apigw.create_resource(restApiId=api_id, parentId=items, pathPart="{id}")["id"]
    add_method(apigw, api_id, item, "GET", integration=proxy(functions["echo"]))
    for name in ["bad", "fail"]:
        r = apigw.create_resource(restApiId=api_id, parentId=root, pathPart=name)["id"]
        add_method(apigw, api_id, r, integration=proxy(functions[name]))
    apigw.create_deployment(restApiId=api_id, stageName="prod", variables={"color": "blue"})
    return api_id


@pytest.mark.parametrize("via", ["host", "path", "localstack"])
def test_proxy_event_through_every_url_form(server, proxy_api, via, functions):
    r = invoke(server, proxy_api, "prod/some/deep/path?q=1&q=2&single=x", via=via, method="POST",
               headers={"X-Multi-In": "a", "Content-Type": "application/json"}, data='{"hello": "world"}')
    assert r.status_code == 200, r.text
    assert r.headers["X-Fn"] == functions["echo"].split(":")[-1]
    assert r.headers["X-Multi"] == "a, b"
    assert r.headers["x-amzn-RequestId"] and r.headers["x-amz-apigw-id"]
    event = r.json()
    assert event["resource"] == "/{proxy+}" and event["path"] == "/some/deep/path" and event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"proxy": "some/deep/path"}
    assert event["queryStringParameters"] == {"q": "2", "single": "x"}
    assert event["multiValueQueryStringParameters"] == {"q": ["1", "2"], "single": ["x"]}
    assert event["headers"]["X-Multi-In"] == "a" and event["multiValueHeaders"]["X-Multi-In"] == ["a"]
    assert event["stageVariables"] == {"color": "blue"}
    assert event["body"] == '{"hello": "world"}' and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["stage"] == "prod" and ctx["apiId"] == proxy_api and ctx["resourcePath"] == "/{proxy+}"
    assert ctx["identity"]["sourceIp"] and ctx["requestId"] == r.headers["x-amzn-RequestId"]
    assert isinstance(ctx["requestTimeEpoch"], int)


def test_routes_parameters_and_errors(server, proxy_api):
    r = invoke(server, proxy_api, "prod/items/42")
    assert r.status_code == 200 and r.json()["resource"] == "/items/{id}" and r.json()["pathParameters"] == {"id": "42"}
    assert invoke(server, proxy_api, "prod").json()["resource"] == "/"
    # An unknown stage and a route nothing serves: API Gateway's 403.
    for path in ["nostage/items/1"]:
        r = invoke(server, proxy_api, path)
        assert r.status_code == 403 and r.json() == {"message": "Missing Authentication Token"}
        assert r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    # A malformed proxy result and a failed function: 502.
    for path in ["prod/bad", "prod/fail"]:
        r = invoke(server, proxy_api, path)
        assert r.status_code == 502 and r.json() == {"message": "Internal server error"}
    r = requests.get(f"{server.endpoint}/_cloudless/execute-api/nosuchapi0/prod/x", timeout=10)
    assert r.status_code == 403


def test_routes_not_found_without_greedy(server, apigw, api, functions):
    api_id, root = api
    only = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="only")["id"]
    add_method(apigw, api_id, only, "GET", integration=proxy(functions["echo"]))
    apigw.create_deployment(restApiId=api_id, stageName="dev")
    assert invoke(server, api_id, "dev/only").status_code == 200
    for method, path in [("GET", "dev/other"), ("POST", "dev/only")]:
        r = invoke(server, api_id, path, method=method)
        assert r.status_code == 403 and r.json() == {"message": "Missing Authentication Token"}


def test_mock_integration_and_redeploy(server, apigw, api):
    api_id, root = api
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="mock")["id"]
    add_method(apigw, api_id, res, "GET", integration={
        "type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": #if($input.params(\'fail\') == \'yes\')500#{else}200#end}'}})
    apigw.put_method_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200")
    apigw.put_method_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="500")
    apigw.put_integration_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200", selectionPattern="",
                                   responseTemplates={"application/json": '{"id": "$input.params(\'id\')", "stage": "$context.stage"}'},
                                   responseParameters={"method.response.header.X-Mocked": "'yes'"})
    apigw.put_integration_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="500", selectionPattern="5\\d{2}",
                                   responseTemplates={"application/json": '{"error": "mocked"}'})
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    r = invoke(server, api_id, "v1/mock?id=7", via="path")
    assert r.status_code == 200 and r.json() == {"id": "7", "stage": "v1"} and r.headers["X-Mocked"] == "yes"
    r = invoke(server, api_id, "v1/mock?fail=yes", via="path")
    assert r.status_code == 500 and r.json() == {"error": "mocked"}

    # Changed but not redeployed: the stage still serves the deployed template.
    apigw.update_integration_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200", patchOperations=[
        {"op": "replace", "path": "/responseTemplates/application~1json", "value": '{"version": 2}'}])
    assert invoke(server, api_id, "v1/mock", via="path").json() == {"id": "", "stage": "v1"}
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    assert invoke(server, api_id, "v1/mock", via="path").json() == {"version": 2}


def test_changes_after_deployment_are_served_only_once_redeployed(server, apigw, functions):
    """Invokes are answered from memory between requests: an integration changed after the deployment is not served
    until the next deployment; stage changes (its deployment, its variables, a new or deleted stage) and a deleted API
    are served at once."""
    a = apigw.create_rest_api(name="e2e-redeploy-" + uuid.uuid4().hex[:8])
    api_id = a["id"]
    greedy = apigw.create_resource(restApiId=api_id, parentId=a["rootResourceId"], pathPart="{proxy+}")["id"]
    add_method(apigw, api_id, greedy, integration=proxy(functions["named"]))
    first = apigw.create_deployment(restApiId=api_id, stageName="live")["id"]
    named = functions["named"].split(":")[-1]
    assert [invoke(server, api_id, "live/x").text for _ in range(3)] == [named] * 3

    apigw.put_integration(restApiId=api_id, resourceId=greedy, httpMethod="ANY", **proxy(functions["echo"]))
    assert [invoke(server, api_id, "live/x").text for _ in range(3)] == [named] * 3
    apigw.create_deployment(restApiId=api_id, stageName="live")
    assert invoke(server, api_id, "live/x").json()["stageVariables"] is None

    apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=[{"op": "replace", "path": "/variables/color", "value": "red"}])
    assert invoke(server, api_id, "live/x").json()["stageVariables"] == {"color": "red"}
    apigw.update_stage(restApiId=api_id, stageName="live", patchOperations=[{"op": "replace", "path": "/deploymentId", "value": first}])
    assert invoke(server, api_id, "live/x").text == named

    apigw.create_stage(restApiId=api_id, stageName="old", deploymentId=first)
    assert invoke(server, api_id, "old/x").text == named
    apigw.delete_stage(restApiId=api_id, stageName="old")
    r = invoke(server, api_id, "old/x")
    assert r.status_code == 403 and r.json() == {"message": "Missing Authentication Token"}
    apigw.delete_rest_api(restApiId=api_id)
    r = invoke(server, api_id, "live/x")
    assert r.status_code == 403 and r.json() == {"message": "Forbidden"}


def test_snapshot_restore_serves_what_the_snapshot_deployed(tmp_path):
    """A restore brings back the API as the snapshot held it, whatever invokes had read into memory since."""
    srv = Server(data_dir=str(tmp_path)).start()
    try:
        apigw = make_client(srv.endpoint, "apigateway")

        def post(path):
            assert requests.post(srv.endpoint + path, timeout=60).status_code < 300

        def mock_answer(version):
            apigw.put_integration_response(restApiId=a["id"], resourceId=res, httpMethod="GET", statusCode="200",
                                           responseTemplates={"application/json": '{"v": %d}' % version})
            apigw.create_deployment(restApiId=a["id"], stageName="live")

        a = apigw.create_rest_api(name="snap")
        res = apigw.create_resource(restApiId=a["id"], parentId=a["rootResourceId"], pathPart="v")["id"]
        add_method(apigw, a["id"], res, "GET", integration={"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}})
        apigw.put_method_response(restApiId=a["id"], resourceId=res, httpMethod="GET", statusCode="200")
        mock_answer(1)
        assert invoke(srv, a["id"], "live/v").json() == {"v": 1}
        post("/_cloudless/snapshots/restlat")
        mock_answer(2)
        assert invoke(srv, a["id"], "live/v").json() == {"v": 2}
        post("/_cloudless/snapshots/restlat/restore")
        assert invoke(srv, a["id"], "live/v").json() == {"v": 1}
        apigw.delete_rest_api(restApiId=a["id"])
        assert invoke(srv, a["id"], "live/v").status_code == 403
        post("/_cloudless/snapshots/restlat/restore")
        assert invoke(srv, a["id"], "live/v").json() == {"v": 1}
    finally:
        srv.stop()


def test_stage_variables_choose_the_function(server, apigw, api, fns, functions):
    api_id, root = api
    package = zip_bytes({"app.py": HANDLERS})
    second = fns.create(handler="app.named", code=package, tag="named2")["FunctionName"]
    first = functions["named"].split(":")[-1]
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="who")["id"]
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:{REGION}:" \
          f"{functions['named'].split(':')[4]}:function:${{stageVariables.fn}}/invocations"
    add_method(apigw, api_id, res, "GET", integration={"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": uri})
    d = apigw.create_deployment(restApiId=api_id, stageName="a", variables={"fn": first})
    apigw.create_stage(restApiId=api_id, stageName="b", deploymentId=d["id"], variables={"fn": second})
    assert invoke(server, api_id, "a/who").text == first
    assert invoke(server, api_id, "b/who").text == second


def test_aws_integration_with_templates(server, apigw, api, functions):
    api_id, root = api
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="greet")["id"]
    add_method(apigw, api_id, res, "POST", integration={
        "type": "AWS", "integrationHttpMethod": "POST", "uri": lambda_uri(functions["greet"]),
        "requestTemplates": {"application/json": '{"name": "$util.escapeJavaScript($input.path(\'$.who\'))"}'}})
    for code in ["200", "400"]:
        apigw.put_method_response(restApiId=api_id, resourceId=res, httpMethod="POST", statusCode=code)
    apigw.put_integration_response(restApiId=api_id, resourceId=res, httpMethod="POST", statusCode="200",
                                   responseTemplates={"application/json": '{"message": $input.json(\'$.greeting\')}'})
    apigw.put_integration_response(restApiId=api_id, resourceId=res, httpMethod="POST", statusCode="400", selectionPattern="Bad name.*",
                                   responseTemplates={"application/json": '{"error": $input.json(\'$.errorMessage\')}'})
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    r = invoke(server, api_id, "prod/greet", method="POST", json={"who": "ada"})
    assert r.status_code == 200 and r.json() == {"message": "hello ada"}
    r = invoke(server, api_id, "prod/greet", method="POST", json={"who": "error"})
    assert r.status_code == 400 and r.json() == {"error": "Bad name given"}


def test_http_proxy_forwards(server, apigw, api):
    api_id, root = api
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    add_method(apigw, api_id, res, integration={"type": "HTTP_PROXY", "integrationHttpMethod": "ANY",
                                                "uri": f"http://127.0.0.1:{server.port}/_cloudless/{{proxy}}"})
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    r = invoke(server, api_id, "prod/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_http_integration_maps_parameters_and_templates(server, apigw, api):
    api_id, root = api
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="{what}")["id"]
    add_method(apigw, api_id, res, "GET", integration={
        "type": "HTTP", "integrationHttpMethod": "GET", "uri": f"http://127.0.0.1:{server.port}/_cloudless/{{name}}",
        "requestParameters": {"integration.request.path.name": "method.request.path.what"}})
    apigw.put_method_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=api_id, resourceId=res, httpMethod="GET", statusCode="200", selectionPattern="2\\d{2}",
                                   responseTemplates={"application/json": '{"state": $input.json(\'$.status\'), "via": "$stageVariables.tag"}'},
                                   responseParameters={"method.response.header.X-Upstream-Type": "integration.response.header.Content-Type"})
    apigw.create_deployment(restApiId=api_id, stageName="prod", variables={"tag": "t1"})
    r = invoke(server, api_id, "prod/health")
    assert r.status_code == 200 and r.json() == {"state": "ok", "via": "t1"}
    assert r.headers["X-Upstream-Type"].startswith("application/json")
    # No integration response matches a 404 from the endpoint, and there is no default: API Gateway's 500.
    r = invoke(server, api_id, "prod/nothing-here")
    assert r.status_code == 500 and r.json() == {"message": "Internal server error"}


def test_api_key_required(server, apigw, api, functions):
    api_id, root = api
    add_method(apigw, api_id, root, "GET", integration=proxy(functions["echo"]), apiKeyRequired=True)
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    key = apigw.create_api_key(name="k", enabled=True)
    plan = apigw.create_usage_plan(name="p", apiStages=[{"apiId": api_id, "stage": "prod"}])
    try:
        r = invoke(server, api_id, "prod")
        assert r.status_code == 403 and r.json() == {"message": "Forbidden"}
        assert invoke(server, api_id, "prod", headers={"x-api-key": key["value"]}).status_code == 403  # not in a plan yet
        apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
        assert invoke(server, api_id, "prod", headers={"x-api-key": key["value"]}).status_code == 200
    finally:
        apigw.delete_usage_plan(usagePlanId=plan["id"])
        apigw.delete_api_key(apiKey=key["id"])


def test_token_authorizer(server, apigw, api, functions):
    api_id, root = api
    auth = apigw.create_authorizer(restApiId=api_id, name="tok", type="TOKEN", authorizerUri=lambda_uri(functions["authorizer"]),
                                   identitySource="method.request.header.Authorization",
                                   identityValidationExpression="^(allow|deny|unauthorized).*", authorizerResultTtlInSeconds=300)
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="secure")["id"]
    add_method(apigw, api_id, res, "GET", integration=proxy(functions["echo"]), authorizationType="CUSTOM", authorizerId=auth["id"])
    apigw.create_deployment(restApiId=api_id, stageName="prod")

    r = invoke(server, api_id, "prod/secure", headers={"Authorization": "allow-1"})
    assert r.status_code == 200, r.text
    authorizer = r.json()["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "user-allow-1" and authorizer["tier"] == "gold" and authorizer["count"] == 3
    r = invoke(server, api_id, "prod/secure", headers={"Authorization": "deny-1"})
    assert r.status_code == 403
    assert r.json() == {"Message": "User is not authorized to access this resource with an explicit deny"}
    for headers in [{}, {"Authorization": "nomatch"}, {"Authorization": "unauthorized"}]:
        r = invoke(server, api_id, "prod/secure", headers=headers)
        assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}, headers


def test_request_authorizer_cached_on_the_emulator_clock(server, apigw, api, functions):
    api_id, root = api
    auth = apigw.create_authorizer(restApiId=api_id, name="req", type="REQUEST", authorizerUri=lambda_uri(functions["request_authorizer"]),
                                   identitySource="method.request.header.X-User, method.request.querystring.tenant",
                                   authorizerResultTtlInSeconds=3)
    add_method(apigw, api_id, root, "GET", integration=proxy(functions["echo"]), authorizationType="CUSTOM", authorizerId=auth["id"])
    apigw.create_deployment(restApiId=api_id, stageName="prod")

    def context(tenant, user="ok"):
        r = invoke(server, api_id, f"prod?tenant={tenant}", headers={"X-User": user})
        assert r.status_code == 200, r.text
        return r.json()["requestContext"]["authorizer"]

    first = context("t1")
    assert first["type"] == "REQUEST" and first["tenant"] == "t1" and first["principalId"] == "p"
    assert context("t1")["rid"] == first["rid"]  # the cached answer
    assert context("t2")["rid"] != first["rid"]  # another identity: invoked again
    assert invoke(server, api_id, "prod", headers={"X-User": "ok"}).status_code == 401  # a source missing
    r = invoke(server, api_id, "prod?tenant=t1", headers={"X-User": "nope"})
    assert r.status_code == 403 and r.json()["Message"] == "User is not authorized to access this resource with an explicit deny"
    # The TTL passes on the emulator's clock, which also runs with real time (moving it would move the shared
    # server's clock under every later module).
    time.sleep(3.2)
    assert context("t1")["rid"] != first["rid"]


OPENAPI = """
openapi: 3.0.1
info:
  title: imported
  version: "1"
paths:
  /hello/{name}:
    get:
      parameters:
        - {name: name, in: path, required: true}
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: URI
  /ping:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{"statusCode": 200}'
        responses:
          default:
            statusCode: "200"
            responseTemplates:
              application/json: '{"pong": true}'
"""


def test_imported_openapi_answers(server, apigw, functions):
    body = OPENAPI.replace("URI", lambda_uri(functions["echo"]))
    created = apigw.import_rest_api(body=body.encode())
    try:
        assert created["name"] == "imported"
        paths = sorted(r["path"] for r in apigw.get_resources(restApiId=created["id"])["items"])
        assert paths == ["/", "/hello", "/hello/{name}", "/ping"]
        apigw.create_deployment(restApiId=created["id"], stageName="prod")
        r = invoke(server, created["id"], "prod/hello/ada")
        assert r.status_code == 200 and r.json()["pathParameters"] == {"name": "ada"}
        assert invoke(server, created["id"], "prod/ping").json() == {"pong": True}
        # PutRestApi in overwrite mode replaces the definitions.
        apigw.put_rest_api(restApiId=created["id"], mode="overwrite", body=json.dumps(
            {"swagger": "2.0", "info": {"title": "imported"}, "paths": {"/only": {"get": {"x-amazon-apigateway-integration": {
                "type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
                "responses": {"default": {"statusCode": "200"}}}}}}}).encode())
        assert sorted(r["path"] for r in apigw.get_resources(restApiId=created["id"])["items"]) == ["/", "/only"]
    finally:
        apigw.delete_rest_api(restApiId=created["id"])
    with pytest.raises(ClientError) as e:
        apigw.import_rest_api(body=b"just text")
    assert err(e)[0] == "BadRequestException"


def test_function_url_path_form(server, lam, fns):
    """`/_cloudless/lambda-url/<url-id>/…` reaches a function URL like its Host form."""
    name = fns.create(handler="app.named", code=zip_bytes({"app.py": HANDLERS}), tag="url")["FunctionName"]
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    url_id = url.split("//")[1].split(".")[0]
    r = requests.get(f"{server.endpoint}/_cloudless/lambda-url/{url_id}/anything", timeout=60)
    assert r.status_code == 200 and r.text == name


def test_deployed_api_survives_kill_9(tmp_path):
    """What was deployed answers the same after a kill -9 and a restart on the same data folder."""
    (tmp_path / "data").mkdir()
    srv = Server(data_dir=str(tmp_path / "data")).start()
    try:
        apigw = make_client(srv.endpoint, "apigateway")
        a = apigw.create_rest_api(name="durable")
        res = apigw.create_resource(restApiId=a["id"], parentId=a["rootResourceId"], pathPart="ping")["id"]
        add_method(apigw, a["id"], res, "GET", integration={"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}})
        apigw.put_method_response(restApiId=a["id"], resourceId=res, httpMethod="GET", statusCode="200")
        apigw.put_integration_response(restApiId=a["id"], resourceId=res, httpMethod="GET", statusCode="200",
                                       responseTemplates={"application/json": '{"pong": "$context.stage"}'})
        apigw.create_deployment(restApiId=a["id"], stageName="live")
        assert invoke(srv, a["id"], "live/ping").json() == {"pong": "live"}
        srv.kill9()
        srv = Server(data_dir=srv.data_dir, port=srv.port).start()
        assert invoke(srv, a["id"], "live/ping").json() == {"pong": "live"}
        assert make_client(srv.endpoint, "apigateway").get_stage(restApiId=a["id"], stageName="live")["stageName"] == "live"
    finally:
        srv.stop()
