import Core
import Foundation
import GRDB

/// RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies,
/// DeregisterTaskDefinition, DeleteTaskDefinitions. A task definition is kept as the document AWS returns: every
/// member the request sent, with AWS's defaults and computed members added.
extension ECSService {
    /// `family`, `family:revision` or a task definition ARN → (family, revision or nil for the latest ACTIVE).
    static func parseTaskDefinition(_ ident: String) -> (String, Int?)? {
        var s = ident
        if s.hasPrefix("arn:") {
            guard let slash = s.range(of: ":task-definition/") else { return nil }
            s = String(s[slash.upperBound...])
        }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 1 { return (s, nil) }
        guard parts.count == 2, let rev = Int(parts[1]) else { return nil }
        return (String(parts[0]), rev)
    }

    /// The task definition a request names (the latest ACTIVE revision for a bare family), or nil.
    func findTaskDefinition(_ ident: String, _ scope: Scope) throws -> TaskDefinition? {
        guard let (family, revision) = Self.parseTaskDefinition(ident) else { return nil }
        return try store.db.readNow { db in
            let row: Row?
            if let revision {
                row = try Row.fetchOne(db, sql: "SELECT doc, tags FROM task_definition WHERE account = ? AND region = ? AND family = ? AND revision = ?",
                                       arguments: [scope.account, scope.region, family, revision])
            } else {
                row = try Row.fetchOne(db, sql: """
                    SELECT doc, tags FROM task_definition WHERE account = ? AND region = ? AND family = ? AND status = 'ACTIVE'
                    ORDER BY revision DESC LIMIT 1
                    """, arguments: [scope.account, scope.region, family])
            }
            return try row.map { try TaskDefinition(doc: $0["doc"], tags: $0["tags"]) }
        }
    }

    /// The task definition a RunTask or CreateService names: it must exist and (for a new use) be ACTIVE.
    func usableTaskDefinition(_ ident: String, _ scope: Scope) throws -> TaskDefinition {
        guard let td = try findTaskDefinition(ident, scope), td.status != "DELETE_IN_PROGRESS" else {
            throw ECSError.taskDefinitionNotFoundForUse()
        }
        guard td.status == "ACTIVE" else { throw ECSError.taskDefinitionInactive() }
        return td
    }

