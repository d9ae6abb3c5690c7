import Core

/// The template's `Rules`: checked with the parameter values before CreateStack, UpdateStack or CreateChangeSet does
/// anything. A rule whose `RuleCondition` holds (or that has none) has each of its `Assertions` evaluated; the first
/// that is false refuses the call with its `AssertDescription`. Rule functions: Fn::And, Or, Not, Equals, If
/// (on the template's Conditions), Contains, EachMemberEquals, EachMemberIn, RefAll, ValueOf, ValueOfAll; Ref to
/// parameters and pseudo parameters. The EC2 parameter types RefAll and ValueOfAll enumerate have no resources in
/// Cloudless (EC2 is not emulated), so they are empty lists; ValueOf, which reads an EC2 resource's attribute, is
/// refused by name.
struct TemplateRules {
    let evaluator: Evaluator

    static func check(_ template: Template, _ values: [String: String], account: String, region: String,
                      stackName: String, stackId: String) throws {
        guard let rules = template.body["Rules"] else { return }
        guard let all = rules.object else { throw CFNError.templateFormat("Every Rules member must be an object.") }
        let ev = try Evaluator(template: template, parameters: values, account: account, region: region,
                               stackName: stackName, stackId: stackId)
        let r = TemplateRules(evaluator: ev)
        for (name, rule) in all.sorted(by: { $0.key < $1.key }) {
            guard let assertions = rule["Assertions"]?.array else {
                throw CFNError.templateFormat("Rule \(name) must contain an Assertions member that is a list.")
            }
            if let c = rule["RuleCondition"], try !r.bool(c) { continue }
            for assertion in assertions {
                guard let assert = assertion["Assert"] else {
                    throw CFNError.templateFormat("Every Assertions member of rule \(name) must contain an Assert member.")
                }
                if try !r.bool(assert) {
                    throw CFNError.validation(assertion["AssertDescription"]?.string ?? "Template error: Assertion failed for rule \(name)")
                }
            }
        }
    }

    func bool(_ body: JSON) throws -> Bool {
        if let o = body.object, o.count == 1, let (key, arg) = o.first {
            switch key {
            case "Fn::And", "Fn::Or":
                guard let a = arg.array, (2...10).contains(a.count) else {
                    throw CFNError.validation("Template error: every \(key) object requires a list of at least 2 and at most 10 boolean parameters.")
                }
                let bs = try a.map(bool)
                return key == "Fn::And" ? bs.allSatisfy { $0 } : bs.contains(true)
            case "Fn::Not":
                guard let a = arg.array, a.count == 1 else {
                    throw CFNError.validation("Template error: every Fn::Not object requires a list of 1 boolean parameter.")
                }
                return try !bool(a[0])
            case "Fn::Equals":
                guard let a = arg.array, a.count == 2 else {
                    throw CFNError.validation("Template error: every Fn::Equals object requires a list of 2 string parameters.")
                }
                return Evaluator.loose(try value(a[0])) == Evaluator.loose(try value(a[1]))
            case "Fn::Contains", "Fn::EachMemberEquals":
                guard let a = arg.array, a.count == 2 else {
                    throw CFNError.validation("Template error: every \(key) object requires a list of 2 parameters: a list of strings and a string.")
                }
                let list = try strings(a[0], key), s = try string(a[1], key)
                return key == "Fn::Contains" ? list.contains(s) : list.allSatisfy { $0 == s }
            case "Fn::EachMemberIn":
                guard let a = arg.array, a.count == 2 else {
                    throw CFNError.validation("Template error: every Fn::EachMemberIn object requires a list of 2 lists of strings.")
                }
                let check = try strings(a[0], key), match = Set(try strings(a[1], key))
                return check.allSatisfy(match.contains)
            case "Condition":
                guard let name = arg.string, let v = evaluator.conditionValues[name] else {
                    throw CFNError.templateFormat("Unresolved dependencies [\(Template.text(arg) ?? "")]. Cannot reference resources in the Rules block of the template")
                }
                return v
            default: break
            }
        }
        let v = try value(body)
        if let b = v?.bool { return b }
        if let s = v?.string?.lowercased(), s == "true" || s == "false" { return s == "true" }
        throw CFNError.validation("Template error: every rule condition and assertion must evaluate to true or false")
    }

    func value(_ body: JSON) throws -> JSON? {
        switch body {
        case .array(let a): return .array(try a.compactMap(value))
        case .object(let o):
            guard o.count == 1, let (key, arg) = o.first else { return body }
            switch key {
            case "Ref":
                guard let name = arg.string else { throw CFNError.validation("Template error: every Ref object must have a single String value.") }
                guard Template.pseudoParameters.contains(name) || evaluator.template.parameters[name] != nil else {
                    throw CFNError.templateFormat("Unresolved resource dependencies [\(name)] in the Rules block of the template")
                }
                return try evaluator.ref(name)
            case "Fn::If":
                guard let a = arg.array, a.count == 3, let name = a[0].string, let c = evaluator.conditionValues[name] else {
                    throw CFNError.validation("Template error: Fn::If requires a list argument with the condition name as its first element and two values")
                }
                return try value(c ? a[1] : a[2])
            case "Fn::RefAll":
                guard arg.string != nil else { throw CFNError.validation("Template error: Fn::RefAll requires a parameter type") }
                return .array([])
            case "Fn::ValueOfAll":
                guard let a = arg.array, a.count == 2, a.allSatisfy({ $0.string != nil }) else {
                    throw CFNError.validation("Template error: Fn::ValueOfAll requires a parameter type and an attribute")
                }
                return .array([])
            case "Fn::ValueOf":
                guard let a = arg.array, a.count == 2, let p = a[0].string, let attribute = a[1].string,
                      evaluator.template.parameters[p] != nil else {
                    throw CFNError.validation("Template error: Fn::ValueOf requires a parameter of the template and an attribute")
                }
                throw CFNError.validation("Template error: Fn::ValueOf [\(p), \(attribute)] reads an EC2 resource's attribute; EC2 is not emulated by Cloudless")
            case "Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn", "Fn::And", "Fn::Or", "Fn::Not", "Fn::Equals", "Condition":
                return .bool(try bool(body))
            default:
                return try evaluator.resolve(body)
            }
        default: return body
        }
    }

    func string(_ body: JSON, _ fn: String) throws -> String {
        guard let v = try value(body), let s = Template.text(v) else {
            throw CFNError.validation("Template error: \(fn) requires a string")
        }
        return s
    }

    func strings(_ body: JSON, _ fn: String) throws -> [String] {
        guard let v = try value(body), let a = v.array ?? v.string.map({ [JSON.string($0)] }) else {
            throw CFNError.validation("Template error: \(fn) requires a list of strings")
        }
        return try a.map { v in
            guard let s = Template.text(v) else { throw CFNError.validation("Template error: \(fn) requires a list of strings") }
            return s
        }
    }
}
