import Core
import Foundation

/// `AWS::Serverless::Api` and the implicit `ServerlessRestApi`: an `AWS::ApiGateway::RestApi` whose Swagger 2 body
/// carries every Api event's route, a `Deployment` named after a hash of that body (a changed API is a new
/// deployment, so CloudFormation redeploys it) and the `Stage` pointing at it, in the translator's shapes.
extension SAMTransform {
    static let restApiProperties: Set<String> = [
        "StageName", "DefinitionBody", "DefinitionUri", "Cors", "Variables", "EndpointConfiguration", "Auth",
        "MethodSettings", "TracingEnabled", "Name", "BinaryMediaTypes", "MinimumCompressionSize", "CacheClusterEnabled",
        "CacheClusterSize", "AccessLogSetting", "CanarySetting", "Tags", "DisableExecuteApiEndpoint", "ApiKeySourceType",
        "OpenApiVersion", "Description",
    ]
    static let allHttpMethods = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]

    static func lambdaInvocationUri(_ prefix: String, _ function: String) -> JSON {
        .object(["Fn::Sub": .string("\(prefix):apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${\(function)}/invocations")])
    }

    /// SHA-1 of a text, hex.
    static func sha1Hex(_ text: String) -> String {
        var sha = SHA1()
        Array(text.utf8).withUnsafeBytes { sha.update($0) }
        return sha.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The REST APIs of a template: each `AWS::Serverless::Api`, and `ServerlessRestApi` when an Api event names none.
    static func expandRestApis(_ resources: [String: JSON], routes: [ApiRoute], globals: [String: JSON]) throws -> [String: JSON] {
        try expandApis(resources, type: "AWS::Serverless::Api", implicit: implicitRestApi, eventType: "Api", routes: routes,
                       implicitResource: .object(["Properties": .object(["StageName": .string("Prod")])]),
                       // The implicit API keeps its `Prod` stage whatever Globals say.
                       globals: { $0 == implicitRestApi ? globals.filter { $0.key != "StageName" } : globals }, expand: restApi)
    }

    /// The APIs of one kind (`type`): the template's own, and the implicit one (`implicit`) when a route names it; each
    /// expanded by `expand` with its Globals merged into its properties.
    static func expandApis(_ resources: [String: JSON], type: String, implicit: String, eventType: String, routes: [ApiRoute],
                           implicitResource: JSON, globals: (String) -> [String: JSON],
                           expand: (String, JSON, [String: JSON], [ApiRoute]) throws -> [String: JSON]) throws -> [String: JSON] {
        var ids = resources.filter { $0.value["Type"]?.string == type }.keys.sorted()
        if routes.contains(where: { $0.api == implicit }) {
            if resources[implicit] != nil {
                throw fail("Resource with id [\(implicit)] is invalid. The logical id is reserved for the implicit API of \(eventType) events.")
            }
            ids.append(implicit)
        }
        var out: [String: JSON] = [:]
        for id in ids {
            let resource = resources[id] ?? implicitResource
            let props = merge(globals: globals(id), into: resource["Properties"]?.object ?? [:])
            for (k, v) in try expand(id, resource, props, routes.filter { $0.api == id }) { out[k] = v }
        }
        return out
    }

    static func restApi(_ id: String, _ resource: JSON, _ props: [String: JSON], routes: [ApiRoute]) throws -> [String: JSON] {
        func invalid(_ detail: String) -> AWSError { fail("Resource with id [\(id)] is invalid. \(detail)") }
        if let bad = props.keys.sorted().first(where: { !restApiProperties.contains($0) }) {
            throw unsupported("Property \(bad) of AWS::Serverless::Api (resource \(id))")
        }
        guard let stageName = props["StageName"]?.string, !stageName.isEmpty else {
            throw invalid("Missing required property 'StageName'.")
        }
        if props["DefinitionBody"] != nil && props["DefinitionUri"] != nil {
            throw invalid("Specify either 'DefinitionUri' or 'DefinitionBody' property and not both.")
        }
        var out = APIResources(from: resource)

        let (auth, authorizers, defaultAuthorizer) = try apiAuth(props, invalid: invalid)

        var api: [String: JSON] = [:]
        var body: [String: JSON]?
        if let definition = props["DefinitionBody"] {
            guard let o = definition.object, !isIntrinsic(definition) else {
                throw invalid("'DefinitionBody' must be a dictionary given inline.")
            }
            body = o
        } else if let uri = props["DefinitionUri"] {
            if !routes.isEmpty {
                throw invalid("Api events cannot be added to an API defined by 'DefinitionUri': give its 'DefinitionBody' inline.")
            }
            if props["Cors"] != nil {
                throw invalid("Cors works only with inline Swagger specified in 'DefinitionBody' property.")
            }
            if !authorizers.isEmpty {
                throw invalid("Auth works only with inline Swagger specified in 'DefinitionBody' property.")
            }
            api["BodyS3Location"] = try bodyS3Location(id, uri)
        } else {
            body = ["swagger": .string("2.0"), "paths": .object([:]),
                    "info": .object(["version": .string("1.0"), "title": .object(["Ref": .string("AWS::StackName")])])]
        }

        if var b = body {
            var paths = b["paths"]?.object ?? [:]
            for route in routes.sorted(by: { $0.event < $1.event }) {
                var item = paths[route.path]?.object ?? [:]
                if item[route.method]?["x-amazon-apigateway-integration"] != nil {
                    let name = route.event.split(separator: ".").map(String.init)
                    throw eventFail(name[0], name[1], "API method \"\(route.method == anyMethod ? "ANY" : route.method)\" defined multiple times for path \"\(route.path)\".")
                }
                var method = item[route.method]?.object ?? [:]
                method["x-amazon-apigateway-integration"] = .object([
                    "httpMethod": .string("POST"), "type": .string("aws_proxy"), "uri": lambdaInvocationUri("arn:aws", route.function),
                ])
                if method["responses"] == nil { method["responses"] = .object([:]) }
                if let params = route.requestParameters?.array {
                    var list = method["parameters"]?.array ?? []
                    for p in params {
                        guard let key = p.string ?? p.object?.keys.first else { continue }
                        let parts = key.split(separator: ".", maxSplits: 3).map(String.init)
                        let location = ["header": "header", "querystring": "query", "path": "path"][parts[2]] ?? "header"
                        list.append(.object([
                            "in": .string(location), "name": .string(parts[3]), "type": .string("string"),
                            "required": p.object?.values.first?["Required"] ?? .bool(false),
                        ]))
                    }
                    method["parameters"] = .array(list)
                }
                // The event's Authorizer wins over the API's default; NONE leaves the method open.
                let authorizer = route.auth?["Authorizer"]?.string ?? defaultAuthorizer
                if let a = authorizer, a != "NONE" {
                    if a != "AWS_IAM" && authorizers[a] == nil {
                        let name = route.event.split(separator: ".").map(String.init)
                        throw eventFail(name[0], name[1], "Unable to set Authorizer [\(a)] on API method [\(route.method)] for path [\(route.path)] because the related API does not define any Authorizers.")
                    }
                    method["security"] = .array([.object([(a == "AWS_IAM" ? "AWS_IAM" : a): .array([])])])
                }
                item[route.method] = .object(method)
                paths[route.path] = .object(item)
            }
            if let cors = props["Cors"] {
                try addCors(id, cors, to: &paths,
                            authorizer: auth["AddDefaultAuthorizerToCorsPreflight"]?.bool == false ? nil : defaultAuthorizer)
            }
            b["paths"] = .object(paths)
            if !authorizers.isEmpty {
                var defs = b["securityDefinitions"]?.object ?? [:]
                for (name, a) in authorizers.sorted(by: { $0.key < $1.key }) {
                    defs[name] = try securityDefinition(id, name, a)
                    guard let arn = a["FunctionArn"] else { continue }
                    out.add("\(id)\(name)AuthorizerPermission", "AWS::Lambda::Permission", [
                        "Action": .string("lambda:InvokeFunction"), "FunctionName": arn,
                        "Principal": .string("apigateway.amazonaws.com"),
                        "SourceArn": .object(["Fn::Sub": .array([
                            .string("arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/authorizers/*"),
                            .object(["__ApiId__": .object(["Ref": .string(id)])]),
                        ])]),
                    ])
                }
                b["securityDefinitions"] = .object(defs)
            }
            if let types = props["BinaryMediaTypes"]?.array {
                b["x-amazon-apigateway-binary-media-types"] = .array(types.map { $0.string.map { .string($0.replacingOccurrences(of: "~1", with: "/")) } ?? $0 })
            }
            body = b
            api["Body"] = .object(b)
        }

        for key in ["Name", "MinimumCompressionSize", "DisableExecuteApiEndpoint", "ApiKeySourceType"] {
            if let v = props[key] { api[key] = v }
        }
        if let endpoint = props["EndpointConfiguration"] {
            let type = endpoint.object?["Type"] ?? endpoint
            var e: [String: JSON] = ["Types": .array([type])]
            if let ids = endpoint["VPCEndpointIds"] { e["VpcEndpointIds"] = ids }
            api["EndpointConfiguration"] = .object(e)
            api["Parameters"] = .object(["endpointConfigurationTypes": type])
        }
        out.add(id, "AWS::ApiGateway::RestApi", api)

        // A new body (or location) is a new deployment logical id: CloudFormation then deploys the API again.
        var text = ""
        pythonJSON(api["Body"] ?? api["BodyS3Location"] ?? .null, into: &text)
        let digest = sha1Hex(text)
        let deploymentId = "\(id)Deployment\(digest.prefix(10))"
        var deployment: [String: JSON] = [
            "Description": .string("RestApi deployment id: \(digest)"), "RestApiId": .object(["Ref": .string(id)]),
            "StageName": .string("Stage"),
        ]
        if let d = props["Description"] { deployment["Description"] = d }
        out.add(deploymentId, "AWS::ApiGateway::Deployment", deployment)

        var stage: [String: JSON] = [
            "DeploymentId": .object(["Ref": .string(deploymentId)]), "RestApiId": .object(["Ref": .string(id)]),
            "StageName": .string(stageName),
        ]
        for key in ["Variables", "MethodSettings", "TracingEnabled", "CacheClusterEnabled", "CacheClusterSize",
                    "AccessLogSetting", "CanarySetting"] {
            if let v = props[key] { stage[key] = v }
        }
        if let tags = props["Tags"]?.object {
            stage["Tags"] = .array(tags.keys.sorted().map { .object(["Key": .string($0), "Value": tags[$0]!]) })
        }
        out.add("\(id)\(stageName.filter { $0.isLetter || $0.isNumber })Stage", "AWS::ApiGateway::Stage", stage)
        return out.resources
    }

    static func bodyS3Location(_ id: String, _ uri: JSON) throws -> JSON {
        if let o = uri.object, let bucket = o["Bucket"], let key = o["Key"] {
            var l: [String: JSON] = ["Bucket": bucket, "Key": key]
            if let v = o["Version"] { l["Version"] = v }
            return .object(l)
        }
        guard let s = uri.string, s.hasPrefix("s3://"), let slash = s.dropFirst(5).firstIndex(of: "/") else {
            throw fail("Resource with id [\(id)] is invalid. 'DefinitionUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter.")
        }
        return .object(["Bucket": .string(String(s.dropFirst(5)[..<slash])), "Key": .string(String(s[s.index(after: slash)...]))])
    }

    /// The OPTIONS mock method SAM adds to every path for `Cors` (a string is the AllowOrigin).
    static func addCors(_ id: String, _ cors: JSON, to paths: inout [String: JSON], authorizer: String?) throws {
        let c: [String: JSON] = cors.string.map { ["AllowOrigin": .string($0)] } ?? cors.object ?? [:]
        guard let origin = c["AllowOrigin"] else {
            throw fail("Resource with id [\(id)] is invalid. Cors works only with inline Swagger specified in 'DefinitionBody' property and requires 'AllowOrigin'.")
        }
        if c["AllowCredentials"]?.bool == true, origin.string == "'*'" {
            throw fail("Resource with id [\(id)] is invalid. Cors: AllowOrigin must not be '*' when AllowCredentials is true.")
        }
        for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
            guard var methods = item.object, methods["options"] == nil else { continue }
            let allowMethods: JSON = c["AllowMethods"] ?? {
                let names = methods.keys.contains(anyMethod) ? allHttpMethods
                    : Array(Set(methods.keys.map { $0.uppercased() } + ["OPTIONS"])).sorted()
                return .string("'\(names.joined(separator: ","))'")
            }()
            var params: [String: JSON] = ["method.response.header.Access-Control-Allow-Origin": origin,
                                          "method.response.header.Access-Control-Allow-Methods": allowMethods]
            var headers: [String: JSON] = ["Access-Control-Allow-Origin": .object(["type": .string("string")]),
                                           "Access-Control-Allow-Methods": .object(["type": .string("string")])]
            if let h = c["AllowHeaders"] {
                params["method.response.header.Access-Control-Allow-Headers"] = h
                headers["Access-Control-Allow-Headers"] = .object(["type": .string("string")])
            }
            if let m = c["MaxAge"] {
                params["method.response.header.Access-Control-Max-Age"] = m
                headers["Access-Control-Max-Age"] = .object(["type": .string("integer")])
            }
            if c["AllowCredentials"]?.bool == true {
                params["method.response.header.Access-Control-Allow-Credentials"] = .string("'true'")
                headers["Access-Control-Allow-Credentials"] = .object(["type": .string("string")])
            }
            var options: [String: JSON] = [
                "summary": .string("CORS support"), "consumes": .array([.string("application/json")]),
                "produces": .array([.string("application/json")]),
                "x-amazon-apigateway-integration": .object([
                    "type": .string("mock"),
                    "requestTemplates": .object(["application/json": .string("{\n  \"statusCode\" : 200\n}\n")]),
                    "responses": .object(["default": .object([
                        "statusCode": .string("200"), "responseParameters": .object(params),
                        "responseTemplates": .object(["application/json": .string("{}\n")]),
                    ])]),
                ]),
                "responses": .object(["200": .object([
                    "description": .string("Default response for CORS method"), "headers": .object(headers),
                ])]),
            ]
            if let authorizer, authorizer != "AWS_IAM" { options["security"] = .array([.object([authorizer: .array([])])]) }
            methods["options"] = .object(options)
            paths[path] = .object(methods)
        }
    }

    /// A Lambda TOKEN or REQUEST authorizer as a Swagger security definition.
    static func securityDefinition(_ id: String, _ name: String, _ a: JSON) throws -> JSON {
        guard let arn = a["FunctionArn"] else {
            throw unsupported("Authorizer \(name) of resource \(id) without FunctionArn (Cognito user pools)")
        }
        let type = a["FunctionPayloadType"]?.string ?? "TOKEN"
        guard type == "TOKEN" || type == "REQUEST" else {
            throw fail("Resource with id [\(id)] is invalid. Authorizer [\(name)] has invalid 'FunctionPayloadType'. Must be 'TOKEN' or 'REQUEST'.")
        }
        let identity = a["Identity"]?.object ?? [:]
        var authorizer: [String: JSON] = [
            "type": .string(type.lowercased()),
            "authorizerUri": .object(["Fn::Sub": .array([
                .string("arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${__FunctionArn__}/invocations"),
                .object(["__FunctionArn__": arn]),
            ])]),
        ]
        if let ttl = identity["ReauthorizeEvery"] { authorizer["authorizerResultTtlInSeconds"] = ttl }
        if let v = identity["ValidationExpression"] { authorizer["identityValidationExpression"] = v }
        if let role = a["FunctionInvokeRole"] { authorizer["authorizerCredentials"] = role }
        var header = identity["Header"]?.string ?? "Authorization"
        if type == "REQUEST" {
            var sources: [String] = []
            for (key, prefix) in [("Headers", "method.request.header."), ("QueryStrings", "method.request.querystring."),
                                  ("StageVariables", "stageVariables."), ("Context", "context.")] {
                for v in identity[key]?.array ?? [] { if let s = v.string { sources.append(prefix + s) } }
            }
            if !sources.isEmpty { authorizer["identitySource"] = .string(sources.joined(separator: ", ")) }
            header = "Unused"
        }
        return .object(["type": .string("apiKey"), "name": .string(header), "in": .string("header"),
                        "x-amazon-apigateway-authtype": .string("custom"), "x-amazon-apigateway-authorizer": .object(authorizer)])
    }
}