    func registerTaskDefinition(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let family = try input.required("family")
        guard !family.isEmpty, family.count <= 255,
              family.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ECSError.client("Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.")
        }
        let tags = try input.tags() ?? []
        var doc = input.raw
        doc["tags"] = nil
        let now = ECSTime.round(clock.now())
        var td = try TaskDefinitionRules.normalize(doc)
        try store.db.writeNow { db in
            let last = try Int.fetchOne(db, sql: "SELECT MAX(revision) FROM task_definition WHERE account = ? AND region = ? AND family = ?",
                                        arguments: [scope.account, scope.region, family]) ?? 0
            let revision = last + 1
            let arn = scope.arn("task-definition/\(family):\(revision)")
            td["taskDefinitionArn"] = .string(arn)
            td["revision"] = .number(Double(revision))
            td["status"] = .string("ACTIVE")
            td["registeredAt"] = .number(now)
            td["registeredBy"] = .string("arn:aws:iam::\(scope.account):root")
            try db.execute(sql: """
                INSERT INTO task_definition (arn, account, region, family, revision, status, doc, tags) VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?)
                """, arguments: [arn, scope.account, scope.region, family, revision, try ECSStore.text(JSON.object(td)),
                                 try ECSStore.text(tags)])
        }
        return ["taskDefinition": .object(td), "tags": try JSON.encode(tags)]
    }

    func describeTaskDefinition(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        guard let td = try findTaskDefinition(try input.required("taskDefinition"), Scope(r)) else {
            throw ECSError.taskDefinitionNotFound()
        }
        var out: [String: JSON] = ["taskDefinition": .object(td.doc)]
        if (try input.strings("include") ?? []).contains("TAGS") { out["tags"] = try JSON.encode(td.tags) }
        return out
    }

    func listTaskDefinitions(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let status = try input.string("status") ?? "ACTIVE"
        guard ["ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"].contains(status) else {
            throw ECSError.validation(status, at: "status", "Member must satisfy enum value set: [ACTIVE, INACTIVE, DELETE_IN_PROGRESS]")
        }
        let sort = try input.string("sort") ?? "ASC"
        guard sort == "ASC" || sort == "DESC" else {
            throw ECSError.validation(sort, at: "sort", "Member must satisfy enum value set: [ASC, DESC]")
        }
        let prefix = try input.string("familyPrefix")
        let order = sort == "ASC" ? "family ASC, revision ASC" : "family DESC, revision DESC"
        let arns = try store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT arn FROM task_definition WHERE account = ? AND region = ? AND status = ? AND (? IS NULL OR family = ?) ORDER BY \(order)",
                                arguments: [scope.account, scope.region, status, prefix, prefix])
        }
        let (page, next) = try Paging.page(arns, token: try input.string("nextToken"), maxResults: try input.int("maxResults"))
        var out: [String: JSON] = ["taskDefinitionArns": .array(page.map(JSON.string))]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func listTaskDefinitionFamilies(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        // Without a status, families with ACTIVE and with only INACTIVE revisions are both listed.
        let status = try input.string("status") ?? "ALL"
        guard ["ACTIVE", "INACTIVE", "ALL"].contains(status) else {
            throw ECSError.validation(status, at: "status", "Member must satisfy enum value set: [ACTIVE, INACTIVE, ALL]")
        }
        let prefix = try input.string("familyPrefix") ?? ""
        let having: String
        switch status {
        case "ACTIVE": having = "HAVING SUM(status = 'ACTIVE') > 0"
        case "INACTIVE": having = "HAVING SUM(status = 'ACTIVE') = 0"
        default: having = ""
        }
        let families = try store.db.readNow { db in
            try String.fetchAll(db, sql: "SELECT family FROM task_definition WHERE account = ? AND region = ? AND substr(family, 1, ?) = ? GROUP BY family \(having) ORDER BY family",
                                arguments: [scope.account, scope.region, prefix.count, prefix])
        }
        let (page, next) = try Paging.page(families, token: try input.string("nextToken"), maxResults: try input.int("maxResults"))
        var out: [String: JSON] = ["families": .array(page.map(JSON.string))]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func deregisterTaskDefinition(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let ident = try input.required("taskDefinition")
        guard let (_, revision) = Self.parseTaskDefinition(ident), revision != nil else {
            throw ECSError.client("Invalid revision number. Number: ")
        }
        guard var td = try findTaskDefinition(ident, scope), td.status != "DELETE_IN_PROGRESS" else {
            throw ECSError.client("The specified task definition does not exist.")
        }
        if td.status == "ACTIVE" {
            td.doc["status"] = .string("INACTIVE")
            td.doc["deregisteredAt"] = .number(ECSTime.round(clock.now()))
            try save(td)
        }
        return ["taskDefinition": .object(td.doc)]
    }

    func deleteTaskDefinitions(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        guard let idents = try input.strings("taskDefinitions"), !idents.isEmpty else {
            throw ECSError.validation(nil, at: "taskDefinitions", "Member must not be null")
        }
        guard idents.count <= 10 else {
            throw ECSError.invalid("The number of task definitions must be between 1 and 10.")
        }
        var deleted: [JSON] = []
        var failures: [Failure] = []
        for ident in idents {
            guard let (_, revision) = Self.parseTaskDefinition(ident), revision != nil else {
                failures.append(Failure(arn: ident, reason: "The specified task definition identifier is invalid. Specify a valid name or ARN and try again."))
                continue
            }
            guard var td = try findTaskDefinition(ident, scope) else {
                failures.append(Failure(arn: ident, reason: "The specified task definition does not exist. Specify a valid account, family, revision and try again."))
                continue
            }
            if td.status == "ACTIVE" {
                failures.append(Failure(arn: td.arn, reason: "The specified task definition is still in ACTIVE status. Please deregister the target and try again."))
                continue
            }
            if td.status == "INACTIVE" {
                td.doc["status"] = .string("DELETE_IN_PROGRESS")
                td.doc["deleteRequestedAt"] = .number(ECSTime.round(clock.now()))
                try save(td)
            }
            deleted.append(.object(td.doc))
        }
        return ["taskDefinitions": .array(deleted), "failures": try JSON.encode(failures)]
    }

    func save(_ td: TaskDefinition) throws {
        try store.db.writeNow { db in
            try db.execute(sql: "UPDATE task_definition SET status = ?, doc = ?, tags = ? WHERE arn = ?",
                           arguments: [td.status, try ECSStore.text(JSON.object(td.doc)), try ECSStore.text(td.tags), td.arn])
        }
    }
}

/// A registered task definition: its document as DescribeTaskDefinition answers it, and its tags.
struct TaskDefinition: Sendable {
    var doc: [String: JSON]
    var tags: [Tag]

    init(doc: String, tags: String) throws {
        self.doc = try ECSStore.value(JSON.self, doc).object ?? [:]
        self.tags = try ECSStore.value([Tag].self, tags)
    }

    var arn: String { doc["taskDefinitionArn"]?.string ?? "" }
    var family: String { doc["family"]?.string ?? "" }
    var status: String { doc["status"]?.string ?? "" }
    var cpu: String? { doc["cpu"]?.string }
    var memory: String? { doc["memory"]?.string }
    var networkMode: String { doc["networkMode"]?.string ?? "bridge" }
    var taskRoleArn: String? { doc["taskRoleArn"]?.string }
    var executionRoleArn: String? { doc["executionRoleArn"]?.string }
    var requiresCompatibilities: [String] { doc["requiresCompatibilities"]?.array?.compactMap(\.string) ?? [] }
    var containerDefinitions: [JSON] { doc["containerDefinitions"]?.array ?? [] }
    /// The containers as the scheduler reads them.
    var containers: [ContainerSpec] { containerDefinitions.compactMap { try? $0.decode(ContainerSpec.self) } }
}
