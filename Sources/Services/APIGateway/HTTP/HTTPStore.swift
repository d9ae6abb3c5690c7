import Core
import Foundation
import GRDB

/// Rows of `http_record`: an API is `(api: id, kind: "api", id: id)`, its children `(api, kind, id)`, a deployment's
/// snapshot `(api, "snapshot", deploymentId)`. Members starting with `_` (the owner's account and region) are kept
/// but never sent.
enum HTTPStore {
    typealias Record = [String: Any]

    static func decode(_ data: Data) -> Record {
        (try? JSONSerialization.jsonObject(with: data) as? Record) ?? [:]
    }

    static func encode(_ record: Record) -> Data {
        Data(JSONWriter.encode(record, sortedKeys: true).readableBytesView)
    }

    static func get(_ api: String, _ kind: String, _ id: String, _ db: Database) throws -> Record? {
        try Data.fetchOne(db, sql: "SELECT body FROM http_record WHERE api = ? AND kind = ? AND id = ?", arguments: [api, kind, id])
            .map(decode)
    }

    static func all(_ api: String, _ kind: String, _ db: Database) throws -> [Record] {
        try Data.fetchAll(db, sql: "SELECT body FROM http_record WHERE api = ? AND kind = ? ORDER BY seq", arguments: [api, kind])
            .map(decode)
    }

    static func allAPIs(_ db: Database) throws -> [Record] {
        try Data.fetchAll(db, sql: "SELECT body FROM http_record WHERE kind = 'api' ORDER BY seq").map(decode)
    }

    /// Insert or replace; a new row goes after every other (the listing order).
    static func put(_ api: String, _ kind: String, _ id: String, _ record: Record, _ db: Database) throws {
        let existing = try Int64.fetchOne(db, sql: "SELECT seq FROM http_record WHERE api = ? AND kind = ? AND id = ?", arguments: [api, kind, id])
        let seq = try existing ?? (Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM http_record") ?? 1)
        try db.execute(sql: "INSERT OR REPLACE INTO http_record (api, kind, id, seq, body) VALUES (?, ?, ?, ?, ?)",
                       arguments: [api, kind, id, seq, encode(record)])
    }

    static func delete(_ api: String, _ kind: String, _ id: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM http_record WHERE api = ? AND kind = ? AND id = ?", arguments: [api, kind, id])
    }

    static func deleteAPI(_ api: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM http_record WHERE api = ?", arguments: [api])
    }

    /// Whether the id is taken by an HTTP API (REST APIs check theirs: the service asks this family first).
    static func exists(_ api: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM http_record WHERE api = ? AND kind = 'api'", arguments: [api]) ?? false
    }

    /// The record as sent: without the `_` members.
    static func wire(_ record: Record) -> Record { record.filter { !$0.key.hasPrefix("_") } }
}
