import Core
import Foundation
import GRDB

/// ExecuteStatement: one PartiQL statement. A SELECT reads a page (Limit items evaluated or 1 MB) and answers a
/// NextToken that resumes it; INSERT, UPDATE and DELETE change one item through `DynamoDBStore.writeItem` (index
/// entries, TTL column and stream record with it) in one SQLite transaction.
extension DynamoDBService {
    /// A statement's `Parameters`: AttributeValues in `?` order.
    static func partiQLParameters(_ raw: Any?) throws -> [AttributeValue] {
        guard let raw, !(raw is NSNull) else { return [] }
        guard let list = raw as? [Any] else { throw DDBError.wrongType("Parameters") }
        if list.isEmpty {
            throw DDBError.validation("1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1")
        }
        return try list.map { try AttributeValue(json: $0) }
    }

    static func partiQLStatement(_ input: Input) throws -> (text: String, statement: PartiQLStatement) {
        let text = try input.required("Statement")
        guard (1...8192).contains(text.utf8.count) else {
            throw DDBError.validation("1 validation error detected: Value at 'statement' failed to satisfy constraint: Member must have length \(text.isEmpty ? "greater than or equal to 1" : "less than or equal to 8192")")
        }
        return (text, try PartiQLParser.parse(text, parameters: try partiQLParameters(input.raw["Parameters"])))
    }

    func executeStatement(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let (text, statement) = try Self.partiQLStatement(input)
        let capacity = try input.enumValue("ReturnConsumedCapacity", ["INDEXES", "TOTAL", "NONE"])
        let returnOld = try Self.returnOnFailure(input)
        guard let t = try store.table(s, statement.tableName) else { throw DDBError.resourceNotFound }
        switch statement {
        case .select(let sel):
            let limit = try input.int("Limit")
            if let limit, limit < 1 {
                throw DDBError.validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
            }
            let request = Self.requestHash(Self.digest(["Statement": text, "Parameters": input.raw["Parameters"] ?? NSNull()]))
            return try select(t, sel, consistent: try input.bool("ConsistentRead") ?? false, limit: limit,
                              token: try input.string("NextToken"), request: request, capacity: capacity)
        default:
            let write = try PartiQLWrite(statement, t)
            let now = clock.now()
            let (old, new, items) = try store.db.writeNow { db in try write.apply(db, now: now, returnOld: returnOld) }
            var out: [String: Any] = ["Items": items.map(Items.encode)]
            let units = Capacity.write(t, old: old, new: new)
            out["ConsumedCapacity"] = Capacity.consumed(capacity, table: t.name, units: units.table, indexes: units.indexes)
            return out
        }
    }

    /// One page of a SELECT. The NextToken carries the request's digest, the partition key reached and the stored
    /// position of the last item read.
    func select(_ t: TableSchema, _ sel: PartiQLSelect, consistent: Bool, limit: Int?, token: String?, request: String,
                capacity: String?) throws -> [String: Any] {
        var src = Source(table: t, index: nil, global: false)
        if let name = sel.index {
            guard let found = t.index(name) else { throw DDBError.validation("The table does not have the specified index: \(name)") }
            src = Source(table: t, index: found.0, global: found.global)
        }
        if consistent, src.global { throw DDBError.validation("Strongly consistent read is not supported on Global Secondary Indexes") }
        let plan = try PartiQLPlan.read(sel, src)
        var position = (hash: 0, start: nil as [Data]?)
        if let token { position = try Self.decodePartiQLToken(token, request: request) }
        let select = sel.paths != nil ? "SPECIFIC_ATTRIBUTES" : src.index == nil ? "ALL_ATTRIBUTES" : "ALL_PROJECTED_ATTRIBUTES"
        var options = ReadOptions(filter: sel.filter.map { Condition(root: $0) }, projection: sel.paths.map { Projection(paths: $0) },
                                  select: select, limit: limit, consistent: consistent, capacity: "TOTAL")
        var items: [Any] = [], units = 0.0
        var next: String?, lastKey: Any?
        let hashes: [AttributeValue?] = plan.hashKeys.map { $0.map(Optional.some) } ?? [nil]
        var h = position.hash, start = position.start
        while h < hashes.count {
            let hk = hashes[h].map { Data(KeyOrder.bytes($0)) }
            let page = try read(src, options, hashKey: hk, conditions: hk == nil ? [] : plan.conditions,
                                arguments: hk == nil ? [] : plan.arguments, start: start, forward: plan.forward) { _ in true }
            items += page["Items"] as? [Any] ?? []
            units += ((page["ConsumedCapacity"] as? [String: Any])?["CapacityUnits"] as? Double) ?? 0
            if let last = page["LastEvaluatedKey"] {
                lastKey = last
                next = Self.encodePartiQLToken(request: request, hash: h, start: try startBytes(src, Items.decode(last)))
                break
            }
            if let l = options.limit {
                options.limit = l - (page["ScannedCount"] as? Int ?? 0)
                if options.limit! < 1 { break }
            }
            h += 1
            start = nil
        }
        var out: [String: Any] = ["Items": items]
        if let next { out["NextToken"] = next; out["LastEvaluatedKey"] = lastKey }
        out["ConsumedCapacity"] = Capacity.consumed(capacity, table: t.name, units: max(units, Capacity.read(0, consistent: consistent)))
        return out
    }

