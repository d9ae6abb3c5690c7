import Core
import Foundation
import GRDB
import HTTPTypes
import NIOCore
import Synchronization

/// An invoke URL's request (`<api-id>.execute-api.localhost:4566/<stage>/<path>`, or `/<path>` for the `$default`
/// stage): the stage's deployment selects a route, its authorizer runs, its integration answers.
extension HTTPAPIs {
    static let maxPayload = 10 << 20

    static func notFoundAnswer() -> AWSResponse { RestJSON.response(["message": "Not Found"], status: .notFound) }

    /// The answer when `apiID` is an HTTP API's, else nil.
    func invoke(apiID: String, _ request: AWSRequest) async -> AWSResponse? {
        // A REST API's id is asked here first: no request id is made for it.
        guard apiID.count == 10, routing(apiID) != nil else { return nil }
        let requestID = Self.requestID()
        guard var response = await invokeAPI(apiID: apiID, request, requestID: requestID) else { return nil }
        response.headers.set("apigw-requestid", requestID)
        return response
    }

    /// The stage a path addresses and the path below it: `/<stage>/…` for a named stage, else all of it for `$default`.
    static func stageAndPath(_ rawPath: String, stageNames: Set<String>) -> (stage: String, path: String)? {
        let trimmed = rawPath.drop(while: { $0 == "/" })
        let first = String(trimmed.prefix(while: { $0 != "/" }))
        let decoded = Percent.decode(first) ?? first
        if decoded != "$default", stageNames.contains(decoded) {
            let rest = String(trimmed.dropFirst(first.count))
            return (decoded, rest.isEmpty ? "/" : rest)
        }
        return stageNames.contains("$default") ? ("$default", rawPath.isEmpty ? "/" : rawPath) : nil
    }

    func invokeAPI(apiID: String, _ request: AWSRequest, requestID: String) async -> AWSResponse? {
        guard apiID.count == 10, let api = routing(apiID) else { return nil }
        if api.disabled { return Self.forbidden() }
        guard let (stageName, path) = Self.stageAndPath(request.rawPath, stageNames: Set(api.stages.keys)),
              let stage = api.stages[stageName], let deploymentID = stage.deploymentID,
              let snapshot = snapshot(apiID, deploymentID) else {
            return Self.notFoundAnswer()
        }
        let origin = request.header("origin")
        if let cors = snapshot.cors, let origin, CorsConfiguration.isPreflight(method: request.method, headers: request.headers) {
            return cors.preflight(origin: origin, requestHeaders: request.header("access-control-request-headers"))
        }
        var response = await routed(api: api, stage: stage, path: path, snapshot, request, requestID: requestID)
        if let cors = snapshot.cors, let origin { cors.decorate(&response, origin: origin) }
        return response
    }

    func snapshot(_ apiID: String, _ deploymentID: String) -> DeploymentSnapshot? {
        if let s = snapshots.withLock({ $0[deploymentID] }) { return s }
        guard let stored = try? db.readNow({ db in try HTTPStore.get(apiID, "snapshot", deploymentID, db) }) else { return nil }
        let s = DeploymentSnapshot(stored)
        snapshots.withLock { $0[deploymentID] = s }
        return s
    }

    /// The API's routing view: from memory, or read (and kept unless a write came in between).
    func routing(_ apiID: String) -> APIRouting? {
        let (generation, cached) = routing.withLock { ($0.generation, $0.entries[apiID]) }
        if let cached { return cached }
        let read: APIRouting?
        do {
            read = try db.readNow { db -> APIRouting? in
                guard let api = try HTTPStore.get(apiID, "api", apiID, db) else { return nil }
                return APIRouting(api, stages: try HTTPStore.all(apiID, "stage", db))
            }
        } catch { return nil }
        routing.withLock {
            guard $0.generation == generation else { return }
            if $0.entries.count >= 1000 { $0.entries.removeAll() }
            $0.entries[apiID] = .some(read)
        }
        return read
    }

