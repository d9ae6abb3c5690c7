#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The Install event: the previous install's files removed, the AppSpec's `files` copied (re-rooted under the
/// instance folder) with the file-exists behaviour, then its `permissions` applied. Everything is planned and checked
/// before the first file moves, so a refused Install leaves the instance as it was.
struct FileInstaller: Sendable {
    let layout: AgentLayout
    /// Tests only: stop with an error after this many files, as a kill -9 half-way through would.
    var interruptAfterCopies: Int? = nil

    private struct Copy {
        var from: String
        var to: String
    }

    /// Install `appSpec`'s files from `archive`. `behavior` is the deployment's fileExistsBehavior (the AppSpec's own
    /// `file_exists_behavior` wins). Returns the paths installed (files and the folders created), also written to the
    /// group's cleanup file.
    @discardableResult
    func install(appSpec: AppSpec, archive: String, groupID: String, behavior: String) throws -> [String] {
        let fm = FileManager.default
        let behavior = (appSpec.fileExistsBehavior ?? behavior).uppercased()
        let cleanupPath = layout.cleanupFile(groupID: groupID)
        let previous = ((try? String(contentsOfFile: cleanupPath, encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init).filter { $0.hasPrefix(layout.instanceRoot + "/") }
        let previousSet = Set(previous)

        // Plan: every file to copy, the folders it needs.
        var copies: [Copy] = []
        var folders: [String] = []
        for mapping in appSpec.files {
            let source = mapping.source == "/" ? archive : AgentLayout.resolve(mapping.source, inside: archive)
            guard let source, fm.fileExists(atPath: source) else {
                throw AppSpecError(message: "The deployment failed because the source \(mapping.source) in the AppSpec file's files section does not exist in the revision.")
            }
            guard let destination = layout.reRoot(mapping.destination) else {
                throw AppSpecError(message: "The destination \(mapping.destination) in the AppSpec file's files section leads out of the instance's root folder.")
            }
            var isFolder: ObjCBool = false
            _ = fm.fileExists(atPath: source, isDirectory: &isFolder)
            if isFolder.boolValue {
                folders.append(destination)
                for relative in try Self.walk(source) {
                    let from = source + "/" + relative
                    var sub: ObjCBool = false
                    _ = fm.fileExists(atPath: from, isDirectory: &sub)
                    if sub.boolValue { folders.append(destination + "/" + relative) }
                    else { copies.append(Copy(from: from, to: destination + "/" + relative)) }
                }
            } else {
                folders.append(destination)
                copies.append(Copy(from: source, to: destination + "/" + (source as NSString).lastPathComponent))
            }
        }
        var seen = Set<String>()
        for copy in copies where !seen.insert(copy.to).inserted {
            throw AppSpecError(message: "The deployment failed because the AppSpec file's files section copies two files to \(serverPath(copy.to)).")
        }
        // A file already there that the previous install did not put there: the file-exists behaviour decides.
        var retained = Set<String>()
        for copy in copies where !previousSet.contains(copy.to) && Self.exists(copy.to) {
            switch behavior {
            case "OVERWRITE": continue
            case "RETAIN": retained.insert(copy.to)
            default:
                throw AppSpecError(message: "The deployment failed because a specified file already exists at this location: \(serverPath(copy.to))")
            }
        }

        // Before anything moves, the cleanup file also lists what this install is about to create: after a crash
        // (kill -9) half-way, the engine's retry removes the partial copy instead of failing on its own files.
        var planned = folders.flatMap { missingAncestors($0) }
        planned += copies.filter { !retained.contains($0.to) }.map(\.to)
        var seenPlanned = previousSet
        try writeCleanup(previous + planned.filter { seenPlanned.insert($0).inserted }, to: cleanupPath)

        // Remove what the previous install left (files first, then its folders if they are empty).
        for path in previous.reversed() {
            var isFolder: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isFolder) || Self.exists(path) else { continue }
            if isFolder.boolValue {
                if (try? fm.contentsOfDirectory(atPath: path))?.isEmpty == true { try? fm.removeItem(atPath: path) }
            } else {
                try? fm.removeItem(atPath: path)
            }
        }

        var installed: [String] = []
        for folder in folders {
            // Record each folder this install creates, parents first, so cleanup removes them children first.
            let missing = missingAncestors(folder)
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            installed += missing
        }
        var copied = 0
        for copy in copies {
            if retained.contains(copy.to) { continue }
            let parent = (copy.to as NSString).deletingLastPathComponent
            if !fm.fileExists(atPath: parent) {
                try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
                installed.append(parent)
            }
            if let limit = interruptAfterCopies, copied >= limit { throw AppSpecError(message: "Install interrupted (test)") }
            copied += 1
            if Self.exists(copy.to) { try fm.removeItem(atPath: copy.to) }
            try fm.copyItem(atPath: copy.from, toPath: copy.to)
            installed.append(copy.to)
        }
        try writeCleanup(installed, to: cleanupPath)
        try applyPermissions(appSpec.permissions, installed: installed)
        return installed
    }

    /// `permissions`: mode on the installed files and folders matching the entry; owner and group only when the
    /// agent runs as root and they exist on this machine (otherwise ignored).
    func applyPermissions(_ permissions: [AppSpec.Permission], installed: [String]) throws {
        for permission in permissions {
            guard let object = layout.reRoot(permission.object) else {
                throw AppSpecError(message: "The object \(permission.object) in the AppSpec file's permissions section leads out of the instance's root folder.")
            }
            for path in installed {
                let relative: String
                if path == object { relative = (path as NSString).lastPathComponent }
                else if path.hasPrefix(object + "/") { relative = String(path.dropFirst(object.count + 1)) }
                else { continue }
                guard fnmatch(permission.pattern, relative, 0) == 0,
                      !permission.except.contains(where: { fnmatch($0, relative, 0) == 0 }) else { continue }
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder),
                      permission.types.contains(isFolder.boolValue ? "directory" : "file") else { continue }
                if let mode = permission.mode { chmod(path, mode) }
                if getuid() == 0 {
                    let uid = permission.owner.flatMap { getpwnam($0)?.pointee.pw_uid }
                    let gid = permission.group.flatMap { getgrnam($0)?.pointee.gr_gid }
                    if uid != nil || gid != nil { chown(path, uid ?? uid_t.max, gid ?? gid_t.max) }
                }
            }
        }
    }

