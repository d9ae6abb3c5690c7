import Core

/// `AWS::Serverless::HttpApi` and the implicit `ServerlessHttpApi`: an `AWS::ApiGatewayV2::Api` whose OpenAPI 3 body
/// carries every HttpApi event's route (Lambda proxy, payload 2.0 unless the event says 1.0) and an auto-deployed
/// stage, `$default` unless StageName is given.
extension SAMTransform {
    static let httpApiProperties: Set<String> = [
        "StageName", "DefinitionBody", "CorsConfiguration", "Auth", "StageVariables", "Tags", "AccessLogSettings",
        "DefaultRouteSettings", "RouteSettings", "FailOnWarnings", "DisableExecuteApiEndpoint", "Description", "Name",
    ]
    static let createdByTag: JSON = .object(["name": .string("httpapi:createdBy"), "x-amazon-apigateway-tag-value": .string("SAM")])

    static func expandHttpApis(_ resources: [String: JSON], routes: [ApiRoute], globals: [String: JSON]) throws -> [String: JSON] {
        try expandApis(resources, type: "AWS::Serverless::HttpApi", implicit: implicitHttpApi, eventType: "HttpApi", routes: routes,
                       implicitResource: .object([:]), globals: { _ in globals }, expand: httpApi)
    }

    static func httpApi(_ id: String, _ resource: JSON, _ props: [String: JSON], routes: [ApiRoute]) throws -> [String: JSON] {
        func invalid(_ detail: String) -> AWSError { fail("Resource with id [\(id)] is invalid. \(detail)") }
        if let bad = props.keys.sorted().first(where: { !httpApiProperties.contains($0) }) {
            throw unsupported("Property \(bad) of AWS::Serverless::HttpApi (resource \(id))")
        }
        var out = APIResources(from: resource)
        let stageName = props["StageName"]?.string ?? "$default"
        let (_, authorizers, defaultAuthorizer) = try apiAuth(props, invalid: invalid)

        var body: [String: JSON]
        if let definition = props["DefinitionBody"] {
            guard let o = definition.object, !isIntrinsic(definition) else { throw invalid("'DefinitionBody' must be a dictionary given inline.") }
            body = o
        } else {
            body = ["openapi": .string("3.0.1"), "paths": .object([:]),
                    "info": .object(["version": .string("1.0"), "title": .object(["Ref": .string("AWS::StackName")])])]
        }
        var paths = body["paths"]?.object ?? [:]
        for route in routes.sorted(by: { $0.event < $1.event }) {
            var item = paths[route.path]?.object ?? [:]
            if item[route.method]?["x-amazon-apigateway-integration"] != nil {
                let name = route.event.split(separator: ".").map(String.init)
                throw eventFail(name[0], name[1], "API method \"\(route.method == anyMethod ? "ANY" : route.method)\" defined multiple times for path \"\(route.path)\".")
            }
            var method = item[route.method]?.object ?? [:]
            method["x-amazon-apigateway-integration"] = .object([
                "httpMethod": .string("POST"), "type": .string("aws_proxy"),
                "uri": lambdaInvocationUri("arn:${AWS::Partition}", route.function),
                "payloadFormatVersion": route.payloadFormatVersion ?? .string("2.0"),
            ])
            if method["responses"] == nil { method["responses"] = .object([:]) }
            if route.path == "$default" { method["isDefaultRoute"] = .bool(true) }
            let names = route.path.split(separator: "{").dropFirst().compactMap { $0.split(separator: "}", omittingEmptySubsequences: false).first }
            if !names.isEmpty {
                var list = method["parameters"]?.array ?? []
                for n in names where !list.contains(where: { $0["name"]?.string == String(n) }) {
                    list.append(.object(["in": .string("path"), "name": .string(String(n)), "required": .bool(true)]))
                }
                method["parameters"] = .array(list)
            }
            let authorizer = route.auth?["Authorizer"]?.string ?? defaultAuthorizer
            if let a = authorizer, a != "NONE" {
                if a != "AWS_IAM" && authorizers[a] == nil {
                    let name = route.event.split(separator: ".").map(String.init)
                    throw eventFail(name[0], name[1], "Unable to set Authorizer [\(a)] on API method [\(route.method)] for path [\(route.path)] because the related API does not define any Authorizers.")
                }
                method["security"] = .array([.object([a: route.auth?["AuthorizationScopes"] ?? .array([])])])
            }
            item[route.method] = .object(method)
            paths[route.path] = .object(item)
        }
        body["paths"] = .object(paths)
        if props["DefinitionBody"] == nil || body["tags"] != nil {
            body["tags"] = .array((body["tags"]?.array ?? []) + [createdByTag])
        }
        if !authorizers.isEmpty {
            var components = body["components"]?.object ?? [:]
            var schemes = components["securitySchemes"]?.object ?? [:]
            for (name, a) in authorizers.sorted(by: { $0.key < $1.key }) {
                schemes[name] = try httpAuthorizer(id, name, a)  // no permission generated, as the translator does
            }
            components["securitySchemes"] = .object(schemes)
            body["components"] = .object(components)
        }
        if let cors = props["CorsConfiguration"] {
            if cors.bool == true {
                body["x-amazon-apigateway-cors"] = .object(["allowOrigins": .array([.string("*")])])
            } else if let o = cors.object {
                var c: [String: JSON] = [:]
                for (k, v) in o { c[k.prefix(1).lowercased() + k.dropFirst()] = v }
                body["x-amazon-apigateway-cors"] = .object(c)
            } else if cors.bool != false {
                throw invalid("'CorsConfiguration' must be a boolean or a map.")
            }
        }
        var api: [String: JSON] = ["Body": .object(body)]
        for key in ["FailOnWarnings", "DisableExecuteApiEndpoint"] { if let v = props[key] { api[key] = v } }
        if let d = props["Description"] {
            var info = body["info"]?.object ?? [:]
            info["description"] = d
            body["info"] = .object(info)
            api["Body"] = .object(body)
        }
        if let n = props["Name"] { api["Name"] = n }
        if let tags = props["Tags"]?.object { api["Tags"] = .object(tags.merging(["httpapi:createdBy": .string("SAM")]) { $1 }) }
        out.add(id, "AWS::ApiGatewayV2::Api", api)

        var stage: [String: JSON] = [
            "ApiId": .object(["Ref": .string(id)]), "StageName": .string(stageName), "AutoDeploy": .bool(true),
            "Tags": .object((props["Tags"]?.object ?? [:]).merging(["httpapi:createdBy": .string("SAM")]) { $1 }),
        ]
        for key in ["StageVariables", "AccessLogSettings", "DefaultRouteSettings", "RouteSettings"] {
            if let v = props[key] { stage[key] = v }
        }
        let stageId = stageName == "$default" ? "\(id)ApiGatewayDefaultStage" : "\(id)\(stageName.filter { $0.isLetter || $0.isNumber })Stage"
        out.add(stageId, "AWS::ApiGatewayV2::Stage", stage)
        return out.resources
    }

