import Core
import Foundation
import GRDB

/// One published layer version (`layer_version`); its archive is kept with function code, by content.
struct LayerVersion: Codable, Sendable {
    var account: String
    var region: String
    var name: String
    var Version: Int
    var Description: String
    var CreatedDate: String
    var CompatibleRuntimes: [String]?
    var CompatibleArchitectures: [String]?
    var LicenseInfo: String?
    var CodeSha256: String
    var CodeSize: Int
    var codeHex: String
    var policy: ResourcePolicy?
    /// The policy's RevisionId (a layer version has no other).
    var policyRevisionId: String?

    var layerARN: String { "arn:aws:lambda:\(region):\(account):layer:\(name)" }
    var arn: String { "\(layerARN):\(Version)" }

    /// LayerVersionsListItem; GetLayerVersion adds Content and LayerArn (`location`: where the zip downloads).
    func json(location: String? = nil) -> [String: Any] {
        var out: [String: Any] = ["LayerVersionArn": arn, "Version": Version, "Description": Description, "CreatedDate": CreatedDate]
        if let r = CompatibleRuntimes { out["CompatibleRuntimes"] = r }
        if let a = CompatibleArchitectures { out["CompatibleArchitectures"] = a }
        if let l = LicenseInfo { out["LicenseInfo"] = l }
        if let location {
            out["LayerArn"] = layerARN
            out["Content"] = ["Location": location, "CodeSha256": CodeSha256, "CodeSize": CodeSize]
        }
        return out
    }

    func matches(runtime: String?, architecture: String?) -> Bool {
        (runtime.map { CompatibleRuntimes?.contains($0) == true } ?? true)
            && (architecture.map { CompatibleArchitectures?.contains($0) == true } ?? true)
    }

    static func find(account: String, region: String, name: String, version: Int, _ db: Database) throws -> LayerVersion? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT doc FROM layer_version WHERE account = ? AND region = ? AND name = ? AND version = ?"),
                            arguments: [account, region, name, version])
            .map { try JSONDecoder().decode(LayerVersion.self, from: Data($0.utf8)) }
    }

    /// Every version in the region, newest first within each layer, layers by name.
    static func all(account: String, region: String, name: String? = nil, _ db: Database) throws -> [LayerVersion] {
        try String.fetchAll(db, sql: "SELECT doc FROM layer_version WHERE account = ? AND region = ? AND (? IS NULL OR name = ?) ORDER BY name, version DESC",
                            arguments: [account, region, name, name])
            .map { try JSONDecoder().decode(LayerVersion.self, from: Data($0.utf8)) }
    }

    func save(_ db: Database) throws {
        let doc = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        try db.execute(sql: "INSERT OR REPLACE INTO layer_version (account, region, name, version, doc) VALUES (?, ?, ?, ?, ?)",
                       arguments: [account, region, name, Version, doc])
    }
}

/// The layers a function references, as its configuration keeps them: each archive's size and stored zip.
struct LayerContent: Codable, Sendable, Equatable {
    var CodeSize: Int
    var codeHex: String
}

/// Layers: Publish/Get/GetByArn/List/Delete layer versions, ListLayers, layer version policies, and the check of a
/// function's `Layers`.
extension LambdaService {
    static let layerARNPattern = "(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"

    /// A `{LayerName}` (name or layer ARN) as (account, region, name).
    static func layerName(_ r: LambdaRequest) throws -> (String, String, String) {
        let text = r.labels["LayerName"] ?? ""
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 7, parts[0] == "arn", parts[5] == "layer" { return (parts[4], parts[3], parts[6]) }
        guard !text.isEmpty, text.count <= 140, text.utf8.allSatisfy(isNameByte) else {
            throw LambdaError.validation(text, "layerName", "Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+")
        }
        return (r.account, r.region, text)
    }

