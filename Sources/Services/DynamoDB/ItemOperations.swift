import Core
import Foundation
import GRDB

/// PutItem, GetItem, UpdateItem, DeleteItem. The condition is evaluated and the item written in one SQLite write
/// transaction, committed before the answer.
extension DynamoDBService {
    /// A table items are read or written in: a missing one is the short "Requested resource not found".
    func itemTable(_ s: Scope, _ input: Input, member: String = "TableName") throws -> TableSchema {
        let name = try input.tableName(member)
        guard let t = try store.table(s, name) else { throw DDBError.resourceNotFound }
        return t
    }

    static func expressions(_ input: Input) throws -> ExpressionInput {
        try ExpressionInput(names: input.raw["ExpressionAttributeNames"], values: input.raw["ExpressionAttributeValues"])
    }

    /// ConditionExpression, or the legacy Expected (+ ConditionalOperator).
    static func condition(_ input: Input, _ exprs: inout ExpressionInput) throws -> Condition? {
        if let text = try input.string("ConditionExpression") { return try Condition.parse(text, &exprs) }
        return try LegacyConditions.expected(input.raw["Expected"], conditionalOperator: input.raw["ConditionalOperator"])
    }

    /// ProjectionExpression, or the legacy AttributesToGet.
    static func projection(_ input: Input, _ exprs: inout ExpressionInput) throws -> Projection? {
        if let text = try input.string("ProjectionExpression") { return try Projection.parse(text, &exprs) }
        return try LegacyParameters.attributesToGet(input.raw["AttributesToGet"])
    }

