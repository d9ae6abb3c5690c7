import Core
import Testing
@testable import ECS

@Suite struct PlacementTests {
    typealias C = TaskPlacement.Candidate

    static func instance(_ id: String, cpu: Int = 2048, memory: Int = 3920, type: String = "t3.medium",
                         zone: String = "us-east-1a", ports: Set<Int> = [22], groups: [String] = [], extra: [String: String] = [:]) -> C {
        var attributes = ["ecs.instance-type": type, "ecs.availability-zone": zone]
        attributes.merge(extra) { $1 }
        return C(arn: "arn:aws:ecs:us-east-1:000000000000:container-instance/c/\(id)", ec2InstanceId: "i-\(id)",
                 attributes: attributes, remainingCPU: cpu, remainingMemory: memory, usedTCP: ports, usedUDP: [], taskGroups: groups)
    }

    static let small = TaskPlacement.Demand(cpu: 256, memory: 512)

    func place(_ cands: [C], _ d: TaskPlacement.Demand = small, group: String = "family:web",
               constraints: [TaskPlacement.Constraint] = [], strategy: [TaskPlacement.Strategy] = []) -> TaskPlacement.Outcome {
        TaskPlacement.choose(cands, d, group: group, constraints: constraints, strategy: strategy, random: { 0 })
    }

    @Test func fitsOrSaysWhichResourceIsShort() {
        #expect(place([Self.instance("a")]) == .placed(0))
        #expect(place([Self.instance("a", memory: 500)]) == .failed([(Self.instance("a").arn, .memory)]))
        #expect(place([Self.instance("a", cpu: 100)]) == .failed([(Self.instance("a").arn, .cpu)]))
        let web = TaskPlacement.Demand(cpu: 0, memory: 128, tcpPorts: [8080])
        #expect(place([Self.instance("a", ports: [22, 8080])], web) == .failed([(Self.instance("a").arn, .ports)]))
        #expect(place([Self.instance("a", ports: [22, 8080]), Self.instance("b")], web) == .placed(1))
        // Exactly what is left is enough.
        #expect(place([Self.instance("a", cpu: 256, memory: 512)]) == .placed(0))
    }

    @Test func binpackPicksTheFullestInstanceSpreadTheEmptiest() {
        let roomy = Self.instance("a", memory: 3000, groups: [])
        let tight = Self.instance("b", memory: 1000, groups: ["family:web", "family:web"])
        #expect(place([roomy, tight], strategy: [.init(type: "binpack", field: "memory")]) == .placed(1))
        let lowCPU = Self.instance("c", cpu: 300, memory: 3900)
        #expect(place([roomy, lowCPU], strategy: [.init(type: "binpack", field: "cpu")]) == .placed(1))
        #expect(place([tight, roomy], strategy: [.init(type: "spread", field: "instanceId")]) == .placed(1))
        // Spread on an attribute counts the group's tasks in each zone, on every instance of the zone.
        let a1 = Self.instance("a1", zone: "us-east-1a", groups: ["family:web"])
        let a2 = Self.instance("a2", zone: "us-east-1a")
        let b1 = Self.instance("b1", zone: "us-east-1b")
        #expect(place([a1, a2, b1], strategy: [.init(type: "spread", field: "attribute:ecs.availability-zone")]) == .placed(2))
        // Other groups' tasks do not count for spread.
        let busyOther = Self.instance("x", groups: ["family:db", "family:db"])
        let oneOwn = Self.instance("y", groups: ["family:web"])
        #expect(place([oneOwn, busyOther], strategy: [.init(type: "spread", field: "instanceId")]) == .placed(1))
    }

    @Test func strategiesBreakTiesInOrder() {
        let a = Self.instance("a", memory: 2000, zone: "us-east-1a")
        let b = Self.instance("b", memory: 1000, zone: "us-east-1b")
        let c = Self.instance("c", memory: 3000, zone: "us-east-1b")
        let spreadThenPack: [TaskPlacement.Strategy] = [.init(type: "spread", field: "attribute:ecs.availability-zone"),
                                                        .init(type: "binpack", field: "memory")]
        #expect(place([a, b, c], strategy: spreadThenPack) == .placed(1))
        let withTask = Self.instance("b", memory: 1000, zone: "us-east-1b", groups: ["family:web"])
        #expect(place([a, withTask, c], strategy: spreadThenPack) == .placed(0))
    }

