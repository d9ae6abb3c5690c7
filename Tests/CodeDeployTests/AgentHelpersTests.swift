#if canImport(Glibc)
import Glibc
#endif
import Core
import Foundation
import Logging
import Testing
import ZIPFoundation

@testable import CodeDeploy

/// A local "server" for the agent's tests: a temporary instance root, revisions built from files, and the agent.
final class AgentLab: Sendable {
    let root: String
    let work: String
    let supervisor = ProcessSupervisor()
    let agent: LocalServerAgent
    static let groupID = "0f0e0d0c-1111-2222-3333-444455556666"

    init() throws {
        let base = NSTemporaryDirectory() + "cdagent-" + UUID().uuidString
        root = base + "/server"
        work = base + "/work"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        agent = LocalServerAgent(supervisor: supervisor, logger: Logger(label: "cdagent-test"))
    }

    deinit {
        supervisor.killAll()
        try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent)
    }

    var layout: AgentLayout { AgentLayout(instanceRoot: root) }

    /// A revision folder from `files` (path → content); paths in `executable` get mode 755.
    func folder(_ files: [String: String], executable: Set<String> = []) throws -> String {
        let dir = work + "/src-" + UUID().uuidString
        for (path, content) in files {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: true, encoding: .utf8)
            chmod(full, executable.contains(path) ? 0o755 : 0o644)
        }
        return dir
    }

    /// A bundle of `type` (zip, tar, tgz) holding `folder`'s contents at its top.
    func bundle(_ folder: String, type: String) throws -> String {
        let path = work + "/bundle-" + UUID().uuidString + "." + type
        switch type {
        case "zip":
            try FileManager.default.zipItem(at: URL(fileURLWithPath: folder), to: URL(fileURLWithPath: path), shouldKeepParent: false)
        default:
            let tar = Process()
            tar.executableURL = URL(fileURLWithPath: "/bin/tar")
            tar.arguments = [type == "tgz" ? "-czf" : "-cf", path, "-C", folder, "."]
            try tar.run()
            tar.waitUntilExit()
            #expect(tar.terminationStatus == 0)
        }
        return path
    }

    func context(_ deploymentID: String, bundle: String, type: String = "zip", last: String? = nil,
                 behavior: String = "DISALLOW") -> ServerDeploymentContext {
        ServerDeploymentContext(deploymentID: deploymentID, applicationName: "WebApp", deploymentGroupName: "WebServers",
                                deploymentGroupID: Self.groupID, instanceName: "server-1", instanceRoot: root,
                                bundlePath: bundle, bundleType: type, lastSuccessfulDeploymentID: last,
                                fileExistsBehavior: behavior, extraEnvironment: ["AWS_REGION": "us-east-1"])
    }

    static let inPlaceEvents = ["ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall",
                                "ApplicationStart", "ValidateService"]

    /// Every in-place event in order until one fails; the outcomes by event.
    func deploy(_ context: ServerDeploymentContext) async -> [String: LifecycleEventOutcome] {
        var outcomes: [String: LifecycleEventOutcome] = [:]
        for event in Self.inPlaceEvents {
            let outcome = await agent.run(event: event, context: context)
            outcomes[event] = outcome
            if outcome.status != "Succeeded" { break }
        }
        return outcomes
    }

    func read(_ serverPath: String) -> String? {
        try? String(contentsOfFile: root + serverPath, encoding: .utf8)
    }

    func scriptsLog(_ deploymentID: String) -> String {
        (try? String(contentsOfFile: layout.scriptsLog(groupID: Self.groupID, deploymentID: deploymentID), encoding: .utf8)) ?? ""
    }
}

/// A port nothing listens on right now.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether a process is alive (and not a zombie).
func processAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}
