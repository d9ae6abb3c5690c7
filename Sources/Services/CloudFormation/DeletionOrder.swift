/// The order a stack's resources are deleted in. Creation order reversed is not enough: an update can make an older
/// resource depend on a newer one (a stage moved to a new deployment), and AWS deletes by the current template's
/// dependencies, dependents first.
extension StackEngine {
    /// No resource before one that depends on it (`dependencies` names what a resource needs); otherwise newest first.
    /// A cycle (never in a checked template) falls back to newest first.
    static func deletionOrder(_ resources: [String: StackResource], dependencies: (String) -> Set<String>) -> [StackResource] {
        var remaining = resources.values.sorted { $0.sequence > $1.sequence }
        var dependents: [String: Set<String>] = [:]
        for r in remaining {
            for d in dependencies(r.logicalId) where d != r.logicalId && resources[d] != nil {
                dependents[d, default: []].insert(r.logicalId)
            }
        }
        var order: [StackResource] = []
        while !remaining.isEmpty {
            let i = remaining.firstIndex { dependents[$0.logicalId]?.isEmpty ?? true } ?? 0
            let next = remaining.remove(at: i)
            order.append(next)
            for d in dependencies(next.logicalId) { dependents[d]?.remove(next.logicalId) }
        }
        return order
    }

    /// The stack's resources in deletion order, by its current template's dependencies.
    func deletionOrder(_ s: Stack) -> [StackResource] {
        let template = try? Template(body: s.templateBody, parameters: s.parameterValues)
        return Self.deletionOrder(s.resources) { template?.dependencies(of: $0) ?? [] }
    }
}