    /// `folder` and its ancestors under the root that do not exist yet, parents first.
    private func missingAncestors(_ folder: String) -> [String] {
        var missing: [String] = []
        var cursor = folder
        while cursor.count > layout.instanceRoot.count && !FileManager.default.fileExists(atPath: cursor) {
            missing.append(cursor)
            cursor = (cursor as NSString).deletingLastPathComponent
        }
        return missing.reversed()
    }

    private func writeCleanup(_ paths: [String], to path: String) throws {
        try FileManager.default.createDirectory(atPath: layout.instructions, withIntermediateDirectories: true)
        try (paths.joined(separator: "\n") + (paths.isEmpty ? "" : "\n")).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A path as the server would show it (without the instance root).
    func serverPath(_ path: String) -> String {
        path.hasPrefix(layout.instanceRoot + "/") ? String(path.dropFirst(layout.instanceRoot.count)) : path
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Every entry under `folder`, relative, parents before children.
    private static func walk(_ folder: String) throws -> [String] {
        var result: [String] = []
        var queue = [""]
        while !queue.isEmpty {
            let relative = queue.removeFirst()
            let path = relative.isEmpty ? folder : folder + "/" + relative
            for name in try FileManager.default.contentsOfDirectory(atPath: path).sorted() {
                let child = relative.isEmpty ? name : relative + "/" + name
                result.append(child)
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: folder + "/" + child, isDirectory: &isFolder), isFolder.boolValue {
                    queue.append(child)
                }
            }
        }
        return result
    }
}
