import Core
import Foundation
import Logging
import Testing
@testable import ECS

/// A load balancer service that records ECS's calls and answers the health a test sets: a registered target takes
/// `onRegister`; a deregistered one stays `draining` until `finishDrains`.
actor FakeTargets: LoadBalancerTargets {
    var groups: [String: TargetGroupSummary] = [:]
    var states: [String: [LoadBalancedTarget: LoadBalancedTargetState]] = [:]
    var calls: [String] = []
    var onRegister: LoadBalancedTargetState = .healthy

    func addGroup(_ name: String, type: String = "ip", withLoadBalancer: Bool = true) -> String {
        let arn = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/\(name)/0123456789abcdef"
        groups[arn] = TargetGroupSummary(arn: arn, targetType: type, port: 80,
                                         loadBalancerARNs: withLoadBalancer ? ["arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/lb/1"] : [])
        return arn
    }

    func setOnRegister(_ s: LoadBalancedTargetState) { onRegister = s }

    func set(_ group: String, _ state: LoadBalancedTargetState) {
        for t in states[group, default: [:]].keys where states[group]?[t] != .draining { states[group]?[t] = state }
    }

    func finishDrains() {
        for g in states.keys { states[g] = states[g]?.filter { $0.value != .draining } }
    }

    func registered(_ group: String) -> [LoadBalancedTarget] {
        states[group, default: [:]].filter { $0.value != .draining }.map(\.key)
    }

    func targetGroup(arn: String) async -> TargetGroupSummary? { groups[arn] }

    func register(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws {
        guard groups[targetGroupARN] != nil else { throw AWSError("TargetGroupNotFound", "One or more target groups not found", status: .badRequest) }
        for t in targets {
            calls.append("register \(targetGroupARN) \(t.id):\(t.port ?? 0)")
            if states[targetGroupARN, default: [:]][t] == nil { states[targetGroupARN, default: [:]][t] = onRegister }
        }
    }

    func deregister(targetGroupARN: String, targets: [LoadBalancedTarget]) async throws {
        for t in targets {
            calls.append("deregister \(targetGroupARN) \(t.id):\(t.port ?? 0)")
            if states[targetGroupARN]?[t] != nil { states[targetGroupARN]?[t] = .draining }
        }
    }

    func health(targetGroupARN: String) async throws -> [LoadBalancedTarget: LoadBalancedTargetState] {
        guard groups[targetGroupARN] != nil else { throw AWSError("TargetGroupNotFound", "One or more target groups not found", status: .badRequest) }
        return states[targetGroupARN] ?? [:]
    }

    func forwardWeights(listenerOrRuleARN: String) async throws -> [ForwardWeight] { [] }
    func setForwardWeights(listenerOrRuleARN: String, _ weights: [ForwardWeight]) async throws {}
}

/// ECS services behind load balancers, driven pass by pass against `FakeTargets`: the checks of `loadBalancers`,
/// registration at RUNNING, target health in deployments, replacement of unhealthy targets, drain before stop, task
/// sets in their own target groups, and CodeDeploy's `ECSDeploymentControl`.
@Suite(.serialized) struct LoadBalancerTests {
    let directory: String
    let clock = EmulatorClock()
    let ecs: ECSService
    let lb = FakeTargets()
    static let account = "000000000000"
    static let region = "us-east-1"
    static let cluster = "arn:aws:ecs:us-east-1:000000000000:cluster/lb"
    static let subnets: JSON = .object(["awsvpcConfiguration": .object(["subnets": .array([.string("subnet-12345678")])])])

    init() throws {
        directory = NSTemporaryDirectory() + "ecs-lb-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ecs = try ECSService(directory: directory, clock: clock, endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                             supervisor: ProcessSupervisor(), objects: nil, images: nil, roleCredentials: TaskRoleCredentials(),
                             logger: Logger(label: "ecs-lb-test"))
        ecs.connect(loadBalancers: lb)
    }

    @discardableResult
    func call(_ op: String, _ body: [String: JSON]) async throws -> [String: JSON] {
        let r = InternalCall.request(account: Self.account, region: Self.region,
                                     target: "AmazonEC2ContainerServiceV20141113.\(op)", body: .object(body))
        return try await InternalCall.json(try await ecs.handle(r))
    }

    /// The message of the InvalidParameterException `op` answers.
    func refusal(_ op: String, _ body: [String: JSON]) async -> String? {
        do {
            try await call(op, body)
            return nil
        } catch let e as AWSError {
            return e.code == "InvalidParameterException" ? e.message : "\(e.code): \(e.message)"
        } catch {
            return "\(error)"
        }
    }

    /// An awsvpc task definition `family` whose container `web` maps port 8080; simulated unless `script` is given.
    func register(_ family: String, script: String? = nil, image: String = "web:1") async throws {
        var container: [String: JSON] = [
            "name": .string("web"), "image": .string(image),
            "portMappings": .array([.object(["containerPort": .number(8080)])]),
        ]
        if let script {
            container["dockerLabels"] = .object(["cloudless.run": .string("process")])
            container["entryPoint"] = .array([.string("/bin/sh"), .string("-c"), .string(script)])
        }
        try await call("RegisterTaskDefinition", [
            "family": .string(family), "networkMode": .string("awsvpc"), "requiresCompatibilities": .array([.string("FARGATE")]),
            "cpu": .string("256"), "memory": .string("512"), "containerDefinitions": .array([.object(container)]),
        ])
    }

    func createService(_ name: String, family: String, group: String, desired: Int, grace: Int = 0,
                       extra: [String: JSON] = [:]) async throws {
        var body: [String: JSON] = [
            "cluster": .string("lb"), "serviceName": .string(name), "taskDefinition": .string(family),
            "desiredCount": .number(Double(desired)), "launchType": .string("FARGATE"), "networkConfiguration": Self.subnets,
            "healthCheckGracePeriodSeconds": .number(Double(grace)),
            "loadBalancers": .array([.object(["targetGroupArn": .string(group), "containerName": .string("web"), "containerPort": .number(8080)])]),
        ]
        body.merge(extra) { $1 }
        try await call("CreateService", body)
    }

    func serviceRecord(_ name: String) async throws -> ECSServiceRecord {
        try #require(await ecs.scheduler.service("arn:aws:ecs:us-east-1:000000000000:service/lb/\(name)")?.service)
    }

    func tasks() async -> [TaskEntry] { await ecs.scheduler.taskEntries(cluster: Self.cluster) }
    func live() async -> [TaskEntry] { await tasks().filter { !$0.task.isStopped } }

    /// Passes until `done` holds (ELB calls and process events report back asynchronously), for at most `seconds`.
    func pass(until done: () async throws -> Bool, seconds: Double = 20) async throws {
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            await ecs.scheduler.pass()
            if try await done() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition not met within \(seconds) s")
    }

    /// Passes for `seconds` of real time (several health polls), for conditions that must not change.
    func idle(_ seconds: Double) async throws {
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            await ecs.scheduler.pass()
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func address(_ t: ECSTask) -> String? {
        t.attachments.first?.details.first { $0.name == "privateIPv4Address" }?.value
    }

    func setUpCluster() async throws {
        try await call("CreateCluster", ["clusterName": .string("lb")])
    }

    // MARK: Validation

    @Test func loadBalancersAreCheckedWithAWSsTexts() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUpCluster()
        try await register("web")
        let good = await lb.addGroup("good")
        let lonely = await lb.addGroup("lonely", withLoadBalancer: false)
        let instance = await lb.addGroup("instance", type: "instance")
        let missing = "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/missing/0123456789abcdef"
        func create(_ lbs: [String: JSON]) async -> String? {
            await refusal("CreateService", [
                "cluster": .string("lb"), "serviceName": .string("svc"), "taskDefinition": .string("web"), "desiredCount": .number(1),
                "launchType": .string("FARGATE"), "networkConfiguration": Self.subnets, "loadBalancers": .array([.object(lbs)]),
            ])
        }
        #expect(await create(["targetGroupArn": .string(missing), "containerName": .string("web"), "containerPort": .number(8080)])
                == "The target group with targetGroupArn \(missing) does not exist.")
        #expect(await create(["targetGroupArn": .string(lonely), "containerName": .string("web"), "containerPort": .number(8080)])
                == "The target group with targetGroupArn \(lonely) does not have an associated load balancer.")
        #expect(await create(["targetGroupArn": .string(good), "containerName": .string("db"), "containerPort": .number(8080)])
                == "The container db does not exist in the task definition.")
        #expect(await create(["targetGroupArn": .string(good), "containerName": .string("web"), "containerPort": .number(9090)])
                == "The container web did not have a container port 9090 defined.")
        #expect(await create(["targetGroupArn": .string(instance), "containerName": .string("web"), "containerPort": .number(8080)])
                == "The provided target group \(instance) has target type instance, which is incompatible with the awsvpc network mode specified in the task definition.")
        #expect(await create(["targetGroupArn": .string(good), "containerPort": .number(8080)]) == "Container Name can not be blank.")
        #expect(await create(["targetGroupArn": .string(good), "loadBalancerName": .string("classic"), "containerName": .string("web"),
                              "containerPort": .number(8080)])?.hasPrefix("loadBalancerName and targetGroupArn cannot both be specified.") == true)
        // Nothing was created by the refused calls; a valid one is.
        #expect(await ecs.scheduler.service("arn:aws:ecs:us-east-1:000000000000:service/lb/svc") == nil)
        #expect(await create(["targetGroupArn": .string(good), "containerName": .string("web"), "containerPort": .number(8080)]) == nil)
        // UpdateService checks them too.
        #expect(await refusal("UpdateService", [
            "cluster": .string("lb"), "service": .string("svc"),
            "loadBalancers": .array([.object(["targetGroupArn": .string(lonely), "containerName": .string("web"), "containerPort": .number(8080)])]),
        ]) == "The target group with targetGroupArn \(lonely) does not have an associated load balancer.")
        #expect(try await serviceRecord("svc").loadBalancers.array?.first?["targetGroupArn"]?.string == good)
    }

    // MARK: Registration and health

    /// Each task is registered at RUNNING with its own address and the container port; the deployment completes
    /// only once the load balancer says healthy.
    @Test func awsvpcTasksRegisterAtRunningAndDeploymentsWaitForHealthyTargets() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUpCluster()
        try await register("web")
        let group = await lb.addGroup("blue")
        await lb.setOnRegister(.initial)
        try await createService("api", family: "web", group: group, desired: 2)
        try await pass { await lb.registered(group).count == 2 }
        let running = await live()
        #expect(running.count == 2 && running.allSatisfy { $0.task.lastStatus == "RUNNING" })
        let expected = Set(running.compactMap { address($0.task) }.map { LoadBalancedTarget(id: $0, port: 8080) })
        #expect(expected.count == 2 && expected.allSatisfy { $0.id.hasPrefix("127.10.") })
        #expect(Set(await lb.registered(group)) == expected)
        try await pass { try await serviceRecord("api").events.filter { $0.message.contains("registered 1 targets") }.count == 2 }
        #expect(try await serviceRecord("api").events.first?.message == "(service api) registered 1 targets in (target-group \(group))")
        // initial targets: RUNNING, but not healthy, so the deployment is still in progress.
        try await idle(1.2)
        #expect(try await serviceRecord("api").deployments.first?.rolloutState == "IN_PROGRESS")
        await lb.set(group, .healthy)
        try await pass { try await serviceRecord("api").deployments.first?.rolloutState == "COMPLETED" }

        // A new task definition: the new tasks must be healthy in the target group before the old ones go.
        try await register("web", image: "web:2")
        try await call("UpdateService", ["cluster": .string("lb"), "service": .string("api"), "taskDefinition": .string("web:2")])
        try await pass {
            let n = await live().count
            let registered = await lb.registered(group)
            return n == 4 && registered.count == 4
        }
        try await idle(1.2)
        #expect(await live().filter { $0.task.desiredStatus == "STOPPED" }.isEmpty)
        await lb.set(group, .healthy)
        // The old tasks drain: deregistered, DEACTIVATING, not STOPPED while the load balancer still lists them.
        try await pass { await live().filter { $0.task.lastStatus == "DEACTIVATING" }.count == 2 }
        try await idle(1.2)
        #expect(await live().filter { $0.task.lastStatus == "DEACTIVATING" }.count == 2)
        #expect(await lb.calls.filter { $0.hasPrefix("deregister") }.count == 2)
        await lb.finishDrains()
        try await pass { await live().count == 2 }
        try await pass {
            let d = try await serviceRecord("api").deployments
            return d.count == 1 && d[0].rolloutState == "COMPLETED"
        }
        let messages = try await serviceRecord("api").events.map(\.message)
        #expect(messages.contains("(service api) has begun draining connections on 1 tasks."))
        #expect(messages.contains("(service api) deregistered 1 targets in (target-group \(group))"))
        await ecs.shutdown()
    }

    /// New `loadBalancers` on UpdateService make a new deployment: its tasks register in the new target group, the
    /// old tasks drain from the old one.
    @Test func changingLoadBalancersRedeploysIntoTheNewTargetGroup() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUpCluster()
        try await register("web")
        let blue = await lb.addGroup("blue")
        let green = await lb.addGroup("green")
        try await createService("api", family: "web", group: blue, desired: 1)
        try await pass { try await serviceRecord("api").deployments.first?.rolloutState == "COMPLETED" }
        try await call("UpdateService", [
            "cluster": .string("lb"), "service": .string("api"),
            "loadBalancers": .array([.object(["targetGroupArn": .string(green), "containerName": .string("web"), "containerPort": .number(8080)])]),
        ])
        #expect(try await serviceRecord("api").deployments.count == 2)
        try await pass {
            let calls = await lb.calls
            return calls.contains { $0.hasPrefix("deregister \(blue)") }
        }
        #expect(await lb.registered(green).count == 1)
        await lb.finishDrains()
        try await pass {
            let d = try await serviceRecord("api").deployments
            return d.count == 1 && d[0].rolloutState == "COMPLETED"
        }
        #expect(await lb.registered(blue).isEmpty)
        #expect(await live().count == 1)
        await ecs.shutdown()
    }

    /// Host and bridge networking: the host's address and the container's host port.
    @Test func bridgeTasksRegisterTheHostPort() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUpCluster()
        try await call("RegisterContainerInstance", ["cluster": .string("lb")])
        try await call("RegisterTaskDefinition", [
            "family": .string("bridged"), "networkMode": .string("bridge"), "memory": .string("256"),
            "containerDefinitions": .array([.object([
                "name": .string("web"), "image": .string("web:1"),
                "portMappings": .array([.object(["containerPort": .number(80), "hostPort": .number(8081)])]),
            ])]),
        ])
        let group = await lb.addGroup("hosts", type: "instance")
        try await call("CreateService", [
            "cluster": .string("lb"), "serviceName": .string("b"), "taskDefinition": .string("bridged"), "desiredCount": .number(1),
            "launchType": .string("EC2"),
            "loadBalancers": .array([.object(["targetGroupArn": .string(group), "containerName": .string("web"), "containerPort": .number(80)])]),
        ])
        try await pass { !(await lb.registered(group)).isEmpty }
        #expect(await lb.registered(group) == [LoadBalancedTarget(id: "127.0.0.1", port: 8081)])
        await ecs.shutdown()
    }

    /// After the grace period, a target the load balancer finds unhealthy gets its task stopped with AWS's reason (a
    /// failed launch) and replaced; within it, nothing happens.
    @Test func anUnhealthyTargetAfterTheGracePeriodReplacesTheTask() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUpCluster()
        try await register("web")
        let group = await lb.addGroup("blue")
        await lb.setOnRegister(.unhealthy)
        try await createService("api", family: "web", group: group, desired: 1, grace: 120)
        try await pass { await lb.registered(group).count == 1 }
        let first = try #require(await live().first?.task.taskArn)
        try await idle(1.2)
        #expect(await live().first?.task.desiredStatus == "RUNNING")
        clock.advance(by: 121)
        try await pass { await ecs.scheduler.tasks[first]?.task.desiredStatus == "STOPPED" }
        let stopped = try #require(await ecs.scheduler.tasks[first]?.task)
        #expect(stopped.stoppedReason == "Task failed ELB health checks in (target-group \(group))")
        #expect(stopped.stopCode == "ServiceSchedulerInitiated")
        try await pass { await ecs.scheduler.tasks[first]?.task.lastStatus == "DEACTIVATING" }
        await lb.finishDrains()
        try await pass { await ecs.scheduler.tasks[first]?.task.isStopped == true }
        try await pass { try await serviceRecord("api").deployments.first?.failedTasks == 1 }
        try await pass { await live().contains { $0.task.taskArn != first } }
        let messages = try await serviceRecord("api").events.map(\.message)
        #expect(messages.contains { $0.hasPrefix("(service api) (task \(stopped.id)) (port 8080) is unhealthy in (target-group \(group))") })
        await ecs.shutdown()
    }

    /// StopTask on a task with a process: it is deregistered and stays DEACTIVATING, its process untouched, until
    /// the load balancer no longer lists it; then SIGTERM and STOPPED.
    @Test func aTaskDrainsBeforeItsProcessIsSignalled() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUpCluster()
        let termed = directory + "/termed"
        try await register("proc", script: "trap 'touch \(termed); exit 0' TERM; while true; do sleep 0.05; done")
        let group = await lb.addGroup("blue")
        try await createService("p", family: "proc", group: group, desired: 1)
        try await pass { await lb.registered(group).count == 1 }
        let task = try #require(await live().first?.task)
        #expect(await lb.registered(group) == [LoadBalancedTarget(id: address(task) ?? "-", port: 8080)])
        try await call("UpdateService", ["cluster": .string("lb"), "service": .string("p"), "desiredCount": .number(0)])
        try await pass { await ecs.scheduler.tasks[task.taskArn]?.task.lastStatus == "DEACTIVATING" }
        try await idle(1.2)
        #expect(await ecs.scheduler.tasks[task.taskArn]?.task.lastStatus == "DEACTIVATING")
        #expect(await ecs.scheduler.tasks[task.taskArn]?.task.desiredStatus == "STOPPED")
        #expect(!FileManager.default.fileExists(atPath: termed))
        #expect(await lb.calls.last == "deregister \(group) \(address(task) ?? "-"):8080")
        await lb.finishDrains()
        try await pass { await ecs.scheduler.tasks[task.taskArn]?.task.isStopped == true }
        #expect(FileManager.default.fileExists(atPath: termed))
        await ecs.shutdown()
    }

    // MARK: Task sets and CodeDeploy

    /// A CODE_DEPLOY service's replacement task set registers its tasks in its own (green) target group; deleting it
    /// drains them from there. DescribeServices and the task set calls go through `ECSDeploymentControl`.
    @Test func taskSetsRegisterInTheirOwnTargetGroups() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUpCluster()
        try await register("web")
        let blue = await lb.addGroup("blue")
        let green = await lb.addGroup("green")
        try await createService("cd", family: "web", group: blue, desired: 1,
                                extra: ["deploymentController": .object(["type": .string("CODE_DEPLOY")])])
        let control: any ECSDeploymentControl = ecs
        let created = try await control.call("CreateTaskSet", account: Self.account, region: Self.region, input: [
            "cluster": .string("lb"), "service": .string("cd"), "taskDefinition": .string("web"), "launchType": .string("FARGATE"),
            "networkConfiguration": Self.subnets, "externalId": .string("d-TEST"),
            "loadBalancers": .array([.object(["targetGroupArn": .string(green), "containerName": .string("web"), "containerPort": .number(8080)])]),
        ])
        let setArn = try #require(created["taskSet"]?["taskSetArn"]?.string)
        try await pass {
            let (b, g) = (await lb.registered(blue), await lb.registered(green))
            return b.count == 1 && g.count == 1
        }
        let byGroup = await live().map { ($0.meta.deploymentId ?? "", $0.meta.targets?.first?.targetGroupArn ?? "") }
        #expect(Set(byGroup.map(\.1)) == [blue, green])
        #expect(byGroup.first { $0.1 == green }?.0 == TaskSetMath.id(fromIdentifier: setArn))

        let described = try await control.call("DescribeServices", account: Self.account, region: Self.region, input: [
            "cluster": .string("lb"), "services": .array([.string("cd")]),
        ])
        let service = try #require(described["services"]?.array?.first)
        #expect(service["serviceName"]?.string == "cd")
        #expect(service["taskSets"]?.array?.count == 2)
        #expect(service["loadBalancers"]?.array?.first?["targetGroupArn"]?.string == blue)

        _ = try await control.call("DeleteTaskSet", account: Self.account, region: Self.region, input: [
            "cluster": .string("lb"), "service": .string("cd"), "taskSet": .string(setArn), "force": .bool(true),
        ])
        try await pass {
            let calls = await lb.calls
            return calls.contains { $0.hasPrefix("deregister \(green)") }
        }
        #expect(await live().count == 2)
        #expect(await lb.registered(green).isEmpty)
        await lb.finishDrains()
        try await pass { await live().count == 1 }
        #expect(await lb.registered(blue).count == 1)
        #expect(await lb.registered(green).isEmpty)
        await ecs.shutdown()
    }

    /// A restart: a simulated task that kept running is registered again; a task that was DEACTIVATING stops and
    /// leaves its target group.
    @Test func aRestartRegistersSurvivorsAgainAndStopsDrainingTasks() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUpCluster()
        try await register("web")
        let group = await lb.addGroup("blue")
        try await createService("api", family: "web", group: group, desired: 2)
        try await pass { await lb.registered(group).count == 2 }
        let arns = await live().map(\.task.taskArn)
        try await call("StopTask", ["cluster": .string("lb"), "task": .string(arns[0])])
        try await pass { await ecs.scheduler.tasks[arns[0]]?.task.lastStatus == "DEACTIVATING" }
        await ecs.shutdown()

        let fresh = FakeTargets()
        _ = await fresh.addGroup("blue")
        let again = try ECSService(directory: directory, clock: clock, endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                                   supervisor: ProcessSupervisor(), objects: nil, images: nil, roleCredentials: TaskRoleCredentials(),
                                   logger: Logger(label: "ecs-lb-test"))
        again.connect(loadBalancers: fresh)
        try await again.load()
        #expect(await again.scheduler.tasks[arns[0]]?.task.isStopped == true)
        let survivor = try #require(await again.scheduler.tasks[arns[1]]?.task)
        await again.startScheduler()
        let kept = LoadBalancedTarget(id: address(survivor) ?? "-", port: 8080)
        let end = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < end {
            let registered = await fresh.registered(group)
            let calls = await fresh.calls
            if registered.contains(kept) && calls.contains(where: { $0.hasPrefix("deregister") }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await fresh.registered(group).contains(kept))
        #expect(await fresh.calls.contains { $0.hasPrefix("deregister \(group)") })
        await again.shutdown()
    }
}
