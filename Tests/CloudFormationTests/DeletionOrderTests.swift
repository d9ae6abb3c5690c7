import Core
import Testing

@testable import CloudFormation

@Suite struct DeletionOrderTests {
    private func resources(_ sequences: [String: Int]) -> [String: StackResource] {
        sequences.reduce(into: [:]) { out, e in
            out[e.key] = StackResource(logicalId: e.key, type: "AWS::SQS::Queue", properties: [:], state: nil, status: "",
                                       updated: 0, sequence: e.value, deletionPolicy: nil)
        }
    }

    @Test func newestFirstWithoutDependencies() {
        let order = StackEngine.deletionOrder(resources(["A": 0, "B": 1, "C": 2])) { _ in [] }
        #expect(order.map(\.logicalId) == ["C", "B", "A"])
    }

    /// After an update the stage (created first) points at the newer deployment: the stage goes first.
    @Test func dependentsBeforeWhatTheyNeedWhateverTheirAge() {
        let deps: [String: Set<String>] = ["Stage": ["Deployment2", "Api"], "Deployment2": ["Api"], "Method": ["Api"]]
        let order = StackEngine.deletionOrder(resources(["Api": 0, "Method": 1, "Stage": 2, "Deployment2": 5])) { deps[$0] ?? [] }
        #expect(order.map(\.logicalId) == ["Stage", "Deployment2", "Method", "Api"])
    }

    /// Dependencies on resources the stack no longer holds, or a cycle, do not stop the deletion.
    @Test func missingAndCyclicDependenciesStillDeleteEverything() {
        let deps: [String: Set<String>] = ["A": ["B", "Gone"], "B": ["A"]]
        let order = StackEngine.deletionOrder(resources(["A": 0, "B": 1, "C": 2])) { deps[$0] ?? [] }
        #expect(order.map(\.logicalId) == ["C", "B", "A"])
    }
}
