import Core

/// SQS errors: the JSON `__type` name, and the legacy Query code SDKs read from `x-amzn-query-error`. The JSON names are
/// AWS's (`InvalidParameterValueException` for Query's `InvalidParameterValue`, `MissingRequiredParameterException` for
/// `MissingParameter`), as its answers carry them in `__type` and `x-amzn-ErrorType`.
enum SQSError {
    static let nonExistentQueue = "AWS.SimpleQueueService.NonExistentQueue"
    static func queueDoesNotExist() -> AWSError {
        AWSError("QueueDoesNotExist", "The specified queue does not exist.").query(nonExistentQueue)
    }
    static func queueNameExists(_ attribute: String) -> AWSError {
        AWSError("QueueNameExists", "A queue already exists with the same name and a different value for attribute \(attribute)")
            .query("QueueAlreadyExists")
    }
    static func queueDeletedRecently() -> AWSError {
        AWSError("QueueDeletedRecently", "You must wait 60 seconds after deleting a queue before you can create another with the same name.")
            .query("AWS.SimpleQueueService.QueueDeletedRecently")
    }
    static func invalidAttributeName(_ name: String) -> AWSError {
        AWSError("InvalidAttributeName", "Unknown Attribute \(name).").query("InvalidAttributeName")
    }
    static func invalidAttributeValue(_ name: String, _ why: String? = nil) -> AWSError {
        AWSError("InvalidAttributeValue", why ?? "Invalid value for the parameter \(name).").query("InvalidAttributeValue")
    }
    static func invalidParameterValue(_ message: String) -> AWSError {
        AWSError("InvalidParameterValueException", message).query("InvalidParameterValue")
    }
    static func missingParameter(_ name: String) -> AWSError {
        AWSError("MissingRequiredParameterException", "The request must contain the parameter \(name).").query("MissingParameter")
    }
    static func invalidAddress(_ url: String) -> AWSError {
        AWSError("InvalidAddress", "The address \(url) is not valid for this endpoint.").query("InvalidAddress")
    }
}
