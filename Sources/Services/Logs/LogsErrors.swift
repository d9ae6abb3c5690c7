import Core
import Foundation

/// CloudWatch Logs' errors, with AWS's messages. All are HTTP 400.
enum LogsError {
    static func groupNotFound() -> AWSError { AWSError("ResourceNotFoundException", "The specified log group does not exist.") }
    static func streamNotFound() -> AWSError { AWSError("ResourceNotFoundException", "The specified log stream does not exist.") }
    static func metricFilterNotFound() -> AWSError {
        AWSError("ResourceNotFoundException", "The specified metric filter does not exist.")
    }
    static func groupExists() -> AWSError { AWSError("ResourceAlreadyExistsException", "The specified log group already exists") }
    static func streamExists() -> AWSError { AWSError("ResourceAlreadyExistsException", "The specified log stream already exists") }
    static func invalidParameter(_ message: String) -> AWSError { AWSError("InvalidParameterException", message) }
    static func invalidToken() -> AWSError { invalidParameter("The specified nextToken is invalid.") }
    static func nameTooLong() -> AWSError {
        invalidParameter("Invalid LogGroup or LogStream, both must have length less than or equal to 512.")
    }

    /// AWS's request validation message: `1 validation error detected: Value '51' at 'limit' failed to satisfy
    /// constraint: Member must have value less than or equal to 50`.
    static func validation(_ value: String?, at member: String, _ constraint: String) -> AWSError {
        let shown = value.map { "'\($0)'" } ?? "null"
        return invalidParameter("1 validation error detected: Value \(shown) at '\(member)' failed to satisfy constraint: \(constraint)")
    }

    static func wrongType(_ member: String) -> AWSError {
        AWSError("SerializationException", "Unexpected value type for \(member).")
    }
}

/// A JSON request's members, read with CloudWatch Logs' validation errors.
struct Input {
    let raw: [String: Any]
    init(_ raw: [String: Any]) { self.raw = raw }

    func has(_ name: String) -> Bool { raw[name] != nil && !(raw[name] is NSNull) }

    func string(_ name: String) throws -> String? {
        guard has(name) else { return nil }
        guard let s = raw[name] as? String else { throw LogsError.wrongType(name) }
        return s
    }

    func required(_ name: String) throws -> String {
        guard let s = try string(name) else { throw LogsError.validation(nil, at: name, "Member must not be null") }
        return s
    }

    func int64(_ name: String) throws -> Int64? {
        guard has(name) else { return nil }
        guard let n = raw[name] as? NSNumber else { throw LogsError.wrongType(name) }
        return n.int64Value
    }

    func int(_ name: String) throws -> Int? { try int64(name).map { Int(clamping: $0) } }

    func bool(_ name: String) throws -> Bool? {
        guard has(name) else { return nil }
        guard let b = raw[name] as? Bool ?? (raw[name] as? NSNumber)?.boolValue else { throw LogsError.wrongType(name) }
        return b
    }

    func strings(_ name: String) throws -> [String]? {
        guard has(name) else { return nil }
        guard let list = raw[name] as? [Any], list.allSatisfy({ $0 is String }) else { throw LogsError.wrongType(name) }
        return list.compactMap { $0 as? String }
    }

    func stringMap(_ name: String) throws -> [String: String]? {
        guard has(name) else { return nil }
        guard let map = raw[name] as? [String: Any], map.values.allSatisfy({ $0 is String }) else { throw LogsError.wrongType(name) }
        return map.compactMapValues { $0 as? String }
    }

    func objects(_ name: String) throws -> [[String: Any]]? {
        guard has(name) else { return nil }
        guard let list = raw[name] as? [[String: Any]] else { throw LogsError.wrongType(name) }
        return list
    }

    /// `limit`: absent → `defaultValue`; outside 1...max → AWS's validation message.
    func limit(_ name: String = "limit", max: Int, default defaultValue: Int) throws -> Int {
        guard let n = try int64(name) else { return defaultValue }
        if n < 1 { throw LogsError.validation(String(n), at: name, "Member must have value greater than or equal to 1") }
        if n > Int64(max) { throw LogsError.validation(String(n), at: name, "Member must have value less than or equal to \(max)") }
        return Int(n)
    }

    /// A timestamp member (milliseconds since the epoch, not negative).
    func timestamp(_ name: String) throws -> Int64? {
        guard let t = try int64(name) else { return nil }
        if t < 0 { throw LogsError.validation(String(t), at: name, "Member must have value greater than or equal to 0") }
        return t
    }

    func nextToken() throws -> String? {
        guard let t = try string("nextToken") else { return nil }
        if t.isEmpty { throw LogsError.validation("", at: "nextToken", "Member must have length greater than or equal to 1") }
        return t
    }
}

/// Names as CloudWatch Logs accepts them.
enum LogsNames {
    static func isGroupCharacter(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x2D || c == 0x5F
            || c == 0x2F || c == 0x23
    }

    /// 1–512 characters of `[\.\-_/#A-Za-z0-9]`.
    static func validateGroup(_ name: String, member: String = "logGroupName") throws {
        if name.isEmpty { throw LogsError.validation(name, at: member, "Member must have length greater than or equal to 1") }
        if name.utf8.count > 512 { throw LogsError.nameTooLong() }
        guard name.utf8.allSatisfy(isGroupCharacter) else {
            throw LogsError.validation(name, at: member, "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")
        }
    }

    /// 1–512 characters, no `:` or `*`.
    static func validateStream(_ name: String, member: String = "logStreamName") throws {
        if name.isEmpty { throw LogsError.validation(name, at: member, "Member must have length greater than or equal to 1") }
        if name.count > 512 { throw LogsError.nameTooLong() }
        if name.contains(":") || name.contains("*") {
            throw LogsError.validation(name, at: member, "Member must satisfy regular expression pattern: [^:*]*")
        }
    }

    /// A prefix (of streams or groups) only needs a length; AWS checks the characters of the names themselves.
    static func validatePrefix(_ prefix: String, member: String) throws {
        if prefix.isEmpty { throw LogsError.validation(prefix, at: member, "Member must have length greater than or equal to 1") }
        if prefix.count > 512 { throw LogsError.validation(prefix, at: member, "Member must have length less than or equal to 512") }
    }
}
