import Core
import Foundation
import GRDB

/// A resource policy as Lambda keeps it: statements in the order they were added, each the JSON text AWS built for
/// it (Sid, Effect, Principal, Action, Resource, Condition in that order). Stored, not enforced.
struct ResourcePolicy: Codable, Sendable {
    struct Statement: Codable, Sendable {
        var Sid: String
        var json: String
    }
    var statements: [Statement] = []

    var document: String {
        "{\"Version\":\"2012-10-17\",\"Id\":\"default\",\"Statement\":[\(statements.map(\.json).joined(separator: ","))]}"
    }

    /// One statement's JSON text, its members in AWS's order; `condition` is [(operator, [(key, value)])].
    static func statement(sid: String, principal: String, action: String, resource: String,
                          condition: [(String, [(String, String)])] = []) -> String {
        var out = "{\"Sid\":\(JSONString.quote(sid)),\"Effect\":\"Allow\",\"Principal\":\(principal),\"Action\":\(JSONString.quote(action)),\"Resource\":\(JSONString.quote(resource))"
        if !condition.isEmpty {
            let ops = condition.map { op, pairs in
                "\(JSONString.quote(op)):{\(pairs.map { "\(JSONString.quote($0.0)):\(JSONString.quote($0.1))" }.joined(separator: ","))}"
            }
            out += ",\"Condition\":{\(ops.joined(separator: ","))}"
        }
        return out + "}"
    }

    static func conflict(_ sid: String) -> AWSError {
        LambdaError.conflict("The statement id (\(sid)) provided already exists. Please provide a new statement id, or remove the existing statement.")
    }
    static func statementNotFound(_ sid: String) -> AWSError {
        AWSError("ResourceNotFoundException", "Statement \(sid) is not found in resource policy.", status: .notFound).with("Type", "User")
    }
    static func revisionMismatch(_ api: String) -> AWSError {
        AWSError("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the \(api) API to retrieve the latest Revision Id",
                 status: .preconditionFailed).with("Type", "User")
    }
    static let noPolicy = AWSError("ResourceNotFoundException", "No policy is associated with the given resource.", status: .notFound).with("Type", "User")
    static let doesNotExist = AWSError("ResourceNotFoundException", "The resource you requested does not exist.", status: .notFound).with("Type", "User")

    static func validateStatementId(_ sid: String) throws {
        guard !sid.isEmpty, sid.count <= 100, sid.utf8.allSatisfy(LambdaService.isNameByte) else {
            throw LambdaError.validation(sid, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
        }
    }
}

/// AddPermission, RemovePermission and GetPolicy: a function's (or a version's or alias's) resource policy.
extension LambdaService {
    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 95
    }

    /// The qualifier a policy request names (path or `?Qualifier=`; both must agree), checked as AddPermission does.
    static func policyQualifier(_ r: LambdaRequest) throws -> String? {
        let (_, _, _, fromName) = try parseName(r.labels["FunctionName"] ?? "", r)
        let fromQuery = r.request.queryValue("Qualifier")
        if let a = fromName, let b = fromQuery, a != b {
            throw LambdaError.invalid("The derived qualifier from the function name does not match the specified qualifier.")
        }
        guard let q = fromQuery ?? fromName else { return nil }
        guard !q.isEmpty, q.utf8.allSatisfy({ isNameByte($0) || $0 == 36 }) else {
            throw LambdaError.validation(q, "qualifier", "Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")
        }
        return q
    }

    /// The not-found error for a qualifier the function lacks: an alias name, else a version.
    static func qualifierNotFound(_ f: LambdaFunction, _ q: String) -> AWSError {
        if !q.allSatisfy(\.isNumber), q.utf8.allSatisfy(isNameByte) {
            return AWSError("ResourceNotFoundException", "Cannot find alias arn: \(f.arn):\(q)", status: .notFound).with("Type", "User")
        }
        return LambdaError.notFound(f.arn + ":\(q)")
    }

    static func hasQualifier(_ f: LambdaFunction, _ q: String) -> Bool {
        f.versions.contains { $0.Version == q } || f.aliases.contains { $0.Name == q }
    }

