import Core
import Foundation
import HTTPTypes

/// What the REST and HTTP API resource providers share: the service's own operations called in-process as the
/// stack's account and region (validation and errors are the API's), and CloudFormation's PascalCase properties
/// turned into the API's camelCase members.
struct APIGatewayCalls: Sendable {
    let service: APIGatewayService

    /// One operation with a JSON body (an OpenAPI document too, which the imports read as JSON or YAML).
    func call(_ request: ResourceRequest, _ method: HTTPRequest.Method, _ path: String, query: [(String, String)] = [],
              body: JSON? = nil) async throws -> [String: JSON] {
        let r = InternalCall.request(account: request.account, region: request.region, method: method, path: path, query: query,
                                     body: body)
        return try await InternalCall.json(try await service.handle(r))
    }

    /// A delete that tolerates what is already gone.
    func delete(_ request: ResourceRequest, _ path: String) async throws {
        do {
            _ = try await call(request, .delete, path)
        } catch let e as AWSError where e.code == "NotFoundException" {
            return
        }
    }

    /// `p` in a path.
    static func seg(_ s: String) -> String { InternalCall.percent(s) }

    /// Properties whose values are the user's own maps (stage variables, templates, parameters, tags): their keys are
    /// kept as written.
    static let userMaps: Set<String> = ["Variables", "StageVariables", "RequestTemplates", "ResponseTemplates", "RequestModels",
                                        "ResponseModels", "RequestParameters", "ResponseParameters", "Tags"]

    /// CloudFormation's `{"StageName": ..., "Quota": {"Limit": 5}}` as the API's `{"stageName": ..., "quota": {"limit": 5}}`.
    static func camel(_ value: JSON) -> JSON {
        switch value {
        case .object(let o):
            var out: [String: JSON] = [:]
            for (k, v) in o { out[lowerFirst(k)] = userMaps.contains(k) ? v : camel(v) }
            return .object(out)
        case .array(let a): return .array(a.map(camel))
        default: return value
        }
    }

    static func lowerFirst(_ k: String) -> String {
        // Acronyms at the start stay whole-lowercased as the API spells them (`ARNs` is the exception AWS keeps).
        if k == "ProviderARNs" { return "providerARNs" }
        return k.prefix(1).lowercased() + k.dropFirst()
    }

    /// Some properties of `p` in the API's spelling.
    static func members(_ p: [String: JSON], _ keys: [String]) -> [String: JSON] {
        var out: [String: JSON] = [:]
        for k in keys { if let v = p[k], !v.isNull { out[lowerFirst(k)] = userMaps.contains(k) ? v : camel(v) } }
        return out
    }

    /// CloudFormation's tag list (`[{Key, Value}]`) or map as the API's map.
    static func tagMap(_ tags: JSON?) -> [String: JSON] {
        if let o = tags?.object { return o }
        var out: [String: JSON] = [:]
        for t in tags?.array ?? [] { if let k = t["Key"]?.string { out[k] = t["Value"] ?? .string("") } }
        return out
    }

    /// An OpenAPI body given as an object or as a JSON/YAML string, as the object an import reads.
    static func definition(_ body: JSON) throws -> JSON {
        if body.object != nil { return body }
        guard let s = body.string else { throw AWSError("ValidationError", "Body must be an object or a string") }
        let parsed = try RestAPIs.parseDefinition(Array(s.utf8))
        return try JSONDecoder().decode(JSON.self, from: JSONSerialization.data(withJSONObject: parsed))
    }

    /// ImportApi's and ReimportApi's input (HTTP APIs): the definition as text under `body`.
    static func importInput(_ body: JSON) throws -> JSON {
        if let s = body.string { return .object(["body": .string(s)]) }
        guard body.object != nil else { throw AWSError("ValidationError", "Body must be an object or a string") }
        return .object(["body": .string(String(decoding: try JSONEncoder().encode(body), as: UTF8.self))])
    }

    /// BodyS3Location needs S3, which API Gateway does not reach: refused rather than deployed without its routes.
    static func refuseS3Location(_ p: [String: JSON]) throws {
        if p["BodyS3Location"] != nil, p["Body"] == nil {
            throw AWSError("ValidationError", "BodyS3Location is not supported by Cloudless: give the definition inline as Body")
        }
    }

    /// A PATCH's `patchOperations` replacing each of `members` (REST's UpdateX), a `remove` for those dropped.
    static func patch(_ members: [String: String?]) -> JSON {
        .array(members.keys.sorted().map { path in
            if let v = members[path]!, true {
                return .object(["op": .string("replace"), "path": .string(path), "value": .string(v)])
            }
            return .object(["op": .string("remove"), "path": .string(path)])
        })
    }

    /// A scalar as the text a patch operation carries.
    static func text(_ v: JSON?) -> String? {
        switch v {
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "true" : "false"
        case .number(let n)?: return n == n.rounded() ? String(Int64(n)) : String(n)
        default: return nil
        }
    }
}
