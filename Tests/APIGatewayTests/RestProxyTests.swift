@testable import APIGateway
import Foundation
import Testing

@Test func proxyEventShape() throws {
    let invoke = sampleInvoke(body: #"{"a":1}"#, query: [("q", "1"), ("q", "2"), ("x", "y")], headers: [("X-Multi", "a"), ("X-Multi", "b"), ("Host", "h")])
    let e = RestProxy.event(invoke)
    #expect(e["resource"] as? String == "/pets/{id}")
    #expect(e["path"] as? String == "/pets/7")
    #expect(e["httpMethod"] as? String == "POST")
    #expect((e["headers"] as? [String: Any])?["X-Multi"] as? String == "b")
    #expect((e["multiValueHeaders"] as? [String: [String]])?["X-Multi"] == ["a", "b"])
    #expect((e["queryStringParameters"] as? [String: Any])?["q"] as? String == "2")
    #expect((e["multiValueQueryStringParameters"] as? [String: [String]])?["q"] == ["1", "2"])
    #expect(e["pathParameters"] as? [String: String] == ["id": "7"])
    #expect(e["stageVariables"] as? [String: String] == ["env": "test"])
    #expect(e["body"] as? String == #"{"a":1}"#)
    #expect(e["isBase64Encoded"] as? Bool == false)
    let ctx = try #require(e["requestContext"] as? [String: Any])
    for key in ["requestId", "stage", "resourcePath", "accountId", "apiId", "domainName", "requestTimeEpoch", "path"] { #expect(ctx[key] != nil) }
    #expect((ctx["identity"] as? [String: Any])?["sourceIp"] as? String == "127.0.0.1")
    #expect(ctx["path"] as? String == "/prod/pets/7")
    // Nothing sent: nulls, as API Gateway sends them.
    let bare = RestProxy.event(sampleInvoke())
    #expect(bare["queryStringParameters"] is NSNull)
    #expect(bare["body"] is NSNull)
}

@Test func binaryBodiesAreBase64() {
    var invoke = sampleInvoke()
    invoke.body = [0xff, 0x00, 0x10]
    invoke.contentType = "application/octet-stream"
    let e = RestProxy.event(invoke)
    #expect(e["isBase64Encoded"] as? Bool == true)
    #expect(e["body"] as? String == "/wAQ")
}

@Test func proxyResultMapping() throws {
    let ok = try #require(RestProxy.response(Array(#"{"statusCode":201,"headers":{"X-A":"1"},"multiValueHeaders":{"X-B":["2","3"]},"body":"hi"}"#.utf8)))
    #expect(ok.status.code == 201)
    #expect(ok.headers[values: .init("X-B")!] == ["2", "3"])
    #expect(ok.headers[.init("X-A")!] == "1")
    let b64 = try #require(RestProxy.response(Array(#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#.utf8)))
    #expect(b64.status.code == 200)
    // Malformed: not an object, an unknown key, a body that is not a string, a status out of range.
    for bad in [#""just a string""#, #"{"statusCode":200,"extra":1}"#, #"{"statusCode":200,"body":{"a":1}}"#, #"{"statusCode":1000}"#, "not json"] {
        #expect(RestProxy.response(Array(bad.utf8)) == nil, "\(bad)")
    }
}
