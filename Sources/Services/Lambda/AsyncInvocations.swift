import Core
import Foundation
import GRDB
import Synchronization

/// One queued asynchronous invocation (InvocationType Event, S3 notifications, Lambda destinations), as stored in
/// `async_invocation` until it succeeds, runs out of retries or gets too old. Times are on the emulator's clock.
struct AsyncInvocation: Sendable {
    var id: Int64
    var account: String
    var region: String
    var function: String
    var qualifier: String?
    var requestID: String
    var payload: [UInt8]
    var clientContext: String?
    var attempts: Int
    var received: Double
    /// The last attempt's function error and answer (a failure record carries them).
    var lastError: String?
    var lastResponse: [UInt8]?

    init(id: Int64, account: String, region: String, function: String, qualifier: String?, requestID: String, payload: [UInt8],
         clientContext: String?, attempts: Int, received: Double) {
        self.id = id; self.account = account; self.region = region; self.function = function; self.qualifier = qualifier
        self.requestID = requestID; self.payload = payload; self.clientContext = clientContext; self.attempts = attempts
        self.received = received
    }

    static let columns = "id, account, region, function, qualifier, request_id, payload, client_context, attempts, received, last_error, last_response"

    init(row: Row) {
        id = row[0]; account = row[1]; region = row[2]; function = row[3]; qualifier = row[4]; requestID = row[5]
        payload = [UInt8](row[6] as Data); clientContext = row[7]; attempts = row[8]; received = row[9]
        lastError = row[10]; lastResponse = (row[11] as Data?).map { [UInt8]($0) }
    }
}

/// Wakes the dispatcher when an invocation is queued, and keeps the ids being attempted so none runs twice.
final class AsyncDispatcher: Sendable {
    private struct State {
        var running: Set<Int64> = []
        var woken = false
        var waiter: CheckedContinuation<Void, Never>?
        var task: Task<Void, Never>?
    }
    private let state = Mutex(State())

    func start(_ body: @escaping @Sendable () async -> Void) {
        let old = state.withLock { s -> Task<Void, Never>? in
            defer { s.task = Task { await body() } }
            return s.task
        }
        old?.cancel()
    }

    func stop() {
        let (task, waiter) = state.withLock { s in
            defer { s.task = nil; s.waiter = nil }
            return (s.task, s.waiter)
        }
        task?.cancel()
        waiter?.resume()
    }

    func claim(_ id: Int64) -> Bool { state.withLock { $0.running.insert(id).inserted } }
    func finish(_ id: Int64) { _ = state.withLock { $0.running.remove(id) } }
    var running: Set<Int64> { state.withLock { $0.running } }

    func wake() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.waiter = nil }
            if s.waiter == nil { s.woken = true }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Wait for `wake()` or `seconds`, whichever comes first (a wake before the wait is not lost).
    func wait(seconds: Double) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.woken || Task.isCancelled { s.woken = false; return true }
                s.waiter = c
                return false
            }
            if now { return c.resume() }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                self.wake()
            }
        }
    }
}

extension LambdaService {
    /// Store an invocation to run asynchronously and wake the dispatcher; returns its request id.
    @discardableResult
    func enqueueAsync(_ f: LambdaFunction, qualifier: String?, payload: [UInt8], clientContext: String?) throws -> String {
        let requestID = UUID().uuidString.lowercased()
        let now = clock.now()
        try store.db.writeNow { db in
            try db.execute(sql: """
                INSERT INTO async_invocation (account, region, function, qualifier, request_id, payload, client_context, attempts, received, due)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
                """, arguments: [f.account, f.region, f.name, qualifier, requestID, Data(payload), clientContext, now, now])
        }
        dispatcher.wake()
        return requestID
    }

    /// The dispatcher: every due invocation is attempted in its own task (the function's concurrency limit applies).
    /// It looks again when woken, and at least once a second, which also notices a moved emulator clock.
    func startAsyncDispatcher() {
        let service = self
        dispatcher.start {
            while !Task.isCancelled {
                let due = (try? service.dueInvocations()) ?? []
                for invocation in due where service.dispatcher.claim(invocation.id) {
                    Task {
                        await SnapshotGate.background { await service.attempt(invocation) }
                        service.dispatcher.finish(invocation.id)
                        service.dispatcher.wake()
                    }
                }
                await service.dispatcher.wait(seconds: 1)
            }
        }
    }

