import Synchronization

/// Lambda functions as the destination of another service's events (S3 event notifications): the event is queued
/// as an asynchronous invocation (InvocationType Event), with Lambda's retries and destinations.
/// Lambda implements it, the emulator wires it in, and the publisher never imports Lambda.
public protocol FunctionEventSink: Sendable {
    /// Whether `functionARN` (optionally qualified by a version or alias) names a function that exists.
    func acceptsEvents(functionARN: String) -> Bool

    /// Queue one asynchronous invocation of the function with `payload` (a JSON document). Once this returns,
    /// the invocation is stored durably and will run.
    func invokeAsync(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) throws
}

/// A `FunctionEventSink` whose target is set after it is handed out: S3 publishes to Lambda, and Lambda reads its
/// code from S3, so one of the two must be wired after both exist. Until then, no function accepts events.
public final class FunctionEventRelay: FunctionEventSink {
    private let target = Mutex<(any FunctionEventSink)?>(nil)

    public init() {}

    public func connect(_ sink: any FunctionEventSink) { target.withLock { $0 = sink } }

    public func acceptsEvents(functionARN: String) -> Bool {
        target.withLock { $0 }?.acceptsEvents(functionARN: functionARN) ?? false
    }

    public func invokeAsync(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) throws {
        guard let sink = target.withLock({ $0 }) else { throw AWSError.internalError() }
        try sink.invokeAsync(functionARN: functionARN, payload: payload, from: principal)
    }
}
