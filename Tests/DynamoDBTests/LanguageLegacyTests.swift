import Core
import Foundation
import Testing

@testable import DynamoDB

// The legacy parameters, through the expression evaluators.

@Suite struct LanguageLegacyTests {
    let item: Item = ["id": .s("k"), "n": num("5"), "s": .s("hello"), "ss": .ss(["a", "b"]), "l": .l([.s("x")])]

    @Test func expectedForms() throws {
        func holds(_ json: String, _ op: String? = nil) throws -> Bool {
            try LegacyConditions.expected(jsonValue(json), conditionalOperator: op)!.evaluate(item)
        }
        #expect(try holds(#"{"n":{"Value":{"N":"5"}}}"#))
        #expect(try holds(#"{"n":{"Value":{"N":"5"},"Exists":true}}"#))
        #expect(try holds(#"{"absent":{"Exists":false}}"#))
        #expect(try !holds(#"{"n":{"Exists":false}}"#))
        #expect(try holds(#"{"n":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"4"}]}}"#))
        #expect(try holds(#"{"n":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"4"},{"N":"6"}]}}"#))
        #expect(try holds(#"{"s":{"ComparisonOperator":"BEGINS_WITH","Value":{"S":"he"}}}"#))
        #expect(try holds(#"{"ss":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"a"}]}}"#))
        #expect(try holds(#"{"ss":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"z"}]}}"#))
        #expect(try !holds(#"{"absent":{"ComparisonOperator":"NOT_CONTAINS","AttributeValueList":[{"S":"z"}]}}"#))
        #expect(try holds(#"{"absent":{"ComparisonOperator":"NULL"}}"#))
        #expect(try holds(#"{"n":{"ComparisonOperator":"NOT_NULL"}}"#))
        #expect(try holds(#"{"n":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"1"},{"N":"5"}]}}"#))
        #expect(try holds(#"{"n":{"ComparisonOperator":"NE","AttributeValueList":[{"N":"1"}]}}"#))
        // AND by default, OR on request.
        #expect(try !holds(#"{"n":{"Value":{"N":"5"}},"s":{"Value":{"S":"no"}}}"#))
        #expect(try holds(#"{"n":{"Value":{"N":"5"}},"s":{"Value":{"S":"no"}}}"#, "OR"))
        #expect(try LegacyConditions.expected(nil) == nil)
        // A missing item satisfies only absence.
        #expect(try LegacyConditions.expected(jsonValue(#"{"id":{"Exists":false}}"#))!.evaluate(nil))
    }

