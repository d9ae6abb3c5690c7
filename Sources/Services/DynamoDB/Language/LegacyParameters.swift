import Core
import Foundation

/// The other legacy parameters and the rule that keeps the two styles apart: `AttributeUpdates` (PUT, DELETE, ADD)
/// becomes an `Update`, `AttributesToGet` a `Projection`, and `checkStyles` refuses a request mixing expression and
/// non-expression parameters with AWS's texts.
enum LegacyParameters {
    /// Each operation's expression and non-expression parameters, as AWS pairs them.
    enum Operation {
        case getItem, putItem, deleteItem, updateItem, query, scan, batchGetItem

        var expressions: [String] {
            switch self {
            case .getItem, .batchGetItem: ["ProjectionExpression"]
            case .putItem, .deleteItem: ["ConditionExpression"]
            case .updateItem: ["UpdateExpression", "ConditionExpression"]
            case .query: ["ProjectionExpression", "FilterExpression", "KeyConditionExpression"]
            case .scan: ["ProjectionExpression", "FilterExpression"]
            }
        }

        var nonExpressions: [String] {
            switch self {
            case .getItem, .batchGetItem: ["AttributesToGet"]
            case .putItem, .deleteItem: ["Expected"]
            case .updateItem: ["AttributeUpdates", "Expected"]
            case .query: ["AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"]
            case .scan: ["AttributesToGet", "ScanFilter", "ConditionalOperator"]
            }
        }
    }

    /// Refuses mixed styles, and placeholders without any expression to use them.
    static func checkStyles(_ request: [String: Any], _ operation: Operation) throws(AWSError) {
        func present(_ key: String) -> Bool { request[key] != nil && !(request[key] is NSNull) }
        let expressions = operation.expressions.filter(present)
        if !expressions.isEmpty {
            var legacy = operation.nonExpressions
            // Query may pair KeyConditions with the expression parameters when no KeyConditionExpression is given.
            if present("KeyConditions"), !present("KeyConditionExpression") { legacy.removeAll { $0 == "KeyConditions" } }
            let used = legacy.filter(present)
            if !used.isEmpty {
                throw AWSError("ValidationException", "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {\(used.joined(separator: ", "))} Expression parameters: {\(expressions.joined(separator: ", "))}")
            }
        }
        if present("ExpressionAttributeNames"), expressions.isEmpty {
            throw AWSError("ValidationException", "ExpressionAttributeNames can only be specified when using expressions")
        }
        let valueExpressions = operation.expressions.filter { $0 != "ProjectionExpression" }
        if present("ExpressionAttributeValues"), !valueExpressions.isEmpty, !valueExpressions.contains(where: present) {
            throw AWSError("ValidationException", "ExpressionAttributeValues can only be specified when using expressions: \(valueExpressions.joined(separator: " and ")) \(valueExpressions.count > 1 ? "are" : "is") null")
        }
    }

    /// `AttributesToGet`: names taken literally (no paths, no reserved words).
    static func attributesToGet(_ json: Any?) throws(AWSError) -> Projection? {
        guard let json else { return nil }
        guard let names = json as? [String] else { throw AWSError("SerializationException", "Start of structure or map found where not expected") }
        var seen: Set<String> = []
        for name in names where !seen.insert(name).inserted {
            throw AWSError("ValidationException", "One or more parameter values were invalid: Duplicate value in attribute name: \(name)")
        }
        return Projection(paths: names.map { DocumentPath($0) })
    }

    /// `AttributeUpdates`: PUT (the default) sets, DELETE without a value removes, DELETE with a set removes members,
    /// ADD adds to a number, unites sets and appends to a list.
    static func attributeUpdates(_ json: Any?) throws(AWSError) -> Update? {
        guard let json else { return nil }
        guard let map = json as? [String: Any] else { throw AWSError("SerializationException", "Start of structure or map found where not expected") }
        var update = Update()
        update.legacy = true
        for name in map.keys.sorted() {
            guard let entry = map[name] as? [String: Any] else {
                throw AWSError("SerializationException", "Start of structure or map found where not expected")
            }
            let action = (entry["Action"] as? String) ?? "PUT"
            guard ["PUT", "DELETE", "ADD"].contains(action) else {
                throw AWSError("ValidationException", "1 validation error detected: Value '\(action)' at 'attributeUpdates.\(name).member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]")
            }
            let value = try entry["Value"].map { (raw: Any) throws(AWSError) -> AttributeValue in try AttributeValue(json: raw) }
            let path = DocumentPath(name)
            switch (action, value) {
            case ("DELETE", nil): update.removes.append(path)
            case (_, nil): throw LegacyConditions.invalid("Only DELETE action is allowed when no attribute value is specified")
            case ("PUT", let v?): update.sets.append(Update.SetAction(path: path, value: .operand(.value(v))))
            case ("DELETE", let v?):
                guard ["SS", "NS", "BS"].contains(v.typeName) else {
                    throw LegacyConditions.invalid("DELETE action with value is not supported for the type \(v.typeName)")
                }
                update.deletes.append(Update.ValueAction(path: path, value: v))
            case (_, let v?):
                guard ["L", "SS", "NS", "BS", "N"].contains(v.typeName) else {
                    throw LegacyConditions.invalid("ADD action is not supported for the type \(v.typeName)")
                }
                update.adds.append(Update.ValueAction(path: path, value: v))
            }
        }
        return update
    }
}