    static func returnValues(_ input: Input, allowed: [String]) throws -> String {
        let all = ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]
        let v = try input.enumValue("ReturnValues", all) ?? "NONE"
        guard allowed.contains(v) else { throw DDBError.validation("ReturnValues can only be ALL_OLD or NONE") }
        return v
    }

    /// PutItem's and DeleteItem's shared input, checked in AWS's order: ReturnValues (NONE or ALL_OLD), the parameter
    /// style, the condition (every placeholder used), ReturnValuesOnConditionCheckFailure.
    static func conditionalWrite(_ input: Input, _ operation: LegacyParameters.Operation) throws
        -> (returnValues: String, condition: Condition?, returnOld: Bool) {
        let returnValues = try returnValues(input, allowed: ["NONE", "ALL_OLD"])
        try LegacyParameters.checkStyles(input.raw, operation)
        var exprs = try expressions(input)
        let condition = try condition(input, &exprs)
        try exprs.checkAllUsed()
        return (returnValues, condition, try returnOnFailure(input))
    }

    static func returnOnFailure(_ input: Input) throws -> Bool {
        try input.enumValue("ReturnValuesOnConditionCheckFailure", ["ALL_OLD", "NONE"]) == "ALL_OLD"
    }

    /// Evaluate a condition against the current item; failure is ConditionalCheckFailedException (with the item when
    /// ReturnValuesOnConditionCheckFailure is ALL_OLD).
    static func check(_ condition: Condition?, _ old: Item?, returnOld: Bool) throws {
        guard let condition, try !condition.evaluate(old) else { return }
        if returnOld, let old { throw ErrorWithBody(error: DDBError.conditionalCheckFailed, members: ["Item": Items.encode(old)]) }
        throw DDBError.conditionalCheckFailed
    }

    func putItem(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let t = try itemTable(s, input)
        let item = try Items.decode(input.raw["Item"])
        try t.checkItem(item)
        let (returnValues, condition, returnOld) = try Self.conditionalWrite(input, .putItem)
        let now = clock.now()
        let old = try store.db.writeNow { db in
            let old = try DynamoDBStore.item(t, key: t.key(of: item), db)
            try Self.check(condition, old, returnOld: returnOld)
            try DynamoDBStore.writeItem(t, old: old, new: item, now: now, db)
            return old
        }
        var out: [String: Any] = [:]
        if returnValues == "ALL_OLD", let old { out["Attributes"] = Items.encode(old) }
        let units = Capacity.write(t, old: old, new: item)
        out["ConsumedCapacity"] = Capacity.consumed(try input.string("ReturnConsumedCapacity"), table: t.name, units: units.table, indexes: units.indexes)
        return out
    }

    func getItem(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let t = try itemTable(s, input)
        let key = try t.checkKey(try Items.decode(input.raw["Key"]))
        try LegacyParameters.checkStyles(input.raw, .getItem)
        var exprs = try Self.expressions(input)
        let projection = try Self.projection(input, &exprs)
        try exprs.checkAllUsed()
        let consistent = try input.bool("ConsistentRead") ?? false
        let item = try store.db.readNow { db in try DynamoDBStore.item(t, key: key, db) }
        var out: [String: Any] = [:]
        if let item { out["Item"] = Items.encode(projection?.apply(to: item) ?? item) }
        out["ConsumedCapacity"] = Capacity.consumed(try input.string("ReturnConsumedCapacity"), table: t.name,
                                                    units: Capacity.read(item.map(Items.size) ?? 0, consistent: consistent))
        return out
    }

    func updateItem(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let t = try itemTable(s, input)
        let key = try t.checkKey(try Items.decode(input.raw["Key"]))
        let returnValues = try Self.returnValues(input, allowed: ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
        try LegacyParameters.checkStyles(input.raw, .updateItem)
        var exprs = try Self.expressions(input)
        let update = try input.string("UpdateExpression").map { try Update.parse($0, &exprs) }
            ?? LegacyParameters.attributeUpdates(input.raw["AttributeUpdates"])
        let condition = try Self.condition(input, &exprs)
        try exprs.checkAllUsed()
        let returnOld = try Self.returnOnFailure(input)
        let now = clock.now()
        let (old, new, paths) = try store.db.writeNow { db in
            let old = try DynamoDBStore.item(t, key: key, db)
            try Self.check(condition, old, returnOld: returnOld)
            // A missing item is created from its key, as DynamoDB does.
            let (new, paths) = try update?.apply(to: old ?? key, keyNames: t.keyNames) ?? (old ?? key, [])
            try t.checkItem(new)
            try DynamoDBStore.writeItem(t, old: old, new: new, now: now, db)
            return (old, new, paths)
        }
        var out: [String: Any] = [:]
        switch returnValues {
        case "ALL_OLD": if let old { out["Attributes"] = Items.encode(old) }
        case "ALL_NEW": out["Attributes"] = Items.encode(new)
        case "UPDATED_OLD", "UPDATED_NEW":
            // The written paths, nested ones keeping their structure (top-level names without an expression).
            let source = returnValues == "UPDATED_OLD" ? (old ?? [:]) : new
            let a = update?.updatedValues(in: source) ?? source.filter { paths.contains($0.key) }
            if !a.isEmpty { out["Attributes"] = Items.encode(a) }
        default: break
        }
        let units = Capacity.write(t, old: old, new: new)
        out["ConsumedCapacity"] = Capacity.consumed(try input.string("ReturnConsumedCapacity"), table: t.name, units: units.table, indexes: units.indexes)
        return out
    }

    func deleteItem(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let t = try itemTable(s, input)
        let key = try t.checkKey(try Items.decode(input.raw["Key"]))
        let (returnValues, condition, returnOld) = try Self.conditionalWrite(input, .deleteItem)
        let now = clock.now()
        let old = try store.db.writeNow { db in
            let old = try DynamoDBStore.item(t, key: key, db)
            try Self.check(condition, old, returnOld: returnOld)
            if old != nil { try DynamoDBStore.writeItem(t, old: old, new: nil, now: now, db) }
            return old
        }
        var out: [String: Any] = [:]
        if returnValues == "ALL_OLD", let old { out["Attributes"] = Items.encode(old) }
        let units = Capacity.write(t, old: old, new: nil)
        out["ConsumedCapacity"] = Capacity.consumed(try input.string("ReturnConsumedCapacity"), table: t.name, units: units.table, indexes: units.indexes)
        return out
    }
}
