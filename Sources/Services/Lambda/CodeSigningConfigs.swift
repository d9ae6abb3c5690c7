import Core
import Foundation
import GRDB

/// A code signing configuration: kept and attached to functions as AWS does; Cloudless does not check signatures.
struct CodeSigningConfig: Codable, Sendable {
    var CodeSigningConfigId: String
    var CodeSigningConfigArn: String
    var Description: String
    var SigningProfileVersionArns: [String]
    var UntrustedArtifactOnDeployment: String
    var LastModified: String
    var Tags: [String: String]?
    var account: String
    var region: String

    var json: [String: Any] {
        ["CodeSigningConfigId": CodeSigningConfigId, "CodeSigningConfigArn": CodeSigningConfigArn, "Description": Description,
         "AllowedPublishers": ["SigningProfileVersionArns": SigningProfileVersionArns],
         "CodeSigningPolicies": ["UntrustedArtifactOnDeployment": UntrustedArtifactOnDeployment], "LastModified": LastModified]
    }

    /// `csc-` and 17 lower-case letters and digits (the ARN pattern of botocore's model).
    static func newID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return "csc-" + String((0..<17).map { _ in alphabet.randomElement()! })
    }
}

extension LambdaService {
    static func codeSigningConfig(_ arn: String, _ db: Database) throws -> CodeSigningConfig? {
        try String.fetchOne(db, sql: "SELECT doc FROM code_signing_config WHERE arn = ?", arguments: [arn])
            .map { try JSONDecoder().decode(CodeSigningConfig.self, from: Data($0.utf8)) }
    }

