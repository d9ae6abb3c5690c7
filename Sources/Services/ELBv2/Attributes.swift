import Core

/// Load balancer attributes: AWS's defaults, and which keys and values it accepts.
enum LoadBalancerAttributes {
    static func defaults(type: String) -> [String: String] {
        var a = ["deletion_protection.enabled": "false", "access_logs.s3.enabled": "false", "access_logs.s3.bucket": "",
                 "access_logs.s3.prefix": "", "load_balancing.cross_zone.enabled": type == "network" ? "false" : "true"]
        if type == "application" {
            a["idle_timeout.timeout_seconds"] = "60"
            a["routing.http2.enabled"] = "true"
            a["routing.http.drop_invalid_header_fields.enabled"] = "false"
            a["routing.http.xff_header_processing.mode"] = "append"
            a["routing.http.preserve_host_header.enabled"] = "false"
            a["routing.http.x_amzn_tls_version_and_cipher_suite.enabled"] = "false"
            a["routing.http.xff_client_port.enabled"] = "false"
            a["waf.fail_open.enabled"] = "false"
            a["client_keep_alive.seconds"] = "3600"
        }
        return a
    }

    static func validate(key: String, value: String, type: String) throws {
        guard defaults(type: type)[key] != nil else {
            throw ELBv2Error.validation("Load balancer attribute key '\(key)' is not recognized")
        }
        if key.hasSuffix(".enabled"), value != "true", value != "false" {
            throw ELBv2Error.validation("Load balancer attribute value '\(value)' for key '\(key)' must be 'true' or 'false'")
        }
        if key == "idle_timeout.timeout_seconds" {
            guard let n = Int(value), (1...4000).contains(n) else {
                throw ELBv2Error.validation("Idle timeout must be an integer between 1 and 4000 seconds")
            }
        }
        if key == "routing.http.xff_header_processing.mode", !["append", "preserve", "remove"].contains(value) {
            throw ELBv2Error.validation("Load balancer attribute value '\(value)' for key '\(key)' is not valid")
        }
    }
}

/// Target group attributes: AWS's defaults per target type, and validation.
enum TargetGroupAttributes {
    static func defaults(targetType: String, protocol: String?) -> [String: String] {
        if targetType == "lambda" { return ["lambda.multi_value_headers.enabled": "false"] }
        if ["TCP", "UDP", "TLS", "TCP_UDP"].contains(`protocol` ?? "") {
            return ["deregistration_delay.timeout_seconds": "300", "proxy_protocol_v2.enabled": "false",
                    "preserve_client_ip.enabled": targetType == "ip" ? "false" : "true", "stickiness.enabled": "false",
                    "stickiness.type": "source_ip", "deregistration_delay.connection_termination.enabled": "false"]
        }
        return ["deregistration_delay.timeout_seconds": "300", "stickiness.enabled": "false", "stickiness.type": "lb_cookie",
                "stickiness.lb_cookie.duration_seconds": "86400", "stickiness.app_cookie.cookie_name": "",
                "stickiness.app_cookie.duration_seconds": "86400", "slow_start.duration_seconds": "0",
                "load_balancing.algorithm.type": "round_robin", "load_balancing.algorithm.anomaly_mitigation": "off",
                "load_balancing.cross_zone.enabled": "use_load_balancer_configuration"]
    }

    static func validate(key: String, value: String, defaults: [String: String]) throws {
        guard defaults[key] != nil else { throw ELBv2Error.validation("Target group attribute key '\(key)' is not recognized") }
        func integer(_ range: ClosedRange<Int>, _ what: String) throws {
            guard let n = Int(value), range.contains(n) else {
                throw ELBv2Error.validation("\(what) must be between \(range.lowerBound) and \(range.upperBound) seconds")
            }
        }
        switch key {
        case "deregistration_delay.timeout_seconds": try integer(0...3600, "Deregistration delay timeout")
        case "stickiness.lb_cookie.duration_seconds", "stickiness.app_cookie.duration_seconds":
            try integer(1...604800, "Stickiness duration")
        case "slow_start.duration_seconds":
            guard let n = Int(value), n == 0 || (30...900).contains(n) else {
                throw ELBv2Error.validation("Slow start duration must be 0 or between 30 and 900 seconds")
            }
        case "stickiness.type":
            guard ["lb_cookie", "app_cookie", "source_ip", "source_ip_dest_ip", "source_ip_dest_ip_proto"].contains(value) else {
                throw ELBv2Error.validation("Stickiness type '\(value)' is not valid")
            }
        case "load_balancing.algorithm.type":
            guard ["round_robin", "least_outstanding_requests", "weighted_random"].contains(value) else {
                throw ELBv2Error.validation("Load balancing algorithm type '\(value)' is not valid")
            }
        default:
            if key.hasSuffix(".enabled"), value != "true", value != "false" {
                throw ELBv2Error.validation("Target group attribute value '\(value)' for key '\(key)' must be 'true' or 'false'")
            }
        }
    }
}
