import Foundation
import Yams

/// A Lambda AppSpec (YAML or JSON, `version: 0.0`): the function, its alias, the versions to shift between, and the
/// BeforeAllowTraffic / AfterAllowTraffic hook functions.
struct LambdaAppSpec: Sendable, Equatable {
    var functionName: String
    var alias: String
    var currentVersion: String
    var targetVersion: String
    var beforeAllowTraffic: String?
    var afterAllowTraffic: String?

    struct Invalid: Error { var message: String }

    /// The document as a dictionary: YAML (JSON is YAML too).
    static func document(_ text: String) throws -> [String: Any] {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw Invalid(message: "The AppSpec file is not valid YAML or JSON.") }
        guard let doc = loaded as? [String: Any] else { throw Invalid(message: "The AppSpec file must be a map.") }
        return doc
    }

    static func parse(_ text: String) throws -> LambdaAppSpec {
        let doc = try document(text)
        guard let resources = doc["Resources"] as? [Any], let first = resources.first as? [String: Any], let entry = first.values.first as? [String: Any] else {
            throw Invalid(message: "The AppSpec file must name one Lambda function under Resources.")
        }
        guard (entry["Type"] as? String) == "AWS::Lambda::Function" else {
            throw Invalid(message: "The AppSpec resource's Type must be AWS::Lambda::Function.")
        }
        let p = entry["Properties"] as? [String: Any] ?? [:]
        func property(_ k: String) throws -> String {
            guard let v = p[k] else { throw Invalid(message: "The AppSpec resource's Properties must include \(k).") }
            return "\(v)"
        }
        var spec = LambdaAppSpec(functionName: try property("Name"), alias: try property("Alias"),
                                 currentVersion: try property("CurrentVersion"), targetVersion: try property("TargetVersion"))
        for hook in doc["Hooks"] as? [Any] ?? [] {
            guard let h = hook as? [String: Any] else { continue }
            if let f = h["BeforeAllowTraffic"] as? String { spec.beforeAllowTraffic = f }
            if let f = h["AfterAllowTraffic"] as? String { spec.afterAllowTraffic = f }
            if let bad = h.keys.first(where: { $0 != "BeforeAllowTraffic" && $0 != "AfterAllowTraffic" }) {
                throw Invalid(message: "The AppSpec hook \(bad) is not a Lambda lifecycle event.")
            }
        }
        return spec
    }

    /// `Name` may be a name or an ARN; the alias ARN in the deployment's account and region.
    func aliasARN(account: String, region: String) -> String {
        functionARN(account: account, region: region) + ":" + alias
    }

    func functionARN(account: String, region: String) -> String {
        if functionName.hasPrefix("arn:") {
            return functionName.split(separator: ":", omittingEmptySubsequences: false).prefix(7).joined(separator: ":")
        }
        return "arn:aws:lambda:\(region):\(account):function:\(functionName)"
    }

    static func hookARN(_ f: String, account: String, region: String) -> String {
        f.hasPrefix("arn:") ? f : "arn:aws:lambda:\(region):\(account):function:\(f)"
    }

    var asDoc: [String: Any] {
        var d: [String: Any] = ["name": functionName, "alias": alias, "current": currentVersion, "target": targetVersion]
        if let beforeAllowTraffic { d["before"] = beforeAllowTraffic }
        if let afterAllowTraffic { d["after"] = afterAllowTraffic }
        return d
    }

    init(functionName: String, alias: String, currentVersion: String, targetVersion: String,
         beforeAllowTraffic: String? = nil, afterAllowTraffic: String? = nil) {
        self.functionName = functionName
        self.alias = alias
        self.currentVersion = currentVersion
        self.targetVersion = targetVersion
        self.beforeAllowTraffic = beforeAllowTraffic
        self.afterAllowTraffic = afterAllowTraffic
    }

    init?(doc: [String: Any]?) {
        guard let d = doc, let n = d["name"] as? String, let a = d["alias"] as? String, let c = d["current"] as? String,
              let t = d["target"] as? String else { return nil }
        self.init(functionName: n, alias: a, currentVersion: c, targetVersion: t,
                  beforeAllowTraffic: d["before"] as? String, afterAllowTraffic: d["after"] as? String)
    }
}
