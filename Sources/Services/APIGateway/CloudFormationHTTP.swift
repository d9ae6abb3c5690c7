import Core
import Foundation

/// `AWS::ApiGatewayV2::*` for CloudFormation (and so for the SAM transform's `ServerlessHttpApi` and its `$default`
/// auto-deploy stage), over the HTTP family's own operations run in-process. Children (Stage, Route, Integration,
/// Deployment, Authorizer) take their properties in the API's camelCase under `/v2/apis/<ApiId>/<kind>s`.
public struct APIGatewayHTTPResources: ResourceProvider {
    let calls: APIGatewayCalls

    public init(service: APIGatewayService) { calls = APIGatewayCalls(service: service) }

    static let prefix = "AWS::ApiGatewayV2::"

    public var resourceTypes: [String] { ["Api", "Stage", "Route", "Integration", "Deployment", "Authorizer"].map { Self.prefix + $0 } }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type.dropFirst(Self.prefix.count) {
        case "Api": return ["ProtocolType"]
        case "Stage": return ["ApiId", "StageName"]
        case "Integration": return ["ApiId", "IntegrationType"]
        default: return ["ApiId"]
        }
    }

    /// Properties that are not the child's members (its place, or what only creation reads).
    static let notMembers: Set<String> = ["ApiId"]

    static func childPath(_ kind: String) -> String {
        switch kind {
        case "Stage": "stages"
        case "Route": "routes"
        case "Integration": "integrations"
        case "Deployment": "deployments"
        default: "authorizers"
        }
    }

    /// The id member each kind answers with (a stage is named).
    static func idMember(_ kind: String) -> String {
        switch kind {
        case "Stage": "stageName"
        case "Route": "routeId"
        case "Integration": "integrationId"
        case "Deployment": "deploymentId"
        default: "authorizerId"
        }
    }

    func apiPath(_ p: [String: JSON]) -> String { "/v2/apis/" + APIGatewayCalls.seg(p["ApiId"]?.string ?? "") }

    /// A child's input: every property but its place, camelCased (tags as a map).
    static func childInput(_ p: [String: JSON], dropping: Set<String> = []) -> [String: JSON] {
        var input: [String: JSON] = [:]
        for (k, v) in p where !notMembers.contains(k) && !dropping.contains(k) && !v.isNull {
            input[APIGatewayCalls.lowerFirst(k)] = k == "Tags" ? .object(APIGatewayCalls.tagMap(v)) : APIGatewayCalls.userMaps.contains(k) ? v : APIGatewayCalls.camel(v)
        }
        return input
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        let kind = String(request.type.dropFirst(Self.prefix.count))
        if kind == "Api" { return try await createApi(request) }
        let out = try await calls.call(request, .post, apiPath(p) + "/" + Self.childPath(kind), body: .object(Self.childInput(p)))
        let id = out[Self.idMember(kind)]?.string ?? ""
        var attributes: [String: JSON] = [:]
        if kind != "Stage" { attributes[kind + "Id"] = .string(id) }
        return ResourceState(physicalId: id, attributes: attributes)
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let p = request.properties
        let old = request.previousProperties ?? [:]
        let kind = String(request.type.dropFirst(Self.prefix.count))
        let id = APIGatewayCalls.seg(previous.physicalId)
        if kind == "Api" {
            try APIGatewayCalls.refuseS3Location(p)
            if let body = p["Body"], body != old["Body"] {
                _ = try await calls.call(request, .put, "/v2/apis/\(id)", body: try APIGatewayCalls.importInput(body))
            }
            var input = Self.childInput(p, dropping: ["Body", "BodyS3Location", "BasePath", "FailOnWarnings", "Tags", "Target", "RouteKey",
                                                      "CredentialsArn", "ProtocolType"])
            if p["Body"] != nil, p["Name"] == nil { input["name"] = nil }
            if !input.isEmpty { _ = try await calls.call(request, .patch, "/v2/apis/\(id)", body: .object(input)) }
            return try await apiState(request, id: previous.physicalId)
        }
        let input = Self.childInput(p, dropping: ["StageName", "Tags"])
        if !input.isEmpty {
            _ = try await calls.call(request, .patch, apiPath(p) + "/" + Self.childPath(kind) + "/\(id)", body: .object(input))
        }
        return previous
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        let kind = String(request.type.dropFirst(Self.prefix.count))
        let id = APIGatewayCalls.seg(state.physicalId)
        if kind == "Api" { return try await calls.delete(request, "/v2/apis/\(id)") }
        try await calls.delete(request, apiPath(request.properties) + "/" + Self.childPath(kind) + "/\(id)")
    }

    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        guard request.type == Self.prefix + "Api" else { return .notChecked }
        do {
            let api = try await calls.call(request, .get, "/v2/apis/" + APIGatewayCalls.seg(state.physicalId))
            var out: [String: JSON] = [:]
            if request.properties["Name"] != nil, let v = api["name"] { out["Name"] = v }
            if request.properties["ProtocolType"] != nil, let v = api["protocolType"] { out["ProtocolType"] = v }
            return .properties(out)
        } catch let e as AWSError where e.code == "NotFoundException" {
            return .deleted
        }
    }

    func createApi(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        try APIGatewayCalls.refuseS3Location(p)
        let id: String
        if let body = p["Body"] {
            var query: [(String, String)] = []
            if p["FailOnWarnings"]?.bool == true { query.append(("failOnWarnings", "true")) }
            let out = try await calls.call(request, .put, "/v2/apis", query: query, body: try APIGatewayCalls.importInput(body))
            id = out["apiId"]?.string ?? ""
            // What is given beside the Body (a Name over the title, a description, CORS, tags) is applied after the import.
            let input = Self.childInput(p, dropping: ["Body", "BasePath", "FailOnWarnings", "Tags", "ProtocolType"])
            if !input.isEmpty { _ = try await calls.call(request, .patch, "/v2/apis/" + APIGatewayCalls.seg(id), body: .object(input)) }
            let tags = APIGatewayCalls.tagMap(p["Tags"])
            if !tags.isEmpty {
                let arn = "arn:aws:apigateway:\(request.region)::/apis/\(id)"
                _ = try await calls.call(request, .post, "/v2/tags/" + APIGatewayCalls.seg(arn), body: .object(["tags": .object(tags)]))
            }
        } else {
            let out = try await calls.call(request, .post, "/v2/apis", body: .object(Self.childInput(p, dropping: ["FailOnWarnings", "BasePath"])))
            id = out["apiId"]?.string ?? ""
        }
        return try await apiState(request, id: id)
    }

    func apiState(_ request: ResourceRequest, id: String) async throws -> ResourceState {
        let api = try await calls.call(request, .get, "/v2/apis/" + APIGatewayCalls.seg(id))
        return ResourceState(physicalId: id, attributes: ["ApiId": .string(id), "ApiEndpoint": api["apiEndpoint"] ?? .string("")])
    }
}
