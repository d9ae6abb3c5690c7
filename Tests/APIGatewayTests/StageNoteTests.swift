import Core
import Foundation
import Logging
import Synchronization
import Testing

@testable import APIGateway

// The server-log note of where a created or deployed stage answers (the execute-api.localhost form of a stack's
// `ApiUrl`), on the port the server bound.

/// Keeps every message logged through it.
final class CapturedLog: Sendable {
    let messages = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "t") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
                 function: String, line: UInt) {
            log.messages.withLock { $0.append(message.description) }
        }
    }

    func notes() -> [String] { messages.withLock { $0.filter { $0.hasPrefix("API Gateway: ") } } }
}

@Suite struct StageNoteTests {
    func withService(_ log: CapturedLog, _ body: (APIGatewayService) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cloudless-apinote-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let endpoint = ServerEndpoint()
        endpoint.set(host: "127.0.0.1", port: 5123)
        let functions = RecordingFunctions { _ in Array(#"{"statusCode": 200, "body": "ok"}"#.utf8) }
        try await body(try APIGatewayService(directory: dir, clock: EmulatorClock(), functions: functions, endpoint: endpoint,
                                             logger: log.logger))
    }

    @Test func urlForms() {
        #expect(StageNote.url(apiID: "abc123", stage: "Prod", port: 4566) == "http://abc123.execute-api.localhost:4566/Prod/")
        #expect(StageNote.url(apiID: "abc123", stage: "$default", port: 4566) == "http://abc123.execute-api.localhost:4566/")
    }

    /// The stages a SAM implicit API makes (the deployment's `Stage`, then `Prod`), each noted once; a stage that
    /// already exists is refused and noted again by nobody.
    @Test func restStagesAreNoted() async throws {
        let log = CapturedLog()
        try await withService(log) { service in
            let p = APIGatewayRestResources(service: service)
            let api = try await p.create(ResourceRequest(account: "123456789012", region: "us-east-1", stackName: "s", stackId: "sid",
                                                         logicalId: "Api", type: "AWS::ApiGateway::RestApi",
                                                         properties: ["Body": CloudFormationProviderTests.swagger], tags: [:]))
            let id = api.physicalId
            let deployment = try await json(try await service.handle(httpRequest(.post, "/restapis/\(id)/deployments", body: #"{"stageName":"Stage"}"#)))
            let deploymentID = try #require(deployment["id"] as? String)
            _ = try await service.handle(httpRequest(.post, "/restapis/\(id)/stages", body: #"{"stageName":"Prod","deploymentId":"\#(deploymentID)"}"#))
            await #expect(throws: AWSError.self) {
                try await service.handle(httpRequest(.post, "/restapis/\(id)/stages", body: #"{"stageName":"Prod","deploymentId":"\#(deploymentID)"}"#))
            }
            _ = try await service.handle(httpRequest(.post, "/restapis/\(id)/deployments", body: #"{}"#))
            #expect(log.notes() == [
                "API Gateway: \(id) stage Stage is served at http://\(id).execute-api.localhost:5123/Stage/",
                "API Gateway: \(id) stage Prod is served at http://\(id).execute-api.localhost:5123/Prod/",
            ])
        }
    }

    @Test func httpStagesAreNoted() async throws {
        let log = CapturedLog()
        try await withService(log) { service in
            let fn = "arn:aws:lambda:us-east-1:123456789012:function:f"
            let quick = try await json(try await service.handle(httpRequest(.post, "/v2/apis", body: #"{"name":"q","protocolType":"HTTP","target":"\#(fn)"}"#)))
            let q = try #require(quick["apiId"] as? String)
            let plain = try await json(try await service.handle(httpRequest(.post, "/v2/apis", body: #"{"name":"p","protocolType":"HTTP"}"#)))
            let p = try #require(plain["apiId"] as? String)
            _ = try await service.handle(httpRequest(.post, "/v2/apis/\(p)/stages", body: #"{"stageName":"dev"}"#))
            #expect(log.notes() == [
                "API Gateway: \(q) stage $default is served at http://\(q).execute-api.localhost:5123/",
                "API Gateway: \(p) stage dev is served at http://\(p).execute-api.localhost:5123/dev/",
            ])
        }
    }
}
