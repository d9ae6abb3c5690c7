import Core
import Foundation

/// Drift reading: what CloudWatch Logs holds now for a stack's log group or stream, in the template's property names.
extension LogsResources {
    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        let r = internalRequest(request)
        switch request.type {
        case "AWS::Logs::LogGroup":
            let group = try service.store.db.readNow { db in try? service.group(named: state.physicalId, r, db) }
            guard let group else { return .deleted }
            var out: [String: JSON] = ["LogGroupName": .string(group.name), "LogGroupClass": .string(group.logGroupClass)]
            if let days = group.retentionInDays { out["RetentionInDays"] = .number(Double(days)) }
            if let k = group.kmsKeyId { out["KmsKeyId"] = .string(k) }
            if group.deletionProtection { out["DeletionProtectionEnabled"] = .bool(true) }
            // The stack's tags (applied to every resource) are not the template's unless it repeats them.
            let given = (request.properties["Tags"]?.array ?? []).compactMap { $0["Key"]?.string }
            let own = group.tags.filter { given.contains($0.key) || (request.tags[$0.key] == nil && !$0.key.lowercased().hasPrefix("aws:")) }
                .sorted { (given.firstIndex(of: $0.key) ?? Int.max, $0.key) < (given.firstIndex(of: $1.key) ?? Int.max, $1.key) }
            if !own.isEmpty { out["Tags"] = .array(own.map { .object(["Key": .string($0.key), "Value": .string($0.value)]) }) }
            return .properties(out)
        case "AWS::Logs::LogStream":
            guard let group = request.properties["LogGroupName"]?.string else { return .notChecked }
            let out = try? service.describeLogStreams(r, Input(["logGroupName": group, "logStreamNamePrefix": state.physicalId]))
            let names = (out?["logStreams"] as? [[String: Any]] ?? []).compactMap { $0["logStreamName"] as? String }
            guard names.contains(state.physicalId) else { return .deleted }
            return .properties(["LogGroupName": .string(group), "LogStreamName": .string(state.physicalId)])
        default:
            return .notChecked
        }
    }
}
