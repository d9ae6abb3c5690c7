import Core
import Foundation

/// CreateLoadBalancer, DescribeLoadBalancers, DeleteLoadBalancer, SetSecurityGroups and the load balancer attributes.
extension ELBv2Service {
    static let defaultVPC = "vpc-0c10d1e55c10d1e55"

    static func validateName(_ name: String, what: String) throws {
        let ok = (1...32).contains(name.count) && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
            && !name.hasPrefix("-") && !name.hasSuffix("-")
        guard ok else {
            throw ELBv2Error.validation("\(what) name '\(name)' can only contain characters that are alphanumeric characters or hyphens(-) and must be at most 32 characters long, and cannot begin or end with a hyphen")
        }
    }

    func createLoadBalancer(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let name = try input.required("Name")
        try Self.validateName(name, what: "Load balancer")
        if name.hasPrefix("internal-") { throw ELBv2Error.validation("Load balancer name '\(name)' cannot begin with 'internal-'") }
        let type = input["Type"] ?? "application"
        guard ["application", "network"].contains(type) else {
            throw ELBv2Error.validation("Load balancer type '\(type)' is not supported by Cloudless (application, network)")
        }
        let scheme = input["Scheme"] ?? "internet-facing"
        guard ["internet-facing", "internal"].contains(scheme) else { throw AWSError("InvalidScheme", "Scheme '\(scheme)' is not valid") }
        var subnets = input.list("Subnets")
        subnets += input.members("SubnetMappings").compactMap { input["\($0).SubnetId"] }
        if type == "application" && subnets.count < 2 && !subnets.isEmpty {
            throw ELBv2Error.validation("At least two subnets in two different Availability Zones must be specified")
        }
        let groups = input.list("SecurityGroups")
        let ipType = input["IpAddressType"] ?? "ipv4"
        let lb = try store.update { s -> LoadBalancer in
            if let existing = s.loadBalancers.values.first(where: { $0.name == name && $0.account == caller.account && $0.region == caller.region }) {
                guard existing.type == type, existing.scheme == scheme else { throw ELBv2Error.duplicateLoadBalancer() }
                return existing
            }
            let id = ARNs.id16()
            let short = type == "network" ? "net" : "app"
            var dnsID = String(UInt64.random(in: 1_000_000_000...9_999_999_999))
            if scheme == "internal" { dnsID = "internal-" + dnsID }
            let lb = LoadBalancer(
                arn: ARNs.prefix(caller.region, caller.account) + "loadbalancer/\(short)/\(name)/\(id)", name: name,
                account: caller.account, region: caller.region, type: type, scheme: scheme, ipAddressType: ipType,
                subnets: subnets.isEmpty ? ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"] : subnets, securityGroups: groups,
                dnsName: "\(name)-\(dnsID.replacingOccurrences(of: "internal-", with: "")).\(caller.region).elb.localhost",
                created: caller.now, attributes: LoadBalancerAttributes.defaults(type: type), tags: input.tags())
            s.loadBalancers[lb.arn] = lb
            return lb
        }
        return { xml in
            xml.group("LoadBalancers") { xml in xml.group("member") { Self.write(lb, &$0) } }
        }
    }

    static func hostedZone(_ type: String) -> String { type == "network" ? "Z26RNL4JYFTOTI" : "Z35SXDOTRQ7X7K" }

    static func write(_ lb: LoadBalancer, _ xml: inout XMLWriter) {
        xml.element("LoadBalancerArn", lb.arn)
        xml.element("DNSName", lb.dnsName)
        xml.element("CanonicalHostedZoneId", hostedZone(lb.type))
        xml.element("CreatedTime", AWSDate.iso8601(lb.created))
        xml.element("LoadBalancerName", lb.name)
        xml.element("Scheme", lb.scheme)
        xml.element("VpcId", defaultVPC)
        xml.group("State") { $0.element("Code", "active") }
        xml.element("Type", lb.type)
        xml.group("AvailabilityZones") { xml in
            for (i, subnet) in lb.subnets.enumerated() {
                xml.group("member") { xml in
                    xml.element("ZoneName", lb.region + String(UnicodeScalar(UInt8(97 + i % 6))))
                    xml.element("SubnetId", subnet)
                }
            }
        }
        if lb.type == "application" || !lb.securityGroups.isEmpty {
            xml.group("SecurityGroups") { xml in for g in lb.securityGroups { xml.element("member", g) } }
        }
        xml.element("IpAddressType", lb.ipAddressType)
    }

