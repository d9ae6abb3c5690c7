import Core
import Foundation

/// Drift reading: what Lambda holds now for a stack's function or event invoke configuration, in the template's
/// property names. `Code` cannot be read back as the template wrote it (inline source is zipped, S3 objects are
/// copied): it comes back as given, as CloudFormation does not check it.
extension LambdaResources {
    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        do {
            switch request.type {
            case "AWS::Lambda::Function": return .properties(try await currentFunction(request, state))
            case "AWS::Lambda::EventInvokeConfig": return .properties(try await currentEventInvokeConfig(request, state))
            default: return .notChecked
            }
        } catch let e as AWSError where e.code == "ResourceNotFoundException" { return .deleted }
    }

    func currentFunction(_ request: ResourceRequest, _ state: ResourceState) async throws -> [String: JSON] {
        let p = request.properties
        let name = state.physicalId
        let c = try await call(request, .get, "/2015-03-31/functions/\(enc(name))/configuration")
        var out: [String: JSON] = ["FunctionName": .string(name)]
        for key in ["Handler", "Runtime", "Role", "Timeout", "MemorySize", "PackageType", "Architectures"] {
            if let v = c[key], !v.isNull { out[key] = v }
        }
        if let k = c["KMSKeyArn"], !k.isNull { out["KmsKeyArn"] = k }
        if let mode = c["SnapStart"]?["ApplyOn"], mode.string != "None" || p["SnapStart"] != nil {
            out["SnapStart"] = .object(["ApplyOn": mode])
        }
        if let logging = c["LoggingConfig"]?.object, p["LoggingConfig"] != nil { out["LoggingConfig"] = .object(logging) }
        if let d = c["Description"]?.string, !d.isEmpty { out["Description"] = .string(d) }
        if let vars = c["Environment"]?["Variables"]?.object, !vars.isEmpty { out["Environment"] = .object(["Variables": .object(vars)]) }
        if let layers = c["Layers"]?.array, !layers.isEmpty { out["Layers"] = .array(layers.compactMap { $0["Arn"] }) }
        if let target = c["DeadLetterConfig"]?["TargetArn"]?.string, !target.isEmpty {
            out["DeadLetterConfig"] = .object(["TargetArn": .string(target)])
        }
        if let mode = c["TracingConfig"]?["Mode"] { out["TracingConfig"] = .object(["Mode": mode]) }
        if let size = c["EphemeralStorage"]?["Size"] { out["EphemeralStorage"] = .object(["Size": size]) }
        if let image = c["ImageConfigResponse"]?["ImageConfig"] { out["ImageConfig"] = image }
        let concurrency = try await call(request, .get, "/2019-09-30/functions/\(enc(name))/concurrency")
        if let n = concurrency["ReservedConcurrentExecutions"], !n.isNull { out["ReservedConcurrentExecutions"] = n }
        let arn = c["FunctionArn"]?.string ?? ""
        let tags = try await call(request, .get, "/2017-03-31/tags/\(enc(arn))")["Tags"]?.object ?? [:]
        // The stack's tags (applied to every resource) are not the template's unless it repeats them.
        let given = (p["Tags"]?.array ?? []).compactMap { $0["Key"]?.string }
        let own = tags.filter { given.contains($0.key) || (request.tags[$0.key] == nil && !$0.key.lowercased().hasPrefix("aws:")) }
            .sorted { (given.firstIndex(of: $0.key) ?? Int.max, $0.key) < (given.firstIndex(of: $1.key) ?? Int.max, $1.key) }
        if !own.isEmpty { out["Tags"] = .array(own.map { .object(["Key": .string($0.key), "Value": $0.value]) }) }
        if let code = p["Code"] { out["Code"] = code }
        return out
    }

    func currentEventInvokeConfig(_ request: ResourceRequest, _ state: ResourceState) async throws -> [String: JSON] {
        let function = state.attributes["FunctionName"]?.string ?? ""
        let qualifier = state.attributes["Qualifier"]?.string ?? "$LATEST"
        let c = try await call(request, .get, "/2019-09-25/functions/\(enc(function))/event-invoke-config", query: [("Qualifier", qualifier)])
        var out: [String: JSON] = ["FunctionName": .string(function), "Qualifier": .string(qualifier)]
        for key in ["MaximumRetryAttempts", "MaximumEventAgeInSeconds"] { if let v = c[key], !v.isNull { out[key] = v } }
        var destinations: [String: JSON] = [:]
        for key in ["OnSuccess", "OnFailure"] {
            if let d = c["DestinationConfig"]?[key]?["Destination"]?.string { destinations[key] = .object(["Destination": .string(d)]) }
        }
        if !destinations.isEmpty { out["DestinationConfig"] = .object(destinations) }
        return out
    }
}
