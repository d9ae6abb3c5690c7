import Core
import Foundation
import GRDB
import Logging

/// Amazon DynamoDB over AWS JSON 1.0 (`X-Amz-Target: DynamoDB_20120810.<Op>`). State lives in `dynamodb.sqlite`
/// (`DynamoDBStore`); the expression language (values, conditions, updates, projections, key conditions) lives in
/// `Language/`.
public final class DynamoDBService: AWSService, SnapshotParticipant {
    public let signingName = "dynamodb"
    public let wireProtocol = WireProtocol.json10
    public var errorTypePrefix: String? { "com.amazonaws.dynamodb.v20120810#" }
    static let targetPrefix = "DynamoDB_20120810"
    static let streamsTargetPrefix = "DynamoDBStreams_20120810"
    let store: DynamoDBStore
    let clock: EmulatorClock
    let logger: Logger

    public init(directory: String, clock: EmulatorClock, logger: Logger) throws {
        store = try DynamoDBStore(directory: directory)
        self.clock = clock
        self.logger = logger
    }

    public func reset() async throws { try store.reset() }
    public func resumeAfterRestore() async throws { store.forget() }

    public func operationName(for request: AWSRequest) -> String { JSONProtocol.operation(request) ?? "-" }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let op = JSONProtocol.operation(request) else {
            throw AWSError("UnknownOperationException", "DynamoDB is served over AWS JSON 1.0 (X-Amz-Target).")
        }
        // 16 MB: BatchWriteItem's largest request (25 items of 400 KB) with room for its JSON.
        let input = Input(try await JSONProtocol.input(request, limit: 16 << 20))
        let s = Scope(account: request.caller.accountID, region: request.caller.region)
        do {
            return JSONProtocol.response(try call(op, s, input))
        } catch let e as ErrorWithBody {
            return Self.render(e)
        }
    }

    /// An error with members beyond its message, in the shape `ErrorRendering.json` gives the others.
    static func render(_ e: ErrorWithBody) -> AWSResponse {
        let type = "com.amazonaws.dynamodb.v20120810#" + e.error.code
        var body = e.members
        body["__type"] = type
        body["message"] = e.error.message
        let plain = ErrorRendering.json(e.error, requestID: "", typePrefix: "com.amazonaws.dynamodb.v20120810#",
                                        contentType: "application/x-amz-json-1.0")
        var response = JSONProtocol.response(body)
        response.status = plain.status
        response.headers = plain.headers
        return response
    }

    func call(_ op: String, _ s: Scope, _ input: Input) throws -> [String: Any] {
        switch op {
        case "CreateTable": return try createTable(s, input)
        case "DescribeTable": return try describeTable(s, input)
        case "ListTables": return try listTables(s, input)
        case "UpdateTable": return try updateTable(s, input)
        case "DeleteTable": return try deleteTable(s, input)
        case "TagResource": return try tagResource(s, input)
        case "UntagResource": return try untagResource(s, input)
        case "ListTagsOfResource": return try listTagsOfResource(s, input)
        case "UpdateTimeToLive": return try updateTimeToLive(s, input)
        case "DescribeTimeToLive": return try describeTimeToLive(s, input)
        case "DescribeContinuousBackups": return try describeContinuousBackups(s, input)
        case "UpdateContinuousBackups": return try updateContinuousBackups(s, input)
        case "DescribeLimits": return describeLimits()
        case "PutItem": return try putItem(s, input)
        case "GetItem": return try getItem(s, input)
        case "UpdateItem": return try updateItem(s, input)
        case "DeleteItem": return try deleteItem(s, input)
        case "Query": return try query(s, input)
        case "Scan": return try scan(s, input)
        case "BatchGetItem": return try batchGetItem(s, input)
        case "BatchWriteItem": return try batchWriteItem(s, input)
        case "TransactWriteItems": return try transactWriteItems(s, input)
        case "TransactGetItems": return try transactGetItems(s, input)
        case "ExecuteStatement": return try executeStatement(s, input)
        case "BatchExecuteStatement": return try batchExecuteStatement(s, input)
        case "ExecuteTransaction": return try executeTransaction(s, input)
        case "ListStreams": return try listStreams(s, input)
        case "DescribeStream": return try describeStream(s, input)
        case "GetShardIterator": return try getShardIterator(s, input)
        case "GetRecords": return try getRecords(s, input)
        case "DescribeEndpoints":
            return ["Endpoints": [["Address": "dynamodb.\(s.region).amazonaws.com", "CachePeriodInMinutes": 1440]]]
        default:
            throw AWSError("UnknownOperationException", "The operation \(op) is not supported by Cloudless's DynamoDB.")
        }
    }
}
