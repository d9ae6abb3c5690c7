import Core
import Foundation

/// The resources of ELBv2 as they are stored (one JSON document per ARN in `elbv2.sqlite`).
struct LoadBalancer: Codable, Sendable {
    var arn: String
    var name: String
    var account: String
    var region: String
    /// `application` or `network`.
    var type: String
    var scheme: String
    var ipAddressType: String
    var subnets: [String]
    var securityGroups: [String]
    var dnsName: String
    var created: Double
    var attributes: [String: String]
    var tags: [Tag]
}

struct Tag: Codable, Sendable, Equatable {
    var key: String
    var value: String
}

struct HealthCheck: Codable, Sendable, Equatable {
    var enabled: Bool
    var `protocol`: String
    var port: String
    var path: String?
    var intervalSeconds: Int
    var timeoutSeconds: Int
    var healthyThreshold: Int
    var unhealthyThreshold: Int
    var matcher: String?
}

/// A registered target, and when it stops draining (emulator clock) once deregistered.
struct RegisteredTarget: Codable, Sendable, Hashable {
    var id: String
    var port: Int?
    var drainingUntil: Double?
}

struct TargetGroup: Codable, Sendable {
    var arn: String
    var name: String
    var account: String
    var region: String
    /// `ip`, `instance`, `lambda` or `alb`.
    var targetType: String
    var `protocol`: String?
    var port: Int?
    var vpcId: String?
    var healthCheck: HealthCheck
    var attributes: [String: String]
    var targets: [RegisteredTarget]
    var tags: [Tag]

    /// Stickiness by the load balancer's own AWSALB cookie is on.
    var lbCookieStickiness: Bool { attributes["stickiness.enabled"] == "true" && attributes["stickiness.type"] == "lb_cookie" }
}

struct WeightedTargetGroup: Codable, Sendable, Equatable {
    var arn: String
    var weight: Int
}

struct Action: Codable, Sendable, Equatable {
    /// `forward`, `fixed-response` or `redirect`.
    var type: String
    var order: Int?
    var targetGroups: [WeightedTargetGroup] = []
    /// Whether the action was given as a single TargetGroupArn (described back as such, and in a ForwardConfig).
    var singleTargetGroup = false
    var stickinessEnabled = false
    var stickinessDuration: Int?
    var fixedStatusCode: String?
    var fixedContentType: String?
    var fixedMessageBody: String?
    var redirectProtocol: String?
    var redirectHost: String?
    var redirectPort: String?
    var redirectPath: String?
    var redirectQuery: String?
    var redirectStatusCode: String?
}

struct Condition: Codable, Sendable, Equatable {
    /// `path-pattern`, `host-header`, `http-header`, `http-request-method`, `query-string` or `source-ip`.
    var field: String
    var values: [String] = []
    var headerName: String?
    /// query-string: key (nil: any key) and value patterns.
    var queryPairs: [QueryPair] = []
    /// Whether the values came in the legacy `Values` member (described back there too).
    var legacyValues = false

    struct QueryPair: Codable, Sendable, Equatable {
        var key: String?
        var value: String
    }
}

struct Listener: Codable, Sendable {
    var arn: String
    var loadBalancerArn: String
    var port: Int
    var `protocol`: String
    var defaultActions: [Action]
    var defaultRuleArn: String
    var tags: [Tag]
}

struct Rule: Codable, Sendable {
    var arn: String
    var listenerArn: String
    var priority: Int
    var conditions: [Condition]
    var actions: [Action]
    var tags: [Tag]
}

enum ARNs {
    static func id16() -> String { Hex.encode(randomBytes(count: 8)) }
    static func prefix(_ region: String, _ account: String) -> String { "arn:aws:elasticloadbalancing:\(region):\(account):" }

    /// The part after `loadbalancer/`: `app/<name>/<id>`.
    static func loadBalancerPath(_ arn: String) -> String {
        guard let r = arn.range(of: ":loadbalancer/") else { return "" }
        return String(arn[r.upperBound...])
    }

    static func region(_ arn: String) -> String {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count > 3 ? String(parts[3]) : ""
    }
}
