import Core
import Foundation
import GRDB

/// TagResource, UntagResource, ListTagsForResource for clusters, task definitions, services, tasks and capacity
/// providers, by ARN.
extension ECSService {
    func tagResource(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let arn = try input.required("resourceArn")
        guard let tags = try input.tags(), !tags.isEmpty else { throw ECSError.validation(nil, at: "tags", "Member must not be null") }
        try await changeTags(arn, Scope(r)) { old in
            var out = old
            for t in tags {
                if let i = out.firstIndex(where: { $0.key == t.key }) { out[i] = t } else { out.append(t) }
            }
            return out
        }
        if try await currentTags(arn, Scope(r)).count > 50 { throw ECSError.invalid("The maximum number of tags for a resource is 50.") }
        return [:]
    }

    func untagResource(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        let arn = try input.required("resourceArn")
        guard let keys = try input.strings("tagKeys") else { throw ECSError.validation(nil, at: "tagKeys", "Member must not be null") }
        try await changeTags(arn, Scope(r)) { old in old.filter { !keys.contains($0.key ?? "") } }
        return [:]
    }

    func listTagsForResource(_ r: AWSRequest, _ input: Input) async throws -> [String: JSON] {
        ["tags": try JSON.encode(try await currentTags(try input.required("resourceArn"), Scope(r)))]
    }

    static func resourceKind(_ arn: String) -> String? {
        guard let parsed = ARN(arn), parsed.service == "ecs" else { return nil }
        return parsed.resource.split(separator: "/").first.map(String.init)
    }

    func currentTags(_ arn: String, _ scope: Scope) async throws -> [Tag] {
        switch Self.resourceKind(arn) {
        case "cluster":
            guard let c = try findCluster(arn, scope), c.clusterArn == arn, c.status == "ACTIVE" else { throw ECSError.clusterNotFound() }
            return c.tags ?? []
        case "task-definition":
            guard let td = try findTaskDefinition(arn, scope) else { throw ECSError.resourceNotFound("The specified task definition does not exist.") }
            return td.tags
        case "capacity-provider":
            guard let cp = try capacityProviderByArn(arn, scope) else { throw ECSError.resourceNotFound("The specified capacity provider does not exist.") }
            return cp.tags ?? []
        case "task-set":
            guard let tags = await scheduler.taskSetTags(arn) else { throw ECSError.taskSetNotFound() }
            return tags
        case "container-instance":
            guard let tags = await scheduler.instanceTags(arn) else {
                throw ECSError.invalid("The specified container instance does not exist.")
            }
            return tags
        case "service", "task":
            guard let tags = await scheduler.tags(arn) else {
                throw Self.resourceKind(arn) == "service" ? ECSError.serviceNotFound() : ECSError.resourceNotFound("The specified task does not exist.")
            }
            return tags
        default:
            throw ECSError.invalid("The ARN provided is invalid.")
        }
    }

    func changeTags(_ arn: String, _ scope: Scope, _ change: @Sendable ([Tag]) -> [Tag]) async throws {
        switch Self.resourceKind(arn) {
        case "cluster":
            guard var c = try findCluster(arn, scope), c.clusterArn == arn, c.status == "ACTIVE" else { throw ECSError.clusterNotFound() }
            c.tags = change(c.tags ?? [])
            try saveCluster(c, scope)
        case "task-definition":
            guard var td = try findTaskDefinition(arn, scope) else { throw ECSError.resourceNotFound("The specified task definition does not exist.") }
            td.tags = change(td.tags)
            try save(td)
        case "capacity-provider":
            guard var cp = try capacityProviderByArn(arn, scope) else { throw ECSError.resourceNotFound("The specified capacity provider does not exist.") }
            cp.tags = change(cp.tags ?? [])
            try saveCapacityProvider(cp, scope)
        case "task-set":
            guard try await scheduler.setTaskSetTags(arn, change) else { throw ECSError.taskSetNotFound() }
        case "container-instance":
            guard try await scheduler.setInstanceTags(arn, change) else {
                throw ECSError.invalid("The specified container instance does not exist.")
            }
        case "service", "task":
            guard try await scheduler.setTags(arn, change) else {
                throw Self.resourceKind(arn) == "service" ? ECSError.serviceNotFound() : ECSError.resourceNotFound("The specified task does not exist.")
            }
        default:
            throw ECSError.invalid("The ARN provided is invalid.")
        }
    }
}
