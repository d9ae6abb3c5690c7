import Core

/// SQS around a snapshot restore: running message move tasks stop, and those the restored database says are
/// RUNNING start again, as at a start.
extension SQSService: SnapshotParticipant {
    public func stopForRestore() async { moveTasks.cancelAll() }
    public func resumeAfterRestore() async throws { try resumeMoveTasks() }
}
