import Foundation
import PackagePlugin

/// Gives the BuildInfo target the commit the binary is built from (`BuildInfo.commit`).
///
/// A build command, not a prebuild command: SwiftPM 6.3 runs prebuild commands only when it re-evaluates plugins (a
/// new file, a changed manifest), so a commit or an edit would go unseen. A build command reruns whenever one of its
/// inputs changes: every source file of the package, the manifest, and the git files that move with a commit or a
/// checkout (HEAD, index, logs/HEAD). The script rewrites its output only when the text changes, so a build with
/// nothing new recompiles nothing, and a new commit recompiles BuildInfo and the executable, and relinks: no other target
/// depends on BuildInfo.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let script = context.package.directoryURL.appending(path: "Plugins/BuildInfoPlugin/write-commit.sh")
        let output = context.pluginWorkDirectoryURL.appending(path: "GeneratedCommit.swift")
        var inputs = [root.appending(path: "Package.swift"), script]
        for case let module as any SourceModuleTarget in context.package.targets {
            inputs += module.sourceFiles.map(\.url)
        }
        if let gitDir = Self.gitDirectory(of: root) {
            for name in ["HEAD", "index", "logs/HEAD"] {
                let file = gitDir.appending(path: name)
                if FileManager.default.fileExists(atPath: file.path) { inputs.append(file) }
            }
        }
        return [.buildCommand(displayName: "Writing the commit of the build",
                              executable: URL(fileURLWithPath: "/bin/sh"),
                              arguments: [script.path, root.path, output.path],
                              inputFiles: inputs, outputFiles: [output])]
    }

    /// The repository's git folder (a worktree's own, where its HEAD and index are), or nil outside git.
    static func gitDirectory(of root: URL) -> URL? {
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", root.path, "rev-parse", "--absolute-git-dir"]
        let pipe = Pipe()
        git.standardOutput = pipe
        git.standardError = FileHandle.nullDevice
        guard (try? git.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        git.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return git.terminationStatus == 0 && !path.isEmpty ? URL(fileURLWithPath: path) : nil
    }
}
