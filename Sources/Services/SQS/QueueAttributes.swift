import Core

/// Queue attributes: which ones exist, their limits, their defaults.
enum QueueAttributes {
    /// Integer attributes and their allowed range.
    static let ranges: [String: ClosedRange<Int>] = [
        "DelaySeconds": 0...900, "MaximumMessageSize": 1024...1_048_576, "MessageRetentionPeriod": 60...1_209_600,
        "ReceiveMessageWaitTimeSeconds": 0...20, "VisibilityTimeout": 0...43_200, "KmsDataKeyReusePeriodSeconds": 60...86_400,
    ]

    static let defaults: [String: String] = [
        "DelaySeconds": "0", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600",
        "ReceiveMessageWaitTimeSeconds": "0", "VisibilityTimeout": "30", "SqsManagedSseEnabled": "true",
    ]

    static let fifoDefaults: [String: String] = [
        "FifoQueue": "true", "ContentBasedDeduplication": "false", "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue",
    ]

    static let settable: Set<String> = [
        "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "Policy", "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
    ]

    static let computed: Set<String> = [
        "QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed",
        "CreatedTimestamp", "LastModifiedTimestamp",
    ]

    /// Attributes that an empty value removes rather than sets.
    static let removedWhenEmpty = ["Policy", "RedrivePolicy", "RedriveAllowPolicy"]

    static let fifoOnly: Set<String> = ["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"]

    /// Booleans AWS accepts in any case and reports back in lower case ("True" → "true").
    static func normalized(_ attributes: [String: String]) -> [String: String] {
        var out = attributes
        for name in ["FifoQueue", "ContentBasedDeduplication"] {
            if let v = out[name], ["true", "false"].contains(v.lowercased()) { out[name] = v.lowercased() }
        }
        return out
    }

    /// Check attributes a client sets (normalized first). Throws AWS's errors.
    /// FifoQueue exists only on FIFO queues: at creation it must be true, later it can only stay true.
    static func validate(_ attributes: [String: String], fifo: Bool, creating: Bool) throws {
        for (name, value) in attributes {
            if name == "FifoQueue" {
                guard fifo else { throw SQSError.invalidAttributeName(name) }
                guard value == "true" else {
                    throw SQSError.invalidAttributeValue(name, creating ? nil
                        : "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.")
                }
                continue
            }
            guard settable.contains(name) else { throw SQSError.invalidAttributeName(name) }
            if fifoOnly.contains(name) && !fifo {
                // AWS words the high-throughput ones differently from ContentBasedDeduplication.
                if name == "ContentBasedDeduplication" { throw SQSError.invalidAttributeName(name) }
                throw AWSError("InvalidAttributeName", "You can specify the \(name) only when FifoQueue is set to true.")
                    .query("InvalidAttributeName")
            }
            if let range = ranges[name] {
                guard let v = Int(value), range.contains(v) else { throw SQSError.invalidAttributeValue(name) }
            }
            switch name {
            case "ContentBasedDeduplication", "SqsManagedSseEnabled":
                guard value == "true" || value == "false" else { throw SQSError.invalidAttributeValue(name) }
            case "DeduplicationScope":
                guard value == "queue" || value == "messageGroup" else { throw SQSError.invalidAttributeValue(name) }
            case "FifoThroughputLimit":
                guard value == "perQueue" || value == "perMessageGroupId" else { throw SQSError.invalidAttributeValue(name) }
            default:
                break
            }
        }
    }

    /// High-throughput FIFO: a per-group throughput limit needs per-group deduplication.
    static func validateThroughput(_ attributes: [String: String]) throws {
        if attributes["FifoThroughputLimit"] == "perMessageGroupId" && attributes["DeduplicationScope"] != "messageGroup" {
            throw SQSError.invalidAttributeValue("FifoThroughputLimit",
                "Invalid value for the parameter FifoThroughputLimit. Reason: To set FifoThroughputLimit to perMessageGroupId, the DeduplicationScope must be messageGroup.")
        }
    }

    /// Queue names: 1–80 of alphanumerics, hyphens and underscores; FIFO queues end in `.fifo`.
    static func validateName(_ name: String, fifo: Bool) throws {
        let base = name.hasSuffix(".fifo") ? String(name.dropLast(5)) : name
        let ok = !base.isEmpty && name.utf8.count <= 80
            && base.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95 }
        guard ok else {
            throw SQSError.invalidParameterValue(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
        }
        if fifo != name.hasSuffix(".fifo") {
            throw SQSError.invalidParameterValue(fifo
                ? "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
                : "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
        }
    }
}
