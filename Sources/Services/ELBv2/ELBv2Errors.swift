import Core

/// ELBv2's errors, with the codes and statuses of botocore's model (all client faults, HTTP 400).
enum ELBv2Error {
    static func validation(_ message: String) -> AWSError { AWSError("ValidationError", message) }
    static func loadBalancerNotFound() -> AWSError { AWSError("LoadBalancerNotFound", "One or more load balancers not found") }
    static func targetGroupNotFound() -> AWSError { AWSError("TargetGroupNotFound", "One or more target groups not found") }
    static func listenerNotFound() -> AWSError { AWSError("ListenerNotFound", "One or more listeners not found") }
    static func ruleNotFound() -> AWSError { AWSError("RuleNotFound", "One or more rules not found") }
    static func duplicateLoadBalancer() -> AWSError {
        AWSError("DuplicateLoadBalancerName", "A load balancer with the same name exists, but with different settings")
    }
    static func duplicateTargetGroup() -> AWSError { AWSError("DuplicateTargetGroupName", "A target group with the same name exists, but with different settings") }
    static func duplicateListener() -> AWSError { AWSError("DuplicateListener", "A listener with the specified port already exists") }
    static func priorityInUse(_ p: Int) -> AWSError { AWSError("PriorityInUse", "Priority '\(p)' is currently in use") }
    static func invalidConfiguration(_ message: String) -> AWSError { AWSError("InvalidConfigurationRequest", message) }
    static func resourceInUse(_ message: String) -> AWSError { AWSError("ResourceInUse", message) }
    static func invalidTarget(_ message: String) -> AWSError { AWSError("InvalidTarget", message) }
    static func tooManyTargets() -> AWSError { AWSError("TooManyTargets", "You've reached the limit on the number of targets per target group") }
    static func operationNotPermitted(_ message: String) -> AWSError { AWSError("OperationNotPermitted", message) }
    static func incompatibleProtocols(_ message: String) -> AWSError { AWSError("IncompatibleProtocols", message) }
}

/// The flattened Query parameters of one request (`Names.member.1`, `Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight`).
struct ELBv2Input {
    let parameters: [String: String]

    init(_ parameters: [String: String]) { self.parameters = parameters }

    subscript(_ key: String) -> String? { parameters[key] }

    func string(_ key: String) -> String? {
        guard let v = parameters[key] else { return nil }
        return v
    }

    func required(_ key: String) throws -> String {
        guard let v = parameters[key], !v.isEmpty else {
            throw ELBv2Error.validation("1 validation error detected: Value null at '\(Self.lowerFirst(key))' failed to satisfy constraint: Member must not be null")
        }
        return v
    }

    func int(_ key: String) throws -> Int? {
        guard let v = parameters[key] else { return nil }
        guard let i = Int(v) else { throw ELBv2Error.validation("Value '\(v)' at '\(Self.lowerFirst(key))' is not a valid integer") }
        return i
    }

    func bool(_ key: String) -> Bool? {
        guard let v = parameters[key] else { return nil }
        return v.lowercased() == "true"
    }

    /// `prefix.member.1`, `prefix.member.2`… in order.
    func list(_ prefix: String) -> [String] {
        var out: [String] = []
        var i = 1
        while let v = parameters["\(prefix).member.\(i)"] {
            out.append(v)
            i += 1
        }
        return out
    }

    /// The sub-prefixes `prefix.member.N` that have any parameter, in order.
    func members(_ prefix: String) -> [String] {
        var out: [String] = []
        var i = 1
        while true {
            let p = "\(prefix).member.\(i)"
            guard parameters.keys.contains(where: { $0.hasPrefix(p + ".") || $0 == p }) else { break }
            out.append(p)
            i += 1
        }
        return out
    }

    func tags(_ prefix: String = "Tags") -> [Tag] {
        members(prefix).compactMap { p in parameters["\(p).Key"].map { Tag(key: $0, value: parameters["\(p).Value"] ?? "") } }
    }

    static func lowerFirst(_ s: String) -> String { s.prefix(1).lowercased() + s.dropFirst() }
}
