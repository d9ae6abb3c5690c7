import Core

/// CloudFormation around a restore or a reset. Before the gate is taken, the operations running are cancelled and
/// waited for (they may wait for an ECS scheduler pass, which needs the gate): whatever a cancelled operation still
/// writes lands in the state being replaced, never in the restored one. Operations asked for meanwhile are dropped.
/// Once unpaused, stacks the restored snapshot caught IN_PROGRESS are finished or rolled back, as after a restart
/// (a resource made but not yet recorded is found again by its provider).
extension CloudFormationService: SnapshotParticipant {
    public func pause() async { await engine.pause() }

    public func resumeAfterRestore() async throws {
        let stuck = store.database.hasContent ? try store.inProgress().map(\.id) : []
        await engine.recoverAfterPause(stuck)
    }

    public func unpause() async { await engine.unpause() }
}

extension StackEngine {
    /// Cancel every running operation and wait for them to end; start none until `unpause`.
    func pause() async {
        paused += 1
        for task in running.values { task.cancel() }
        await settle()
    }

    func recoverAfterPause(_ stackIds: [String]) {
        recoverWhenUnpaused = stackIds  // the latest restored state's (an earlier restore's are gone)
    }

    func unpause() {
        paused = max(0, paused - 1)
        guard paused == 0 else { return }
        let stuck = recoverWhenUnpaused
        recoverWhenUnpaused = []
        recover(stuck)
    }
}
