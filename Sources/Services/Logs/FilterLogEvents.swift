import Core
import Foundation
import GRDB

/// FilterLogEvents: the events of a group (or of some of its streams) in timestamp order across streams, matched
/// against a filter pattern. A page ends at `limit` events, 1 MB, or after scanning `maxScan` events; a nextToken
/// is given only while more events may match. `searchedLogStreams` is the empty list AWS has answered since 2020.
extension LogsService {
    static let maxScan = 100_000

    struct FilterPage {
        var events: [StoredEvent]
        /// Where the next page starts, when there may be more.
        var next: EventPosition?
    }

    /// `streams` nil reads every stream of the group; `lower` and `upper` are inclusive.
    static func filter(group: Int64, streams: [Int64]?, after: EventPosition, lower: Int64, upper: Int64, pattern: FilterPattern,
                       limit: Int, maxBytes: Int = maxBatchBytes, maxScan: Int = maxScan, _ db: Database) throws -> FilterPage {
        if let streams, streams.isEmpty { return FilterPage(events: [], next: nil) }
        var sql = """
            SELECT \(LogStore.eventColumns) FROM event
            WHERE group_id = ? AND timestamp >= ? AND timestamp <= ? AND timestamp >= ? AND (timestamp > ? OR id > ?)
            """
        var arguments: StatementArguments = [group, lower, upper, after.timestamp, after.timestamp, after.id]
        if let streams {
            sql += " AND stream_id IN (\(streams.map { _ in "?" }.joined(separator: ",")))"
            arguments += StatementArguments(streams)
        }
        sql += " ORDER BY timestamp, id"
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        var events: [StoredEvent] = []
        var bytes = 0
        var scanned = 0
        while let row = try cursor.next() {
            let e = LogStore.event(row)
            scanned += 1
            if pattern.matches(e.message) {
                bytes += e.message.utf8.count + eventOverhead
                // A full page with another match behind it: the next page starts after the last event kept.
                if events.count == limit || (bytes > maxBytes && !events.isEmpty) {
                    return FilterPage(events: events, next: events.last?.position)
                }
                events.append(e)
            }
            if scanned >= maxScan { return FilterPage(events: events, next: e.position) }
        }
        return FilterPage(events: events, next: nil)
    }

    func filterLogEvents(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let names = try input.strings("logStreamNames")
        let prefix = try input.string("logStreamNamePrefix")
        if names != nil && prefix != nil {
            throw LogsError.invalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
        }
        if let names {
            if names.isEmpty || names.count > 100 {
                throw LogsError.validation(nil, at: "logStreamNames",
                                           names.isEmpty ? "Member must have length greater than or equal to 1" : "Member must have length less than or equal to 100")
            }
            for n in names { try LogsNames.validateStream(n, member: "logStreamNames") }
        }
        if let prefix { try LogsNames.validatePrefix(prefix, member: "logStreamNamePrefix") }
        let startTime = try input.timestamp("startTime")
        let endTime = try input.timestamp("endTime")
        let limit = try input.limit(max: 10_000, default: 10_000)
        let patternText = try input.string("filterPattern")
        if let p = patternText, p.count > 1024 {
            throw LogsError.validation(p, at: "filterPattern", "Member must have length less than or equal to 1024")
        }
        let pattern = try FilterPattern.parse(patternText)
        let after = try input.nextToken().map(FilterToken.parse) ?? .start
        let now = clock.now()
        return try store.db.readNow { db in
            let g = try identifiedGroup(input, r, db)
            let all = try LogStore.streams(group: g.id, db)
            let streamNames = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.name) })
            var selected: [Int64]?
            if let names {
                let wanted = Set(names)
                selected = all.filter { wanted.contains($0.name) }.map(\.id)
            } else if let prefix {
                selected = all.filter { $0.name.hasPrefix(prefix) }.map(\.id)
            }
            let page = try Self.filter(group: g.id, streams: selected, after: after,
                                       lower: max(startTime ?? 0, g.retentionCutoff(now: now)), upper: endTime ?? .max,
                                       pattern: pattern, limit: limit, db)
            var out: [String: Any] = [
                "events": page.events.map { e -> [String: Any] in
                    ["logStreamName": streamNames[e.streamID] ?? "", "timestamp": e.timestamp, "message": e.message,
                     "ingestionTime": e.ingestion, "eventId": e.position.digits]
                },
                "searchedLogStreams": [Any](),
            ]
            if let next = page.next { out["nextToken"] = FilterToken.text(next) }
            return out
        }
    }
}
