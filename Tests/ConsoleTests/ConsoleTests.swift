import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
@testable import Console
@testable import Core

// The console's routes: shells per page, embedded assets with content types and ETags (304 on a match), and
// nothing outside /_cloudless/console.

final class BodySink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

struct SinkWriter: ResponseBodyWriter {
    let sink: BodySink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

func request(_ target: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) -> Request {
    Request(head: HTTPRequest(method: method, scheme: "http", authority: "127.0.0.1", path: target, headerFields: headers),
            body: RequestBody(buffer: ByteBuffer()))
}

func text(_ response: Response) async throws -> String {
    let sink = BodySink()
    try await response.body.write(SinkWriter(sink: sink))
    return String(decoding: sink.bytes, as: UTF8.self)
}

@Suite struct ConsoleTests {
    let console = Console(strictAuth: false, defaultAccount: "000000000000", defaultRegion: "eu-west-1")

    func get(_ path: String, method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) async -> Response? {
        let q = path.firstIndex(of: "?")
        let p = q.map { path[..<$0] } ?? path[...]
        let query = q.map { path[path.index(after: $0)...] } ?? ""
        return await console.response(to: request(path, method: method, headers: headers), path: p, query: query)
    }

    @Test func everyPageHasAShellAndItsScript() async throws {
        for page in ["", "s3", "sqs", "secretsmanager", "lambda", "ecs", "logs", "iam", "cloudformation", "requests"] {
            let r = try #require(await get("/_cloudless/console/\(page)"))
            #expect(r.status == .ok, "page \(page)")
            #expect(r.headers[.contentType] == "text/html; charset=utf-8")
            let html = try await text(r)
            let script = page.isEmpty ? "overview" : page
            #expect(html.contains("/_cloudless/console/assets/\(script).js"))
            #expect(html.contains("data-default-region=\"eu-west-1\""))
            #expect(Asset.all["\(script).js"] != nil, "asset \(script).js is embedded")
        }
        #expect(await get("/_cloudless/console/s3/")?.status == .ok)
    }

    @Test func assetsCarryTypeCacheControlAndETag() async throws {
        let r = try #require(await get("/_cloudless/console/assets/aws.js"))
        #expect(r.status == .ok)
        #expect(r.headers[.contentType] == "text/javascript; charset=utf-8")
        #expect(r.headers[.cacheControl] == "no-cache")
        let etag = try #require(r.headers[.eTag])
        #expect(try await text(r).contains("AWS4-HMAC-SHA256"))
        #expect(await get("/_cloudless/console/assets/console.css")?.headers[.contentType] == "text/css; charset=utf-8")
        var headers = HTTPFields()
        headers[.ifNoneMatch] = etag
        let again = try #require(await get("/_cloudless/console/assets/aws.js", headers: headers))
        #expect(again.status == .notModified)
        headers[.ifNoneMatch] = "\"other\""
        #expect(await get("/_cloudless/console/assets/aws.js", headers: headers)?.status == .ok)
    }

    @Test func unknownPathsAndMethods() async throws {
        #expect(await get("/_cloudless/console/nope")?.status == .notFound)
        #expect(await get("/_cloudless/console/assets/nope.js")?.status == .notFound)
        #expect(await get("/_cloudless/console/s3", method: .post)?.status == .methodNotAllowed)
        let redirect = try #require(await get("/_cloudless/console"))
        #expect(redirect.status == .found)
        #expect(redirect.headers[.location] == "/_cloudless/console/")
        #expect(await get("/_cloudless/consoles") == nil)
        #expect(await get("/_cloudless/health") == nil)
    }

    @Test func strictAuthShellsSaySo() async throws {
        let strict = Console(strictAuth: true, defaultAccount: "111122223333", defaultRegion: "us-east-1")
        let r = try #require(await strict.response(to: request("/_cloudless/console/sqs"), path: "/_cloudless/console/sqs", query: ""))
        let html = try await text(r)
        #expect(html.contains("data-strict=\"true\""))
        #expect(html.contains("data-default-account=\"111122223333\""))
    }

    @Test func titlesAreEscaped() {
        #expect(HTML.escape("<a href=\"x\">&</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;")
    }
}
