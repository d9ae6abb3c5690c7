import Core
import Foundation

/// A function's `Api`, `HttpApi` and `DynamoDB` events. Api and HttpApi events add a route to an API (the implicit
/// `ServerlessRestApi` / `ServerlessHttpApi` or the explicit one named by RestApiId / ApiId) and a permission for API
/// Gateway to invoke the function; the APIs themselves are built once every function is expanded (SAMApi.swift,
/// SAMHttpApi.swift).
extension SAMTransform {
    static let implicitRestApi = "ServerlessRestApi"
    static let implicitHttpApi = "ServerlessHttpApi"
    static let anyMethod = "x-amazon-apigateway-any-method"

    /// One route an event adds to an API's definition body.
    struct ApiRoute {
        var api: String       // the API's logical id
        var event: String     // "<Function>.<Event>", for error texts
        var path: String
        var method: String    // lowercased, or x-amazon-apigateway-any-method
        var function: String  // the integration's target in Fn::Sub: `Fn.Arn`, or the alias's logical id
        var auth: JSON?
        var requestParameters: JSON?
        var payloadFormatVersion: JSON?
    }

    static func eventFail(_ id: String, _ name: String, _ detail: String) -> AWSError {
        fail("Resource with id [\(id)] is invalid. Event with id [\(name)] is invalid. \(detail)")
    }

    /// The API an event names by `RestApiId` / `ApiId`: a Ref to an API of the given type in this template.
    static func explicitApi(_ id: String, _ name: String, _ ref: JSON?, type: String, property: String,
                            resources: [String: JSON]) throws -> String? {
        guard let ref else { return nil }
        guard let target = ref["Ref"]?.string ?? ref.string, resources[target]?["Type"]?.string == type else {
            throw eventFail(id, name, "\(property) must be a valid reference to an '\(type)' resource in same template.")
        }
        return target
    }

    /// `GET` → `get`, `ANY` → the any-method extension; anything else API Gateway doesn't serve is refused.
    static func swaggerMethod(_ id: String, _ name: String, _ method: JSON?) throws -> String {
        guard let m = method?.string?.lowercased() else { throw eventFail(id, name, "Missing required property 'Method'.") }
        if m == "any" || m == anyMethod { return anyMethod }
        guard ["get", "put", "post", "delete", "options", "head", "patch"].contains(m) else {
            throw eventFail(id, name, "Invalid value for 'Method': \(method?.string ?? "").")
        }
        return m
    }

    /// The execute-api ARN part of a permission: `{proxy+}` and `{id}` become `*`, a trailing slash is dropped.
    static func permissionPath(_ path: String) -> String {
        var p = path
        if p.count > 1, p.hasSuffix("/") { p.removeLast() }
        return p.replacingOccurrences(of: #"\{[^}]*\}"#, with: "*", options: .regularExpression)
    }

    static func apiPermission(function: JSON, arnPrefix: String, api: String, method: String, path: String) -> [String: JSON] {
        let m = method == anyMethod ? "*" : method.uppercased()
        return [
            "Action": .string("lambda:InvokeFunction"), "FunctionName": function, "Principal": .string("apigateway.amazonaws.com"),
            "SourceArn": .object(["Fn::Sub": .array([
                .string("\(arnPrefix):execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/\(m)\(path)"),
                .object(["__ApiId__": .object(["Ref": .string(api)]), "__Stage__": .string("*")]),
            ])]),
        ]
    }

    /// An `Api` event: its route on the REST API and the permission `<Function><Event>Permission<Stage>`.
    static func restApiEvent(_ id: String, _ name: String, _ ep: [String: JSON], target: JSON, targetId: String,
                             resources: [String: JSON], apiGlobals: [String: JSON]) throws -> (route: ApiRoute, permission: (String, [String: JSON])?) {
        let allowed: Set<String> = ["RestApiId", "Path", "Method", "Auth", "RequestParameters", "RequestModel"]
        if let bad = ep.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw unsupported("Property \(bad) of Api event \(name) (resource \(id))")
        }
        guard let path = ep["Path"]?.string else { throw eventFail(id, name, "Missing required property 'Path'.") }
        guard path.hasPrefix("/") else { throw eventFail(id, name, "Path must start with '/'.") }
        let method = try swaggerMethod(id, name, ep["Method"])
        let api = try explicitApi(id, name, ep["RestApiId"], type: "AWS::Serverless::Api", property: "RestApiId",
                                  resources: resources) ?? implicitRestApi
        // The permission is named after the API's stage: Prod for the implicit API, else the explicit API's StageName.
        var stage = "Prod"
        if api != implicitRestApi {
            let s = resources[api]?["Properties"]?["StageName"] ?? apiGlobals["StageName"]
            guard let name = s?.string else {
                throw eventFail(id, name, "RestApiId must reference an Api whose StageName is a string.")
            }
            stage = name
        }
        if let params = ep["RequestParameters"] {
            guard let list = params.array, list.allSatisfy({ p in
                (p.string ?? p.object?.keys.first).map { $0.hasPrefix("method.request.header.") || $0.hasPrefix("method.request.querystring.") || $0.hasPrefix("method.request.path.") } ?? false
            }) else {
                throw eventFail(id, name, "Invalid value for 'RequestParameters' property. Keys must be in the format 'method.request.[querystring|path|header].{value}', e.g 'method.request.header.Authorization'.")
            }
        }
        let route = ApiRoute(api: api, event: "\(id).\(name)", path: path, method: method, function: targetId,
                             auth: ep["Auth"], requestParameters: ep["RequestParameters"], payloadFormatVersion: nil)
        let permission = apiPermission(function: target, arnPrefix: "arn:aws", api: api, method: method, path: permissionPath(path))
        return (route, ("\(id)\(name)Permission\(stage)", permission))
    }

