import Core
import Foundation
import GRDB
import Logging

/// Amazon CloudWatch Logs over AWS JSON 1.1 (`X-Amz-Target: Logs_20140328.<Op>`). It is also the `LogSink` other
/// services (Lambda) write their output through.
public struct LogsService: AWSService, LogSink {
    public let signingName = "logs"
    public let wireProtocol = WireProtocol.json11
    let store: LogStore
    let clock: EmulatorClock
    let logger: Logger

    public init(directory: String, clock: EmulatorClock, logger: Logger) throws {
        store = try LogStore(directory: directory)
        self.clock = clock
        self.logger = logger
    }

    public func reset() async throws { try store.reset() }

    public func operationName(for request: AWSRequest) -> String { JSONProtocol.operation(request) ?? "-" }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let op = JSONProtocol.operation(request) else {
            throw AWSError("UnknownOperationException", "CloudWatch Logs is served over AWS JSON 1.1 (X-Amz-Target).")
        }
        // PutLogEvents takes up to 1 MiB of messages plus their JSON framing.
        let input = Input(try await JSONProtocol.input(request, limit: 8 << 20))
        let output: [String: Any]
        switch op {
        case "CreateLogGroup": output = try createLogGroup(request, input)
        case "DeleteLogGroup": output = try deleteLogGroup(request, input)
        case "DescribeLogGroups": output = try describeLogGroups(request, input)
        case "ListLogGroups": output = try listLogGroups(request, input)
        case "PutRetentionPolicy": output = try putRetentionPolicy(request, input)
        case "DeleteRetentionPolicy": output = try deleteRetentionPolicy(request, input)
        case "CreateLogStream": output = try createLogStream(request, input)
        case "DeleteLogStream": output = try deleteLogStream(request, input)
        case "DescribeLogStreams": output = try describeLogStreams(request, input)
        case "PutLogEvents": output = try putLogEvents(request, input)
        case "GetLogEvents": output = try getLogEvents(request, input)
        case "FilterLogEvents": output = try filterLogEvents(request, input)
        case "TagLogGroup": output = try tagLogGroup(request, input)
        case "UntagLogGroup": output = try untagLogGroup(request, input)
        case "ListTagsLogGroup": output = try listTagsLogGroup(request, input)
        case "TagResource": output = try tagResource(request, input)
        case "UntagResource": output = try untagResource(request, input)
        case "ListTagsForResource": output = try listTagsForResource(request, input)
        case "PutMetricFilter": output = try putMetricFilter(request, input)
        case "DescribeMetricFilters": output = try describeMetricFilters(request, input)
        case "DeleteMetricFilter": output = try deleteMetricFilter(request, input)
        case "TestMetricFilter": output = try testMetricFilter(request, input)
        default:
            throw AWSError("UnknownOperationException", "The operation \(op) is not supported by Cloudless's CloudWatch Logs.")
        }
        return JSONProtocol.response(output, contentType: "application/x-amz-json-1.1")
    }

    /// The clock in CloudWatch Logs' unit.
    var nowMillis: Int64 { Int64((clock.now() * 1000).rounded(.down)) }

    // MARK: Finding groups and streams

    /// The group `logGroupName` names, or ResourceNotFoundException.
    func group(named name: String, _ r: AWSRequest, _ db: Database) throws -> LogGroup {
        guard let g = try LogStore.group(account: r.caller.accountID, region: r.caller.region, name: name, db) else {
            throw LogsError.groupNotFound()
        }
        return g
    }

    /// The group of operations that take `logGroupName` or `logGroupIdentifier` (a name or an ARN, with or without
    /// the trailing `:*`), never both.
    func identifiedGroup(_ input: Input, _ r: AWSRequest, _ db: Database) throws -> LogGroup {
        let name = try input.string("logGroupName")
        let identifier = try input.string("logGroupIdentifier")
        if name != nil && identifier != nil {
            throw AWSError("ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
        }
        if let name {
            try LogsNames.validateGroup(name)
            return try group(named: name, r, db)
        }
        guard let identifier else {
            throw LogsError.invalidParameter("You must include either logGroupIdentifier or logGroupName, but not both.")
        }
        guard identifier.hasPrefix("arn:") else { return try group(named: identifier, r, db) }
        // Another account's group would take cross-account observability, which Cloudless does not model.
        guard let (account, region, name) = Self.groupARN(identifier), account == r.caller.accountID,
              region == r.caller.region else {
            throw LogsError.groupNotFound()
        }
        return try group(named: name, r, db)
    }

    /// `arn:aws:logs:<region>:<account>:log-group:<name>[:*]` → (account, region, name).
    static func groupARN(_ s: String) -> (String, String, String)? {
        guard let arn = ARN(s), arn.service == "logs", arn.resource.hasPrefix("log-group:") else { return nil }
        var name = String(arn.resource.dropFirst("log-group:".count))
        if name.hasSuffix(":*") { name = String(name.dropLast(2)) }
        guard !name.isEmpty, !name.contains(":") else { return nil }
        return (arn.account, arn.region, name)
    }

    func stream(_ name: String, in g: LogGroup, _ db: Database) throws -> LogStream {
        guard let s = try LogStore.stream(group: g.id, name: name, db) else { throw LogsError.streamNotFound() }
        return s
    }

    // MARK: LogSink

    /// Appends in one transaction, creating the group and stream when missing (as Lambda's execution role does).
    /// Failures are logged, never thrown: a function's output must not fail its invocation.
    public func append(account: String, region: String, group: String, stream: String, events: [Core.LogEvent]) {
        guard !events.isEmpty else { return }
        let now = nowMillis
        let ordered = events.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }.map(\.element)
        do {
            try store.db.writeNow { db in
                var groupID = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT id FROM log_group WHERE account = ? AND region = ? AND name = ?"),
                    arguments: [account, region, group])
                if groupID == nil {
                    groupID = try LogStore.insertGroup(account: account, region: region, name: group, created: now, kmsKeyId: nil,
                                                       logGroupClass: "STANDARD", deletionProtection: false, tags: [:], db)
                }
                let s = try LogStore.stream(group: groupID!, name: stream, db)
                    ?? LogStore.insertStream(group: groupID!, name: stream, created: now, db)
                _ = try LogStore.append(ordered, to: s, ingestion: now, db)
            }
        } catch {
            logger.error("CloudWatch Logs: could not append \(events.count) events to \(group)/\(stream): \(error)")
        }
    }

    public func groupExists(account: String, region: String, group: String) -> Bool {
        (try? store.db.readNow { db in try LogStore.group(account: account, region: region, name: group, db) }) != nil
    }

    public func createGroupIfMissing(account: String, region: String, group: String) {
        let now = nowMillis
        do {
            try store.db.writeNow { db in
                if try LogStore.group(account: account, region: region, name: group, db) == nil {
                    _ = try LogStore.insertGroup(account: account, region: region, name: group, created: now, kmsKeyId: nil,
                                                 logGroupClass: "STANDARD", deletionProtection: false, tags: [:], db)
                }
            }
        } catch {
            logger.error("CloudWatch Logs: could not create log group \(group): \(error)")
        }
    }

    /// Removes events past their group's retention (reads already skip them; this frees the space).
    public func sweep() throws {
        guard store.database.hasContent else { return }  // never created: nothing due, nothing opened
        let now = clock.now()
        _ = try store.db.writeNow { db in try LogStore.purgeExpired(now: now, db) }
    }

    // MARK: Pagination

    /// One page of `items` after an opaque nextToken (the base64 offset), and the token of the next page.
    static func page<T>(_ items: [T], token: String?, limit: Int) throws -> ([T], String?) {
        var start = 0
        if let token {
            guard let d = Data(base64Encoded: token), let s = String(data: d, encoding: .utf8), s.hasPrefix("o:"),
                  let n = Int(s.dropFirst(2)), n >= 0 else {
                throw LogsError.invalidToken()
            }
            // Items removed since the previous page move the end closer; the token stays valid.
            start = min(n, items.count)
        }
        let end = min(items.count, start + limit)
        let next = end < items.count ? Data("o:\(end)".utf8).base64EncodedString() : nil
        return (Array(items[start..<end]), next)
    }
}
