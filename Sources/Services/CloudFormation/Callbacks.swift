import Core
import Foundation
import HTTPTypes
import Synchronization

/// The URLs AWS hands out as presigned S3 URLs for an answer to come back on: a custom resource's ResponseURL and a
/// wait condition handle. Here they address Cloudless itself (`/_cloudless/cloudformation/callback/<key>` plus the
/// query of a presigned URL) so a function or `curl` can PUT to them unchanged; what is PUT waits in this mailbox.
/// Kept in memory: an operation a restart interrupts is rolled back anyway.
final class Callbacks: Sendable {
    static let pathPrefix = "/_cloudless/cloudformation/callback/"

    private let bodies = Mutex<[String: [[UInt8]]]>([:])
    private let listening = Mutex(false)
    let endpoint: ServerEndpoint?

    init(endpoint: ServerEndpoint?) {
        self.endpoint = endpoint
    }

    /// The server's port is open (the endpoint's address is final).
    func markListening() { listening.withLock { $0 = true } }

    func untilListening() async {
        while !listening.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// A presigned-style URL for `key` (stack id, logical id, request or handle id), valid for `expires` seconds.
    func url(key: String, region: String, now: Double, expires: Int = 7200) -> String {
        let base = endpoint?.url ?? "http://127.0.0.1:4566"
        let date = AWSDate.amzDate(now)
        let day = String(date.prefix(8))
        let signature = Hex.encode(SHA256.hash(Array((key + date).utf8)))
        return base + Self.pathPrefix + InternalCall.percent(key)
            + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=\(date)&X-Amz-SignedHeaders=host&X-Amz-Expires=\(expires)"
            + "&X-Amz-Credential=AKIACLOUDLESSCFN0000%2F\(day)%2F\(region)%2Fs3%2Faws4_request&X-Amz-Signature=\(signature)"
    }

    /// The key a callback URL (or its path) carries.
    static func key(ofURL url: String) -> String? {
        let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        guard let r = path.range(of: pathPrefix) else { return nil }
        let raw = path[r.upperBound...]
        guard !raw.isEmpty, !raw.contains("/") else { return nil }
        return raw.removingPercentEncoding ?? String(raw)
    }

    /// Everything PUT to `key` so far, oldest first (kept).
    func received(_ key: String) -> [[UInt8]] { bodies.withLock { $0[key] ?? [] } }

    /// The first body PUT to `key`, removed.
    func take(_ key: String) -> [UInt8]? {
        bodies.withLock { all in
            guard var list = all[key], !list.isEmpty else { return nil }
            let first = list.removeFirst()
            all[key] = list.isEmpty ? nil : list
            return first
        }
    }

    func forget(_ key: String) { bodies.withLock { $0[key] = nil } }

    /// A PUT to a callback URL: kept, answered as S3 answers a presigned PUT (200, an ETag, no body).
    func handle(method: HTTPRequest.Method, path: String, body: [UInt8]) -> AWSResponse? {
        guard let key = Self.key(ofURL: path) else { return nil }
        guard method == .put else {
            return AWSResponse(status: .methodNotAllowed)
        }
        bodies.withLock { $0[key, default: []].append(body) }
        var headers = HTTPFields()
        headers.set("etag", "\"\(Hex.encode(MD5.hash(body)))\"")
        return AWSResponse(status: .ok, headers: headers)
    }
}

extension CloudFormationService {
    /// Called once the server listens: stack operations a restart interrupted are finished from then on.
    public func serverListening() { callbacks.markListening() }

    public func internalResponse(method: HTTPRequest.Method, path: String, body: [UInt8]) async -> AWSResponse? {
        callbacks.handle(method: method, path: path, body: body)
    }
}
