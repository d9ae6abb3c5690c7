import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The installed fault rules, checked by the gateway between identifying a request and handing it to its service:
/// a faulted request is answered with the rule's AWS error (rendered like the service's own errors) before the
/// service sees it, so it changes nothing. With no rule installed the check is one relaxed atomic load.
public final class FaultInjector: Sendable {
    /// Whether any rule is installed: the only thing a request reads when none is.
    private let active = Atomic<Bool>(false)
    private let rules = Mutex<[FaultRule]>([])
    /// The signing names a rule may name.
    public let services: Set<String>

    public init(services: Set<String>, rules: [FaultRule] = []) {
        self.services = services
        replace(rules)
    }

    @inline(__always) public var isActive: Bool { active.load(ordering: .relaxed) }

    public var installed: [FaultRule] { rules.withLock { $0 } }

    /// POST: the posted rules replace the installed ones (LocalStack's chaos API does the same).
    public func replace(_ new: [FaultRule]) {
        rules.withLock {
            $0 = new
            active.store(!new.isEmpty, ordering: .relaxed)
        }
    }

    /// PATCH: the posted rules are added after the installed ones.
    public func append(_ more: [FaultRule]) {
        rules.withLock {
            $0 += more
            active.store(!$0.isEmpty, ordering: .relaxed)
        }
    }

    /// DELETE: no rule.
    public func clear() { replace([]) }

    /// What to do with one request: walk the rules in order; each matching rule fires with its probability; a
    /// latency-only rule that fires adds its delay and the walk goes on, the first error rule that fires ends it.
    /// A rule with a count is spent by each firing and removed with its last.
    public func decide(service: String, operation: String, region: String,
                       random: () -> Double = { Double.random(in: 0..<1) }) -> FaultDecision? {
        rules.withLock { rules in
            var delay = 0
            var error: AWSError?
            var index = 0
            while index < rules.count {
                let rule = rules[index]
                guard rule.matches(service: service, operation: operation, region: region),
                      rule.probability >= 1 || random() < rule.probability else {
                    index += 1
                    continue
                }
                delay += rule.latencyMs
                if let count = rule.count {
                    if count <= 1 {
                        rules.remove(at: index)
                        index -= 1
                    } else {
                        rules[index].count = count - 1
                    }
                }
                index += 1
                if let e = rule.awsError {
                    error = e
                    break
                }
            }
            if rules.isEmpty { active.store(false, ordering: .relaxed) }
            guard delay > 0 || error != nil else { return nil }
            return FaultDecision(latencyMs: delay, error: error)
        }
    }

    /// The gateway's check for a request it has identified: wait and throw the error of the rules that fire. An
    /// operation the gateway could not name without the body (a signed Query request: `Action` is in the form) is read
    /// from the form, and the body kept for the service.
    public func apply(to request: inout AWSRequest, service: String, operation: inout String) async throws {
        if operation == "-", rules.withLock({ $0.contains { $0.service == service && $0.operation != nil } }),
           request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let buffer = try await request.body.collect(limit: 8 << 20)
            request.body = RequestBody(buffer: buffer)
            if let action = Percent.parseQuery(String(buffer: buffer), plusIsSpace: true)?.first(where: { $0.0 == "Action" }) {
                operation = action.1
            }
        }
        guard let decision = decide(service: service, operation: operation, region: request.caller.region) else { return }
        if decision.latencyMs > 0 { try await Task.sleep(for: .milliseconds(decision.latencyMs)) }
        if let error = decision.error { throw error }
    }

    /// The installed rules as GET lists them.
    public var json: String { "[" + installed.map(\.json).joined(separator: ",") + "]" }
}

public struct FaultDecision: Sendable, Equatable {
    public var latencyMs: Int
    public var error: AWSError?
}
