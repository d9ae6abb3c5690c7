import Core

/// The legacy (pre-expression) condition parameters, converted to the expression evaluators: `Expected` with
/// `ConditionalOperator` becomes a `Condition`, so do `QueryFilter` and `ScanFilter`; `KeyConditions` becomes a
/// `KeyCondition`. Their validation texts are AWS's ("One or more parameter values were invalid: Invalid number of
/// argument(s) for the EQ ComparisonOperator", …).
enum LegacyConditions {
    /// ComparisonOperator → how many values it takes (IN: one or more).
    static let arity: [String: ClosedRange<Int>] = [
        "EQ": 1...1, "NE": 1...1, "LE": 1...1, "LT": 1...1, "GE": 1...1, "GT": 1...1, "CONTAINS": 1...1, "NOT_CONTAINS": 1...1,
        "BEGINS_WITH": 1...1, "NULL": 0...0, "NOT_NULL": 0...0, "IN": 1...Int.max, "BETWEEN": 2...2,
    ]
    /// The value types QueryFilter, ScanFilter and KeyConditions accept per operator.
    static let filterTypes: [String: Set<String>] = [
        "EQ": ["S", "N", "B", "SS", "NS", "BS"], "NE": ["S", "N", "B", "SS", "NS", "BS"], "LE": ["S", "N", "B"], "LT": ["S", "N", "B"],
        "GE": ["S", "N", "B"], "GT": ["S", "N", "B"], "CONTAINS": ["S", "N", "B"], "NOT_CONTAINS": ["S", "N", "B"],
        "BEGINS_WITH": ["S", "B"], "IN": ["S", "N", "B"], "BETWEEN": ["S", "N", "B"],
    ]

    static func invalid(_ text: String) -> AWSError { AWSError("ValidationException", "One or more parameter values were invalid: " + text) }

    /// `Expected` (PutItem, UpdateItem, DeleteItem); nil when absent.
    static func expected(_ json: Any?, conditionalOperator: Any? = nil) throws(AWSError) -> Condition? {
        guard let map = try object(json) else { return nil }
        var nodes: [ConditionNode] = []
        for name in map.keys.sorted() {
            let entry = try object(map[name]) ?? [:]
            let path = Operand.path(DocumentPath(name))
            let hasValue = entry["Value"] != nil, hasList = entry["AttributeValueList"] != nil
            if hasValue && hasList { throw invalid("Value and AttributeValueList cannot be used together for Attribute: \(name)") }
            if let op = entry["ComparisonOperator"] {
                if entry["Exists"] != nil { throw invalid("Exists and ComparisonOperator cannot be used together for Attribute: \(name)") }
                let opName = try comparisonOperator(op)
                if opName != "NULL", opName != "NOT_NULL", !hasValue, !hasList {
                    throw invalid("Value or AttributeValueList must be used with ComparisonOperator: \(opName) for Attribute: \(name)")
                }
                let values = hasValue ? [try AttributeValue(json: entry["Value"]!)] : try valueList(entry["AttributeValueList"])
                nodes.append(try node(opName, path, values, checkTypes: false))
            } else if hasList {
                throw invalid("AttributeValueList can only be used with a ComparisonOperator for Attribute: \(name)")
            } else {
                let exists = entry["Exists"].map { ($0 as? Bool) ?? true }
                if exists ?? true {
                    guard let raw = entry["Value"] else {
                        throw invalid("Value must be provided when Exists is \(exists == nil ? "null" : "true") for Attribute: \(name)")
                    }
                    nodes.append(.compare("=", path, .value(try AttributeValue(json: raw))))
                } else {
                    if hasValue { throw invalid("Value cannot be used when Exists is false for Attribute: \(name)") }
                    nodes.append(.notExists(DocumentPath(name)))
                }
            }
        }
        return try combine(nodes, conditionalOperator)
    }

    /// `QueryFilter` / `ScanFilter`; nil when absent.
    static func filter(_ json: Any?, conditionalOperator: Any? = nil) throws(AWSError) -> Condition? {
        guard let map = try object(json) else { return nil }
        var nodes: [ConditionNode] = []
        for name in map.keys.sorted() {
            let (op, values) = try entry(map[name])
            nodes.append(try node(op, .path(DocumentPath(name)), values, checkTypes: true))
        }
        return try combine(nodes, conditionalOperator)
    }

