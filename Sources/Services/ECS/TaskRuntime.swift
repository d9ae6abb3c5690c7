#if canImport(Glibc)
import Glibc
#endif
import Core
import Foundation
import Logging
import Synchronization

/// Runs tasks' containers as local processes: prepares what a container needs before it starts (secrets,
/// environment files, log group), spawns it under Core's supervisor, runs its health checks and stops it.
/// Holds no task state itself: the scheduler owns `TaskRun`s and hands them in.
final class TaskRuntime: Sendable {
    let supervisor: ProcessSupervisor
    let logs: any LogSink
    let secrets: SecretResolverLink
    let objects: (any ObjectSource)?
    let endpoint: ServerEndpoint
    let images: ImageMap
    let directory: String
    let clock: EmulatorClock
    let roleCredentials: TaskRoleCredentials
    let logger: Logger
    /// CPU time seen at the previous sample, per process: utilization is the difference over wall time.
    private let cpuSamples = Mutex<[pid_t: (ticks: Double, at: Double)]>([:])
    /// The loopback addresses given to tasks with a network of their own.
    let addresses = TaskAddresses()

    init(supervisor: ProcessSupervisor, logs: any LogSink, secrets: SecretResolverLink, objects: (any ObjectSource)?,
         endpoint: ServerEndpoint, images: ImageMap, directory: String, clock: EmulatorClock,
         roleCredentials: TaskRoleCredentials, logger: Logger) {
        self.supervisor = supervisor
        self.logs = logs
        self.secrets = secrets
        self.objects = objects
        self.endpoint = endpoint
        self.images = images
        self.directory = directory
        self.clock = clock
        self.roleCredentials = roleCredentials
        self.logger = logger
    }

    // MARK: Preparing

    /// Everything a task needs before its first container starts. Throws LaunchFailure with AWS's reason when a
    /// secret, an environment file or the log group is missing: then nothing starts.
    func prepare(task: ECSTask, meta: TaskMeta, definition: TaskDefinition) async throws -> TaskRun {
        let folder = directory + "/" + task.id
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let overrides = (try? task.overrides.decode(TaskOverrideView.self))?.containerOverrides ?? []
        var containers: [ContainerRun] = []
        for spec in definition.containers {
            var run = ContainerRun(spec: spec)
            let override = overrides.first { $0.name == spec.name }
            if let launch = try await launch(spec, override: override, task: task, meta: meta, definition: definition, folder: folder) {
                run.launch = launch
            }
            if spec.healthCheck != nil { run.health = "UNKNOWN" }
            if let log = spec.logConfiguration, log.logDriver == "awslogs" {
                run.logDestination = try logDestination(log, container: spec.name, task: task, meta: meta)
            }
            containers.append(run)
        }
        let ports = containers.filter { $0.launch != nil }.flatMap { $0.spec.portMappings?.compactMap(\.containerPort) ?? [] }
        // awsvpc: a network namespace of its own, reached from the host at its own loopback address, where the host
        // allows one. Otherwise tasks share the host's network, and a port a process already holds stops the task,
        // as Docker's port allocation would.
        if definition.networkMode == "awsvpc" && containers.contains(where: { $0.launch != nil }) && NetworkNamespace.isSupported {
            let address = addresses.take()
            do {
                let network = try NetworkNamespace(hostAddress: address, ports: Array(Set(ports)).sorted(), endpointPort: endpoint.port)
                return TaskRun(containers: containers, address: address, directory: folder, network: network)
            } catch {
                // An address another process on the host holds (another emulator's task) is not handed out again.
                if case NetworkNamespaceError.addressInUse = error {} else { addresses.give(address) }
                throw LaunchFailure(reason: "ResourceInitializationError: failed to configure the task's network: \(error)")
            }
        }
        if definition.networkMode == "awsvpc" && !containers.contains(where: { $0.launch != nil }) {
            // Simulated: nothing listens, but its address is its own (a load balancer target of its own).
            return TaskRun(containers: containers, address: addresses.take(), directory: folder, network: nil)
        }
        for c in containers where c.launch != nil {
            for port in c.spec.portMappings?.compactMap(\.containerPort) ?? [] where !Self.portIsFree(port) {
                throw LaunchFailure(reason: "CannotStartContainerError: Error response from daemon: driver failed programming external connectivity on endpoint \(c.spec.name): Bind for 0.0.0.0:\(port) failed: port is already allocated")
            }
        }
        return TaskRun(containers: containers, address: "127.0.0.1", directory: folder, network: nil)
    }

