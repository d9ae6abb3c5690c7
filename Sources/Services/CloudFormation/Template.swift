import Core
import Foundation

/// A parsed, statically checked template: its sections, as the CloudFormation user guide describes them.
struct Template: Sendable {
    struct Parameter: Sendable {
        var name: String
        var type: String
        var defaultValue: String?
        var allowedValues: [String]?
        var allowedPattern: String?
        var minLength: Int?
        var maxLength: Int?
        var minValue: Double?
        var maxValue: Double?
        var noEcho: Bool
        var description: String?
        var constraintDescription: String?

        var isList: Bool { type == "CommaDelimitedList" || type.hasPrefix("List<") }
    }

    struct Resource: Sendable {
        var name: String
        var type: String
        var properties: [String: JSON]
        var dependsOn: [String]
        var condition: String?
        var deletionPolicy: String?
        var updateReplacePolicy: String?
        var body: JSON
    }

    struct Output: Sendable {
        var name: String
        var value: JSON
        var description: String?
        var exportName: JSON?
        var condition: String?
    }

    var body: JSON
    var description: String?
    var parameters: [String: Parameter] = [:]
    var mappings: [String: JSON] = [:]
    var conditions: [String: JSON] = [:]
    var resources: [String: Resource] = [:]
    var outputs: [String: Output] = [:]
    /// Declared `Transform: AWS::LanguageExtensions` (LanguageExtensions.swift): Fn::Length, Fn::ToJsonString.
    var languageExtensions = false

    static let sections: Set<String> = [
        "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Mappings", "Conditions", "Resources",
        "Outputs", "Rules", "Transform",
    ]
    static let pseudoParameters: Set<String> = [
        "AWS::AccountId", "AWS::Region", "AWS::StackName", "AWS::StackId", "AWS::Partition", "AWS::URLSuffix",
        "AWS::NoValue", "AWS::NotificationARNs",
    ]
    static let functions: Set<String> = [
        "Ref", "Condition", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::If", "Fn::Equals",
        "Fn::And", "Fn::Or", "Fn::Not", "Fn::FindInMap", "Fn::GetAZs", "Fn::Base64", "Fn::ImportValue", "Fn::Cidr",
    ]

    /// The processed template (transforms applied) as JSON text, for GetTemplate TemplateStage=Processed.
    var processedBody: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(body)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    /// Parse and check a template body. `parameters` (the stack's values) feed `Fn::ForEach` collections; without
    /// them, the parameters' defaults do.
    init(body text: String, parameters: [String: String]? = nil) throws {
        try self.init(TemplateParser.parse(text), parameters: parameters)
    }

    init(_ json: JSON, parameters: [String: String]? = nil) throws {
        guard let top = json.object else { throw CFNError.templateFormat("unsupported structure.") }
        if let transform = top["Transform"] {
            let names = transform.array?.map { $0.string ?? "?" } ?? [transform.string ?? "?"]
            let others = names.filter { $0 != SAMTransform.name && $0 != LanguageExtensions.name }
            if !others.isEmpty {
                throw CFNError.templateFormat("Transform \(others.joined(separator: ", ")) is not supported by Cloudless")
            }
            let source = names.contains(LanguageExtensions.name)  // policies: DeletionPolicies.swift
                ? Self.resolvePolicyReferences(try LanguageExtensions.expandForEach(json, parameters: parameters), parameters: parameters)
                : json
            // The SAM transform is done here, so every caller sees the processed template.
            try self.init(checked: names.contains(SAMTransform.name) ? SAMTransform.expand(source) : source)
            languageExtensions = names.contains(LanguageExtensions.name)
        } else {
            try self.init(checked: json)
        }
    }

