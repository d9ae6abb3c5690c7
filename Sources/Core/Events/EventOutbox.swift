public import GRDB
import Foundation
public import Logging
import Synchronization

/// One event message for another service (an S3 notification, a Lambda destination record), built once when the
/// change that causes it is written: a re-delivery after a restart sends the same bytes.
public struct OutboxMessage: Sendable, Equatable {
    public enum Kind: String, Sendable { case queue, function }
    public var kind: Kind
    /// The queue's or the function's ARN.
    public var target: String
    public var body: String
    public var principal: ServicePrincipal
    public var traceHeader: String?
    /// Message attributes (queues only: Lambda's dead-letter messages).
    public var attributes: [String: EventMessageAttribute]

    public init(_ kind: Kind, target: String, body: String, principal: ServicePrincipal, traceHeader: String? = nil,
                attributes: [String: EventMessageAttribute] = [:]) {
        self.kind = kind
        self.target = target
        self.body = body
        self.principal = principal
        self.traceHeader = traceHeader
        self.attributes = attributes
    }
}

extension EventMessageAttribute: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.dataType == b.dataType && a.value == b.value }
}

/// The transactional outbox of one service database: event messages are inserted in the same transaction as the
/// change that causes them, delivered after the commit (by the writer itself, so an acknowledged write has
/// already reached its destinations, as before), and deleted once the sink has taken them (in batches: no extra
/// transaction per event). After a crash the rows still there are delivered again when `start` runs: at least once,
/// as AWS promises.
///
/// A sink that refuses a message for good (a 4xx AWSError: the queue or function is gone, the message too large)
/// drops it, as AWS drops such events; anything else (the sink not wired yet, a database error) is retried with a
/// growing delay, for up to `maximumAge` seconds of the emulator's clock.
public final class EventOutbox: Sendable {
    public static let maximumAge: Double = 6 * 3600

    private let database: LazyDatabase
    private var db: DatabasePool { get throws { try database.pool() } }
    private let table: String
    private let clock: EmulatorClock
    private let logger: Logger
    private let queues: (any QueueEventSink)?
    private let functions: (any FunctionEventSink)?

    private struct State {
        /// Rows being delivered, or delivered and waiting for their batched delete: nobody else may send them.
        var claimed: Set<Int64> = []
        var delivered: [Int64] = []
        /// Bumped whenever rows may wait for the loop (a failed delivery, a start); the loop looks while the last
        /// scan that found nothing waiting saw an older value.
        var marks = 1
        var scanned = 0
        var task: Task<Void, Never>?
    }
    private let state = Mutex(State())

    public convenience init(db: DatabasePool, table: String = "event_outbox", clock: EmulatorClock, logger: Logger,
                            queues: (any QueueEventSink)?, functions: (any FunctionEventSink)?) {
        self.init(database: LazyDatabase(opened: db), table: table, clock: clock, logger: logger, queues: queues, functions: functions)
    }

    /// `database`: the owning service's, opened by the outbox only when it has rows to look at (`hasContent`).
    public init(database: LazyDatabase, table: String = "event_outbox", clock: EmulatorClock, logger: Logger,
                queues: (any QueueEventSink)?, functions: (any FunctionEventSink)?) {
        self.database = database
        self.table = table
        self.clock = clock
        self.logger = logger
        self.queues = queues
        self.functions = functions
    }

    /// The table, for the owning service's migration.
    public static func createTable(_ db: Database, name: String = "event_outbox") throws {
        try db.execute(sql: """
            CREATE TABLE \(name) (
                id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a batched delete must not hit a newer row
                kind TEXT NOT NULL,
                target TEXT NOT NULL,
                body TEXT NOT NULL,
                principal TEXT NOT NULL,
                trace TEXT,
                attributes TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                created REAL NOT NULL,
                due REAL NOT NULL
            )
            """)
    }

    /// Messages written by one transaction, to deliver once it committed.
    public struct Staged: Sendable {
        public fileprivate(set) var entries: [(id: Int64, message: OutboxMessage)] = []
        public init() {}
        public var isEmpty: Bool { entries.isEmpty }
        public mutating func append(_ other: Staged) { entries += other.entries }
    }

