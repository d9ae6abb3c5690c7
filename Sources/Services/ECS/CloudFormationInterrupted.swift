import Core

extension ECSResources {
    /// A service's create waits until it is stable, so a crash often falls in that wait, with the service made but
    /// not yet the stack's: find it by the name the create used (given, or generated from the request).
    public func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? {
        guard request.type == "AWS::ECS::Service" else { return nil }
        let p = request.properties
        let name = p["ServiceName"]?.string ?? request.generatedName(limit: 255)
        var body: [String: JSON] = ["services": .array([.string(name)])]
        if let c = p["Cluster"] { body["cluster"] = c }
        let out = try await call(request, "DescribeServices", body)
        guard let s = out["services"]?.array?.first, s["status"]?.string == "ACTIVE",
              let arn = s["serviceArn"]?.string, let cluster = s["clusterArn"]?.string else { return nil }
        return ResourceState(physicalId: arn, ref: arn, attributes: [
            "ServiceArn": .string(arn), "Name": .string(name), "Cluster": .string(cluster),
        ])
    }
}
