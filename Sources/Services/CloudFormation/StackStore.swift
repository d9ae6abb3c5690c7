import Core
import Foundation
import GRDB

/// A resource of a stack as the stack keeps it.
struct StackResource: Sendable, Codable, Equatable {
    var logicalId: String
    var type: String
    /// The resolved properties it was last created or updated with.
    var properties: [String: JSON]
    /// Nil until created (and for a resource that failed to create).
    var state: ResourceState?
    var status: String
    var statusReason: String?
    var updated: Double
    /// Creation order: deletions run newest first where the dependencies allow (DeletionOrder.swift).
    var sequence: Int
    var deletionPolicy: String?
    /// While its replacement is being created: the replacement's properties, so that after a crash the resource
    /// the replacement may have made is found again (`interruptedCreate`) and deleted.
    var replacementProperties: [String: JSON]? = nil
    /// What happens to the old physical resource when an update replaces it (DeletionPolicies.swift).
    var updateReplacePolicy: String? = nil

    var physicalId: String? { state?.physicalId }
}

struct StackOutput: Sendable, Codable, Equatable {
    var key: String
    var value: String
    var description: String?
    var exportName: String?
}

struct StackParameter: Sendable, Codable, Equatable {
    var key: String
    var value: String
}

/// A change set: the template and parameters a stack would move to, and the resource changes that would make.
struct ChangeSet: Sendable, Codable, Equatable {
    var id: String
    var name: String
    var type: String  // CREATE or UPDATE
    var templateBody: String
    var parameters: [StackParameter]
    var tags: [StackParameter]
    var capabilities: [String]
    var description: String?
    var status: String
    var statusReason: String?
    var executionStatus: String
    var created: Double
    var changes: [Change]
    /// What the stack was when the change set was computed: executing it later requires the stack unchanged.
    var baseStatus: String
    var baseTemplateBody: String
    var baseParameters: [StackParameter]
    var baseLastUpdated: Double?

    struct Change: Sendable, Codable, Equatable {
        var action: String  // Add, Modify, Remove
        var logicalId: String
        var physicalId: String?
        var type: String
        var replacement: String?  // True, False, Conditional (Modify only)
        var policyAction: String?  // Remove: Delete or Retain; Modify with Replacement True: ReplaceAndDelete or ReplaceAndRetain
        var scope: [String] = []
        var details: [Detail] = []
    }

    struct Detail: Sendable, Codable, Equatable {
        var attribute: String  // Properties, Tags
        var name: String?
        var requiresRecreation: String  // Never, Always, Conditionally
        var evaluation: String  // Static, Dynamic
        var changeSource: String  // DirectModification, ResourceReference, ParameterReference, ...
        var causingEntity: String?
    }
}

/// A stack, stored whole as JSON: small, and always read and written as one.
struct Stack: Sendable, Codable {
    var id: String
    var name: String
    var account: String
    var region: String
    var status: String
    var statusReason: String?
    var description: String?
    var created: Double
    var lastUpdated: Double?
    var deleted: Double?
    var templateBody: String
    var parameters: [StackParameter]
    var tags: [StackParameter]
    var disableRollback: Bool
    var capabilities: [String]
    var outputs: [StackOutput]
    var resources: [String: StackResource]
    var nextSequence: Int = 1
    /// During an update: the resources, template and parameters before it (what a rollback returns to, and what
    /// the cleanup phase deletes where a resource was replaced or removed).
    var previousResources: [String: StackResource]?
    var previousTemplateBody: String?
    var previousParameters: [StackParameter]?
    var previousOutputs: [StackOutput]?
    var changeSets: [ChangeSet] = []
    /// A nested stack's parent and root stack ids (NestedStacks.swift).
    var parentId: String?
    var rootId: String?
    /// CreateStack's OnFailure=DELETE: a failed creation deletes the stack.
    var deleteOnFailure: Bool?

    var isInProgress: Bool { status.hasSuffix("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS" }
    var parameterValues: [String: String] { Dictionary(parameters.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) }
    var tagMap: [String: String] { Dictionary(tags.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) }
}

/// What DescribeStackEvents lists.
struct StackEvent: Sendable, Codable {
    var eventId: String
    var stackId: String
    var stackName: String
    var logicalId: String
    var physicalId: String?
    var type: String
    var timestamp: Double
    var status: String
    var statusReason: String?
    var properties: String?
}

/// `cloudformation.sqlite`: stacks (one JSON document each) and their events.
final class StackStore: Sendable {
    let database: LazyDatabase
    /// Opened and migrated on first use, not at start.
    var db: DatabasePool { get throws { try database.pool() } }

