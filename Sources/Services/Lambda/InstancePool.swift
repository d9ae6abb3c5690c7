import Core
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Everything needed to start instances of one function version as it is now.
struct InstanceSpec: Sendable {
    var key: String
    var config: FunctionConfig
    var account: String
    var region: String
    var taskRoot: String
    /// The function's layers merged in order (its /opt), when it has layers.
    var opt: String? = nil
}

/// Warm instances per function version: reused one invocation at a time, scaled out up to the concurrency limit,
/// killed when the function changes or is deleted, reaped when idle, and all killed at shutdown.
final class InstancePool: Sendable {
    let supervisor: ProcessSupervisor
    let group: any EventLoopGroup
    let runtimeDirectory: String
    let endpoint: ServerEndpoint
    let logs: any LogSink
    let logger: Logger
    /// Idle instances by spec key, and how many are busy.
    private let state = Mutex<[String: (idle: [FunctionInstance], busy: Int)]>([:])
    /// Keys of function versions that changed or went away: their busy instances stop when they finish.
    private let retired = Mutex<Set<String>>([])
    static let idleLifetime: Duration = .seconds(300)

    init(supervisor: ProcessSupervisor, runtimeDirectory: String, endpoint: ServerEndpoint, logs: any LogSink, logger: Logger) {
        self.supervisor = supervisor
        self.group = MultiThreadedEventLoopGroup.singleton
        self.runtimeDirectory = runtimeDirectory
        self.endpoint = endpoint
        self.logs = logs
        self.logger = logger
    }

    /// An idle instance, or a new one when `limit` allows (nil: throttled).
    func acquire(_ spec: InstanceSpec, limit: Int) async throws -> (FunctionInstance, cold: Bool)? {
        while true {
            let picked = state.withLock { s -> (FunctionInstance?, Bool) in
                var entry = s[spec.key] ?? ([], 0)
                if let i = entry.idle.popLast() {
                    entry.busy += 1
                    s[spec.key] = entry
                    return (i, true)
                }
                guard entry.busy < limit else { return (nil, false) }
                entry.busy += 1
                s[spec.key] = entry
                return (nil, true)
            }
            guard picked.1 else { return nil }
            if let instance = picked.0 {
                if await instance.isDead { release(instance, key: spec.key, dead: true); continue }
                return (instance, false)
            }
            do {
                return (try await spawn(spec), true)
            } catch {
                state.withLock { s in s[spec.key]?.busy -= 1 }
                throw error
            }
        }
    }

    /// Give an instance back after an invocation; returns false when it must stop (dead, or its function changed).
    @discardableResult
    func release(_ instance: FunctionInstance, key: String, dead: Bool) -> Bool {
        let stale = retired.withLock { $0.contains(key) }
        return state.withLock { s in
            s[key]?.busy -= 1
            guard !dead && !stale else { return false }
            s[key]?.idle.append(instance)
            return true
        }
    }

    /// Kill the idle instances of every spec key with this prefix (a function changed or went away); busy ones end
    /// with their invocation and are not reused because their key is no longer current.
    func retire(prefix: String) {
        let idle = state.withLock { s -> [FunctionInstance] in
            var out: [FunctionInstance] = []
            var keys: [String] = []
            for k in s.keys where k.hasPrefix(prefix) {
                out += s[k]?.idle ?? []
                s[k]?.idle = []
                keys.append(k)
            }
            retired.withLock { $0.formUnion(keys) }
            return out
        }
        for i in idle { Task { await i.stop() } }
    }

    /// Stop instances idle for longer than `idleLifetime`.
    func reap() async {
        let all = state.withLock { s in s.mapValues(\.idle) }
        for (key, instances) in all {
            for i in instances where ContinuousClock.now - (await i.lastUsed) > Self.idleLifetime {
                let removed = state.withLock { s -> Bool in
                    guard let idx = s[key]?.idle.firstIndex(where: { $0 === i }) else { return false }
                    s[key]?.idle.remove(at: idx)
                    return true
                }
                if removed { await i.stop() }
            }
        }
    }

    func stopAll() async {
        let all = state.withLock { s -> [FunctionInstance] in defer { s.removeAll() }; return s.values.flatMap(\.idle) }
        for i in all { await i.stop() }
        supervisor.killAll()
    }

    /// Start a process for `spec` with the environment Lambda gives, and its own Runtime API endpoint.
    func spawn(_ spec: InstanceSpec) async throws -> FunctionInstance {
        let c = spec.config
        let id = Hex.encode(randomBytes(count: 16))
        let day = String(AWSDate.iso8601(Date().timeIntervalSince1970).prefix(10)).replacingOccurrences(of: "-", with: "/")
        let stream = "\(day)/[\(c.Version)]\(id)"
        let instance = FunctionInstance(id: id, logStream: stream)
        let (executable, arguments) = try Runtimes.command(runtime: c.Runtime ?? "", taskRoot: spec.taskRoot, runtimeDirectory: runtimeDirectory)
        let server = try await RuntimeAPIServer.start(on: group) { request in await instance.handle(request) }
        var env: [String: String] = [
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(server.port)",
            "_HANDLER": c.Handler ?? "",
            "LAMBDA_TASK_ROOT": spec.taskRoot,
            "LAMBDA_RUNTIME_DIR": runtimeDirectory,
            "AWS_LAMBDA_FUNCTION_NAME": c.FunctionName,
            "AWS_LAMBDA_FUNCTION_VERSION": c.Version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(c.MemorySize),
            "AWS_LAMBDA_LOG_GROUP_NAME": c.logGroup,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_\(c.Runtime ?? "provided")",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            // Credentials of the function's account: a 12-digit access key selects it.
            "AWS_ACCESS_KEY_ID": spec.account,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "cloudless",
            // SDK calls in the handler come back to Cloudless.
            "AWS_ENDPOINT_URL": endpoint.url,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LD_LIBRARY_PATH": "/opt/lib",
            "PYTHONPATH": spec.taskRoot,
            "NODE_PATH": "/opt/nodejs/node_modules:\(spec.taskRoot)/node_modules",
        ]
        if let opt = spec.opt {
            env.merge(FunctionCode.layerEnvironment(runtime: c.Runtime ?? "", taskRoot: spec.taskRoot, opt: opt)) { _, layered in layered }
        }
        if let settings = c.Settings, settings.isJSONLogs {
            // The runtime formats application logs as JSON and filters them by level (AWS's runtime interface).
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            env["AWS_LAMBDA_LOG_LEVEL"] = settings.ApplicationLogLevel ?? "INFO"
        }
        for (k, v) in c.Environment ?? [:] { env[k] = v }
        let output = instance.output
        do {
            let process = try supervisor.spawn(
                executable: executable, arguments: arguments, environment: env, directory: spec.taskRoot,
                output: { line in output.append(line) },
                onExit: { code in Task { await instance.processExited(code) } })
            await instance.attach(process: process, server: server)
        } catch {
            server.close()
            throw AWSError("InvalidRuntimeException", "Cloudless could not start the \(c.Runtime ?? "") runtime: \(error)", status: .badGateway)
        }
        return instance
    }
}

