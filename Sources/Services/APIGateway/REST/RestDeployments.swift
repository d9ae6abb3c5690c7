import Core
import Foundation

/// Deployments (a copy of the resource tree and authorizers as they were), stages (a name pointing at one, with
/// stage variables) and authorizers.
extension RestAPIs {
    func deploymentOperation(_ op: String, _ r: RestRequest, _ input: [String: Any]) throws -> AWSResponse {
        switch op {
        case "CreateDeployment": return RestJSON.response(try createDeployment(r, input), status: .created)
        case "GetDeployments":
            let items = try withAPI(r) { doc in
                doc.deployments.values.map(Self.deploymentView).sorted { ($0["createdDate"] as? Double ?? 0) < ($1["createdDate"] as? Double ?? 0) }
            }
            return RestJSON.response(try RestPaging.page(items, r))
        case "GetDeployment":
            return RestJSON.response(try withAPI(r) { doc in Self.deploymentView(try Self.deployment(doc, r.label("deployment_id"))) })
        case "UpdateDeployment":
            return RestJSON.response(try withAPI(r, write: true) { doc in
                let d = try RestPatch.apply(input, to: try Self.deployment(doc, r.label("deployment_id")), kind: .deployment)
                doc.deployments[r.label("deployment_id")] = d
                return Self.deploymentView(d)
            })
        case "DeleteDeployment":
            try withAPI(r, write: true) { doc in
                let id = r.label("deployment_id")
                _ = try Self.deployment(doc, id)
                if doc.stages.values.contains(where: { $0["deploymentId"] as? String == id }) {
                    throw RestErrors.badRequest("Active stages pointing to this deployment must be moved or deleted")
                }
                doc.deployments[id] = nil
            }
            return RestJSON.response(nil, status: .accepted)
        case "CreateStage": return RestJSON.response(try createStage(r, input), status: .created)
        case "GetStages":
            let items = try withAPI(r) { doc in
                doc.stages.values.filter { s in r.request.queryValue("deploymentId").map { s["deploymentId"] as? String == $0 } ?? true }
                    .sorted { ($0["stageName"] as? String ?? "") < ($1["stageName"] as? String ?? "") }
            }
            return RestJSON.response(["item": items])
        case "GetStage": return RestJSON.response(try withAPI(r) { try Self.stage($0, r.label("stage_name")) })
        case "UpdateStage":
            return RestJSON.response(try withAPI(r, write: true) { doc in
                var s = try RestPatch.apply(input, to: try Self.stage(doc, r.label("stage_name")), kind: .stage)
                if let d = s["deploymentId"] as? String, doc.deployments[d] == nil {
                    throw RestErrors.badRequest("Invalid deployment identifier specified")
                }
                if (s["variables"] as? [String: Any])?.isEmpty == true { s["variables"] = nil }
                s["lastUpdatedDate"] = now()
                doc.stages[r.label("stage_name")] = s
                return s
            })
        case "DeleteStage":
            try withAPI(r, write: true) { doc in
                _ = try Self.stage(doc, r.label("stage_name"))
                doc.stages[r.label("stage_name")] = nil
            }
            return RestJSON.response(nil, status: .accepted)
        case "FlushStageAuthorizersCache":
            _ = try withAPI(r) { try Self.stage($0, r.label("stage_name")) }
            let prefix = r.label("restapi_id") + "/"
            authorizerCache.withLock { cache in cache = cache.filter { !$0.key.hasPrefix(prefix) } }
            return RestJSON.response(nil, status: .accepted)
        case "CreateAuthorizer": return RestJSON.response(try createAuthorizer(r, input), status: .created)
        case "GetAuthorizers":
            let items = try withAPI(r) { doc in doc.authorizers.values.sorted { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") } }
            return RestJSON.response(try RestPaging.page(items, r))
        case "GetAuthorizer": return RestJSON.response(try withAPI(r) { try Self.authorizer($0, r.label("authorizer_id")) })
        case "UpdateAuthorizer":
            return RestJSON.response(try withAPI(r, write: true) { doc in
                let a = try RestPatch.apply(input, to: try Self.authorizer(doc, r.label("authorizer_id")), kind: .authorizer)
                doc.authorizers[r.label("authorizer_id")] = a
                return a
            })
        default:  // DeleteAuthorizer
            try withAPI(r, write: true) { doc in
                let id = r.label("authorizer_id")
                _ = try Self.authorizer(doc, id)
                let used = doc.resources.values.contains { res in
                    (res["resourceMethods"] as? [String: Any] ?? [:]).values.contains { ($0 as? [String: Any])?["authorizerId"] as? String == id }
                }
                if used { throw RestErrors.conflict("Cannot delete authorizer '\(id)', is referenced in method") }
                doc.authorizers[id] = nil
            }
            return RestJSON.response(nil, status: .accepted)
        }
    }

    static func deployment(_ doc: APIDocument, _ id: String) throws -> [String: Any] {
        guard let d = doc.deployments[id] else { throw RestErrors.notFound("Invalid Deployment identifier specified") }
        return d
    }

    static func stage(_ doc: APIDocument, _ name: String) throws -> [String: Any] {
        guard let s = doc.stages[name] else { throw RestErrors.notFound("Invalid Stage identifier specified") }
        return s
    }

    static func authorizer(_ doc: APIDocument, _ id: String) throws -> [String: Any] {
        guard let a = doc.authorizers[id] else { throw RestErrors.notFound("Invalid Authorizer identifier specified") }
        return a
    }

    /// A deployment as the API shows it (without the stored tree).
    static func deploymentView(_ d: [String: Any]) -> [String: Any] {
        var out = d
        out["snapshot"] = nil
        return out
    }

    func createDeployment(_ r: RestRequest, _ input: [String: Any]) throws -> [String: Any] {
        let deployment = try withAPI(r, write: true) { doc in
            let methods = doc.resources.values.flatMap { ($0["resourceMethods"] as? [String: Any] ?? [:]).values.compactMap { $0 as? [String: Any] } }
            guard !methods.isEmpty else { throw RestErrors.badRequest("The REST API doesn't contain any methods") }
            guard methods.allSatisfy({ $0["methodIntegration"] != nil }) else { throw RestErrors.badRequest("No integration defined for method") }
            let id = RestIDs.make(6)
            let d: [String: Any] = ["id": id, "createdDate": now(), "description": input["description"] as? String ?? "",
                                    "snapshot": ["resources": doc.resources, "authorizers": doc.authorizers,
                                                 "apiKeySource": doc.api["apiKeySource"] ?? "HEADER"]]
            doc.deployments[id] = d
            if let name = input["stageName"] as? String, !name.isEmpty {
                var s = doc.stages[name] ?? Self.newStage(name, now: now())
                s["deploymentId"] = id
                s["lastUpdatedDate"] = now()
                if let v = input["stageDescription"] as? String { s["description"] = v }
                if let vars = input["variables"] as? [String: Any] {
                    s["variables"] = (s["variables"] as? [String: Any] ?? [:]).merging(vars) { _, new in new }
                }
                doc.stages[name] = s
            }
            return Self.deploymentView(d)
        }
        if let name = input["stageName"] as? String, !name.isEmpty { stageNote.served(apiID: r.label("restapi_id"), stage: name) }
        return deployment
    }

    static func newStage(_ name: String, now: Double) -> [String: Any] {
        ["stageName": name, "createdDate": now, "lastUpdatedDate": now, "cacheClusterEnabled": false,
         "cacheClusterStatus": "NOT_AVAILABLE", "methodSettings": [String: Any](), "tracingEnabled": false]
    }

    func createStage(_ r: RestRequest, _ input: [String: Any]) throws -> [String: Any] {
        guard let name = input["stageName"] as? String, !name.isEmpty,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw RestErrors.badRequest("Stage name only allows a-zA-Z0-9_")
        }
        let stage = try withAPI(r, write: true) { doc in
            guard let d = input["deploymentId"] as? String, doc.deployments[d] != nil else {
                throw RestErrors.notFound("Invalid Deployment identifier specified")
            }
            guard doc.stages[name] == nil else { throw RestErrors.conflict("Stage already exists") }
            var s = Self.newStage(name, now: now())
            s["deploymentId"] = d
            for key in ["description", "variables", "cacheClusterEnabled", "cacheClusterSize", "tracingEnabled", "tags", "documentationVersion"]
            where input[key] != nil { s[key] = input[key] }
            doc.stages[name] = s
            return s
        }
        stageNote.served(apiID: r.label("restapi_id"), stage: name)
        return stage
    }

    func createAuthorizer(_ r: RestRequest, _ input: [String: Any]) throws -> [String: Any] {
        let type = input["type"] as? String ?? ""
        guard ["TOKEN", "REQUEST", "COGNITO_USER_POOLS"].contains(type) else {
            throw RestErrors.badRequest("Invalid authorizer type specified. Valid options are TOKEN,REQUEST,COGNITO_USER_POOLS")
        }
        guard let name = input["name"] as? String, !name.isEmpty else { throw RestErrors.badRequest("Invalid authorizer name specified") }
        if type != "COGNITO_USER_POOLS", (input["authorizerUri"] as? String ?? "").isEmpty {
            throw RestErrors.badRequest("Authorizer URI must be specified for authorizers of type \(type)")
        }
        if type == "TOKEN", let source = input["identitySource"] as? String, !source.hasPrefix("method.request.header.") {
            throw RestErrors.badRequest("Invalid identity source specified for TOKEN authorizer: \(source)")
        }
        return try withAPI(r, write: true) { doc in
            let id = RestIDs.make(6)
            var a: [String: Any] = ["id": id, "name": name, "type": type, "authorizerResultTtlInSeconds": input["authorizerResultTtlInSeconds"] as? Int ?? 300]
            if type == "TOKEN" { a["identitySource"] = input["identitySource"] as? String ?? "method.request.header.Authorization" }
            for key in ["authorizerUri", "authorizerCredentials", "identitySource", "identityValidationExpression", "providerARNs", "authType"]
            where input[key] != nil { a[key] = input[key] }
            doc.authorizers[id] = a
            return a
        }
    }
}
