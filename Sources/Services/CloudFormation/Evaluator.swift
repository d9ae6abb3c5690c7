import Core
import Foundation

/// Resolves intrinsic functions against a stack: its parameters, pseudo parameters, conditions, mappings, the
/// resources created so far and the exports of the account and region.
struct Evaluator: Sendable {
    var template: Template
    var parameters: [String: String]
    var account: String
    var region: String
    var stackName: String
    var stackId: String
    var notificationARNs: [String] = []
    var resources: [String: ResourceState] = [:]
    var exports: [String: String] = [:]
    var conditionValues: [String: Bool] = [:]

    init(template: Template, parameters: [String: String], account: String, region: String, stackName: String,
         stackId: String, exports: [String: String] = [:]) throws {
        self.template = template
        self.parameters = parameters
        self.account = account
        self.region = region
        self.stackName = stackName
        self.stackId = stackId
        self.exports = exports
        try evaluateConditions()
    }

    var partition: String {
        region.hasPrefix("cn-") ? "aws-cn" : region.hasPrefix("us-gov-") ? "aws-us-gov" : "aws"
    }

    mutating func evaluateConditions() throws {
        var values: [String: Bool] = [:]
        var visiting = Set<String>()
        func eval(_ name: String) throws -> Bool {
            if let v = values[name] { return v }
            guard let body = template.conditions[name] else {
                throw CFNError.templateFormat("Unresolved dependencies [\(name)]. Cannot reference resources in the Conditions block of the template")
            }
            guard visiting.insert(name).inserted else {
                throw CFNError.templateFormat("Circular dependency between conditions: [\(visiting.sorted().joined(separator: ", "))]")
            }
            let v = try condition(body, lookup: eval)
            values[name] = v
            return v
        }
        for name in template.conditions.keys.sorted() { _ = try eval(name) }
        conditionValues = values
    }

    /// A condition expression: Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition (and booleans from Ref, FindInMap...).
    func condition(_ body: JSON, lookup: (String) throws -> Bool) throws -> Bool {
        if let o = body.object, o.count == 1, let (key, arg) = o.first {
            switch key {
            case "Condition":
                guard let name = arg.string else { throw CFNError.templateFormat("Condition must be a string") }
                return try lookup(name)
            case "Fn::Equals":
                guard let a = arg.array, a.count == 2 else {
                    throw CFNError.validation("Template error: every Fn::Equals object requires a list of 2 string parameters.")
                }
                return try withoutActuallyEscaping(lookup) { l in
                    let x = try resolve(a[0], conditionLookup: l), y = try resolve(a[1], conditionLookup: l)
                    return Self.loose(x) == Self.loose(y)
                }
            case "Fn::And", "Fn::Or":
                guard let a = arg.array, (2...10).contains(a.count) else {
                    throw CFNError.validation("Template error: every \(key) object requires a list of at least 2 and at most 10 boolean parameters.")
                }
                let bs = try a.map { try condition($0, lookup: lookup) }
                return key == "Fn::And" ? bs.allSatisfy { $0 } : bs.contains(true)
            case "Fn::Not":
                guard let a = arg.array, a.count == 1 else {
                    throw CFNError.validation("Template error: every Fn::Not object requires a list of 1 boolean parameter.")
                }
                return try !condition(a[0], lookup: lookup)
            default: break
            }
        }
        let v = try withoutActuallyEscaping(lookup) { l in try resolve(body, conditionLookup: l) }
        if let b = v?.bool { return b }
        if let s = v?.string?.lowercased(), s == "true" || s == "false" { return s == "true" }
        throw CFNError.validation("Template error: Fn::If requires a boolean condition")
    }

    /// Scalars compared as text: `Fn::Equals` of "1" and 1 is true.
    static func loose(_ v: JSON?) -> JSON? {
        guard let v else { return nil }
        if let t = Template.text(v) { return .string(t) }
        if let a = v.array { return .array(a.map { loose($0) ?? .null }) }
        return v
    }

    func isEnabled(condition name: String?) -> Bool {
        guard let name else { return true }
        return conditionValues[name] ?? false
    }

    // MARK: Resolution

    /// The value with every function resolved; nil where it resolves to AWS::NoValue (the member is dropped).
    func resolve(_ value: JSON) throws -> JSON? {
        try resolve(value, conditionLookup: nil)
    }

    func resolveProperties(_ properties: [String: JSON]) throws -> [String: JSON] {
        try resolve(.object(properties))?.object ?? [:]
    }

    func resolve(_ value: JSON, conditionLookup: ((String) throws -> Bool)?) throws -> JSON? {
        switch value {
        case .array(let a):
            return .array(try a.compactMap { try resolve($0, conditionLookup: conditionLookup) })
        case .object(let o):
            if o.count == 1, let (key, arg) = o.first, key == "Ref" || key == "Condition" || key.hasPrefix("Fn::") {
                return try function(key, arg, conditionLookup: conditionLookup)
            }
            var out: [String: JSON] = [:]
            for (k, v) in o {
                if let r = try resolve(v, conditionLookup: conditionLookup) { out[k] = r }
            }
            return .object(out)
        default:
            return value
        }
    }

