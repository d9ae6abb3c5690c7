import Core
import Foundation
import Testing
@testable import ECS

@Suite struct TaskSetTests {
    @Test func computedDesiredCountRoundsUp() {
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 4, scalePercent: 100) == 4)
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 4, scalePercent: 50) == 2)
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 4, scalePercent: 30) == 2)  // 1.2 → 2, as AWS's example
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 3, scalePercent: 10) == 1)  // 0.3 → 1
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 10, scalePercent: 0.1) == 1)
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 5, scalePercent: 0) == 0)
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 0, scalePercent: 100) == 0)
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 7, scalePercent: 99.9) == 7)
    }

    @Test func computedDesiredCountIgnoresFloatingPointNoise() {
        // 3 × 33.333…% is 1, not 2; 100 × 7% is 7, not 8 (0.07 × 100 is 7.000000000000001 in binary).
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 3, scalePercent: 100.0 / 3) == 1)
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 100, scalePercent: 7) == 7)
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 10, scalePercent: 70) == 7)
        #expect(TaskSetMath.computedDesiredCount(serviceDesired: 6, scalePercent: 50.000001) == 4)
    }

    @Test func stability() {
        #expect(TaskSetMath.stability(computedDesired: 2, running: 2, pending: 0, allHealthy: true, stopping: 0) == "STEADY_STATE")
        #expect(TaskSetMath.stability(computedDesired: 0, running: 0, pending: 0, allHealthy: true, stopping: 0) == "STEADY_STATE")
        #expect(TaskSetMath.stability(computedDesired: 2, running: 1, pending: 1, allHealthy: true, stopping: 0) == "STABILIZING")
        #expect(TaskSetMath.stability(computedDesired: 2, running: 2, pending: 0, allHealthy: false, stopping: 0) == "STABILIZING")
        #expect(TaskSetMath.stability(computedDesired: 1, running: 1, pending: 0, allHealthy: true, stopping: 1) == "STABILIZING")
        #expect(TaskSetMath.stability(computedDesired: 1, running: 2, pending: 0, allHealthy: true, stopping: 0) == "STABILIZING")
    }

    @Test func identifiersAndArns() {
        let arn = "arn:aws:ecs:us-east-1:000000000000:task-set/web/api/ecs-svc/1234567890123456789"
        #expect(TaskSetMath.id(fromIdentifier: arn) == "ecs-svc/1234567890123456789")
        #expect(TaskSetMath.id(fromIdentifier: "ecs-svc/1234567890123456789") == "ecs-svc/1234567890123456789")
        #expect(TaskSetMath.serviceArn(ofTaskSetArn: arn) == "arn:aws:ecs:us-east-1:000000000000:service/web/api")
        #expect(TaskSetMath.serviceArn(ofTaskSetArn: "arn:aws:ecs:us-east-1:000000000000:service/web/api") == nil)
        let id = Scheduler.deploymentID()
        #expect(id.hasPrefix("ecs-svc/") && id.dropFirst(8).count == 19 && id.dropFirst(8).allSatisfy(\.isNumber))
    }

    @Test func scaleIsAPercentFromZeroToHundred() throws {
        try TaskSetMath.checkScale(TaskSetScale(value: 0, unit: "PERCENT"))
        try TaskSetMath.checkScale(TaskSetScale(value: 100, unit: "PERCENT"))
        try TaskSetMath.checkScale(TaskSetScale(value: 12.5, unit: "PERCENT"))
        #expect(throws: AWSError.self) { try TaskSetMath.checkScale(TaskSetScale(value: 100.5, unit: "PERCENT")) }
        #expect(throws: AWSError.self) { try TaskSetMath.checkScale(TaskSetScale(value: -1, unit: "PERCENT")) }
        #expect(throws: AWSError.self) { try TaskSetMath.checkScale(TaskSetScale(value: 50, unit: "COUNT")) }
    }

    @Test func taskSetEncodesAWSShape() throws {
        let ts = TaskSet(
            id: "ecs-svc/1", taskSetArn: "arn:t", serviceArn: "arn:s", clusterArn: "arn:c", startedBy: nil, externalId: "blue",
            status: "ACTIVE", taskDefinition: "arn:td", computedDesiredCount: 2, pendingCount: 0, runningCount: 0,
            createdAt: 1, updatedAt: 1, launchType: "FARGATE", capacityProviderStrategy: nil, platformVersion: "LATEST",
            platformFamily: "Linux", networkConfiguration: nil, loadBalancers: .array([]), serviceRegistries: .array([]),
            scale: TaskSetScale(value: 50, unit: "PERCENT"), stabilityStatus: "STABILIZING", stabilityStatusAt: 1, tags: [])
        let doc = try JSON.encode(ts)
        #expect(doc["scale"]?["value"]?.double == 50)
        #expect(doc["scale"]?["unit"]?.string == "PERCENT")
        #expect(doc["externalId"]?.string == "blue")
        #expect(doc["startedBy"] == nil)
        #expect(doc["computedDesiredCount"]?.int == 2)
    }
}
