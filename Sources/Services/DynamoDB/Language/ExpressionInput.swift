import Core
import Foundation

/// One request's ExpressionAttributeNames and ExpressionAttributeValues, validated with AWS's texts, and the record of
/// which placeholders the request's expressions used: AWS rejects a request that supplies one no expression uses.
struct ExpressionInput: Sendable {
    private(set) var names: [String: String] = [:]
    private(set) var values: [String: AttributeValue] = [:]
    private(set) var usedNames: Set<String> = []
    private(set) var usedValues: Set<String> = []

    init(names: Any?, values: Any?) throws(AWSError) {
        if let names, !(names is NSNull) {
            guard let map = names as? [String: Any] else {
                throw AWSError("SerializationException", "Start of structure or map found where not expected")
            }
            if map.isEmpty { throw AWSError("ValidationException", "ExpressionAttributeNames must not be empty") }
            for key in map.keys.sorted() {
                guard Self.isPlaceholder(key, "#") else {
                    throw AWSError("ValidationException", "ExpressionAttributeNames contains invalid key: Syntax error; key: \"\(key)\"")
                }
                guard let name = map[key] as? String else {
                    throw AWSError("SerializationException", "NUMBER_VALUE cannot be converted to String")
                }
                self.names[key] = name
            }
        }
        if let values, !(values is NSNull) {
            guard let map = values as? [String: Any] else {
                throw AWSError("SerializationException", "Start of structure or map found where not expected")
            }
            if map.isEmpty { throw AWSError("ValidationException", "ExpressionAttributeValues must not be empty") }
            for key in map.keys.sorted() where !Self.isPlaceholder(key, ":") {
                throw AWSError("ValidationException", "ExpressionAttributeValues contains invalid key: Syntax error; key: \"\(key)\"")
            }
            for key in map.keys.sorted() {
                do {
                    self.values[key] = try AttributeValue(json: map[key]!)
                } catch where error.code == "ValidationException" {
                    throw AWSError("ValidationException", "ExpressionAttributeValues contains invalid value: \(error.message) for key \(key)")
                }
            }
        }
    }

    /// Already-decoded placeholders (the legacy converters and tests build requests this way).
    init(names: [String: String] = [:], values: [String: AttributeValue] = [:]) {
        self.names = names
        self.values = values
    }

    var isEmpty: Bool { names.isEmpty && values.isEmpty }

    /// `#` or `:` then one or more of [A-Za-z0-9_].
    static func isPlaceholder(_ key: String, _ sigil: Character) -> Bool {
        guard key.first == sigil, key.count > 1 else { return false }
        return key.unicodeScalars.dropFirst().allSatisfy { Self.isNameScalar($0) }
    }

    static func isNameScalar(_ s: Unicode.Scalar) -> Bool {
        (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "_"
    }

    /// The attribute name behind `#n`, marking it used.
    mutating func name(_ placeholder: String) -> String? {
        guard let name = names[placeholder] else { return nil }
        usedNames.insert(placeholder)
        return name
    }

    /// The value behind `:v`, marking it used.
    mutating func value(_ placeholder: String) -> AttributeValue? {
        guard let value = values[placeholder] else { return nil }
        usedValues.insert(placeholder)
        return value
    }

    func checkAllUsed() throws(AWSError) {
        let unusedNames = Set(names.keys).subtracting(usedNames).sorted()
        if !unusedNames.isEmpty {
            throw AWSError("ValidationException", "Value provided in ExpressionAttributeNames unused in expressions: keys: {\(unusedNames.joined(separator: ", "))}")
        }
        let unusedValues = Set(values.keys).subtracting(usedValues).sorted()
        if !unusedValues.isEmpty {
            throw AWSError("ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {\(unusedValues.joined(separator: ", "))}")
        }
    }
}
