import Core
import Foundation

/// A bucket's lifecycle rules as PutBucketLifecycleConfiguration validated them. The actions the emulator carries
/// out are expirations (current versions, noncurrent versions, expired delete markers) and aborting incomplete
/// multipart uploads; transitions are kept and answered but change nothing (there is one storage tier).
struct LifecycleConfiguration {
    struct Filter {
        var prefix = ""
        var tags: [(String, String)] = []
        var sizeGreaterThan: Int?
        var sizeLessThan: Int?

        func matches(key: String, size: Int, tags objectTags: [(String, String)]) -> Bool {
            guard key.hasPrefix(prefix) else { return false }
            if let gt = sizeGreaterThan, size <= gt { return false }
            if let lt = sizeLessThan, size >= lt { return false }
            return tags.allSatisfy { t in objectTags.contains { $0.0 == t.0 && $0.1 == t.1 } }
        }
    }

    struct Rule {
        var id: String
        var enabled: Bool
        var filter: Filter
        var expirationDays: Int?
        var expirationDate: Double?
        var expiredObjectDeleteMarker = false
        var noncurrentDays: Int?
        var newerNoncurrentVersions: Int?
        var abortDaysAfterInitiation: Int?
    }

    var rules: [Rule]
    /// The document as the client sent it, which GetBucketLifecycleConfiguration answers.
    var document: String
    var transitionDefaultMinimumObjectSize: String

    static let minimumSizes: Set<String> = ["all_storage_classes_128K", "varies_by_storage_class"]

    /// AWS counts lifecycle days from the object's creation and rounds the result up to the next midnight UTC:
    /// an object written on 1 Jan 10:30 with Days 1 expires on 3 Jan 00:00.
    static func dueDate(from start: Double, days: Int) -> Double {
        ((start + Double(days) * 86400) / 86400).rounded(.down) * 86400 + 86400
    }

    /// When a current version expires under the first rule that expires it soonest, or nil (x-amz-expiration).
    func expiration(of o: ObjectVersion) -> (date: Double, ruleID: String)? {
        var best: (date: Double, ruleID: String)?
        for rule in rules where rule.enabled && rule.filter.matches(key: o.key, size: o.size, tags: o.tags) {
            let date: Double
            if let days = rule.expirationDays { date = Self.dueDate(from: o.lastModified, days: days) }
            else if let d = rule.expirationDate { date = d }
            else { continue }
            if best == nil || date < best!.date { best = (date, rule.id) }
        }
        return best
    }

    // MARK: Stored form

    /// Stored as the minimum-size setting, a newline, then the document.
    var stored: String { transitionDefaultMinimumObjectSize + "\n" + document }

    static func decode(_ stored: String?) -> LifecycleConfiguration? {
        guard let stored, let nl = stored.firstIndex(of: "\n") else { return nil }
        return try? parse(String(stored[stored.index(after: nl)...]), minimumSize: String(stored[..<nl]))
    }

    // MARK: Parsing and validation (AWS's errors)

    static func parse(_ document: String, minimumSize: String) throws -> LifecycleConfiguration {
        guard let doc = XMLElement.parse(Array(document.utf8)), doc.name == "LifecycleConfiguration" else { throw S3Error.malformedXML() }
        let ruleElements = doc.children("Rule")
        guard !ruleElements.isEmpty, ruleElements.count <= 1000 else { throw S3Error.malformedXML() }
        var rules: [Rule] = []
        var ids = Set<String>()
        for r in ruleElements {
            let rule = try parseRule(r)
            if rule.id.count > 255 { throw S3Error.invalidArgument("ID length should not exceed allowed limit of 255", name: "ID", value: rule.id) }
            if !ids.insert(rule.id).inserted {
                throw S3Error.invalidArgument("Rule ID must be unique. Found same ID for more than one rule", name: "ID", value: rule.id)
            }
            rules.append(rule)
        }
        return LifecycleConfiguration(rules: rules, document: document, transitionDefaultMinimumObjectSize: minimumSize)
    }

