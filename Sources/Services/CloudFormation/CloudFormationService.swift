import Core
import Foundation
import Logging
import Synchronization

/// AWS CloudFormation over the Query protocol (`Version=2010-05-15`): stacks from JSON and YAML templates, created,
/// updated and deleted in the background by `StackEngine` through the services' `ResourceProvider`s.
public struct CloudFormationService: AWSService {
    public let signingName = "cloudformation"
    public let wireProtocol = WireProtocol.query
    public static let apiVersion = "2010-05-15"
    static let xmlns = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
    public var queryNamespace: String? { Self.xmlns }
    let store: StackStore
    let engine: StackEngine
    let clock: EmulatorClock
    /// Finishing the stacks an earlier run left IN_PROGRESS (`resumeStacks`), once started.
    let recovery = StackRecovery()
    let endpoint: ServerEndpoint?
    let logger: Logger
    /// Where TemplateURLs are read from (Cloudless's S3).
    let objects: (any ObjectSource)?

    /// Custom resources' ResponseURLs and wait condition handles (Callbacks.swift).
    let callbacks: Callbacks

    public init(directory: String, clock: EmulatorClock, providers: ResourceProviders, objects: (any ObjectSource)? = nil,
                functions: (any FunctionEventSink)? = nil, secrets: (any SecretResolver)? = nil,
                endpoint: ServerEndpoint? = nil, aliasDeployments: (any AliasDeployments)? = nil, logger: Logger) throws {
        store = try StackStore(directory: directory)
        self.clock = clock
        self.objects = objects
        callbacks = Callbacks(endpoint: endpoint)
        engine = StackEngine(store: store, providers: providers, builtIn: ResourceProviders([]), clock: clock, logger: logger,
                             links: EngineLinks(functions: functions, secrets: secrets, objects: objects, callbacks: callbacks,
                                                aliasDeployments: aliasDeployments))
        self.endpoint = endpoint
        self.logger = logger
    }

    /// Stacks a restart caught IN_PROGRESS are finished or rolled back. Started after the port is bound, or by the
    /// first request if that comes first: every request waits for it, so the list is read before any request starts
    /// an operation of its own. Nothing is opened when `cloudformation.sqlite` does not exist.
    @discardableResult
    public func resumeStacks() -> Task<Void, Never> {
        recovery.task.withLock { task in
            if let task { return task }
            let (store, engine, callbacks, endpoint, logger) = (store, engine, callbacks, endpoint, logger)
            let started = Task {
                guard store.database.hasContent else { return }
                let stuck: [String]
                do { stuck = try store.inProgress().map(\.id) } catch {
                    logger.error("CloudFormation: cannot read the stacks left in progress: \(error)")
                    return
                }
                // Finishing them may call back into Cloudless (custom resources' functions answer on its port).
                if endpoint != nil && !stuck.isEmpty { await callbacks.untilListening() }
                await engine.recover(stuck)
            }
            task = started
            return started
        }
    }

    /// Wait until every stack operation started so far has finished (tests).
    public func settle() async {
        await resumeStacks().value
        await engine.settle()
    }

    public func reset() async throws {
        await engine.settle()
        try store.reset()
    }

    public func operationName(for request: AWSRequest) -> String {
        request.queryValue("Action") ?? "-"
    }

    struct Caller {
        var account: String
        var region: String
        var now: Double
        /// The host name the request addressed (TemplateURLs on it are Cloudless's S3).
        var host: String = "localhost"
    }

    /// Stack operations run in the background, but a call that starts one answers once it has finished (most take
    /// milliseconds) or after this many seconds: clients that poll slowly (`aws cloudformation deploy` and `wait`
    /// sleep 30 s between polls of a waiter) then see it done on their first poll.
    static let answerWait: Double = 10