    /// Check a template with no transform left in it.
    private init(checked json: JSON) throws {
        guard let top = json.object else { throw CFNError.templateFormat("unsupported structure.") }
        body = json
        let unknown = top.keys.filter { !Self.sections.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw CFNError.templateFormat("Invalid template property or properties [\(unknown.joined(separator: ", "))]")
        }
        if let version = top["AWSTemplateFormatVersion"], version.string != "2010-09-09" {
            throw CFNError.templateFormat("Unsupported template format version \(Self.text(version) ?? "")")
        }
        if let d = top["Description"] {
            guard let s = d.string else { throw CFNError.templateFormat("Every Description member must be a string.") }
            description = s
        }
        for (name, p) in top["Parameters"]?.object ?? [:] {
            parameters[name] = try Self.parameter(name, p)
        }
        mappings = top["Mappings"]?.object ?? [:]
        conditions = top["Conditions"]?.object ?? [:]
        guard let res = top["Resources"]?.object, !res.isEmpty else {
            throw CFNError.templateFormat("At least one Resources member must be defined.")
        }
        for (name, r) in res {
            guard let obj = r.object else {
                throw CFNError.templateFormat("[/Resources/\(name)] resource definition is malformed")
            }
            guard let type = obj["Type"]?.string else {
                throw CFNError.templateFormat("[/Resources/\(name)] Every Resources object must contain a Type member.")
            }
            var props: [String: JSON] = [:]
            if let p = obj["Properties"] {
                guard let o = p.object else {
                    throw CFNError.templateFormat("[/Resources/\(name)/Properties] Every Properties member must be an object.")
                }
                props = o
            }
            var deps: [String] = []
            if let d = obj["DependsOn"] {
                if let s = d.string { deps = [s] } else if let a = d.array, a.allSatisfy({ $0.string != nil }) {
                    deps = a.compactMap(\.string)
                } else {
                    throw CFNError.templateFormat("DependsOn must be a string or list of strings.")
                }
            }
            try Self.checkPolicies(name, obj)  // DeletionPolicies.swift
            resources[name] = Resource(name: name, type: type, properties: props, dependsOn: deps,
                                       condition: obj["Condition"]?.string, deletionPolicy: obj["DeletionPolicy"]?.string,
                                       updateReplacePolicy: obj["UpdateReplacePolicy"]?.string, body: r)
        }
        for (name, o) in top["Outputs"]?.object ?? [:] {
            guard let value = o["Value"] else {
                throw CFNError.templateFormat("Every Outputs member must contain a Value object")
            }
            outputs[name] = Output(name: name, value: value, description: o["Description"]?.string,
                                   exportName: o["Export"]?["Name"], condition: o["Condition"]?.string)
        }
        try check()
    }

