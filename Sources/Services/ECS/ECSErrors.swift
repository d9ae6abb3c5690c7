import Core
import Foundation

/// ECS's errors with AWS's texts. All are HTTP 400 (the JSON protocol's client faults).
enum ECSError {
    static func client(_ message: String) -> AWSError { AWSError("ClientException", message) }
    static func invalid(_ message: String) -> AWSError { AWSError("InvalidParameterException", message) }
    static func clusterNotFound() -> AWSError { AWSError("ClusterNotFoundException", "Cluster not found.") }
    static func serviceNotFound() -> AWSError { AWSError("ServiceNotFoundException", "Service not found.") }
    static func serviceNotActive() -> AWSError { AWSError("ServiceNotActiveException", "Service was not ACTIVE.") }
    static func taskDefinitionNotFound() -> AWSError { client("Unable to describe task definition.") }
    static func taskDefinitionNotFoundForUse() -> AWSError { client("TaskDefinition not found.") }
    static func taskDefinitionInactive() -> AWSError { client("TaskDefinition is inactive") }
    static func resourceNotFound(_ message: String = "The specified resource could not be found.") -> AWSError {
        AWSError("ResourceNotFoundException", message)
    }
    static func taskSetNotFound() -> AWSError { AWSError("TaskSetNotFoundException", "The specified task set does not exist.") }

    /// AWS's request validation message for a member outside its constraint.
    static func validation(_ value: String?, at member: String, _ constraint: String) -> AWSError {
        let shown = value.map { "'\($0)'" } ?? "null"
        return AWSError("ValidationException",
                        "1 validation error detected: Value \(shown) at '\(member)' failed to satisfy constraint: \(constraint)")
    }
}

/// A JSON request's members, read with ECS's errors. Typed sub-documents are decoded with `decode`.
struct Input {
    let raw: [String: JSON]

    init(_ body: Data) throws {
        if body.isEmpty { raw = [:]; return }
        guard let value = try? JSON(parsing: body), let object = value.object else {
            throw AWSError("SerializationException", "The request body is not a valid JSON object.")
        }
        raw = object
    }

    init(object: [String: JSON]) { raw = object }

    func has(_ name: String) -> Bool { raw[name].map { !$0.isNull } ?? false }

    func string(_ name: String) throws -> String? {
        guard has(name) else { return nil }
        guard let s = raw[name]?.string else { throw Self.wrongType(name) }
        return s
    }

    func required(_ name: String) throws -> String {
        guard let s = try string(name) else {
            throw AWSError("ValidationException", "1 validation error detected: Value null at '\(name)' failed to satisfy constraint: Member must not be null")
        }
        return s
    }

    func int(_ name: String) throws -> Int? {
        guard has(name) else { return nil }
        guard let n = raw[name]?.int else { throw Self.wrongType(name) }
        return n
    }

    func bool(_ name: String) throws -> Bool? {
        guard has(name) else { return nil }
        guard let b = raw[name]?.bool else { throw Self.wrongType(name) }
        return b
    }

    func strings(_ name: String) throws -> [String]? {
        guard has(name) else { return nil }
        guard let list = raw[name]?.array, list.allSatisfy({ $0.string != nil }) else { throw Self.wrongType(name) }
        return list.compactMap(\.string)
    }

    func json(_ name: String) -> JSON? { has(name) ? raw[name] : nil }

    /// A member decoded as a typed record; a shape that does not fit is AWS's SerializationException.
    func decode<T: Decodable>(_ name: String, as type: T.Type) throws -> T? {
        guard let value = json(name) else { return nil }
        do { return try value.decode(T.self) } catch { throw Self.wrongType(name) }
    }

    func tags(_ name: String = "tags") throws -> [Tag]? {
        guard let tags = try decode(name, as: [Tag].self) else { return nil }
        for t in tags {
            guard let k = t.key, !k.isEmpty, k.count <= 128 else {
                throw ECSError.invalid("Tag keys must be between 1 and 128 characters.")
            }
            if (t.value ?? "").count > 256 { throw ECSError.invalid("Tag values must be at most 256 characters.") }
            if k.lowercased().hasPrefix("aws:") { throw ECSError.invalid("Tag key prefix 'aws:' is reserved for AWS use.") }
        }
        return tags
    }

    static func wrongType(_ member: String) -> AWSError {
        AWSError("SerializationException", "Unexpected value type for \(member).")
    }
}

/// Pagination as ECS does it: an opaque token (the next item's offset) and maxResults (1...100, default 100).
enum Paging {
    static func page<T>(_ items: [T], token: String?, maxResults: Int?, limit: Int = 100) throws -> ([T], String?) {
        if let m = maxResults, !(1...limit).contains(m) {
            throw ECSError.invalid("maxResults must be between 1 and \(limit).")
        }
        var start = 0
        if let token {
            guard let d = Data(base64Encoded: token), let s = String(data: d, encoding: .utf8), s.hasPrefix("ecs:"),
                  let n = Int(s.dropFirst(4)), n >= 0 else {
                throw ECSError.invalid("Invalid token \(token)")
            }
            start = min(n, items.count)
        }
        let end = min(items.count, start + (maxResults ?? limit))
        let next = end < items.count ? Data("ecs:\(end)".utf8).base64EncodedString() : nil
        return (Array(items[start..<end]), next)
    }
}
