import Core
import Foundation

/// Where an asynchronous invocation's outcome goes: the OnSuccess / OnFailure destination of the event invoke
/// config (an SQS queue or another function) with AWS's invocation record, and a failed event to the function's
/// dead-letter queue. The messages are staged in Lambda's outbox in the transaction that removes the invocation
/// (`complete`), so a crash between the two loses neither: the outbox delivers them after a restart.
extension LambdaService {
    /// The invocation is over: remove it and stage its outcome's messages in one transaction, then deliver them.
    func complete(_ e: AsyncInvocation, _ f: LambdaFunction, _ config: FunctionConfig, condition: String, response: [UInt8]?,
                  functionError: String?) {
        let messages = outcomeMessages(e, f, config, condition: condition, response: response, functionError: functionError)
        do {
            let staged = try store.db.writeNow { db in
                try db.execute(sql: "DELETE FROM async_invocation WHERE id = ?", arguments: [e.id])
                return try destinations.stage(messages, db)
            }
            destinations.deliver(staged)
            outcomes.record(function: f.arn, condition: condition)
        } catch {
            // Nothing changed: the invocation stays queued and is attempted again.
            logger.warning("Lambda asynchronous invocation not completed", metadata: ["function": "\(f.arn)", "error": "\(error)"])
        }
    }

    func outcomeMessages(_ e: AsyncInvocation, _ f: LambdaFunction, _ config: FunctionConfig, condition: String, response: [UInt8]?,
                         functionError: String?) -> [OutboxMessage] {
        var messages: [OutboxMessage] = []
        let settings = f.eventInvokeConfigs?[e.qualifier ?? "$LATEST"]
        let success = condition == "Success"
        if let destination = success ? settings?.OnSuccess : settings?.OnFailure {
            let record = Self.invocationRecord(e, f, config, condition: condition, response: response, functionError: functionError,
                                               timestamp: clock.now())
            if let m = message(record, to: destination, functionARN: f.arn) { messages.append(m) }
        }
        if !success, let dlq = config.DeadLetterTargetArn, let m = deadLetterMessage(e, dlq, response: response, from: f) {
            messages.append(m)
        }
        return messages
    }

    /// The record AWS sends to a destination (version 1.0): the request, the condition, and the function's answer.
    static func invocationRecord(_ e: AsyncInvocation, _ f: LambdaFunction, _ config: FunctionConfig, condition: String,
                                 response: [UInt8]?, functionError: String?, timestamp: Double) -> String {
        func json(_ bytes: [UInt8]) -> Any {
            (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) ?? String(decoding: bytes, as: UTF8.self)
        }
        var record: [String: Any] = [
            "version": "1.0",
            "timestamp": AWSDate.iso8601(timestamp),
            "requestContext": [
                "requestId": e.requestID, "functionArn": f.arn + ":" + (e.qualifier ?? "$LATEST"),
                "condition": condition, "approximateInvokeCount": e.attempts,
            ] as [String: Any],
            "requestPayload": json(e.payload),
        ]
        if e.attempts > 0 {
            var context: [String: Any] = ["statusCode": 200, "executedVersion": config.Version]
            if let functionError { context["functionError"] = functionError }
            record["responseContext"] = context
            if let response { record["responsePayload"] = json(response) }
        }
        let data = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A record for a destination: a queue gets a message, a function an asynchronous invocation. Other services
    /// are not served by Cloudless, so their records are logged and dropped.
    func message(_ record: String, to destination: String, functionARN: String) -> OutboxMessage? {
        let service = destination.split(separator: ":", omittingEmptySubsequences: false).dropFirst(2).first ?? ""
        switch service {
        case "sqs": return OutboxMessage(.queue, target: destination, body: record, principal: .lambda)
        case "lambda": return OutboxMessage(.function, target: destination, body: record, principal: .lambda)
        default:
            logger.warning("Lambda destination not delivered: Cloudless does not serve the destination's service",
                           metadata: ["function": "\(functionARN)", "destination": "\(destination)"])
            return nil
        }
    }

    /// The original event, with the error in message attributes, as Lambda sends it to a dead-letter queue.
    func deadLetterMessage(_ e: AsyncInvocation, _ arn: String, response: [UInt8]?, from f: LambdaFunction) -> OutboxMessage? {
        let message = response.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }?["errorMessage"] as? String
        var attributes = ["RequestID": EventMessageAttribute("String", e.requestID), "ErrorCode": EventMessageAttribute("Number", "200")]
        if let message { attributes["ErrorMessage"] = EventMessageAttribute("String", message) }
        guard arn.contains(":sqs:") else {
            logger.warning("Lambda dead-letter message not delivered: Cloudless does not serve the dead-letter target's service",
                           metadata: ["function": "\(f.arn)", "target": "\(arn)"])
            return nil
        }
        return OutboxMessage(.queue, target: arn, body: String(decoding: e.payload, as: UTF8.self), principal: .lambda, attributes: attributes)
    }
}

/// Lambda as the destination of S3 event notifications (and of other functions' destinations).
extension LambdaService: FunctionEventSink {
    public func acceptsEvents(functionARN: String) -> Bool {
        (try? target(functionARN)) != nil
    }

    public func invokeAsync(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) throws {
        let parts = functionARN.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let (f, _) = try target(functionARN) else { throw LambdaError.notFound(functionARN) }
        try enqueueAsync(f, qualifier: parts.count > 7 ? parts[7] : nil, payload: payload, clientContext: nil)
    }
}