    /// The command line, environment and folder of a container that runs as a process, or nil (simulated).
    func launch(_ spec: ContainerSpec, override: ContainerOverrideView?, task: ECSTask, meta: TaskMeta, definition: TaskDefinition,
                folder: String) async throws -> Launch? {
        let argv: [String]
        var environment: [String: String] = [:]
        var directory: String?
        let command = override?.command ?? spec.command
        if spec.dockerLabels?["cloudless.run"] == "process" {
            argv = (spec.entryPoint ?? []) + (command ?? [])
        } else if let image = images.entry(for: spec.image) {
            // Docker: an entryPoint of the task definition replaces the image's, and drops the image's command.
            let entry = spec.entryPoint ?? image.entryPoint ?? []
            argv = entry + (command ?? (spec.entryPoint != nil ? [] : image.command ?? []))
            environment = image.environment ?? [:]
            directory = image.workingDirectory
        } else {
            return nil
        }
        guard let first = argv.first else {
            throw LaunchFailure(reason: "CannotStartContainerError: Error response from daemon: No command specified")
        }
        // The task definition's folder wins where it exists on this host (an image's /app usually does not).
        if let wd = spec.workingDirectory, FileManager.default.fileExists(atPath: wd) { directory = wd }
        let dir = directory ?? folder
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        guard let resolved = Self.resolve(first, path: path, directory: dir) else {
            throw LaunchFailure(reason: "CannotStartContainerError: Error response from daemon: failed to create task for container: exec: \"\(first)\": executable file not found in $PATH")
        }
        var env: [String: String] = [
            "PATH": path,
            "HOME": folder,
            "HOSTNAME": "ip-\(task.id.prefix(8))",
            "AWS_REGION": meta.region,
            "AWS_DEFAULT_REGION": meta.region,
            "AWS_ENDPOINT_URL": endpoint.url,
            "AWS_EXECUTION_ENV": task.launchType == "EC2" ? "AWS_ECS_EC2" : "AWS_ECS_FARGATE",
            "ECS_CONTAINER_METADATA_URI_V4": "\(endpoint.url)/_cloudless/ecs/metadata/\(task.id)/\(spec.name)",
            "ECS_CONTAINER_METADATA_URI": "\(endpoint.url)/_cloudless/ecs/metadata/\(task.id)/\(spec.name)",
        ]
        if definition.taskRoleArn != nil {
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "\(endpoint.url)/_cloudless/ecs/credentials/\(task.id)"
        }
        env.merge(environment) { $1 }
        for file in spec.environmentFiles ?? [] {
            env.merge(try await environmentFile(file, meta: meta)) { $1 }
        }
        for pair in spec.environment ?? [] { if let n = pair.name { env[n] = pair.value ?? "" } }
        for pair in override?.environment ?? [] { if let n = pair.name { env[n] = pair.value ?? "" } }
        for secret in spec.secrets ?? [] {
            env[secret.name] = try resolveSecret(secret.valueFrom, meta: meta)
        }
        // ulimits through util-linux's prlimit, which sets them and then runs the command; where it is missing or a
        // limit is above what the emulator may grant, the container runs without them (logged).
        var executable = resolved
        var arguments = Array(argv.dropFirst())
        let limits = (spec.ulimits ?? []).compactMap { u in Self.prlimitOptions[u.name].map { "--\($0)=\(u.softLimit):\(u.hardLimit)" } }
        if !limits.isEmpty {
            if let prlimit = Self.resolve("prlimit", path: path + ":/usr/bin:/bin", directory: dir) {
                arguments = limits + ["--", executable] + arguments
                executable = prlimit
            } else {
                logger.info("ECS: container \(spec.name) of task \(task.id) runs without its ulimits: prlimit is not installed")
            }
        }
        if spec.user != nil {
            logger.info("ECS: container \(spec.name) of task \(task.id) runs as the emulator's user; 'user' is ignored")
        }
        return Launch(executable: executable, arguments: arguments, environment: env, directory: dir)
    }

    /// `valueFrom` of a secret: a Secrets Manager ARN (full, or without the random suffix, with optional
    /// `:json-key:stage:version`). Anything else names a Parameter Store parameter, which Cloudless does not serve.
    func resolveSecret(_ valueFrom: String, meta: TaskMeta) throws -> String {
        let prefix = "unable to pull secrets or registry auth: execution resource retrieval failed"
        guard valueFrom.hasPrefix("arn:aws:secretsmanager:") else {
            throw LaunchFailure(reason: "ResourceInitializationError: \(prefix): unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: Cloudless does not serve Systems Manager Parameter Store: \(valueFrom)")
        }
        guard let resolver = secrets.resolver else {
            throw LaunchFailure(reason: "ResourceInitializationError: \(prefix): unable to retrieve secret from asm: Secrets Manager is not available")
        }
        let reference = SecretReference(parsing: valueFrom)
        let arn = ARN(reference.secretID)
        do {
            return try resolver.resolve(reference, account: arn?.account ?? meta.account, region: arn?.region ?? meta.region)
        } catch let e as AWSError {
            throw LaunchFailure(reason: "ResourceInitializationError: \(prefix): unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret \(valueFrom) from secrets manager: \(e.code): \(e.message) status code: 400")
        }
    }