    @Test func constraints() {
        let medium = Self.instance("a", type: "t3.medium")
        let large = Self.instance("b", type: "m5.large")
        let memberOf = TaskPlacement.Constraint(type: "memberOf", expression: "attribute:ecs.instance-type =~ m5.*")
        #expect(place([medium, large], constraints: [memberOf]) == .placed(1))
        #expect(place([medium], constraints: [memberOf]) == .failed([(medium.arn, .memberOf)]))
        let distinct = TaskPlacement.Constraint(type: "distinctInstance")
        let taken = Self.instance("a", groups: ["family:web"])
        #expect(place([taken, large], constraints: [distinct]) == .placed(1))
        #expect(place([taken], constraints: [distinct]) == .failed([(taken.arn, .distinctInstance)]))
        // Another group does not block distinctInstance.
        #expect(place([taken], group: "family:other", constraints: [distinct]) == .placed(0))
        // The closest instance is the one that failed last: resources after constraints.
        if case .failed(let list) = place([medium, Self.instance("m", memory: 100, type: "m5.large")], constraints: [memberOf]) {
            #expect(list.max { $0.reason < $1.reason }?.reason == .memory)
        } else {
            Issue.record("expected a failure")
        }
    }

    @Test func clusterQueryLanguage() throws {
        let c = Self.instance("a", type: "t3.medium", zone: "us-east-1b", groups: ["service:web"], extra: ["stack": "prod"])
        let yes = ["attribute:ecs.instance-type == t3.medium", "attribute:ecs.instance-type =~ t3.*",
                   "attribute:ecs.instance-type in [t3.medium, t3.large]", "attribute:ecs.instance-type != t2.micro",
                   "attribute:stack exists", "attribute:color !exists", "attribute:color not_exists",
                   "attribute:ecs.availability-zone in [us-east-1a, us-east-1b] and attribute:stack == prod",
                   "attribute:stack == dev or attribute:stack == prod", "not (attribute:stack == dev)",
                   "task:group == service:web", "ec2InstanceId == i-a", "attribute:ecs.instance-type matches \"t3\\..*\"",
                   "attribute:ecs.instance-type not_in [m5.large]", "runningTasksCount >= 1"]
        for q in yes { #expect(try ClusterQuery.parse(q).matches(c), "\(q)") }
        let no = ["attribute:ecs.instance-type == t3.large", "attribute:ecs.instance-type =~ t3", "attribute:stack == dev",
                  "attribute:stack exists && attribute:stack == dev", "task:group == service:db", "runningTasksCount > 1",
                  "attribute:ecs.instance-type !~ t3.*"]
        for q in no { #expect(try !ClusterQuery.parse(q).matches(c), "\(q)") }
        for bad in ["attribute:stack", "attribute:stack ==", "(attribute:stack exists", "attribute:stack in t3", "== x"] {
            #expect(throws: (any Error).self, "\(bad)") { try ClusterQuery.parse(bad) }
        }
    }

    @Test func validation() {
        #expect(throws: AWSError.self) {
            try TaskPlacement.validate(constraints: [.init(type: "memberOf", expression: nil)], strategy: [])
        }
        #expect(throws: AWSError.self) {
            try TaskPlacement.validate(constraints: [.init(type: "distinctInstance", expression: "x == y")], strategy: [])
        }
        #expect(throws: AWSError.self) { try TaskPlacement.validate(constraints: [], strategy: [.init(type: "binpack", field: "disk")]) }
        #expect(throws: AWSError.self) { try TaskPlacement.validate(constraints: [], strategy: [.init(type: "pack", field: nil)]) }
        #expect(throws: Never.self) {
            try TaskPlacement.validate(constraints: [.init(type: "memberOf", expression: "attribute:a == b"), .init(type: "distinctInstance")],
                                       strategy: [.init(type: "spread", field: "instanceId"), .init(type: "binpack", field: "memory"),
                                                  .init(type: "random")])
        }
    }

    @Test func demandOfATask() throws {
        // Container-level cpu and memoryReservation (before memory) add up when the task has no task-level size.
        let c1 = Container(containerArn: "a", taskArn: "t", name: "a", lastStatus: "PENDING",
                           networkBindings: [NetworkBinding(bindIP: "0.0.0.0", containerPort: 80, hostPort: 8080, protocol: "tcp")],
                           networkInterfaces: [], cpu: "128", memory: "512", memoryReservation: "256")
        let c2 = Container(containerArn: "b", taskArn: "t", name: "b", lastStatus: "PENDING",
                           networkBindings: [NetworkBinding(bindIP: "0.0.0.0", containerPort: 53, hostPort: 5353, protocol: "udp")],
                           networkInterfaces: [], cpu: "0", memory: "300", memoryReservation: nil)
        var t = ECSTask(attachments: [], clusterArn: "c", containers: [c1, c2], createdAt: 0, desiredStatus: "RUNNING",
                        enableExecuteCommand: false, healthStatus: "UNKNOWN", lastStatus: "PENDING", overrides: .object([:]),
                        tags: [], taskArn: "t", taskDefinitionArn: "d", version: 1)
        #expect(Scheduler.demand(of: t) == TaskPlacement.Demand(cpu: 128, memory: 556, tcpPorts: [8080], udpPorts: [5353]))
        t.cpu = "1024"
        t.memory = "2048"
        #expect(Scheduler.demand(of: t) == TaskPlacement.Demand(cpu: 1024, memory: 2048, tcpPorts: [8080], udpPorts: [5353]))
    }
}