    func loadBalancer(_ arn: String, _ caller: Caller) throws -> LoadBalancer {
        guard let lb = store.snapshot.loadBalancers[arn], lb.account == caller.account else { throw ELBv2Error.loadBalancerNotFound() }
        return lb
    }

    func describeLoadBalancers(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arns = input.list("LoadBalancerArns"), names = input.list("Names")
        let all = store.snapshot.loadBalancers.values.filter { $0.account == caller.account && $0.region == caller.region }
            .sorted { ($0.created, $0.name) < ($1.created, $1.name) }
        var chosen = all
        if !arns.isEmpty {
            chosen = try arns.map { arn in try all.first(where: { $0.arn == arn }) ?? { throw ELBv2Error.loadBalancerNotFound() }() }
        } else if !names.isEmpty {
            chosen = try names.map { n in
                try all.first(where: { $0.name == n }) ?? { throw AWSError("LoadBalancerNotFound", "Load balancers '[\(n)]' not found") }()
            }
        }
        let (page, next) = try Self.page(chosen, input)
        return { xml in
            xml.group("LoadBalancers") { xml in for lb in page { xml.group("member") { Self.write(lb, &$0) } } }
            xml.element("NextMarker", next)
        }
    }

    func deleteLoadBalancer(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("LoadBalancerArn")
        try store.update { s in
            guard let lb = s.loadBalancers[arn], lb.account == caller.account else { return }  // AWS: deleting a missing one succeeds
            if lb.attributes["deletion_protection.enabled"] == "true" {
                throw ELBv2Error.operationNotPermitted("Load balancer '\(arn)' cannot be deleted because deletion protection is enabled")
            }
            let listeners = s.listeners.values.filter { $0.loadBalancerArn == arn }.map(\.arn)
            for l in listeners {
                s.listeners[l] = nil
                for r in s.rules.values where r.listenerArn == l { s.rules[r.arn] = nil }
            }
            s.loadBalancers[arn] = nil
        }
        return nil
    }

    func setSecurityGroups(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("LoadBalancerArn")
        let groups = input.list("SecurityGroups")
        try store.update { s in
            guard var lb = s.loadBalancers[arn], lb.account == caller.account else { throw ELBv2Error.loadBalancerNotFound() }
            lb.securityGroups = groups
            s.loadBalancers[arn] = lb
        }
        return { xml in xml.group("SecurityGroupIds") { xml in for g in groups { xml.element("member", g) } } }
    }

    func describeLoadBalancerAttributes(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let lb = try loadBalancer(try input.required("LoadBalancerArn"), caller)
        return { xml in Self.writeAttributes(lb.attributes, &xml) }
    }

    func modifyLoadBalancerAttributes(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arn = try input.required("LoadBalancerArn")
        let changes = try Self.attributeChanges(input)
        let lb = try store.update { s -> LoadBalancer in
            guard var lb = s.loadBalancers[arn], lb.account == caller.account else { throw ELBv2Error.loadBalancerNotFound() }
            for (k, v) in changes {
                try LoadBalancerAttributes.validate(key: k, value: v, type: lb.type)
                lb.attributes[k] = v
            }
            s.loadBalancers[arn] = lb
            return lb
        }
        return { xml in Self.writeAttributes(lb.attributes, &xml) }
    }

    static func attributeChanges(_ input: ELBv2Input) throws -> [(String, String)] {
        let members = input.members("Attributes")
        guard !members.isEmpty else {
            throw ELBv2Error.validation("1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null")
        }
        return members.map { (input["\($0).Key"] ?? "", input["\($0).Value"] ?? "") }
    }

    static func writeAttributes(_ attributes: [String: String], _ xml: inout XMLWriter) {
        xml.group("Attributes") { xml in
            for (k, v) in attributes.sorted(by: { $0.key < $1.key }) {
                xml.group("member") { xml in
                    xml.element("Key", k)
                    xml.element("Value", v)
                }
            }
        }
    }
}
