import Core
import Foundation

/// AddPermission / RemovePermission: statements in the queue's `Policy` attribute, one per label, as SQS keeps them.
/// Cloudless stores and shows the policy; it does not enforce it.
extension SQSService {
    /// The actions AddPermission may grant (without the `SQS:` prefix).
    static let grantableActions: Set<String> = [
        "*", "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes", "GetQueueUrl",
        "ListDeadLetterSourceQueues", "PurgeQueue", "ListQueueTags", "SendMessageBatch", "DeleteMessageBatch",
        "ChangeMessageVisibilityBatch", "StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask",
    ]

    static func invalidLabel(_ label: String, _ reason: String) -> AWSError {
        SQSError.invalidParameterValue("Value \(label) for parameter Label is invalid. Reason: \(reason)")
    }

    func addPermission(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        var q = try queue(r, input)
        let label = try Self.string(input, "Label")
        let validLabel = !label.isEmpty && label.utf8.count <= 80
            && label.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }
        guard validLabel else {
            throw Self.invalidLabel(label, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
        }
        guard input["AWSAccountIds"] != nil else { throw SQSError.missingParameter("AWSAccountIds") }
        let accounts = try Self.stringList(input, "AWSAccountIds")
        if accounts.isEmpty {
            throw SQSError.invalidParameterValue("Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.")
        }
        let actions = try Self.stringList(input, "Actions")
        if actions.isEmpty { throw SQSError.missingParameter("Actions") }
        for a in actions where !Self.grantableActions.contains(a) {
            throw SQSError.invalidParameterValue("Value SQS:\(a) for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions.")
        }
        var policy = Self.policy(q)
        var statements = policy["Statement"] as? [[String: Any]] ?? []
        if statements.contains(where: { $0["Sid"] as? String == label }) { throw Self.invalidLabel(label, "Already exists.") }
        let principals = accounts.map { "arn:aws:iam::\($0):root" }
        let granted = actions.map { "SQS:" + $0 }
        statements.append([
            "Sid": label, "Effect": "Allow",
            "Principal": ["AWS": principals.count == 1 ? principals[0] as Any : principals as Any],
            "Action": granted.count == 1 ? granted[0] as Any : granted as Any,
            "Resource": q.arn,
        ])
        policy["Statement"] = statements
        q.attributes["Policy"] = Self.json(policy)
        try save(q)
        return [:]
    }

    func removePermission(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        var q = try queue(r, input)
        let label = try Self.string(input, "Label")
        var policy = Self.policy(q)
        var statements = policy["Statement"] as? [[String: Any]] ?? []
        guard let i = statements.firstIndex(where: { $0["Sid"] as? String == label }) else {
            throw Self.invalidLabel(label, "can't find label on existing policy.")
        }
        statements.remove(at: i)
        if statements.isEmpty {
            q.attributes.removeValue(forKey: "Policy")
        } else {
            policy["Statement"] = statements
            q.attributes["Policy"] = Self.json(policy)
        }
        try save(q)
        return [:]
    }

    /// The queue's policy document, or a new empty one.
    static func policy(_ q: Queue) -> [String: Any] {
        if let text = q.attributes["Policy"], let doc = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
            return doc
        }
        return ["Version": "2012-10-17", "Id": "\(q.arn)/SQSDefaultPolicy", "Statement": [[String: Any]]()]
    }

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    func save(_ q: Queue) throws {
        var updated = q
        updated.modified = clock.now()
        try store.db.writeNow { db in try QueueStore.save(updated, db) }
    }
}
