import Core
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix

/// HTTP_PROXY integrations: the request goes on to the integration's URL (its `{name}` path parameters filled in,
/// the query string appended), with the integration's method unless that is ANY; the answer comes back as it is.
/// A target that cannot be reached is a 500, one that does not answer within the integration's timeout a 503.
enum HTTPProxyIntegration {
    typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host",
                                        "content-length"]

    /// The URL the request goes to.
    static func targetURL(_ uri: String, _ ctx: InvokeContext, rawQuery: String) -> String {
        var url = HTTPAPIs.substitute(uri, ctx.stageVariables)
        for (name, value) in ctx.pathParameters {
            url = url.replacingOccurrences(of: "{\(name)+}", with: value).replacingOccurrences(of: "{\(name)}", with: value)
        }
        if !rawQuery.isEmpty { url += (url.contains("?") ? "&" : "?") + rawQuery }
        return url
    }

    static func forward(_ integration: DeploymentSnapshot.Integration, _ request: AWSRequest, body: [UInt8], path: String,
                        _ ctx: InvokeContext) async -> AWSResponse {
        let target = targetURL(integration.uri, ctx, rawQuery: request.rawQuery)
        guard let url = URL(string: target), let host = url.host, url.scheme == "http" else {
            // https targets would need TLS, which Cloudless does not carry: a target on this machine speaks http.
            return ProxyPayloads.internalServerError()
        }
        let port = url.port ?? 80
        let method = integration.method == "ANY" ? request.method.rawValue : integration.method
        var uri = url.path.isEmpty ? "/" : url.path
        if let q = url.query { uri += "?" + q }
        var headers = HTTPHeaders()
        for f in request.headers where !hopByHop.contains(f.name.canonicalName) { headers.add(name: f.name.rawName, value: f.value) }
        headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "X-Forwarded-For", value: ctx.sourceIP)
        let (path, fields) = (uri, headers)
        let outcome = await HTTPAPIs.withTimeout(milliseconds: integration.timeoutMillis) { () -> AWSResponse? in
            try? await exchange(host: host, port: port, method: method, uri: path, headers: fields, body: body)
        }
        switch outcome {
        case .none: return RestJSON.response(["message": "Service Unavailable"], status: .serviceUnavailable)
        case .some(.none): return ProxyPayloads.internalServerError()
        case .some(.some(let r)): return r
        }
    }

    static func exchange(host: String, port: Int, method: String, uri: String, headers: HTTPHeaders, body: [UInt8]) async throws -> AWSResponse {
        let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        return try await connection.executeThenClose { inbound, outbound in
            let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: uri, headers: headers)
            try await outbound.write(.head(head))
            if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            try await outbound.write(.end(nil))
            var status = HTTPResponse.Status.badGateway
            var fields = HTTPFields()
            var bytes = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let h):
                    status = HTTPResponse.Status(code: Int(h.status.code))
                    for (name, value) in h.headers where !hopByHop.contains(name.lowercased()) {
                        if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
                    }
                case .body(var b): bytes.writeBuffer(&b)
                case .end: return AWSResponse(status: status, headers: fields, bytes: bytes)
                }
            }
            return AWSResponse(status: status, headers: fields, bytes: bytes)
        }
    }
}
