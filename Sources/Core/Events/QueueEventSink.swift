/// An AWS service acting on its own behalf (sending an event, invoking a function), as the receiving
/// service sees it: SQS records such messages with the principal's SenderId, not the caller's.
public enum ServicePrincipal: String, Sendable {
    case s3 = "s3.amazonaws.com"
    case lambda = "lambda.amazonaws.com"
    case cloudFormation = "cloudformation.amazonaws.com"
    case elasticLoadBalancing = "elasticloadbalancing.amazonaws.com"
    case codeDeploy = "codedeploy.amazonaws.com"
    case apiGateway = "apigateway.amazonaws.com"
}

/// A message attribute of an event message (Lambda's dead-letter messages carry RequestID, ErrorCode, ErrorMessage).
public struct EventMessageAttribute: Sendable {
    public var dataType: String
    public var value: String
    public init(_ dataType: String, _ value: String) {
        self.dataType = dataType
        self.value = value
    }
}

/// SQS queues as a destination for another service's events (S3 event notifications, Lambda destinations and
/// dead-letter queues).
/// SQS implements it, the emulator wires it in, and the publisher never imports SQS.
public protocol QueueEventSink: Sendable {
    /// Whether `queueARN` names a queue that can take event messages: it exists, and it is a standard queue
    /// (S3 does not publish to FIFO queues).
    func acceptsEvents(queueARN: String) -> Bool

    /// Send one event message to the queue as `principal` (the queue's delay and size limit apply).
    /// `traceHeader` is the triggering request's X-Amzn-Trace-Id, kept as the message's AWSTraceHeader.
    /// Once this returns, the message is committed to the queue's database (an `EventOutbox` deletes its row then).
    /// A 4xx AWSError is a refusal for good (no such queue, message too large); anything else may be retried.
    func deliver(_ body: String, toQueueARN queueARN: String, from principal: ServicePrincipal, traceHeader: String?,
                 attributes: [String: EventMessageAttribute]) throws
}

extension QueueEventSink {
    public func deliver(_ body: String, toQueueARN queueARN: String, from principal: ServicePrincipal, traceHeader: String?) throws {
        try deliver(body, toQueueARN: queueARN, from: principal, traceHeader: traceHeader, attributes: [:])
    }
}
