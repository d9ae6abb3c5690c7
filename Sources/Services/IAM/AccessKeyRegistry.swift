import Core
import GRDB
import Synchronization

/// The active access keys IAM issued, in memory: the gateway asks on every request signed with a key that is not a
/// static one, so the answer must not cost a query. Rebuilt from the database after each commit that changes keys,
/// on the writer's queue, so it follows the commits in order.
final class AccessKeyRegistry: CredentialProvider {
    struct Key: Sendable {
        var secret: String
        var account: String
        /// nil: the account's root user.
        var user: String?
    }

    /// Nil until the first look-up reads them (none at all while `iam.sqlite` does not exist: nothing is opened).
    private let active = Mutex<[String: Key]?>(nil)
    let store: IAMStore

    init(store: IAMStore) throws {
        self.store = store
    }

    /// The active keys, read on first use. A database that cannot be opened leaves none (the error is logged), and
    /// the next look-up tries again.
    private func keys() -> [String: Key] {
        if let keys = active.withLock({ $0 }) { return keys }
        guard store.database.hasContent else { return [:] }
        guard let keys = try? store.db.readNow({ db in try Self.load(db) }) else { return [:] }
        active.withLock { if $0 == nil { $0 = keys } }
        return keys
    }

    /// Forget them (a snapshot restore): the next look-up reads the database again.
    func invalidate() { active.withLock { $0 = nil } }

    static func load(_ db: Database) throws -> [String: Key] {
        var keys: [String: Key] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, secret, account, user FROM access_key WHERE status = 'Active'") {
            keys[row[0]] = Key(secret: row[1], account: row[2], user: row[3])
        }
        return keys
    }

    func reload(_ keys: [String: Key]) {
        active.withLock { $0 = keys }
    }

    /// Reload once the transaction `db` is in commits (a rollback changes nothing).
    func refresh(after db: Database) {
        db.afterNextTransaction(onCommit: { [weak self] db in
            guard let self, let keys = try? Self.load(db) else { return }
            self.reload(keys)
        })
    }

    func secretKey(for accessKeyID: String) -> (secret: String, account: String)? {
        keys()[accessKeyID].map { ($0.secret, $0.account) }
    }

    /// The IAM user of an active key of `account`; nil for the root user or a key IAM did not issue.
    func user(of accessKeyID: String?, account: String) -> String? {
        guard let accessKeyID, let key = keys()[accessKeyID], key.account == account else { return nil }
        return key.user
    }

    /// The user's ARN and id for STS GetCallerIdentity (the root user's for a root key).
    func principal(for accessKeyID: String) -> (arn: String, userID: String)? {
        guard let key = keys()[accessKeyID] else { return nil }
        guard let name = key.user else { return ("arn:aws:iam::\(key.account):root", key.account) }
        guard let user = try? store.db.readNow({ db in try User.fetch(db, account: key.account, name: name) }) else { return nil }
        return (user.arn, user.id)
    }
}
