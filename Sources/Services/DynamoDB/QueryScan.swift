import Core
import Foundation
import GRDB

/// Query and Scan. A Query reads one hash key's range of the table's or an index's primary key, in key order, from
/// the position after ExclusiveStartKey; a Scan walks the whole key space in the same order. Both stop at Limit items
/// read or 1 MB read, and apply the FilterExpression after reading (so Count ≤ ScannedCount, as in DynamoDB).
extension DynamoDBService {
    static let pageBytes = 1 << 20

    /// What a Query or Scan reads: the table or one of its indexes.
    struct Source {
        let table: TableSchema
        let index: IndexSchema?
        let global: Bool
        var isQuery = false
        var hashKey: KeyAttribute { index?.hashKey ?? table.hashKey }
        var rangeKey: KeyAttribute? { index == nil ? table.rangeKey : index?.rangeKey }
        /// The names LastEvaluatedKey carries: the index key and the table key.
        var keyNames: [String] { table.keyNames + (index?.keyNames.filter { !table.keyNames.contains($0) } ?? []) }
    }

    /// The options both operations share.
    struct ReadOptions {
        var filter: Condition?
        var projection: Projection?
        var select: String
        var limit: Int?
        var consistent: Bool
        var capacity: String?
    }

    func source(_ t: TableSchema, _ input: Input) throws -> Source {
        guard let name = try input.string("IndexName") else { return Source(table: t, index: nil, global: false) }
        guard let found = t.index(name) else {
            throw DDBError.validation("The table does not have the specified index: \(name)")
        }
        return Source(table: t, index: found.0, global: found.global)
    }

    func readOptions(_ src: Source, _ input: Input, _ exprs: inout ExpressionInput) throws -> ReadOptions {
        let legacyFilter = input.raw[src.isQuery ? "QueryFilter" : "ScanFilter"]
        let filter = try input.string("FilterExpression").map { try Condition.parse($0, &exprs, kind: .filter) }
            ?? LegacyConditions.filter(legacyFilter, conditionalOperator: input.raw["ConditionalOperator"])
        let projection = try Self.projection(input, &exprs)
        let defaultSelect = projection != nil ? "SPECIFIC_ATTRIBUTES" : src.index == nil ? "ALL_ATTRIBUTES" : "ALL_PROJECTED_ATTRIBUTES"
        let select = try input.enumValue("Select", ["ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"]) ?? defaultSelect
        if select == "SPECIFIC_ATTRIBUTES", projection == nil {
            throw DDBError.validation("1 validation error detected: Value 'SPECIFIC_ATTRIBUTES' at 'select' failed to satisfy constraint: Member must specify either AttributesToGet or ProjectionExpression when Select is SPECIFIC_ATTRIBUTES")
        }
        if projection != nil, select != "SPECIFIC_ATTRIBUTES" {
            throw DDBError.validation("Cannot specify the ProjectionExpression when choosing to get \(select)")
        }
        if select == "ALL_PROJECTED_ATTRIBUTES", src.index == nil {
            throw DDBError.validation("One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries")
        }
        if select == "ALL_ATTRIBUTES", let index = src.index, src.global, index.projectionType != "ALL" {
            throw DDBError.invalid("Select type ALL_ATTRIBUTES is not supported for global secondary index \(index.name) because its projection type is not ALL")
        }
        let limit = try input.int("Limit")
        if let limit, limit < 1 {
            throw DDBError.validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
        }
        let consistent = try input.bool("ConsistentRead") ?? false
        if consistent, src.global { throw DDBError.validation("Consistent reads are not supported on global secondary indexes") }
        return ReadOptions(filter: filter, projection: projection, select: select, limit: limit, consistent: consistent,
                           capacity: try input.string("ReturnConsumedCapacity"))
    }

    /// The stored position of ExclusiveStartKey: (hash, range) bytes of the table key, and of the index key for an index.
    func startPosition(_ src: Source, _ input: Input) throws -> [Data]? {
        guard input.has("ExclusiveStartKey") else { return nil }
        let key = try Items.decode(input.raw["ExclusiveStartKey"])
        let invalid = DDBError.validation("The provided starting key is invalid: The provided key element does not match the schema")
        var attrs = [src.table.hashKey] + (src.table.rangeKey.map { [$0] } ?? [])
        if let i = src.index { attrs += [i.hashKey] + (i.rangeKey.map { [$0] } ?? []) }
        for a in attrs { guard let v = key[a.name], v.typeName == a.type else { throw invalid } }
        guard Set(key.keys) == Set(src.keyNames) else { throw invalid }
        let th = DynamoDBStore.keyBytes(key[src.table.hashKey.name])
        let tr = DynamoDBStore.keyBytes(src.table.rangeKey.flatMap { key[$0.name] })
        guard let i = src.index else { return [th, tr] }
        return [DynamoDBStore.keyBytes(key[i.hashKey.name]), DynamoDBStore.keyBytes(i.rangeKey.flatMap { key[$0.name] }), th, tr]
    }

