import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// One request arriving at a listener, from its own port or by Host through Cloudless's port.
struct ProxyRequest: Sendable {
    var method: HTTPRequest.Method
    var rawPath: String
    var rawQuery: String
    var headers: HTTPFields
    var body: RequestBody
    var sourceIP: String
    /// The port the client connected to (X-Forwarded-Port, `#{port}`).
    var port: Int
}

/// How a listener answers: rules by priority, then the default actions; forward picks a target group by weight
/// (sticky with the AWSALBTG cookie), then a target (round robin or least outstanding requests, sticky with AWSALB).
extension DataPlane {
    func serve(listenerARN: String, _ request: ProxyRequest) async -> AWSResponse {
        let s = store.snapshot
        // What the conditions look at, worked out only when a rule or a redirect needs it.
        func facts(_ lb: LoadBalancer) -> RequestFacts {
            RequestFacts(
                method: request.method.rawValue, path: Percent.decode(request.rawPath) ?? request.rawPath,
                host: request.headers[Self.hostField] ?? lb.dnsName,
                headers: request.headers.map { ($0.name.canonicalName, $0.value) },
                query: Percent.parseQuery(request.rawQuery, plusIsSpace: true) ?? [], sourceIP: request.sourceIP)
        }
        guard let (lb, chosen) = route(s, listenerARN: listenerARN, facts: facts) else {
            return Self.plain(.serviceUnavailable, "503 Service Temporarily Unavailable")
        }
        guard let action = chosen else { return Self.plain(.internalServerError, "500 Internal Server Error") }
        switch action.type {
        case "fixed-response":
            var headers = HTTPFields()
            headers[.contentType] = action.fixedContentType ?? "text/plain; charset=utf-8"
            return AWSResponse(status: HTTPResponse.Status(code: Int(action.fixedStatusCode ?? "200") ?? 200), headers: headers,
                               bytes: ByteBuffer(string: action.fixedMessageBody ?? ""))
        case "redirect":
            return Self.redirect(action, request, facts(lb))
        default:
            return await forward(action, s, lb, request, idleTimeout: Self.idleTimeout(lb))
        }
    }

    /// The listener's load balancer and the action it takes: the first rule by priority whose conditions match
    /// `facts` (worked out only when the listener has rules), else the default actions; nil when the listener or its
    /// load balancer is gone, a nil action when none is one the data plane serves.
    func route(_ s: ELBv2Store.State, listenerARN: String, facts: (LoadBalancer) -> RequestFacts) -> (LoadBalancer, Action?)? {
        guard let listener = s.listeners[listenerARN], let lb = s.loadBalancers[listener.loadBalancerArn] else { return nil }
        var actions = listener.defaultActions
        let rules = s.rules.values.filter { $0.listenerArn == listenerARN }.sorted { $0.priority < $1.priority }
        if !rules.isEmpty {
            let f = facts(lb)
            if let rule = rules.first(where: { RuleMatching.matches($0.conditions, f) }) { actions = rule.actions }
        }
        return (lb, actions.first { $0.type == "forward" || $0.type == "fixed-response" || $0.type == "redirect" })
    }

