import Core

/// The parameters of one IAM Query request, read as the 2010-05-08 model shapes them: scalars by name, lists as
/// `Name.member.N`, tags as `Tags.member.N.Key` / `.Value`. Constraint failures are the `ValidationError`s AWS answers,
/// naming the member in lowerCamelCase (`roleName`).
struct IAMInput: Sendable {
    let parameters: [String: String]

    init(_ parameters: [String: String]) { self.parameters = parameters }

    /// `RoleName` → `roleName`, as AWS names members in validation messages.
    static func member(_ name: String) -> String {
        guard let first = name.first else { return name }
        return first.lowercased() + name.dropFirst()
    }

    func optional(_ name: String) -> String? { parameters[name] }

    func required(_ name: String) throws -> String {
        guard let v = parameters[name] else {
            throw IAMError.constraint(Self.member(name), value: nil, "Member must not be null")
        }
        return v
    }

    /// A required or optional string with the model's length bounds.
    func string(_ name: String, required: Bool = true, min: Int = 1, max: Int) throws -> String? {
        guard let v = required ? try self.required(name) : parameters[name] else { return nil }
        try Self.checkLength(v, member: Self.member(name), min: min, max: max)
        return v
    }

    static func checkLength(_ v: String, member: String, min: Int, max: Int) throws {
        let n = v.unicodeScalars.count
        if n < min {
            throw IAMError.constraint(member, value: v, "Member must have length greater than or equal to \(min)")
        }
        if n > max {
            throw IAMError.constraint(member, value: v, "Member must have length less than or equal to \(max)")
        }
    }

    /// An entity name (`[\w+=,.@-]+`: roles, users, groups, policies, instance profiles).
    func name(_ name: String, max: Int, required: Bool = true) throws -> String? {
        guard let v = try string(name, required: required, max: max) else { return nil }
        if !v.utf8.allSatisfy(Self.isNameByte) {
            throw IAMError.constraint(Self.member(name), value: v, "Member must satisfy regular expression pattern: [\\w+=,.@-]+")
        }
        return v
    }

    func requiredName(_ name: String, max: Int) throws -> String { try self.name(name, max: max)! }

    static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95 || c == 43 || c == 61 || c == 44
            || c == 46 || c == 64 || c == 45
    }

    /// `Path`: `/` or `/.../` of printable ASCII; `/` when absent.
    func path(_ name: String = "Path") throws -> String {
        guard let v = try string(name, required: false, max: 512) else { return "/" }
        let inner = v.utf8.dropFirst().dropLast()
        guard v == "/" || (v.utf8.count >= 2 && v.hasPrefix("/") && v.hasSuffix("/") && inner.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }) else {
            throw IAMError.constraint(Self.member(name), value: v,
                                      "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)")
        }
        return v
    }

    /// `PathPrefix`: starts with `/`; nil when absent.
    func pathPrefix() throws -> String? {
        guard let v = try string("PathPrefix", required: false, max: 512) else { return nil }
        guard v.hasPrefix("/"), v.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7F }) else {
            throw IAMError.constraint("pathPrefix", value: v, "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*")
        }
        return v
    }

    func int(_ name: String, min: Int, max: Int) throws -> Int? {
        guard let text = parameters[name] else { return nil }
        guard let v = Int(text) else {
            throw IAMError.validation("Invalid value for parameter \(name), value: \(text), type: class java.lang.String, type: Integer")
        }
        if v < min { throw IAMError.constraint(Self.member(name), value: text, "Member must have value greater than or equal to \(min)") }
        if v > max { throw IAMError.constraint(Self.member(name), value: text, "Member must have value less than or equal to \(max)") }
        return v
    }

    func bool(_ name: String) -> Bool? {
        parameters[name].map { $0.lowercased() == "true" }
    }

    /// `Name.member.1`, `Name.member.2`... in index order (an empty list travels as `Name=`).
    func list(_ name: String) -> [String] {
        let prefix = name + ".member."
        return parameters.compactMap { k, v -> (Int, String)? in
            guard k.hasPrefix(prefix), let i = Int(k.dropFirst(prefix.count)) else { return nil }
            return (i, v)
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// `Tags.member.N.Key` / `.Value`, validated as the model's tag shapes.
    func tags(_ name: String = "Tags") throws -> [Tag] {
        let prefix = name + ".member."
        var byIndex: [Int: (key: String?, value: String?)] = [:]
        for (k, v) in parameters where k.hasPrefix(prefix) {
            let rest = k.dropFirst(prefix.count).split(separator: ".", maxSplits: 1)
            guard rest.count == 2, let i = Int(rest[0]) else { continue }
            if rest[1] == "Key" { byIndex[i, default: (nil, nil)].key = v }
            if rest[1] == "Value" { byIndex[i, default: (nil, nil)].value = v }
        }
        let lower = Self.member(name)
        if byIndex.count > 50 {
            throw IAMError.constraint(lower, value: nil, "Member must have length less than or equal to 50")
        }
        var tags: [Tag] = []
        for (i, entry) in byIndex.sorted(by: { $0.key < $1.key }) {
            guard let key = entry.key else {
                throw IAMError.constraint("\(lower).\(i).member.key", value: nil, "Member must not be null")
            }
            guard let value = entry.value else {
                throw IAMError.constraint("\(lower).\(i).member.value", value: nil, "Member must not be null")
            }
            try Tag.validate(key: key, member: "\(lower).\(i).member.key")
            try Self.checkLength(value, member: "\(lower).\(i).member.value", min: 0, max: 256)
            if !value.unicodeScalars.allSatisfy(Tag.isTagScalar) {
                throw IAMError.constraint("\(lower).\(i).member.value", value: value,
                                          "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*")
            }
            tags.append(Tag(key: key, value: value))
        }
        var seen = Set<String>()
        for t in tags where !seen.insert(t.key.lowercased()).inserted {
            throw IAMError.invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        }
        return tags
    }

    /// `MaxItems` (1...1000, default 100) and the `Marker` of a listing.
    func paging() throws -> (marker: String?, maxItems: Int) {
        let max = try int("MaxItems", min: 1, max: 1000) ?? 100
        let marker = try string("Marker", required: false, max: 320)
        return (marker, max)
    }
}

/// An IAM tag. Keys are case-insensitive: a new value for `Env` replaces the one of `env`.
struct Tag: Sendable, Equatable, Codable {
    var key: String
    var value: String

    enum CodingKeys: String, CodingKey {
        case key = "Key", value = "Value"
    }

    static func isTagScalar(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .spaceSeparator, .lineSeparator, .paragraphSeparator, .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return "_.:/=+-@".unicodeScalars.contains(s)
        }
    }

    static func validate(key: String, member: String) throws {
        try IAMInput.checkLength(key, member: member, min: 1, max: 128)
        if !key.unicodeScalars.allSatisfy(isTagScalar) {
            throw IAMError.constraint(member, value: key, "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+")
        }
    }

    /// `tags` with `new` merged in (same key in any case: replaced in place), refusing more than 50.
    static func merge(_ tags: [Tag], _ new: [Tag]) throws -> [Tag] {
        var out = tags
        for t in new {
            if let i = out.firstIndex(where: { $0.key.lowercased() == t.key.lowercased() }) {
                out[i] = t
            } else {
                out.append(t)
            }
        }
        if out.count > 50 {
            throw IAMError.limitExceeded("The number of tags has reached the maximum limit.")
        }
        return out
    }

    static func remove(_ tags: [Tag], keys: [String]) -> [Tag] {
        let drop = Set(keys.map { $0.lowercased() })
        return tags.filter { !drop.contains($0.key.lowercased()) }
    }
}
