import Core
import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import Testing
@testable import ECS

/// The task set operations AWS CodeDeploy will call from Swift (`ECSService.codeDeployTaskSetCall`): a blue/green
/// replacement on a CODE_DEPLOY service, and the controller rules. The scheduler's loop is not started here (the
/// e2e tests run it); these check the control plane's records.
@Suite struct TaskSetCodeDeployTests {
    let directory: String
    let ecs: ECSService
    static let account = "000000000000"
    static let region = "us-east-1"

    init() throws {
        directory = NSTemporaryDirectory() + "ecs-ts-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        ecs = try ECSService(directory: directory, clock: EmulatorClock(), endpoint: ServerEndpoint(), logs: DiscardingLogSink(),
                             supervisor: ProcessSupervisor(), objects: nil, images: nil, roleCredentials: TaskRoleCredentials(),
                             logger: Logger(label: "ecs-test"))
    }

    /// One API call through `handle`, as the gateway makes it.
    func call(_ op: String, _ body: [String: JSON]) async throws {
        let data = try JSONEncoder().encode(JSON.object(body))
        var headers = HTTPFields()
        headers[HTTPField.Name("x-amz-target")!] = "AmazonEC2ContainerServiceV20141113.\(op)"
        headers[.contentType] = "application/x-amz-json-1.1"
        let stream = AsyncStream<ByteBuffer> { c in
            c.yield(ByteBuffer(bytes: data))
            c.finish()
        }
        let request = AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: headers, host: "127.0.0.1:4566",
                                 body: RequestBody(asyncSequence: stream),
                                 caller: CallerIdentity(accountID: Self.account, region: Self.region, accessKeyID: nil), requestID: "req")
        _ = try await ecs.handle(request)
    }

    func codeDeploy(_ op: String, _ body: [String: JSON]) async throws -> [String: JSON] {
        try await ecs.codeDeployTaskSetCall(op, account: Self.account, region: Self.region, input: body)
    }

    func service(_ name: String) async -> ECSServiceRecord? {
        await ecs.scheduler.service("arn:aws:ecs:\(Self.region):\(Self.account):service/cd/\(name)")?.service
    }

    func setUp(controller: String, name: String) async throws {
        try await call("CreateCluster", ["clusterName": .string("cd")])
        for v in ["1", "2"] {
            try await call("RegisterTaskDefinition", [
                "family": .string("web"), "networkMode": .string("awsvpc"), "requiresCompatibilities": .array([.string("FARGATE")]),
                "cpu": .string("256"), "memory": .string("512"),
                "containerDefinitions": .array([.object(["name": .string("app"), "image": .string("img:\(v)")])]),
            ])
        }
        try await call("CreateService", [
            "cluster": .string("cd"), "serviceName": .string(name), "taskDefinition": .string("web:1"), "desiredCount": .number(3),
            "launchType": .string("FARGATE"), "deploymentController": .object(["type": .string(controller)]),
            "networkConfiguration": .object(["awsvpcConfiguration": .object(["subnets": .array([.string("subnet-12345678")])])]),
        ])
    }

    @Test func blueGreenReplacementThroughCodeDeploy() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUp(controller: "CODE_DEPLOY", name: "api")
        let original = try #require(await service("api")?.taskSets?.first)
        #expect(original.status == "PRIMARY" && original.computedDesiredCount == 3 && original.externalId == nil)

        let created = try await codeDeploy("CreateTaskSet", [
            "cluster": .string("cd"), "service": .string("api"), "taskDefinition": .string("web:2"), "externalId": .string("d-EXAMPLE1"),
            "launchType": .string("FARGATE"),
            "networkConfiguration": .object(["awsvpcConfiguration": .object(["subnets": .array([.string("subnet-12345678")])])]),
        ])
        let replacement = try #require(created["taskSet"])
        #expect(replacement["startedBy"]?.string == "CODE_DEPLOY")
        #expect(replacement["externalId"]?.string == "d-EXAMPLE1")
        #expect(replacement["status"]?.string == "ACTIVE")
        #expect(replacement["scale"]?["value"]?.double == 100)  // CodeDeploy's task sets start at full scale
        #expect(replacement["computedDesiredCount"]?.int == 3)
        let id = try #require(replacement["id"]?.string)

        let primary = try await codeDeploy("UpdateServicePrimaryTaskSet", [
            "cluster": .string("cd"), "service": .string("api"), "primaryTaskSet": .string(id),
        ])
        #expect(primary["taskSet"]?["status"]?.string == "PRIMARY")
        let svc = try #require(await service("api"))
        #expect(svc.taskDefinition?.hasSuffix("task-definition/web:2") == true)
        #expect(svc.taskSets?.first { $0.id == original.id }?.status == "ACTIVE")

        // The original still has tasks to run: force, as CodeDeploy terminates the original task set.
        await #expect(throws: AWSError.self) {
            _ = try await codeDeploy("DeleteTaskSet", ["cluster": .string("cd"), "service": .string("api"), "taskSet": .string(original.id)])
        }
        let deleted = try await codeDeploy("DeleteTaskSet", [
            "cluster": .string("cd"), "service": .string("api"), "taskSet": .string(original.taskSetArn), "force": .bool(true),
        ])
        #expect(deleted["taskSet"]?["status"]?.string == "DRAINING")
        let described = try await codeDeploy("DescribeTaskSets", ["cluster": .string("cd"), "service": .string("api")])
        #expect(described["taskSets"]?.array?.count == 2)
        await ecs.shutdown()
    }

    @Test func codeDeployWorksOnlyOnCodeDeployServices() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await setUp(controller: "EXTERNAL", name: "ext")
        do {
            _ = try await codeDeploy("CreateTaskSet", ["cluster": .string("cd"), "service": .string("ext"), "taskDefinition": .string("web:1")])
            Issue.record("CodeDeploy created a task set on an EXTERNAL service")
        } catch let e as AWSError {
            #expect(e.code == "InvalidParameterException")
        }
        do {
            _ = try await codeDeploy("UpdateTaskSet", ["cluster": .string("cd"), "service": .string("nope"), "taskSet": .string("ecs-svc/1"),
                                                       "scale": .object(["value": .number(50), "unit": .string("PERCENT")])])
            Issue.record("a task set of a missing service was updated")
        } catch let e as AWSError {
            #expect(e.code == "ServiceNotFoundException")
        }
        await ecs.shutdown()
    }
}
