import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing
@testable import Core

// The request log: a ring of the last requests (oldest dropped), read after a sequence number, filtered, and
// served as JSON by GET /_cloudless/requests.

private final class LogSink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private struct LogWriter: ResponseBodyWriter {
    let sink: LogSink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

@Suite struct RequestLogTests {
    func record(_ log: RequestLog, _ service: String, _ op: String, status: Int = 200, error: String? = nil) {
        log.record(method: "POST", service: service, operation: op,
                   caller: CallerIdentity(accountID: "111122223333", region: "eu-west-1", accessKeyID: "AKIDEXAMPLE"),
                   status: status, duration: .milliseconds(3), errorCode: error)
    }

    @Test func keepsTheLastEntriesInOrder() {
        let log = RequestLog(capacity: 3)
        for i in 0..<5 { record(log, "sqs", "Op\(i)") }
        #expect(log.entries().map(\.operation) == ["Op2", "Op3", "Op4"])
        #expect(log.entries().map(\.seq) == [2, 3, 4])
        #expect(log.entries(after: 3).map(\.operation) == ["Op4"])
        #expect(log.entries(after: 4).isEmpty)
        #expect(log.nextSequence == 5)
        let e = log.entries()[0]
        #expect(e.account == "111122223333" && e.region == "eu-west-1" && e.accessKeyID == "AKIDEXAMPLE" && e.milliseconds == 3)
    }

    @Test func servesFilteredJSON() async throws {
        let log = RequestLog()
        record(log, "sqs", "SendMessage")
        record(log, "s3", "GetObject", status: 404, error: "NoSuchKey")
        record(log, "sqs", "ReceiveMessage")
        func get(_ query: Substring) async throws -> [[String: Any]] {
            let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "h", path: "/_cloudless/requests?\(query)"),
                                  body: RequestBody(buffer: ByteBuffer()))
            let r = try #require(await log.response(to: request, path: "/_cloudless/requests", query: query))
            #expect(r.headers[.contentType] == "application/json")
            let sink = LogSink()
            try await r.body.write(LogWriter(sink: sink))
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(sink.bytes)) as? [String: Any])
            #expect(obj["next"] as? Int == 3)
            return try #require(obj["requests"] as? [[String: Any]])
        }
        #expect(try await get("").count == 3)
        #expect(try await get("service=sqs").map { $0["operation"] as? String } == ["SendMessage", "ReceiveMessage"])
        let errors = try await get("errors=1")
        #expect(errors.count == 1)
        #expect(errors.first?["errorCode"] as? String == "NoSuchKey")
        #expect(errors.first?["status"] as? Int == 404)
        #expect(try await get("after=1").map { $0["operation"] as? String } == ["ReceiveMessage"])
        #expect(try await get("operation=GetObject&account=111122223333").count == 1)
    }

    @Test func otherPathsAreNotItsOwn() async {
        let log = RequestLog()
        let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "h", path: "/_cloudless/health"),
                              body: RequestBody(buffer: ByteBuffer()))
        #expect(await log.response(to: request, path: "/_cloudless/health", query: "") == nil)
    }

    /// A Query form body's Action reaches the request log through the report the gateway attaches, and only then.
    @Test func queryParametersReportTheFormsAction() async throws {
        func request(query: [(String, String)], body: String, report: OperationReport?) -> AWSRequest {
            var r = AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: query, headers: [:], host: "h",
                               body: RequestBody(buffer: ByteBuffer(string: body)),
                               caller: CallerIdentity(accountID: "111122223333", region: "us-east-1", accessKeyID: nil), requestID: "R")
            r.operationReport = report
            return r
        }
        let report = OperationReport()
        _ = try await QueryProtocol.parameters(request(query: [], body: "Action=ListRoles&Version=2010-05-08", report: report))
        #expect(report.value == "ListRoles")
        let none = OperationReport()
        _ = try await QueryProtocol.parameters(request(query: [], body: "Version=2010-05-08", report: none))
        #expect(none.value == nil)
        // Without a report (the gateway named the operation already) nothing is recorded and parsing is unchanged.
        let params = try await QueryProtocol.parameters(request(query: [("Action", "GetUser")], body: "UserName=a", report: nil))
        #expect(params["Action"] == "GetUser" && params["UserName"] == "a")
    }
}
