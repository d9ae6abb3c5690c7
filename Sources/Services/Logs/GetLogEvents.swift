import Core
import Foundation
import GRDB

/// GetLogEvents: one stream read forwards or backwards from a position, in pages of up to `limit` events and 1 MB.
/// Without a token it reads the newest events (or the oldest with startFromHead). The forward token names the
/// last event returned and the backward token the gap before the first, so a reader that reached the end gets the
/// token it sent back: AWS's signal that there is nothing more for now.
extension LogsService {
    /// What one read of a stream returned, and where the next reads start.
    struct StreamPage {
        var events: [StoredEvent]
        var forward: StreamToken
        var backward: StreamToken
    }

    /// The read GetLogEvents makes once the request is understood. `from` nil means no token: the oldest events with
    /// `startFromHead`, else the newest. `lower` is inclusive, `upper` exclusive.
    static func readStream(_ streamID: Int64, from token: StreamToken?, startFromHead: Bool, lower: Int64, upper: Int64,
                           limit: Int, maxBytes: Int = maxBatchBytes, _ db: Database) throws -> StreamPage {
        let forward = token?.forward ?? startFromHead
        let end = EventPosition(timestamp: .max, id: .max)
        let pivot = token?.position ?? (forward ? .start : end)
        let rows: [Row]
        if forward {
            rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(LogStore.eventColumns) FROM event
                WHERE stream_id = ? AND timestamp >= ? AND timestamp < ? AND timestamp >= ? AND (timestamp > ? OR id > ?)
                ORDER BY timestamp, id LIMIT ?
                """), arguments: [streamID, lower, upper, pivot.timestamp, pivot.timestamp, pivot.id, limit])
        } else {
            rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(LogStore.eventColumns) FROM event
                WHERE stream_id = ? AND timestamp >= ? AND timestamp < ? AND timestamp <= ? AND (timestamp < ? OR id <= ?)
                ORDER BY timestamp DESC, id DESC LIMIT ?
                """), arguments: [streamID, lower, upper, pivot.timestamp, pivot.timestamp, pivot.id, limit])
        }
        // Rows come nearest-first: the byte budget keeps the ones closest to where the read starts.
        var events: [StoredEvent] = []
        var bytes = 0
        for row in rows {
            let e = LogStore.event(row)
            bytes += e.message.utf8.count + eventOverhead
            if bytes > maxBytes && !events.isEmpty { break }
            events.append(e)
        }
        if !forward { events.reverse() }
        // With nothing read and no token, both tokens point at the start of the stream, so reading forward from
        // there later sees every event written since.
        let empty = token?.position ?? .start
        return StreamPage(
            events: events,
            forward: StreamToken(forward: true, position: events.last?.position ?? empty),
            backward: StreamToken(forward: false, position: events.first.map { EventPosition.before($0.position) } ?? empty))
    }

    func getLogEvents(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let streamName = try input.required("logStreamName")
        try LogsNames.validateStream(streamName)
        let startTime = try input.timestamp("startTime")
        let endTime = try input.timestamp("endTime")
        let limit = try input.limit(max: 10_000, default: 10_000)
        let startFromHead = try input.bool("startFromHead") ?? false
        let token = try input.nextToken().map(StreamToken.parse)
        let now = clock.now()
        return try store.db.readNow { db in
            let g = try identifiedGroup(input, r, db)
            let s = try stream(streamName, in: g, db)
            let page = try Self.readStream(s.id, from: token, startFromHead: startFromHead,
                                           lower: max(startTime ?? 0, g.retentionCutoff(now: now)), upper: endTime ?? .max,
                                           limit: limit, db)
            return [
                "events": page.events.map { ["timestamp": $0.timestamp, "message": $0.message, "ingestionTime": $0.ingestion] },
                "nextForwardToken": page.forward.text,
                "nextBackwardToken": page.backward.text,
            ]
        }
    }
}
