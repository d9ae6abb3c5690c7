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