    static func text(_ v: JSON) -> String? {
        switch v {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() && abs(n) < 9e15 ? String(Int64(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    static func parameter(_ name: String, _ p: JSON) throws -> Parameter {
        guard let type = p["Type"]?.string else {
            throw CFNError.templateFormat("[/Parameters/\(name)] Every Parameters object must contain a Type member.")
        }
        let known = ["String", "Number", "List<Number>", "CommaDelimitedList"]
        if type.hasPrefix("AWS::SSM::") {
            throw CFNError.templateFormat("Parameter type \(type) is not supported by Cloudless (SSM parameters are not emulated)")
        }
        if !known.contains(type) && !type.hasPrefix("AWS::") && !type.hasPrefix("List<AWS::") {
            throw CFNError.templateFormat("Unrecognized parameter type: \(type)")
        }
        func int(_ k: String) -> Int? { p[k].flatMap { $0.int ?? $0.string.flatMap { Int($0) } } }
        func double(_ k: String) -> Double? { p[k].flatMap { $0.double ?? $0.string.flatMap { Double($0) } } }
        let noEcho = p["NoEcho"].map { $0.bool ?? ($0.string?.lowercased() == "true") } ?? false
        return Parameter(name: name, type: type, defaultValue: p["Default"].flatMap(text),
                         allowedValues: p["AllowedValues"]?.array?.compactMap(text), allowedPattern: p["AllowedPattern"]?.string,
                         minLength: int("MinLength"), maxLength: int("MaxLength"), minValue: double("MinValue"),
                         maxValue: double("MaxValue"), noEcho: noEcho, description: p["Description"]?.string,
                         constraintDescription: p["ConstraintDescription"]?.string)
    }

    // MARK: Static checks

    /// Names a resource's properties point at (Ref, Fn::GetAtt, Fn::Sub), whatever they are.
    static func references(in value: JSON, into out: inout Set<String>) {
        switch value {
        case .array(let a): for v in a { references(in: v, into: &out) }
        case .object(let o):
            if o.count == 1, let (key, arg) = o.first {
                switch key {
                case "Ref":
                    if let s = arg.string { out.insert(s) }
                    return
                case "Fn::GetAtt":
                    if let s = arg.array?.first?.string { out.insert(s) }
                    else if let s = arg.string, let dot = s.firstIndex(of: ".") { out.insert(String(s[..<dot])) }
                    return
                case "Fn::Sub":
                    let (text, vars) = subArguments(arg)
                    if let text {
                        for name in subVariables(text) where vars[name] == nil {
                            out.insert(name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name)
                        }
                    }
                    for v in vars.values { references(in: v, into: &out) }
                    return
                default: break
                }
            }
            for v in o.values { references(in: v, into: &out) }
        default: break
        }
    }

    static func subArguments(_ arg: JSON) -> (String?, [String: JSON]) {
        if let s = arg.string { return (s, [:]) }
        if let a = arg.array, a.count == 2 { return (a[0].string, a[1].object ?? [:]) }
        return (nil, [:])
    }

    /// `${Name}` and `${Name.Attr}` in a Fn::Sub string (not `${!Literal}`).
    static func subVariables(_ text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: "}") else { break }
            let name = String(after[..<end])
            if !name.hasPrefix("!") { out.append(name.trimmingCharacters(in: .whitespaces)) }
            rest = after[after.index(after: end)...]
        }
        return out
    }

    /// The resources a resource needs before it: what it references and what it DependsOn.
    func dependencies(of name: String) -> Set<String> {
        guard let r = resources[name] else { return [] }
        var refs = Set<String>()
        Self.references(in: .object(r.properties), into: &refs)
        var deps = Set(refs.filter { resources[$0] != nil })
        deps.formUnion(r.dependsOn)
        deps.remove(name)
        return deps
    }

    /// Unresolved references and cycles, with AWS's messages.
    func check() throws {
        var unresolved = Set<String>()
        for r in resources.values {
            var refs = Set<String>()
            Self.references(in: .object(r.properties), into: &refs)
            for ref in refs where resources[ref] == nil && parameters[ref] == nil && !Self.pseudoParameters.contains(ref) {
                unresolved.insert(ref)
            }
            for d in r.dependsOn where resources[d] == nil {
                throw CFNError.templateFormat("Unresolved resource dependencies [\(d)] in the Resources block of the template")
            }
            if let c = r.condition, conditions[c] == nil {
                throw CFNError.templateFormat("Unresolved dependencies [\(c)]. Cannot reference resources in the Conditions block of the template")
            }
        }
        if !unresolved.isEmpty {
            throw CFNError.templateFormat("Unresolved resource dependencies [\(unresolved.sorted().joined(separator: ", "))] in the Resources block of the template")
        }
        var outRefs = Set<String>()
        for o in outputs.values { Self.references(in: o.value, into: &outRefs) }
        for ref in outRefs.sorted() where resources[ref] == nil && parameters[ref] == nil && !Self.pseudoParameters.contains(ref) {
            throw CFNError.templateFormat("Unresolved resource dependencies [\(ref)] in the Outputs block of the template")
        }
        _ = try waves(of: Array(resources.keys))
    }

    /// The resources in creation order, grouped in waves whose members depend only on earlier waves.
    func waves(of names: [String]) throws -> [[String]] {
        let wanted = Set(names)
        var remaining = wanted
        var done = Set<String>()
        var out: [[String]] = []
        while !remaining.isEmpty {
            let ready = remaining.filter { dependencies(of: $0).intersection(wanted).isSubset(of: done) }.sorted()
            if ready.isEmpty {
                throw CFNError.validation("Circular dependency between resources: [\(remaining.sorted().joined(separator: ", "))]")
            }
            out.append(ready)
            done.formUnion(ready)
            remaining.subtract(ready)
        }
        return out
    }

    // MARK: Parameters

    /// The value of every parameter from what the caller gave and the defaults, checked against the constraints.
    func resolveParameters(_ given: [String: String]) throws -> [String: String] {
        let extra = given.keys.filter { parameters[$0] == nil }.sorted()
        if !extra.isEmpty {
            throw CFNError.validation("Parameters: [\(extra.joined(separator: ", "))] do not exist in the template")
        }
        var values: [String: String] = [:]
        var missing: [String] = []
        for (name, p) in parameters {
            if let v = given[name] ?? p.defaultValue { values[name] = v } else { missing.append(name) }
        }
        if !missing.isEmpty {
            throw CFNError.validation("Parameters: [\(missing.sorted().joined(separator: ", "))] must have values")
        }
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            try check(parameters[name]!, value)
        }
        return values
    }

    func check(_ p: Parameter, _ value: String) throws {
        func fail(_ message: String) -> AWSError {
            CFNError.validation("Parameter '\(p.name)' " + (p.constraintDescription.map { "failed to satisfy constraint: \($0)" } ?? message))
        }
        let items = p.isList ? value.split(separator: ",", omittingEmptySubsequences: false).map(String.init) : [value]
        for item in items {
            if p.type == "Number" || p.type == "List<Number>" {
                guard let n = Double(item.trimmingCharacters(in: .whitespaces)) else { throw fail("must be a number.") }
                if let min = p.minValue, n < min { throw fail("must be a number not less than \(Self.format(min))") }
                if let max = p.maxValue, n > max { throw fail("must be a number not greater than \(Self.format(max))") }
            }
            if p.type == "String" {
                if let min = p.minLength, item.count < min { throw fail("must contain at least \(min) characters") }
                if let max = p.maxLength, item.count > max { throw fail("must contain at most \(max) characters") }
                if let pattern = p.allowedPattern {
                    let full = "^(?:" + pattern + ")$"
                    if item.range(of: full, options: .regularExpression) == nil {
                        throw fail("must match pattern \(pattern)")
                    }
                }
            }
            if let allowed = p.allowedValues, !allowed.contains(item) {
                throw fail("must be one of AllowedValues")
            }
        }
    }

    static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 9e15 ? String(Int64(d)) : String(d)
    }
}
