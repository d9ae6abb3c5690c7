import Core
import Testing
@testable import ECS

@Suite struct TaskDefinitionRulesTests {
    @Test func cpuAndMemoryConvertAsAWSDoes() {
        #expect(TaskDefinitionRules.cpuUnits("256") == 256)
        #expect(TaskDefinitionRules.cpuUnits("1 vCPU") == 1024)
        #expect(TaskDefinitionRules.cpuUnits("0.5 vcpu") == 512)
        #expect(TaskDefinitionRules.cpuUnits("abc") == nil)
        #expect(TaskDefinitionRules.memoryMiB("2GB") == 2048)
        #expect(TaskDefinitionRules.memoryMiB("0.5 GB") == 512)
        #expect(TaskDefinitionRules.memoryMiB("1024") == 1024)
        #expect(TaskDefinitionRules.memoryMiB("lots") == nil)
    }

    @Test func fargateSizes() {
        #expect(TaskDefinitionRules.fargateSizeIsValid(cpu: 256, memory: 512))
        #expect(!TaskDefinitionRules.fargateSizeIsValid(cpu: 256, memory: 4096))
        #expect(TaskDefinitionRules.fargateSizeIsValid(cpu: 512, memory: 1024))
        #expect(!TaskDefinitionRules.fargateSizeIsValid(cpu: 512, memory: 512))
        #expect(TaskDefinitionRules.fargateSizeIsValid(cpu: 8192, memory: 20480))
        #expect(!TaskDefinitionRules.fargateSizeIsValid(cpu: 8192, memory: 18432))
        #expect(!TaskDefinitionRules.fargateSizeIsValid(cpu: 300, memory: 1024))
    }

    @Test func normalizeFillsAWSDefaults() throws {
        let doc: [String: JSON] = [
            "family": .string("web"), "networkMode": .string("awsvpc"), "requiresCompatibilities": .array([.string("FARGATE")]),
            "cpu": .string("0.5 vCPU"), "memory": .string("1GB"),
            "containerDefinitions": .array([.object(["name": .string("app"), "image": .string("nginx"),
                                                     "portMappings": .array([.object(["containerPort": .number(80)])])])]),
        ]
        let out = try TaskDefinitionRules.normalize(doc)
        #expect(out["cpu"] == .string("512"))
        #expect(out["memory"] == .string("1024"))
        let c = try #require(out["containerDefinitions"]?.array?.first)
        #expect(c["essential"] == .bool(true))
        #expect(c["cpu"] == .number(0))
        #expect(c["portMappings"]?.array?.first?["hostPort"] == .number(80))
        #expect(c["portMappings"]?.array?.first?["protocol"] == .string("tcp"))
        #expect(out["compatibilities"] == .array([.string("EC2"), .string("FARGATE")]))
    }

    @Test func fargateRefusesABadSize() {
        let doc: [String: JSON] = [
            "family": .string("web"), "networkMode": .string("awsvpc"), "requiresCompatibilities": .array([.string("FARGATE")]),
            "cpu": .string("512"), "memory": .string("512"),
            "containerDefinitions": .array([.object(["name": .string("app"), "image": .string("nginx")])]),
        ]
        #expect(throws: AWSError.self) { try TaskDefinitionRules.normalize(doc) }
    }

    @Test func taskDefinitionReferences() {
        #expect(ECSService.parseTaskDefinition("web")! == ("web", nil))
        #expect(ECSService.parseTaskDefinition("web:3")! == ("web", 3))
        #expect(ECSService.parseTaskDefinition("arn:aws:ecs:us-east-1:123456789012:task-definition/web:7")! == ("web", 7))
        #expect(ECSService.parseTaskDefinition("web:x") == nil)
    }
}

@Suite struct ImageMapTests {
    @Test func patternsMatchWholeOrBareReferences() {
        #expect(ImageMap.repository("123456789012.dkr.ecr.us-east-1.amazonaws.com/booking-service:latest") == "booking-service")
        #expect(ImageMap.repository("nginx") == "nginx")
        #expect(ImageMap.repository("library/nginx@sha256:abc") == "nginx")
        #expect(ImageMap.matches("booking-*", "booking-service"))
        #expect(ImageMap.matches("*", "anything"))
        #expect(!ImageMap.matches("booking", "booking-service"))
        #expect(ImageMap.matches("*.amazonaws.com/*:v?", "x.amazonaws.com/app:v?"))
    }
}

@Suite struct SchedulerRulesTests {
    @Test func circuitBreakerThreshold() {
        #expect(Scheduler.failureThreshold(1) == 3)
        #expect(Scheduler.failureThreshold(10) == 5)
        #expect(Scheduler.failureThreshold(11) == 6)
        #expect(Scheduler.failureThreshold(1000) == 200)
    }

    @Test func deploymentIDsLookLikeAWSs() {
        let id = Scheduler.deploymentID()
        #expect(id.hasPrefix("ecs-svc/"))
        #expect(id.count == "ecs-svc/".count + 19)
    }

    @Test func subnetAndGroupIDsAreCheckedForForm() {
        #expect(ECSService.isResourceID("subnet-12345678", prefix: "subnet-"))
        #expect(ECSService.isResourceID("subnet-0123456789abcdef0", prefix: "subnet-"))
        #expect(!ECSService.isResourceID("subnet-xyz", prefix: "subnet-"))
        #expect(!ECSService.isResourceID("sg-123", prefix: "sg-"))
    }
}
