import Core
import Foundation
import GRDB

/// Routes, integrations, authorizers, stages and deployments of an API.
extension HTTPAPIs {
    static func members(_ kind: ChildKind) -> [String] {
        switch kind {
        case .route:
            ["apiKeyRequired", "authorizationScopes", "authorizationType", "authorizerId", "modelSelectionExpression",
             "operationName", "requestModels", "requestParameters", "routeKey", "routeResponseSelectionExpression", "target"]
        case .integration:
            ["connectionId", "connectionType", "contentHandlingStrategy", "credentialsArn", "description", "integrationMethod",
             "integrationSubtype", "integrationType", "integrationUri", "passthroughBehavior", "payloadFormatVersion",
             "requestParameters", "requestTemplates", "responseParameters", "templateSelectionExpression", "timeoutInMillis", "tlsConfig"]
        case .authorizer:
            ["authorizerCredentialsArn", "authorizerPayloadFormatVersion", "authorizerResultTtlInSeconds", "authorizerType",
             "authorizerUri", "enableSimpleResponses", "identitySource", "identityValidationExpression", "jwtConfiguration", "name"]
        case .stage:
            ["accessLogSettings", "autoDeploy", "clientCertificateId", "defaultRouteSettings", "deploymentId", "description",
             "routeSettings", "stageVariables"]
        case .deployment: ["description"]
        }
    }

    /// Defaults AWS fills in, then checks that say BadRequestException.
    func validated(_ kind: ChildKind, _ record: [String: Any], creating: Bool, apiID: String, _ db: Database) throws -> [String: Any] {
        var r = record
        switch kind {
        case .route:
            guard let key = r["routeKey"] as? String else { throw Self.badRequest("Invalid input: routeKey is required") }
            try Self.validateRouteKey(key)
            let auth = r["authorizationType"] as? String ?? "NONE"
            guard ["NONE", "JWT", "CUSTOM", "AWS_IAM"].contains(auth) else {
                throw Self.badRequest("Invalid authorization type specified. Supported values are: [NONE, JWT, AWS_IAM, CUSTOM]")
            }
            r["authorizationType"] = auth
            if auth == "JWT" || auth == "CUSTOM" {
                guard let a = r["authorizerId"] as? String, try HTTPStore.get(apiID, "authorizer", a, db) != nil else {
                    throw Self.badRequest("Unable to create route. Route must reference a valid authorizerId for authorizationType \(auth)")
                }
            }
            if r["apiKeyRequired"] == nil { r["apiKeyRequired"] = false }
            if let t = r["target"] as? String {
                guard t.hasPrefix("integrations/"), try HTTPStore.get(apiID, "integration", String(t.dropFirst(13)), db) != nil else {
                    throw Self.badRequest("Invalid integration target specified: \(t)")
                }
            }
        case .integration:
            guard let type = r["integrationType"] as? String else { throw Self.badRequest("Invalid input: integrationType is required") }
            guard ["AWS_PROXY", "HTTP_PROXY"].contains(type) else {
                throw Self.badRequest("Integration type \(type) is not supported for HTTP APIs. Supported values are: [AWS_PROXY, HTTP_PROXY]")
            }
            guard let uri = r["integrationUri"] as? String, !uri.isEmpty else { throw Self.badRequest("Invalid input: integrationUri is required") }
            if type == "AWS_PROXY" {
                guard Self.functionARN(uri) != nil else { throw Self.badRequest("Invalid integration URI specified: \(uri)") }
                let version = r["payloadFormatVersion"] as? String ?? "2.0"
                guard ["1.0", "2.0"].contains(version) else {
                    throw Self.badRequest("Unsupported payload format version specified: \(version). Supported values are: [1.0, 2.0]")
                }
                r["payloadFormatVersion"] = version
                if r["integrationMethod"] == nil { r["integrationMethod"] = "POST" }
            } else {
                guard uri.hasPrefix("http://") || uri.hasPrefix("https://") else { throw Self.badRequest("Invalid integration URI specified: \(uri)") }
                guard r["integrationMethod"] is String else { throw Self.badRequest("Invalid input: integrationMethod is required for HTTP_PROXY") }
                let version = r["payloadFormatVersion"] as? String ?? "1.0"
                guard version == "1.0" else { throw Self.badRequest("Unsupported payload format version specified: \(version). Supported values are: [1.0]") }
                r["payloadFormatVersion"] = version
            }
            let timeout = r["timeoutInMillis"] as? Int ?? 30000
            guard (50...30000).contains(timeout) else { throw Self.badRequest("Timeout must be between 50 milliseconds and 30 seconds.") }
            r["timeoutInMillis"] = timeout
            if r["connectionType"] == nil { r["connectionType"] = "INTERNET" }
        case .authorizer:
            guard r["name"] is String else { throw Self.badRequest("Invalid input: name is required") }
            guard let type = r["authorizerType"] as? String, ["REQUEST", "JWT"].contains(type) else {
                throw Self.badRequest("Invalid authorizer type specified. Supported values are: [REQUEST, JWT]")
            }
            if type == "REQUEST" {
                guard let uri = r["authorizerUri"] as? String, Self.functionARN(uri) != nil else {
                    throw Self.badRequest("Invalid Authorizer URI specified")
                }
                guard let version = r["authorizerPayloadFormatVersion"] as? String, ["1.0", "2.0"].contains(version) else {
                    throw Self.badRequest("AuthorizerPayloadFormatVersion is required for REQUEST authorizers. Supported values are: [1.0, 2.0]")
                }
                if r["enableSimpleResponses"] as? Bool == true, version != "2.0" {
                    throw Self.badRequest("Simple responses are only supported for authorizer payload format version 2.0")
                }
                let ttl = r["authorizerResultTtlInSeconds"] as? Int ?? 0
                guard (0...3600).contains(ttl) else { throw Self.badRequest("Invalid authorizerResultTtlInSeconds: must be between 0 and 3600") }
                r["authorizerResultTtlInSeconds"] = ttl
                if ttl > 0, (r["identitySource"] as? [String] ?? []).isEmpty {
                    throw Self.badRequest("Identity source is required when caching is enabled")
                }
                if r["enableSimpleResponses"] == nil { r["enableSimpleResponses"] = false }
            } else {
                guard r["jwtConfiguration"] is [String: Any] else { throw Self.badRequest("JwtConfiguration is required for JWT authorizers") }
                guard !(r["identitySource"] as? [String] ?? []).isEmpty else { throw Self.badRequest("Identity source is required for JWT authorizers") }
            }
            for source in r["identitySource"] as? [String] ?? [] where IdentitySource(source) == nil {
                throw Self.badRequest("Invalid identity source specified: \(source)")
            }
        case .stage, .deployment: break
        }
        _ = creating
        return r
    }

