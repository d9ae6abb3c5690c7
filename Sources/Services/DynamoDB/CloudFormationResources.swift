import Core
import Foundation

/// `AWS::DynamoDB::Table` for CloudFormation (and SAM's SimpleTable, which the transform turns into one), over the
/// service's own operations called in-process. `Ref` is the table name; `Fn::GetAtt` gives `Arn` and, while the
/// table has a stream, `StreamArn`.
public struct DynamoDBResources: ResourceProvider {
    let service: DynamoDBService

    public init(service: DynamoDBService) { self.service = service }

    public var resourceTypes: [String] { ["AWS::DynamoDB::Table"] }

    public func createOnlyProperties(of type: String) -> Set<String> {
        ["TableName", "KeySchema", "LocalSecondaryIndexes"]
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        let s = Scope(account: request.account, region: request.region)
        let p = request.properties
        let name = Self.tableName(request)
        var body: [String: Any] = ["TableName": name]
        for key in ["KeySchema", "AttributeDefinitions", "BillingMode", "LocalSecondaryIndexes", "TableClass"] {
            if let v = p[key] { body[key] = Self.api(v) }
        }
        if let v = p["ProvisionedThroughput"] { body["ProvisionedThroughput"] = Self.api(v) }
        if let v = p["GlobalSecondaryIndexes"] { body["GlobalSecondaryIndexes"] = Self.api(v) }
        if let view = p["StreamSpecification"]?["StreamViewType"]?.string {
            body["StreamSpecification"] = ["StreamEnabled": true, "StreamViewType": view]
        }
        if let sse = Self.sse(p["SSESpecification"]) { body["SSESpecification"] = sse }
        if let d = Self.bool(p["DeletionProtectionEnabled"]) { body["DeletionProtectionEnabled"] = d }
        if let tags = p["Tags"] { body["Tags"] = Self.api(tags) }
        _ = try service.createTable(s, Input(body))
        // The table exists from here: a later failure deletes it so the rollback finds nothing half-made.
        do {
            try applyTimeToLive(s, name, p["TimeToLiveSpecification"], previous: nil)
            if let pitr = Self.bool(p["PointInTimeRecoverySpecification"]?["PointInTimeRecoveryEnabled"]), pitr {
                _ = try service.updateContinuousBackups(s, Input(["TableName": name,
                    "PointInTimeRecoverySpecification": ["PointInTimeRecoveryEnabled": true]]))
            }
        } catch {
            _ = try? service.deleteTable(s, Input(["TableName": name]))
            throw error
        }
        return try state(s, name)
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let s = Scope(account: request.account, region: request.region)
        let p = request.properties, old = request.previousProperties ?? [:]
        let name = previous.physicalId
        guard let t = try service.store.table(s, name) else { throw DDBError.tableNotFound(name) }
        // Billing mode and throughput.
        var body: [String: Any] = ["TableName": name]
        let billing = p["BillingMode"]?.string ?? "PROVISIONED"
        if billing != t.billingMode { body["BillingMode"] = billing }
        if billing == "PROVISIONED", let v = p["ProvisionedThroughput"] {
            let tp = Self.api(v) as? [String: Any] ?? [:]
            if (tp["ReadCapacityUnits"] as? NSNumber)?.intValue != t.readCapacity
                || (tp["WriteCapacityUnits"] as? NSNumber)?.intValue != t.writeCapacity || body["BillingMode"] != nil {
                body["ProvisionedThroughput"] = tp
            }
        }
        // Global secondary indexes: one created or deleted per update, as CloudFormation allows; throughput changes
        // too. Compared with what the table has (not the previous template), so a rollback converges.
        let after = Self.indexes(p["GlobalSecondaryIndexes"])
        var updates: [[String: Any]] = []
        var creations = 0, deletions = 0
        for i in t.globalIndexes where after[i.name] == nil || Self.indexShape(after[i.name]!) != Self.indexShape(i) {
            updates.append(["Delete": ["IndexName": i.name]])
            deletions += 1
        }
        for (n, i) in after {
            if let o = t.globalIndexes.first(where: { $0.name == n }), Self.indexShape(i) == Self.indexShape(o) {
                if billing == "PROVISIONED", let v = i["ProvisionedThroughput"] {
                    let tp = Self.api(v) as? [String: Any] ?? [:]
                    if (tp["ReadCapacityUnits"] as? NSNumber)?.intValue != o.readCapacity
                        || (tp["WriteCapacityUnits"] as? NSNumber)?.intValue != o.writeCapacity {
                        updates.append(["Update": ["IndexName": n, "ProvisionedThroughput": tp]])
                    }
                }
            } else {
                var c = Self.api(.object(i)) as? [String: Any] ?? [:]
                c["ContributorInsightsSpecification"] = nil
                if billing == "PAY_PER_REQUEST" { c["ProvisionedThroughput"] = nil }
                updates.append(["Create": c])
                creations += 1
            }
        }
        if creations + deletions > 1 {
            throw AWSError("ValidationException", "Cannot perform more than one GSI creation or deletion in a single update")
        }
        if !updates.isEmpty {
            body["GlobalSecondaryIndexUpdates"] = updates
            if let defs = p["AttributeDefinitions"] { body["AttributeDefinitions"] = Self.api(defs) }
        }
        let protection = Self.bool(p["DeletionProtectionEnabled"]) ?? false
        if protection != t.deletionProtection { body["DeletionProtectionEnabled"] = protection }
        if let c = p["TableClass"]?.string, c != t.tableClass { body["TableClass"] = c }
        if p["SSESpecification"] != old["SSESpecification"] {
            body["SSESpecification"] = Self.sse(p["SSESpecification"]) ?? ["Enabled": false]
        }
        if body.count > 1 { _ = try service.updateTable(s, Input(body)) }
        // The stream: a new view type is a new stream (disable, then enable).
        let view = p["StreamSpecification"]?["StreamViewType"]?.string
        if view != (t.streamEnabled ? t.streamViewType : nil) {
            if t.streamEnabled {
                _ = try service.updateTable(s, Input(["TableName": name, "StreamSpecification": ["StreamEnabled": false]]))
            }
            if let view {
                _ = try service.updateTable(s, Input(["TableName": name,
                    "StreamSpecification": ["StreamEnabled": true, "StreamViewType": view]]))
            }
        }
        try applyTimeToLive(s, name, p["TimeToLiveSpecification"], previous: t)
        let pitr = Self.bool(p["PointInTimeRecoverySpecification"]?["PointInTimeRecoveryEnabled"]) ?? false
        if pitr != t.pointInTimeRecovery {
            _ = try service.updateContinuousBackups(s, Input(["TableName": name,
                "PointInTimeRecoverySpecification": ["PointInTimeRecoveryEnabled": pitr]]))
        }
        // Tags: the template's set replaces the table's.
        let tags = Self.tags(p["Tags"])
        let removed = t.tags.keys.filter { tags[$0] == nil }.sorted()
        if !removed.isEmpty { _ = try service.untagResource(s, Input(["ResourceArn": t.arn, "TagKeys": removed])) }
        if tags != t.tags, !tags.isEmpty {
            _ = try service.tagResource(s, Input(["ResourceArn": t.arn,
                "Tags": tags.keys.sorted().map { ["Key": $0, "Value": tags[$0]!] }]))
        }
        return try state(s, name)
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        let s = Scope(account: request.account, region: request.region)
        do {
            _ = try service.deleteTable(s, Input(["TableName": state.physicalId]))
        } catch let e as AWSError where e.code == "ResourceNotFoundException" {
            return  // already gone
        }
    }

    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        let s = Scope(account: request.account, region: request.region)
        guard let t = try service.store.table(s, state.physicalId) else { return .deleted }
        func key(_ h: KeyAttribute, _ r: KeyAttribute?) -> JSON {
            var list: [JSON] = [.object(["AttributeName": .string(h.name), "KeyType": .string("HASH")])]
            if let r { list.append(.object(["AttributeName": .string(r.name), "KeyType": .string("RANGE")])) }
            return .array(list)
        }
        var out: [String: JSON] = [
            "TableName": .string(t.name), "KeySchema": key(t.hashKey, t.rangeKey), "BillingMode": .string(t.billingMode),
            "AttributeDefinitions": .array(t.attributeDefinitions.map {
                .object(["AttributeName": .string($0.name), "AttributeType": .string($0.type)])
            }),
            "DeletionProtectionEnabled": .bool(t.deletionProtection), "TableClass": .string(t.tableClass),
        ]
        if t.billingMode == "PROVISIONED" {
            out["ProvisionedThroughput"] = .object(["ReadCapacityUnits": .number(Double(t.readCapacity)),
                                                    "WriteCapacityUnits": .number(Double(t.writeCapacity))])
        }
        if !t.globalIndexes.isEmpty {
            out["GlobalSecondaryIndexes"] = .array(t.globalIndexes.map { i -> JSON in
                var o: [String: JSON] = ["IndexName": .string(i.name), "KeySchema": key(i.hashKey, i.rangeKey),
                                         "Projection": Self.projection(i)]
                if t.billingMode == "PROVISIONED" {
                    o["ProvisionedThroughput"] = .object(["ReadCapacityUnits": .number(Double(i.readCapacity ?? 0)),
                                                          "WriteCapacityUnits": .number(Double(i.writeCapacity ?? 0))])
                }
                return .object(o)
            })
        }
        if !t.localIndexes.isEmpty {
            out["LocalSecondaryIndexes"] = .array(t.localIndexes.map { i -> JSON in
                .object(["IndexName": .string(i.name), "KeySchema": key(i.hashKey, i.rangeKey), "Projection": Self.projection(i)])
            })
        }
        if t.streamEnabled, let v = t.streamViewType { out["StreamSpecification"] = .object(["StreamViewType": .string(v)]) }
        if t.ttlEnabled, let a = t.ttlAttribute {
            out["TimeToLiveSpecification"] = .object(["AttributeName": .string(a), "Enabled": .bool(true)])
        }
        if t.sseEnabled { out["SSESpecification"] = .object(["SSEEnabled": .bool(true)]) }
        out["PointInTimeRecoverySpecification"] = .object(["PointInTimeRecoveryEnabled": .bool(t.pointInTimeRecovery)])
        if !t.tags.isEmpty {
            out["Tags"] = .array(t.tags.keys.sorted().map { .object(["Key": .string($0), "Value": .string(t.tags[$0]!)]) })
        }
        return .properties(out)
    }

    public func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? {
        let s = Scope(account: request.account, region: request.region)
        let name = Self.tableName(request)
        guard try service.store.table(s, name) != nil else { return nil }
        return try state(s, name)
    }

    // MARK: Helpers

    static func tableName(_ request: ResourceRequest) -> String {
        request.properties["TableName"]?.string ?? request.generatedName(limit: 255)
    }

    /// Ref and the attributes: `StreamArn` only while a stream is enabled (GetAtt of it fails otherwise).
    func state(_ s: Scope, _ name: String) throws -> ResourceState {
        guard let t = try service.store.table(s, name) else { throw DDBError.tableNotFound(name) }
        var attributes: [String: JSON] = ["Arn": .string(t.arn)]
        if t.streamEnabled, let arn = t.streamArn { attributes["StreamArn"] = .string(arn) }
        return ResourceState(physicalId: name, attributes: attributes)
    }

    /// Enable, disable or move Time to Live to the template's specification.
    func applyTimeToLive(_ s: Scope, _ name: String, _ spec: JSON?, previous t: TableSchema?) throws {
        let enabled = Self.bool(spec?["Enabled"]) ?? false
        let attribute = spec?["AttributeName"]?.string
        let wasEnabled = t?.ttlEnabled ?? false
        if wasEnabled, !enabled || attribute != t?.ttlAttribute {
            _ = try service.updateTimeToLive(s, Input(["TableName": name,
                "TimeToLiveSpecification": ["Enabled": false, "AttributeName": t?.ttlAttribute ?? ""]]))
        }
        if enabled, let attribute, !(wasEnabled && attribute == t?.ttlAttribute) {
            _ = try service.updateTimeToLive(s, Input(["TableName": name,
                "TimeToLiveSpecification": ["Enabled": true, "AttributeName": attribute]]))
        }
    }

    static func indexes(_ v: JSON?) -> [String: [String: JSON]] {
        var out: [String: [String: JSON]] = [:]
        for i in v?.array ?? [] { if let o = i.object, let n = o["IndexName"]?.string { out[n] = o } }
        return out
    }

    /// What makes an index itself (its keys and projection): a change there is a new index.
    static func indexShape(_ i: [String: JSON]) -> [JSON] {
        let projection = i["Projection"]?.object ?? [:]
        var p: [String: JSON] = ["ProjectionType": projection["ProjectionType"] ?? .string("ALL")]
        if let n = projection["NonKeyAttributes"], !(n.array ?? []).isEmpty { p["NonKeyAttributes"] = n }
        return [i["KeySchema"] ?? .null, .object(p)]
    }

    static func indexShape(_ i: IndexSchema) -> [JSON] {
        var key: [JSON] = [.object(["AttributeName": .string(i.hashKey.name), "KeyType": .string("HASH")])]
        if let r = i.rangeKey { key.append(.object(["AttributeName": .string(r.name), "KeyType": .string("RANGE")])) }
        return [.array(key), projection(i)]
    }

    static func projection(_ i: IndexSchema) -> JSON {
        var p: [String: JSON] = ["ProjectionType": .string(i.projectionType)]
        if let n = i.nonKeyAttributes { p["NonKeyAttributes"] = .array(n.map { .string($0) }) }
        return .object(p)
    }

    /// CloudFormation's `SSESpecification` (`SSEEnabled`) as the API's (`Enabled`).
    static func sse(_ v: JSON?) -> [String: Any]? {
        guard let v else { return nil }
        var out: [String: Any] = ["Enabled": bool(v["SSEEnabled"]) ?? false]
        if let t = v["SSEType"]?.string { out["SSEType"] = t }
        if let k = v["KMSMasterKeyId"]?.string { out["KMSMasterKeyId"] = k }
        return out
    }

    static func tags(_ v: JSON?) -> [String: String] {
        var out: [String: String] = [:]
        for t in v?.array ?? [] { if let k = t["Key"]?.string { out[k] = t["Value"]?.string ?? "" } }
        return out
    }

    static func bool(_ v: JSON?) -> Bool? {
        switch v {
        case .bool(let b): return b
        case .string(let s): return s.lowercased() == "true" ? true : s.lowercased() == "false" ? false : nil
        default: return nil
        }
    }

    /// A template value as the API takes it: numbers written as strings ("5") become numbers, as CloudFormation's
    /// own schema coercion does for the capacity units.
    static let numericMembers: Set<String> = ["ReadCapacityUnits", "WriteCapacityUnits"]

    static func api(_ v: JSON, key: String? = nil) -> Any {
        switch v {
        case .object(let o):
            var out: [String: Any] = [:]
            for (k, x) in o { out[k] = api(x, key: k) }
            return out
        case .array(let a): return a.map { api($0) }
        case .string(let s) where key.map(numericMembers.contains) == true:
            if let d = Double(s) { return NSNumber(value: d) }
            return s
        default: return v.any
        }
    }
}
