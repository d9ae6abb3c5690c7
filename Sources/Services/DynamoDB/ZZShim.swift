import Core
import Foundation

// TEMPORARY stand-ins for the expression API until dynlang is merged (they refuse every expression).
struct Update {
    static func parse(_ text: String, _ input: inout ExpressionInput) throws(AWSError) -> Update { throw AWSError("ValidationException", "expressions not merged yet") }
    func apply(to item: Item, keyNames: [String]) throws(AWSError) -> (item: Item, updatedPaths: Set<String>) { (item, []) }
}
struct Projection {
    static func parse(_ text: String, _ input: inout ExpressionInput) throws(AWSError) -> Projection { throw AWSError("ValidationException", "expressions not merged yet") }
    func apply(to item: Item) -> Item { item }
}
enum RangeCondition { case eq(AttributeValue), lt(AttributeValue), le(AttributeValue), gt(AttributeValue), ge(AttributeValue), between(AttributeValue, AttributeValue), beginsWith(AttributeValue) }
struct KeyCondition {
    static func parse(_ text: String, _ input: inout ExpressionInput, hashKey: String, rangeKey: String?) throws(AWSError) -> KeyCondition { throw AWSError("ValidationException", "expressions not merged yet") }
    var hashValue: AttributeValue { .null }
    var range: RangeCondition? { nil }
}
