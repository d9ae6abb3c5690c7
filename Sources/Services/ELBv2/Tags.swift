import Core

/// AddTags, RemoveTags and DescribeTags on load balancers, target groups, listeners and rules.
extension ELBv2Service {
    /// Apply `change` to the tags of the resource `arn` names.
    private func withTags(_ s: inout ELBv2Store.State, _ arn: String, _ account: String, _ change: (inout [Tag]) throws -> Void) throws {
        if var r = s.loadBalancers[arn], r.account == account { try change(&r.tags); s.loadBalancers[arn] = r; return }
        if var r = s.targetGroups[arn], r.account == account { try change(&r.tags); s.targetGroups[arn] = r; return }
        if var r = s.listeners[arn], s.loadBalancers[r.loadBalancerArn]?.account == account { try change(&r.tags); s.listeners[arn] = r; return }
        if var r = s.rules[arn] { try change(&r.tags); s.rules[arn] = r; return }
        if arn.contains(":targetgroup/") { throw ELBv2Error.targetGroupNotFound() }
        if arn.contains(":listener-rule/") { throw ELBv2Error.ruleNotFound() }
        if arn.contains(":listener/") { throw ELBv2Error.listenerNotFound() }
        throw ELBv2Error.loadBalancerNotFound()
    }

    func tags(of arn: String, _ s: ELBv2Store.State, _ account: String) throws -> [Tag] {
        var copy = s
        var out: [Tag] = []
        try withTags(&copy, arn, account) { out = $0 }
        return out
    }

    func addTags(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arns = input.list("ResourceArns")
        let tags = input.tags()
        guard !arns.isEmpty, !tags.isEmpty else { throw ELBv2Error.validation("Resource ARNs and tags must be specified") }
        if Set(tags.map(\.key)).count != tags.count { throw AWSError("DuplicateTagKeys", "Tag key '\(tags.map(\.key).first { k in tags.filter { $0.key == k }.count > 1 }!)' is duplicated") }
        try store.update { s in
            for arn in arns {
                try withTags(&s, arn, caller.account) { existing in
                    for t in tags {
                        if let i = existing.firstIndex(where: { $0.key == t.key }) { existing[i] = t } else { existing.append(t) }
                    }
                    if existing.count > 50 { throw AWSError("TooManyTags", "You've reached the limit on the number of tags for this resource") }
                }
            }
        }
        return nil
    }

    func removeTags(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let arns = input.list("ResourceArns")
        let keys = Set(input.list("TagKeys"))
        try store.update { s in
            for arn in arns { try withTags(&s, arn, caller.account) { $0.removeAll { keys.contains($0.key) } } }
        }
        return nil
    }

    func describeTags(_ input: ELBv2Input, _ caller: Caller) throws -> Answer {
        let s = store.snapshot
        let rows = try input.list("ResourceArns").map { ($0, try tags(of: $0, s, caller.account)) }
        return { xml in
            xml.group("TagDescriptions") { xml in
                for (arn, tags) in rows {
                    xml.group("member") { xml in
                        xml.element("ResourceArn", arn)
                        xml.group("Tags") { xml in
                            for t in tags { xml.group("member") { xml in xml.element("Key", t.key); xml.element("Value", t.value) } }
                        }
                    }
                }
            }
        }
    }
}