    private static func positive(_ e: XMLElement, _ name: String, action: String) throws -> Int? {
        guard let text = e.value(name) else { return nil }
        guard let n = Int(text.trimmingCharacters(in: .whitespaces)), n > 0 else {
            throw S3Error.invalidArgument("'\(name)' for \(action) action must be a positive integer", name: name, value: text)
        }
        return n
    }

    private static func parseRule(_ r: XMLElement) throws -> Rule {
        guard let status = r.value("Status"), status == "Enabled" || status == "Disabled" else { throw S3Error.malformedXML() }
        // A rule selects objects with a Filter or (the older form) a Prefix: exactly one of them.
        let filterElement = r.child("Filter"), legacyPrefix = r.value("Prefix")
        guard (filterElement == nil) != (legacyPrefix == nil) else { throw S3Error.malformedXML() }
        var filter = Filter(prefix: legacyPrefix ?? "")
        if let f = filterElement {
            let parts = ["Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan"].filter { f.child($0) != nil }
            guard parts.count <= 1 else { throw S3Error.malformedXML() }
            let source = f.child("And") ?? f
            filter.prefix = source.value("Prefix") ?? ""
            for tag in source.children("Tag") {
                guard let k = tag.value("Key"), let v = tag.value("Value") else { throw S3Error.malformedXML() }
                if filter.tags.contains(where: { $0.0 == k }) { throw S3Error.invalidRequest("Duplicate Tag Keys are not allowed.") }
                filter.tags.append((k, v))
            }
            for (name, path) in [("ObjectSizeGreaterThan", \Filter.sizeGreaterThan), ("ObjectSizeLessThan", \Filter.sizeLessThan)] {
                if let text = source.value(name) {
                    guard let n = Int(text), n >= 0 else { throw S3Error.malformedXML() }
                    filter[keyPath: path] = n
                }
            }
        }
        var rule = Rule(id: r.value("ID") ?? "", enabled: status == "Enabled", filter: filter)
        if let e = r.child("Expiration") {
            let marker = e.value("ExpiredObjectDeleteMarker")
            guard [e.child("Days"), e.child("Date"), e.child("ExpiredObjectDeleteMarker")].compactMap({ $0 }).count == 1 else {
                throw S3Error.malformedXML()
            }
            rule.expirationDays = try positive(e, "Days", action: "Expiration")
            if let text = e.value("Date") {
                guard let date = AWSDate.parse(text) else { throw S3Error.malformedXML() }
                if date.truncatingRemainder(dividingBy: 86400) != 0 {
                    throw S3Error.invalidArgument("'Date' must be at midnight GMT", name: "Date", value: text)
                }
                rule.expirationDate = date
            }
            if let marker {
                guard marker == "true" || marker == "false" else { throw S3Error.malformedXML() }
                if !filter.tags.isEmpty { throw S3Error.invalidRequest("ExpiredObjectDeleteMarker cannot be specified with object tags") }
                rule.expiredObjectDeleteMarker = marker == "true"
            }
        }
        if let e = r.child("NoncurrentVersionExpiration") {
            rule.noncurrentDays = try positive(e, "NoncurrentDays", action: "NoncurrentVersionExpiration")
            rule.newerNoncurrentVersions = try positive(e, "NewerNoncurrentVersions", action: "NoncurrentVersionExpiration")
            guard rule.noncurrentDays != nil || rule.newerNoncurrentVersions != nil else { throw S3Error.malformedXML() }
        }
        if let e = r.child("AbortIncompleteMultipartUpload") {
            guard let days = try positive(e, "DaysAfterInitiation", action: "AbortIncompleteMultipartUpload") else { throw S3Error.malformedXML() }
            if !filter.tags.isEmpty { throw S3Error.invalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.") }
            rule.abortDaysAfterInitiation = days
        }
        let actions = ["Expiration", "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload", "Transition", "NoncurrentVersionTransition"]
        guard actions.contains(where: { r.child($0) != nil }) else {
            throw S3Error.invalidRequest("At least one action needs to be specified in a rule")
        }
        return rule
    }
}
