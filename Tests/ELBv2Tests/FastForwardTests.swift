import Core
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization
import Testing
@testable import ELBv2

/// The listener port's fast path (`FastForward`): plain GETs relayed by NIO handlers alone, everything else by
/// Hummingbird's responder, answers in request order on one client connection.
@Suite struct FastForwardTests {
    /// A listener on its own port forwarding to `target` (registered, health checks off: only the tests' requests
    /// reach it), running.
    struct Setup {
        let h: Harness
        let address: (String, Int)
        let tg: String

        init(_ target: ScriptedTarget, attributes: [String: String] = [:]) async throws {
            h = try Harness()
            let (listener, tg) = try h.forwarding(port: target.port, interval: 30)
            self.tg = tg
            try h.call("ModifyTargetGroup", ["TargetGroupArn": tg, "HealthCheckEnabled": "false"])
            try h.call("RegisterTargets", ["TargetGroupArn": tg, "Targets.member.1.Id": "127.0.0.1"])
            for (i, (k, v)) in attributes.enumerated() {
                let lb = h.service.store.snapshot.listeners[listener]!.loadBalancerArn
                try h.call("ModifyLoadBalancerAttributes", ["LoadBalancerArn": lb, "Attributes.member.\(i + 1).Key": k, "Attributes.member.\(i + 1).Value": v])
            }
            await h.service.runtime.start()
            let bound = h.service.runtime.boundAddresses.first { $0.0 == listener }!.1
            address = ("127.0.0.1", Int(bound.split(separator: ":").last!)!)
        }

        var fast: Int { h.service.runtime.fastRelayed.load(ordering: .relaxed) }

        func stop() async { await h.service.runtime.stop() }
    }

    static func requests(_ target: ScriptedTarget) -> [ScriptedTarget.Seen] { target.seen.withLock { $0 } }

    @Test func plainGETsGoTheFastWayOnOneKeptAliveTargetConnection() async throws {
        let target = try ScriptedTarget { _, _ in ScriptedTarget.ok }
        defer { target.stop() }
        let s = try await Setup(target)
        let client = try RawClient(port: s.address.1)
        for i in 0..<5 {
            try await client.send("GET /p\(i)?q=1 HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n")
            let r = try await client.response()
            #expect(r.status == 200 && r.body == "ok" && r.headers["content-length"] == "2")
        }
        #expect(s.fast == 5)
        let seen = Self.requests(target)
        #expect(seen.count == 5 && Set(seen.map(\.connection)).count == 1)
        let head = seen[0].head.lowercased()
        #expect(head.hasPrefix("get /p0?q=1 http/1.1\r\n"))
        #expect(head.contains("host: app.example\r\n"))
        #expect(head.contains("x-forwarded-for: 10.0.0.9, 127.0.0.1\r\n"))
        #expect(head.contains("x-forwarded-proto: http\r\n") && head.contains("x-forwarded-port: \(s.address.1)\r\n"))
        #expect(head.contains("x-amzn-trace-id: root=1-"))
        await s.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrderWhicheverWayEachGoes() async throws {
        let count = Mutex(0)
        let target = try ScriptedTarget { _, _ in
            let n = count.withLock { $0 += 1; return $0 }
            return "HTTP/1.1 200 OK\r\nContent-Length: \(String(n).count)\r\n\r\n\(n)"
        }
        defer { target.stop() }
        let s = try await Setup(target)
        let client = try RawClient(port: s.address.1)
        // A DELETE goes by Hummingbird's responder; the GETs around it by the fast path.
        try await client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nDELETE /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n")
        var bodies: [String] = []
        for _ in 0..<4 { bodies.append(try await client.response().body) }
        #expect(bodies == ["1", "2", "3", "4"])
        #expect(Self.requests(target).map { $0.head.components(separatedBy: "\r\n")[0] } == ["GET /a HTTP/1.1", "DELETE /b HTTP/1.1", "GET /c HTTP/1.1", "GET /d HTTP/1.1"])
        #expect(s.fast >= 1)
        await s.stop()
    }

    @Test func aLargeAnswerStreamsToASlowClientWhole() async throws {
        let body = String(repeating: "0123456789abcdef", count: 256 * 1024)  // 4 MiB
        let target = try ScriptedTarget { _, _ in "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body }
        defer { target.stop() }
        let s = try await Setup(target)
        let client = try RawClient(port: s.address.1)
        try await client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .milliseconds(300))  // the client reads nothing for a while: the target's reads wait
        let r = try await client.response()
        #expect(r.status == 200 && r.body.utf8.count == body.utf8.count && r.body == body)
        try await client.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await client.response().body == body)
        #expect(s.fast == 2)
        await s.stop()
    }

