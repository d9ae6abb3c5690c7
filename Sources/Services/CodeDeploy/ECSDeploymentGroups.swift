import Core
import Foundation

/// What CreateDeploymentGroup checks of an ECS group, with AWS's exceptions: one ECS service using the CODE_DEPLOY
/// deployment controller, one target group pair with a production route, and a blue/green configuration in range.
extension CodeDeployService {
    func checkECSGroup(_ s: Scope, _ input: Input) async throws {
        let app = try input.string("applicationName") ?? ""
        let platform = try store.db.readNow { db in try CodeDeployStore.get("application", s, app, db)?["computePlatform"] as? String }
        guard platform == "ECS" else { return }
        let services = input.raw["ecsServices"] as? [Doc] ?? []
        guard !services.isEmpty else { throw CDError.e("InvalidECSServiceException", "An ECS deployment group must specify one ECS service (ecsServices).") }
        guard services.count == 1 else {
            throw CDError.e("ECSServiceMappingLimitExceededException", "The Amazon ECS service is associated with more than one deployment groups.")
        }
        guard let cluster = services[0]["clusterName"] as? String, let name = services[0]["serviceName"] as? String else {
            throw CDError.e("InvalidECSServiceException", "The ECS service must name serviceName and clusterName.")
        }
        let pairs = (input.raw["loadBalancerInfo"] as? Doc)?["targetGroupPairInfoList"] as? [Doc] ?? []
        guard pairs.count == 1 else {
            throw CDError.e("InvalidLoadBalancerInfoException", "An ECS deployment group must specify one target group pair (loadBalancerInfo.targetGroupPairInfoList).")
        }
        let names = (pairs[0]["targetGroups"] as? [Doc] ?? []).compactMap { $0["name"] as? String }
        guard names.count == 2, names[0] != names[1] else {
            throw CDError.e("InvalidTargetGroupPairException", "A target group pair must name two different target groups.")
        }
        let prod = (pairs[0]["prodTrafficRoute"] as? Doc)?["listenerArns"] as? [String] ?? []
        guard prod.count == 1 else {
            throw CDError.e("InvalidTargetGroupPairException", "A target group pair must have one production listener (prodTrafficRoute.listenerArns).")
        }
        if let test = (pairs[0]["testTrafficRoute"] as? Doc)?["listenerArns"] as? [String], test.count > 1 {
            throw CDError.e("InvalidTargetGroupPairException", "A target group pair may have one test listener (testTrafficRoute.listenerArns).")
        }
        if let bg = input.raw["blueGreenDeploymentConfiguration"] as? Doc {
            let ready = bg["deploymentReadyOption"] as? Doc ?? [:]
            let term = bg["terminateBlueInstancesOnDeploymentSuccess"] as? Doc ?? [:]
            let wait = (ready["waitTimeInMinutes"] as? NSNumber)?.intValue ?? 0
            let termWait = (term["terminationWaitTimeInMinutes"] as? NSNumber)?.intValue ?? 0
            guard ["CONTINUE_DEPLOYMENT", "STOP_DEPLOYMENT"].contains(ready["actionOnTimeout"] as? String ?? "CONTINUE_DEPLOYMENT"),
                  ["TERMINATE", "KEEP_ALIVE"].contains(term["action"] as? String ?? "TERMINATE"),
                  bg["greenFleetProvisioningOption"] == nil, wait >= 0, (0...2880).contains(termWait) else {
                throw CDError.e("InvalidBlueGreenDeploymentConfigurationException", "The configuration for the blue/green deployment group was provided in an invalid format.")
            }
        }
        let lb = ecsLinks.loadBalancers
        for n in names where await lb.targetGroupARN(name: n, account: s.account, region: s.region) == nil {
            throw CDError.e("InvalidTargetGroupPairException", "The target group \(n) does not exist.")
        }
        guard ecsLinks.ecs != nil else { return }
        let out: Doc
        do { out = try await ecsCall("DescribeServices", s, ["cluster": cluster, "services": [name]]) } catch let e as AWSError {
            throw CDError.e("InvalidECSServiceException", e.message)
        }
        guard let service = (out["services"] as? [Doc])?.first, (service["status"] as? String) == "ACTIVE" else {
            throw CDError.e("InvalidECSServiceException", "The ECS service \(name) in cluster \(cluster) does not exist.")
        }
        guard ((service["deploymentController"] as? Doc)?["type"] as? String) == "CODE_DEPLOY" else {
            throw CDError.e("InvalidECSServiceException", "Deployment group's ECS service must be configured for a CODE_DEPLOY deployment controller.")
        }
    }
}
