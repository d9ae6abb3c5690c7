import Core
import Foundation

/// Checks of keys and items against a table's schema, with DynamoDB's texts.
extension TableSchema {
    /// A `Key` member: exactly the table's key attributes, of their types, not empty.
    func checkKey(_ key: Item) throws -> Item {
        guard key.count == keyNames.count else { throw DDBError.keyMismatch }
        for k in [hashKey] + (rangeKey.map { [$0] } ?? []) {
            guard let v = key[k.name], v.typeName == k.type else { throw DDBError.keyMismatch }
            try Self.checkNotEmpty(v, k.name)
        }
        return key
    }

    /// An item to store: it has the key attributes with their types, and index key attributes have the index's types.
    func checkItem(_ item: Item) throws {
        for k in [hashKey] + (rangeKey.map { [$0] } ?? []) {
            guard let v = item[k.name] else { throw DDBError.invalid("Missing the key \(k.name) in the item") }
            guard v.typeName == k.type else {
                throw DDBError.invalid("Type mismatch for key \(k.name) expected: \(k.type) actual: \(v.typeName)")
            }
            try Self.checkNotEmpty(v, k.name)
        }
        for index in indexes {
            for k in [index.hashKey] + (index.rangeKey.map { [$0] } ?? []) {
                guard let v = item[k.name] else { continue }
                guard v.typeName == k.type else {
                    throw DDBError.invalid("Type mismatch for Index Key \(k.name) Expected: \(k.type) Actual: \(v.typeName) IndexName: \(index.name)")
                }
                if Self.isEmpty(v) {
                    throw DDBError.validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty \(v.typeName == "S" ? "string" : "binary") value. IndexName: \(index.name), IndexKey: \(k.name)")
                }
            }
        }
        guard Items.size(item) <= 400 * 1024 else { throw DDBError.itemTooLarge }
    }

    static func isEmpty(_ v: AttributeValue) -> Bool {
        switch v {
        case .s(let s): return s.isEmpty
        case .b(let b): return b.isEmpty
        default: return false
        }
    }

    static func checkNotEmpty(_ v: AttributeValue, _ name: String) throws {
        guard isEmpty(v) else { return }
        throw DDBError.validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty \(v.typeName == "S" ? "string" : "binary") value. Key: \(name)")
    }
}

/// Capacity units as DynamoDB counts them: a write is 1 unit per KB (rounded up) of the larger of the old and new
/// item; a read is 1 unit per 4 KB (rounded up) strongly consistent, half of that eventually consistent.
enum Capacity {
    static func write(_ bytes: Int) -> Double { Double(max(1, (bytes + 1023) / 1024)) }
    static func read(_ bytes: Int, consistent: Bool) -> Double {
        Double(max(1, (bytes + 4095) / 4096)) * (consistent ? 1 : 0.5)
    }

    /// The `ConsumedCapacity` member for `mode` (TOTAL or INDEXES), nil for NONE.
    static func consumed(_ mode: String?, table: String, units: Double, indexes: [(name: String, global: Bool, units: Double)] = [],
                         read: Bool? = nil) -> [String: Any]? {
        guard let mode, mode != "NONE" else { return nil }
        let total = units + indexes.reduce(0) { $0 + $1.units }
        var c: [String: Any] = ["TableName": table, "CapacityUnits": total]
        if let read { c[read ? "ReadCapacityUnits" : "WriteCapacityUnits"] = total }
        if mode == "INDEXES" {
            c["Table"] = ["CapacityUnits": units]
            let g = indexes.filter(\.global), l = indexes.filter { !$0.global }
            if !g.isEmpty { c["GlobalSecondaryIndexes"] = Dictionary(uniqueKeysWithValues: g.map { ($0.name, ["CapacityUnits": $0.units]) }) }
            if !l.isEmpty { c["LocalSecondaryIndexes"] = Dictionary(uniqueKeysWithValues: l.map { ($0.name, ["CapacityUnits": $0.units]) }) }
        }
        return c
    }

    /// The write units of one item change, for the table and each index the change touches.
    static func write(_ t: TableSchema, old: Item?, new: Item?) -> (table: Double, indexes: [(name: String, global: Bool, units: Double)]) {
        let table = write(max(old.map(Items.size) ?? 0, new.map(Items.size) ?? 0))
        var out: [(name: String, global: Bool, units: Double)] = []
        for (i, global) in t.localIndexes.map({ ($0, false) }) + t.globalIndexes.map({ ($0, true) }) {
            let before = old.flatMap { DynamoDBStore.indexKey($0, i) != nil ? t.project($0, i) : nil }
            let after = new.flatMap { DynamoDBStore.indexKey($0, i) != nil ? t.project($0, i) : nil }
            guard before != nil || after != nil else { continue }
            out.append((i.name, global, write(max(before.map(Items.size) ?? 0, after.map(Items.size) ?? 0))))
        }
        return (table, out)
    }
}

/// An error whose JSON body carries more than a message (ConditionalCheckFailedException's `Item`,
/// TransactionCanceledException's `CancellationReasons`): `DynamoDBService.handle` renders it.
struct ErrorWithBody: Error {
    var error: AWSError
    /// The extra members, as JSON (an error must be Sendable; `[String: Any]` is not).
    var json: Data
    init(error: AWSError, members: [String: Any]) {
        self.error = error
        json = (try? JSONSerialization.data(withJSONObject: members)) ?? Data("{}".utf8)
    }
    var members: [String: Any] { (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] ?? [:] }
}
