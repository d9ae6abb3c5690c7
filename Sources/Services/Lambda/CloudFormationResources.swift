import Core
import Foundation
import HTTPTypes
import ZIPFoundation

/// `AWS::Lambda::Function`, `Permission`, `Version`, `Alias`, `EventSourceMapping` and `Url` for CloudFormation,
/// over the operations the API serves (CreateFunction, AddPermission, PublishVersion...), called in-process with
/// internal requests as the stack's account and region.
public struct LambdaResources: ResourceProvider {
    let service: LambdaService

    public var resourceTypes: [String] {
        ["AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::Lambda::Version", "AWS::Lambda::Alias",
         "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Url"] + Self.layerAndAsyncTypes
    }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case "AWS::Lambda::Function": return ["FunctionName", "PackageType"]
        case "AWS::Lambda::Permission":
            return ["Action", "EventSourceToken", "FunctionName", "FunctionUrlAuthType", "Principal", "PrincipalOrgID", "SourceAccount", "SourceArn"]
        case "AWS::Lambda::Version": return ["CodeSha256", "Description", "FunctionName"]
        case "AWS::Lambda::Alias": return ["FunctionName", "Name"]
        case "AWS::Lambda::EventSourceMapping": return ["EventSourceArn", "StartingPosition", "StartingPositionTimestamp", "SelfManagedEventSource"]
        case "AWS::Lambda::Url": return ["TargetFunctionArn", "Qualifier"]
        default: return layerAndAsyncCreateOnly(type)
        }
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        switch request.type {
        case "AWS::Lambda::Function": return try await createFunction(request)
        case "AWS::Lambda::Permission": return try await addPermission(request)
        case "AWS::Lambda::Version": return try await publishVersion(request)
        case "AWS::Lambda::Alias": return try await putAlias(request, create: true)
        case "AWS::Lambda::EventSourceMapping": return try await createMapping(request)
        case "AWS::Lambda::Url": return try await putURL(request, create: true)
        case "AWS::Lambda::LayerVersion": return try await publishLayerVersion(request)
        case "AWS::Lambda::LayerVersionPermission": return try await addLayerVersionPermission(request)
        case "AWS::Lambda::EventInvokeConfig": return try await putEventInvokeConfig(request)
        default: throw Self.unsupported(request.type)
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        switch request.type {
        case "AWS::Lambda::Function": return try await updateFunction(request, previous: previous)
        case "AWS::Lambda::Permission", "AWS::Lambda::Version", "AWS::Lambda::LayerVersion", "AWS::Lambda::LayerVersionPermission":
            return previous  // every property is create-only
        case "AWS::Lambda::EventInvokeConfig": return try await putEventInvokeConfig(request)
        case "AWS::Lambda::Alias": return try await putAlias(request, create: false)
        case "AWS::Lambda::EventSourceMapping": return try await updateMapping(request, previous: previous)
        case "AWS::Lambda::Url": return try await putURL(request, create: false)
        default: throw Self.unsupported(request.type)
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        do {
            switch request.type {
            case "AWS::Lambda::Function":
                _ = try await call(request, .delete, "/2015-03-31/functions/\(enc(state.physicalId))")
            case "AWS::Lambda::Permission":
                let function = state.attributes["FunctionName"]?.string ?? request.properties["FunctionName"]?.string ?? ""
                _ = try await call(request, .delete, "/2015-03-31/functions/\(enc(function))/policy/\(enc(state.physicalId))")
            case "AWS::Lambda::Version":
                let function = state.attributes["FunctionArn"]?.string ?? ""
                let version = state.attributes["Version"]?.string ?? ""
                _ = try await call(request, .delete, "/2015-03-31/functions/\(enc(function))", query: [("Qualifier", version)])
            case "AWS::Lambda::Alias":
                let function = state.attributes["FunctionName"]?.string ?? ""
                let name = state.attributes["Name"]?.string ?? ""
                _ = try await call(request, .delete, "/2015-03-31/functions/\(enc(function))/aliases/\(enc(name))")
            case "AWS::Lambda::EventSourceMapping":
                _ = try await call(request, .delete, "/2015-03-31/event-source-mappings/\(enc(state.physicalId))")
            case "AWS::Lambda::Url":
                var query: [(String, String)] = []
                if let q = state.attributes["Qualifier"]?.string { query.append(("Qualifier", q)) }
                let function = state.attributes["FunctionArn"]?.string ?? state.physicalId
                _ = try await call(request, .delete, "/2021-10-31/functions/\(enc(Self.unqualified(function)))/url", query: query)
            case "AWS::Lambda::LayerVersion": try await deleteLayerVersion(request, arn: state.physicalId)
            case "AWS::Lambda::LayerVersionPermission": try await removeLayerVersionPermission(request, id: state.physicalId)
            case "AWS::Lambda::EventInvokeConfig": try await deleteEventInvokeConfig(request, state: state)
            default: throw Self.unsupported(request.type)
            }
        } catch let e as AWSError where e.code == "ResourceNotFoundException" {}
    }

    // MARK: Function

    func createFunction(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        let name = p["FunctionName"]?.string ?? request.generatedName(limit: 64)
        var body = try configuration(p)
        body["FunctionName"] = .string(name)
        body["Code"] = .object(try code(p))
        if let t = p["PackageType"] { body["PackageType"] = t }
        if let a = p["Architectures"] { body["Architectures"] = a }
        if let c = p["CodeSigningConfigArn"], !c.isNull { body["CodeSigningConfigArn"] = c }
        body["Tags"] = .object(Self.tags(request).mapValues { .string($0) })
        _ = try await call(request, .post, "/2015-03-31/functions", body)
        do {
            if let n = p["ReservedConcurrentExecutions"], !n.isNull {
                _ = try await call(request, .put, "/2017-10-31/functions/\(enc(name))/concurrency", ["ReservedConcurrentExecutions": n])
            }
        } catch {
            _ = try? await call(request, .delete, "/2015-03-31/functions/\(enc(name))")
            throw error
        }
        return try await functionState(request, name)
    }

    func updateFunction(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let p = request.properties
        let name = previous.physicalId
        let path = "/2015-03-31/functions/\(enc(name))"
        var config = try configuration(p)
        config.removeValue(forKey: "Role")
        // Properties the template no longer gives go back to their defaults.
        config["Description"] = config["Description"] ?? .string("")
        config["Timeout"] = config["Timeout"] ?? .number(3)
        config["MemorySize"] = config["MemorySize"] ?? .number(128)
        config["Environment"] = config["Environment"] ?? .object(["Variables": .object([:])])
        config["Layers"] = config["Layers"] ?? .array([])
        config["DeadLetterConfig"] = config["DeadLetterConfig"] ?? .object(["TargetArn": .string("")])
        if let role = p["Role"] { config["Role"] = role }
        _ = try await call(request, .put, path + "/configuration", config)
        if previous.attributes["CodeDigest"]?.string != Self.digest(p["Code"]) {
            _ = try await call(request, .put, path + "/code", .object(try code(p)))
        }
        // CodeSigningConfigArn changes without replacement, through the function's code signing config.
        if let c = p["CodeSigningConfigArn"], !c.isNull {
            _ = try await call(request, .put, "/2020-06-30/functions/\(enc(name))/code-signing-config", ["CodeSigningConfigArn": c])
        } else if request.previousProperties?["CodeSigningConfigArn"] != nil {
            _ = try await call(request, .delete, "/2020-06-30/functions/\(enc(name))/code-signing-config")
        }
        if let n = p["ReservedConcurrentExecutions"], !n.isNull {
            _ = try await call(request, .put, "/2017-10-31/functions/\(enc(name))/concurrency", ["ReservedConcurrentExecutions": n])
        } else {
            _ = try await call(request, .delete, "/2017-10-31/functions/\(enc(name))/concurrency")
        }
        let arn = previous.attributes["Arn"]?.string ?? LambdaService.functionARN(account: request.account, region: request.region, name: name)
        let wanted = Self.tags(request)
        let existing = try await call(request, .get, "/2017-03-31/tags/\(enc(arn))")["Tags"]?.object ?? [:]
        let removed = existing.keys.filter { wanted[$0] == nil }
        if !removed.isEmpty {
            _ = try await call(request, .delete, "/2017-03-31/tags/\(enc(arn))", query: removed.map { ("tagKeys", $0) })
        }
        if !wanted.isEmpty { _ = try await call(request, .post, "/2017-03-31/tags/\(enc(arn))", ["Tags": .object(wanted.mapValues { .string($0) })]) }
        return try await functionState(request, name)
    }

    func functionState(_ request: ResourceRequest, _ name: String) async throws -> ResourceState {
        let out = try await call(request, .get, "/2015-03-31/functions/\(enc(name))/configuration")
        let arn = out["FunctionArn"]?.string ?? LambdaService.functionARN(account: request.account, region: request.region, name: name)
        var attributes: [String: JSON] = ["Arn": .string(arn), "CodeDigest": .string(Self.digest(request.properties["Code"]))]
        if let s = out["SnapStart"]?["ApplyOn"] { attributes["SnapStartResponse.ApplyOn"] = s }
        return ResourceState(physicalId: name, ref: name, attributes: attributes)
    }

    /// The properties UpdateFunctionConfiguration and CreateFunction share.
    func configuration(_ p: [String: JSON]) throws -> [String: JSON] {
        var out: [String: JSON] = [:]
        for key in ["Role", "Handler", "Runtime", "Description", "Timeout", "MemorySize", "Layers", "DeadLetterConfig",
                    "EphemeralStorage", "TracingConfig", "ImageConfig", "VpcConfig", "FileSystemConfigs", "SnapStart",
                    "LoggingConfig"] {
            if let v = p[key], !v.isNull { out[key] = v }
        }
        // CloudFormation spells it KmsKeyArn; the API, KMSKeyArn.
        if let v = p["KmsKeyArn"], !v.isNull { out["KMSKeyArn"] = v }
        for key in ["Timeout", "MemorySize"] {
            if let s = out[key]?.string { out[key] = Double(s).map { .number($0) } ?? out[key] }
        }
        if let env = p["Environment"]?["Variables"]?.object {
            out["Environment"] = .object(["Variables": .object(env.mapValues { .string(Self.text($0)) })])
        }
        return out
    }

    /// The Code property as CreateFunction takes it: inline source zipped as `index.<ext>`, or an S3 object, or an image.
    func code(_ p: [String: JSON]) throws -> [String: JSON] {
        guard let code = p["Code"]?.object else { throw LambdaError.invalid("Code is required.") }
        if let source = code["ZipFile"]?.string {
            let runtime = p["Runtime"]?.string ?? ""
            let file = runtime.hasPrefix("nodejs") ? "index.js" : runtime.hasPrefix("python") ? "index.py" : "index"
            // AWS places its cfn-response module beside inline code; Cloudless places its own (CFNResponseModule.swift).
            let files = [(path: file, source: source)] + CFNResponseModule.files(runtime: runtime)
            return ["ZipFile": .string(try Self.zip(files).base64EncodedString())]
        }
        var out: [String: JSON] = [:]
        for key in ["S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri"] { if let v = code[key] { out[key] = v } }
        return out
    }

    static func zip(file: String, _ source: String) throws -> Data { try zip([(path: file, source: source)]) }

    /// A zip holding the given files (paths relative to its root).
    static func zip(_ files: [(path: String, source: String)]) throws -> Data {
        let dir = NSTemporaryDirectory() + "cloudless-cfn-zip-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for f in files {
            let url = URL(fileURLWithPath: "\(dir)/src/\(f.path)")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(f.source.utf8).write(to: url)
        }
        let zip = URL(fileURLWithPath: dir + "/code.zip")
        try FileManager.default.zipItem(at: URL(fileURLWithPath: dir + "/src"), to: zip, shouldKeepParent: false)
        return try Data(contentsOf: zip)
    }

    /// What identifies the Code property, to tell whether it changed.
    static func digest(_ code: JSON?) -> String {
        guard let code, let data = try? JSONEncoder.sorted.encode(code) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    static func tags(_ request: ResourceRequest) -> [String: String] {
        var out = request.tags
        for tag in request.properties["Tags"]?.array ?? [] {
            if let key = tag["Key"]?.string, let value = tag["Value"] { out[key] = text(value) }
        }
        return out
    }

    // MARK: Permission

    func addPermission(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        guard let function = p["FunctionName"]?.string else { throw LambdaError.invalid("FunctionName is required.") }
        let sid = request.generatedName(limit: 100)
        var body: [String: JSON] = ["StatementId": .string(sid)]
        for key in ["Action", "Principal", "SourceArn", "SourceAccount", "EventSourceToken", "FunctionUrlAuthType", "PrincipalOrgID"] {
            if let v = p[key], !v.isNull { body[key] = v }
        }
        _ = try await call(request, .post, "/2015-03-31/functions/\(enc(function))/policy", .object(body))
        return ResourceState(physicalId: sid, ref: sid, attributes: ["Id": .string(sid), "FunctionName": .string(function)])
    }

    // MARK: Version and Alias

    func publishVersion(_ request: ResourceRequest) async throws -> ResourceState {
        guard let function = request.properties["FunctionName"]?.string else { throw LambdaError.invalid("FunctionName is required.") }
        var body: [String: JSON] = [:]
        for key in ["Description", "CodeSha256"] { if let v = request.properties[key] { body[key] = v } }
        let out = try await call(request, .post, "/2015-03-31/functions/\(enc(function))/versions", .object(body))
        let arn = out["FunctionArn"]?.string ?? ""
        let version = out["Version"]?.string ?? ""
        let functionArn = Self.unqualified(arn)
        return ResourceState(physicalId: arn, ref: arn, attributes: [
            "Version": .string(version), "FunctionArn": .string(functionArn),
        ])
    }

    func putAlias(_ request: ResourceRequest, create: Bool) async throws -> ResourceState {
        let p = request.properties
        guard let function = p["FunctionName"]?.string, let name = p["Name"]?.string else {
            throw LambdaError.invalid("FunctionName and Name are required.")
        }
        var body: [String: JSON] = ["Name": .string(name), "Description": p["Description"] ?? .string("")]
        if let v = p["FunctionVersion"] { body["FunctionVersion"] = .string(Self.text(v)) }
        body["RoutingConfig"] = p["RoutingConfig"].map(Self.routing) ?? .object(["AdditionalVersionWeights": .object([:])])
        let path = "/2015-03-31/functions/\(enc(function))/aliases"
        let out = create ? try await call(request, .post, path, .object(body))
            : try await call(request, .put, path + "/\(enc(name))", .object(body))
        let arn = out["AliasArn"]?.string ?? ""
        return ResourceState(physicalId: arn, ref: arn, attributes: [
            "AliasArn": .string(arn), "FunctionName": .string(function), "Name": .string(name),
        ])
    }

    /// RoutingConfig.AdditionalVersionWeights as CloudFormation writes it ([{FunctionVersion, FunctionWeight}]) → the API's map.
    static func routing(_ v: JSON) -> JSON {
        var weights: [String: JSON] = [:]
        for w in v["AdditionalVersionWeights"]?.array ?? [] {
            if let version = w["FunctionVersion"], let weight = w["FunctionWeight"] {
                weights[text(version)] = weight.string.flatMap(Double.init).map { .number($0) } ?? weight
            }
        }
        return .object(["AdditionalVersionWeights": .object(weights)])
    }

    // MARK: EventSourceMapping

    static let mappingKeys = ["FunctionName", "BatchSize", "Enabled", "MaximumBatchingWindowInSeconds", "FilterCriteria",
                              "FunctionResponseTypes", "ScalingConfig", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
                              "BisectBatchOnFunctionError", "ParallelizationFactor", "DestinationConfig", "TumblingWindowInSeconds"]

    func createMapping(_ request: ResourceRequest) async throws -> ResourceState {
        var body: [String: JSON] = [:]
        for key in Self.mappingKeys + ["EventSourceArn", "StartingPosition", "StartingPositionTimestamp"] {
            if let v = request.properties[key], !v.isNull { body[key] = v }
        }
        let out = try await call(request, .post, "/2015-03-31/event-source-mappings", .object(body))
        let uuid = out["UUID"]?.string ?? ""
        return ResourceState(physicalId: uuid, ref: uuid, attributes: ["Id": .string(uuid), "EventSourceMappingArn": out["EventSourceMappingArn"] ?? .string("")])
    }

    func updateMapping(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        var body: [String: JSON] = ["Enabled": .bool(true)]
        for key in Self.mappingKeys { if let v = request.properties[key], !v.isNull { body[key] = v } }
        _ = try await call(request, .put, "/2015-03-31/event-source-mappings/\(enc(previous.physicalId))", .object(body))
        return previous
    }

    // MARK: Url

    func putURL(_ request: ResourceRequest, create: Bool) async throws -> ResourceState {
        let p = request.properties
        guard let target = p["TargetFunctionArn"]?.string else { throw LambdaError.invalid("TargetFunctionArn is required.") }
        var body: [String: JSON] = ["AuthType": p["AuthType"] ?? .string("NONE")]
        body["Cors"] = p["Cors"] ?? .object([:])
        if let m = p["InvokeMode"] { body["InvokeMode"] = m }
        var query: [(String, String)] = []
        if let q = p["Qualifier"]?.string { query.append(("Qualifier", q)) }
        let path = "/2021-10-31/functions/\(enc(Self.unqualified(target)))/url"
        let out = create ? try await call(request, .post, path, .object(body), query: query)
            : try await call(request, .put, path, .object(body), query: query)
        let functionArn = out["FunctionArn"]?.string ?? target
        var attributes: [String: JSON] = ["FunctionUrl": out["FunctionUrl"] ?? .string(""), "FunctionArn": .string(functionArn)]
        if let q = p["Qualifier"] { attributes["Qualifier"] = q }
        return ResourceState(physicalId: functionArn, ref: functionArn, attributes: attributes)
    }

    // MARK: Support

    func call(_ request: ResourceRequest, _ method: HTTPRequest.Method, _ path: String, _ body: JSON? = nil,
              query: [(String, String)] = []) async throws -> [String: JSON] {
        let r = InternalCall.request(account: request.account, region: request.region, method: method, path: path, query: query, body: body)
        return try await InternalCall.json(try await service.handle(r))
    }

    func call(_ request: ResourceRequest, _ method: HTTPRequest.Method, _ path: String, _ body: [String: JSON]) async throws -> [String: JSON] {
        try await call(request, method, path, .object(body))
    }

    func enc(_ s: String) -> String { InternalCall.percent(s) }

    /// A function ARN without its version or alias.
    static func unqualified(_ arn: String) -> String {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 8 && parts[0] == "arn" ? parts.prefix(7).joined(separator: ":") : arn
    }

    static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 9e15 ? String(Int64(n)) : String(n)
        case .null: return ""
        default: return (try? JSONEncoder.sorted.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by Lambda.")
    }
}

extension JSONEncoder {
    fileprivate static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}

extension LambdaService {
    /// The CloudFormation provider.
    public var resourceProvider: LambdaResources { LambdaResources(service: self) }
}
