import Core
import Foundation

/// CodeDeploy for CloudFormation's `CodeDeployLambdaAliasUpdate`: the alias's version change becomes a Lambda
/// deployment of the group, with an AppSpec written from the stack's values, as CloudFormation does.
extension CodeDeployService: AliasDeployments {
    public func deployLambdaAlias(account: String, region: String, application: String, group: String, function: String,
                                  alias: String, currentVersion: String, targetVersion: String,
                                  beforeHook: String?, afterHook: String?) async throws -> String {
        let content = Self.lambdaAppSpec(function: function, alias: alias, currentVersion: currentVersion,
                                         targetVersion: targetVersion, beforeHook: beforeHook, afterHook: afterHook)
        let out = try createDeployment(Scope(account: account, region: region), Input([
            "applicationName": application, "deploymentGroupName": group,
            "revision": ["revisionType": "AppSpecContent", "appSpecContent": ["content": content]] as Doc,
        ]))
        return out["deploymentId"] as? String ?? ""
    }

    /// A failed deployment has its outcome once its automatic rollback (which puts the alias back) has ended too.
    public func deploymentOutcome(account: String, region: String, id: String) async throws -> DeploymentOutcome? {
        let s = Scope(account: account, region: region)
        return try store.db.readNow { db -> DeploymentOutcome? in
            let d = try deployment(id, s, db)
            switch d["status"] as? String {
            case "Succeeded": return DeploymentOutcome(succeeded: true)
            case "Failed", "Stopped":
                if d["_rollbackPending"] != nil { return nil }
                if let rb = (d["rollbackInfo"] as? Doc)?["rollbackDeploymentId"] as? String,
                   let r = try CodeDeployStore.get("deployment", s, rb, db), Self.activeStatuses.contains(r["status"] as? String ?? "") {
                    return nil
                }
                return DeploymentOutcome(succeeded: false, message: (d["errorInformation"] as? Doc)?["message"] as? String)
            default: return nil
            }
        }
    }

    public func stopAliasDeployments(account: String, region: String, function: String, alias: String) async throws -> [String] {
        let s = Scope(account: account, region: region)
        let wanted = LambdaAppSpec(functionName: function, alias: alias, currentVersion: "", targetVersion: "")
            .aliasARN(account: account, region: region)
        let matching = try store.db.readNow { db -> [(String, Bool)] in
            try CodeDeployStore.activeDeployments(db).filter { $0.0 == s }.compactMap { _, id -> (String, Bool)? in
                guard let d = try CodeDeployStore.get("deployment", s, id, db), (d["computePlatform"] as? String) == "Lambda" else { return nil }
                let content = ((d["revision"] as? Doc)?["appSpecContent"] as? Doc)?["content"] as? String
                guard let spec = LambdaAppSpec(doc: Self.engineState(d)["appSpec"] as? Doc) ?? content.flatMap({ try? LambdaAppSpec.parse($0) }),
                      spec.aliasARN(account: account, region: region) == wanted else { return nil }
                return (id, (d["creator"] as? String) == "codeDeployRollback" || d["_rollbackPending"] != nil)
            }
        }
        for (id, restoring) in matching where !restoring {
            _ = try? stopDeployment(s, Input(["deploymentId": id, "autoRollbackEnabled": true]))
        }
        return matching.map(\.0)
    }

    /// The Lambda AppSpec (JSON) CloudFormation writes for the deployment.
    static func lambdaAppSpec(function: String, alias: String, currentVersion: String, targetVersion: String,
                              beforeHook: String?, afterHook: String?) -> String {
        var hooks: [Any] = []
        if let beforeHook { hooks.append(["BeforeAllowTraffic": beforeHook]) }
        if let afterHook { hooks.append(["AfterAllowTraffic": afterHook]) }
        let doc: Doc = [
            "version": 0.0,
            "Resources": [["\(function)Alias": ["Type": "AWS::Lambda::Function", "Properties": [
                "Name": function, "Alias": alias, "CurrentVersion": currentVersion, "TargetVersion": targetVersion,
            ]]]],
            "Hooks": hooks,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
