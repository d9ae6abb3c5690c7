import Core
import Foundation

/// CodeDeploy's traffic shifting on an alias: the same change UpdateAlias makes (FunctionVersion and RoutingConfig,
/// a new RevisionId), driven by a deployment's steps instead of a request.
extension LambdaService: FunctionAliasTraffic {
    /// `arn:aws:lambda:<region>:<account>:function:<name>:<alias>` → (account, region, name, alias).
    static func aliasParts(_ arn: String) throws -> (String, String, String, String) {
        let p = arn.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard p.count == 8, p[0] == "arn", p[2] == "lambda", p[5] == "function", !p[7].isEmpty else {
            throw LambdaError.notFound(arn)
        }
        return (p[4], p[3], p[6], p[7])
    }

    public func aliasRouting(aliasARN: String) async throws -> AliasRouting {
        let (account, region, name, alias) = try Self.aliasParts(aliasARN)
        guard let f = try store.function(account: account, region: region, name: name) else { throw LambdaError.notFound(aliasARN) }
        guard let a = f.aliases.first(where: { $0.Name == alias }) else { throw Self.aliasNotFound(f.arn, alias) }
        let extra = a.AdditionalVersionWeights?.first
        return AliasRouting(version: a.FunctionVersion, additionalVersion: extra?.key, additionalWeight: extra?.value ?? 0)
    }

    public func setAliasRouting(aliasARN: String, _ routing: AliasRouting) async throws {
        let (account, region, name, alias) = try Self.aliasParts(aliasARN)
        try store.db.writeNow { db in
            guard var f = try FunctionStore.function(account: account, region: region, name: name, db) else {
                throw LambdaError.notFound(aliasARN)
            }
            guard let i = f.aliases.firstIndex(where: { $0.Name == alias }) else { throw Self.aliasNotFound(f.arn, alias) }
            for v in [routing.version] + (routing.additionalVersion.map { [$0] } ?? []) where v != "$LATEST" {
                guard f.versions.contains(where: { $0.Version == v }) else { throw LambdaError.notFound(f.arn + ":\(v)") }
            }
            f.aliases[i].FunctionVersion = routing.version
            if let extra = routing.additionalVersion, extra != routing.version, routing.additionalWeight > 0 {
                f.aliases[i].AdditionalVersionWeights = [extra: min(1, routing.additionalWeight)]
            } else {
                f.aliases[i].AdditionalVersionWeights = nil
            }
            f.aliases[i].RevisionId = Self.revision()
            try FunctionStore.save(f, db)
        }
    }

    public func versionExists(functionARN: String, version: String) async -> Bool {
        let p = functionARN.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard p.count >= 7, p[0] == "arn", p[2] == "lambda",
              let f = try? store.function(account: p[4], region: p[3], name: p[6]) else { return false }
        return version == "$LATEST" || f.versions.contains { $0.Version == version }
    }
}
