import Core
import GRDB

/// Roles, users and instance profiles are found by name in an account, carry tags and save themselves: one
/// read-change-save path and one Tag/Untag/List…Tags implementation serve all three.
protocol NamedEntity: Sendable {
    /// The Query member naming the entity (`RoleName`) and its longest allowed value.
    static var nameMember: String { get }
    static var nameMax: Int { get }
    static func require(_ db: Database, account: String, name: String) throws -> Self
    var tags: [Tag] { get set }
    func save(_ db: Database) throws
}

extension Role: NamedEntity {
    static var nameMember: String { "RoleName" }
    static var nameMax: Int { IAMService.roleNameMax }
}

extension User: NamedEntity {
    static var nameMember: String { "UserName" }
    static var nameMax: Int { 128 }
}

extension InstanceProfile: NamedEntity {
    static var nameMember: String { "InstanceProfileName" }
    static var nameMax: Int { 128 }
}

extension IAMService {
    /// Reads, changes and saves one entity in a transaction.
    @discardableResult
    func modify<E: NamedEntity>(_: E.Type, _ caller: Caller, _ name: String, _ change: (inout E) throws -> Void) throws -> E {
        try store.db.writeNow { db in
            var entity = try E.require(db, account: caller.account, name: name)
            try change(&entity)
            try entity.save(db)
            return entity
        }
    }

    func tag<E: NamedEntity>(_ type: E.Type, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName(E.nameMember, max: E.nameMax)
        let tags = try input.tags()
        try modify(type, caller, name) { $0.tags = try Tag.merge($0.tags, tags) }
        return nil
    }

    func untag<E: NamedEntity>(_ type: E.Type, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName(E.nameMember, max: E.nameMax)
        let keys = input.list("TagKeys")
        try modify(type, caller, name) { $0.tags = Tag.remove($0.tags, keys: keys) }
        return nil
    }

    func listTags<E: NamedEntity>(_: E.Type, _ input: IAMInput, _ caller: Caller) throws -> Answer {
        let name = try input.requiredName(E.nameMember, max: E.nameMax)
        let (marker, maxItems) = try input.paging()
        let entity = try store.db.readNow { db in try E.require(db, account: caller.account, name: name) }
        let page = try Page(ordered: entity.tags, marker: marker, maxItems: maxItems)
        return { xml in
            xml.tags(page.items, always: true)
            xml.paging(page)
        }
    }
}