    func createChild(_ c: Call, _ kind: ChildKind) throws -> AWSResponse {
        let record = try writing { db -> [String: Any] in
            _ = try existingAPI(c, db)
            var r: [String: Any] = [:]
            for m in Self.members(kind) { if let v = c.input[m] { r[m] = v } }
            r = try validated(kind, r, creating: true, apiID: c.apiID, db)
            if kind == .route, let key = r["routeKey"] as? String,
               try HTTPStore.all(c.apiID, "route", db).contains(where: { $0["routeKey"] as? String == key }) {
                throw Self.conflict("Unable to create route \(key). The route already exists.")
            }
            var id = Self.randomID(kind.idLength)
            while try HTTPStore.get(c.apiID, kind.rawValue, id, db) != nil { id = Self.randomID(kind.idLength) }
            r[kind.idMember] = id
            try HTTPStore.put(c.apiID, kind.rawValue, id, r, db)
            try autoDeploy(c.apiID, now: clock.now(), db)
            return r
        }
        return RestJSON.response(record, status: .created)
    }

    func child(_ c: Call, _ kind: ChildKind, _ db: Database) throws -> [String: Any] {
        _ = try existingAPI(c, db)
        guard let r = try HTTPStore.get(c.apiID, kind.rawValue, c.labels["id"] ?? "", db) else { throw Self.notFound(kind.notFoundMessage) }
        return r
    }

    func getChild(_ c: Call, _ kind: ChildKind) throws -> AWSResponse {
        RestJSON.response(HTTPStore.wire(try db.readNow { db in try child(c, kind, db) }))
    }

    func listChildren(_ c: Call, _ kind: ChildKind) throws -> AWSResponse {
        let items = try db.readNow { db -> [[String: Any]] in
            _ = try existingAPI(c, db)
            return try HTTPStore.all(c.apiID, kind.rawValue, db).map(HTTPStore.wire)
        }
        return RestJSON.response(try Self.page(items, c.request))
    }

