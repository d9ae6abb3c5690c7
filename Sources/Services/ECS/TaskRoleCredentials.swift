import Core
import Foundation
import Synchronization

/// Temporary credentials of tasks' roles, as the container credentials endpoint hands them out: an `ASIA…` key, a
/// secret and a session token per task. They sign requests like any key (also under `--strict-auth`, through Core's
/// `CredentialProvider`) and act in the task's account as `assumed-role/<role>/<task id>`.
public final class TaskRoleCredentials: CredentialProvider, Sendable {
    struct Issued: Sendable {
        var secret: String
        var account: String
        var roleArn: String
        var taskID: String
    }

    private let issued = Mutex<[String: Issued]>([:])

    public init() {}

    /// The key of a task's role (the same for the task's whole life).
    func credentials(taskID: String, account: String, roleArn: String) -> (key: String, secret: String) {
        issued.withLock { all in
            if let (key, found) = all.first(where: { $0.value.taskID == taskID && $0.value.roleArn == roleArn }) {
                return (key, found.secret)
            }
            let key = "ASIA" + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").uppercased().prefix(16))
            let secret = UUID().uuidString.replacingOccurrences(of: "-", with: "") + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8)
            all[key] = Issued(secret: secret, account: account, roleArn: roleArn, taskID: taskID)
            return (key, secret)
        }
    }

    /// The task stopped: its keys stop working.
    func revoke(taskID: String) {
        issued.withLock { all in all = all.filter { $0.value.taskID != taskID } }
    }

    public func secretKey(for accessKeyID: String) -> (secret: String, account: String)? {
        issued.withLock { all in all[accessKeyID].map { ($0.secret, $0.account) } }
    }

    public func principal(for accessKeyID: String) -> (arn: String, userID: String)? {
        issued.withLock { all in
            all[accessKeyID].map { i in
                let role = i.roleArn.split(separator: "/").last.map(String.init) ?? "role"
                return ("arn:aws:sts::\(i.account):assumed-role/\(role)/\(i.taskID)", "AROA\(accessKeyID.dropFirst(4)):\(i.taskID)")
            }
        }
    }
}
