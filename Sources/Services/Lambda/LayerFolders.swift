import Core
import Foundation

/// Where a function's layers are visible at run time. AWS unpacks them into /opt in order, later layers overwriting
/// earlier ones' files; Cloudless cannot write /opt, so it merges the same way into `lambda/opt/<digest>/` (once per
/// list of archives) and points the runtime's search paths there.
extension FunctionCode {
    func optFolder(_ layers: [LayerContent]) throws -> String? {
        guard !layers.isEmpty else { return nil }
        let key = Hex.encode(SHA256.hash(Array(layers.map(\.codeHex).joined(separator: ",").utf8)))
        let folder = "\(directory)/opt/\(key)"
        if FileManager.default.fileExists(atPath: folder) { return folder }
        let tmp = folder + ".\(UUID().uuidString).tmp"
        do {
            try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            for layer in layers { try Self.overlay(try unpacked(layer.codeHex), onto: tmp) }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
        if rename(tmp, folder) != 0 { try? FileManager.default.removeItem(atPath: tmp) }  // another invocation won
        return folder
    }

    /// Copy every file of `source` into `target`, replacing what is there.
    static func overlay(_ source: String, onto target: String) throws {
        let fm = FileManager.default
        guard let walk = fm.enumerator(atPath: source) else { return }
        while let relative = walk.nextObject() as? String {
            let from = "\(source)/\(relative)", to = "\(target)/\(relative)"
            var isDirectory: ObjCBool = false
            _ = fm.fileExists(atPath: from, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                try fm.createDirectory(atPath: to, withIntermediateDirectories: true)
            } else {
                try? fm.removeItem(atPath: to)
                try fm.copyItem(atPath: from, toPath: to)
            }
        }
    }

    /// The search paths of a runtime with its layers in `opt` (AWS's order, /opt replaced by the merged folder).
    static func layerEnvironment(runtime: String, taskRoot: String, opt: String) -> [String: String] {
        var nodePaths = ["\(opt)/nodejs/node_modules", "\(taskRoot)/node_modules"]
        if Runtimes.node.contains(runtime) {
            nodePaths.insert("\(opt)/nodejs/node\(runtime.dropFirst("nodejs".count).prefix { $0.isNumber })/node_modules", at: 0)
        }
        var env = ["PATH": "/usr/local/bin:/usr/bin:/bin:\(opt)/bin", "LD_LIBRARY_PATH": "\(opt)/lib", "NODE_PATH": nodePaths.joined(separator: ":")]
        if Runtimes.python.contains(runtime) {
            env["PYTHONPATH"] = "\(taskRoot):\(opt)/python/lib/\(runtime)/site-packages:\(opt)/python"
        }
        return env
    }
}
