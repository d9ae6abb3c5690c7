import Core
import Foundation

/// Dynamic references in resource properties: `{{resolve:secretsmanager:<secret-id>[:SecretString[:json-key
/// [:version-stage[:version-id]]]]}}`, alone or inside a longer string, read through Core's `SecretResolver`. The
/// stack keeps (and its events show) the reference, never the value: only the provider receives it, as in AWS.
/// `{{resolve:ssm:…}}` and `{{resolve:ssm-secure:…}}` need Parameter Store, which Cloudless does not serve.
enum DynamicReferences {
    static let open = "{{resolve:"

    /// A parsed `secretsmanager` reference.
    static func secretReference(_ key: String) throws -> SecretReference {
        let parts = key.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let id: String
        var rest: ArraySlice<String>
        if parts.first == "arn" {
            guard parts.count >= 7 else { throw invalid("secretsmanager:" + key) }
            id = parts[0...6].joined(separator: ":")
            rest = parts[7...]
        } else {
            id = parts[0]
            rest = parts[1...]
        }
        guard !id.isEmpty else { throw invalid("secretsmanager:" + key) }
        func field(_ i: Int) -> String? {
            let j = rest.startIndex + i
            return j < rest.endIndex && !rest[j].isEmpty ? rest[j] : nil
        }
        if let kind = field(0), kind != "SecretString" {
            throw CFNError.validation("Dynamic reference {{resolve:secretsmanager:\(key)}}: the only secret field is SecretString")
        }
        if field(2) != nil && field(3) != nil {
            throw CFNError.validation("Dynamic reference {{resolve:secretsmanager:\(key)}}: specify a version stage or a version id, not both")
        }
        return SecretReference(secretID: id, jsonKey: field(1), versionStage: field(2), versionID: field(3))
    }

    static func invalid(_ inner: String) -> AWSError {
        CFNError.validation("Invalid dynamic reference {{resolve:\(inner)}}")
    }

    /// The text with every reference replaced by its value.
    static func resolve(_ text: String, account: String, region: String, secrets: (any SecretResolver)?) throws -> String {
        guard text.contains(open) else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: open) {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].range(of: "}}") else {
                out += rest[start.lowerBound...]
                rest = ""
                break
            }
            let inner = String(rest[start.upperBound..<end.lowerBound])
            rest = rest[end.upperBound...]
            let colon = inner.firstIndex(of: ":") ?? inner.endIndex
            let service = String(inner[..<colon])
            let key = colon < inner.endIndex ? String(inner[inner.index(after: colon)...]) : ""
            switch service {
            case "secretsmanager":
                let reference = try secretReference(key)
                guard let secrets else { throw CFNError.validation("Secrets Manager is not available to resolve {{resolve:\(inner)}}") }
                do {
                    out += try secrets.resolve(reference, account: account, region: region)
                } catch let e as AWSError {
                    throw CFNError.validation("\(e.message) (Service: AWSSecretsManager; Status Code: 400; Error Code: \(e.code))")
                }
            case "ssm", "ssm-secure":
                throw CFNError.validation("Cloudless does not serve SSM Parameter Store: the dynamic reference {{resolve:\(inner)}} cannot be resolved")
            default:
                throw invalid(inner)
            }
        }
        return out + rest
    }

    /// Every string in the value resolved.
    static func resolve(_ value: JSON, account: String, region: String, secrets: (any SecretResolver)?) throws -> JSON {
        switch value {
        case .string(let s): return .string(try resolve(s, account: account, region: region, secrets: secrets))
        case .array(let a): return .array(try a.map { try resolve($0, account: account, region: region, secrets: secrets) })
        case .object(let o): return .object(try o.mapValues { try resolve($0, account: account, region: region, secrets: secrets) })
        default: return value
        }
    }
}

extension StackEngine {
    /// The properties a provider receives: dynamic references resolved.
    func resolvedReferences(_ properties: [String: JSON], _ s: Stack) throws -> [String: JSON] {
        try DynamicReferences.resolve(.object(properties), account: s.account, region: s.region, secrets: links.secrets).object ?? [:]
    }
}
