import Core
import Foundation
import GRDB

/// API keys, usage plans and their keys, tags and the account's settings: stored, and API keys checked on invoke.
extension RestAPIs {
    func object(_ db: Database, _ r: RestRequest, _ kind: String, _ id: String) throws -> [String: Any]? {
        try Data.fetchOne(db, sql: "SELECT doc FROM rest_objects WHERE account = ? AND region = ? AND kind = ? AND id = ?",
                          arguments: [r.account, r.region, kind, id])
            .flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    func objects(_ db: Database, account: String, region: String, _ kind: String) throws -> [[String: Any]] {
        try Data.fetchAll(db, sql: "SELECT doc FROM rest_objects WHERE account = ? AND region = ? AND kind = ?", arguments: [account, region, kind])
            .compactMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            .sorted { ($0["createdDate"] as? Double ?? 0, $0["id"] as? String ?? "") < ($1["createdDate"] as? Double ?? 0, $1["id"] as? String ?? "") }
    }

    func storeObject(_ db: Database, _ r: RestRequest, _ kind: String, _ id: String, _ doc: [String: Any]?) throws {
        if let doc {
            try db.execute(sql: "INSERT OR REPLACE INTO rest_objects (account, region, kind, id, doc) VALUES (?, ?, ?, ?, ?)",
                           arguments: [r.account, r.region, kind, id, try JSONSerialization.data(withJSONObject: doc)])
        } else {
            try db.execute(sql: "DELETE FROM rest_objects WHERE account = ? AND region = ? AND kind = ? AND id = ?",
                           arguments: [r.account, r.region, kind, id])
        }
    }

    static func keyView(_ key: [String: Any], includeValue: Bool) -> [String: Any] {
        var out = key
        if !includeValue { out["value"] = nil }
        return out
    }

    func keysOperation(_ op: String, _ r: RestRequest, _ input: [String: Any]) throws -> AWSResponse {
        let keyMissing = RestErrors.notFound("Invalid API Key identifier specified")
        let planMissing = RestErrors.notFound("Invalid Usage Plan ID specified")
        switch op {
        case "CreateApiKey":
            return RestJSON.response(try db.writeNow { db in
                let id = RestIDs.make(10)
                let value = input["value"] as? String ?? RestIDs.make(40)
                guard value.count >= 20 else { throw RestErrors.badRequest("API Key value should be at least 20 characters") }
                var key: [String: Any] = ["id": id, "value": value, "enabled": input["enabled"] as? Bool ?? false, "createdDate": now(),
                                          "lastUpdatedDate": now(), "stageKeys": input["stageKeys"] as? [Any] ?? []]
                key["name"] = input["name"] as? String ?? id
                for k in ["description", "customerId", "tags"] where input[k] != nil { key[k] = input[k] }
                try storeObject(db, r, "apikey", id, key)
                return key
            }, status: .created)
        case "GetApiKeys":
            let include = r.request.queryValue("includeValues") == "true"
            let name = r.request.queryValue("name")
            let keys = try db.readNow { db in try objects(db, account: r.account, region: r.region, "apikey") }
                .filter { k in name.map { (k["name"] as? String ?? "").hasPrefix($0) } ?? true }
                .map { Self.keyView($0, includeValue: include) }
            return RestJSON.response(try RestPaging.page(keys, r))
        case "GetApiKey":
            guard let key = try db.readNow({ db in try object(db, r, "apikey", r.label("api_Key")) }) else { throw keyMissing }
            return RestJSON.response(Self.keyView(key, includeValue: r.request.queryValue("includeValue") == "true"))
        case "UpdateApiKey":
            return RestJSON.response(try db.writeNow { db in
                guard let key = try object(db, r, "apikey", r.label("api_Key")) else { throw keyMissing }
                var updated = try RestPatch.apply(input, to: key, kind: .apiKey)
                updated["lastUpdatedDate"] = now()
                try storeObject(db, r, "apikey", r.label("api_Key"), updated)
                return Self.keyView(updated, includeValue: false)
            })
        case "DeleteApiKey":
            try db.writeNow { db in
                guard try object(db, r, "apikey", r.label("api_Key")) != nil else { throw keyMissing }
                try storeObject(db, r, "apikey", r.label("api_Key"), nil)
                for var plan in try objects(db, account: r.account, region: r.region, "usageplan") {
                    let keys = plan["keys"] as? [String] ?? []
                    guard keys.contains(r.label("api_Key")) else { continue }
                    plan["keys"] = keys.filter { $0 != r.label("api_Key") }
                    try storeObject(db, r, "usageplan", plan["id"] as? String ?? "", plan)
                }
            }
            return RestJSON.response(nil, status: .accepted)
        case "CreateUsagePlan":
            guard let name = input["name"] as? String, !name.isEmpty else { throw RestErrors.badRequest("Invalid usage plan name specified") }
            return RestJSON.response(try db.writeNow { db in
                let id = RestIDs.make(6)
                var plan: [String: Any] = ["id": id, "name": name, "apiStages": input["apiStages"] as? [Any] ?? [], "createdDate": now()]
                for k in ["description", "throttle", "quota", "tags", "productCode"] where input[k] != nil { plan[k] = input[k] }
                try storeObject(db, r, "usageplan", id, plan)
                return Self.planView(plan)
            }, status: .created)
        case "GetUsagePlans":
            let keyID = r.request.queryValue("keyId")
            let plans = try db.readNow { db in try objects(db, account: r.account, region: r.region, "usageplan") }
                .filter { p in keyID.map { (p["keys"] as? [String] ?? []).contains($0) } ?? true }.map(Self.planView)
            return RestJSON.response(try RestPaging.page(plans, r))
        case "GetUsagePlan":
            guard let plan = try db.readNow({ db in try object(db, r, "usageplan", r.label("usageplanId")) }) else { throw planMissing }
            return RestJSON.response(Self.planView(plan))
        case "UpdateUsagePlan":
            return RestJSON.response(try db.writeNow { db in
                guard let plan = try object(db, r, "usageplan", r.label("usageplanId")) else { throw planMissing }
                var updated = plan
                // `/apiStages` takes `<apiId>:<stage>` values.
                var rest: [Any] = []
                for case let op as [String: Any] in input["patchOperations"] as? [Any] ?? [] {
                    guard op["path"] as? String == "/apiStages", let value = op["value"] as? String else { rest.append(op); continue }
                    let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
                    var stages = updated["apiStages"] as? [[String: Any]] ?? []
                    if op["op"] as? String == "remove" {
                        stages.removeAll { $0["apiId"] as? String == parts.first && $0["stage"] as? String == parts.last }
                    } else if parts.count == 2 {
                        stages.append(["apiId": parts[0], "stage": parts[1]])
                    }
                    updated["apiStages"] = stages
                }
                updated = try RestPatch.apply(["patchOperations": rest], to: updated, kind: .usagePlan)
                try storeObject(db, r, "usageplan", r.label("usageplanId"), updated)
                return Self.planView(updated)
            })
        case "DeleteUsagePlan":
            try db.writeNow { db in
                guard try object(db, r, "usageplan", r.label("usageplanId")) != nil else { throw planMissing }
                try storeObject(db, r, "usageplan", r.label("usageplanId"), nil)
            }
            return RestJSON.response(nil, status: .accepted)
        case "CreateUsagePlanKey":
            return RestJSON.response(try db.writeNow { db in
                guard var plan = try object(db, r, "usageplan", r.label("usageplanId")) else { throw planMissing }
                guard input["keyType"] as? String == "API_KEY" else { throw RestErrors.badRequest("Invalid key type specified. Valid options are API_KEY") }
                let keyID = input["keyId"] as? String ?? ""
                guard let key = try object(db, r, "apikey", keyID) else { throw keyMissing }
                var keys = plan["keys"] as? [String] ?? []
                if keys.contains(keyID) { throw RestErrors.conflict("Usage plan key already exists: \(keyID)") }
                keys.append(keyID)
                plan["keys"] = keys
                try storeObject(db, r, "usageplan", r.label("usageplanId"), plan)
                return Self.planKeyView(key)
            }, status: .created)
        case "GetUsagePlanKeys":
            let items = try db.readNow { db -> [[String: Any]] in
                guard let plan = try object(db, r, "usageplan", r.label("usageplanId")) else { throw planMissing }
                return try (plan["keys"] as? [String] ?? []).compactMap { try object(db, r, "apikey", $0) }.map(Self.planKeyView)
            }
            return RestJSON.response(try RestPaging.page(items, r))
        case "GetUsagePlanKey", "DeleteUsagePlanKey":
            let key = try db.writeNow { db -> [String: Any] in
                guard var plan = try object(db, r, "usageplan", r.label("usageplanId")) else { throw planMissing }
                let keys = plan["keys"] as? [String] ?? []
                guard keys.contains(r.label("keyId")), let key = try object(db, r, "apikey", r.label("keyId")) else {
                    throw RestErrors.notFound("Invalid Usage Plan Key identifier specified")
                }
                if op == "DeleteUsagePlanKey" {
                    plan["keys"] = keys.filter { $0 != r.label("keyId") }
                    try storeObject(db, r, "usageplan", r.label("usageplanId"), plan)
                }
                return key
            }
            return op == "GetUsagePlanKey" ? RestJSON.response(Self.planKeyView(key)) : RestJSON.response(nil, status: .accepted)
        case "GetTags", "TagResource", "UntagResource": return try tagsOperation(op, r, input)
        case "GetAccount":
            let stored = try db.readNow { db in try object(db, r, "account", "account") } ?? [:]
            return RestJSON.response(Self.accountView(stored))
        default:  // UpdateAccount
            return RestJSON.response(try db.writeNow { db in
                let updated = try RestPatch.apply(input, to: try object(db, r, "account", "account") ?? [:], kind: .account)
                try storeObject(db, r, "account", "account", updated)
                return Self.accountView(updated)
            })
        }
    }

    static func accountView(_ stored: [String: Any]) -> [String: Any] {
        var out: [String: Any] = ["throttleSettings": ["burstLimit": 5000, "rateLimit": 10000.0], "features": ["UsagePlans"], "apiKeyVersion": "4"]
        if let role = stored["cloudwatchRoleArn"] { out["cloudwatchRoleArn"] = role }
        return out
    }

    static func planView(_ plan: [String: Any]) -> [String: Any] {
        var out = plan
        out["keys"] = nil
        out["createdDate"] = nil
        return out
    }

    static func planKeyView(_ key: [String: Any]) -> [String: Any] {
        ["id": key["id"] ?? "", "type": "API_KEY", "value": key["value"] ?? "", "name": key["name"] ?? ""]
    }

    /// Tags of `arn:aws:apigateway:<region>::/restapis/<id>[/stages/<name>]`, `/apikeys/<id>` or `/usageplans/<id>`.
    func tagsOperation(_ op: String, _ r: RestRequest, _ input: [String: Any]) throws -> AWSResponse {
        let arn = r.label("resource_arn")
        guard arn.hasPrefix("arn:"), let slash = arn.firstIndex(of: "/") else { throw RestErrors.badRequest("Invalid ARN") }
        let parts = arn[slash...].split(separator: "/").map(String.init)
        func change(_ tags: inout [String: Any]) {
            if op == "TagResource" {
                for (k, v) in input["tags"] as? [String: Any] ?? [:] { tags[k] = v }
            } else {
                for (k, v) in r.request.query where k == "tagKeys" { tags[v] = nil }
            }
        }
        var tags: [String: Any] = [:]
        switch (parts.first, parts.count) {
        case ("restapis", 2), ("restapis", 4):
            let sub = RestRequest(request: r.request, labels: ["restapi_id": parts[1]])
            tags = try withAPI(sub, write: op != "GetTags") { doc in
                if parts.count == 4 {
                    guard parts[2] == "stages" else { throw RestErrors.notFound("Invalid resource ARN specified") }
                    var s = try Self.stage(doc, parts[3])
                    var t = s["tags"] as? [String: Any] ?? [:]
                    change(&t)
                    s["tags"] = t
                    if op != "GetTags" { doc.stages[parts[3]] = s }
                    return t
                }
                var t = doc.api["tags"] as? [String: Any] ?? [:]
                change(&t)
                if op != "GetTags" { doc.api["tags"] = t }
                return t
            }
        case ("apikeys", 2), ("usageplans", 2):
            let kind = parts[0] == "apikeys" ? "apikey" : "usageplan"
            tags = try db.writeNow { db in
                guard var o = try object(db, r, kind, parts[1]) else {
                    throw kind == "apikey" ? RestErrors.notFound("Invalid API Key identifier specified") : RestErrors.notFound("Invalid Usage Plan ID specified")
                }
                var t = o["tags"] as? [String: Any] ?? [:]
                change(&t)
                if op != "GetTags" {
                    o["tags"] = t
                    try storeObject(db, r, kind, parts[1], o)
                }
                return t
            }
        default:
            throw RestErrors.notFound("Invalid resource ARN specified")
        }
        return op == "GetTags" ? RestJSON.response(["tags": tags]) : RestJSON.response(nil, status: .noContent)
    }

    /// Whether `value` is an enabled API key in a usage plan that covers the API's stage (what a method with
    /// `apiKeyRequired` asks).
    func apiKeyAllowed(_ value: String, account: String, region: String, apiID: String, stage: String) -> Bool {
        (try? db.readNow { db in
            let keys = try objects(db, account: account, region: region, "apikey").filter { $0["value"] as? String == value && $0["enabled"] as? Bool == true }
            guard let keyID = keys.first?["id"] as? String else { return false }
            return try objects(db, account: account, region: region, "usageplan").contains { plan in
                (plan["keys"] as? [String] ?? []).contains(keyID)
                    && (plan["apiStages"] as? [[String: Any]] ?? []).contains { $0["apiId"] as? String == apiID && $0["stage"] as? String == stage }
            }
        }) ?? false
    }
}
