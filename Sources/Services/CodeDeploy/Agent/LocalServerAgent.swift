import Core
import Foundation
import Logging

/// Cloudless as the CodeDeploy agent of an on-premises instance that is a local folder. The engine calls `run` once
/// per lifecycle event, in order; everything between calls lives on disk under the instance root, in the real
/// agent's layout (`opt/codedeploy-agent/deployment-root/...`), so a restart picks up where it was.
public struct LocalServerAgent: ServerAgent {
    let supervisor: ProcessSupervisor
    let logger: Logger
    /// Deployment archives kept per deployment group (the agent's `max_revisions` default), besides the last
    /// successful one.
    static let keptRevisions = 5
    /// Events whose scripts come from the last successful revision: they act on what is running now.
    static let previousRevisionEvents: Set<String> = ["ApplicationStop", "BeforeBlockTraffic", "AfterBlockTraffic"]

    public init(supervisor: ProcessSupervisor, logger: Logger) {
        self.supervisor = supervisor
        self.logger = logger
    }

    func run(event: String, context: ServerDeploymentContext) async -> LifecycleEventOutcome {
        let start = Date().timeIntervalSince1970
        var outcome: LifecycleEventOutcome
        do {
            switch event {
            case "DownloadBundle": try await downloadBundle(context)
            case "Install": try install(context)
            default:
                if let failure = try await runHooks(event: event, context: context) {
                    outcome = failure
                    outcome.startTime = start
                    outcome.endTime = Date().timeIntervalSince1970
                    return outcome
                }
            }
            outcome = LifecycleEventOutcome(status: "Succeeded", startTime: start, endTime: 0)
        } catch let error as AppSpecError {
            outcome = LifecycleEventOutcome(status: "Failed", startTime: start, endTime: 0, errorCode: "UnknownError",
                                            message: error.message)
        } catch {
            outcome = LifecycleEventOutcome(status: "Failed", startTime: start, endTime: 0, errorCode: "UnknownError",
                                            message: "\(error)")
        }
        if outcome.status == "Failed" {
            logger.info("codedeploy agent event failed", metadata: [
                "deployment": "\(context.deploymentID)", "instance": "\(context.instanceName)", "event": "\(event)",
                "message": "\(outcome.message ?? "")"])
        }
        outcome.endTime = Date().timeIntervalSince1970
        return outcome
    }

    // MARK: - Events

    private func downloadBundle(_ context: ServerDeploymentContext) async throws {
        let layout = AgentLayout(instanceRoot: context.instanceRoot)
        let archive = layout.archive(groupID: context.deploymentGroupID, deploymentID: context.deploymentID)
        let appSpecPath = try await BundleUnpacker(supervisor: supervisor)
            .unpack(bundlePath: context.bundlePath, bundleType: context.bundleType, into: archive)
        _ = try AppSpec.parse(try String(contentsOfFile: appSpecPath, encoding: .utf8))
        try writeInstruction(layout.mostRecentInstall(groupID: context.deploymentGroupID),
                             layout.deploymentFolder(groupID: context.deploymentGroupID, deploymentID: context.deploymentID))
        pruneRevisions(layout, context)
    }

    private func install(_ context: ServerDeploymentContext) throws {
        let layout = AgentLayout(instanceRoot: context.instanceRoot)
        let archive = layout.archive(groupID: context.deploymentGroupID, deploymentID: context.deploymentID)
        let appSpec = try Self.appSpec(in: archive)
        try FileInstaller(layout: layout).install(appSpec: appSpec, archive: archive, groupID: context.deploymentGroupID,
                                                  behavior: context.fileExistsBehavior)
        try writeInstruction(layout.lastSuccessfulInstall(groupID: context.deploymentGroupID),
                             layout.deploymentFolder(groupID: context.deploymentGroupID, deploymentID: context.deploymentID))
    }

