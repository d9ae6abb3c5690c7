import Core
import Foundation
import GRDB
import Yams

/// ImportApi and ReimportApi from an OpenAPI 3 definition (JSON or YAML): each path and method is a route (the
/// `x-amazon-apigateway-any-method` is ANY, the `$default` path the `$default` route), its
/// `x-amazon-apigateway-integration` an integration; `x-amazon-apigateway-cors` the CORS configuration.
extension HTTPAPIs {
    static let methods = ["get", "post", "put", "delete", "patch", "head", "options", "x-amazon-apigateway-any-method"]

    /// The definition's document from the body (`{"body": "<definition>"}`, as the SDKs send it).
    static func definition(_ c: Call) throws -> [String: Any] {
        guard let wrapper = try? JSONSerialization.jsonObject(with: Data(c.body)) as? [String: Any], let text = wrapper["body"] as? String else {
            throw badRequest("Invalid input: body is required")
        }
        if let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] { return json }
        guard let yaml = try? Yams.load(yaml: text), let doc = normalized(yaml) as? [String: Any] else {
            throw badRequest("Unable to parse the OpenAPI definition: it is neither JSON nor YAML")
        }
        return doc
    }

    /// YAML mappings with string keys, as JSON's.
    static func normalized(_ value: Any) -> Any {
        if let d = value as? [AnyHashable: Any] {
            var out: [String: Any] = [:]
            for (k, v) in d { out["\(k.base)"] = normalized(v) }
            return out
        }
        if let d = value as? [String: Any] { return d.mapValues(normalized) }
        if let a = value as? [Any] { return a.map(normalized) }
        return value
    }

    func importApi(_ c: Call) throws -> AWSResponse {
        let doc = try Self.definition(c)
        guard (doc["openapi"] as? String)?.hasPrefix("3.") == true else {
            throw Self.badRequest("Unsupported OpenAPI version: HTTP APIs import OpenAPI 3.0 definitions")
        }
        let info = doc["info"] as? [String: Any] ?? [:]
        guard let title = info["title"] as? String, !title.isEmpty else { throw Self.badRequest("Invalid OpenAPI definition: info.title is required") }
        let now = clock.now()
        var api: [String: Any] = ["name": title, "protocolType": "HTTP", "apiKeySelectionExpression": "$request.header.x-api-key",
                                  "routeSelectionExpression": "$request.method $request.path", "disableExecuteApiEndpoint": false,
                                  "createdDate": AWSDate.iso8601(now), "tags": [String: String](), "_account": c.account, "_region": c.region,
                                  "ipAddressType": "ipv4"]
        if let v = info["version"] { api["version"] = "\(v)" }
        if let d = info["description"] as? String { api["description"] = d }
        let id = try writing { db -> String in
            var id = Self.randomID(10)
            while try HTTPStore.exists(id, db) { id = Self.randomID(10) }
            api["apiId"] = id
            try HTTPStore.put(id, "api", id, api, db)
            try applyDefinition(id, doc, db)
            return id
        }
        return RestJSON.response(try apiOutput(id, c.request), status: .created)
    }

    func reimportApi(_ c: Call) throws -> AWSResponse {
        let doc = try Self.definition(c)
        try writing { db in
            var api = try existingAPI(c, db)
            if let title = (doc["info"] as? [String: Any])?["title"] as? String { api["name"] = title }
            try HTTPStore.put(c.apiID, "api", c.apiID, api, db)
            for kind in ["route", "integration"] {
                for r in try HTTPStore.all(c.apiID, kind, db) {
                    if let id = r[kind == "route" ? "routeId" : "integrationId"] as? String { try HTTPStore.delete(c.apiID, kind, id, db) }
                }
            }
            try applyDefinition(c.apiID, doc, db)
            try autoDeploy(c.apiID, now: clock.now(), db)
        }
        return RestJSON.response(try apiOutput(c.apiID, c.request), status: .created)
    }

    /// Routes and integrations from `paths`, CORS from `x-amazon-apigateway-cors`.
    func applyDefinition(_ apiID: String, _ doc: [String: Any], _ db: Database) throws {
        if let cors = doc["x-amazon-apigateway-cors"] as? [String: Any], var api = try HTTPStore.get(apiID, "api", apiID, db) {
            api["corsConfiguration"] = cors
            try HTTPStore.put(apiID, "api", apiID, api, db)
        }
        for (path, value) in (doc["paths"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let operations = value as? [String: Any] else { continue }
            for (method, op) in operations.sorted(by: { $0.key < $1.key }) where Self.methods.contains(method.lowercased()) {
                let routeKey = path == "$default" ? "$default"
                    : "\(method == "x-amazon-apigateway-any-method" ? "ANY" : method.uppercased()) \(path)"
                try Self.validateRouteKey(routeKey)
                var route: [String: Any] = ["routeKey": routeKey, "authorizationType": "NONE", "apiKeyRequired": false]
                route["routeId"] = Self.randomID(7)
                if let i = (op as? [String: Any])?["x-amazon-apigateway-integration"] as? [String: Any] {
                    var integration: [String: Any] = [
                        "integrationType": (i["type"] as? String ?? "aws_proxy").uppercased(),
                        "integrationUri": i["uri"] as? String ?? "", "timeoutInMillis": i["timeoutInMillis"] as? Int ?? 30000,
                    ]
                    if let m = i["httpMethod"] as? String { integration["integrationMethod"] = m }
                    if let v = i["payloadFormatVersion"] { integration["payloadFormatVersion"] = "\(v)" }
                    integration = try validated(.integration, integration, creating: true, apiID: apiID, db)
                    let integrationID = Self.randomID(7)
                    integration["integrationId"] = integrationID
                    try HTTPStore.put(apiID, "integration", integrationID, integration, db)
                    route["target"] = "integrations/\(integrationID)"
                }
                try HTTPStore.put(apiID, "route", route["routeId"] as! String, route, db)
            }
        }
    }
}
