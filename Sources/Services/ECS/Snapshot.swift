import Core

/// ECS around a snapshot restore: the scheduler stops every task's processes and forgets its services and tasks,
/// then loads them from the restored database as a start does (tasks that ran processes are recorded STOPPED and
/// their services start replacements).
extension ECSService: SnapshotParticipant {
    public func stopForRestore() async { await scheduler.reset() }

    public func resumeAfterRestore() async throws {
        try await scheduler.reload()
        await scheduler.poke()
    }
}
