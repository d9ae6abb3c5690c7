import Core
import Foundation
import NIOCore
import Testing

@testable import SQS

@Suite struct QueryCodecTests {
    @Test func flattenedParametersBecomeTheJSONShapes() throws {
        let input = SQSQuery.input([
            "Action": "SendMessageBatch", "QueueUrl": "http://localhost:4566/000000000000/q",
            "SendMessageBatchRequestEntry.2.Id": "b", "SendMessageBatchRequestEntry.2.MessageBody": "two",
            "SendMessageBatchRequestEntry.2.DelaySeconds": "5",
            "SendMessageBatchRequestEntry.1.Id": "a", "SendMessageBatchRequestEntry.1.MessageBody": "one",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Name": "color",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType": "String",
            "SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue": "red",
        ], operation: "SendMessageBatch")
        let entries = try #require(input["Entries"] as? [[String: Any]])
        #expect(entries.map { $0["Id"] as? String } == ["a", "b"])
        #expect((entries[1]["DelaySeconds"] as? NSNumber)?.intValue == 5)
        let attrs = try #require(entries[0]["MessageAttributes"] as? [String: Any])
        let color = try #require(attrs["color"] as? [String: Any])
        #expect(color["DataType"] as? String == "String" && color["StringValue"] as? String == "red")
    }

    @Test func mapsAndListsUseTheirQueryNames() {
        let create = SQSQuery.input([
            "QueueName": "q", "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "5",
            "Tag.1.Key": "team", "Tag.1.Value": "core",
        ], operation: "CreateQueue")
        #expect(create["Attributes"] as? [String: String] == ["VisibilityTimeout": "5"])
        #expect(create["tags"] as? [String: String] == ["team": "core"])
        let tag = SQSQuery.input(["Tag.1.Key": "a", "Tag.1.Value": "b"], operation: "TagQueue")
        #expect(tag["Tags"] as? [String: String] == ["a": "b"])
        let receive = SQSQuery.input(["AttributeName.2": "SentTimestamp", "AttributeName.1": "All", "MaxNumberOfMessages": "x"],
                                     operation: "ReceiveMessage")
        #expect(receive["AttributeNames"] as? [String] == ["All", "SentTimestamp"])
        // Not a number: left as text, so the operation rejects it as it would a JSON string.
        #expect(receive["MaxNumberOfMessages"] as? String == "x")
    }

    @Test func answersAreWrittenAsFlattenedXML() {
        var xml = XMLWriter()
        SQSQuery.write([
            "Successful": [["Id": "a", "MessageId": "m"]],
            "Failed": [["Id": "b", "SenderFault": true, "Code": "C", "Message": "M"]],
        ], operation: "SendMessageBatch", into: &xml)
        var xml2 = XMLWriter()
        SQSQuery.write(["Messages": [["Body": "x", "Attributes": ["SentTimestamp": "1"], "Count": 1]]],
                       operation: "ReceiveMessage", into: &xml2)
        #expect(String(buffer: xml.buffer).contains("<BatchResultErrorEntry><Code>C</Code><Id>b</Id><Message>M</Message><SenderFault>true</SenderFault></BatchResultErrorEntry>"))
        #expect(String(buffer: xml.buffer).contains("<SendMessageBatchResultEntry><Id>a</Id><MessageId>m</MessageId></SendMessageBatchResultEntry>"))
        #expect(String(buffer: xml2.buffer).contains("<Message><Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute><Body>x</Body><Count>1</Count></Message>"))
    }
}

@Suite struct FIFOTests {
    @Test func sequenceNumbersAreTwentyDigitsAndIncrease() {
        #expect(FIFO.sequenceNumber(1) == "10000000000000000001")
        #expect(FIFO.sequenceNumber(123_456) == "10000000000000123456")
        #expect(FIFO.sequenceNumber(2) > FIFO.sequenceNumber(1))
    }

    @Test func groupAndDeduplicationIdsFollowTheQueueType() throws {
        let fifo = Queue(account: "000000000000", region: "us-east-1", name: "q.fifo", attributes: [:], tags: [:], created: 0, modified: 0)
        var content = fifo
        content.attributes["ContentBasedDeduplication"] = "true"
        let standard = Queue(account: "000000000000", region: "us-east-1", name: "q", attributes: [:], tags: [:], created: 0, modified: 0)
        #expect(throws: AWSError.self) { try FIFO.ids(["MessageDeduplicationId": "d"], body: "x", queue: fifo) }  // no group
        #expect(throws: AWSError.self) { try FIFO.ids(["MessageGroupId": "g"], body: "x", queue: fifo) }  // no dedup id
        #expect(throws: AWSError.self) { try FIFO.ids(["MessageGroupId": "g h"], body: "x", queue: content) }  // space
        #expect(throws: AWSError.self) { try FIFO.ids(["MessageDeduplicationId": "d"], body: "x", queue: standard) }
        let ids = try FIFO.ids(["MessageGroupId": "g"], body: "hello", queue: content)
        #expect(ids.group == "g")
        #expect(ids.dedup == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try FIFO.ids(["MessageGroupId": "tenant"], body: "x", queue: standard).group == "tenant")
    }
}
