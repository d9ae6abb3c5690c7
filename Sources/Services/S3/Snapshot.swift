import Core

/// S3 around a snapshot: the bucket cache follows the restored database; delivered notification rows are deleted
/// before a save (else a restore would send them again).
extension S3Service: SnapshotParticipant {
    public func prepareSnapshot() async { outbox.flush() }
    public func stopForRestore() async { outbox.stopForRestore() }

    public func resumeAfterRestore() async throws {
        try store.reloadBuckets()
        outbox.start()  // restored rows still waiting for delivery (a failed one's retry) are looked at again
    }

    /// The folder of object bytes under the data folder, hard-linked into snapshots.
    public static let snapshotFolder = "s3/blobs"
}
