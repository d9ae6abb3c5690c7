import Core
import Foundation

/// The acknowledgements AWS requires before it creates what a template holds: CAPABILITY_IAM for IAM resources
/// (CAPABILITY_NAMED_IAM when one of them is given a name), and CAPABILITY_AUTO_EXPAND for a template with a transform
/// when the stack is created or updated directly (CreateStack, UpdateStack, nested stacks) rather than from a
/// change set the caller could review.
enum Capabilities {
    static let iamTypes: Set<String> = [
        "AWS::IAM::AccessKey", "AWS::IAM::Group", "AWS::IAM::InstanceProfile", "AWS::IAM::Policy", "AWS::IAM::Role",
        "AWS::IAM::User", "AWS::IAM::UserToGroupAddition", "AWS::IAM::ManagedPolicy",
    ]
    /// The property that names a resource of each IAM type (a custom name needs CAPABILITY_NAMED_IAM).
    static let nameProperties: [String: String] = [
        "AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
        "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::InstanceProfile": "InstanceProfileName",
    ]
    static let known: Set<String> = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]

    /// The capabilities a template needs (in AWS's order), given whether the stack operation is direct.
    static func required(body: String, template: Template, direct: Bool) -> [String] {
        var out: [String] = []
        let iam = template.resources.values.filter { iamTypes.contains($0.type) }
        if iam.contains(where: { r in nameProperties[r.type].map { r.properties[$0] != nil } ?? false }) {
            out.append("CAPABILITY_NAMED_IAM")
        } else if !iam.isEmpty {
            out.append("CAPABILITY_IAM")
        }
        if direct, (try? TemplateParser.parse(body))?["Transform"] != nil {
            out.append("CAPABILITY_AUTO_EXPAND")
        }
        return out
    }

    /// ValidateTemplate's and GetTemplateSummary's `Capabilities` and `CapabilitiesReason` (the IAM ones).
    static func summary(_ template: Template) -> (capabilities: [String], reason: String?) {
        let needed = required(body: "", template: template, direct: false)
        guard !needed.isEmpty else { return ([], nil) }
        let types = Set(template.resources.values.map(\.type).filter(iamTypes.contains)).sorted()
        return (needed, "The following resource(s) require capabilities: [\(types.joined(separator: ", "))]")
    }

    /// Throws InsufficientCapabilitiesException (AWS's text) when `given` lacks one the template needs; an unknown
    /// capability is a ValidationError.
    static func check(body: String, template: Template, given: [String], direct: Bool) throws {
        for c in given where !known.contains(c) {
            throw CFNError.validation("1 validation error detected: Value '[\(given.joined(separator: ", "))]' at 'capabilities' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, CAPABILITY_NAMED_IAM, CAPABILITY_IAM]]")
        }
        let have = Set(given)
        let missing = required(body: body, template: template, direct: direct).filter { need in
            need == "CAPABILITY_IAM" ? !(have.contains(need) || have.contains("CAPABILITY_NAMED_IAM")) : !have.contains(need)
        }
        if !missing.isEmpty {
            throw AWSError("InsufficientCapabilitiesException", "Requires capabilities : [\(missing.joined(separator: ", "))]")
        }
    }
}
