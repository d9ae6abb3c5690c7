public import Hummingbird
import HTTPTypes
import Logging
import NIOCore

/// The one responder behind the port: internal endpoints, service identification, authentication,
/// error rendering, request ids and the request log line.
public struct Gateway: HTTPResponder {
    public typealias Context = BasicRequestContext

    let services: [String: any AWSService]
    /// Services by the Host label of the endpoints they run themselves (`lambda-url` → Lambda).
    let hosted: [String: any AWSService]
    let identification: ServiceIdentification
    let auth: AuthSettings
    let verifier: SignatureVerifier
    let clock: EmulatorClock
    let internalEndpoints: InternalEndpoints
    let logger: Logger
    /// Total size of request headers AWS accepts before `RequestHeaderSectionTooLarge`.
    let maxHeaderBytes = 8192
    /// The console's ring of recent requests (RequestLog.swift) and routes served outside Core (the console's pages).
    public var requestLog: RequestLog?
    public var routes: [any InternalRoutes] = []

    public init(services: [any AWSService], identification: ServiceIdentification, auth: AuthSettings, clock: EmulatorClock,
                internalEndpoints: InternalEndpoints, logger: Logger) {
        var map: [String: any AWSService] = [:]
        for s in services { map[s.signingName] = s }
        self.services = map
        var byLabel: [String: any AWSService] = [:]
        for s in services { for label in s.hostLabels { byLabel[label] = s } }
        self.hosted = byLabel
        self.identification = identification
        self.auth = auth
        self.verifier = SignatureVerifier(settings: auth)
        self.clock = clock
        self.internalEndpoints = internalEndpoints
        self.logger = logger
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = RequestID.next()
        let target = request.head.path ?? "/"
        let rawPath: Substring, rawQuery: Substring
        if let q = target.firstIndex(of: "?") {
            rawPath = target[..<q]
            rawQuery = target[target.index(after: q)...]
        } else {
            rawPath = target[...]
            rawQuery = ""
        }
        if rawPath.hasPrefix("/_cloudless/") || rawPath.hasPrefix("/_localstack/") {
            // The request log and SQS peek show account data: with --strict-auth, signed callers see their own only.
            if InternalAccess.guards(rawPath) {
                switch await InternalAccess(auth: auth, verifier: verifier, clock: clock).check(request, rawPath: rawPath, rawQuery: rawQuery) {
                case .denied(let r): return r
                case .account(let account):
                    if let log = requestLog, let r = await log.response(to: request, path: rawPath, query: rawQuery, onlyAccount: account) {
                        return r
                    }
                case .anyone: break
                }
            }
            if let r = await internalEndpoints.handle(method: request.method, path: String(rawPath), body: request.body) {
                return r
            }
            for route in routes { if let r = await route.response(to: request, path: rawPath, query: rawQuery) { return r } }
            for s in services.values where rawPath.hasPrefix("/_cloudless/\(s.signingName)/") {
                let body = (try? await request.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
                if let r = await s.internalResponse(method: request.method, path: String(rawPath), body: body) {
                    return Response(status: r.status, headers: r.headers, body: r.body)
                }
            }
        }

        var service: (any AWSService)? = services["s3"]
        var op = "-"
        var response: AWSResponse
        var caller: CallerIdentity?, errorCode: String?
        var report: OperationReport?
        do {
            // Held shared while the service works: a snapshot save or restore never sees half a request.
            response = try await snapshotGated {
                if let (s, r) = try await hostedRequest(request, rawPath: String(rawPath), rawQuery: String(rawQuery), requestID: requestID,
                                                        service: &service) {
                    return await s.hostedResponse(r)
                }
                var awsRequest = try await prepare(request, rawPath: String(rawPath), rawQuery: String(rawQuery), requestID: requestID,
                                                   service: &service)
                guard let resolved = service else { throw AWSError.internalError() }
                caller = awsRequest.caller
                op = resolved.operationName(for: awsRequest)
                // Fault rules (FaultInjector): one atomic load when none is installed.
                if internalEndpoints.faults.isActive {
                    try await internalEndpoints.faults.apply(to: &awsRequest, service: resolved.signingName, operation: &op)
                }
                // Unnamed (Action in a Query form body): the service reports what it parses.
                if op == "-" {
                    report = OperationReport()
                    awsRequest.operationReport = report
                }
                return try await resolved.handle(awsRequest)
            }
        } catch let error as AWSError {
            errorCode = error.code
            response = render(error, for: request, service: service, requestID: requestID)
        } catch {
            logger.error("internal error", metadata: ["error": "\(error)", "request": "\(requestID)"])
            response = render(.internalError(), for: request, service: service, requestID: requestID)
        }
        if let name = report?.value { op = name }
        stamp(&response.headers, requestID: requestID, service: service)
        let elapsed = ContinuousClock.now - started
        requestLog?.record(method: request.method.rawValue, service: service?.signingName ?? "-", operation: op, caller: caller,
                           status: response.status.code, duration: elapsed, errorCode: errorCode)
        if logger.logLevel <= .info {
            let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            logger.info("\(request.method.rawValue) \(service?.signingName ?? "-") \(op) \(response.status.code) \(String(format2: ms))ms")
        }
        return Response(status: response.status, headers: response.headers, body: response.body)
    }

    /// A request for an endpoint a service runs itself, found by the second label of its Host
    /// (`<url-id>.lambda-url.us-east-1.localhost`): passed on before identification, in the Host's region. Unsigned, it
    /// acts in the default account; signed (an AWS_IAM function URL), as the signer, and with --strict-auth only once
    /// its signature (for the service's signing name) is verified.
    private func hostedRequest(_ request: Request, rawPath: String, rawQuery: String, requestID: String,
                               service resolved: inout (any AWSService)?) async throws -> (any AWSService, AWSRequest)? {
        guard !hosted.isEmpty, var host = request.head.authority, !host.hasPrefix("[") else { return nil }
        // `/_cloudless/<label>/<first-host-label>/<rest>` is Host `<first-host-label>.<label>.localhost`, path `/<rest>`:
        // for clients that cannot set a Host.
        var servedPath = rawPath
        if rawPath.hasPrefix("/_cloudless/") {
            let parts = rawPath.dropFirst("/_cloudless/".count).split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count >= 2, hosted[String(parts[0])] != nil, !parts[1].isEmpty {
                let port = host.split(separator: ":", maxSplits: 1).dropFirst().first.map { ":" + $0 } ?? ""
                host = "\(parts[1]).\(parts[0]).localhost\(port)"
                servedPath = "/" + (parts.count > 2 ? parts[2] : "")
            }
        }
        let hostName = host.split(separator: ":", maxSplits: 1).first ?? ""
        let labels = hostName.split(separator: ".")
        // Load balancers' DNS names (`<name>-<id>.<region>.elb.localhost`) are found by their suffix.
        let label = hostName.hasSuffix(".elb.localhost") ? "elb" : labels.count > 2 ? String(labels[1]) : ""
        guard labels.count > 2, let service = hosted[label] else { return nil }
        resolved = service
        let region = labels.dropFirst(2).first(where: { Region.known.contains(String($0)) }).map(String.init) ?? auth.defaultRegion
        let creds = RequestCredentials.parse(authorization: request.headers[.authorization],
                                             query: Percent.parseQuery(rawQuery, plusIsSpace: false) ?? [])
        var body = request.body
        if case .anonymous = creds {} else {
            try creds.validate()
            if auth.strict {
                var buffered: ByteBuffer?
                _ = try await verifier.verify(
                    creds, service: service.signingName, method: request.method, rawPath: rawPath,
                    query: Percent.parseQuery(rawQuery, plusIsSpace: false) ?? [], headers: request.headers, host: request.head.authority ?? host, now: clock.now(),
                    payloadHash: {
                        let b = try await body.collect(limit: 16 << 20)
                        buffered = b
                        return Hex.encode(SHA256.hash(Array(b.readableBytesView)))
                    })
                if let buffered { body = RequestBody(buffer: buffered) }
            }
        }
        let awsRequest = AWSRequest(
            method: request.method, rawPath: servedPath, rawQuery: rawQuery, query: Percent.parseQuery(rawQuery, plusIsSpace: true) ?? [],
            headers: request.headers, host: host, body: body,
            caller: CallerIdentity(accountID: auth.account(for: creds.accessKeyID), region: region, accessKeyID: creds.accessKeyID),
            requestID: requestID)
        return (service, awsRequest)
    }

    /// Identify, authenticate and decode the request into what a service sees.
    /// `service` is set as soon as it is known, so that errors after that (authentication) speak its protocol.
    private func prepare(_ request: Request, rawPath: String, rawQuery: String, requestID: String,
                         service resolved: inout (any AWSService)?) async throws -> AWSRequest {
        var headerBytes = 0
        for f in request.headers { headerBytes += f.name.rawName.utf8.count + f.value.utf8.count + 4 }
        if headerBytes > maxHeaderBytes {
            throw AWSError("RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed size.")
                .with("MaxSizeAllowed", String(maxHeaderBytes))
        }
        guard let query = Percent.parseQuery(rawQuery, plusIsSpace: false) else {
            throw AWSError("InvalidArgument", "The query string is not valid URL encoding.")
        }
        let host = request.head.authority ?? ""
        let hostName = host.hasPrefix("[") ? host : String(host.split(separator: ":", maxSplits: 1).first ?? "")
        let creds = RequestCredentials.parse(authorization: request.headers[.authorization], query: query)
        var body = request.body
        let identified = identification.identify(
            target: request.headers.value("x-amz-target"), credentials: creds, query: query, path: rawPath,
            hostName: hostName, contentType: request.headers[.contentType], isPost: request.method == .post)
        var name: String
        switch identified {
        case .service(let n):
            name = n
        case .formBody:
            // An unsigned Query request: the Version that names the service is inside the form
            // (up to 8 MiB: a 1 MiB SQS message grows up to threefold when percent-encoded).
            let buffer = try await body.collect(limit: 8 << 20)
            body = RequestBody(buffer: buffer)
            let form = Percent.parseQuery(String(buffer: buffer), plusIsSpace: true) ?? []
            name = form.first(where: { $0.0 == "Version" }).flatMap { identification.queryVersions[$0.1] } ?? "s3"
        }
        guard let service = services[name] else {
            resolved = nil  // answer in the protocol the request speaks, not S3's
            throw AWSError("InvalidAction", "The service '\(name)' is not available in Cloudless.", status: .badRequest)
        }
        resolved = service
        try creds.validate()
        let caller = CallerIdentity(
            accountID: auth.account(for: creds.accessKeyID),
            region: ServiceIdentification.region(credentials: creds, hostName: hostName) ?? auth.defaultRegion,
            accessKeyID: creds.accessKeyID)
        var signature: RequestSignature?
        // An unsigned S3 form upload (PostObject) is signed inside its body: S3 checks that signature itself.
        let formUpload = name == "s3" && request.method == .post && rawQuery.isEmpty && creds.accessKeyID == nil
            && request.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true
        var unsigned = false
        if case .anonymous = creds { unsigned = service.acceptsUnsigned(method: request.method, hostName: hostName, rawPath: rawPath) }
        if auth.strict && !formUpload && !unsigned {
            var buffered: ByteBuffer?
            signature = try await verifier.verify(
                creds, service: service.signingName, method: request.method, rawPath: rawPath, query: query, headers: request.headers, host: host,
                now: clock.now(),
                payloadHash: {
                    let b = try await body.collect(limit: 16 << 20)
                    buffered = b
                    return Hex.encode(SHA256.hash(Array(b.readableBytesView)))
                })
            if let buffered { body = RequestBody(buffer: buffered) }
        } else if case .sigV4Header(let a) = creds {
            signature = RequestSignature(
                accessKeyID: a.accessKeyId, amzDate: request.headers.value("x-amz-date") ?? "",
                scope: "\(a.date)/\(a.region)/\(a.service)/aws4_request", seedSignature: a.signature, signingKey: nil)
        }
        let awsRequest = AWSRequest(
            method: request.method, rawPath: rawPath, rawQuery: rawQuery, query: query, headers: request.headers,
            host: host, body: body, caller: caller, requestID: requestID, signature: signature)
        return awsRequest
    }

    /// The wire format of a request for a service Cloudless does not serve (yet).
    static func guessProtocol(_ request: Request) -> WireProtocol {
        guard request.headers.value("x-amz-target") != nil else {
            return request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true ? .query : .restXML
        }
        return request.headers[.contentType] == "application/x-amz-json-1.0" ? .json10 : .json11
    }

    /// An error in the protocol the request speaks: the service's, or Query for a Query request to a JSON
    /// service that speaks both (SQS); a guess from the request when no service was found.
    private func render(_ error: AWSError, for request: Request, service: (any AWSService)?, requestID: String) -> AWSResponse {
        var wire = service?.wireProtocol ?? Self.guessProtocol(request)
        let namespace = service?.queryNamespace
        if namespace != nil && request.headers.value("x-amz-target") == nil { wire = .query }
        let typePrefix = service?.errorTypePrefix
        switch wire {
        case .restXML:
            return ErrorRendering.restXML(error, requestID: requestID, isHead: request.method == .head)
        case .query:
            return ErrorRendering.query(error, requestID: requestID, xmlns: namespace)
        case .json10:
            return ErrorRendering.json(error, requestID: requestID, typePrefix: typePrefix, contentType: "application/x-amz-json-1.0")
        case .json11:
            return ErrorRendering.json(error, requestID: requestID, typePrefix: typePrefix, contentType: "application/x-amz-json-1.1",
                                       messageKey: service?.jsonErrorMessageKey(for: error) ?? "message")
        case .restJSON:
            return ErrorRendering.json(error, requestID: requestID, typePrefix: typePrefix, contentType: "application/json",
                                       messageKey: service?.jsonErrorMessageKey(for: error) ?? "message",
                                       typeInBody: service?.jsonErrorTypeInBody ?? true)
        }
    }

    private func stamp(_ headers: inout HTTPFields, requestID: String, service: (any AWSService)?) {
        if service?.wireProtocol == .restXML {
            headers.set("x-amz-request-id", requestID)
            headers.set("x-amz-id-2", RequestID.hostID(for: requestID))
        } else {
            // A service may answer with its own request id (Lambda: the invocation's).
            let own = headers[HTTPField.Name("x-amzn-RequestId")!]
            headers.set("x-amzn-RequestId", own ?? requestID)
            headers.set("x-amz-request-id", own ?? requestID)
        }
        if headers[.server] == nil { headers[.server] = "Cloudless" }
    }
}

extension String {
    init(format2 value: Double) {
        let r = (value * 100).rounded() / 100
        self = String(r)
    }
}
