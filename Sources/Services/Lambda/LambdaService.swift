import Core
import Foundation
import GRDB
import HTTPTypes
import Logging
import NIOCore

/// AWS Lambda over REST-JSON. Functions run as local processes speaking the Lambda Runtime API (no containers).
public struct LambdaService: AWSService {
    public let signingName = "lambda"
    public let wireProtocol = WireProtocol.restJSON
    public var jsonErrorMessageKey: String { "Message" }
    /// Lambda's error bodies are `{"Type": …, "Message": …}`: no `__type`.
    public var jsonErrorTypeInBody: Bool { false }
    let store: FunctionStore
    let code: FunctionCode
    let pool: InstancePool
    let clock: EmulatorClock
    let logger: Logger
    let objects: (any ObjectSource)?
    let queues: (any QueueConsumer)?
    /// DynamoDB, for event source mappings on its streams (StreamPoller.swift).
    let streams: (any StreamRecordSource)?
    let pollers = MappingPollers()
    let dispatcher = AsyncDispatcher()
    /// Finished asynchronous invocations since start, for the async-queue endpoint (AsyncQueueEndpoint.swift).
    let outcomes = AsyncOutcomes()
    /// SQS, for destinations and dead-letter queues of asynchronous invocations.
    let queueEvents: (any QueueEventSink)?
    /// Destination and dead-letter messages of finished asynchronous invocations not yet delivered (AsyncDestinations.swift).
    let destinations: EventOutbox

    /// The REST paths Lambda is reached on (for the gateway's identification of unsigned requests).
    public static let pathPrefixes = [
        "/2015-03-31/functions", "/2015-03-31/event-source-mappings", "/2017-03-31/tags", "/2017-10-31/functions",
        "/2019-09-30/functions", "/2019-09-25/functions", "/2021-10-31/functions", "/2018-10-31/layers",
        "/2016-08-19/account-settings", "/2014-11-13/functions",
        "/2020-04-22/code-signing-configs", "/2020-06-30/functions",
    ]

    public init(directory: String, clock: EmulatorClock, endpoint: ServerEndpoint, logs: any LogSink, supervisor: ProcessSupervisor,
                objects: (any ObjectSource)? = nil, queues: (any QueueConsumer)? = nil, queueEvents: (any QueueEventSink)? = nil,
                streams: (any StreamRecordSource)? = nil, logger: Logger) throws {
        self.objects = objects
        self.streams = streams
        self.queues = queues
        self.queueEvents = queueEvents
        store = try FunctionStore(directory: directory)
        code = FunctionCode(directory: store.codeDirectory)
        try Runtimes.install(in: store.codeDirectory)
        pool = InstancePool(supervisor: supervisor, runtimeDirectory: store.codeDirectory + "/runtime", endpoint: endpoint, logs: logs,
                            logger: logger)
        self.clock = clock
        self.logger = logger
        // Records for another function are queued through Lambda itself, connected once it exists.
        let functions = FunctionEventRelay()
        destinations = EventOutbox(database: store.database, table: FunctionStore.destinationOutbox, clock: clock, logger: logger,
                                   queues: queueEvents, functions: functions)
        functions.connect(self)
        startAsyncDispatcher()
        destinations.start()
    }

    public func reset() async throws {
        pollers.stopAll()
        dispatcher.stop()
        await pool.stopAll()
        try store.reset()
        outcomes.removeAll()
        startAsyncDispatcher()
    }

