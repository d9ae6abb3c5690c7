import Core
import Foundation

/// `AWS::CodeDeploy::Application`, `DeploymentConfig` and `DeploymentGroup` for CloudFormation, over the service's
/// own operations called in-process as the stack's account and region. `Ref` is the name for each, as AWS answers.
public struct CodeDeployResources: ResourceProvider {
    let service: CodeDeployService

    public init(service: CodeDeployService) { self.service = service }

    public var resourceTypes: [String] {
        ["AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentConfig", "AWS::CodeDeploy::DeploymentGroup"]
    }

    public func createOnlyProperties(of type: String) -> Set<String> {
        switch type {
        case "AWS::CodeDeploy::Application": return ["ApplicationName", "ComputePlatform"]
        case "AWS::CodeDeploy::DeploymentConfig":
            return ["DeploymentConfigName", "ComputePlatform", "MinimumHealthyHosts", "TrafficRoutingConfig", "ZonalConfig"]
        default: return ["ApplicationName", "DeploymentGroupName"]
        }
    }

    public func create(_ request: ResourceRequest) async throws -> ResourceState {
        let s = Scope(account: request.account, region: request.region)
        let p = request.properties
        switch request.type {
        case "AWS::CodeDeploy::Application":
            let name = p["ApplicationName"]?.string ?? request.generatedName(limit: 100)
            var body: Doc = ["applicationName": name, "computePlatform": p["ComputePlatform"]?.string ?? "Server"]
            if let tags = p["Tags"] { body["tags"] = tags.any }
            _ = try service.createApplication(s, Input(body))
            return ResourceState(physicalId: name)
        case "AWS::CodeDeploy::DeploymentConfig":
            let name = p["DeploymentConfigName"]?.string ?? request.generatedName(limit: 100)
            var body = Self.apiMembers(p, skipping: ["DeploymentConfigName"])
            body["deploymentConfigName"] = name
            _ = try service.createDeploymentConfig(s, Input(body))
            return ResourceState(physicalId: name)
        default:
            try Self.refuseDeployment(p)
            guard let app = p["ApplicationName"]?.string else {
                throw AWSError("ValidationError", "Property ApplicationName cannot be empty.")
            }
            let name = p["DeploymentGroupName"]?.string ?? request.generatedName(limit: 100)
            var body = Self.apiMembers(p, skipping: ["DeploymentGroupName", "Tags"])
            body["deploymentGroupName"] = name
            if let tags = p["Tags"] { body["tags"] = tags.any }
            _ = try service.createDeploymentGroup(s, Input(body))
            return ResourceState(physicalId: name, attributes: ["ApplicationName": .string(app)])
        }
    }

    public func update(_ request: ResourceRequest, previous: ResourceState) async throws -> ResourceState {
        let s = Scope(account: request.account, region: request.region)
        let p = request.properties
        switch request.type {
        case "AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentConfig":
            if request.type == "AWS::CodeDeploy::Application" {
                try syncTags(s, service.arn(s, "application", previous.physicalId), p["Tags"], request.previousProperties?["Tags"])
            }
            return previous  // everything else of these types needs a replacement
        default:
            try Self.refuseDeployment(p)
            let app = p["ApplicationName"]?.string ?? ""
            var body = Self.apiMembers(p, skipping: ["DeploymentGroupName", "Tags"])
            body["currentDeploymentGroupName"] = previous.physicalId
            // A member the template dropped goes back to CodeDeploy's default.
            for (key, empty) in [("AlarmConfiguration", ["enabled": false, "alarms": [Any]()] as Any),
                                 ("AutoRollbackConfiguration", ["enabled": false, "events": [Any]()] as Any),
                                 ("OnPremisesInstanceTagFilters", [Any]() as Any), ("Ec2TagFilters", [Any]() as Any),
                                 ("TriggerConfigurations", [Any]() as Any)]
            where p[key] == nil && request.previousProperties?[key] != nil {
                body[Self.memberName(key)] = empty
            }
            _ = try service.updateDeploymentGroup(s, Input(body))
            try syncTags(s, service.arn(s, "deploymentgroup", app + "/" + previous.physicalId), p["Tags"],
                         request.previousProperties?["Tags"])
            return previous
        }
    }

    public func delete(_ request: ResourceRequest, state: ResourceState) async throws {
        let s = Scope(account: request.account, region: request.region)
        do {
            switch request.type {
            case "AWS::CodeDeploy::Application":
                _ = try service.deleteApplication(s, Input(["applicationName": state.physicalId]))
            case "AWS::CodeDeploy::DeploymentConfig":
                _ = try service.deleteDeploymentConfig(s, Input(["deploymentConfigName": state.physicalId]))
            default:
                let app = state.attributes["ApplicationName"]?.string ?? request.properties["ApplicationName"]?.string ?? ""
                _ = try service.deleteDeploymentGroup(s, Input(["applicationName": app, "deploymentGroupName": state.physicalId]))
            }
        } catch let e as AWSError where e.code.hasSuffix("DoesNotExistException") {
            return  // already gone
        }
    }

