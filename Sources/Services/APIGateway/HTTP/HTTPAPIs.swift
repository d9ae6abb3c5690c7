import Core
import Foundation
import GRDB
import HTTPTypes
import Logging
import Synchronization

/// HTTP APIs (the `apigatewayv2` model, paths under `/v2/`). Every resource (API, route, integration, stage,
/// deployment, authorizer) is one row of `http_record` holding its wire shape (the model's camelCase members) as JSON;
/// a deployment also stores a snapshot of the API's routes, integrations and authorizers, which is what an invoke
/// through a stage runs (HTTPInvoke.swift).
final class HTTPAPIs: Sendable {
    let database: LazyDatabase
    /// API Gateway's database, opened on first use.
    var db: DatabasePool { get throws { try database.pool() } }
    let clock: EmulatorClock
    let functions: any FunctionInvoker
    let logger: Logger
    let stageNote: StageNote
    /// Deployments never change once made: their decoded snapshots are kept by deployment id.
    let snapshots = Mutex<[String: DeploymentSnapshot]>([:])
    /// Lambda authorizer answers by authorizer and identity, until their TTL on the emulator's clock.
    let authorizerCache = Mutex<[String: CachedAuthorization]>([:])
    /// What an invoke needs of an API and its stages, by API id; emptied by every write (`writing`). An id that is no
    /// HTTP API's is kept as nil, so that a REST API's invoke (asked here first) does not read SQLite each time.
    let routing = Mutex<(generation: Int, entries: [String: APIRouting?])>((0, [:]))

