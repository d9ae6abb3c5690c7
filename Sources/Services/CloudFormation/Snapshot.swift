import Core

/// CloudFormation after a snapshot restore: stacks the snapshot caught IN_PROGRESS are finished or rolled back, as
/// after a restart.
extension CloudFormationService: SnapshotParticipant {
    public func resumeAfterRestore() async throws {
        let stuck = try store.inProgress().map(\.id)
        if !stuck.isEmpty {
            let engine = self.engine
            Task { await engine.recover(stuck) }
        }
    }
}
