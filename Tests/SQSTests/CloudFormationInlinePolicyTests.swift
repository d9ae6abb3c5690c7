import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import SQS

// AWS::SQS::QueueInlinePolicy through the provider, read back through SQS's own operations.

@Suite struct SQSInlinePolicyTests {
    func withService(_ body: (SQSService, SQSResources) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-sqs-inline-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try SQSService(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
        try await body(service, service.resourceProvider)
        try service.store.db.close()
    }

    func request(_ type: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "app", stackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/app/1",
                        logicalId: "P", type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "app"])
    }

    let api = AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost:4566",
                         body: RequestBody(buffer: ByteBuffer()), caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil),
                         requestID: "r")

    func policy(_ s: SQSService, _ url: String) throws -> String? {
        (try s.getQueueAttributes(api, ["QueueUrl": url, "AttributeNames": ["Policy"]])["Attributes"] as? [String: String])?["Policy"]
    }

    func doc(_ action: String) -> JSON {
        .object(["Version": .string("2012-10-17"), "Statement": .array([.object([
            "Effect": .string("Allow"), "Principal": .string("*"), "Action": .string(action), "Resource": .string("*"),
        ])])])
    }

    @Test func inlinePolicyCreateUpdateReadDelete() async throws {
        try await withService { s, p in
            #expect(p.createOnlyProperties(of: "AWS::SQS::QueueInlinePolicy") == ["Queue"])
            let queue = try await p.create(request("AWS::SQS::Queue", ["QueueName": .string("jobs")]))
            let req = request("AWS::SQS::QueueInlinePolicy", ["Queue": .string(queue.ref), "PolicyDocument": doc("sqs:SendMessage")])
            let state = try await p.create(req)
            #expect(state.ref == queue.ref && state.physicalId == queue.ref)
            #expect(try policy(s, queue.ref)?.contains("sqs:SendMessage") == true)
            #expect(try await p.currentProperties(req, state: state) == .properties(req.properties))

            let req2 = request("AWS::SQS::QueueInlinePolicy", ["Queue": .string(queue.ref), "PolicyDocument": doc("sqs:ReceiveMessage")])
            let updated = try await p.update(req2, previous: state)
            #expect(updated == state)
            #expect(try policy(s, queue.ref)?.contains("sqs:ReceiveMessage") == true)
            #expect(try await p.currentProperties(req, state: state) != .properties(req.properties))

            try await p.delete(req2, state: updated)
            #expect((try policy(s, queue.ref)) ?? "" == "")
            #expect(try await p.currentProperties(req2, state: updated) == .deleted)
            // Idempotent, also once the queue is gone.
            try await p.delete(request("AWS::SQS::Queue", [:]), state: queue)
            try await p.delete(req2, state: updated)
        }
    }

    @Test func inlinePolicyOnAMissingQueueFails() async throws {
        try await withService { _, p in
            await #expect { try await p.create(self.request("AWS::SQS::QueueInlinePolicy", ["Queue": .string("http://localhost:4566/000000000000/none"),
                                                                                                 "PolicyDocument": self.doc("sqs:*")])) }
                throws: { ($0 as? AWSError)?.code == "AWS.SimpleQueueService.NonExistentQueue" || ($0 as? AWSError)?.code == "QueueDoesNotExist" }
            await #expect { try await p.create(self.request("AWS::SQS::QueueInlinePolicy", ["PolicyDocument": self.doc("sqs:*")])) }
                throws: { ($0 as? AWSError)?.code == "MissingParameter" }
        }
    }
}
