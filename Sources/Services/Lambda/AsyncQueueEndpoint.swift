import Core
import Foundation
import GRDB
import HTTPTypes
import NIOCore
import Synchronization

/// The console's look at a function's asynchronous invocation queue (AWS has no API listing it):
///
/// - `GET /_cloudless/lambda/async-queue/<account>/<region>/<function>[:<qualifier>]`: counts and the oldest 100
///   queued invocations (request id, qualifier, received, attempts so far, next attempt, state, payload size).
///   Payloads may hold secrets, so the list never carries them.
/// - `GET /_cloudless/lambda/async-queue/<account>/<region>/<function>/<request id>`: one invocation with its payload
///   and its last attempt's answer, fetched only when asked, as the console shows a secret's value.
///
/// Reads only: no attempt is claimed, moved or counted. Times are milliseconds on the emulator's clock, with `now`
/// on the same clock so a page can show "in 58 s". `finished` counts the invocations that left the queue since the
/// server started, by condition (Success, RetriesExhausted, EventAgeExceeded): memory only, as "recently".
extension LambdaService {
    static let asyncQueuePrefix = "/_cloudless/lambda/async-queue/"
    /// The list's length; the counts cover every queued invocation.
    static let asyncQueueListLimit = 100

    func asyncQueueResponse(method: HTTPRequest.Method, path: String) -> AWSResponse {
        guard method == .get else { return Self.queueAnswer(["error": "async-queue is GET"], status: .methodNotAllowed) }
        let parts = path.dropFirst(Self.asyncQueuePrefix.count).split(separator: "/", omittingEmptySubsequences: false)
            .map { Percent.decode($0) ?? "" }
        guard parts.count == 3 || parts.count == 4, parts.allSatisfy({ !$0.isEmpty }) else {
            return Self.queueAnswer(["error": "expected \(Self.asyncQueuePrefix)<account>/<region>/<function>[:<qualifier>][/<request id>]"],
                                    status: .badRequest)
        }
        let (account, region) = (parts[0], parts[1])
        // A function name never holds a colon: what follows one is the qualifier, as in Invoke's FunctionName.
        let named = parts[2].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = named[0], qualifier = named.count == 2 ? named[1] : nil
        if qualifier?.isEmpty == true { return Self.queueAnswer(["error": "empty qualifier"], status: .badRequest) }
        do {
            guard let f = try store.function(account: account, region: region, name: name) else {
                return Self.queueAnswer(["error": "ResourceNotFoundException",
                                         "message": "Function not found: arn:aws:lambda:\(region):\(account):function:\(name)"],
                                        status: .notFound)
            }
            if parts.count == 4 {
                guard let item = try asyncInvocation(f, requestID: parts[3]) else {
                    return Self.queueAnswer(["error": "ResourceNotFoundException",
                                             "message": "No queued asynchronous invocation \(parts[3]) of \(f.name)"], status: .notFound)
                }
                return Self.queueAnswer(item)
            }
            return Self.queueAnswer(try asyncQueue(f, qualifier: qualifier))
        } catch {
            return Self.queueAnswer(["error": "\(error)"], status: .internalServerError)
        }
    }

