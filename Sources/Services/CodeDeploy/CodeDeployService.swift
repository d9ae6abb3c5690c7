import Core
import Foundation
import GRDB
import Logging

/// AWS CodeDeploy over AWS JSON 1.1 (`X-Amz-Target: CodeDeploy_20141006.<Op>`). State lives in `codedeploy.sqlite`;
/// the deployment engine (`DeploymentEngine`) drives deployments on the emulator's clock.
public final class CodeDeployService: AWSService, SnapshotParticipant {
    public let signingName = "codedeploy"
    public let wireProtocol = WireProtocol.json11
    let store: CodeDeployStore
    let clock: EmulatorClock
    let logger: Logger
    let objects: any ObjectSource
    let functions: any FunctionEventSink
    let aliases: any FunctionAliasTraffic
    let agent: any ServerAgent
    let directory: String
    let engine: DeploymentEngine
    /// ECS and ELBv2 for ECS blue/green deployments (`ECSLinks.swift`).
    let ecsLinks = ECSLinks()
    /// Cloudless's own address, given to hook scripts in AWS_ENDPOINT_URL.
    let endpoint: ServerEndpoint?

    /// `agent`: Cloudless as the on-premises instances' CodeDeploy agent (`LocalServerAgent`).
    public convenience init(directory: String, clock: EmulatorClock, objects: any ObjectSource, functions: any FunctionEventSink,
                            aliases: any FunctionAliasTraffic, agent: ServerAgentHandle, endpoint: ServerEndpoint?, logger: Logger) throws {
        try self.init(directory: directory, clock: clock, objects: objects, functions: functions, aliases: aliases,
                      serverAgent: agent.agent, endpoint: endpoint, logger: logger)
    }

    init(directory: String, clock: EmulatorClock, objects: any ObjectSource, functions: any FunctionEventSink,
         aliases: any FunctionAliasTraffic, serverAgent: any ServerAgent, endpoint: ServerEndpoint? = nil, logger: Logger) throws {
        store = try CodeDeployStore(directory: directory)
        self.clock = clock
        self.logger = logger
        self.objects = objects
        self.functions = functions
        self.aliases = aliases
        self.agent = serverAgent
        self.directory = directory
        self.endpoint = endpoint
        engine = DeploymentEngine(clock: clock)
    }

    /// Resume the deployments a stop or a crash left unfinished, and drive new ones from now on.
    public func start() { engine.start(self) }

    public func shutdown() async { await engine.stop() }

    public func reset() async throws {
        await engine.stop()
        try store.reset()
        engine.start(self)
    }

    public func stopForRestore() async { await engine.stop() }
    public func resumeAfterRestore() async throws { engine.start(self) }

