import Core
import Foundation
import GRDB

/// CreateApi (with quick create), GetApi(s), UpdateApi, DeleteApi, DeleteCorsConfiguration and tags.
extension HTTPAPIs {
    /// Members of CreateApi/UpdateApi kept as sent.
    static let apiMembers = ["apiKeySelectionExpression", "corsConfiguration", "description", "disableSchemaValidation",
                             "disableExecuteApiEndpoint", "ipAddressType", "name", "routeSelectionExpression", "version", "tags"]

    /// The invoke URL's base. Not `<id>.execute-api.<region>.amazonaws.com`: that name resolves to AWS, while every
    /// `*.localhost` name resolves to this machine (RFC 6761) and the gateway sends the `execute-api` label here.
    static func apiEndpoint(_ apiID: String, _ request: AWSRequest) -> String {
        let port = request.host.split(separator: ":").last.flatMap { Int($0) } ?? 4566
        return "http://\(apiID).execute-api.localhost:\(port)"
    }

    func createApi(_ c: Call) throws -> AWSResponse {
        guard let name = c.input["name"] as? String, !name.isEmpty else {
            throw Self.badRequest("Invalid input: name is required")
        }
        guard let protocolType = c.input["protocolType"] as? String else {
            throw Self.badRequest("Invalid input: protocolType is required")
        }
        guard protocolType == "HTTP" else {
            if protocolType == "WEBSOCKET" { throw Self.badRequest("WEBSOCKET APIs are not supported by Cloudless; use protocolType HTTP") }
            throw Self.badRequest("Invalid protocol type specified: \(protocolType)")
        }
        try Self.validateCors(c.input["corsConfiguration"])
        let target = c.input["target"] as? String
        let routeKey = c.input["routeKey"] as? String
        if routeKey != nil, target == nil { throw Self.badRequest("RouteKey can only be specified with Target (quick create)") }
        if let routeKey { try Self.validateRouteKey(routeKey) }
        let now = clock.now()
        var api: [String: Any] = ["apiKeySelectionExpression": "$request.header.x-api-key", "disableExecuteApiEndpoint": false,
                                  "routeSelectionExpression": "$request.method $request.path", "tags": [String: String](),
                                  "ipAddressType": "ipv4"]
        for m in Self.apiMembers { if let v = c.input[m] { api[m] = v } }
        api["protocolType"] = "HTTP"
        api["createdDate"] = AWSDate.iso8601(now)
        api["_account"] = c.account
        api["_region"] = c.region
        let id = try writing { db -> String in
            var id = Self.randomID(10)
            while try HTTPStore.exists(id, db) { id = Self.randomID(10) }
            api["apiId"] = id
            try HTTPStore.put(id, "api", id, api, db)
            if let target { try quickCreate(id, target: target, routeKey: routeKey ?? "$default", now: now, db) }
            return id
        }
        if target != nil { stageNote.served(apiID: id, stage: "$default") }
        return RestJSON.response(try apiOutput(id, c.request), status: .created)
    }

    /// Quick create: an integration to `target`, a route to it and a `$default` stage that deploys automatically,
    /// all marked `apiGatewayManaged`.
    func quickCreate(_ apiID: String, target: String, routeKey: String, now: Double, _ db: Database) throws {
        let isURL = target.hasPrefix("http://") || target.hasPrefix("https://")
        let integrationID = Self.randomID(7)
        var integration: [String: Any] = [
            "integrationId": integrationID, "integrationType": isURL ? "HTTP_PROXY" : "AWS_PROXY", "integrationUri": target,
            "integrationMethod": isURL ? "ANY" : "POST", "payloadFormatVersion": isURL ? "1.0" : "2.0",
            "connectionType": "INTERNET", "timeoutInMillis": 30000, "apiGatewayManaged": true,
        ]
        if !isURL { integration["integrationResponseSelectionExpression"] = nil }
        try HTTPStore.put(apiID, "integration", integrationID, integration, db)
        let routeID = Self.randomID(7)
        try HTTPStore.put(apiID, "route", routeID, [
            "routeId": routeID, "routeKey": routeKey, "target": "integrations/\(integrationID)", "authorizationType": "NONE",
            "apiKeyRequired": false, "apiGatewayManaged": true,
        ], db)
        try HTTPStore.put(apiID, "stage", "$default", [
            "stageName": "$default", "autoDeploy": true, "apiGatewayManaged": true, "createdDate": AWSDate.iso8601(now),
            "lastUpdatedDate": AWSDate.iso8601(now), "stageVariables": [String: String](), "tags": [String: String](),
            "defaultRouteSettings": ["detailedMetricsEnabled": false], "routeSettings": [String: Any](),
        ], db)
        try autoDeploy(apiID, now: now, db)
    }

    /// The API as GetApi answers it, or NotFoundException when it is not the caller's.
    func apiOutput(_ id: String, _ request: AWSRequest) throws -> [String: Any] {
        guard let api = try db.readNow({ db in try HTTPStore.get(id, "api", id, db) }), owned(api, request) else { throw Self.invalidAPI }
        var out = HTTPStore.wire(api)
        out["apiEndpoint"] = Self.apiEndpoint(id, request)
        return out
    }

    func owned(_ api: [String: Any], _ request: AWSRequest) -> Bool {
        api["_account"] as? String == request.caller.accountID && api["_region"] as? String == request.caller.region
    }

    /// The caller's API (for a write), or NotFoundException.
    func existingAPI(_ c: Call, _ db: Database) throws -> [String: Any] {
        guard let api = try HTTPStore.get(c.apiID, "api", c.apiID, db), owned(api, c.request) else { throw Self.invalidAPI }
        return api
    }

