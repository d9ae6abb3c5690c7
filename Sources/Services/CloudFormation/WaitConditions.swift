import Core
import Foundation

/// `AWS::CloudFormation::WaitConditionHandle`: its physical id (and Ref) is a presigned-style URL on Cloudless that
/// takes the `curl -X PUT` of a signal (`{"Status","Reason","UniqueId","Data"}`).
struct WaitConditionHandleProvider: ResourceProvider {
    static let type = "AWS::CloudFormation::WaitConditionHandle"
    let callbacks: Callbacks
    let clock: EmulatorClock

    var resourceTypes: [String] { [Self.type] }
    func createOnlyProperties(of type: String) -> Set<String> { [] }

    func create(_ request: ResourceRequest) async throws -> ResourceState {
        let key = "\(request.stackId)|\(request.logicalId)|\(UUID().uuidString.lowercased())"
        return ResourceState(physicalId: callbacks.url(key: key, region: request.region, now: clock.now(), expires: 86399))
    }

    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState { previous }

    func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        if let key = Callbacks.key(ofURL: state.physicalId) { callbacks.forget(key) }
    }
}

/// `AWS::CloudFormation::WaitCondition`: waits until its `Handle` has received `Count` (default 1) SUCCESS signals
/// with distinct UniqueIds, at most `Timeout` seconds (emulator clock); one FAILURE signal fails it. `Fn::GetAtt
/// Data` is the JSON object of every signal's Data by UniqueId.
struct WaitConditionProvider: ResourceProvider {
    static let type = "AWS::CloudFormation::WaitCondition"
    let callbacks: Callbacks
    let clock: EmulatorClock

    var resourceTypes: [String] { [Self.type] }
    func createOnlyProperties(of type: String) -> Set<String> { ["Handle", "Timeout", "Count"] }

    struct Signal: Equatable {
        var status: String
        var reason: String
        var uniqueId: String
        var data: String
    }

    /// Signals as CloudFormation reads them: a later one with the same UniqueId replaces the earlier; bodies that are
    /// not a JSON object with a Status are ignored.
    static func signals(_ bodies: [[UInt8]]) -> [Signal] {
        var out: [Signal] = []
        for body in bodies {
            guard let o = (try? JSONDecoder().decode(JSON.self, from: Data(body)))?.object,
                  let status = o["Status"].flatMap(Template.text) else { continue }
            let s = Signal(status: status, reason: o["Reason"].flatMap(Template.text) ?? "",
                           uniqueId: o["UniqueId"].flatMap(Template.text) ?? "", data: o["Data"].flatMap(Template.text) ?? "")
            if let i = out.firstIndex(where: { $0.uniqueId == s.uniqueId }) { out[i] = s } else { out.append(s) }
        }
        return out
    }

    /// Nil while waiting; the Data attribute once `count` successes arrived; throws on a FAILURE.
    static func outcome(_ signals: [Signal], count: Int) throws -> JSON? {
        if let f = signals.first(where: { $0.status != "SUCCESS" }) {
            throw CFNError.validation("WaitCondition received failed message: '\(f.reason)' for uniqueId: \(f.uniqueId)")
        }
        guard signals.count >= count else { return nil }
        var data: [String: JSON] = [:]
        for s in signals { data[s.uniqueId] = .string(s.data) }
        let text = String(decoding: (try? JSONEncoder.sorted.encode(JSON.object(data))) ?? Data("{}".utf8), as: UTF8.self)
        return .string(text)
    }

    func create(_ request: ResourceRequest) async throws -> ResourceState {
        guard let handle = request.properties["Handle"].flatMap(Template.text), let key = Callbacks.key(ofURL: handle) else {
            throw CFNError.validation("Property Handle must be the Ref of an AWS::CloudFormation::WaitConditionHandle")
        }
        guard let timeoutText = request.properties["Timeout"].flatMap(Template.text), let timeout = Int(timeoutText),
              (1...43200).contains(timeout) else {
            throw CFNError.validation("Property Timeout must be an integer between 1 and 43200")
        }
        let count = request.properties["Count"].flatMap(Template.text).flatMap { Int($0) } ?? 1
        guard count >= 1 else { throw CFNError.validation("Property Count must be at least 1") }
        let deadline = clock.now() + Double(timeout)
        var received: [Signal] = []
        while true {
            received = Self.signals(callbacks.received(key))
            if let data = try Self.outcome(received, count: count) {
                return ResourceState(physicalId: "\(request.stackId.split(separator: "/").dropLast().joined(separator: "/"))/\(request.logicalId)",
                                     attributes: ["Data": data])
            }
            if clock.now() >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CFNError.validation("WaitCondition timed out. Received \(received.count) conditions when expecting \(count)")
    }

    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState { previous }
    func delete(_ request: ResourceRequest, state: ResourceState) async throws {}
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
