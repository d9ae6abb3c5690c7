import Core

/// Actions and conditions as the Query protocol carries them, validated and written back.
extension ELBv2Service {
    static func actions(_ input: ELBv2Input, _ prefix: String, _ s: ELBv2Store.State, account: String) throws -> [Action] {
        let members = input.members(prefix)
        guard !members.isEmpty else {
            throw ELBv2Error.validation("1 validation error detected: Value null at '\(ELBv2Input.lowerFirst(prefix))' failed to satisfy constraint: Member must not be null")
        }
        var out: [Action] = []
        for p in members {
            guard let type = input["\(p).Type"] else { throw ELBv2Error.validation("An action type must be specified") }
            var a = Action(type: type, order: try input.int("\(p).Order"))
            switch type {
            case "forward":
                if let arn = input["\(p).TargetGroupArn"] {
                    a.targetGroups = [WeightedTargetGroup(arn: arn, weight: 1)]
                    a.singleTargetGroup = true
                }
                let groups = input.members("\(p).ForwardConfig.TargetGroups")
                if !groups.isEmpty {
                    let weighted = try groups.map { g -> WeightedTargetGroup in
                        let w = try input.int("\(g).Weight") ?? 1
                        guard (0...999).contains(w) else { throw ELBv2Error.validation("Target group weight must be between 0 and 999") }
                        return WeightedTargetGroup(arn: try input.required("\(g).TargetGroupArn"), weight: w)
                    }
                    if a.singleTargetGroup, weighted.map(\.arn) != a.targetGroups.map(\.arn) {
                        throw ELBv2Error.validation("You cannot specify both a target group ARN and a forward config with different target groups")
                    }
                    a.targetGroups = weighted
                    a.singleTargetGroup = false
                }
                guard !a.targetGroups.isEmpty else { throw ELBv2Error.validation("A target group ARN must be specified") }
                guard a.targetGroups.count <= 5 else { throw ELBv2Error.validation("A forward action can have at most 5 target groups") }
                if Set(a.targetGroups.map(\.arn)).count != a.targetGroups.count {
                    throw ELBv2Error.validation("Target groups in a forward action must be unique")
                }
                for g in a.targetGroups {
                    guard let tg = s.targetGroups[g.arn], tg.account == account else { throw ELBv2Error.targetGroupNotFound() }
                }
                a.stickinessEnabled = input.bool("\(p).ForwardConfig.TargetGroupStickinessConfig.Enabled") ?? false
                a.stickinessDuration = try input.int("\(p).ForwardConfig.TargetGroupStickinessConfig.DurationSeconds")
                if a.stickinessEnabled {
                    guard let d = a.stickinessDuration, (1...604800).contains(d) else {
                        throw ELBv2Error.validation("Target group stickiness duration must be between 1 and 604800 seconds")
                    }
                }
            case "fixed-response":
                let code = try input.required("\(p).FixedResponseConfig.StatusCode")
                guard code.count == 3, let n = Int(code), [2, 4, 5].contains(n / 100) else {
                    throw ELBv2Error.validation("Value '\(code)' at 'fixedResponseConfig.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$")
                }
                a.fixedStatusCode = code
                a.fixedContentType = input["\(p).FixedResponseConfig.ContentType"]
                if let ct = a.fixedContentType,
                   !["text/plain", "text/css", "text/html", "application/javascript", "application/json"].contains(ct) {
                    throw ELBv2Error.validation("Content type '\(ct)' is not supported")
                }
                a.fixedMessageBody = input["\(p).FixedResponseConfig.MessageBody"]
                if (a.fixedMessageBody?.utf8.count ?? 0) > 1024 { throw ELBv2Error.validation("Message body cannot exceed 1024 characters") }
            case "redirect":
                let code = try input.required("\(p).RedirectConfig.StatusCode")
                guard code == "HTTP_301" || code == "HTTP_302" else {
                    throw ELBv2Error.validation("Value '\(code)' at 'redirectConfig.statusCode' failed to satisfy constraint: Member must satisfy enum value set: [HTTP_301, HTTP_302]")
                }
                a.redirectStatusCode = code
                a.redirectProtocol = input["\(p).RedirectConfig.Protocol"] ?? "#{protocol}"
                a.redirectHost = input["\(p).RedirectConfig.Host"] ?? "#{host}"
                a.redirectPort = input["\(p).RedirectConfig.Port"] ?? "#{port}"
                a.redirectPath = input["\(p).RedirectConfig.Path"] ?? "/#{path}"
                a.redirectQuery = input["\(p).RedirectConfig.Query"] ?? "#{query}"
                if let p = a.redirectPath, !p.hasPrefix("/") { throw ELBv2Error.validation("The redirect path must start with a '/'") }
            default:
                throw ELBv2Error.invalidConfiguration("Action type '\(type)' is not supported by Cloudless")
            }
            out.append(a)
        }
        let terminal = out.filter { ["forward", "fixed-response", "redirect"].contains($0.type) }
        guard terminal.count == 1 else { throw AWSError("TooManyActions", "You can specify only one forward, fixed-response or redirect action") }
        return out
    }

