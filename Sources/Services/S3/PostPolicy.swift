import Core
import Foundation

/// The policy document of a browser form upload: base64 JSON with `expiration` and `conditions`
/// (S3 API Reference, "POST Policy").
struct PostPolicy {
    enum Condition: Equatable {
        case eq(String, String)
        case startsWith(String, String)
        case lengthRange(Int, Int)
    }

    var expiration: Double
    var conditions: [Condition]

    /// The content-length-range bounds, when the policy sets them.
    var lengthRange: (min: Int, max: Int)? {
        for case .lengthRange(let lo, let hi) in conditions { return (lo, hi) }
        return nil
    }

    static func invalid(_ what: String) -> AWSError {
        AWSError("InvalidPolicyDocument", "Invalid Policy: \(what)")
    }

    static func decode(base64: String) throws -> PostPolicy {
        guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw invalid("Invalid Base64 Encoding.")
        }
        guard let doc = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw invalid("Invalid JSON.") }
        guard let exp = doc["expiration"] else { throw invalid("Policy missing expiration.") }
        guard let text = exp as? String, let expiration = AWSDate.parse(text) else {
            throw invalid("Invalid 'expiration' value: '\(exp)'")
        }
        guard let list = doc["conditions"] as? [Any] else { throw invalid("Policy missing conditions.") }
        var conditions: [Condition] = []
        for item in list {
            if let object = item as? [String: Any] {
                // {"acl": "public-read"}: exact match of each member.
                for (name, value) in object.sorted(by: { $0.key < $1.key }) {
                    guard let v = scalar(value) else { throw invalid("Invalid Simple-Condition: value must be a string.") }
                    conditions.append(.eq(name, v))
                }
            } else if let array = item as? [Any], let op = array.first as? String {
                switch op.lowercased() {
                case "eq", "starts-with":
                    guard array.count == 3, let name = array[1] as? String, name.hasPrefix("$"), let v = scalar(array[2]) else {
                        throw invalid("Invalid Condition: wrong format for '\(op)'.")
                    }
                    let field = String(name.dropFirst())
                    conditions.append(op.lowercased() == "eq" ? .eq(field, v) : .startsWith(field, v))
                case "content-length-range":
                    guard array.count == 3, let lo = integer(array[1]), let hi = integer(array[2]) else {
                        throw invalid("Invalid Content-Length-Range condition.")
                    }
                    conditions.append(.lengthRange(lo, hi))
                default:
                    throw invalid("Invalid Condition: unknown operation '\(op)'.")
                }
            } else {
                throw invalid("Invalid Condition: a condition must be an object or an array.")
            }
        }
        return PostPolicy(expiration: expiration, conditions: conditions)
    }

    private static func scalar(_ v: Any) -> String? {
        if let s = v as? String { return s }
        if let n = v as? NSNumber { return n.stringValue }
        return nil
    }

    private static func integer(_ v: Any) -> Int? {
        if let s = v as? String { return Int(s.trimmingCharacters(in: .whitespaces)) }
        if let n = v as? NSNumber { return n.intValue }
        return nil
    }

    /// Fields a policy need not mention.
    static func isExempt(_ lowercasedName: String) -> Bool {
        ["policy", "file", "x-amz-signature", "signature", "awsaccesskeyid"].contains(lowercasedName)
            || lowercasedName.hasPrefix("x-ignore-")
    }

    /// Expiry, every eq/starts-with condition, and that each form field is covered by one. `fields` have lowercased
    /// names (field names compare without case; conditions keep theirs for messages); `bucket` is the one posted to.
    func check(fields: [(String, String)], bucket: String, now: Double) throws {
        if now > expiration { throw AWSError.accessDenied("Invalid according to Policy: Policy expired.") }
        func value(_ name: String) -> String {
            let name = name.lowercased()
            if name == "bucket" { return bucket }
            return fields.first { $0.0 == name }?.1 ?? ""
        }
        var covered: Set<String> = ["bucket"]
        for c in conditions {
            switch c {
            case .eq(let name, let expected):
                covered.insert(name.lowercased())
                if value(name) != expected { throw failed("eq", name, expected) }
            case .startsWith(let name, let prefix):
                covered.insert(name.lowercased())
                // Content-Type may list several types: each must match.
                let values = name.lowercased() == "content-type" ? value(name).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    : [value(name)]
                if !values.allSatisfy({ $0.hasPrefix(prefix) }) { throw failed("starts-with", name, prefix) }
            case .lengthRange:
                break
            }
        }
        var extra: [String] = []
        for (name, _) in fields where !Self.isExempt(name) && !covered.contains(name) && !extra.contains(name) {
            extra.append(name)
        }
        if !extra.isEmpty {
            throw AWSError.accessDenied("Invalid according to Policy: Extra input fields: " + extra.joined(separator: ", "))
        }
    }

    private func failed(_ op: String, _ name: String, _ value: String) -> AWSError {
        AWSError.accessDenied("Invalid according to Policy: Policy Condition failed: [\"\(op)\", \"$\(name)\", \(JSONString.quote(value))]")
    }

    /// The size of the file against content-length-range.
    func checkLength(_ size: Int) throws {
        guard let range = lengthRange else { return }
        let (lo, hi) = (range.min, range.max)
        if size > hi {
            throw AWSError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
                .with("ProposedSize", String(size)).with("MaxSizeAllowed", String(hi))
        }
        if size < lo {
            throw AWSError("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
                .with("ProposedSize", String(size)).with("MinSizeAllowed", String(lo))
        }
    }
}
