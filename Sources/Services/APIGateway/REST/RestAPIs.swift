import Core
import Foundation
import GRDB
import HTTPTypes
import Logging
import Synchronization

/// REST APIs (the `apigateway` model). An API is one JSON document (its settings, resource tree with methods and
/// integrations, authorizers, deployments and stages): every change rewrites it in one transaction, and a deployment
/// keeps a copy of the tree so that a stage serves what was deployed, not what was edited since.
/// API keys and usage plans are documents of their own (`rest_objects`).
final class RestAPIs: Sendable {
    let database: LazyDatabase
    /// API Gateway's database, opened on first use.
    var db: DatabasePool { get throws { try database.pool() } }
    let clock: EmulatorClock
    let functions: any FunctionInvoker
    let logger: Logger
    let stageNote: StageNote
    /// Lambda authorizers' answers by (authorizer, identity), until their TTL on the emulator's clock.
    let authorizerCache = Mutex<[String: CachedPolicy]>([:])
    /// What invokes need of each API, by id (RestInvokeCache.swift); emptied by every write (`writingAPIs`).
    let invokeViews = Mutex<(generation: Int, entries: [String: InvokeAPI])>((0, [:]))

    static func registerMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("rest-v1") { db in
            try db.execute(sql: """
                CREATE TABLE rest_apis (account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, doc BLOB NOT NULL,
                                        PRIMARY KEY (account, region, id)) WITHOUT ROWID;
                CREATE UNIQUE INDEX rest_apis_id ON rest_apis (id);
                CREATE TABLE rest_objects (account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
                                           doc BLOB NOT NULL, PRIMARY KEY (account, region, kind, id)) WITHOUT ROWID;
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

    /// What memory holds besides the database: dropped when the database changes under it (a snapshot restore).
    func forgetCachedState() {
        authorizerCache.withLock { $0.removeAll() }
        forgetInvokeViews()
    }

    func reset() throws {
        try writingAPIs { db in
            try db.execute(sql: "DELETE FROM rest_apis")
            try db.execute(sql: "DELETE FROM rest_objects")
        }
        authorizerCache.withLock { $0.removeAll() }
    }

    static let router = RestRouter([
        RestRoute(.post, "/restapis", "CreateRestApi"),
        RestRoute(.get, "/restapis", "GetRestApis"),
        RestRoute(.get, "/restapis/{restapi_id}", "GetRestApi"),
        RestRoute(.patch, "/restapis/{restapi_id}", "UpdateRestApi"),
        RestRoute(.put, "/restapis/{restapi_id}", "PutRestApi"),
        RestRoute(.delete, "/restapis/{restapi_id}", "DeleteRestApi"),
        RestRoute(.get, "/restapis/{restapi_id}/resources", "GetResources"),
        RestRoute(.post, "/restapis/{restapi_id}/resources/{parent_id}", "CreateResource"),
        RestRoute(.get, "/restapis/{restapi_id}/resources/{resource_id}", "GetResource"),
        RestRoute(.patch, "/restapis/{restapi_id}/resources/{resource_id}", "UpdateResource"),
        RestRoute(.delete, "/restapis/{restapi_id}/resources/{resource_id}", "DeleteResource"),
        RestRoute(.put, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}", "PutMethod"),
        RestRoute(.get, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}", "GetMethod"),
        RestRoute(.patch, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}", "UpdateMethod"),
        RestRoute(.delete, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}", "DeleteMethod"),
        RestRoute(.put, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}", "PutMethodResponse"),
        RestRoute(.get, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}", "GetMethodResponse"),
        RestRoute(.patch, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}", "UpdateMethodResponse"),
        RestRoute(.delete, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/responses/{status_code}", "DeleteMethodResponse"),
        RestRoute(.put, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration", "PutIntegration"),
        RestRoute(.get, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration", "GetIntegration"),
        RestRoute(.patch, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration", "UpdateIntegration"),
        RestRoute(.delete, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration", "DeleteIntegration"),
        RestRoute(.put, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}", "PutIntegrationResponse"),
        RestRoute(.get, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}", "GetIntegrationResponse"),
        RestRoute(.patch, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}", "UpdateIntegrationResponse"),
        RestRoute(.delete, "/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}/integration/responses/{status_code}", "DeleteIntegrationResponse"),
        RestRoute(.post, "/restapis/{restapi_id}/deployments", "CreateDeployment"),
        RestRoute(.get, "/restapis/{restapi_id}/deployments", "GetDeployments"),
        RestRoute(.get, "/restapis/{restapi_id}/deployments/{deployment_id}", "GetDeployment"),
        RestRoute(.patch, "/restapis/{restapi_id}/deployments/{deployment_id}", "UpdateDeployment"),
        RestRoute(.delete, "/restapis/{restapi_id}/deployments/{deployment_id}", "DeleteDeployment"),
        RestRoute(.post, "/restapis/{restapi_id}/stages", "CreateStage"),
        RestRoute(.get, "/restapis/{restapi_id}/stages", "GetStages"),
        RestRoute(.get, "/restapis/{restapi_id}/stages/{stage_name}", "GetStage"),
        RestRoute(.patch, "/restapis/{restapi_id}/stages/{stage_name}", "UpdateStage"),
        RestRoute(.delete, "/restapis/{restapi_id}/stages/{stage_name}", "DeleteStage"),
        RestRoute(.delete, "/restapis/{restapi_id}/stages/{stage_name}/cache/authorizers", "FlushStageAuthorizersCache"),
        RestRoute(.post, "/restapis/{restapi_id}/authorizers", "CreateAuthorizer"),
        RestRoute(.get, "/restapis/{restapi_id}/authorizers", "GetAuthorizers"),
        RestRoute(.get, "/restapis/{restapi_id}/authorizers/{authorizer_id}", "GetAuthorizer"),
        RestRoute(.patch, "/restapis/{restapi_id}/authorizers/{authorizer_id}", "UpdateAuthorizer"),
        RestRoute(.delete, "/restapis/{restapi_id}/authorizers/{authorizer_id}", "DeleteAuthorizer"),
        RestRoute(.post, "/apikeys", "CreateApiKey"),
        RestRoute(.get, "/apikeys", "GetApiKeys"),
        RestRoute(.get, "/apikeys/{api_Key}", "GetApiKey"),
        RestRoute(.patch, "/apikeys/{api_Key}", "UpdateApiKey"),
        RestRoute(.delete, "/apikeys/{api_Key}", "DeleteApiKey"),
        RestRoute(.post, "/usageplans", "CreateUsagePlan"),
        RestRoute(.get, "/usageplans", "GetUsagePlans"),
        RestRoute(.get, "/usageplans/{usageplanId}", "GetUsagePlan"),
        RestRoute(.patch, "/usageplans/{usageplanId}", "UpdateUsagePlan"),
        RestRoute(.delete, "/usageplans/{usageplanId}", "DeleteUsagePlan"),
        RestRoute(.post, "/usageplans/{usageplanId}/keys", "CreateUsagePlanKey"),
        RestRoute(.get, "/usageplans/{usageplanId}/keys", "GetUsagePlanKeys"),
        RestRoute(.get, "/usageplans/{usageplanId}/keys/{keyId}", "GetUsagePlanKey"),
        RestRoute(.delete, "/usageplans/{usageplanId}/keys/{keyId}", "DeleteUsagePlanKey"),
        RestRoute(.get, "/tags/{resource_arn}", "GetTags"),
        RestRoute(.put, "/tags/{resource_arn}", "TagResource"),
        RestRoute(.delete, "/tags/{resource_arn}", "UntagResource"),
        RestRoute(.get, "/account", "GetAccount"),
        RestRoute(.patch, "/account", "UpdateAccount"),
    ])

    func operationName(for request: AWSRequest) -> String {
        guard let op = Self.router.match(method: request.method, rawPath: request.rawPath)?.operation else { return "-" }
        if op == "CreateRestApi", request.queryValue("mode") == "import" { return "ImportRestApi" }
        return op
    }

    func handle(_ request: AWSRequest) async throws -> AWSResponse {
        guard let (op0, labels) = Self.router.match(method: request.method, rawPath: request.rawPath) else {
            throw AWSError("NotFoundException", "Unknown operation \(request.method.rawValue) \(request.rawPath)", status: .notFound)
        }
        let op = op0 == "CreateRestApi" && request.queryValue("mode") == "import" ? "ImportRestApi" : op0
        let r = RestRequest(request: request, labels: labels)
        switch op {
        case "ImportRestApi", "PutRestApi":
            let body = try await request.collectBody(limit: 10 << 20)
            return try importRestApi(r, body: Array(body.readableBytesView), put: op == "PutRestApi")
        default: break
        }
        let input = op.hasPrefix("Get") ? [:] : try await RestJSONInput.read(request)
        switch op {
        case "CreateApiKey", "GetApiKeys", "GetApiKey", "UpdateApiKey", "DeleteApiKey", "CreateUsagePlan", "GetUsagePlans",
             "GetUsagePlan", "UpdateUsagePlan", "DeleteUsagePlan", "CreateUsagePlanKey", "GetUsagePlanKeys", "GetUsagePlanKey",
             "DeleteUsagePlanKey", "GetTags", "TagResource", "UntagResource", "GetAccount", "UpdateAccount":
            return try keysOperation(op, r, input)
        case "CreateDeployment", "GetDeployments", "GetDeployment", "UpdateDeployment", "DeleteDeployment", "CreateStage", "GetStages",
             "GetStage", "UpdateStage", "DeleteStage", "FlushStageAuthorizersCache", "CreateAuthorizer", "GetAuthorizers",
             "GetAuthorizer", "UpdateAuthorizer", "DeleteAuthorizer":
            return try deploymentOperation(op, r, input)
        default:
            return try apiOperation(op, r, input)
        }
    }

    // MARK: storage

    func now() -> Double { clock.now().rounded(.down) }

    /// The API document (nil when the caller has no API of that id).
    func load(_ db: Database, _ r: RestRequest, _ id: String) throws -> [String: Any]? {
        guard let blob = try Data.fetchOne(db, sql: "SELECT doc FROM rest_apis WHERE account = ? AND region = ? AND id = ?",
                                           arguments: [r.account, r.region, id]) else { return nil }
        return try JSONSerialization.jsonObject(with: blob) as? [String: Any]
    }

    func store(_ db: Database, _ r: RestRequest, _ id: String, _ doc: [String: Any]) throws {
        let blob = try JSONSerialization.data(withJSONObject: doc)
        try db.execute(sql: "INSERT OR REPLACE INTO rest_apis (account, region, id, doc) VALUES (?, ?, ?, ?)",
                       arguments: [r.account, r.region, id, blob])
    }

    /// Reads (or, with `write`, changes and stores) the API document of `restapi_id`.
    func withAPI<T>(_ r: RestRequest, write: Bool = false, _ body: (inout APIDocument) throws -> T) throws -> T {
        let id = r.labels["restapi_id"] ?? ""
        return try withoutActuallyEscaping(body) { body in
            let work = { (db: Database) throws -> T in
                guard let raw = try self.load(db, r, id) else { throw RestErrors.apiNotFound(r.account, id) }
                var doc = APIDocument(raw)
                let result = try body(&doc)
                if write { try self.store(db, r, id, doc.raw) }
                return result
            }
            return write ? try writingAPIs(work) : try db.readNow(work)
        }
    }

    /// An invoke URL's answer when `apiID` is a REST API's, else nil.
    func invoke(apiID: String, _ request: AWSRequest) async -> AWSResponse? {
        guard let api = loadForInvoke(apiID) else { return nil }
        return await serveInvoke(apiID: apiID, api: api, request)
    }
}

/// A request with its path labels.
struct RestRequest {
    let request: AWSRequest
    let labels: [String: String]
    var account: String { request.caller.accountID }
    var region: String { request.caller.region }
    func label(_ name: String) -> String { labels[name] ?? "" }
}

enum RestJSONInput {
    static func read(_ request: AWSRequest) async throws -> [String: Any] {
        let body = try await request.collectBody(limit: 10 << 20)
        if body.readableBytes == 0 { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw AWSError("BadRequestException", "Invalid JSON in request body")
        }
        return object
    }
}

enum RestErrors {
    static func notFound(_ message: String) -> AWSError { AWSError("NotFoundException", message, status: .notFound) }
    static func apiNotFound(_ account: String, _ id: String) -> AWSError { notFound("Invalid API identifier specified \(account):\(id)") }
    static func badRequest(_ message: String) -> AWSError { AWSError("BadRequestException", message) }
    static func conflict(_ message: String) -> AWSError { AWSError("ConflictException", message, status: .conflict) }
}

/// Identifiers as API Gateway makes them: lowercase letters and digits.
enum RestIDs {
    static func make(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }
}

/// `item`/`position` paging with `limit` (the position is the index of the next item).
enum RestPaging {
    static func page(_ items: [[String: Any]], _ r: RestRequest) throws -> [String: Any] {
        let limit = Int(r.request.queryValue("limit") ?? "") ?? 25
        guard limit >= 1, limit <= 500 else { throw RestErrors.badRequest("Invalid limit: \(limit)") }
        let start = r.request.queryValue("position").flatMap { Int($0) } ?? 0
        guard start >= 0 else { throw RestErrors.badRequest("Invalid position parameter") }
        let end = min(items.count, start + limit)
        var out: [String: Any] = ["item": start < end ? Array(items[start..<end]) : []]
        if end < items.count { out["position"] = String(end) }
        return out
    }
}
