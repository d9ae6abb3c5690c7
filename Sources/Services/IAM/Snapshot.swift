import Core

/// IAM after a snapshot restore: the access keys that sign requests are those of the restored database.
extension IAMService: SnapshotParticipant {
    public func resumeAfterRestore() async throws {
        keys.invalidate()
    }
}
