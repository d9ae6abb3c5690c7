import Core
import Foundation

/// Reads a resource's resolved properties in CloudFormation's shapes, failing as CloudFormation's schema validation
/// does (`Properties validation failed for resource X with message: #/Path: ...`) before S3 is asked anything.
/// Scalars are taken in either form a template can produce them (`30` or `"30"`, `true` or `"true"`).
struct PropertyShape {
    let logicalId: String

    func fail(_ path: String, _ message: String) -> AWSError {
        AWSError("ValidationError", "Properties validation failed for resource \(logicalId) with message: #\(path.isEmpty ? "" : "/" + path): \(message)")
    }

    func missing(_ path: String, _ key: String) -> AWSError { fail(path, "required key [\(key)] not found") }

    func object(_ v: JSON?, _ path: String) throws -> [String: JSON]? {
        guard let v, !v.isNull else { return nil }
        guard let o = v.object else { throw fail(path, "expected type: JSONObject, found: \(Self.typeName(v))") }
        return o
    }

    func array(_ v: JSON?, _ path: String) throws -> [JSON]? {
        guard let v, !v.isNull else { return nil }
        guard let a = v.array else { throw fail(path, "expected type: JSONArray, found: \(Self.typeName(v))") }
        return a
    }

    /// The members of an array of objects, each with its path.
    func objects(_ v: JSON?, _ path: String) throws -> [(path: String, value: [String: JSON])] {
        try (array(v, path) ?? []).enumerated().map { i, item in
            guard let o = try object(item, "\(path)/\(i)") else { throw fail("\(path)/\(i)", "expected type: JSONObject, found: Null") }
            return ("\(path)/\(i)", o)
        }
    }

    func string(_ v: JSON?, _ path: String) throws -> String? {
        switch v {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case .number?: return S3Resources.scalarText(v!)
        case .bool(let b)?: return b ? "true" : "false"
        case let other?: throw fail(path, "expected type: String, found: \(Self.typeName(other))")
        }
    }

    func strings(_ v: JSON?, _ path: String) throws -> [String]? {
        try array(v, path)?.enumerated().map { i, item in
            guard let s = try string(item, "\(path)/\(i)") else { throw fail("\(path)/\(i)", "expected type: String, found: Null") }
            return s
        }
    }

    func int(_ v: JSON?, _ path: String) throws -> Int? {
        switch v {
        case nil, .null?: return nil
        case .number(let n)? where n == n.rounded() && abs(n) < 9e15: return Int(n)
        case .string(let s)? where Int(s) != nil: return Int(s)
        case let other?: throw fail(path, "expected type: Integer, found: \(Self.typeName(other))")
        }
    }

    func bool(_ v: JSON?, _ path: String) throws -> Bool? {
        switch v {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case .string(let s)? where s.lowercased() == "true" || s.lowercased() == "false": return s.lowercased() == "true"
        case let other?: throw fail(path, "expected type: Boolean, found: \(Self.typeName(other))")
        }
    }

    func required<T>(_ value: T?, _ path: String, _ key: String) throws -> T {
        guard let value else { throw missing(path, key) }
        return value
    }

    /// A string that must be one of `allowed` (CloudFormation's enum constraint).
    func oneOf(_ v: JSON?, _ path: String, _ allowed: Set<String>) throws -> String? {
        guard let s = try string(v, path) else { return nil }
        guard allowed.contains(s) else { throw fail(path, "failed validation constraint for keyword [enum]") }
        return s
    }

    static func typeName(_ v: JSON) -> String {
        switch v {
        case .null: "Null"
        case .bool: "Boolean"
        case .number: "Number"
        case .string: "String"
        case .array: "JSONArray"
        case .object: "JSONObject"
        }
    }
}

extension S3Resources {
    static func scalarText(_ v: JSON) -> String {
        switch v {
        case .number(let n): n == n.rounded() && abs(n) < 9e15 ? String(Int64(n)) : String(n)
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        default: ""
        }
    }
}
