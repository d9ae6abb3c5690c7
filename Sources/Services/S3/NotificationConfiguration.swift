import Core
import Foundation

/// A bucket's `notification` sub-resource: where S3 publishes which object events. Parsed from the
/// PutBucketNotificationConfiguration body, validated as S3 validates it, stored as the XML GET answers.
struct NotificationConfiguration: Sendable, Equatable {
    /// The destination kinds, named by the element that holds their ARN.
    enum DestinationType: String, Sendable {
        case topic = "Topic"
        case queue = "Queue"
        case cloudFunction = "CloudFunction"

        var element: String { rawValue + "Configuration" }
        /// The service an ARN of this kind must name.
        var service: String {
            switch self {
            case .topic: "sns"
            case .queue: "sqs"
            case .cloudFunction: "lambda"
            }
        }
    }

    struct FilterRule: Sendable, Equatable {
        var name: String  // "Prefix" or "Suffix", as S3 answers them whatever the case sent
        var value: String
    }

    struct Destination: Sendable, Equatable {
        var type: DestinationType
        var id: String
        var arn: String
        var events: [String]
        var filterRules: [FilterRule] = []
        var invocationRole: String?

        var prefix: String? { filterRules.first { $0.name == "Prefix" }?.value }
        var suffix: String? { filterRules.first { $0.name == "Suffix" }?.value }

        /// Does an event (`s3:ObjectCreated:Put`) on a key (URL-encoded, as the filters are written) select this destination?
        func matches(event: String, encodedKey: String) -> Bool {
            guard events.contains(where: { NotificationConfiguration.covers($0, event) }) else { return false }
            if let p = prefix, !encodedKey.hasPrefix(p) { return false }
            if let s = suffix, !encodedKey.hasSuffix(s) { return false }
            return true
        }
    }

    var destinations: [Destination] = []
    var eventBridge = false

    var isEmpty: Bool { destinations.isEmpty && !eventBridge }
    var queues: [Destination] { destinations.filter { $0.type == .queue } }
    var functions: [Destination] { destinations.filter { $0.type == .cloudFunction } }

    /// The event types S3 accepts in a configuration (botocore's `Event` enum).
    static let eventTypes: Set<String> = [
        "s3:ReducedRedundancyLostObject", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed",
        "s3:ObjectRestore:Delete", "s3:Replication:*", "s3:Replication:OperationFailedReplication",
        "s3:Replication:OperationNotTracked", "s3:Replication:OperationMissedThreshold",
        "s3:Replication:OperationReplicatedAfterThreshold", "s3:LifecycleTransition", "s3:IntelligentTiering",
        "s3:ObjectAcl:Put", "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete",
        "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete",
    ]

    /// Does configured event type `a` (possibly a `:*` wildcard) include event `b`?
    static func covers(_ a: String, _ b: String) -> Bool {
        a == b || (a.hasSuffix(":*") && b.hasPrefix(a.dropLast()))
    }

    /// Do two configured event types share an event?
    static func overlap(_ a: String, _ b: String) -> Bool { covers(a, b) || covers(b, a) }

    // MARK: Parsing

    /// Parse a NotificationConfiguration document: MalformedXML when it does not follow S3's schema.
    /// Configurations without an Id get one as S3 makes them (a UUID, base64-encoded).
    static func parse(_ bytes: [UInt8]) throws -> NotificationConfiguration {
        guard let doc = XMLElement.parse(bytes), doc.name == "NotificationConfiguration" else { throw S3Error.malformedXML() }
        var config = NotificationConfiguration()
        for child in doc.children {
            let type: DestinationType
            let arnElement: [String]
            switch child.name {
            case "TopicConfiguration": (type, arnElement) = (.topic, ["Topic"])
            case "QueueConfiguration": (type, arnElement) = (.queue, ["Queue"])
            case "CloudFunctionConfiguration": (type, arnElement) = (.cloudFunction, ["CloudFunction"])
            case "LambdaFunctionConfiguration": (type, arnElement) = (.cloudFunction, ["LambdaFunctionArn", "CloudFunction"])
            case "EventBridgeConfiguration":
                config.eventBridge = true
                continue
            default: throw S3Error.malformedXML()
            }
            guard let arn = arnElement.lazy.compactMap({ child.value($0) }).first else { throw S3Error.malformedXML() }
            let events = child.children("Event").map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            if events.isEmpty { throw S3Error.malformedXML() }
            var d = Destination(type: type, id: child.value("Id") ?? "", arn: arn, events: events,
                                invocationRole: child.value("InvocationRole"))
            if d.id.isEmpty { d.id = Data(UUID().uuidString.lowercased().utf8).base64EncodedString() }
            for rule in child.child("Filter")?.child("S3Key")?.children("FilterRule") ?? [] {
                d.filterRules.append(FilterRule(name: rule.value("Name") ?? "", value: rule.value("Value") ?? ""))
            }
            config.destinations.append(d)
        }
        return config
    }