    /// An HTTP API authorizer (JWT or Lambda REQUEST) as an OpenAPI security scheme.
    static func httpAuthorizer(_ id: String, _ name: String, _ a: JSON) throws -> JSON {
        if let jwt = a["JwtConfiguration"]?.object {
            var config: [String: JSON] = [:]
            for (k, v) in jwt { config[k.lowercased()] = v }
            return .object(["type": .string("oauth2"), "x-amazon-apigateway-authorizer": .object([
                "jwtConfiguration": .object(config), "identitySource": a["IdentitySource"] ?? .string("$request.header.Authorization"),
                "type": .string("jwt"),
            ])])
        }
        guard let arn = a["FunctionArn"] else {
            throw fail("Resource with id [\(id)] is invalid. \(name) Authorizer must define 'FunctionArn' or 'JwtConfiguration'.")
        }
        var authorizer: [String: JSON] = [
            "type": .string("request"),
            "authorizerUri": .object(["Fn::Sub": .array([
                .string("arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${__FunctionArn__}/invocations"),
                .object(["__FunctionArn__": arn]),
            ])]),
        ]
        if let v = a["AuthorizerPayloadFormatVersion"] { authorizer["authorizerPayloadFormatVersion"] = v }
        if let v = a["EnableSimpleResponses"] { authorizer["enableSimpleResponses"] = v }
        if let v = a["FunctionInvokeRole"] { authorizer["authorizerCredentials"] = v }
        let identity = a["Identity"]?.object ?? [:]
        if let ttl = identity["ReauthorizeEvery"] { authorizer["authorizerResultTtlInSeconds"] = ttl }
        var sources: [JSON] = []
        for (key, prefix) in [("Headers", "$request.header."), ("QueryStrings", "$request.querystring."),
                              ("StageVariables", "$stageVariables."), ("Context", "$context.")] {
            for v in identity[key]?.array ?? [] { if let s = v.string { sources.append(.string(prefix + s)) } }
        }
        if !sources.isEmpty { authorizer["identitySource"] = .array(sources) }
        return .object(["type": .string("apiKey"), "name": .string("Unused"), "in": .string("header"),
                        "x-amazon-apigateway-authorizer": .object(authorizer)])
    }
}
