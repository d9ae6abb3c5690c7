import Core
import Foundation

// TEMPORARY: a minimal stand-in for the dynlang branch's value model, so the service compiles before the merge.
// Deleted when `dynlang` is merged (its Language/ files define these names).
struct DynamoNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    let text: String
    init(_ text: String) throws(AWSError) { self.text = text }
    var description: String { text }
    static func < (a: Self, b: Self) -> Bool { (Double(a.text) ?? 0) < (Double(b.text) ?? 0) }
}

enum AttributeValue: Sendable, Hashable {
    case s(String), n(DynamoNumber), b([UInt8]), ss([String]), ns([DynamoNumber]), bs([[UInt8]])
    case m([String: AttributeValue]), l([AttributeValue]), null, bool(Bool)
    init(json: Any) throws(AWSError) {
        guard let o = json as? [String: Any], let k = o.keys.first, let v = o[k] else { throw AWSError("ValidationException", "bad value") }
        switch k {
        case "S": self = .s(v as? String ?? "")
        case "N": self = .n(try DynamoNumber(v as? String ?? "0"))
        case "B": self = .b(Array(Data(base64Encoded: v as? String ?? "") ?? Data()))
        case "BOOL": self = .bool(v as? Bool ?? false)
        case "NULL": self = .null
        case "SS": self = .ss(v as? [String] ?? [])
        case "NS": var a: [DynamoNumber] = []; for x in v as? [String] ?? [] { a.append(try DynamoNumber(x)) }; self = .ns(a)
        case "L": var a: [AttributeValue] = []; for x in v as? [Any] ?? [] { a.append(try AttributeValue(json: x)) }; self = .l(a)
        case "M": var m: [String: AttributeValue] = [:]; for (k, x) in v as? [String: Any] ?? [:] { m[k] = try AttributeValue(json: x) }; self = .m(m)
        default: throw AWSError("ValidationException", "bad value")
        }
    }
    var json: Any {
        switch self {
        case .s(let s): return ["S": s]
        case .n(let n): return ["N": n.text]
        case .b(let b): return ["B": Data(b).base64EncodedString()]
        case .ss(let s): return ["SS": s]
        case .ns(let n): return ["NS": n.map(\.text)]
        case .bs(let b): return ["BS": b.map { Data($0).base64EncodedString() }]
        case .m(let m): return ["M": m.mapValues(\.json)]
        case .l(let l): return ["L": l.map(\.json)]
        case .null: return ["NULL": true]
        case .bool(let b): return ["BOOL": b]
        }
    }
    var typeName: String {
        switch self {
        case .s: "S"
        case .n: "N"
        case .b: "B"
        case .ss: "SS"
        case .ns: "NS"
        case .bs: "BS"
        case .m: "M"
        case .l: "L"
        case .null: "NULL"
        case .bool: "BOOL"
        }
    }
}

typealias Item = [String: AttributeValue]

enum Items {
    static func decode(_ json: Any?) throws(AWSError) -> Item {
        guard let o = json as? [String: Any] else { throw AWSError("ValidationException", "bad item") }
        var item: Item = [:]
        for (k, v) in o { item[k] = try AttributeValue(json: v) }
        return item
    }
    static func encode(_ item: Item) -> [String: Any] { item.mapValues(\.json) }
    static func size(_ item: Item) -> Int {
        item.reduce(0) { $0 + $1.key.utf8.count + ((try? JSONSerialization.data(withJSONObject: $1.value.json))?.count ?? 0) }
    }
}

enum KeyOrder {
    static func bytes(_ value: AttributeValue) -> [UInt8] {
        switch value {
        case .s(let s): return Array(s.utf8)
        case .b(let b): return b
        case .n(let n):
            let d = Double(n.text) ?? 0
            var bits = d.bitPattern
            bits = d < 0 ? ~bits : bits | (1 << 63)
            return withUnsafeBytes(of: bits.bigEndian) { Array($0) }
        default: return []
        }
    }
}

// TEMPORARY stand-ins for the expression API until dynlang is merged (they refuse every expression).
struct ExpressionInput {
    init(names: Any?, values: Any?) throws(AWSError) {}
    func checkAllUsed() throws(AWSError) {}
}
struct Condition {
    static func parse(_ text: String, _ input: inout ExpressionInput) throws(AWSError) -> Condition { throw AWSError("ValidationException", "expressions not merged yet") }
    func evaluate(_ item: Item?) throws(AWSError) -> Bool { true }
}
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
