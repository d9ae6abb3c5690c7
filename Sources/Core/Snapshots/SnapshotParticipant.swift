/// What a service does around a snapshot, for in-memory state that must agree with its database.
/// Each hook runs while the snapshot gate is held exclusively: no API request runs meanwhile.
public protocol SnapshotParticipant: Sendable {
    /// Before the gate is taken for a restore or a reset, outside it: stop the work that may wait on work needing
    /// the gate (CloudFormation's stack operations wait for ECS scheduler passes) and start none until `unpause`.
    func pause() async
    /// After the restore or reset, outside the gate.
    func unpause() async
    /// Before a save copies the databases: write down what is only in memory (an outbox's delivered rows, which
    /// would otherwise be sent again after a restore).
    func prepareSnapshot() async
    /// Before a restore replaces the databases: stop what runs from the current state (processes, pollers, loops).
    func stopForRestore() async
    /// After: load what lives in memory from the restored databases again, as a start does.
    func resumeAfterRestore() async throws
}

extension SnapshotParticipant {
    public func pause() async {}
    public func unpause() async {}
    public func prepareSnapshot() async {}
    public func stopForRestore() async {}
    public func resumeAfterRestore() async throws {}
}
