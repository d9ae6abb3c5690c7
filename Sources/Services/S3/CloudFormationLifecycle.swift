import Core
import Foundation

/// `LifecycleConfiguration` of `AWS::S3::Bucket`: CloudFormation's flat rule (`ExpirationInDays`, `Prefix`,
/// `TagFilters`, `NoncurrentVersionExpiration.NoncurrentDays`...) as the XML rule PutBucketLifecycleConfiguration
/// reads, and back from the stored document for drift detection.
extension S3Resources {
    static let storageClasses: Set = ["DEEP_ARCHIVE", "GLACIER", "Glacier", "GLACIER_IR", "INTELLIGENT_TIERING", "ONEZONE_IA", "STANDARD_IA"]

    /// The document and the `x-amz-transition-default-minimum-object-size` header, or nil when the template has none.
    static func lifecycle(_ p: [String: JSON], _ shape: PropertyShape) throws -> (document: String, minimumSize: String?)? {
        let base = "LifecycleConfiguration"
        guard let config = try shape.object(p[base], base) else { return nil }
        let minimumSize = try shape.oneOf(config["TransitionDefaultMinimumObjectSize"], "\(base)/TransitionDefaultMinimumObjectSize",
                                          LifecycleConfiguration.minimumSizes)
        let rules = try shape.objects(try shape.required(config["Rules"], base, "Rules"), "\(base)/Rules")
        var parsed: [LifecycleRuleTemplate] = []
        for (path, r) in rules { parsed.append(try LifecycleRuleTemplate(r, path, shape)) }
        let document = xml("LifecycleConfiguration") { xml in for r in parsed { r.write(&xml) } }
        return (document, minimumSize)
    }

    /// The stored configuration in the template's shape; `expected` (the template's) chooses between the forms
    /// CloudFormation accepts for one thing (`Transition` or `Transitions`, `NoncurrentVersionExpirationInDays`...).
    static func readLifecycle(_ stored: String?, expected: JSON?) -> JSON? {
        guard let stored, let nl = stored.firstIndex(of: "\n"),
              let doc = XMLElement.parse(Array(stored[stored.index(after: nl)...].utf8)) else { return nil }
        let minimumSize = String(stored[..<nl])
        let expectedRules = expected?["Rules"]?.array ?? []
        var out: [String: JSON] = [:]
        out["Rules"] = .array(doc.children("Rule").enumerated().map { i, rule in
            .object(readRule(rule, expected: i < expectedRules.count ? expectedRules[i].object ?? [:] : [:]))
        })
        if expected?["TransitionDefaultMinimumObjectSize"] != nil || minimumSize != "all_storage_classes_128K" {
            out["TransitionDefaultMinimumObjectSize"] = .string(minimumSize)
        }
        return .object(out)
    }

    private static func readRule(_ rule: XMLElement, expected: [String: JSON]) -> [String: JSON] {
        var out: [String: JSON] = [:]
        if let id = rule.value("ID"), !id.isEmpty { out["Id"] = .string(id) }
        out["Status"] = .string(rule.value("Status") ?? "")
        let filter = rule.child("Filter").map { $0.child("And") ?? $0 }
        let prefix = rule.value("Prefix") ?? filter?.value("Prefix") ?? ""
        if !prefix.isEmpty || expected["Prefix"] != nil { out["Prefix"] = .string(prefix) }
        let tags = filter?.children("Tag") ?? []
        if !tags.isEmpty { out["TagFilters"] = .array(tags.map { .object(["Key": .string($0.value("Key") ?? ""), "Value": .string($0.value("Value") ?? "")]) }) }
        for name in ["ObjectSizeGreaterThan", "ObjectSizeLessThan"] {
            if let v = filter?.value(name) { out[name] = .string(v) }
        }
        if let e = rule.child("Expiration") {
            if let d = e.value("Days").flatMap(Int.init) { out["ExpirationInDays"] = .number(Double(d)) }
            if let d = e.value("Date") { out["ExpirationDate"] = .string(d) }
            if let m = e.value("ExpiredObjectDeleteMarker") { out["ExpiredObjectDeleteMarker"] = .bool(m == "true") }
        }
        if let e = rule.child("NoncurrentVersionExpiration") {
            let days = e.value("NoncurrentDays").flatMap(Int.init), newer = e.value("NewerNoncurrentVersions").flatMap(Int.init)
            if expected["NoncurrentVersionExpirationInDays"] != nil && expected["NoncurrentVersionExpiration"] == nil, let days, newer == nil {
                out["NoncurrentVersionExpirationInDays"] = .number(Double(days))
            } else {
                var o: [String: JSON] = [:]
                if let days { o["NoncurrentDays"] = .number(Double(days)) }
                if let newer { o["NewerNoncurrentVersions"] = .number(Double(newer)) }
                out["NoncurrentVersionExpiration"] = .object(o)
            }
        }
        let transitions: [JSON] = rule.children("Transition").map { t in
            var o: [String: JSON] = ["StorageClass": .string(t.value("StorageClass") ?? "")]
            if let d = t.value("Days").flatMap(Int.init) { o["TransitionInDays"] = .number(Double(d)) }
            if let d = t.value("Date") { o["TransitionDate"] = .string(d) }
            return .object(o)
        }
        place(transitions, single: "Transition", list: "Transitions", expected: expected, into: &out)
        let noncurrent: [JSON] = rule.children("NoncurrentVersionTransition").map { t in
            var o: [String: JSON] = ["StorageClass": .string(t.value("StorageClass") ?? "")]
            if let d = t.value("NoncurrentDays").flatMap(Int.init) { o["TransitionInDays"] = .number(Double(d)) }
            if let n = t.value("NewerNoncurrentVersions").flatMap(Int.init) { o["NewerNoncurrentVersions"] = .number(Double(n)) }
            return .object(o)
        }
        place(noncurrent, single: "NoncurrentVersionTransition", list: "NoncurrentVersionTransitions", expected: expected, into: &out)
        if let a = rule.child("AbortIncompleteMultipartUpload"), let d = a.value("DaysAfterInitiation").flatMap(Int.init) {
            out["AbortIncompleteMultipartUpload"] = .object(["DaysAfterInitiation": .number(Double(d))])
        }
        return out
    }