    func query(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let t = try itemTable(s, input)
        var src = try source(t, input)
        src.isQuery = true
        try LegacyParameters.checkStyles(input.raw, .query)
        var exprs = try Self.expressions(input)
        var keyTypes = [src.hashKey.name: src.hashKey.type]
        if let r = src.rangeKey { keyTypes[r.name] = r.type }
        let kc: KeyCondition
        if let text = try input.string("KeyConditionExpression") {
            kc = try KeyCondition.parse(text, &exprs, hashKey: src.hashKey.name, rangeKey: src.rangeKey?.name, keyTypes: keyTypes)
        } else if input.has("KeyConditions") {
            kc = try LegacyConditions.keyConditions(input.raw["KeyConditions"], hashKey: src.hashKey.name, rangeKey: src.rangeKey?.name,
                                                    keyTypes: keyTypes)
        } else {
            throw DDBError.validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
        }
        let options = try readOptions(src, input, &exprs)
        try exprs.checkAllUsed()
        let mismatch = DDBError.invalid("Condition parameter type does not match schema type")
        guard kc.hashValue.typeName == src.hashKey.type else { throw mismatch }
        var conditions: [String] = [], arguments: [(any DatabaseValueConvertible)?] = []
        var prefix: [UInt8]?
        if let range = kc.range, let rk = src.rangeKey {
            func bound(_ op: String, _ v: AttributeValue) throws {
                guard v.typeName == rk.type else { throw mismatch }
                conditions.append("rk \(op) ?")
                arguments.append(Data(KeyOrder.bytes(v)))
            }
            switch range {
            case .eq(let v): try bound("=", v)
            case .lt(let v): try bound("<", v)
            case .le(let v): try bound("<=", v)
            case .gt(let v): try bound(">", v)
            case .ge(let v): try bound(">=", v)
            case .between(let lo, let hi): try bound(">=", lo); try bound("<=", hi)
            case .beginsWith(let p):
                guard rk.type != "N" else {
                    throw DDBError.validation("Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")
                }
                try bound(">=", p)
                prefix = KeyOrder.bytes(p)
                // The first key past every key with the prefix: the prefix with its last byte below 0xFF raised.
                var upper = prefix!
                while let b = upper.last, b == 0xFF { upper.removeLast() }
                if !upper.isEmpty {
                    upper[upper.count - 1] += 1
                    conditions.append("rk < ?")
                    arguments.append(Data(upper))
                }
            }
        }
        let forward = try input.bool("ScanIndexForward") ?? true
        let start = try startPosition(src, input)
        let hk = Data(KeyOrder.bytes(kc.hashValue))
        let rangeName = src.rangeKey?.name
        return try read(src, options, hashKey: hk, conditions: conditions, arguments: arguments, start: start, forward: forward) { item in
            // begins_with: the range ends at the first key without the prefix.
            guard let prefix, let name = rangeName, let v = item[name] else { return true }
            return Self.hasPrefix(v, prefix)
        }
    }

    static func hasPrefix(_ v: AttributeValue, _ prefix: [UInt8]) -> Bool {
        let bytes = KeyOrder.bytes(v)
        return bytes.count >= prefix.count && Array(bytes[0..<prefix.count]) == prefix
    }

    func scan(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let t = try itemTable(s, input)
        let src = try source(t, input)
        try LegacyParameters.checkStyles(input.raw, .scan)
        var exprs = try Self.expressions(input)
        let options = try readOptions(src, input, &exprs)
        try exprs.checkAllUsed()
        let segment = try input.int("Segment"), total = try input.int("TotalSegments")
        var segmentOf: (Int, Int)?
        switch (segment, total) {
        case (nil, nil): break
        case (nil, _?): throw DDBError.validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
        case (_?, nil): throw DDBError.validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
        case let (seg?, tot?):
            guard (1...1_000_000).contains(tot) else {
                throw DDBError.validation("1 validation error detected: Value '\(tot)' at 'totalSegments' failed to satisfy constraint: Member must have value \(tot < 1 ? "greater than or equal to 1" : "less than or equal to 1000000")")
            }
            guard seg >= 0 else {
                throw DDBError.validation("1 validation error detected: Value '\(seg)' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0")
            }
            guard seg < tot else {
                throw DDBError.validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: \(seg) is not less than TotalSegments: \(tot)")
            }
            segmentOf = (seg, tot)
        }
        let start = try startPosition(src, input)
        return try read(src, options, hashKey: nil, conditions: [], arguments: [], start: start, forward: true, segment: segmentOf) { _ in true }
    }

