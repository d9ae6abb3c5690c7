import Core
import Foundation
import GRDB
import Synchronization

/// Dead-letter queue redrive: StartMessageMoveTask moves the messages a dead-letter queue holds back to the queues they
/// came from (or to a chosen queue), at most MaxNumberOfMessagesPerSecond. Tasks are rows in `move_task`, so a task
/// still running when the process stops resumes when it starts again.
final class MessageMoveTasks: Sendable {
    /// The runners of this process's RUNNING tasks, by task id.
    private let runners = Mutex<[String: Task<Void, Never>]>([:])
    /// How often a runner moves a share of its rate.
    static let tick = 0.1
    /// Messages per second when the task names no rate (AWS: "system-optimized").
    static let defaultRate = 500

    struct MoveTask {
        var taskID: String
        var sourceARN: String
        var destinationARN: String?
        var rate: Int?
        var status: String
        var moved: Int
        var toMove: Int
        var failure: String?
        var started: Double

        init(_ row: GRDB.Row) {
            (taskID, sourceARN, destinationARN, rate, status) = (row[0], row[1], row[2], row[3], row[4])
            (moved, toMove, failure, started) = (row[5], row[6], row[7], row[8])
        }

        static let columns = "task_id, source_arn, destination_arn, rate, status, moved, to_move, failure, started"
    }

    func start(_ taskID: String, run: @escaping @Sendable () async -> Void) {
        runners.withLock { $0[taskID] = Task { await run() } }
    }

    func finished(_ taskID: String) { _ = runners.withLock { $0.removeValue(forKey: taskID) } }

    func cancel(_ taskID: String) { runners.withLock { $0.removeValue(forKey: taskID) }?.cancel() }

    func cancelAll() {
        let all = runners.withLock { r -> [Task<Void, Never>] in defer { r.removeAll() }; return Array(r.values) }
        for t in all { t.cancel() }
    }

    /// TaskHandle: base64 of `{"taskId": ..., "sourceArn": ...}`, as AWS's handles are.
    static func handle(taskID: String, sourceARN: String) -> String {
        let json = "{\"taskId\":\(JSONString.quote(taskID)),\"sourceArn\":\(JSONString.quote(sourceARN))}"
        return Data(json.utf8).base64EncodedString()
    }

    static func parseHandle(_ handle: String) -> (taskID: String, sourceARN: String)? {
        guard let data = Data(base64Encoded: handle),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let id = obj["taskId"] as? String, let arn = obj["sourceArn"] as? String else { return nil }
        return (id, arn)
    }
}

extension SQSService {
    static func resourceNotFound(_ message: String) -> AWSError {
        AWSError("ResourceNotFoundException", message, status: .notFound).query("ResourceNotFoundException")
    }

    /// The queue an ARN names, or ResourceNotFoundException naming the parameter.
    func queue(arn text: String, parameter: String) throws -> Queue {
        guard let arn = ARN(text), arn.service == "sqs",
              let q = try store.queue(account: arn.account, region: arn.region, name: arn.resource) else {
            throw Self.resourceNotFound("The resource that you specified for the \(parameter) parameter doesn't exist.")
        }
        return q
    }

    /// Whether any queue of the account and region names `q` as its dead-letter queue.
    func isDeadLetterQueue(_ q: Queue) throws -> Bool {
        try store.queues(account: q.account, region: q.region, prefix: "", after: "", limit: 100_000)
            .contains { Self.redrive($0)?.targetARN == q.arn }
    }

