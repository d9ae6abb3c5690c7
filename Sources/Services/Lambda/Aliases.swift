import Core
import Foundation
import GRDB

/// Aliases: a name for a version, optionally splitting traffic with a second version by weight.
extension LambdaService {
    static func aliasJSON(_ a: FunctionAlias, functionARN: String) -> [String: Any] {
        var out: [String: Any] = ["AliasArn": "\(functionARN):\(a.Name)", "Name": a.Name, "FunctionVersion": a.FunctionVersion,
                                  "Description": a.Description, "RevisionId": a.RevisionId]
        if let w = a.AdditionalVersionWeights { out["RoutingConfig"] = ["AdditionalVersionWeights": w] }
        return out
    }

    /// RoutingConfig.AdditionalVersionWeights: at most one other published version, weight 0–1; empty means none.
    static func weights(_ input: [String: Any], target: String, functionARN: String, versions: [FunctionConfig]) throws -> [String: Double]? {
        guard let routing = input["RoutingConfig"] as? [String: Any] else { return nil }
        guard let raw = routing["AdditionalVersionWeights"] as? [String: Any], !raw.isEmpty else { return nil }
        if raw.count > 1 { throw LambdaError.invalid("Number of items in AdditionalVersionWeights cannot be greater than 1") }
        var out: [String: Double] = [:]
        for (version, w) in raw {
            let weight = (w as? NSNumber)?.doubleValue ?? -1
            guard (0...1).contains(weight) else {
                throw AWSError("ValidationException", "1 validation error detected: Value '{\(version)=\(weight)}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]")
            }
            if target == "$LATEST" { throw LambdaError.invalid("$LATEST is not supported for an alias pointing to more than 1 version") }
            if version == target {
                throw LambdaError.invalid("Invalid function version \(version). Function version \(version) is already included in routing configuration.")
            }
            guard versions.contains(where: { $0.Version == version }) else { throw LambdaError.notFound("\(functionARN):\(version)") }
            out[version] = weight
        }
        return out
    }

    static func aliasNotFound(_ functionARN: String, _ name: String) -> AWSError {
        AWSError("ResourceNotFoundException", "Alias not found: \(functionARN):\(name)", status: .notFound).with("Type", "User")
    }

    func createAlias(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        guard let name = input["Name"] as? String, let version = input["FunctionVersion"] as? String else {
            throw LambdaError.invalid("Name and FunctionVersion are required.")
        }
        let (f, _) = try function(r)
        var alias = FunctionAlias(Name: name, FunctionVersion: version, Description: input["Description"] as? String ?? "",
                                  AdditionalVersionWeights: nil, RevisionId: Self.revision())
        try changeFunction(arn: f.arn, r) { f in
            guard version == "$LATEST" || f.versions.contains(where: { $0.Version == version }) else {
                throw LambdaError.notFound(f.arn + ":\(version)")
            }
            if f.aliases.contains(where: { $0.Name == name }) { throw LambdaError.conflict("Alias already exists: \(f.arn):\(name)") }
            alias.AdditionalVersionWeights = try Self.weights(input, target: version, functionARN: f.arn, versions: f.versions)
            f.aliases.append(alias)
        }
        return RestJSON.response(Self.aliasJSON(alias, functionARN: f.arn), status: .created)
    }

    func getAlias(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, _) = try function(r)
        let name = r.labels["Name"] ?? ""
        guard let a = f.aliases.first(where: { $0.Name == name }) else {
            // GetAlias words it differently from UpdateAlias.
            throw AWSError("ResourceNotFoundException", "Cannot find alias arn: \(f.arn):\(name)", status: .notFound).with("Type", "User")
        }
        return RestJSON.response(Self.aliasJSON(a, functionARN: f.arn))
    }

    func listAliases(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, _) = try function(r)
        let version = r.request.queryValue("FunctionVersion")
        let aliases = f.aliases.filter { version == nil || $0.FunctionVersion == version }
        return RestJSON.response(["Aliases": aliases.map { Self.aliasJSON($0, functionARN: f.arn) }])
    }

    func updateAlias(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let (f, _) = try function(r)
        let name = r.labels["Name"] ?? ""
        var result: FunctionAlias?
        try changeFunction(arn: f.arn, r) { f in
            guard let i = f.aliases.firstIndex(where: { $0.Name == name }) else { throw Self.aliasNotFound(f.arn, name) }
            if let v = input["FunctionVersion"] as? String {
                guard v == "$LATEST" || f.versions.contains(where: { $0.Version == v }) else { throw LambdaError.notFound(f.arn + ":\(v)") }
                f.aliases[i].FunctionVersion = v
            }
            if let d = input["Description"] as? String { f.aliases[i].Description = d }
            if input["RoutingConfig"] != nil {
                f.aliases[i].AdditionalVersionWeights = try Self.weights(input, target: f.aliases[i].FunctionVersion, functionARN: f.arn,
                                                                         versions: f.versions)
            }
            f.aliases[i].RevisionId = Self.revision()
            result = f.aliases[i]
        }
        return RestJSON.response(Self.aliasJSON(result!, functionARN: f.arn))
    }

    func deleteAlias(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, _) = try function(r)
        let name = r.labels["Name"] ?? ""
        // The alias's event invoke config, resource policy and function URL go with it.
        try changeFunction(arn: f.arn, r) { f in
            f.aliases.removeAll { $0.Name == name }
            f.eventInvokeConfigs?.removeValue(forKey: name)
            f.policies?[name] = nil
        }
        try store.db.writeNow { db in try FunctionURLConfig.delete(account: f.account, region: f.region, name: f.name, qualifier: name, db) }
        return RestJSON.response(nil, status: .noContent)
    }
}
