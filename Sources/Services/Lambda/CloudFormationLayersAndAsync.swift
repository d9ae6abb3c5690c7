import Core
import Foundation
import HTTPTypes

/// `AWS::Lambda::LayerVersion`, `AWS::Lambda::LayerVersionPermission` and `AWS::Lambda::EventInvokeConfig` for
/// CloudFormation, over PublishLayerVersion, AddLayerVersionPermission and PutFunctionEventInvokeConfig.
///
/// Every property of a layer version is create-only: a change publishes a new version and the old one is deleted in
/// the cleanup phase, unless the template keeps it with `UpdateReplacePolicy: Retain` (what AWS documents; SAM's
/// `AWS::Serverless::LayerVersion` retains by default, the plain type does not).
extension LambdaResources {
    static let layerAndAsyncTypes = ["AWS::Lambda::LayerVersion", "AWS::Lambda::LayerVersionPermission", "AWS::Lambda::EventInvokeConfig"]

    func layerAndAsyncCreateOnly(_ type: String) -> Set<String> {
        switch type {
        case "AWS::Lambda::LayerVersion":
            return ["CompatibleArchitectures", "CompatibleRuntimes", "Content", "Description", "LayerName", "LicenseInfo"]
        case "AWS::Lambda::LayerVersionPermission": return ["Action", "LayerVersionArn", "OrganizationId", "Principal"]
        case "AWS::Lambda::EventInvokeConfig": return ["FunctionName", "Qualifier"]
        default: return []
        }
    }

    // MARK: LayerVersion

    func publishLayerVersion(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        guard let content = p["Content"]?.object else { throw LambdaError.invalid("Content is required.") }
        if content["ZipFile"] != nil {
            throw LambdaError.invalid("Content of AWS::Lambda::LayerVersion takes S3Bucket and S3Key, not ZipFile.")
        }
        var c: [String: JSON] = [:]
        for key in ["S3Bucket", "S3Key", "S3ObjectVersion"] { if let v = content[key], !v.isNull { c[key] = v } }
        var body: [String: JSON] = ["Content": .object(c)]
        for key in ["CompatibleRuntimes", "CompatibleArchitectures", "Description", "LicenseInfo"] {
            if let v = p[key], !v.isNull { body[key] = v }
        }
        // Without LayerName, the stack's and logical id's: a replacement publishes the next version of the same layer.
        let name = p["LayerName"]?.string ?? String("\(request.stackName)-\(request.logicalId)".prefix(140))
        let out = try await call(request, .post, "/2018-10-31/layers/\(enc(name))/versions", .object(body))
        guard let arn = out["LayerVersionArn"]?.string else { throw AWSError.internalError() }
        return ResourceState(physicalId: arn, ref: arn, attributes: ["LayerVersionArn": .string(arn)])
    }

    func deleteLayerVersion(_ request: ResourceRequest, arn: String) async throws {
        guard let layer = Self.layerVersion(arn) else { return }
        _ = try await call(request, .delete, "/2018-10-31/layers/\(enc(layer.name))/versions/\(layer.version)")
    }

    /// (layer name, version) of `arn:aws:lambda:<region>:<account>:layer:<name>:<version>`.
    static func layerVersion(_ arn: String) -> (name: String, version: Int)? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 8, parts[5] == "layer", let v = Int(parts[7]) else { return nil }
        return (String(parts[6]), v)
    }

    // MARK: LayerVersionPermission

    /// Its physical id and `Ref` are `<layer version ARN>#<statement id>`.
    func addLayerVersionPermission(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        guard let arn = p["LayerVersionArn"]?.string, let layer = Self.layerVersion(arn) else {
            throw LambdaError.invalid("LayerVersionArn must be the ARN of a layer version.")
        }
        let sid = request.generatedName(limit: 100)
        var body: [String: JSON] = ["StatementId": .string(sid)]
        for key in ["Action", "Principal", "OrganizationId"] { if let v = p[key], !v.isNull { body[key] = v } }
        _ = try await call(request, .post, "/2018-10-31/layers/\(enc(layer.name))/versions/\(layer.version)/policy", .object(body))
        let id = "\(arn)#\(sid)"
        return ResourceState(physicalId: id, ref: id, attributes: ["Id": .string(id)])
    }

    func removeLayerVersionPermission(_ request: ResourceRequest, id: String) async throws {
        let parts = id.split(separator: "#", maxSplits: 1).map(String.init)
        guard parts.count == 2, let layer = Self.layerVersion(parts[0]) else { return }
        _ = try await call(request, .delete, "/2018-10-31/layers/\(enc(layer.name))/versions/\(layer.version)/policy/\(enc(parts[1]))")
    }

    // MARK: EventInvokeConfig

    /// PutFunctionEventInvokeConfig replaces the whole configuration, so create and update are the same call. The
    /// physical id is `<function name>|<qualifier>`, the resource's primary identifier.
    func putEventInvokeConfig(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        guard let function = p["FunctionName"]?.string, let qualifier = p["Qualifier"].map(Self.text), !qualifier.isEmpty else {
            throw LambdaError.invalid("FunctionName and Qualifier are required.")
        }
        var body: [String: JSON] = [:]
        for key in ["MaximumRetryAttempts", "MaximumEventAgeInSeconds"] {
            if let v = p[key], !v.isNull { body[key] = v.string.flatMap(Double.init).map { .number($0) } ?? v }
        }
        if let d = p["DestinationConfig"]?.object {
            var config: [String: JSON] = [:]
            for key in ["OnSuccess", "OnFailure"] {
                if let dest = d[key]?["Destination"]?.string { config[key] = .object(["Destination": .string(dest)]) }
            }
            body["DestinationConfig"] = .object(config)
        }
        _ = try await call(request, .put, "/2019-09-25/functions/\(enc(function))/event-invoke-config", .object(body),
                           query: [("Qualifier", qualifier)])
        let id = "\(function)|\(qualifier)"
        return ResourceState(physicalId: id, ref: id, attributes: ["FunctionName": .string(function), "Qualifier": .string(qualifier)])
    }

    func deleteEventInvokeConfig(_ request: ResourceRequest, state: ResourceState) async throws {
        let function = state.attributes["FunctionName"]?.string ?? request.properties["FunctionName"]?.string ?? ""
        let qualifier = state.attributes["Qualifier"]?.string ?? request.properties["Qualifier"].map(Self.text) ?? "$LATEST"
        _ = try await call(request, .delete, "/2019-09-25/functions/\(enc(function))/event-invoke-config", query: [("Qualifier", qualifier)])
    }
}
