/// What Application Auto Scaling scales, as the owning service exposes it: an ECS service's desired count
/// (`namespace` "ecs", `resourceID` "service/<cluster>/<service>", `dimension` "ecs:service:DesiredCount").
/// Core declares it; ECS implements it; the Emulator wires it into Application Auto Scaling.
public protocol ScalableResources: Sendable {
    /// The resource's current capacity for `dimension`, or nil when it does not exist (or is not ACTIVE).
    func capacity(namespace: String, resourceID: String, dimension: String, account: String, region: String) async -> Int?
    /// Set the capacity (the caller has already clamped it to the target's minimum and maximum). Throws when the
    /// resource is gone.
    func setCapacity(_ value: Int, namespace: String, resourceID: String, dimension: String, account: String,
                     region: String) async throws
    /// A predefined metric's current value for the resource (`ECSServiceAverageCPUUtilization`,
    /// `ECSServiceAverageMemoryUtilization`, in percent), or nil when the resource has none.
    func metric(_ name: String, namespace: String, resourceID: String, account: String, region: String) async -> Double?
}
