import Core
import Foundation
import Logging
import Testing

@testable import SQS

// After a crash between a queue's creation and the stack's record of it, the provider finds the queue again by the
// name the create used.
@Suite struct SQSInterruptedCreateTests {
    func request(_ properties: [String: JSON], type: String = "AWS::SQS::Queue") -> ResourceRequest {
        ResourceRequest(account: "000000000000", region: "us-east-1", stackName: "app",
                        stackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/app/1", logicalId: "Queue", type: type,
                        properties: properties, tags: [:])
    }

    @Test func aQueueIsFoundByItsGeneratedOrGivenName() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-sqs-interrupted-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let service = try SQSService(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"))
        let p = service.resourceProvider
        for props: [String: JSON] in [["VisibilityTimeout": .number(60)], ["FifoQueue": .bool(true)], ["QueueName": .string("given")]] {
            #expect(try await p.interruptedCreate(request(props)) == nil)
            let made = try await p.create(request(props))
            let found = try await p.interruptedCreate(request(props))
            #expect(found == made)
            try await p.delete(request(props), state: try #require(found))
            #expect(try await p.interruptedCreate(request(props)) == nil)
        }
        // Other types of the provider are one call each: nothing to find.
        #expect(try await p.interruptedCreate(request(["Queues": .array([])], type: "AWS::SQS::QueuePolicy")) == nil)
        try service.store.db.close()
    }
}
