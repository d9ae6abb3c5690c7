"""API Gateway deployed through CloudFormation: the course's serverless lab as written (its implicit
ServerlessRestApi, the Deployment and the Prod stage the SAM transform writes, its DynamoDB table) answering through
the function, which stores items in the table; a plain-CloudFormation REST
API built of Resource, Method, Deployment and Stage answering through a MOCK and a Lambda proxy integration; a SAM
HttpApi event's ServerlessHttpApi ($default auto-deploy stage) answering; a stack update that changes the APIs'
bodies gives a new Deployment logical id and the new routes answer; deleting the stacks removes the APIs."""
import io
import json
import os
import uuid
import zipfile

import pytest
import requests

from helpers import make_client

WAIT = {"Delay": 1, "MaxAttempts": 120}
LAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "labs", "sam-api")


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


@pytest.fixture(scope="module")
def apigw(endpoint):
    return make_client(endpoint, "apigateway")


@pytest.fixture(scope="module")
def apigw2(endpoint):
    return make_client(endpoint, "apigatewayv2")


def deploy(cfn, stack, template, update=False):
    call = cfn.update_stack if update else cfn.create_stack
    call(StackName=stack, TemplateBody=template, Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    try:
        cfn.get_waiter("stack_update_complete" if update else "stack_create_complete").wait(StackName=stack, WaiterConfig=WAIT)
    except Exception:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        reasons = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
        raise AssertionError(f"stack {stack} did not finish: {reasons}")
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def delete(cfn, stack):
    cfn.delete_stack(StackName=stack)
    try:
        cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
    except Exception:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
        reasons = [(e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason")) for e in events]
        raise AssertionError(f"stack {stack} was not deleted: {[r for r in reasons if 'FAILED' in r[1]]}")


def via_path(server, api_id, path, method="GET", **kw):
    return requests.request(method, f"{server.endpoint}/_cloudless/execute-api/{api_id}/{path}", timeout=60, **kw)


def via_host(server, api_id, path, method="GET", **kw):
    headers = {"Host": f"{api_id}.execute-api.localhost:{server.port}"}
    return requests.request(method, f"http://127.0.0.1:{server.port}/{path}", headers=headers, timeout=60, **kw)


def lab_template(bucket, key):
    """The lab's template as written, with its code in S3 (what `sam deploy` uploads)."""
    with open(os.path.join(LAB, "template.yaml")) as f:
        text = f.read()
    assert "CodeUri: src/" in text
    return text.replace("CodeUri: src/", f"CodeUri: s3://{bucket}/{key}")


def test_course_lab_deploys_and_answers(server, cfn, apigw, endpoint):
    s3 = make_client(endpoint, "s3")
    bucket = "cfnapigw-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        for name in ("app.py", "items.py"):
            z.write(os.path.join(LAB, "src", name), name)
    s3.put_object(Bucket=bucket, Key="lab.zip", Body=code.getvalue())
    stack = "lab-" + uuid.uuid4().hex[:8]
    outputs = deploy(cfn, stack, lab_template(bucket, "lab.zip"))
    url = outputs["ApiUrl"]
    api_id = url.split("//")[1].split(".")[0]
    assert url == f"https://{api_id}.execute-api.us-east-1.amazonaws.com/Prod/"
    types = {r["LogicalResourceId"]: r["ResourceType"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]}
    assert types["ServerlessRestApi"] == "AWS::ApiGateway::RestApi"
    assert types["ServerlessRestApiProdStage"] == "AWS::ApiGateway::Stage"
    assert any(t == "AWS::ApiGateway::Deployment" and k.startswith("ServerlessRestApiDeployment") for k, t in types.items())
    # The function answers (its own 404 for a path that is not /items), and stores items in the stack's table.
    for call in (via_path, via_host):
        r = call(server, api_id, "Prod/api/hello")
        assert r.status_code == 404 and r.json() == {"message": "not found"}, r.text
    r = via_host(server, api_id, "Prod/api/items", method="POST", data=json.dumps({"id": "first", "name": "lab"}))
    assert r.status_code == 201 and r.json() == {"id": "first", "name": "lab"}, r.text
    assert via_path(server, api_id, "Prod/api/items/first").json() == {"id": "first", "name": "lab"}
    ddb = make_client(endpoint, "dynamodb")
    assert ddb.get_item(TableName=outputs["TableName"], Key={"id": {"S": "first"}})["Item"]["name"] == {"S": "lab"}
    stages = apigw.get_stages(restApiId=api_id)["item"]
    assert {s["stageName"] for s in stages} == {"Prod", "Stage"}
    delete(cfn, stack)
    assert api_id not in [a["id"] for a in apigw.get_rest_apis()["items"]]
    assert via_path(server, api_id, "Prod/api/hello").status_code == 403


PLAIN = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
  Echo:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
          import json
          def handler(event, context):
              return {"statusCode": 200, "body": json.dumps({"path": event["path"], "stage": event["requestContext"]["stage"],
                                                             "color": (event.get("stageVariables") or {}).get("color")})}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: plain-api, Description: built resource by resource}
  Mock:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: mock}
  MockGet:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Mock
      HttpMethod: GET
      AuthorizationType: NONE
      Integration:
        Type: MOCK
        RequestTemplates: {application/json: '{"statusCode": 200}'}
        IntegrationResponses:
          - StatusCode: 200
            ResponseTemplates: {application/json: '{"mocked": true, "stage": "$context.stage"}'}
      MethodResponses: [{StatusCode: 200}]
  Items:
    Type: AWS::ApiGateway::Resource
    Properties: {RestApiId: !Ref Api, ParentId: !GetAtt Api.RootResourceId, PathPart: '{proxy+}'}
  ItemsAny:
    Type: AWS::ApiGateway::Method
    Properties:
      RestApiId: !Ref Api
      ResourceId: !Ref Items
      HttpMethod: ANY
      AuthorizationType: NONE
      Integration:
        Type: AWS_PROXY
        IntegrationHttpMethod: POST
        Uri: !Sub arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Echo.Arn}/invocations
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Echo
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
  Deployment:
    Type: AWS::ApiGateway::Deployment
    DependsOn: [MockGet, ItemsAny]
    Properties: {RestApiId: !Ref Api, Description: first}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Deployment
      StageName: v1
      Variables: {color: blue}
      Tags: [{Key: team, Value: api}]
  Key:
    Type: AWS::ApiGateway::ApiKey
    Properties: {Name: plain-key, Enabled: true}
  Plan:
    Type: AWS::ApiGateway::UsagePlan
    Properties:
      UsagePlanName: plain-plan
      ApiStages: [{ApiId: !Ref Api, Stage: !Ref Stage}]
      Quota: {Limit: 100, Period: DAY}
  PlanKey:
    Type: AWS::ApiGateway::UsagePlanKey
    Properties: {KeyId: !Ref Key, KeyType: API_KEY, UsagePlanId: !Ref Plan}
