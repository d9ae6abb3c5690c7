import Core
import GRDB

/// Versions of managed policies: `v1`, `v2`... numbered on; up to 5 kept; one is the default. An AWS managed policy
/// shows its default version only.
struct PolicyVersion: Sendable {
    var number: Int
    var document: String
    var created: Double
    var isDefault: Bool

    var id: String { "v\(number)" }

    /// The document only where AWS answers it (GetPolicyVersion), not in CreatePolicyVersion or listings.
    func write(_ xml: inout XMLWriter, withDocument: Bool) {
        if withDocument { xml.element("Document", IAMFormat.encodedDocument(document)) }
        xml.element("VersionId", id)
        xml.element("IsDefaultVersion", isDefault)
        xml.element("CreateDate", IAMFormat.date(created))
    }

    /// Newest first, as ListPolicyVersions answers.
    static func all(_ db: Database, _ policy: ManagedPolicy) throws -> [PolicyVersion] {
        if policy.isAWS {
            guard let p = AWSManagedPolicy.find(path: policy.path, name: policy.name) else { return [] }
            return [PolicyVersion(number: Int(p.version.dropFirst()) ?? 1, document: p.document, created: policy.updated, isDefault: true)]
        }
        return try Row.fetchAll(db, sql: "SELECT version, document, created FROM policy_version WHERE account = ? AND policy = ? ORDER BY version DESC",
                                arguments: [policy.account, policy.name]).map { row in
            PolicyVersion(number: row[0], document: row[1], created: row[2], isDefault: "v\(row[0] as Int)" == policy.defaultVersion)
        }
    }
}

extension IAMService {
    /// `VersionId` as the model constrains it (`v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`); its number, or nil for forms
    /// Cloudless never issues (they name no version).
    func versionNumber(_ input: IAMInput) throws -> (text: String, number: Int?) {
        let text = try input.required("VersionId")
        let body = text.dropFirst()
        let digits = body.prefix { $0.isASCII && $0.isNumber }
        let rest = body.dropFirst(digits.count)
        let valid = text.hasPrefix("v") && !digits.isEmpty && !digits.hasPrefix("0")
            && (rest.isEmpty || (rest.hasPrefix(".") && rest.dropFirst().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }))
        guard valid else {
            throw IAMError.constraint("versionId", value: text, "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?")
        }
        return (text, rest.isEmpty ? Int(digits) : nil)
    }

    static func versionNotFound(_ arn: String, _ version: String) -> AWSError {
        IAMError.noSuchEntity("Policy \(arn) version \(version) does not exist or is not attachable.")
    }

    func createPolicyVersion(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let document = try policyDocument(input, "PolicyDocument")
        let setAsDefault = input.bool("SetAsDefault") ?? false
        let version = try store.db.writeNow { db in
            var policy = try ManagedPolicy.requireOwn(db, arn: arn, account: caller.account)
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM policy_version WHERE account = ? AND policy = ?",
                                         arguments: [caller.account, policy.name]) ?? 0
            if count >= 5 {
                throw IAMError.limitExceeded(
                    "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
            }
            let version = PolicyVersion(number: policy.nextVersion, document: document, created: caller.now, isDefault: setAsDefault)
            try db.execute(sql: "INSERT INTO policy_version (account, policy, version, document, created) VALUES (?, ?, ?, ?, ?)",
                           arguments: [caller.account, policy.name, version.number, document, caller.now])
            policy.nextVersion += 1
            policy.updated = caller.now
            if setAsDefault { policy.defaultVersion = version.id }
            try policy.save(db)
            return version
        }
        return { xml in xml.group("PolicyVersion") { version.write(&$0, withDocument: false) } }
    }

    func getPolicyVersion(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let (text, _) = try versionNumber(input)
        let version = try store.db.readNow { db in
            let policy = try ManagedPolicy.require(db, arn: arn, account: caller.account)
            return try PolicyVersion.all(db, policy).first { $0.id == text }
        }
        guard let version else { throw Self.versionNotFound(arn, text) }
        return { xml in xml.group("PolicyVersion") { version.write(&$0, withDocument: true) } }
    }

    func listPolicyVersions(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let (marker, maxItems) = try input.paging()
        let versions = try store.db.readNow { db in
            try PolicyVersion.all(db, try ManagedPolicy.require(db, arn: arn, account: caller.account))
        }
        let page = try Page(ordered: versions, marker: marker, maxItems: maxItems)
        return { xml in
            xml.members("Versions", page.items) { $1.write(&$0, withDocument: false) }
            xml.paging(page)
        }
    }

    func deletePolicyVersion(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let (text, number) = try versionNumber(input)
        try store.db.writeNow { db in
            let policy = try ManagedPolicy.requireOwn(db, arn: arn, account: caller.account)
            if policy.defaultVersion == text {
                throw IAMError.deleteConflict("Cannot delete the default version of a policy.")
            }
            try db.execute(sql: "DELETE FROM policy_version WHERE account = ? AND policy = ? AND version = ?",
                           arguments: [caller.account, policy.name, number ?? -1])
            if db.changesCount == 0 { throw Self.versionNotFound(arn, text) }
        }
        return nil
    }

    func setDefaultPolicyVersion(_ input: IAMInput, _ caller: Caller) throws -> Answer {
        let arn = try policyARN(input)
        let (text, number) = try versionNumber(input)
        try store.db.writeNow { db in
            var policy = try ManagedPolicy.requireOwn(db, arn: arn, account: caller.account)
            guard try IAMStore.exists(db, "SELECT 1 FROM policy_version WHERE account = ? AND policy = ? AND version = ?",
                                      [caller.account, policy.name, number ?? -1]) else {
                throw Self.versionNotFound(arn, text)
            }
            policy.defaultVersion = text
            try policy.save(db)
        }
        return nil
    }
}
