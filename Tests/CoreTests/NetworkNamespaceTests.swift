#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing

@testable import Core

/// Skipped only where this host cannot make network namespaces (not root): with root they run.
@Suite(.enabled(if: NetworkNamespace.isSupported), .serialized) struct NetworkNamespaceTests {
    /// Two addresses in 127.0.1.0/24 no other test run is likely to hold.
    static func addresses() -> (String, String) {
        let x = Int.random(in: 2...120)
        return ("127.0.1.\(x)", "127.0.1.\(x + 120)")
    }

    /// One HTTP/1.0 GET over a plain socket in the test's (host) namespace; nil if it could not connect.
    static func get(_ host: String, _ port: Int, _ path: String) -> String? {
        let fd = TCP.socket()
        defer { close(fd) }
        guard TCP.connect(fd, host, port) else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: x\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        return readAll(fd)
    }

    static func readAll(_ fd: Int32) -> String? {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return data.isEmpty ? nil : String(decoding: data, as: UTF8.self) }
            if n == 0 { return String(decoding: data, as: UTF8.self) }
            data += buffer[0..<n]
        }
    }

    /// A web server on 127.0.0.1:3002 inside `namespace`, serving `marker` as /who.txt.
    static func serve(_ marker: String, in namespace: NetworkNamespace, _ supervisor: ProcessSupervisor) throws -> SupervisedProcess {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("netns-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try marker.write(toFile: dir + "/who.txt", atomically: true, encoding: .utf8)
        return try supervisor.spawn(
            executable: "/usr/bin/python3", arguments: ["-m", "http.server", "3002", "--bind", "127.0.0.1"],
            environment: ["PATH": "/usr/bin:/bin"], directory: dir, networkNamespace: namespace,
            output: { _ in }, onExit: { _ in })
    }

    static func eventually(_ body: () -> String?) async throws -> String? {
        for _ in 0..<300 {
            if let answer = body(), !answer.isEmpty { return answer }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @Test func twoTasksListenOnTheSamePortSideBySide() async throws {
        let (a, b) = Self.addresses()
        let supervisor = ProcessSupervisor()
        let first = try NetworkNamespace(hostAddress: a, ports: [3002], endpointPort: 0)
        defer { first.close() }
        let second = try NetworkNamespace(hostAddress: b, ports: [3002], endpointPort: 0)
        defer { second.close() }
        let one = try Self.serve("first", in: first, supervisor)
        defer { one.kill() }
        let two = try Self.serve("second", in: second, supervisor)
        defer { two.kill() }
        let fromFirst = try await Self.eventually { Self.get(a, 3002, "/who.txt") }
        let fromSecond = try await Self.eventually { Self.get(b, 3002, "/who.txt") }
        #expect(fromFirst?.hasPrefix("HTTP/1.0 200") == true)
        #expect(fromFirst?.hasSuffix("\r\n\r\nfirst") == true)
        #expect(fromSecond?.hasSuffix("\r\n\r\nsecond") == true)
        // Neither server is on the host's own loopback.
        #expect(Self.get("127.0.0.1", 3002, "/who.txt") == nil)
    }

    @Test func theEmulatorEndpointIsReachableFromInsideWithHalfCloses() async throws {
        // "The emulator": a listener on the host's 127.0.0.1 that reads to EOF, then answers and closes.
        let listener = try TCP.listen("127.0.0.1", 0)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let server = Thread {
            let c = accept(listener, nil, nil)
            let got = Self.readAll(c) ?? ""
            let reply = Array("pong:\(got)".utf8)
            _ = reply.withUnsafeBytes { send(c, $0.baseAddress, $0.count, 0) }
            close(c)
            close(listener)
        }
        server.start()
        let (a, _) = Self.addresses()
        let namespace = try NetworkNamespace(hostAddress: a, ports: [], endpointPort: port)
        defer { namespace.close() }
        let lines = Mutex<[String]>([])
        let done = Mutex<Int32?>(nil)
        let script = """
            import socket
            s = socket.create_connection(("127.0.0.1", \(port)))
            s.sendall(b"ping")
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = s.recv(100)
                if not chunk: break
                data += chunk
            print(data.decode())
            """
        _ = try ProcessSupervisor().spawn(
            executable: "/usr/bin/python3", arguments: ["-c", script], environment: [:], directory: "/",
            networkNamespace: namespace,
            output: { line in lines.withLock { $0.append(line) } }, onExit: { code in done.withLock { $0 = code } })
        for _ in 0..<500 where done.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(done.withLock { $0 } == 0)
        #expect(lines.withLock { $0 } == ["pong:ping"])
    }

    @Test func aPortNobodyListensOnInsideIsClosedPromptly() async throws {
        let (a, _) = Self.addresses()
        let namespace = try NetworkNamespace(hostAddress: a, ports: [3003], endpointPort: 0)
        defer { namespace.close() }
        let start = ContinuousClock.now
        let fd = TCP.socket()
        defer { close(fd) }
        #expect(TCP.connect(fd, a, 3003))  // the host side accepts...
        var byte: UInt8 = 0
        #expect(read(fd, &byte, 1) <= 0)  // ...and closes it at once
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test func closeFreesTheHostPortsAndATakenPortIsAClearError() throws {
        let (a, _) = Self.addresses()
        let namespace = try NetworkNamespace(hostAddress: a, ports: [3002, 3004], endpointPort: 0)
        #expect(throws: NetworkNamespaceError.self) { try NetworkNamespace(hostAddress: a, ports: [3004], endpointPort: 0) }
        do {
            _ = try NetworkNamespace(hostAddress: a, ports: [3004], endpointPort: 0)
        } catch {
            #expect("\(error)" == "\(a):3004 is already in use on the host")
        }
        #expect(FileManager.default.fileExists(atPath: namespace.path))
        namespace.close()
        namespace.close()
        for port in [3002, 3004] {
            let fd = try TCP.listen(a, port)
            close(fd)
        }
    }
}