    func getApi(_ c: Call) throws -> AWSResponse { RestJSON.response(try apiOutput(c.apiID, c.request)) }

    func getApis(_ c: Call) throws -> AWSResponse {
        let apis = try db.readNow { db in try HTTPStore.allAPIs(db) }.filter { owned($0, c.request) }.map { api -> [String: Any] in
            var out = HTTPStore.wire(api)
            out["apiEndpoint"] = Self.apiEndpoint(api["apiId"] as? String ?? "", c.request)
            return out
        }
        return RestJSON.response(try Self.page(apis, c.request))
    }

    /// `items` from `nextToken` (an offset), at most `maxResults`.
    static func page(_ items: [[String: Any]], _ request: AWSRequest) throws -> [String: Any] {
        var start = 0
        if let token = request.queryValue("nextToken") {
            guard let n = Int(token), n >= 0, n <= items.count else { throw badRequest("Invalid next token") }
            start = n
        }
        var limit = items.count
        if let m = request.queryValue("maxResults") {
            guard let n = Int(m), n >= 1 else { throw badRequest("Invalid maxResults") }
            limit = n
        }
        let end = min(items.count, start + limit)
        var out: [String: Any] = ["items": Array(items[start..<end])]
        if end < items.count { out["nextToken"] = String(end) }
        return out
    }

    func updateApi(_ c: Call) throws -> AWSResponse {
        if let p = c.input["protocolType"] as? String, p != "HTTP" { throw Self.badRequest("Unable to update protocol type") }
        try Self.validateCors(c.input["corsConfiguration"])
        try writing { db in
            var api = try existingAPI(c, db)
            for m in Self.apiMembers where m != "tags" { if let v = c.input[m] { api[m] = v } }
            try HTTPStore.put(c.apiID, "api", c.apiID, api, db)
            try autoDeploy(c.apiID, now: clock.now(), db)
        }
        return RestJSON.response(try apiOutput(c.apiID, c.request))
    }

    func deleteApi(_ c: Call) throws -> AWSResponse {
        try writing { db in
            _ = try existingAPI(c, db)
            try HTTPStore.deleteAPI(c.apiID, db)
        }
        return AWSResponse(status: .noContent)
    }

    func deleteCors(_ c: Call) throws -> AWSResponse {
        try writing { db in
            var api = try existingAPI(c, db)
            guard api["corsConfiguration"] != nil else { throw Self.notFound("CORS configuration does not exist for this API") }
            api["corsConfiguration"] = nil
            try HTTPStore.put(c.apiID, "api", c.apiID, api, db)
            try autoDeploy(c.apiID, now: clock.now(), db)
        }
        return AWSResponse(status: .noContent)
    }

    static func validateCors(_ value: Any?) throws {
        guard let value else { return }
        guard let cors = value as? [String: Any] else { throw badRequest("Invalid CORS configuration") }
        if let age = cors["maxAge"] as? Int, !(-1...86400).contains(age) {
            throw badRequest("Invalid maxAge value: must be between -1 and 86400")
        }
        if cors["allowCredentials"] as? Bool == true, (cors["allowOrigins"] as? [String] ?? []).contains("*") {
            throw badRequest("allow-credentials is not supported with wildcard allow-origin")
        }
    }

    // MARK: Tags (`arn:aws:apigateway:<region>::/apis/<id>` and `…/apis/<id>/stages/<name>`)

    /// The row an ARN names: (api, kind, id).
    func tagged(_ c: Call) throws -> (String, String, String) {
        let arn = c.labels["arn"] ?? ""
        guard let slash = arn.range(of: "::/apis/") else { throw Self.notFound("Invalid resource identifier specified") }
        let parts = arn[slash.upperBound...].split(separator: "/").map(String.init)
        if parts.count == 1 { return (parts[0], "api", parts[0]) }
        if parts.count == 3, parts[1] == "stages" { return (parts[0], "stage", parts[2]) }
        throw Self.notFound("Invalid resource identifier specified")
    }

    func getTags(_ c: Call) throws -> AWSResponse {
        let (api, kind, id) = try tagged(c)
        let record = try db.readNow { db -> [String: Any]? in
            guard let a = try HTTPStore.get(api, "api", api, db), owned(a, c.request) else { return nil }
            return try HTTPStore.get(api, kind, id, db)
        }
        guard let record else { throw Self.notFound("Invalid resource identifier specified") }
        return RestJSON.response(["tags": record["tags"] ?? [String: String]()])
    }

    func tagResource(_ c: Call) throws -> AWSResponse {
        let (api, kind, id) = try tagged(c)
        let add = c.input["tags"] as? [String: String] ?? [:]
        try writing { db in
            guard let a = try HTTPStore.get(api, "api", api, db), owned(a, c.request),
                  var record = try HTTPStore.get(api, kind, id, db) else { throw Self.notFound("Invalid resource identifier specified") }
            record["tags"] = (record["tags"] as? [String: String] ?? [:]).merging(add) { _, new in new }
            try HTTPStore.put(api, kind, id, record, db)
        }
        return RestJSON.response([:], status: .created)
    }

    func untagResource(_ c: Call) throws -> AWSResponse {
        let (api, kind, id) = try tagged(c)
        let keys = Set(c.request.query.filter { $0.0 == "tagKeys" }.map(\.1))
        try writing { db in
            guard let a = try HTTPStore.get(api, "api", api, db), owned(a, c.request),
                  var record = try HTTPStore.get(api, kind, id, db) else { throw Self.notFound("Invalid resource identifier specified") }
            record["tags"] = (record["tags"] as? [String: String] ?? [:]).filter { !keys.contains($0.key) }
            try HTTPStore.put(api, kind, id, record, db)
        }
        return AWSResponse(status: .noContent)
    }
}
