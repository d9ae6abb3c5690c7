import Core
import Foundation

/// `AWS::CloudFormation::Stack`: a real child stack (ParentId, RootId, named `<parent>-<logical id>-<random>`) made
/// from the `TemplateURL` (Cloudless's S3) and `Parameters`; `Fn::GetAtt Child.Outputs.<Name>` reads its outputs.
/// The child takes the parent's capabilities and tags (plus its own `Tags`). Its create, update and delete run inside
/// the parent's operation; a child that fails to create is deleted and fails the parent's resource (so the parent
/// rolls back). `NotificationARNs` and `TimeoutInMinutes` are accepted and not used: Cloudless sends no SNS
/// notifications and its operations are not timed.
struct NestedStackProvider: ResourceProvider {
    static let type = "AWS::CloudFormation::Stack"
    let engine: StackEngine

    var resourceTypes: [String] { [Self.type] }
    func createOnlyProperties(of type: String) -> Set<String> { [] }

    func create(_ request: ResourceRequest) async throws -> ResourceState {
        try await engine.createNestedStack(request)
    }

    func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        try await engine.updateNestedStack(request, previous: previous)
    }

    func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        try await engine.deleteNestedStack(state)
    }

    /// `Parameters` as a child stack takes them: text values, lists joined with commas.
    static func parameters(_ properties: [String: JSON]) throws -> [String: String] {
        guard let given = properties["Parameters"] else { return [:] }
        guard let o = given.object else { throw CFNError.validation("Property Parameters must be an object") }
        var out: [String: String] = [:]
        for (k, v) in o {
            if let a = v.array {
                out[k] = a.compactMap(Template.text).joined(separator: ",")
            } else if let t = Template.text(v) {
                out[k] = t
            } else {
                throw CFNError.validation("Value of property Parameters must be an object with String (or simple type) properties")
            }
        }
        return out
    }

    /// The child's own `Tags` (`[{Key, Value}]`).
    static func tags(_ properties: [String: JSON]) -> [StackParameter] {
        (properties["Tags"]?.array ?? []).compactMap { t in
            guard let k = t["Key"].flatMap(Template.text) else { return nil }
            return StackParameter(key: k, value: t["Value"].flatMap(Template.text) ?? "")
        }
    }

    /// What `Fn::GetAtt` reads of a child: `Outputs.<Name>`.
    static func state(of child: Stack) -> ResourceState {
        var attributes: [String: JSON] = [:]
        for o in child.outputs { attributes["Outputs.\(o.key)"] = .string(o.value) }
        return ResourceState(physicalId: child.id, attributes: attributes)
    }
}

extension StackEngine {
    /// The template and checked parameter values a nested stack resource asks for.
    func nestedTemplate(_ request: ResourceRequest, capabilities: [String], stackName: String,
                        stackId: String) async throws -> (String, [StackParameter]) {
        guard let url = request.properties["TemplateURL"].flatMap(Template.text), !url.isEmpty else {
            throw CFNError.validation("Property TemplateURL cannot be empty")
        }
        let body = try await TemplateURL.read(url, objects: links.objects, ownHost: "localhost")
        let template = try Template(body: body)
        try Capabilities.check(body: body, template: template, given: capabilities, direct: true)
        let values = try template.resolveParameters(try NestedStackProvider.parameters(request.properties))
        try TemplateRules.check(template, values, account: request.account, region: request.region,  // Rules.swift
                                stackName: stackName, stackId: stackId)
        return (body, values.sorted { $0.key < $1.key }.map { StackParameter(key: $0.key, value: $0.value) })
    }

    /// Start an operation on a stack and wait for it to end.
    func runToEnd(_ stackId: String, _ operation: Operation) async {
        start(stackId, operation)
        await running[stackId]?.value
    }

    func createNestedStack(_ request: ResourceRequest) async throws -> ResourceState {
        guard let parent = try store.stack(id: request.stackId) else { throw CFNError.stackNotFound(request.stackId) }
        let name = request.generatedName(limit: 128)
        let id = "arn:aws:cloudformation:\(parent.region):\(parent.account):stack/\(name)/\(UUID().uuidString.lowercased())"
        let (body, parameters) = try await nestedTemplate(request, capabilities: parent.capabilities, stackName: name, stackId: id)
        var tags = parent.tags
        for t in NestedStackProvider.tags(request.properties) {
            tags.removeAll { $0.key == t.key }
            tags.append(t)
        }
        // Not rolled back on its own: a failed child is deleted here, and its failure rolls the parent back.
        var child = Stack(id: id, name: name, account: parent.account, region: parent.region, status: "CREATE_IN_PROGRESS",
                          description: nil, created: now(), templateBody: body, parameters: parameters, tags: tags,
                          disableRollback: true, capabilities: parent.capabilities, outputs: [], resources: [:])
        child.parentId = parent.id
        child.rootId = parent.rootId ?? parent.id
        try store.save(child)
        await runToEnd(id, .create)
        guard let done = try store.stack(id: id) else { throw CFNError.stackNotFound(id) }
        if done.status == "CREATE_COMPLETE" { return NestedStackProvider.state(of: done) }
        let reason = done.statusReason ?? done.status
        var failed = done
        failed.status = "DELETE_IN_PROGRESS"
        try store.save(failed)
        await runToEnd(id, .delete)
        throw CFNError.validation("Embedded stack \(id) was not successfully created: \(reason)")
    }

    func updateNestedStack(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        guard var child = try store.stack(id: previous.physicalId), child.deleted == nil else {
            throw CFNError.validation("Embedded stack \(previous.physicalId) does not exist")
        }
        let (body, parameters) = try await nestedTemplate(request, capabilities: child.capabilities, stackName: child.name,
                                                          stackId: child.id)
        var tags = (try store.stack(id: request.stackId))?.tags ?? child.tags
        for t in NestedStackProvider.tags(request.properties) {
            tags.removeAll { $0.key == t.key }
            tags.append(t)
        }
        if body == child.templateBody && parameters == child.parameters && tags == child.tags {
            return NestedStackProvider.state(of: child)
        }
        child.previousResources = child.resources
        child.previousTemplateBody = child.templateBody
        child.previousParameters = child.parameters
        child.previousOutputs = child.outputs
        child.templateBody = body
        child.parameters = parameters
        child.tags = tags
        child.status = "UPDATE_IN_PROGRESS"
        try store.save(child)
        await runToEnd(child.id, .update)
        guard let done = try store.stack(id: child.id) else { throw CFNError.stackNotFound(child.id) }
        guard done.status == "UPDATE_COMPLETE" else {
            throw CFNError.validation("Embedded stack \(child.id) was not successfully updated. Currently in \(done.status).")
        }
        return NestedStackProvider.state(of: done)
    }

    func deleteNestedStack(_ state: ResourceState) async throws {
        guard var child = try store.stack(id: state.physicalId), child.deleted == nil else { return }
        if child.status != "DELETE_IN_PROGRESS" {
            child.status = "DELETE_IN_PROGRESS"
            try store.save(child)
        }
        await runToEnd(child.id, .delete)
        guard let done = try store.stack(id: child.id), done.deleted != nil else {
            throw CFNError.validation("Embedded stack \(child.id) was not successfully deleted")
        }
    }
}