    @Test func aChunkedAnswerIsFramedAgainForTheClient() async throws {
        let target = try ScriptedTarget { _, _ in "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n" + ScriptedTarget.pause + "3\r\n!!!\r\n0\r\n\r\n" }
        defer { target.stop() }
        let s = try await Setup(target)
        let client = try RawClient(port: s.address.1)
        for _ in 0..<2 {
            try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            let r = try await client.response()
            #expect(r.body == "ok!!!" && r.headers["transfer-encoding"] == "chunked")
        }
        #expect(Set(Self.requests(target).map(\.connection)).count == 1)
        await s.stop()
    }

    @Test func aKeptConnectionTheTargetClosedIsReplacedAndTheGETSentAgain() async throws {
        // The first connection answers once, then closes when the second request arrives on it.
        let target = try ScriptedTarget { connection, n in connection == 1 && n == 2 ? nil : ScriptedTarget.ok }
        defer { target.stop() }
        let s = try await Setup(target)
        let client = try RawClient(port: s.address.1)
        for _ in 0..<3 {
            try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.response().body == "ok")
        }
        #expect(s.fast == 3)
        #expect(Set(Self.requests(target).map(\.connection)).count == 2)
        await s.stop()
    }

    @Test func aNewConnectionClosedAfterTakingTheRequestIs502AndTheGETIsNotSentAgain() async throws {
        let target = try ScriptedTarget { _, _ in nil }
        defer { target.stop() }
        let s = try await Setup(target)
        let client = try RawClient(port: s.address.1)
        try await client.send("GET /crash HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try await client.response()
        #expect(r.status == 502 && r.body.contains("502 Bad Gateway"))
        #expect(Self.requests(target).count == 1 && s.fast == 1)
        await s.stop()
    }

    @Test func aTargetThatDoesNotAnswerWithinTheIdleTimeoutGets504() async throws {
        let target = try ScriptedTarget { _, _ in
            Thread.sleep(forTimeInterval: 2.5)
            return ScriptedTarget.ok
        }
        defer { target.stop() }
        let s = try await Setup(target, attributes: ["idle_timeout.timeout_seconds": "1"])
        let client = try RawClient(port: s.address.1)
        try await client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try await client.response()
        #expect(r.status == 504 && r.body.contains("504 Gateway Time-out") && r.headers["server"] == "awselb/2.0")
        // The client's connection still serves.
        try await client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await client.response().status == 504)
        #expect(s.fast == 2)
        await s.stop()
    }

    @Test func aTargetNotListeningGets502() async throws {
        let target = try ScriptedTarget { _, _ in ScriptedTarget.ok }
        target.stop()  // its port is closed now
        let s = try await Setup(target)
        let client = try RawClient(port: s.address.1)
        try await client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let r = try await client.response()
        #expect(r.status == 502 && r.body.contains("502 Bad Gateway"))
        #expect(s.fast == 1)
        await s.stop()
    }
}

/// An HTTP/1.1 client on a raw socket, so a test controls pipelining and when answers are read. Its blocking reads and
/// writes run on a thread of their own: on Swift's cooperative pool (two threads here) they would starve the servers
/// and the other tests running beside them.
final class RawClient: @unchecked Sendable {
    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    struct Failure: Error { let reason: String }

    private let fd: Int32
    private var pending = [UInt8]()

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        a.sin_port = UInt16(port).bigEndian
        let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { throw Failure(reason: "connect: \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) async throws { try await Self.offPool { try self.sendNow(text) } }

    /// The next answer, its body read by Content-Length or chunks.
    func response() async throws -> Answer { try await Self.offPool { try self.responseNow() } }

    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in Thread.detachNewThread { c.resume(with: Result { try body() }) } }
    }

