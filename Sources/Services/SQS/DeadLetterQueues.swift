import Core
import Foundation
import GRDB

/// RedrivePolicy: after `maxReceiveCount` receives, the next receive moves a message to the dead-letter queue.
struct RedrivePolicy: Sendable {
    var targetARN: String
    var maxReceiveCount: Int

    /// The message key of the target queue (`account/region/name`).
    var targetKey: String? {
        guard let arn = ARN(targetARN), arn.service == "sqs" else { return nil }
        return "\(arn.account)/\(arn.region)/\(arn.resource)"
    }

    static func parse(_ text: String) throws -> RedrivePolicy {
        let invalid = SQSError.invalidParameterValue(
            "Value \(text) for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount.")
        guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let arn = obj["deadLetterTargetArn"] as? String, let raw = obj["maxReceiveCount"] else { throw invalid }
        let count = (raw as? NSNumber)?.intValue ?? (raw as? String).flatMap { Int($0) }
        guard let count, (1...1000).contains(count) else {
            throw SQSError.invalidParameterValue("Value \(text) for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: \(raw), valid values are from 1 to 1000 both inclusive.")
        }
        return RedrivePolicy(targetARN: arn, maxReceiveCount: count)
    }
}

/// RedriveAllowPolicy: which source queues may name this queue as their dead-letter queue.
struct RedriveAllowPolicy: Sendable {
    var permission: String
    var sourceQueueARNs: [String]

    static func parse(_ text: String) throws -> RedriveAllowPolicy {
        let invalid = SQSError.invalidParameterValue(
            "Value \(text) for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy, as it's in an unsupported format.")
        guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let permission = obj["redrivePermission"] as? String, ["allowAll", "denyAll", "byQueue"].contains(permission),
              Set(obj.keys).isSubset(of: ["redrivePermission", "sourceQueueArns"]) else { throw invalid }
        let sources = obj["sourceQueueArns"]
        if permission == "byQueue" {
            guard let arns = sources as? [String], (1...10).contains(arns.count) else { throw invalid }
            return RedriveAllowPolicy(permission: permission, sourceQueueARNs: arns)
        }
        guard sources == nil else { throw invalid }
        return RedriveAllowPolicy(permission: permission, sourceQueueARNs: [])
    }

    func allows(_ sourceARN: String) -> Bool {
        switch permission {
        case "denyAll": return false
        case "byQueue": return sourceQueueARNs.contains(sourceARN)
        default: return true
        }
    }
}

extension SQSService {
    /// Check a RedriveAllowPolicy being set.
    static func validateRedriveAllow(_ attributes: [String: String]) throws {
        if let text = attributes["RedriveAllowPolicy"], !text.isEmpty { _ = try RedriveAllowPolicy.parse(text) }
    }

    /// Check a RedrivePolicy being set on a queue: the target exists and is of the same type (FIFO or not).
    func validateRedrive(_ attributes: [String: String], fifo: Bool, sourceARN: String) throws {
        try Self.validateRedriveAllow(attributes)
        guard let text = attributes["RedrivePolicy"], !text.isEmpty else { return }
        let policy = try RedrivePolicy.parse(text)
        guard let arn = ARN(policy.targetARN), arn.service == "sqs",
              let target = try store.queue(account: arn.account, region: arn.region, name: arn.resource) else {
            throw SQSError.invalidParameterValue("Value \(text) for parameter RedrivePolicy is invalid. Reason: Dead-letter target does not exist.")
        }
        if target.isFIFO != fifo {
            throw SQSError.invalidParameterValue("Value \(text) for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source..")
        }
        if let allow = target.attributes["RedriveAllowPolicy"], !allow.isEmpty,
           let policy = try? RedriveAllowPolicy.parse(allow), !policy.allows(sourceARN) {
            throw SQSError.invalidParameterValue(
                "Value \(text) for parameter RedrivePolicy is invalid. Reason: The dead-letter queue's RedriveAllowPolicy does not allow this queue (\(sourceARN)) as a source queue.")
        }
    }

    /// The queue's redrive policy, when it has one.
    static func redrive(_ q: Queue) -> RedrivePolicy? {
        guard let text = q.attributes["RedrivePolicy"], !text.isEmpty else { return nil }
        return try? RedrivePolicy.parse(text)
    }

    func listDeadLetterSourceQueues(_ r: AWSRequest, _ input: [String: Any]) throws -> [String: Any] {
        let q = try queue(r, input)
        let (limit, paged, after) = try Self.pagination(input)
        let sources = try store.queues(account: q.account, region: q.region, prefix: "", after: after, limit: 100_000)
            .filter { Self.redrive($0)?.targetARN == q.arn }
        let page = sources.prefix(limit)
        var out: [String: Any] = ["queueUrls": page.map { QueueAddress.url(host: r.host, account: $0.account, name: $0.name) }]
        if paged, sources.count > limit, let last = page.last { out["NextToken"] = Data(last.name.utf8).base64EncodedString() }
        return out
    }
}