    /// The segment of a table item: a hash of its table hash key, so each item is in exactly one segment.
    static func segment(_ tableHashKey: Data, of total: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for b in tableHashKey { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(h % UInt64(total))
    }

    /// Read one page in key order. `hashKey`: a Query's hash key (nil: a Scan); `conditions` on `rk`; `inRange`: false
    /// ends the read (a begins_with range's end).
    func read(_ src: Source, _ o: ReadOptions, hashKey: Data?, conditions: [String], arguments: [(any DatabaseValueConvertible)?],
              start: [Data]?, forward: Bool, segment: (Int, Int)? = nil, inRange: (Item) -> Bool) throws -> [String: Any] {
        let t = src.table
        let dir = forward ? "" : " DESC"
        let cmp = forward ? ">" : "<"
        var sql: String, args: [(any DatabaseValueConvertible)?]
        if let index = src.index {
            var w = ["i.tid = ?", "i.idx = ?"]
            args = [t.id, index.name]
            if let hashKey { w.append("i.hk = ?"); args.append(hashKey) }
            w += conditions.map { "i." + $0 }
            args += arguments
            if let start {
                w.append(hashKey == nil ? "(i.hk, i.rk, i.thk, i.trk) \(cmp) (?, ?, ?, ?)" : "(i.rk, i.thk, i.trk) \(cmp) (?, ?, ?)")
                args += (hashKey == nil ? start : Array(start[1...])).map { $0 }
            }
            let order = (hashKey == nil ? ["i.hk"] : []) + ["i.rk", "i.thk", "i.trk"]
            sql = "SELECT i.thk AS thk, it.body AS body FROM index_items i JOIN items it ON it.tid = i.tid AND it.hk = i.thk AND it.rk = i.trk WHERE "
                + w.joined(separator: " AND ") + " ORDER BY " + order.map { $0 + dir }.joined(separator: ", ")
        } else {
            var w = ["tid = ?"]
            args = [t.id]
            if let hashKey { w.append("hk = ?"); args.append(hashKey) }
            w += conditions
            args += arguments
            if let start {
                w.append(hashKey == nil ? "(hk, rk) \(cmp) (?, ?)" : "rk \(cmp) ?")
                args += (hashKey == nil ? start : [start[1]]).map { $0 }
            }
            let order = (hashKey == nil ? ["hk"] : []) + ["rk"]
            sql = "SELECT hk AS thk, body FROM items WHERE " + w.joined(separator: " AND ") + " ORDER BY " + order.map { $0 + dir }.joined(separator: ", ")
        }
        var items: [[String: Any]] = []
        var count = 0, scanned = 0, bytes = 0
        var last: Item?
        return try store.db.readNow { db -> [String: Any] in
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: StatementArguments(args)!)
            while let row = try rows.next() {
                if let sg = segment, Self.segment(row["thk"], of: sg.1) != sg.0 { continue }
                let stored = try DynamoDBStore.decodeBody(row["body"])
                guard inRange(stored) else { break }
                let size = Items.size(stored)
                scanned += 1
                bytes += size
                last = stored
                // What the source holds of the item: an index its projection (an LSI fetches the rest when asked).
                var item = stored
                if let index = src.index, !(o.select == "ALL_ATTRIBUTES" && !src.global) { item = t.project(stored, index) }
                if try o.filter?.evaluate(item) ?? true {
                    count += 1
                    if o.select != "COUNT" { items.append(Items.encode(o.projection?.apply(to: item) ?? item)) }
                }
                if let limit = o.limit, scanned >= limit { break }
                if bytes >= Self.pageBytes { break }
            }
            var out: [String: Any] = ["Count": count, "ScannedCount": scanned]
            if o.select != "COUNT" { out["Items"] = items }
            let full = (o.limit.map { scanned >= $0 } ?? false) || bytes >= Self.pageBytes
            if full, let last { out["LastEvaluatedKey"] = Items.encode(last.filter { src.keyNames.contains($0.key) }) }
            out["ConsumedCapacity"] = Capacity.consumed(o.capacity, table: t.name, units: Capacity.read(bytes, consistent: o.consistent))
            return out
        }
    }
}
