import Core
import Foundation
import ZIPFoundation

/// DownloadBundle's work: the revision unpacked into the deployment archive, as the agent leaves it.
struct BundleUnpacker: Sendable {
    let supervisor: ProcessSupervisor

    /// Unpack `bundlePath` (of `bundleType`) into `archive` (emptied first) and return the AppSpec's path in it.
    func unpack(bundlePath: String, bundleType: String, into archive: String) async throws -> String {
        let fm = FileManager.default
        guard fm.fileExists(atPath: bundlePath) else {
            throw AppSpecError(message: "The revision's bundle could not be found at \(bundlePath).")
        }
        try? fm.removeItem(atPath: archive)
        try fm.createDirectory(atPath: archive, withIntermediateDirectories: true)
        switch bundleType.lowercased() {
        case "zip":
            do {
                try fm.unzipItem(at: URL(fileURLWithPath: bundlePath), to: URL(fileURLWithPath: archive))
            } catch {
                throw AppSpecError(message: "The revision's zip bundle could not be unpacked: \(error)")
            }
        case "tar", "tgz":
            // GNU tar refuses members that climb out with `..` and strips a leading `/`.
            let flags = bundleType.lowercased() == "tgz" ? "-xzf" : "-xf"
            let result = try await ProcessRun.run(supervisor, "/bin/tar",
                                                  [flags, bundlePath, "-C", archive, "--no-same-owner", "--no-same-permissions"],
                                                  directory: archive)
            guard result.status == 0 else {
                let detail = result.output.suffix(5).joined(separator: "\n")
                throw AppSpecError(message: "The revision's \(bundleType) bundle could not be unpacked: \(detail)")
            }
        case "yaml", "json":
            // An AppSpec-only revision: the bundle is the AppSpec.
            try fm.copyItem(atPath: bundlePath, toPath: archive + "/appspec.yml")
        default:
            throw AppSpecError(message: "The bundle type \(bundleType) is not supported by the agent. Use zip, tar or tgz.")
        }
        try Self.stripSingleTopFolder(archive)
        if let found = Self.appSpecPath(in: archive) { return found }
        throw AppSpecError(message: "The CodeDeploy agent did not find an AppSpec file within the unpacked revision directory at revision-relative path \"appspec.yml\". The revision was unpacked to directory \"\(archive)\", and the AppSpec file was expected but not found at path \"\(archive)/appspec.yml\". Consult the AWS CodeDeploy Appspec documentation for more information at http://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file.html")
    }

    static func appSpecPath(in archive: String) -> String? {
        for name in ["appspec.yml", "appspec.yaml"] where FileManager.default.fileExists(atPath: archive + "/" + name) {
            return archive + "/" + name
        }
        return nil
    }

    /// Like the agent: a bundle whose only top-level entry is a folder holding the AppSpec is unpacked from that folder.
    static func stripSingleTopFolder(_ archive: String) throws {
        let fm = FileManager.default
        guard appSpecPath(in: archive) == nil else { return }
        let entries = try fm.contentsOfDirectory(atPath: archive)
        guard entries.count == 1 else { return }
        let top = archive + "/" + entries[0]
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: top, isDirectory: &isFolder), isFolder.boolValue, appSpecPath(in: top) != nil else { return }
        let moved = archive + "/.cloudless-strip-" + UUID().uuidString
        try fm.moveItem(atPath: top, toPath: moved)
        for entry in try fm.contentsOfDirectory(atPath: moved) {
            try fm.moveItem(atPath: moved + "/" + entry, toPath: archive + "/" + entry)
        }
        try fm.removeItem(atPath: moved)
    }
}