    public func currentProperties(_ request: ResourceRequest, state: ResourceState) async throws -> ResourceReading {
        let s = Scope(account: request.account, region: request.region)
        do {
            switch request.type {
            case "AWS::CodeDeploy::Application":
                let a = try service.getApplication(s, Input(["applicationName": state.physicalId]))["application"] as? Doc ?? [:]
                return .properties(["ApplicationName": .string(state.physicalId),
                                    "ComputePlatform": .string(a["computePlatform"] as? String ?? "Server")])
            case "AWS::CodeDeploy::DeploymentConfig":
                let c = try service.getDeploymentConfig(s, Input(["deploymentConfigName": state.physicalId]))["deploymentConfigInfo"] as? Doc ?? [:]
                return .properties(["DeploymentConfigName": .string(state.physicalId),
                                    "ComputePlatform": .string(c["computePlatform"] as? String ?? "Server")])
            default:
                let app = state.attributes["ApplicationName"]?.string ?? ""
                let g = try service.getDeploymentGroup(s, Input(["applicationName": app, "deploymentGroupName": state.physicalId]))["deploymentGroupInfo"] as? Doc ?? [:]
                var out: [String: JSON] = ["ApplicationName": .string(app), "DeploymentGroupName": .string(state.physicalId)]
                if let c = g["deploymentConfigName"] as? String { out["DeploymentConfigName"] = .string(c) }
                if let r = g["serviceRoleArn"] as? String { out["ServiceRoleArn"] = .string(r) }
                if let st = g["deploymentStyle"] as? Doc {
                    out["DeploymentStyle"] = .object(["DeploymentType": .string(st["deploymentType"] as? String ?? ""),
                                                      "DeploymentOption": .string(st["deploymentOption"] as? String ?? "")])
                }
                return .properties(out)
            }
        } catch let e as AWSError where e.code.hasSuffix("DoesNotExistException") {
            return .deleted
        }
    }

    public func interruptedCreate(_ request: ResourceRequest) async throws -> ResourceState? {
        let s = Scope(account: request.account, region: request.region)
        let p = request.properties
        do {
            switch request.type {
            case "AWS::CodeDeploy::Application":
                let name = p["ApplicationName"]?.string ?? request.generatedName(limit: 100)
                _ = try service.getApplication(s, Input(["applicationName": name]))
                return ResourceState(physicalId: name)
            case "AWS::CodeDeploy::DeploymentConfig":
                let name = p["DeploymentConfigName"]?.string ?? request.generatedName(limit: 100)
                _ = try service.getDeploymentConfig(s, Input(["deploymentConfigName": name]))
                return ResourceState(physicalId: name)
            default:
                let app = p["ApplicationName"]?.string ?? ""
                let name = p["DeploymentGroupName"]?.string ?? request.generatedName(limit: 100)
                _ = try service.getDeploymentGroup(s, Input(["applicationName": app, "deploymentGroupName": name]))
                return ResourceState(physicalId: name, attributes: ["ApplicationName": .string(app)])
            }
        } catch let e as AWSError where e.code.hasSuffix("DoesNotExistException") {
            return nil
        }
    }

    // MARK: Property names

    /// A `Deployment` property makes CloudFormation start a deployment with the group: not done by Cloudless.
    static func refuseDeployment(_ p: [String: JSON]) throws {
        if p["Deployment"] != nil {
            throw AWSError("ValidationError", "Property Deployment of AWS::CodeDeploy::DeploymentGroup is not supported by Cloudless.")
        }
    }

    /// CloudFormation's member name as the API spells it.
    static func memberName(_ key: String) -> String {
        switch key {
        case "ECSServices": return "ecsServices"
        default: return key.prefix(1).lowercased() + key.dropFirst()
        }
    }

    /// Members whose items keep CloudFormation's capitalized names in the API too (CodeDeploy's tag filters).
    static let capitalizedItems: Set<String> = ["Ec2TagFilters", "OnPremisesInstanceTagFilters", "Ec2TagSet", "Tags"]

    /// The template's properties in the API's member names (lower camel case, recursively).
    static func apiMembers(_ p: [String: JSON], skipping: Set<String>) -> Doc {
        var out: Doc = [:]
        for (k, v) in p where !skipping.contains(k) {
            if k == "OnPremisesTagSet" {
                // {OnPremisesTagSetList: [{OnPremisesTagGroup: [filters]}]} → {onPremisesTagSetList: [[filters]]}
                let groups = v["OnPremisesTagSetList"]?.array ?? []
                out["onPremisesTagSet"] = ["onPremisesTagSetList": groups.map { ($0["OnPremisesTagGroup"] ?? .array([])).any }]
            } else if capitalizedItems.contains(k) {
                out[memberName(k)] = v.any
            } else {
                out[memberName(k)] = lowered(v)
            }
        }
        return out
    }

    static func lowered(_ v: JSON) -> Any {
        switch v {
        case .object(let o):
            var out: Doc = [:]
            for (k, x) in o { out[memberName(k)] = lowered(x) }
            return out
        case .array(let a): return a.map(lowered)
        default: return v.any
        }
    }

    func syncTags(_ s: Scope, _ arn: String, _ tags: JSON?, _ old: JSON?) throws {
        guard tags != old else { return }
        let keys = (old?.array ?? []).compactMap { $0["Key"]?.string }
        let kept = Set((tags?.array ?? []).compactMap { $0["Key"]?.string })
        let removed = keys.filter { !kept.contains($0) }
        if !removed.isEmpty { _ = try service.untagResource(s, Input(["ResourceArn": arn, "TagKeys": removed])) }
        if let tags, !(tags.array ?? []).isEmpty { _ = try service.tagResource(s, Input(["ResourceArn": arn, "Tags": tags.any])) }
    }
}
