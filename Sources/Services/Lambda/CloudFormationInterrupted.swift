import Core

extension LambdaResources {
    /// A function's create is more than one call (the function, then its reserved concurrency): after a crash in
    /// between, find it by the name the create used (given, or generated from the request).
    public func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? {
        guard request.type == "AWS::Lambda::Function" else { return nil }
        let name = request.properties["FunctionName"]?.string ?? request.generatedName(limit: 64)
        do {
            return try await functionState(request, name)
        } catch let e as AWSError where e.code == "ResourceNotFoundException" {
            return nil
        }
    }
}
