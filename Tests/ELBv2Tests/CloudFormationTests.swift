import Core
import Foundation
import Testing
@testable import ELBv2

/// The CloudFormation types: properties flattened to Query parameters, and a load balancer, target group, listener
/// and rule made, changed in place, read back and deleted through the provider.
@Suite struct CloudFormationTests {
    func request(_ type: String, _ logicalId: String, _ properties: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: "123456789012", region: "us-east-1", stackName: "st", stackId: "arn:stack/st/1", logicalId: logicalId,
                        type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "st"])
    }

    @Test func propertiesFlattenToQueryParameters() {
        let p = CloudFormationParameters.parameters([
            "DefaultActions": .array([.object([
                "Type": .string("forward"),
                "ForwardConfig": .object(["TargetGroups": .array([.object(["TargetGroupArn": .string("tg"), "Weight": .number(3)])]),
                                          "TargetGroupStickinessConfig": .object(["Enabled": .bool(true)])]),
            ])]),
            "Port": .number(80), "Ignored": .string("x"),
        ], ["DefaultActions", "Port"])
        #expect(p == ["DefaultActions.member.1.Type": "forward",
                      "DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn": "tg",
                      "DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight": "3",
                      "DefaultActions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled": "true",
                      "Port": "80"])
        #expect(CloudFormationParameters.attributes(.array([.object(["Key": .string("k"), "Value": .number(30)])]))
            == ["Attributes.member.1.Key": "k", "Attributes.member.1.Value": "30"])
        #expect(CloudFormationParameters.targets([.object(["Id": .string("10.0.0.1"), "Port": .number(8080)])])
            == ["Targets.member.1.Id": "10.0.0.1", "Targets.member.1.Port": "8080"])
    }

    @Test func createUpdateReadDelete() async throws {
        let h = try Harness()
        let p = ELBv2Resources(service: h.service)
        let lbReq = request(ELBv2Resources.loadBalancer, "LB", ["Subnets": .array([.string("s-1"), .string("s-2")])])
        let lb = try await p.create(lbReq)
        #expect(lb.ref.contains(":loadbalancer/app/st-LB-"))
        #expect(lb.attributes["LoadBalancerFullName"]?.string.map { lb.ref.hasSuffix($0) } == true)
        #expect(lb.attributes["CanonicalHostedZoneID"] == .string("Z35SXDOTRQ7X7K"))
        #expect((lb.attributes["LoadBalancerName"]?.string?.count ?? 99) <= 32)
        #expect(try await p.interruptedCreate(lbReq) == lb)

        let tgProps: [String: JSON] = ["Protocol": .string("HTTP"), "Port": .number(80), "VpcId": .string("vpc-1"), "TargetType": .string("ip"),
                                       "HealthCheckPath": .string("/up"),
                                       "Targets": .array([.object(["Id": .string("127.0.0.1"), "Port": .number(9001)])])]
        let tg = try await p.create(request(ELBv2Resources.targetGroup, "TG", tgProps))
        #expect(h.service.store.snapshot.targetGroups[tg.ref]?.targets.map(\.port) == [9001])
        #expect(h.service.store.snapshot.targetGroups[tg.ref]?.healthCheck.path == "/up")

        let listener = try await p.create(request(ELBv2Resources.listener, "L", [
            "LoadBalancerArn": .string(lb.ref), "Port": .number(8080),
            "DefaultActions": .array([.object(["Type": .string("forward"), "TargetGroupArn": .string(tg.ref)])]),
        ]))
        #expect(h.service.store.snapshot.listeners[listener.ref]?.defaultActions.first?.targetGroups.map(\.arn) == [tg.ref])

        // In place: another health check path and target; the listener answers a fixed response instead.
        var changed = tgProps
        changed["HealthCheckPath"] = .string("/health")
        changed["Targets"] = .array([.object(["Id": .string("127.0.0.1"), "Port": .number(9002)])])
        var upd = request(ELBv2Resources.targetGroup, "TG", changed)
        upd.previousProperties = tgProps
        _ = try await p.update(upd, previous: tg)
        let after = try #require(h.service.store.snapshot.targetGroups[tg.ref])
        #expect(after.healthCheck.path == "/health")
        #expect(after.targets.filter { $0.drainingUntil == nil }.map(\.port) == [9002])
        guard case .properties(let read) = try await p.currentProperties(upd, state: tg) else { Issue.record("no reading"); return }
        #expect(read["HealthCheckPath"] == .string("/health"))
        #expect(p.createOnlyProperties(of: ELBv2Resources.targetGroup).contains("Port"))

        try await p.delete(request(ELBv2Resources.listener, "L", [:]), state: listener)
        try await p.delete(request(ELBv2Resources.listener, "L", [:]), state: listener)  // already gone: no error
        try await p.delete(upd, state: tg)
        try await p.delete(lbReq, state: lb)
        #expect(try await p.currentProperties(lbReq, state: lb) == .deleted)
        #expect(try await p.interruptedCreate(lbReq) == nil)
    }
}