    /// `GET /_cloudless/lambda/code/<sha256>`: GetFunction's Code.Location, the deployment package.
    /// `GET /_cloudless/lambda/async-queue/…`: the asynchronous invocation queue (AsyncQueueEndpoint.swift).
    public func internalResponse(method: HTTPRequest.Method, path: String) async -> AWSResponse? {
        if path.hasPrefix(Self.asyncQueuePrefix) { return asyncQueueResponse(method: method, path: path) }
        let prefix = "/_cloudless/lambda/code/"
        guard method == .get, path.hasPrefix(prefix) else { return nil }
        let hex = String(path.dropFirst(prefix.count))
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit), let data = code.zipBytes(hex) else {
            return AWSResponse(status: .notFound)
        }
        var response = AWSResponse(status: .ok, bytes: ByteBuffer(bytes: data))
        response.headers[.contentType] = "application/zip"
        return response
    }

    /// Stop every instance (shutdown).
    public func shutdown() async {
        pollers.stopAll()
        dispatcher.stop()
        destinations.stop()
        await pool.stopAll()
    }

    /// Reap idle instances (called periodically).
    public func reapIdleInstances() async { await pool.reap() }

    static let router = RestRouter([
        RestRoute(.post, "/2015-03-31/functions", "CreateFunction"),
        RestRoute(.get, "/2015-03-31/functions", "ListFunctions"),
        RestRoute(.get, "/2015-03-31/functions/{FunctionName}", "GetFunction"),
        RestRoute(.delete, "/2015-03-31/functions/{FunctionName}", "DeleteFunction"),
        RestRoute(.get, "/2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration"),
        RestRoute(.put, "/2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration"),
        RestRoute(.put, "/2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode"),
        RestRoute(.post, "/2015-03-31/functions/{FunctionName}/invocations", "Invoke"),
        RestRoute(.post, "/2015-03-31/functions/{FunctionName}/versions", "PublishVersion"),
        RestRoute(.get, "/2015-03-31/functions/{FunctionName}/versions", "ListVersionsByFunction"),
        RestRoute(.post, "/2015-03-31/functions/{FunctionName}/aliases", "CreateAlias"),
        RestRoute(.get, "/2015-03-31/functions/{FunctionName}/aliases", "ListAliases"),
        RestRoute(.get, "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "GetAlias"),
        RestRoute(.put, "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "UpdateAlias"),
        RestRoute(.delete, "/2015-03-31/functions/{FunctionName}/aliases/{Name}", "DeleteAlias"),
        RestRoute(.post, "/2017-03-31/tags/{Resource+}", "TagResource"),
        RestRoute(.get, "/2017-03-31/tags/{Resource+}", "ListTags"),
        RestRoute(.delete, "/2017-03-31/tags/{Resource+}", "UntagResource"),
        RestRoute(.put, "/2017-10-31/functions/{FunctionName}/concurrency", "PutFunctionConcurrency"),
        RestRoute(.delete, "/2017-10-31/functions/{FunctionName}/concurrency", "DeleteFunctionConcurrency"),
        RestRoute(.get, "/2019-09-30/functions/{FunctionName}/concurrency", "GetFunctionConcurrency"),
        RestRoute(.get, "/2016-08-19/account-settings", "GetAccountSettings"),
        RestRoute(.put, "/2019-09-25/functions/{FunctionName}/event-invoke-config", "PutFunctionEventInvokeConfig"),
        RestRoute(.post, "/2019-09-25/functions/{FunctionName}/event-invoke-config", "UpdateFunctionEventInvokeConfig"),
        RestRoute(.get, "/2019-09-25/functions/{FunctionName}/event-invoke-config", "GetFunctionEventInvokeConfig"),
        RestRoute(.delete, "/2019-09-25/functions/{FunctionName}/event-invoke-config", "DeleteFunctionEventInvokeConfig"),
        RestRoute(.get, "/2019-09-25/functions/{FunctionName}/event-invoke-config/list", "ListFunctionEventInvokeConfigs"),
        RestRoute(.post, "/2015-03-31/event-source-mappings", "CreateEventSourceMapping"),
        RestRoute(.get, "/2015-03-31/event-source-mappings", "ListEventSourceMappings"),
        RestRoute(.get, "/2015-03-31/event-source-mappings/{UUID}", "GetEventSourceMapping"),
        RestRoute(.put, "/2015-03-31/event-source-mappings/{UUID}", "UpdateEventSourceMapping"),
        RestRoute(.delete, "/2015-03-31/event-source-mappings/{UUID}", "DeleteEventSourceMapping"),
        RestRoute(.post, "/2015-03-31/functions/{FunctionName}/policy", "AddPermission"),
        RestRoute(.get, "/2015-03-31/functions/{FunctionName}/policy", "GetPolicy"),
        RestRoute(.delete, "/2015-03-31/functions/{FunctionName}/policy/{StatementId}", "RemovePermission"),
        RestRoute(.post, "/2021-10-31/functions/{FunctionName}/url", "CreateFunctionUrlConfig"),
        RestRoute(.get, "/2021-10-31/functions/{FunctionName}/url", "GetFunctionUrlConfig"),
        RestRoute(.put, "/2021-10-31/functions/{FunctionName}/url", "UpdateFunctionUrlConfig"),
        RestRoute(.delete, "/2021-10-31/functions/{FunctionName}/url", "DeleteFunctionUrlConfig"),
        RestRoute(.get, "/2021-10-31/functions/{FunctionName}/urls", "ListFunctionUrlConfigs"),
        // GET /2018-10-31/layers?find=LayerVersion&Arn=… is GetLayerVersionByArn (listLayers tells them apart).
        RestRoute(.get, "/2018-10-31/layers", "ListLayers"),
        RestRoute(.post, "/2018-10-31/layers/{LayerName}/versions", "PublishLayerVersion"),
        RestRoute(.get, "/2018-10-31/layers/{LayerName}/versions", "ListLayerVersions"),
        RestRoute(.get, "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "GetLayerVersion"),
        RestRoute(.delete, "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}", "DeleteLayerVersion"),
        RestRoute(.post, "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "AddLayerVersionPermission"),
        RestRoute(.get, "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy", "GetLayerVersionPolicy"),
        RestRoute(.delete, "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}", "RemoveLayerVersionPermission"),
        RestRoute(.post, "/2020-04-22/code-signing-configs", "CreateCodeSigningConfig"),
        RestRoute(.get, "/2020-04-22/code-signing-configs", "ListCodeSigningConfigs"),
        RestRoute(.get, "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}", "GetCodeSigningConfig"),
        RestRoute(.put, "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}", "UpdateCodeSigningConfig"),
        RestRoute(.delete, "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}", "DeleteCodeSigningConfig"),
        RestRoute(.get, "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}/functions", "ListFunctionsByCodeSigningConfig"),
        RestRoute(.put, "/2020-06-30/functions/{FunctionName}/code-signing-config", "PutFunctionCodeSigningConfig"),
        RestRoute(.get, "/2020-06-30/functions/{FunctionName}/code-signing-config", "GetFunctionCodeSigningConfig"),
        RestRoute(.delete, "/2020-06-30/functions/{FunctionName}/code-signing-config", "DeleteFunctionCodeSigningConfig"),
    ])

    public func operationName(for request: AWSRequest) -> String {
        let op = Self.router.match(method: request.method, rawPath: request.rawPath)?.operation ?? "-"
        return op == "ListLayers" && request.queryValue("find") == "LayerVersion" ? "GetLayerVersionByArn" : op
    }

    /// Lambda's modeled errors name their message `Message` or `message` shape by shape (botocore's model); errors of
    /// AWS's front end (ValidationException, signature and credential errors) use `message`.
    public func jsonErrorMessageKey(for error: AWSError) -> String {
        LambdaError.capitalMessage.contains(error.code) ? "Message" : "message"
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        do {
            return try await serve(request)
        } catch let error as AWSError {
            throw LambdaError.typed(error)
        }
    }

    func serve(_ request: AWSRequest) async throws -> AWSResponse {
        guard let (op, labels) = Self.router.match(method: request.method, rawPath: request.rawPath) else {
            throw AWSError("UnknownOperationException", "Unknown operation \(request.method.rawValue) \(request.rawPath)", status: .notFound)
                .with("Type", "User")
        }
        let r = LambdaRequest(request: request, labels: labels)
        switch op {
        case "Invoke": return try await invoke(r)
        case "CreateFunction": return try await createFunction(r)
        case "ListFunctions": return try listFunctions(r)
        case "GetFunction": return try getFunction(r)
        case "DeleteFunction": return try deleteFunction(r)
        case "GetFunctionConfiguration": return try getFunctionConfiguration(r)
        case "UpdateFunctionConfiguration": return try await updateFunctionConfiguration(r)
        case "UpdateFunctionCode": return try await updateFunctionCode(r)
        case "PublishVersion": return try await publishVersion(r)
        case "ListVersionsByFunction": return try listVersionsByFunction(r)
        case "CreateAlias": return try await createAlias(r)
        case "ListAliases": return try listAliases(r)
        case "GetAlias": return try getAlias(r)
        case "UpdateAlias": return try await updateAlias(r)
        case "DeleteAlias": return try deleteAlias(r)
        case "TagResource": return try await tagResource(r)
        case "ListTags": return try listTags(r)
        case "UntagResource": return try untagResource(r)
        case "PutFunctionConcurrency": return try await putFunctionConcurrency(r)
        case "DeleteFunctionConcurrency": return try deleteFunctionConcurrency(r)
        case "GetFunctionConcurrency": return try getFunctionConcurrency(r)
        case "GetAccountSettings": return try getAccountSettings(r)
        case "PutFunctionEventInvokeConfig": return try await putFunctionEventInvokeConfig(r, update: false)
        case "UpdateFunctionEventInvokeConfig": return try await putFunctionEventInvokeConfig(r, update: true)
        case "GetFunctionEventInvokeConfig": return try getFunctionEventInvokeConfig(r)
        case "DeleteFunctionEventInvokeConfig": return try deleteFunctionEventInvokeConfig(r)
        case "ListFunctionEventInvokeConfigs": return try listFunctionEventInvokeConfigs(r)
        case "CreateEventSourceMapping": return try await createEventSourceMapping(r)
        case "ListEventSourceMappings": return try listEventSourceMappings(r)
        case "GetEventSourceMapping": return try getEventSourceMapping(r)
        case "UpdateEventSourceMapping": return try await updateEventSourceMapping(r)
        case "DeleteEventSourceMapping": return try deleteEventSourceMapping(r)
        case "AddPermission": return try await addPermission(r)
        case "GetPolicy": return try getPolicy(r)
        case "RemovePermission": return try removePermission(r)
        case "CreateFunctionUrlConfig": return try await createFunctionUrlConfig(r)
        case "GetFunctionUrlConfig": return try getFunctionUrlConfig(r)
        case "UpdateFunctionUrlConfig": return try await updateFunctionUrlConfig(r)
        case "DeleteFunctionUrlConfig": return try deleteFunctionUrlConfig(r)
        case "ListFunctionUrlConfigs": return try listFunctionUrlConfigs(r)
        case "ListLayers": return try listLayers(r)
        case "PublishLayerVersion": return try await publishLayerVersion(r)
        case "ListLayerVersions": return try listLayerVersions(r)
        case "GetLayerVersion": return try getLayerVersion(r)
        case "DeleteLayerVersion": return try deleteLayerVersion(r)
        case "AddLayerVersionPermission": return try await addLayerVersionPermission(r)
        case "GetLayerVersionPolicy": return try getLayerVersionPolicy(r)
        case "RemoveLayerVersionPermission": return try removeLayerVersionPermission(r)
        case "CreateCodeSigningConfig": return try await createCodeSigningConfig(r)
        case "ListCodeSigningConfigs": return try listCodeSigningConfigs(r)
        case "GetCodeSigningConfig": return try getCodeSigningConfig(r)
        case "UpdateCodeSigningConfig": return try await updateCodeSigningConfig(r)
        case "DeleteCodeSigningConfig": return try deleteCodeSigningConfig(r)
        case "ListFunctionsByCodeSigningConfig": return try listFunctionsByCodeSigningConfig(r)
        case "PutFunctionCodeSigningConfig": return try await putFunctionCodeSigningConfig(r)
        case "GetFunctionCodeSigningConfig": return try getFunctionCodeSigningConfig(r)
        case "DeleteFunctionCodeSigningConfig": return try deleteFunctionCodeSigningConfig(r)
        default: throw AWSError.internalError()
        }
    }
}

/// A request with its path labels.
struct LambdaRequest {
    let request: AWSRequest
    let labels: [String: String]

    var account: String { request.caller.accountID }
    var region: String { request.caller.region }

    func body() async throws -> [String: Any] {
        try await JSONProtocol.input(request, limit: 70 << 20)
    }
}

enum LambdaError {
    /// Lambda's modeled errors whose shape names the message `Message` (botocore's model).
    static let capitalMessage: Set<String> = [
        "CallbackTimeoutException", "CodeSigningConfigNotFoundException", "CodeVerificationFailedException",
        "DurableExecutionAlreadyStartedException", "EC2AccessDeniedException", "EC2ThrottledException", "EC2UnexpectedException",
        "EFSIOException", "EFSMountConnectivityException", "EFSMountFailureException", "EFSMountTimeoutException",
        "ENILimitReachedException", "InvalidCodeSignatureException", "InvalidRuntimeException", "InvalidSecurityGroupIDException",
        "InvalidSubnetIDException", "InvalidZipFileException", "KMSAccessDeniedException", "KMSDisabledException",
        "KMSInvalidStateException", "KMSNotFoundException", "NoPublishedVersionException", "RecursiveInvocationException",
        "ResourceInUseException", "ResourceNotFoundException", "ServiceException", "SnapStartException",
        "SnapStartNotReadyException", "SnapStartTimeoutException", "SubnetIPAddressLimitReachedException",
    ]
    /// Lambda's modeled errors whose shape names it `message`.
    static let lowercaseMessage: Set<String> = [
        "CapacityProviderLimitExceededException", "CodeStorageExceededException", "FunctionVersionsPerCapacityProviderLimitExceededException",
        "InvalidParameterValueException", "InvalidRequestContentException", "PolicyLengthExceededException", "PreconditionFailedException",
        "ProvisionedConcurrencyConfigNotFoundException", "RequestEntityTooLargeException", "ResourceConflictException",
        "ResourceNotReadyException", "SerializedRequestEntityTooLargeException", "TooManyRequestsException", "UnsupportedMediaTypeException",
    ]

    /// Every modeled Lambda error carries `Type`: `Service` for Lambda's own failures, `User` otherwise. Errors of AWS's
    /// front end (ValidationException, signature errors) are not Lambda shapes and have none.
    static func typed(_ error: AWSError) -> AWSError {
        guard capitalMessage.contains(error.code) || lowercaseMessage.contains(error.code),
              !error.details.contains(where: { $0.0 == "Type" }) else { return error }
        return error.with("Type", error.status.code >= 500 && !error.code.hasPrefix("Invalid") ? "Service" : "User")
    }

    static func notFound(_ arn: String) -> AWSError {
        AWSError("ResourceNotFoundException", "Function not found: \(arn)", status: .notFound).with("Type", "User")
    }
    static func invalid(_ message: String) -> AWSError {
        AWSError("InvalidParameterValueException", message).with("Type", "User")
    }
    static func conflict(_ message: String) -> AWSError {
        AWSError("ResourceConflictException", message, status: .conflict).with("Type", "User")
    }
    static func validation(_ value: String, _ field: String, _ constraint: String) -> AWSError {
        AWSError("ValidationException", "1 validation error detected: Value '\(value)' at '\(field)' failed to satisfy constraint: \(constraint)")
    }
}

extension LambdaService {
    static func functionARN(account: String, region: String, name: String) -> String {
        "arn:aws:lambda:\(region):\(account):function:\(name)"
    }

    /// A FunctionName (name, partial `account:function:name` or full ARN, either with an optional `:qualifier`)
    /// as (account, region, name, qualifier).
    static func parseName(_ text: String, _ r: LambdaRequest) throws -> (String, String, String, String?) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: return (r.account, r.region, parts[0], nil)
        case 2: return (r.account, r.region, parts[0], parts[1])
        case 3 where parts[1] == "function": return (parts[0], r.region, parts[2], nil)
        case 4 where parts[1] == "function": return (parts[0], r.region, parts[2], parts[3])
        case 7 where parts[0] == "arn" && parts[5] == "function": return (parts[4], parts[3], parts[6], nil)
        case 8 where parts[0] == "arn" && parts[5] == "function": return (parts[4], parts[3], parts[6], parts[7])
        default:
            throw LambdaError.validation(text, "functionName", "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
        }
    }

    /// The function a request's `{FunctionName}` names, and the qualifier (from the name or `?Qualifier=`).
    /// `latestInError`: Invoke and concurrency name the version they looked for (`:$LATEST`) in not-found errors.
    func function(_ r: LambdaRequest, _ db: Database? = nil, latestInError: Bool = false) throws -> (LambdaFunction, String?) {
        let (account, region, name, fromName) = try Self.parseName(r.labels["FunctionName"] ?? "", r)
        let qualifier = r.request.queryValue("Qualifier") ?? fromName
        let found = try db.map { try FunctionStore.function(account: account, region: region, name: name, $0) }
            ?? store.function(account: account, region: region, name: name)
        guard let f = found else {
            let arn = Self.functionARN(account: account, region: region, name: name)
            throw LambdaError.notFound(latestInError ? arn + ":\(qualifier ?? "$LATEST")" : arn)
        }
        return (f, qualifier)
    }

    /// The configuration a qualifier selects ($LATEST, a version or an alias), and the alias if it was one.
    static func configuration(_ f: LambdaFunction, qualifier: String?) throws -> (FunctionConfig, FunctionAlias?) {
        guard let q = qualifier, q != "$LATEST" else { return (f.latest, nil) }
        if let v = f.versions.first(where: { $0.Version == q }) { return (v, nil) }
        if let a = f.aliases.first(where: { $0.Name == q }), let v = f.versions.first(where: { $0.Version == a.FunctionVersion }) ?? (a.FunctionVersion == "$LATEST" ? f.latest : nil) {
            return (v, a)
        }
        throw LambdaError.notFound(f.arn + ":\(q)")
    }

    static func lastModified(_ t: Double) -> String {
        // 2026-11-25T21:00:00.000+0000
        String(AWSDate.iso8601(t).dropLast()) + "+0000"
    }

    static func revision() -> String { UUID().uuidString.lowercased() }
}
