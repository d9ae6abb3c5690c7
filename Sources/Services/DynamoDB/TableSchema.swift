import Core
import Foundation

/// A key attribute: its name and scalar type (S, N or B).
struct KeyAttribute: Codable, Sendable, Hashable {
    var name: String
    var type: String
}

/// A local or global secondary index as created.
struct IndexSchema: Codable, Sendable {
    var name: String
    var hashKey: KeyAttribute
    var rangeKey: KeyAttribute?
    var projectionType: String  // ALL, KEYS_ONLY, INCLUDE
    var nonKeyAttributes: [String]?
    var readCapacity: Int?
    var writeCapacity: Int?

    var keyNames: [String] { [hashKey.name] + (rangeKey.map { [$0.name] } ?? []) }
}

/// A table as stored (one JSON document per table in `tables`); `id` is its row id, the prefix of its items' keys.
struct TableSchema: Codable, Sendable {
    var id: Int64 = 0
    var name: String
    var tableId: String
    var arn: String
    var created: Double
    var hashKey: KeyAttribute
    var rangeKey: KeyAttribute?
    var attributeDefinitions: [KeyAttribute]
    var billingMode: String
    var readCapacity: Int
    var writeCapacity: Int
    var localIndexes: [IndexSchema] = []
    var globalIndexes: [IndexSchema] = []
    var streamEnabled = false
    var streamViewType: String?
    var streamLabel: String?
    var sseEnabled = false
    var sseType: String?
    var kmsKeyArn: String?
    var deletionProtection = false
    var tableClass = "STANDARD"
    var tags: [String: String] = [:]
    var ttlAttribute: String?
    var ttlEnabled = false
    var pointInTimeRecovery = false
    var lastDecrease: Double?
    var lastIncrease: Double?

    var keyNames: [String] { [hashKey.name] + (rangeKey.map { [$0.name] } ?? []) }
    var indexes: [IndexSchema] { localIndexes + globalIndexes }
    func index(_ name: String) -> (IndexSchema, global: Bool)? {
        if let i = localIndexes.first(where: { $0.name == name }) { return (i, false) }
        if let i = globalIndexes.first(where: { $0.name == name }) { return (i, true) }
        return nil
    }
    var streamArn: String? { streamLabel.map { "\(arn)/stream/\($0)" } }

    /// The key attributes of `item` (table key, and the index's key for an index), as a new item.
    func key(of item: Item, index: IndexSchema? = nil) -> Item {
        var key: Item = [:]
        for n in keyNames + (index?.keyNames ?? []) { key[n] = item[n] }
        return key
    }

    /// What an index holds of an item: its projection (keys always).
    func project(_ item: Item, _ index: IndexSchema) -> Item {
        switch index.projectionType {
        case "ALL": return item
        default:
            var out = key(of: item, index: index)
            for n in index.nonKeyAttributes ?? [] where item[n] != nil { out[n] = item[n] }
            return out
        }
    }
}
