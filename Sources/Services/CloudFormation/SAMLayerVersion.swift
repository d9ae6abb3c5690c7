import Core
import Foundation

/// `AWS::Serverless::LayerVersion`, expanded as SAM's translator does: an `AWS::Lambda::LayerVersion` whose logical
/// id is the SAM id plus the first 10 hex digits of the SHA-1 of the SAM resource (so a changed layer is a new
/// resource, and the old version stays: RetentionPolicy, Retain by default, becomes its DeletionPolicy); `LayerName`
/// defaults to the SAM id so every version belongs to one layer. Every Ref, Fn::GetAtt, Fn::Sub and DependsOn naming
/// the SAM id is renamed to the new id, so `Layers: [!Ref MyLayer]` gets the layer version's ARN.
extension SAMTransform {
    static let layerProperties: Set<String> = [
        "LayerName", "Description", "ContentUri", "CompatibleArchitectures", "CompatibleRuntimes", "LicenseInfo",
        "RetentionPolicy",
    ]

    static func expandLayerVersion(_ id: String, _ resource: JSON) throws -> (logicalId: String, resource: JSON) {
        let props = resource["Properties"]?.object ?? [:]
        for key in props.keys.sorted() where !layerProperties.contains(key) {
            throw unsupported("Property \(key) of AWS::Serverless::LayerVersion (resource \(id))")
        }
        guard let contentUri = props["ContentUri"] else {
            throw fail("Resource with id [\(id)] is invalid. Missing required property 'ContentUri'.")
        }
        var deletionPolicy = "Retain"
        if let policy = props["RetentionPolicy"] {
            let options = "['Retain', 'Delete']"
            if isIntrinsic(policy) {
                throw fail("Resource with id [\(id)] is invalid. 'RetentionPolicy' does not accept intrinsic functions, please use one of the following options: \(options)")
            }
            guard let s = policy.string else {
                throw fail("Resource with id [\(id)] is invalid. Invalid 'RetentionPolicy' type, please use one of the following options: \(options)")
            }
            guard let match = ["Retain", "Delete"].first(where: { $0.lowercased() == s.lowercased() }) else {
                throw fail("Resource with id [\(id)] is invalid. 'RetentionPolicy' must be one of the following options: \(options).")
            }
            deletionPolicy = match
        }

        // The translator hashes the SAM resource as written, less DeletionPolicy, UpdateReplacePolicy and Metadata.
        var hashed: [String: JSON] = ["Type": .string("AWS::Serverless::LayerVersion"), "Properties": .object(props)]
        for key in ["DependsOn", "Condition", "UpdatePolicy"] { if let v = resource[key] { hashed[key] = v } }
        let newId = id + translatorHash(.object([id: .object(hashed)]))

        var layer: [String: JSON] = ["Type": .string("AWS::Lambda::LayerVersion")]
        for key in ["DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy"] { if let v = resource[key] { layer[key] = v } }
        // An explicit DeletionPolicy wins over RetentionPolicy, as in the translator.
        if layer["DeletionPolicy"] == nil || props["RetentionPolicy"] != nil { layer["DeletionPolicy"] = .string(deletionPolicy) }
        var out: [String: JSON] = [
            "LayerName": props["LayerName"] ?? .string(id),
            "Content": try code(id, ["CodeUri": contentUri]),
        ]
        for key in ["Description", "CompatibleArchitectures", "CompatibleRuntimes", "LicenseInfo"] {
            if let v = props[key] { out[key] = v }
        }
        layer["Properties"] = .object(out)
        return (newId, .object(layer))
    }

    /// The translator's logical id suffix: SHA-1 over Python's `json.dumps(value, separators=(",", ":"),
    /// sort_keys=True)`, its first 10 hex digits.
    static func translatorHash(_ value: JSON) -> String {
        var text = ""
        pythonJSON(value, into: &text)
        var sha = SHA1()
        Array(text.utf8).withUnsafeBytes { sha.update($0) }
        return String(sha.finalize().map { String(format: "%02x", $0) }.joined().prefix(10))
    }

    /// JSON as Python writes it: ASCII only (`\uXXXX`, surrogate pairs past the BMP), integers without a fraction.
    static func pythonJSON(_ value: JSON, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            out += n == n.rounded() && abs(n) < 1e16 ? String(Int64(n)) : String(n)
        case .string(let s):
            out += "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if u.value < 0x20 || u.value > 0x7E {
                        for unit in String(u).utf16 { out += String(format: "\\u%04x", unit) }
                    } else {
                        out.unicodeScalars.append(u)
                    }
                }
            }
            out += "\""
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                pythonJSON(v, into: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            // Python sorts keys by code point.
            for (i, k) in o.keys.sorted(by: { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }).enumerated() {
                if i > 0 { out += "," }
                pythonJSON(.string(k), into: &out)
                out += ":"
                pythonJSON(o[k]!, into: &out)
            }
            out += "}"
        }
    }

    /// Every reference to a renamed logical id (Ref, Fn::GetAtt, `${…}` in Fn::Sub, DependsOn) pointed at its new id.
    static func renameReferences(_ value: JSON, _ renamed: [String: String]) -> JSON {
        switch value {
        case .array(let a): return .array(a.map { renameReferences($0, renamed) })
        case .object(let o):
            if o.count == 1, let (key, arg) = o.first {
                switch key {
                case "Ref":
                    if let s = arg.string, let n = renamed[s] { return .object(["Ref": .string(n)]) }
                case "Fn::GetAtt":
                    if var a = arg.array, let s = a.first?.string, let n = renamed[s] {
                        a[0] = .string(n)
                        return .object(["Fn::GetAtt": .array(a)])
                    }
                    if let s = arg.string, let dot = s.firstIndex(of: "."), let n = renamed[String(s[..<dot])] {
                        return .object(["Fn::GetAtt": .string(n + s[dot...])])
                    }
                case "Fn::Sub":
                    if let s = arg.string { return .object(["Fn::Sub": .string(renameInSub(s, renamed))]) }
                    if var a = arg.array, let s = a.first?.string {
                        a[0] = .string(renameInSub(s, renamed))
                        if a.count > 1 { a[1] = renameReferences(a[1], renamed) }
                        return .object(["Fn::Sub": .array(a)])
                    }
                default: break
                }
            }
            var r: [String: JSON] = [:]
            for (k, v) in o { r[k] = renameReferences(v, renamed) }
            return .object(r)
        default: return value
        }
    }

    static func renameInSub(_ text: String, _ renamed: [String: String]) -> String {
        var s = text
        for (old, new) in renamed {
            s = s.replacingOccurrences(of: "${\(old)}", with: "${\(new)}").replacingOccurrences(of: "${\(old).", with: "${\(new).")
        }
        return s
    }

    /// Resources' properties, DependsOn and Outputs renamed after the layers were given their new ids.
    static func renameLayerReferences(_ top: inout [String: JSON], _ renamed: [String: String]) {
        guard !renamed.isEmpty else { return }
        var resources: [String: JSON] = [:]
        for (id, r) in top["Resources"]?.object ?? [:] {
            guard var o = r.object else { resources[id] = r; continue }
            if let p = o["Properties"] { o["Properties"] = renameReferences(p, renamed) }
            if let d = o["DependsOn"] {
                let list = (d.array ?? [d]).map { v in v.string.flatMap { renamed[$0] }.map(JSON.string) ?? v }
                o["DependsOn"] = d.array == nil ? list[0] : .array(list)
            }
            resources[id] = .object(o)
        }
        top["Resources"] = .object(resources)
        if let outputs = top["Outputs"] { top["Outputs"] = renameReferences(outputs, renamed) }
    }
}
