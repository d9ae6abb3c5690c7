import Core
import Foundation

/// `patchOperations` (`op` add/replace/remove/copy, `path` with `~1` for `/`, `value` a string) applied to a stored
/// object. Values arrive as strings: members AWS models as booleans or numbers are converted.
enum RestPatch {
    enum Kind {
        case restApi, resource, method, methodResponse, integration, integrationResponse, stage, deployment, authorizer, apiKey, usagePlan, account

        /// The top-level members a patch may name.
        var paths: Set<String> {
            switch self {
            case .restApi: ["name", "description", "version", "binaryMediaTypes", "minimumCompressionSize", "apiKeySource", "policy",
                            "disableExecuteApiEndpoint", "endpointConfiguration"]
            case .resource: ["pathPart", "parentId"]
            case .method: ["authorizationType", "authorizerId", "apiKeyRequired", "operationName", "requestParameters", "requestModels",
                           "requestValidatorId", "authorizationScopes"]
            case .methodResponse: ["responseParameters", "responseModels"]
            case .integration: ["uri", "httpMethod", "requestTemplates", "requestParameters", "passthroughBehavior", "contentHandling",
                                "timeoutInMillis", "cacheNamespace", "cacheKeyParameters", "connectionType", "connectionId", "credentials", "type"]
            case .integrationResponse: ["selectionPattern", "responseParameters", "responseTemplates", "contentHandling"]
            case .stage: ["description", "deploymentId", "variables", "cacheClusterEnabled", "cacheClusterSize", "tracingEnabled",
                          "clientCertificateId", "documentationVersion", "*", "accessLogSettings", "canarySettings", "webAclArn"]
            case .deployment: ["description"]
            case .authorizer: ["name", "type", "authorizerUri", "authorizerCredentials", "identitySource", "identityValidationExpression",
                               "authorizerResultTtlInSeconds", "providerARNs", "authType"]
            case .apiKey: ["name", "description", "enabled", "customerId"]
            case .usagePlan: ["name", "description", "throttle", "quota", "apiStages", "productCode"]
            case .account: ["cloudwatchRoleArn"]
            }
        }
    }

    static let booleans: Set<String> = ["apiKeyRequired", "disableExecuteApiEndpoint", "cacheClusterEnabled", "tracingEnabled", "enabled"]
    static let integers: Set<String> = ["minimumCompressionSize", "timeoutInMillis", "authorizerResultTtlInSeconds", "burstLimit", "limit", "offset"]
    static let doubles: Set<String> = ["rateLimit"]
    /// Members that are lists of strings: `add /binaryMediaTypes/image~1png` appends.
    static let lists: Set<String> = ["binaryMediaTypes", "cacheKeyParameters", "authorizationScopes", "providerARNs"]

    static func apply(_ input: [String: Any], to object: [String: Any], kind: Kind) throws -> [String: Any] {
        var out = object
        for case let op as [String: Any] in input["patchOperations"] as? [Any] ?? [] {
            let verb = op["op"] as? String ?? ""
            let path = op["path"] as? String ?? ""
            let value = op["value"] as? String
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
                .map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
            guard let top = parts.first, kind.paths.contains(top) else {
                throw RestErrors.badRequest("Invalid patch path '\(path)' specified for op '\(verb)'. Must be one of: [\(kind.paths.sorted().map { "/" + $0 }.joined(separator: ", "))]")
            }
            guard ["add", "replace", "remove", "copy", "move", "test"].contains(verb) else {
                throw RestErrors.badRequest("Invalid patch operation specified. Must be one of: [add, remove, replace, move, copy, test]")
            }
            if top == "*" { continue }  // method settings (`/*/*/logging/loglevel`): accepted, not served
            if lists.contains(top) {
                var list = out[top] as? [String] ?? []
                let item = parts.count > 1 ? parts[1] : (value ?? "")
                switch verb {
                case "remove": list.removeAll { $0 == item }
                default: if !list.contains(item) { list.append(item) }
                }
                out[top] = list.isEmpty && verb == "remove" ? nil : list
                continue
            }
            switch verb {
            case "add", "replace":
                guard let value else { throw RestErrors.badRequest("Invalid null or empty value in \(path)") }
                // An empty minimumCompressionSize turns compression off (what Chalice and the console send).
                if top == "minimumCompressionSize", value.isEmpty {
                    set(&out, Array(parts), nil)
                    continue
                }
                set(&out, Array(parts), try typed(parts.last ?? top, value, parent: parts.count > 1 ? top : nil))
            case "remove":
                set(&out, Array(parts), nil)
            default:
                throw RestErrors.badRequest("Invalid patch operation specified. Must be 'add'|'remove'|'replace'")
            }
        }
        return out
    }

    /// A string value as the member's modeled type.
    static func typed(_ key: String, _ value: String, parent: String?) throws -> Any {
        // `requestParameters` of a method: `method.request.querystring.q` → required or not.
        if parent == "requestParameters", key.hasPrefix("method.request.") { return value == "true" }
        if booleans.contains(key) { return value == "true" }
        if integers.contains(key) {
            guard let n = Int(value) else { throw RestErrors.badRequest("Invalid \(key) value '\(value)': it must be an integer") }
            return n
        }
        if doubles.contains(key) {
            guard let n = Double(value) else { throw RestErrors.badRequest("Invalid \(key) value '\(value)': it must be a number") }
            return n
        }
        return value
    }

    static func set(_ object: inout [String: Any], _ path: [String], _ value: Any?) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = value
            return
        }
        var child = object[first] as? [String: Any] ?? [:]
        set(&child, Array(path.dropFirst()), value)
        object[first] = child.isEmpty && value == nil ? nil : child
    }
}