    /// An `environmentFiles` entry: `arn:aws:s3:::bucket/key.env`, lines of `NAME=value` (# comments, blanks skipped).
    func environmentFile(_ file: ContainerSpec.EnvironmentFile, meta: TaskMeta) async throws -> [String: String] {
        let prefix = "ResourceInitializationError: failed to download env files: file download command: non empty error stream"
        guard file.type == "s3", file.value.hasPrefix("arn:aws:s3:::"), let objects else {
            throw LaunchFailure(reason: "\(prefix): unsupported environment file \(file.value)")
        }
        let path = file.value.dropFirst("arn:aws:s3:::".count)
        guard let slash = path.firstIndex(of: "/") else { throw LaunchFailure(reason: "\(prefix): invalid S3 ARN \(file.value)") }
        let bucket = String(path[..<slash]), key = String(path[path.index(after: slash)...])
        let bytes: [UInt8]
        do { bytes = try await objects.objectBytes(bucket: bucket, key: key, limit: 1 << 20) } catch let e as AWSError {
            throw LaunchFailure(reason: "\(prefix): \(e.code): \(e.message)")
        }
        var env: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard !t.isEmpty, !t.hasPrefix("#"), let eq = t.firstIndex(of: "=") else { continue }
            env[String(t[..<eq])] = String(t[t.index(after: eq)...])
        }
        return env
    }

    func logDestination(_ log: ContainerSpec.LogConfiguration, container: String, task: ECSTask, meta: TaskMeta) throws -> LogDestination {
        let options = log.options ?? [:]
        guard let group = options["awslogs-group"] else {
            throw LaunchFailure(reason: "ResourceInitializationError: failed to validate logger args: awslogs-group is required")
        }
        let region = options["awslogs-region"] ?? meta.region
        let prefix = options["awslogs-stream-prefix"]
        let stream = prefix.map { "\($0)/\(container)/\(task.id)" } ?? task.id
        if options["awslogs-create-group"] == "true" {
            logs.createGroupIfMissing(account: meta.account, region: region, group: group)
        } else if !logs.groupExists(account: meta.account, region: region, group: group) {
            throw LaunchFailure(reason: "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist. : exit status 1")
        }
        return LogDestination(account: meta.account, region: region, group: group, stream: stream)
    }

    // MARK: Processes

    /// Start a container's process; its output goes to its log destination, its exit to `onExit`.
    func spawn(_ container: ContainerRun, run: TaskRun, onExit: @escaping @Sendable (Int32) -> Void) throws -> SupervisedProcess? {
        guard let launch = container.launch else { return nil }
        let destination = container.logDestination
        let logs = self.logs, clock = self.clock
        return try supervisor.spawn(
            executable: launch.executable, arguments: launch.arguments, environment: launch.environment,
            directory: launch.directory, networkNamespace: run.network,
            output: { line in
                guard let d = destination else { return }
                let ms = Int64((clock.now() * 1000).rounded(.down))
                logs.append(account: d.account, region: d.region, group: d.group, stream: d.stream,
                            events: [LogEvent(timestamp: ms, message: line)])
            },
            onExit: onExit)
    }

    /// Run a container's health check once: CMD runs its arguments, CMD-SHELL a shell line; killed after `timeout`.
    func healthCheck(_ container: ContainerRun, run: TaskRun, done: @escaping @Sendable (Bool) -> Void) {
        guard let check = container.spec.healthCheck, let first = check.command.first else { return done(false) }
        let argv: [String]
        switch first {
        case "CMD-SHELL": argv = ["/bin/sh", "-c", check.command.dropFirst().joined(separator: " ")]
        case "CMD": argv = Array(check.command.dropFirst())
        default: argv = check.command
        }
        let env = container.launch?.environment ?? ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let dir = container.launch?.directory ?? run.directory
        guard let exe = argv.first.flatMap({ Self.resolve($0, path: env["PATH"] ?? "/usr/bin:/bin", directory: dir) }) else {
            return done(false)
        }
        let once = Mutex(false)
        let finish: @Sendable (Bool) -> Void = { ok in
            if once.withLock({ let was = $0; $0 = true; return !was }) { done(ok) }
        }
        do {
            let p = try supervisor.spawn(executable: exe, arguments: Array(argv.dropFirst()), environment: env, directory: dir,
                                         networkNamespace: run.network, output: { _ in }, onExit: { code in finish(code == 0) })
            let timeout = check.timeout ?? 5
            Task {
                try? await Task.sleep(for: .seconds(timeout))
                if p.isRunning { p.kill(); finish(false) }
            }
        } catch {
            finish(false)
        }
    }

    /// SIGTERM to every running process of the task.
    func terminate(_ run: TaskRun?) {
        for c in run?.containers ?? [] { if let p = c.process, p.isRunning { _ = Glibc.kill(-p.pid, SIGTERM) } }
    }

    /// After the task stopped: nothing of it is left running.
    func release(_ run: TaskRun?) {
        guard let run else { return }
        killAll(run)
        if let network = run.network {
            network.close()
            addresses.give(network.hostAddress)
        } else if run.address != "127.0.0.1" {
            addresses.give(run.address)
        }
        try? FileManager.default.removeItem(atPath: run.directory)
    }

    func killAll(_ run: TaskRun?) {
        for c in run?.containers ?? [] { c.process?.kill() }
    }

    /// CPU (percent of the task's CPU units) and memory (percent of its MiB) of a task's processes.
    func usage(_ run: TaskRun?, cpuUnits: Double, memoryMiB: Double) -> (cpu: Double, memory: Double) {
        var cpu = 0.0, rss = 0.0
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let now = Date().timeIntervalSince1970
        for c in run?.containers ?? [] {
            guard let p = c.process, p.isRunning,
                  let stat = try? String(contentsOfFile: "/proc/\(p.pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // Fields after the command: state is [0], utime [11], stime [12], rss (pages) [21].
            guard fields.count > 21, let ut = Double(fields[11]), let st = Double(fields[12]), let pages = Double(fields[21]) else { continue }
            let ticks = ut + st
            let previous = cpuSamples.withLock { samples -> (ticks: Double, at: Double)? in
                let prev = samples[p.pid]
                samples[p.pid] = (ticks, now)
                return prev
            }
            if let previous, now > previous.at {
                cpu += (ticks - previous.ticks) / hz / (now - previous.at)
            }
            rss += pages * Double(sysconf(Int32(_SC_PAGESIZE)))
        }
        return (cpu * 100 / max(cpuUnits / 1024, 0.001), rss / (memoryMiB * 1_048_576) * 100)
    }

    // MARK: Helpers

    /// Docker's ulimit names → prlimit's options.
    static let prlimitOptions: [String: String] = [
        "core": "core", "cpu": "cpu", "data": "data", "fsize": "fsize", "locks": "locks", "memlock": "memlock",
        "msgqueue": "msgqueue", "nice": "nice", "nofile": "nofile", "nproc": "nproc", "rss": "rss", "rtprio": "rtprio",
        "rttime": "rttime", "sigpending": "sigpending", "stack": "stack",
    ]

    static func resolve(_ name: String, path: String, directory: String) -> String? {
        if name.contains("/") {
            let full = name.hasPrefix("/") ? name : directory + "/" + name
            return access(full, X_OK) == 0 ? full : nil
        }
        for dir in path.split(separator: ":") {
            let full = "\(dir)/\(name)"
            if access(full, X_OK) == 0 { return full }
        }
        return nil
    }

    static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        // As a server would bind: connections in TIME_WAIT do not make the port taken, only a listener does.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = INADDR_ANY
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc == 0
    }
}

