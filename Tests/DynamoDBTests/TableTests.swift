@testable import DynamoDB
import Core
import Foundation
import Testing

struct TableTests {
    @Test func createDescribeListDelete() throws {
        let h = try Harness()
        try h.createTable()
        let created = try h.call("DescribeTable", ["TableName": "tab"])["Table"] as? [String: Any]
        #expect(created?["TableStatus"] as? String == "ACTIVE")
        #expect(created?["TableArn"] as? String == "arn:aws:dynamodb:us-east-1:000000000000:table/tab")
        #expect((created?["BillingModeSummary"] as? [String: Any])?["BillingMode"] as? String == "PAY_PER_REQUEST")
        #expect(h.error("CreateTable", ["TableName": "tab", "AttributeDefinitions": [["AttributeName": "pk", "AttributeType": "S"]],
                                        "KeySchema": [["AttributeName": "pk", "KeyType": "HASH"]], "BillingMode": "PAY_PER_REQUEST"])
                == ("ResourceInUseException", "Table already exists: tab"))
        for n in ["b11", "a11", "c11"] { try h.createTable(n, range: nil) }
        let page = try h.call("ListTables", ["Limit": 2])
        #expect(page["TableNames"] as? [String] == ["a11", "b11"])
        #expect(page["LastEvaluatedTableName"] as? String == "b11")
        let rest = try h.call("ListTables", ["ExclusiveStartTableName": "b11"])
        #expect(rest["TableNames"] as? [String] == ["c11", "tab"])
        #expect(rest["LastEvaluatedTableName"] == nil)
        let deleted = try h.call("DeleteTable", ["TableName": "tab"])["TableDescription"] as? [String: Any]
        #expect(deleted?["TableStatus"] as? String == "DELETING")
        #expect(h.error("DescribeTable", ["TableName": "tab"]) == ("ResourceNotFoundException", "Requested resource not found: Table: tab not found"))
        #expect(h.error("DeleteTable", ["TableName": "tab"]).code == "ResourceNotFoundException")
    }

    @Test func createValidation() throws {
        let h = try Harness()
        let missing = h.error("CreateTable", ["TableName": "tab2", "AttributeDefinitions": [["AttributeName": "x", "AttributeType": "S"]],
                                              "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]], "BillingMode": "PAY_PER_REQUEST"])
        #expect(missing == ("ValidationException", "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [x]"))
        let extra = h.error("CreateTable", ["TableName": "tab2", "AttributeDefinitions": [["AttributeName": "id", "AttributeType": "S"], ["AttributeName": "x", "AttributeType": "S"]],
                                            "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]], "BillingMode": "PAY_PER_REQUEST"])
        #expect(extra.message == "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
        let provisioned = h.error("CreateTable", ["TableName": "tab2", "AttributeDefinitions": [["AttributeName": "id", "AttributeType": "S"]],
                                                  "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]]])
        #expect(provisioned.message == "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
        let lsiWithoutRange = h.error("CreateTable", ["TableName": "tab2", "AttributeDefinitions": [["AttributeName": "id", "AttributeType": "S"]],
                                                      "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]], "BillingMode": "PAY_PER_REQUEST",
                                                      "LocalSecondaryIndexes": [["IndexName": "lsi", "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]],
                                                                                 "Projection": ["ProjectionType": "ALL"]]]])
        #expect(lsiWithoutRange.message.contains("does not have a range key"))
        #expect(h.error("CreateTable", ["TableName": "tab2", "AttributeDefinitions": [["AttributeName": "id", "AttributeType": "S"]],
                                        "KeySchema": [["AttributeName": "id", "KeyType": "RANGE"]], "BillingMode": "PAY_PER_REQUEST"]).message
                == "Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
        // Nothing was created by the failures.
        #expect(try h.call("ListTables", [:])["TableNames"] as? [String] == [])
    }

    @Test func updateTableAddsBackfilledIndexAndProtectsDeletion() throws {
        let h = try Harness()
        try h.createTable()
        for i in 0..<5 {
            var item: [String: Any] = ["pk": S("p\(i)"), "sk": S("s")]
            if i % 2 == 0 { item["g"] = S("even") }
            try h.call("PutItem", ["TableName": "tab", "Item": item])
        }
        let answer = try h.call("UpdateTable", [
            "TableName": "tab", "AttributeDefinitions": [["AttributeName": "g", "AttributeType": "S"]],
            "GlobalSecondaryIndexUpdates": [["Create": ["IndexName": "byG", "KeySchema": [["AttributeName": "g", "KeyType": "HASH"]],
                                                        "Projection": ["ProjectionType": "KEYS_ONLY"]]]],
        ])
        let gsis = (answer["TableDescription"] as? [String: Any])?["GlobalSecondaryIndexes"] as? [[String: Any]]
        #expect(gsis?.first?["IndexStatus"] as? String == "CREATING")
        let later = (try h.call("DescribeTable", ["TableName": "tab"])["Table"] as? [String: Any])?["GlobalSecondaryIndexes"] as? [[String: Any]]
        #expect(later?.first?["IndexStatus"] as? String == "ACTIVE")
        #expect(later?.first?["ItemCount"] as? Int == 3)
        try h.call("UpdateTable", ["TableName": "tab", "DeletionProtectionEnabled": true])
        #expect(h.error("DeleteTable", ["TableName": "tab"]).message
                == "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
        try h.call("UpdateTable", ["TableName": "tab", "GlobalSecondaryIndexUpdates": [["Delete": ["IndexName": "byG"]]]])
        #expect((try h.call("DescribeTable", ["TableName": "tab"])["Table"] as? [String: Any])?["GlobalSecondaryIndexes"] == nil)
    }

    @Test func tagsAndTimeToLive() throws {
        let h = try Harness()
        try h.createTable()
        let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/tab"
        try h.call("TagResource", ["ResourceArn": arn, "Tags": [["Key": "a", "Value": "1"], ["Key": "b", "Value": "2"]]])
        try h.call("UntagResource", ["ResourceArn": arn, "TagKeys": ["a"]])
        #expect(try h.call("ListTagsOfResource", ["ResourceArn": arn])["Tags"] as? [[String: String]] == [["Key": "b", "Value": "2"]])
        try h.call("UpdateTimeToLive", ["TableName": "tab", "TimeToLiveSpecification": ["Enabled": true, "AttributeName": "exp"]])
        #expect(h.error("UpdateTimeToLive", ["TableName": "tab", "TimeToLiveSpecification": ["Enabled": true, "AttributeName": "exp"]]).message
                == "TimeToLive is already enabled")
        let d = try h.call("DescribeTimeToLive", ["TableName": "tab"])["TimeToLiveDescription"] as? [String: String]
        #expect(d == ["TimeToLiveStatus": "ENABLED", "AttributeName": "exp"])
    }
}

struct ResetTests {
    /// POST /_cloudless/reset empties tables, items and the cached table documents.
    @Test func resetForgetsEverything() async throws {
        let h = try Harness()
        try h.createTable(range: nil)
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a")]])
        try await h.service.reset()
        #expect(try h.call("ListTables", [:])["TableNames"] as? [String] == [])
        #expect(h.error("GetItem", ["TableName": "tab", "Key": ["pk": S("a")]]).code == "ResourceNotFoundException")
        try h.createTable(range: nil)
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("a")]])["Item"] == nil)
    }
}
