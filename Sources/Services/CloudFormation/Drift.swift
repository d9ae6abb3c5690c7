import Core
import Foundation

/// Drift: how a resource the service holds now differs from what its stack's template (resolved) says.
/// Only what the template gives is compared (a property it leaves out is not drift); scalars compare by their text
/// (`30` equals `"30"`); lists of tags compare as sets keyed by `Key`.
enum Drift {
    struct Difference: Sendable, Codable, Equatable {
        var path: String
        var expected: String
        var actual: String
        var type: String  // ADD, REMOVE, NOT_EQUAL
    }

    /// The differences between the template's properties and the resource's current ones, sorted by path.
    static func differences(expected: [String: JSON], actual: [String: JSON]) -> [Difference] {
        var out: [Difference] = []
        for key in expected.keys.sorted() {
            compare(expected[key]!, actual[key], path: "/" + escape(key), into: &out)
        }
        return out
    }

    /// The current properties AWS shows beside the expected ones: those the template gives.
    static func actualShown(expected: [String: JSON], actual: [String: JSON]) -> [String: JSON] {
        actual.filter { expected[$0.key] != nil }
    }

    static func compare(_ e: JSON, _ a: JSON?, path: String, into out: inout [Difference]) {
        guard let a, !a.isNull else {
            // An empty list or map is what a service leaves out: no drift.
            if !e.isNull, e.array?.isEmpty != true, e.object?.isEmpty != true {
                out.append(Difference(path: path, expected: text(e), actual: "null", type: "REMOVE"))
            }
            return
        }
        switch (e, a) {
        case (.object(let eo), .object(let ao)):
            for key in Set(eo.keys).union(ao.keys).sorted() {
                let p = path + "/" + escape(key)
                if let ev = eo[key] { compare(ev, ao[key], path: p, into: &out) }
                else if let av = ao[key], !av.isNull { out.append(Difference(path: p, expected: "null", actual: text(av), type: "ADD")) }
            }
        case (.array(let ea), .array(let aa)):
            if isTagList(ea), isTagList(aa) {
                compareTags(ea, aa, path: path, into: &out)
                return
            }
            for i in 0..<max(ea.count, aa.count) {
                let p = path + "/\(i)"
                if i < ea.count { compare(ea[i], i < aa.count ? aa[i] : nil, path: p, into: &out) }
                else { out.append(Difference(path: p, expected: "null", actual: text(aa[i]), type: "ADD")) }
            }
        default:
            if !same(e, a) { out.append(Difference(path: path, expected: text(e), actual: text(a), type: "NOT_EQUAL")) }
        }
    }

    /// Tags as a set: a key only expected is REMOVE, a key only present is ADD, a changed value NOT_EQUAL.
    static func compareTags(_ e: [JSON], _ a: [JSON], path: String, into out: inout [Difference]) {
        let actualByKey = Dictionary(a.enumerated().map { ($0.element["Key"].flatMap(Template.text) ?? "", ($0.offset, $0.element)) },
                                     uniquingKeysWith: { x, _ in x })
        var seen: Set<String> = []
        for (i, tag) in e.enumerated() {
            let key = tag["Key"].flatMap(Template.text) ?? ""
            seen.insert(key)
            guard let (_, found) = actualByKey[key] else {
                out.append(Difference(path: "\(path)/\(i)", expected: text(tag), actual: "null", type: "REMOVE"))
                continue
            }
            if let ev = tag["Value"], !same(ev, found["Value"] ?? .null) {
                out.append(Difference(path: "\(path)/\(i)/Value", expected: text(ev), actual: text(found["Value"] ?? .null), type: "NOT_EQUAL"))
            }
        }
        for (key, (j, tag)) in actualByKey.sorted(by: { $0.value.0 < $1.value.0 }) where !seen.contains(key) {
            out.append(Difference(path: "\(path)/\(j)", expected: "null", actual: text(tag), type: "ADD"))
        }
    }

    static func isTagList(_ a: [JSON]) -> Bool {
        !a.isEmpty && a.allSatisfy { ($0.object?.keys).map { Set($0) == ["Key", "Value"] } ?? false }
    }

    /// Equal values, a number or boolean equal to its text form included.
    static func same(_ e: JSON, _ a: JSON) -> Bool {
        if e == a { return true }
        if let et = Template.text(e), let at = Template.text(a) {
            if et == at { return true }
            if let en = Double(et), let an = Double(at) { return en == an }
            return false
        }
        return false
    }

    /// A value as PropertyDifference shows it: scalars as their text, structures as compact JSON.
    static func text(_ v: JSON) -> String {
        Template.text(v) ?? json(v)
    }

    static func json(_ v: JSON) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    /// JSON Pointer escaping of a key (`~` and `/`).
    static func escape(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// The latest drift result of one resource (DescribeStackResourceDrifts, DetectStackResourceDrift).
struct ResourceDrift: Sendable, Codable, Equatable {
    var stackId: String
    var logicalId: String
    var physicalId: String?
    var type: String
    var expected: String?
    var actual: String?
    var differences: [Drift.Difference]
    var status: String  // IN_SYNC, MODIFIED, DELETED, NOT_CHECKED, UNKNOWN
    var timestamp: Double
    /// Why the status is UNKNOWN (the provider could not read the resource).
    var reason: String?
}

/// One DetectStackDrift run.
struct DriftDetection: Sendable, Codable, Equatable {
    var id: String
    var stackId: String
    var status: String  // DETECTION_IN_PROGRESS, DETECTION_COMPLETE, DETECTION_FAILED
    var statusReason: String?
    var stackDriftStatus: String?  // DRIFTED, IN_SYNC, UNKNOWN
    var driftedCount: Int?
    var timestamp: Double
}
