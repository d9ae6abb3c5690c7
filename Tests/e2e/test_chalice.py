"""Chalice, AWS's Python serverless framework, deploys to Cloudless as to AWS: `chalice deploy` makes the IAM role,
the Lambda function and a REST API imported from its Swagger (AWS_PROXY routes, a CORS preflight as a MOCK
integration with its integration responses, binary media types), then patches and deploys it; the routes answer
through the API's execute-api host; a redeploy adds a route in place; `chalice delete` removes it all."""
import json
import re
import textwrap

import pytest
import requests
from botocore.exceptions import ClientError

from helpers import make_client
from sam_tools import chalice_path, run_tool, tool_environment

APP = textwrap.dedent("""
    from chalice import BadRequestError, Chalice

    app = Chalice(app_name="{name}")


    @app.route("/")
    def index():
        return {{"hello": "world"}}


    @app.route("/hello/{{who}}")
    def hello(who):
        return {{"hello": who, "query": app.current_request.query_params}}


    @app.route("/orders", methods=["POST"], cors=True)
    def create_order():
        body = app.current_request.json_body
        if "item" not in body:
            raise BadRequestError("an order needs an item")
        return {{"ordered": body["item"]}}
    """)

MORE = textwrap.dedent("""

    @app.route("/bye", methods=["GET", "PUT"])
    def bye():
        return {"bye": app.current_request.method}
    """)


@pytest.fixture
def project(tmp_path, endpoint):
    name = "shop" + tmp_path.name[-6:].replace("_", "").lower()
    root = tmp_path / name
    (root / ".chalice").mkdir(parents=True)
    (root / "app.py").write_text(APP.format(name=name))
    (root / "requirements.txt").write_text("")
    (root / ".chalice" / "config.json").write_text(json.dumps(
        {"version": "2.0", "app_name": name, "stages": {"dev": {"api_gateway_stage": "api"}}}))
    env = tool_environment(endpoint, tmp_path / "home")
    return name, root, env


def deploy(root, env):
    out = run_tool([chalice_path(), "deploy"], env, root).stdout
    url = re.search(r"Rest API URL: (https://\S+)", out).group(1)
    api = url.split("//")[1].split(".")[0]
    assert url == f"https://{api}.execute-api.us-east-1.amazonaws.com/api/"
    return api


def test_chalice_deploy_serve_redeploy_delete(project, server, endpoint):
    name, root, env = project
    api = deploy(root, env)
    base = f"http://127.0.0.1:{server.port}/api"
    headers = {"Host": f"{api}.execute-api.localhost:{server.port}"}

    def call(method, path, **kw):
        return requests.request(method, base + path, headers={**headers, **kw.pop("headers", {})}, timeout=60, **kw)

    assert call("GET", "/").json() == {"hello": "world"}
    assert call("GET", "/hello/ada?lang=fr").json() == {"hello": "ada", "query": {"lang": "fr"}}
    r = call("POST", "/orders", json={"item": "tea"})
    assert r.status_code == 200 and r.json() == {"ordered": "tea"}
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = call("POST", "/orders", json={})
    assert r.status_code == 400 and r.json() == {"Code": "BadRequestError", "Message": "an order needs an item"}
    # The CORS preflight is the MOCK OPTIONS method Chalice adds, answered from its integration response.
    r = call("OPTIONS", "/orders", headers={"Origin": "http://site.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200
    assert "POST" in r.headers["Access-Control-Allow-Methods"] and r.headers["Access-Control-Allow-Origin"] == "*"
    assert call("GET", "/nope").json() == {"message": "Missing Authentication Token"}

    apigw = make_client(endpoint, "apigateway")
    assert apigw.get_rest_api(restApiId=api)["name"] == name
    assert "minimumCompressionSize" not in apigw.get_rest_api(restApiId=api)  # Chalice sends "" to turn it off
    assert [s["stageName"] for s in apigw.get_stages(restApiId=api)["item"]] == ["api"]
    lam = make_client(endpoint, "lambda")
    function = lam.get_function(FunctionName=f"{name}-dev")["Configuration"]
    assert function["Handler"] == "app.app" and function["Role"].endswith(f":role/{name}-dev")

    # A new route: the same API, updated in place and deployed again.
    (root / "app.py").write_text((root / "app.py").read_text() + MORE)
    assert deploy(root, env) == api
    assert call("PUT", "/bye").json() == {"bye": "PUT"}
    assert call("GET", "/").json() == {"hello": "world"}

    run_tool([chalice_path(), "delete"], env, root)
    with pytest.raises(ClientError) as e:
        apigw.get_rest_api(restApiId=api)
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=f"{name}-dev")
    with pytest.raises(ClientError):
        make_client(endpoint, "iam").get_role(RoleName=f"{name}-dev")
