import Core
import Foundation

/// How each runtime starts on this host: python3.* and nodejs* run Cloudless's own small bootstraps (which speak the
/// Runtime API the way AWS's runtime clients do) under the host's interpreter; provided.* run the function's own
/// `bootstrap`. Nothing runs in a container.
enum Runtimes {
    static let python = ["python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"]
    static let node = ["nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"]
    static let provided = ["provided", "provided.al2", "provided.al2023"]
    static var all: [String] { python + node + provided + ["java17", "java21", "dotnet8", "ruby3.3", "ruby3.4"] }

    /// Write the bundled bootstraps where instances find them.
    static func install(in directory: String) throws {
        let folder = directory + "/runtime"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, text) in [("bootstrap.py", PythonBootstrap.source), ("bootstrap.js", NodeBootstrap.source)] {
            let path = "\(folder)/\(name)"
            if FileManager.default.contents(atPath: path) != Data(text.utf8) {
                // Renamed into place but not synced: every start checks the files again and rewrites a lost one.
                try Data(text.utf8).write(to: URL(fileURLWithPath: path + ".tmp"))
                guard rename(path + ".tmp", path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
            }
        }
    }

    /// An executable on the emulator's PATH.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// An interpreter on PATH that is not a version-manager shim (pyenv's shims may name versions that are not
    /// installed, and cost tens of milliseconds per start).
    static func realExecutable(_ name: String) -> String? {
        guard let path = which(name), !path.contains("/shims/") else { return nil }
        return path
    }

    /// The host's python3 as the interpreter itself reports it (through any shim, resolved once).
    static let hostPython: String? = {
        if let direct = realExecutable("python3") { return direct }
        guard let shim = which("python3") else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: shim)
        p.arguments = ["-c", "import sys; print(sys.executable)"]
        let out = Pipe()
        p.standardOutput = out
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: text) ? text : shim
    }()

    /// The command that starts an instance of `runtime`, or the error Invoke answers when the host lacks it.
    static func command(runtime: String, taskRoot: String, runtimeDirectory: String) throws -> (String, [String]) {
        if python.contains(runtime) {
            // The exact minor version when the host has it, else the host's python3.
            guard let exe = realExecutable(runtime) ?? hostPython else { throw missing(runtime, "python3 (apt install python3)") }
            return (exe, ["-u", runtimeDirectory + "/bootstrap.py"])
        }
        if node.contains(runtime) {
            guard let exe = which("node") ?? which("nodejs") else { throw missing(runtime, "Node.js (apt install nodejs)") }
            return (exe, [runtimeDirectory + "/bootstrap.js"])
        }
        if provided.contains(runtime) {
            let bootstrap = taskRoot + "/bootstrap"
            guard FileManager.default.isExecutableFile(atPath: bootstrap) else {
                throw AWSError("InvalidRuntimeException", "The runtime bootstrap was not found: the deployment package needs an executable file named bootstrap at its root.",
                               status: .badGateway)
            }
            return (bootstrap, [])
        }
        throw AWSError("InvalidRuntimeException", "Cloudless cannot run the \(runtime) runtime on this host: supported are python3.*, nodejs* and provided*.",
                       status: .badGateway)
    }

    static func missing(_ runtime: String, _ what: String) -> AWSError {
        AWSError("InvalidRuntimeException", "The \(runtime) runtime needs \(what) on the machine running Cloudless.", status: .badGateway)
    }
}
