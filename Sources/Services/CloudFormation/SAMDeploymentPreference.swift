import Core

/// `DeploymentPreference` of an `AWS::Serverless::Function` with `AutoPublishAlias`, expanded as SAM's translator
/// does: one `ServerlessDeploymentApplication` (AWS::CodeDeploy::Application, Lambda) and one `CodeDeployServiceRole`
/// shared by every function of the template, a `<Function>DeploymentGroup`, and on the alias an `UpdatePolicy`
/// `CodeDeployLambdaAliasUpdate` naming them and the hooks, which makes the engine shift the alias through CodeDeploy
/// (AliasDeploymentUpdate.swift) instead of updating it at once.
extension SAMTransform {
    static let applicationId = "ServerlessDeploymentApplication"
    static let codeDeployRoleId = "CodeDeployServiceRole"

    /// The Lambda configurations CodeDeploy predefines, named without their `CodeDeployDefault.Lambda` prefix.
    static let predefinedLambdaConfigs: Set<String> = [
        "AllAtOnce", "Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes",
        "Canary10Percent30Minutes", "Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes",
        "Linear10PercentEvery3Minutes", "Linear10PercentEvery10Minutes",
    ]

    static let deploymentPreferenceKeys: Set<String> = [
        "Type", "Enabled", "Alarms", "Hooks", "Role", "TriggerConfigurations", "PassthroughCondition", "Condition",
    ]

    /// The generated resources (keyed by logical id) and the alias's UpdatePolicy; nil when disabled.
    static func deploymentPreference(_ id: String, _ preference: JSON, aliasId: String?, shared: [String: JSON]) throws
        -> (resources: [String: JSON], updatePolicy: JSON)? {
        guard let p = preference.object else {
            throw fail("Resource with id [\(id)] is invalid. 'DeploymentPreference' should be a map.")
        }
        if let bad = p.keys.sorted().first(where: { !deploymentPreferenceKeys.contains($0) }) {
            throw unsupported("Property \(bad) of DeploymentPreference (resource \(id))")
        }
        if let enabled = p["Enabled"], enabled == .bool(false) || enabled.string?.lowercased() == "false" { return nil }
        guard let aliasId else {
            throw fail("Resource with id [\(id)] is invalid. 'DeploymentPreference' requires AutoPublishAlias property to be specified.")
        }
        guard let type = p["Type"] else {
            throw fail("Resource with id [\(id)] is invalid. 'DeploymentPreference' is missing required Property 'Type'")
        }
        var resources: [String: JSON] = [:]
        func add(_ logicalId: String, _ type: String, _ properties: [String: JSON]) {
            var r = shared
            r["Type"] = .string(type)
            r["Properties"] = .object(properties)
            resources[logicalId] = .object(r)
        }
        // The application and the role are the template's, whichever function asks for them (no shared Condition).
        resources[applicationId] = .object(["Type": .string("AWS::CodeDeploy::Application"),
                                            "Properties": .object(["ComputePlatform": .string("Lambda")])])
        let role: JSON
        if let given = p["Role"] {
            role = given
        } else {
            resources[codeDeployRoleId] = .object(["Type": .string("AWS::IAM::Role"), "Properties": .object([
                "AssumeRolePolicyDocument": .object([
                    "Version": .string("2012-10-17"),
                    "Statement": .array([.object([
                        "Action": .array([.string("sts:AssumeRole")]), "Effect": .string("Allow"),
                        "Principal": .object(["Service": .array([.string("codedeploy.amazonaws.com")])]),
                    ])]),
                ]),
                "ManagedPolicyArns": .array([.string("arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda")]),
            ])])
            role = .object(["Fn::GetAtt": .array([.string(codeDeployRoleId), .string("Arn")])])
        }
        let configName: JSON
        if let t = type.string, predefinedLambdaConfigs.contains(t) {
            configName = .object(["Fn::Sub": .array([.string("CodeDeployDefault.Lambda${ConfigName}"),
                                                     .object(["ConfigName": .string(t)])])])
        } else {
            configName = type
        }
        let groupId = "\(id)DeploymentGroup"
        var group: [String: JSON] = [
            "ApplicationName": .object(["Ref": .string(applicationId)]),
            "AutoRollbackConfiguration": .object([
                "Enabled": .bool(true),
                "Events": .array(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"].map { .string($0) }),
            ]),
            "DeploymentConfigName": configName,
            "DeploymentStyle": .object(["DeploymentType": .string("BLUE_GREEN"), "DeploymentOption": .string("WITH_TRAFFIC_CONTROL")]),
            "ServiceRoleArn": role,
        ]
        if let alarms = p["Alarms"]?.array, !alarms.isEmpty {
            group["AlarmConfiguration"] = .object(["Enabled": .bool(true), "Alarms": .array(alarms.map { .object(["Name": $0]) })])
        }
        if let t = p["TriggerConfigurations"] { group["TriggerConfigurations"] = t }
        add(groupId, "AWS::CodeDeploy::DeploymentGroup", group)

        var update: [String: JSON] = [
            "ApplicationName": .object(["Ref": .string(applicationId)]),
            "DeploymentGroupName": .object(["Ref": .string(groupId)]),
        ]
        if let hooks = p["Hooks"] {
            guard let h = hooks.object else {
                throw fail("Resource with id [\(id)] is invalid. 'Hooks' property of 'DeploymentPreference' must be a dictionary")
            }
            if let bad = h.keys.sorted().first(where: { $0 != "PreTraffic" && $0 != "PostTraffic" }) {
                throw fail("Resource with id [\(id)] is invalid. \(bad) is not a valid hook. Valid hooks are PreTraffic and PostTraffic.")
            }
            if let pre = h["PreTraffic"] { update["BeforeAllowTrafficHook"] = pre }
            if let post = h["PostTraffic"] { update["AfterAllowTrafficHook"] = post }
        }
        return (resources, .object(["CodeDeployLambdaAliasUpdate": .object(update)]))
    }
}
