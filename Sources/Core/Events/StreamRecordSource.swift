/// Reading a stream from another service (Lambda's event source mappings on DynamoDB streams): the shards of a
/// stream ARN and their records in order, as the Streams API's GetRecords gives them. Core declares it; DynamoDB
/// implements it; the Emulator wires them. Positions are sequence numbers; nil is the shard's trim horizon.
public struct StreamRecord: Sendable {
    public var sequenceNumber: String
    /// The record as GetRecords shows it (eventID, eventName, dynamodb: {Keys, NewImage, ...}), encoded as JSON.
    public var json: String

    public init(sequenceNumber: String, json: String) {
        self.sequenceNumber = sequenceNumber
        self.json = json
    }
}

public protocol StreamRecordSource: Sendable {
    /// Whether the ARN names a stream that exists (enabled or not).
    func streamExists(arn: String) -> Bool
    /// The stream's shard ids, oldest first. Throws when the stream is gone.
    func shards(streamARN: String) throws -> [String]
    /// The newest sequence number of the shard (where LATEST starts), nil when it has no record.
    func latestSequenceNumber(streamARN: String, shard: String) throws -> String?
    /// Up to `max` records of the shard after `after` (from the trim horizon when nil), in order.
    func records(streamARN: String, shard: String, after: String?, max: Int) throws -> [StreamRecord]
}
