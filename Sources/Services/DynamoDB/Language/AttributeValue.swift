import Core
import Foundation

/// DynamoDB's value model. An `AttributeValue` is one wire value (`{"S": "x"}`, `{"N": "1.5"}`, `{"B": "<base64>"}`,
/// sets, `M`, `L`, `NULL`, `BOOL`), validated on the way in with AWS's texts (empty or duplicate sets, numbers out of
/// range, more than one type key, bad Base64) and normalised (numbers; sets compare as sets, whatever their order).
/// `Items` decodes and encodes whole items and computes DynamoDB's item size for the 400 KB limit.
enum AttributeValue: Sendable, Hashable {
    case s(String), n(DynamoNumber), b([UInt8]), ss([String]), ns([DynamoNumber]), bs([[UInt8]])
    case m([String: AttributeValue]), l([AttributeValue]), null, bool(Bool)

    /// DynamoDB's limit on nested M/L levels.
    static let maxDepth = 32

    init(json: Any) throws(AWSError) { try self.init(json: json, depth: 0) }

    private init(json: Any, depth: Int) throws(AWSError) {
        guard let object = json as? [String: Any] else {
            throw Self.serialization("Start of structure or map found where not expected")
        }
        if object.isEmpty {
            throw AWSError("ValidationException", "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        }
        if depth >= Self.maxDepth { throw AWSError("ValidationException", "Nesting Levels have exceeded supported limits") }
        // Each member is validated before the count of types is checked, as AWS does.
        var decoded: AttributeValue? = nil
        for (type, raw) in object.sorted(by: { $0.key < $1.key }) {
            decoded = try Self.decodeMember(type, raw, depth: depth)
        }
        if object.count > 1 {
            throw AWSError("ValidationException", "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
        }
        self = decoded!
    }

    private static func decodeMember(_ type: String, _ raw: Any, depth: Int) throws(AWSError) -> AttributeValue {
        switch type {
        case "S": return .s(try string(raw))
        case "N": return .n(try DynamoNumber(try string(raw)))
        case "B": return .b(try base64(raw))
        case "BOOL":
            guard let flag = boolean(raw) else { throw serialization("Unexpected token received from parser") }
            return .bool(flag)
        case "NULL":
            guard let flag = boolean(raw) else { throw serialization("Unexpected token received from parser") }
            guard flag else {
                throw AWSError("ValidationException", "One or more parameter values were invalid: Null attribute value types must have the value of true")
            }
            return .null
        case "SS":
            let members = try list(raw).map { (m: Any) throws(AWSError) -> String in try string(m) }
            if members.isEmpty { throw invalid("An string set  may not be empty") }
            if Set(members).count != members.count {
                throw invalid("Input collection [\(members.joined(separator: ", "))] contains duplicates.")
            }
            return .ss(members)
        case "NS":
            let members = try list(raw).map { (m: Any) throws(AWSError) -> DynamoNumber in try DynamoNumber(try string(m)) }
            if members.isEmpty { throw invalid("An number set  may not be empty") }
            if Set(members).count != members.count { throw AWSError("ValidationException", "Input collection contains duplicates") }
            return .ns(members)
        case "BS":
            let texts = try list(raw).map { (m: Any) throws(AWSError) -> String in try string(m) }
            if texts.isEmpty { throw invalid("Binary sets should not be empty") }
            let members = try texts.map { (t: String) throws(AWSError) -> [UInt8] in try base64(t) }
            if Set(members).count != members.count {
                throw invalid("Input collection [\(texts.joined(separator: ", "))]of type BS contains duplicates.")
            }
            return .bs(members)
        case "M":
            guard let map = raw as? [String: Any] else { throw serialization("Unexpected field type") }
            var out: [String: AttributeValue] = [:]
            for (k, v) in map { out[k] = try AttributeValue(json: v, depth: depth + 1) }
            return .m(out)
        case "L":
            return .l(try list(raw).map { (v: Any) throws(AWSError) -> AttributeValue in try AttributeValue(json: v, depth: depth + 1) })
        default:
            throw serialization("Unrecognized field name: \(type)")
        }
    }

    private static func invalid(_ text: String) -> AWSError {
        AWSError("ValidationException", "One or more parameter values were invalid: " + text)
    }

    private static func serialization(_ text: String) -> AWSError { AWSError("SerializationException", text) }

    private static func string(_ raw: Any) throws(AWSError) -> String {
        if let text = raw as? String { return text }
        if raw is [Any] { throw serialization("Unrecognized collection type class java.lang.String") }
        if raw is [String: Any] { throw serialization("Start of structure or map found where not expected") }
        if type(of: raw) == Bool.self || (raw as? NSNumber).map(isJSONBoolean) == true {
            let number = raw as? Bool ?? false
            throw serialization("\(number ? "TRUE_VALUE" : "FALSE_VALUE") cannot be converted to String")
        }
        throw serialization("NUMBER_VALUE cannot be converted to String")
    }

    private static func list(_ raw: Any) throws(AWSError) -> [Any] {
        guard let items = raw as? [Any] else {
            if raw is [String: Any] { throw serialization("Start of structure or map found where not expected") }
            throw serialization("Unexpected field type")
        }
        return items
    }

    private static func boolean(_ raw: Any) -> Bool? {
        if type(of: raw) == Bool.self { return raw as? Bool }
        if let number = raw as? NSNumber, isJSONBoolean(number) { return number.boolValue }
        return nil
    }

    /// Strict Base64 (the JSON protocol's blob form): padded to a multiple of 4, canonical last character.
    static func base64(_ raw: Any) throws(AWSError) -> [UInt8] {
        guard let text = raw as? String else { throw serialization("only base-64-encoded strings are convertible to bytes") }
        if text.utf8.count % 4 != 0 {
            throw serialization("Base64 encoded length is expected a multiple of 4 bytes but found: \(text.utf8.count)")
        }
        guard let data = Data(base64Encoded: text), data.base64EncodedString() == text else {
            throw serialization("Invalid last non-pad Base64 character dectected")
        }
        return [UInt8](data)
    }

    /// Back to a JSONSerialization-ready value.
    var json: Any {
        switch self {
        case .s(let v): return ["S": v]
        case .n(let v): return ["N": v.description]
        case .b(let v): return ["B": Data(v).base64EncodedString()]
        case .ss(let v): return ["SS": v]
        case .ns(let v): return ["NS": v.map(\.description)]
        case .bs(let v): return ["BS": v.map { Data($0).base64EncodedString() }]
        case .m(let v): return ["M": v.mapValues(\.json)]
        case .l(let v): return ["L": v.map(\.json)]
        case .null: return ["NULL": true]
        case .bool(let v): return ["BOOL": v]
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

    // Sets are sets: equal whatever the order their members arrived in.
    static func == (a: AttributeValue, b: AttributeValue) -> Bool {
        switch (a, b) {
        case let (.s(x), .s(y)): x == y
        case let (.n(x), .n(y)): x == y
        case let (.b(x), .b(y)): x == y
        case let (.ss(x), .ss(y)): x.count == y.count && Set(x) == Set(y)
        case let (.ns(x), .ns(y)): x.count == y.count && Set(x) == Set(y)
        case let (.bs(x), .bs(y)): x.count == y.count && Set(x) == Set(y)
        case let (.m(x), .m(y)): x == y
        case let (.l(x), .l(y)): x == y
        case (.null, .null): true
        case let (.bool(x), .bool(y)): x == y
        default: false
        }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(typeName)
        switch self {
        case .s(let v): hasher.combine(v)
        case .n(let v): hasher.combine(v)
        case .b(let v): hasher.combine(v)
        case .ss(let v): hasher.combine(Set(v))
        case .ns(let v): hasher.combine(Set(v))
        case .bs(let v): hasher.combine(Set(v))
        case .m(let v): hasher.combine(v)
        case .l(let v): hasher.combine(v)
        case .null: break
        case .bool(let v): hasher.combine(v)
        }
    }
}

/// JSON's true/false arrive as NSNumber of JSONSerialization's boolean class (`__NSCFBoolean`); 0 and 1 do not.
private let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))
private func isJSONBoolean(_ number: NSNumber) -> Bool { ObjectIdentifier(type(of: number)) == booleanClass }

typealias Item = [String: AttributeValue]

enum Items {
    static func decode(_ json: Any?) throws(AWSError) -> Item {
        guard let json else { return [:] }
        guard let object = json as? [String: Any] else {
            throw AWSError("SerializationException", "Start of structure or map found where not expected")
        }
        var item: Item = [:]
        for (name, raw) in object { item[name] = try AttributeValue(json: raw) }
        return item
    }

    static func encode(_ item: Item) -> [String: Any] { item.mapValues(\.json) }

    /// DynamoDB's item size: each attribute's name length in UTF-8 bytes plus its value's size.
    static func size(_ item: Item) -> Int {
        item.reduce(0) { $0 + $1.key.utf8.count + valueSize($1.value) }
    }

    /// S and B count their bytes; N about one byte per two significant digits plus one; BOOL and NULL one byte;
    /// M and L three bytes of overhead plus one per element, plus their elements (and, for M, the keys).
    static func valueSize(_ value: AttributeValue) -> Int {
        switch value {
        case .s(let v): v.utf8.count
        case .n(let v): numberSize(v)
        case .b(let v): v.count
        case .ss(let v): v.reduce(0) { $0 + $1.utf8.count }
        case .ns(let v): v.reduce(0) { $0 + numberSize($1) }
        case .bs(let v): v.reduce(0) { $0 + $1.count }
        case .m(let v): 3 + v.reduce(0) { $0 + $1.key.utf8.count + valueSize($1.value) + 1 }
        case .l(let v): 3 + v.reduce(0) { $0 + valueSize($1) + 1 }
        case .null, .bool: 1
        }
    }

    static func numberSize(_ n: DynamoNumber) -> Int {
        n.isZero ? 1 : (n.digits.count + 1) / 2 + 1 + (n.negative ? 1 : 0)
    }
}