    /// A layer version ARN as (account, region, name, version); nil when it is not one.
    static func layerVersionARN(_ arn: String) -> (String, String, String, Int)? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 8, parts[0] == "arn", parts[2] == "lambda", parts[5] == "layer", AccountID.isValid(parts[4]),
              !parts[6].isEmpty, parts[6].utf8.allSatisfy(isNameByte), let v = Int(parts[7]), parts[7].allSatisfy(\.isNumber) else { return nil }
        return (parts[4], parts[3], parts[6], v)
    }

    static func layerVersionNumber(_ r: LambdaRequest) throws -> Int {
        let v = Int(r.labels["VersionNumber"] ?? "") ?? 0
        if v < 1 { throw LambdaError.invalid("Layer Version Cannot be less than 1") }
        return v
    }

    static func layerVersionMissing(_ arn: String) -> AWSError {
        AWSError("ResourceNotFoundException", "Layer version \(arn) does not exist.", status: .notFound).with("Type", "User")
    }

    func layerLocation(_ v: LayerVersion) -> String { "\(pool.endpoint.url)/_cloudless/lambda/code/\(v.codeHex)" }

    static func checkEnum(_ values: [String], _ allowed: [String], _ field: String, _ errors: inout [String]) {
        if values.contains(where: { !allowed.contains($0) }) {
            errors.append("Value '[\(values.joined(separator: ", "))]' at '\(field)' failed to satisfy constraint: Member must satisfy enum value set: [\(allowed.joined(separator: ", "))]")
        }
    }

    static let architectures = ["x86_64", "arm64"]

    func publishLayerVersion(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let (account, region, name) = try Self.layerName(r)
        let runtimes = input["CompatibleRuntimes"] as? [String]
        let architectures = input["CompatibleArchitectures"] as? [String]
        var errors: [String] = []
        Self.checkEnum(runtimes ?? [], Runtimes.all, "compatibleRuntimes", &errors)
        Self.checkEnum(architectures ?? [], Self.architectures, "compatibleArchitectures", &errors)
        if !errors.isEmpty {
            throw AWSError("ValidationException", "\(errors.count) validation error\(errors.count > 1 ? "s" : "") detected: \(errors.joined(separator: "; "))")
        }
        guard let content = input["Content"] as? [String: Any] else { throw LambdaError.invalid("Content is required.") }
        let (sha, size, hot) = try await resolveCode(content)
        if hot != nil { throw LambdaError.invalid("A layer's content must be a .zip archive.") }
        let parts = sha.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let created = Self.lastModified(clock.now())
        let published = try store.db.writeNow { db -> LayerVersion in
            let last = try Int.fetchOne(db, sql: "SELECT last_version FROM layer WHERE account = ? AND region = ? AND name = ?",
                                        arguments: [account, region, name]) ?? 0
            try db.execute(sql: "INSERT OR REPLACE INTO layer (account, region, name, last_version) VALUES (?, ?, ?, ?)",
                           arguments: [account, region, name, last + 1])
            let v = LayerVersion(account: account, region: region, name: name, Version: last + 1, Description: input["Description"] as? String ?? "",
                                 CreatedDate: created, CompatibleRuntimes: runtimes, CompatibleArchitectures: architectures,
                                 LicenseInfo: input["LicenseInfo"] as? String, CodeSha256: parts[0], CodeSize: size, codeHex: parts[1])
            try v.save(db)
            return v
        }
        return RestJSON.response(published.json(location: layerLocation(published)), status: .created)
    }

    func layerVersion(_ r: LambdaRequest) throws -> LayerVersion? {
        let (account, region, name) = try Self.layerName(r)
        let version = try Self.layerVersionNumber(r)
        return try store.db.readNow { db in try LayerVersion.find(account: account, region: region, name: name, version: version, db) }
    }

    func getLayerVersion(_ r: LambdaRequest) throws -> AWSResponse {
        guard let v = try layerVersion(r) else { throw ResourcePolicy.doesNotExist }
        return RestJSON.response(v.json(location: layerLocation(v)))
    }

    func getLayerVersionByArn(_ r: LambdaRequest) throws -> AWSResponse {
        let arn = r.request.queryValue("Arn") ?? ""
        guard let (account, region, name, version) = Self.layerVersionARN(arn) else {
            throw LambdaError.validation(arn, "arn", "Member must satisfy regular expression pattern: \(Self.layerARNPattern)")
        }
        guard let v = try store.db.readNow({ db in try LayerVersion.find(account: account, region: region, name: name, version: version, db) }) else {
            throw ResourcePolicy.doesNotExist
        }
        return RestJSON.response(v.json(location: layerLocation(v)))
    }

    func deleteLayerVersion(_ r: LambdaRequest) throws -> AWSResponse {
        let (account, region, name) = try Self.layerName(r)
        let version = try Self.layerVersionNumber(r)
        // The archive stays: functions that use the version keep it, as in AWS.
        try store.db.writeNow { db in
            try db.execute(sql: "DELETE FROM layer_version WHERE account = ? AND region = ? AND name = ? AND version = ?",
                           arguments: [account, region, name, version])
        }
        return RestJSON.response(nil, status: .noContent)
    }

    /// CompatibleRuntime / CompatibleArchitecture filters, checked as AWS checks them.
    static func layerFilters(_ r: LambdaRequest) throws -> (String?, String?) {
        let runtime = r.request.queryValue("CompatibleRuntime"), architecture = r.request.queryValue("CompatibleArchitecture")
        if let rt = runtime, !Runtimes.all.contains(rt) {
            throw LambdaError.validation(rt, "compatibleRuntime", "Member must satisfy enum value set: [\(Runtimes.all.joined(separator: ", "))]")
        }
        if let a = architecture, !architectures.contains(a) {
            throw LambdaError.validation(a, "compatibleArchitecture", "Member must satisfy enum value set: [x86_64, arm64]")
        }
        return (runtime, architecture)
    }

    /// One page of `items` (Marker is the index of the first item, MaxItems 1–50).
    static func page<T>(_ items: [T], _ r: LambdaRequest) throws -> ([T], String?) {
        let limit = Int(r.request.queryValue("MaxItems") ?? "50") ?? 50
        guard (1...50).contains(limit) else {
            throw LambdaError.validation(String(limit), "maxItems", "Member must have value \(limit < 1 ? "greater than or equal to 1" : "less than or equal to 50")")
        }
        let start = Int(r.request.queryValue("Marker") ?? "0") ?? 0
        let page = Array(items.dropFirst(start).prefix(limit))
        return (page, start + page.count < items.count ? String(start + page.count) : nil)
    }

    func listLayerVersions(_ r: LambdaRequest) throws -> AWSResponse {
        let (account, region, name) = try Self.layerName(r)
        let (runtime, architecture) = try Self.layerFilters(r)
        let versions = try store.db.readNow { db in try LayerVersion.all(account: account, region: region, name: name, db) }
            .filter { $0.matches(runtime: runtime, architecture: architecture) }
        let (page, next) = try Self.page(versions, r)
        var out: [String: Any] = ["LayerVersions": page.map { $0.json() }]
        if let next { out["NextMarker"] = next }
        return RestJSON.response(out)
    }

    func listLayers(_ r: LambdaRequest) throws -> AWSResponse {
        if r.request.queryValue("find") == "LayerVersion" { return try getLayerVersionByArn(r) }
        let (runtime, architecture) = try Self.layerFilters(r)
        var latest: [LayerVersion] = []
        for v in try store.db.readNow({ db in try LayerVersion.all(account: r.account, region: r.region, db) })
        where v.matches(runtime: runtime, architecture: architecture) && latest.last?.name != v.name {
            latest.append(v)
        }
        let (page, next) = try Self.page(latest, r)
        var out: [String: Any] = ["Layers": page.map { ["LayerName": $0.name, "LayerArn": $0.layerARN, "LatestMatchingVersion": $0.json()] }]
        if let next { out["NextMarker"] = next }
        return RestJSON.response(out)
    }

    /// Apply a change to one layer version's policy, checking `expected` against its RevisionId and making a new one;
    /// a missing version is AWS's "Layer version … does not exist.". Returns the new RevisionId.
    func changeLayerPolicy(_ r: LambdaRequest, expected: String?, _ change: (inout ResourcePolicy?) throws -> Void) throws -> String {
        let (account, region, name) = try Self.layerName(r)
        let version = try Self.layerVersionNumber(r)
        return try store.db.writeNow { db in
            guard var v = try LayerVersion.find(account: account, region: region, name: name, version: version, db) else {
                throw Self.layerVersionMissing("arn:aws:lambda:\(region):\(account):layer:\(name):\(version)")
            }
            try change(&v.policy)
            if let expected, expected != v.policyRevisionId { throw ResourcePolicy.revisionMismatch("GetLayerPolicy") }
            v.policyRevisionId = Self.revision()
            try v.save(db)
            return v.policyRevisionId!
        }
    }

    func addLayerVersionPermission(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let sid = input["StatementId"] as? String ?? ""
        try ResourcePolicy.validateStatementId(sid)
        let action = input["Action"] as? String ?? ""
        guard action == "lambda:GetLayerVersion" else {
            throw LambdaError.validation(action, "action", "Member must satisfy regular expression pattern: lambda:GetLayerVersion")
        }
        let principal = input["Principal"] as? String ?? ""
        guard principal == "*" || AccountID.isValid(principal) || principal.hasPrefix("arn:aws:iam::") else {
            throw LambdaError.validation(principal, "principal", "Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root")
        }
        let (account, region, name) = try Self.layerName(r)
        let version = try Self.layerVersionNumber(r)
        let condition: [(String, [(String, String)])] = (input["OrganizationId"] as? String).map { [("StringEquals", [("aws:PrincipalOrgID", $0)])] } ?? []
        let text = ResourcePolicy.statement(sid: sid, principal: try Self.principalJSON(principal), action: action,
                                            resource: "arn:aws:lambda:\(region):\(account):layer:\(name):\(version)", condition: condition)
        let revision = try changeLayerPolicy(r, expected: r.request.queryValue("RevisionId")) { policy in
            var p = policy ?? ResourcePolicy()
            if p.statements.contains(where: { $0.Sid == sid }) { throw ResourcePolicy.conflict(sid) }
            p.statements.append(.init(Sid: sid, json: text))
            policy = p
        }
        return RestJSON.response(["Statement": text, "RevisionId": revision], status: .created)
    }

    func removeLayerVersionPermission(_ r: LambdaRequest) throws -> AWSResponse {
        let sid = r.labels["StatementId"] ?? ""
        _ = try changeLayerPolicy(r, expected: r.request.queryValue("RevisionId")) { policy in
            guard var p = policy else { throw ResourcePolicy.noPolicy }
            guard let i = p.statements.firstIndex(where: { $0.Sid == sid }) else { throw ResourcePolicy.statementNotFound(sid) }
            p.statements.remove(at: i)
            policy = p.statements.isEmpty ? nil : p
        }
        return RestJSON.response(nil, status: .noContent)
    }

    func getLayerVersionPolicy(_ r: LambdaRequest) throws -> AWSResponse {
        let (account, region, name) = try Self.layerName(r)
        let version = try Self.layerVersionNumber(r)
        guard let v = try store.db.readNow({ db in try LayerVersion.find(account: account, region: region, name: name, version: version, db) }) else {
            throw Self.layerVersionMissing("arn:aws:lambda:\(region):\(account):layer:\(name):\(version)")
        }
        guard let p = v.policy else { throw ResourcePolicy.noPolicy }
        return RestJSON.response(["Policy": p.document, "RevisionId": v.policyRevisionId ?? ""])
    }

    /// The layers a Create/UpdateFunctionConfiguration names, checked as AWS checks them (at most 5, versioned ARNs
    /// of existing versions in the function's region, one version per layer), with what the configuration keeps.
    func resolveLayers(_ arns: [String], region: String) throws -> [LayerContent] {
        if arns.count > 5 { throw LambdaError.invalid("Cannot reference more than 5 layers.") }
        var parsed: [(String, (String, String, String, Int))] = []
        for arn in arns {
            guard let p = Self.layerVersionARN(arn) else {
                throw LambdaError.validation("[\(arns.joined(separator: ", "))]", "layers",
                                             "Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: \(Self.layerARNPattern), Member must not be null]")
            }
            if let other = parsed.first(where: { $0.1.0 == p.0 && $0.1.1 == p.1 && $0.1.2 == p.2 }) {
                throw LambdaError.invalid("Two different versions of the same layer are not allowed to be referenced in the same function. \(other.0) and \(arn) are versions of the same layer.")
            }
            parsed.append((arn, p))
        }
        if parsed.contains(where: { $0.1.1 != region }) {
            throw LambdaError.invalid("Layers are not in the same region as the function. Layers are expected to be in region \(region).")
        }
        return try store.db.readNow { db in
            try parsed.map { arn, p in
                guard let v = try LayerVersion.find(account: p.0, region: p.1, name: p.2, version: p.3, db) else {
                    throw LambdaError.invalid("Layer version \(arn) does not exist.")
                }
                return LayerContent(CodeSize: v.CodeSize, codeHex: v.codeHex)
            }
        }
    }
}