    static func saveCodeSigningConfig(_ c: CodeSigningConfig, _ db: Database) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO code_signing_config (arn, account, region, doc) VALUES (?, ?, ?, ?)",
                       arguments: [c.CodeSigningConfigArn, c.account, c.region, String(decoding: try JSONEncoder().encode(c), as: UTF8.self)])
    }

    static func codeSigningConfigMissing(_ arn: String) -> AWSError {
        AWSError("ResourceNotFoundException", "The Lambda code signing configuration \(arn) can not be found.", status: .notFound)
    }

    /// The configuration `{CodeSigningConfigArn}` names, in the caller's account.
    func existingCodeSigningConfig(_ arn: String, _ r: LambdaRequest, _ db: Database) throws -> CodeSigningConfig {
        guard let c = try Self.codeSigningConfig(arn, db), c.account == r.account else { throw Self.codeSigningConfigMissing(arn) }
        return c
    }

    /// AllowedPublishers and CodeSigningPolicies of a create or update (`current`: the stored values an update keeps).
    static func signingSettings(_ input: [String: Any], current: ([String], String)?) throws -> ([String], String) {
        var (profiles, policy) = current ?? ([], "Warn")
        if let publishers = input["AllowedPublishers"] as? [String: Any] {
            profiles = publishers["SigningProfileVersionArns"] as? [String] ?? []
        } else if current == nil {
            throw LambdaError.invalid("AllowedPublishers is required.")
        }
        guard (1...20).contains(profiles.count) else {
            throw LambdaError.validation("[\(profiles.joined(separator: ", "))]", "allowedPublishers.signingProfileVersionArns",
                                         profiles.isEmpty ? "Member must have length greater than or equal to 1" : "Member must have length less than or equal to 20")
        }
        if let p = (input["CodeSigningPolicies"] as? [String: Any])?["UntrustedArtifactOnDeployment"] as? String {
            try FunctionSettings.oneOf(p, ["Warn", "Enforce"], "codeSigningPolicies.untrustedArtifactOnDeployment")
            policy = p
        }
        return (profiles, policy)
    }

    func createCodeSigningConfig(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let (profiles, policy) = try Self.signingSettings(input, current: nil)
        let id = CodeSigningConfig.newID()
        let config = CodeSigningConfig(
            CodeSigningConfigId: id, CodeSigningConfigArn: "arn:aws:lambda:\(r.region):\(r.account):code-signing-config:\(id)",
            Description: input["Description"] as? String ?? "", SigningProfileVersionArns: profiles, UntrustedArtifactOnDeployment: policy,
            LastModified: Self.lastModified(clock.now()), Tags: input["Tags"] as? [String: String], account: r.account, region: r.region)
        try store.db.writeNow { db in try Self.saveCodeSigningConfig(config, db) }
        return RestJSON.response(["CodeSigningConfig": config.json], status: .created)
    }

    func getCodeSigningConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let c = try store.db.readNow { db in try existingCodeSigningConfig(r.labels["CodeSigningConfigArn"] ?? "", r, db) }
        return RestJSON.response(["CodeSigningConfig": c.json])
    }

    func updateCodeSigningConfig(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let updated = try store.db.writeNow { db -> CodeSigningConfig in
            var c = try existingCodeSigningConfig(r.labels["CodeSigningConfigArn"] ?? "", r, db)
            (c.SigningProfileVersionArns, c.UntrustedArtifactOnDeployment) = try Self.signingSettings(
                input, current: (c.SigningProfileVersionArns, c.UntrustedArtifactOnDeployment))
            if let d = input["Description"] as? String { c.Description = d }
            c.LastModified = Self.lastModified(clock.now())
            try Self.saveCodeSigningConfig(c, db)
            return c
        }
        return RestJSON.response(["CodeSigningConfig": updated.json])
    }

    func deleteCodeSigningConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let arn = r.labels["CodeSigningConfigArn"] ?? ""
        try store.db.writeNow { db in
            _ = try existingCodeSigningConfig(arn, r, db)
            if try FunctionStore.all(account: r.account, region: r.region, db).contains(where: { $0.codeSigningConfigArn == arn }) {
                throw LambdaError.conflict("Cannot delete code signing configuration \(arn) because it is in use by one or more functions.")
            }
            try db.execute(sql: "DELETE FROM code_signing_config WHERE arn = ?", arguments: [arn])
        }
        return RestJSON.response(nil, status: .noContent)
    }

    func listCodeSigningConfigs(_ r: LambdaRequest) throws -> AWSResponse {
        let all = try store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT doc FROM code_signing_config WHERE account = ? AND region = ? ORDER BY arn",
                                arguments: [r.account, r.region])
                .map { try JSONDecoder().decode(CodeSigningConfig.self, from: Data($0.utf8)) }
        }
        let limit = try Self.ranged(r.request.queryValue("MaxItems").map { NSNumber(value: Int($0) ?? 0) }, 50, 1...10000, "maxItems")
        let start = Int(r.request.queryValue("Marker") ?? "0") ?? 0
        let page = Array(all.dropFirst(start).prefix(limit))
        var out: [String: Any] = ["CodeSigningConfigs": page.map(\.json)]
        if start + page.count < all.count { out["NextMarker"] = String(start + page.count) }
        return RestJSON.response(out)
    }

    func listFunctionsByCodeSigningConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let arn = r.labels["CodeSigningConfigArn"] ?? ""
        let arns = try store.db.readNow { db -> [String] in
            _ = try existingCodeSigningConfig(arn, r, db)
            return try FunctionStore.all(account: r.account, region: r.region, db).filter { $0.codeSigningConfigArn == arn }.map(\.arn)
        }
        return RestJSON.response(["FunctionArns": arns])
    }

    /// The CodeSigningConfigNotFoundException of PutFunctionCodeSigningConfig / CreateFunction for an unknown configuration.
    static func codeSigningConfigNotFound(_ arn: String) -> AWSError {
        AWSError("CodeSigningConfigNotFoundException",
                 "The code signing configuration cannot be found. Check that the provided configuration is not deleted: \(arn).", status: .notFound)
    }

    func putFunctionCodeSigningConfig(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        guard let arn = input["CodeSigningConfigArn"] as? String else { throw LambdaError.invalid("CodeSigningConfigArn is required.") }
        let (f, _) = try function(r)
        try store.db.writeNow { db in
            guard let c = try Self.codeSigningConfig(arn, db), c.account == f.account else { throw Self.codeSigningConfigNotFound(arn) }
            guard var current = try FunctionStore.function(account: f.account, region: f.region, name: f.name, db) else { throw LambdaError.notFound(f.arn) }
            current.codeSigningConfigArn = arn
            try FunctionStore.save(current, db)
        }
        return RestJSON.response(["CodeSigningConfigArn": arn, "FunctionName": f.name])
    }

    func getFunctionCodeSigningConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, _) = try function(r)
        guard let arn = f.codeSigningConfigArn else { return RestJSON.response([:]) }
        return RestJSON.response(["CodeSigningConfigArn": arn, "FunctionName": f.name])
    }

    func deleteFunctionCodeSigningConfig(_ r: LambdaRequest) throws -> AWSResponse {
        let (f, _) = try function(r)
        try changeFunction(arn: f.arn, r) { $0.codeSigningConfigArn = nil }
        return RestJSON.response(nil, status: .noContent)
    }
}
