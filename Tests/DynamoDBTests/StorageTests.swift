@testable import DynamoDB
import Core
import Foundation
import GRDB
import Testing

struct StorageTests {
    @Test func itemsRoundTripAndKeysAreChecked() throws {
        let h = try Harness()
        try h.createTable()
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "sk": S("1"), "n": N("12345678901234567890123456789012345678")]])
        let got = try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("a"), "sk": S("1")]])["Item"] as? [String: Any]
        #expect((got?["n"] as? [String: Any])?["N"] as? String == "12345678901234567890123456789012345678")
        #expect(h.error("GetItem", ["TableName": "tab", "Key": ["pk": S("a")]]).message == "The provided key element does not match the schema")
        #expect(h.error("PutItem", ["TableName": "tab", "Item": ["sk": S("1")]]).message
                == "One or more parameter values were invalid: Missing the key pk in the item")
        #expect(h.error("PutItem", ["TableName": "tab", "Item": ["pk": N("1"), "sk": S("1")]]).message
                == "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N")
        #expect(h.error("PutItem", ["TableName": "tab", "Item": ["pk": S(""), "sk": S("1")]]).message
                == "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk")
        #expect(h.error("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "sk": S("2"), "big": S(String(repeating: "x", count: 400 * 1024))]]).message
                == "Item size has exceeded the maximum allowed size")
        #expect(h.error("PutItem", ["TableName": "nope", "Item": ["pk": S("a")]]) == ("ResourceNotFoundException", "Requested resource not found"))
        #expect(h.error("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "sk": S("1")], "ReturnValues": "ALL_NEW"]).message
                == "ReturnValues can only be ALL_OLD or NONE")
        let old = try h.call("DeleteItem", ["TableName": "tab", "Key": ["pk": S("a"), "sk": S("1")], "ReturnValues": "ALL_OLD"])
        #expect(((old["Attributes"] as? [String: Any])?["pk"] as? [String: Any])?["S"] as? String == "a")
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("a"), "sk": S("1")]])["Item"] == nil)
    }

    /// Range keys are stored in DynamoDB's order: numbers numerically, whatever their text.
    @Test func scanReadsInKeyOrderAndPages() throws {
        let h = try Harness()
        try h.createTable(range: "N")
        for n in ["10", "-3", "2", "1e2", "0.5"] { try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "sk": N(n)]]) }
        var seen: [Double] = [], start: Any?
        var pages = 0
        repeat {
            var input: [String: Any] = ["TableName": "tab", "Limit": 2]
            if let start { input["ExclusiveStartKey"] = start }
            let page = try h.call("Scan", input)
            for i in page["Items"] as? [[String: Any]] ?? [] { seen.append(Double(((i["sk"] as? [String: Any])?["N"] as? String) ?? "") ?? .nan) }
            start = page["LastEvaluatedKey"]
            pages += 1
        } while start != nil
        #expect(seen == [-3, 0.5, 2, 10, 100])
        #expect(pages == 3)
    }

    @Test func segmentsPartitionTheTable() throws {
        let h = try Harness()
        try h.createTable(range: nil)
        try h.call("BatchWriteItem", ["RequestItems": ["tab": (0..<25).map { ["PutRequest": ["Item": ["pk": S("k\($0)")]]] }]])
        var all: [String] = []
        for seg in 0..<4 {
            let page = try h.call("Scan", ["TableName": "tab", "Segment": seg, "TotalSegments": 4])
            all += (page["Items"] as? [[String: Any]] ?? []).compactMap { ($0["pk"] as? [String: Any])?["S"] as? String }
        }
        #expect(all.sorted() == (0..<25).map { "k\($0)" }.sorted())
        #expect(h.error("Scan", ["TableName": "tab", "Segment": 4, "TotalSegments": 4]).message
                == "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4")
    }

    /// An index entry exists exactly while the item has the index's key attributes.
    @Test func indexesFollowItemWrites() throws {
        let h = try Harness()
        try h.createTable(extra: [["AttributeName": "g", "AttributeType": "S"]],
                          gsi: [["IndexName": "byG", "KeySchema": [["AttributeName": "g", "KeyType": "HASH"]], "Projection": ["ProjectionType": "ALL"]]])
        func indexCount() throws -> Int {
            try h.service.store.db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM index_items") ?? -1 }
        }
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "sk": S("1"), "g": S("x")]])
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("b"), "sk": S("1")]])
        #expect(try indexCount() == 1)
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "sk": S("1"), "g": S("y")]])
        #expect(try indexCount() == 1)
        let scanned = try h.call("Scan", ["TableName": "tab", "IndexName": "byG"])["Items"] as? [[String: Any]]
        #expect((scanned?.first?["g"] as? [String: Any])?["S"] as? String == "y")
        #expect(h.error("PutItem", ["TableName": "tab", "Item": ["pk": S("c"), "sk": S("1"), "g": N("1")]]).message
                == "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: byG")
        try h.call("DeleteItem", ["TableName": "tab", "Key": ["pk": S("a"), "sk": S("1")]])
        #expect(try indexCount() == 0)
    }

    @Test func batchWriteRejectsDuplicatesAndWritesNothing() throws {
        let h = try Harness()
        try h.createTable(range: nil)
        let dup = h.error("BatchWriteItem", ["RequestItems": ["tab": [["PutRequest": ["Item": ["pk": S("a")]]], ["DeleteRequest": ["Key": ["pk": S("a")]]]]]])
        #expect(dup.message == "One or more parameter values were invalid: Provided list of item keys contains duplicates")
        #expect(h.error("BatchWriteItem", ["RequestItems": ["tab": (0..<26).map { ["PutRequest": ["Item": ["pk": S("k\($0)")]]] }]]).message
                == "Too many items requested for the BatchWriteItem call")
        #expect((try h.call("Scan", ["TableName": "tab"]))["Count"] as? Int == 0)
        try h.call("BatchWriteItem", ["RequestItems": ["tab": [["PutRequest": ["Item": ["pk": S("a")]]], ["PutRequest": ["Item": ["pk": S("b")]]]]]])
        let got = try h.call("BatchGetItem", ["RequestItems": ["tab": ["Keys": [["pk": S("a")], ["pk": S("zz")]]]]])
        #expect(((got["Responses"] as? [String: Any])?["tab"] as? [Any])?.count == 1)
        #expect((got["UnprocessedKeys"] as? [String: Any])?.isEmpty == true)
    }

    /// Expired items stay readable until the sweep, which follows the emulator's clock; they survive a reopen until then.
    @Test func timeToLiveSweep() throws {
        let clock = EmulatorClock()
        let h = try Harness(clock: clock)
        try h.createTable(range: nil)
        let now = Int(clock.now())
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("old"), "exp": N("\(now - 10)")]])
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("new"), "exp": N("\(now + 100)")]])
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("never"), "exp": S("\(now - 10)")]])
        #expect(try h.service.sweepExpired() == 0)  // TTL not enabled yet
        try h.call("UpdateTimeToLive", ["TableName": "tab", "TimeToLiveSpecification": ["Enabled": true, "AttributeName": "exp"]])
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("old")]])["Item"] != nil)
        #expect(try h.service.sweepExpired() == 1)
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("old")]])["Item"] == nil)
        clock.advance(by: 200)
        #expect(try h.service.sweepExpired() == 1)
        #expect((try h.call("Scan", ["TableName": "tab"]))["Count"] as? Int == 1)
    }

    @Test func stateSurvivesReopen() throws {
        let dir = NSTemporaryDirectory() + "ddb-test-" + UUID().uuidString
        do {
            let h = try Harness(dir: dir)
            try h.createTable(range: nil)
            try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a")]])
        }
        let again = try Harness(dir: dir)
        #expect(try again.call("GetItem", ["TableName": "tab", "Key": ["pk": S("a")]])["Item"] != nil)
    }
}

