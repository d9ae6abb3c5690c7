import Core
import Foundation

/// A message attribute as SQS keeps it: a data type (`String`, `Number`, `Binary`, with an optional `.custom` suffix)
/// and a string or binary value.
struct MessageAttribute: Sendable, Equatable {
    var dataType: String
    var string: String?
    var binary: [UInt8]?

    var isBinary: Bool { dataType.hasPrefix("Binary") }

    /// `{"DataType": ..., "StringValue": ...}` or `BinaryValue` as base64 (the JSON protocol's blob form).
    static func parse(_ input: [String: Any]?, field: String) throws -> [String: MessageAttribute] {
        guard let input else { return [:] }
        var out: [String: MessageAttribute] = [:]
        if input.count > 10 {
            throw SQSError.invalidParameterValue("Number of message attributes [\(input.count)] exceeds the allowed maximum [10].")
        }
        for (name, raw) in input {
            try validateName(name)
            guard let dict = raw as? [String: Any], let type = dict["DataType"] as? String, !type.isEmpty else {
                throw SQSError.invalidParameterValue("The message attribute '\(name)' must contain a non-empty attribute type.")
            }
            let base = type.split(separator: ".", maxSplits: 1).first.map(String.init) ?? type
            guard ["String", "Number", "Binary"].contains(base) else {
                throw SQSError.invalidParameterValue("The type of message attribute '\(name)' is invalid. You must use only the following supported type prefixes: Binary, Number, String.")
            }
            var attr = MessageAttribute(dataType: type, string: nil, binary: nil)
            if base == "Binary" {
                guard let b64 = dict["BinaryValue"] as? String, let data = Data(base64Encoded: b64), !data.isEmpty else {
                    throw SQSError.invalidParameterValue("The message attribute '\(name)' with type 'Binary' must use field 'Binary'.")
                }
                attr.binary = Array(data)
            } else {
                guard let s = dict["StringValue"] as? String, !s.isEmpty else {
                    throw SQSError.invalidParameterValue("The message attribute '\(name)' with type '\(base)' must use field 'String'.")
                }
                if base == "Number", Double(s) == nil {
                    throw SQSError.invalidParameterValue("Can't cast the value of message (user) attribute '\(name)' to a number.")
                }
                attr.string = s
            }
            out[name] = attr
        }
        return out
    }

    /// Names: up to 256 of alphanumerics, `_`, `-`, `.`; no `AWS.`/`Amazon.` prefix, no leading, trailing or double dot.
    static func validateName(_ name: String) throws {
        let b = Array(name.utf8)
        let lower = name.lowercased()
        let ok = !b.isEmpty && b.count <= 256
            && b.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 45 || $0 == 46 }
            && b.first != 46 && b.last != 46 && !name.contains("..")
            && !lower.hasPrefix("aws.") && !lower.hasPrefix("amazon.")
        guard ok else {
            throw SQSError.invalidParameterValue("Message (user) attribute name '\(name)' is invalid.")
        }
    }

    var json: [String: Any] {
        var d: [String: Any] = ["DataType": dataType]
        if let string { d["StringValue"] = string }
        if let binary { d["BinaryValue"] = Data(binary).base64EncodedString() }
        return d
    }

    /// Bytes counted against the message size limit: name, type and value.
    var size: Int { dataType.utf8.count + (string?.utf8.count ?? 0) + (binary?.count ?? 0) }

    /// MD5OfMessageAttributes as SQS computes it (SDKs recompute and compare): for each attribute in name order,
    /// length-prefixed name, length-prefixed type, a transport byte (1 string, 2 binary), length-prefixed value.
    static func md5(_ attributes: [String: MessageAttribute]) -> String? {
        guard !attributes.isEmpty else { return nil }
        var bytes: [UInt8] = []
        func lengthPrefixed(_ b: some Collection<UInt8>) {
            let n = UInt32(b.count)
            bytes += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            bytes += b
        }
        for name in attributes.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            let a = attributes[name]!
            lengthPrefixed(Array(name.utf8))
            lengthPrefixed(Array(a.dataType.utf8))
            if let binary = a.binary {
                bytes.append(2)
                lengthPrefixed(binary)
            } else {
                bytes.append(1)
                lengthPrefixed(Array((a.string ?? "").utf8))
            }
        }
        return Hex.encode(MD5.hash(bytes))
    }

    static func encode(_ attributes: [String: MessageAttribute]) -> String {
        let obj = attributes.mapValues { $0.json }
        let data = (try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String?) -> [String: MessageAttribute] {
        guard let text, let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return (try? parse(obj, field: "")) ?? [:]
    }
}

enum MessageBody {
    /// The characters SQS accepts: #x9 #xA #xD, #x20–#xD7FF, #xE000–#xFFFD, #x10000–#x10FFFF.
    static func isValid(_ body: String) -> Bool {
        body.unicodeScalars.allSatisfy { s in
            let v = s.value
            return v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v)
                || (0x10000...0x10FFFF).contains(v)
        }
    }
}
