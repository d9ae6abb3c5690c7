import Synchronization

/// The address processes Cloudless starts use to reach it (`AWS_ENDPOINT_URL` of Lambda functions and ECS tasks);
/// known once the listener is bound (a port of 0 picks a free one).
public final class ServerEndpoint: Sendable {
    private let value = Mutex<(host: String, port: Int)>(("127.0.0.1", 4566))
    public init() {}
    public var url: String { value.withLock { "http://\($0.host):\($0.port)" } }
    public var port: Int { value.withLock { $0.port } }
    public func set(host: String, port: Int) {
        let h = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        value.withLock { $0 = (h, port) }
    }
}
