@testable import APIGateway
import Foundation
import Testing

private func ops(_ list: [(String, String, String?)]) -> [String: Any] {
    ["patchOperations": list.map { op, path, value -> [String: Any] in
        var o: [String: Any] = ["op": op, "path": path]
        if let value { o["value"] = value }
        return o
    }]
}

@Test func patchReplacesAndConvertsTypes() throws {
    let method: [String: Any] = ["httpMethod": "GET", "authorizationType": "NONE", "apiKeyRequired": false]
    let out = try RestPatch.apply(ops([("replace", "/apiKeyRequired", "true"), ("add", "/requestParameters/method.request.querystring.q", "false"),
                                       ("replace", "/authorizationType", "AWS_IAM")]), to: method, kind: .method)
    #expect(out["apiKeyRequired"] as? Bool == true)
    #expect(out["authorizationType"] as? String == "AWS_IAM")
    #expect((out["requestParameters"] as? [String: Any])?["method.request.querystring.q"] as? Bool == false)
}

@Test func patchEscapesSlashesAndEditsLists() throws {
    let api: [String: Any] = ["name": "a"]
    var out = try RestPatch.apply(ops([("add", "/binaryMediaTypes/image~1png", nil), ("add", "/binaryMediaTypes/application~1pdf", nil)]),
                                  to: api, kind: .restApi)
    #expect(out["binaryMediaTypes"] as? [String] == ["image/png", "application/pdf"])
    out = try RestPatch.apply(ops([("remove", "/binaryMediaTypes/image~1png", nil)]), to: out, kind: .restApi)
    #expect(out["binaryMediaTypes"] as? [String] == ["application/pdf"])
}

@Test func patchStageVariablesAddAndRemove() throws {
    var stage: [String: Any] = ["stageName": "prod", "variables": ["a": "1"]]
    stage = try RestPatch.apply(ops([("replace", "/variables/fn", "my-fn"), ("remove", "/variables/a", nil)]), to: stage, kind: .stage)
    #expect(stage["variables"] as? [String: String] == ["fn": "my-fn"])
}

@Test func patchRejectsUnknownPathsAndOps() {
    #expect(throws: (any Error).self) { try RestPatch.apply(ops([("replace", "/nope", "x")]), to: [:], kind: .restApi) }
    #expect(throws: (any Error).self) { try RestPatch.apply(ops([("frobnicate", "/name", "x")]), to: [:], kind: .restApi) }
}

/// Numbers arrive as strings: a number is stored as one, an empty minimumCompressionSize turns compression off (what
/// Chalice sends), and text where a number belongs is refused without storing it.
@Test func patchNumbersAndTheEmptyCompressionSize() throws {
    var api: [String: Any] = try RestPatch.apply(ops([("replace", "/minimumCompressionSize", "1024")]), to: ["name": "a"], kind: .restApi)
    #expect(api["minimumCompressionSize"] as? Int == 1024)
    api = try RestPatch.apply(ops([("replace", "/minimumCompressionSize", "")]), to: api, kind: .restApi)
    #expect(api["minimumCompressionSize"] == nil)
    #expect(throws: (any Error).self) { try RestPatch.apply(ops([("replace", "/minimumCompressionSize", "big")]), to: api, kind: .restApi) }
    #expect(throws: (any Error).self) {
        try RestPatch.apply(ops([("replace", "/throttle/rateLimit", "fast")]), to: [:], kind: .usagePlan)
    }
}
