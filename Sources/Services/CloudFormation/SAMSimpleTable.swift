import Core

/// `AWS::Serverless::SimpleTable` (a DynamoDB table with one hash key) and the DynamoDB policy templates.
extension SAMTransform {
    static func expandSimpleTable(_ id: String, _ resource: JSON, globals: [String: JSON]) throws -> JSON {
        func invalid(_ detail: String) -> AWSError { fail("Resource with id [\(id)] is invalid. \(detail)") }
        let props = merge(globals: globals, into: resource["Properties"]?.object ?? [:])
        let allowed: Set<String> = ["PrimaryKey", "ProvisionedThroughput", "TableName", "Tags", "SSESpecification", "PointInTimeRecoverySpecification"]
        if let bad = props.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw unsupported("Property \(bad) of AWS::Serverless::SimpleTable (resource \(id))")
        }
        // No PrimaryKey is a string key named `id`, as SAM does.
        var name: JSON = .string("id"), type = "S"
        if let key = props["PrimaryKey"] {
            guard let n = key["Name"], let t = key["Type"]?.string else {
                throw invalid("'PrimaryKey' is missing required Property 'Name' or 'Type'.")
            }
            switch t {
            case "String": type = "S"
            case "Number": type = "N"
            case "Binary": type = "B"
            default: throw invalid("'PrimaryKey.Type' must be one of String, Number or Binary.")
            }
            name = n
        }
        var table: [String: JSON] = [
            "AttributeDefinitions": .array([.object(["AttributeName": name, "AttributeType": .string(type)])]),
            "KeySchema": .array([.object(["AttributeName": name, "KeyType": .string("HASH")])]),
        ]
        if let p = props["ProvisionedThroughput"] { table["ProvisionedThroughput"] = p } else { table["BillingMode"] = .string("PAY_PER_REQUEST") }
        for key in ["TableName", "SSESpecification", "PointInTimeRecoverySpecification"] { if let v = props[key] { table[key] = v } }
        if let tags = props["Tags"] {
            guard let o = tags.object else { throw invalid("Type of property 'Tags' is invalid.") }
            table["Tags"] = .array(o.keys.sorted().map { .object(["Key": .string($0), "Value": o[$0]!]) })
        }
        var out = resource.object ?? [:]
        out["Type"] = .string("AWS::DynamoDB::Table")
        out["Properties"] = .object(table)
        return .object(out)
    }

    /// DynamoDBCrudPolicy and its siblings, as `policy_templates.json` writes them; nil for any other name.
    static func dynamoDBPolicyTemplate(_ name: String, _ param: (String) throws -> JSON) throws -> [JSON]? {
        let tableArn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}"
        func sub(_ text: String, _ vars: [String: JSON]) -> JSON { .object(["Fn::Sub": .array([.string(text), .object(vars)])]) }
        func statement(_ actions: [String], _ resource: JSON) -> JSON {
            .object(["Effect": .string("Allow"), "Action": .array(actions.map { .string("dynamodb:\($0)") }), "Resource": resource])
        }
        let items: [String: [String]] = [
            "DynamoDBCrudPolicy": ["GetItem", "DeleteItem", "PutItem", "Scan", "Query", "UpdateItem", "BatchWriteItem",
                                   "BatchGetItem", "DescribeTable", "ConditionCheckItem"],
            "DynamoDBReadPolicy": ["GetItem", "Scan", "Query", "BatchGetItem", "DescribeTable"],
            "DynamoDBWritePolicy": ["PutItem", "UpdateItem", "BatchWriteItem"],
        ]
        if let actions = items[name] {
            let table = ["tableName": try param("TableName")]
            return [statement(actions, .array([sub(tableArn, table), sub(tableArn + "/index/*", table)]))]
        }
        switch name {
        case "DynamoDBReconfigurePolicy":
            return [statement(["UpdateTable"], sub(tableArn, ["tableName": try param("TableName")]))]
        case "DynamoDBStreamReadPolicy":
            let table = try param("TableName"), stream = try param("StreamName")
            return [statement(["DescribeStream", "GetRecords", "GetShardIterator"],
                              sub(tableArn + "/stream/${streamName}", ["tableName": table, "streamName": stream])),
                    statement(["ListStreams"], sub(tableArn + "/stream/*", ["tableName": table]))]
        default:
            return nil
        }
    }
}
