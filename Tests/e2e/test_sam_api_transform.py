"""The SAM transform's API Gateway and DynamoDB pieces, through the real binary: a change set of the course's
serverless lab (fixtures/labs/sam-api/template.yaml, as `sam deploy` uploads it) lists the resources the
transform makes (the implicit ServerlessRestApi, its Deployment and Prod stage, the permission, the role with
DynamoDBCrudPolicy's statements) and GetTemplate Processed returns them; an invalid Api event is refused with SAM's
message. Deploying needs the DynamoDB and API Gateway resource providers (a later step)."""
import json
import pathlib
import uuid

import pytest
from botocore.exceptions import ClientError

from helpers import make_client

WAIT = {"Delay": 1, "MaxAttempts": 60}
LAB = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "labs" / "sam-api" / "template.yaml"
CAPS = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


@pytest.fixture(scope="module")
def cfn(endpoint):
    return make_client(endpoint, "cloudformation")


def test_course_lab_change_set_shows_the_expanded_api(cfn):
    template = LAB.read_text().replace("CodeUri: src/", "CodeUri: s3://lab-artifacts/serverless.zip")
    stack = f"sam-api-{uuid.uuid4().hex[:10]}"
    cfn.create_change_set(StackName=stack, ChangeSetName="initial", ChangeSetType="CREATE", TemplateBody=template,
                          Capabilities=CAPS)
    try:
        cfn.get_waiter("change_set_create_complete").wait(StackName=stack, ChangeSetName="initial", WaiterConfig=WAIT)
        changes = cfn.describe_change_set(StackName=stack, ChangeSetName="initial")["Changes"]
        types = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["ResourceType"] for c in changes}
        deployment = next(k for k in types if k.startswith("ServerlessRestApiDeployment"))
        assert len(deployment) == len("ServerlessRestApiDeployment") + 10
        assert types == {
            "ItemsTable": "AWS::DynamoDB::Table", "ApiFunction": "AWS::Lambda::Function", "ApiFunctionRole": "AWS::IAM::Role",
            "ApiFunctionApiPermissionProd": "AWS::Lambda::Permission", "ServerlessRestApi": "AWS::ApiGateway::RestApi",
            deployment: "AWS::ApiGateway::Deployment", "ServerlessRestApiProdStage": "AWS::ApiGateway::Stage",
        }
        processed = cfn.get_template(StackName=stack, ChangeSetName="initial", TemplateStage="Processed")["TemplateBody"]
        if isinstance(processed, str):
            processed = json.loads(processed)
        resources = processed["Resources"]
        assert "Transform" not in processed
        body = resources["ServerlessRestApi"]["Properties"]["Body"]
        assert body["swagger"] == "2.0"
        integration = body["paths"]["/api/{proxy+}"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        assert integration == {
            "type": "aws_proxy", "httpMethod": "POST",
            "uri": {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${ApiFunction.Arn}/invocations"},
        }
        assert resources["ServerlessRestApiProdStage"]["Properties"] == {
            "DeploymentId": {"Ref": deployment}, "RestApiId": {"Ref": "ServerlessRestApi"}, "StageName": "Prod"}
        permission = resources["ApiFunctionApiPermissionProd"]["Properties"]
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert permission["SourceArn"]["Fn::Sub"][0].endswith("${__ApiId__}/${__Stage__}/*/api/*")
        statement = resources["ApiFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
        assert "dynamodb:PutItem" in statement["Action"] and len(statement["Resource"]) == 2
        assert processed["Outputs"]["ApiUrl"]["Value"] == {
            "Fn::Sub": "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"}
    finally:
        cfn.delete_stack(StackName=stack)


def test_invalid_api_event_is_refused_with_sams_message(cfn):
    template = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler
      InlineCode: "def handler(e, c): return 1"
      Events:
        Get: {Type: Api, Properties: {Method: get}}
"""
    with pytest.raises(ClientError) as e:
        cfn.create_change_set(StackName=f"sam-api-bad-{uuid.uuid4().hex[:8]}", ChangeSetName="c", ChangeSetType="CREATE",
                              TemplateBody=template, Capabilities=CAPS)
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert e.value.response["Error"]["Message"] == (
        "Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document. "
        "Number of errors found: 1. Resource with id [Fn] is invalid. Event with id [Get] is invalid. "
        "Missing required property 'Path'.")
