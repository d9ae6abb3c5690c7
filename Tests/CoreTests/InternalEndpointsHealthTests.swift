import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
@testable import Core

// GET /_cloudless/health names the version and the commit the binary was built from (`cloudless --version` says the
// same; the executable passes BuildInfo.commit in).

private final class HealthSink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private struct HealthWriter: ResponseBodyWriter {
    let sink: HealthSink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

private func health(_ endpoints: InternalEndpoints) async throws -> [String: Any] {
    let response = try #require(await endpoints.handle(method: .get, path: "/_cloudless/health",
                                                       body: RequestBody(buffer: ByteBuffer())))
    #expect(response.status == .ok)
    let sink = HealthSink()
    try await response.body.write(HealthWriter(sink: sink))
    return try #require(try JSONSerialization.jsonObject(with: Data(sink.bytes)) as? [String: Any])
}

@Suite struct InternalEndpointsHealthTests {
    @Test func healthNamesVersionAndCommit() async throws {
        let body = try await health(InternalEndpoints(services: [], clock: EmulatorClock(), startedAt: .now, commit: "abc1234-dirty"))
        #expect(body["status"] as? String == "ok")
        #expect(body["version"] as? String == InternalEndpoints.version)
        #expect(body["commit"] as? String == "abc1234-dirty")
    }

    @Test func commitIsUnknownWhenNotGiven() async throws {
        let body = try await health(InternalEndpoints(services: [], clock: EmulatorClock(), startedAt: .now))
        #expect(body["commit"] as? String == "unknown")
    }

    @Test func commitIsQuotedAsJSON() async throws {
        let body = try await health(InternalEndpoints(services: [], clock: EmulatorClock(), startedAt: .now, commit: "a\"b\\c"))
        #expect(body["commit"] as? String == "a\"b\\c")
    }
}
