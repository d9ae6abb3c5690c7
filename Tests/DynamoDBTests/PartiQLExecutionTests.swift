@testable import DynamoDB
import Core
import Foundation
import Testing

/// ExecuteStatement, BatchExecuteStatement and ExecuteTransaction against a service on a temporary folder.
struct PartiQLExecutionTests {
    @discardableResult func run(_ h: Harness, _ statement: String, _ parameters: [[String: Any]]? = nil, extra: [String: Any] = [:]) throws -> [String: Any] {
        var input: [String: Any] = ["Statement": statement]
        if let parameters { input["Parameters"] = parameters }
        for (k, v) in extra { input[k] = v }
        return try h.call("ExecuteStatement", input)
    }

    func items(_ out: [String: Any]) -> [[String: Any]] { out["Items"] as? [[String: Any]] ?? [] }

    func get(_ h: Harness, _ pk: String, _ sk: String) throws -> [String: Any]? {
        try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S(pk), "sk": S(sk)]])["Item"] as? [String: Any]
    }

    @Test func insertSelectDuplicate() throws {
        let h = try Harness()
        try h.createTable()
        try run(h, #"INSERT INTO "tab" VALUE {'pk': ?, 'sk': 'a', 'n': 1, 'tags': <<'x'>>}"#, [S("p")])
        #expect(try get(h, "p", "a")?["tags"] as? [String: [String]] == ["SS": ["x"]])
        let dup = h.error("ExecuteStatement", ["Statement": "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'a'}"])
        #expect(dup == ("DuplicateItemException", "Duplicate primary key exists in table"))
        #expect(h.error("ExecuteStatement", ["Statement": "INSERT INTO tab VALUE {'pk': 'p'}"]).message == "One or more parameter values were invalid: Missing the key sk in the item")
        #expect(h.error("ExecuteStatement", ["Statement": "SELECT * FROM nope"]) == ("ResourceNotFoundException", "Requested resource not found"))
        let got = items(try run(h, "SELECT n FROM tab WHERE pk = 'p' AND sk = 'a'"))
        #expect(got.count == 1 && got[0]["n"] as? [String: String] == ["N": "1"] && got[0]["pk"] == nil)
        #expect(items(try run(h, "SELECT * FROM tab WHERE pk = 'p' AND n > 5")).isEmpty)
    }

    /// A scan pages by Limit with an opaque NextToken that resumes where it stopped; a key-range read likewise,
    /// in either order.
    @Test func paging() throws {
        let h = try Harness()
        try h.createTable()
        for p in ["a", "b", "c"] {
            for s in 0..<4 { try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S(p), "sk": S("s\(s)"), "v": N("\(s)")]]) }
        }
        var seen: [String] = [], token: String?, pages = 0
        repeat {
            var extra: [String: Any] = ["Limit": 5]
            if let token { extra["NextToken"] = token }
            let out = try run(h, "SELECT * FROM tab WHERE v >= ?", [N("1")], extra: extra)
            seen += items(out).map { (($0["pk"] as! [String: String])["S"]!) + (($0["sk"] as! [String: String])["S"]!) }
            token = out["NextToken"] as? String
            pages += 1
        } while token != nil
        #expect(pages == 3 && seen.count == 9 && Set(seen).count == 9)
        // The token belongs to its statement and parameters.
        let first = try run(h, "SELECT * FROM tab", extra: ["Limit": 2])
        let other = h.error("ExecuteStatement", ["Statement": "SELECT * FROM tab WHERE v = 1", "NextToken": first["NextToken"]!])
        #expect(other.code == "ValidationException")
        #expect(h.error("ExecuteStatement", ["Statement": "SELECT * FROM tab", "NextToken": "garbage"]).code == "ValidationException")
        // Key range, descending, with IN over two partitions and paging between them.
        var keys: [String] = []
        token = nil
        repeat {
            var extra: [String: Any] = ["Limit": 3]
            if let token { extra["NextToken"] = token }
            let out = try run(h, "SELECT sk FROM tab WHERE pk IN ['c', 'a'] AND sk > 's0' ORDER BY pk, sk DESC", extra: extra)
            keys += items(out).map { ($0["sk"] as! [String: String])["S"]! }
            token = out["NextToken"] as? String
        } while token != nil
        #expect(keys == ["s3", "s2", "s1", "s3", "s2", "s1"])
    }

    @Test func indexRead() throws {
        let h = try Harness()
        try h.createTable(extra: [["AttributeName": "g", "AttributeType": "S"]],
                          gsi: [["IndexName": "by-g", "KeySchema": [["AttributeName": "g", "KeyType": "HASH"]],
                                 "Projection": ["ProjectionType": "KEYS_ONLY"]]])
        try run(h, "INSERT INTO tab VALUE {'pk': 'a', 'sk': '1', 'g': 'x', 'other': 1}")
        try run(h, "INSERT INTO tab VALUE {'pk': 'b', 'sk': '1', 'g': 'y'}")
        let got = items(try run(h, #"SELECT * FROM "tab"."by-g" WHERE g = 'x'"#))
        #expect(got.count == 1 && got[0]["other"] == nil && got[0]["pk"] as? [String: String] == ["S": "a"])
        #expect(h.error("ExecuteStatement", ["Statement": #"SELECT * FROM "tab"."by-g""#, "ConsistentRead": true]).message == "Strongly consistent read is not supported on Global Secondary Indexes")
        #expect(h.error("ExecuteStatement", ["Statement": #"SELECT * FROM "tab"."nope""#]).message == "The table does not have the specified index: nope")
    }

    @Test func updateAndDelete() throws {
        let h = try Harness()
        try h.createTable()
        try run(h, "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'a', 'n': 1, 'l': [1], 'm': {'x': 1}, 'gone': 'y', 's': <<'a', 'b'>>}")
        let out = try run(h, """
            UPDATE tab SET n = n + 1 SET l = list_append(l, [2]) SET m.x = 'z' REMOVE gone SET s = set_delete(s, <<'a'>>)
            SET s2 = set_add(s2, <<3>>) WHERE pk = 'p' AND sk = 'a' AND n = 1 RETURNING ALL NEW *
            """)
        let new = items(out).first
        #expect(new?["n"] as? [String: String] == ["N": "2"])
        #expect(new?["gone"] == nil)
        #expect((new?["l"] as? [String: [Any]])?["L"]?.count == 2)
        #expect(new?["s"] as? [String: [String]] == ["SS": ["b"]])
        #expect(new?["s2"] as? [String: [String]] == ["NS": ["3"]])
        let old = items(try run(h, "UPDATE tab SET n = 5 WHERE pk = 'p' AND sk = 'a' RETURNING MODIFIED OLD *")).first
        #expect(old?.keys.sorted() == ["n"] && old?["n"] as? [String: String] == ["N": "2"])
        // A false condition, or no item, changes nothing.
        #expect(h.error("ExecuteStatement", ["Statement": "UPDATE tab SET n = 9 WHERE pk = 'p' AND sk = 'a' AND n = 1"])
                == ("ConditionalCheckFailedException", "The conditional request failed"))
        #expect(h.error("ExecuteStatement", ["Statement": "UPDATE tab SET n = 9 WHERE pk = 'p' AND sk = 'zz'"]).code == "ConditionalCheckFailedException")
        #expect(try get(h, "p", "zz") == nil)
        #expect(try get(h, "p", "a")?["n"] as? [String: String] == ["N": "5"])
        do {
            _ = try run(h, "DELETE FROM tab WHERE pk = 'p' AND sk = 'a' AND n = 1", extra: ["ReturnValuesOnConditionCheckFailure": "ALL_OLD"])
            Issue.record("no failure")
        } catch let e as ErrorWithBody {
            #expect(e.error.code == "ConditionalCheckFailedException" && (e.members["Item"] as? [String: Any])?["n"] != nil)
        }
        #expect(h.error("ExecuteStatement", ["Statement": "DELETE FROM tab WHERE pk = 'p'"]).message == "Where clause does not contain a mandatory equality on all key attributes")
        #expect(h.error("ExecuteStatement", ["Statement": "UPDATE tab SET pk = 'q' WHERE pk = 'p' AND sk = 'a'"]).message.hasPrefix("One or more parameter values were invalid: Cannot update attribute pk"))
        let deleted = items(try run(h, "DELETE FROM tab WHERE pk = 'p' AND sk = 'a' RETURNING ALL OLD *"))
        #expect(deleted.first?["n"] as? [String: String] == ["N": "5"])
        #expect(try get(h, "p", "a") == nil)
        // Deleting nothing is no change and no error.
        #expect(items(try run(h, "DELETE FROM tab WHERE pk = 'p' AND sk = 'a'")).isEmpty)
    }

    @Test func batch() throws {
        let h = try Harness()
        try h.createTable()
        try run(h, "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'a'}")
        let out = try h.call("BatchExecuteStatement", ["Statements": [
            ["Statement": "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'b'}"],
            ["Statement": "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'a'}"],
            ["Statement": "UPDATE tab SET v = ? WHERE pk = 'p' AND sk = 'a'", "Parameters": [N("7")]],
            ["Statement": "DELETE FROM nope WHERE pk = 'p' AND sk = 'a'"],
        ], "ReturnConsumedCapacity": "TOTAL"])
        let r = out["Responses"] as? [[String: Any]] ?? []
        #expect(r.count == 4)
        #expect(r[0]["TableName"] as? String == "tab" && r[0]["Error"] == nil)
        #expect((r[1]["Error"] as? [String: Any])?["Code"] as? String == "DuplicateItem")
        #expect(r[2]["Error"] == nil)
        #expect((r[3]["Error"] as? [String: Any])?["Code"] as? String == "ResourceNotFound")
        #expect(try get(h, "p", "b") != nil && get(h, "p", "a")?["v"] as? [String: String] == ["N": "7"])
        #expect((out["ConsumedCapacity"] as? [[String: Any]])?.first?["TableName"] as? String == "tab")
        let reads = try h.call("BatchExecuteStatement", ["Statements": [
            ["Statement": "SELECT * FROM tab WHERE pk = 'p' AND sk = 'a'"],
            ["Statement": "SELECT * FROM tab WHERE pk = 'p' AND sk = 'none'"],
            ["Statement": "SELECT * FROM tab WHERE pk = 'p'"],
        ]])["Responses"] as? [[String: Any]] ?? []
        #expect(reads[0]["Item"] != nil && reads[1]["Item"] == nil && reads[1]["TableName"] as? String == "tab")
        #expect((reads[2]["Error"] as? [String: Any])?["Code"] as? String == "ValidationError")
        let mixed = h.error("BatchExecuteStatement", ["Statements": [["Statement": "SELECT * FROM tab WHERE pk = 'p' AND sk = 'a'"],
                                                                     ["Statement": "DELETE FROM tab WHERE pk = 'p' AND sk = 'a'"]]])
        #expect(mixed.code == "ValidationException")
        #expect(try get(h, "p", "a") != nil)
        #expect(h.error("BatchExecuteStatement", ["Statements": Array(repeating: ["Statement": "SELECT * FROM tab"], count: 26)]).code == "ValidationException")
    }

    @Test func transaction() throws {
        let h = try Harness()
        try h.createTable()
        try run(h, "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'a', 'n': 1}")
        let statements: [[String: Any]] = [
            ["Statement": "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'b'}"],
            ["Statement": "UPDATE tab SET n = 2 WHERE pk = 'p' AND sk = 'a' AND n = 9", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"],
            ["Statement": "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'c'}"],
        ]
        do {
            try h.call("ExecuteTransaction", ["TransactStatements": statements])
            Issue.record("no cancellation")
        } catch let e as ErrorWithBody {
            #expect(e.error.code == "TransactionCanceledException")
            #expect(e.error.message.hasSuffix("[None, ConditionalCheckFailed, None]"))
            let reasons = e.members["CancellationReasons"] as? [[String: Any]] ?? []
            #expect(reasons.map { $0["Code"] as? String } == ["None", "ConditionalCheckFailed", "None"])
            #expect(reasons[1]["Item"] != nil)
        }
        #expect(try get(h, "p", "b") == nil && get(h, "p", "c") == nil)
        var ok = statements
        ok[1] = ["Statement": "UPDATE tab SET n = 2 WHERE pk = 'p' AND sk = 'a' AND n = 1"]
        try h.call("ExecuteTransaction", ["TransactStatements": ok, "ClientRequestToken": "tok"])
        #expect(try get(h, "p", "b") != nil && get(h, "p", "a")?["n"] as? [String: String] == ["N": "2"])
        // The same token and statements answer again without writing (the INSERTs would now be duplicates).
        try h.call("ExecuteTransaction", ["TransactStatements": ok, "ClientRequestToken": "tok"])
        #expect(h.error("ExecuteTransaction", ["TransactStatements": [ok[0]], "ClientRequestToken": "tok"]).code == "IdempotentParameterMismatchException")
        #expect(h.error("ExecuteTransaction", ["TransactStatements": [ok[0], ok[0]]]).message == "Transaction request cannot include multiple operations on one item")
        let read = try h.call("ExecuteTransaction", ["TransactStatements": [
            ["Statement": "SELECT n FROM tab WHERE pk = 'p' AND sk = 'a'"], ["Statement": "SELECT * FROM tab WHERE pk = 'p' AND sk = 'x'"],
        ]])["Responses"] as? [[String: Any]] ?? []
        #expect((read.first?["Item"] as? [String: Any])?.keys.sorted() == ["n"] && read.last?["Item"] == nil)
        #expect(h.error("ExecuteTransaction", ["TransactStatements": [["Statement": "SELECT * FROM tab WHERE pk = 'p'"]]]).message
                == "Select statements within ExecuteTransaction must specify the primary key in the where clause.")
    }

    /// EXISTS(SELECT …) is a condition check inside a write transaction, and refused anywhere else.
    @Test func existsConditionCheck() throws {
        let h = try Harness()
        try h.createTable()
        try run(h, "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'a', 'n': 1}")
        let check = "EXISTS(SELECT * FROM tab WHERE pk = 'p' AND sk = 'a' AND n = ?)"
        let failing: [[String: Any]] = [["Statement": check, "Parameters": [N("2")]],
                                        ["Statement": "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'b'}"]]
        #expect(h.error("ExecuteTransaction", ["TransactStatements": failing]).code == "TransactionCanceledException")
        #expect(try get(h, "p", "b") == nil)
        var holding = failing
        holding[0]["Parameters"] = [N("1")]
        try h.call("ExecuteTransaction", ["TransactStatements": holding])
        #expect(try get(h, "p", "b") != nil)
        #expect(h.error("ExecuteTransaction", ["TransactStatements": [["Statement": "EXISTS(SELECT * FROM tab WHERE pk = 'p')"]]]).message
                == "EXISTS() must contain a single item read with additional condition")
        #expect(h.error("ExecuteStatement", ["Statement": check, "Parameters": [N("1")]]).message == "EXISTS can only be used in ExecuteTransaction write requests.")
    }

    /// A PartiQL write leaves a stream record, as every item change does.
    @Test func streamRecord() throws {
        let h = try Harness()
        try h.createTable()
        try h.call("UpdateTable", ["TableName": "tab", "StreamSpecification": ["StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"]])
        try run(h, "INSERT INTO tab VALUE {'pk': 'p', 'sk': 'a'}")
        try run(h, "UPDATE tab SET v = 1 WHERE pk = 'p' AND sk = 'a'")
        let arn = try h.call("DescribeTable", ["TableName": "tab"])["Table"].flatMap { ($0 as? [String: Any])?["LatestStreamArn"] as? String }
        let shard = ((try h.call("DescribeStream", ["StreamArn": arn!])["StreamDescription"] as? [String: Any])?["Shards"] as? [[String: Any]])?.first?["ShardId"] as? String
        let it = try h.call("GetShardIterator", ["StreamArn": arn!, "ShardId": shard!, "ShardIteratorType": "TRIM_HORIZON"])["ShardIterator"] as! String
        let records = try h.call("GetRecords", ["ShardIterator": it])["Records"] as? [[String: Any]] ?? []
        #expect(records.map { $0["eventName"] as? String } == ["INSERT", "MODIFY"])
    }
}
