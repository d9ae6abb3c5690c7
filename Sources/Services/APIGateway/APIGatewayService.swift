public import Core
import Foundation
import GRDB
public import Logging

/// API Gateway. REST APIs (the `apigateway` model: `/restapis/…`, `/apikeys`, `/usageplans`…) and HTTP APIs
/// (`apigatewayv2`: `/v2/apis/…`) share one signing name, one database (`apigateway.sqlite`) and one Host label for
/// their invoke URLs (`<api-id>.execute-api.<region>.localhost:4566/<stage>/<path>`): the two families are served by
/// `RestAPIs` (REST/) and `HTTPAPIs` (HTTP/), and an invoke goes to the family that owns the API id.
public final class APIGatewayService: AWSService {
    public let signingName = "apigateway"
    public let wireProtocol = WireProtocol.restJSON
    public var hostLabels: [String] { ["execute-api"] }

    /// Paths an unsigned request is recognised by (the signed ones carry `apigateway` in their credential scope).
    public static let pathPrefixes = ["/restapis", "/apikeys", "/usageplans", "/domainnames", "/account", "/tags/",
                                      "/clientcertificates", "/vpclinks", "/v2/"]

    let database: LazyDatabase

    /// Opened and migrated on first use, not at start.

    var db: DatabasePool { get throws { try database.pool() } }
    let rest: RestAPIs
    let http: HTTPAPIs

    static func path(_ directory: String) -> String { directory + "/apigateway.sqlite" }

    /// One migrator, two histories: each family registers its own migrations (identifiers prefixed `rest-`/`http-`).
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        RestAPIs.registerMigrations(&m)
        HTTPAPIs.registerMigrations(&m)
        return m
    }

    /// `functions` runs Lambda integrations and authorizers; `endpoint` gives the port the stage notes name.
    public init(directory: String, clock: EmulatorClock, functions: any FunctionInvoker, endpoint: ServerEndpoint? = nil,
                logger: Logger) throws {
        database = LazyDatabase(path: Self.path(directory), migrator: Self.migrator)
        rest = try RestAPIs(database: database, clock: clock, functions: functions, endpoint: endpoint, logger: logger)
        http = try HTTPAPIs(database: database, clock: clock, functions: functions, endpoint: endpoint, logger: logger)
    }

    public func reset() async throws {
        guard database.hasContent else { return }  // never used: nothing to empty, nothing to create
        try rest.reset()
        try http.reset()
    }

    public func operationName(for request: AWSRequest) -> String {
        request.rawPath.hasPrefix("/v2/") ? http.operationName(for: request) : rest.operationName(for: request)
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        // LocalStack's invoke form: `/restapis/<api-id>/<stage>/_user_request_/<path>`.
        let parts = request.rawPath.split(separator: "/", maxSplits: 4, omittingEmptySubsequences: false)
        if parts.count >= 5, parts[1] == "restapis", parts[4] == "_user_request_" || parts[4].hasPrefix("_user_request_/") {
            var invoke = request
            invoke.rawPath = "/\(parts[3])/" + parts[4].dropFirst("_user_request_".count).drop(while: { $0 == "/" })
            return await hostedResponse(invoke, apiID: String(parts[2]))
        }
        return request.rawPath.hasPrefix("/v2/") ? try await http.handle(request) : try await rest.handle(request)
    }

    /// An invoke URL's request: the API id is the Host's first label; the path is `/<stage>/<resource path>`.
    public func hostedResponse(_ request: AWSRequest) async -> AWSResponse {
        await hostedResponse(request, apiID: String(request.hostName.split(separator: ".").first ?? ""))
    }

    func hostedResponse(_ request: AWSRequest, apiID: String) async -> AWSResponse {
        if let r = await http.invoke(apiID: apiID, request) { return r }
        if let r = await rest.invoke(apiID: apiID, request) { return r }
        // API Gateway's answer for an API id it does not know.
        return RestJSON.response(["message": "Forbidden"], status: .forbidden)
    }
}

/// A snapshot restore replaces `apigateway.sqlite` under the families' in-memory views (HTTP APIs' routing, authorizer
/// answers): they are dropped and read again on the next invoke.
extension APIGatewayService: SnapshotParticipant {
    public func resumeAfterRestore() async throws {
        http.forgetCachedState()
        rest.forgetCachedState()
    }
}
