import Core
import Foundation
import GRDB
import Synchronization

/// Every ELBv2 resource lives in memory (the data plane reads it per request) and, as one JSON document per ARN, in
/// `elbv2.sqlite`: each change is written through before it is answered.
final class ELBv2Store: Sendable {
    struct State: Sendable {
        var loadBalancers: [String: LoadBalancer] = [:]
        var targetGroups: [String: TargetGroup] = [:]
        var listeners: [String: Listener] = [:]
        var rules: [String: Rule] = [:]
    }

    static func path(_ directory: String) -> String { directory + "/elbv2.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: "CREATE TABLE resources (arn TEXT PRIMARY KEY, kind TEXT NOT NULL, document BLOB NOT NULL)")
        }
        return m
    }

    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }
    /// Nil until the first use reads it (`loadIfNeeded`).
    private let state = Mutex<State?>(nil)

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    /// Read the state on first use (the listeners' start after the port is bound, or the first request).
    func loadIfNeeded() throws {
        if state.withLock({ $0 != nil }) { return }
        try load()
    }

    /// Read everything from the database again (a first use, a snapshot restore); nothing to read without a database.
    func load() throws {
        var s = State()
        guard database.hasContent else { return state.withLock { $0 = s } }
        let decoder = JSONDecoder()
        try db.readNow { db in
            for row in try Row.fetchAll(db, sql: "SELECT kind, document FROM resources") {
                let kind: String = row[0]
                let data: Data = row[1]
                switch kind {
                case "lb": if let v = try? decoder.decode(LoadBalancer.self, from: data) { s.loadBalancers[v.arn] = v }
                case "tg": if let v = try? decoder.decode(TargetGroup.self, from: data) { s.targetGroups[v.arn] = v }
                case "listener": if let v = try? decoder.decode(Listener.self, from: data) { s.listeners[v.arn] = v }
                case "rule": if let v = try? decoder.decode(Rule.self, from: data) { s.rules[v.arn] = v }
                default: break
                }
            }
        }
        state.withLock { $0 = s }
    }

    /// The state (empty if the database cannot be read: the error is logged, and `update` throws it).
    var snapshot: State {
        try? loadIfNeeded()
        return state.withLock { $0 } ?? State()
    }

    /// Change the state under the lock; what `body` changed is written in one transaction before the lock is released
    /// (a failed write leaves memory as it was).
    func update<T>(_ body: (inout State) throws -> T) throws -> T {
        try loadIfNeeded()
        return try state.withLock { s in
            let old = s ?? State()
            var copy = old
            let result = try body(&copy)
            try persist(old: old, new: copy)
            s = copy
            return result
        }
    }

    private func persist(old: State, new: State) throws {
        let encoder = JSONEncoder()
        var writes: [(String, String, Data)] = []
        var deletes: [String] = []
        func diff<V: Codable>(_ kind: String, _ a: [String: V], _ b: [String: V]) throws {
            for (k, v) in b {
                let data = try encoder.encode(v)
                if let o = a[k], let od = try? encoder.encode(o), od == data { continue }
                writes.append((k, kind, data))
            }
            for k in a.keys where b[k] == nil { deletes.append(k) }
        }
        try diff("lb", old.loadBalancers, new.loadBalancers)
        try diff("tg", old.targetGroups, new.targetGroups)
        try diff("listener", old.listeners, new.listeners)
        try diff("rule", old.rules, new.rules)
        guard !writes.isEmpty || !deletes.isEmpty else { return }
        try db.writeNow { db in
            for (arn, kind, data) in writes {
                try db.execute(sql: "INSERT OR REPLACE INTO resources (arn, kind, document) VALUES (?, ?, ?)", arguments: [arn, kind, data])
            }
            for arn in deletes { try db.execute(sql: "DELETE FROM resources WHERE arn = ?", arguments: [arn]) }
        }
    }

    func reset() throws {
        guard database.hasContent else { return state.withLock { $0 = State() } }
        try db.writeNow { db in try db.execute(sql: "DELETE FROM resources") }
        state.withLock { $0 = State() }
    }
}
