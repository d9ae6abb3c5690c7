import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Testing
@testable import ELBv2

@Suite struct PoolBookTests {
    @Test func idleConnectionsExpireAfterTheIdleTimeout() {
        var b = PoolBook<Int>()
        b.maxAge = 100
        do { let r = b.admit("t:1", now: 0); #expect(r) }
        do { let r = b.giveBack("t:1", 1, opened: 0, now: 0); #expect(r == nil) }
        do { let r = b.take("t:1", now: 0.9); #expect(r.idle?.connection == 1) }  // reused within the idle time
        do { let r = b.giveBack("t:1", 1, opened: 0, now: 1); #expect(r == nil) }
        do { let r = b.sweep(now: 1.9); #expect(r.isEmpty) }
        do { let r = b.sweep(now: 2.0); #expect(r == [1]) }  // 1 s idle: closed
        #expect(b.idleCount == 0 && b.open["t:1"] == nil)
        // Found expired on take: handed back for closing, not reused.
        do { let r = b.admit("t:1", now: 3); #expect(r) }
        _ = b.giveBack("t:1", 2, opened: 3, now: 3)
        let taken = b.take("t:1", now: 5)
        #expect(taken.idle == nil && taken.expired == [2] && b.open["t:1"] == nil)
    }

    @Test func aConnectionPastItsMaxAgeIsNotKept() {
        var b = PoolBook<Int>()
        do { let r = b.admit("t:1", now: 0); #expect(r) }
        do { let r = b.giveBack("t:1", 7, opened: 0, now: 0.5); #expect(r == nil) }
        do { let r = b.take("t:1", now: 0.6); #expect(r.idle != nil) }
        // Busy past its max age: closed when its answer ends, which frees a one-connection-at-a-time target.
        do { let r = b.giveBack("t:1", 7, opened: 0, now: 1.2); #expect(r == 7) }
        #expect(b.open["t:1"] == nil)
    }

    @Test func newestIdleFirstAndThePerTargetCap() {
        var b = PoolBook<Int>()
        b.maxAge = 100
        for i in 0..<8 { let r = b.admit("t:1", now: 0); #expect(r, "connection \(i)") }
        do { let r = b.admit("t:1", now: 0); #expect(!r) }  // the 9th request goes one-shot
        do { let r = b.admit("u:1", now: 0); #expect(r) }  // the cap is per target
        _ = b.giveBack("t:1", 1, opened: 0, now: 0.1)
        _ = b.giveBack("t:1", 2, opened: 0, now: 0.2)
        do { let r = b.take("t:1", now: 0.3); #expect(r.idle?.connection == 2) }
        b.forget("t:1")  // closed: room for one more
        do { let r = b.admit("t:1", now: 0.3); #expect(r) }
        do { let r = b.drain("t:1"); #expect(r == [1]) }
        #expect(b.open["t:1"] == 7)
    }

    @Test func theCallersLoopIsPreferredAmongFreshIdleConnections() {
        var b = PoolBook<Int>()
        b.maxAge = 100
        for c in 1...3 {
            _ = b.admit("t:1", now: 0)
            _ = b.giveBack("t:1", c, opened: 0, now: 0)
        }
        do { let r = b.take("t:1", now: 0.1) { $0 == 1 }; #expect(r.idle?.connection == 1) }  // preferred, though oldest
        do { let r = b.take("t:1", now: 0.1) { $0 == 9 }; #expect(r.idle?.connection == 3) }  // none preferred: the newest
        // Expired ones are handed back for closing even behind a fresh one.
        _ = b.giveBack("t:1", 1, opened: 0, now: 0.5)
        let r = b.take("t:1", now: 1.2) { _ in true }
        #expect(r.idle?.connection == 1 && r.expired == [2] && b.open["t:1"] == 2)  // 1 and 3 busy
    }

    @Test func aTargetWithoutKeepAliveGetsOneShotConnectionsForAWhile() {
        var b = PoolBook<Int>()
        b.markNoKeepAlive("t:1", now: 10)
        do { let r = b.admit("t:1", now: 11); #expect(!r) }
        do { let r = b.admit("t:1", now: 39.9); #expect(!r) }
        do { let r = b.admit("t:1", now: 40); #expect(r) }
    }
}

/// A scripted HTTP target on a raw socket: it records each request head and the connection it came on, and
/// answers as `answer` says (nil: close the connection without a byte).
final class ScriptedTarget: @unchecked Sendable {
    struct Seen: Sendable { var connection: Int; var head: String }
    let port: Int
    let seen = Mutex<[Seen]>([])
    let answer: @Sendable (_ connection: Int, _ requestOnConnection: Int) -> String?
    private let fd: Int32

    let closeAfterAnswer: Bool

    init(closeAfterAnswer: Bool = false, answer: @escaping @Sendable (Int, Int) -> String?) throws {
        self.answer = answer
        self.closeAfterAnswer = closeAfterAnswer
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: a.sin_port))
        self.fd = fd
        let listener = fd
        Thread.detachNewThread { [self] in
            var n = 0
            while true {
                let c = accept(listener, nil, nil)
                if c < 0 { return }
                n += 1
                let id = n
                Thread.detachNewThread { self.serve(c, id) }
            }
        }
    }

    private func serve(_ c: Int32, _ id: Int) {
        defer { close(c) }
        var pending = [UInt8]()
        var served = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            while let end = Self.headEnd(pending) {
                let head = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end)
                served += 1
                seen.withLock { $0.append(Seen(connection: id, head: head)) }
                guard let out = answer(id, served) else { return }
                // `pause` in an answer: what comes before it is sent, then the rest 100 ms later; `apart`: the rest is
                // sent by a second call at once (with Nagle on, held until the first is acknowledged).
                for (i, piece) in out.components(separatedBy: Self.pause).enumerated() {
                    if i > 0 { Thread.sleep(forTimeInterval: 0.1) }
                    for part in piece.components(separatedBy: Self.apart) {
                        _ = part.utf8CString.withUnsafeBufferPointer { send(c, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
                    }
                }
                if closeAfterAnswer || out.hasPrefix("HTTP/1.0") || out.lowercased().contains("connection: close") { return }
            }
            let n = read(c, &buffer, buffer.count)
            if n <= 0 { return }
            pending += buffer[..<n]
        }
    }

    static func headEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
        return nil
    }

    var connections: Set<Int> { Set(seen.withLock { $0.map(\.connection) }) }
    var heads: [String] { seen.withLock { $0.map(\.head) } }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    static let pause = "\u{1}"
    static let apart = "\u{2}"
}

final class CollectingWriter: ResponseBodyWriter {
    var bytes = ""
    func write(_ buffer: ByteBuffer) async throws { bytes += String(buffer: buffer) }
    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

@Suite struct UpstreamPoolTests {
    /// A pool whose connections stay fresh for a minute: these tests are about reuse, not expiry (PoolBookTests cover
    /// that on a clock of their own), and a loaded machine can take more than the real 1 s between two requests.
    static func pool() -> UpstreamPool {
        let pool = UpstreamPool()
        pool.book.withLock { $0.idleTimeout = 60; $0.maxAge = 60 }
        return pool
    }

    func get(_ pool: UpstreamPool, _ target: ScriptedTarget, method: String = "GET") async throws -> String {
        var headers = HTTPFields()
        headers[HTTPField.Name("Host")!] = "t"
        let r = try await Upstream.exchange(pool: pool, host: "127.0.0.1", port: target.port, method: method, uri: "/", headers: headers,
                                            body: nil, timeoutSeconds: 5)
        let w = CollectingWriter()
        try await r.body.write(w)
        return "\(r.status.code) \(w.bytes)"
    }

    @Test func requestsReuseOneKeptAliveConnection() async throws {
        let target = try ScriptedTarget { _, _ in ScriptedTarget.ok }
        defer { target.stop() }
        let pool = Self.pool()
        for _ in 0..<5 { #expect(try await get(pool, target) == "200 ok") }
        #expect(target.connections.count == 1)
        #expect(!target.heads.contains { $0.lowercased().contains("connection: close") })
        #expect(pool.book.withLock { $0.idleCount } == 1)
        // A health check borrows the idle connection (a one-connection-at-a-time target is not held against it).
        #expect(await Upstream.status(pool: pool, host: "127.0.0.1", port: target.port, path: "/health", timeoutSeconds: 2) == .responseCode(200))
        #expect(target.connections.count == 1)
        #expect(pool.book.withLock { $0.idleCount } == 1)
    }

    @Test func healthChecksWithNothingIdleUseOneShotConnections() async throws {
        let target = try ScriptedTarget { _, _ in ScriptedTarget.ok }
        defer { target.stop() }
        let pool = Self.pool()
        #expect(await Upstream.status(pool: pool, host: "127.0.0.1", port: target.port, path: "/health", timeoutSeconds: 2) == .responseCode(200))
        #expect(target.heads.last?.lowercased().contains("connection: close") == true)
        #expect(pool.book.withLock { $0.idleCount == 0 && $0.open.isEmpty })
    }

    @Test(arguments: ["HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"])
    func anAnswerWithoutKeepAliveIsNotPooled(answer: String) async throws {
        let target = try ScriptedTarget { _, _ in answer }
        defer { target.stop() }
        let pool = Self.pool()
        #expect(try await get(pool, target) == "200 ok")
        #expect(pool.book.withLock { $0.idleCount == 0 && $0.open.isEmpty })
        // Marked: the next request goes one-shot, saying so.
        #expect(try await get(pool, target) == "200 ok")
        #expect(target.connections.count == 2)
        #expect(target.heads.last?.lowercased().contains("connection: close") == true)
        #expect(pool.book.withLock { $0.noKeepAliveUntil["127.0.0.1:\(target.port)"] != nil })
    }

    @Test func anAnswerEndedByClosingIsNotPooled() async throws {
        // No length: the body ends with the connection, which the target closes without saying so beforehand.
        let target = try ScriptedTarget(closeAfterAnswer: true) { _, _ in "HTTP/1.1 200 OK\r\n\r\nok" }
        defer { target.stop() }
        let pool = Self.pool()
        #expect(try await get(pool, target) == "200 ok")
        #expect(pool.book.withLock { $0.idleCount == 0 && $0.open.isEmpty })
    }

    @Test func aReusedConnectionClosedBeforeAnyAnswerIsRetriedOnceOnANewOne() async throws {
        // The first connection answers once, then closes when the second request arrives on it.
        let target = try ScriptedTarget { connection, n in connection == 1 && n == 2 ? nil : ScriptedTarget.ok }
        defer { target.stop() }
        let pool = Self.pool()
        #expect(try await get(pool, target) == "200 ok")
        #expect(try await get(pool, target) == "200 ok")
        #expect(target.connections == [1, 2])
        #expect(target.heads.count == 3)
        #expect(pool.book.withLock { $0.open["127.0.0.1:\(target.port)"] } == 1)
    }

    @Test func aConnectionClosedWhileIdleIsNotUsed() async throws {
        // Every connection closes right after its first answer, without saying so.
        let target = try ScriptedTarget(closeAfterAnswer: true) { _, _ in ScriptedTarget.ok }
        defer { target.stop() }
        let pool = Self.pool()
        for _ in 0..<3 {
            #expect(try await get(pool, target) == "200 ok")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(target.heads.count == 3)  // none was sent on a connection already closed
        #expect(target.connections.count == 3)
        #expect(pool.book.withLock { $0.open["127.0.0.1:\(target.port)"] } == 1)
    }
}