    public func operationName(for request: AWSRequest) -> String { JSONProtocol.operation(request) ?? "-" }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let op = JSONProtocol.operation(request) else {
            throw AWSError("UnknownOperationException", "CodeDeploy is served over AWS JSON 1.1 (X-Amz-Target).")
        }
        let input = Input(try await JSONProtocol.input(request, limit: 4 << 20))
        let s = Scope(account: request.caller.accountID, region: request.caller.region)
        let output: Doc
        switch op {
        case "CreateApplication": output = try createApplication(s, input)
        case "GetApplication": output = try getApplication(s, input)
        case "BatchGetApplications": output = try batchGetApplications(s, input)
        case "ListApplications": output = try listApplications(s, input)
        case "UpdateApplication": output = try updateApplication(s, input)
        case "DeleteApplication": output = try deleteApplication(s, input)
        case "TagResource": output = try tagResource(s, input)
        case "UntagResource": output = try untagResource(s, input)
        case "ListTagsForResource": output = try listTagsForResource(s, input)
        case "CreateDeploymentConfig": output = try createDeploymentConfig(s, input)
        case "GetDeploymentConfig": output = try getDeploymentConfig(s, input)
        case "ListDeploymentConfigs": output = try listDeploymentConfigs(s, input)
        case "DeleteDeploymentConfig": output = try deleteDeploymentConfig(s, input)
        case "CreateDeploymentGroup":
            try await checkECSGroup(s, input)
            output = try createDeploymentGroup(s, input)
        case "GetDeploymentGroup": output = try getDeploymentGroup(s, input)
        case "BatchGetDeploymentGroups": output = try batchGetDeploymentGroups(s, input)
        case "ListDeploymentGroups": output = try listDeploymentGroups(s, input)
        case "UpdateDeploymentGroup": output = try updateDeploymentGroup(s, input)
        case "DeleteDeploymentGroup": output = try deleteDeploymentGroup(s, input)
        case "RegisterOnPremisesInstance": output = try registerOnPremisesInstance(s, input)
        case "DeregisterOnPremisesInstance": output = try deregisterOnPremisesInstance(s, input)
        case "GetOnPremisesInstance": output = try getOnPremisesInstance(s, input)
        case "BatchGetOnPremisesInstances": output = try batchGetOnPremisesInstances(s, input)
        case "ListOnPremisesInstances": output = try listOnPremisesInstances(s, input)
        case "AddTagsToOnPremisesInstances": output = try addTagsToOnPremisesInstances(s, input)
        case "RemoveTagsFromOnPremisesInstances": output = try removeTagsFromOnPremisesInstances(s, input)
        case "RegisterApplicationRevision": output = try registerApplicationRevision(s, input)
        case "GetApplicationRevision": output = try getApplicationRevision(s, input)
        case "ListApplicationRevisions": output = try listApplicationRevisions(s, input)
        case "BatchGetApplicationRevisions": output = try batchGetApplicationRevisions(s, input)
        case "CreateDeployment": output = try createDeployment(s, input)
        case "GetDeployment": output = try getDeployment(s, input)
        case "BatchGetDeployments": output = try batchGetDeployments(s, input)
        case "ListDeployments": output = try listDeployments(s, input)
        case "StopDeployment": output = try stopDeployment(s, input)
        case "ContinueDeployment": output = try continueDeployment(s, input)
        case "ListDeploymentTargets": output = try listDeploymentTargets(s, input)
        case "BatchGetDeploymentTargets": output = try batchGetDeploymentTargets(s, input)
        case "ListDeploymentInstances": output = try listDeploymentInstances(s, input)
        case "BatchGetDeploymentInstances": output = try batchGetDeploymentInstances(s, input)
        case "GetDeploymentInstance": output = try getDeploymentInstance(s, input)
        case "PutLifecycleEventHookExecutionStatus": output = try putLifecycleEventHookExecutionStatus(s, input)
        default:
            throw AWSError("UnknownOperationException", "The operation \(op) is not supported by Cloudless's CodeDeploy.")
        }
        return JSONProtocol.response(output, contentType: "application/x-amz-json-1.1")
    }

    /// One page of `items` after an opaque nextToken (the base64 offset), as `key` and `nextToken`.
    static func page(_ items: [Any], _ input: Input, key: String, size: Int = 100) throws -> Doc {
        var start = 0
        if let token = try input.string("nextToken") {
            guard let d = Data(base64Encoded: token), let s = String(data: d, encoding: .utf8), s.hasPrefix("o:"),
                  let n = Int(s.dropFirst(2)), n >= 0 else {
                throw CDError.e("InvalidNextTokenException", "The next token was specified in an invalid format.")
            }
            start = min(n, items.count)
        }
        let end = min(items.count, start + size)
        var out: Doc = [key: Array(items[start..<end])]
        if end < items.count { out["nextToken"] = Data("o:\(end)".utf8).base64EncodedString() }
        return out
    }

    func arn(_ s: Scope, _ kind: String, _ name: String) -> String { "arn:aws:codedeploy:\(s.region):\(s.account):\(kind):\(name)" }
}

/// The agent the Emulator hands the service (public wrapper: `ServerAgent` itself is internal to this module).
public struct ServerAgentHandle: Sendable {
    let agent: any ServerAgent
}

extension ServerAgentHandle {
    /// Cloudless as the instances' agent: `LocalServerAgent` runs the events on the instance folders.
    public static func local(supervisor: ProcessSupervisor, logger: Logger) -> ServerAgentHandle {
        ServerAgentHandle(agent: LocalServerAgent(supervisor: supervisor, logger: logger))
    }
}
