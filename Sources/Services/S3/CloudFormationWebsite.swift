import Core
import Foundation

/// `WebsiteConfiguration` of `AWS::S3::Bucket` (`IndexDocument` and `ErrorDocument` as plain strings,
/// `RedirectAllRequestsTo`, `RoutingRules[].RedirectRule/RoutingRuleCondition`) as the document PutBucketWebsite
/// reads, and back from the stored configuration.
extension S3Resources {
    static let redirectFields = ["HostName", "HttpRedirectCode", "Protocol", "ReplaceKeyPrefixWith", "ReplaceKeyWith"]

    static func website(_ p: [String: JSON], _ shape: PropertyShape) throws -> String? {
        let base = "WebsiteConfiguration"
        guard let config = try shape.object(p[base], base) else { return nil }
        let index = try shape.string(config["IndexDocument"], "\(base)/IndexDocument")
        let error = try shape.string(config["ErrorDocument"], "\(base)/ErrorDocument")
        var redirectAll: (host: String, scheme: String?)?
        if let r = try shape.object(config["RedirectAllRequestsTo"], "\(base)/RedirectAllRequestsTo") {
            let path = "\(base)/RedirectAllRequestsTo"
            redirectAll = (try shape.required(try shape.string(r["HostName"], "\(path)/HostName"), path, "HostName"),
                           try shape.string(r["Protocol"], "\(path)/Protocol"))
        }
        var rules: [(condition: [(String, String)], redirect: [(String, String)])] = []
        for (path, rule) in try shape.objects(config["RoutingRules"], "\(base)/RoutingRules") {
            let redirect = try shape.required(try shape.object(rule["RedirectRule"], "\(path)/RedirectRule"), path, "RedirectRule")
            var r: [(String, String)] = []
            for f in redirectFields { if let v = try shape.string(redirect[f], "\(path)/RedirectRule/\(f)") { r.append((f, v)) } }
            var c: [(String, String)] = []
            if let condition = try shape.object(rule["RoutingRuleCondition"], "\(path)/RoutingRuleCondition") {
                for f in ["KeyPrefixEquals", "HttpErrorCodeReturnedEquals"] {
                    if let v = try shape.string(condition[f], "\(path)/RoutingRuleCondition/\(f)") { c.append((f, v)) }
                }
            }
            rules.append((c, r))
        }
        let haveRules = config["RoutingRules"].map { !$0.isNull } ?? false
        return xml("WebsiteConfiguration") { xml in
            if let redirectAll {
                xml.group("RedirectAllRequestsTo") { xml in
                    xml.element("HostName", redirectAll.host)
                    xml.element("Protocol", redirectAll.scheme)
                }
            }
            if let index { xml.group("IndexDocument") { $0.element("Suffix", index) } }
            if let error { xml.group("ErrorDocument") { $0.element("Key", error) } }
            if haveRules {
                xml.group("RoutingRules") { xml in
                    for rule in rules {
                        xml.group("RoutingRule") { xml in
                            if !rule.condition.isEmpty { xml.group("Condition") { xml in for (k, v) in rule.condition { xml.element(k, v) } } }
                            xml.group("Redirect") { xml in for (k, v) in rule.redirect { xml.element(k, v) } }
                        }
                    }
                }
            }
        }
    }

    static func readWebsite(_ stored: String?) -> JSON? {
        guard let stored, let doc = XMLElement.parse(Array(stored.utf8)) else { return nil }
        var out: [String: JSON] = [:]
        if let all = doc.child("RedirectAllRequestsTo") {
            var r: [String: JSON] = ["HostName": .string(all.value("HostName") ?? "")]
            if let p = all.value("Protocol") { r["Protocol"] = .string(p) }
            out["RedirectAllRequestsTo"] = .object(r)
        }
        if let s = doc.child("IndexDocument")?.value("Suffix") { out["IndexDocument"] = .string(s) }
        if let k = doc.child("ErrorDocument")?.value("Key") { out["ErrorDocument"] = .string(k) }
        if let rules = doc.child("RoutingRules") {
            out["RoutingRules"] = .array(rules.children("RoutingRule").map { rule in
                var o: [String: JSON] = [:]
                var redirect: [String: JSON] = [:]
                for f in redirectFields { if let v = rule.child("Redirect")?.value(f) { redirect[f] = .string(v) } }
                o["RedirectRule"] = .object(redirect)
                if let c = rule.child("Condition") {
                    var condition: [String: JSON] = [:]
                    for f in ["KeyPrefixEquals", "HttpErrorCodeReturnedEquals"] { if let v = c.value(f) { condition[f] = .string(v) } }
                    o["RoutingRuleCondition"] = .object(condition)
                }
                return .object(o)
            })
        }
        return .object(out)
    }
}
