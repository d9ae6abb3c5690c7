import Core
import Foundation
import HTTPTypes
import Logging

/// Amazon ECS over AWS JSON 1.1 (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`): the control plane in
/// `ecs.sqlite`, the scheduler (`Scheduler`) that runs tasks as local processes or simulates them, and the
/// endpoints tasks call (`/_cloudless/ecs/metadata/…`, `/_cloudless/ecs/credentials/…`).
public struct ECSService: AWSService {
    public let signingName = "ecs"
    public let wireProtocol = WireProtocol.json11
    let store: ECSStore
    let scheduler: Scheduler
    let runtime: TaskRuntime
    let secretLink: SecretResolverLink
    let roleCredentials: TaskRoleCredentials
    let clock: EmulatorClock
    let logger: Logger

    /// After the port is bound, with the other work a restart resumes: when ECS ran anything here before (its
    /// database or its task folder exists), the scan for containers an earlier run left starts now, on a background
    /// thread (`LeftoverScan`); the load waits for it.
    public func startLeftoverScan() {
        if store.database.hasContent || FileManager.default.fileExists(atPath: runtime.directory) {
            LeftoverScan.start(inside: runtime.directory)
        }
    }

    static func taskFolder(_ directory: String) -> String { directory + "/ecs/tasks" }

    /// `images`: the `--ecs-images` file (what an image runs as a local process), or nil.
    /// `roleCredentials`: where the keys handed to tasks' roles are kept, which the gateway also consults.
    public init(directory: String, clock: EmulatorClock, endpoint: ServerEndpoint, logs: any LogSink, supervisor: ProcessSupervisor,
                objects: (any ObjectSource)?, images: String?, roleCredentials: TaskRoleCredentials, logger: Logger) throws {
        store = try ECSStore(directory: directory)
        let map = try images.map { try ImageMap(file: $0) } ?? ImageMap()
        secretLink = SecretResolverLink()
        runtime = TaskRuntime(supervisor: supervisor, logs: logs, secrets: secretLink, objects: objects, endpoint: endpoint,
                              images: map, directory: Self.taskFolder(directory), clock: clock, roleCredentials: roleCredentials,
                              logger: logger)
        scheduler = Scheduler(store: store, clock: clock, runtime: runtime, logger: logger)
        self.roleCredentials = roleCredentials
        self.clock = clock
        self.logger = logger
    }

    /// Secrets Manager, for task definitions' `secrets` (it is built after ECS).
    public func connect(secrets: any SecretResolver) { secretLink.connect(secrets) }

    /// Load the state (tasks whose processes died with an earlier emulator are recorded STOPPED).
    /// Load what an earlier run left (once; nothing to do when `ecs.sqlite` has nothing). Every way in (requests,
    /// CloudFormation, scaling, CodeDeploy, task endpoints) waits for it, so none sees a half-loaded scheduler.
    public func load() async throws { try await scheduler.ensureLoaded() }

    /// Start the scheduler's loop: services converge again after a restart.
    public func startScheduler() async { await scheduler.startLoop() }

    public func shutdown() async { await scheduler.shutdown() }

    public func reset() async throws {
        await scheduler.reset()
        try store.reset()
    }

