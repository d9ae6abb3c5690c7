import Core

/// `EventInvokeConfig` of an `AWS::Serverless::Function`, expanded as SAM's translator does: an
/// `AWS::Lambda::EventInvokeConfig` named `<Function>EventInvokeConfig` (on the alias when AutoPublishAlias is set,
/// else on `$LATEST`), a queue generated for an SQS destination given without `Destination` (`…OnSuccessQueue`), and
/// one inline policy per destination for the generated role (`<Function>EventInvokeConfigOnSuccessSQSPolicy`…).
extension SAMTransform {
    struct EventInvokeExpansion {
        var resources: [String: JSON] = [:]
        var policies: [JSON] = []
    }

    static let destinationTypes = ["SQS", "SNS", "EventBridge", "Lambda", "S3Bucket"]

    static func eventInvokeConfig(_ id: String, _ config: JSON, alias: String?, aliasId: String?,
                                  shared: [String: JSON]) throws -> EventInvokeExpansion {
        guard let c = config.object else {
            throw fail("Resource with id [\(id)] is invalid. Property 'EventInvokeConfig' should be a map.")
        }
        let logicalId = "\(id)EventInvokeConfig"
        var out = EventInvokeExpansion()
        var destinations: [String: JSON] = [:]
        if let d = c["DestinationConfig"] {
            guard let dest = d.object else {
                throw fail("Resource with id [\(id)] is invalid. Property 'EventInvokeConfig.DestinationConfig' should be a map.")
            }
            for name in ["OnSuccess", "OnFailure"] {
                guard let value = dest[name] else { continue }
                guard let v = value.object else {
                    throw fail("Resource with id [\(id)] is invalid. Property 'EventInvokeConfig.DestinationConfig.\(name)' should be a map.")
                }
                let type = v["Type"]?.string
                guard let type, destinationTypes.contains(type) else {
                    let list = "[" + destinationTypes.map { "'\($0)'" }.joined(separator: ", ") + "]"
                    throw fail("Resource with id [\(id)] is invalid. 'Type: \(type ?? "None")' must be one of \(list)")
                }
                let prefix = logicalId + name
                var arn: JSON
                if let given = v["Destination"] {
                    arn = given
                } else if type == "SQS" || type == "SNS" {
                    // SAM creates the queue or topic itself, with the function's Condition.
                    let generated = prefix + (type == "SQS" ? "Queue" : "Topic")
                    var r = shared
                    r["Type"] = .string(type == "SQS" ? "AWS::SQS::Queue" : "AWS::SNS::Topic")
                    r["Properties"] = .object([:])
                    out.resources[generated] = .object(r)
                    arn = type == "SQS" ? .object(["Fn::GetAtt": .array([.string(generated), .string("Arn")])])
                        : .object(["Ref": .string(generated)])
                } else {
                    throw fail("Resource with id [\(id)] is invalid. Destination is required if Type is not ['SQS', 'SNS']")
                }
                destinations[name] = .object(["Destination": arn])
                out.policies.append(destinationPolicy(type, arn, prefix))
            }
        }
        var props: [String: JSON] = [
            "FunctionName": .object(["Ref": .string(id)]),
            "Qualifier": .string(alias ?? "$LATEST"),
            "DestinationConfig": .object(destinations),
        ]
        for key in ["MaximumEventAgeInSeconds", "MaximumRetryAttempts"] { if let v = c[key] { props[key] = v } }
        var r = shared
        r["Type"] = .string("AWS::Lambda::EventInvokeConfig")
        r["Properties"] = .object(props)
        if let aliasId { r["DependsOn"] = .array([.string(aliasId)]) }
        out.resources[logicalId] = .object(r)
        return out
    }

    /// The role policy a destination needs, named and shaped as SAM's translator names and shapes it.
    static func destinationPolicy(_ type: String, _ arn: JSON, _ prefix: String) -> JSON {
        func policy(_ suffix: String, _ statements: [(String, JSON)]) -> JSON {
            .object([
                "PolicyName": .string(prefix + suffix),
                "PolicyDocument": .object(["Statement": .array(statements.map {
                    .object(["Action": .string($0.0), "Effect": .string("Allow"), "Resource": $0.1])
                })]),
            ])
        }
        switch type {
        case "SQS": return policy("SQSPolicy", [("sqs:SendMessage", arn)])
        case "SNS": return policy("SNSPolicy", [("sns:publish", arn)])
        case "EventBridge": return policy("EventBridgePolicy", [("events:PutEvents", arn)])
        case "Lambda": return policy("LambdaPolicy", [("lambda:InvokeFunction", arn)])
        default:
            return policy("S3Policy", [("s3:PutObject", .object(["Fn::Join": .array([.string("/"), .array([arn, .string("*")])])])),
                                       ("s3:ListBucket", arn)])
        }
    }
}
