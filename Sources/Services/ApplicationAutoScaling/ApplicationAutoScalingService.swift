import Core
import Foundation
import GRDB
import HTTPTypes
import Logging
import NIOCore
import Synchronization

/// Application Auto Scaling over AWS JSON 1.1 (`X-Amz-Target: AnyScaleFrontendService.<Op>`). Targets of any namespace
/// are stored; only ECS services' desired counts (reached through `ScalableResources`) are really scaled.
public struct ApplicationAutoScalingService: AWSService {
    public let signingName = "application-autoscaling"
    public let wireProtocol = WireProtocol.json11
    /// The model's error shapes carry `Message`.
    public var jsonErrorMessageKey: String { "Message" }
    let store: AASStore
    let resources: any ScalableResources
    let clock: EmulatorClock
    let logger: Logger
    /// Sweeps (the Emulator's loop and the internal endpoint) run one at a time, or two could both scale out.
    let sweepLock = SerialLock()

    public init(directory: String, resources: any ScalableResources, clock: EmulatorClock, logger: Logger) throws {
        store = try AASStore(directory: directory)
        self.resources = resources
        self.clock = clock
        self.logger = logger
    }

    public func reset() async throws { try store.reset() }

    public func operationName(for request: AWSRequest) -> String { JSONProtocol.operation(request) ?? "-" }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let op = JSONProtocol.operation(request) else {
            throw AWSError("UnknownOperationException", "Application Auto Scaling is served over AWS JSON 1.1 (X-Amz-Target).")
        }
        let input = Input(try await JSONProtocol.input(request))
        let r = request.caller
        let output: [String: Any]
        switch op {
        case "RegisterScalableTarget": output = try await registerScalableTarget(r, input)
        case "DescribeScalableTargets": output = try describeScalableTargets(r, input)
        case "DeregisterScalableTarget": output = try deregisterScalableTarget(r, input)
        case "PutScalingPolicy": output = try putScalingPolicy(r, input)
        case "DescribeScalingPolicies": output = try describeScalingPolicies(r, input)
        case "DeleteScalingPolicy": output = try deleteScalingPolicy(r, input)
        case "DescribeScalingActivities": output = try describeScalingActivities(r, input)
        case "PutScheduledAction": output = try putScheduledAction(r, input)
        case "DescribeScheduledActions": output = try describeScheduledActions(r, input)
        case "DeleteScheduledAction": output = try deleteScheduledAction(r, input)
        case "TagResource": output = try tagResource(r, input)
        case "UntagResource": output = try untagResource(r, input)
        case "ListTagsForResource": output = try listTagsForResource(r, input)
        default:
            throw AWSError("UnknownOperationException", "The operation \(op) is not supported by Cloudless's Application Auto Scaling.")
        }
        return JSONProtocol.response(output, contentType: "application/x-amz-json-1.1")
    }

    /// `POST /_cloudless/application-autoscaling/evaluate`: one sweep now; answers how many targets it looked at.
    public func internalResponse(method: HTTPRequest.Method, path: String) async -> AWSResponse? {
        guard method == .post, path == "/_cloudless/application-autoscaling/evaluate" else { return nil }
        let n = await evaluate()
        var h = HTTPFields()
        h[.contentType] = "application/json"
        return AWSResponse(headers: h, bytes: ByteBuffer(string: "{\"evaluated\":\(n)}"))
    }

    // MARK: Shared

    /// Whether a live resource stands behind the target (only ECS services' desired counts).
    static func isLive(_ key: TargetKey) -> Bool { key.namespace == "ecs" && key.dimension == "ecs:service:DesiredCount" }

    /// The registered target, or ObjectNotFoundException with AWS's text.
    func existingTarget(_ r: CallerIdentity, _ key: TargetKey, _ db: Database) throws -> ScalableTarget {
        guard let t = try AASStore.target(r.accountID, r.region, key, db) else { throw AASError.targetNotFound(key) }
        return t
    }

    /// `resource/<namespace>/<resourceId>` as policy and scheduled-action ARNs embed it.
    static func arnResource(_ key: TargetKey) -> String { "resource/\(key.namespace)/\(key.resourceID)" }

    static func newID() -> String { UUID().uuidString.lowercased() }

    /// Sets the live resource's capacity and records the activity, Successful or Failed as the resource answered.
    func applyCapacity(_ capacity: Int, to t: ScalableTarget, cause: String, now: Double) async -> Bool {
        var ok = true
        var message = "Successfully set desired count to \(capacity). Change successfully fulfilled by ecs."
        do {
            try await resources.setCapacity(capacity, namespace: t.key.namespace, resourceID: t.key.resourceID, dimension: t.key.dimension,
                                            account: t.account, region: t.region)
        } catch {
            ok = false
            message = "Failed to set desired count to \(capacity). Reason: \(error)"
        }
        record(Activity(id: Self.newID(), account: t.account, region: t.region, key: t.key, description: "Setting desired count to \(capacity).",
                        cause: cause, statusCode: ok ? "Successful" : "Failed", statusMessage: message, start: now, end: now))
        return ok
    }

    func record(_ a: Activity) {
        do {
            try store.db.writeNow { db in try AASStore.insert(a, db) }
        } catch {
            logger.error("Application Auto Scaling: could not record an activity for \(a.key.resourceID): \(error)")
        }
    }

    /// Brings the live resource's capacity into [min, max] (after a registration or a scheduled action), as AWS does,
    /// with the cause AWS gives ("minimum capacity was set to 2").
    func clampCapacity(_ t: ScalableTarget, now: Double) async {
        guard Self.isLive(t.key),
              let current = await resources.capacity(namespace: t.key.namespace, resourceID: t.key.resourceID, dimension: t.key.dimension,
                                                     account: t.account, region: t.region) else { return }
        if current < t.minCapacity {
            _ = await applyCapacity(t.minCapacity, to: t, cause: "minimum capacity was set to \(t.minCapacity)", now: now)
        } else if current > t.maxCapacity {
            _ = await applyCapacity(t.maxCapacity, to: t, cause: "maximum capacity was set to \(t.maxCapacity)", now: now)
        }
    }
}

/// An async mutual exclusion: waiters resume in arrival order.
final class SerialLock: Sendable {
    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T>(_ body: () async -> T) async -> T {
        await acquire()
        defer { release() }
        return await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if !s.busy {
                    s.busy = true
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    private func release() {
        // The lock passes straight to the next waiter, staying busy.
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.busy = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
