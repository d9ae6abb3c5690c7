import Hummingbird
import HTTPTypes
import NIOCore
import Foundation

/// `/_cloudless/*` and the LocalStack-compatible `/_localstack/health`: health, reset and the clock.
public struct InternalEndpoints: Sendable {
    public static let version = "0.1.0"
    let services: [any AWSService]
    let clock: EmulatorClock
    let startedAt: ContinuousClock.Instant
    /// The commit the binary was built from (BuildInfo, which only the executable imports: a new commit then
    /// recompiles no service).
    let commit: String
    /// Fault rules (`/_cloudless/faults`), which the gateway checks on every request.
    public let faults: FaultInjector
    /// The init hooks' progress (`init` in the health report, `/_localstack/init`).
    let initProgress: InitProgress
    /// `/_cloudless/snapshots…` (SnapshotEndpoints.swift) and the gate the gateway holds around requests.
    public var snapshots: SnapshotStore?

    public init(services: [any AWSService], clock: EmulatorClock, startedAt: ContinuousClock.Instant, commit: String = "unknown",
                faults: FaultInjector? = nil, initProgress: InitProgress = InitProgress()) {
        self.services = services
        self.clock = clock
        self.startedAt = startedAt
        self.commit = commit
        self.faults = faults ?? FaultInjector(services: Set(services.map(\.signingName)))
        self.initProgress = initProgress
    }

    func handle(method: HTTPRequest.Method, path: String, body: RequestBody) async -> Response? {
        switch (method, path) {
        case (.get, "/_cloudless/health"), (.head, "/_cloudless/health"):
            let uptime = ContinuousClock.now - startedAt
            let seconds = Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18
            let list = services.map { "\(JSONString.quote($0.signingName)):\"running\"" }.joined(separator: ",")
            return json("{\"status\":\"ok\",\"version\":\"\(Self.version)\",\"commit\":\(JSONString.quote(commit)),\"uptime\":\((seconds * 1000).rounded() / 1000),\"services\":{\(list)},\"init\":\"\(initProgress.summary)\"}")
        case (.get, "/_localstack/health"), (.head, "/_localstack/health"):
            let list = services.map { "\(JSONString.quote($0.signingName)):\"running\"" }.joined(separator: ",")
            return json("{\"services\":{\(list)},\"edition\":\"community\",\"version\":\"cloudless-\(Self.version)\"}")
        case (.post, "/_cloudless/reset"), (.post, "/_localstack/state/reset"):
            do {
                // Exclusive like a restore: no request or background unit of work straddles the reset.
                if let snapshots {
                    try await snapshots.replacingState { for s in services { try await s.reset() } }
                } else {
                    for s in services { try await s.reset() }
                }
                clock.resetOffset()
                return json("{\"reset\":true}")
            } catch {
                return json("{\"error\":\(JSONString.quote("\(error)"))}", status: .internalServerError)
            }
        case (.get, "/_cloudless/clock"):
            return json("{\"now\":\(clock.now()),\"offset\":\(clock.currentOffset)}")
        case (.post, "/_cloudless/clock"):
            // {"advance": seconds}: move the emulator's clock forward.
            var buffer = ByteBuffer()
            do {
                for try await var chunk in body where buffer.readableBytes < 65536 { buffer.writeBuffer(&chunk) }
            } catch {
                return json("{\"error\":\"unreadable body\"}", status: .badRequest)
            }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any],
                  let seconds = (obj["advance"] as? NSNumber)?.doubleValue else {
                return json("{\"error\":\"expected {\\\"advance\\\": seconds}\"}", status: .badRequest)
            }
            clock.advance(by: seconds)
            return json("{\"now\":\(clock.now()),\"offset\":\(clock.currentOffset)}")
        case (_, "/_cloudless/faults"):
            return await faultsResponse(method: method, body: body)
        case (.get, "/_localstack/init"):
            return json(initProgress.localStackJSON)
        case (.get, _) where path.hasPrefix("/_localstack/init/"):
            let stage = String(path.dropFirst("/_localstack/init/".count))
            guard let answer = initProgress.localStackJSON(stage: stage) else {
                return json("{\"error\":\(JSONString.quote("no such stage \(stage)"))}", status: .notFound)
            }
            return json(answer)
        default:
            return await snapshots?.handle(method: method, path: path)
        }
    }

    /// GET lists the rules, POST replaces them, PATCH adds to them, DELETE removes them all. A body with any bad rule
    /// installs nothing.
    private func faultsResponse(method: HTTPRequest.Method, body: RequestBody) async -> Response {
        switch method {
        case .get: return json(faults.json)
        case .delete:
            faults.clear()
            return json("[]")
        case .post, .patch:
            let rules: [FaultRule]
            do {
                let buffer = try await body.collect(limit: 1 << 20)
                rules = try FaultRule.parse(Data(buffer.readableBytesView), services: faults.services)
            } catch let e as FaultRuleError {
                return json("{\"error\":\(JSONString.quote(e.message))}", status: .badRequest)
            } catch {
                return json("{\"error\":\"unreadable body (at most 1 MiB)\"}", status: .badRequest)
            }
            if method == .post { faults.replace(rules) } else { faults.append(rules) }
            return json(faults.json)
        default:
            return json("{\"error\":\"use GET, POST, PATCH or DELETE\"}", status: .methodNotAllowed)
        }
    }

    private func json(_ s: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers.set("x-amz-request-id", RequestID.next())
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: s)))
    }
}
