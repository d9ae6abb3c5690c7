import Core
import Foundation
import Logging

/// Runs stack operations in the background: resources created in dependency order (a wave of independent ones at
/// once) through their providers, rollbacks, update cleanups and deletes. Every step is saved, so a restart finds
/// where an operation stopped and finishes it (`recover`).
actor StackEngine {
    let store: StackStore
    let providers: ResourceProviders
    let builtIn: ResourceProviders
    let clock: EmulatorClock
    let logger: Logger
    let links: EngineLinks
    var running: [String: Task<Void, Never>] = [:]
    /// Stacks whose update CancelUpdateStack asked to stop (StackRecoveryOperations.swift).
    var cancelRequests: Set<String> = []

    init(store: StackStore, providers: ResourceProviders, builtIn: ResourceProviders, clock: EmulatorClock, logger: Logger,
         links: EngineLinks = EngineLinks()) {
        self.store = store
        self.providers = providers
        self.builtIn = builtIn
        self.clock = clock
        self.logger = logger
        self.links = links
    }

    enum Operation: Sendable { case create, update, delete, recover, rollback(retainExceptOnCreate: Bool), continueRollback(skip: [String]) }

    func provider(for type: String) -> (any ResourceProvider)? {
        engineProvider(for: type) ?? builtIn.provider(for: type) ?? providers.provider(for: type)
    }

    /// Set while a restore or reset replaces the state (Snapshot.swift): operations started meanwhile are dropped
    /// (their stacks belong to the state being replaced; one a failed restore leaves IN_PROGRESS is recovered).
    /// Restores and resets under way (they may overlap: the second pauses before the first unpauses).
    var paused = 0
    /// Stacks a restore left IN_PROGRESS, recovered once nothing pauses the engine.
    var recoverWhenUnpaused: [String] = []

    /// Start an operation on a stack already saved in its `*_IN_PROGRESS` status.
    func start(_ stackId: String, _ operation: Operation) {
        if paused > 0 { return }
        let previous = running[stackId]
        running[stackId] = Task {
            await previous?.value
            await self.run(stackId, operation)
        }
    }

    /// Wait for every started operation to finish.
    func settle() async {
        while let (id, task) = running.first {
            await task.value
            if running[id] == task { running[id] = nil }
        }
    }

    /// Wait (at most `seconds`) for the stack's operations started so far to finish.
    func wait(_ stackId: String, seconds: Double) async {
        guard let task = running[stackId] else { return }
        // Awaiting a task's value ignores cancellation (a task group would wait for it anyway): the first of the two
        // racers answers, the other finds the continuation gone.
        let pending = ResumeOnce()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            pending.set(c)
            Task {
                await task.value
                pending.resume()
            }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                pending.resume()
            }
        }
    }

    /// Finish what a restart interrupted: never leave a stack IN_PROGRESS.
    func recover(_ stackIds: [String]) {
        for id in stackIds { start(id, .recover) }
    }

    private func run(_ stackId: String, _ operation: Operation) async {
        guard var s = (try? store.stack(id: stackId)) ?? nil else { return }
        do {
            switch operation {
            case .create: try await create(&s)
            case .update: try await update(&s)
            case .delete: try await delete(&s)
            case .recover: try await recover(&s)
            case .rollback(let retainExceptOnCreate): try await rollbackStack(&s, retainExceptOnCreate: retainExceptOnCreate)
            case .continueRollback(let skip): try await continueUpdateRollback(&s, skipping: skip)
            }
        } catch {
            logger.error("CloudFormation: stack \(s.name) operation failed: \(error)")
        }
    }

    // MARK: Events and saving

    func now() -> Double { clock.now() }

    func stackEvent(_ s: inout Stack, _ status: String, _ reason: String? = nil) throws {
        s.status = status
        s.statusReason = reason
        try store.save(s)
        try store.add(StackEvent(eventId: UUID().uuidString, stackId: s.id, stackName: s.name, logicalId: s.name, physicalId: s.id,
                                 type: "AWS::CloudFormation::Stack", timestamp: now(), status: status, statusReason: reason))
    }

    func resourceEvent(_ s: inout Stack, _ r: StackResource, _ status: String, _ reason: String? = nil) throws {
        var r = r
        r.status = status
        r.statusReason = reason
        r.updated = now()
        s.resources[r.logicalId] = r
        try store.save(s)
        var props: String?
        if status.hasSuffix("_IN_PROGRESS"), !r.properties.isEmpty { props = try? StackStore.encode(JSON.object(r.properties)) }
        try store.add(StackEvent(eventId: "\(r.logicalId)-\(status)-\(UUID().uuidString)", stackId: s.id, stackName: s.name,
                                 logicalId: r.logicalId, physicalId: r.physicalId ?? "", type: r.type, timestamp: now(),
                                 status: status, statusReason: reason, properties: props))
    }

    func request(_ s: Stack, _ logicalId: String, _ type: String, _ properties: [String: JSON]) -> ResourceRequest {
        var tags = s.tagMap
        tags["aws:cloudformation:stack-name"] = s.name
        tags["aws:cloudformation:stack-id"] = s.id
        tags["aws:cloudformation:logical-id"] = logicalId
        // Deletes and reverts send the kept properties: their dynamic references are resolved again (best effort).
        return ResourceRequest(account: s.account, region: s.region, stackName: s.name, stackId: s.id, logicalId: logicalId,
                               type: type, properties: (try? resolvedReferences(properties, s)) ?? properties, tags: tags)
    }

    static func reason(_ error: any Error) -> String {
        (error as? AWSError)?.message ?? (error as? FailedCreation)?.message ?? (error as? RefusedUnchanged)?.message
            ?? String(describing: error)
    }

    func evaluator(_ s: Stack, _ template: Template) throws -> Evaluator {
        let exports = try store.exports(account: s.account, region: s.region).mapValues(\.value)
        var e = try Evaluator(template: template, parameters: s.parameterValues, account: s.account, region: s.region,
                              stackName: s.name, stackId: s.id, exports: exports)
        for (name, r) in s.resources { if let st = r.state { e.resources[name] = st } }
        return e
    }

    // MARK: Operations

    private func create(_ s: inout Stack) async throws {
        try stackEvent(&s, "CREATE_IN_PROGRESS", "User Initiated")
        let template = try Template(body: s.templateBody, parameters: s.parameterValues)
        if let failure = await deploy(&s, template, old: [:]) {
            if s.deleteOnFailure == true {
                try stackEvent(&s, "DELETE_IN_PROGRESS", failure)
                let ok = await revert(&s, to: [:])
                if ok {
                    s.deleted = now()
                    s.outputs = []
                }
                try stackEvent(&s, ok ? "DELETE_COMPLETE" : "DELETE_FAILED")
                return
            }
            if s.disableRollback {
                try stackEvent(&s, "CREATE_FAILED", failure)
                return
            }
            try stackEvent(&s, "ROLLBACK_IN_PROGRESS", failure + " Rollback requested by user.")
            let ok = await revert(&s, to: [:])
            try stackEvent(&s, ok ? "ROLLBACK_COMPLETE" : "ROLLBACK_FAILED")
            return
        }
        try stackEvent(&s, "CREATE_COMPLETE")
    }

    private func update(_ s: inout Stack) async throws {
        let stackId = s.id
        defer { endUpdate(stackId) }  // StackPolicy.swift
        try stackEvent(&s, "UPDATE_IN_PROGRESS", "User Initiated")
        let template = try Template(body: s.templateBody, parameters: s.parameterValues)
        let old = s.previousResources ?? s.resources
        if let failure = await deploy(&s, template, old: old) {
            if s.disableRollback {  // RollbackStack can roll it back later
                await restoreFailedResources(&s)  // StackRecoveryOperations.swift
                try stackEvent(&s, "UPDATE_FAILED", failure)
                return
            }
            try stackEvent(&s, "UPDATE_ROLLBACK_IN_PROGRESS", failure)
            try await rollbackUpdate(&s)
            return
        }
        try stackEvent(&s, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        try await cleanup(&s)
    }

    func rollbackUpdate(_ s: inout Stack) async throws {
        let old = s.previousResources ?? [:]
        let ok = await revert(&s, to: old)
        if let t = s.previousTemplateBody { s.templateBody = t }
        if let p = s.previousParameters { s.parameters = p }
        if let o = s.previousOutputs { s.outputs = o }
        s.description = (try? Template(body: s.templateBody))?.description
        if !ok {  // what ContinueUpdateRollback still has to return to
            try stackEvent(&s, "UPDATE_ROLLBACK_FAILED")
            return
        }
        try stackEvent(&s, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        s.previousResources = nil
        s.previousTemplateBody = nil
        s.previousParameters = nil
        s.previousOutputs = nil
        try stackEvent(&s, "UPDATE_ROLLBACK_COMPLETE")
    }

    /// After an update: delete what was replaced or removed (newest first), then UPDATE_COMPLETE.
    private func cleanup(_ s: inout Stack) async throws {
        let old = s.previousResources ?? [:]
        for r in old.values.sorted(by: { $0.sequence > $1.sequence }) {
            guard let state = r.state, s.resources[r.logicalId]?.physicalId != state.physicalId else { continue }
            await deleteResource(&s, r, keepRecord: s.resources[r.logicalId] != nil)
        }
        s.previousResources = nil
        s.previousTemplateBody = nil
        s.previousParameters = nil
        s.previousOutputs = nil
        try stackEvent(&s, "UPDATE_COMPLETE")
    }

    private func delete(_ s: inout Stack) async throws {
        try stackEvent(&s, "DELETE_IN_PROGRESS", "User Initiated")
        if let refusal = Exports.deleteRefusal(s, store: store) {
            try stackEvent(&s, "DELETE_FAILED", refusal)
            return
        }
        var failed: [String] = []
        for r in deletionOrder(s) {
            if !(await deleteResource(&s, r, keepRecord: true)) { failed.append(r.logicalId) }
        }
        if !failed.isEmpty {
            try stackEvent(&s, "DELETE_FAILED", "The following resource(s) failed to delete: [\(failed.sorted().joined(separator: ", "))]. ")
            return
        }
        s.deleted = now()
        s.outputs = []
        try stackEvent(&s, "DELETE_COMPLETE")
    }

    private func recover(_ s: inout Stack) async throws {
        guard s.isInProgress else { return }
        logger.notice("CloudFormation: finishing \(s.status) of stack \(s.name) interrupted by a restart")
        await adoptInterruptedCreates(&s)
        switch s.status {
        case "CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS":
            if s.status == "CREATE_IN_PROGRESS" {
                try stackEvent(&s, "ROLLBACK_IN_PROGRESS", "The stack operation was interrupted by a restart of the emulator. Rollback requested.")
            }
            let ok = await revert(&s, to: [:])
            try stackEvent(&s, ok ? "ROLLBACK_COMPLETE" : "ROLLBACK_FAILED")
        case "DELETE_IN_PROGRESS":
            try await delete(&s)
        case "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS":
            try await cleanup(&s)
        default:  // UPDATE_IN_PROGRESS, UPDATE_ROLLBACK_IN_PROGRESS, UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS
            if s.status == "UPDATE_IN_PROGRESS" {
                try stackEvent(&s, "UPDATE_ROLLBACK_IN_PROGRESS", "The stack operation was interrupted by a restart of the emulator.")
            }
            try await rollbackUpdate(&s)
        }
    }

    /// Resources whose create the crash interrupted have no state, though their service may hold them already
    /// (an ECS service waiting to be stable): their providers find them again, so the rollback deletes them; a
    /// replacement's new resource is deleted at once (the rollback keeps the old one).
    private func adoptInterruptedCreates(_ s: inout Stack) async {
        for r in s.resources.values.sorted(by: { $0.logicalId < $1.logicalId })
        where r.state == nil && r.status == "CREATE_IN_PROGRESS" {
            guard let p = provider(for: r.type),
                  let found = try? await p.interruptedCreate(request(s, r.logicalId, r.type, sentProperties(r.properties, s))) else { continue }
            var adopted = r
            adopted.state = found
            adopted.sequence = s.nextSequence
            s.nextSequence += 1
            s.resources[r.logicalId] = adopted
            try? store.save(s)
        }
        // A replacement under way: what it may have made is not the stack's resource; delete it now.
        for r in s.resources.values.sorted(by: { $0.logicalId < $1.logicalId }) {
            guard let pending = r.replacementProperties else { continue }
            s.resources[r.logicalId]?.replacementProperties = nil
            if let p = provider(for: r.type),
               let found = try? await p.interruptedCreate(request(s, r.logicalId, r.type, sentProperties(pending, s))),
               found.physicalId != r.physicalId {
                var made = r
                made.state = found
                made.properties = pending
                made.replacementProperties = nil
                await deleteResource(&s, made, keepRecord: true)
            }
            try? store.save(s)
        }
    }

    /// The properties as the provider got them (dynamic references resolved; the record keeps them unresolved), so
    /// that names generated from them come out the same.
    private func sentProperties(_ recorded: [String: JSON], _ s: Stack) -> [String: JSON] {
        (try? resolvedReferences(recorded, s)) ?? recorded
    }

    // MARK: Resources

    struct Job: Sendable {
        enum Action: Sendable { case create, replace, update }
        var name: String
        var action: Action
        var request: ResourceRequest
        var provider: any ResourceProvider
        var previous: ResourceState?
        /// The properties the stack keeps: dynamic references unresolved (the request has them resolved).
        var recorded: [String: JSON]
    }

    /// Create or update every resource of `template` in dependency order; nil when all succeeded, else the reason.
    /// Outputs are computed at the end.
    private func deploy(_ s: inout Stack, _ template: Template, old: [String: StackResource]) async -> String? {
        var eval: Evaluator
        do { eval = try evaluator(s, template) } catch { return Self.reason(error) }
        let enabled = template.resources.values.filter { eval.isEnabled(condition: $0.condition) }.map(\.name)
        if let denied = deniedRemovals(&s, enabled: enabled, old: old) { return denied }  // StackPolicy.swift
        let waves: [[String]]
        do { waves = try template.waves(of: enabled) } catch { return Self.reason(error) }
        for wave in waves {
            var jobs: [Job] = []
            var failures: [(String, String, String)] = []  // name, status, reason
            for name in wave {
                let decl = template.resources[name]!
                let props: [String: JSON]
                let sent: [String: JSON]
                do {
                    props = try eval.resolveProperties(decl.properties)
                    sent = try resolvedReferences(props, s)
                } catch {
                    failures.append((name, old[name] == nil ? "CREATE_FAILED" : "UPDATE_FAILED", Self.reason(error)))
                    continue
                }
                let previous = old[name].flatMap { $0.state != nil && $0.type == decl.type ? $0 : nil }
                if let previous, previous.properties == props, s.resources[name]?.physicalId == previous.physicalId { continue }
                guard let provider = provider(for: decl.type) else {
                    failures.append((name, previous == nil ? "CREATE_FAILED" : "UPDATE_FAILED",
                                     "Resource type \(decl.type) is not supported by Cloudless"))
                    continue
                }
                var action = Job.Action.create
                if let previous {
                    let createOnly = provider.createOnlyProperties(of: decl.type)
                    let changed = Set(props.keys).union(previous.properties.keys).filter { props[$0] != previous.properties[$0] }
                    action = changed.contains(where: createOnly.contains) ? .replace : .update
                }
                if let denial = policyDenial(s.id, name, decl.type, action) {  // StackPolicy.swift
                    failures.append((name, "UPDATE_FAILED", denial))
                    continue
                }
                let acting = action == .update  // AliasDeploymentUpdate.swift: CodeDeployLambdaAliasUpdate
                    ? aliasDeploymentProvider(provider, decl, eval, s, sent, previous: previous?.properties) : provider
                var req = request(s, name, decl.type, sent)
                req.previousProperties = previous.map { (try? resolvedReferences($0.properties, s)) ?? $0.properties }
                jobs.append(Job(name: name, action: action, request: req, provider: acting, previous: previous?.state,
                                recorded: props))
            }
            for (name, status, reason) in failures {
                let decl = template.resources[name]!
                let base = s.resources[name] ?? StackResource(logicalId: name, type: decl.type, properties: [:], state: nil,
                                                              status: "", updated: now(), sequence: 0, deletionPolicy: decl.deletionPolicy,
                                          updateReplacePolicy: decl.updateReplacePolicy)
                try? resourceEvent(&s, base, status, reason)
            }
            for job in jobs {
                let decl = template.resources[job.name]!
                switch job.action {
                case .create:
                    let r = StackResource(logicalId: job.name, type: decl.type, properties: job.recorded, state: nil,
                                          status: "", updated: now(), sequence: 0, deletionPolicy: decl.deletionPolicy,
                                          updateReplacePolicy: decl.updateReplacePolicy)
                    try? resourceEvent(&s, r, "CREATE_IN_PROGRESS")
                case .replace:
                    var r = s.resources[job.name]!
                    r.replacementProperties = job.recorded
                    try? resourceEvent(&s, r, "UPDATE_IN_PROGRESS",
                                       "Requested update requires the creation of a new physical resource; hence creating one.")
                case .update:
                    try? resourceEvent(&s, s.resources[job.name]!, "UPDATE_IN_PROGRESS")
                }
            }
            // StackRecoveryOperations.swift: CancelUpdateStack stops them. Each success is recorded as it arrives: a
            // crash while a slow resource of the wave is still being made must not lose those already made (orphans).
            let results = await runJobs(jobs, stackId: s.id) { i, state in
                let job = jobs[i]
                var r = s.resources[job.name]!
                r.state = state
                r.properties = job.recorded
                r.replacementProperties = nil
                r.deletionPolicy = template.resources[job.name]!.deletionPolicy
                r.updateReplacePolicy = template.resources[job.name]!.updateReplacePolicy
                if job.action != .update {
                    r.sequence = s.nextSequence
                    s.nextSequence += 1
                }
                eval.resources[job.name] = state
                try? resourceEvent(&s, r, job.action == .create ? "CREATE_COMPLETE" : "UPDATE_COMPLETE")
            }
            for (i, result) in results {
                let job = jobs[i]
                switch result {
                case .success:
                    continue  // recorded as it arrived
                case .failure(let error):
                    var r = s.resources[job.name]!
                    r.replacementProperties = nil
                    if job.action == .create, let failed = error as? FailedCreation {
                        // A custom resource that answered FAILED keeps its physical id: the rollback deletes it.
                        r.state = failed.state
                        r.sequence = s.nextSequence
                        s.nextSequence += 1
                    }
                    if job.action == .replace {
                        // The old resource stays the stack's until the rollback.
                        r.statusReason = Self.reason(error)
                    }
                    // A failed (or cancelled) update may have been applied in part: the rollback updates it back.
                    if job.action == .update, !(error is RefusedUnchanged) { r.properties = job.request.properties }
                    failures.append((job.name, job.action == .create ? "CREATE_FAILED" : "UPDATE_FAILED", Self.reason(error)))
                    try? resourceEvent(&s, r, job.action == .create ? "CREATE_FAILED" : "UPDATE_FAILED", Self.reason(error))
                }
            }
            if cancelRequests.contains(s.id) { return "Stack update cancelled" }
            if !failures.isEmpty {
                let names = failures.map(\.0).sorted().joined(separator: ", ")
                let verb = failures.allSatisfy { $0.1 == "CREATE_FAILED" } ? "create" : "update"
                return "The following resource(s) failed to \(verb): [\(names)]."
            }
        }
        // Resources no longer in the template (or whose condition turned false) leave the stack in the cleanup.
        for name in s.resources.keys where !enabled.contains(name) {
            s.resources[name] = nil
        }
        do {
            let outputs = try outputs(s, template, eval)
            try Exports.checkUpdate(old: s.outputs, new: outputs, s, store: store)
            s.outputs = outputs
            s.description = template.description
            s.lastUpdated = old.isEmpty ? nil : now()
            try store.save(s)
        } catch {
            return Self.reason(error)
        }
        return nil
    }

    func outputs(_ s: Stack, _ template: Template, _ eval: Evaluator) throws -> [StackOutput] {
        let exports = try store.exports(account: s.account, region: s.region)
        var out: [StackOutput] = []
        for o in template.outputs.values.sorted(by: { $0.name < $1.name }) where eval.isEnabled(condition: o.condition) {
            guard let v = try eval.resolve(o.value) else { continue }
            let value = Template.text(v) ?? v.array?.compactMap(Template.text).joined(separator: ",") ?? ""
            var exportName: String?
            if let e = o.exportName {
                guard let name = try eval.resolve(e).flatMap(Template.text) else {
                    throw CFNError.validation("Template error: Export name must resolve to a string")
                }
                if let other = exports[name], other.stackId != s.id {
                    throw CFNError.validation("Export with name \(name) is already exported by stack \(other.stackId.split(separator: "/").dropFirst().first ?? "")")
                }
                exportName = name
            }
            out.append(StackOutput(key: o.name, value: value, description: o.description.flatMap { $0 }, exportName: exportName))
        }
        return out
    }

    /// Return the stack's resources to `snapshot`: what was created since is deleted (newest first), what was updated
    /// is updated back. False when something could not be undone.
    func revert(_ s: inout Stack, to snapshot: [String: StackResource]) async -> Bool {
        var ok = true
        for cur in s.resources.values.sorted(by: { $0.sequence > $1.sequence }) {
            let old = snapshot[cur.logicalId]
            guard let curState = cur.state else {
                s.resources[cur.logicalId] = old
                if old == nil { try? store.save(s) }
                continue
            }
            if old?.physicalId != curState.physicalId {
                if await deleteResource(&s, cur, keepRecord: false, inRollback: true) {
                    s.resources[cur.logicalId] = old
                } else {
                    ok = false
                }
                try? store.save(s)
            } else if let old, old.properties != cur.properties || cur.status == "UPDATE_IN_PROGRESS", let oldState = old.state,
                      let p = provider(for: cur.type) {
                // Still UPDATE_IN_PROGRESS: a crash came while its update ran, which may have changed it already.
                try? resourceEvent(&s, cur, "UPDATE_IN_PROGRESS")
                do {
                    var req = request(s, cur.logicalId, cur.type, old.properties)
                    req.previousProperties = (try? resolvedReferences(cur.properties, s)) ?? cur.properties
                    await settleAliasDeployments(cur.type, req.properties, s)  // AliasDeploymentUpdate.swift
                    let state = try await p.update(req, previous: curState)
                    var r = old
                    r.state = state
                    _ = oldState
                    try? resourceEvent(&s, r, "UPDATE_COMPLETE")
                } catch {
                    ok = false
                    try? resourceEvent(&s, cur, "UPDATE_FAILED", Self.reason(error))
                }
            } else if let old {
                var r = old
                r.status = cur.status
                s.resources[cur.logicalId] = r
            }
        }
        for (name, old) in snapshot where s.resources[name] == nil { s.resources[name] = old }
        try? store.save(s)
        return ok
    }

    /// Delete one resource through its provider (retained by its policy: skipped). False when the provider failed.
    @discardableResult
    private func deleteResource(_ s: inout Stack, _ r: StackResource, keepRecord: Bool, inRollback: Bool = false) async -> Bool {
        guard let state = r.state else {
            if !keepRecord { s.resources[r.logicalId] = nil }
            else if s.resources[r.logicalId]?.state == nil, r.status != "DELETE_COMPLETE" {
                try? resourceEvent(&s, r, "DELETE_COMPLETE")
            }
            return true
        }
        let current = s.resources[r.logicalId]
        func restore(_ s: inout Stack) {
            // Events set the record of the logical id; a replaced or removed resource's must not stay there.
            if current?.physicalId != state.physicalId { s.resources[r.logicalId] = current }
        }
        if Self.retains(r, replaced: current != nil && current?.physicalId != state.physicalId, inRollback: inRollback) {  // DeletionPolicies.swift
            try? resourceEvent(&s, r, "DELETE_SKIPPED")
            restore(&s)
            return true
        }
        try? resourceEvent(&s, r, "DELETE_IN_PROGRESS")
        do {
            guard let p = provider(for: r.type) else {
                throw CFNError.validation("Resource type \(r.type) is not supported by Cloudless")
            }
            try await p.delete(request(s, r.logicalId, r.type, r.properties), state: state)
            try? resourceEvent(&s, r, "DELETE_COMPLETE")
            restore(&s)
            return true
        } catch {
            try? resourceEvent(&s, r, "DELETE_FAILED", Self.reason(error))
            restore(&s)
            return false
        }
    }
}
