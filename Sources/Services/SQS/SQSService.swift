import Core
import Foundation
import GRDB
import Logging
import NIOCore

/// Amazon SQS over AWS JSON 1.0 (`X-Amz-Target: AmazonSQS.<Op>`) and the Query protocol (`Action=...`).
public struct SQSService: AWSService {
    public let signingName = "sqs"
    public let wireProtocol = WireProtocol.json10
    public var errorTypePrefix: String? { "com.amazonaws.sqs#" }
    let store: QueueStore
    let clock: EmulatorClock
    let signals = QueueSignals()
    let purges = PurgeLog()
    let moveTasks = MessageMoveTasks()

    public init(directory: String, clock: EmulatorClock, logger: Logger) throws {
        store = try QueueStore(directory: directory)
        self.clock = clock
    }

    public func reset() async throws {
        moveTasks.cancelAll()
        try store.reset()
    }

    public var queryNamespace: String? { SQSQuery.namespace }

    public func operationName(for request: AWSRequest) -> String {
        JSONProtocol.operation(request) ?? request.queryValue("Action") ?? "-"
    }

    /// Both protocols reach the same operations: JSON 1.0 when `X-Amz-Target` names one, else Query.
    /// 1 MiB messages (and batches) arrive escaped: up to ~6 bytes per character in JSON, 3 when percent-encoded.
    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        if let op = JSONProtocol.operation(request) {
            let input = try await JSONProtocol.input(request, limit: 8 << 20)
            return JSONProtocol.response(try await perform(op, request, input))
        }
        let parameters = try await QueryProtocol.parameters(request, limit: 8 << 20)
        // No Action, or one SQS does not have: AWS answers 404 with a bare `<UnknownOperationException/>`.
        guard let action = parameters["Action"], Self.operations.contains(action) else { return Self.unknownOperation() }
        let json = SQSQueryJSON.wanted(request)
        let output: [String: Any]
        do {
            // A queue's URL serves that queue's actions only.
            if Self.accountWide.contains(action) && ServiceIdentification.isQueuePath(request.rawPath) {
                throw AWSError("InvalidAction", "The action \(action) is not valid for this endpoint.").query("InvalidAction")
            }
            output = try await perform(action, request, SQSQuery.input(parameters, operation: action))
        } catch var error as AWSError {
            // The Query API words a missing queue as it did for the old WSDL versions.
            if error.queryCode == SQSError.nonExistentQueue { error.message = "The specified queue does not exist for this wsdl version." }
            if json { return SQSQueryJSON.error(error, requestID: request.requestID) }
            throw error
        }
        if json {
            return SQSQueryJSON.response(action: action, output: SQSQuery.withoutOutput.contains(action) ? nil : output,
                                         requestID: request.requestID)
        }
        let result: ((inout XMLWriter) -> Void)? = SQSQuery.withoutOutput.contains(action) ? nil : { xml in
            SQSQuery.write(output, operation: action, into: &xml)
        }
        return QueryProtocol.response(action: action, xmlns: SQSQuery.namespace, requestID: request.requestID, result: result)
    }

    /// The actions of the 2012-11-05 API.
    static let operations: Set<String> = [
        "AddPermission", "CancelMessageMoveTask", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch", "CreateQueue",
        "DeleteMessage", "DeleteMessageBatch", "DeleteQueue", "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues",
        "ListMessageMoveTasks", "ListQueueTags", "ListQueues", "PurgeQueue", "ReceiveMessage", "RemovePermission", "SendMessage",
        "SendMessageBatch", "SetQueueAttributes", "StartMessageMoveTask", "TagQueue", "UntagQueue",
    ]

    /// Actions that name no queue, refused at a queue's URL as AWS refuses them there.
    static let accountWide: Set<String> = ["CreateQueue", "ListQueues"]

    static func unknownOperation() -> AWSResponse {
        AWSResponse(status: .notFound, bytes: ByteBuffer(string: "<UnknownOperationException/>\n"))
    }

    func perform(_ op: String, _ request: AWSRequest, _ input: [String: Any]) async throws -> [String: Any] {
        switch op {
        case "CreateQueue": return try createQueue(request, input)
        case "GetQueueUrl": return try getQueueUrl(request, input)
        case "ListQueues": return try listQueues(request, input)
        case "DeleteQueue": return try deleteQueue(request, input)
        case "GetQueueAttributes": return try getQueueAttributes(request, input)
        case "SetQueueAttributes": return try setQueueAttributes(request, input)
        case "TagQueue": return try tagQueue(request, input)
        case "UntagQueue": return try untagQueue(request, input)
        case "ListQueueTags": return try listQueueTags(request, input)
        case "SendMessage": return try sendMessage(request, input)
        case "SendMessageBatch": return try sendMessageBatch(request, input)
        case "ReceiveMessage": return try await receiveMessage(request, input)
        case "DeleteMessage": return try deleteMessage(request, input)
        case "DeleteMessageBatch": return try deleteMessageBatch(request, input)
        case "ChangeMessageVisibility": return try changeMessageVisibility(request, input)
        case "ChangeMessageVisibilityBatch": return try changeMessageVisibilityBatch(request, input)
        case "PurgeQueue": return try purgeQueue(request, input)
        case "ListDeadLetterSourceQueues": return try listDeadLetterSourceQueues(request, input)
        case "StartMessageMoveTask": return try startMessageMoveTask(request, input)
        case "CancelMessageMoveTask": return try cancelMessageMoveTask(request, input)
        case "ListMessageMoveTasks": return try listMessageMoveTasks(request, input)
        case "AddPermission": return try addPermission(request, input)
        case "RemovePermission": return try removePermission(request, input)
        default:
            throw AWSError("InvalidAction", "The action \(op) is not valid for this endpoint.").query("InvalidAction")
        }
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

    /// The queue a request's QueueUrl names, or else its path (Query requests may be sent to the queue's URL).
    /// A bare queue name is the caller's queue of that name in the caller's region, as AWS resolves it.
    func queue(_ request: AWSRequest, _ input: [String: Any]) throws -> Queue {
        let url = input["QueueUrl"] == nil && ServiceIdentification.isQueuePath(request.rawPath)
            ? request.rawPath : try Self.string(input, "QueueUrl")
        let (account, name) = try QueueAddress.parse(url, callerAccount: request.caller.accountID)
        guard let q = try store.queue(account: account, region: request.caller.region, name: name) else {
            throw SQSError.queueDoesNotExist()
        }
        return q
    }
}