    func updateChild(_ c: Call, _ kind: ChildKind) throws -> AWSResponse {
        let record = try writing { db -> [String: Any] in
            var r = try child(c, kind, db)
            for m in Self.members(kind) { if let v = c.input[m] { r[m] = v } }
            r = try validated(kind, r, creating: false, apiID: c.apiID, db)
            if kind == .route, let key = r["routeKey"] as? String,
               try HTTPStore.all(c.apiID, "route", db).contains(where: { $0["routeKey"] as? String == key && $0["routeId"] as? String != c.labels["id"] }) {
                throw Self.conflict("Unable to update route. The route \(key) already exists.")
            }
            try HTTPStore.put(c.apiID, kind.rawValue, c.labels["id"] ?? "", r, db)
            if kind != .deployment { try autoDeploy(c.apiID, now: clock.now(), db) }
            return r
        }
        return RestJSON.response(HTTPStore.wire(record))
    }

    func deleteChild(_ c: Call, _ kind: ChildKind) throws -> AWSResponse {
        try writing { db in
            _ = try child(c, kind, db)
            let id = c.labels["id"] ?? ""
            if kind == .integration,
               try HTTPStore.all(c.apiID, "route", db).contains(where: { $0["target"] as? String == "integrations/\(id)" }) {
                throw Self.conflict("Cannot delete Integration \(id), it is referenced by one or more routes.")
            }
            if kind == .authorizer, try HTTPStore.all(c.apiID, "route", db).contains(where: { $0["authorizerId"] as? String == id }) {
                throw Self.conflict("Cannot delete Authorizer \(id), it is referenced by one or more routes.")
            }
            if kind == .deployment, try HTTPStore.all(c.apiID, "stage", db).contains(where: { $0["deploymentId"] as? String == id }) {
                throw Self.badRequest("Active deployments cannot be deleted")
            }
            try HTTPStore.delete(c.apiID, kind.rawValue, id, db)
            if kind == .deployment { try HTTPStore.delete(c.apiID, "snapshot", id, db) }
            if kind != .deployment, kind != .stage { try autoDeploy(c.apiID, now: clock.now(), db) }
        }
        return AWSResponse(status: .noContent)
    }

    // MARK: Stages and deployments

