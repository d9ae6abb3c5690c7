extension Gateway {
    /// Run a request's service work holding the snapshot gate shared (when snapshots are served).
    func snapshotGated<T>(_ body: () async throws -> T) async rethrows -> T {
        guard let gate = internalEndpoints.snapshots?.gate else { return try await body() }
        return try await gate.shared(body)
    }
}