    private func sendNow(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(reason: "send: \(errno)") }
            sent += n
        }
    }

    private func fill() throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { throw Failure(reason: "read: \(n) \(errno)") }
        pending += buffer[..<n]
    }

    private func line() throws -> String {
        while true {
            if let i = pending.firstIndex(of: 10), i > 0, pending[i - 1] == 13 {
                let s = String(decoding: pending[..<(i - 1)], as: UTF8.self)
                pending.removeFirst(i + 1)
                return s
            }
            try fill()
        }
    }

    private func bytes(_ count: Int) throws -> [UInt8] {
        while pending.count < count { try fill() }
        defer { pending.removeFirst(count) }
        return Array(pending[..<count])
    }

    private func responseNow() throws -> Answer {
        let status = try line().split(separator: " ")[1]
        var headers: [String: String] = [:]
        while case let l = try line(), !l.isEmpty {
            let kv = l.split(separator: ":", maxSplits: 1)
            headers[kv[0].lowercased()] = kv[1].trimmingCharacters(in: .whitespaces)
        }
        var body = [UInt8]()
        if let length = headers["content-length"].flatMap(Int.init) {
            body = try bytes(length)
        } else if headers["transfer-encoding"] == "chunked" {
            while let size = Int(try line(), radix: 16), size > 0 {
                body += try bytes(size)
                _ = try line()
            }
            _ = try line()
        }
        return Answer(status: Int(status) ?? 0, headers: headers, body: String(decoding: body, as: UTF8.self))
    }
}

/// On Cloudless's port the fast path takes only plain GETs whose Host is a load balancer's DNS name; the rest go on
/// up to the gateway (here a responder answering 299).
@Suite struct FastForwardByHostTests {
    struct PassedUp: HTTPResponder {
        typealias Context = BasicRequestContext
        func respond(to request: Request, context: Context) async throws -> Response {
            Response(status: .init(code: 299), headers: [.contentLength: "7"], body: .init(byteBuffer: ByteBuffer(string: "gateway")))
        }
    }

    @Test func onlyUnsignedGETsToALoadBalancersHostAreTaken() async throws {
        let target = try ScriptedTarget { _, _ in ScriptedTarget.ok }
        defer { target.stop() }
        let s = try await FastForwardTests.Setup(target)
        let plane = s.h.service.runtime
        let bound = Once<Int?>()
        let app = Application(
            responder: PassedUp(),
            server: HTTPServerBuilder { responder in
                BelowCodecChannel(inner: HTTP1Channel(responder: responder)) { [FastForward(entry: .byHost, plane: plane)] }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in bound.fulfil(channel.localAddress?.port) },
            logger: Logger(label: "test"))
        let server = Task { try? await app.run() }
        defer { server.cancel() }
        let port = try #require(await bound.value)
        let dns = try #require(s.h.service.store.snapshot.loadBalancers.values.first?.dnsName)
        let client = try RawClient(port: port)
        func get(_ path: String, _ headers: String) async throws -> String {
            try await client.send("GET \(path) HTTP/1.1\r\n\(headers)\r\n")
            return try await client.response().body
        }
        #expect(try await get("/", "Host: \(dns):8080\r\n") == "ok")
        #expect(try await get("/", "Host: \(dns.uppercased())\r\n") == "gateway")  // as the gateway: its suffix, as sent
        #expect(try await get("/", "Host: 127.0.0.1:4566\r\n") == "gateway")
        #expect(try await get("/", "Host: \(dns)\r\nAuthorization: AWS4-HMAC-SHA256 Credential=x\r\n") == "gateway")
        #expect(try await get("/_cloudless/health", "Host: \(dns)\r\n") == "gateway")
        #expect(try await get("/", "Host: unknown-1.us-east-1.elb.localhost\r\n") == "gateway")  // the gateway's 404
        #expect(try await get("/again", "Host: \(dns)\r\n") == "ok")
        #expect(s.fast == 2)
        let heads = FastForwardTests.requests(target).map(\.head)
        #expect(heads.count == 2 && heads[0].contains("X-Forwarded-Port: 8080\r\n") && heads[1].contains("X-Forwarded-Port: 80\r\n"))
        await s.stop()
    }
}
