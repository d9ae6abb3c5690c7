import Core
import Foundation
import HTTPTypes
import NIOCore

/// Invoke: RequestResponse, Event and DryRun; the function runs in a warm or new instance, its output goes to
/// CloudWatch Logs with START / END / REPORT lines, and errors come back as AWS shapes them.
extension LambdaService {
    static let maxSyncPayload = 6 * 1024 * 1024
    static let maxAsyncPayload = 256 * 1024

    func invoke(_ r: LambdaRequest) async throws -> AWSResponse {
        let (f, qualifier) = try function(r, latestInError: true)
        var (config, alias) = try Self.configuration(f, qualifier: qualifier)
        let type = r.request.header("x-amz-invocation-type") ?? "RequestResponse"
        guard ["RequestResponse", "Event", "DryRun"].contains(type) else {
            throw LambdaError.validation(type, "invocationType", "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
        }
        let limit = type == "Event" ? Self.maxAsyncPayload : Self.maxSyncPayload
        let tooLarge = AWSError("RequestEntityTooLargeException", "Request must be smaller than \(limit) bytes for the InvokeFunction operation",
                                status: .contentTooLarge).with("Type", "User")
        guard let body = try? await r.request.collectBody(limit: limit) else { throw tooLarge }
        var payload = Array(body.readableBytesView)
        if payload.count > limit { throw tooLarge }
        if payload.isEmpty { payload = Array("{}".utf8) }
        guard (try? JSONSerialization.jsonObject(with: Data(payload), options: [.fragmentsAllowed])) != nil else {
            throw AWSError("InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json: Unrecognized token", status: .badRequest)
                .with("Type", "User")
        }
        if config.PackageType == "Image" {
            throw AWSError("InvalidRuntimeException", "Cloudless runs functions as local processes and cannot run container images (PackageType Image): deploy a .zip package or a hot-reload folder instead.",
                           status: .badGateway).with("Type", "User")
        }
        if type == "DryRun" { return RestJSON.response(nil, status: .noContent) }
        let clientContext = r.request.header("x-amz-client-context").flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        if type == "Event" {
            // Queued durably; retries, maximum age and destinations follow the qualifier's event invoke config.
            let requestID = try enqueueAsync(f, qualifier: qualifier, payload: payload, clientContext: clientContext)
            var headers = HTTPFields()
            headers[HTTPField.Name("x-amzn-RequestId")!] = requestID
            return AWSResponse(status: .accepted, headers: headers)
        }
        config = Self.routed(f, config, alias)
        // The ARN the handler sees is the one it was invoked by (alias or version qualifier included).
        let invoked = f.arn + (qualifier.map { ":\($0)" } ?? "")
        // Out of the snapshot gate while the function runs: it may call back into Cloudless.
        let result = try await SnapshotGate.outside { try await run(f, config, payload: payload, clientContext: clientContext, invokedARN: invoked) }
        var headers = HTTPFields()
        // The invocation's request id is the answer's request id, as in AWS.
        headers[HTTPField.Name("x-amzn-RequestId")!] = result.requestID
        headers[HTTPField.Name("X-Amz-Executed-Version")!] = config.Version
        if r.request.header("x-amz-log-type") == "Tail" {
            headers[HTTPField.Name("X-Amz-Log-Result")!] = Data(result.tail.utf8).base64EncodedString()
        }
        if case .response(let bytes) = result.outcome {
            var response = AWSResponse(status: .ok, headers: headers, bytes: ByteBuffer(bytes: bytes))
            response.headers[.contentType] = "application/json"
            return response
        }
        headers[HTTPField.Name("X-Amz-Function-Error")!] = "Unhandled"
        var response = AWSResponse(status: .ok, headers: headers, bytes: ByteBuffer(bytes: Self.errorDocument(result, config)))
        response.headers[.contentType] = "application/json"
        return response
    }

    /// A weighted alias sends the given share of invocations to its additional version.
    static func routed(_ f: LambdaFunction, _ config: FunctionConfig, _ alias: FunctionAlias?) -> FunctionConfig {
        if let alias, let (version, weight) = alias.AdditionalVersionWeights?.first, Double.random(in: 0..<1) < weight,
           let v = f.versions.first(where: { $0.Version == version }) {
            return v
        }
        return config
    }

    /// The error document of an invocation that did not answer (AWS's errorType / errorMessage shape).
    static func errorDocument(_ result: RunResult, _ config: FunctionConfig) -> [UInt8] {
        switch result.outcome {
        case .response(let bytes): return bytes
        case .functionError(_, let doc), .initError(_, let doc): return doc
        case .exited(let code):
            let why = code > 128 ? "with error: signal: \(Self.signalName(code - 128))"
                : code == 0 ? "without providing a reason" : "with error: exit status \(code)"
            return Self.errorDocument("Runtime.ExitError", "RequestId: \(result.requestID) Error: Runtime exited \(why)")
        case .timedOut:
            return Self.errorDocument("Sandbox.Timedout",
                                      "RequestId: \(result.requestID) Error: Task timed out after \(String(format: "%.2f", Double(config.Timeout))) seconds")
        }
    }

    static func signalName(_ n: Int32) -> String {
        [9: "killed", 15: "terminated", 6: "aborted", 11: "segmentation fault"][n] ?? "signal \(n)"
    }

    static func errorDocument(_ type: String, _ message: String) -> [UInt8] {
        Array("{\"errorType\":\(JSONString.quote(type)),\"errorMessage\":\(JSONString.quote(message))}".utf8)
    }

    struct RunResult {
        var outcome: InvocationOutcome
        var requestID: String
        var tail: String
    }

    /// Run one invocation of `config` and write its log.
    func run(_ f: LambdaFunction, _ config: FunctionConfig, payload: [UInt8], clientContext: String?, invokedARN: String? = nil,
             requestID: String = UUID().uuidString.lowercased()) async throws -> RunResult {
        let taskRoot = try config.HotReloadPath ?? code.unpacked(f.codeHex(for: config))
        let spec = InstanceSpec(key: "\(f.arn)|\(config.Version)|\(config.RevisionId)|\(f.codeHex(for: config))", config: config,
                                account: f.account, region: f.region, taskRoot: taskRoot, opt: try code.optFolder(config.LayerContents ?? []))
        let limit = f.reservedConcurrency ?? 1000
        guard limit > 0, let (instance, cold) = try await pool.acquire(spec, limit: limit) else {
            throw AWSError("TooManyRequestsException", "Rate Exceeded.", status: .tooManyRequests)
                .with("Reason", "ReservedFunctionConcurrentInvocationLimitExceeded").with("Type", "User")
        }
        let wallStart = Date().timeIntervalSince1970
        let started = ContinuousClock.now
        let invocation = Invocation(
            requestID: requestID, payload: payload, deadline: wallStart + Double(config.Timeout), timeout: Double(config.Timeout),
            functionARN: invokedARN ?? config.FunctionArn,
            clientContext: clientContext, traceID: "Root=1-\(String(Int(wallStart), radix: 16))-\(Hex.encode(randomBytes(count: 12)));Sampled=0")
        // The timeout runs from when the runtime takes the invocation; a cold start's init may take up to 10 s more.
        let timer = Task {
            let start = ContinuousClock.now
            while true {
                let taken = await instance.deliveredAt(requestID)
                let deadline = (taken ?? start + .seconds(10)) + .seconds(config.Timeout)
                let now = ContinuousClock.now
                if now >= deadline {
                    await instance.timeOut(requestID)
                    return
                }
                try await Task.sleep(for: taken == nil ? min(deadline - now, .milliseconds(20)) : deadline - now)
            }
        }
        // A cancelled request (shutdown) stops the instance, which ends the invocation at once.
        let outcome = await withTaskCancellationHandler {
            await instance.invoke(invocation)
        } onCancel: {
            Task { await instance.stop() }
        }
        timer.cancel()
        let elapsed = ContinuousClock.now - started
        await instance.settleOutput()
        var dead: Bool
        switch outcome {
        case .response, .functionError: dead = config.HotReloadPath != nil  // hot-reload code is read afresh each time
        default: dead = true
        }
        if await instance.isDead { dead = true }
        if !pool.release(instance, key: spec.key, dead: dead) { await instance.stop() }

        // The log: START, what the handler printed, END, REPORT (with Init Duration on a cold start). Every event ends
        // with its newline, as Lambda writes them (so a blank line the handler prints is "\n", never an empty event).
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        func event(_ message: String) -> LogEvent { LogEvent(timestamp: Int64(Date().timeIntervalSince1970 * 1000), message: message) }
        var initMs: Double?
        if cold, let initDuration = await instance.initDuration {
            initMs = Double(initDuration.components.seconds) * 1000 + Double(initDuration.components.attoseconds) / 1e15
        }
        let output = instance.output.take().map { LogEvent(timestamp: $0.timestamp, message: $0.message + "\n") }
        var events: [LogEvent]
        if config.Settings?.isJSONLogs == true {
            events = Self.jsonPlatformEvents(config, requestID: requestID, start: wallStart, output: output, outcome: outcome, ms: ms, initMs: initMs)
        } else {
            events = [LogEvent(timestamp: Int64(wallStart * 1000), message: "START RequestId: \(requestID) Version: \(config.Version)\n")]
            events += output
            if case .timedOut = outcome {
                events.append(event("\(AWSDate.iso8601(clock.now())) \(requestID) Task timed out after \(String(format: "%.2f", Double(config.Timeout))) seconds\n"))
            }
            events.append(event("END RequestId: \(requestID)\n"))
            var report = "REPORT RequestId: \(requestID)\tDuration: \(String(format: "%.2f", ms)) ms\tBilled Duration: \(Int(ms.rounded(.up))) ms\tMemory Size: \(config.MemorySize) MB\tMax Memory Used: \(min(config.MemorySize, 40)) MB"
            if let initMs { report += "\tInit Duration: \(String(format: "%.2f", initMs)) ms" }
            events.append(event(report + "\t\n"))
        }
        // Output is stamped with the wall clock as it is read; the log follows the emulator's clock, as retention does.
        let shift = Int64((clock.currentOffset * 1000).rounded())
        if shift != 0 { events = events.map { LogEvent(timestamp: $0.timestamp + shift, message: $0.message) } }
        pool.logs.append(account: f.account, region: f.region, group: config.logGroup, stream: instance.logStream, events: events)
        let text = events.map(\.message).joined()
        let tail = String(decoding: Array(text.utf8).suffix(4096), as: UTF8.self)
        return RunResult(outcome: outcome, requestID: requestID, tail: tail)
    }
}