    // MARK: Validation

    /// The checks S3 makes on the document itself, before it looks at any destination: ARNs, event types,
    /// filter rules (names normalised to Prefix/Suffix), unique Ids, destinations in the bucket's region,
    /// and no two configurations that could both take one event.
    mutating func validate(bucketRegion: String) throws {
        for i in destinations.indices {
            var d = destinations[i]
            guard let arn = ARN(d.arn), arn.partition.hasPrefix("aws"), arn.service == d.type.service,
                  !arn.region.isEmpty, !arn.account.isEmpty, !arn.resource.isEmpty else {
                throw S3Error.invalidArgument("The ARN could not be parsed", name: d.type.rawValue, value: d.arn)
            }
            if arn.region != bucketRegion {
                throw S3Error.invalidArgument("The notification destination service region is not valid for the bucket location constraint",
                                              name: d.type.rawValue, value: d.arn)
            }
            for event in d.events where !Self.eventTypes.contains(event) {
                throw S3Error.invalidArgument("The event is not supported for notifications", name: "Event", value: event)
            }
            var seen = Set<String>()
            for j in d.filterRules.indices {
                let name = d.filterRules[j].name.lowercased()
                guard name == "prefix" || name == "suffix" else {
                    throw S3Error.invalidArgument("filter rule name must be either prefix or suffix",
                                                  name: "FilterRule.Name", value: d.filterRules[j].name)
                }
                if !seen.insert(name).inserted {
                    throw S3Error.invalidArgument("Cannot specify more than one \(name) rule in a filter.",
                                                  name: "FilterRule.Name", value: name)
                }
                if d.filterRules[j].value.utf8.count > 1024 {
                    throw S3Error.invalidArgument("Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation",
                                                  name: "FilterRule.Value", value: d.filterRules[j].value)
                }
                d.filterRules[j].name = name == "prefix" ? "Prefix" : "Suffix"
            }
            destinations[i] = d
        }
        var ids = Set<String>()
        for d in destinations where !ids.insert(d.id).inserted {
            throw S3Error.invalidArgument("Same ID used for multiple configurations. IDs must be unique", name: "Id", value: d.id)
        }
        try checkOverlaps()
    }

    /// Two configurations overlap when they share an event type and a key could match both filters:
    /// prefixes overlap when one starts the other (or either is missing), suffixes when one ends the other.
    func checkOverlaps() throws {
        for (i, a) in destinations.enumerated() {
            for b in destinations[(i + 1)...] {
                guard let shared = a.events.lazy.flatMap({ ea in b.events.lazy.map { (ea, $0) } }).first(where: { Self.overlap($0.0, $0.1) })
                else { continue }
                func meet(_ x: String?, _ y: String?, _ f: (String, String) -> Bool) -> Bool {
                    guard let x, let y else { return true }
                    return f(x, y) || f(y, x)
                }
                let prefixes = meet(a.prefix, b.prefix) { $0.hasPrefix($1) }
                let suffixes = meet(a.suffix, b.suffix) { $0.hasSuffix($1) }
                guard prefixes && suffixes else { continue }
                if a.filterRules.isEmpty && b.filterRules.isEmpty {
                    throw S3Error.invalidArgument("Configurations overlap. Configurations on the same bucket cannot share a common event type.",
                                                  name: "Event", value: "\(shared.0), \(shared.1)")
                }
                throw S3Error.invalidArgument(
                    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.")
            }
        }
    }

    // MARK: Writing

    /// The document GetBucketNotificationConfiguration answers (and the form it is stored in).
    func write(_ xml: inout XMLWriter) {
        xml.open("NotificationConfiguration", xmlns: S3Service.xmlns)
        for type in [DestinationType.topic, .queue, .cloudFunction] {
            for d in destinations where d.type == type {
                xml.open(type.element)
                xml.element("Id", d.id)
                xml.element(type.rawValue, d.arn)
                xml.element("InvocationRole", d.invocationRole)
                for e in d.events { xml.element("Event", e) }
                if !d.filterRules.isEmpty {
                    xml.open("Filter")
                    xml.open("S3Key")
                    for r in d.filterRules {
                        xml.open("FilterRule")
                        xml.element("Name", r.name)
                        xml.element("Value", r.value)
                        xml.close()
                    }
                    xml.close()
                    xml.close()
                }
                xml.close()
            }
        }
        if eventBridge { xml.empty("EventBridgeConfiguration") }
        xml.close()
    }

    /// The stored form: the GET document without its declaration.
    var encoded: String {
        var xml = XMLWriter(declaration: false)
        write(&xml)
        return String(decoding: xml.buffer.readableBytesView, as: UTF8.self)
    }

    static func decode(_ s: String?) -> NotificationConfiguration? {
        guard let s, !s.isEmpty else { return nil }
        return try? parse(Array(s.utf8))
    }
}