    func startMessageMoveTask(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let source = try queue(arn: try Self.string(input, "SourceArn"), parameter: "SourceArn")
        var destination: Queue?
        if let d = input["DestinationArn"] {
            guard let text = d as? String else { throw SQSError.invalidParameterValue("Value for parameter DestinationArn is invalid.") }
            destination = try queue(arn: text, parameter: "DestinationArn")
        }
        var rate: Int?
        if let v = input["MaxNumberOfMessagesPerSecond"] {
            guard let n = (v as? NSNumber)?.intValue, (1...500).contains(n) else {
                throw SQSError.invalidParameterValue(
                    "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and 500.")
            }
            rate = n
        }
        guard try isDeadLetterQueue(source) else {
            throw SQSError.invalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        }
        let taskID = UUID().uuidString.lowercased()
        let now = clock.now()
        try store.db.writeNow { db in
            let running = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM move_task WHERE source_arn = ? AND status = 'RUNNING'",
                                           arguments: [source.arn]) ?? 0
            if running > 0 {
                throw SQSError.invalidParameterValue(
                    "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE queue = ?", arguments: [source.key]) ?? 0
            try db.execute(
                sql: "INSERT INTO move_task (task_id, source_arn, destination_arn, rate, status, to_move, started) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?)",
                arguments: [taskID, source.arn, destination?.arn, rate, count, now])
        }
        runMoveTask(taskID)
        return ["TaskHandle": MessageMoveTasks.handle(taskID: taskID, sourceARN: source.arn)]
    }

    func cancelMessageMoveTask(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        guard let (taskID, sourceARN) = MessageMoveTasks.parseHandle(try Self.string(input, "TaskHandle")) else {
            throw SQSError.invalidParameterValue("Value for parameter TaskHandle is invalid.")
        }
        _ = try queue(arn: sourceARN, parameter: "SourceArn")
        let moved = try store.db.writeNow { db -> Int in
            guard let task = try GRDB.Row.fetchOne(db, sql: "SELECT \(MessageMoveTasks.MoveTask.columns) FROM move_task WHERE task_id = ? AND source_arn = ?",
                                                   arguments: [taskID, sourceARN]).map(MessageMoveTasks.MoveTask.init) else {
                throw Self.resourceNotFound("Task does not exist.")
            }
            guard task.status == "RUNNING" else {
                throw SQSError.invalidParameterValue("Only active tasks can be cancelled.")
            }
            try db.execute(sql: "UPDATE move_task SET status = 'CANCELLED' WHERE task_id = ?", arguments: [taskID])
            return task.moved
        }
        moveTasks.cancel(taskID)
        return ["ApproximateNumberOfMessagesMoved": moved]
    }

