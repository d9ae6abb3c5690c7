import Core
import Foundation
import GRDB

/// CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable. Tables are ACTIVE as soon as they exist: the
/// CreateTable answer says CREATING (and a new index's UpdateTable answer says CREATING), any later read says ACTIVE.
extension DynamoDBService {
    func createTable(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let name = try input.tableName()
        try Self.checkTableName(name)
        let definitions = try Self.attributeDefinitions(input)
        let (hash, range) = try Self.keySchema(try input.objects("KeySchema"), definitions, path: "keySchema")
        let billing = try input.enumValue("BillingMode", ["PROVISIONED", "PAY_PER_REQUEST"]) ?? "PROVISIONED"
        let (rcu, wcu) = try Self.throughput(try input.object("ProvisionedThroughput"), billing: billing)
        let now = clock.now()
        var t = TableSchema(name: name, tableId: UUID().uuidString.lowercased(),
                            arn: "arn:aws:dynamodb:\(s.region):\(s.account):table/\(name)", created: now, hashKey: hash,
                            rangeKey: range, attributeDefinitions: definitions, billingMode: billing,
                            readCapacity: rcu, writeCapacity: wcu)
        var names = Set<String>()
        for l in try input.objects("LocalSecondaryIndexes") ?? [] {
            guard let range else {
                throw DDBError.invalid("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
            }
            _ = range
            let index = try Self.index(l, definitions, billing: billing, global: false)
            guard index.hashKey == hash else {
                throw DDBError.invalid("Index KeySchema does not have the same leading hash key as table KeySchema for index: \(index.name). index hash key: \(index.hashKey.name), table hash key: \(hash.name)")
            }
            guard names.insert(index.name).inserted else { throw DDBError.invalid("Duplicate index name: \(index.name)") }
            t.localIndexes.append(index)
        }
        for g in try input.objects("GlobalSecondaryIndexes") ?? [] {
            let index = try Self.index(g, definitions, billing: billing, global: true)
            guard names.insert(index.name).inserted else { throw DDBError.invalid("Duplicate index name: \(index.name)") }
            t.globalIndexes.append(index)
        }
        // Every definition must be some key's attribute.
        let used = Set(t.keyNames + t.indexes.flatMap(\.keyNames))
        guard used.count == definitions.count else {
            throw DDBError.invalid("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
        }
        if let spec = try input.object("StreamSpecification") { try applyStream(&t, Input(spec), now: now) }
        if let sse = try input.object("SSESpecification") { Self.applySSE(&t, sse, s) }
        t.deletionProtection = try input.bool("DeletionProtectionEnabled") ?? false
        t.tableClass = try input.enumValue("TableClass", ["STANDARD", "STANDARD_INFREQUENT_ACCESS"]) ?? "STANDARD"
        for tag in try input.objects("Tags") ?? [] {
            if let k = tag["Key"] as? String { t.tags[k] = tag["Value"] as? String ?? "" }
        }
        try store.db.writeNow { db in
            guard try DynamoDBStore.table(s, name, db) == nil else { throw DDBError.tableExists(name) }
            try store.save(&t, s, db)
        }
        var d = describe(t, counts: (0, 0, [:]))
        d["TableStatus"] = "CREATING"
        return ["TableDescription": d]
    }

    func describeTable(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let name = try input.tableName()
        guard let t = try store.table(s, name) else { throw DDBError.tableNotFound(name) }
        let counts = try store.db.readNow { db in try DynamoDBStore.counts(t, db) }
        return ["Table": describe(t, counts: counts)]
    }

    func listTables(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let limit = try input.int("Limit") ?? 100
        guard (1...100).contains(limit) else {
            throw DDBError.validation("1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value \(limit < 1 ? "greater than or equal to 1" : "less than or equal to 100")")
        }
        let start = try input.string("ExclusiveStartTableName")
        var names = try store.db.readNow { db in try DynamoDBStore.tableNames(s, db) }
        if let start { names = names.filter { $0 > start } }
        var out: [String: Any] = ["TableNames": Array(names.prefix(limit))]
        if names.count > limit { out["LastEvaluatedTableName"] = names[limit - 1] }
        return out
    }

    func deleteTable(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let name = try input.tableName()
        let (t, counts) = try store.db.writeNow { db in
            guard let t = try DynamoDBStore.table(s, name, db) else { throw DDBError.tableNotFound(name) }
            guard !t.deletionProtection else {
                throw DDBError.validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
            }
            let counts = try DynamoDBStore.counts(t, db)
            try store.drop(t, s, db)
            return (t, counts)
        }
        var d = describe(t, counts: counts)
        d["TableStatus"] = "DELETING"
        return ["TableDescription": d]
    }

    func updateTable(_ s: Scope, _ input: Input) throws -> [String: Any] {
        let name = try input.tableName()
        let now = clock.now()
        var created: [String] = []
        let (t, counts) = try store.db.writeNow { db in
            guard var t = try DynamoDBStore.table(s, name, db) else { throw DDBError.tableNotFound(name) }
            var definitions = t.attributeDefinitions
            for d in try Self.attributeDefinitions(input, required: false) {
                if let old = definitions.first(where: { $0.name == d.name }) {
                    guard old.type == d.type else {
                        throw DDBError.invalid("Cannot change the type of an existing attribute definition: \(d.name)")
                    }
                } else { definitions.append(d) }
            }
            if let billing = try input.enumValue("BillingMode", ["PROVISIONED", "PAY_PER_REQUEST"]) {
                if billing == "PAY_PER_REQUEST" { t.readCapacity = 0; t.writeCapacity = 0 }
                if billing == "PROVISIONED", t.billingMode == "PAY_PER_REQUEST", !input.has("ProvisionedThroughput") {
                    throw DDBError.invalid("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
                }
                t.billingMode = billing
            }
            if let p = try input.object("ProvisionedThroughput") {
                (t.readCapacity, t.writeCapacity) = try Self.throughput(p, billing: t.billingMode)
            }
            for update in try input.objects("GlobalSecondaryIndexUpdates") ?? [] {
                if let c = update["Create"] as? [String: Any] {
                    let index = try Self.index(c, definitions, billing: t.billingMode, global: true)
                    guard t.index(index.name) == nil else {
                        throw DDBError.validation("One or more parameter values were invalid: Index with name \(index.name) already exists")
                    }
                    t.globalIndexes.append(index)
                    t.attributeDefinitions = definitions
                    try DynamoDBStore.backfill(t, index, db)
                    created.append(index.name)
                } else if let u = update["Update"] as? [String: Any] {
                    let indexName = u["IndexName"] as? String ?? ""
                    guard let i = t.globalIndexes.firstIndex(where: { $0.name == indexName }) else {
                        throw AWSError("ResourceNotFoundException", "Requested resource not found: Table: \(name) index: \(indexName) not found")
                    }
                    let (r, w) = try Self.throughput(u["ProvisionedThroughput"] as? [String: Any], billing: t.billingMode)
                    t.globalIndexes[i].readCapacity = r
                    t.globalIndexes[i].writeCapacity = w
                } else if let d = update["Delete"] as? [String: Any] {
                    let indexName = d["IndexName"] as? String ?? ""
                    guard let i = t.globalIndexes.firstIndex(where: { $0.name == indexName }) else {
                        throw AWSError("ResourceNotFoundException", "Requested resource not found: Table: \(name) index: \(indexName) not found")
                    }
                    t.globalIndexes.remove(at: i)
                    try db.execute(sql: "DELETE FROM index_items WHERE tid = ? AND idx = ?", arguments: [t.id, indexName])
                } else {
                    throw DDBError.validation("One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Create, Update or Delete must be specified")
                }
            }
            // Definitions no key uses are dropped (DynamoDB keeps only those of the table's and indexes' keys).
            let used = Set(t.keyNames + t.indexes.flatMap(\.keyNames))
            t.attributeDefinitions = definitions.filter { used.contains($0.name) }
            if let spec = try input.object("StreamSpecification") { try applyStream(&t, Input(spec), now: now) }
            if let sse = try input.object("SSESpecification") { Self.applySSE(&t, sse, s) }
            if let p = try input.bool("DeletionProtectionEnabled") { t.deletionProtection = p }
            if let c = try input.enumValue("TableClass", ["STANDARD", "STANDARD_INFREQUENT_ACCESS"]) { t.tableClass = c }
            try store.save(&t, s, db)
            return (t, try DynamoDBStore.counts(t, db))
        }
        var d = describe(t, counts: counts)
        if !created.isEmpty, var gsis = d["GlobalSecondaryIndexes"] as? [[String: Any]] {
            for i in gsis.indices where created.contains(gsis[i]["IndexName"] as? String ?? "") {
                gsis[i]["IndexStatus"] = "CREATING"
                gsis[i]["Backfilling"] = false
            }
            d["GlobalSecondaryIndexes"] = gsis
        }
        return ["TableDescription": d]
    }

    // MARK: validation

    static func checkTableName(_ name: String) throws {
        guard name.utf8.count >= 3, name.utf8.count <= 255 else {
            throw DDBError.validation("TableName must be at least 3 characters long and at most 255 characters long")
        }
        guard name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) }) else {
            throw DDBError.validation("1 validation error detected: Value '\(name)' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
        }
    }

    static func attributeDefinitions(_ input: Input, required: Bool = true) throws -> [KeyAttribute] {
        guard let list = try input.objects("AttributeDefinitions") else {
            if required {
                throw DDBError.validation("1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null")
            }
            return []
        }
        var out: [KeyAttribute] = []
        for (i, d) in list.enumerated() {
            let name = d["AttributeName"] as? String ?? ""
            let type = d["AttributeType"] as? String ?? ""
            guard ["S", "N", "B"].contains(type) else {
                throw DDBError.validation("1 validation error detected: Value '\(type)' at 'attributeDefinitions.\(i + 1).member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]")
            }
            guard !out.contains(where: { $0.name == name }) else {
                throw DDBError.invalid("Duplicate AttributeName in AttributeDefinitions: \(name)")
            }
            out.append(KeyAttribute(name: name, type: type))
        }
        return out
    }

    /// A key schema's hash and range attributes, each defined in `definitions`.
    static func keySchema(_ list: [[String: Any]]?, _ definitions: [KeyAttribute], path: String) throws -> (KeyAttribute, KeyAttribute?) {
        guard let list else {
            throw DDBError.validation("1 validation error detected: Value null at '\(path)' failed to satisfy constraint: Member must not be null")
        }
        guard (1...2).contains(list.count) else {
            throw DDBError.validation("1 validation error detected: Value at '\(path)' failed to satisfy constraint: Member must have length \(list.isEmpty ? "greater than or equal to 1" : "less than or equal to 2")")
        }
        let names = list.map { $0["AttributeName"] as? String ?? "" }
        let types = list.map { $0["KeyType"] as? String ?? "" }
        guard types[0] == "HASH" else { throw DDBError.validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type") }
        if list.count == 2 {
            guard types[1] == "RANGE" else { throw DDBError.validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type") }
            guard names[0] != names[1] else {
                throw DDBError.validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
            }
        }
        let missing = names.filter { n in !definitions.contains { $0.name == n } }
        guard missing.isEmpty else {
            throw DDBError.invalid("Some index key attributes are not defined in AttributeDefinitions. Keys: [\(missing.joined(separator: ", "))], AttributeDefinitions: [\(definitions.map(\.name).joined(separator: ", "))]")
        }
        let attr = { (n: String) in definitions.first { $0.name == n }! }
        return (attr(names[0]), list.count == 2 ? attr(names[1]) : nil)
    }

    static func throughput(_ p: [String: Any]?, billing: String) throws -> (Int, Int) {
        if billing == "PAY_PER_REQUEST" {
            guard p == nil else {
                throw DDBError.invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
            }
            return (0, 0)
        }
        guard let p, let r = (p["ReadCapacityUnits"] as? NSNumber)?.intValue, let w = (p["WriteCapacityUnits"] as? NSNumber)?.intValue else {
            throw DDBError.invalid("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
        }
        guard r >= 1, w >= 1 else {
            throw DDBError.invalid("Provisioned throughput for ReadCapacityUnits and WriteCapacityUnits must be greater than or equal to 1")
        }
        return (r, w)
    }

    static func index(_ o: [String: Any], _ definitions: [KeyAttribute], billing: String, global: Bool) throws -> IndexSchema {
        let name = o["IndexName"] as? String ?? ""
        guard name.utf8.count >= 3, name.utf8.count <= 255 else {
            throw DDBError.validation("1 validation error detected: Value '\(name)' at 'indexName' failed to satisfy constraint: Member must have length greater than or equal to 3")
        }
        let (hash, range) = try keySchema(o["KeySchema"] as? [[String: Any]], definitions, path: "keySchema")
        let projection = o["Projection"] as? [String: Any] ?? [:]
        let type = projection["ProjectionType"] as? String ?? "ALL"
        guard ["ALL", "KEYS_ONLY", "INCLUDE"].contains(type) else {
            throw DDBError.validation("1 validation error detected: Value '\(type)' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]")
        }
        let nonKey = projection["NonKeyAttributes"] as? [String]
        if type == "INCLUDE", nonKey?.isEmpty ?? true {
            throw DDBError.invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
        }
        if type != "INCLUDE", nonKey != nil {
            throw DDBError.invalid("ProjectionType is \(type), but NonKeyAttributes is specified")
        }
        var index = IndexSchema(name: name, hashKey: hash, rangeKey: range, projectionType: type, nonKeyAttributes: nonKey)
        if global {
            let p = o["ProvisionedThroughput"] as? [String: Any]
            if billing == "PROVISIONED", p == nil {
                throw DDBError.invalid("ProvisionedThroughput must be specified for index: \(name)")
            }
            (index.readCapacity, index.writeCapacity) = try throughput(p, billing: billing)
        }
        return index
    }

    func applyStream(_ t: inout TableSchema, _ spec: Input, now: Double) throws {
        let enabled = try spec.bool("StreamEnabled") ?? false
        if enabled {
            guard let view = try spec.enumValue("StreamViewType", ["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]) else {
                throw DDBError.validation("One or more parameter values were invalid: Enabled stream requires StreamViewType")
            }
            if t.streamEnabled { throw DDBError.validation("Table already has an enabled stream: TableName: \(t.name)") }
            t.streamEnabled = true
            t.streamViewType = view
            t.streamLabel = Self.streamLabel(now)
        } else {
            if t.streamEnabled == false, t.id != 0 { throw DDBError.validation("Table already has stream disabled: TableName: \(t.name)") }
            t.streamEnabled = false
            t.streamViewType = nil
        }
    }

    static func streamLabel(_ now: Double) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS"
        return f.string(from: Date(timeIntervalSince1970: now))
    }

    static func applySSE(_ t: inout TableSchema, _ sse: [String: Any], _ s: Scope) {
        t.sseEnabled = (sse["Enabled"] as? NSNumber)?.boolValue ?? false
        t.sseType = t.sseEnabled ? (sse["SSEType"] as? String ?? "KMS") : nil
        t.kmsKeyArn = t.sseEnabled ? (sse["KMSMasterKeyId"] as? String ?? "arn:aws:kms:\(s.region):\(s.account):key/aws/dynamodb") : nil
    }

    // MARK: description

    func describe(_ t: TableSchema, counts: (items: Int, bytes: Int, indexes: [String: Int])) -> [String: Any] {
        func schema(_ h: KeyAttribute, _ r: KeyAttribute?) -> [[String: Any]] {
            [["AttributeName": h.name, "KeyType": "HASH"]] + (r.map { [["AttributeName": $0.name, "KeyType": "RANGE"]] } ?? [])
        }
        func projection(_ i: IndexSchema) -> [String: Any] {
            var p: [String: Any] = ["ProjectionType": i.projectionType]
            if let n = i.nonKeyAttributes { p["NonKeyAttributes"] = n }
            return p
        }
        func throughput(_ r: Int, _ w: Int) -> [String: Any] {
            ["NumberOfDecreasesToday": 0, "ReadCapacityUnits": r, "WriteCapacityUnits": w]
        }
        // An index's size is its share of the table's, by item count (DynamoDB only reports it approximately too).
        func indexBytes(_ n: Int) -> Int { counts.items == 0 ? 0 : counts.bytes * n / counts.items }
        var d: [String: Any] = [
            "AttributeDefinitions": t.attributeDefinitions.map { ["AttributeName": $0.name, "AttributeType": $0.type] },
            "TableName": t.name, "KeySchema": schema(t.hashKey, t.rangeKey), "TableStatus": "ACTIVE",
            "CreationDateTime": t.created, "ProvisionedThroughput": throughput(t.readCapacity, t.writeCapacity),
            "TableSizeBytes": counts.bytes, "ItemCount": counts.items, "TableArn": t.arn, "TableId": t.tableId,
            "DeletionProtectionEnabled": t.deletionProtection,
        ]
        if t.billingMode == "PAY_PER_REQUEST" {
            d["BillingModeSummary"] = ["BillingMode": t.billingMode, "LastUpdateToPayPerRequestDateTime": t.created]
        }
        if !t.localIndexes.isEmpty {
            d["LocalSecondaryIndexes"] = t.localIndexes.map { i -> [String: Any] in
                let n = counts.indexes[i.name] ?? 0
                return ["IndexName": i.name, "KeySchema": schema(i.hashKey, i.rangeKey), "Projection": projection(i),
                        "IndexSizeBytes": indexBytes(n), "ItemCount": n, "IndexArn": "\(t.arn)/index/\(i.name)"]
            }
        }
        if !t.globalIndexes.isEmpty {
            d["GlobalSecondaryIndexes"] = t.globalIndexes.map { i -> [String: Any] in
                let n = counts.indexes[i.name] ?? 0
                return ["IndexName": i.name, "KeySchema": schema(i.hashKey, i.rangeKey), "Projection": projection(i),
                        "IndexStatus": "ACTIVE", "ProvisionedThroughput": throughput(i.readCapacity ?? 0, i.writeCapacity ?? 0),
                        "IndexSizeBytes": indexBytes(n), "ItemCount": n, "IndexArn": "\(t.arn)/index/\(i.name)"]
            }
        }
        if t.streamEnabled, let view = t.streamViewType {
            d["StreamSpecification"] = ["StreamEnabled": true, "StreamViewType": view]
        }
        if let label = t.streamLabel, let arn = t.streamArn {
            d["LatestStreamLabel"] = label
            d["LatestStreamArn"] = arn
        }
        if t.sseEnabled {
            d["SSEDescription"] = ["Status": "ENABLED", "SSEType": t.sseType ?? "KMS", "KMSMasterKeyArn": t.kmsKeyArn ?? ""]
        }
        if t.tableClass != "STANDARD" { d["TableClassSummary"] = ["TableClass": t.tableClass] }
        return d
    }
}
