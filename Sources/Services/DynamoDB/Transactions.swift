import Core
import Foundation
import GRDB

/// TransactWriteItems and TransactGetItems. A write transaction is one SQLite transaction: every condition is
/// evaluated against the items as they were, and only if all hold is anything written. A ClientRequestToken makes a
/// repeat within 10 minutes (on the emulator's clock) answer as the first did without writing again.
extension DynamoDBService {
    static let transactLimit = 100, tokenSeconds = 600.0

    /// One action of a TransactWriteItems, checked and ready to run.
    struct TransactAction {
        enum Kind { case conditionCheck, put(Item), delete, update(Update?) }
        let kind: Kind
        let table: TableSchema
        let key: Item
        let condition: Condition?
        let returnOld: Bool
    }

    func transactItems(_ input: Input) throws -> [[String: Any]] {
        let list = try input.objects("TransactItems") ?? []
        guard !list.isEmpty, list.count <= Self.transactLimit else {
            throw DDBError.validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length \(list.isEmpty ? "greater than or equal to 1" : "less than or equal to 100")")
        }
        return list
    }

    func transactWriteItems(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let list = try transactItems(input)
        var actions: [TransactAction] = [], seen = Set<Data>()
        for entry in list {
            guard entry.count == 1, let op = entry.keys.first, let body = entry[op] as? [String: Any] else {
                throw DDBError.validation("TransactItems can only contain one of Check, Put, Update or Delete")
            }
            let a = Input(body)
            let t = try itemTable(s, a)
            var exprs = try Self.expressions(a)
            let condition = try a.string("ConditionExpression").map { try Condition.parse($0, &exprs) }
            let kind: TransactAction.Kind, key: Item
            switch op {
            case "ConditionCheck":
                guard condition != nil else {
                    throw DDBError.validation("1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
                }
                (kind, key) = (.conditionCheck, try t.checkKey(try Items.decode(a.raw["Key"])))
            case "Put":
                let item = try Items.decode(a.raw["Item"])
                try t.checkItem(item)
                (kind, key) = (.put(item), t.key(of: item))
            case "Delete":
                (kind, key) = (.delete, try t.checkKey(try Items.decode(a.raw["Key"])))
            case "Update":
                let update = try a.string("UpdateExpression").map { try Update.parse($0, &exprs) }
                (kind, key) = (.update(update), try t.checkKey(try Items.decode(a.raw["Key"])))
            default:
                throw DDBError.validation("TransactItems can only contain one of Check, Put, Update or Delete")
            }
            try exprs.checkAllUsed()
            var id = Data(t.arn.utf8)
            id.append(Self.keyID(t, key))
            guard seen.insert(id).inserted else {
                throw DDBError.validation("Transaction request cannot include multiple operations on one item")
            }
            actions.append(TransactAction(kind: kind, table: t, key: key, condition: condition, returnOld: try Self.returnOnFailure(a)))
        }
        let token = try input.string("ClientRequestToken")
        let digest = Self.digest(input.raw)
        let now = clock.now()
        let mode = try input.string("ReturnConsumedCapacity")
        var units: [String: Double] = [:]
        let repeated: Bool = try store.db.writeNow { db in
            if let token, try Self.repeatedToken(s, token, digest: digest, now: now, db) { return true }
            // Every condition first, against the items as they are; then every write.
            var reasons: [[String: Any]] = [], failed = false, writes: [(TableSchema, Item?, Item?)] = []
            for a in actions {
                let old = try DynamoDBStore.item(a.table, key: a.key, db)
                if let c = a.condition, try !c.evaluate(old) {
                    var r: [String: Any] = ["Code": "ConditionalCheckFailed", "Message": "The conditional request failed"]
                    if a.returnOld, let old { r["Item"] = Items.encode(old) }
                    reasons.append(r)
                    failed = true
                    continue
                }
                do {
                    switch a.kind {
                    case .conditionCheck: break
                    case .put(let item): writes.append((a.table, old, item))
                    case .delete: if old != nil { writes.append((a.table, old, nil)) }
                    case .update(let update):
                        let (new, _) = try update?.apply(to: old ?? a.key, keyNames: a.table.keyNames) ?? (old ?? a.key, [])
                        try a.table.checkItem(new)
                        writes.append((a.table, old, new))
                    }
                    reasons.append(["Code": "None"])
                } catch let e as AWSError where e.code == "ValidationException" {
                    reasons.append(["Code": "ValidationError", "Message": e.message])
                    failed = true
                }
            }
            if failed { throw Self.transactionCanceled(reasons) }
            for (t, old, new) in writes {
                try DynamoDBStore.writeItem(t, old: old, new: new, now: now, db)
                let u = Capacity.write(t, old: old, new: new)
                // Transactional writes cost twice a standard write.
                units[t.name, default: 0] += 2 * (u.table + u.indexes.reduce(0) { $0 + $1.units })
            }
            if let token { try Self.rememberToken(s, token, digest: digest, now: now, db) }
            return false
        }
        var out: [String: Any] = [:]
        if mode != nil, mode != "NONE", !repeated {
            out["ConsumedCapacity"] = units.keys.sorted().compactMap { Capacity.consumed(mode, table: $0, units: units[$0]!) }
        }
        return out
    }

    /// Whether a ClientRequestToken was used in the last 10 minutes (then the request is answered as before, with
    /// nothing written); the same token with other parameters is refused.
    static func repeatedToken(_ s: Scope, _ token: String, digest: String, now: Double, _ db: Database) throws -> Bool {
        try db.execute(sql: "DELETE FROM tokens WHERE at < ?", arguments: [now - tokenSeconds])
        guard let row = try Row.fetchOne(db, sql: "SELECT digest FROM tokens WHERE account = ? AND region = ? AND token = ?",
                                         arguments: [s.account, s.region, token]) else { return false }
        guard row["digest"] as String == digest else {
            throw AWSError("IdempotentParameterMismatchException", "The request uses the same client token as a previous, but non-identical request.")
        }
        return true
    }

    /// A transaction that wrote: its token answers repeats for the next 10 minutes.
    static func rememberToken(_ s: Scope, _ token: String, digest: String, now: Double, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO tokens (account, region, token, digest, at, answer) VALUES (?, ?, ?, ?, ?, '{}')",
                       arguments: [s.account, s.region, token, digest, now])
    }

