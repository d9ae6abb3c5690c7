import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import SQS

// AWS::SQS::Queue and AWS::SQS::QueuePolicy through the provider, read back through SQS's own operations.

private func withService(_ body: (SQSService, SQSResources) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-sqs-cfn-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try SQSService(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
    try await body(service, service.resourceProvider)
    try service.store.db.close()
}

private func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
    ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "app", stackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/app/1",
                    logicalId: logicalId, type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "app"])
}

private func apiRequest() -> AWSRequest {
    AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost:4566",
               body: RequestBody(buffer: ByteBuffer()), caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil),
               requestID: "r")
}

private func attributes(_ s: SQSService, _ url: String) throws -> [String: String] {
    try s.getQueueAttributes(apiRequest(), ["QueueUrl": url, "AttributeNames": ["All"]])["Attributes"] as? [String: String] ?? [:]
}

private func tags(_ s: SQSService, _ url: String) throws -> [String: String] {
    try s.listQueueTags(apiRequest(), ["QueueUrl": url])["Tags"] as? [String: String] ?? [:]
}

@Suite struct SQSCloudFormationTests {
    @Test func queueCreateUpdateDelete() async throws {
        try await withService { s, p in
            #expect(p.createOnlyProperties(of: "AWS::SQS::Queue") == ["QueueName", "FifoQueue"])
            let dlq = try await p.create(request("AWS::SQS::Queue", "DLQ", ["QueueName": .string("dead")]))
            #expect(dlq.ref == "http://localhost:4566/000000000000/dead")
            #expect(dlq.attributes["Arn"] == .string("arn:aws:sqs:us-east-1:000000000000:dead"))
            #expect(dlq.attributes["QueueName"] == .string("dead"))
            #expect(dlq.attributes["QueueUrl"] == .string(dlq.ref))

            var props: [String: JSON] = [
                "VisibilityTimeout": .number(60), "DelaySeconds": .string("5"),
                "RedrivePolicy": .object(["deadLetterTargetArn": dlq.attributes["Arn"]!, "maxReceiveCount": .number(3)]),
                "Tags": .array([.object(["Key": .string("team"), "Value": .string("a")])]),
            ]
            let q = try await p.create(request("AWS::SQS::Queue", "Jobs", props))
            #expect(q.attributes["QueueName"]?.string?.hasPrefix("app-Jobs-") == true)
            var a = try attributes(s, q.physicalId)
            #expect(a["VisibilityTimeout"] == "60")
            #expect(a["DelaySeconds"] == "5")
            #expect(a["RedrivePolicy"] == #"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dead","maxReceiveCount":3}"#)
            #expect(try tags(s, q.physicalId) == ["team": "a", "aws:cloudformation:stack-name": "app"])

            // A property the template drops goes back to its default; changed tags replace the old ones.
            props["VisibilityTimeout"] = nil
            props["RedrivePolicy"] = nil
            props["MaximumMessageSize"] = .number(2048)
            props["Tags"] = .array([.object(["Key": .string("owner"), "Value": .string("b")])])
            let updated = try await p.update(request("AWS::SQS::Queue", "Jobs", props), previous: q)
            #expect(updated == q)
            a = try attributes(s, q.physicalId)
            #expect(a["VisibilityTimeout"] == "30")
            #expect(a["MaximumMessageSize"] == "2048")
            #expect((a["RedrivePolicy"] ?? "").isEmpty)
            #expect(try tags(s, q.physicalId) == ["owner": "b", "aws:cloudformation:stack-name": "app"])

            try await p.delete(request("AWS::SQS::Queue", "Jobs", props), state: q)
            #expect(throws: AWSError.self) { try attributes(s, q.physicalId) }
            try await p.delete(request("AWS::SQS::Queue", "Jobs", props), state: q)  // already gone: no error
        }
    }

    @Test func fifoQueuesAndErrors() async throws {
        try await withService { s, p in
            let f = try await p.create(request("AWS::SQS::Queue", "Ordered", ["FifoQueue": .bool(true), "ContentBasedDeduplication": .string("true")]))
            #expect(f.attributes["QueueName"]?.string?.hasSuffix(".fifo") == true)
            let a = try attributes(s, f.physicalId)
            #expect(a["FifoQueue"] == "true")
            #expect(a["ContentBasedDeduplication"] == "true")
            // A FIFO name without FifoQueue, a value out of range, an existing name: SQS's own errors.
            await #expect(throws: AWSError.self) { try await p.create(request("AWS::SQS::Queue", "X", ["QueueName": .string("x.fifo")])) }
            await #expect(throws: AWSError.self) { try await p.create(request("AWS::SQS::Queue", "X", ["DelaySeconds": .number(901)])) }
            _ = try await p.create(request("AWS::SQS::Queue", "Named", ["QueueName": .string("named")]))
            let dup = await #expect(throws: AWSError.self) { try await p.create(request("AWS::SQS::Queue", "Again", ["QueueName": .string("named")])) }
            #expect(dup?.message.contains("already exists") == true)

            // Registered with the emulator's endpoint, queue URLs name the address it is bound to.
            let endpoint = ServerEndpoint()
            endpoint.set(host: "0.0.0.0", port: 4599)
            let bound = try await s.resourceProvider(endpoint: endpoint).create(request("AWS::SQS::Queue", "Bound", ["QueueName": .string("bound")]))
            #expect(bound.ref == "http://127.0.0.1:4599/000000000000/bound")
            #expect(try attributes(s, bound.ref)["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:bound")
        }
    }

    @Test func queuePolicySetsAndClearsThePolicyAttribute() async throws {
        try await withService { s, p in
            let q1 = try await p.create(request("AWS::SQS::Queue", "A", ["QueueName": .string("a")]))
            let q2 = try await p.create(request("AWS::SQS::Queue", "B", ["QueueName": .string("b")]))
            let doc: JSON = .object(["Version": .string("2012-10-17"), "Statement": .array([.object([
                "Effect": .string("Allow"), "Principal": .string("*"), "Action": .string("sqs:SendMessage"),
                "Resource": q1.attributes["Arn"]!])])])
            let pol = try await p.create(request("AWS::SQS::QueuePolicy", "Policy",
                                                 ["Queues": .array([.string(q1.ref), .string(q2.ref)]), "PolicyDocument": doc]))
            #expect(pol.ref.hasPrefix("app-Policy-"))
            let policy = try #require(try attributes(s, q1.ref)["Policy"])
            #expect(try JSON(parsing: Data(policy.utf8)) == doc)
            #expect(try attributes(s, q2.ref)["Policy"] == policy)

            // Dropping a queue from the list takes the policy off it.
            let updated = try await p.update(request("AWS::SQS::QueuePolicy", "Policy", ["Queues": .array([.string(q1.ref)]), "PolicyDocument": doc]),
                                             previous: pol)
            #expect(updated.ref == pol.ref)
            #expect((try attributes(s, q2.ref)["Policy"] ?? "").isEmpty)
            #expect(try attributes(s, q1.ref)["Policy"] == policy)

            try await p.delete(request("AWS::SQS::QueuePolicy", "Policy", [:]), state: updated)
            #expect((try attributes(s, q1.ref)["Policy"] ?? "").isEmpty)
        }
    }
}
