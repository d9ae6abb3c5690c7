import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
@testable import Core

// The init hooks' progress as /_cloudless/health (`init`) and /_localstack/init report it, and the faults endpoint.

private final class Sink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private struct Writer: ResponseBodyWriter {
    let sink: Sink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

private func call(_ endpoints: InternalEndpoints, _ method: HTTPRequest.Method, _ path: String,
                  _ body: String = "") async throws -> (Int, Any) {
    let response = try #require(await endpoints.handle(method: method, path: path, body: RequestBody(buffer: ByteBuffer(string: body))))
    let sink = Sink()
    try await response.body.write(Writer(sink: sink))
    return (response.status.code, try JSONSerialization.jsonObject(with: Data(sink.bytes)))
}

@Suite struct InitProgressTests {
    @Test func withoutScriptsInitIsDone() async throws {
        let endpoints = InternalEndpoints(services: [], clock: EmulatorClock(), startedAt: .now)
        let (_, health) = try await call(endpoints, .get, "/_cloudless/health")
        #expect((health as? [String: Any])?["init"] as? String == "done")
        let (_, ready) = try await call(endpoints, .get, "/_localstack/init/ready")
        #expect((ready as? [String: Any])?["completed"] as? Bool == true)
    }

    @Test func runningThenFailedWhenOneScriptFails() async throws {
        let progress = InitProgress(scripts: ["01-a.sh", "02-b.py"])
        let endpoints = InternalEndpoints(services: [], clock: EmulatorClock(), startedAt: .now, initProgress: progress)
        #expect(progress.summary == "running")
        progress.set(0, .error)
        progress.set(1, .running)
        let (_, during) = try await call(endpoints, .get, "/_localstack/init")
        let body = try #require(during as? [String: Any])
        #expect((body["completed"] as? [String: Bool])?["READY"] == false)
        let scripts = try #require(body["scripts"] as? [[String: String]])
        #expect(scripts == [["stage": "READY", "name": "01-a.sh", "state": "ERROR"], ["stage": "READY", "name": "02-b.py", "state": "RUNNING"]])
        progress.set(1, .successful)
        progress.finish()
        #expect(progress.summary == "failed")
        let (_, health) = try await call(endpoints, .get, "/_cloudless/health")
        #expect((health as? [String: Any])?["init"] as? String == "failed")
        let (status, _) = try await call(endpoints, .get, "/_localstack/init/nosuchstage")
        #expect(status == 404)
    }

    @Test func allSuccessfulIsDone() {
        let progress = InitProgress(scripts: ["a.sh"])
        progress.set(0, .successful)
        #expect(progress.summary == "running")
        progress.finish()
        #expect(progress.summary == "done")
    }
}

@Suite struct FaultsEndpointTests {
    private func endpoints() -> InternalEndpoints {
        InternalEndpoints(services: [], clock: EmulatorClock(), startedAt: .now,
                          faults: FaultInjector(services: ["s3", "sqs"]))
    }

    @Test func postReplacesPatchAppendsDeleteClears() async throws {
        let e = endpoints()
        var (status, list) = try await call(e, .post, "/_cloudless/faults", #"[{"service": "s3", "error": "SlowDown"}]"#)
        #expect(status == 200 && (list as? [[String: Any]])?.count == 1)
        (status, list) = try await call(e, .patch, "/_cloudless/faults", #"[{"service": "sqs", "latencyMs": 10}]"#)
        #expect((list as? [[String: Any]])?.map { $0["service"] as? String } == ["s3", "sqs"])
        (status, list) = try await call(e, .post, "/_cloudless/faults", #"[{"service": "sqs", "error": "ThrottlingException"}]"#)
        let rules = try #require(list as? [[String: Any]])
        #expect(rules.count == 1 && rules[0]["status"] as? Int == 400 && rules[0]["message"] as? String == "Rate exceeded")
        (status, list) = try await call(e, .get, "/_cloudless/faults")
        #expect((list as? [[String: Any]])?.count == 1)
        (status, list) = try await call(e, .delete, "/_cloudless/faults")
        #expect(status == 200 && (list as? [Any])?.isEmpty == true && !e.faults.isActive)
    }

    @Test func aBadRuleInstallsNothing() async throws {
        let e = endpoints()
        _ = try await call(e, .post, "/_cloudless/faults", #"[{"service": "s3", "error": "SlowDown"}]"#)
        let (status, body) = try await call(e, .post, "/_cloudless/faults",
                                            #"[{"service": "sqs", "error": "ThrottlingException"}, {"service": "sqs", "probability": 2}]"#)
        #expect(status == 400)
        #expect((body as? [String: Any])?["error"] as? String == "rule 1: 'probability' must be between 0 and 1")
        #expect(e.faults.installed.map(\.service) == ["s3"])
    }
}
