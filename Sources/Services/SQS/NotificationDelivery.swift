import Core
import Foundation

/// SQS as the destination of S3 event notifications: a message is sent as SendMessage sends one (same checks,
/// same insert, long polls woken), with the SenderId AWS shows for the sending service.
extension SQSService: QueueEventSink {
    public func acceptsEvents(queueARN: String) -> Bool {
        guard let q = try? eventQueue(queueARN) else { return false }
        return !q.isFIFO
    }

    public func deliver(_ body: String, toQueueARN queueARN: String, from principal: ServicePrincipal, traceHeader: String?,
                        attributes: [String: EventMessageAttribute]) throws {
        guard let q = try eventQueue(queueARN), !q.isFIFO else { throw SQSError.queueDoesNotExist() }
        var input: [String: Any] = ["MessageBody": body]
        if !attributes.isEmpty {
            input["MessageAttributes"] = attributes.mapValues { ["DataType": $0.dataType, "StringValue": $0.value] }
        }
        // The queue's MaximumMessageSize applies: AWS documents that SQS rejects a larger notification.
        let m = try newMessage(input, queue: q, traceHeader: traceHeader)
        let now = clock.now()
        let stored = try store.db.writeNow { db in try Self.insert(m, queue: q, sender: Self.senderID(principal), now: now, db) }
        if m.delay == 0 && stored.isNew { signals.signal(q.key) }
    }

    /// The SenderId of messages a service principal sends (what ReceiveMessage reports in AWS).
    static func senderID(_ principal: ServicePrincipal) -> String {
        switch principal {
        case .s3: "AIDAJHIPRHEMV73VRJEBU"
        // In AWS, the function's execution role session; one fixed role id stands for it here.
        case .lambda: "AROAZCLOUDLESSLAMBDA"
        case .cloudFormation: "AROAZCLOUDLESSCLOUDFORMATION"
        case .elasticLoadBalancing: "AROAZCLOUDLESSELB"
        case .codeDeploy: "AROAZCLOUDLESSCODEDEPLOY"
        case .apiGateway: "AROAZCLOUDLESSAPIGATEWAY"
        }
    }

    /// The queue an ARN (`arn:aws:sqs:<region>:<account>:<name>`) names, or nil.
    func eventQueue(_ arn: String) throws -> Queue? {
        guard let a = ARN(arn), a.service == "sqs", AccountID.isValid(a.account), !a.resource.isEmpty else { return nil }
        return try store.queue(account: a.account, region: a.region, name: a.resource)
    }
}
