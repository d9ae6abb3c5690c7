import Core
import Foundation
import GRDB
import Synchronization

/// An event source mapping: a poller that reads batches from an SQS queue (SQSPoller.swift) or a DynamoDB stream
/// (StreamPoller.swift) and invokes the function with them.
struct EventSourceMapping: Codable, Sendable {
    var UUID: String
    var EventSourceArn: String
    var FunctionArn: String
    var BatchSize: Int
    var MaximumBatchingWindowInSeconds: Int
    var Enabled: Bool
    var State: String
    var LastModified: Double
    var FunctionResponseTypes: [String]
    /// FilterCriteria.Filters[].Pattern, as given.
    var FilterPatterns: [String]
    var account: String
    var region: String
    /// Tags (TagResource on the mapping's ARN, or CreateEventSourceMapping's Tags). Optional: older documents lack it.
    var Tags: [String: String]?
    // Stream mappings only (nil for SQS): where to start, the retry settings, and the position reached per shard
    // (the last sequence number done), persisted so that a restart resumes where it stopped.
    var StartingPosition: String?
    var MaximumRetryAttempts: Int?
    var BisectBatchOnFunctionError: Bool?
    var MaximumRecordAgeInSeconds: Int?
    var ParallelizationFactor: Int?
    var DestinationConfig: JSON?
    var Positions: [String: String]?
    var LastProcessingResult: String?

    var arn: String { "arn:aws:lambda:\(region):\(account):event-source-mapping:\(UUID)" }

    var json: [String: Any] {
        var out: [String: Any] = [
            "UUID": UUID, "EventSourceArn": EventSourceArn, "FunctionArn": FunctionArn, "BatchSize": BatchSize,
            "MaximumBatchingWindowInSeconds": MaximumBatchingWindowInSeconds, "State": State, "LastModified": LastModified,
            "StateTransitionReason": "USER_INITIATED", "FunctionResponseTypes": FunctionResponseTypes,
            "EventSourceMappingArn": arn,
        ]
        if !FilterPatterns.isEmpty { out["FilterCriteria"] = ["Filters": FilterPatterns.map { ["Pattern": $0] }] }
        if let start = StartingPosition {
            out["StartingPosition"] = start
            out["StateTransitionReason"] = "User action"
            out["MaximumRetryAttempts"] = MaximumRetryAttempts ?? -1
            out["BisectBatchOnFunctionError"] = BisectBatchOnFunctionError ?? false
            out["MaximumRecordAgeInSeconds"] = MaximumRecordAgeInSeconds ?? -1
            out["ParallelizationFactor"] = ParallelizationFactor ?? 1
            out["TumblingWindowInSeconds"] = 0
            out["DestinationConfig"] = DestinationConfig?.any ?? ["OnFailure": [String: Any]()]
            out["LastProcessingResult"] = LastProcessingResult ?? "No records processed"
        }
        return out
    }
}

/// The running pollers, by mapping UUID.
final class MappingPollers: Sendable {
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])

    func start(_ uuid: String, _ body: @escaping @Sendable () async -> Void) {
        let old = tasks.withLock { t -> Task<Void, Never>? in
            let old = t[uuid]
            t[uuid] = Task { await body() }
            return old
        }
        old?.cancel()
    }

    func stop(_ uuid: String) { tasks.withLock { $0.removeValue(forKey: uuid) }?.cancel() }

    func stopAll() {
        for t in tasks.withLock({ t -> [Task<Void, Never>] in defer { t.removeAll() }; return Array(t.values) }) { t.cancel() }
    }
}

extension LambdaService {
    static func mapping(_ uuid: String, _ db: Database) throws -> EventSourceMapping? {
        try String.fetchOne(db, sql: "SELECT doc FROM event_source_mapping WHERE uuid = ?", arguments: [uuid])
            .map { try JSONDecoder().decode(EventSourceMapping.self, from: Data($0.utf8)) }
    }

    static func saveMapping(_ m: EventSourceMapping, _ db: Database) throws {
        let doc = String(decoding: try JSONEncoder().encode(m), as: UTF8.self)
        try db.execute(sql: "INSERT OR REPLACE INTO event_source_mapping (uuid, account, region, doc) VALUES (?, ?, ?, ?)",
                       arguments: [m.UUID, m.account, m.region, doc])
    }

