import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import SQS

// Issue 13: queue addressing by bare name, FIFO batch order, empty policies, purge and deduplication, size limits,
// the Query protocol's JSON answers and AWS's JSON error names.

private func withService(_ body: (SQSService) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-sqs-fid-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try SQSService(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
    try await body(service)
    try service.store.db.close()
}

private func api(_ headers: HTTPFields = HTTPFields()) -> AWSRequest {
    AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: headers, host: "localhost:4566",
               body: RequestBody(buffer: ByteBuffer()), caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: nil),
               requestID: "r")
}

private func bodies(_ out: [String: Any]) -> [String] {
    (out["Messages"] as? [[String: Any]] ?? []).compactMap { $0["Body"] as? String }
}

@Suite struct SQSWireFidelityTests {
    @Test func aBareNameIsTheCallersQueue() throws {
        let (account, name) = try QueueAddress.parse("orders", callerAccount: "123456789012")
        #expect(account == "123456789012" && name == "orders")
        // Without a caller (CloudFormation references) a bare name is still not an address.
        #expect(throws: AWSError.self) { try QueueAddress.parse("orders") }
    }

    @Test func bareNamesReachTheQueue() async throws {
        try await withService { s in
            _ = try s.createQueue(api(), ["QueueName": "orders"])
            _ = try s.sendMessage(api(), ["QueueUrl": "orders", "MessageBody": "hi"])
            #expect(bodies(try await s.receiveMessage(api(), ["QueueUrl": "orders"])) == ["hi"])
            #expect(throws: AWSError.self) { try s.sendMessage(api(), ["QueueUrl": "nope", "MessageBody": "hi"]) }
        }
    }

    @Test func aFIFOBatchTakesOneGroupFirst() async throws {
        try await withService { s in
            _ = try s.createQueue(api(), ["QueueName": "o.fifo", "Attributes": ["FifoQueue": "true", "ContentBasedDeduplication": "true"]])
            for (g, b) in [("g1", "a1"), ("g2", "b1"), ("g1", "a2"), ("g3", "c1"), ("g2", "b2")] {
                _ = try s.sendMessage(api(), ["QueueUrl": "o.fifo", "MessageBody": b, "MessageGroupId": g])
            }
            let out = try await s.receiveMessage(api(), ["QueueUrl": "o.fifo", "MaxNumberOfMessages": NSNumber(value: 10)])
            #expect(bodies(out) == ["a1", "a2", "b1", "b2", "c1"])
        }
    }

    @Test func purgingForgetsDeduplicationIDs() async throws {
        try await withService { s in
            _ = try s.createQueue(api(), ["QueueName": "p.fifo", "Attributes": ["FifoQueue": "true"]])
            let send: [String: Any] = ["QueueUrl": "p.fifo", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "d"]
            let first = try s.sendMessage(api(), send)["MessageId"] as? String
            #expect(try s.sendMessage(api(), send)["MessageId"] as? String == first)
            _ = try s.purgeQueue(api(), ["QueueUrl": "p.fifo"])
            #expect(try s.sendMessage(api(), send)["MessageId"] as? String != first)
        }
    }

    @Test func emptyPoliciesRemoveTheAttribute() async throws {
        try await withService { s in
            _ = try s.createQueue(api(), ["QueueName": "q"])
            let allow = #"{"redrivePermission":"allowAll"}"#
            _ = try s.setQueueAttributes(api(), ["QueueUrl": "q", "Attributes": ["RedriveAllowPolicy": allow]])
            let before = try s.getQueueAttributes(api(), ["QueueUrl": "q", "AttributeNames": ["All"]])["Attributes"] as? [String: String]
            #expect(before?["RedriveAllowPolicy"] == allow)
            _ = try s.setQueueAttributes(api(), ["QueueUrl": "q", "Attributes": ["RedriveAllowPolicy": "", "Policy": ""]])
            let after = try s.getQueueAttributes(api(), ["QueueUrl": "q", "AttributeNames": ["All"]])["Attributes"] as? [String: String]
            #expect(after?["RedriveAllowPolicy"] == nil && after?["Policy"] == nil)
        }
    }

    @Test func theQueuesSizeLimitIsWordedPerOperation() async throws {
        try await withService { s in
            _ = try s.createQueue(api(), ["QueueName": "small", "Attributes": ["MaximumMessageSize": "1024"]])
            let big = String(repeating: "a", count: 1025)
            #expect { try s.sendMessage(api(), ["QueueUrl": "small", "MessageBody": big]) } throws: {
                ($0 as? AWSError)?.message == "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."
            }
            let out = try s.sendMessageBatch(api(), ["QueueUrl": "small", "Entries": [["Id": "a", "MessageBody": big]]])
            let failed = out["Failed"] as? [[String: Any]]
            #expect(failed?.first?["Message"] as? String == "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes.")
            #expect(failed?.first?["Code"] as? String == "InvalidParameterValue")
        }
    }

    @Test func jsonErrorNamesAreAWSsWithTheQueryCodeBeside() {
        let e = SQSError.invalidParameterValue("m")
        #expect(e.code == "InvalidParameterValueException" && e.queryCode == "InvalidParameterValue")
        let m = SQSError.missingParameter("QueueName")
        #expect(m.code == "MissingRequiredParameterException" && m.queryCode == "MissingParameter")
        let r = ErrorRendering.json(SQSError.queueDoesNotExist(), requestID: "R", typePrefix: "com.amazonaws.sqs#",
                                    contentType: "application/x-amz-json-1.0")
        #expect(r.headers.value("x-amzn-ErrorType") == "com.amazonaws.sqs#QueueDoesNotExist")
        #expect(r.headers.value("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender")
    }

    @Test func queryAnswersInJSONUseTheQueryShapes() {
        let result = SQSQueryJSON.result([
            "Messages": [["Body": "b", "Attributes": ["SenderId": "x"]]],
            "Attributes": ["VisibilityTimeout": "30", "DelaySeconds": "0"],
            "Tags": ["team": "a"],
        ])
        #expect((result["messages"] as? [[String: Any]])?.first?["Body"] as? String == "b")
        #expect(result["Attributes"] as? [[String: String]] == [["Name": "DelaySeconds", "Value": "0"], ["Name": "VisibilityTimeout", "Value": "30"]])
        #expect(result["Tags"] as? [[String: String]] == [["Key": "team", "Value": "a"]])
        #expect(SQSQueryJSON.wanted(api(HTTPFields([HTTPField(name: .accept, value: "application/json")]))))
        #expect(!SQSQueryJSON.wanted(api()))
    }

    @Test func nameFiltersTakeAllWildcardsAndPrefixes() {
        #expect(SQSService.selects(["All"], "SenderId") && SQSService.selects([".*"], "x") && SQSService.selects(["*"], "x"))
        #expect(SQSService.selects(["Hel.*"], "Hello") && SQSService.selects(["Hel.*"], "Help.Me"))
        #expect(!SQSService.selects(["Hel.*"], "General") && !SQSService.selects(["Help"], "Help.Me"))
        #expect(SQSService.selects(["Approximate.*"], "ApproximateReceiveCount"))
        #expect(!SQSService.selects([String](), "SenderId") && !SQSService.selects(["AWS."], "AWS.x"))
    }

    @Test func unknownActionsAreUnknownOperations() {
        #expect(SQSService.operations.count == 23)
        let r = SQSService.unknownOperation()
        #expect(r.status == .notFound)
    }
}