    typealias Answer = ((inout XMLWriter) -> Void)?

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let parameters = try await QueryProtocol.parameters(request)
        guard let action = parameters["Action"] else { throw AWSError("MissingAction", "Missing Action") }
        let caller = Caller(account: request.caller.accountID, region: request.caller.region, now: clock.now(), host: request.hostName)
        let answer = try await perform(action, parameters, caller)
        return QueryProtocol.response(action: action, xmlns: Self.xmlns, requestID: request.requestID, result: answer)
    }

    func perform(_ action: String, _ p: [String: String], _ caller: Caller) async throws -> Answer {
        await resumeStacks().value  // the stacks left in progress are known before any operation of this run starts
        switch action {
        case "CreateStack": return try await createStack(p, caller)
        case "UpdateStack": return try await updateStack(p, caller)
        case "DeleteStack": return try await deleteStack(p, caller)
        case "DescribeStacks": return try describeStacks(p, caller)
        case "ListStacks": return try listStacks(p, caller)
        case "DescribeStackEvents": return try describeStackEvents(p, caller)
        case "DescribeStackResource": return try describeStackResource(p, caller)
        case "DescribeStackResources": return try describeStackResources(p, caller)
        case "ListStackResources": return try listStackResources(p, caller)
        case "GetTemplate": return try getTemplate(p, caller)
        case "ValidateTemplate", "GetTemplateSummary": return try await validateTemplate(p, caller, summary: action == "GetTemplateSummary")
        case "ListExports": return try listExports(p, caller)
        case "ListImports": return try listImports(p, caller)
        case "CreateChangeSet": return try await createChangeSet(p, caller)
        case "DescribeChangeSet": return try describeChangeSet(p, caller)
        case "ListChangeSets": return try listChangeSets(p, caller)
        case "ExecuteChangeSet": return try await executeChangeSet(p, caller)
        case "DeleteChangeSet": return try deleteChangeSet(p, caller)
        case "DetectStackDrift": return try detectStackDrift(p, caller)
        case "DescribeStackDriftDetectionStatus": return try describeStackDriftDetectionStatus(p, caller)
        case "DetectStackResourceDrift": return try await detectStackResourceDrift(p, caller)
        case "DescribeStackResourceDrifts": return try describeStackResourceDrifts(p, caller)
        case "UpdateTerminationProtection": return try updateTerminationProtection(p, caller)
        case "SetStackPolicy": return try await setStackPolicy(p, caller)
        case "GetStackPolicy": return try getStackPolicy(p, caller)
        case "CancelUpdateStack": return try await cancelUpdateStack(p, caller)
        case "ContinueUpdateRollback": return try await continueUpdateRollback(p, caller)
        case "RollbackStack": return try await rollbackStack(p, caller)
        default:
            throw AWSError("InvalidAction", "Could not find operation \(action) for version \(p["Version"] ?? "NO_VERSION_SPECIFIED")")
        }
    }

    // MARK: Input

    static func list(_ p: [String: String], _ name: String) -> [String] {
        let prefix = name + ".member."
        return p.compactMap { k, v -> (Int, String)? in
            guard k.hasPrefix(prefix), let i = Int(k.dropFirst(prefix.count)) else { return nil }
            return (i, v)
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// `Name.member.N.<a>` / `.<b>` structures, in index order.
    static func structures(_ p: [String: String], _ name: String) -> [[String: String]] {
        let prefix = name + ".member."
        var byIndex: [Int: [String: String]] = [:]
        for (k, v) in p where k.hasPrefix(prefix) {
            let rest = k.dropFirst(prefix.count).split(separator: ".", maxSplits: 1)
            guard rest.count == 2, let i = Int(rest[0]) else { continue }
            byIndex[i, default: [:]][String(rest[1])] = v
        }
        return byIndex.sorted { $0.key < $1.key }.map(\.value)
    }

    static func required(_ p: [String: String], _ name: String) throws -> String {
        guard let v = p[name], !v.isEmpty else {
            let member = name.prefix(1).lowercased() + name.dropFirst()
            throw CFNError.validation("1 validation error detected: Value null at '\(member)' failed to satisfy constraint: Member must not be null")
        }
        return v
    }

    func templateBody(_ p: [String: String], _ caller: Caller) async throws -> String {
        if let b = p["TemplateBody"], !b.isEmpty { return b }
        if let url = p["TemplateURL"], !url.isEmpty { return try await TemplateURL.read(url, objects: objects, ownHost: caller.host) }
        throw CFNError.validation("Either Template URL or Template Body must be specified.")
    }

    func stack(_ nameOrId: String?, _ caller: Caller) throws -> Stack {
        guard let nameOrId, let s = try store.find(nameOrId, account: caller.account, region: caller.region) else {
            throw CFNError.stackNotFound(nameOrId ?? "")
        }
        return s
    }

    static func validName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 128, CharacterSet.letters.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "-" }
    }

    // MARK: Stacks

    func createStack(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        let name = try Self.required(p, "StackName")
        guard Self.validName(name) else {
            throw CFNError.validation("1 validation error detected: Value '\(name)' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
        }
        let body = try await templateBody(p, caller)
        let template = try Template(body: body)
        var given: [String: String] = [:]
        for m in Self.structures(p, "Parameters") { if let k = m["ParameterKey"] { given[k] = m["ParameterValue"] ?? "" } }
        let values = try template.resolveParameters(given)
        // Fn::ForEach loops expand with the given values: what they produce needs capabilities too.
        try Capabilities.check(body: body, template: try Template(body: body, parameters: values),
                               given: Self.list(p, "Capabilities"), direct: true)
        let options = try await creationOptions(p, caller, template)  // TerminationProtection.swift
        if try store.find(name, account: caller.account, region: caller.region) != nil {
            throw CFNError.alreadyExists(name)
        }
        let id = "arn:aws:cloudformation:\(caller.region):\(caller.account):stack/\(name)/\(UUID().uuidString.lowercased())"
        try TemplateRules.check(template, values, account: caller.account, region: caller.region, stackName: name, stackId: id)  // Rules.swift
        let tags = Self.structures(p, "Tags").compactMap { m in m["Key"].map { StackParameter(key: $0, value: m["Value"] ?? "") } }
        let onFailure = try Self.onFailure(p)
        let disableRollback = p["DisableRollback"]?.lowercased() == "true" || onFailure == "DO_NOTHING"
        var s = Stack(id: id, name: name, account: caller.account, region: caller.region, status: "CREATE_IN_PROGRESS",
                      description: template.description, created: caller.now, templateBody: body,
                      parameters: values.sorted { $0.key < $1.key }.map { StackParameter(key: $0.key, value: $0.value) },
                      tags: tags, disableRollback: disableRollback, capabilities: Self.list(p, "Capabilities"), outputs: [],
                      resources: [:])
        s.deleteOnFailure = onFailure == "DELETE" ? true : nil
        try store.save(options, stackId: id)
        try store.save(s)
        await engine.start(id, .create)
        await SnapshotGate.outside { await engine.wait(id, seconds: Self.answerWait) }
        return { $0.element("StackId", id) }
    }

    func updateStack(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        var s = try stack(try Self.required(p, "StackName"), caller)
        guard s.deleted == nil else { throw CFNError.stackNotFound(p["StackName"] ?? "") }
        guard Self.updatableStatuses.contains(s.status) else {  // StackRecoveryOperations.swift
            throw CFNError.validation("Stack:\(s.id) is in \(s.status) state and can not be updated.")
        }
        let body = p["UsePreviousTemplate"]?.lowercased() == "true" ? s.templateBody : try await templateBody(p, caller)
        let template = try Template(body: body)
        let values = try template.resolveParameters(try Self.givenParameters(p, previous: s.parameterValues))  // ChangeSets.swift
        try TemplateRules.check(template, values, account: s.account, region: s.region, stackName: s.name, stackId: s.id)  // Rules.swift
        try Capabilities.check(body: body, template: template, given: Self.list(p, "Capabilities"), direct: true)
        let parameters = values.sorted { $0.key < $1.key }.map { StackParameter(key: $0.key, value: $0.value) }
        let tags = Self.tags(p) ?? s.tags
        let policies = try await updatePolicies(p, caller, template, stackId: s.id)  // StackPolicy.swift
        if body == s.templateBody && parameters == s.parameters && tags == s.tags {
            throw CFNError.noUpdates
        }
        try saveUpdatePolicies(policies, stackId: s.id)
        s.disableRollback = p["DisableRollback"]?.lowercased() == "true"
        s.previousResources = s.resources
        s.previousTemplateBody = s.templateBody
        s.previousParameters = s.parameters
        s.previousOutputs = s.outputs
        s.templateBody = body
        s.parameters = parameters
        s.tags = tags
        s.capabilities = Self.list(p, "Capabilities")
        s.status = "UPDATE_IN_PROGRESS"
        try store.save(s)
        await engine.start(s.id, .update)
        await SnapshotGate.outside { await engine.wait(s.id, seconds: Self.answerWait) }
        return { [id = s.id] in $0.element("StackId", id) }
    }

    func deleteStack(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        let nameOrId = try Self.required(p, "StackName")
        guard var s = try store.find(nameOrId, account: caller.account, region: caller.region), s.deleted == nil else {
            return nil  // deleting a stack that does not exist succeeds
        }
        try checkTerminationProtection(s)  // TerminationProtection.swift
        if s.status == "DELETE_IN_PROGRESS" { return nil }
        if s.isInProgress {
            throw CFNError.validation("Stack \(s.id) is in \(s.status) state and can not be deleted.")
        }
        s.status = "DELETE_IN_PROGRESS"
        try store.save(s)
        await engine.start(s.id, .delete)
        await SnapshotGate.outside { await engine.wait(s.id, seconds: Self.answerWait) }
        return nil
    }

    /// A stack's or change set's `Tags`.
    static func writeTags(_ tags: [StackParameter], to xml: inout XMLWriter) {
        xml.open("Tags")
        for tag in tags {
            xml.open("member")
            xml.element("Key", tag.key)
            xml.element("Value", tag.value)
            xml.close()
        }
        xml.close()
    }

    /// A stack's or change set's `Parameters`, NoEcho values shown as `****` as AWS shows them.
    static func writeParameters(_ parameters: [StackParameter], of template: Template?, to xml: inout XMLWriter) {
        xml.open("Parameters")
        for param in parameters {
            xml.open("member")
            xml.element("ParameterKey", param.key)
            xml.element("ParameterValue", template?.parameters[param.key]?.noEcho == true ? "****" : param.value)
            xml.close()
        }
        xml.close()
    }

    static func date(_ seconds: Double) -> String { AWSDate.iso8601(seconds) }

    func describeStacks(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let stacks: [Stack]
        var next: String?
        if let name = p["StackName"], !name.isEmpty {
            stacks = [try stack(name, caller)]
        } else {
            (stacks, next) = try Paging.page(try store.all(account: caller.account, region: caller.region, includeDeleted: false),
                                             token: p["NextToken"])
        }
        let templates = stacks.map { try? Template(body: $0.templateBody) }
        let options = stacks.map { (try? store.options(stackId: $0.id)) ?? StackOptions() }
        let drifts = stacks.map { try? store.lastDetection(stackId: $0.id) }
        return { xml in
            xml.open("Stacks")
            for (i, (s, t)) in zip(stacks, templates).enumerated() {
                xml.open("member")
                xml.element("StackId", s.id)
                xml.element("StackName", s.name)
                xml.element("Description", s.description)
                Self.writeParameters(s.parameters, of: t, to: &xml)
                xml.element("CreationTime", Self.date(s.created))
                if let u = s.lastUpdated { xml.element("LastUpdatedTime", Self.date(u)) }
                if let d = s.deleted { xml.element("DeletionTime", Self.date(d)) }
                xml.element("StackStatus", s.status)
                xml.element("StackStatusReason", s.statusReason)
                xml.element("DisableRollback", s.disableRollback)
                xml.empty("NotificationARNs")
                if !s.capabilities.isEmpty {
                    xml.open("Capabilities")
                    for c in s.capabilities { xml.element("member", c) }
                    xml.close()
                }
                if !s.outputs.isEmpty {
                    let masked = CustomResourceProvider.maskedOutputs(s, t)
                    xml.open("Outputs")
                    for o in s.outputs {
                        xml.open("member")
                        xml.element("OutputKey", o.key)
                        xml.element("OutputValue", masked.contains(o.key) ? "****" : o.value)
                        xml.element("Description", o.description)
                        xml.element("ExportName", o.exportName)
                        xml.close()
                    }
                    xml.close()
                }
                Self.writeTags(s.tags, to: &xml)
                xml.element("EnableTerminationProtection", options[i].terminationProtection)
                xml.element("ParentId", s.parentId)
                xml.element("RootId", s.rootId)
                Self.writeStackDriftInformation(drifts[i], to: &xml)
                xml.close()
            }
            xml.close()
            xml.element("NextToken", next)
        }
    }

    func listStacks(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let filter = Set(Self.list(p, "StackStatusFilter"))
        let stacks = try store.all(account: caller.account, region: caller.region, includeDeleted: true)
            .filter { filter.isEmpty || filter.contains($0.status) }
        let (page, next) = try Paging.page(stacks, token: p["NextToken"])
        let drifts = page.map { try? store.lastDetection(stackId: $0.id) }
        return { xml in
            xml.open("StackSummaries")
            for (s, drift) in zip(page, drifts) {
                xml.open("member")
                xml.element("StackId", s.id)
                xml.element("StackName", s.name)
                xml.element("TemplateDescription", s.description)
                xml.element("CreationTime", Self.date(s.created))
                if let u = s.lastUpdated { xml.element("LastUpdatedTime", Self.date(u)) }
                if let d = s.deleted { xml.element("DeletionTime", Self.date(d)) }
                xml.element("StackStatus", s.status)
                xml.element("StackStatusReason", s.statusReason)
                xml.element("ParentId", s.parentId)
                xml.element("RootId", s.rootId)
                Self.writeStackDriftInformation(drift, to: &xml)
                xml.close()
            }
            xml.close()
            xml.element("NextToken", next)
        }
    }

    func describeStackEvents(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let s = try stack(try Self.required(p, "StackName"), caller)
        let (events, next) = try Paging.page(try store.events(stackId: s.id), token: p["NextToken"])
        return { xml in
            xml.open("StackEvents")
            for e in events {
                xml.open("member")
                xml.element("StackId", e.stackId)
                xml.element("EventId", e.eventId)
                xml.element("StackName", e.stackName)
                xml.element("LogicalResourceId", e.logicalId)
                xml.element("PhysicalResourceId", e.physicalId)
                xml.element("ResourceType", e.type)
                xml.element("Timestamp", Self.date(e.timestamp))
                xml.element("ResourceStatus", e.status)
                xml.element("ResourceStatusReason", e.statusReason)
                xml.element("ResourceProperties", e.properties)
                xml.close()
            }
            xml.close()
            xml.element("NextToken", next)
        }
    }

    static func writeResource(_ xml: inout XMLWriter, _ s: Stack, _ r: StackResource, detail: Bool, summary: Bool,
                              drift: ResourceDrift? = nil) {
        if !summary {
            xml.element("StackName", s.name)
            xml.element("StackId", s.id)
        }
        xml.element("LogicalResourceId", r.logicalId)
        xml.element("PhysicalResourceId", r.physicalId)
        xml.element("ResourceType", r.type)
        xml.element(summary || detail ? "LastUpdatedTimestamp" : "Timestamp", date(r.updated))
        xml.element("ResourceStatus", r.status)
        xml.element("ResourceStatusReason", r.statusReason)
        if detail { xml.element("Metadata", "{}") }
        writeResourceDriftInformation(drift, to: &xml)
    }

    func describeStackResource(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let s = try stack(try Self.required(p, "StackName"), caller)
        let logical = try Self.required(p, "LogicalResourceId")
        guard let r = s.resources[logical] else {
            throw CFNError.validation("Resource \(logical) does not exist for stack \(s.name)")
        }
        let drift = try store.resourceDrifts(stackId: s.id)[logical]
        return { xml in
            xml.open("StackResourceDetail")
            Self.writeResource(&xml, s, r, detail: true, summary: false, drift: drift)
            xml.close()
        }
    }

    func describeStackResources(_ p: [String: String], _ caller: Caller) throws -> Answer {
        var stacks: [Stack]
        if let name = p["StackName"] {
            stacks = [try stack(name, caller)]
        } else if let physical = p["PhysicalResourceId"] {
            stacks = try store.all(account: caller.account, region: caller.region, includeDeleted: false)
                .filter { $0.resources.values.contains { $0.physicalId == physical } }
            if stacks.isEmpty { throw CFNError.validation("Stack for \(physical) does not exist") }
        } else {
            throw CFNError.validation("Either StackName or PhysicalResourceId must be specified.")
        }
        let logical = p["LogicalResourceId"]
        let physical = p["PhysicalResourceId"]
        let drifts = stacks.map { (try? store.resourceDrifts(stackId: $0.id)) ?? [:] }
        return { xml in
            xml.open("StackResources")
            for (s, drift) in zip(stacks, drifts) {
                for r in s.resources.values.sorted(by: { $0.logicalId < $1.logicalId }) {
                    if let logical, r.logicalId != logical { continue }
                    if let physical, p["StackName"] == nil, r.physicalId != physical { continue }
                    xml.open("member")
                    Self.writeResource(&xml, s, r, detail: false, summary: false, drift: drift[r.logicalId])
                    xml.close()
                }
            }
            xml.close()
        }
    }

    func listStackResources(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let s = try stack(try Self.required(p, "StackName"), caller)
        let drifts = try store.resourceDrifts(stackId: s.id)
        let (page, next) = try Paging.page(s.resources.values.sorted(by: { $0.logicalId < $1.logicalId }), token: p["NextToken"])
        return { xml in
            xml.open("StackResourceSummaries")
            for r in page {
                xml.open("member")
                Self.writeResource(&xml, s, r, detail: false, summary: true, drift: drifts[r.logicalId])
                xml.close()
            }
            xml.close()
            xml.element("NextToken", next)
        }
    }

    func getTemplate(_ p: [String: String], _ caller: Caller) throws -> Answer {
        if let stage = p["TemplateStage"], !["Original", "Processed"].contains(stage) {
            throw CFNError.validation("1 validation error detected: Value '\(stage)' at 'templateStage' failed to satisfy constraint: Member must satisfy enum value set: [Original, Processed]")
        }
        var body: String
        var values: [String: String]?  // what Fn::ForEach loops were expanded with
        if let name = p["ChangeSetName"], !name.isEmpty {
            let cs = try changeSet(p, caller).1
            body = cs.templateBody
            values = Dictionary(cs.parameters.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        } else {
            let s = try stack(try Self.required(p, "StackName"), caller)
            // A stack only reviewed so far has the template of its (latest) change set.
            body = s.status == "REVIEW_IN_PROGRESS" ? (s.changeSets.last?.templateBody ?? "") : s.templateBody
            values = s.status == "REVIEW_IN_PROGRESS" ? nil : s.parameterValues
        }
        // The processed template differs from the original only when a transform (SAM) was applied.
        if p["TemplateStage"] == "Processed", (try? TemplateParser.parse(body))?["Transform"] != nil,
           let t = try? Template(body: body, parameters: values) {
            body = t.processedBody
        }
        return { xml in
            xml.element("TemplateBody", body)
            xml.open("StagesAvailable")
            xml.element("member", "Original")
            xml.element("member", "Processed")
            xml.close()
        }
    }

    func validateTemplate(_ p: [String: String], _ caller: Caller, summary: Bool) async throws -> Answer {
        let body: String
        if summary, p["TemplateBody"] == nil, p["TemplateURL"] == nil, let name = p["StackName"] {
            body = try stack(name, caller).templateBody
        } else {
            body = try await templateBody(p, caller)
        }
        let t = try Template(body: body)
        let declared = (try? TemplateParser.parse(body))?["Transform"]
        let transforms = declared.map { $0.array?.compactMap(\.string) ?? [$0.string].compactMap { $0 } } ?? []
        return { xml in
            if !transforms.isEmpty {
                xml.open("DeclaredTransforms")
                for name in transforms { xml.element("member", name) }
                xml.close()
            }
            xml.open("Parameters")
            for param in t.parameters.values.sorted(by: { $0.name < $1.name }) {
                xml.open("member")
                xml.element("ParameterKey", param.name)
                if summary { xml.element("ParameterType", param.type) }
                xml.element("DefaultValue", param.defaultValue)
                xml.element("NoEcho", param.noEcho)
                xml.element("Description", param.description)
                if summary, let allowed = param.allowedValues {
                    xml.open("ParameterConstraints")
                    xml.open("AllowedValues")
                    for v in allowed { xml.element("member", v) }
                    xml.close()
                    xml.close()
                }
                xml.close()
            }
            xml.close()
            xml.element("Description", t.description)
            let (capabilities, reason) = Capabilities.summary(t)
            if !capabilities.isEmpty {
                xml.open("Capabilities")
                for c in capabilities { xml.element("member", c) }
                xml.close()
                xml.element("CapabilitiesReason", reason)
            }
            if summary {
                xml.open("ResourceTypes")
                for type in Set(t.resources.values.map(\.type)).sorted() { xml.element("member", type) }
                xml.close()
                xml.element("Version", "2010-09-09")
            }
        }
    }

    func listExports(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let (exports, next) = try Paging.page(try store.exports(account: caller.account, region: caller.region).sorted { $0.key < $1.key },
                                              token: p["NextToken"])
        return { xml in
            xml.open("Exports")
            for (name, e) in exports {
                xml.open("member")
                xml.element("ExportingStackId", e.stackId)
                xml.element("Name", name)
                xml.element("Value", e.value)
                xml.close()
            }
            xml.close()
            xml.element("NextToken", next)
        }
    }
}

/// The one task that finishes the stacks an earlier run left in progress, once started (the service is a struct).
final class StackRecovery: Sendable {
    let task = Mutex<Task<Void, Never>?>(nil)
}
