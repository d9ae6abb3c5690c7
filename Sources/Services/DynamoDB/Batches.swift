import Core
import Foundation
import GRDB

/// BatchGetItem and BatchWriteItem. Every request of a batch is checked before any is carried out; a BatchWriteItem
/// runs in one transaction, so UnprocessedItems is always empty (nothing is throttled here).
extension DynamoDBService {
    static let batchGetLimit = 100, batchWriteLimit = 25, batchGetBytes = 16 << 20

    func requestItems(_ input: Input) throws -> [String: Any] {
        guard let r = try input.object("RequestItems"), !r.isEmpty else {
            throw DDBError.validation("1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
        }
        return r
    }

    /// The stored bytes of a key, for duplicate checks.
    static func keyID(_ t: TableSchema, _ key: Item) -> Data {
        let h = DynamoDBStore.keyBytes(key[t.hashKey.name]), r = DynamoDBStore.keyBytes(t.rangeKey.flatMap { key[$0.name] })
        var id = Data()
        id.append(contentsOf: withUnsafeBytes(of: UInt32(h.count).bigEndian) { Array($0) })
        id.append(h)
        id.append(r)
        return id
    }

    func batchGetItem(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let requests = try requestItems(input)
        struct Request { let table: TableSchema; let keys: [Item]; let projection: Projection?; let raw: [String: Any]; let consistent: Bool }
        var plan: [Request] = []
        var total = 0
        for name in requests.keys.sorted() {
            guard let r = requests[name] as? [String: Any] else { throw DDBError.wrongType("RequestItems") }
            let ri = Input(r)
            guard let t = try store.table(s, name) else { throw DDBError.resourceNotFound }
            try LegacyParameters.checkStyles(r, .batchGetItem)
            var exprs = try Self.expressions(ri)
            let projection = try Self.projection(ri, &exprs)
            try exprs.checkAllUsed()
            var keys: [Item] = [], seen = Set<Data>()
            for k in try ri.list("Keys") ?? [] {
                let key = try t.checkKey(try Items.decode(k))
                guard seen.insert(Self.keyID(t, key)).inserted else { throw DDBError.invalid("Provided list of item keys contains duplicates") }
                keys.append(key)
            }
            total += keys.count
            plan.append(Request(table: t, keys: keys, projection: projection, raw: r, consistent: try ri.bool("ConsistentRead") ?? false))
        }
        guard total <= Self.batchGetLimit else { throw DDBError.validation("Too many items requested for the BatchGetItem call") }
        var responses: [String: Any] = [:], unprocessed: [String: Any] = [:], capacity: [[String: Any]] = []
        let mode = try input.string("ReturnConsumedCapacity")
        try store.db.readNow { db in
            var bytes = 0
            for r in plan {
                var found: [[String: Any]] = [], left: [Any] = [], read = 0.0
                for key in r.keys {
                    // Past 16 MB of answer, the rest is left for the caller to ask again.
                    guard bytes < Self.batchGetBytes else { left.append(Items.encode(key)); continue }
                    guard let item = try DynamoDBStore.item(r.table, key: key, db) else { read += Capacity.read(0, consistent: r.consistent); continue }
                    let size = Items.size(item)
                    bytes += size
                    read += Capacity.read(size, consistent: r.consistent)
                    found.append(Items.encode(r.projection?.apply(to: item) ?? item))
                }
                responses[r.table.name] = found
                if !left.isEmpty {
                    var again = r.raw
                    again["Keys"] = left
                    unprocessed[r.table.name] = again
                }
                if let c = Capacity.consumed(mode, table: r.table.name, units: read) { capacity.append(c) }
            }
        }
        var out: [String: Any] = ["Responses": responses, "UnprocessedKeys": unprocessed]
        if mode != nil, mode != "NONE" { out["ConsumedCapacity"] = capacity }
        return out
    }

    func batchWriteItem(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let requests = try requestItems(input)
        var plan: [(TableSchema, Item?, Item)] = []  // table, item to put (nil: delete), key
        for name in requests.keys.sorted() {
            guard let list = requests[name] as? [[String: Any]] else { throw DDBError.wrongType("RequestItems") }
            guard let t = try store.table(s, name) else { throw DDBError.resourceNotFound }
            var seen = Set<Data>()
            for w in list {
                let put = w["PutRequest"] as? [String: Any], delete = w["DeleteRequest"] as? [String: Any]
                guard (put == nil) != (delete == nil) else {
                    throw DDBError.validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
                }
                let key: Item, item: Item?
                if let put {
                    let i = try Items.decode(put["Item"])
                    try t.checkItem(i)
                    (key, item) = (t.key(of: i), i)
                } else {
                    (key, item) = (try t.checkKey(try Items.decode(delete?["Key"])), nil)
                }
                guard seen.insert(Self.keyID(t, key)).inserted else { throw DDBError.invalid("Provided list of item keys contains duplicates") }
                plan.append((t, item, key))
            }
        }
        guard plan.count <= Self.batchWriteLimit else { throw DDBError.validation("Too many items requested for the BatchWriteItem call") }
        let now = clock.now()
        var units: [String: Double] = [:]
        try store.db.writeNow { db in
            for (t, item, key) in plan {
                let old = try DynamoDBStore.item(t, key: key, db)
                if item != nil || old != nil { try DynamoDBStore.writeItem(t, old: old, new: item, now: now, db) }
                let u = Capacity.write(t, old: old, new: item)
                units[t.name, default: 0] += u.table + u.indexes.reduce(0) { $0 + $1.units }
            }
        }
        var out: [String: Any] = ["UnprocessedItems": [String: Any]()]
        let mode = try input.string("ReturnConsumedCapacity")
        if mode != nil, mode != "NONE" {
            out["ConsumedCapacity"] = units.keys.sorted().compactMap { Capacity.consumed(mode, table: $0, units: units[$0]!) }
        }
        return out
    }
}
