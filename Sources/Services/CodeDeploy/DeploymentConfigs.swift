import Core
import Foundation
import GRDB

/// Deployment configurations: AWS's predefined ones (read-only, in every account) and custom ones.
enum DeploymentConfigs {
    static let epoch = 1_412_208_000.0  // the predefined ones' createTime, fixed

    /// The predefined configurations as GetDeploymentConfig shows them.
    nonisolated(unsafe) static let predefined: [String: Doc] = {  // never mutated
        var out: [String: Doc] = [:]
        func add(_ name: String, _ platform: String, minimum: (String, Int)? = nil, traffic: Doc? = nil) {
            var d: Doc = ["deploymentConfigName": name, "computePlatform": platform, "createTime": epoch,
                          "deploymentConfigId": UUID(uuidString: "00000000-0000-4000-8000-" + String(format: "%012x", out.count + 1))!.uuidString.lowercased()]
            if let (type, value) = minimum { d["minimumHealthyHosts"] = ["type": type, "value": value] }
            if let traffic { d["trafficRoutingConfig"] = traffic }
            out[name] = d
        }
        add("CodeDeployDefault.AllAtOnce", "Server", minimum: ("HOST_COUNT", 0))
        add("CodeDeployDefault.HalfAtATime", "Server", minimum: ("FLEET_PERCENT", 50))
        add("CodeDeployDefault.OneAtATime", "Server", minimum: ("FLEET_PERCENT", 99))
        for (platform, prefix) in [("Lambda", "Lambda"), ("ECS", "ECS")] {
            add("CodeDeployDefault.\(prefix)AllAtOnce", platform, traffic: ["type": "AllAtOnce"])
        }
        for m in [5, 10, 15, 30] {
            add("CodeDeployDefault.LambdaCanary10Percent\(m)Minutes", "Lambda",
                traffic: ["type": "TimeBasedCanary", "timeBasedCanary": ["canaryPercentage": 10, "canaryInterval": m]])
        }
        for m in [1, 2, 3, 10] {
            add("CodeDeployDefault.LambdaLinear10PercentEvery\(m)Minute\(m == 1 ? "" : "s")", "Lambda",
                traffic: ["type": "TimeBasedLinear", "timeBasedLinear": ["linearPercentage": 10, "linearInterval": m]])
        }
        for m in [5, 15] {
            add("CodeDeployDefault.ECSCanary10Percent\(m)Minutes", "ECS",
                traffic: ["type": "TimeBasedCanary", "timeBasedCanary": ["canaryPercentage": 10, "canaryInterval": m]])
        }
        for m in [1, 3] {
            add("CodeDeployDefault.ECSLinear10PercentEvery\(m)Minutes", "ECS",
                traffic: ["type": "TimeBasedLinear", "timeBasedLinear": ["linearPercentage": 10, "linearInterval": m]])
        }
        return out
    }()

    /// The alias's (or listener's) share of the new version at each step: (seconds after AllowTraffic began, weight 0–1).
    /// Canary: the canary percentage, then everything after the interval. Linear: one more increment every interval.
    static func trafficSteps(_ config: Doc) -> [(after: Double, weight: Double)] {
        let routing = config["trafficRoutingConfig"] as? Doc ?? [:]
        switch routing["type"] as? String {
        case "TimeBasedCanary":
            let c = routing["timeBasedCanary"] as? Doc ?? [:]
            let pct = (c["canaryPercentage"] as? NSNumber)?.doubleValue ?? 10
            let interval = (c["canaryInterval"] as? NSNumber)?.doubleValue ?? 0
            return [(0, pct / 100), (interval * 60, 1)]
        case "TimeBasedLinear":
            let l = routing["timeBasedLinear"] as? Doc ?? [:]
            let pct = max(1, (l["linearPercentage"] as? NSNumber)?.intValue ?? 10)
            let interval = (l["linearInterval"] as? NSNumber)?.doubleValue ?? 0
            var steps: [(Double, Double)] = []
            var k = 1
            while k * pct < 100 {
                steps.append((Double(k - 1) * interval * 60, Double(k * pct) / 100))
                k += 1
            }
            steps.append((Double(k - 1) * interval * 60, 1))
            return steps
        default:
            return [(0, 1)]
        }
    }

    /// The least number of instances that must stay healthy: HOST_COUNT as given, FLEET_PERCENT rounded up.
    static func minimumHealthy(_ config: Doc, instances n: Int) -> Int {
        let m = config["minimumHealthyHosts"] as? Doc ?? [:]
        let value = (m["value"] as? NSNumber)?.intValue ?? 0
        if (m["type"] as? String) == "FLEET_PERCENT" { return Int((Double(n * value) / 100).rounded(.up)) }
        return value
    }

    /// How many instances deploy at once: all those that may be out of service, at least one.
    static func batchSize(_ config: Doc, instances n: Int) -> Int {
        max(1, n - minimumHealthy(config, instances: n))
    }

