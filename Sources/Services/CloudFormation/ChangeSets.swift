import Core
import Foundation

/// Change sets: CreateChangeSet computes the resource changes at once (the change set is CREATE_COMPLETE, or FAILED
/// when nothing would change, by the time the call returns), ExecuteChangeSet runs the stack's create or update as
/// CreateStack and UpdateStack do.
extension CloudFormationService {
    static let emptyChangeSetReason =
        "The submitted information didn't contain changes. Submit different information to create a change set."

    static func validChangeSetName(_ name: String) -> Bool { validName(name) }

    /// Parameters as given for a stack moving to `template`, `previous` answering `UsePreviousValue`.
    static func givenParameters(_ p: [String: String], previous: [String: String]) throws -> [String: String] {
        var given: [String: String] = [:]
        for m in structures(p, "Parameters") {
            guard let k = m["ParameterKey"] else { continue }
            if m["UsePreviousValue"]?.lowercased() == "true" {
                guard let v = previous[k] else {
                    throw CFNError.validation("Invalid input for parameter key \(k). Cannot specify usePreviousValue as true for a parameter key not in the previous template")
                }
                given[k] = v
            } else {
                given[k] = m["ParameterValue"] ?? ""
            }
        }
        return given
    }

    static func tags(_ p: [String: String]) -> [StackParameter]? {
        guard p.keys.contains(where: { $0 == "Tags" || $0.hasPrefix("Tags.member.") }) else { return nil }
        return structures(p, "Tags").compactMap { m in m["Key"].map { StackParameter(key: $0, value: m["Value"] ?? "") } }
    }

