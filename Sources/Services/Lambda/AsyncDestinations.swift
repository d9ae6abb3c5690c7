import Core
import Foundation

/// Where an asynchronous invocation's outcome goes: the OnSuccess / OnFailure destination of the event invoke
/// config (an SQS queue or another function) with AWS's invocation record, and a failed event to the function's
/// dead-letter queue.
extension LambdaService {
    func finished(_ e: AsyncInvocation, _ f: LambdaFunction, _ config: FunctionConfig, condition: String, response: [UInt8]?,
                  functionError: String?) {
        let settings = f.eventInvokeConfigs?[e.qualifier ?? "$LATEST"]
        let success = condition == "Success"
        if let destination = success ? settings?.OnSuccess : settings?.OnFailure {
            let record = Self.invocationRecord(e, f, config, condition: condition, response: response, functionError: functionError,
                                               timestamp: clock.now())
            send(record, to: destination, from: f)
        }
        if !success, let dlq = config.DeadLetterTargetArn {
            sendToDeadLetterQueue(e, dlq, response: response, from: f)
        }
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

    /// Deliver a record: a queue gets a message, a function an asynchronous invocation. Other services are not
    /// served by Cloudless, so their records are logged and dropped.
    func send(_ record: String, to destination: String, from f: LambdaFunction) {
        let service = destination.split(separator: ":", omittingEmptySubsequences: false).dropFirst(2).first ?? ""
        do {
            switch service {
            case "sqs":
                guard let queueEvents else { throw LambdaError.invalid("SQS is not served") }
                try queueEvents.deliver(record, toQueueARN: destination, from: .lambda, traceHeader: nil)
            case "lambda":
                try invokeAsync(functionARN: destination, payload: Array(record.utf8), from: .lambda)
            default:
                throw LambdaError.invalid("Cloudless does not serve the destination's service")
            }
        } catch {
            logger.warning("Lambda destination not delivered", metadata: ["function": "\(f.arn)", "destination": "\(destination)", "error": "\(error)"])
        }
    }

    /// The original event, with the error in message attributes, as Lambda sends it to a dead-letter queue.
    func sendToDeadLetterQueue(_ e: AsyncInvocation, _ arn: String, response: [UInt8]?, from f: LambdaFunction) {
        let message = response.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }?["errorMessage"] as? String
        var attributes = ["RequestID": EventMessageAttribute("String", e.requestID), "ErrorCode": EventMessageAttribute("Number", "200")]
        if let message { attributes["ErrorMessage"] = EventMessageAttribute("String", message) }
        do {
            guard let queueEvents, arn.contains(":sqs:") else { throw LambdaError.invalid("Cloudless does not serve the dead-letter target's service") }
            try queueEvents.deliver(String(decoding: e.payload, as: UTF8.self), toQueueARN: arn, from: .lambda, traceHeader: nil,
                                    attributes: attributes)
        } catch {
            logger.warning("Lambda dead-letter message not delivered", metadata: ["function": "\(f.arn)", "target": "\(arn)", "error": "\(error)"])
        }
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
