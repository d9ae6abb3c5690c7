import Core

extension SAMTransform {
    struct BucketNotification {
        var bucket: String
        var config: JSON
        var permission: String
        var tags: [JSON]? = nil  // PropagateTags (SAMPropagateTags.swift)
    }

    struct Generated {
        var resources: [String: JSON] = [:]
        var bucketNotifications: [BucketNotification] = []
        var apiRoutes: [ApiRoute] = []  // Api and HttpApi events (SAMApiEvents.swift)
    }

    /// Properties copied as they are onto the AWS::Lambda::Function.
    static let passthrough: Set<String> = [
        "Handler", "Runtime", "MemorySize", "Timeout", "Description", "FunctionName", "ReservedConcurrentExecutions",
        "Environment", "Layers", "VpcConfig", "KmsKeyArn", "Architectures", "EphemeralStorage", "PackageType",
        "ImageConfig", "LoggingConfig", "FileSystemConfigs", "CodeSigningConfigArn", "RuntimeManagementPolicy",
    ]
    /// Properties the transform turns into something else.
    static let handled: Set<String> = [
        "CodeUri", "InlineCode", "ImageUri", "Role", "Policies", "PermissionsBoundary", "RolePath", "Tags",
        "DeadLetterQueue", "AutoPublishAlias", "AutoPublishCodeSha256", "FunctionUrlConfig", "Events", "PropagateTags",
        "EventInvokeConfig", "DeploymentPreference",
    ]

    static let trustPolicy: JSON = .object([
        "Version": .string("2012-10-17"),
        "Statement": .array([.object([
            "Action": .array([.string("sts:AssumeRole")]), "Effect": .string("Allow"),
            "Principal": .object(["Service": .array([.string("lambda.amazonaws.com")])]),
        ])]),
    ])

    static let serviceRolePolicies: Set<String> = [
        "AWSLambdaBasicExecutionRole", "AWSLambdaSQSQueueExecutionRole", "AWSLambdaDynamoDBExecutionRole", "AWSLambdaRole", "AmazonECSTaskExecutionRolePolicy",
    ]

    static func managedPolicyArn(_ name: String) -> JSON {
        .string("arn:aws:iam::aws:policy/\(serviceRolePolicies.contains(name) ? "service-role/" : "")\(name)")
    }

