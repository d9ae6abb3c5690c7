import Core
import Foundation
import GRDB
import HTTPTypes
import NIOCore

/// `GET /_cloudless/sqs/peek/<account>/<region>/<queue name>`: the console's look at a queue's messages, oldest
/// first (at most 100), visible, delayed and in flight alike. A read only: no receive count, visibility, receipt or
/// first-receive time changes (a ReceiveMessage with VisibilityTimeout 0 would count a receive). Expired messages
/// are left out.
extension SQSService {
    public func internalResponse(method: HTTPRequest.Method, path: String) async -> AWSResponse? {
        let prefix = "/_cloudless/sqs/peek/"
        guard path.hasPrefix(prefix) else { return nil }
        guard method == .get else { return Self.peekAnswer(["error": "peek is GET"], status: .methodNotAllowed) }
        let parts = path.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).map { Percent.decode($0) ?? "" }
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            return Self.peekAnswer(["error": "expected /_cloudless/sqs/peek/<account>/<region>/<queue name>"], status: .badRequest)
        }
        do {
            guard let q = try store.queue(account: parts[0], region: parts[1], name: parts[2]) else {
                return Self.peekAnswer(["error": "AWS.SimpleQueueService.NonExistentQueue"], status: .notFound)
            }
            return Self.peekAnswer(["queue": q.name, "messages": try peek(q, limit: 100)])
        } catch {
            return Self.peekAnswer(["error": "\(error)"], status: .internalServerError)
        }
    }

    func peek(_ q: Queue, limit: Int) throws -> [[String: Any]] {
        let now = clock.now()
        let rows = try store.db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, body, sent, visible_at, receive_count, first_receive, group_id, dedup_id, attributes, source_queue
                FROM message WHERE queue = ? AND expires > ? ORDER BY seq LIMIT ?
                """, arguments: [q.key, now, limit])
        }
        return rows.map { row in
            let receives: Int = row[4]
            let visibleAt: Double = row[3]
            var m: [String: Any] = [
                "messageId": row[0] as String, "body": row[1] as String, "sentTimestamp": Int((row[2] as Double) * 1000),
                "receiveCount": receives,
                "state": visibleAt <= now ? "visible" : receives > 0 ? "inFlight" : "delayed",
            ]
            if visibleAt > now { m["visibleAt"] = Int(visibleAt * 1000) }
            if let first: Double = row[5] { m["firstReceiveTimestamp"] = Int(first * 1000) }
            if let group: String = row[6] { m["messageGroupId"] = group }
            if let dedup: String = row[7] { m["messageDeduplicationId"] = dedup }
            if let text: String = row[8], let attributes = try? JSONSerialization.jsonObject(with: Data(text.utf8)) {
                m["messageAttributes"] = attributes
            }
            if let source: String = row[9] { m["deadLetterSourceQueue"] = source }
            return m
        }
    }

    static func peekAnswer(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> AWSResponse {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return AWSResponse(status: status, headers: headers, bytes: ByteBuffer(bytes: data))
    }
}