    /// Insert messages inside the caller's transaction. They are reserved for the caller's `deliver` (the loop
    /// never sends them meanwhile); a rollback releases them with the rows.
    public func stage(_ messages: [OutboxMessage], _ db: Database) throws -> Staged {
        var staged = Staged()
        if messages.isEmpty { return staged }
        let now = clock.now()
        let insert = try db.cachedStatement(sql: """
            INSERT INTO \(table) (kind, target, body, principal, trace, attributes, created, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for m in messages {
            try insert.execute(arguments: [m.kind.rawValue, m.target, m.body, m.principal.rawValue, m.traceHeader,
                                           Self.encode(m.attributes), now, now])
            staged.entries.append((db.lastInsertedRowID, m))
        }
        let ids = staged.entries.map(\.id)
        state.withLock { s in for id in ids { s.claimed.insert(id) } }
        db.afterNextTransaction(onCommit: { _ in }, onRollback: { [self] _ in
            state.withLock { s in for id in ids { s.claimed.remove(id) } }
        })
        return staged
    }

    /// Send what a committed transaction staged, in order. Call after the commit, before answering.
    public func deliver(_ staged: Staged) {
        for (id, message) in staged.entries { send(id: id, message, attempts: 0, created: clock.now()) }
    }

    /// One delivery: on success (or a refusal for good) the row is queued for deletion; otherwise it is
    /// rescheduled and released (and false is returned).
    @discardableResult
    private func send(id: Int64, _ m: OutboxMessage, attempts: Int, created: Double) -> Bool {
        do {
            switch m.kind {
            case .queue:
                guard let queues else { throw AWSError("QueueDoesNotExist", "SQS is not served", status: .badRequest) }
                try queues.deliver(m.body, toQueueARN: m.target, from: m.principal, traceHeader: m.traceHeader, attributes: m.attributes)
            case .function:
                guard let functions else { throw AWSError("ResourceNotFoundException", "Lambda is not served", status: .notFound) }
                try functions.invokeAsync(functionARN: m.target, payload: Array(m.body.utf8), from: m.principal)
            }
            state.withLock { $0.delivered.append(id) }
            return true
        } catch let error as AWSError where error.status.code < 500 {
            // S3 loses such events quietly, as AWS does; a lost Lambda destination record is worth a warning.
            logger.log(level: m.principal == .s3 ? .debug : .warning, "event not delivered",
                       metadata: ["target": "\(m.target)", "error": "\(error)"])
            state.withLock { $0.delivered.append(id) }
            return true
        } catch {
            let now = clock.now()
            if now - created > Self.maximumAge {
                logger.warning("event dropped after retrying", metadata: ["target": "\(m.target)", "error": "\(error)"])
                state.withLock { $0.delivered.append(id) }
                return true
            }
            let delay = Self.retryDelay(attempts: attempts + 1)
            logger.info("event delivery failed; retrying", metadata: ["target": "\(m.target)", "in": "\(delay)s", "error": "\(error)"])
            let table = table
            _ = try? db.writeNow { db in
                try db.execute(sql: "UPDATE \(table) SET attempts = ?, due = ? WHERE id = ?", arguments: [attempts + 1, now + delay, id])
            }
            state.withLock { s in s.claimed.remove(id); s.marks += 1 }
            return false
        }
    }

    /// 1, 2, 4… seconds, at most a minute.
    public static func retryDelay(attempts: Int) -> Double { min(60, Double(1 << min(max(attempts - 1, 0), 6))) }

    // MARK: Background

    /// Start the loop that deletes delivered rows in batches and sends the rows due for a retry, starting with those
    /// left from before a restart. Call once the server listens (it does not delay start-up).
    public func start() {
        let old = state.withLock { s -> Task<Void, Never>? in
            defer {
                s.marks += 1
                s.task = Task.detached(priority: .utility) { [self] in await run() }
            }
            return s.task
        }
        old?.cancel()
    }

    /// Stop the loop and delete what was delivered (a clean stop re-delivers nothing at the next start).
    public func stop() {
        state.withLock { s in s.task?.cancel(); s.task = nil }
        flush()
    }

    /// Before a restore (the gate held exclusively, so no writer holds rows): stop the loop, delete what was
    /// delivered from the state being replaced, and forget every claim: the restored rows are all the loop's again.
    public func stopForRestore() {
        stop()
        state.withLock { s in s.claimed.removeAll(); s.delivered.removeAll() }
    }

    private func run() async {
        var lastScan = -Double.infinity
        while !Task.isCancelled {
            // Busy (events being delivered): delete every 50 ms, which bounds what a crash sends twice; idle: wake
            // less often.
            let busy = state.withLock { !$0.delivered.isEmpty || !$0.claimed.isEmpty }
            // Under the snapshot gate: a retry's delivery into SQS or Lambda and the row's delete fall on the same
            // side of a save or restore.
            await SnapshotGate.background {
                if Task.isCancelled { return }  // stopped (a restore) while waiting for the gate
                flush()
                let now = clock.now()
                if state.withLock({ $0.marks != $0.scanned }), now - lastScan >= 1 || now < lastScan {
                    lastScan = now
                    deliverDue()
                }
            }
            try? await Task.sleep(for: .milliseconds(busy ? 50 : 250))
        }
        await SnapshotGate.background { flush() }
    }

    /// Delete delivered rows, one transaction for all of them.
    public func flush() {
        let ids = state.withLock { s -> [Int64] in defer { s.delivered.removeAll() }; return s.delivered }
        if ids.isEmpty { return }
        let table = table
        do {
            try db.writeNow { db in
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    try db.execute(sql: "DELETE FROM \(table) WHERE id IN (\(marks))", arguments: StatementArguments(chunk))
                }
            }
            state.withLock { s in for id in ids { s.claimed.remove(id) } }
        } catch {
            // Kept claimed: tried again at the next flush.
            state.withLock { $0.delivered += ids }
        }
    }

    /// Send every row due now that no writer holds, oldest first (per bucket, the order the writes committed in).
    /// The table is small (rows live until the next flush), so the scan reads it whole.
    public func deliverDue() {
        let now = clock.now()
        let table = table
        let mark = state.withLock { $0.marks }
        // A database not yet created has no rows left by an earlier run: nothing to open for.
        guard database.hasContent else {
            state.withLock { $0.scanned = max($0.scanned, mark) }
            return
        }
        guard let rows = try? db.readNow({ db in
            try Row.fetchAll(db, sql: "SELECT id, kind, target, body, principal, trace, attributes, attempts, created, due FROM \(table) ORDER BY id LIMIT 1000")
        }) else { return }
        var waiting = rows.count == 1000
        var sent = 0  // delivered, or dropped for good
        for row in rows {
            let id: Int64 = row[0]
            if (row[9] as Double) > now {
                waiting = true
                continue
            }
            guard state.withLock({ $0.claimed.insert(id).inserted }) else { continue }
            guard let kind = OutboxMessage.Kind(rawValue: row[1]), let principal = ServicePrincipal(rawValue: row[4]) else {
                state.withLock { $0.delivered.append(id) }
                continue
            }
            let m = OutboxMessage(kind, target: row[2], body: row[3], principal: principal, traceHeader: row[5],
                                  attributes: Self.decode(row[6]))
            if send(id: id, m, attempts: row[7], created: row[8]) { sent += 1 } else { waiting = true }
        }
        flush()
        if sent > 0 { logger.notice("delivered events left from before a restart or a failed attempt", metadata: ["count": "\(sent)", "outbox": "\(table)"]) }
        // Rows held by writers are theirs to deliver (a failure there bumps `marks` again).
        if !waiting { state.withLock { $0.scanned = max($0.scanned, mark) } }
    }

    /// Rows not yet deleted (delivered or not).
    public func count() throws -> Int {
        try db.readNow { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }

    static func encode(_ attributes: [String: EventMessageAttribute]) -> String? {
        if attributes.isEmpty { return nil }
        let plain = attributes.mapValues { [$0.dataType, $0.value] }
        return (try? JSONEncoder().encode(plain)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func decode(_ text: String?) -> [String: EventMessageAttribute] {
        guard let text, let plain = try? JSONDecoder().decode([String: [String]].self, from: Data(text.utf8)) else { return [:] }
        return plain.compactMapValues { $0.count == 2 ? EventMessageAttribute($0[0], $0[1]) : nil }
    }
}
