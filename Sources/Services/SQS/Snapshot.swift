import Core

/// SQS around a snapshot restore: running message move tasks stop, and those the restored database says are
/// RUNNING start again, as at a start; long polls waiting are woken.
extension SQSService: SnapshotParticipant {
    public func stopForRestore() async { moveTasks.cancelAll() }
    public func resumeAfterRestore() async throws {
        signals.wakeAll()  // long polls waiting look again, at the restored queues, once the gate opens
        try resumeMoveTasks()
    }
}