    func dueInvocations() throws -> [AsyncInvocation] {
        let running = dispatcher.running
        guard store.database.hasContent else { return [] }  // the loop opens no database that was never created
        return try store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT \(AsyncInvocation.columns) FROM async_invocation WHERE due <= ? ORDER BY due LIMIT 64",
                             arguments: [clock.now()])
                .map(AsyncInvocation.init(row:)).filter { !running.contains($0.id) }
        }
    }

    /// One attempt. Success and a final failure remove the invocation and send a record to the configured
    /// destination; a function error is retried after 1 then 2 minutes, throttling after a second.
    func attempt(_ e: AsyncInvocation) async {
        // A function (or qualifier) deleted since the event was queued drops it, as in AWS.
        guard let f = try? store.function(account: e.account, region: e.region, name: e.function),
              let (selected, alias) = try? Self.configuration(f, qualifier: e.qualifier) else {
            return remove(e.id)
        }
        let settings = f.eventInvokeConfigs?[e.qualifier ?? "$LATEST"]
        let maxAge = Double(settings?.MaximumEventAgeInSeconds ?? EventInvokeConfig.defaultMaximumAge)
        let maxRetries = settings?.MaximumRetryAttempts ?? EventInvokeConfig.defaultRetries
        let now = clock.now()
        if now - e.received > maxAge {
            return complete(e, f, selected, condition: "EventAgeExceeded", response: e.lastResponse, functionError: e.lastError)
        }
        let config = Self.routed(f, selected, alias)
        let invoked = f.arn + (e.qualifier.map { ":\($0)" } ?? "")
        let document: [UInt8]
        do {
            // Out of the snapshot gate while the function runs.
            let result = try await SnapshotGate.outside {
                try await run(f, config, payload: e.payload, clientContext: e.clientContext, invokedARN: invoked, requestID: e.requestID)
            }
            // Restored or reset meanwhile: the outcome belongs to the old state (a restored copy of the event is
            // attempted again).
            if SnapshotGate.stateReplaced { return }
            if case .response(let bytes) = result.outcome {
                var done = e
                done.attempts += 1
                return complete(done, f, config, condition: "Success", response: bytes, functionError: nil)
            }
            document = Self.errorDocument(result, config)
        } catch let error as AWSError where error.code == "TooManyRequestsException" {
            // Throttled: try again shortly, without counting an attempt (AWS retries throttles for up to the maximum age).
            return reschedule(e.id, due: min(now + 1, e.received + maxAge + 0.001), attempts: e.attempts, error: e.lastError, response: e.lastResponse)
        } catch {
            if SnapshotGate.stateReplaced { return }
            // The function could not start (its runtime is missing, its code unreadable): a failed attempt.
            let failure = error as? AWSError ?? AWSError.internalError()
            document = Self.errorDocument(failure.code, failure.message)
        }
        let attempts = e.attempts + 1
        var done = e
        done.attempts = attempts
        if attempts > maxRetries {
            return complete(done, f, config, condition: "RetriesExhausted", response: document, functionError: "Unhandled")
        }
        let delay: Double = attempts == 1 ? 60 : 120
        reschedule(e.id, due: min(clock.now() + delay, e.received + maxAge + 0.001), attempts: attempts, error: "Unhandled", response: document)
    }

    private func remove(_ id: Int64) {
        _ = try? store.db.writeNow { db in try db.execute(sql: "DELETE FROM async_invocation WHERE id = ?", arguments: [id]) }
    }

    private func reschedule(_ id: Int64, due: Double, attempts: Int, error: String?, response: [UInt8]?) {
        _ = try? store.db.writeNow { db in
            try db.execute(sql: "UPDATE async_invocation SET due = ?, attempts = ?, last_error = ?, last_response = ? WHERE id = ?",
                           arguments: [due, attempts, error, response.map { Data($0) }, id])
        }
    }
}