    init(directory: String) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
    }

    static func path(_ directory: String) -> String { directory + "/cloudformation.sqlite" }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE stack (
                    id TEXT PRIMARY KEY,
                    account TEXT NOT NULL,
                    region TEXT NOT NULL,
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    deleted INTEGER NOT NULL DEFAULT 0,
                    created REAL NOT NULL,
                    record TEXT NOT NULL
                );
                CREATE INDEX stack_name ON stack(account, region, name);
                CREATE TABLE event (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    stack_id TEXT NOT NULL,
                    record TEXT NOT NULL
                );
                CREATE INDEX event_stack ON event(stack_id, seq);
                """)
        }
        m.registerMigration("v2-ops") { db in try Self.migrateOps(db) }  // StackOptionsStore.swift
        return m
    }

    static func encode<T: Encodable>(_ v: T) throws -> String { String(decoding: try JSONEncoder().encode(v), as: UTF8.self) }
    static func decode<T: Decodable>(_ t: T.Type, _ s: String) throws -> T { try JSONDecoder().decode(t, from: Data(s.utf8)) }

    func save(_ stack: Stack) throws {
        let record = try Self.encode(stack)
        try db.writeNow { db in
            try db.execute(sql: """
                INSERT INTO stack (id, account, region, name, status, deleted, created, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET status = excluded.status, deleted = excluded.deleted, record = excluded.record
                """, arguments: [stack.id, stack.account, stack.region, stack.name, stack.status, stack.deleted == nil ? 0 : 1,
                                 stack.created, record])
        }
    }

    func stack(id: String) throws -> Stack? {
        try db.readNow { db in
            try String.fetchOne(db, sql: "SELECT record FROM stack WHERE id = ?", arguments: [id])
        }.map { try Self.decode(Stack.self, $0) }
    }

    /// The live (not deleted) stack of that name, or the stack of that id (deleted or not).
    func find(_ nameOrId: String, account: String, region: String) throws -> Stack? {
        if nameOrId.hasPrefix("arn:") {
            guard let s = try stack(id: nameOrId), s.account == account else { return nil }
            return s
        }
        return try db.readNow { db in
            try String.fetchOne(db, sql: "SELECT record FROM stack WHERE account = ? AND region = ? AND name = ? AND deleted = 0",
                                arguments: [account, region, nameOrId])
        }.map { try Self.decode(Stack.self, $0) }
    }

    func all(account: String, region: String, includeDeleted: Bool) throws -> [Stack] {
        try db.readNow { db in
            try String.fetchAll(db, sql: "SELECT record FROM stack WHERE account = ? AND region = ? \(includeDeleted ? "" : "AND deleted = 0") ORDER BY created DESC, rowid DESC",
                                arguments: [account, region])
        }.map { try Self.decode(Stack.self, $0) }
    }

    func inProgress() throws -> [Stack] {
        try db.readNow { db in
            try String.fetchAll(db, sql: "SELECT record FROM stack WHERE status LIKE '%_IN_PROGRESS' AND status != 'REVIEW_IN_PROGRESS'")
        }.map { try Self.decode(Stack.self, $0) }
    }

    func add(_ event: StackEvent) throws {
        let record = try Self.encode(event)
        try db.writeNow { db in
            try db.execute(sql: "INSERT INTO event (stack_id, record) VALUES (?, ?)", arguments: [event.stackId, record])
        }
    }

    /// Newest first.
    func events(stackId: String) throws -> [StackEvent] {
        try db.readNow { db in
            try String.fetchAll(db, sql: "SELECT record FROM event WHERE stack_id = ? ORDER BY seq DESC", arguments: [stackId])
        }.map { try Self.decode(StackEvent.self, $0) }
    }

    /// Every export of the account and region: name → (value, exporting stack id).
    func exports(account: String, region: String) throws -> [String: (value: String, stackId: String)] {
        var out: [String: (value: String, stackId: String)] = [:]
        for s in try all(account: account, region: region, includeDeleted: false) {
            for o in s.outputs { if let e = o.exportName { out[e] = (o.value, s.id) } }
        }
        return out
    }

    func reset() throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try db.writeNow { db in
            try db.execute(sql: "DELETE FROM stack; DELETE FROM event")
            try self.resetOps(db)
        }
    }
}
