@testable import DynamoDB
import Core
import Foundation
import Testing

struct CloudFormationTests {
    func request(_ h: Harness, _ props: [String: JSON]) -> ResourceRequest {
        ResourceRequest(account: h.s.account, region: h.s.region, stackName: "st",
                        stackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/st/1", logicalId: "Tab",
                        type: "AWS::DynamoDB::Table", properties: props, tags: [:])
    }

    func key(_ n: String, _ t: String) -> JSON { .object(["AttributeName": .string(n), "KeyType": .string(t)]) }
    func def(_ n: String) -> JSON { .object(["AttributeName": .string(n), "AttributeType": .string("S")]) }
    func gsi(_ n: String, _ k: String) -> JSON {
        .object(["IndexName": .string(n), "KeySchema": .array([key(k, "HASH")]), "Projection": .object(["ProjectionType": .string("ALL")])])
    }

    var base: [String: JSON] {
        ["BillingMode": .string("PAY_PER_REQUEST"), "AttributeDefinitions": .array([def("pk"), def("a")]),
         "KeySchema": .array([key("pk", "HASH")]), "GlobalSecondaryIndexes": .array([gsi("byA", "a")]),
         "StreamSpecification": .object(["StreamViewType": .string("KEYS_ONLY")]),
         "TimeToLiveSpecification": .object(["AttributeName": .string("exp"), "Enabled": .bool(true)]),
         "Tags": .array([.object(["Key": .string("k"), "Value": .string("v")])])]
    }

    @Test func createGeneratesNameAndAttributes() async throws {
        let h = try Harness()
        let p = DynamoDBResources(service: h.service)
        let state = try await p.create(request(h, base))
        #expect(state.physicalId.hasPrefix("st-Tab-") && state.physicalId.count == "st-Tab-".count + 13)
        let t = try #require(try h.service.store.table(h.s, state.physicalId))
        #expect(state.attributes["Arn"] == .string(t.arn))
        #expect(state.attributes["StreamArn"] == .string(t.streamArn!))
        #expect(t.ttlEnabled && t.ttlAttribute == "exp" && t.tags == ["k": "v"] && t.globalIndexes.map(\.name) == ["byA"])
        // Drift reads the table back in the template's names.
        guard case .properties(let now) = try await p.currentProperties(request(h, base), state: state) else { Issue.record(); return }
        #expect(now["StreamSpecification"] == .object(["StreamViewType": .string("KEYS_ONLY")]))
        #expect(now["KeySchema"] == base["KeySchema"])
    }

    @Test func updateAddsOneIndexRefusesTwoAndDropsTheStream() async throws {
        let h = try Harness()
        let p = DynamoDBResources(service: h.service)
        let state = try await p.create(request(h, base))
        var next = base
        next["GlobalSecondaryIndexes"] = .array([gsi("byA", "a"), gsi("byB", "b")])
        next["AttributeDefinitions"] = .array([def("pk"), def("a"), def("b")])
        next["StreamSpecification"] = nil
        next["TimeToLiveSpecification"] = nil
        var r = request(h, next)
        r.previousProperties = base
        let after = try await p.update(r, previous: state)
        let t = try #require(try h.service.store.table(h.s, state.physicalId))
        #expect(t.globalIndexes.map(\.name) == ["byA", "byB"])
        #expect(!t.streamEnabled && after.attributes["StreamArn"] == nil && !t.ttlEnabled)
        var two = next
        two["GlobalSecondaryIndexes"] = .array([gsi("byC", "a")])
        var r2 = request(h, two)
        r2.previousProperties = next
        await #expect(throws: AWSError.self) { try await p.update(r2, previous: after) }
        #expect(try h.service.store.table(h.s, state.physicalId)?.globalIndexes.map(\.name) == ["byA", "byB"])
    }

    @Test func deletionProtectionStopsDelete() async throws {
        let h = try Harness()
        let p = DynamoDBResources(service: h.service)
        var props = base
        props["TableName"] = .string("kept")
        props["DeletionProtectionEnabled"] = .string("true")
        let state = try await p.create(request(h, props))
        await #expect(throws: AWSError.self) { try await p.delete(request(h, props), state: state) }
        #expect(try h.service.store.table(h.s, "kept") != nil)
        #expect(try await p.interruptedCreate(request(h, props))?.physicalId == "kept")
    }
}
