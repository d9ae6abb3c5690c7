import Core
import HTTPTypes
import Hummingbird
import NIOCore

/// An S3 request as the gateway hands it to `S3Service.handle`: caller 000000000000 in us-east-1, the body streamed.
func request(_ method: HTTPRequest.Method, _ path: String, query: String = "", headers: [(String, String)] = [],
             body: String = "") -> AWSRequest {
    var h = HTTPFields()
    for (k, v) in headers { h.set(k, v) }
    let bytes = ByteBuffer(string: body)
    let stream = AsyncStream<ByteBuffer> { c in
        if bytes.readableBytes > 0 { c.yield(bytes) }
        c.finish()
    }
    return AWSRequest(method: method, rawPath: path, rawQuery: query, query: Percent.parseQuery(query) ?? [], headers: h,
                      host: "127.0.0.1:4566", body: RequestBody(asyncSequence: stream),
                      caller: CallerIdentity(accountID: "000000000000", region: "us-east-1", accessKeyID: "test"), requestID: "REQ1")
}
