import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import Logs

// Drift readings of AWS::Logs::LogGroup and LogStream: untouched they read back as the template wrote them; a change
// made through the API shows; a deleted one reads as deleted.

@Suite struct LogsDriftTests {
    func withService(_ body: (LogsService, LogsResources) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-logs-drift-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try LogsService(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
        try await body(service, service.resourceProvider)
    }

    func request(_ type: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "eu-west-1", stackName: "app", stackId: "arn:aws:cloudformation:eu-west-1:000000000000:stack/app/1",
                        logicalId: "G", type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "app", "env": "dev"])
    }

    let api = AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                         body: RequestBody(buffer: ByteBuffer()),
                         caller: CallerIdentity(accountID: "000000000000", region: "eu-west-1", accessKeyID: nil), requestID: "r")

    @Test func logGroupReading() async throws {
        try await withService { s, p in
            let props: [String: JSON] = [
                "LogGroupName": .string("/app/drift"), "RetentionInDays": .number(14),
                "Tags": .array([.object(["Key": .string("b"), "Value": .string("2")]), .object(["Key": .string("a"), "Value": .string("1")])]),
            ]
            let req = request("AWS::Logs::LogGroup", props)
            let state = try await p.create(req)
            guard case .properties(let read) = try await p.currentProperties(req, state: state) else { Issue.record("no reading"); return }
            for (key, value) in props { #expect(read[key] == value, "\(key)") }
            #expect(read["LogGroupClass"] == .string("STANDARD"))
            _ = try s.putRetentionPolicy(api, Input(["logGroupName": "/app/drift", "retentionInDays": 30]))
            guard case .properties(let after) = try await p.currentProperties(req, state: state) else { Issue.record("no reading"); return }
            #expect(after["RetentionInDays"] == .number(30))
            _ = try s.deleteRetentionPolicy(api, Input(["logGroupName": "/app/drift"]))
            guard case .properties(let none) = try await p.currentProperties(req, state: state) else { Issue.record("no reading"); return }
            #expect(none["RetentionInDays"] == nil)

            let streamReq = request("AWS::Logs::LogStream", ["LogGroupName": .string("/app/drift"), "LogStreamName": .string("s1")])
            let stream = try await p.create(streamReq)
            #expect(try await p.currentProperties(streamReq, state: stream) == .properties(streamReq.properties))
            try await p.delete(streamReq, state: stream)
            #expect(try await p.currentProperties(streamReq, state: stream) == .deleted)

            try await p.delete(req, state: state)
            #expect(try await p.currentProperties(req, state: state) == .deleted)
        }
    }
}
