import Core
import Foundation

/// Secrets Manager's errors, with AWS's messages. Secrets Manager answers most of them with HTTP 400.
enum SecretsError {
    static func notFound() -> AWSError {
        AWSError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
    }
    static func versionNotFound(stage: String) -> AWSError {
        AWSError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: \(stage)")
    }
    static func versionNotFound(id: String) -> AWSError {
        AWSError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: \(id)")
    }
    static func markedForDeletion() -> AWSError {
        AWSError("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
    }
    static func replica() -> AWSError {
        AWSError("InvalidRequestException", "Operation not permitted on a replica secret. Call must be made in primary secret's region.")
    }
    static func invalidParameter(_ message: String) -> AWSError { AWSError("InvalidParameterException", message) }
    static func invalidRequest(_ message: String) -> AWSError { AWSError("InvalidRequestException", message) }
    static func tokenRequired() -> AWSError {
        AWSError("InvalidRequestException", "You must provide a ClientRequestToken value. We recommend a UUID-type value.")
    }
}

/// A JSON request's members, read with Secrets Manager's validation errors.
struct Input {
    let raw: [String: Any]
    init(_ raw: [String: Any]) { self.raw = raw }

    func has(_ name: String) -> Bool { raw[name] != nil && !(raw[name] is NSNull) }

    func string(_ name: String) throws -> String? {
        guard has(name) else { return nil }
        guard let s = raw[name] as? String else { throw SecretsError.invalidParameter("Invalid type for parameter \(name).") }
        return s
    }

    func required(_ name: String) throws -> String {
        guard let s = try string(name) else {
            throw AWSError("InvalidParameterException", "You must provide a value for the \(name) parameter.")
        }
        return s
    }

    func int(_ name: String) throws -> Int? {
        guard has(name) else { return nil }
        guard let n = raw[name] as? NSNumber else { throw SecretsError.invalidParameter("Invalid type for parameter \(name).") }
        return n.intValue
    }

    func bool(_ name: String) throws -> Bool? {
        guard has(name) else { return nil }
        guard let b = raw[name] as? Bool ?? (raw[name] as? NSNumber)?.boolValue else {
            throw SecretsError.invalidParameter("Invalid type for parameter \(name).")
        }
        return b
    }

    func strings(_ name: String) throws -> [String]? {
        guard has(name) else { return nil }
        guard let list = raw[name] as? [Any], list.allSatisfy({ $0 is String }) else {
            throw SecretsError.invalidParameter("Invalid type for parameter \(name).")
        }
        return list.compactMap { $0 as? String }
    }

    func objects(_ name: String) throws -> [[String: Any]]? {
        guard has(name) else { return nil }
        guard let list = raw[name] as? [[String: Any]] else { throw SecretsError.invalidParameter("Invalid type for parameter \(name).") }
        return list
    }

    /// SecretString or SecretBinary (base64 in JSON); both is an error, neither is nil.
    func value() throws -> SecretValue? {
        let text = try string("SecretString")
        let binary = try string("SecretBinary")
        if text != nil && binary != nil {
            throw SecretsError.invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
        }
        if let text {
            guard text.utf8.count <= 65536 else { throw SecretsError.invalidParameter("SecretString must be at most 65536 bytes.") }
            return SecretValue(bytes: Array(text.utf8), isBinary: false)
        }
        if let binary {
            guard let data = Data(base64Encoded: binary) else { throw SecretsError.invalidParameter("SecretBinary must be base64-encoded.") }
            guard data.count <= 65536 else { throw SecretsError.invalidParameter("SecretBinary must be at most 65536 bytes.") }
            return SecretValue(bytes: [UInt8](data), isBinary: true)
        }
        return nil
    }

    /// ClientRequestToken: 32–64 characters; nil when absent.
    func token() throws -> String? {
        guard let t = try string("ClientRequestToken") else { return nil }
        guard (32...64).contains(t.count) else {
            throw SecretsError.invalidParameter("ClientRequestToken must be between 32 and 64 characters long.")
        }
        return t
    }
}
