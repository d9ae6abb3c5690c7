import Core
import Foundation
import Logging

/// `--init-dir DIR`: the `*.sh` and `*.py` files of a folder, run once the server is ready, one after another in name
/// order, as clients of it (AWS_ENDPOINT_URL, credentials and region set). Each runs under the ProcessSupervisor (own
/// process group, killed with the emulator), its output goes to the log line by line. A script that fails (non-zero
/// exit, or one that cannot start) is marked ERROR and the next still runs, as LocalStack does; the server keeps serving.
struct InitHooks {
    let directory: String
    /// File names, in the order they run.
    let scripts: [String]
    let progress: InitProgress

    /// The scripts of `directory` (not its subfolders). A folder that does not exist is an error at start.
    init(directory: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
            throw InitHooksError("init folder '\(directory)' does not exist")
        }
        self.directory = directory
        scripts = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { ($0.hasSuffix(".sh") || $0.hasSuffix(".py")) && !$0.hasPrefix(".") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        progress = InitProgress(scripts: scripts)
    }

    /// `.sh` with bash (what scripts written for LocalStack's `ready.d` expect; /bin/sh where there is no bash), `.py`
    /// with python3 from PATH. Neither needs the executable bit.
    static func interpreter(for script: String, path: String) -> String? {
        if script.hasSuffix(".py") { return which("python3", path: path) }
        return FileManager.default.isExecutableFile(atPath: "/bin/bash") ? "/bin/bash" : "/bin/sh"
    }

    static func which(_ name: String, path: String) -> String? {
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The emulator's environment, with what makes the AWS CLI and SDKs talk to it.
    static func environment(base: [String: String], endpoint: String, accessKey: String, secretKey: String,
                            region: String) -> [String: String] {
        var env = base
        // A profile or session token from the caller's shell would point the clients elsewhere.
        for name in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"] { env[name] = nil }
        env["AWS_ENDPOINT_URL"] = endpoint
        env["AWS_ACCESS_KEY_ID"] = accessKey
        env["AWS_SECRET_ACCESS_KEY"] = secretKey
        env["AWS_DEFAULT_REGION"] = region
        env["AWS_REGION"] = region
        env["PATH"] = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return env
    }

    /// Start the scripts in the background as clients of the server bound at `host`:`port`, signing with the first
    /// configured key (`test` when configured).
    func start(host: String, port: Int, credentials: [String: String], region: String, supervisor: ProcessSupervisor,
               logger: Logger) {
        let clientHost = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "[::1]" : host.contains(":") ? "[\(host)]" : host
        let key = credentials["test"] != nil ? "test" : credentials.keys.sorted().first ?? "test"
        let environment = Self.environment(base: ProcessInfo.processInfo.environment, endpoint: "http://\(clientHost):\(port)",
                                           accessKey: key, secretKey: credentials[key] ?? "test", region: region)
        Task { await run(environment: environment, supervisor: supervisor, logger: logger) }
    }

    /// Run every script, one after another, then mark init finished.
    func run(environment: [String: String], supervisor: ProcessSupervisor, logger: Logger) async {
        defer { progress.finish() }
        guard !scripts.isEmpty else { return }
        logger.notice("init: running \(scripts.count) script(s) from \(directory)")
        for (index, name) in scripts.enumerated() {
            progress.set(index, .running)
            let ok = await runOne(name, environment: environment, supervisor: supervisor, logger: logger)
            progress.set(index, ok ? .successful : .error)
        }
        let summary = progress.summary
        if summary == "failed" { logger.warning("init: done, with failed scripts") } else { logger.notice("init: done") }
    }

    private func runOne(_ name: String, environment: [String: String], supervisor: ProcessSupervisor,
                        logger: Logger) async -> Bool {
        let path = "\(directory)/\(name)"
        guard let interpreter = Self.interpreter(for: name, path: environment["PATH"] ?? "") else {
            logger.error("init \(name): no python3 on PATH")
            return false
        }
        logger.notice("init \(name): started")
        let status: Int32 = await withCheckedContinuation { done in
            do {
                _ = try supervisor.spawn(
                    executable: interpreter, arguments: [path], environment: environment, directory: directory,
                    output: { line in logger.info("init \(name): \(line)") },
                    onExit: { code in done.resume(returning: code) })
            } catch {
                logger.error("init \(name): \(error)")
                done.resume(returning: -1)
            }
        }
        if status == 0 {
            logger.notice("init \(name): finished")
        } else {
            logger.error("init \(name): failed with exit status \(status)")
        }
        return status == 0
    }
}

struct InitHooksError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
