import Core
import Foundation
import GRDB

/// PutLogEvents with AWS's batch rules: chronological order, 1 MiB per batch (messages in UTF-8 plus 26 bytes each),
/// events more than 2 hours ahead or 14 days behind (or behind the group's retention) set aside and reported in
/// `rejectedLogEventsInfo`, the rest spanning at most 24 hours. Sequence tokens are ignored, as AWS does since 2023.
extension LogsService {
    static let maxBatchBytes = 1_048_576
    static let eventOverhead = 26
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    /// Which events of a chronological batch AWS keeps, and what it says about the others.
    struct BatchVerdict: Equatable {
        var accepted: Range<Int>
        var tooNewStart: Int?
        var tooOldEnd: Int?
        var expiredEnd: Int?

        var rejectedInfo: [String: Any]? {
            var info: [String: Any] = [:]
            if let i = tooNewStart { info["tooNewLogEventStartIndex"] = i }
            if let i = tooOldEnd { info["tooOldLogEventEndIndex"] = i }
            if let i = expiredEnd { info["expiredLogEventEndIndex"] = i }
            return info.isEmpty ? nil : info
        }
    }

    /// The end indexes are exclusive (the count of rejected events at the start), the start index inclusive, as
    /// RejectedLogEventsInfo documents them.
    static func verdict(_ timestamps: [Int64], now: Int64, retentionCutoff: Int64) throws -> BatchVerdict {
        let tooOld = timestamps.prefix(while: { $0 < now - 14 * day }).count
        let expired = retentionCutoff > 0 ? timestamps.prefix(while: { $0 < retentionCutoff }).count : 0
        let tooNew = timestamps.firstIndex(where: { $0 > now + 2 * hour })
        let start = max(tooOld, expired)
        let end = max(start, tooNew ?? timestamps.count)
        if end > start, timestamps[end - 1] - timestamps[start] > day {
            throw LogsError.invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
        }
        return BatchVerdict(accepted: start..<end, tooNewStart: tooNew, tooOldEnd: tooOld > 0 ? tooOld : nil,
                            expiredEnd: expired > 0 ? expired : nil)
    }

    /// `logEvents` as the request has them, checked for AWS's per-event and per-batch rules.
    static func inputEvents(_ input: Input) throws -> [Core.LogEvent] {
        guard let raw = try input.objects("logEvents") else {
            throw LogsError.validation(nil, at: "logEvents", "Member must not be null")
        }
        if raw.isEmpty { throw LogsError.validation("[]", at: "logEvents", "Member must have length greater than or equal to 1") }
        if raw.count > 10_000 {
            throw LogsError.invalidParameter(
                "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000")
        }
        var events: [Core.LogEvent] = []
        events.reserveCapacity(raw.count)
        var batchBytes = 0
        for (i, e) in raw.enumerated() {
            let member = "logEvents.\(i + 1).member"
            guard let ts = e["timestamp"] as? NSNumber else { throw LogsError.validation(nil, at: "\(member).timestamp", "Member must not be null") }
            guard let message = e["message"] as? String else { throw LogsError.validation(nil, at: "\(member).message", "Member must not be null") }
            if message.isEmpty {
                throw LogsError.validation("", at: "\(member).message", "Member must have length greater than or equal to 1")
            }
            let timestamp = ts.int64Value
            if timestamp < 0 {
                throw LogsError.validation(String(timestamp), at: "\(member).timestamp", "Member must have value greater than or equal to 0")
            }
            if let previous = events.last, timestamp < previous.timestamp {
                throw LogsError.invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
            }
            let size = message.utf8.count + eventOverhead
            if size > maxBatchBytes { throw LogsError.invalidParameter("Log event too large: \(size) bytes exceeds limit of \(maxBatchBytes)") }
            batchBytes += size
            events.append(Core.LogEvent(timestamp: timestamp, message: message))
        }
        if batchBytes > maxBatchBytes {
            throw LogsError.invalidParameter("Upload too large: \(batchBytes) bytes exceeds limit of \(maxBatchBytes)")
        }
        return events
    }

    func putLogEvents(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let groupName = try input.required("logGroupName")
        let streamName = try input.required("logStreamName")
        try LogsNames.validateGroup(groupName)
        try LogsNames.validateStream(streamName)
        let events = try Self.inputEvents(input)
        let now = nowMillis
        let nowSeconds = clock.now()
        return try store.db.writeNow { db in
            let g = try group(named: groupName, r, db)
            let s = try stream(streamName, in: g, db)
            let verdict = try Self.verdict(events.map(\.timestamp), now: now, retentionCutoff: g.retentionCutoff(now: nowSeconds))
            let updated = try LogStore.append(Array(events[verdict.accepted]), to: s, ingestion: now, db)
            var out: [String: Any] = ["nextSequenceToken": updated.sequenceToken]
            if let info = verdict.rejectedInfo { out["rejectedLogEventsInfo"] = info }
            return out
        }
    }
}
