import Core
import Foundation

/// DynamoDB's errors (HTTP 400 unless said), with AWS's messages.
enum DDBError {
    static func validation(_ m: String) -> AWSError { AWSError("ValidationException", m) }
    /// "One or more parameter values were invalid: …", the prefix of most of DynamoDB's validation texts.
    static func invalid(_ m: String) -> AWSError { validation("One or more parameter values were invalid: " + m) }
    static func tableNotFound(_ name: String) -> AWSError {
        AWSError("ResourceNotFoundException", "Requested resource not found: Table: \(name) not found")
    }
    /// Item operations on a missing table say less than the table operations.
    static let resourceNotFound = AWSError("ResourceNotFoundException", "Requested resource not found")
    static func tableExists(_ name: String) -> AWSError { AWSError("ResourceInUseException", "Table already exists: \(name)") }
    static let keyMismatch = validation("The provided key element does not match the schema")
    static let conditionalCheckFailed = AWSError("ConditionalCheckFailedException", "The conditional request failed")
    static let itemTooLarge = validation("Item size has exceeded the maximum allowed size")
    static func wrongType(_ member: String) -> AWSError { AWSError("SerializationException", "Unexpected value type for \(member).") }
}

/// A JSON request's members.
struct Input {
    let raw: [String: Any]
    init(_ raw: [String: Any]) { self.raw = raw }

    func has(_ name: String) -> Bool { raw[name] != nil && !(raw[name] is NSNull) }

    func string(_ name: String) throws -> String? {
        guard has(name) else { return nil }
        guard let s = raw[name] as? String else { throw DDBError.wrongType(name) }
        return s
    }

    /// A member AWS requires: absent → the "1 validation error detected" text AWS's front end gives.
    func required(_ name: String) throws -> String {
        guard let s = try string(name) else {
            throw DDBError.validation("1 validation error detected: Value null at '\(lowerFirst(name))' failed to satisfy constraint: Member must not be null")
        }
        return s
    }

    func tableName(_ name: String = "TableName") throws -> String {
        let t = try required(name)
        guard (1...1024).contains(t.utf8.count) else {
            throw DDBError.validation("1 validation error detected: Value '\(t)' at '\(lowerFirst(name))' failed to satisfy constraint: Member must have length greater than or equal to 1")
        }
        return t
    }

    func bool(_ name: String) throws -> Bool? {
        guard has(name) else { return nil }
        guard let b = raw[name] as? Bool ?? (raw[name] as? NSNumber)?.boolValue else { throw DDBError.wrongType(name) }
        return b
    }

    func int(_ name: String) throws -> Int? {
        guard has(name) else { return nil }
        guard let n = raw[name] as? NSNumber, let i = Int(exactly: n.doubleValue) else { throw DDBError.wrongType(name) }
        return i
    }

    func object(_ name: String) throws -> [String: Any]? {
        guard has(name) else { return nil }
        guard let o = raw[name] as? [String: Any] else { throw DDBError.wrongType(name) }
        return o
    }

    func list(_ name: String) throws -> [Any]? {
        guard has(name) else { return nil }
        guard let l = raw[name] as? [Any] else { throw DDBError.wrongType(name) }
        return l
    }

    func objects(_ name: String) throws -> [[String: Any]]? {
        guard let l = try list(name) else { return nil }
        return try l.map { guard let o = $0 as? [String: Any] else { throw DDBError.wrongType(name) }; return o }
    }

    func strings(_ name: String) throws -> [String]? {
        guard let l = try list(name) else { return nil }
        return try l.map { guard let s = $0 as? String else { throw DDBError.wrongType(name) }; return s }
    }

    /// One of `allowed`, or AWS's enum constraint text.
    func enumValue(_ name: String, _ allowed: [String]) throws -> String? {
        guard let v = try string(name) else { return nil }
        guard allowed.contains(v) else {
            throw DDBError.validation("1 validation error detected: Value '\(v)' at '\(lowerFirst(name))' failed to satisfy constraint: Member must satisfy enum value set: [\(allowed.joined(separator: ", "))]")
        }
        return v
    }

    private func lowerFirst(_ s: String) -> String { s.prefix(1).lowercased() + s.dropFirst() }
}
