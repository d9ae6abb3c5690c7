@testable import DynamoDB
import Core
import Foundation
import Testing

struct TransactionTests {
    /// A failed condition anywhere cancels every action: nothing is written, reasons come in request order.
    @Test func allOrNothing() throws {
        let h = try Harness()
        try h.createTable(range: nil)
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "v": N("1")]])
        let items: [[String: Any]] = [
            ["Put": ["TableName": "tab", "Item": ["pk": S("b")]]],
            ["Delete": ["TableName": "tab", "Key": ["pk": S("a")]]],
            ["ConditionCheck": ["TableName": "tab", "Key": ["pk": S("c")], "ConditionExpression": "attribute_exists(pk)"]],
        ]
        do {
            try h.call("TransactWriteItems", ["TransactItems": items])
            Issue.record("no cancellation")
        } catch let e as ErrorWithBody {
            #expect(e.error.code == "TransactionCanceledException")
            #expect(e.error.message == "Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, ConditionalCheckFailed]")
            #expect((e.members["CancellationReasons"] as? [[String: Any]])?.map { $0["Code"] as? String } == ["None", "None", "ConditionalCheckFailed"])
        }
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("b")]])["Item"] == nil)
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("a")]])["Item"] != nil)
        // The same actions with a condition that holds: all applied.
        var ok = items
        ok[2] = ["ConditionCheck": ["TableName": "tab", "Key": ["pk": S("a")], "ConditionExpression": "attribute_exists(pk)"]]
        #expect(h.error("TransactWriteItems", ["TransactItems": ok]).message == "Transaction request cannot include multiple operations on one item")
        ok.remove(at: 2)
        try h.call("TransactWriteItems", ["TransactItems": ok])
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("b")]])["Item"] != nil)
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("a")]])["Item"] == nil)
    }

    /// A token repeats the first answer for 10 minutes of the emulator's clock; other parameters with it are refused.
    @Test func clientRequestToken() throws {
        let clock = EmulatorClock()
        let h = try Harness(clock: clock)
        try h.createTable(range: nil)
        let put: [String: Any] = ["TransactItems": [["Put": ["TableName": "tab", "Item": ["pk": S("a")], "ConditionExpression": "attribute_not_exists(pk)"]]],
                                  "ClientRequestToken": "tok"]
        try h.call("TransactWriteItems", put)
        try h.call("TransactWriteItems", put)  // not run again: its condition would fail
        var other = put
        other["TransactItems"] = [["Put": ["TableName": "tab", "Item": ["pk": S("b")]]]]
        #expect(h.error("TransactWriteItems", other).code == "IdempotentParameterMismatchException")
        clock.advance(by: 601)
        #expect(h.error("TransactWriteItems", put).code == "TransactionCanceledException")
    }

    @Test func conditionsOnSingleWrites() throws {
        let h = try Harness()
        try h.createTable(range: nil)
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "v": N("1")]])
        do {
            try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a")], "ConditionExpression": "v > :x",
                                   "ExpressionAttributeValues": [":x": N("5")], "ReturnValuesOnConditionCheckFailure": "ALL_OLD"])
            Issue.record("no failure")
        } catch let e as ErrorWithBody {
            #expect(e.error.message == "The conditional request failed")
            #expect(((e.members["Item"] as? [String: Any])?["v"] as? [String: Any])?["N"] as? String == "1")
        }
        #expect(h.error("DeleteItem", ["TableName": "tab", "Key": ["pk": S("a")], "ConditionExpression": "attribute_not_exists(pk)"])
                == ("ConditionalCheckFailedException", "The conditional request failed"))
        #expect(try h.call("GetItem", ["TableName": "tab", "Key": ["pk": S("a")]])["Item"] != nil)
    }
}

struct ReturnValuesTests {
    @Test func updatedNewKeepsNestedStructure() throws {
        let h = try Harness()
        try h.createTable(range: nil)
        try h.call("PutItem", ["TableName": "tab", "Item": ["pk": S("a"), "m": ["M": ["b": N("1"), "c": N("2")]], "z": N("9")]])
        let out = try h.call("UpdateItem", ["TableName": "tab", "Key": ["pk": S("a")], "UpdateExpression": "SET m.b = :v",
                                            "ExpressionAttributeValues": [":v": N("5")], "ReturnValues": "UPDATED_NEW"])
        let m = ((out["Attributes"] as? [String: Any])?["m"] as? [String: Any])?["M"] as? [String: Any]
        #expect(m?.keys.sorted() == ["b"])
        #expect((out["Attributes"] as? [String: Any])?["z"] == nil)
        let old = try h.call("UpdateItem", ["TableName": "tab", "Key": ["pk": S("a")], "UpdateExpression": "REMOVE z", "ReturnValues": "UPDATED_OLD"])
        #expect(((old["Attributes"] as? [String: Any])?["z"] as? [String: Any])?["N"] as? String == "9")
    }
}