    func createStage(_ c: Call) throws -> AWSResponse {
        guard let name = c.input["stageName"] as? String, !name.isEmpty else { throw Self.badRequest("Invalid input: stageName is required") }
        guard name == "$default" || name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), name.count <= 128 else {
            throw Self.badRequest("Stage name only allows a-zA-Z0-9_-")
        }
        let now = clock.now()
        let record = try writing { db -> [String: Any] in
            _ = try existingAPI(c, db)
            if try HTTPStore.get(c.apiID, "stage", name, db) != nil { throw Self.conflict("Stage already exists") }
            var r: [String: Any] = ["stageName": name, "createdDate": AWSDate.iso8601(now), "lastUpdatedDate": AWSDate.iso8601(now),
                                    "autoDeploy": false, "stageVariables": [String: String](), "tags": c.input["tags"] ?? [String: String](),
                                    "defaultRouteSettings": ["detailedMetricsEnabled": false], "routeSettings": [String: Any]()]
            for m in Self.members(.stage) { if let v = c.input[m] { r[m] = v } }
            if let d = r["deploymentId"] as? String, try HTTPStore.get(c.apiID, "deployment", d, db) == nil {
                throw Self.notFound(ChildKind.deployment.notFoundMessage)
            }
            try HTTPStore.put(c.apiID, "stage", name, r, db)
            if r["autoDeploy"] as? Bool == true { try autoDeploy(c.apiID, now: now, only: name, db) }
            return try HTTPStore.get(c.apiID, "stage", name, db) ?? r
        }
        stageNote.served(apiID: c.apiID, stage: name)
        return RestJSON.response(HTTPStore.wire(record), status: .created)
    }

    func updateStage(_ c: Call) throws -> AWSResponse {
        let record = try writing { db -> [String: Any] in
            var r = try child(c, .stage, db)
            let name = c.labels["id"] ?? ""
            let wasAuto = r["autoDeploy"] as? Bool == true
            for m in Self.members(.stage) { if let v = c.input[m] { r[m] = v } }
            if let d = c.input["deploymentId"] as? String, try HTTPStore.get(c.apiID, "deployment", d, db) == nil {
                throw Self.notFound(ChildKind.deployment.notFoundMessage)
            }
            r["lastUpdatedDate"] = AWSDate.iso8601(clock.now())
            try HTTPStore.put(c.apiID, "stage", name, r, db)
            if !wasAuto, r["autoDeploy"] as? Bool == true { try autoDeploy(c.apiID, now: clock.now(), only: name, db) }
            return try HTTPStore.get(c.apiID, "stage", name, db) ?? r
        }
        return RestJSON.response(HTTPStore.wire(record))
    }

    func createDeployment(_ c: Call) throws -> AWSResponse {
        let record = try writing { db -> [String: Any] in
            _ = try existingAPI(c, db)
            var stage: [String: Any]?
            if let name = c.input["stageName"] as? String {
                guard let s = try HTTPStore.get(c.apiID, "stage", name, db) else { throw Self.notFound(ChildKind.stage.notFoundMessage) }
                stage = s
            }
            let d = try deploy(c.apiID, description: c.input["description"] as? String, auto: false, now: clock.now(), db)
            if var s = stage, let name = s["stageName"] as? String {
                s["deploymentId"] = d["deploymentId"]
                s["lastUpdatedDate"] = AWSDate.iso8601(clock.now())
                try HTTPStore.put(c.apiID, "stage", name, s, db)
            }
            return d
        }
        return RestJSON.response(record, status: .created)
    }

    /// A deployment: the API's routes, integrations, authorizers and CORS as they are now.
    func deploy(_ apiID: String, description: String?, auto: Bool, now: Double, _ db: Database) throws -> [String: Any] {
        var id = Self.randomID(6)
        while try HTTPStore.get(apiID, "deployment", id, db) != nil { id = Self.randomID(6) }
        var d: [String: Any] = ["deploymentId": id, "createdDate": AWSDate.iso8601(now), "deploymentStatus": "DEPLOYED", "autoDeployed": auto]
        if let description { d["description"] = description }
        try HTTPStore.put(apiID, "deployment", id, d, db)
        let api = try HTTPStore.get(apiID, "api", apiID, db) ?? [:]
        var snapshot: [String: Any] = ["routes": try HTTPStore.all(apiID, "route", db), "integrations": try HTTPStore.all(apiID, "integration", db),
                                       "authorizers": try HTTPStore.all(apiID, "authorizer", db)]
        if let cors = api["corsConfiguration"] { snapshot["cors"] = cors }
        try HTTPStore.put(apiID, "snapshot", id, snapshot, db)
        return d
    }

    /// Every change redeploys the stages that deploy automatically (`only`: just that one).
    func autoDeploy(_ apiID: String, now: Double, only: String? = nil, _ db: Database) throws {
        for var stage in try HTTPStore.all(apiID, "stage", db) where stage["autoDeploy"] as? Bool == true {
            guard let name = stage["stageName"] as? String, only == nil || only == name else { continue }
            let d = try deploy(apiID, description: "Automatic deployment triggered by changes to the Api configuration", auto: true, now: now, db)
            stage["deploymentId"] = d["deploymentId"]
            stage["lastDeploymentStatusMessage"] = "Successfully deployed stage with deployment ID '\(d["deploymentId"] as? String ?? "")'"
            stage["lastUpdatedDate"] = AWSDate.iso8601(now)
            try HTTPStore.put(apiID, "stage", name, stage, db)
        }
    }

    /// `$default`, or `METHOD /path` with an HTTP method or ANY and `{name}`/`{name+}` segments (`+` only last).
    static func validateRouteKey(_ key: String) throws {
        if key == "$default" { return }
        let parts = key.split(separator: " ", omittingEmptySubsequences: false)
        let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]
        guard parts.count == 2, methods.contains(String(parts[0])), parts[1].hasPrefix("/") else {
            throw badRequest("Unable to create route. Invalid route key \(key): route key must be $default or of the form 'METHOD /path'")
        }
        let segments = parts[1].split(separator: "/")
        for (i, s) in segments.enumerated() where s.hasSuffix("+}") && i != segments.count - 1 {
            throw badRequest("Unable to create route. Greedy path variable \(s) must be the last segment of the route key \(key)")
        }
    }

    /// The function ARN an integration or authorizer URI names: the ARN itself, or inside an invocation ARN
    /// (`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations`).
    static func functionARN(_ uri: String) -> String? {
        if uri.hasPrefix("arn:aws:lambda:") { return uri }
        guard uri.hasPrefix("arn:aws:apigateway:"), let start = uri.range(of: "/functions/"), uri.hasSuffix("/invocations") else { return nil }
        let arn = String(uri[start.upperBound..<uri.index(uri.endIndex, offsetBy: -12)])
        return arn.hasPrefix("arn:aws:lambda:") ? arn : nil
    }
}
