/// What a service does around a snapshot, for in-memory state that must agree with its database.
/// Each hook runs while the snapshot gate is held exclusively: no API request runs meanwhile.
public protocol SnapshotParticipant: Sendable {
    /// Before a save copies the databases: write down what is only in memory (an outbox's delivered rows, which
    /// would otherwise be sent again after a restore).
    func prepareSnapshot() async
    /// Before a restore replaces the databases: stop what runs from the current state (processes, pollers, loops).
    func stopForRestore() async
    /// After: load what lives in memory from the restored databases again, as a start does.
    func resumeAfterRestore() async throws
}

extension SnapshotParticipant {
    public func prepareSnapshot() async {}
    public func stopForRestore() async {}
    public func resumeAfterRestore() async throws {}
}