    /// Transitions read back under the property the template used: the singular one for a lone transition it gave so.
    private static func place(_ items: [JSON], single: String, list: String, expected: [String: JSON], into out: inout [String: JSON]) {
        guard !items.isEmpty else { return }
        if items.count == 1, expected[single] != nil, expected[list] == nil {
            out[single] = items[0]
        } else if expected[single] != nil, expected[list] != nil, let first = items.first {
            out[single] = first
            out[list] = .array(Array(items.dropFirst()))
        } else {
            out[list] = .array(items)
        }
    }
}

/// One rule of a template's LifecycleConfiguration, checked against CloudFormation's schema.
struct LifecycleRuleTemplate {
    struct Transition {
        var storageClass: String
        var days: Int?
        var date: String?
        var newerVersions: Int?
    }

    var id: String?
    var status: String
    var prefix: String?
    var tags: [(String, String)] = []
    var sizeGreaterThan: String?
    var sizeLessThan: String?
    var expirationDays: Int?
    var expirationDate: String?
    var expiredObjectDeleteMarker: Bool?
    var noncurrentDays: Int?
    var newerNoncurrentVersions: Int?
    var hasNoncurrentExpiration = false
    var transitions: [Transition] = []
    var noncurrentTransitions: [Transition] = []
    var abortDays: Int?

