import Core

/// Lambda around a snapshot: instances, event source pollers and the asynchronous dispatcher stop before a restore
/// (they run from the state being replaced) and start again from the restored database, as at a start.
extension LambdaService: SnapshotParticipant {
    public func prepareSnapshot() async { destinations.flush() }

    public func stopForRestore() async {
        pollers.stopAll()
        dispatcher.stop()
        destinations.stopForRestore()
        await pool.stopAll()
    }

    public func resumeAfterRestore() async throws {
        try resumePollers()
        startAsyncDispatcher()
        destinations.start()
    }
}