    func mappingNotFound(_ uuid: String) -> AWSError {
        AWSError("ResourceNotFoundException", "The resource you requested does not exist.", status: .notFound).with("Type", "User")
    }

    func createEventSourceMapping(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        guard let source = input["EventSourceArn"] as? String else { throw LambdaError.invalid("EventSourceArn is required.") }
        guard let functionName = input["FunctionName"] as? String else { throw LambdaError.invalid("FunctionName is required.") }
        let isStream = Self.isStreamARN(source)
        if isStream {
            try checkStreamSource(source, input)
        } else {
            guard source.hasPrefix("arn:aws:sqs:") else {
                throw LambdaError.invalid("Cloudless serves event source mappings for SQS queues and DynamoDB streams: \(source) is neither.")
            }
            guard let queues, queues.queueExists(arn: source) else {
                throw LambdaError.invalid("Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.")
            }
        }
        let (account, region, name, qualifier) = try Self.parseName(functionName, r)
        guard let f = try store.function(account: account, region: region, name: name) else {
            throw LambdaError.notFound(Self.functionARN(account: account, region: region, name: name))
        }
        let functionARN = f.arn + (qualifier.map { ":\($0)" } ?? "")
        let (batch, window) = try Self.batching(input, defaults: isStream ? (100, 0) : (10, 0), stream: isStream)
        let patterns = try Self.filterPatterns(input)
        var mapping = EventSourceMapping(
            UUID: Foundation.UUID().uuidString.lowercased(), EventSourceArn: source, FunctionArn: functionARN, BatchSize: batch,
            MaximumBatchingWindowInSeconds: window, Enabled: input["Enabled"] as? Bool ?? true, State: "Creating",
            LastModified: clock.now(), FunctionResponseTypes: input["FunctionResponseTypes"] as? [String] ?? [],
            FilterPatterns: patterns, account: r.account, region: r.region, Tags: input["Tags"] as? [String: String])
        if isStream { try streamSettings(&mapping, input, create: true) }
        try store.db.writeNow { db in
            let existing = try String.fetchAll(db, sql: "SELECT doc FROM event_source_mapping WHERE account = ? AND region = ?",
                                               arguments: [r.account, r.region])
                .compactMap { try? JSONDecoder().decode(EventSourceMapping.self, from: Data($0.utf8)) }
            if let same = existing.first(where: { $0.EventSourceArn == source && $0.FunctionArn == functionARN }) {
                if isStream {
                    throw LambdaError.conflict("The event source arn (\" \(source) \") and function (\" \(name) \") provided mapping already exists. Please update or delete the existing mapping with UUID \(same.UUID)")
                }
                throw LambdaError.conflict("An event source mapping with SQS arn (\" \(source) \") and function (\" \(name) \") already exists. Please update or delete the existing mapping with UUID \(same.UUID)")
            }
            var stored = mapping
            stored.State = mapping.Enabled ? "Enabled" : "Disabled"
            try Self.saveMapping(stored, db)
        }
        if mapping.Enabled { startPoller(mapping.UUID) }
        return RestJSON.response(mapping.json, status: .accepted)
    }

    /// BatchSize (1–10,000; over 10 needs a batching window) and MaximumBatchingWindowInSeconds (0–300).
    static func batching(_ input: [String: Any], defaults: (Int, Int), stream: Bool = false) throws -> (Int, Int) {
        let batch = (input["BatchSize"] as? NSNumber)?.intValue ?? defaults.0
        let window = (input["MaximumBatchingWindowInSeconds"] as? NSNumber)?.intValue ?? defaults.1
        guard (1...10_000).contains(batch) else {
            throw LambdaError.validation(String(batch), "batchSize", "Member must have value less than or equal to 10000")
        }
        guard (0...300).contains(window) else {
            throw LambdaError.validation(String(window), "maximumBatchingWindowInSeconds", "Member must have value less than or equal to 300")
        }
        if batch > 10 && window == 0 && !stream {
            throw LambdaError.invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
        }
        return (batch, window)
    }

    static func filterPatterns(_ input: [String: Any]) throws -> [String] {
        guard let criteria = input["FilterCriteria"] as? [String: Any] else { return [] }
        let filters = criteria["Filters"] as? [[String: Any]] ?? []
        return try filters.map { f in
            guard let p = f["Pattern"] as? String, (try? JSONSerialization.jsonObject(with: Data(p.utf8))) is [String: Any] else {
                throw LambdaError.invalid("Invalid filter pattern definition.")
            }
            return p
        }
    }

