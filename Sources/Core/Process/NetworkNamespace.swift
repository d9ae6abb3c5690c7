#if canImport(Glibc)
import Glibc
#endif
import CCloudless
import Foundation
import Synchronization

public enum NetworkNamespaceError: Error, CustomStringConvertible {
    case unsupported
    case invalidAddress(String)
    case addressInUse(address: String, port: Int)
    case system(String, Int32)

    public var description: String {
        switch self {
        case .unsupported: return "this host cannot create network namespaces (needs root / CAP_SYS_ADMIN)"
        case .invalidAddress(let a): return "\(a) is not an IPv4 address and port"
        case .addressInUse(let address, let port): return "\(address):\(port) is already in use on the host"
        case .system(let call, let e): return "\(call) failed: \(String(cString: strerror(e)))"
        }
    }
}

/// A task's own network stack (awsvpc on one host): a fresh Linux network namespace with its loopback up, so that
/// several tasks can each listen on the same port. No process holds it: the emulator keeps it alive with an open
/// descriptor, holds listening sockets inside it and connects into it, all made on `NamespaceThread`.
///
/// Traffic: the host's `hostAddress:port` (an address in 127.0.0.0/8, which Linux routes to `lo` unconfigured) is
/// forwarded to `127.0.0.1:port` inside for each of `ports`; inside, `127.0.0.1:endpointPort` is forwarded to the
/// host's `127.0.0.1:endpointPort` (the emulator), so `AWS_ENDPOINT_URL` works unchanged in the task.
public final class NetworkNamespace: Sendable {
    /// Whether this host can make one: unshare(CLONE_NEWNET) needs CAP_SYS_ADMIN. Unprivileged user namespaces do not
    /// help an emulator: CLONE_NEWUSER is refused to a multi-threaded process, and setns into a namespace owned by
    /// another user namespace needs a capability there. Tried once, for real, on the namespace thread.
    public static var isSupported: Bool { supported }
    private static let supported: Bool = {
        (try? NamespaceThread.shared.run { cloudless_unshare_net() == 0 }) ?? false
    }()

    /// `nsenter --net=<path>` (or setns on an open of it) places a process inside, while the namespace is open.
    public let path: String
    public let hostAddress: String
    let handle: Handle
    private let forwarders: [SocketForwarder]

    public init(hostAddress: String, ports: [Int], endpointPort: Int) throws {
        guard Self.isSupported else { throw NetworkNamespaceError.unsupported }
        _ = try TCP.address(hostAddress, 0)
        // The namespace, its lo up, and the endpoint listener inside it.
        let (fd, inner) = try NamespaceThread.shared.run { () throws -> (Int32, Int32) in
            guard cloudless_unshare_net() == 0 else { throw NetworkNamespaceError.system("unshare(CLONE_NEWNET)", errno) }
            let fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw NetworkNamespaceError.system("open /proc/thread-self/ns/net", errno) }
            guard cloudless_loopback_up() == 0 else {
                let e = errno
                Glibc.close(fd)
                throw NetworkNamespaceError.system("bringing lo up", e)
            }
            do {
                return (fd, try TCP.listen("127.0.0.1", endpointPort))
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        let handle = Handle(fd: fd)
        // Host listeners, made on this (host namespace) thread.
        var outer: [(Int32, Int)] = []
        do {
            for port in ports { outer.append((try TCP.listen(hostAddress, port), port)) }
        } catch {
            for (l, _) in outer { Glibc.close(l) }
            Glibc.close(inner)
            handle.close()
            throw error
        }
        var forwarders = [SocketForwarder(listener: inner) {
            let s = TCP.socket()
            if s >= 0 && TCP.connect(s, "127.0.0.1", endpointPort) { return s }
            if s >= 0 { Glibc.close(s) }
            return nil
        }]
        for (listener, port) in outer {
            forwarders.append(SocketForwarder(listener: listener) {
                // The socket must be born inside; connecting it can happen anywhere.
                guard let s = try? NamespaceThread.shared.run({ () throws -> Int32 in
                    try handle.enter()
                    return TCP.socket()
                }), s >= 0 else { return nil }
                if TCP.connect(s, "127.0.0.1", port) { return s }
                Glibc.close(s)
                return nil
            })
        }
        for f in forwarders { f.start() }
        self.handle = handle
        self.forwarders = forwarders
        self.hostAddress = hostAddress
        self.path = "/proc/\(getpid())/fd/\(fd)"
    }

    /// Stop every listener (the host ports are free when this returns), cut open connections, release the namespace
    /// (the kernel frees it once no process inside remains). Idempotent.
    public func close() {
        guard handle.markClosing() else { return }
        for f in forwarders { f.stop() }
        handle.close()
    }

    deinit { close() }

    /// The namespace descriptor, closed under a lock so that a concurrent `enter` never setns()es through a
    /// descriptor number that was closed and reused.
    final class Handle: Sendable {
        private let state: Mutex<(fd: Int32, closing: Bool)>
        init(fd: Int32) { state = Mutex((fd, false)) }

        /// On the namespace thread: move it inside.
        func enter() throws {
            try state.withLock { s in
                guard s.fd >= 0 else { throw NetworkNamespaceError.system("setns into a closed namespace", EBADF) }
                guard cloudless_setns_net(s.fd) == 0 else { throw NetworkNamespaceError.system("setns", errno) }
            }
        }

        func markClosing() -> Bool {
            state.withLock { s in
                defer { s.closing = true }
                return !s.closing
            }
        }

        func close() {
            state.withLock { s in
                if s.fd >= 0 { Glibc.close(s.fd) }
                s.fd = -1
            }
        }
    }
}