    func createChangeSet(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        let stackName = try Self.required(p, "StackName")
        let name = try Self.required(p, "ChangeSetName")
        guard Self.validChangeSetName(name) else {
            throw CFNError.validation("1 validation error detected: Value '\(name)' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
        }
        let type = p["ChangeSetType"] ?? "UPDATE"
        switch type {
        case "CREATE", "UPDATE": break
        case "IMPORT":
            throw CFNError.validation("ChangeSetType IMPORT is not supported by Cloudless: resources cannot be imported into a stack")
        default:
            throw CFNError.validation("1 validation error detected: Value '\(type)' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [UPDATE, IMPORT, CREATE]")
        }
        var existing = try store.find(stackName, account: caller.account, region: caller.region)
        if existing?.deleted != nil { existing = nil }
        var s: Stack
        if type == "CREATE" {
            if let existing {
                guard existing.status == "REVIEW_IN_PROGRESS" else {
                    throw CFNError.validation("Stack [\(existing.name)] already exists and cannot be created again with the changeSet [\(name)].")
                }
                s = existing
            } else {
                guard Self.validName(stackName), !stackName.hasPrefix("arn:") else {
                    throw CFNError.validation("1 validation error detected: Value '\(stackName)' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
                }
                let id = "arn:aws:cloudformation:\(caller.region):\(caller.account):stack/\(stackName)/\(UUID().uuidString.lowercased())"
                s = Stack(id: id, name: stackName, account: caller.account, region: caller.region, status: "REVIEW_IN_PROGRESS",
                          statusReason: "User Initiated", description: nil, created: caller.now, templateBody: "", parameters: [],
                          tags: [], disableRollback: false, capabilities: [], outputs: [], resources: [:])
            }
        } else {
            guard let existing else {
                throw CFNError.validation("Stack [\(stackName)] does not exist")
            }
            guard Self.updatableStatuses.contains(existing.status) else {  // StackRecoveryOperations.swift
                throw CFNError.validation("Stack:\(existing.id) is in \(existing.status) state and can not be updated.")
            }
            s = existing
        }
        if s.changeSets.contains(where: { $0.name == name }) {
            throw AWSError("AlreadyExistsException", "ChangeSet [\(name)] already exists")
        }
        let body: String
        if p["UsePreviousTemplate"]?.lowercased() == "true" {
            guard type == "UPDATE" else {
                throw CFNError.validation("UsePreviousTemplate can only be used with ChangeSetType UPDATE")
            }
            body = s.templateBody
        } else {
            body = try await templateBody(p, caller)
        }
        let template = try Template(body: body)
        let given = try Self.givenParameters(p, previous: type == "UPDATE" ? s.parameterValues : [:])
        let values = try template.resolveParameters(given)
        try TemplateRules.check(template, values, account: s.account, region: s.region, stackName: s.name, stackId: s.id)  // Rules.swift
        let parameters = values.sorted { $0.key < $1.key }.map { StackParameter(key: $0.key, value: $0.value) }
        let tags = Self.tags(p) ?? (type == "UPDATE" ? s.tags : [])
        let capabilities = Self.list(p, "Capabilities")
        try Capabilities.check(body: body, template: template, given: capabilities, direct: false)
        let id = "arn:aws:cloudformation:\(caller.region):\(caller.account):changeSet/\(name)/\(UUID().uuidString.lowercased())"
        var cs = ChangeSet(id: id, name: name, type: type, templateBody: body, parameters: parameters, tags: tags,
                           capabilities: capabilities, description: p["Description"], status: "CREATE_PENDING",
                           statusReason: nil, executionStatus: "UNAVAILABLE", created: caller.now, changes: [],
                           baseStatus: s.status, baseTemplateBody: s.templateBody, baseParameters: s.parameters,
                           baseLastUpdated: s.lastUpdated)
        cs.status = "CREATE_IN_PROGRESS"
        do {
            // Fn::ForEach loops expand with the change set's parameter values.
            cs.changes = try changes(s, try Template(body: body, parameters: values), values, type: type)
            let unchanged = type == "UPDATE" && body == s.templateBody && parameters == s.parameters && tags == s.tags
            if cs.changes.isEmpty && (type == "CREATE" || unchanged) {
                cs.status = "FAILED"
                cs.statusReason = Self.emptyChangeSetReason
            } else {
                cs.status = "CREATE_COMPLETE"
                cs.executionStatus = "AVAILABLE"
            }
        } catch {
            cs.status = "FAILED"
            cs.statusReason = (error as? AWSError)?.message ?? String(describing: error)
        }
        s.changeSets.append(cs)
        try store.save(s)
        if type == "CREATE" && existing == nil {
            // A stack made by a change set starts with this event, as in AWS (the SAM CLI reads the newest event's
            // time before it executes the change set).
            try store.add(StackEvent(eventId: UUID().uuidString, stackId: s.id, stackName: s.name, logicalId: s.name,
                                     physicalId: s.id, type: "AWS::CloudFormation::Stack", timestamp: caller.now,
                                     status: "REVIEW_IN_PROGRESS", statusReason: "User Initiated"))
        }
        return { [stackId = s.id] xml in
            xml.element("Id", id)
            xml.element("StackId", stackId)
        }
    }

    /// One change per resource that would be added, modified or removed.
    func changes(_ s: Stack, _ template: Template, _ parameters: [String: String], type: String) throws -> [ChangeSet.Change] {
        let exports = try store.exports(account: s.account, region: s.region).mapValues(\.value)
        var eval = try Evaluator(template: template, parameters: parameters, account: s.account, region: s.region,
                                 stackName: s.name, stackId: s.id, exports: exports)
        for (name, r) in s.resources { if let st = r.state { eval.resources[name] = st } }
        let oldTemplate = type == "UPDATE" ? try? Template(body: s.templateBody, parameters: s.parameterValues) : nil
        let changedParameters = Set(parameters.keys.filter { s.parameterValues[$0] != parameters[$0] })
        let enabled = Set(template.resources.values.filter { eval.isEnabled(condition: $0.condition) }.map(\.name))
        var out: [ChangeSet.Change] = []
        for name in enabled.sorted() {
            let decl = template.resources[name]!
            guard let old = s.resources[name], let oldState = old.state else {
                out.append(.init(action: "Add", logicalId: name, physicalId: nil, type: decl.type, replacement: nil))
                continue
            }
            if old.type != decl.type {
                out.append(.init(action: "Modify", logicalId: name, physicalId: oldState.physicalId, type: decl.type,
                                 replacement: "True", policyAction: Template.replacePolicyAction(decl), scope: [], details: []))
                continue
            }
            let createOnly = (engineProvider(decl.type)?.createOnlyProperties(of: decl.type)) ?? []
            let resolved: [String: JSON]
            do { resolved = try eval.resolveProperties(decl.properties) } catch {
                // Depends on something not created yet: known only when the update runs.
                out.append(.init(action: "Modify", logicalId: name, physicalId: oldState.physicalId, type: decl.type,
                                 replacement: "Conditional", scope: ["Properties"], details: []))
                continue
            }
            guard resolved != old.properties else { continue }
            let keys = Set(resolved.keys).union(old.properties.keys).filter { resolved[$0] != old.properties[$0] }.sorted()
            var details: [ChangeSet.Detail] = []
            var scope: [String] = []
            for key in keys {
                let attribute = key == "Tags" ? "Tags" : "Properties"
                if !scope.contains(attribute) { scope.append(attribute) }
                let recreation = createOnly.contains(key) ? "Always" : "Never"
                let before = oldTemplate?.resources[name]?.properties[key]
                let after = decl.properties[key]
                if before != after {
                    details.append(.init(attribute: attribute, name: attribute == "Tags" ? nil : key, requiresRecreation: recreation,
                                         evaluation: "Static", changeSource: "DirectModification"))
                    continue
                }
                var refs = Set<String>()
                if let after { Template.references(in: after, into: &refs) }
                if let param = refs.sorted().first(where: changedParameters.contains) {
                    details.append(.init(attribute: attribute, name: attribute == "Tags" ? nil : key, requiresRecreation: recreation,
                                         evaluation: "Static", changeSource: "ParameterReference", causingEntity: param))
                } else {
                    details.append(.init(attribute: attribute, name: attribute == "Tags" ? nil : key, requiresRecreation: recreation,
                                         evaluation: "Dynamic", changeSource: "ResourceReference",
                                         causingEntity: refs.sorted().first(where: { template.resources[$0] != nil })))
                }
            }
            let replacement = keys.contains(where: createOnly.contains) ? "True" : "False"
            out.append(.init(action: "Modify", logicalId: name, physicalId: oldState.physicalId, type: decl.type,
                             replacement: replacement, policyAction: replacement == "True" ? Template.replacePolicyAction(decl) : nil,
                             scope: scope, details: details))
        }
        for (name, r) in s.resources.sorted(by: { $0.key < $1.key }) where !enabled.contains(name) && r.state != nil {
            out.append(.init(action: "Remove", logicalId: name, physicalId: r.physicalId, type: r.type, replacement: nil,
                             policyAction: StackEngine.retains(r, replaced: false, inRollback: false) ? "Retain" : "Delete"))
        }
        return out
    }

    /// The stack and the change set `ChangeSetName` (an ARN, or a name with `StackName`) names.
    func changeSet(_ p: [String: String], _ caller: Caller) throws -> (Stack, ChangeSet) {
        let name = try Self.required(p, "ChangeSetName")
        if name.hasPrefix("arn:") {
            for s in try store.all(account: caller.account, region: caller.region, includeDeleted: false) {
                if let cs = s.changeSets.first(where: { $0.id == name }) { return (s, cs) }
            }
            throw CFNError.changeSetNotFound(name)
        }
        guard let stackName = p["StackName"], !stackName.isEmpty else {
            throw CFNError.validation("StackName must be specified if ChangeSetName is not specified as an ARN.")
        }
        guard let s = try store.find(stackName, account: caller.account, region: caller.region), s.deleted == nil,
              let cs = s.changeSets.first(where: { $0.name == name }) else {
            throw CFNError.changeSetNotFound(name)
        }
        return (s, cs)
    }

    /// EXECUTE_IN_PROGRESS until the stack's operation ends, then EXECUTE_COMPLETE or EXECUTE_FAILED.
    static func executionStatus(_ cs: ChangeSet, _ s: Stack) -> String {
        guard cs.executionStatus == "EXECUTE_IN_PROGRESS" else { return cs.executionStatus }
        if s.isInProgress { return "EXECUTE_IN_PROGRESS" }
        return ["CREATE_COMPLETE", "UPDATE_COMPLETE"].contains(s.status) ? "EXECUTE_COMPLETE" : "EXECUTE_FAILED"
    }

    func describeChangeSet(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let (s, cs) = try changeSet(p, caller)
        let template = try? Template(body: cs.templateBody)
        let execution = Self.executionStatus(cs, s)
        return { xml in
            xml.element("ChangeSetName", cs.name)
            xml.element("ChangeSetId", cs.id)
            xml.element("StackId", s.id)
            xml.element("StackName", s.name)
            xml.element("Description", cs.description)
            Self.writeParameters(cs.parameters, of: template, to: &xml)
            xml.element("CreationTime", Self.date(cs.created))
            xml.element("ExecutionStatus", execution)
            xml.element("Status", cs.status)
            xml.element("StatusReason", cs.statusReason)
            xml.empty("NotificationARNs")
            xml.open("RollbackConfiguration")
            xml.close()
            xml.open("Capabilities")
            for c in cs.capabilities { xml.element("member", c) }
            xml.close()
            Self.writeTags(cs.tags, to: &xml)
            xml.open("Changes")
            for c in cs.changes {
                xml.open("member")
                xml.element("Type", "Resource")
                xml.open("ResourceChange")
                xml.element("PolicyAction", c.policyAction)
                xml.element("Action", c.action)
                xml.element("LogicalResourceId", c.logicalId)
                xml.element("PhysicalResourceId", c.physicalId)
                xml.element("ResourceType", c.type)
                xml.element("Replacement", c.replacement)
                xml.open("Scope")
                for sc in c.scope { xml.element("member", sc) }
                xml.close()
                xml.open("Details")
                for d in c.details {
                    xml.open("member")
                    xml.open("Target")
                    xml.element("Attribute", d.attribute)
                    xml.element("Name", d.name)
                    xml.element("RequiresRecreation", d.requiresRecreation)
                    xml.close()
                    xml.element("Evaluation", d.evaluation)
                    xml.element("ChangeSource", d.changeSource)
                    xml.element("CausingEntity", d.causingEntity)
                    xml.close()
                }
                xml.close()
                xml.close()
                xml.close()
            }
            xml.close()
            xml.element("IncludeNestedStacks", false)
        }
    }

    func listChangeSets(_ p: [String: String], _ caller: Caller) throws -> Answer {
        let s = try stack(try Self.required(p, "StackName"), caller)
        let (page, next) = try Paging.page(s.changeSets, token: p["NextToken"])
        return { xml in
            xml.open("Summaries")
            for cs in page {
                xml.open("member")
                xml.element("StackId", s.id)
                xml.element("StackName", s.name)
                xml.element("ChangeSetId", cs.id)
                xml.element("ChangeSetName", cs.name)
                xml.element("ExecutionStatus", Self.executionStatus(cs, s))
                xml.element("Status", cs.status)
                xml.element("StatusReason", cs.statusReason)
                xml.element("CreationTime", Self.date(cs.created))
                xml.element("Description", cs.description)
                xml.element("IncludeNestedStacks", false)
                xml.close()
            }
            xml.close()
            xml.element("NextToken", next)
        }
    }

    func deleteChangeSet(_ p: [String: String], _ caller: Caller) throws -> Answer {
        var (s, cs) = try changeSet(p, caller)
        if Self.executionStatus(cs, s) == "EXECUTE_IN_PROGRESS" {
            throw AWSError("InvalidChangeSetStatus", "Cannot delete ChangeSet [\(cs.id)] in status EXECUTE_IN_PROGRESS")
        }
        s.changeSets.removeAll { $0.id == cs.id }
        try store.save(s)
        return { _ in }  // an empty <DeleteChangeSetResult/>
    }

    func executeChangeSet(_ p: [String: String], _ caller: Caller) async throws -> Answer {
        var (s, cs) = try changeSet(p, caller)
        guard cs.status == "CREATE_COMPLETE", cs.executionStatus == "AVAILABLE" else {
            throw AWSError("InvalidChangeSetStatus",
                           "ChangeSet [\(cs.id)] cannot be executed in its current status of [\(cs.status)]")
        }
        guard s.status == cs.baseStatus, s.templateBody == cs.baseTemplateBody, s.parameters == cs.baseParameters,
              s.lastUpdated == cs.baseLastUpdated else {
            throw AWSError("InvalidChangeSetStatus",
                           "ChangeSet [\(cs.id)] cannot be executed because the stack [\(s.name)] was updated since the change set was created. Create a new change set.")
        }
        if let disable = p["DisableRollback"] { s.disableRollback = disable.lowercased() == "true" }
        let template = try Template(body: cs.templateBody)
        cs.executionStatus = "EXECUTE_IN_PROGRESS"
        // Executing a change set makes the stack's other change sets obsolete: AWS deletes them.
        s.changeSets = [cs]
        s.capabilities = cs.capabilities
        s.tags = cs.tags
        if cs.type == "CREATE" {
            s.templateBody = cs.templateBody
            s.parameters = cs.parameters
            s.description = template.description
            s.status = "CREATE_IN_PROGRESS"
            try store.save(s)
            await engine.start(s.id, .create)
        } else {
            s.previousResources = s.resources
            s.previousTemplateBody = s.templateBody
            s.previousParameters = s.parameters
            s.previousOutputs = s.outputs
            s.templateBody = cs.templateBody
            s.parameters = cs.parameters
            s.status = "UPDATE_IN_PROGRESS"
            try store.save(s)
            await engine.start(s.id, .update)
        }
        await SnapshotGate.outside { await engine.wait(s.id, seconds: Self.answerWait) }
        return { _ in }  // an empty <ExecuteChangeSetResult/>
    }

    func engineProvider(_ type: String) -> (any ResourceProvider)? {
        engine.builtIn.provider(for: type) ?? engine.providers.provider(for: type)
    }
}
