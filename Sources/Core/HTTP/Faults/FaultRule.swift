import Foundation

/// One fault rule of `POST /_cloudless/faults`: which requests it matches (a service's signing name, optionally an
/// operation and a region), how often it fires, and what a firing does: wait `latencyMs`, then answer with an AWS
/// error, or (a rule with latency and no error) serve the request normally.
public struct FaultRule: Sendable, Equatable {
    public var service: String
    public var operation: String?
    public var region: String?
    /// Chance a matching request is faulted, 0...1.
    public var probability: Double
    /// The AWS error code answered; nil for a latency-only rule.
    public var error: String?
    public var status: Int
    public var message: String
    public var latencyMs: Int
    /// A Cloudless extension: fault only the next `count` matching requests, then remove the rule.
    public var count: Int?

    public func matches(service: String, operation: String, region: String) -> Bool {
        self.service == service && (self.operation == nil || self.operation == operation)
            && (self.region == nil || self.region == region)
    }

    /// The error a firing answers with, exactly as a service throws it (the gateway renders it in the request's protocol).
    public var awsError: AWSError? {
        error.map { AWSError($0, message, status: .init(code: status)) }
    }

    static let fields: Set<String> = [
        "service", "operation", "region", "probability", "error", "status", "message", "latencyMs", "count",
    ]
    /// The longest delay a rule may add: ten minutes.
    static let maxLatencyMs = 600_000

    /// Rules from the JSON a client posts (a list of rules, or one rule). Throws `FaultRuleError` naming the first
    /// problem; `services` are the signing names a rule may name.
    public static func parse(_ data: Data, services: Set<String>) throws -> [FaultRule] {
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw FaultRuleError("the body is not JSON: expected a list of fault rules")
        }
        let list: [Any]
        if let l = json as? [Any] { list = l } else if let one = json as? [String: Any] { list = [one] } else {
            throw FaultRuleError("expected a list of fault rules")
        }
        return try list.enumerated().map { (index, item) throws -> FaultRule in
            guard let object = item as? [String: Any] else { throw FaultRuleError("rule \(index): expected an object") }
            do { return try FaultRule(json: object, services: services) } catch let e as FaultRuleError {
                throw FaultRuleError("rule \(index): \(e.message)")
            }
        }
    }

    init(json: [String: Any], services: Set<String>) throws {
        if let unknown = json.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw FaultRuleError("unknown field '\(unknown)' (fields: \(Self.fields.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws -> String? {
            guard let v = json[key], !(v is NSNull) else { return nil }
            guard let s = v as? String, !s.isEmpty else { throw FaultRuleError("'\(key)' must be a non-empty string") }
            return s
        }
        func number(_ key: String) throws -> Double? {
            guard let v = json[key], !(v is NSNull) else { return nil }
            guard !(v is String), !Self.isBool(v), let n = (v as? NSNumber)?.doubleValue, n.isFinite else {
                throw FaultRuleError("'\(key)' must be a number")
            }
            return n
        }
        func integer(_ key: String) throws -> Int? {
            guard let n = try number(key) else { return nil }
            guard n == n.rounded(), abs(n) < 1e12 else { throw FaultRuleError("'\(key)' must be an integer") }
            return Int(n)
        }
        guard let service = try string("service") else { throw FaultRuleError("'service' is required") }
        guard services.contains(service) else {
            throw FaultRuleError("unknown service '\(service)' (services: \(services.sorted().joined(separator: ", ")))")
        }
        self.service = service
        operation = try string("operation")
        region = try string("region")
        probability = try number("probability") ?? 1
        guard (0...1).contains(probability) else { throw FaultRuleError("'probability' must be between 0 and 1") }
        latencyMs = try integer("latencyMs") ?? 0
        guard (0...Self.maxLatencyMs).contains(latencyMs) else {
            throw FaultRuleError("'latencyMs' must be between 0 and \(Self.maxLatencyMs)")
        }
        count = try integer("count")
        if let count, count < 1 { throw FaultRuleError("'count' must be at least 1") }
        let code = try string("error")
        if let code, !code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_") }) {
            throw FaultRuleError("'error' must be an AWS error code (letters, digits, '.' and '_')")
        }
        let status = try integer("status")
        if let status, !(400...599).contains(status) { throw FaultRuleError("'status' must be between 400 and 599") }
        let message = try string("message")
        // A rule that only delays serves the request; one that says nothing of the error answers ServiceUnavailable.
        if code == nil && status == nil && message == nil && latencyMs > 0 {
            error = nil
            self.status = 200
            self.message = ""
        } else {
            let resolved = code ?? status.map(FaultCatalog.code(forStatus:)) ?? "ServiceUnavailable"
            error = resolved
            self.status = status ?? FaultCatalog.defaultStatus(resolved)
            self.message = message ?? FaultCatalog.defaultMessage(resolved)
        }
    }

    public init(service: String, operation: String? = nil, region: String? = nil, probability: Double = 1, error: String?,
                status: Int? = nil, message: String? = nil, latencyMs: Int = 0, count: Int? = nil) {
        self.service = service
        self.operation = operation
        self.region = region
        self.probability = probability
        self.error = error
        self.status = error.map { status ?? FaultCatalog.defaultStatus($0) } ?? 200
        self.message = error.map { message ?? FaultCatalog.defaultMessage($0) } ?? ""
        self.latencyMs = latencyMs
        self.count = count
    }

    /// JSON's true and false arrive as NSNumber too; a probability of `true` is a mistake, not 1.
    private static func isBool(_ v: Any) -> Bool {
        if type(of: v) == Bool.self { return true }
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c"
    }

    /// The rule as GET /_cloudless/faults lists it, every default filled in.
    public var json: String {
        var parts = ["\"service\":\(JSONString.quote(service))"]
        if let operation { parts.append("\"operation\":\(JSONString.quote(operation))") }
        if let region { parts.append("\"region\":\(JSONString.quote(region))") }
        parts.append("\"probability\":\(probability)")
        if let error {
            parts.append("\"error\":\(JSONString.quote(error))")
            parts.append("\"status\":\(status)")
            parts.append("\"message\":\(JSONString.quote(message))")
        }
        parts.append("\"latencyMs\":\(latencyMs)")
        if let count { parts.append("\"count\":\(count)") }
        return "{" + parts.joined(separator: ",") + "}"
    }
}

public struct FaultRuleError: Error, Sendable, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
}