    public func operationName(for request: AWSRequest) -> String { JSONProtocol.operation(request) ?? "-" }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let op = JSONProtocol.operation(request) else {
            throw AWSError("UnknownOperationException", "Amazon ECS is served over AWS JSON 1.1 (X-Amz-Target).")
        }
        try await load()
        let body = try await request.collectBody(limit: 4 << 20)
        let input = try Input(Data(body.readableBytesView))
        let r = request
        let output: [String: JSON]
        switch op {
        case "CreateCluster": output = try await createCluster(r, input)
        case "DescribeClusters": output = try await describeClusters(r, input)
        case "ListClusters": output = try listClusters(r, input)
        case "UpdateCluster": output = try await updateCluster(r, input)
        case "UpdateClusterSettings": output = try await updateClusterSettings(r, input)
        case "PutClusterCapacityProviders": output = try await putClusterCapacityProviders(r, input)
        case "DeleteCluster": output = try await deleteCluster(r, input)
        case "RegisterTaskDefinition": output = try registerTaskDefinition(r, input)
        case "DescribeTaskDefinition": output = try describeTaskDefinition(r, input)
        case "ListTaskDefinitions": output = try listTaskDefinitions(r, input)
        case "ListTaskDefinitionFamilies": output = try listTaskDefinitionFamilies(r, input)
        case "DeregisterTaskDefinition": output = try deregisterTaskDefinition(r, input)
        case "DeleteTaskDefinitions": output = try deleteTaskDefinitions(r, input)
        case "RunTask": output = try await runTask(r, input)
        case "StartTask": output = try await startTask(r, input)
        case "StopTask": output = try await stopTask(r, input)
        case "DescribeTasks": output = try await describeTasks(r, input)
        case "ListTasks": output = try await listTasks(r, input)
        case "CreateService": output = try await createService(r, input)
        case "UpdateService": output = try await updateService(r, input)
        case "DescribeServices": output = try await describeServices(r, input)
        case "ListServices": output = try await listServices(r, input)
        case "ListServicesByNamespace": output = try await listServicesByNamespace(r, input)
        case "DeleteService": output = try await deleteService(r, input)
        case "ListServiceDeployments": output = try await listServiceDeployments(r, input)
        case "DescribeServiceDeployments": output = try await describeServiceDeployments(r, input)
        case "StopServiceDeployment": output = try await stopServiceDeployment(r, input)
        case "DescribeServiceRevisions": output = try await describeServiceRevisions(r, input)
        case "CreateTaskSet": output = try await createTaskSet(r, input)
        case "DescribeTaskSets": output = try await describeTaskSets(r, input)
        case "UpdateTaskSet": output = try await updateTaskSet(r, input)
        case "DeleteTaskSet": output = try await deleteTaskSet(r, input)
        case "UpdateServicePrimaryTaskSet": output = try await updateServicePrimaryTaskSet(r, input)
        case "TagResource": output = try await tagResource(r, input)
        case "UntagResource": output = try await untagResource(r, input)
        case "ListTagsForResource": output = try await listTagsForResource(r, input)
        case "PutAccountSetting": output = try putAccountSetting(r, input, principal: true)
        case "PutAccountSettingDefault": output = try putAccountSetting(r, input, principal: false)
        case "ListAccountSettings": output = try listAccountSettings(r, input)
        case "DeleteAccountSetting": output = try deleteAccountSetting(r, input)
        case "CreateCapacityProvider": output = try createCapacityProvider(r, input)
        case "DescribeCapacityProviders": output = try describeCapacityProviders(r, input)
        case "UpdateCapacityProvider": output = try updateCapacityProvider(r, input)
        case "DeleteCapacityProvider": output = try deleteCapacityProvider(r, input)
        case "RegisterContainerInstance": output = try await registerContainerInstance(r, input)
        case "DescribeContainerInstances": output = try await describeContainerInstances(r, input)
        case "ListContainerInstances": output = try await listContainerInstances(r, input)
        case "DeregisterContainerInstance": output = try await deregisterContainerInstance(r, input)
        case "UpdateContainerInstancesState": output = try await updateContainerInstancesState(r, input)
        case "PutAttributes": output = try await putAttributes(r, input)
        case "DeleteAttributes": output = try await deleteAttributes(r, input)
        case "ListAttributes": output = try await listAttributes(r, input)
        default:
            throw AWSError("UnknownOperationException", "The operation \(op) is not supported by Cloudless's Amazon ECS.")
        }
        var response = AWSResponse(bytes: .init(bytes: try ECSStore.encoder.encode(JSON.object(output))))
        response.headers[.contentType] = "application/x-amz-json-1.1"
        return response
    }
}
