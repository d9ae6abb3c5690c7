/// Reading a queue from another service (Lambda's SQS event source mappings): receive like a consumer, delete what
/// was processed. Core declares it; SQS implements it; the Emulator wires them.
public struct ConsumedMessage: Sendable {
    public var messageID: String
    public var receiptHandle: String
    public var body: String
    public var md5OfBody: String
    /// System attributes (ApproximateReceiveCount, SentTimestamp, SenderId, ...).
    public var attributes: [String: String]
    /// Message attributes as the JSON protocol shows them, encoded as a JSON object.
    public var messageAttributesJSON: String

    public init(messageID: String, receiptHandle: String, body: String, md5OfBody: String, attributes: [String: String],
                messageAttributesJSON: String) {
        self.messageID = messageID
        self.receiptHandle = receiptHandle
        self.body = body
        self.md5OfBody = md5OfBody
        self.attributes = attributes
        self.messageAttributesJSON = messageAttributesJSON
    }
}

public protocol QueueConsumer: Sendable {
    /// Whether the ARN names an existing queue.
    func queueExists(arn: String) -> Bool
    /// Up to `max` messages (made invisible for the queue's visibility timeout), waiting up to `waitSeconds`.
    func receive(queueARN: String, max: Int, waitSeconds: Int) async throws -> [ConsumedMessage]
    /// Delete processed messages.
    func delete(queueARN: String, receiptHandles: [String]) throws
}
