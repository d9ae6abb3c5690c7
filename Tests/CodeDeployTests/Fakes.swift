@testable import CodeDeploy
import Core
import Foundation
import Logging
import Synchronization

/// An alias store in memory, as Lambda's FunctionAliasTraffic would keep it.
final class FakeAliases: FunctionAliasTraffic {
    let routing = Mutex<[String: AliasRouting]>([:])
    let history = Mutex<[AliasRouting]>([])
    func aliasRouting(aliasARN: String) async throws -> AliasRouting {
        guard let r = routing.withLock({ $0[aliasARN] }) else { throw AWSError("ResourceNotFoundException", "Alias not found") }
        return r
    }
    func setAliasRouting(aliasARN: String, _ r: AliasRouting) async throws {
        routing.withLock { $0[aliasARN] = r }
        history.withLock { $0.append(r) }
    }
    func versionExists(functionARN: String, version: String) async -> Bool { ["1", "2"].contains(version) }
}

/// Records hook invocations instead of running functions.
final class FakeFunctions: FunctionEventSink {
    let invocations = Mutex<[(String, [String: String])]>([])
    func acceptsEvents(functionARN: String) -> Bool { true }
    func invokeAsync(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) throws {
        let doc = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: String] ?? [:]
        invocations.withLock { $0.append((functionARN, doc)) }
    }
}

struct FakeObjects: ObjectSource {
    func objectBytes(bucket: String, key: String, limit: Int) async throws -> [UInt8] {
        throw AWSError("NoSuchKey", "The specified key does not exist.")
    }
}

/// Fails the events named in `failing` (instance → event), records every call.
final class FakeAgent: ServerAgent {
    let failing: [String: String]
    let calls = Mutex<[(String, String)]>([])
    init(failing: [String: String] = [:]) { self.failing = failing }
    func run(event: String, context: ServerDeploymentContext) async -> LifecycleEventOutcome {
        calls.withLock { $0.append((context.instanceName, event)) }
        // A bundle that says `# bad` fails on every instance `failing` names; otherwise the named event always fails.
        let bundle = (try? String(contentsOfFile: context.bundlePath, encoding: .utf8)) ?? ""
        let failed = failing[context.instanceName] == event || (bundle.contains("# bad") && failing["bad:" + context.instanceName] == event)
        return LifecycleEventOutcome(status: failed ? "Failed" : "Succeeded", startTime: 0, endTime: 0,
                                     errorCode: failed ? "ScriptFailed" : nil, scriptName: failed ? "scripts/x.sh" : nil,
                                     message: failed ? "Script at specified location: scripts/x.sh run as user root failed with exit code 1" : nil, logTail: nil)
    }
}

struct Harness {
    let dir: String
    let clock: EmulatorClock
    let aliases: FakeAliases
    let functions: FakeFunctions
    let agent: FakeAgent
    let service: CodeDeployService
    let s = Scope(account: "000000000000", region: "us-east-1")

    init(dir: String? = nil, clock: EmulatorClock = EmulatorClock(), aliases: FakeAliases = FakeAliases(), functions: FakeFunctions = FakeFunctions(),
         agent: FakeAgent = FakeAgent()) throws {
        let dir = dir ?? NSTemporaryDirectory() + "cd-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.dir = dir
        self.clock = clock
        self.aliases = aliases
        self.functions = functions
        self.agent = agent
        service = try CodeDeployService(directory: dir, clock: clock, objects: FakeObjects(), functions: functions, aliases: aliases,
                                        serverAgent: agent, logger: Logger(label: "test"))
        service.start()
    }

    func call(_ f: (CodeDeployService) -> (Scope, Input) throws -> Doc, _ input: Doc) throws -> Doc { try f(service)(s, Input(input)) }

    func deployment(_ id: String) throws -> Doc { try call(CodeDeployService.getDeployment, ["deploymentId": id])["deploymentInfo"] as? Doc ?? [:] }

    func status(_ id: String) throws -> String { try deployment(id)["status"] as? String ?? "" }

    /// Poll `condition` for up to 10 s.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<200 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }
}

import Testing

func code(_ body: () throws -> Any) -> String? {
    do { _ = try body(); return nil } catch let e as AWSError { return e.code } catch { return "\(error)" }
}