    func getEventSourceMapping(_ r: LambdaRequest) throws -> AWSResponse {
        let uuid = r.labels["UUID"] ?? ""
        guard let m = try store.db.readNow({ db in try Self.mapping(uuid, db) }), m.account == r.account else { throw mappingNotFound(uuid) }
        return RestJSON.response(m.json)
    }

    func listEventSourceMappings(_ r: LambdaRequest) throws -> AWSResponse {
        let source = r.request.queryValue("EventSourceArn")
        let function = r.request.queryValue("FunctionName")
        let all = try store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT doc FROM event_source_mapping WHERE account = ? AND region = ? ORDER BY uuid",
                                arguments: [r.account, r.region])
                .compactMap { try? JSONDecoder().decode(EventSourceMapping.self, from: Data($0.utf8)) }
        }
        let matching = try all.filter { m in
            if let source, m.EventSourceArn != source { return false }
            if let function {
                let (a, rg, n, q) = try Self.parseName(function, r)
                if m.FunctionArn != Self.functionARN(account: a, region: rg, name: n) + (q.map { ":\($0)" } ?? "") { return false }
            }
            return true
        }
        let limit = Int(r.request.queryValue("MaxItems") ?? "100") ?? 100
        let start = Int(r.request.queryValue("Marker") ?? "0") ?? 0
        let page = Array(matching.dropFirst(start).prefix(limit))
        var out: [String: Any] = ["EventSourceMappings": page.map(\.json)]
        if start + page.count < matching.count { out["NextMarker"] = String(start + page.count) }
        return RestJSON.response(out)
    }

    func updateEventSourceMapping(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let uuid = r.labels["UUID"] ?? ""
        let updated = try store.db.writeNow { db -> EventSourceMapping in
            guard var m = try Self.mapping(uuid, db), m.account == r.account else { throw mappingNotFound(uuid) }
            (m.BatchSize, m.MaximumBatchingWindowInSeconds) = try Self.batching(input, defaults: (m.BatchSize, m.MaximumBatchingWindowInSeconds),
                                                                                stream: m.StartingPosition != nil)
            if m.StartingPosition != nil { try streamSettings(&m, input, create: false) }
            if let e = input["Enabled"] as? Bool { m.Enabled = e }
            if let t = input["FunctionResponseTypes"] as? [String] { m.FunctionResponseTypes = t }
            if input["FilterCriteria"] != nil { m.FilterPatterns = try Self.filterPatterns(input) }
            if let fn = input["FunctionName"] as? String {
                let (a, rg, n, q) = try Self.parseName(fn, r)
                m.FunctionArn = Self.functionARN(account: a, region: rg, name: n) + (q.map { ":\($0)" } ?? "")
            }
            m.State = m.Enabled ? "Enabled" : "Disabled"
            m.LastModified = clock.now()
            try Self.saveMapping(m, db)
            return m
        }
        if updated.Enabled { startPoller(uuid) } else { pollers.stop(uuid) }
        var out = updated.json
        out["State"] = "Updating"
        return RestJSON.response(out, status: .accepted)
    }

    func deleteEventSourceMapping(_ r: LambdaRequest) throws -> AWSResponse {
        let uuid = r.labels["UUID"] ?? ""
        let m = try store.db.writeNow { db -> EventSourceMapping in
            guard let m = try Self.mapping(uuid, db), m.account == r.account else { throw mappingNotFound(uuid) }
            try db.execute(sql: "DELETE FROM event_source_mapping WHERE uuid = ?", arguments: [uuid])
            return m
        }
        pollers.stop(uuid)
        var out = m.json
        out["State"] = "Deleting"
        return RestJSON.response(out, status: .accepted)
    }

    /// Start the pollers of every enabled mapping (at start).
    /// Pollers of enabled mappings start again (after the port is bound; none without `lambda.sqlite`).
    public func resumePollers() throws {
        guard store.database.hasContent else { return }
        let ids = try store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT doc FROM event_source_mapping")
                .compactMap { try? JSONDecoder().decode(EventSourceMapping.self, from: Data($0.utf8)) }
                .filter(\.Enabled).map(\.UUID)
        }
        for id in ids { startPoller(id) }
    }

    func startPoller(_ uuid: String) {
        let service = self
        pollers.start(uuid) { await service.pollMapping(uuid) }
    }
}