    static func write(actions: [Action], _ xml: inout XMLWriter) {
        for a in actions {
            xml.group("member") { xml in
                xml.element("Type", a.type)
                if let o = a.order { xml.element("Order", o) }
                if a.type == "forward" {
                    if a.targetGroups.count == 1 { xml.element("TargetGroupArn", a.targetGroups[0].arn) }
                    xml.group("ForwardConfig") { xml in
                        xml.group("TargetGroups") { xml in
                            for g in a.targetGroups {
                                xml.group("member") { xml in
                                    xml.element("TargetGroupArn", g.arn)
                                    xml.element("Weight", g.weight)
                                }
                            }
                        }
                        xml.group("TargetGroupStickinessConfig") { xml in
                            xml.element("Enabled", a.stickinessEnabled)
                            if a.stickinessEnabled, let d = a.stickinessDuration { xml.element("DurationSeconds", d) }
                        }
                    }
                }
                if a.type == "fixed-response" {
                    xml.group("FixedResponseConfig") { xml in
                        xml.element("MessageBody", a.fixedMessageBody)
                        xml.element("StatusCode", a.fixedStatusCode)
                        xml.element("ContentType", a.fixedContentType)
                    }
                }
                if a.type == "redirect" {
                    xml.group("RedirectConfig") { xml in
                        xml.element("Protocol", a.redirectProtocol)
                        xml.element("Port", a.redirectPort)
                        xml.element("Host", a.redirectHost)
                        xml.element("Path", a.redirectPath)
                        xml.element("Query", a.redirectQuery)
                        xml.element("StatusCode", a.redirectStatusCode)
                    }
                }
            }
        }
    }

    static func conditions(_ input: ELBv2Input, _ prefix: String) throws -> [Condition] {
        var out: [Condition] = []
        for p in input.members(prefix) {
            let field = try input.required("\(p).Field")
            var c = Condition(field: field)
            let legacy = input.list("\(p).Values")
            switch field {
            case "path-pattern": c.values = input.list("\(p).PathPatternConfig.Values")
            case "host-header": c.values = input.list("\(p).HostHeaderConfig.Values")
            case "http-request-method": c.values = input.list("\(p).HttpRequestMethodConfig.Values")
            case "source-ip": c.values = input.list("\(p).SourceIpConfig.Values")
            case "http-header":
                c.headerName = try input.required("\(p).HttpHeaderConfig.HttpHeaderName")
                c.values = input.list("\(p).HttpHeaderConfig.Values")
            case "query-string":
                c.queryPairs = input.members("\(p).QueryStringConfig.Values").map {
                    Condition.QueryPair(key: input["\($0).Key"], value: input["\($0).Value"] ?? "")
                }
            default:
                throw ELBv2Error.validation("Condition field '\(field)' must be one of '[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'")
            }
            if c.values.isEmpty && c.queryPairs.isEmpty && !legacy.isEmpty {
                guard field == "path-pattern" || field == "host-header" else {
                    throw ELBv2Error.validation("The 'Values' field is only supported for 'path-pattern' and 'host-header' conditions")
                }
                c.values = legacy
                c.legacyValues = true
            }
            guard !c.values.isEmpty || !c.queryPairs.isEmpty else {
                throw ELBv2Error.validation("A condition value must be specified for field '\(field)'")
            }
            if field == "source-ip" {
                for v in c.values where CIDR(v) == nil { throw ELBv2Error.validation("The value '\(v)' is not a valid CIDR block") }
            }
            if field == "http-request-method" {
                for v in c.values where !v.allSatisfy({ $0.isUppercase || $0 == "_" || $0 == "-" }) {
                    throw ELBv2Error.validation("HTTP request method '\(v)' must consist of uppercase letters, hyphens and underscores")
                }
            }
            out.append(c)
        }
        return out
    }

    static func write(conditions: [Condition], _ xml: inout XMLWriter) {
        for c in conditions {
            xml.group("member") { xml in
                xml.element("Field", c.field)
                if c.field == "path-pattern" || c.field == "host-header" {
                    xml.group("Values") { xml in for v in c.values { xml.element("member", v) } }
                }
                func values(_ name: String) {
                    xml.group(name) { xml in xml.group("Values") { xml in for v in c.values { xml.element("member", v) } } }
                }
                switch c.field {
                case "path-pattern": values("PathPatternConfig")
                case "host-header": values("HostHeaderConfig")
                case "http-request-method": values("HttpRequestMethodConfig")
                case "source-ip": values("SourceIpConfig")
                case "http-header":
                    xml.group("HttpHeaderConfig") { xml in
                        xml.element("HttpHeaderName", c.headerName)
                        xml.group("Values") { xml in for v in c.values { xml.element("member", v) } }
                    }
                case "query-string":
                    xml.group("QueryStringConfig") { xml in
                        xml.group("Values") { xml in
                            for q in c.queryPairs {
                                xml.group("member") { xml in
                                    xml.element("Key", q.key)
                                    xml.element("Value", q.value)
                                }
                            }
                        }
                    }
                default: break
                }
            }
        }
    }
}