    /// Query's `KeyConditions`.
    static func keyConditions(_ json: Any?, hashKey: String, rangeKey: String?, keyTypes: [String: String] = [:]) throws(AWSError) -> KeyCondition {
        let map = try object(json) ?? [:]
        var found: [(name: String, condition: RangeCondition)] = []
        for name in map.keys.sorted() {
            let (op, values) = try entry(map[name])
            _ = try node(op, .path(DocumentPath(name)), values, checkTypes: true)
            let condition: RangeCondition
            switch op {
            case "EQ": condition = .eq(values[0])
            case "LT": condition = .lt(values[0])
            case "LE": condition = .le(values[0])
            case "GT": condition = .gt(values[0])
            case "GE": condition = .ge(values[0])
            case "BEGINS_WITH": condition = .beginsWith(values[0])
            case "BETWEEN": condition = .between(values[0], values[1])
            default: throw AWSError("ValidationException", "Attempted conditional constraint is not an indexable operation")
            }
            found.append((name, condition))
        }
        return try KeyCondition.make(found, hashKey: hashKey, rangeKey: rangeKey, keyTypes: keyTypes)
    }

    // MARK: pieces

    private static func entry(_ raw: Any?) throws(AWSError) -> (String, [AttributeValue]) {
        let entry = try object(raw) ?? [:]
        let op = try comparisonOperator(entry["ComparisonOperator"] as Any)
        return (op, try valueList(entry["AttributeValueList"]))
    }

    private static func comparisonOperator(_ raw: Any) throws(AWSError) -> String {
        guard let op = raw as? String, arity[op] != nil else {
            throw AWSError("ValidationException", "1 validation error detected: Value '\(raw)' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
        }
        return op
    }

    private static func valueList(_ raw: Any?) throws(AWSError) -> [AttributeValue] {
        guard let raw else { return [] }
        guard let list = raw as? [Any] else { throw AWSError("SerializationException", "Start of structure or map found where not expected") }
        return try list.map { (v: Any) throws(AWSError) -> AttributeValue in try AttributeValue(json: v) }
    }

    private static func object(_ raw: Any?) throws(AWSError) -> [String: Any]? {
        guard let raw else { return nil }
        guard let map = raw as? [String: Any] else { throw AWSError("SerializationException", "Start of structure or map found where not expected") }
        return map
    }

    /// One attribute's condition, its values checked as AWS checks them.
    private static func node(_ op: String, _ path: Operand, _ values: [AttributeValue], checkTypes: Bool) throws(AWSError) -> ConditionNode {
        guard arity[op]!.contains(values.count) else { throw invalid("Invalid number of argument(s) for the \(op) ComparisonOperator") }
        if let first = values.first, values.contains(where: { $0.typeName != first.typeName }) {
            throw invalid("AttributeValues inside AttributeValueList must be of same type")
        }
        if checkTypes, let allowed = filterTypes[op] {
            for v in values where !allowed.contains(v.typeName) {
                throw invalid("ComparisonOperator \(op) is not valid for \(v.typeName) AttributeValue type")
            }
        }
        if op == "BETWEEN", Compare.order(values[0], values[1]) == .orderedDescending {
            throw AWSError("ValidationException", "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
        }
        guard case .path(let documentPath) = path else { return .constant(false) }
        switch op {
        case "EQ": return .compare("=", path, .value(values[0]))
        case "NE": return .compare("<>", path, .value(values[0]))
        case "LE": return .compare("<=", path, .value(values[0]))
        case "LT": return .compare("<", path, .value(values[0]))
        case "GE": return .compare(">=", path, .value(values[0]))
        case "GT": return .compare(">", path, .value(values[0]))
        case "NULL": return .notExists(documentPath)
        case "NOT_NULL": return .exists(documentPath)
        case "CONTAINS": return .contains(path, .value(values[0]))
        // An absent attribute contains nothing, but NOT_CONTAINS still needs the attribute.
        case "NOT_CONTAINS": return .and(.exists(documentPath), .not(.contains(path, .value(values[0]))))
        case "BEGINS_WITH": return .beginsWith(path, .value(values[0]))
        case "IN": return .in(path, values.map { .value($0) })
        default: return .between(path, .value(values[0]), .value(values[1]))
        }
    }

    private static func combine(_ nodes: [ConditionNode], _ conditionalOperator: Any?) throws(AWSError) -> Condition? {
        let op = (conditionalOperator as? String) ?? "AND"
        guard op == "AND" || op == "OR" else {
            throw AWSError("ValidationException", "1 validation error detected: Value '\(op)' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]")
        }
        guard var root = nodes.first else { return nil }
        for next in nodes.dropFirst() { root = op == "OR" ? .or(root, next) : .and(root, next) }
        return Condition(root: root)
    }
}
