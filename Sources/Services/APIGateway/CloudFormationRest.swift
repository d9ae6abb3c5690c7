import Core
import Foundation

/// `AWS::ApiGateway::*` for CloudFormation (and so for the SAM transform's `ServerlessRestApi`, its deployment and
/// its stage), over the REST family's own operations run in-process. `Ref` is the id AWS answers for each type.
public struct APIGatewayRestResources: ResourceProvider {
    let calls: APIGatewayCalls

    public init(service: APIGatewayService) { calls = APIGatewayCalls(service: service) }

    static let prefix = "AWS::ApiGateway::"
    static let types = ["RestApi", "Deployment", "Stage", "Resource", "Method", "Authorizer", "ApiKey", "UsagePlan", "UsagePlanKey", "Model"]

    public var resourceTypes: [String] { Self.types.map { Self.prefix + $0 } }

    /// CloudFormation's "Replacement: Yes" properties.
    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type.dropFirst(Self.prefix.count) {
        case "RestApi": return []
        case "Deployment": return ["RestApiId", "DeploymentCanarySettings"]
        case "Stage": return ["RestApiId", "StageName"]
        case "Resource": return ["RestApiId", "ParentId", "PathPart"]
        case "Method": return ["RestApiId", "ResourceId", "HttpMethod"]
        case "Authorizer": return ["RestApiId"]
        case "ApiKey": return ["Name", "Value", "GenerateDistinctId"]
        case "UsagePlan": return ["ApiStages", "Quota", "Throttle"]
        case "UsagePlanKey": return ["KeyId", "KeyType", "UsagePlanId"]
        default: return ["RestApiId", "Name", "ContentType", "Schema", "Description"]
        }
    }

    func apiPath(_ p: [String: JSON]) -> String { "/restapis/" + APIGatewayCalls.seg(p["RestApiId"]?.string ?? "") }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        switch request.type.dropFirst(Self.prefix.count) {
        case "RestApi": return try await createRestApi(request)
        case "Deployment":
            var input = APIGatewayCalls.members(p, ["StageName", "Description"])
            if let d = p["StageDescription"]?.object {
                if let v = d["Description"] { input["stageDescription"] = v }
                if let v = d["Variables"] { input["variables"] = v }
            }
            let out = try await calls.call(request, .post, apiPath(p) + "/deployments", body: .object(input))
            let id = out["id"]?.string ?? ""
            return ResourceState(physicalId: id, attributes: ["DeploymentId": .string(id)])
        case "Stage":
            var input = APIGatewayCalls.members(p, ["StageName", "DeploymentId", "Description", "Variables", "TracingEnabled",
                                                    "CacheClusterEnabled", "CacheClusterSize", "DocumentationVersion"])
            let tags = APIGatewayCalls.tagMap(p["Tags"])
            if !tags.isEmpty { input["tags"] = .object(tags) }
            let out = try await calls.call(request, .post, apiPath(p) + "/stages", body: .object(input))
            return ResourceState(physicalId: out["stageName"]?.string ?? p["StageName"]?.string ?? "")
        case "Resource":
            let out = try await calls.call(request, .post, apiPath(p) + "/resources/" + APIGatewayCalls.seg(p["ParentId"]?.string ?? ""),
                                           body: .object(APIGatewayCalls.members(p, ["PathPart"])))
            let id = out["id"]?.string ?? ""
            return ResourceState(physicalId: id, attributes: ["ResourceId": .string(id)])
        case "Method":
            try await putMethod(request)
            return ResourceState(physicalId: methodID(p))
        case "Authorizer":
            let input = APIGatewayCalls.members(p, ["Name", "Type", "AuthorizerUri", "AuthorizerCredentials", "IdentitySource",
                                                    "IdentityValidationExpression", "AuthorizerResultTtlInSeconds", "ProviderARNs", "AuthType"])
            let out = try await calls.call(request, .post, apiPath(p) + "/authorizers", body: .object(input))
            let id = out["id"]?.string ?? ""
            return ResourceState(physicalId: id, attributes: ["AuthorizerId": .string(id)])
        case "ApiKey":
            var input = APIGatewayCalls.members(p, ["Description", "Enabled", "Value", "GenerateDistinctId", "CustomerId", "StageKeys"])
            input["name"] = p["Name"] ?? .string(request.generatedName(limit: 128))
            let tags = APIGatewayCalls.tagMap(p["Tags"])
            if !tags.isEmpty { input["tags"] = .object(tags) }
            let out = try await calls.call(request, .post, "/apikeys", body: .object(input))
            let id = out["id"]?.string ?? ""
            return ResourceState(physicalId: id, attributes: ["APIKeyId": .string(id)])
        case "UsagePlan":
            var input = APIGatewayCalls.members(p, ["Description", "ApiStages", "Quota", "Throttle"])
            input["name"] = p["UsagePlanName"] ?? .string(request.generatedName(limit: 128))
            let tags = APIGatewayCalls.tagMap(p["Tags"])
            if !tags.isEmpty { input["tags"] = .object(tags) }
            let out = try await calls.call(request, .post, "/usageplans", body: .object(input))
            let id = out["id"]?.string ?? ""
            return ResourceState(physicalId: id, attributes: ["Id": .string(id)])
        case "UsagePlanKey":
            let plan = APIGatewayCalls.seg(p["UsagePlanId"]?.string ?? "")
            let out = try await calls.call(request, .post, "/usageplans/\(plan)/keys",
                                           body: .object(APIGatewayCalls.members(p, ["KeyId", "KeyType"])))
            let id = out["id"]?.string ?? p["KeyId"]?.string ?? ""
            return ResourceState(physicalId: id, attributes: ["Id": .string(id)])
        default:
            throw AWSError("ValidationError", "AWS::ApiGateway::Model is not supported by Cloudless: API Gateway here keeps no models")
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let p = request.properties
        let old = request.previousProperties ?? [:]
        let id = APIGatewayCalls.seg(previous.physicalId)
        func changed(_ keys: [String], _ path: (String) -> String = { "/" + APIGatewayCalls.lowerFirst($0) }) -> JSON {
            var ops: [String: String?] = [:]
            for k in keys where p[k] != old[k] { ops[path(k)] = APIGatewayCalls.text(p[k]) }
            return APIGatewayCalls.patch(ops)
        }
        switch request.type.dropFirst(Self.prefix.count) {
        case "RestApi":
            try APIGatewayCalls.refuseS3Location(p)
            if let body = p["Body"], body != old["Body"] {
                _ = try await calls.call(request, .put, "/restapis/\(id)", query: [("mode", "overwrite")], body: try APIGatewayCalls.definition(body))
            }
            let ops = changed(["Name", "Description", "MinimumCompressionSize", "ApiKeySourceType"]) { k in
                k == "ApiKeySourceType" ? "/apiKeySource" : "/" + APIGatewayCalls.lowerFirst(k)
            }
            if ops.array?.isEmpty == false { _ = try await calls.call(request, .patch, "/restapis/\(id)", body: .object(["patchOperations": ops])) }
            return try await restApiState(request, id: previous.physicalId)
        case "Deployment":
            let ops = changed(["Description"])
            if ops.array?.isEmpty == false {
                _ = try await calls.call(request, .patch, apiPath(p) + "/deployments/\(id)", body: .object(["patchOperations": ops]))
            }
            return previous
        case "Stage":
            var ops: [String: String?] = [:]
            for k in ["DeploymentId", "Description", "TracingEnabled", "CacheClusterEnabled", "CacheClusterSize"] where p[k] != old[k] {
                ops["/" + APIGatewayCalls.lowerFirst(k)] = APIGatewayCalls.text(p[k])
            }
            let vars = p["Variables"]?.object ?? [:], oldVars = old["Variables"]?.object ?? [:]
            for (k, v) in vars where oldVars[k] != v { ops["/variables/" + k.replacingOccurrences(of: "/", with: "~1")] = APIGatewayCalls.text(v) }
            for k in oldVars.keys where vars[k] == nil { ops["/variables/" + k.replacingOccurrences(of: "/", with: "~1")] = String?.none }
            if !ops.isEmpty {
                _ = try await calls.call(request, .patch, apiPath(p) + "/stages/\(id)", body: .object(["patchOperations": APIGatewayCalls.patch(ops)]))
            }
            return previous
        case "Method":
            try await deleteMethod(request, old)
            try await putMethod(request)
            return previous
        case "Authorizer":
            let ops = changed(["Name", "Type", "AuthorizerUri", "AuthorizerCredentials", "IdentitySource", "IdentityValidationExpression",
                               "AuthorizerResultTtlInSeconds"])
            if ops.array?.isEmpty == false {
                _ = try await calls.call(request, .patch, apiPath(p) + "/authorizers/\(id)", body: .object(["patchOperations": ops]))
            }
            return previous
        case "ApiKey":
            let ops = changed(["Description", "Enabled", "CustomerId"])
            if ops.array?.isEmpty == false { _ = try await calls.call(request, .patch, "/apikeys/\(id)", body: .object(["patchOperations": ops])) }
            return previous
        case "UsagePlan":
            let ops = changed(["Description", "UsagePlanName"]) { $0 == "UsagePlanName" ? "/name" : "/description" }
            if ops.array?.isEmpty == false { _ = try await calls.call(request, .patch, "/usageplans/\(id)", body: .object(["patchOperations": ops])) }
            return previous
        default:
            return previous  // every other property replaces the resource
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        let p = request.properties
        let id = APIGatewayCalls.seg(state.physicalId)
        switch request.type.dropFirst(Self.prefix.count) {
        case "RestApi": try await calls.delete(request, "/restapis/\(id)")
        case "Deployment":
            // The stage the deployment made (StageName) goes with it, as in AWS, when it still serves this deployment.
            if let stage = p["StageName"]?.string, !stage.isEmpty {
                let path = apiPath(p) + "/stages/" + APIGatewayCalls.seg(stage)
                if let s = try? await calls.call(request, .get, path), s["deploymentId"]?.string == state.physicalId {
                    try await calls.delete(request, path)
                }
            }
            do {
                try await calls.delete(request, apiPath(p) + "/deployments/\(id)")
            } catch let e as AWSError where e.code == "BadRequestException" && e.message.hasPrefix("Active stages") {
                // A stage the stack does not hold (or names it without a Ref) still serves it: the deployment goes
                // with its API.
                return
            }
        case "Stage": try await calls.delete(request, apiPath(p) + "/stages/\(id)")
        case "Resource": try await calls.delete(request, apiPath(p) + "/resources/\(id)")
        case "Method": try await deleteMethod(request, p)
        case "Authorizer": try await calls.delete(request, apiPath(p) + "/authorizers/\(id)")
        case "ApiKey": try await calls.delete(request, "/apikeys/\(id)")
        case "UsagePlan": try await calls.delete(request, "/usageplans/\(id)")
        case "UsagePlanKey":
            try await calls.delete(request, "/usageplans/" + APIGatewayCalls.seg(p["UsagePlanId"]?.string ?? "") + "/keys/\(id)")
        default: return
        }
    }

    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        guard request.type == Self.prefix + "RestApi" else { return .notChecked }
        do {
            let api = try await calls.call(request, .get, "/restapis/" + APIGatewayCalls.seg(state.physicalId))
            var out: [String: JSON] = [:]
            if request.properties["Name"] != nil, let v = api["name"] { out["Name"] = v }
            if request.properties["Description"] != nil, let v = api["description"] { out["Description"] = v }
            return .properties(out)
        } catch let e as AWSError where e.code == "NotFoundException" {
            return .deleted
        }
    }

    // MARK: RestApi

    func createRestApi(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        try APIGatewayCalls.refuseS3Location(p)
        let endpointType = p["EndpointConfiguration"]?["Types"]?.array?.first?.string ?? p["Parameters"]?["endpointConfigurationTypes"]?.string
        let id: String
        if let body = p["Body"] {
            var query = [("mode", "import")]
            if let t = endpointType { query.append(("parameters[endpointConfigurationTypes]", t)) }
            if p["FailOnWarnings"]?.bool == true { query.append(("failonwarnings", "true")) }
            let out = try await calls.call(request, .post, "/restapis", query: query, body: try APIGatewayCalls.definition(body))
            id = out["id"]?.string ?? ""
            // Name and Description given beside a Body win over the definition's title and description.
            var ops: [String: String?] = [:]
            if let n = p["Name"]?.string { ops["/name"] = n }
            if let d = p["Description"]?.string { ops["/description"] = d }
            if !ops.isEmpty {
                _ = try await calls.call(request, .patch, "/restapis/" + APIGatewayCalls.seg(id),
                                         body: .object(["patchOperations": APIGatewayCalls.patch(ops)]))
            }
        } else {
            var input = APIGatewayCalls.members(p, ["Name", "Description", "BinaryMediaTypes", "MinimumCompressionSize",
                                                    "DisableExecuteApiEndpoint", "CloneFrom", "Policy"])
            if let t = p["ApiKeySourceType"] { input["apiKeySource"] = t }
            if let e = p["EndpointConfiguration"] { input["endpointConfiguration"] = APIGatewayCalls.camel(e) }
            let tags = APIGatewayCalls.tagMap(p["Tags"])
            if !tags.isEmpty { input["tags"] = .object(tags) }
            let out = try await calls.call(request, .post, "/restapis", body: .object(input))
            id = out["id"]?.string ?? ""
        }
        return try await restApiState(request, id: id)
    }

    func restApiState(_ request: ResourceRequest, id: String) async throws -> ResourceState {
        let api = try await calls.call(request, .get, "/restapis/" + APIGatewayCalls.seg(id))
        return ResourceState(physicalId: id, attributes: ["RestApiId": .string(id), "RootResourceId": api["rootResourceId"] ?? .string("")])
    }

    // MARK: Method

    func methodID(_ p: [String: JSON]) -> String {
        [p["RestApiId"]?.string ?? "", p["ResourceId"]?.string ?? "", p["HttpMethod"]?.string ?? ""].joined(separator: "|")
    }

    func methodPath(_ p: [String: JSON]) -> String {
        apiPath(p) + "/resources/" + APIGatewayCalls.seg(p["ResourceId"]?.string ?? "") + "/methods/"
            + APIGatewayCalls.seg(p["HttpMethod"]?.string ?? "")
    }

    /// PutMethod, its method responses, its integration and the integration's responses.
    func putMethod(_ request: ResourceRequest) async throws {
        let p = request.properties
        let path = methodPath(p)
        var method = APIGatewayCalls.members(p, ["AuthorizationType", "AuthorizerId", "ApiKeyRequired", "OperationName",
                                                 "RequestParameters", "RequestModels", "AuthorizationScopes", "RequestValidatorId"])
        if method["authorizationType"] == nil { method["authorizationType"] = .string("NONE") }
        _ = try await calls.call(request, .put, path, body: .object(method))
        for r in p["MethodResponses"]?.array ?? [] {
            let code = APIGatewayCalls.text(r["StatusCode"]) ?? ""
            _ = try await calls.call(request, .put, path + "/responses/" + APIGatewayCalls.seg(code),
                                     body: .object(APIGatewayCalls.members(r.object ?? [:], ["ResponseParameters", "ResponseModels"])))
        }
        guard let integration = p["Integration"]?.object else { return }
        var input = APIGatewayCalls.members(integration, ["Type", "Uri", "Credentials", "RequestTemplates", "RequestParameters",
                                                          "PassthroughBehavior", "ContentHandling", "TimeoutInMillis", "CacheKeyParameters",
                                                          "CacheNamespace", "ConnectionType", "ConnectionId"])
        if let m = integration["IntegrationHttpMethod"] { input["httpMethod"] = m }
        _ = try await calls.call(request, .put, path + "/integration", body: .object(input))
        for r in integration["IntegrationResponses"]?.array ?? [] {
            let code = APIGatewayCalls.text(r["StatusCode"]) ?? ""
            let body = APIGatewayCalls.members(r.object ?? [:], ["SelectionPattern", "ResponseParameters", "ResponseTemplates", "ContentHandling"])
            _ = try await calls.call(request, .put, path + "/integration/responses/" + APIGatewayCalls.seg(code), body: .object(body))
        }
    }

    func deleteMethod(_ request: ResourceRequest, _ p: [String: JSON]) async throws {
        try await calls.delete(request, methodPath(p))
    }
}
