/// Where services write CloudWatch Logs events (Lambda's START/END/REPORT lines and handler output, later ECS task
/// output). Core declares it; the CloudWatch Logs service implements it; the Emulator wires them.
public struct LogEvent: Sendable, Equatable {
    /// Milliseconds since the epoch, as CloudWatch Logs keeps them.
    public var timestamp: Int64
    public var message: String

    public init(timestamp: Int64, message: String) {
        self.timestamp = timestamp
        self.message = message
    }
}

public protocol LogSink: Sendable {
    /// Append events to a stream, creating the group and stream when they do not exist (as Lambda's service role does).
    func append(account: String, region: String, group: String, stream: String, events: [LogEvent])
    /// Whether a log group exists (ECS's awslogs driver refuses to start without one unless told to create it).
    func groupExists(account: String, region: String, group: String) -> Bool
    /// Create a log group unless it exists (`awslogs-create-group`).
    func createGroupIfMissing(account: String, region: String, group: String)
}

/// A sink that drops everything: for services wired without CloudWatch Logs (tests).
public struct DiscardingLogSink: LogSink {
    public init() {}
    public func append(account: String, region: String, group: String, stream: String, events: [LogEvent]) {}
    public func groupExists(account: String, region: String, group: String) -> Bool { true }
    public func createGroupIfMissing(account: String, region: String, group: String) {}
}
