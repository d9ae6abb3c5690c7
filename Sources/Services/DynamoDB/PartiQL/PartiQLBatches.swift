import Core
import Foundation
import GRDB

/// BatchExecuteStatement (1–25 statements, each on its own: a failure is that statement's `Error`) and
/// ExecuteTransaction (≤ 100 statements, all applied in one SQLite transaction or none). Both take only reads or only
/// writes; a read names one item by its full key, as GetItem does.
extension DynamoDBService {
    /// A parsed statement of a batch or transaction, with its table and options.
    struct PartiQLEntry {
        let statement: PartiQLStatement
        let table: TableSchema
        let consistent: Bool
        let returnOld: Bool
    }

    func partiQLEntry(_ s: Scope, _ raw: [String: Any]) throws -> PartiQLEntry {
        let a = Input(raw)
        let (_, statement) = try Self.partiQLStatement(a)
        guard let t = try store.table(s, statement.tableName) else { throw DDBError.resourceNotFound }
        return PartiQLEntry(statement: statement, table: t, consistent: try a.bool("ConsistentRead") ?? false,
                            returnOld: try Self.returnOnFailure(a))
    }

    /// The key of a single-item read: the table (not an index) and an equality on each key attribute.
    static func singleItemKey(_ sel: PartiQLSelect, _ t: TableSchema, transaction: Bool) throws -> Item {
        if sel.index != nil {
            throw PartiQLError.validation(transaction ? "Reads on indices are not supported within transactions." : "This operation is not supported on an index")
        }
        do {
            return try PartiQLPlan.key(t, sel.filter ?? .constant(true))
        } catch let e as AWSError where e == PartiQLError.incompleteKey && transaction {
            throw PartiQLError.validation("Select statements within ExecuteTransaction must specify the primary key in the where clause.")
        }
    }

    /// The item a single-item read answers: present and matching the whole WHERE, projected.
    static func readOne(_ sel: PartiQLSelect, _ t: TableSchema, key: Item, _ db: Database) throws -> (item: Item?, size: Int) {
        guard let item = try DynamoDBStore.item(t, key: key, db) else { return (nil, 0) }
        guard sel.filter?.evaluate(item) ?? true else { return (nil, Items.size(item)) }
        return (sel.paths.map { Projection(paths: $0).apply(to: item) } ?? item, Items.size(item))
    }

    /// A statement's failure as a batch entry's `Error` or a transaction's cancellation reason.
    static func partiQLReason(_ error: any Error) -> [String: Any] {
        let e: AWSError, members: [String: Any]
        switch error {
        case let w as ErrorWithBody: (e, members) = (w.error, w.members)
        case let a as AWSError: (e, members) = (a, [:])
        default: (e, members) = (AWSError("InternalServerError", "Internal server error"), [:])
        }
        let codes = ["ConditionalCheckFailedException": "ConditionalCheckFailed", "DuplicateItemException": "DuplicateItem",
                     "ResourceNotFoundException": "ResourceNotFound", "ValidationException": "ValidationError"]
        var r: [String: Any] = ["Code": codes[e.code] ?? "InternalServerError", "Message": e.message]
        if let item = members["Item"] { r["Item"] = item }
        return r
    }

    static let mixedStatements = "Unsupported operation: a request must consist of either read statements or write statements, not both"

