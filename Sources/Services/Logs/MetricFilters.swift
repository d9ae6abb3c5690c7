import Core
import Foundation
import GRDB

/// Metric filters are kept and listed (no CloudWatch metrics are published from them yet); TestMetricFilter runs
/// the same matcher FilterLogEvents uses.
extension LogsService {
    /// A transformation as AWS echoes it in a validation message (its Java form).
    static func javaForm(_ t: [String: Any]) -> String {
        func v(_ key: String) -> String { t[key].map { "\($0)" } ?? "null" }
        let dims = (t["dimensions"] as? [String: Any]).map { "{" + $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "}" }
        return "MetricTransformation(metricName=\(v("metricName")), metricNamespace=\(v("metricNamespace")), metricValue=\(v("metricValue")), "
            + "defaultValue=\(v("defaultValue")), unit=\(v("unit")), dimensions=\(dims ?? "null"))"
    }

    static func validateFilterName(_ name: String, member: String) throws {
        if name.isEmpty { throw LogsError.validation(name, at: member, "Member must have length greater than or equal to 1") }
        if name.count > 512 { throw LogsError.validation(name, at: member, "Member must have length less than or equal to 512") }
        if name.contains(":") || name.contains("*") {
            throw LogsError.validation(name, at: member, "Member must satisfy regular expression pattern: [^:*]*")
        }
    }

    static func validateMetricName(_ name: String, member: String) throws {
        if name.count > 255 { throw LogsError.validation(name, at: member, "Member must have length less than or equal to 255") }
        if name.contains(":") || name.contains("*") || name.contains("$") {
            throw LogsError.validation(name, at: member, "Member must satisfy regular expression pattern: [^:*$]*")
        }
    }

    func putMetricFilter(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let groupName = try input.required("logGroupName")
        try LogsNames.validateGroup(groupName)
        let name = try input.required("filterName")
        try Self.validateFilterName(name, member: "filterName")
        let pattern = try input.required("filterPattern")
        if pattern.count > 1024 { throw LogsError.validation(pattern, at: "filterPattern", "Member must have length less than or equal to 1024") }
        guard let transformations = try input.objects("metricTransformations") else {
            throw LogsError.validation(nil, at: "metricTransformations", "Member must not be null")
        }
        if transformations.count != 1 {
            let shown = "[" + transformations.map(Self.javaForm).joined(separator: ", ") + "]"
            throw LogsError.validation(shown, at: "metricTransformations", transformations.isEmpty
                ? "Member must have length greater than or equal to 1" : "Member must have length less than or equal to 1")
        }
        for key in ["metricName", "metricNamespace", "metricValue"] {
            guard let value = transformations[0][key] as? String else {
                throw LogsError.validation(nil, at: "metricTransformations.1.member.\(key)", "Member must not be null")
            }
            if key != "metricValue" { try Self.validateMetricName(value, member: "metricTransformations.1.member.\(key)") }
        }
        _ = try FilterPattern.parse(pattern)
        let stored = String(decoding: try JSONSerialization.data(withJSONObject: transformations, options: [.sortedKeys]), as: UTF8.self)
        let now = nowMillis
        try store.db.writeNow { db in
            let g = try group(named: groupName, r, db)
            try db.execute(sql: """
                INSERT INTO metric_filter (group_id, name, pattern, transformations, created) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (group_id, name) DO UPDATE SET pattern = excluded.pattern, transformations = excluded.transformations
                """, arguments: [g.id, name, pattern, stored, now])
        }
        return [:]
    }

    func describeMetricFilters(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let groupName = try input.string("logGroupName")
        if let groupName { try LogsNames.validateGroup(groupName) }
        let prefix = try input.string("filterNamePrefix")
        if let prefix { try Self.validateFilterName(prefix, member: "filterNamePrefix") }
        let metricName = try input.string("metricName")
        if let metricName { try Self.validateMetricName(metricName, member: "metricName") }
        let metricNamespace = try input.string("metricNamespace")
        if let metricNamespace { try Self.validateMetricName(metricNamespace, member: "metricNamespace") }
        let limit = try input.limit(max: 50, default: 50)
        let token = try input.nextToken()
        return try store.db.readNow { db in
            let groups = try groupName.map { [try group(named: $0, r, db)] }
                ?? LogStore.groups(account: r.caller.accountID, region: r.caller.region, db)
            var filters: [[String: Any]] = []
            for g in groups {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT name, pattern, transformations, created FROM metric_filter WHERE group_id = ? ORDER BY name
                    """, arguments: [g.id])
                for row in rows {
                    let name: String = row[0]
                    if let prefix, !name.hasPrefix(prefix) { continue }
                    let transformations = (try? JSONSerialization.jsonObject(with: Data((row[2] as String).utf8))) as? [[String: Any]] ?? []
                    if let metricName, !transformations.contains(where: { $0["metricName"] as? String == metricName }) { continue }
                    if let metricNamespace, !transformations.contains(where: { $0["metricNamespace"] as? String == metricNamespace }) { continue }
                    filters.append([
                        "filterName": name, "filterPattern": row[1] as String, "logGroupName": g.name,
                        "metricTransformations": transformations, "creationTime": row[3] as Int64, "applyOnTransformedLogs": false,
                    ])
                }
            }
            let (page, next) = try Self.page(filters, token: token, limit: limit)
            var out: [String: Any] = ["metricFilters": page]
            if let next { out["nextToken"] = next }
            return out
        }
    }

    func deleteMetricFilter(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let groupName = try input.required("logGroupName")
        try LogsNames.validateGroup(groupName)
        let name = try input.required("filterName")
        try Self.validateFilterName(name, member: "filterName")
        try store.db.writeNow { db in
            let g = try group(named: groupName, r, db)
            try db.execute(sql: "DELETE FROM metric_filter WHERE group_id = ? AND name = ?", arguments: [g.id, name])
            if db.changesCount == 0 { throw LogsError.metricFilterNotFound() }
        }
        return [:]
    }

    func testMetricFilter(_ r: AWSRequest, _ input: Input) throws -> [String: Any] {
        let source = try input.required("filterPattern")
        guard let messages = try input.strings("logEventMessages") else {
            throw LogsError.validation(nil, at: "logEventMessages", "Member must not be null")
        }
        if messages.isEmpty || messages.count > 50 {
            throw LogsError.validation(nil, at: "logEventMessages", messages.isEmpty
                ? "Member must have length greater than or equal to 1" : "Member must have length less than or equal to 50")
        }
        let pattern = try FilterPattern.parse(source)
        var matches: [[String: Any]] = []
        for (i, message) in messages.enumerated() {
            var extracted: [String: String] = [:]
            if case .delimited(let d) = pattern {
                guard let values = d.values(message) else { continue }
                for (k, v) in values { extracted["$" + k] = v }
            } else if !pattern.matches(message) {
                continue
            }
            matches.append(["eventNumber": i + 1, "eventMessage": message, "extractedValues": extracted])
        }
        return ["matches": matches]
    }
}