    /// A Principal as a statement shows it: `*`, an account (its root), an ARN, or a service.
    static func principalJSON(_ principal: String) throws -> String {
        if principal == "*" { return "\"*\"" }
        if AccountID.isValid(principal) { return "{\"AWS\":\(JSONString.quote("arn:aws:iam::\(principal):root"))}" }
        if principal.hasPrefix("arn:aws:iam::") || principal.hasPrefix("arn:aws:sts::") { return "{\"AWS\":\(JSONString.quote(principal))}" }
        let labels = principal.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isNameByte) }) else {
            throw LambdaError.invalid("The provided principal was invalid. Please check the principal and try again.")
        }
        return "{\"Service\":\(JSONString.quote(principal))}"
    }

    /// The RevisionId a function policy shares with what it is attached to ($LATEST, a version or an alias): AWS
    /// checks a request's RevisionId against it, and each change of the policy makes a new one.
    static func policyRevision(_ f: inout LambdaFunction, _ qualifier: String?, expected: String?) throws {
        func check(_ current: inout String) throws {
            if let expected, expected != current { throw ResourcePolicy.revisionMismatch("GetPolicy") }
            current = revision()
        }
        if let q = qualifier, q != "$LATEST" {
            if let i = f.versions.firstIndex(where: { $0.Version == q }) { return try check(&f.versions[i].RevisionId) }
            if let i = f.aliases.firstIndex(where: { $0.Name == q }) { return try check(&f.aliases[i].RevisionId) }
            throw qualifierNotFound(f, q)
        }
        try check(&f.latest.RevisionId)
    }

    static func currentRevision(_ f: LambdaFunction, _ qualifier: String?) -> String {
        guard let q = qualifier, q != "$LATEST" else { return f.latest.RevisionId }
        return f.versions.first { $0.Version == q }?.RevisionId ?? f.aliases.first { $0.Name == q }?.RevisionId ?? ""
    }

    func addPermission(_ r: LambdaRequest) async throws -> AWSResponse {
        let input = try await r.body()
        let sid = input["StatementId"] as? String ?? ""
        try ResourcePolicy.validateStatementId(sid)
        guard let action = input["Action"] as? String, let principal = input["Principal"] as? String else {
            throw LambdaError.invalid("Action and Principal are required.")
        }
        let qualifier = try Self.policyQualifier(r)
        if qualifier == "$LATEST" { throw LambdaError.invalid("We currently do not support adding policies for $LATEST.") }
        let principalJSON = try Self.principalJSON(principal)
        var condition: [(String, [(String, String)])] = []
        var equals: [(String, String)] = []
        if let a = input["SourceAccount"] as? String { equals.append(("AWS:SourceAccount", a)) }
        if let t = input["EventSourceToken"] as? String { equals.append(("lambda:EventSourceToken", t)) }
        if let u = input["FunctionUrlAuthType"] as? String { equals.append(("lambda:FunctionUrlAuthType", u)) }
        if let o = input["PrincipalOrgID"] as? String { equals.append(("aws:PrincipalOrgID", o)) }
        if !equals.isEmpty { condition.append(("StringEquals", equals)) }
        if input["InvokedViaFunctionUrl"] as? Bool == true { condition.append(("Bool", [("lambda:InvokedViaFunctionUrl", "true")])) }
        if let arn = input["SourceArn"] as? String { condition.append(("ArnLike", [("AWS:SourceArn", arn)])) }
        let (f, _) = try function(r)
        var text = ""
        try changeFunction(arn: f.arn, r) { f in
            if let q = qualifier, !Self.hasQualifier(f, q) { throw Self.qualifierNotFound(f, q) }
            var policy = f.policies?[qualifier ?? ""] ?? ResourcePolicy()
            if policy.statements.contains(where: { $0.Sid == sid }) { throw ResourcePolicy.conflict(sid) }
            try Self.policyRevision(&f, qualifier, expected: input["RevisionId"] as? String)
            text = ResourcePolicy.statement(sid: sid, principal: principalJSON, action: action,
                                            resource: f.arn + (qualifier.map { ":\($0)" } ?? ""), condition: condition)
            policy.statements.append(.init(Sid: sid, json: text))
            f.policies = (f.policies ?? [:]).merging([qualifier ?? "": policy]) { _, new in new }
        }
        // The configuration's RevisionId changed: its instances are not reused (they stop when idle).
        pool.retire(prefix: f.arn + "|")
        return RestJSON.response(["Statement": text], status: .created)
    }

    func removePermission(_ r: LambdaRequest) throws -> AWSResponse {
        let sid = r.labels["StatementId"] ?? ""
        let qualifier = try Self.policyQualifier(r)
        let (account, region, name, _) = try Self.parseName(r.labels["FunctionName"] ?? "", r)
        guard let f = try store.function(account: account, region: region, name: name) else {
            throw AWSError("ResourceNotFoundException", "No policy found for: \(Self.functionARN(account: account, region: region, name: name))",
                           status: .notFound).with("Type", "User")
        }
        try changeFunction(arn: f.arn, r) { f in
            if let q = qualifier, q != "$LATEST", !Self.hasQualifier(f, q) { throw Self.qualifierNotFound(f, q) }
            guard var policy = f.policies?[qualifier ?? ""] else { throw ResourcePolicy.noPolicy }
            guard let i = policy.statements.firstIndex(where: { $0.Sid == sid }) else { throw ResourcePolicy.statementNotFound(sid) }
            try Self.policyRevision(&f, qualifier, expected: r.request.queryValue("RevisionId"))
            policy.statements.remove(at: i)
            f.policies?[qualifier ?? ""] = policy.statements.isEmpty ? nil : policy
        }
        pool.retire(prefix: f.arn + "|")
        return RestJSON.response(nil, status: .noContent)
    }

    func getPolicy(_ r: LambdaRequest) throws -> AWSResponse {
        let qualifier = try Self.policyQualifier(r)
        let (account, region, name, _) = try Self.parseName(r.labels["FunctionName"] ?? "", r)
        guard let f = try store.function(account: account, region: region, name: name),
              let policy = f.policies?[qualifier ?? ""] else { throw ResourcePolicy.doesNotExist }
        return RestJSON.response(["Policy": policy.document, "RevisionId": Self.currentRevision(f, qualifier)])
    }
}
