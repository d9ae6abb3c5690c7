/// DynamoDB (JSON 1.0, `DynamoDB_20120810.<Operation>`) and DynamoDB Streams (`DynamoDBStreams_20120810`, the same
/// signing name `dynamodb`). Placeholder until the service lands.
enum DynamoDB {
    static let targetPrefix = "DynamoDB_20120810"
    static let streamsTargetPrefix = "DynamoDBStreams_20120810"
}
