/// What CodeDeploy does to an ECS service with the CODE_DEPLOY deployment controller: task set operations
/// (CreateTaskSet, DescribeTaskSets, UpdateTaskSet, DeleteTaskSet, UpdateServicePrimaryTaskSet) and DescribeServices,
/// with the API's JSON in and out, as the service's account and region. Core declares it; ECS implements it; the
/// Emulator wires it.
public protocol ECSDeploymentControl: Sendable {
    func call(_ operation: String, account: String, region: String, input: [String: JSON]) async throws -> [String: JSON]
}