struct StreamTests {
    /// Each change writes one record with the view type's images, in order; a TTL deletion is a service's.
    @Test func recordsFollowWrites() throws {
        let h = try Harness()
        try h.createTable(range: nil)
        try h.call("UpdateTable", ["TableName": "tab", "StreamSpecification": ["StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"]])
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "v": N("1")]])
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "v": N("1")]])  // no change, no record
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "v": N("2"), "exp": N("1")]])
        try h.call("UpdateTimeToLive", ["TableName": "tab", "TimeToLiveSpecification": ["Enabled": true, "AttributeName": "exp"]])
        try h.service.sweepExpired()
        let streams = try h.call("ListStreams", ["TableName": "tab"])["Streams"] as? [[String: Any]]
        let arn = try #require(streams?.first?["StreamArn"] as? String)
        let shard = try #require(((try h.call("DescribeStream", ["StreamArn": arn])["StreamDescription"] as? [String: Any])?["Shards"] as? [[String: Any]])?.first?["ShardId"] as? String)
        let it = try h.call("GetShardIterator", ["StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"])["ShardIterator"] as? String
        let page = try h.call("GetRecords", ["ShardIterator": it ?? ""])
        let records = page["Records"] as? [[String: Any]] ?? []
        #expect(records.map { $0["eventName"] as? String } == ["INSERT", "MODIFY", "REMOVE"])
        let modify = records[1]["dynamodb"] as? [String: Any]
        #expect(((modify?["OldImage"] as? [String: Any])?["v"] as? [String: Any])?["N"] as? String == "1")
        #expect(((modify?["NewImage"] as? [String: Any])?["v"] as? [String: Any])?["N"] as? String == "2")
        #expect((records[2]["userIdentity"] as? [String: String])?["PrincipalId"] == "dynamodb.amazonaws.com")
        let next = try h.call("GetRecords", ["ShardIterator": page["NextShardIterator"] as? String ?? ""])
        #expect((next["Records"] as? [Any])?.isEmpty == true)
    }
}

