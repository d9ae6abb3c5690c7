import Core
import Foundation

/// `Cloudless::Test::Resource`, served only when CLOUDLESS_TEST_RESOURCES=1 (the end-to-end tests): a resource that
/// holds its properties and nothing else, so that the suite can make an update slow (`Delay`, seconds, on create
/// and update), fail (`Fail: true`) or refuse to be updated back (`Lock: true`: once locked, an update that unlocks
/// it fails) — the stack operations CancelUpdateStack and ContinueUpdateRollback exist for, with no real service
/// needed to misbehave.
struct TestResourceProvider: ResourceProvider {
    static let type = "Cloudless::Test::Resource"
    var resourceTypes: [String] { [Self.type] }
    func createOnlyProperties(of type: String) -> Set<String> { ["Name"] }

    /// The provider when the environment asks for it.
    static func enabled(_ env: [String: String] = ProcessInfo.processInfo.environment) -> [any ResourceProvider] {
        env["CLOUDLESS_TEST_RESOURCES"] == "1" ? [TestResourceProvider()] : []
    }

    func create(_ request: ResourceRequest) async throws -> ResourceState {
        try await work(request)
        return ResourceState(physicalId: "\(request.logicalId)-\(UUID().uuidString.lowercased().prefix(8))",
                             attributes: ["Locked": .bool(request.properties["Lock"]?.bool == true)])
    }

    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        if previous.attributes["Locked"]?.bool == true, request.properties["Lock"]?.bool != true {
            throw AWSError("InvalidRequest", "Resource \(previous.physicalId) is locked")
        }
        try await work(request)
        var state = previous
        state.attributes["Locked"] = .bool(request.properties["Lock"]?.bool == true)
        return state
    }

    func delete(_ request: ResourceRequest, state: ResourceState) async throws {}

    private func work(_ request: ResourceRequest) async throws {
        if let delay = request.properties["Delay"].flatMap(Template.text).flatMap { Double($0) }, delay > 0 {
            try await Task.sleep(for: .seconds(delay))
        }
        if request.properties["Fail"]?.bool == true || request.properties["Fail"]?.string == "true" {
            throw AWSError("InvalidRequest", "Resource \(request.logicalId) was asked to fail")
        }
    }
}
