#if canImport(Glibc)
import Glibc
#endif
import CCloudless
import Foundation
import Synchronization

/// Plain blocking TCP sockets: the forwarders below use a thread per accept loop and per direction of a connection,
/// which keeps half-closes and back-pressure obvious (a blocked write stops the read). Tasks hold few connections.
enum TCP {
    static func address(_ host: String, _ port: Int) throws -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard (0...65535).contains(port), inet_pton(AF_INET, host, &a.sin_addr) == 1 else {
            throw NetworkNamespaceError.invalidAddress("\(host):\(port)")
        }
        return a
    }

    static func socket() -> Int32 {
        Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    /// A listening socket on `host:port` in the calling thread's network namespace.
    static func listen(_ host: String, _ port: Int) throws -> Int32 {
        var a = try address(host, port)
        let fd = socket()
        guard fd >= 0 else { throw NetworkNamespaceError.system("socket", errno) }
        var one: Int32 = 1
        // Lets a new namespace take a port whose previous connections linger in TIME_WAIT; a live listener still wins.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 || Glibc.listen(fd, 128) != 0 {
            let e = errno
            Glibc.close(fd)
            if e == EADDRINUSE { throw NetworkNamespaceError.addressInUse(address: host, port: port) }
            throw NetworkNamespaceError.system("listen on \(host):\(port)", e)
        }
        return fd
    }

    /// Connect `fd` (a socket from `socket()`, made in whichever namespace it must live in) to `host:port`.
    static func connect(_ fd: Int32, _ host: String, _ port: Int) -> Bool {
        guard var a = try? address(host, port) else { return false }
        while true {
            let rc = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc == 0 { return true }
            if errno != EINTR { return false }
        }
    }

    /// Close with a reset rather than a FIN: a connection forwarded to a port nobody listens on looks refused.
    static func reset(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(fd)
    }
}

/// Accepts on `listener` and joins each accepted connection to one `open` connects, copying bytes both ways until
/// both sides have finished sending.
final class SocketForwarder: Sendable {
    private struct State {
        var stopped = false
        var connections = Set<Int32>()
    }

    private let listener: Int32
    private let open: @Sendable () -> Int32?
    private let state = Mutex(State())
    private let acceptEnded = DispatchSemaphore(value: 0)

    /// `open` returns a connected socket, or nil (the accepted connection is then reset).
    init(listener: Int32, open: @escaping @Sendable () -> Int32?) {
        self.listener = listener
        self.open = open
    }

    func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "cloudless-forward"
        thread.start()
    }

    /// Stop accepting, free the listening port (before returning) and cut every open connection.
    func stop() {
        let open = state.withLock { s -> Set<Int32> in
            guard !s.stopped else { return [] }
            s.stopped = true
            return s.connections
        }
        // shutdown wakes a thread blocked in accept (close alone would not, and would keep the port bound).
        _ = shutdown(listener, Int32(SHUT_RDWR))
        _ = acceptEnded.wait(timeout: .now() + 2)
        state.withLock { _ in for fd in open { _ = shutdown(fd, Int32(SHUT_RDWR)) } }
    }

    private func acceptLoop() {
        defer {
            Glibc.close(listener)
            acceptEnded.signal()
        }
        while true {
            let client = cloudless_accept_cloexec(listener)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: usleep(50_000); continue  // out of descriptors: wait, don't spin
                default: return
                }
            }
            let thread = Thread { [self] in connectAndPump(client) }
            thread.start()
        }
    }

    private func connectAndPump(_ client: Int32) {
        guard let upstream = open() else { return TCP.reset(client) }
        let added = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.connections.formUnion([client, upstream])
            return true
        }
        guard added else {
            TCP.reset(client)
            Glibc.close(upstream)
            return
        }
        let remaining = Mutex(2)
        let finish: @Sendable () -> Void = { [self] in
            guard remaining.withLock({ $0 -= 1; return $0 }) == 0 else { return }
            // Removed under the lock before closing, so `stop` never shuts down a reused descriptor.
            state.withLock { $0.connections.subtract([client, upstream]) }
            Glibc.close(client)
            Glibc.close(upstream)
        }
        let back = Thread {
            Self.pump(from: upstream, to: client)
            finish()
        }
        back.start()
        Self.pump(from: client, to: upstream)
        finish()
    }

    /// Copy `from` → `to`. EOF becomes a half-close of `to` (the other direction goes on); an error ends both.
    private static func pump(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n == 0 {
                _ = shutdown(to, Int32(SHUT_WR))
                return
            }
            if n < 0 || !writeAll(to, buffer, n) {
                _ = shutdown(from, Int32(SHUT_RDWR))
                _ = shutdown(to, Int32(SHUT_RDWR))
                return
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let n = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
