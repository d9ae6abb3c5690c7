import Core

/// Query's KeyConditionExpression: `hash = :v`, optionally `AND` one condition on the range key (`= < <= > >=`,
/// `BETWEEN`, `begins_with`). Parsed with the condition grammar, then held to what a key lookup can do, with AWS's texts.
/// `RangeCondition.bounds` gives the condition as a `KeyOrder` byte range, so the service reads an index range.
struct KeyCondition: Sendable {
    let hashKey: String
    let hashValue: AttributeValue
    let rangeKey: String?
    let range: RangeCondition?

    /// `keyTypes` (attribute name → "S"/"N"/"B"), when given, checks the values against the key schema.
    static func parse(_ text: String, _ input: inout ExpressionInput, hashKey: String, rangeKey: String?,
                      keyTypes: [String: String] = [:]) throws(AWSError) -> KeyCondition {
        let condition = try Condition.parse(text, &input, kind: .keyCondition)
        var found: [(name: String, condition: RangeCondition)] = []
        try collect(condition.root, into: &found)
        return try make(found, hashKey: hashKey, rangeKey: rangeKey, keyTypes: keyTypes)
    }

    /// Builds the lookup from one condition per key attribute (also the legacy KeyConditions' entry point).
    static func make(_ found: [(name: String, condition: RangeCondition)], hashKey: String, rangeKey: String?,
                     keyTypes: [String: String]) throws(AWSError) -> KeyCondition {
        func fail(_ text: String) -> AWSError { AWSError("ValidationException", text) }
        if found.count > 2 || found.isEmpty { throw fail("Conditions can be of length 1 or 2 only") }
        if rangeKey == nil, found.count > 1 { throw fail("Query key condition not supported") }
        guard let hash = found.first(where: { $0.name == hashKey }) else {
            throw fail("Query condition missed key schema element: \(hashKey)")
        }
        guard case .eq(let hashValue) = hash.condition else { throw fail("Query key condition not supported") }
        var range: RangeCondition? = nil
        if found.count == 2 {
            guard let rangeKey, let r = found.first(where: { $0.name == rangeKey }) else {
                throw fail("Query condition missed key schema element: \(rangeKey ?? hashKey)")
            }
            range = r.condition
        }
        for (name, cond) in found {
            if let type = keyTypes[name], cond.values.contains(where: { $0.typeName != type }) {
                throw fail("One or more parameter values were invalid: Condition parameter type does not match schema type")
            }
        }
        return KeyCondition(hashKey: hashKey, hashValue: hashValue, rangeKey: rangeKey, range: range)
    }

    private static func collect(_ node: ConditionNode, into found: inout [(name: String, condition: RangeCondition)]) throws(AWSError) {
        func fail(_ text: String) -> AWSError { AWSError("ValidationException", text) }
        var key: String
        var condition: RangeCondition
        switch node {
        case let .and(x, y):
            try collect(x, into: &found)
            try collect(y, into: &found)
            return
        case .or: throw fail("Invalid operator used in KeyConditionExpression: OR")
        case .not: throw fail("Invalid operator used in KeyConditionExpression: NOT")
        case .in: throw fail("Invalid operator used in KeyConditionExpression: IN")
        case .exists: throw fail("Invalid operator used in KeyConditionExpression: attribute_exists")
        case .notExists: throw fail("Invalid operator used in KeyConditionExpression: attribute_not_exists")
        case .attributeType: throw fail("Invalid operator used in KeyConditionExpression: attribute_type")
        case .contains: throw fail("Invalid operator used in KeyConditionExpression: contains")
        case .constant: throw fail("Invalid condition in KeyConditionExpression: No key attribute specified")
        case let .compare(op, x, y):
            if op == "<>" { throw fail("Invalid operator used in KeyConditionExpression: <>") }
            let (name, value, flipped) = try side(x, y)
            key = name
            let effective = flipped ? ["<": ">", "<=": ">=", ">": "<", ">=": "<="][op] ?? op : op
            switch effective {
            case "=": condition = .eq(value)
            case "<": condition = .lt(value)
            case "<=": condition = .le(value)
            case ">": condition = .gt(value)
            default: condition = .ge(value)
            }
        case let .between(x, lo, hi):
            guard case .path = x else {
                throw fail("Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand")
            }
            let (name, low, _) = try side(x, lo)
            let (_, high, _) = try side(x, hi)
            key = name
            condition = .between(low, high)
        case let .beginsWith(x, prefix):
            guard case .path = x else {
                throw fail("Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand")
            }
            let (name, value, _) = try side(x, prefix)
            key = name
            condition = .beginsWith(value)
        }
        if found.contains(where: { $0.name == key }) { throw fail("KeyConditionExpressions must only contain one condition per key") }
        found.append((key, condition))
    }

