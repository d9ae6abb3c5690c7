import Core
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

@testable import S3

// Shared by the S3 provider's tests: a service in a temporary folder, resource requests as a stack makes them, and
// S3's answers read back as text.

final class ResponseSink: @unchecked Sendable {
    var bytes: [UInt8] = []
}

struct ResponseSinkWriter: ResponseBodyWriter {
    let sink: ResponseSink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

func cfnText(_ response: AWSResponse) async throws -> String {
    let sink = ResponseSink()
    try await response.body.write(ResponseSinkWriter(sink: sink))
    return String(decoding: sink.bytes, as: UTF8.self)
}

func cfnContext(_ bucket: String, region: String = "us-east-1", body: String = "") -> BucketContext {
    BucketContext(request: AWSRequest(method: .get, rawPath: "/" + bucket, rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                                      body: RequestBody(buffer: ByteBuffer(string: body)),
                                      caller: CallerIdentity(accountID: "000000000000", region: region, accessKeyID: nil), requestID: "r"),
                  bucket: bucket)
}

/// Queues and functions that exist, recording what S3 sends them.
final class RecordingDestinations: QueueEventSink, FunctionEventSink {
    let queues: Set<String>
    let functions: Set<String>
    let sent = Mutex<[(arn: String, body: String)]>([])
    init(queues: Set<String> = [], functions: Set<String> = []) {
        self.queues = queues
        self.functions = functions
    }

    func acceptsEvents(queueARN: String) -> Bool { queues.contains(queueARN) }
    func deliver(_ body: String, toQueueARN queueARN: String, from principal: ServicePrincipal, traceHeader: String?,
                 attributes: [String: EventMessageAttribute]) throws {
        sent.withLock { $0.append((queueARN, body)) }
    }
    func acceptsEvents(functionARN: String) -> Bool { functions.contains(functionARN) }
    func invokeAsync(functionARN: String, payload: [UInt8], from principal: ServicePrincipal) throws {
        sent.withLock { $0.append((functionARN, String(decoding: payload, as: UTF8.self))) }
    }
    var all: [(arn: String, body: String)] { sent.withLock { $0 } }
}

func withCFNService(_ destinations: RecordingDestinations? = nil, _ body: (S3Service, S3Resources) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-s3-cfn-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let service = try S3Service(directory: dir, clock: EmulatorClock(), logger: Logger(label: "t"), queueEvents: destinations,
                                functionEvents: destinations)
    try await body(service, service.resourceProvider)
    try service.store.db.close()
}

func cfnRequest(_ logicalId: String, _ properties: [String: JSON], type: String = "AWS::S3::Bucket",
                region: String = "us-east-1") -> ResourceRequest {
    ResourceRequest(account: "000000000000", region: region, stackName: "App-Stack",
                    stackId: "arn:aws:cloudformation:\(region):000000000000:stack/App-Stack/1",
                    logicalId: logicalId, type: type, properties: properties, tags: ["aws:cloudformation:stack-name": "App-Stack"])
}

/// A template fragment written as JSON text, as a resolved property.
func cfnJSON(_ text: String) -> JSON {
    try! JSON(parsing: Data(text.utf8))
}
