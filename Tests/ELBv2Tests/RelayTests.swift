import Core
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Testing
@testable import ELBv2

/// How an answer is relayed: whole when it came in one read with its head, else streamed as it arrives.
@Suite struct RelayTests {
    func exchange(_ pool: UpstreamPool, _ target: ScriptedTarget, relayed: Counter) async throws -> AWSResponse {
        var headers = HTTPFields()
        headers[HTTPField.Name("Host")!] = "t"
        return try await Upstream.exchange(pool: pool, host: "127.0.0.1", port: target.port, method: "GET", uri: "/", headers: headers,
                                           body: nil, timeoutSeconds: 5, relayed: { relayed.add() })
    }

    @Test func aWholeAnswerFreesItsConnectionBeforeItsBodyIsPassedOn() async throws {
        let target = try ScriptedTarget { _, _ in ScriptedTarget.ok }
        defer { target.stop() }
        let pool = UpstreamPoolTests.pool()
        let relayed = Counter()
        let r = try await exchange(pool, target, relayed: relayed)
        // Back in the pool, and counted as relayed, before anyone reads the body.
        #expect(pool.book.withLock { $0.idleCount } == 1)
        #expect(relayed.value == 1)
        let w = CollectingWriter()
        try await r.body.write(w)
        #expect(w.bytes == "ok" && r.status.code == 200 && r.headers[.contentLength] == "2")
        #expect(relayed.value == 1)
    }

    @Test func aChunkedAnswerInOneReadIsWholeToo() async throws {
        let target = try ScriptedTarget { _, _ in "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n" }
        defer { target.stop() }
        let pool = UpstreamPoolTests.pool()
        let r = try await exchange(pool, target, relayed: Counter())
        #expect(pool.book.withLock { $0.idleCount } == 1)
        #expect(r.headers[HTTPField.Name("Transfer-Encoding")!] == nil)  // hop by hop: the client side frames it again
        let w = CollectingWriter()
        try await r.body.write(w)
        #expect(w.bytes == "ok!!!")
    }

    @Test func anAnswerArrivingInPartsStreamsAndFreesItsConnectionAtItsEnd() async throws {
        let target = try ScriptedTarget { _, _ in "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel" + ScriptedTarget.pause + "lo" }
        defer { target.stop() }
        let pool = UpstreamPoolTests.pool()
        let relayed = Counter()
        let r = try await exchange(pool, target, relayed: relayed)
        #expect(r.body.contentLength == 5)
        // Still busy: its body has not all arrived.
        #expect(pool.book.withLock { $0.idleCount } == 0)
        #expect(relayed.value == 0)
        let w = CollectingWriter()
        try await r.body.write(w)
        #expect(w.bytes == "hello")
        #expect(pool.book.withLock { $0.idleCount } == 1)
        #expect(relayed.value == 1)
        // And the connection serves the next request.
        let again = try await exchange(pool, target, relayed: relayed)
        let w2 = CollectingWriter()
        try await again.body.write(w2)
        #expect(w2.bytes == "hello" && target.connections.count == 1)
    }

    @Test func aHeadAndBodyWrittenApartWithNagleAreNotDelayed() async throws {
        // The target's socket keeps Nagle on: its body waits for the head's ACK, which a kept-alive connection
        // delays by up to 40 ms unless the proxy asks for a quick one (the read ends without the answer's end).
        let target = try ScriptedTarget { _, _ in "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + ScriptedTarget.apart + "ok" }
        defer { target.stop() }
        let pool = UpstreamPoolTests.pool()
        _ = try await UpstreamPoolTests().get(pool, target)
        // A delayed ACK holds every request at least 40 ms (the kernel's minimum); a busy machine only adds time, so
        // the fastest of 20 tells whether the quick ACK works whatever the load.
        var fastest = Duration.seconds(60)
        for _ in 0..<20 {
            let started = ContinuousClock.now
            #expect(try await UpstreamPoolTests().get(pool, target) == "200 ok")
            fastest = min(fastest, ContinuousClock.now - started)
        }
        #expect(target.connections.count == 1)
        #expect(fastest < .milliseconds(30))
    }

    @Test func aHeadAloneIsAnsweredWithItsLengthAndNoBody() async throws {
        let target = try ScriptedTarget { _, _ in "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n" }
        defer { target.stop() }
        let pool = UpstreamPoolTests.pool()
        var headers = HTTPFields()
        headers[HTTPField.Name("Host")!] = "t"
        let r = try await Upstream.exchange(pool: pool, host: "127.0.0.1", port: target.port, method: "HEAD", uri: "/", headers: headers,
                                            body: nil, timeoutSeconds: 5)
        #expect(r.headers[.contentLength] == "7")
        let w = CollectingWriter()
        try await r.body.write(w)
        #expect(w.bytes.isEmpty)
        #expect(pool.book.withLock { $0.idleCount } == 1)
    }
}

final class Counter: Sendable {
    private let n = Mutex(0)
    func add() { n.withLock { $0 += 1 } }
    var value: Int { n.withLock { $0 } }
}
