import Core

/// IAM's errors with the codes, statuses and messages AWS answers (the botocore model gives codes and statuses).
enum IAMError {
    static func noSuchEntity(_ message: String) -> AWSError {
        AWSError("NoSuchEntity", message, status: .notFound)
    }
    static func alreadyExists(_ message: String) -> AWSError {
        AWSError("EntityAlreadyExists", message, status: .conflict)
    }
    static func deleteConflict(_ message: String) -> AWSError {
        AWSError("DeleteConflict", message, status: .conflict)
    }
    static func limitExceeded(_ message: String) -> AWSError {
        AWSError("LimitExceeded", message, status: .conflict)
    }
    static func invalidInput(_ message: String) -> AWSError {
        AWSError("InvalidInput", message, status: .badRequest)
    }
    static func validation(_ message: String) -> AWSError {
        AWSError("ValidationError", message, status: .badRequest)
    }
    static func malformedPolicy(_ message: String) -> AWSError {
        AWSError("MalformedPolicyDocument", message, status: .badRequest)
    }

    /// `1 validation error detected: Value 'x' at 'roleName' failed to satisfy constraint: ...`
    static func constraint(_ member: String, value: String?, _ constraint: String) -> AWSError {
        let shown = value.map { "'\($0)'" } ?? "null"
        return validation("1 validation error detected: Value \(shown) at '\(member)' failed to satisfy constraint: \(constraint)")
    }

    static func roleNotFound(_ name: String) -> AWSError { noSuchEntity("The role with name \(name) cannot be found.") }
    static func userNotFound(_ name: String) -> AWSError { noSuchEntity("The user with name \(name) cannot be found.") }
    static func groupNotFound(_ name: String) -> AWSError { noSuchEntity("The group with name \(name) cannot be found.") }
    static func policyNotFound(_ arn: String) -> AWSError { noSuchEntity("Policy \(arn) was not found.") }
    static func notAttachable(_ arn: String) -> AWSError { noSuchEntity("Policy \(arn) does not exist or is not attachable.") }
    static func instanceProfileNotFound(_ name: String) -> AWSError {
        noSuchEntity("Instance Profile \(name) cannot be found.")
    }
    static func accessKeyNotFound(_ id: String) -> AWSError { noSuchEntity("The Access Key with id \(id) cannot be found.") }
    static let invalidARN = validation("Invalid ARN:  Could not be parsed!")
}