    /// The HTTP APIs on which a function has the `$default` route: its permission covers the function's other routes.
    static func defaultRouteApis(_ events: [String: JSON]) -> Set<String> {
        Set(events.values.compactMap { e in
            let p = e["Properties"]
            guard e["Type"]?.string == "HttpApi", p?["Path"] == nil, p?["Method"] == nil else { return nil }
            return p?["ApiId"]?["Ref"]?.string ?? p?["ApiId"]?.string ?? implicitHttpApi
        })
    }

    /// An `HttpApi` event: its route (`$default` when it has no Path and Method) and the permission
    /// `<Function><Event>Permission`, unless the function's `$default` route on that API has one already.
    static func httpApiEvent(_ id: String, _ name: String, _ ep: [String: JSON], target: JSON, targetId: String,
                             resources: [String: JSON], defaultRouteApis: Set<String>) throws -> (route: ApiRoute, permission: (String, [String: JSON])?) {
        let allowed: Set<String> = ["ApiId", "Path", "Method", "Auth", "PayloadFormatVersion", "TimeoutInMillis", "RouteSettings"]
        if let bad = ep.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw unsupported("Property \(bad) of HttpApi event \(name) (resource \(id))")
        }
        let api = try explicitApi(id, name, ep["ApiId"], type: "AWS::Serverless::HttpApi", property: "ApiId",
                                  resources: resources) ?? implicitHttpApi
        let path: String
        let method: String
        switch (ep["Path"], ep["Method"]) {
        case (nil, nil):
            (path, method) = ("$default", anyMethod)
        case (let p?, let m?):
            guard let s = p.string, s.hasPrefix("/") || s == "$default" else { throw eventFail(id, name, "Path must start with '/'.") }
            (path, method) = (s, try swaggerMethod(id, name, m))
        default:
            throw eventFail(id, name, "Event source must have both Path and Method, or neither (the $default route).")
        }
        if let v = ep["PayloadFormatVersion"], v.string != "1.0" && v.string != "2.0" {
            throw eventFail(id, name, "PayloadFormatVersion must be '1.0' or '2.0'.")
        }
        let route = ApiRoute(api: api, event: "\(id).\(name)", path: path, method: method, function: targetId,
                             auth: ep["Auth"], requestParameters: nil, payloadFormatVersion: ep["PayloadFormatVersion"] ?? .string("2.0"))
        if path != "$default" && defaultRouteApis.contains(api) { return (route, nil) }
        let permPath = path == "$default" ? "" : permissionPath(path)
        let permission = apiPermission(function: target, arnPrefix: "arn:${AWS::Partition}", api: api, method: method, path: permPath)
        return (route, ("\(id)\(name)Permission", permission))
    }

    /// A `DynamoDB` event: an event source mapping from the table's stream.
    static func dynamoDBEvent(_ id: String, _ name: String, _ ep: [String: JSON], target: JSON) throws -> [String: JSON] {
        let allowed: Set<String> = ["Stream", "StartingPosition", "StartingPositionTimestamp", "BatchSize", "Enabled",
                                    "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts", "BisectBatchOnFunctionError",
                                    "MaximumRecordAgeInSeconds", "DestinationConfig", "ParallelizationFactor",
                                    "TumblingWindowInSeconds", "FunctionResponseTypes", "FilterCriteria"]
        if let bad = ep.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw unsupported("Property \(bad) of DynamoDB event \(name) (resource \(id))")
        }
        guard let stream = ep["Stream"] else { throw eventFail(id, name, "Missing required property 'Stream'.") }
        guard ep["StartingPosition"] != nil else { throw eventFail(id, name, "Missing required property 'StartingPosition'.") }
        var m: [String: JSON] = ["FunctionName": target, "EventSourceArn": stream]
        for key in allowed where key != "Stream" { if let v = ep[key] { m[key] = v } }
        return m
    }
}
