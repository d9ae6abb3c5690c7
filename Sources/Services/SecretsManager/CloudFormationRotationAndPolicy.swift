import Core
import Foundation

/// `AWS::SecretsManager::RotationSchedule` (through RotateSecret and CancelRotateSecret) and
/// `AWS::SecretsManager::ResourcePolicy` (through PutResourcePolicy and DeleteResourcePolicy). Both have the secret's
/// ARN as their physical id, `Ref` and `Id`, as AWS documents.
extension SecretsManagerResources {
    static let rotationAndPolicyTypes = ["AWS::SecretsManager::RotationSchedule", "AWS::SecretsManager::ResourcePolicy"]

    // MARK: RotationSchedule

    /// Rotation is turned on (or its rules changed) with RotateSecret. `RotateImmediatelyOnUpdate` (default true)
    /// says whether a rotation runs now, when the schedule is added as when it changes (CloudFormation passes it as
    /// RotateSecret's RotateImmediately).
    func putRotationSchedule(_ request: ResourceRequest) async throws -> ResourceState {
        let p = request.properties
        if let hosted = p["HostedRotationLambda"], !hosted.isNull {
            throw AWSError("InvalidRequest", "Property HostedRotationLambda of AWS::SecretsManager::RotationSchedule is not served by Cloudless; "
                           + "give RotationLambdaARN instead.")
        }
        let r = internalRequest(request)
        let arn = try secretARN(request, r)
        var input: [String: Any] = ["SecretId": arn, "ClientRequestToken": UUID().uuidString.lowercased()]
        if let l = try Self.string(p["RotationLambdaARN"], "RotationLambdaARN") { input["RotationLambdaARN"] = l }
        if let rules = p["RotationRules"], !rules.isNull { input["RotationRules"] = try Self.rotationRules(rules) }
        let onUpdate = try Self.bool(p["RotateImmediatelyOnUpdate"], "RotateImmediatelyOnUpdate") ?? true
        input["RotateImmediately"] = onUpdate
        _ = try await service.rotateSecret(r, Input(input))
        return Self.state(arn)
    }

    func cancelRotation(_ request: ResourceRequest, state: ResourceState) throws {
        do {
            _ = try service.cancelRotateSecret(internalRequest(request), Input(["SecretId": state.physicalId]))
        } catch let e as AWSError where e.code == "ResourceNotFoundException" || e.code == "InvalidRequestException" {}
    }

    /// RotationRules as RotateSecret takes them: days as a number (a template may give "30").
    static func rotationRules(_ v: JSON) throws -> [String: Any] {
        guard let o = v.object else { throw SecretsError.invalidParameter("Invalid type for parameter RotationRules.") }
        var out: [String: Any] = [:]
        if let d = o["AutomaticallyAfterDays"], !d.isNull {
            guard let n = d.int ?? d.string.flatMap({ Int($0) }) else {
                throw SecretsError.invalidParameter("Invalid type for parameter RotationRules.AutomaticallyAfterDays.")
            }
            out["AutomaticallyAfterDays"] = NSNumber(value: n)
        }
        for key in ["ScheduleExpression", "Duration"] {
            if let s = try string(o[key], "RotationRules.\(key)") { out[key] = s }
        }
        return out
    }

    // MARK: ResourcePolicy

    /// `BlockPublicPolicy` defaults to true in CloudFormation (the API's own default is false).
    func putResourcePolicy(_ request: ResourceRequest, previous: ResourceState?) throws -> ResourceState {
        let p = request.properties
        guard let doc = p["ResourcePolicy"], !doc.isNull else {
            throw SecretsError.invalidParameter("You must provide a ResourcePolicy.")
        }
        let policy: String
        if let s = doc.string {
            policy = s
        } else {
            let data = try JSONEncoder.sortedKeys.encode(doc)
            policy = String(decoding: data, as: UTF8.self)
        }
        let r = internalRequest(request)
        let arn = try previous?.physicalId ?? secretARN(request, r)
        _ = try service.putResourcePolicy(r, Input([
            "SecretId": arn, "ResourcePolicy": policy,
            "BlockPublicPolicy": try Self.bool(p["BlockPublicPolicy"], "BlockPublicPolicy") ?? true,
        ]))
        return Self.state(arn)
    }

    func deleteResourcePolicy(_ request: ResourceRequest, state: ResourceState) throws {
        do {
            _ = try service.deleteResourcePolicy(internalRequest(request), Input(["SecretId": state.physicalId]))
        } catch let e as AWSError where e.code == "ResourceNotFoundException" || e.code == "InvalidRequestException" {}
    }

    // MARK: Support

    /// The ARN of the secret `SecretId` names (a name or an ARN, full or partial).
    func secretARN(_ request: ResourceRequest, _ r: AWSRequest) throws -> String {
        guard let id = try Self.string(request.properties["SecretId"], "SecretId") else {
            throw SecretsError.invalidParameter("You must provide a SecretId.")
        }
        guard let arn = try service.describeSecret(r, Input(["SecretId": id]))["ARN"] as? String else { throw AWSError.internalError() }
        return arn
    }

    static func bool(_ v: JSON?, _ name: String) throws -> Bool? {
        guard let v, !v.isNull else { return nil }
        if let b = v.bool { return b }
        if let s = v.string?.lowercased(), s == "true" || s == "false" { return s == "true" }
        throw SecretsError.invalidParameter("Invalid type for parameter \(name).")
    }
}

extension JSONEncoder {
    static var sortedKeys: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
