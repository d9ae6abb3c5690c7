import Foundation

/// Where the agent keeps things under an instance's root folder, mirroring the real agent's
/// `/opt/codedeploy-agent/deployment-root` on a server.
struct AgentLayout: Sendable {
    let instanceRoot: String

    init(instanceRoot: String) {
        // Without trailing slashes: re-rooted paths are compared against it as prefixes.
        var root = instanceRoot
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.instanceRoot = root
    }

    var deploymentRoot: String { instanceRoot + "/opt/codedeploy-agent/deployment-root" }
    var instructions: String { deploymentRoot + "/deployment-instructions" }
    var agentLog: String { deploymentRoot + "/deployment-logs/codedeploy-agent-deployments.log" }

    func deploymentFolder(groupID: String, deploymentID: String) -> String {
        "\(deploymentRoot)/\(groupID)/\(deploymentID)"
    }
    func archive(groupID: String, deploymentID: String) -> String {
        deploymentFolder(groupID: groupID, deploymentID: deploymentID) + "/deployment-archive"
    }
    func scriptsLog(groupID: String, deploymentID: String) -> String {
        deploymentFolder(groupID: groupID, deploymentID: deploymentID) + "/logs/scripts.log"
    }
    func lastSuccessfulInstall(groupID: String) -> String { "\(instructions)/\(groupID)_last_successful_install" }
    func mostRecentInstall(groupID: String) -> String { "\(instructions)/\(groupID)_most_recent_install" }
    /// The files (and folders it created) the most recent Install put in place, one path a line: the next Install
    /// removes them first.
    func cleanupFile(groupID: String) -> String { "\(instructions)/\(groupID)-cleanup" }

    /// An absolute path on the "server" (an AppSpec destination or permissions object) inside the instance root,
    /// or nil when `..` would lead out of it.
    func reRoot(_ serverPath: String) -> String? {
        Self.resolve(serverPath, inside: instanceRoot)
    }

    /// A path relative to a folder (an AppSpec source or hook location inside the archive), or nil when it leaves it.
    static func resolve(_ relative: String, inside folder: String) -> String? {
        var parts: [Substring] = []
        for part in relative.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(part)
            }
        }
        return parts.isEmpty ? folder : folder + "/" + parts.joined(separator: "/")
    }
}