    /// TransactionCanceledException with one reason per item, in the request's order.
    static func transactionCanceled(_ reasons: [[String: Any]]) -> ErrorWithBody {
        let codes = reasons.map { $0["Code"] as? String ?? "None" }.joined(separator: ", ")
        return ErrorWithBody(error: AWSError("TransactionCanceledException",
                                             "Transaction cancelled, please refer cancellation reasons for specific reasons [\(codes)]"),
                             members: ["CancellationReasons": reasons])
    }

    /// The request without its token, as canonical JSON: the same parameters give the same digest.
    static func digest(_ raw: [String: Any]) -> String {
        var r = raw
        r["ClientRequestToken"] = nil
        r["ReturnConsumedCapacity"] = nil
        let data = (try? JSONSerialization.data(withJSONObject: r, options: [.sortedKeys])) ?? Data()
        return data.base64EncodedString()
    }

    func transactGetItems(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let list = try transactItems(input)
        var gets: [(TableSchema, Item, Projection?)] = []
        for entry in list {
            guard let body = entry["Get"] as? [String: Any] else {
                throw DDBError.validation("1 validation error detected: Value null at 'transactItems.1.member.get' failed to satisfy constraint: Member must not be null")
            }
            let a = Input(body)
            let t = try itemTable(s, a)
            var exprs = try Self.expressions(a)
            let projection = try a.string("ProjectionExpression").map { try Projection.parse($0, &exprs) }
            try exprs.checkAllUsed()
            gets.append((t, try t.checkKey(try Items.decode(a.raw["Key"])), projection))
        }
        var units: [String: Double] = [:]
        let responses: [[String: Any]] = try store.db.readNow { db in
            try gets.map { t, key, projection in
                let item = try DynamoDBStore.item(t, key: key, db)
                units[t.name, default: 0] += 2 * Capacity.read(item.map(Items.size) ?? 0, consistent: true)
                guard let item else { return [:] }
                return ["Item": Items.encode(projection?.apply(to: item) ?? item)]
            }
        }
        var out: [String: Any] = ["Responses": responses]
        let mode = try input.string("ReturnConsumedCapacity")
        if mode != nil, mode != "NONE" {
            out["ConsumedCapacity"] = units.keys.sorted().compactMap { Capacity.consumed(mode, table: $0, units: units[$0]!) }
        }
        return out
    }
}