    /// A forward's target group: the one the AWSALBTG cookie names while group stickiness holds, else one chosen at
    /// random by weight; nil when none can take traffic.
    static func targetGroup(_ a: Action, _ s: ELBv2Store.State, groupCookie: String?) -> TargetGroup? {
        var chosen: WeightedTargetGroup?
        if a.stickinessEnabled, let c = groupCookie, let g = a.targetGroups.first(where: { Self.groupCookie($0.arn) == c && $0.weight > 0 }) {
            chosen = g
        }
        if chosen == nil, let i = WeightedChoice.pick(a.targetGroups.map(\.weight), roll: Double.random(in: 0..<1)) { chosen = a.targetGroups[i] }
        return chosen.flatMap { s.targetGroups[$0.arn] }
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> AWSResponse {
        var headers = HTTPFields()
        headers[.contentType] = "text/html"
        headers[.server] = "awselb/2.0"
        return AWSResponse(status: status, headers: headers, bytes: ByteBuffer(string: plainPage(text)))
    }

    /// `plain` as NIO's parts, for the listener's fast path.
    static func plainHead(_ status: HTTPResponseStatus, _ text: String) -> (HTTPResponseHead, ByteBuffer) {
        let body = ByteBuffer(string: plainPage(text))
        let headers = HTTPHeaders([("Content-Type", "text/html"), ("Server", "awselb/2.0"), ("Content-Length", String(body.readableBytes))])
        return (HTTPResponseHead(version: .http1_1, status: status, headers: headers), body)
    }

    static func plainPage(_ text: String) -> String {
        "<html>\r\n<head><title>\(text)</title></head>\r\n<body>\r\n<center><h1>\(text)</h1></center>\r\n</body>\r\n</html>\r\n"
    }

    /// `#{protocol}`, `#{host}`, `#{port}`, `#{path}` (without its leading '/') and `#{query}` from the request.
    static func redirect(_ a: Action, _ request: ProxyRequest, _ facts: RequestFacts) -> AWSResponse {
        let host = facts.host.split(separator: ":").first.map(String.init) ?? facts.host
        func fill(_ s: String) -> String {
            s.replacingOccurrences(of: "#{protocol}", with: "http").replacingOccurrences(of: "#{host}", with: host)
                .replacingOccurrences(of: "#{port}", with: String(request.port))
                .replacingOccurrences(of: "#{path}", with: String(request.rawPath.dropFirst()))
                .replacingOccurrences(of: "#{query}", with: request.rawQuery)
        }
        let proto = fill(a.redirectProtocol ?? "#{protocol}").lowercased()
        let port = fill(a.redirectPort ?? "#{port}")
        let defaultPort = (proto == "https" && port == "443") || (proto == "http" && port == "80")
        let query = fill(a.redirectQuery ?? "#{query}")
        let location = "\(proto)://\(fill(a.redirectHost ?? "#{host}"))\(defaultPort ? "" : ":" + port)\(fill(a.redirectPath ?? "/#{path}"))"
            + (query.isEmpty ? "" : "?" + query)
        var r = plain(a.redirectStatusCode == "HTTP_301" ? .movedPermanently : .found,
                      a.redirectStatusCode == "HTTP_301" ? "301 Moved Permanently" : "302 Found")
        r.headers[.location] = location
        return r
    }

    static func cookie(_ headers: HTTPFields, _ name: String) -> String? {
        for field in headers where field.name == .cookie {
            for pair in field.value.split(separator: ";") {
                let kv = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }

    func forward(_ a: Action, _ s: ELBv2Store.State, _ lb: LoadBalancer, _ request: ProxyRequest, idleTimeout: Double) async -> AWSResponse {
        guard let tg = Self.targetGroup(a, s, groupCookie: a.stickinessEnabled ? Self.cookie(request.headers, "AWSALBTG") : nil) else {
            return Self.plain(.serviceUnavailable, "503 Service Temporarily Unavailable")
        }
        let stickyTargets = tg.lbCookieStickiness
        guard let target = pick(tg, sticky: stickyTargets ? Self.cookie(request.headers, "AWSALB") : nil) else {
            return Self.plain(.serviceUnavailable, "503 Service Temporarily Unavailable")
        }
        var response: AWSResponse
        if tg.targetType == "lambda" {
            response = await invokeLambda(tg, target, request)
        } else {
            response = await proxy(tg, target, lb, request, idleTimeout: idleTimeout)
        }
        if stickyTargets {
            let expires = AWSDate.rfc1123(clock.now() + (Double(tg.attributes["stickiness.lb_cookie.duration_seconds"] ?? "86400") ?? 86400))
            response.headers.append(HTTPField(name: .setCookie, value: "AWSALB=\(Self.stickyValue(target)); Expires=\(expires); Path=/"))
        }
        if a.stickinessEnabled {
            let groupExpires = AWSDate.rfc1123(clock.now() + Double(a.stickinessDuration ?? 3600))
            response.headers.append(HTTPField(name: .setCookie, value: "AWSALBTG=\(Self.groupCookie(tg.arn)); Expires=\(groupExpires); Path=/"))
        }
        return response
    }

    static let hostField = HTTPField.Name("Host")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let forwardedPort = HTTPField.Name("X-Forwarded-Port")!
    static let traceID = HTTPField.Name("X-Amzn-Trace-Id")!

    static func groupCookie(_ arn: String) -> String { Data(arn.utf8).base64EncodedString() }

    /// How long a target may take to answer before the client gets a 504.
    static func idleTimeout(_ lb: LoadBalancer) -> Double { Double(lb.attributes["idle_timeout.timeout_seconds"] ?? "60") ?? 60 }

    /// X-Forwarded-For as passed on: the client's address appended to what the request brought.
    static func forwardedFor(_ given: String?, _ sourceIP: String) -> String { given.map { "\($0), \(sourceIP)" } ?? sourceIP }

    /// A new X-Amzn-Trace-Id, as the load balancer adds to a request that has none.
    func newTraceID() -> String { "Root=1-\(String(Int(clock.now()), radix: 16))-\(Hex.encode(randomBytes(count: 12)))" }

    func proxy(_ tg: TargetGroup, _ target: RegisteredTarget, _ lb: LoadBalancer, _ request: ProxyRequest, idleTimeout: Double) async -> AWSResponse {
        var headers = request.headers
        headers[Self.forwardedFor] = Self.forwardedFor(headers[Self.forwardedFor], request.sourceIP)
        headers[Self.forwardedProto] = "http"
        headers[Self.forwardedPort] = String(request.port)
        if headers[Self.traceID] == nil {
            headers[Self.traceID] = newTraceID()
        }
        let host = Self.address(tg, target)
        let uri = request.rawPath + (request.rawQuery.isEmpty ? "" : "?" + request.rawQuery)
        began(tg.arn, target)
        do {
            // In flight until its body has been passed on.
            return try await Upstream.exchange(pool: pool, host: host, port: target.port ?? tg.port ?? 80, method: request.method.rawValue, uri: uri,
                                               headers: headers, body: request.body, timeoutSeconds: idleTimeout,
                                               relayed: { [self] in ended(tg.arn, target) })
        } catch Upstream.Failure.timeout {
            ended(tg.arn, target)
            return Self.plain(.gatewayTimeout, "504 Gateway Time-out")
        } catch {
            ended(tg.arn, target)
            logger.info("target did not answer", metadata: ["target": "\(host):\(target.port ?? tg.port ?? 80)", "error": "\(error)"])
            return Self.plain(.badGateway, "502 Bad Gateway")
        }
    }
}