    /// Every script the AppSpec lists for `event`, in order; the first failure ends the event. Nil when all succeeded
    /// (or there were none).
    private func runHooks(event: String, context: ServerDeploymentContext) async throws -> LifecycleEventOutcome? {
        let layout = AgentLayout(instanceRoot: context.instanceRoot)
        let revision: String
        if Self.previousRevisionEvents.contains(event) {
            guard let last = context.lastSuccessfulDeploymentID else { return nil }  // first deployment: nothing runs yet
            revision = last
        } else {
            revision = context.deploymentID
        }
        let archive = layout.archive(groupID: context.deploymentGroupID, deploymentID: revision)
        if revision != context.deploymentID && BundleUnpacker.appSpecPath(in: archive) == nil {
            logger.info("codedeploy agent: last successful revision is gone, skipping its scripts",
                        metadata: ["event": "\(event)", "archive": "\(archive)"])
            return nil
        }
        let appSpec = try Self.appSpec(in: archive)
        guard let hooks = appSpec.hooks[event], !hooks.isEmpty else { return nil }

        let log = ScriptLog(scriptsLog: layout.scriptsLog(groupID: context.deploymentGroupID, deploymentID: context.deploymentID),
                            agentLog: layout.agentLog, deploymentID: context.deploymentID)
        log.header("LifecycleEvent - \(event)")
        let runner = HookRunner(supervisor: supervisor, logger: logger)
        let environment = Self.environment(event: event, context: context, instanceRoot: layout.instanceRoot)
        for hook in hooks {
            let script = AgentLayout.resolve(hook.location, inside: archive) ?? archive + "/" + hook.location
            let result = await runner.run(hook: hook, script: script, directory: archive, environment: environment, log: log)
            if case .failed(let code, let message) = result {
                return LifecycleEventOutcome(status: "Failed", startTime: 0, endTime: 0, errorCode: code,
                                             scriptName: hook.location, message: message, logTail: log.logTail())
            }
        }
        return nil
    }

    // MARK: - Helpers

    /// The agent's variables, the engine's extras, and what a shell needs; nothing else from the emulator leaks in.
    static func environment(event: String, context: ServerDeploymentContext, instanceRoot: String) -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        var environment = context.extraEnvironment
        environment["PATH"] = inherited["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        environment["HOME"] = inherited["HOME"] ?? NSHomeDirectory()
        environment["LIFECYCLE_EVENT"] = event
        environment["DEPLOYMENT_ID"] = context.deploymentID
        environment["APPLICATION_NAME"] = context.applicationName
        environment["DEPLOYMENT_GROUP_NAME"] = context.deploymentGroupName
        environment["DEPLOYMENT_GROUP_ID"] = context.deploymentGroupID
        environment["CLOUDLESS_INSTANCE_ROOT"] = instanceRoot
        return environment
    }

    static func appSpec(in archive: String) throws -> AppSpec {
        guard let path = BundleUnpacker.appSpecPath(in: archive) else {
            throw AppSpecError(message: "The CodeDeploy agent did not find an AppSpec file within the unpacked revision directory at revision-relative path \"appspec.yml\". The revision was unpacked to directory \"\(archive)\", and the AppSpec file was expected but not found at path \"\(archive)/appspec.yml\". Consult the AWS CodeDeploy Appspec documentation for more information at http://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file.html")
        }
        return try AppSpec.parse(try String(contentsOfFile: path, encoding: .utf8))
    }

    private func writeInstruction(_ path: String, _ content: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try content.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Older deployment folders of the group beyond `keptRevisions`, except the last successful one.
    private func pruneRevisions(_ layout: AgentLayout, _ context: ServerDeploymentContext) {
        let fm = FileManager.default
        let group = layout.deploymentRoot + "/" + context.deploymentGroupID
        guard let names = try? fm.contentsOfDirectory(atPath: group), names.count > Self.keptRevisions else { return }
        let dated = names.compactMap { name -> (String, Date)? in
            guard let date = (try? fm.attributesOfItem(atPath: group + "/" + name))?[.modificationDate] as? Date else { return nil }
            return (name, date)
        }.sorted { $0.1 > $1.1 }
        for (name, _) in dated.dropFirst(Self.keptRevisions)
        where name != context.deploymentID && name != context.lastSuccessfulDeploymentID {
            try? fm.removeItem(atPath: group + "/" + name)
        }
    }
}
