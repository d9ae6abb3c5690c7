import Core
import Foundation
import GRDB
import Logging

/// Amazon SQS over AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Op>`). This step serves queue management and
/// messages on standard queues; FIFO ordering, dead-letter queues and the Query protocol come next.
public struct SQSService: AWSService {
    public let signingName = "sqs"
    public let wireProtocol = WireProtocol.json10
    public var errorTypePrefix: String? { "com.amazonaws.sqs#" }
    let store: QueueStore
    let clock: EmulatorClock
    let signals = QueueSignals()
    let purges = PurgeLog()

    public init(directory: String, clock: EmulatorClock, logger: Logger) throws {
        store = try QueueStore(directory: directory)
        self.clock = clock
    }

    public func reset() async throws { try store.reset() }

    public func operationName(for request: AWSRequest) -> String {
        JSONProtocol.operation(request) ?? request.queryValue("Action") ?? "-"
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let op = JSONProtocol.operation(request) else {
            throw AWSError("InvalidAction", "Cloudless serves SQS over the JSON protocol for now; the Query protocol is coming.")
        }
        // 1 MiB messages (and batches) arrive JSON-escaped, up to ~6 bytes per character.
        let input = try await JSONProtocol.input(request, limit: 8 << 20)
        let output: [String: Any]
        switch op {
        case "CreateQueue": output = try createQueue(request, input)
        case "GetQueueUrl": output = try getQueueUrl(request, input)
        case "ListQueues": output = try listQueues(request, input)
        case "DeleteQueue": output = try deleteQueue(request, input)
        case "GetQueueAttributes": output = try getQueueAttributes(request, input)
        case "SetQueueAttributes": output = try setQueueAttributes(request, input)
        case "TagQueue": output = try tagQueue(request, input)
        case "UntagQueue": output = try untagQueue(request, input)
        case "ListQueueTags": output = try listQueueTags(request, input)
        case "SendMessage": output = try sendMessage(request, input)
        case "SendMessageBatch": output = try sendMessageBatch(request, input)
        case "ReceiveMessage": output = try await receiveMessage(request, input)
        case "DeleteMessage": output = try deleteMessage(request, input)
        case "DeleteMessageBatch": output = try deleteMessageBatch(request, input)
        case "ChangeMessageVisibility": output = try changeMessageVisibility(request, input)
        case "ChangeMessageVisibilityBatch": output = try changeMessageVisibilityBatch(request, input)
        case "PurgeQueue": output = try purgeQueue(request, input)
        case "ListDeadLetterSourceQueues": output = try listDeadLetterSourceQueues(request, input)
        default:
            throw AWSError("InvalidAction", "The action \(op) is not valid for this endpoint.").query("InvalidAction")
        }
        return JSONProtocol.response(output)
    }

    // MARK: Inputs

    static func string(_ input: [String: Any], _ name: String) throws -> String {
        guard let v = input[name] else { throw SQSError.missingParameter(name) }
        guard let s = v as? String else { throw SQSError.invalidParameterValue("Value for parameter \(name) is invalid.") }
        return s
    }

    static func stringMap(_ input: [String: Any], _ name: String) throws -> [String: String] {
        guard let v = input[name] else { return [:] }
        guard let map = v as? [String: Any] else { throw SQSError.invalidParameterValue("Value for parameter \(name) is invalid.") }
        var out: [String: String] = [:]
        for (k, value) in map {
            guard let s = value as? String else { throw SQSError.invalidAttributeValue(k) }
            out[k] = s
        }
        return out
    }

    static func stringList(_ input: [String: Any], _ name: String) throws -> [String] {
        guard let v = input[name] else { return [] }
        guard let list = v as? [Any], list.allSatisfy({ $0 is String }) else {
            throw SQSError.invalidParameterValue("Value for parameter \(name) is invalid.")
        }
        return list.compactMap { $0 as? String }
    }

    /// The queue a request's QueueUrl names.
    func queue(_ request: AWSRequest, _ input: [String: Any]) throws -> Queue {
        let (account, name) = try QueueAddress.parse(try Self.string(input, "QueueUrl"))
        guard let q = try store.queue(account: account, region: request.caller.region, name: name) else {
            throw SQSError.queueDoesNotExist()
        }
        return q
    }
}