    init(_ r: [String: JSON], _ path: String, _ shape: PropertyShape) throws {
        id = try shape.string(r["Id"], "\(path)/Id")
        status = try shape.required(try shape.oneOf(r["Status"], "\(path)/Status", ["Enabled", "Disabled"]), path, "Status")
        prefix = try shape.string(r["Prefix"], "\(path)/Prefix")
        for (tagPath, t) in try shape.objects(r["TagFilters"], "\(path)/TagFilters") {
            tags.append((try shape.required(try shape.string(t["Key"], "\(tagPath)/Key"), tagPath, "Key"),
                         try shape.required(try shape.string(t["Value"], "\(tagPath)/Value"), tagPath, "Value")))
        }
        sizeGreaterThan = try shape.string(r["ObjectSizeGreaterThan"], "\(path)/ObjectSizeGreaterThan")
        sizeLessThan = try shape.string(r["ObjectSizeLessThan"], "\(path)/ObjectSizeLessThan")
        expirationDays = try shape.int(r["ExpirationInDays"], "\(path)/ExpirationInDays")
        expirationDate = try shape.string(r["ExpirationDate"], "\(path)/ExpirationDate")
        expiredObjectDeleteMarker = try shape.bool(r["ExpiredObjectDeleteMarker"], "\(path)/ExpiredObjectDeleteMarker")
        if let e = try shape.object(r["NoncurrentVersionExpiration"], "\(path)/NoncurrentVersionExpiration") {
            let ePath = "\(path)/NoncurrentVersionExpiration"
            noncurrentDays = try shape.required(try shape.int(e["NoncurrentDays"], "\(ePath)/NoncurrentDays"), ePath, "NoncurrentDays")
            newerNoncurrentVersions = try shape.int(e["NewerNoncurrentVersions"], "\(ePath)/NewerNoncurrentVersions")
            hasNoncurrentExpiration = true
        } else if let days = try shape.int(r["NoncurrentVersionExpirationInDays"], "\(path)/NoncurrentVersionExpirationInDays") {
            noncurrentDays = days
            hasNoncurrentExpiration = true
        }
        var given: [(String, [String: JSON])] = []
        if let t = try shape.object(r["Transition"], "\(path)/Transition") { given.append(("\(path)/Transition", t)) }
        given += try shape.objects(r["Transitions"], "\(path)/Transitions")
        for (tPath, t) in given {
            transitions.append(Transition(storageClass: try Self.storageClass(t, tPath, shape),
                                          days: try shape.int(t["TransitionInDays"], "\(tPath)/TransitionInDays"),
                                          date: try shape.string(t["TransitionDate"], "\(tPath)/TransitionDate")))
        }
        given = []
        if let t = try shape.object(r["NoncurrentVersionTransition"], "\(path)/NoncurrentVersionTransition") {
            given.append(("\(path)/NoncurrentVersionTransition", t))
        }
        given += try shape.objects(r["NoncurrentVersionTransitions"], "\(path)/NoncurrentVersionTransitions")
        for (tPath, t) in given {
            noncurrentTransitions.append(Transition(
                storageClass: try Self.storageClass(t, tPath, shape),
                days: try shape.required(try shape.int(t["TransitionInDays"], "\(tPath)/TransitionInDays"), tPath, "TransitionInDays"),
                newerVersions: try shape.int(t["NewerNoncurrentVersions"], "\(tPath)/NewerNoncurrentVersions")))
        }
        if let a = try shape.object(r["AbortIncompleteMultipartUpload"], "\(path)/AbortIncompleteMultipartUpload") {
            let aPath = "\(path)/AbortIncompleteMultipartUpload"
            abortDays = try shape.required(try shape.int(a["DaysAfterInitiation"], "\(aPath)/DaysAfterInitiation"), aPath, "DaysAfterInitiation")
        }
    }

    private static func storageClass(_ t: [String: JSON], _ path: String, _ shape: PropertyShape) throws -> String {
        let s = try shape.required(try shape.oneOf(t["StorageClass"], "\(path)/StorageClass", S3Resources.storageClasses), path, "StorageClass")
        return s == "Glacier" ? "GLACIER" : s
    }

    /// The XML rule. Its Filter holds the one condition given, several under And, or an empty Prefix for every object.
    func write(_ xml: inout XMLWriter) {
        xml.group("Rule") { xml in
            xml.element("ID", id)
            xml.group("Filter") { xml in
                let parts = (prefix == nil ? 0 : 1) + tags.count + (sizeGreaterThan == nil ? 0 : 1) + (sizeLessThan == nil ? 0 : 1)
                func conditions(_ xml: inout XMLWriter) {
                    xml.element("Prefix", prefix)
                    for (k, v) in tags { xml.group("Tag") { $0.element("Key", k); $0.element("Value", v) } }
                    xml.element("ObjectSizeGreaterThan", sizeGreaterThan)
                    xml.element("ObjectSizeLessThan", sizeLessThan)
                }
                if parts == 0 { xml.element("Prefix", "") } else if parts == 1 { conditions(&xml) } else { xml.group("And", conditions) }
            }
            xml.element("Status", status)
            for t in transitions {
                xml.group("Transition") { xml in
                    xml.element("Date", t.date)
                    if let d = t.days { xml.element("Days", d) }
                    xml.element("StorageClass", t.storageClass)
                }
            }
            for t in noncurrentTransitions {
                xml.group("NoncurrentVersionTransition") { xml in
                    if let d = t.days { xml.element("NoncurrentDays", d) }
                    xml.element("StorageClass", t.storageClass)
                    if let n = t.newerVersions { xml.element("NewerNoncurrentVersions", n) }
                }
            }
            if expirationDays != nil || expirationDate != nil || expiredObjectDeleteMarker != nil {
                xml.group("Expiration") { xml in
                    if let d = expirationDays { xml.element("Days", d) }
                    xml.element("Date", expirationDate)
                    if let m = expiredObjectDeleteMarker { xml.element("ExpiredObjectDeleteMarker", m) }
                }
            }
            if hasNoncurrentExpiration {
                xml.group("NoncurrentVersionExpiration") { xml in
                    if let d = noncurrentDays { xml.element("NoncurrentDays", d) }
                    if let n = newerNoncurrentVersions { xml.element("NewerNoncurrentVersions", n) }
                }
            }
            if let d = abortDays { xml.group("AbortIncompleteMultipartUpload") { $0.element("DaysAfterInitiation", d) } }
        }
    }
}