    /// How many instances may fail before the deployment fails (HEALTH_CONSTRAINTS): at least one must succeed.
    static func allowedFailures(_ config: Doc, instances n: Int) -> Int {
        max(0, n - max(1, minimumHealthy(config, instances: n)))
    }
}

extension CodeDeployService {
    func config(_ name: String, _ scope: Scope, _ db: GRDB.Database) throws -> Doc? {
        if let p = DeploymentConfigs.predefined[name] { return p }
        return try CodeDeployStore.get("config", scope, name, db)
    }

    func createDeploymentConfig(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try input.required("deploymentConfigName", "DeploymentConfigNameRequiredException", "Deployment config name is missing")
        guard name.count <= 100 else { throw CDError.e("InvalidDeploymentConfigNameException", "Deployment config name is too long") }
        let platform = try input.string("computePlatform") ?? "Server"
        guard ["Server", "Lambda", "ECS"].contains(platform) else {
            throw CDError.e("InvalidComputePlatformException", "Compute platform \(platform) is invalid")
        }
        var d: Doc = ["deploymentConfigName": name, "computePlatform": platform, "createTime": clock.now(),
                      "deploymentConfigId": UUID().uuidString.lowercased()]
        if let m = try input.object("minimumHealthyHosts") {
            guard platform == "Server" else {
                throw CDError.e("InvalidMinimumHealthyHostValueException", "Minimum healthy hosts is only valid for the Server compute platform")
            }
            let type = m["type"] as? String ?? ""
            let value = (m["value"] as? NSNumber)?.intValue ?? -1
            guard ["HOST_COUNT", "FLEET_PERCENT"].contains(type), value >= 0, type == "HOST_COUNT" || value <= 99 else {
                throw CDError.e("InvalidMinimumHealthyHostValueException", "The minimum healthy instance value is invalid")
            }
            d["minimumHealthyHosts"] = ["type": type, "value": value]
        } else if platform == "Server" {
            throw CDError.e("InvalidMinimumHealthyHostValueException", "The minimum healthy instance value is invalid")
        }
        if let t = try input.object("trafficRoutingConfig") {
            guard platform != "Server" else {
                throw CDError.e("InvalidTrafficRoutingConfigurationException", "Traffic routing config is not valid for the Server compute platform")
            }
            let type = t["type"] as? String ?? ""
            func positive(_ o: Doc?, _ keys: [String]) -> Bool {
                keys.allSatisfy { k in ((o?[k] as? NSNumber)?.intValue ?? 0) > 0 }
            }
            let valid = switch type {
            case "AllAtOnce": true
            case "TimeBasedCanary": positive(t["timeBasedCanary"] as? Doc, ["canaryPercentage", "canaryInterval"])
                && ((t["timeBasedCanary"] as? Doc)?["canaryPercentage"] as? NSNumber)?.intValue ?? 0 < 100
            case "TimeBasedLinear": positive(t["timeBasedLinear"] as? Doc, ["linearPercentage", "linearInterval"])
                && ((t["timeBasedLinear"] as? Doc)?["linearPercentage"] as? NSNumber)?.intValue ?? 0 < 100
            default: false
            }
            guard valid else { throw CDError.e("InvalidTrafficRoutingConfigurationException", "The traffic routing configuration is invalid") }
            d["trafficRoutingConfig"] = t
        } else if platform != "Server" {
            d["trafficRoutingConfig"] = ["type": "AllAtOnce"]
        }
        try store.db.writeNow { db in
            if try config(name, s, db) != nil {
                throw CDError.e("DeploymentConfigAlreadyExistsException", "A deployment configuration with the name \(name) already exists")
            }
            try CodeDeployStore.put("config", s, name, d, db)
        }
        return ["deploymentConfigId": d["deploymentConfigId"]!]
    }

    func getDeploymentConfig(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try input.required("deploymentConfigName", "DeploymentConfigNameRequiredException", "Deployment config name is missing")
        guard let d = try store.db.readNow({ db in try config(name, s, db) }) else { throw CDError.configMissing(name) }
        return ["deploymentConfigInfo": d]
    }

    func listDeploymentConfigs(_ s: Scope, _ input: Input) throws -> Doc {
        let custom = try store.db.readNow { db in try CodeDeployStore.all("config", s, db) }.map(\.key)
        return try Self.page(DeploymentConfigs.predefined.keys.sorted() + custom, input, key: "deploymentConfigsList")
    }

    func deleteDeploymentConfig(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try input.required("deploymentConfigName", "DeploymentConfigNameRequiredException", "Deployment config name is missing")
        if DeploymentConfigs.predefined[name] != nil {
            throw CDError.e("InvalidOperationException", "The default deployment configuration cannot be deleted")
        }
        try store.db.writeNow { db in
            let inUse = try CodeDeployStore.all("group", s, db).contains { ($0.doc["deploymentConfigName"] as? String) == name }
            if inUse { throw CDError.e("DeploymentConfigInUseException", "The deployment configuration is in use") }
            try CodeDeployStore.delete("config", s, name, db)
        }
        return [:]
    }
}
