import Core
import Foundation

/// CancelUpdateStack, ContinueUpdateRollback and RollbackStack: getting a stack out of an update (or a creation)
/// that failed, went wrong in its rollback, or should stop.
extension CloudFormationService {
    /// Where UpdateStack and an UPDATE change set may start: a stable stack, or one a failure left as it was
    /// (DisableRollback: CREATE_FAILED, UPDATE_FAILED), whose provisioning an update resumes from where it is.
    static let updatableStatuses: Set<String> = ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
                                                 "CREATE_FAILED", "UPDATE_FAILED"]

    func cancelUpdateStack(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        let s = try liveStack(p, caller)
        guard s.status == "UPDATE_IN_PROGRESS" else {
            throw CFNError.validation("CancelUpdateStack cannot be called from current stack status")
        }
        await engine.requestCancel(s.id)
        return nil
    }

    func continueUpdateRollback(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        var s = try liveStack(p, caller)
        guard s.status == "UPDATE_ROLLBACK_FAILED" else {
            throw CFNError.validation("ContinueUpdateRollback cannot be called from current stack status")
        }
        let skip = Self.list(p, "ResourcesToSkip")
        for name in skip {
            guard let r = s.resources[name] else {
                throw CFNError.validation("Resource \(name) does not exist for stack \(s.name)")
            }
            guard r.status == "UPDATE_FAILED" || r.status == "DELETE_FAILED" else {
                throw CFNError.validation("Resource [\(name)] cannot be skipped: only resources in UPDATE_FAILED state can be skipped")
            }
        }
        s.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        s.statusReason = nil
        try store.save(s)
        await engine.start(s.id, .continueRollback(skip: skip))
        await SnapshotGate.outside { await engine.wait(s.id, seconds: Self.answerWait) }
        return { _ in }  // an empty <ContinueUpdateRollbackResult/>
    }

    func rollbackStack(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        var s = try liveStack(p, caller)
        switch s.status {
        case "CREATE_FAILED": s.status = "ROLLBACK_IN_PROGRESS"
        case "UPDATE_FAILED": s.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        default: throw CFNError.validation("Stack \(s.id) is in \(s.status) state and can not be rolled back.")
        }
        s.statusReason = nil
        try store.save(s)
        await engine.start(s.id, .rollback(retainExceptOnCreate: p["RetainExceptOnCreate"]?.lowercased() == "true"))
        await SnapshotGate.outside { await engine.wait(s.id, seconds: Self.answerWait) }
        return { [id = s.id] in $0.element("StackId", id) }
    }
}

extension StackEngine {
    /// Asked on the actor: a stack still UPDATE_IN_PROGRESS here has not yet reached its update's end, which
    /// clears the request (`endUpdate`), so no request outlives its update to cancel the next one.
    func requestCancel(_ stackId: String) {
        guard (try? store.stack(id: stackId))??.status == "UPDATE_IN_PROGRESS" else { return }
        cancelRequests.insert(stackId)
    }

    /// An update that failed with DisableRollback keeps what succeeded, but returns each resource whose update failed
    /// (perhaps applied in part) to its last stable properties; it stays UPDATE_FAILED, and a later update resumes
    /// from there.
    func restoreFailedResources(_ s: inout Stack) async {
        for (name, r) in s.resources.sorted(by: { $0.key < $1.key }) where r.status == "UPDATE_FAILED" {
            guard let state = r.state, let old = s.previousResources?[name], old.physicalId == state.physicalId,
                  old.properties != r.properties, let p = provider(for: r.type) else { continue }
            do {
                let restored = try await p.update(request(s, name, r.type, old.properties), previous: state)
                s.resources[name]?.state = restored
                s.resources[name]?.properties = old.properties
            } catch {
                logger.notice("CloudFormation: could not return \(name) of stack \(s.name) to its last stable state: \(error)")
            }
        }
        try? store.save(s)
    }

    /// RollbackStack: a creation or update left failed by DisableRollback, rolled back now. A resource the failed
    /// operation created keeps its DeletionPolicy Retain unless `retainExceptOnCreate`.
    func rollbackStack(_ s: inout Stack, retainExceptOnCreate: Bool) async throws {
        if retainExceptOnCreate {
            for (name, r) in s.resources where s.status == "ROLLBACK_IN_PROGRESS" || s.previousResources?[name]?.physicalId != r.physicalId {
                s.resources[name]?.deletionPolicy = nil
            }
        }
        if s.status == "ROLLBACK_IN_PROGRESS" {
            try stackEvent(&s, "ROLLBACK_IN_PROGRESS", "User Initiated")
            let ok = await revert(&s, to: [:])
            try stackEvent(&s, ok ? "ROLLBACK_COMPLETE" : "ROLLBACK_FAILED")
        } else {
            try stackEvent(&s, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
            try await rollbackUpdate(&s)
        }
    }

    /// ContinueUpdateRollback: the rollback tried again; the skipped resources are taken as they are now
    /// (UPDATE_COMPLETE) and the stack's record of them keeps their current state.
    func continueUpdateRollback(_ s: inout Stack, skipping skip: [String]) async throws {
        try stackEvent(&s, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
        if !skip.isEmpty {
            try store.updateOptions(stackId: s.id) { $0.skippedInRollback = Array(Set($0.skippedInRollback).union(skip)).sorted() }
            try store.deleteResourceDrifts(stackId: s.id, logicalIds: skip)
        }
        for name in skip {
            guard var r = s.resources[name] else { continue }
            r.status = "UPDATE_COMPLETE"
            s.previousResources?[name] = r
            try resourceEvent(&s, r, "UPDATE_COMPLETE", "Resource skipped during rollback")
        }
        try await rollbackUpdate(&s)
    }

    /// Run one wave's creations and updates at once. A CancelUpdateStack stops those still running: each fails
    /// ("Resource update cancelled") and the update rolls back.
    /// `onSuccess` is called as each job succeeds (the stack records it at once), before all are done.
    func runJobs(_ jobs: [Job], stackId: String, onSuccess: (Int, ResourceState) -> Void = { _, _ in }) async
        -> [(Int, Result<ResourceState, any Error>)] {
        if jobs.isEmpty { return [] }
        let results = await withTaskGroup(of: (Int, Result<ResourceState, any Error>)?.self) { group in
            for (i, job) in jobs.enumerated() {
                group.addTask {
                    do {
                        if job.action == .update, let previous = job.previous {
                            return (i, .success(try await job.provider.update(job.request, previous: previous)))
                        }
                        return (i, .success(try await job.provider.create(job.request)))
                    } catch {
                        return (i, .failure(error))
                    }
                }
            }
            group.addTask {  // the watcher: nil once a cancel is asked (or when the jobs are done)
                while !Task.isCancelled {
                    if await self.cancelRequests.contains(stackId) { return nil }
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return nil
            }
            var out: [(Int, Result<ResourceState, any Error>)] = []
            for await r in group {
                if let r {
                    out.append(r)
                    if case .success(let state) = r.1 { onSuccess(r.0, state) }
                }
                if r == nil || out.count == jobs.count { group.cancelAll() }
            }
            return out.sorted { $0.0 < $1.0 }
        }
        let cancelled = cancelRequests.contains(stackId)
        return results.map { i, result in
            guard cancelled, case .failure = result else { return (i, result) }
            let what = jobs[i].action == .create ? "creation" : "update"
            return (i, .failure(AWSError("Cancelled", "Resource \(what) cancelled")))
        }
    }
}