struct IndexQueryTests {
    /// An index query pages by (index key, table key): items sharing an index key are neither skipped nor repeated,
    /// and only the asked hash key's range is read.
    @Test func pagesThroughEqualIndexKeys() throws {
        let h = try Harness()
        try h.createTable(extra: [["AttributeName": "g", "AttributeType": "S"]],
                          gsi: [["IndexName": "byG", "KeySchema": [["AttributeName": "g", "KeyType": "HASH"]], "Projection": ["ProjectionType": "KEYS_ONLY"]]])
        for i in 0..<7 { try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("p\(i % 3)"), "sk": S("s\(i)"), "g": S("same"), "x": N("\(i)")]]) }
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("q"), "sk": S("s"), "g": S("other")]])
        var seen: [String] = [], start: Any?, scanned = 0
        repeat {
            var input: [String: Any] = ["TableName": "tab", "IndexName": "byG", "KeyConditionExpression": "g = :g",
                                        "ExpressionAttributeValues": [":g": S("same")], "Limit": 3]
            if let start { input["ExclusiveStartKey"] = start }
            let page = try h.call("Query", input)
            scanned += page["ScannedCount"] as? Int ?? 0
            for item in page["Items"] as? [[String: Any]] ?? [] {
                #expect(item["x"] == nil)  // KEYS_ONLY
                seen.append(((item["sk"] as? [String: Any])?["S"] as? String) ?? "")
            }
            start = page["LastEvaluatedKey"]
            if let key = start as? [String: Any] { #expect(Set(key.keys) == ["pk", "sk", "g"]) }
        } while start != nil
        #expect(seen.sorted() == (0..<7).map { "s\($0)" })
        #expect(scanned == 7)
        let desc = try h.call("Query", ["TableName": "tab", "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
                                        "ExpressionAttributeValues": [":p": S("p0"), ":s": S("s")], "ScanIndexForward": false])
        #expect((desc["Items"] as? [[String: Any]])?.compactMap { ($0["sk"] as? [String: Any])?["S"] as? String } == ["s6", "s3", "s0"])
    }
}
