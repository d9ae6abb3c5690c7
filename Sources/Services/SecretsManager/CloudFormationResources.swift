import Core
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOCore

/// `AWS::SecretsManager::Secret` for CloudFormation, over the operations the API serves (CreateSecret, UpdateSecret,
/// PutSecretValue, GetRandomPassword, DeleteSecret...), called in-process. `RotationSchedule` and `ResourcePolicy`
/// are in CloudFormationRotationAndPolicy.swift, drift readings in CloudFormationDrift.swift.
public struct SecretsManagerResources: ResourceProvider {
    let service: SecretsManagerService

    public var resourceTypes: [String] { ["AWS::SecretsManager::Secret"] + Self.rotationAndPolicyTypes }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case "AWS::SecretsManager::Secret": return ["Name"]
        case "AWS::SecretsManager::RotationSchedule", "AWS::SecretsManager::ResourcePolicy": return ["SecretId"]
        default: return []
        }
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        switch request.type {
        case "AWS::SecretsManager::Secret": return try createSecret(request)
        case "AWS::SecretsManager::RotationSchedule": return try await putRotationSchedule(request)
        case "AWS::SecretsManager::ResourcePolicy": return try putResourcePolicy(request, previous: nil)
        default: throw Self.unsupported(request.type)
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        switch request.type {
        case "AWS::SecretsManager::Secret": return try updateSecret(request, previous: previous)
        case "AWS::SecretsManager::RotationSchedule": return try await putRotationSchedule(request)
        case "AWS::SecretsManager::ResourcePolicy": return try putResourcePolicy(request, previous: previous)
        default: throw Self.unsupported(request.type)
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        switch request.type {
        case "AWS::SecretsManager::Secret": try deleteSecret(request, state: state)
        case "AWS::SecretsManager::RotationSchedule": try cancelRotation(request, state: state)
        case "AWS::SecretsManager::ResourcePolicy": try deleteResourcePolicy(request, state: state)
        default: throw Self.unsupported(request.type)
        }
    }

    func createSecret(_ request: ResourceRequest) throws -> ResourceState {
        let r = internalRequest(request)
        let p = request.properties
        let name = try Self.string(p["Name"], "Name") ?? request.generatedName(limit: 512)
        let tags = try self.tags(request)
        var input: [String: Any] = ["Name": name, "ClientRequestToken": UUID().uuidString.lowercased()]
        if let d = try Self.string(p["Description"], "Description") { input["Description"] = d }
        if let k = try Self.string(p["KmsKeyId"], "KmsKeyId") { input["KmsKeyId"] = k }
        input["SecretString"] = try value(r, p, current: nil)
        let out = try service.createSecret(r, Input(input))
        guard let arn = out["ARN"] as? String else { throw AWSError.internalError() }
        do { try setTags(tags, secret: arn, r) } catch {
            _ = try? service.deleteSecret(r, Input(["SecretId": arn, "ForceDeleteWithoutRecovery": true]))
            throw error
        }
        return Self.state(arn)
    }

    func updateSecret(_ request: ResourceRequest, previous: ResourceState) throws -> ResourceState {
        let r = internalRequest(request)
        let p = request.properties
        let arn = previous.physicalId
        let current = try service.getSecretValue(r, Input(["SecretId": arn]))["SecretString"] as? String
        var input: [String: Any] = ["SecretId": arn, "Description": try Self.string(p["Description"], "Description") ?? ""]
        if let k = try Self.string(p["KmsKeyId"], "KmsKeyId") { input["KmsKeyId"] = k }
        let wanted = try value(r, p, current: current)
        if wanted != current {
            input["SecretString"] = wanted
            input["ClientRequestToken"] = UUID().uuidString.lowercased()
        }
        _ = try service.updateSecret(r, Input(input))
        try setTags(try tags(request), secret: arn, r)
        return Self.state(arn)
    }

    /// CloudFormation deletes a secret at once, without a recovery window.
    func deleteSecret(_ request: ResourceRequest, state: ResourceState) throws {
        do {
            _ = try service.deleteSecret(internalRequest(request), Input(["SecretId": state.physicalId, "ForceDeleteWithoutRecovery": true]))
        } catch let e as AWSError where e.code == "ResourceNotFoundException" {}
    }

    static func state(_ arn: String) -> ResourceState {
        ResourceState(physicalId: arn, ref: arn, attributes: ["Id": .string(arn)])
    }

    /// The value the properties ask for: SecretString as given; else a password from GenerateSecretString (32
    /// characters of every class when neither is given), placed under GenerateStringKey in SecretStringTemplate.
    /// A generated value already stored is kept while it still has the template's shape.
    func value(_ r: AWSRequest, _ p: [String: JSON], current: String?) throws -> String {
        let given = try Self.string(p["SecretString"], "SecretString")
        let spec = p["GenerateSecretString"].flatMap { $0.isNull ? nil : $0 }
        if given != nil && spec != nil {
            throw SecretsError.invalidParameter("You can't specify both SecretString and GenerateSecretString.")
        }
        if let given { return given }
        let g = spec?.object ?? [:]
        if spec != nil && spec?.object == nil { throw SecretsError.invalidParameter("Invalid type for parameter GenerateSecretString.") }
        let template = try Self.string(g["SecretStringTemplate"], "SecretStringTemplate")
        let key = try Self.string(g["GenerateStringKey"], "GenerateStringKey")
        if (template == nil) != (key == nil) {
            throw SecretsError.invalidParameter("GenerateStringKey and SecretStringTemplate must be specified together.")
        }
        var templateObject: [String: Any] = [:]
        if let template {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(template.utf8)) as? [String: Any] else {
                throw SecretsError.invalidParameter("SecretStringTemplate must be a valid JSON object.")
            }
            templateObject = obj
        }
        var passwordInput: [String: Any] = [:]
        for name in ["PasswordLength", "ExcludeCharacters", "ExcludeLowercase", "ExcludeUppercase", "ExcludeNumbers",
                     "ExcludePunctuation", "IncludeSpace", "RequireEachIncludedType"] {
            guard let v = g[name], !v.isNull else { continue }
            switch v {
            case .string(let s) where name == "ExcludeCharacters": passwordInput[name] = s
            case .string(let s) where name == "PasswordLength": passwordInput[name] = Int(s) ?? -1
            case .string(let s): passwordInput[name] = s.lowercased() == "true"
            default: passwordInput[name] = v.any
            }
        }
        // Keep what was generated before while it still fits: updates do not regenerate passwords.
        if let current {
            if let key {
                if let obj = try? JSONSerialization.jsonObject(with: Data(current.utf8)) as? [String: Any],
                   Set(obj.keys) == Set(templateObject.keys).union([key]), obj[key] is String,
                   templateObject.allSatisfy({ k, v in Self.same(obj[k], v) }) {
                    return current
                }
            } else if !current.hasPrefix("{") {
                return current
            }
        }
        let password = try service.getRandomPassword(r, Input(passwordInput))["RandomPassword"] as? String ?? ""
        guard let key else { return password }
        templateObject[key] = password
        let data = try JSONSerialization.data(withJSONObject: templateObject, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// Two JSON values alike (compared as serialized).
    static func same(_ a: Any?, _ b: Any) -> Bool {
        guard let a else { return false }
        let encode = { (v: Any) in try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys]) }
        return encode(a) != nil && encode(a) == encode(b)
    }

    /// The resource's `Tags`, checked as TagResource checks them, and the stack's (`aws:cloudformation:*` included).
    func tags(_ request: ResourceRequest) throws -> [Tag] {
        let own: [[String: Any]] = (request.properties["Tags"]?.array ?? []).map { ($0.any as? [String: Any]) ?? [:] }
        let resource = try SecretsManagerService.tags(Input(["Tags": own]))
        let stack = request.tags.sorted { $0.key < $1.key }.map { Tag(Key: $0.key, Value: $0.value) }
        return try SecretsManagerService.merge(stack, resource)
    }

    func setTags(_ tags: [Tag], secret arn: String, _ r: AWSRequest) throws {
        let now = service.clock.now()
        try service.store.db.writeNow { db in
            var s = try service.writable(arn, r, db)
            guard s.record.tags != tags else { return }
            s.record.tags = tags
            s.record.lastChanged = now
            try SecretStore.save(s, db)
        }
    }

    static func string(_ v: JSON?, _ name: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.string else { throw SecretsError.invalidParameter("Invalid type for parameter \(name).") }
        return s
    }

    func internalRequest(_ request: ResourceRequest) -> AWSRequest {
        AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                   body: RequestBody(buffer: ByteBuffer()),
                   caller: CallerIdentity(accountID: request.account, region: request.region, accessKeyID: nil),
                   requestID: UUID().uuidString)
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by Secrets Manager.")
    }
}

extension SecretsManagerService {
    /// The CloudFormation provider of secrets.
    public var resourceProvider: SecretsManagerResources { SecretsManagerResources(service: self) }
}