    @Test func expectedTexts() {
        func check(_ json: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            expectError(message, code: "ValidationException", { _ = try LegacyConditions.expected(jsonValue(json)) }, sourceLocation: sourceLocation)
        }
        check(#"{"a":{"Value":{"S":"x"},"AttributeValueList":[{"S":"x"}],"ComparisonOperator":"EQ"}}"#, "One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: a")
        check(#"{"a":{"Exists":true,"ComparisonOperator":"NULL"}}"#, "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: a")
        check(#"{"a":{"ComparisonOperator":"EQ"}}"#, "One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a")
        check(#"{"a":{"AttributeValueList":[{"S":"x"}]}}"#, "One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: a")
        check(#"{"a":{}}"#, "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a")
        check(#"{"a":{"Exists":true}}"#, "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a")
        check(#"{"a":{"Exists":false,"Value":{"S":"x"}}}"#, "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a")
        check(#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"}]}}"#, "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator")
        check(#"{"a":{"ComparisonOperator":"IN","AttributeValueList":[{"N":"1"},{"S":"1"}]}}"#, "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type")
        check(#"{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"2"},{"N":"1"}]}}"#, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
    }

    @Test func filters() throws {
        let f = try LegacyConditions.filter(jsonValue(#"{"n":{"ComparisonOperator":"GE","AttributeValueList":[{"N":"5"}]},"s":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"hello"}]}}"#))!
        #expect(try f.evaluate(item))
        expectError("One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type") {
            _ = try LegacyConditions.filter(jsonValue(#"{"n":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"N":"5"}]}}"#))
        }
        expectError("One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator") {
            _ = try LegacyConditions.filter(jsonValue(#"{"n":{"ComparisonOperator":"NULL","AttributeValueList":[{"N":"5"}]}}"#))
        }
    }

    @Test func keyConditions() throws {
        let k = try LegacyConditions.keyConditions(jsonValue(#"{"id":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"k"}]},"sk":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"p"}]}}"#),
                                                   hashKey: "id", rangeKey: "sk")
        #expect(k.hashValue == .s("k") && k.range == .beginsWith(.s("p")))
        expectError("Attempted conditional constraint is not an indexable operation") {
            _ = try LegacyConditions.keyConditions(jsonValue(#"{"id":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"k"}]},"sk":{"ComparisonOperator":"NE","AttributeValueList":[{"S":"p"}]}}"#),
                                                   hashKey: "id", rangeKey: "sk")
        }
        expectError("Query condition missed key schema element: id") {
            _ = try LegacyConditions.keyConditions(jsonValue(#"{"sk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"k"}]}}"#), hashKey: "id", rangeKey: "sk")
        }
    }

    @Test func attributeUpdates() throws {
        let u = try LegacyParameters.attributeUpdates(jsonValue(#"{"n":{"Action":"ADD","Value":{"N":"2"}},"s":{"Action":"DELETE"},"t":{"Value":{"S":"new"}},"ss":{"Action":"DELETE","Value":{"SS":["a"]}},"l":{"Action":"ADD","Value":{"L":[{"S":"y"}]}},"c":{"Action":"ADD","Value":{"N":"1"}}}"#))!
        let r = try u.apply(to: item, keyNames: ["id"])
        #expect(r.item["n"] == num("7") && r.item["s"] == nil && r.item["t"] == .s("new") && r.item["ss"] == .ss(["b"]))
        #expect(r.item["l"] == .l([.s("x"), .s("y")]) && r.item["c"] == num("1"))
        #expect(r.updatedPaths == ["n", "s", "t", "ss", "l", "c"])
        expectError("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified") {
            _ = try LegacyParameters.attributeUpdates(jsonValue(#"{"a":{"Action":"PUT"}}"#))
        }
        expectError("One or more parameter values were invalid: DELETE action with value is not supported for the type S") {
            _ = try LegacyParameters.attributeUpdates(jsonValue(#"{"a":{"Action":"DELETE","Value":{"S":"x"}}}"#))
        }
        expectError("One or more parameter values were invalid: ADD action is not supported for the type S") {
            _ = try LegacyParameters.attributeUpdates(jsonValue(#"{"a":{"Action":"ADD","Value":{"S":"x"}}}"#))
        }
        expectError("Type mismatch for attribute to update") {
            _ = try LegacyParameters.attributeUpdates(jsonValue(#"{"s":{"Action":"ADD","Value":{"N":"1"}}}"#))!.apply(to: item, keyNames: ["id"])
        }
        expectError("One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key") {
            _ = try LegacyParameters.attributeUpdates(jsonValue(#"{"id":{"Value":{"S":"x"}}}"#))!.apply(to: item, keyNames: ["id"])
        }
    }

    @Test func attributesToGet() throws {
        let p = try LegacyParameters.attributesToGet(["n", "status", "a.b"])!
        #expect(p.apply(to: item.merging(["status": .s("on"), "a.b": .s("dotted")]) { $1 }) == ["n": num("5"), "status": .s("on"), "a.b": .s("dotted")])
        expectError("One or more parameter values were invalid: Duplicate value in attribute name: n") { _ = try LegacyParameters.attributesToGet(["n", "n"]) }
    }

    @Test func mixedStyles() {
        expectError("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}") {
            try LegacyParameters.checkStyles(["ProjectionExpression": "a", "AttributesToGet": ["a"]], .getItem)
        }
        expectError("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {ConditionExpression}") {
            try LegacyParameters.checkStyles(["ConditionExpression": "a", "AttributeUpdates": [:], "Expected": [:]], .updateItem)
        }
        expectError("ExpressionAttributeNames can only be specified when using expressions") {
            try LegacyParameters.checkStyles(["ExpressionAttributeNames": ["#a": "a"]], .putItem)
        }
        expectError("ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null") {
            try LegacyParameters.checkStyles(["ExpressionAttributeValues": [":a": ["S": "a"]]], .updateItem)
        }
        expectError("ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null") {
            try LegacyParameters.checkStyles(["ExpressionAttributeValues": [":a": ["S": "a"]]], .deleteItem)
        }
        // Query: KeyConditions may go with a FilterExpression.
        #expect(throws: Never.self) { try LegacyParameters.checkStyles(["KeyConditions": [:], "FilterExpression": "a = :v"], .query) }
        #expect(throws: Never.self) { try LegacyParameters.checkStyles(["Expected": [:], "ConditionalOperator": "OR"], .putItem) }
    }
}
