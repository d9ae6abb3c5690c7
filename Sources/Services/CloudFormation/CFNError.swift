import Core

/// CloudFormation's errors as AWS answers them (codes from the botocore model).
enum CFNError {
    static func validation(_ message: String) -> AWSError { AWSError("ValidationError", message) }
    /// `Template format error: <detail>`
    static func templateFormat(_ detail: String) -> AWSError { validation("Template format error: \(detail)") }
    static func stackNotFound(_ id: String) -> AWSError { validation("Stack with id \(id) does not exist") }
    static func alreadyExists(_ name: String) -> AWSError { AWSError("AlreadyExistsException", "Stack [\(name)] already exists") }
    static func changeSetNotFound(_ name: String) -> AWSError {
        AWSError("ChangeSetNotFound", "ChangeSet [\(name)] does not exist", status: .notFound)
    }
    static let noUpdates = validation("No updates are to be performed.")
}
