import Core
import Foundation
import Logging
import Testing
@testable import ECS

/// A task's start, driven pass by pass (the scheduler's loop is not started): the orders in which a process's exit,
/// a move of the emulator's clock and the scheduler's passes can arrive.
@Suite(.serialized) struct TaskStartTests {
    let directory: String
    let clock = EmulatorClock()
    let ecs: ECSService
    static let account = "000000000000"
    static let region = "us-east-1"
    static let cluster = "arn:aws:ecs:us-east-1:000000000000:cluster/start"

    init() throws {
        directory = NSTemporaryDirectory() + "ecs-start-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ecs = try ECSService(directory: directory, clock: clock, endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                             supervisor: ProcessSupervisor(), objects: nil, images: nil, roleCredentials: TaskRoleCredentials(),
                             logger: Logger(label: "ecs-start-test"))
    }

    @discardableResult
    func call(_ op: String, _ body: [String: JSON]) async throws -> [String: JSON] {
        let r = InternalCall.request(account: Self.account, region: Self.region,
                                     target: "AmazonEC2ContainerServiceV20141113.\(op)", body: .object(body))
        return try await InternalCall.json(try await ecs.handle(r))
    }

    /// A Fargate service of one task whose container runs `script` as a local process, with the circuit breaker on.
    func createService(_ name: String, script: String) async throws {
        try await call("CreateCluster", ["clusterName": .string("start")])
        try await call("RegisterTaskDefinition", [
            "family": .string(name), "networkMode": .string("awsvpc"), "requiresCompatibilities": .array([.string("FARGATE")]),
            "cpu": .string("256"), "memory": .string("512"),
            "containerDefinitions": .array([.object([
                "name": .string("app"), "image": .string("local"), "essential": .bool(true),
                "dockerLabels": .object(["cloudless.run": .string("process")]),
                "entryPoint": .array([.string("/bin/sh"), .string("-c"), .string(script)]),
            ])]),
        ])
        try await call("CreateService", [
            "cluster": .string("start"), "serviceName": .string(name), "taskDefinition": .string(name), "desiredCount": .number(1),
            "launchType": .string("FARGATE"),
            "networkConfiguration": .object(["awsvpcConfiguration": .object(["subnets": .array([.string("subnet-12345678")])])]),
            "deploymentConfiguration": .object(["deploymentCircuitBreaker": .object(["enable": .bool(true), "rollback": .bool(false)])]),
        ])
    }

    func deployment(_ name: String) async throws -> Deployment {
        try #require(await ecs.scheduler.service("arn:aws:ecs:us-east-1:000000000000:service/start/\(name)")?.service.deployments.first)
    }

    func liveTask() async -> ECSTask? {
        await ecs.scheduler.taskEntries(cluster: Self.cluster).first { !$0.task.isStopped }?.task
    }

    /// Passes until `done` holds (preparation and exits report back asynchronously), for at most `seconds`.
    func pass(until done: () async throws -> Bool, seconds: Double = 20) async throws {
        let end = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < end {
            await ecs.scheduler.pass()
            if try await done() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("condition not met within \(seconds) s")
    }

    /// A container that crashes just after it started counts as a failed launch even if the emulator's clock moved
    /// (tests move it by minutes) while its exit was on its way: a clock move does not make a process live longer.
    /// Before the fix, the pass after the move counted the task healthy, the deployment COMPLETED and the circuit
    /// breaker could never trip.
    @Test func aClockMoveWhileACrashingTaskRunsDoesNotMakeItHealthy() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gate = directory + "/crash-now"
        // Runs until the test lets it crash: the clock move lands deterministically while it is RUNNING.
        try await createService("crashy", script: "while [ ! -e \(gate) ]; do sleep 0.01; done; exit 7")
        try await pass { await liveTask()?.lastStatus == "RUNNING" }
        clock.advance(by: 60)
        await ecs.scheduler.pass()
        #expect(try await deployment("crashy").rolloutState == "IN_PROGRESS")
        FileManager.default.createFile(atPath: gate, contents: nil)
        // Every launch now crashes at once; the clock skips the service's back-off between them.
        try await pass(until: {
            clock.advance(by: 60)
            return try await deployment("crashy").rolloutState != "IN_PROGRESS"
        })
        let d = try await deployment("crashy")
        #expect(d.rolloutState == "FAILED")
        #expect(d.rolloutStateReason == "ECS deployment circuit breaker: tasks failed to start.")
        #expect(d.failedTasks >= 3)
        await ecs.shutdown()
    }

    /// A process that keeps running counts as healthy after the settling second of real time, and the deployment
    /// completes without any clock move.
    @Test func aProcessThatKeepsRunningSettlesInRealTime() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await createService("steady", script: "exec sleep 60")
        try await pass { await liveTask()?.lastStatus == "RUNNING" }
        let arn = try #require(await liveTask()?.taskArn)
        let since = try #require(await ecs.scheduler.tasks[arn]?.run?.runningSince)
        try await pass { try await deployment("steady").rolloutState == "COMPLETED" }
        #expect(ContinuousClock.now - since >= .seconds(Scheduler.settleSeconds))
        #expect(try await deployment("steady").failedTasks == 0)
        await ecs.shutdown()
    }

    /// A container an earlier run started in the instant before its lifeline knew of it (a kill -9 between
    /// posix_spawn and the hold) is killed when ECS loads on the same data folder: it belongs to no live task.
    @Test func aContainerAnEarlierRunLeftBehindIsKilledAtLoad() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: "/bin/sleep")
        orphan.arguments = ["30"]
        // Its task folder exists, as TaskRuntime makes it before the spawn (a start looks for leftovers only where
        // ECS ran something: its database or its task folder).
        try FileManager.default.createDirectory(atPath: directory + "/ecs/tasks/0123456789abcdef", withIntermediateDirectories: true)
        orphan.environment = ["HOME": directory + "/ecs/tasks/0123456789abcdef", "PATH": "/usr/bin:/bin"]
        let bystander = Process()
        bystander.executableURL = URL(fileURLWithPath: "/bin/sleep")
        bystander.arguments = ["30"]
        bystander.environment = ["HOME": directory + "-other/ecs/tasks/0123456789abcdef", "PATH": "/usr/bin:/bin"]
        try orphan.run()
        try bystander.run()
        defer { bystander.terminate() }
        try await Task.sleep(for: .milliseconds(100))
        try await ecs.load()
        for _ in 0..<100 where orphan.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!orphan.isRunning)
        #expect(orphan.terminationStatus == SIGKILL)
        #expect(bystander.isRunning)
    }
}