/// Secrets Manager is built after ECS in the wiring; it is connected here once it exists.
final class SecretResolverLink: Sendable {
    private let value = Mutex<(any SecretResolver)?>(nil)
    init() {}
    var resolver: (any SecretResolver)? { value.withLock { $0 } }
    func connect(_ r: any SecretResolver) { value.withLock { $0 = r } }
}

/// What RunTask's overrides say about containers.
struct TaskOverrideView: Decodable {
    var containerOverrides: [ContainerOverrideView]?
}

struct ContainerOverrideView: Decodable {
    var name: String?
    var command: [String]?
    var environment: [KeyValuePair]?
}

/// Hands out 127.10.x.y addresses to tasks (Linux routes all of 127.0.0.0/8 to loopback), one per live task.
final class TaskAddresses: Sendable {
    private let state = Mutex<(next: Int, free: [String], used: Set<String>)>((1, [], []))

    func take() -> String {
        state.withLock { s in
            if let a = s.free.popLast() { s.used.insert(a); return a }
            while true {
                let n = s.next
                s.next += 1
                let a = "127.10.\(n / 250).\(n % 250 + 1)"
                if s.used.insert(a).inserted { return a }  // not one a surviving task holds
            }
        }
    }

    /// An address a task that survived a restart still holds.
    func reserve(_ address: String) {
        state.withLock { s in
            s.used.insert(address)
            s.free.removeAll { $0 == address }
        }
    }

    func give(_ address: String) {
        state.withLock { s in
            if s.used.remove(address) != nil { s.free.insert(address, at: 0) }
        }
    }
}
