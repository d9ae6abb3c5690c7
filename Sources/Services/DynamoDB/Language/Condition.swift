import Core

/// ConditionExpression and FilterExpression: parsed once per request, evaluated against the stored item (nil when
/// there is none). Evaluation follows DynamoDB: comparing values of different types is false, not an error; a missing
/// attribute makes a comparison false (`<>` true); `size` counts a string's UTF-16 units, a binary's bytes and a set's, list's or
/// map's members; `contains` looks into strings, binaries, sets and lists.
struct Condition: Sendable {
    let root: ConditionNode

    static func parse(_ text: String, _ input: inout ExpressionInput, kind: ExpressionKind = .condition) throws(AWSError) -> Condition {
        var parser = ConditionParser(p: try ExpressionParser(text, kind: kind, input: input))
        let root = try parser.parse()
        input = parser.p.input
        return Condition(root: root)
    }

    func evaluate(_ item: Item?) throws(AWSError) -> Bool { root.evaluate(item) }
}

/// A comparison side: a path into the item, a constant, or `size(operand)`.
indirect enum Operand: Sendable, Equatable {
    case path(DocumentPath)
    case value(AttributeValue)
    case size(Operand)

    func resolve(_ item: Item?) -> AttributeValue? {
        switch self {
        case .path(let path): return path.resolve(in: item)
        case .value(let value): return value
        case .size(let inner):
            guard let value = inner.resolve(item), let count = Compare.size(value) else { return nil }
            return .n(DynamoNumber(count))
        }
    }
}

indirect enum ConditionNode: Sendable, Equatable {
    case compare(String, Operand, Operand)
    case between(Operand, Operand, Operand)
    case `in`(Operand, [Operand])
    case exists(DocumentPath)
    case notExists(DocumentPath)
    case attributeType(Operand, String)
    case beginsWith(Operand, Operand)
    case contains(Operand, Operand)
    case and(ConditionNode, ConditionNode)
    case or(ConditionNode, ConditionNode)
    case not(ConditionNode)
    case constant(Bool)

    func evaluate(_ item: Item?) -> Bool {
        switch self {
        case let .compare(op, x, y):
            guard let a = x.resolve(item), let b = y.resolve(item) else { return op == "<>" }
            switch op {
            case "=": return a == b
            case "<>": return a != b
            default:
                guard let order = Compare.order(a, b) else { return false }
                switch op {
                case "<": return order == .orderedAscending
                case "<=": return order != .orderedDescending
                case ">": return order == .orderedDescending
                default: return order != .orderedAscending
                }
            }
        case let .between(x, lo, hi):
            guard let a = x.resolve(item), let l = lo.resolve(item), let h = hi.resolve(item),
                  let low = Compare.order(a, l), let high = Compare.order(a, h) else { return false }
            return low != .orderedAscending && high != .orderedDescending
        case let .in(x, list):
            guard let a = x.resolve(item) else { return false }
            return list.contains { $0.resolve(item) == a }
        case .exists(let path): return path.resolve(in: item) != nil
        case .notExists(let path): return path.resolve(in: item) == nil
        case let .attributeType(x, type): return x.resolve(item)?.typeName == type
        case let .beginsWith(x, prefix):
            switch (x.resolve(item), prefix.resolve(item)) {
            case let (.s(s)?, .s(p)?): return s.utf8.starts(with: p.utf8)
            case let (.b(b)?, .b(p)?): return b.starts(with: p)
            default: return false
            }
        case let .contains(x, member):
            guard let container = x.resolve(item), let m = member.resolve(item) else { return false }
            return Compare.contains(container, m)
        case let .and(x, y): return x.evaluate(item) && y.evaluate(item)
        case let .or(x, y): return x.evaluate(item) || y.evaluate(item)
        case .not(let x): return !x.evaluate(item)
        case .constant(let b): return b
        }
    }
}

/// DynamoDB's comparisons between values.
enum Compare {
    /// Order of two scalars of one type (N numerically, S by UTF-8 bytes, B by bytes); nil for anything else.
    static func order(_ a: AttributeValue, _ b: AttributeValue) -> KeyOrdering? {
        switch (a, b) {
        case let (.n(x), .n(y)): return x < y ? .orderedAscending : (x == y ? .orderedSame : .orderedDescending)
        case let (.s(x), .s(y)): return bytes(Array(x.utf8), Array(y.utf8))
        case let (.b(x), .b(y)): return bytes(x, y)
        default: return nil
        }
    }

    static func bytes(_ x: [UInt8], _ y: [UInt8]) -> KeyOrdering {
        for (p, q) in zip(x, y) where p != q { return p < q ? .orderedAscending : .orderedDescending }
        return x.count == y.count ? .orderedSame : (x.count < y.count ? .orderedAscending : .orderedDescending)
    }

    /// `size()`: nil for N, BOOL and NULL. A string counts UTF-16 code units, as DynamoDB does ("é𝄞" is 3).
    static func size(_ value: AttributeValue) -> Int? {
        switch value {
        case .s(let s): s.utf16.count
        case .b(let b): b.count
        case .ss(let v): v.count
        case .ns(let v): v.count
        case .bs(let v): v.count
        case .l(let v): v.count
        case .m(let v): v.count
        case .n, .bool, .null: nil
        }
    }

    static func contains(_ container: AttributeValue, _ member: AttributeValue) -> Bool {
        switch (container, member) {
        case let (.s(s), .s(m)): return m.isEmpty || s.utf8.firstRange(of: m.utf8) != nil
        case let (.b(b), .b(m)): return m.isEmpty || b.firstRange(of: m) != nil
        case let (.ss(set), .s(m)): return set.contains(m)
        case let (.ns(set), .n(m)): return set.contains(m)
        case let (.bs(set), .b(m)): return set.contains(m)
        case let (.l(list), m): return list.contains(m)
        default: return false
        }
    }
}

/// The order of two comparable values (a name of our own: Foundation's ComparisonResult is not imported everywhere).
enum KeyOrdering: Sendable { case orderedAscending, orderedSame, orderedDescending }
