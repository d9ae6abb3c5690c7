import Core
import Foundation
import GRDB
import Logging

/// HTTP APIs (the `apigatewayv2` model). Placeholder until the HTTP API work lands.
final class HTTPAPIs: Sendable {
    static func registerMigrations(_ m: inout DatabaseMigrator) {}

    init(db: DatabasePool, clock: EmulatorClock, functions: any FunctionInvoker, logger: Logger) throws {}

    func reset() throws {}

    func operationName(for request: AWSRequest) -> String { "-" }

    func handle(_ request: AWSRequest) async throws -> AWSResponse {
        throw AWSError("NotFoundException", "Invalid API identifier specified", status: .notFound)
    }

    /// The answer when `apiID` is an HTTP API's, else nil.
    func invoke(apiID: String, _ request: AWSRequest) async -> AWSResponse? { nil }
}
