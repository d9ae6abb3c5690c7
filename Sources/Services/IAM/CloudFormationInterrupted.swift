import Core

extension IAMResources {
    /// A role's create is several calls (the role, its managed policies, its inline policies): after a crash in
    /// between, find the role by the name the create used (given, or generated from the request).
    public func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? {
        guard request.type == "AWS::IAM::Role" else { return nil }
        let name = request.properties["RoleName"]?.string ?? request.generatedName(limit: 64)
        let exists = try service.store.db.readNow { db in try Role.fetch(db, account: request.account, name: name) != nil }
        return exists ? try roleState(request, name, policyNames: []) : nil
    }
}