    func routed(api: APIRouting, stage: APIRouting.Stage, path: String, _ snapshot: DeploymentSnapshot, _ request: AWSRequest,
                requestID: String) async -> AWSResponse {
        guard let (route, parameters) = RouteSelection.select(snapshot.routes, method: request.method.rawValue, path: path),
              let integrationID = route.integrationID, let integration = snapshot.integrations[integrationID] else {
            return Self.notFoundAnswer()
        }
        guard let buffer = try? await request.collectBody(limit: Self.maxPayload) else {
            return RestJSON.response(["message": "Request Entity Too Large"], status: .contentTooLarge)
        }
        let body = Array(buffer.readableBytesView)
        let sourceIP = request.header("x-forwarded-for")?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "127.0.0.1"
        var ctx = InvokeContext(apiID: api.apiID, account: api.account, stage: stage.name,
                                routeKey: route.routeKey, path: path, pathParameters: parameters,
                                stageVariables: stage.variables, requestID: requestID,
                                now: clock.now(), sourceIP: sourceIP)
        switch await authorize(route, snapshot, request, body: body, ctx, region: api.region) {
        case .deny(let answer): return answer
        case .allow(let context): ctx.authorizer = context
        }
        guard integration.type == "AWS_PROXY" else {
            return await HTTPProxyIntegration.forward(integration, request, body: body, path: path, ctx)
        }
        let event = integration.payloadFormatVersion == "1.0" ? ProxyPayloads.event10(request, body: body, ctx) : ProxyPayloads.event20(request, body: body, ctx)
        guard let functionARN = Self.functionARN(Self.substitute(integration.uri, ctx.stageVariables)) else {
            return ProxyPayloads.internalServerError()
        }
        let payload = JSONWriter.encode(event)
        let functions = self.functions
        let outcome = await Self.withTimeout(milliseconds: integration.timeoutMillis) {
            try? await functions.invoke(functionARN: functionARN, payload: Array(payload.readableBytesView), from: .apiGateway)
        }
        switch outcome {
        case .none: return RestJSON.response(["message": "Service Unavailable"], status: .serviceUnavailable)
        case .some(.none): return ProxyPayloads.internalServerError()
        case .some(.some(let result)):
            if result.functionError != nil { return ProxyPayloads.internalServerError() }
            return integration.payloadFormatVersion == "1.0" ? ProxyPayloads.response10(result.payload) : ProxyPayloads.response20(result.payload)
        }
    }

    /// The body's value, or nil when the integration's timeout passes first (API Gateway answers 503 then; the
    /// invocation itself runs on to its own end).
    static func withTimeout<T: Sendable>(milliseconds: Int, _ body: @escaping @Sendable () async -> T) async -> T? {
        let once = ResumeOnce<T?>()
        return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            once.set(continuation)
            // The timer is cancelled as soon as the body ends: no sleeping task is left behind per request.
            let timer = Task {
                do {
                    try await Task.sleep(for: .milliseconds(milliseconds))
                    once.resume(nil)
                } catch {}
            }
            Task {
                let value = await body()
                once.resume(value)
                timer.cancel()
            }
        }
    }

    /// API Gateway's request ids look like `JX8rPjPwIAMEVKg=`.
    static func requestID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<14).map { _ in alphabet.randomElement()! }) + "="
    }
}

/// A continuation resumed by whichever comes first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    func set(_ c: CheckedContinuation<T, Never>) { continuation.withLock { $0 = c } }

    func resume(_ value: T) {
        continuation.withLock { c in
            c?.resume(returning: value)
            c = nil
        }
    }
}

/// An API as an invoke sees it: its owner, whether its endpoint is on, and its stages' deployments and variables.
struct APIRouting: Sendable {
    struct Stage: Sendable {
        var name: String
        var deploymentID: String?
        var variables: [String: String]
    }

    var apiID: String
    var account: String
    var region: String
    var disabled: Bool
    var stages: [String: Stage]

    init(_ api: [String: Any], stages: [[String: Any]]) {
        apiID = api["apiId"] as? String ?? ""
        account = api["_account"] as? String ?? ""
        region = api["_region"] as? String ?? "us-east-1"
        disabled = api["disableExecuteApiEndpoint"] as? Bool ?? false
        var byName: [String: Stage] = [:]
        for s in stages {
            guard let name = s["stageName"] as? String else { continue }
            byName[name] = Stage(name: name, deploymentID: s["deploymentId"] as? String, variables: s["stageVariables"] as? [String: String] ?? [:])
        }
        self.stages = byName
    }
}
