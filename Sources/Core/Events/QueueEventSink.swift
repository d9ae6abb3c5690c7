/// An AWS service acting on its own behalf (sending an event, invoking a function), as the receiving
/// service sees it: SQS records such messages with the principal's SenderId, not the caller's.
public enum ServicePrincipal: String, Sendable {
    case s3 = "s3.amazonaws.com"
}

/// SQS queues as a destination for another service's events (S3 event notifications today).
/// SQS implements it, the emulator wires it in, and the publisher never imports SQS.
public protocol QueueEventSink: Sendable {
    /// Whether `queueARN` names a queue that can take event messages: it exists, and it is a standard queue
    /// (S3 does not publish to FIFO queues).
    func acceptsEvents(queueARN: String) -> Bool

    /// Send one event message to the queue as `principal` (the queue's delay and size limit apply).
    /// `traceHeader` is the triggering request's X-Amzn-Trace-Id, kept as the message's AWSTraceHeader.
    func deliver(_ body: String, toQueueARN queueARN: String, from principal: ServicePrincipal, traceHeader: String?) throws
}
