import Core
import Foundation
import Yams

/// ImportRestApi and PutRestApi: an OpenAPI 3 or Swagger 2 document (JSON or YAML) with API Gateway's extensions
/// (`x-amazon-apigateway-integration`, `-any-method`, `-authorizer`, `-binary-media-types`, `-api-key-source`)
/// becomes resources, methods, integrations and authorizers. PutRestApi replaces (`mode=overwrite`) or adds to
/// (`mode=merge`) an existing API's definitions.
extension RestAPIs {
    static let openAPIMethods = ["get", "post", "put", "delete", "patch", "head", "options", "x-amazon-apigateway-any-method"]

    static func parseDefinition(_ body: [UInt8]) throws -> [String: Any] {
        if let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] { return json }
        let text = String(decoding: body, as: UTF8.self)
        guard let yaml = (try? Yams.load(yaml: text)) as? [String: Any] else { throw RestErrors.badRequest("Invalid OpenAPI input.") }
        return yaml
    }

    func importRestApi(_ r: RestRequest, body: [UInt8], put: Bool) throws -> AWSResponse {
        let spec = try Self.parseDefinition(body)
        guard spec["openapi"] != nil || spec["swagger"] != nil else {
            throw RestErrors.badRequest("Invalid OpenAPI input.")
        }
        let merge = put && r.request.queryValue("mode") == "merge"
        if put {
            let api = try withAPI(r, write: true) { doc in
                try Self.apply(spec, to: &doc, merge: merge)
                return doc.api
            }
            return RestJSON.response(api)
        }
        let info = spec["info"] as? [String: Any] ?? [:]
        guard let title = info["title"] as? String, !title.isEmpty else { throw RestErrors.badRequest("Invalid OpenAPI input: info.title is required") }
        var fields: [String: Any] = ["name": title, "createdDate": now(), "apiKeySource": "HEADER",
                                     "endpointConfiguration": ["types": [r.request.queryValue("parameters[endpointConfigurationTypes]") ?? "EDGE"]],
                                     "disableExecuteApiEndpoint": false]
        if let d = info["description"] as? String { fields["description"] = d }
        if let v = info["version"] { fields["version"] = RestProxy.scalar(v) }
        let id = RestIDs.make(10)
        var doc = APIDocument.create(id: id, rootID: RestIDs.make(10), api: fields)
        try Self.apply(spec, to: &doc, merge: false)
        try writingAPIs { db in try self.store(db, r, id, doc.raw) }
        return RestJSON.response(doc.api, status: .created)
    }

    static func apply(_ spec: [String: Any], to doc: inout APIDocument, merge: Bool) throws {
        if let types = spec["x-amazon-apigateway-binary-media-types"] as? [String] { doc.api["binaryMediaTypes"] = types }
        if let source = spec["x-amazon-apigateway-api-key-source"] as? String { doc.api["apiKeySource"] = source }
        if !merge {
            let root = doc.rootResourceID
            doc.resources = [root: ["id": root, "path": "/"]]
            doc.authorizers = [:]
        }
        // Authorizers and API keys from the security schemes.
        let schemes = ((spec["components"] as? [String: Any])?["securitySchemes"] as? [String: Any]) ?? spec["securityDefinitions"] as? [String: Any] ?? [:]
        var authorizerIDs: [String: String] = [:]
        var apiKeySchemes: Set<String> = []
        for (name, value) in schemes {
            guard let scheme = value as? [String: Any] else { continue }
            if let ext = scheme["x-amazon-apigateway-authorizer"] as? [String: Any] {
                let id = doc.authorizers.values.first { $0["name"] as? String == name }?["id"] as? String ?? RestIDs.make(6)
                let type = (ext["type"] as? String ?? "token").uppercased()
                var a: [String: Any] = ["id": id, "name": name, "type": type,
                                        "authorizerResultTtlInSeconds": (ext["authorizerResultTtlInSeconds"] as? Int) ?? 300]
                if let uri = ext["authorizerUri"] as? String { a["authorizerUri"] = uri }
                if let v = ext["identityValidationExpression"] as? String { a["identityValidationExpression"] = v }
                if let c = ext["authorizerCredentials"] as? String { a["authorizerCredentials"] = c }
                if let source = ext["identitySource"] as? String { a["identitySource"] = source }
                else if type == "TOKEN", let header = scheme["name"] as? String { a["identitySource"] = "method.request.header.\(header)" }
                doc.authorizers[id] = a
                authorizerIDs[name] = id
            } else if scheme["type"] as? String == "apiKey" {
                apiKeySchemes.insert(name)
            }
        }
        let globalSecurity = spec["security"] as? [[String: Any]]
        for (path, item) in (spec["paths"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard path.hasPrefix("/"), let item = item as? [String: Any] else { throw RestErrors.badRequest("Invalid OpenAPI input: path \(path)") }
            let resourceID = try ensureResource(path, in: &doc)
            let shared = item["parameters"] as? [[String: Any]] ?? []
            for (key, value) in item where openAPIMethods.contains(key.lowercased()) {
                guard let op = value as? [String: Any] else { continue }
                let verb = key.lowercased() == "x-amazon-apigateway-any-method" ? "ANY" : key.uppercased()
                var m: [String: Any] = ["httpMethod": verb, "authorizationType": "NONE", "apiKeyRequired": false]
                if let name = op["operationId"] as? String { m["operationName"] = name }
                for requirement in (op["security"] as? [[String: Any]]) ?? globalSecurity ?? [] {
                    for scheme in requirement.keys {
                        if let a = authorizerIDs[scheme] {
                            m["authorizationType"] = "CUSTOM"
                            m["authorizerId"] = a
                        } else if apiKeySchemes.contains(scheme) {
                            m["apiKeyRequired"] = true
                        } else if scheme == "sigv4" {
                            m["authorizationType"] = "AWS_IAM"
                        }
                    }
                }
                var params: [String: Any] = [:]
                for p in shared + (op["parameters"] as? [[String: Any]] ?? []) {
                    guard let name = p["name"] as? String, let place = p["in"] as? String,
                          let kind = ["path": "path", "query": "querystring", "header": "header"][place] else { continue }
                    params["method.request.\(kind).\(name)"] = (p["required"] as? Bool) ?? (place == "path")
                }
                if !params.isEmpty { m["requestParameters"] = params }
                var responses: [String: Any] = [:]
                for (code, value) in op["responses"] as? [String: Any] ?? [:] where Int(code) != nil {
                    var resp: [String: Any] = ["statusCode": code]
                    if let headers = (value as? [String: Any])?["headers"] as? [String: Any], !headers.isEmpty {
                        resp["responseParameters"] = Dictionary(uniqueKeysWithValues: headers.keys.map { ("method.response.header.\($0)", false) })
                    }
                    responses[code] = resp
                }
                if !responses.isEmpty { m["methodResponses"] = responses }
                if let ext = op["x-amazon-apigateway-integration"] as? [String: Any] {
                    m["methodIntegration"] = try integration(from: ext, resourceID: resourceID)
                }
                var res = doc.resources[resourceID] ?? [:]
                var methods = res["resourceMethods"] as? [String: Any] ?? [:]
                methods[verb] = m
                res["resourceMethods"] = methods
                doc.resources[resourceID] = res
            }
        }
    }

    /// The resource of a path, created with its missing ancestors.
    static func ensureResource(_ path: String, in doc: inout APIDocument) throws -> String {
        var current = doc.rootResourceID
        var currentPath = "/"
        for part in path.split(separator: "/").map(String.init) {
            guard RestAPIs.validPathPart(part) else { throw RestErrors.badRequest("Invalid OpenAPI input: resource path part \(part)") }
            let childPath = APIDocument.childPath(currentPath, part)
            if let existing = doc.resources.values.first(where: { $0["parentId"] as? String == current && $0["pathPart"] as? String == part }),
               let id = existing["id"] as? String {
                current = id
            } else {
                let id = RestIDs.make(10)
                doc.resources[id] = ["id": id, "parentId": current, "pathPart": part, "path": childPath]
                current = id
            }
            currentPath = childPath
        }
        return current
    }

    /// `x-amazon-apigateway-integration` as a stored integration (its `responses` keyed by selection pattern).
    static func integration(from ext: [String: Any], resourceID: String) throws -> [String: Any] {
        var input: [String: Any] = [:]
        input["type"] = (ext["type"] as? String ?? "").uppercased()
        for key in ["httpMethod", "uri", "passthroughBehavior", "requestTemplates", "requestParameters", "timeoutInMillis", "contentHandling",
                    "credentials", "connectionType", "connectionId", "cacheNamespace", "cacheKeyParameters"] where ext[key] != nil {
            input[key] = ext[key]
        }
        if let verb = input["httpMethod"] as? String { input["httpMethod"] = verb.uppercased() }
        var i = try newIntegration(input, resourceID: resourceID)
        var responses: [String: Any] = [:]
        for (pattern, value) in ext["responses"] as? [String: Any] ?? [:] {
            guard let v = value as? [String: Any] else { continue }
            let code = RestProxy.scalar(v["statusCode"] ?? "200")
            var resp: [String: Any] = ["statusCode": code]
            if pattern != "default" { resp["selectionPattern"] = pattern }
            for key in ["responseTemplates", "responseParameters", "contentHandling"] where v[key] != nil { resp[key] = v[key] }
            responses[code] = resp
        }
        if !responses.isEmpty { i["integrationResponses"] = responses }
        return i
    }
}