    /// The queue's counts and its oldest invocations (first received first), payloads left out.
    func asyncQueue(_ f: LambdaFunction, qualifier: String?, limit: Int = asyncQueueListLimit) throws -> [String: Any] {
        let running = dispatcher.running
        let now = clock.now()
        var filter = "account = ? AND region = ? AND function = ?"
        var arguments: StatementArguments = [f.account, f.region, f.name]
        if let qualifier {
            // An invocation without a qualifier runs $LATEST.
            filter += qualifier == "$LATEST" ? " AND (qualifier IS NULL OR qualifier = ?)" : " AND qualifier = ?"
            arguments += [qualifier]
        }
        // Counts in SQL, the list cut at `limit`: a long queue costs one scan, not one row object per invocation.
        let (total, retried, claimed, rows) = try store.db.readNow { db in
            let all = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(attempts > 0), 0) FROM async_invocation WHERE \(filter)",
                                       arguments: arguments)
            let claimed = running.isEmpty ? [] : try Int.fetchAll(db, sql: """
                SELECT attempts FROM async_invocation WHERE \(filter) AND id IN (\(running.map(String.init).joined(separator: ",")))
                """, arguments: arguments)
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, qualifier, request_id, attempts, received, due, length(payload), last_error
                FROM async_invocation WHERE \(filter) ORDER BY received, id LIMIT ?
                """, arguments: arguments + [limit])
            return (all?[0] as Int? ?? 0, all?[1] as Int? ?? 0, claimed, rows)
        }
        let waitingToRetry = retried - claimed.filter { $0 > 0 }.count
        let counts = ["total": total, "queued": total - claimed.count - waitingToRetry, "running": claimed.count,
                      "waitingToRetry": waitingToRetry, "retried": retried]
        let items: [[String: Any]] = rows.map { row in
            let id: Int64 = row[0], attempts: Int = row[3]
            var item: [String: Any] = [
                "requestId": row[2] as String, "qualifier": (row[1] as String?) ?? "$LATEST", "attempts": attempts,
                "received": Self.millis(row[4]), "nextAttempt": Self.millis(row[5]),
                "state": Self.queueState(running: running.contains(id), attempts: attempts), "payloadSize": row[6] as Int,
            ]
            if let error: String = row[7] { item["lastError"] = error }
            return item
        }
        return ["function": f.name, "functionArn": f.arn, "now": Self.millis(now), "counts": counts, "invocations": items,
                "truncated": total > items.count, "finished": outcomes.counts(function: f.arn)]
    }

    /// One queued invocation with its payload (text, or base64 when not UTF-8) and its last attempt's answer.
    func asyncInvocation(_ f: LambdaFunction, requestID: String) throws -> [String: Any]? {
        let running = dispatcher.running
        let now = clock.now()
        guard let row = try store.db.readNow({ db in
            try Row.fetchOne(db, sql: """
                SELECT id, qualifier, request_id, attempts, received, due, payload, last_error, last_response
                FROM async_invocation WHERE account = ? AND region = ? AND function = ? AND request_id = ?
                """, arguments: [f.account, f.region, f.name, requestID])
        }) else { return nil }
        let attempts: Int = row[3]
        let payload = row[6] as Data
        var item: [String: Any] = [
            "requestId": row[2] as String, "qualifier": (row[1] as String?) ?? "$LATEST", "attempts": attempts,
            "received": Self.millis(row[4]), "nextAttempt": Self.millis(row[5]), "now": Self.millis(now),
            "state": Self.queueState(running: running.contains(row[0]), attempts: attempts), "payloadSize": payload.count,
        ]
        if let text = String(data: payload, encoding: .utf8) { item["payload"] = text } else { item["payloadBase64"] = payload.base64EncodedString() }
        if let error: String = row[7] { item["lastError"] = error }
        if let response: Data = row[8] { item["lastResponse"] = String(decoding: response, as: UTF8.self) }
        return item
    }

    /// Running while the dispatcher attempts it; waiting to retry once an attempt failed; queued before any.
    static func queueState(running: Bool, attempts: Int) -> String {
        running ? "running" : attempts > 0 ? "waitingToRetry" : "queued"
    }

    static func millis(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

    static func queueAnswer(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> AWSResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return AWSResponse(status: status, headers: headers, bytes: ByteBuffer(bytes: data))
    }
}

/// Finished asynchronous invocations per function ARN and condition since the server started: a dictionary bump per
/// completion, for the console's "recently" (a restart starts again from zero).
final class AsyncOutcomes: Sendable {
    private let table = Mutex<[String: [String: Int]]>([:])
    func record(function arn: String, condition: String) { table.withLock { $0[arn, default: [:]][condition, default: 0] += 1 } }
    func counts(function arn: String) -> [String: Int] { table.withLock { $0[arn] ?? [:] } }
    func removeAll() { table.withLock { $0 = [:] } }
}
