import Core
import Foundation
import Yams

/// Template text (JSON or YAML) into Core's `JSON`. YAML's short-form tags (`!Ref X`, `!GetAtt a.b`, `!Sub ...`)
/// become the long forms (`{"Ref": "X"}`, `{"Fn::GetAtt": ["a", "b"]}`, `{"Fn::Sub": ...}`).
enum TemplateParser {
    static func parse(_ body: String) throws -> JSON {
        let trimmed = body.drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\u{FEFF}" }
        if trimmed.first == "{" {
            if let json = try? JSON(parsing: Data(body.utf8)) { return json }
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: body)
        } catch {
            throw CFNError.templateFormat("YAML not well-formed. \(Self.describe(error))")
        }
        guard let node else { throw CFNError.templateFormat("YAML not well-formed.") }
        let json = try convert(node)
        guard case .object = json else {
            throw CFNError.templateFormat("unsupported structure.")
        }
        return json
    }

    static func describe(_ error: any Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? ""
    }

    static let shortForms: [String: String] = [
        "!Ref": "Ref", "!Condition": "Condition",
        "!Sub": "Fn::Sub", "!Join": "Fn::Join", "!Select": "Fn::Select", "!Split": "Fn::Split", "!If": "Fn::If",
        "!Equals": "Fn::Equals", "!And": "Fn::And", "!Or": "Fn::Or", "!Not": "Fn::Not", "!FindInMap": "Fn::FindInMap",
        "!GetAZs": "Fn::GetAZs", "!Base64": "Fn::Base64", "!ImportValue": "Fn::ImportValue", "!Cidr": "Fn::Cidr",
        "!GetAtt": "Fn::GetAtt", "!Transform": "Fn::Transform", "!Length": "Fn::Length", "!ToJsonString": "Fn::ToJsonString",
    ]

    static func convert(_ node: Node) throws -> JSON {
        let tag = node.tag.description
        if tag.hasPrefix("!") {
            guard let name = shortForms[tag] else {
                throw CFNError.templateFormat("YAML not well-formed. Unknown tag \(tag)")
            }
            var inner = try plain(node)
            if name == "Fn::GetAtt", case .string(let s) = inner {
                // `!GetAtt Resource.Attribute` (the attribute may itself hold dots).
                guard let dot = s.firstIndex(of: ".") else {
                    throw CFNError.validation("Template error: every Fn::GetAtt object requires two non-empty parameters")
                }
                inner = .array([.string(String(s[..<dot])), .string(String(s[s.index(after: dot)...]))])
            }
            return .object([name: inner])
        }
        return try plain(node)
    }

    /// The node as JSON, ignoring its own tag (but not its children's).
    static func plain(_ node: Node) throws -> JSON {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            let tag = node.tag.description
            let s = scalar.string
            switch tag {
            case Tag.Name.null.rawValue:
                return .null
            case Tag.Name.bool.rawValue:
                switch s.lowercased() {
                case "true": return .bool(true)
                case "false": return .bool(false)
                default: return .string(s)  // yes/no/on/off stay text, as CloudFormation reads them
                }
            case Tag.Name.int.rawValue, Tag.Name.float.rawValue:
                if let d = Double(s) { return .number(d) }
                return .string(s)
            default:
                return .string(s)
            }
        case .sequence(let seq):
            return .array(try seq.map(convert))
        case .mapping(let mapping):
            var out: [String: JSON] = [:]
            for (k, v) in mapping {
                guard let key = k.scalar?.string else {
                    throw CFNError.templateFormat("YAML not well-formed. Keys must be scalars")
                }
                out[key] = try convert(v)
            }
            return .object(out)
        }
    }
}
