import Core
import Foundation
import GRDB

/// CreateLogStream, DeleteLogStream and DescribeLogStreams.
extension LogsService {
    func createLogStream(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let groupName = try input.required("logGroupName")
        let name = try input.required("logStreamName")
        try LogsNames.validateGroup(groupName)
        try LogsNames.validateStream(name)
        let now = nowMillis
        try store.db.writeNow { db in
            let g = try group(named: groupName, r, db)
            if try LogStore.stream(group: g.id, name: name, db) != nil { throw LogsError.streamExists() }
            _ = try LogStore.insertStream(group: g.id, name: name, created: now, db)
        }
        return [:]
    }

    func deleteLogStream(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let groupName = try input.required("logGroupName")
        let name = try input.required("logStreamName")
        try LogsNames.validateGroup(groupName)
        try LogsNames.validateStream(name)
        try store.db.writeNow { db in
            let g = try group(named: groupName, r, db)
            try LogStore.deleteStream(try stream(name, in: g, db), db)
        }
        return [:]
    }

    /// A stream as DescribeLogStreams lists it: event times once it has events; storedBytes is always 0 for
    /// streams, as AWS reports it since 2019.
    static func describe(_ s: LogStream, in g: LogGroup) -> [String: Any] {
        var out: [String: Any] = [
            "logStreamName": s.name, "creationTime": s.created, "storedBytes": 0,
            "arn": "\(g.arn):log-stream:\(s.name)",
        ]
        if let t = s.firstEvent { out["firstEventTimestamp"] = t }
        if let t = s.lastEvent { out["lastEventTimestamp"] = t }
        if let t = s.lastIngestion { out["lastIngestionTime"] = t }
        if s.uploadSequence > 0 { out["uploadSequenceToken"] = s.sequenceToken }
        return out
    }

    func describeLogStreams(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let prefix = try input.string("logStreamNamePrefix")
        if let prefix { try LogsNames.validatePrefix(prefix, member: "logStreamNamePrefix") }
        let orderBy = try input.string("orderBy") ?? "LogStreamName"
        guard orderBy == "LogStreamName" || orderBy == "LastEventTime" else {
            throw LogsError.validation(orderBy, at: "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
        }
        if orderBy == "LastEventTime" && prefix != nil {
            throw LogsError.invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        }
        let descending = try input.bool("descending") ?? false
        let limit = try input.limit(max: 50, default: 50)
        let token = try input.nextToken()
        return try store.db.readNow { db in
            let g = try identifiedGroup(input, r, db)
            var streams = try LogStore.streams(group: g.id, db)
            if let prefix { streams = streams.filter { $0.name.hasPrefix(prefix) } }
            if orderBy == "LastEventTime" {
                streams.sort { ($0.lastEvent ?? -1, $0.name) < ($1.lastEvent ?? -1, $1.name) }
            }
            if descending { streams.reverse() }
            let (page, next) = try Self.page(streams, token: token, limit: limit)
            var out: [String: Any] = ["logStreams": page.map { Self.describe($0, in: g) }]
            if let next { out["nextToken"] = next }
            return out
        }
    }
}