    static func expandFunction(_ id: String, _ resource: JSON, globals: [String: JSON], resources: [String: JSON],
                               apiGlobals: [String: JSON] = [:]) throws -> Generated {
        let props = merge(globals: globals, into: resource["Properties"]?.object ?? [:])
        for key in props.keys.sorted() where !passthrough.contains(key) && !handled.contains(key) {
            throw unsupported("Property \(key) of AWS::Serverless::Function (resource \(id))")
        }
        var g = Generated()
        // Attributes every generated resource shares with the function.
        var shared: [String: JSON] = [:]
        if let c = resource["Condition"] { shared["Condition"] = c }
        func add(_ logicalId: String, _ type: String, _ properties: [String: JSON], _ extra: [String: JSON] = [:]) {
            var r = shared.merging(extra) { $1 }
            r["Type"] = .string(type)
            r["Properties"] = .object(properties)
            g.resources[logicalId] = .object(r)
        }

        var fn: [String: JSON] = [:]
        for key in passthrough { if let v = props[key] { fn[key] = v } }
        fn["Code"] = try code(id, props)

        var userTags: [JSON] = []
        if let tags = props["Tags"] {
            guard let o = tags.object else { throw fail("Resource with id [\(id)] is invalid. Type of property 'Tags' is invalid.") }
            userTags = o.keys.sorted().map { .object(["Key": .string($0), "Value": o[$0]!]) }
        }
        let tags: JSON = .array([.object(["Key": .string("lambda:createdBy"), "Value": .string("SAM")])] + userTags)
        fn["Tags"] = tags

        if let dlq = props["DeadLetterQueue"] {
            guard let type = dlq["Type"]?.string, type == "SQS" || type == "SNS", let target = dlq["TargetArn"] else {
                throw fail("Resource with id [\(id)] is invalid. 'DeadLetterQueue' requires Type of SNS or SQS and a TargetArn.")
            }
            fn["DeadLetterConfig"] = .object(["TargetArn": target])
        }

        // Events, collected first: an SQS event adds the SQS execution policy to a generated role.
        var extraManaged: [JSON] = []
        var extraStatements: [JSON] = []
        let events = props["Events"]?.object ?? [:]
        let alias = try props["AutoPublishAlias"].map { v -> String in
            guard let s = v.string, !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber }) else {
                throw fail("Resource with id [\(id)] is invalid. 'AutoPublishAlias' must be an alphanumeric string.")
            }
            return s
        }
        let aliasId = alias.map { "\(id)Alias\($0)" }
        let target: JSON = aliasId.map { .object(["Ref": .string($0)]) } ?? .object(["Ref": .string(id)])

        for (name, event) in events.sorted(by: { $0.key < $1.key }) {
            let type = event["Type"]?.string ?? ""
            let ep = event["Properties"]?.object ?? [:]
            switch type {
            case "SQS":
                guard let queue = ep["Queue"] else {
                    throw fail("Resource with id [\(id)] is invalid. Event with id [\(name)] is invalid. Missing required property 'Queue'.")
                }
                let allowed: Set<String> = ["Queue", "BatchSize", "Enabled", "FilterCriteria", "MaximumBatchingWindowInSeconds",
                                            "FunctionResponseTypes", "ScalingConfig"]
                if let bad = ep.keys.sorted().first(where: { !allowed.contains($0) }) {
                    throw unsupported("Property \(bad) of SQS event \(name) (resource \(id))")
                }
                var m: [String: JSON] = ["FunctionName": target, "EventSourceArn": queue]
                for key in allowed where key != "Queue" { if let v = ep[key] { m[key] = v } }
                add("\(id)\(name)", "AWS::Lambda::EventSourceMapping", m)
                extraManaged.append(managedPolicyArn("AWSLambdaSQSQueueExecutionRole"))
            case "S3":
                guard let bucketRef = ep["Bucket"]?["Ref"]?.string, resources[bucketRef]?["Type"]?.string == "AWS::S3::Bucket" else {
                    throw fail("Resource with id [\(id)] is invalid. Event with id [\(name)] is invalid. S3 events must reference an S3 bucket in the same template.")
                }
                guard let ev = ep["Events"], let list = ev.string.map({ [JSON.string($0)] }) ?? ev.array else {
                    throw fail("Resource with id [\(id)] is invalid. Event with id [\(name)] is invalid. Missing required property 'Events'.")
                }
                let permission = "\(id)\(name)Permission"
                add(permission, "AWS::Lambda::Permission", [
                    "Action": .string("lambda:InvokeFunction"), "FunctionName": target, "Principal": .string("s3.amazonaws.com"),
                    "SourceAccount": .object(["Ref": .string("AWS::AccountId")]),
                ])
                let fnArn: JSON = aliasId.map { .object(["Ref": .string($0)]) } ?? .object(["Fn::GetAtt": .array([.string(id), .string("Arn")])])
                for e in list {
                    var c: [String: JSON] = ["Event": e, "Function": fnArn]
                    if let f = ep["Filter"] { c["Filter"] = f }
                    g.bucketNotifications.append(BucketNotification(bucket: bucketRef, config: .object(c), permission: permission))
                }
            case "Api", "HttpApi":  // SAMApiEvents.swift
                let uriTarget = aliasId ?? "\(id).Arn"
                let e = type == "Api"
                    ? try restApiEvent(id, name, ep, target: target, targetId: uriTarget, resources: resources, apiGlobals: apiGlobals)
                    : try httpApiEvent(id, name, ep, target: target, targetId: uriTarget, resources: resources,
                                       defaultRouteApis: defaultRouteApis(events))
                g.apiRoutes.append(e.route)
                if let (permissionId, permission) = e.permission { add(permissionId, "AWS::Lambda::Permission", permission) }
            case "DynamoDB":
                add("\(id)\(name)", "AWS::Lambda::EventSourceMapping", try dynamoDBEvent(id, name, ep, target: target))
                extraManaged.append(managedPolicyArn("AWSLambdaDynamoDBExecutionRole"))
            default:
                throw unsupported("Event type \(type.isEmpty ? "(none)" : type) (event \(name) of resource \(id))")
            }
        }

        let invoke = try props["EventInvokeConfig"].map {  // SAMEventInvokeConfig.swift
            try eventInvokeConfig(id, $0, alias: alias, aliasId: aliasId, shared: shared)
        }
        for (k, v) in invoke?.resources ?? [:] { g.resources[k] = v }

        // The execution role: given, or generated with the basic execution policy and the function's Policies.
        if let role = props["Role"] {
            if props["Policies"] != nil {
                throw fail("Resource with id [\(id)] is invalid. Cannot specify 'Policies' when 'Role' is specified.")
            }
            fn["Role"] = role
        } else {
            let roleId = "\(id)Role"
            var managed: [JSON] = [managedPolicyArn("AWSLambdaBasicExecutionRole")]
            var inline: [JSON] = []
            let policies = props["Policies"].map { $0.array ?? [$0] } ?? []
            for (i, policy) in policies.enumerated() {
                if let s = policy.string {
                    managed.append(s.hasPrefix("arn:") ? policy : managedPolicyArn(s))
                } else if isIntrinsic(policy) {
                    managed.append(policy)
                } else if policy["Statement"] != nil {
                    inline.append(.object(["PolicyName": .string("\(roleId)Policy\(i)"), "PolicyDocument": policy]))
                } else if let o = policy.object, o.count == 1, let (template, params) = o.first {
                    let statements = try policyTemplate(template, params, id: id)
                    inline.append(.object([
                        "PolicyName": .string("\(roleId)Policy\(i)"),
                        "PolicyDocument": .object(["Version": .string("2012-10-17"), "Statement": .array(statements)]),
                    ]))
                } else {
                    throw fail("Resource with id [\(id)] is invalid. Type of property 'Policies' is invalid.")
                }
            }
            if let dlqTarget = fn["DeadLetterConfig"]?["TargetArn"] {
                let action = props["DeadLetterQueue"]?["Type"]?.string == "SNS" ? "sns:Publish" : "sqs:SendMessage"
                extraStatements.append(.object(["Action": .string(action), "Effect": .string("Allow"), "Resource": dlqTarget]))
            }
            if !extraStatements.isEmpty {
                inline.append(.object([
                    "PolicyName": .string("\(roleId)DeadLetterQueuePolicy"),
                    "PolicyDocument": .object(["Version": .string("2012-10-17"), "Statement": .array(extraStatements)]),
                ]))
            }
            inline += invoke?.policies ?? []
            for m in extraManaged where !managed.contains(m) { managed.append(m) }
            var role: [String: JSON] = ["AssumeRolePolicyDocument": trustPolicy, "ManagedPolicyArns": .array(managed), "Tags": tags]
            if !inline.isEmpty { role["Policies"] = .array(inline) }
            if let b = props["PermissionsBoundary"] { role["PermissionsBoundary"] = b }
            if let p = props["RolePath"] { role["Path"] = p }
            add(roleId, "AWS::IAM::Role", role)
            fn["Role"] = .object(["Fn::GetAtt": .array([.string(roleId), .string("Arn")])])
        }

        // The function itself keeps the logical id and the resource attributes it was given.
        var fnResource = resource.object ?? [:]
        fnResource["Type"] = .string("AWS::Lambda::Function")
        fnResource["Properties"] = .object(fn)
        g.resources[id] = .object(fnResource)

        if let alias, let aliasId {
            var versionProps: [String: JSON] = ["FunctionName": .object(["Ref": .string(id)])]
            if let sha = props["AutoPublishCodeSha256"] { versionProps["Description"] = sha }
            let versionId = "\(id)Version\(hash(.object(["Code": fn["Code"] ?? .null, "Sha": props["AutoPublishCodeSha256"] ?? .null])))"
            add(versionId, "AWS::Lambda::Version", versionProps, ["DeletionPolicy": .string("Retain")])
            add(aliasId, "AWS::Lambda::Alias", [
                "Name": .string(alias), "FunctionName": .object(["Ref": .string(id)]),
                "FunctionVersion": .object(["Fn::GetAtt": .array([.string(versionId), .string("Version")])]),
            ])
        }
        if let preference = props["DeploymentPreference"],  // SAMDeploymentPreference.swift
           let d = try deploymentPreference(id, preference, aliasId: aliasId, shared: shared) {
            for (k, v) in d.resources { g.resources[k] = v }
            if let aliasId, var a = g.resources[aliasId]?.object {
                a["UpdatePolicy"] = d.updatePolicy
                g.resources[aliasId] = .object(a)
            }
        }

        if let url = props["FunctionUrlConfig"] {
            guard let auth = url["AuthType"]?.string, auth == "NONE" || auth == "AWS_IAM" else {
                throw fail("Resource with id [\(id)] is invalid. AuthType is required to configure function property `FunctionUrlConfig`. Please provide either AWS_IAM or NONE.")
            }
            var u: [String: JSON] = ["AuthType": .string(auth), "TargetFunctionArn": target]
            if let alias { u["Qualifier"] = .string(alias) }
            if let c = url["Cors"] { u["Cors"] = c }
            if let m = url["InvokeMode"] { u["InvokeMode"] = m }
            add("\(id)Url", "AWS::Lambda::Url", u)
            if auth == "NONE" {
                add("\(id)UrlPublicPermissions", "AWS::Lambda::Permission", [
                    "Action": .string("lambda:InvokeFunctionUrl"), "FunctionName": target, "Principal": .string("*"),
                    "FunctionUrlAuthType": .string("NONE"),
                ])
            }
        }
        try propagateTags(&g, id, props)  // SAMPropagateTags.swift
        return g
    }

    static func code(_ id: String, _ props: [String: JSON]) throws -> JSON {
        if let inline = props["InlineCode"] { return .object(["ZipFile": inline]) }
        if let image = props["ImageUri"] { return .object(["ImageUri": image]) }
        guard let uri = props["CodeUri"] else {
            throw fail("Resource with id [\(id)] is invalid. Only one of 'InlineCode' or 'CodeUri' can be set.")
        }
        if let o = uri.object, !isIntrinsic(uri) {
            guard let bucket = o["Bucket"], let key = o["Key"] else {
                throw fail("Resource with id [\(id)] is invalid. 'CodeUri' requires Bucket and Key properties to be specified.")
            }
            var c: [String: JSON] = ["S3Bucket": bucket, "S3Key": key]
            if let v = o["Version"] { c["S3ObjectVersion"] = v }
            return .object(c)
        }
        guard let s = uri.string, s.hasPrefix("s3://") else {
            throw fail("Resource with id [\(id)] is invalid. 'CodeUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter.")
        }
        let rest = s.dropFirst(5)
        var path = String(rest)
        var version: String?
        if let q = path.firstIndex(of: "?") {
            let query = path[path.index(after: q)...]
            if query.hasPrefix("versionId=") { version = String(query.dropFirst(10)) }
            path = String(path[..<q])
        }
        guard let slash = path.firstIndex(of: "/"), slash != path.startIndex, path.index(after: slash) != path.endIndex else {
            throw fail("Resource with id [\(id)] is invalid. 'CodeUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter.")
        }
        var c: [String: JSON] = ["S3Bucket": .string(String(path[..<slash])), "S3Key": .string(String(path[path.index(after: slash)...]))]
        if let version { c["S3ObjectVersion"] = .string(version) }
        return .object(c)
    }

    /// The SAM policy templates for the services Cloudless serves, expanded to their statements.
    static func policyTemplate(_ name: String, _ params: JSON, id: String) throws -> [JSON] {
        func param(_ key: String) throws -> JSON {
            guard let v = params[key] else {
                throw fail("Resource with id [\(id)] is invalid. Missing parameter '\(key)' for policy template '\(name)'.")
            }
            return v
        }
        func sub(_ text: String, _ vars: [String: JSON]) -> JSON { .object(["Fn::Sub": .array([.string(text), .object(vars)])]) }
        func statement(_ actions: [String], _ resource: JSON) -> JSON {
            .object(["Effect": .string("Allow"), "Action": .array(actions.map { .string($0) }), "Resource": resource])
        }
        let queueArn = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${queueName}"
        switch name {
        case "SQSPollerPolicy":
            return [statement(["sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch", "sqs:DeleteMessage",
                               "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
                              sub(queueArn, ["queueName": try param("QueueName")]))]
        case "SQSSendMessagePolicy":
            return [statement(["sqs:SendMessage*"], sub(queueArn, ["queueName": try param("QueueName")]))]
        case "S3ReadPolicy", "S3CrudPolicy", "S3WritePolicy":
            let read = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion", "s3:GetLifecycleConfiguration"]
            let write = ["s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration"]
            let actions = name == "S3ReadPolicy" ? read : name == "S3WritePolicy" ? write : read + write + ["s3:DeleteObject"]
            let bucket = try param("BucketName")
            return [statement(actions, .array([
                sub("arn:${AWS::Partition}:s3:::${bucketName}", ["bucketName": bucket]),
                sub("arn:${AWS::Partition}:s3:::${bucketName}/*", ["bucketName": bucket]),
            ]))]
        case "AWSSecretsManagerGetSecretValuePolicy":
            return [statement(["secretsmanager:GetSecretValue"], try param("SecretArn"))]
        case "CloudWatchPutMetricPolicy":
            return [statement(["cloudwatch:PutMetricData"], .string("*"))]
        case "LambdaInvokePolicy":
            return [statement(["lambda:InvokeFunction"],
                              sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${functionName}*",
                                  ["functionName": try param("FunctionName")]))]
        default:
            if let statements = try dynamoDBPolicyTemplate(name, param) { return statements }  // SAMSimpleTable.swift
            throw unsupported("Policy template \(name) (resource \(id))")
        }
    }
}
