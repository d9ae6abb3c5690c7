import Core
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import Testing

@testable import Lambda

@Suite struct FunctionURLResponseTests {
    func body(_ r: AWSResponse) async throws -> String {
        let sink = BodySink()
        try await r.body.write(BodyWriter(sink: sink))
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    @Test func aResultWithStatusCodeDescribesTheResponse() async throws {
        let result = #"{"statusCode": 418, "headers": {"x-a": "1", "x-n": 2}, "cookies": ["a=1", "b=2"], "body": "aGk=", "isBase64Encoded": true}"#
        let r = LambdaService.urlResponse(.response(Array(result.utf8)))
        #expect(r.status.code == 418)
        #expect(r.headers[HTTPField.Name("x-a")!] == "1" && r.headers[HTTPField.Name("x-n")!] == "2")
        #expect(r.headers[values: .setCookie] == ["a=1", "b=2"])
        #expect(r.headers[.contentType] == "application/json")
        #expect(try await body(r) == "hi")
    }

    @Test func otherResultsAreJSONBodiesAndAStringIsItself() async throws {
        for (result, expected) in [(#""hello""#, "hello"), ("[1,true]", "[1,true]"), (#"{"a":1}"#, #"{"a":1}"#), ("3.5", "3.5")] {
            let r = LambdaService.urlResponse(.response(Array(result.utf8)))
            #expect(r.status == .ok && r.headers[.contentType] == "application/json")
            #expect(try await body(r) == expected)
        }
    }

    @Test func aFailedInvocationIs502() async throws {
        for outcome in [InvocationOutcome.functionError(type: "E", document: []), .timedOut, .exited(1), .response(Array("not json".utf8))] {
            let r = LambdaService.urlResponse(outcome)
            #expect(r.status == .badGateway)
            #expect(try await body(r) == "Internal Server Error")
        }
    }

    @Test func textBodiesByContentType() {
        let text = Array("{}".utf8)
        #expect(HTTPEvent20.isTextBody("application/json; charset=utf-8", text))
        #expect(HTTPEvent20.isTextBody("text/csv", text))
        #expect(HTTPEvent20.isTextBody("application/vnd.api+json", text))
        #expect(HTTPEvent20.isTextBody(nil, text))
        #expect(!HTTPEvent20.isTextBody("application/octet-stream", text))
        #expect(!HTTPEvent20.isTextBody("text/plain", [0xff, 0xfe]))
    }
}

/// Collects what a response body writes.
private final class BodySink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private struct BodyWriter: ResponseBodyWriter {
    let sink: BodySink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

@Suite struct LayerTests {
    @Test func layerVersionARNs() {
        #expect(LambdaService.layerVersionARN("arn:aws:lambda:us-east-1:000000000000:layer:my-layer:3")! == ("000000000000", "us-east-1", "my-layer", 3))
        #expect(LambdaService.layerVersionARN("arn:aws:lambda:us-east-1:000000000000:layer:my-layer") == nil)
        #expect(LambdaService.layerVersionARN("arn:aws:lambda:us-east-1:000000000000:layer:my-layer:x") == nil)
        #expect(LambdaService.layerVersionARN("arn:aws:lambda:us-east-1:0000:layer:my-layer:1") == nil)
    }

    @Test func laterLayersOverwriteEarlierFiles() throws {
        let dir = NSTemporaryDirectory() + "cloudless-layers-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (layer, files) in [("one", ["python/a.py": "one", "python/only-one.py": "1"]), ("two", ["python/a.py": "two"])] {
            for (path, text) in files {
                let full = "\(dir)/\(layer)/\(path)"
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: full, atomically: true, encoding: .utf8)
            }
        }
        try FileManager.default.createDirectory(atPath: dir + "/opt", withIntermediateDirectories: true)
        try FunctionCode.overlay(dir + "/one", onto: dir + "/opt")
        try FunctionCode.overlay(dir + "/two", onto: dir + "/opt")
        #expect(try String(contentsOfFile: dir + "/opt/python/a.py", encoding: .utf8) == "two")
        #expect(try String(contentsOfFile: dir + "/opt/python/only-one.py", encoding: .utf8) == "1")
    }

    @Test func searchPathsPerRuntime() {
        let py = FunctionCode.layerEnvironment(runtime: "python3.12", taskRoot: "/t", opt: "/o")
        #expect(py["PYTHONPATH"] == "/t:/o/python/lib/python3.12/site-packages:/o/python")
        let node = FunctionCode.layerEnvironment(runtime: "nodejs20.x", taskRoot: "/t", opt: "/o")
        #expect(node["NODE_PATH"] == "/o/nodejs/node20/node_modules:/o/nodejs/node_modules:/t/node_modules")
        #expect(node["PYTHONPATH"] == nil)
        let provided = FunctionCode.layerEnvironment(runtime: "provided.al2023", taskRoot: "/t", opt: "/o")
        #expect(provided["PATH"]!.hasSuffix(":/o/bin") && provided["LD_LIBRARY_PATH"] == "/o/lib")
    }
}

@Suite struct ResourcePolicyTests {
    @Test func statementsKeepAWSMemberOrder() {
        let s = ResourcePolicy.statement(sid: "s", principal: #"{"Service":"s3.amazonaws.com"}"#, action: "lambda:InvokeFunction", resource: "arn:f",
                                         condition: [("StringEquals", [("AWS:SourceAccount", "1"), ("lambda:FunctionUrlAuthType", "NONE")]),
                                                     ("ArnLike", [("AWS:SourceArn", "arn:s3")])])
        #expect(s == #"{"Sid":"s","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:f","Condition":{"StringEquals":{"AWS:SourceAccount":"1","lambda:FunctionUrlAuthType":"NONE"},"ArnLike":{"AWS:SourceArn":"arn:s3"}}}"#)
        let doc = ResourcePolicy(statements: [.init(Sid: "s", json: s)]).document
        #expect(doc.hasPrefix(#"{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s""#))
    }

    @Test func principals() throws {
        #expect(try LambdaService.principalJSON("*") == #""*""#)
        #expect(try LambdaService.principalJSON("111122223333") == #"{"AWS":"arn:aws:iam::111122223333:root"}"#)
        #expect(try LambdaService.principalJSON("sns.amazonaws.com") == #"{"Service":"sns.amazonaws.com"}"#)
        #expect(throws: AWSError.self) { try LambdaService.principalJSON("not a principal") }
    }
}