Outputs:
  ApiId: {Value: !Ref Api}
  Root: {Value: !GetAtt Api.RootResourceId}
  Stage: {Value: !Ref Stage}
  Key: {Value: !Ref Key}
  Plan: {Value: !Ref Plan}
"""


def test_plain_rest_api_mock_and_lambda_proxy(server, cfn, apigw):
    stack = "plain-" + uuid.uuid4().hex[:8]
    outputs = deploy(cfn, stack, PLAIN)
    api_id = outputs["ApiId"]
    api = apigw.get_rest_api(restApiId=api_id)
    assert api["name"] == "plain-api" and api["rootResourceId"] == outputs["Root"] and outputs["Stage"] == "v1"
    r = via_path(server, api_id, "v1/mock")
    assert r.status_code == 200 and r.json() == {"mocked": True, "stage": "v1"}, r.text
    r = via_host(server, api_id, "v1/things/7", method="POST", data="{}")
    assert r.status_code == 200 and r.json() == {"path": "/things/7", "stage": "v1", "color": "blue"}, r.text
    stage = apigw.get_stage(restApiId=api_id, stageName="v1")
    assert stage["tags"] == {"team": "api"}
    plan = apigw.get_usage_plan(usagePlanId=outputs["Plan"])
    assert plan["name"] == "plain-plan" and plan["apiStages"] == [{"apiId": api_id, "stage": "v1"}]
    assert plan["quota"]["limit"] == 100
    assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=outputs["Plan"])["items"]] == [outputs["Key"]]
    # An update of the stage's variables is live at once (the stage is changed in place).
    deploy(cfn, stack, PLAIN.replace("{color: blue}", "{color: green}"), update=True)
    assert via_path(server, api_id, "v1/x").json()["color"] == "green"
    # Drift: the API renamed outside the stack.
    assert cfn.detect_stack_resource_drift(StackName=stack, LogicalResourceId="Api")["StackResourceDrift"]["StackResourceDriftStatus"] == "IN_SYNC"
    apigw.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/name", "value": "renamed"}])
    drift = cfn.detect_stack_resource_drift(StackName=stack, LogicalResourceId="Api")["StackResourceDrift"]
    assert drift["StackResourceDriftStatus"] == "MODIFIED"
    assert [d["PropertyPath"] for d in drift["PropertyDifferences"]] == ["/Name"]
    delete(cfn, stack)
    assert api_id not in [a["id"] for a in apigw.get_rest_apis()["items"]]
    assert outputs["Key"] not in [k["id"] for k in apigw.get_api_keys()["items"]]
    assert outputs["Plan"] not in [p["id"] for p in apigw.get_usage_plans()["items"]]


PLAIN_HTTP = """
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: plain-http, ProtocolType: HTTP}
  Mock:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: HTTP_PROXY
      IntegrationMethod: GET
      IntegrationUri: http://127.0.0.1:PORT/_cloudless/health
      PayloadFormatVersion: '1.0'
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: GET /up
      Target: !Sub integrations/${Mock}
  Deployment:
    Type: AWS::ApiGatewayV2::Deployment
    DependsOn: Route
    Properties: {ApiId: !Ref Api, Description: first}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: live, DeploymentId: !Ref Deployment}