    /// The key attribute and the value of a two-operand condition; `flipped` when the value came first.
    private static func side(_ x: Operand, _ y: Operand) throws(AWSError) -> (String, AttributeValue, Bool) {
        func fail(_ text: String) -> AWSError { AWSError("ValidationException", text) }
        for operand in [x, y] {
            if case .size = operand { throw fail("KeyConditionExpressions cannot contain nested operations") }
        }
        switch (x, y) {
        case (.path, .path): throw fail("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")
        case let (.path(p), .value(v)), let (.value(v), .path(p)):
            if p.isNested { throw fail("KeyConditionExpressions cannot have conditions on nested attributes") }
            if case .value = x { return (p.head, v, true) }
            return (p.head, v, false)
        default: throw fail("Invalid condition in KeyConditionExpression: No key attribute specified")
        }
    }
}

/// One condition on a range key.
enum RangeCondition: Sendable, Equatable {
    case eq(AttributeValue), lt(AttributeValue), le(AttributeValue), gt(AttributeValue), ge(AttributeValue)
    case between(AttributeValue, AttributeValue)
    case beginsWith(AttributeValue)

    var values: [AttributeValue] {
        switch self {
        case .eq(let v), .lt(let v), .le(let v), .gt(let v), .ge(let v), .beginsWith(let v): [v]
        case let .between(lo, hi): [lo, hi]
        }
    }

    func matches(_ value: AttributeValue) -> Bool {
        func order(_ v: AttributeValue) -> KeyOrdering? { Compare.order(value, v) }
        switch self {
        case .eq(let v): return value == v
        case .lt(let v): return order(v) == .orderedAscending
        case .le(let v): return order(v).map { $0 != .orderedDescending } ?? false
        case .gt(let v): return order(v) == .orderedDescending
        case .ge(let v): return order(v).map { $0 != .orderedAscending } ?? false
        case let .between(lo, hi):
            guard let l = order(lo), let h = order(hi) else { return false }
            return l != .orderedAscending && h != .orderedDescending
        case .beginsWith(let p):
            switch (value, p) {
            case let (.s(s), .s(q)): return s.utf8.starts(with: q.utf8)
            case let (.b(b), .b(q)): return b.starts(with: q)
            default: return false
            }
        }
    }

    /// The condition as a range of `KeyOrder.bytes`: nil bounds are open.
    var bounds: (lower: [UInt8]?, lowerInclusive: Bool, upper: [UInt8]?, upperInclusive: Bool) {
        switch self {
        case .eq(let v): let b = KeyOrder.bytes(v); return (b, true, b, true)
        case .lt(let v): return (nil, false, KeyOrder.bytes(v), false)
        case .le(let v): return (nil, false, KeyOrder.bytes(v), true)
        case .gt(let v): return (KeyOrder.bytes(v), false, nil, false)
        case .ge(let v): return (KeyOrder.bytes(v), true, nil, false)
        case let .between(lo, hi): return (KeyOrder.bytes(lo), true, KeyOrder.bytes(hi), true)
        case .beginsWith(let p):
            let prefix = KeyOrder.bytes(p)
            return (prefix, true, Self.successor(of: prefix), false)
        }
    }

    /// The smallest byte string greater than every string starting with `prefix` (nil when there is none).
    static func successor(of prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF { bytes[bytes.count - 1] = last + 1; return bytes }
            bytes.removeLast()
        }
        return nil
    }
}
