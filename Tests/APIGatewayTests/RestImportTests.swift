@testable import APIGateway
import Foundation
import Testing

private let yaml = """
openapi: 3.0.1
info:
  title: pets
  version: "1.0"
paths:
  /pets/{id}:
    get:
      parameters:
        - name: id
          in: path
          required: true
      security:
        - tok: []
      responses:
        "200":
          description: ok
      x-amazon-apigateway-integration:
        type: aws_proxy
        httpMethod: POST
        uri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations
  /mock:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates:
          application/json: '{"statusCode": 200}'
        responses:
          default:
            statusCode: "200"
            responseTemplates:
              application/json: '{"ok": true}'
components:
  securitySchemes:
    tok:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authorizer:
        type: token
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations
"""

@Test func openAPIYamlBecomesResourcesMethodsAndAuthorizers() throws {
    let spec = try RestAPIs.parseDefinition(Array(yaml.utf8))
    var doc = APIDocument.create(id: "api", rootID: "root", api: ["name": "x"])
    try RestAPIs.apply(spec, to: &doc, merge: false)
    let pet = try #require(doc.resource(path: "/pets/{id}"))
    #expect(doc.resource(path: "/pets") != nil)
    let get = try #require((pet["resourceMethods"] as? [String: Any])?["GET"] as? [String: Any])
    #expect(get["authorizationType"] as? String == "CUSTOM")
    #expect((get["requestParameters"] as? [String: Any])?["method.request.path.id"] as? Bool == true)
    #expect((get["methodIntegration"] as? [String: Any])?["type"] as? String == "AWS_PROXY")
    let auth = try #require(doc.authorizers.values.first)
    #expect(auth["type"] as? String == "TOKEN")
    #expect(auth["identitySource"] as? String == "method.request.header.Authorization")
    let mock = try #require((doc.resource(path: "/mock")?["resourceMethods"] as? [String: Any])?["ANY"] as? [String: Any])
    let responses = (mock["methodIntegration"] as? [String: Any])?["integrationResponses"] as? [String: Any]
    #expect((responses?["200"] as? [String: Any])?["selectionPattern"] == nil)
}

@Test func mergeKeepsWhatTheDocumentDoesNotName() throws {
    var doc = APIDocument.create(id: "api", rootID: "root", api: ["name": "x"])
    try RestAPIs.apply(try RestAPIs.parseDefinition(Array(yaml.utf8)), to: &doc, merge: false)
    let swagger = #"{"swagger":"2.0","info":{"title":"t"},"paths":{"/extra":{"get":{"x-amazon-apigateway-integration":{"type":"mock","requestTemplates":{"application/json":"{\"statusCode\":200}"}}}}}}"#
    var merged = doc
    try RestAPIs.apply(try RestAPIs.parseDefinition(Array(swagger.utf8)), to: &merged, merge: true)
    #expect(merged.resource(path: "/mock") != nil && merged.resource(path: "/extra") != nil)
    var overwritten = doc
    try RestAPIs.apply(try RestAPIs.parseDefinition(Array(swagger.utf8)), to: &overwritten, merge: false)
    #expect(overwritten.resource(path: "/mock") == nil && overwritten.resource(path: "/extra") != nil)
    #expect(overwritten.rootResourceID == "root")
}

@Test func notAnOpenAPIDocumentIsRefused() {
    #expect(throws: (any Error).self) { try RestAPIs.parseDefinition(Array(": : [".utf8)) }
}