    func string(_ value: JSON, _ fn: String, conditionLookup: ((String) throws -> Bool)?) throws -> String {
        guard let r = try resolve(value, conditionLookup: conditionLookup), let s = Template.text(r) else {
            throw CFNError.validation("Template error: every \(fn) object requires string parameters")
        }
        return s
    }

    func list(_ value: JSON, _ fn: String, conditionLookup: ((String) throws -> Bool)?) throws -> [JSON] {
        guard let r = try resolve(value, conditionLookup: conditionLookup), let a = r.array else {
            throw CFNError.validation("Template error: every \(fn) object requires a list")
        }
        return a
    }

    func ref(_ name: String) throws -> JSON? {
        switch name {
        case "AWS::AccountId": return .string(account)
        case "AWS::Region": return .string(region)
        case "AWS::StackName": return .string(stackName)
        case "AWS::StackId": return .string(stackId)
        case "AWS::Partition": return .string(partition)
        case "AWS::URLSuffix": return .string(partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com")
        case "AWS::NoValue": return nil
        case "AWS::NotificationARNs": return .array(notificationARNs.map(JSON.string))
        default: break
        }
        if let p = template.parameters[name], let v = parameters[name] {
            return p.isList ? .array(v.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) }) : .string(v)
        }
        if let state = resources[name] { return .string(state.ref) }
        if template.resources[name] != nil {
            throw CFNError.validation("Template error: resource \(name) is not available to Ref (it was not created)")
        }
        throw CFNError.templateFormat("Unresolved resource dependencies [\(name)] in the Resources block of the template")
    }

    func getAtt(_ resource: String, _ attribute: String) throws -> JSON {
        guard template.resources[resource] != nil else {
            throw CFNError.validation("Template error: instance of Fn::GetAtt references undefined resource \(resource)")
        }
        guard let state = resources[resource] else {
            throw CFNError.validation("Template error: resource \(resource) is not available to Fn::GetAtt (it was not created)")
        }
        guard let v = state.attributes[attribute] else {
            let type = template.resources[resource]?.type ?? "?"
            throw CFNError.validation("Template error: resource \(resource) of type \(type) does not support attribute \(attribute) in Fn::GetAtt")
        }
        return v
    }

    func function(_ key: String, _ arg: JSON, conditionLookup: ((String) throws -> Bool)?) throws -> JSON? {
        func r(_ v: JSON) throws -> JSON? { try resolve(v, conditionLookup: conditionLookup) }
        func cond(_ name: String) throws -> Bool {
            if let conditionLookup { return try conditionLookup(name) }
            guard let v = conditionValues[name] else {
                throw CFNError.templateFormat("Unresolved dependencies [\(name)]. Cannot reference resources in the Conditions block of the template")
            }
            return v
        }
        switch key {
        case "Ref":
            guard let name = arg.string else { throw CFNError.validation("Template error: every Ref object must have a single String value.") }
            return try ref(name)
        case "Condition":
            guard let name = arg.string else { throw CFNError.templateFormat("Condition must be a string") }
            return .bool(try cond(name))
        case "Fn::GetAtt":
            var parts: [String] = []
            if let s = arg.string, let dot = s.firstIndex(of: ".") {
                parts = [String(s[..<dot]), String(s[s.index(after: dot)...])]
            } else if let a = arg.array, a.count == 2 {
                parts = try a.map { try string($0, key, conditionLookup: conditionLookup) }
            }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw CFNError.validation("Template error: every Fn::GetAtt object requires two non-empty parameters")
            }
            return try getAtt(parts[0], parts[1])
        case "Fn::Sub":
            let (text, vars) = Template.subArguments(arg)
            guard let text else { throw CFNError.validation("Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string") }
            var values: [String: String] = [:]
            for (k, v) in vars {
                guard let rv = try r(v), let s = Template.text(rv) else {
                    throw CFNError.validation("Template error: variable \(k) in Fn::Sub must resolve to a string")
                }
                values[k] = s
            }
            return .string(try substitute(text, values))
        case "Fn::Join":
            guard let a = arg.array, a.count == 2, let delimiter = a[0].string else {
                throw CFNError.validation("Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.")
            }
            let items = try list(a[1], key, conditionLookup: conditionLookup)
            let texts = try items.map { item -> String in
                guard let t = Template.text(item) else {
                    throw CFNError.validation("Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.")
                }
                return t
            }
            return .string(texts.joined(separator: delimiter))
        case "Fn::Select":
            guard let a = arg.array, a.count == 2 else {
                throw CFNError.validation("Template error: Fn::Select requires a list argument with two elements: an integer index and a list")
            }
            let indexText = try string(a[0], key, conditionLookup: conditionLookup)
            let items = try list(a[1], key, conditionLookup: conditionLookup)
            guard let i = Int(indexText), i >= 0, i < items.count else {
                throw CFNError.validation("Template error: Fn::Select cannot select nonexistent value at index \(indexText)")
            }
            return items[i]
        case "Fn::Split":
            guard let a = arg.array, a.count == 2, let delimiter = a[0].string, !delimiter.isEmpty else {
                throw CFNError.validation("Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.")
            }
            let s = try string(a[1], key, conditionLookup: conditionLookup)
            return .array(s.components(separatedBy: delimiter).map(JSON.string))
        case "Fn::If":
            guard let a = arg.array, a.count == 3, let name = a[0].string else {
                throw CFNError.validation("Template error: Fn::If requires a list argument with three elements")
            }
            return try cond(name) ? r(a[1]) : r(a[2])
        case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not":
            return .bool(try condition(.object([key: arg]), lookup: conditionLookup ?? cond))
        case "Fn::FindInMap":
            guard let a = arg.array, a.count == 3 || a.count == 4 else {
                throw CFNError.validation("Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value")
            }
            let names = try a.prefix(3).map { try string($0, key, conditionLookup: conditionLookup) }
            if let v = template.mappings[names[0]]?[names[1]]?[names[2]] { return v }
            if a.count == 4, let d = a[3]["DefaultValue"] { return try r(d) }
            throw CFNError.validation("Template error: Unable to get mapping for \(names[0])::\(names[1])::\(names[2])")
        case "Fn::GetAZs":
            var name = try r(arg).flatMap(Template.text) ?? ""
            if name.isEmpty { name = region }
            return .array(["a", "b", "c"].map { .string(name + $0) })
        case "Fn::Base64":
            let s = try string(arg, key, conditionLookup: conditionLookup)
            return .string(Data(s.utf8).base64EncodedString())
        case "Fn::ImportValue":
            let name = try string(arg, key, conditionLookup: conditionLookup)
            guard let v = exports[name] else { throw CFNError.validation("No export named \(name) found.") }
            return .string(v)
        case "Fn::Cidr":
            guard let a = arg.array, a.count == 2 || a.count == 3 else {
                throw CFNError.validation("Template error: Fn::Cidr requires a list of 2 or 3 parameters")
            }
            let block = try string(a[0], key, conditionLookup: conditionLookup)
            guard let count = Int(try string(a[1], key, conditionLookup: conditionLookup)),
                  let bits = Int(a.count == 3 ? try string(a[2], key, conditionLookup: conditionLookup) : "8") else {
                throw CFNError.validation("Template error: Fn::Cidr requires integer count and cidrBits")
            }
            return .array(try Self.cidr(block, count: count, bits: bits).map(JSON.string))
        default:
            if template.languageExtensions, let v = try languageFunction(key, arg, conditionLookup: conditionLookup) { return v }
            throw CFNError.templateFormat("Encountered unsupported function: \(key) Supported functions are: [\(Template.functions.sorted().joined(separator: ", "))]")
        }
    }

    /// `${Name}`, `${Resource.Attr}`, `${!Literal}` in a Fn::Sub string.
    func substitute(_ text: String, _ values: [String: String]) throws -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: "}") else {
                out += rest[start.lowerBound...]
                rest = ""
                break
            }
            let raw = String(after[..<end])
            rest = after[after.index(after: end)...]
            if raw.hasPrefix("!") {
                out += "${" + raw.dropFirst() + "}"
                continue
            }
            let name = raw.trimmingCharacters(in: .whitespaces)
            if let v = values[name] {
                out += v
            } else if let dot = name.firstIndex(of: "."), template.resources[String(name[..<dot])] != nil {
                let v = try getAtt(String(name[..<dot]), String(name[name.index(after: dot)...]))
                out += Template.text(v) ?? ""
            } else {
                guard let v = try ref(name) else { continue }
                if let s = Template.text(v) { out += s }
                else if let a = v.array { out += a.compactMap(Template.text).joined(separator: ",") }
            }
        }
        out += rest
        return out
    }

    /// Fn::Cidr for IPv4: `count` subnets of `bits` host bits each, carved from the start of `block`.
    static func cidr(_ block: String, count: Int, bits: Int) throws -> [String] {
        let parts = block.split(separator: "/")
        let octets = parts.first?.split(separator: ".").compactMap { UInt32($0) } ?? []
        guard parts.count == 2, let prefix = Int(parts[1]), octets.count == 4, octets.allSatisfy({ $0 < 256 }),
              (0...32).contains(prefix), count >= 1, count <= 256, bits >= 1, bits <= 32 - prefix else {
            throw CFNError.validation("Template error: Fn::Cidr cannot carve \(count) subnets with \(bits) bits from \(block)")
        }
        let base = octets.reduce(UInt32(0)) { $0 << 8 | $1 }
        let size = UInt64(1) << UInt64(bits)
        guard UInt64(count) * size <= UInt64(1) << UInt64(32 - prefix) else {
            throw CFNError.validation("Template error: Fn::Cidr cannot carve \(count) subnets with \(bits) bits from \(block)")
        }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        let start = UInt64(base & mask)
        return (0..<count).map { i in
            let a = UInt32(truncatingIfNeeded: start + UInt64(i) * size)
            return "\(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)/\(32 - bits)"
        }
    }
}
