import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import Logs

// AWS::Logs::LogGroup and AWS::Logs::LogStream through the provider, read back through CloudWatch Logs' operations.

private func withService(_ body: (LogsService, LogsResources) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-logs-cfn-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try LogsService(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
    try await body(service, service.resourceProvider)
}

private func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
    ResourceRequest(account: "000000000000", region: "eu-west-1", stackName: "app", stackId: "arn:aws:cloudformation:eu-west-1:000000000000:stack/app/1",
                    logicalId: logicalId, type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "app"])
}

private let api = AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                             body: RequestBody(buffer: ByteBuffer()),
                             caller: CallerIdentity(accountID: "000000000000", region: "eu-west-1", accessKeyID: nil), requestID: "r")

private func group(_ s: LogsService, _ name: String) throws -> [String: Any]? {
    let out = try s.describeLogGroups(api, Input(["logGroupNamePrefix": name]))
    return (out["logGroups"] as? [[String: Any]])?.first { $0["logGroupName"] as? String == name }
}

private func tags(_ s: LogsService, _ name: String) throws -> [String: String] {
    try s.listTagsLogGroup(api, Input(["logGroupName": name]))["tags"] as? [String: String] ?? [:]
}

@Suite struct LogsCloudFormationTests {
    @Test func logGroupCreateUpdateDelete() async throws {
        try await withService { s, p in
            #expect(p.createOnlyProperties(of: "AWS::Logs::LogGroup") == ["LogGroupName", "LogGroupClass"])
            var props: [String: JSON] = [
                "LogGroupName": .string("/app/web"), "RetentionInDays": .number(14), "LogGroupClass": .string("INFREQUENT_ACCESS"),
                "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
            ]
            let g = try await p.create(request("AWS::Logs::LogGroup", "Group", props))
            #expect(g.ref == "/app/web")
            #expect(g.attributes["Arn"] == .string("arn:aws:logs:eu-west-1:000000000000:log-group:/app/web:*"))
            var d = try #require(try group(s, "/app/web"))
            #expect(d["retentionInDays"] as? Int == 14)
            #expect(d["logGroupClass"] as? String == "INFREQUENT_ACCESS")
            #expect(try tags(s, "/app/web") == ["team": "a", "aws:cloudformation:stack-name": "app"])

            props["RetentionInDays"] = .string("30")
            props["KmsKeyId"] = .string("arn:aws:kms:eu-west-1:000000000000:key/k")
            props["Tags"] = nil
            let updated = try await p.update(request("AWS::Logs::LogGroup", "Group", props), previous: g)
            #expect(updated == g)
            d = try #require(try group(s, "/app/web"))
            #expect(d["retentionInDays"] as? Int == 30)
            #expect(d["kmsKeyId"] as? String == "arn:aws:kms:eu-west-1:000000000000:key/k")
            #expect(try tags(s, "/app/web") == ["aws:cloudformation:stack-name": "app"])

            props["RetentionInDays"] = nil
            _ = try await p.update(request("AWS::Logs::LogGroup", "Group", props), previous: g)
            #expect(try #require(try group(s, "/app/web"))["retentionInDays"] == nil)

            try await p.delete(request("AWS::Logs::LogGroup", "Group", props), state: g)
            #expect(try group(s, "/app/web") == nil)
            try await p.delete(request("AWS::Logs::LogGroup", "Group", props), state: g)  // already gone
        }
    }

    @Test func generatedNamesAndErrors() async throws {
        try await withService { s, p in
            let g = try await p.create(request("AWS::Logs::LogGroup", "Logs", [:]))
            #expect(g.ref.hasPrefix("app-Logs-"))
            #expect(try group(s, g.ref) != nil)
            // A retention AWS does not offer creates nothing; an existing name is CloudWatch Logs' own error.
            await #expect(throws: AWSError.self) {
                try await p.create(request("AWS::Logs::LogGroup", "Bad", ["LogGroupName": .string("bad"), "RetentionInDays": .number(2)]))
            }
            #expect(try group(s, "bad") == nil)
            let dup = await #expect(throws: AWSError.self) {
                try await p.create(request("AWS::Logs::LogGroup", "Again", ["LogGroupName": .string(g.ref)]))
            }
            #expect(dup?.code == "ResourceAlreadyExistsException")
        }
    }

    @Test func logStreamCreateAndDelete() async throws {
        try await withService { s, p in
            #expect(p.createOnlyProperties(of: "AWS::Logs::LogStream") == ["LogGroupName", "LogStreamName"])
            _ = try await p.create(request("AWS::Logs::LogGroup", "G", ["LogGroupName": .string("g")]))
            let props: [String: JSON] = ["LogGroupName": .string("g"), "LogStreamName": .string("s1")]
            let st = try await p.create(request("AWS::Logs::LogStream", "S", props))
            #expect(st.ref == "s1")
            func streams() throws -> [String] {
                ((try s.describeLogStreams(api, Input(["logGroupName": "g"]))["logStreams"] as? [[String: Any]]) ?? [])
                    .compactMap { $0["logStreamName"] as? String }
            }
            #expect(try streams() == ["s1"])
            let generated = try await p.create(request("AWS::Logs::LogStream", "Other", ["LogGroupName": .string("g")]))
            #expect(generated.ref.hasPrefix("app-Other-"))
            await #expect(throws: AWSError.self) {
                try await p.create(request("AWS::Logs::LogStream", "S", ["LogGroupName": .string("missing"), "LogStreamName": .string("s")]))
            }
            try await p.delete(request("AWS::Logs::LogStream", "S", props), state: st)
            #expect(try streams() == [generated.ref])
            try await p.delete(request("AWS::Logs::LogStream", "S", props), state: st)  // already gone
        }
    }
}
