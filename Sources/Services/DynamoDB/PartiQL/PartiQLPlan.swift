import Core
import Foundation
import GRDB

/// How a statement meets the stored items. A write names its item by equalities on every key attribute, ANDed at the
/// top of its WHERE. A SELECT whose WHERE fixes the partition key (`=` or `IN`) reads those keys' ranges, narrowed by
/// the sort-key comparisons beside it, like a Query; any other SELECT walks the whole table or index, like a Scan (as
/// DynamoDB does). The whole WHERE is still evaluated on every item read, so the narrowing only saves reading.
enum PartiQLPlan {
    /// The conditions ANDed at the top of a WHERE.
    static func conjuncts(_ c: ConditionNode) -> [ConditionNode] {
        if case let .and(x, y) = c { return conjuncts(x) + conjuncts(y) }
        return [c]
    }

    /// The attribute a comparison of a top-level name with a constant is about, the operator as read with the
    /// attribute on the left, and the constant.
    static func comparison(_ c: ConditionNode) -> (name: String, op: String, value: AttributeValue)? {
        let flipped = ["<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"]
        guard case let .compare(op, x, y) = c else { return nil }
        if case .path(let p) = x, !p.isNested, case .value(let v) = y { return (p.head, op, v) }
        if case .path(let p) = y, !p.isNested, case .value(let v) = x, let f = flipped[op] { return (p.head, f, v) }
        return nil
    }

    /// The key a write (or a single-item read) names: one equality on each key attribute of the table.
    static func key(_ t: TableSchema, _ condition: ConditionNode) throws -> Item {
        var key: Item = [:]
        for c in conjuncts(condition) {
            guard let (name, op, v) = comparison(c), op == "=", t.keyNames.contains(name) else { continue }
            if key[name] != nil {
                throw PartiQLError.validation("Multiple conditions on same key \(name). Only single item Update/Insert/Delete are supported")
            }
            key[name] = v
        }
        guard key.count == t.keyNames.count else { throw PartiQLError.incompleteKey }
        return try t.checkKey(key)
    }

    /// A SELECT's way through its source.
    struct Read {
        /// The partition keys read, in key order (descending for ORDER BY … DESC); nil: a scan.
        var hashKeys: [AttributeValue]?
        /// SQL bounds on the sort key's stored bytes (`rk >= ?`), with their arguments.
        var conditions: [String] = []
        var arguments: [Data] = []
        var forward = true
    }

    static func read(_ sel: PartiQLSelect, _ src: DynamoDBService.Source) throws -> Read {
        let all = sel.filter.map(conjuncts) ?? []
        let hk = src.hashKey, rk = src.rangeKey
        var plan = Read()
        for c in all {
            if let (name, op, v) = comparison(c), name == hk.name, op == "=" {
                plan.hashKeys = v.typeName == hk.type ? [v] : []
                break
            }
            if case let .in(.path(p), list) = c, !p.isNested, p.head == hk.name {
                // An IN whose members are not all constants cannot fix the key.
                guard list.allSatisfy({ if case .value = $0 { true } else { false } }) else { continue }
                var values: [AttributeValue] = []
                for o in list { if case .value(let v) = o, v.typeName == hk.type, !values.contains(v) { values.append(v) } }
                plan.hashKeys = values.sorted { KeyOrder.bytes($0).lexicographicallyPrecedes(KeyOrder.bytes($1)) }
                break
            }
        }
        // ORDER BY: only key attributes, and only once the partition key is fixed.
        for o in sel.orderBy {
            guard src.keyNames.contains(o.name) || o.name == hk.name || o.name == rk?.name else {
                throw PartiQLError.validation("Variable reference \(o.name) in ORDER BY clause must be part of the primary key")
            }
            guard plan.hashKeys != nil else {
                throw PartiQLError.validation("Must have at least one non-optional hash key condition in WHERE clause when using ORDER BY clause.")
            }
            if o.name == hk.name, o.descending { plan.hashKeys?.reverse() }
            if o.name == rk?.name { plan.forward = !o.descending }
        }
        guard plan.hashKeys != nil, let rk else { return plan }
        func bound(_ op: String, _ v: AttributeValue) {
            guard v.typeName == rk.type else { return }
            plan.conditions.append("rk \(op) ?")
            plan.arguments.append(Data(KeyOrder.bytes(v)))
        }
        for c in all {
            if let (name, op, v) = comparison(c), name == rk.name, op != "<>" {
                bound(op, v)
            } else if case let .between(.path(p), .value(lo), .value(hi)) = c, !p.isNested, p.head == rk.name {
                bound(">=", lo)
                bound("<=", hi)
            } else if case let .beginsWith(.path(p), .value(v)) = c, !p.isNested, p.head == rk.name, v.typeName == rk.type, rk.type != "N" {
                bound(">=", v)
                // The first key past every key with the prefix: the prefix with its last byte below 0xFF raised.
                var upper = KeyOrder.bytes(v)
                while let b = upper.last, b == 0xFF { upper.removeLast() }
                if !upper.isEmpty {
                    upper[upper.count - 1] += 1
                    plan.conditions.append("rk < ?")
                    plan.arguments.append(Data(upper))
                }
            }
        }
        return plan
    }
}
