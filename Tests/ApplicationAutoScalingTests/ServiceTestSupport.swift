import Core
import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

@testable import ApplicationAutoScaling

/// ECS services as Application Auto Scaling sees them: desired counts and metrics, set by the test.
final class FakeResources: ScalableResources {
    struct Service { var capacity: Int; var metrics: [String: Double] = [:] }
    let services = Mutex<[String: Service]>([:])
    let failSets = Mutex(false)

    func add(_ resourceID: String, capacity: Int) { services.withLock { $0[resourceID] = Service(capacity: capacity) } }
    func set(_ resourceID: String, cpu: Double?) {
        services.withLock { $0[resourceID]?.metrics["ECSServiceAverageCPUUtilization"] = cpu }
    }
    func set(_ resourceID: String, memory: Double?) {
        services.withLock { $0[resourceID]?.metrics["ECSServiceAverageMemoryUtilization"] = memory }
    }
    func current(_ resourceID: String) -> Int? { services.withLock { $0[resourceID]?.capacity } }

    func capacity(namespace: String, resourceID: String, dimension: String, account: String, region: String) async -> Int? {
        current(resourceID)
    }

    func setCapacity(_ value: Int, namespace: String, resourceID: String, dimension: String, account: String, region: String) async throws {
        if failSets.withLock({ $0 }) { throw AWSError("ServiceNotActiveException", "Service was not ACTIVE.") }
        try services.withLock { s in
            guard s[resourceID] != nil else { throw AWSError("ServiceNotFoundException", "Service not found.") }
            s[resourceID]!.capacity = value
        }
    }

    func metric(_ name: String, namespace: String, resourceID: String, account: String, region: String) async -> Double? {
        services.withLock { $0[resourceID]?.metrics[name] }
    }
}

/// A service over a fresh directory, a fake ECS and a clock the test moves.
struct Harness {
    let directory: String
    let resources = FakeResources()
    let clock = EmulatorClock()
    let service: ApplicationAutoScalingService

    init(directory: String? = nil) throws {
        let dir = directory ?? NSTemporaryDirectory() + "aas-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.directory = dir
        service = try ApplicationAutoScalingService(directory: dir, resources: resources, clock: clock, logger: Logger(label: "aas-test"))
    }

    /// Another service over the same directory (a restart).
    func reopened() throws -> ApplicationAutoScalingService {
        try ApplicationAutoScalingService(directory: directory, resources: resources, clock: clock, logger: Logger(label: "aas-test"))
    }

    func close() {
        try? service.store.db.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One call of `op` with `body`; the answer's JSON object.
    @discardableResult
    func call(_ op: String, _ body: [String: Any], account: String = "000000000000", region: String = "us-east-1",
              on other: ApplicationAutoScalingService? = nil) async throws -> [String: Any] {
        let data = try JSONSerialization.data(withJSONObject: body)
        var headers = HTTPFields()
        headers[HTTPField.Name("x-amz-target")!] = "AnyScaleFrontendService.\(op)"
        headers[.contentType] = "application/x-amz-json-1.1"
        let stream = AsyncStream<ByteBuffer> { c in
            c.yield(ByteBuffer(bytes: data))
            c.finish()
        }
        let request = AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: headers, host: "127.0.0.1:4566",
                                 body: RequestBody(asyncSequence: stream),
                                 caller: CallerIdentity(accountID: account, region: region, accessKeyID: nil), requestID: "req")
        let response = try await (other ?? service).handle(request)
        let sink = BodySink()
        try await response.body.write(BodyWriter(sink: sink))
        return try JSONSerialization.jsonObject(with: Data(sink.bytes)) as? [String: Any] ?? [:]
    }

    /// The AWSError `op` fails with, or nil.
    func error(_ op: String, _ body: [String: Any]) async -> AWSError? {
        do { try await call(op, body) } catch { return error as? AWSError }
        return nil
    }

    /// An ECS target's three identifying members, and `extra`.
    static func ecs(_ resourceID: String, _ extra: [String: Any] = [:]) -> [String: Any] {
        let key: [String: Any] = ["ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", "ResourceId": resourceID]
        return key.merging(extra) { _, b in b }
    }

    /// A target-tracking CPU policy body.
    static func cpuPolicy(_ resourceID: String, name: String = "cpu", target: Double = 50, extra: [String: Any] = [:]) -> [String: Any] {
        var config: [String: Any] = [
            "TargetValue": target,
            "PredefinedMetricSpecification": ["PredefinedMetricType": "ECSServiceAverageCPUUtilization"],
        ]
        config.merge(extra) { _, b in b }
        return ecs(resourceID, ["PolicyName": name, "PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": config])
    }

    func activities(_ resourceID: String) async throws -> [[String: Any]] {
        try await call("DescribeScalingActivities", ["ServiceNamespace": "ecs", "ResourceId": resourceID])["ScalingActivities"]
            as? [[String: Any]] ?? []
    }
}

/// A harness closed after `body`, whatever it throws.
func withHarness(_ body: (Harness) async throws -> Void) async throws {
    let h = try Harness()
    defer { h.close() }
    try await body(h)
}

final class BodySink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

/// Collects a response body.
struct BodyWriter: ResponseBodyWriter {
    let sink: BodySink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
