import Core
import Foundation

/// `NotificationConfiguration` of `AWS::S3::Bucket`: `QueueConfigurations[]` and `LambdaConfigurations[]`, one
/// `Event` each, `Filter.S3Key.Rules[{Name, Value}]`, as the document PutBucketNotificationConfiguration reads, and
/// back from the stored configuration. SNS and EventBridge are not served, so `TopicConfigurations` and an enabled
/// `EventBridgeConfiguration` fail the resource, naming the property, rather than be dropped.
extension S3Resources {
    static func notification(_ p: [String: JSON], _ shape: PropertyShape) throws -> NotificationConfiguration? {
        let base = "NotificationConfiguration"
        guard let config = try shape.object(p[base], base) else { return nil }
        if let topics = try shape.array(config["TopicConfigurations"], "\(base)/TopicConfigurations"), !topics.isEmpty {
            throw AWSError("InvalidRequest",
                           "\(base).TopicConfigurations is not supported: Cloudless serves no SNS topics to deliver S3 events to (use QueueConfigurations or LambdaConfigurations).")
        }
        if let bridge = try shape.object(config["EventBridgeConfiguration"], "\(base)/EventBridgeConfiguration"),
           try shape.bool(bridge["EventBridgeEnabled"], "\(base)/EventBridgeConfiguration/EventBridgeEnabled") != false {
            throw AWSError("InvalidRequest",
                           "\(base).EventBridgeConfiguration is not supported: Cloudless serves no EventBridge to deliver S3 events to.")
        }
        var entries: [(element: String, arnElement: String, arn: String, event: String, rules: [(String, String)]?)] = []
        for (list, element, target, arnElement) in [("QueueConfigurations", "QueueConfiguration", "Queue", "Queue"),
                                                    ("LambdaConfigurations", "CloudFunctionConfiguration", "Function", "CloudFunction")] {
            for (path, c) in try shape.objects(config[list], "\(base)/\(list)") {
                entries.append((element, arnElement, try shape.required(try shape.string(c[target], "\(path)/\(target)"), path, target),
                                try shape.required(try shape.string(c["Event"], "\(path)/Event"), path, "Event"),
                                try filterRules(c["Filter"], "\(path)/Filter", shape)))
            }
        }
        let document = xml("NotificationConfiguration") { xml in
            for e in entries {
                xml.group(e.element) { xml in
                    xml.element(e.arnElement, e.arn)
                    xml.element("Event", e.event)
                    guard let rules = e.rules else { return }
                    xml.group("Filter") { xml in
                        xml.group("S3Key") { xml in
                            for (name, value) in rules {
                                xml.group("FilterRule") { $0.element("Name", name); $0.element("Value", value) }
                            }
                        }
                    }
                }
            }
        }
        return try NotificationConfiguration.parse(Array(document.utf8))
    }

    private static func filterRules(_ v: JSON?, _ path: String, _ shape: PropertyShape) throws -> [(String, String)]? {
        guard let filter = try shape.object(v, path) else { return nil }
        let key = try shape.required(try shape.object(filter["S3Key"], "\(path)/S3Key"), path, "S3Key")
        return try shape.objects(try shape.required(key["Rules"], "\(path)/S3Key", "Rules"), "\(path)/S3Key/Rules").map { rPath, r in
            (try shape.required(try shape.string(r["Name"], "\(rPath)/Name"), rPath, "Name"),
             try shape.required(try shape.string(r["Value"], "\(rPath)/Value"), rPath, "Value"))
        }
    }

    /// The stored configuration in the template's shape: one entry per event, filter rule names spelt as the template
    /// spells them (S3 answers `Prefix`; templates usually say `prefix`).
    static func readNotification(_ config: NotificationConfiguration?, expected: JSON?) -> JSON? {
        guard let config, !config.isEmpty else { return nil }
        var spelling: [String: String] = [:]
        for list in ["QueueConfigurations", "LambdaConfigurations"] {
            for c in expected?[list]?.array ?? [] {
                for r in c["Filter"]?["S3Key"]?["Rules"]?.array ?? [] {
                    if let n = r["Name"]?.string { spelling[n.lowercased()] = n }
                }
            }
        }
        func entries(_ type: NotificationConfiguration.DestinationType, _ target: String) -> JSON {
            .array(config.destinations.filter { $0.type == type }.flatMap { d in
                d.events.map { event -> JSON in
                    var o: [String: JSON] = [target: .string(d.arn), "Event": .string(event)]
                    if !d.filterRules.isEmpty {
                        o["Filter"] = .object(["S3Key": .object(["Rules": .array(d.filterRules.map { r in
                            let name = spelling[r.name.lowercased()] ?? r.name.lowercased()
                            return .object(["Name": .string(name), "Value": .string(r.value)])
                        })])])
                    }
                    return .object(o)
                }
            })
        }
        var out: [String: JSON] = [:]
        if !config.queues.isEmpty { out["QueueConfigurations"] = entries(.queue, "Queue") }
        if !config.functions.isEmpty { out["LambdaConfigurations"] = entries(.cloudFunction, "Function") }
        return .object(out)
    }

    /// Two configurations deliver the same events to the same places (S3 gives each entry an Id of its own).
    static func sameDeliveries(_ a: NotificationConfiguration?, _ b: NotificationConfiguration?) -> Bool {
        func key(_ c: NotificationConfiguration?) -> [String] {
            (c?.destinations ?? []).map { d in
                "\(d.type.rawValue) \(d.arn) \(d.events) " + d.filterRules.map { "\($0.name.lowercased())=\($0.value)" }.joined(separator: ",")
            }
        }
        return key(a) == key(b) && (a?.eventBridge ?? false) == (b?.eventBridge ?? false)
    }
}