Outputs:
  ApiId: {Value: !GetAtt Api.ApiId}
  Route: {Value: !Ref Route}
"""


def test_plain_http_api_route_integration_deployment_stage(server, cfn, apigw2):
    stack = "plainhttp-" + uuid.uuid4().hex[:8]
    outputs = deploy(cfn, stack, PLAIN_HTTP.replace("PORT", str(server.port)))
    api_id = outputs["ApiId"]
    route = apigw2.get_route(ApiId=api_id, RouteId=outputs["Route"])
    assert route["RouteKey"] == "GET /up" and route["Target"].startswith("integrations/")
    stage = apigw2.get_stage(ApiId=api_id, StageName="live")
    assert stage["DeploymentId"] == apigw2.get_deployments(ApiId=api_id)["Items"][0]["DeploymentId"]
    r = via_path(server, api_id, "live/up")
    assert r.status_code == 200, r.text
    delete(cfn, stack)
    assert api_id not in [a["ApiId"] for a in apigw2.get_apis()["Items"]]


SAM = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      InlineCode: |
        import json
        def handler(event, context):
            return {"statusCode": 200, "body": json.dumps({"path": event.get("rawPath") or event.get("path"),
                                                           "version": event.get("version", "1.0")})}
      Events:
        Hello: {Type: Api, Properties: {Path: /hello, Method: GET}}
        HttpHello: {Type: HttpApi, Properties: {Path: /hi, Method: GET}}
Outputs:
  RestApi: {Value: !Ref ServerlessRestApi}
  HttpApi: {Value: !Ref ServerlessHttpApi}
  HttpEndpoint: {Value: !GetAtt ServerlessHttpApi.ApiEndpoint}
"""

SAM_MORE = SAM.replace("        HttpHello:", """        Bye: {Type: Api, Properties: {Path: /bye, Method: GET}}
        HttpBye: {Type: HttpApi, Properties: {Path: /ciao, Method: GET}}
        HttpHello:""")


def deployment_ids(cfn, stack):
    return {r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
            if r["ResourceType"] == "AWS::ApiGateway::Deployment"}


def test_sam_http_api_and_update_redeploys(server, cfn, apigw, apigw2):
    stack = "samapi-" + uuid.uuid4().hex[:8]
    outputs = deploy(cfn, stack, SAM)
    rest, http = outputs["RestApi"], outputs["HttpApi"]
    assert http in outputs["HttpEndpoint"]
    r = via_path(server, http, "hi")
    assert r.status_code == 200 and r.json() == {"path": "/hi", "version": "2.0"}, r.text
    assert via_host(server, http, "hi").json()["path"] == "/hi"
    assert [s["StageName"] for s in apigw2.get_stages(ApiId=http)["Items"]] == ["$default"]
    assert via_path(server, rest, "Prod/hello").json() == {"path": "/hello", "version": "1.0"}
    assert via_path(server, rest, "Prod/bye").status_code == 403
    before = deployment_ids(cfn, stack)

    deploy(cfn, stack, SAM_MORE, update=True)
    after = deployment_ids(cfn, stack)
    assert len(after) == 1 and after != before  # a new body is a new Deployment logical id; the old one is deleted
    assert via_path(server, rest, "Prod/bye").json() == {"path": "/bye", "version": "1.0"}
    assert via_path(server, rest, "Prod/hello").status_code == 200
    assert via_path(server, http, "ciao").json() == {"path": "/ciao", "version": "2.0"}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
    assert (outputs["RestApi"], outputs["HttpApi"]) == (rest, http)  # the APIs are changed in place

    stack_id = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
    delete(cfn, stack)
    assert rest not in [a["id"] for a in apigw.get_rest_apis()["items"]]
    assert http not in [a["ApiId"] for a in apigw2.get_apis()["Items"]]
    # The stage, created before the update's new deployment but now pointing at it, is deleted first (the current
    # template's dependencies decide, not creation order).
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"][::-1]
    deleted = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "DELETE_COMPLETE"]
    assert deleted.index("ServerlessRestApiProdStage") < deleted.index(next(iter(after))), deleted
