import Core
import Foundation

/// CodeDeploy's errors (all HTTP 400), with AWS's messages.
enum CDError {
    static func e(_ code: String, _ message: String) -> AWSError { AWSError(code, message) }
    static func appMissing(_ name: String) -> AWSError { e("ApplicationDoesNotExistException", "No application found for name: \(name)") }
    static func appExists(_ name: String) -> AWSError { e("ApplicationAlreadyExistsException", "Application already exists: \(name)") }
    static func groupMissing(_ name: String) -> AWSError {
        e("DeploymentGroupDoesNotExistException", "No Deployment Group found for name: \(name)")
    }
    static func groupExists(_ name: String) -> AWSError {
        e("DeploymentGroupAlreadyExistsException", "Deployment Group already exists with name \(name)")
    }
    static func configMissing(_ name: String) -> AWSError {
        e("DeploymentConfigDoesNotExistException", "No deployment configuration found for name: \(name)")
    }
    static func deploymentMissing(_ id: String) -> AWSError {
        e("DeploymentDoesNotExistException", "The deployment \(id) could not be found.")
    }
    static func invalidDeploymentID(_ id: String) -> AWSError {
        e("InvalidDeploymentIdException", "Specified DeploymentId is not in the valid format: \(id)")
    }
    static func instanceMissing(_ name: String) -> AWSError {
        e("InstanceNotRegisteredException", "No instance found for name: \(name)")
    }
    static func invalidInput(_ m: String) -> AWSError { e("InvalidInputException", m) }
    static func wrongType(_ member: String) -> AWSError { AWSError("SerializationException", "Unexpected value type for \(member).") }
}

/// A JSON request's members, read with CodeDeploy's errors.
struct Input {
    let raw: Doc
    init(_ raw: Doc) { self.raw = raw }

    func has(_ name: String) -> Bool { raw[name] != nil && !(raw[name] is NSNull) }

    func string(_ name: String) throws -> String? {
        guard has(name) else { return nil }
        guard let s = raw[name] as? String else { throw CDError.wrongType(name) }
        return s
    }

    /// A required name: absent → `<Thing>RequiredException`, as AWS names it.
    func required(_ name: String, _ code: String, _ message: String) throws -> String {
        guard let s = try string(name), !s.isEmpty else { throw CDError.e(code, message) }
        return s
    }

    func bool(_ name: String) throws -> Bool? {
        guard has(name) else { return nil }
        guard let b = raw[name] as? Bool ?? (raw[name] as? NSNumber)?.boolValue else { throw CDError.wrongType(name) }
        return b
    }

    func object(_ name: String) throws -> Doc? {
        guard has(name) else { return nil }
        guard let o = raw[name] as? Doc else { throw CDError.wrongType(name) }
        return o
    }

    func list(_ name: String) throws -> [Any]? {
        guard has(name) else { return nil }
        guard let l = raw[name] as? [Any] else { throw CDError.wrongType(name) }
        return l
    }

    func strings(_ name: String) throws -> [String]? {
        guard let l = try list(name) else { return nil }
        return try l.map { guard let s = $0 as? String else { throw CDError.wrongType(name) }; return s }
    }
}