    func batchExecuteStatement(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let list = try input.objects("Statements") ?? []
        guard (1...25).contains(list.count) else {
            throw DDBError.validation("1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length \(list.isEmpty ? "greater than or equal to 1" : "less than or equal to 25")")
        }
        let capacity = try input.enumValue("ReturnConsumedCapacity", ["INDEXES", "TOTAL", "NONE"])
        let entries: [Result<PartiQLEntry, any Error>] = list.map { raw in Result { try partiQLEntry(s, raw) } }
        let kinds = Set(entries.compactMap { try? $0.get().statement.isRead })
        if kinds.count > 1 { throw DDBError.validation(Self.mixedStatements) }
        var units: [String: Double] = [:]
        let now = clock.now()
        let responses: [[String: Any]] = entries.map { result in
            do {
                let e = try result.get()
                let t = e.table
                var r: [String: Any] = ["TableName": t.name]
                if case .select(let sel) = e.statement {
                    let key = try Self.singleItemKey(sel, t, transaction: false)
                    let (item, size) = try store.db.readNow { db in try Self.readOne(sel, t, key: key, db) }
                    units[t.name, default: 0] += Capacity.read(size, consistent: e.consistent)
                    if let item { r["Item"] = Items.encode(item) }
                } else {
                    let write = try PartiQLWrite(e.statement, t)
                    let (old, new, _) = try store.db.writeNow { db in try write.apply(db, now: now, returnOld: e.returnOld) }
                    let u = Capacity.write(t, old: old, new: new)
                    units[t.name, default: 0] += u.table + u.indexes.reduce(0) { $0 + $1.units }
                }
                return r
            } catch {
                return ["Error": Self.partiQLReason(error)]
            }
        }
        var out: [String: Any] = ["Responses": responses]
        if capacity != nil, capacity != "NONE" {
            out["ConsumedCapacity"] = units.keys.sorted().compactMap { Capacity.consumed(capacity, table: $0, units: units[$0]!) }
        }
        return out
    }

    func executeTransaction(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let list = try input.objects("TransactStatements") ?? []
        guard (1...Self.transactLimit).contains(list.count) else {
            throw DDBError.validation("1 validation error detected: Value at 'transactStatements' failed to satisfy constraint: Member must have length \(list.isEmpty ? "greater than or equal to 1" : "less than or equal to 100")")
        }
        let capacity = try input.enumValue("ReturnConsumedCapacity", ["INDEXES", "TOTAL", "NONE"])
        let entries = try list.map { try partiQLEntry(s, $0) }
        if Set(entries.map(\.statement.isRead)).count > 1 { throw DDBError.validation(Self.mixedStatements) }
        var units: [String: Double] = [:]
        var out: [String: Any] = [:]
        if entries[0].statement.isRead {
            let reads = try entries.map { e -> (PartiQLSelect, TableSchema, Item) in
                guard case .select(let sel) = e.statement else { throw DDBError.validation(Self.mixedStatements) }
                return (sel, e.table, try Self.singleItemKey(sel, e.table, transaction: true))
            }
            out["Responses"] = try store.db.readNow { db in
                try reads.map { sel, t, key -> [String: Any] in
                    let (item, size) = try Self.readOne(sel, t, key: key, db)
                    units[t.name, default: 0] += 2 * Capacity.read(size, consistent: true)
                    return item.map { ["Item": Items.encode($0)] } ?? [:]
                }
            }
        } else {
            var seen = Set<Data>()
            let writes = try entries.map { e -> (PartiQLWrite, Bool) in
                let w = try PartiQLWrite(e.statement, e.table, inTransaction: true)
                var id = Data(e.table.arn.utf8)
                id.append(Self.keyID(e.table, w.key))
                guard seen.insert(id).inserted else {
                    throw DDBError.validation("Transaction request cannot include multiple operations on one item")
                }
                return (w, e.returnOld)
            }
            let token = try input.string("ClientRequestToken")
            let digest = Self.digest(input.raw)
            let now = clock.now()
            let repeated: Bool = try store.db.writeNow { db in
                if let token, try Self.repeatedToken(s, token, digest: digest, now: now, db) { return true }
                // Each statement runs in turn; they name distinct items, so each sees the items as they were. Any
                // failure throws out of the SQLite transaction, which undoes the others.
                var reasons: [[String: Any]] = [], failed = false
                for (w, returnOld) in writes {
                    do {
                        let (old, new, _) = try w.apply(db, now: now, returnOld: returnOld)
                        let u = Capacity.write(w.table, old: old, new: new)
                        units[w.table.name, default: 0] += 2 * (u.table + u.indexes.reduce(0) { $0 + $1.units })
                        reasons.append(["Code": "None"])
                    } catch {
                        reasons.append(Self.partiQLReason(error))
                        failed = true
                    }
                }
                if failed { throw Self.transactionCanceled(reasons) }
                if let token { try Self.rememberToken(s, token, digest: digest, now: now, db) }
                return false
            }
            if repeated { units = [:] }
        }
        if capacity != nil, capacity != "NONE", !units.isEmpty {
            out["ConsumedCapacity"] = units.keys.sorted().compactMap { Capacity.consumed(capacity, table: $0, units: units[$0]!) }
        }
        return out
    }
}
