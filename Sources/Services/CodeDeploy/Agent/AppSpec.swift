import Foundation
import Yams

/// An EC2/On-Premises AppSpec file (`version: 0.0`, `os: linux`), the parts the agent acts on: `files`,
/// `file_exists_behavior`, `permissions` and `hooks`.
struct AppSpec: Sendable, Equatable {
    struct FileMapping: Sendable, Equatable {
        var source: String
        var destination: String
    }

    struct Permission: Sendable, Equatable {
        var object: String
        var pattern: String
        var except: [String]
        var owner: String?
        var group: String?
        var mode: mode_t?
        /// `file` and/or `directory` (both when absent).
        var types: Set<String>
    }

    struct Hook: Sendable, Equatable {
        var location: String
        var timeout: Int
        var runas: String?
    }

    /// The agent's limit on a hook's `timeout` (and its default).
    static let maximumTimeout = 3600

    var os: String
    var files: [FileMapping]
    var fileExistsBehavior: String?
    var permissions: [Permission]
    var hooks: [String: [Hook]]
}

/// A revision whose AppSpec the agent cannot act on: the Install or hook event fails with this message.
struct AppSpecError: Error, Equatable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension AppSpec {
    /// Parse YAML (JSON is YAML too). Everything the agent would refuse is refused here, before any file is touched.
    static func parse(_ text: String) throws -> AppSpec {
        let root: Any?
        do {
            root = try Yams.load(yaml: text)
        } catch {
            throw AppSpecError(message: "The AppSpec file is not valid YAML or JSON: \(error)")
        }
        guard let spec = root as? [String: Any] else {
            throw AppSpecError(message: "The AppSpec file must be a mapping with version, os, files and hooks sections.")
        }
        let version = spec["version"].map { "\($0)" } ?? ""
        guard version == "0.0" || version == "0" else {
            throw AppSpecError(message: "The deployment failed because an invalid version value (\(version)) was entered in the application specification file. Make sure your AppSpec file specifies \"0.0\" as the version, and then try again.")
        }
        guard let os = spec["os"] as? String, ["linux", "windows"].contains(os) else {
            let given = spec["os"].map { "\($0)" } ?? ""
            throw AppSpecError(message: "The deployment failed because the application specification file specifies an invalid operating system (\(given)). Specify linux or windows.")
        }
        guard os == "linux" else {
            throw AppSpecError(message: "The deployment failed because the application specification file specifies the windows operating system, and the instance runs linux.")
        }
        var appSpec = AppSpec(os: os, files: [], fileExistsBehavior: nil, permissions: [], hooks: [:])

        if let behavior = spec["file_exists_behavior"] {
            guard let value = behavior as? String, ["DISALLOW", "OVERWRITE", "RETAIN"].contains(value.uppercased()) else {
                throw AppSpecError(message: "The AppSpec file has an invalid file_exists_behavior (\(behavior)). Valid values are DISALLOW, OVERWRITE and RETAIN.")
            }
            appSpec.fileExistsBehavior = value.uppercased()
        }
        if let files = spec["files"], !(files is NSNull) {
            guard let list = files as? [Any] else { throw AppSpecError(message: "The files section of the AppSpec file must be a list.") }
            for entry in list {
                guard let map = entry as? [String: Any], let source = map["source"].map({ "\($0)" }),
                      let destination = map["destination"].map({ "\($0)" }) else {
                    throw AppSpecError(message: "Each entry of the files section of the AppSpec file needs a source and a destination.")
                }
                guard destination.hasPrefix("/") else {
                    throw AppSpecError(message: "The destination \(destination) of the AppSpec file's files section must be a fully qualified path.")
                }
                appSpec.files.append(FileMapping(source: source, destination: destination))
            }
        }
        if let permissions = spec["permissions"], !(permissions is NSNull) {
            guard let list = permissions as? [Any] else { throw AppSpecError(message: "The permissions section of the AppSpec file must be a list.") }
            for entry in list { appSpec.permissions.append(try parsePermission(entry)) }
        }
        if let hooks = spec["hooks"], !(hooks is NSNull) {
            guard let map = hooks as? [String: Any] else { throw AppSpecError(message: "The hooks section of the AppSpec file must be a mapping of lifecycle events to scripts.") }
            for (event, scripts) in map {
                if scripts is NSNull { continue }
                guard let list = scripts as? [Any] else {
                    throw AppSpecError(message: "The hook \(event) of the AppSpec file must be a list of scripts.")
                }
                appSpec.hooks[event] = try list.map { try parseHook($0, event: event) }
            }
        }
        return appSpec
    }

    private static func parseHook(_ entry: Any, event: String) throws -> Hook {
        guard let map = entry as? [String: Any], let location = map["location"].map({ "\($0)" }), !location.isEmpty else {
            throw AppSpecError(message: "Each script of the hook \(event) in the AppSpec file needs a location.")
        }
        var timeout = maximumTimeout
        if let raw = map["timeout"] {
            guard let seconds = Int("\(raw)"), seconds > 0 else {
                throw AppSpecError(message: "The timeout (\(raw)) of the script \(location) in the AppSpec file must be a positive number of seconds.")
            }
            guard seconds <= maximumTimeout else {
                throw AppSpecError(message: "The timeout (\(seconds)) of the script \(location) in the AppSpec file exceeds the maximum of \(maximumTimeout) seconds.")
            }
            timeout = seconds
        }
        return Hook(location: location, timeout: timeout, runas: map["runas"].map { "\($0)" })
    }

    private static func parsePermission(_ entry: Any) throws -> Permission {
        guard let map = entry as? [String: Any], let object = map["object"].map({ "\($0)" }) else {
            throw AppSpecError(message: "Each entry of the permissions section of the AppSpec file needs an object.")
        }
        var mode: mode_t?
        if let raw = map["mode"] {
            // YAML reads `mode: 644` as the integer 644: its digits are the octal mode all the same.
            let digits = "\(raw)"
            guard let value = mode_t(digits, radix: 8), value <= 0o7777 else {
                throw AppSpecError(message: "The mode (\(digits)) of the permissions for \(object) in the AppSpec file is not a valid octal mode.")
            }
            mode = value
        }
        var types: Set<String> = ["file", "directory"]
        if let raw = map["type"] {
            let list = (raw as? [Any])?.map { "\($0)" } ?? ["\(raw)"]
            guard !list.isEmpty, list.allSatisfy({ $0 == "file" || $0 == "directory" }) else {
                throw AppSpecError(message: "The type of the permissions for \(object) in the AppSpec file must list file and/or directory.")
            }
            types = Set(list)
        }
        let except = (map["except"] as? [Any])?.map { "\($0)" } ?? []
        return Permission(object: object, pattern: map["pattern"].map { "\($0)" } ?? "**", except: except,
                          owner: map["owner"].map { "\($0)" }, group: map["group"].map { "\($0)" }, mode: mode, types: types)
    }
}
