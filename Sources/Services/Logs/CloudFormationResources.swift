import Core
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOCore

/// `AWS::Logs::LogGroup` and `AWS::Logs::LogStream` for CloudFormation, over the operations the API serves
/// (CreateLogGroup, PutRetentionPolicy, TagLogGroup, CreateLogStream...), called in-process.
public struct LogsResources: ResourceProvider {
    let service: LogsService

    public var resourceTypes: [String] { ["AWS::Logs::LogGroup", "AWS::Logs::LogStream"] }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case "AWS::Logs::LogGroup": return ["LogGroupName", "LogGroupClass"]
        case "AWS::Logs::LogStream": return ["LogGroupName", "LogStreamName"]
        default: return []
        }
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        let r = internalRequest(request)
        let p = request.properties
        switch request.type {
        case "AWS::Logs::LogGroup":
            let name = try Self.string(p["LogGroupName"], "LogGroupName") ?? request.generatedName(limit: 512)
            var input: [String: Any] = ["logGroupName": name]
            if let k = try Self.string(p["KmsKeyId"], "KmsKeyId") { input["kmsKeyId"] = k }
            if let c = try Self.string(p["LogGroupClass"], "LogGroupClass") { input["logGroupClass"] = c }
            if let d = try Self.bool(p["DeletionProtectionEnabled"], "DeletionProtectionEnabled") { input["deletionProtectionEnabled"] = d }
            let tags = try Self.tags(request)
            if !tags.isEmpty { input["tags"] = tags }
            // Validate the retention before anything is created.
            let days = try Self.retention(p)
            _ = try service.createLogGroup(r, Input(input))
            if let days {
                do { _ = try service.putRetentionPolicy(r, Input(["logGroupName": name, "retentionInDays": days])) } catch {
                    _ = try? service.deleteLogGroup(r, Input(["logGroupName": name]))
                    throw error
                }
            }
            return groupState(request, name)
        case "AWS::Logs::LogStream":
            guard let group = try Self.string(p["LogGroupName"], "LogGroupName") else {
                throw LogsError.validation(nil, at: "logGroupName", "Member must not be null")
            }
            let name = try Self.string(p["LogStreamName"], "LogStreamName") ?? request.generatedName(limit: 512)
            _ = try service.createLogStream(r, Input(["logGroupName": group, "logStreamName": name]))
            return ResourceState(physicalId: name, ref: name)
        default:
            throw Self.unsupported(request.type)
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        guard request.type == "AWS::Logs::LogGroup" else {
            // Every LogStream property is create-only: nothing changes in place.
            guard request.type == "AWS::Logs::LogStream" else { throw Self.unsupported(request.type) }
            return previous
        }
        let r = internalRequest(request)
        let p = request.properties
        let name = previous.physicalId
        if let days = try Self.retention(p) {
            _ = try service.putRetentionPolicy(r, Input(["logGroupName": name, "retentionInDays": days]))
        } else {
            _ = try service.deleteRetentionPolicy(r, Input(["logGroupName": name]))
        }
        let kms = try Self.string(p["KmsKeyId"], "KmsKeyId")
        if let k = kms, k.count > 256 { throw LogsError.validation(k, at: "kmsKeyId", "Member must have length less than or equal to 256") }
        let protection = try Self.bool(p["DeletionProtectionEnabled"], "DeletionProtectionEnabled") ?? false
        let tags = try Self.tags(request)
        try LogsService.validateTags(tags, member: "tags")
        try service.store.db.writeNow { db in
            let g = try service.group(named: name, r, db)
            // AssociateKmsKey / DisassociateKmsKey and PutLogGroupDeletionProtection, which the API does not serve yet.
            try db.execute(sql: "UPDATE log_group SET kms_key_id = ?, deletion_protection = ? WHERE id = ?",
                           arguments: [kms, protection, g.id])
            if tags != g.tags {
                if tags.count > 50 { throw AWSError("TooManyTagsException", "A resource can have no more than 50 tags.") }
                try LogStore.setTags(tags, group: g.id, db)
            }
        }
        return groupState(request, name)
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        let r = internalRequest(request)
        do {
            switch request.type {
            case "AWS::Logs::LogGroup":
                _ = try service.deleteLogGroup(r, Input(["logGroupName": state.physicalId]))
            case "AWS::Logs::LogStream":
                guard let group = request.properties["LogGroupName"]?.string else { return }
                _ = try service.deleteLogStream(r, Input(["logGroupName": group, "logStreamName": state.physicalId]))
            default:
                throw Self.unsupported(request.type)
            }
        } catch let e as AWSError where e.code == "ResourceNotFoundException" {}
    }

    func groupState(_ request: ResourceRequest, _ name: String) -> ResourceState {
        ResourceState(physicalId: name, ref: name, attributes: [
            "Arn": .string("arn:aws:logs:\(request.region):\(request.account):log-group:\(name):*"),
        ])
    }

    static func retention(_ p: [String: JSON]) throws -> Int? {
        guard let v = p["RetentionInDays"], !v.isNull else { return nil }
        guard let days = v.int ?? v.string.flatMap({ Int($0) }) else { throw LogsError.wrongType("RetentionInDays") }
        guard LogsService.retentionDays.contains(days) else {
            let set = LogsService.retentionDays.map(String.init).joined(separator: ", ")
            throw LogsError.validation(String(days), at: "retentionInDays", "Member must satisfy enum value set: [\(set)]")
        }
        return days
    }

    static func string(_ v: JSON?, _ name: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.string else { throw LogsError.wrongType(name) }
        return s
    }

    static func bool(_ v: JSON?, _ name: String) throws -> Bool? {
        guard let v, !v.isNull else { return nil }
        if let b = v.bool { return b }
        if let s = v.string?.lowercased(), s == "true" || s == "false" { return s == "true" }
        throw LogsError.wrongType(name)
    }

    /// The stack's tags and the resource's own `Tags` ([{Key, Value}]), the resource's winning.
    static func tags(_ request: ResourceRequest) throws -> [String: String] {
        var out = request.tags
        for tag in request.properties["Tags"]?.array ?? [] {
            guard let key = tag["Key"]?.string, let value = tag["Value"]?.string else { throw LogsError.wrongType("Tags") }
            out[key] = value
        }
        return out
    }

    func internalRequest(_ request: ResourceRequest) -> AWSRequest {
        AWSRequest(method: .post, rawPath: "/", rawQuery: "", query: [], headers: HTTPFields(), host: "localhost",
                   body: RequestBody(buffer: ByteBuffer()),
                   caller: CallerIdentity(accountID: request.account, region: request.region, accessKeyID: nil),
                   requestID: UUID().uuidString)
    }

    static func unsupported(_ type: String) -> AWSError {
        AWSError("InvalidRequest", "Resource type \(type) is not served by CloudWatch Logs.")
    }
}

extension LogsService {
    /// The CloudFormation provider of log groups and streams.
    public var resourceProvider: LogsResources { LogsResources(service: self) }
}