    func listMessageMoveTasks(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let source = try queue(arn: try Self.string(input, "SourceArn"), parameter: "SourceArn")
        var limit = 1
        if let v = input["MaxResults"] {
            guard let n = (v as? NSNumber)?.intValue, (1...10).contains(n) else {
                throw SQSError.invalidParameterValue("Value for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10.")
            }
            limit = n
        }
        let tasks = try store.db.readNow { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT \(MessageMoveTasks.MoveTask.columns) FROM move_task WHERE source_arn = ? ORDER BY started DESC, rowid DESC LIMIT ?",
                                  arguments: [source.arn, limit]).map(MessageMoveTasks.MoveTask.init)
        }
        return ["Results": tasks.map { t -> [String: Any] in
            var out: [String: Any] = [
                "SourceArn": t.sourceARN, "Status": t.status, "ApproximateNumberOfMessagesMoved": t.moved,
                "ApproximateNumberOfMessagesToMove": t.toMove, "StartedTimestamp": Int64(t.started * 1000),
            ]
            if t.status == "RUNNING" { out["TaskHandle"] = MessageMoveTasks.handle(taskID: t.taskID, sourceARN: t.sourceARN) }
            if let d = t.destinationARN { out["DestinationArn"] = d }
            if let rate = t.rate { out["MaxNumberOfMessagesPerSecond"] = rate }
            if let f = t.failure { out["FailureReason"] = f }
            return out
        }]
    }

    /// Resume the tasks that were running when the process stopped.
    /// Move tasks a stop or a crash caught RUNNING go on (after the port is bound; none without `sqs.sqlite`).
    public func resumeMoveTasks() throws {
        guard store.database.hasContent else { return }
        let ids = try store.db.readNow { db in try String.fetchAll(db, sql: "SELECT task_id FROM move_task WHERE status = 'RUNNING'") }
        for id in ids { runMoveTask(id) }
    }

    func runMoveTask(_ taskID: String) {
        let service = self
        moveTasks.start(taskID) {
            var budget = 0.0
            while !Task.isCancelled {
                do {
                    guard let done = try service.moveSome(taskID, budget: &budget), !done else { break }
                } catch {
                    break
                }
                try? await Task.sleep(for: .seconds(MessageMoveTasks.tick))
            }
            service.moveTasks.finished(taskID)
        }
    }

    /// One tick of a task: move this tick's share of messages. Returns true when the task has ended (nil if it is gone).
    func moveSome(_ taskID: String, budget: inout Double) throws -> Bool? {
        let now = clock.now()
        var b = budget
        let (ended, signalled) = try store.db.writeNow { db -> (Bool?, Set<String>) in
            guard let t = try GRDB.Row.fetchOne(db, sql: "SELECT \(MessageMoveTasks.MoveTask.columns) FROM move_task WHERE task_id = ?",
                                                arguments: [taskID]).map(MessageMoveTasks.MoveTask.init) else { return (nil, []) }
            guard t.status == "RUNNING" else { return (true, []) }
            func end(_ status: String, failure: String? = nil) throws -> (Bool?, Set<String>) {
                try db.execute(sql: "UPDATE move_task SET status = ?, failure = ? WHERE task_id = ?", arguments: [status, failure, taskID])
                return (true, [])
            }
            guard let source = ARN(t.sourceARN),
                  try Int.fetchOne(db, sql: "SELECT 1 FROM queue WHERE account = ? AND region = ? AND name = ?",
                                   arguments: [source.account, source.region, source.resource]) != nil else {
                return try end("FAILED", failure: "AWS.SimpleQueueService.NonExistentQueue")
            }
            let sourceKey = "\(source.account)/\(source.region)/\(source.resource)"
            var destinationKey: String?
            if let d = t.destinationARN {
                guard let arn = ARN(d), try Int.fetchOne(db, sql: "SELECT 1 FROM queue WHERE account = ? AND region = ? AND name = ?",
                                                         arguments: [arn.account, arn.region, arn.resource]) != nil else {
                    return try end("FAILED", failure: "AWS.SimpleQueueService.NonExistentQueue")
                }
                destinationKey = "\(arn.account)/\(arn.region)/\(arn.resource)"
            }
            b = min(b + Double(t.rate ?? MessageMoveTasks.defaultRate) * MessageMoveTasks.tick, Double(t.rate ?? MessageMoveTasks.defaultRate))
            let share = min(Int(b), t.toMove - t.moved)
            var moved = 0
            var signalled = Set<String>()
            if share > 0 {
                let rows = try GRDB.Row.fetchAll(db, sql: "SELECT seq, source_queue FROM message WHERE queue = ? AND visible_at <= ? ORDER BY seq LIMIT ?",
                                                 arguments: [sourceKey, now, share])
                for row in rows {
                    guard let target = destinationKey ?? row[1] as String? else {
                        _ = try end("FAILED", failure: "CouldNotDetermineMessageSource")
                        try db.execute(sql: "UPDATE move_task SET moved = moved + ? WHERE task_id = ?", arguments: [moved, taskID])
                        return (true, signalled)
                    }
                    try db.execute(sql: """
                        UPDATE message SET queue = ?, visible_at = ?, receive_count = 0, first_receive = NULL, receipt = NULL, source_queue = NULL
                        WHERE seq = ?
                        """, arguments: [target, now, row[0] as Int64])
                    moved += 1
                    signalled.insert(target)
                }
                b -= Double(moved)
                try db.execute(sql: "UPDATE move_task SET moved = moved + ? WHERE task_id = ?", arguments: [moved, taskID])
            }
            let left = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE queue = ?", arguments: [sourceKey]) ?? 0
            if t.moved + moved >= t.toMove || left == 0 {
                _ = try end("COMPLETED")
                return (true, signalled)
            }
            return (false, signalled)
        }
        budget = b
        for key in signalled { signals.signal(key) }
        return ended
    }
}