    static func registerMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("http-v1") { db in
            try db.execute(sql: """
                CREATE TABLE http_record (
                    api TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, body BLOB NOT NULL,
                    PRIMARY KEY (api, kind, id)
                ) WITHOUT ROWID;
                """)
        }
    }

    init(database: LazyDatabase, clock: EmulatorClock, functions: any FunctionInvoker, endpoint: ServerEndpoint? = nil, logger: Logger) throws {
        self.database = database
        self.clock = clock
        self.functions = functions
        self.logger = logger
        stageNote = StageNote(endpoint: endpoint, logger: logger)
    }

    /// A write transaction; afterwards the invoke path's cached view of the APIs is dropped.
    func writing<T>(_ body: (Database) throws -> T) throws -> T {
        defer { routing.withLock { $0 = ($0.generation + 1, [:]) } }
        return try db.writeNow(body)
    }

    /// What memory holds besides the database: dropped when the database changes under it (a snapshot restore).
    func forgetCachedState() {
        routing.withLock { $0 = ($0.generation + 1, [:]) }
        snapshots.withLock { $0.removeAll() }
        authorizerCache.withLock { $0.removeAll() }
    }

    func reset() throws {
        try writing { db in try db.execute(sql: "DELETE FROM http_record") }
        snapshots.withLock { $0.removeAll() }
        authorizerCache.withLock { $0.removeAll() }
    }

    static let router = RestRouter([
        RestRoute(.post, "/v2/apis", "CreateApi"),
        RestRoute(.get, "/v2/apis", "GetApis"),
        RestRoute(.put, "/v2/apis", "ImportApi"),
        RestRoute(.get, "/v2/apis/{apiId}", "GetApi"),
        RestRoute(.patch, "/v2/apis/{apiId}", "UpdateApi"),
        RestRoute(.delete, "/v2/apis/{apiId}", "DeleteApi"),
        RestRoute(.put, "/v2/apis/{apiId}", "ReimportApi"),
        RestRoute(.delete, "/v2/apis/{apiId}/cors", "DeleteCorsConfiguration"),
        RestRoute(.post, "/v2/apis/{apiId}/routes", "CreateRoute"),
        RestRoute(.get, "/v2/apis/{apiId}/routes", "GetRoutes"),
        RestRoute(.get, "/v2/apis/{apiId}/routes/{id}", "GetRoute"),
        RestRoute(.patch, "/v2/apis/{apiId}/routes/{id}", "UpdateRoute"),
        RestRoute(.delete, "/v2/apis/{apiId}/routes/{id}", "DeleteRoute"),
        RestRoute(.post, "/v2/apis/{apiId}/integrations", "CreateIntegration"),
        RestRoute(.get, "/v2/apis/{apiId}/integrations", "GetIntegrations"),
        RestRoute(.get, "/v2/apis/{apiId}/integrations/{id}", "GetIntegration"),
        RestRoute(.patch, "/v2/apis/{apiId}/integrations/{id}", "UpdateIntegration"),
        RestRoute(.delete, "/v2/apis/{apiId}/integrations/{id}", "DeleteIntegration"),
        RestRoute(.post, "/v2/apis/{apiId}/authorizers", "CreateAuthorizer"),
        RestRoute(.get, "/v2/apis/{apiId}/authorizers", "GetAuthorizers"),
        RestRoute(.get, "/v2/apis/{apiId}/authorizers/{id}", "GetAuthorizer"),
        RestRoute(.patch, "/v2/apis/{apiId}/authorizers/{id}", "UpdateAuthorizer"),
        RestRoute(.delete, "/v2/apis/{apiId}/authorizers/{id}", "DeleteAuthorizer"),
        RestRoute(.post, "/v2/apis/{apiId}/stages", "CreateStage"),
        RestRoute(.get, "/v2/apis/{apiId}/stages", "GetStages"),
        RestRoute(.get, "/v2/apis/{apiId}/stages/{id}", "GetStage"),
        RestRoute(.patch, "/v2/apis/{apiId}/stages/{id}", "UpdateStage"),
        RestRoute(.delete, "/v2/apis/{apiId}/stages/{id}", "DeleteStage"),
        RestRoute(.post, "/v2/apis/{apiId}/deployments", "CreateDeployment"),
        RestRoute(.get, "/v2/apis/{apiId}/deployments", "GetDeployments"),
        RestRoute(.get, "/v2/apis/{apiId}/deployments/{id}", "GetDeployment"),
        RestRoute(.patch, "/v2/apis/{apiId}/deployments/{id}", "UpdateDeployment"),
        RestRoute(.delete, "/v2/apis/{apiId}/deployments/{id}", "DeleteDeployment"),
        RestRoute(.get, "/v2/tags/{arn+}", "GetTags"),
        RestRoute(.post, "/v2/tags/{arn+}", "TagResource"),
        RestRoute(.delete, "/v2/tags/{arn+}", "UntagResource"),
    ])

    func operationName(for request: AWSRequest) -> String {
        Self.router.match(method: request.method, rawPath: request.rawPath)?.operation ?? "-"
    }

    func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let (op, labels) = Self.router.match(method: request.method, rawPath: request.rawPath) else {
            throw AWSError("NotFoundException", "Invalid request path", status: .notFound)
        }
        let buffer = try await request.collectBody(limit: 6 << 20)
        let bytes = Array(buffer.readableBytesView)
        var input: [String: Any] = [:]
        if !bytes.isEmpty, op != "ImportApi", op != "ReimportApi" {
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw Self.badRequest("Invalid JSON body")
            }
            input = object
        }
        let c = Call(request: request, labels: labels, input: input, body: bytes)
        switch op {
        case "CreateApi": return try createApi(c)
        case "GetApis": return try getApis(c)
        case "GetApi": return try getApi(c)
        case "UpdateApi": return try updateApi(c)
        case "DeleteApi": return try deleteApi(c)
        case "ImportApi": return try importApi(c)
        case "ReimportApi": return try reimportApi(c)
        case "DeleteCorsConfiguration": return try deleteCors(c)
        case "CreateRoute", "CreateIntegration", "CreateAuthorizer": return try createChild(c, Self.kind(op))
        case "GetRoutes", "GetIntegrations", "GetAuthorizers", "GetDeployments", "GetStages": return try listChildren(c, Self.kind(op))
        case "GetRoute", "GetIntegration", "GetAuthorizer", "GetDeployment", "GetStage": return try getChild(c, Self.kind(op))
        case "UpdateRoute", "UpdateIntegration", "UpdateAuthorizer", "UpdateDeployment": return try updateChild(c, Self.kind(op))
        case "DeleteRoute", "DeleteIntegration", "DeleteAuthorizer", "DeleteDeployment", "DeleteStage": return try deleteChild(c, Self.kind(op))
        case "CreateStage": return try createStage(c)
        case "UpdateStage": return try updateStage(c)
        case "CreateDeployment": return try createDeployment(c)
        case "GetTags": return try getTags(c)
        case "TagResource": return try tagResource(c)
        case "UntagResource": return try untagResource(c)
        default: throw AWSError("NotFoundException", "Invalid request path", status: .notFound)
        }
    }

    static func kind(_ operation: String) -> ChildKind {
        if operation.hasSuffix("Route") || operation.hasSuffix("Routes") { return .route }
        if operation.hasSuffix("Integration") || operation.hasSuffix("Integrations") { return .integration }
        if operation.hasSuffix("Authorizer") || operation.hasSuffix("Authorizers") { return .authorizer }
        if operation.hasSuffix("Deployment") || operation.hasSuffix("Deployments") { return .deployment }
        return .stage
    }

    /// One control plane request: the caller, the path labels and the JSON body.
    struct Call {
        let request: AWSRequest
        let labels: [String: String]
        let input: [String: Any]
        let body: [UInt8]
        var apiID: String { labels["apiId"] ?? "" }
        var account: String { request.caller.accountID }
        var region: String { request.caller.region }
    }

    // MARK: Errors (API Gateway's shapes: `{"message": …}` with the code in x-amzn-ErrorType)

    static func badRequest(_ message: String) -> AWSError { AWSError("BadRequestException", message, status: .badRequest) }
    static func notFound(_ message: String) -> AWSError { AWSError("NotFoundException", message, status: .notFound) }
    static func conflict(_ message: String) -> AWSError { AWSError("ConflictException", message, status: .conflict) }
    static let invalidAPI = notFound("Invalid API identifier specified")

    // MARK: Identifiers

    /// `length` random lowercase alphanumerics (API ids: 10, shared with REST APIs' namespace).
    static func randomID(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }
}

/// The resources that live under an API.
enum ChildKind: String, Sendable {
    case route, integration, authorizer, deployment, stage

    var idMember: String {
        switch self {
        case .route: "routeId"
        case .integration: "integrationId"
        case .authorizer: "authorizerId"
        case .deployment: "deploymentId"
        case .stage: "stageName"
        }
    }

    var idLength: Int { self == .route || self == .integration ? 7 : 6 }

    /// AWS's message for an id it does not know.
    var notFoundMessage: String {
        switch self {
        case .route: "Invalid Route identifier specified"
        case .integration: "Invalid Integration identifier specified"
        case .authorizer: "Invalid Authorizer identifier specified"
        case .deployment: "Invalid Deployment identifier specified"
        case .stage: "Invalid stage identifier specified"
        }
    }
}
