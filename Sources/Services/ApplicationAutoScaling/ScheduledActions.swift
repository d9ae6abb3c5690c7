import Core
import Foundation
import GRDB

/// PutScheduledAction, DescribeScheduledActions, DeleteScheduledAction. The sweep (`Evaluate.swift`) applies them.
extension ApplicationAutoScalingService {
    /// 1–256 characters, no `:`, `/` or `|`, no control characters, no leading or trailing space (the model's pattern).
    static func validateActionName(_ name: String) throws {
        if name.isEmpty || name.count > 256 {
            throw AASError.constraint(name, at: "ScheduledActionName", name.isEmpty ? "Member must have length greater than or equal to 1"
                                                                                    : "Member must have length less than or equal to 256")
        }
        let bad = name.unicodeScalars.contains { s in
            ":/|".unicodeScalars.contains(s) || s.value < 0x20 || (0x7F...0x9F).contains(s.value)
        }
        if bad || name.hasPrefix(" ") || name.hasSuffix(" ") {
            throw AASError.constraint(name, at: "ScheduledActionName", "Member must satisfy regular expression pattern: "
                                      + "(?!((^[ ]+.*)|(.*([\\u0000-\\u001f]|[\\u007f-\\u009f]|[:/|])+.*)|(.*[ ]+$))).+")
        }
    }

    func putScheduledAction(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let name = try input.required("ScheduledActionName")
        try Self.validateActionName(name)
        let key = try input.targetKey()
        let schedule = try input.identifier("Schedule", required: false)
        if let schedule { _ = try Schedule.parse(schedule) }
        let timezone = try input.identifier("Timezone", required: false)
        if let timezone, TimeZone(identifier: timezone) == nil { throw AASError.validation("Unrecognized timezone: \(timezone)") }
        let start = try input.timestamp("StartTime")
        let end = try input.timestamp("EndTime")
        let action = try input.object("ScalableTargetAction").map(Input.init)
        let minCapacity = try action?.int("MinCapacity")
        let maxCapacity = try action?.int("MaxCapacity")
        if let minCapacity, let maxCapacity, minCapacity > maxCapacity {
            throw AASError.validation("Minimum capacity cannot be greater than maximum capacity")
        }
        let now = clock.now()
        try store.db.writeNow { db in
            _ = try existingTarget(r, key, db)
            var a: StoredScheduledAction
            if let existing = try AASStore.action(r.accountID, r.region, key, name: name, db) {
                a = existing
                a.schedule = schedule ?? a.schedule
                a.timezone = timezone ?? a.timezone
                a.start = start ?? a.start
                a.end = end ?? a.end
                if action != nil {
                    a.minCapacity = minCapacity
                    a.maxCapacity = maxCapacity
                }
            } else {
                guard let schedule else { throw AASError.constraint(nil, at: "Schedule", "Member must not be null") }
                a = StoredScheduledAction(
                    account: r.accountID, region: r.region, key: key, name: name,
                    arn: "arn:aws:autoscaling:\(r.region):\(r.accountID):scheduledAction:\(Self.newID()):\(Self.arnResource(key)):scheduledActionName/\(name)",
                    schedule: schedule, timezone: timezone, start: start, end: end, minCapacity: minCapacity, maxCapacity: maxCapacity,
                    created: now, checkedUntil: now)
            }
            if let s = a.start, let e = a.end, s > e { throw AASError.validation("The StartTime must be before the EndTime.") }
            // A changed action looks for fire times from now on.
            a.checkedUntil = now
            try AASStore.save(a, db)
        }
        return [:]
    }

    static func describe(_ a: StoredScheduledAction) -> [String: Any] {
        var out: [String: Any] = [
            "ScheduledActionName": a.name, "ScheduledActionARN": a.arn, "ServiceNamespace": a.key.namespace, "Schedule": a.schedule,
            "ResourceId": a.key.resourceID, "ScalableDimension": a.key.dimension, "CreationTime": a.created,
        ]
        var action: [String: Any] = [:]
        if let n = a.minCapacity { action["MinCapacity"] = n }
        if let n = a.maxCapacity { action["MaxCapacity"] = n }
        out["ScalableTargetAction"] = action
        if let tz = a.timezone { out["Timezone"] = tz }
        if let s = a.start { out["StartTime"] = s }
        if let e = a.end { out["EndTime"] = e }
        return out
    }

    func describeScheduledActions(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let namespace = try input.oneOf("ServiceNamespace", AASEnums.namespaces, required: true)!
        let names = try input.strings("ScheduledActionNames", max: 50)
        let resourceID = try input.identifier("ResourceId", required: false)
        let dimension = try input.oneOf("ScalableDimension", AASEnums.dimensions, required: false)
        let limit = try input.maxResults()
        let token = try input.string("NextToken")
        return try store.db.readNow { db in
            let all = try AASStore.actions(r.accountID, r.region, namespace: namespace, db).filter { a in
                (names.map { $0.isEmpty || $0.contains(a.name) } ?? true) && (resourceID.map { a.key.resourceID == $0 } ?? true)
                    && (dimension.map { a.key.dimension == $0 } ?? true)
            }
            let (items, next) = try page(all, token: token, limit: limit)
            var out: [String: Any] = ["ScheduledActions": items.map(Self.describe)]
            if let next { out["NextToken"] = next }
            return out
        }
    }

    func deleteScheduledAction(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let name = try input.identifier("ScheduledActionName")!
        let key = try input.targetKey()
        try store.db.writeNow { db in
            guard let a = try AASStore.action(r.accountID, r.region, key, name: name, db) else {
                throw AASError.scheduledActionNotFound(key, name)
            }
            try AASStore.deleteAction(a, db)
        }
        return [:]
    }

    // MARK: Activities

    func describeScalingActivities(_ r: CallerIdentity, _ input: Input) throws -> [String: Any] {
        let namespace = try input.oneOf("ServiceNamespace", AASEnums.namespaces, required: true)!
        let resourceID = try input.identifier("ResourceId", required: false)
        let dimension = try input.oneOf("ScalableDimension", AASEnums.dimensions, required: false)
        _ = try input.bool("IncludeNotScaledActivities")
        let limit = try input.maxResults()
        let token = try input.string("NextToken")
        return try store.db.readNow { db in
            let all = try AASStore.activities(r.accountID, r.region, namespace: namespace, db).filter { a in
                (resourceID.map { a.key.resourceID == $0 } ?? true) && (dimension.map { a.key.dimension == $0 } ?? true)
            }
            let (items, next) = try page(all, token: token, limit: limit)
            var out: [String: Any] = ["ScalingActivities": items.map { a in
                [
                    "ActivityId": a.id, "ServiceNamespace": a.key.namespace, "ResourceId": a.key.resourceID,
                    "ScalableDimension": a.key.dimension, "Description": a.description, "Cause": a.cause, "StartTime": a.start,
                    "EndTime": a.end, "StatusCode": a.statusCode, "StatusMessage": a.statusMessage,
                ] as [String: Any]
            }]
            if let next { out["NextToken"] = next }
            return out
        }
    }
}
