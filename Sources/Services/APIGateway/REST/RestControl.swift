import Core
import Foundation
import HTTPTypes

/// RestApis, resources, methods, integrations and their responses.
extension RestAPIs {
    static let httpMethods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]
    static let integrationTypes = ["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"]
    static let authorizationTypes = ["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"]

    func apiOperation(_ op: String, _ r: RestRequest, _ input: [String: Any]) throws -> AWSResponse {
        switch op {
        case "CreateRestApi": return try createRestApi(r, input)
        case "GetRestApis":
            let docs = try db.readNow { db in
                try Data.fetchAll(db, sql: "SELECT doc FROM rest_apis WHERE account = ? AND region = ?", arguments: [r.account, r.region])
            }
            let apis = docs.compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }.map { APIDocument($0).api }
                .sorted { ($0["createdDate"] as? Double ?? 0, $0["id"] as? String ?? "") < ($1["createdDate"] as? Double ?? 0, $1["id"] as? String ?? "") }
            return RestJSON.response(try RestPaging.page(apis, r))
        case "GetRestApi": return RestJSON.response(try withAPI(r) { $0.api })
        case "UpdateRestApi":
            return RestJSON.response(try withAPI(r, write: true) { doc in
                doc.api = try RestPatch.apply(input, to: doc.api, kind: .restApi)
                return doc.api
            })
        case "DeleteRestApi":
            try writingAPIs { db in
                guard try self.load(db, r, r.label("restapi_id")) != nil else { throw RestErrors.apiNotFound(r.account, r.label("restapi_id")) }
                try db.execute(sql: "DELETE FROM rest_apis WHERE account = ? AND region = ? AND id = ?",
                               arguments: [r.account, r.region, r.label("restapi_id")])
            }
            return RestJSON.response(nil, status: .accepted)
        case "GetResources":
            let embed = r.request.query.contains { $0.0 == "embed" && $0.1.split(separator: ",").contains("methods") }
            let items = try withAPI(r) { doc in
                doc.resources.values.sorted { ($0["path"] as? String ?? "") < ($1["path"] as? String ?? "") }.map { Self.resourceView($0, embed: embed) }
            }
            return RestJSON.response(try RestPaging.page(items, r))
        case "GetResource":
            let embed = r.request.query.contains { $0.0 == "embed" && $0.1.split(separator: ",").contains("methods") }
            return RestJSON.response(try withAPI(r) { doc in Self.resourceView(try Self.resource(doc, r.label("resource_id")), embed: embed) })
        case "CreateResource": return RestJSON.response(try createResource(r, input), status: .created)
        case "UpdateResource": return RestJSON.response(try updateResource(r, input))
        case "DeleteResource":
            try withAPI(r, write: true) { doc in
                let id = r.label("resource_id")
                _ = try Self.resource(doc, id)
                guard id != doc.rootResourceID else { throw RestErrors.badRequest("Cannot delete root resource") }
                var all = doc.resources
                for child in doc.subtree(id) { all[child] = nil }
                doc.resources = all
            }
            return RestJSON.response(nil, status: .accepted)
        case "PutMethod", "GetMethod", "UpdateMethod", "DeleteMethod": return try methodOperation(op, r, input)
        default: return try integrationOperation(op, r, input)
        }
    }

    func createRestApi(_ r: RestRequest, _ input: [String: Any]) throws -> AWSResponse {
        guard let name = input["name"] as? String, !name.isEmpty else { throw RestErrors.badRequest("Invalid REST API name specified") }
        var fields: [String: Any] = ["name": name, "createdDate": now(), "apiKeySource": input["apiKeySource"] as? String ?? "HEADER",
                                     "endpointConfiguration": input["endpointConfiguration"] ?? ["types": ["EDGE"]],
                                     "disableExecuteApiEndpoint": input["disableExecuteApiEndpoint"] as? Bool ?? false]
        for key in ["description", "version", "binaryMediaTypes", "minimumCompressionSize", "policy", "tags"] where input[key] != nil {
            fields[key] = input[key]
        }
        if let types = (fields["endpointConfiguration"] as? [String: Any])?["types"] as? [String],
           types.contains(where: { !["EDGE", "REGIONAL", "PRIVATE"].contains($0) }) {
            throw RestErrors.badRequest("Invalid endpoint configuration type")
        }
        let id = RestIDs.make(10)
        var doc = APIDocument.create(id: id, rootID: RestIDs.make(10), api: fields)
        if let source = input["cloneFrom"] as? String {
            let cloned = try withAPI(RestRequest(request: r.request, labels: ["restapi_id": source])) { $0 }
            doc.resources = cloned.resources
            doc.authorizers = cloned.authorizers
            doc.api["rootResourceId"] = cloned.rootResourceID
        }
        try writingAPIs { db in try self.store(db, r, id, doc.raw) }
        return RestJSON.response(doc.api, status: .created)
    }

    static func resource(_ doc: APIDocument, _ id: String) throws -> [String: Any] {
        guard let res = doc.resources[id] else { throw RestErrors.notFound("Invalid Resource identifier specified") }
        return res
    }

    /// GetResource(s)'s shape: methods whole with `embed=methods`, else only their names.
    static func resourceView(_ resource: [String: Any], embed: Bool) -> [String: Any] {
        var out = resource
        if let methods = resource["resourceMethods"] as? [String: Any] {
            if methods.isEmpty { out["resourceMethods"] = nil } else if !embed { out["resourceMethods"] = methods.mapValues { _ in [String: Any]() } }
        }
        return out
    }

    /// A path part: literal characters, `{name}` or `{name+}`.
    static func validPathPart(_ part: String) -> Bool {
        let literal = { (s: Substring) in !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-:".contains($0)) } }
        if part.hasPrefix("{") && part.hasSuffix("}") {
            var inner = part.dropFirst().dropLast()
            if inner.hasSuffix("+") { inner = inner.dropLast() }
            return literal(inner)
        }
        return literal(part[...])
    }

    func createResource(_ r: RestRequest, _ input: [String: Any]) throws -> [String: Any] {
        guard let part = input["pathPart"] as? String, Self.validPathPart(part) else {
            throw RestErrors.badRequest("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.")
        }
        return try withAPI(r, write: true) { doc in
            let parent = try Self.resource(doc, r.label("parent_id"))
            let parentPath = parent["path"] as? String ?? "/"
            if (parent["pathPart"] as? String)?.hasSuffix("+}") == true {
                throw RestErrors.badRequest("Cannot create a child of a resource with a greedy path variable: \(parentPath)")
            }
            let siblings = doc.resources.values.filter { $0["parentId"] as? String == r.label("parent_id") }
            if siblings.contains(where: { $0["pathPart"] as? String == part }) {
                throw RestErrors.conflict("Another resource with the same parent already has this name: \(part)")
            }
            if part.hasPrefix("{"), let other = siblings.first(where: { ($0["pathPart"] as? String)?.hasPrefix("{") == true })?["pathPart"] as? String {
                throw RestErrors.badRequest("A sibling (\(other)) of this resource already has a variable path part -- only one is allowed")
            }
            let id = RestIDs.make(10)
            let res: [String: Any] = ["id": id, "parentId": r.label("parent_id"), "pathPart": part, "path": APIDocument.childPath(parentPath, part)]
            doc.resources[id] = res
            return res
        }
    }

    func updateResource(_ r: RestRequest, _ input: [String: Any]) throws -> [String: Any] {
        try withAPI(r, write: true) { doc in
            let id = r.label("resource_id")
            let updated = try RestPatch.apply(input, to: try Self.resource(doc, id), kind: .resource)
            if let part = updated["pathPart"] as? String, !Self.validPathPart(part) {
                throw RestErrors.badRequest("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.")
            }
            if let parent = updated["parentId"] as? String, doc.resources[parent] == nil || doc.subtree(id).contains(parent) {
                throw RestErrors.badRequest("Invalid parent resource identifier specified")
            }
            doc.resources[id] = updated
            doc.recomputePaths()
            return Self.resourceView(doc.resources[id] ?? updated, embed: false)
        }
    }

    // MARK: methods

    static func method(_ doc: APIDocument, _ r: RestRequest) throws -> [String: Any] {
        let res = try resource(doc, r.label("resource_id"))
        guard let m = (res["resourceMethods"] as? [String: Any])?[r.label("http_method").uppercased()] as? [String: Any] else {
            throw RestErrors.notFound("Invalid Method identifier specified")
        }
        return m
    }

    static func setMethod(_ doc: inout APIDocument, _ r: RestRequest, _ method: [String: Any]?) {
        let id = r.label("resource_id")
        var res = doc.resources[id] ?? [:]
        var methods = res["resourceMethods"] as? [String: Any] ?? [:]
        methods[r.label("http_method").uppercased()] = method
        res["resourceMethods"] = methods.isEmpty ? nil : methods
        doc.resources[id] = res
    }

    func methodOperation(_ op: String, _ r: RestRequest, _ input: [String: Any]) throws -> AWSResponse {
        let verb = r.label("http_method").uppercased()
        switch op {
        case "PutMethod":
            guard Self.httpMethods.contains(verb) else {
                throw RestErrors.badRequest("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
            }
            let auth = input["authorizationType"] as? String ?? ""
            guard Self.authorizationTypes.contains(auth) else {
                throw RestErrors.badRequest("Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS")
            }
            return RestJSON.response(try withAPI(r, write: true) { doc in
                let res = try Self.resource(doc, r.label("resource_id"))
                if (res["resourceMethods"] as? [String: Any])?[verb] != nil { throw RestErrors.conflict("Method already exists for this resource") }
                if auth == "CUSTOM" || auth == "COGNITO_USER_POOLS" {
                    guard let a = input["authorizerId"] as? String, doc.authorizers[a] != nil else {
                        throw RestErrors.badRequest("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.")
                    }
                }
                var m: [String: Any] = ["httpMethod": verb, "authorizationType": auth, "apiKeyRequired": input["apiKeyRequired"] as? Bool ?? false]
                for key in ["authorizerId", "operationName", "requestParameters", "requestModels", "requestValidatorId", "authorizationScopes"]
                where input[key] != nil { m[key] = input[key] }
                Self.setMethod(&doc, r, m)
                return m
            }, status: .created)
        case "GetMethod": return RestJSON.response(try withAPI(r) { try Self.method($0, r) })
        case "UpdateMethod":
            return RestJSON.response(try withAPI(r, write: true) { doc in
                let m = try RestPatch.apply(input, to: try Self.method(doc, r), kind: .method)
                Self.setMethod(&doc, r, m)
                return m
            })
        default:
            try withAPI(r, write: true) { doc in
                _ = try Self.method(doc, r)
                Self.setMethod(&doc, r, nil)
            }
            return RestJSON.response(nil, status: .noContent)
        }
    }

    // MARK: integrations and responses

    func integrationOperation(_ op: String, _ r: RestRequest, _ input: [String: Any]) throws -> AWSResponse {
        let code = r.label("status_code")
        if op == "PutMethodResponse" || op == "PutIntegrationResponse", Int(code).map({ !(100...599).contains($0) }) ?? true || code.count != 3 {
            throw RestErrors.badRequest("Invalid status code specified: \(code)")
        }
        func integration(_ m: [String: Any]) throws -> [String: Any] {
            guard let i = m["methodIntegration"] as? [String: Any] else { throw RestErrors.notFound("Invalid Integration identifier specified") }
            return i
        }
        func change(_ status: HTTPResponse.Status = .ok, _ body: (inout [String: Any]) throws -> [String: Any]?) throws -> AWSResponse {
            let out = try withAPI(r, write: true) { doc in
                var m = try Self.method(doc, r)
                let result = try body(&m)
                Self.setMethod(&doc, r, m)
                return result
            }
            return RestJSON.response(out, status: out == nil ? .noContent : status)
        }
        switch op {
        case "PutMethodResponse":
            return try change(.created) { m in
                var resp: [String: Any] = ["statusCode": code]
                for key in ["responseParameters", "responseModels"] where input[key] != nil { resp[key] = input[key] }
                var all = m["methodResponses"] as? [String: Any] ?? [:]
                all[code] = resp
                m["methodResponses"] = all
                return resp
            }
        case "GetMethodResponse", "UpdateMethodResponse", "DeleteMethodResponse":
            return try change(op == "UpdateMethodResponse" ? .created : .ok) { m in
                var all = m["methodResponses"] as? [String: Any] ?? [:]
                guard let resp = all[code] as? [String: Any] else { throw RestErrors.notFound("Invalid Response status code specified") }
                if op == "GetMethodResponse" { return resp }
                all[code] = op == "DeleteMethodResponse" ? nil : try RestPatch.apply(input, to: resp, kind: .methodResponse)
                m["methodResponses"] = all.isEmpty ? nil : all
                return op == "DeleteMethodResponse" ? nil : all[code] as? [String: Any]
            }
        case "PutIntegration":
            return try change(.created) { m in
                let i = try Self.newIntegration(input, resourceID: r.label("resource_id"))
                m["methodIntegration"] = i
                return i
            }
        case "GetIntegration": return RestJSON.response(try withAPI(r) { try integration(try Self.method($0, r)) })
        case "UpdateIntegration":
            return try change { m in
                let i = try RestPatch.apply(input, to: try integration(m), kind: .integration)
                m["methodIntegration"] = i
                return i
            }
        case "DeleteIntegration":
            return try change { m in
                _ = try integration(m)
                m["methodIntegration"] = nil
                return nil
            }
        case "PutIntegrationResponse":
            return try change(.created) { m in
                var i = try integration(m)
                var resp: [String: Any] = ["statusCode": code]
                for key in ["selectionPattern", "responseParameters", "responseTemplates", "contentHandling"] where input[key] != nil {
                    resp[key] = input[key]
                }
                var all = i["integrationResponses"] as? [String: Any] ?? [:]
                all[code] = resp
                i["integrationResponses"] = all
                m["methodIntegration"] = i
                return resp
            }
        default:  // Get/Update/DeleteIntegrationResponse
            return try change { m in
                var i = try integration(m)
                var all = i["integrationResponses"] as? [String: Any] ?? [:]
                guard let resp = all[code] as? [String: Any] else { throw RestErrors.notFound("Invalid Response status code specified") }
                if op == "GetIntegrationResponse" { return resp }
                all[code] = op == "DeleteIntegrationResponse" ? nil : try RestPatch.apply(input, to: resp, kind: .integrationResponse)
                i["integrationResponses"] = all.isEmpty ? nil : all
                m["methodIntegration"] = i
                return op == "DeleteIntegrationResponse" ? nil : all[code] as? [String: Any]
            }
        }
    }

    /// PutIntegration's checks and defaults.
    static func newIntegration(_ input: [String: Any], resourceID: String) throws -> [String: Any] {
        let type = input["type"] as? String ?? ""
        guard integrationTypes.contains(type) else {
            throw RestErrors.badRequest("Invalid integration type specified. Valid options are HTTP,HTTP_PROXY,AWS,AWS_PROXY,MOCK")
        }
        var i: [String: Any] = ["type": type, "passthroughBehavior": input["passthroughBehavior"] as? String ?? "WHEN_NO_MATCH",
                                "timeoutInMillis": input["timeoutInMillis"] as? Int ?? 29000,
                                "cacheNamespace": input["cacheNamespace"] as? String ?? resourceID,
                                "cacheKeyParameters": input["cacheKeyParameters"] as? [String] ?? []]
        if type != "MOCK" {
            guard let verb = input["httpMethod"] as? String, !verb.isEmpty else {
                throw RestErrors.badRequest("Enumeration value for HttpMethod must be non-empty")
            }
            guard let uri = input["uri"] as? String, !uri.isEmpty else {
                throw RestErrors.badRequest(type.hasPrefix("HTTP") ? "Invalid HTTP endpoint specified for URI" : "Invalid ARN specified in the request")
            }
            if type.hasPrefix("HTTP"), !(uri.hasPrefix("http://") || uri.hasPrefix("https://")) {
                throw RestErrors.badRequest("Invalid HTTP endpoint specified for URI")
            }
            if type.hasPrefix("AWS"), !uri.hasPrefix("arn:") { throw RestErrors.badRequest("AWS ARN for integration must contain path or action") }
            if type == "AWS_PROXY", !uri.contains(":lambda:path/") {
                throw RestErrors.badRequest("Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.")
            }
            i["httpMethod"] = verb
            i["uri"] = uri
        }
        for key in ["connectionType", "connectionId", "credentials", "requestParameters", "requestTemplates", "contentHandling", "tlsConfig"]
        where input[key] != nil { i[key] = input[key] }
        return i
    }
}