    /// The stored position of an item's key in a source (table key bytes, preceded by the index key's for an index).
    func startBytes(_ src: Source, _ key: Item) -> [Data] {
        let th = DynamoDBStore.keyBytes(key[src.table.hashKey.name])
        let tr = DynamoDBStore.keyBytes(src.table.rangeKey.flatMap { key[$0.name] })
        guard let i = src.index else { return [th, tr] }
        return [DynamoDBStore.keyBytes(key[i.hashKey.name]), DynamoDBStore.keyBytes(i.rangeKey.flatMap { key[$0.name] }), th, tr]
    }

    /// A short fingerprint of a statement and its parameters (FNV-1a), so a token stays small whatever they are.
    static func requestHash(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }

    static func encodePartiQLToken(request: String, hash: Int, start: [Data]) -> String {
        let body: [String: Any] = ["r": request, "h": hash, "p": start.map { $0.base64EncodedString() }]
        return ((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()).base64EncodedString()
    }

    /// A token from another statement or parameters, or not one of ours, is refused as DynamoDB does.
    static func decodePartiQLToken(_ token: String, request: String) throws -> (hash: Int, start: [Data]?) {
        guard let data = Data(base64Encoded: token), let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let r = body["r"] as? String, let h = body["h"] as? Int, let p = body["p"] as? [String] else {
            throw DDBError.validation("Invalid NextToken")
        }
        guard r == request else { throw DDBError.validation("NextToken does not match request") }
        return (h, p.compactMap { Data(base64Encoded: $0) })
    }
}

/// An INSERT, UPDATE or DELETE, checked against its table and ready to run inside a write transaction.
struct PartiQLWrite {
    enum Kind {
        case insert(Item)
        case update(Update, ConditionNode, PartiQLReturning?)
        case delete(ConditionNode, PartiQLReturning?)
        case check(ConditionNode)
    }
    let table: TableSchema
    let key: Item
    let kind: Kind

    init(_ statement: PartiQLStatement, _ t: TableSchema, inTransaction: Bool = false) throws {
        table = t
        switch statement {
        case .select: throw PartiQLError.validation("Unsupported operation: SELECT")
        case .exists(let sel):
            guard inTransaction else { throw PartiQLError.validation("EXISTS can only be used in ExecuteTransaction write requests.") }
            guard sel.index == nil else { throw PartiQLError.validation("Operations on indices are not supported in transactions") }
            do {
                key = try PartiQLPlan.key(t, sel.filter ?? .constant(true))
            } catch let e as AWSError where e == PartiQLError.incompleteKey {
                throw PartiQLError.validation("EXISTS() must contain a single item read with additional condition")
            }
            kind = .check(sel.filter ?? .constant(true))
        case .insert(_, let item):
            for k in [t.hashKey] + (t.rangeKey.map { [$0] } ?? []) {
                guard let v = item[k.name] else { throw PartiQLError.validation("One or more parameter values were invalid: Missing the key \(k.name) in the item") }
                guard v.typeName == k.type else {
                    throw PartiQLError.validation("Key attribute's data type should match its data type in table's schema: Key \(k.name)")
                }
            }
            try t.checkItem(item)
            key = t.key(of: item)
            kind = .insert(item)
        case let .update(_, update, condition, returning):
            key = try PartiQLPlan.key(t, condition)
            kind = .update(update, condition, returning)
        case let .delete(_, condition, returning):
            key = try PartiQLPlan.key(t, condition)
            kind = .delete(condition, returning)
        }
    }

    /// Run the write: the item before and after, and the items its RETURNING clause answers.
    func apply(_ db: Database, now: Double, returnOld: Bool) throws -> (old: Item?, new: Item?, returned: [Item]) {
        let old = try DynamoDBStore.item(table, key: key, db)
        func failed() -> any Error {
            if returnOld, let old { return ErrorWithBody(error: DDBError.conditionalCheckFailed, members: ["Item": Items.encode(old)]) }
            return DDBError.conditionalCheckFailed
        }
        switch kind {
        case .insert(let item):
            guard old == nil else { throw PartiQLError.duplicateItem }
            try DynamoDBStore.writeItem(table, old: nil, new: item, now: now, db)
            return (nil, item, [])
        case let .update(update, condition, returning):
            // UPDATE changes an existing item only: no item fails as a false condition does.
            guard let old, condition.evaluate(old) else { throw failed() }
            let (new, _) = try update.apply(to: old, keyNames: table.keyNames)
            try table.checkItem(new)
            try DynamoDBStore.writeItem(table, old: old, new: new, now: now, db)
            var returned: Item?
            switch returning {
            case nil: break
            case let r? where !r.modifiedOnly: returned = r.new ? new : old
            case let r?: returned = update.updatedValues(in: r.new ? new : old)
            }
            return (old, new, returned.map { [$0] } ?? [])
        case .check(let condition):
            // The item must exist and meet the whole WHERE; nothing is written.
            guard let old, condition.evaluate(old) else { throw failed() }
            return (nil, nil, [])
        case let .delete(condition, returning):
            // Deleting no item is no change, whatever the condition.
            guard let old else { return (nil, nil, []) }
            guard condition.evaluate(old) else { throw failed() }
            try DynamoDBStore.writeItem(table, old: old, new: nil, now: now, db)
            return (old, nil, returning != nil ? [old] : [])
        }
    }
}
