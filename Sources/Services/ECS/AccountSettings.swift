import Core
import Foundation
import GRDB

/// PutAccountSetting, PutAccountSettingDefault, ListAccountSettings, DeleteAccountSetting. A principal's setting
/// wins over the account default, which wins over AWS's.
extension ECSService {
    static let settingDefaults: [(String, String)] = [
        ("serviceLongArnFormat", "enabled"), ("taskLongArnFormat", "enabled"), ("containerInstanceLongArnFormat", "enabled"),
        ("awsvpcTrunking", "disabled"), ("containerInsights", "disabled"), ("dualStackIPv6", "disabled"),
        ("fargateFIPSMode", "disabled"), ("tagResourceAuthorization", "on"), ("fargateTaskRetirementWaitPeriod", "7"),
        ("guardDutyActivate", "off"), ("defaultLogDriverMode", "non-blocking"), ("fargateEventWindows", "disabled"),
    ]

    static func rootArn(_ scope: Scope) -> String { "arn:aws:iam::\(scope.account):root" }

    static func checkSettingName(_ name: String) throws {
        guard settingDefaults.contains(where: { $0.0 == name }) else {
            throw ECSError.invalid("\(name) should be one of [\(settingDefaults.map(\.0).joined(separator: ","))]")
        }
    }

    /// The value in force for a principal (the caller's root when none is given).
    func accountSetting(_ name: String, _ r: AWSRequest, principal: String? = nil) throws -> String? {
        let scope = Scope(r)
        let p = principal ?? Self.rootArn(scope)
        return try store.db.readNow { db in
            try String.fetchOne(db, sql: """
                SELECT value FROM account_setting WHERE account = ? AND region = ? AND name = ? AND principal IN (?, '')
                ORDER BY principal DESC LIMIT 1
                """, arguments: [scope.account, scope.region, name, p])
        } ?? Self.settingDefaults.first { $0.0 == name }?.1
    }

    func putAccountSetting(_ r: AWSRequest, _ input: Input, principal: Bool) throws -> [String: JSON] {
        let scope = Scope(r)
        let name = try input.required("name")
        let value = try input.required("value")
        try Self.checkSettingName(name)
        if name == "fargateTaskRetirementWaitPeriod" && !["0", "7", "14"].contains(value) {
            throw ECSError.invalid("fargateTaskRetirementWaitPeriod must be 0, 7 or 14.")
        }
        let who = principal ? (try input.string("principalArn") ?? Self.rootArn(scope)) : ""
        try store.db.writeNow { db in
            try db.execute(sql: """
                INSERT INTO account_setting (account, region, principal, name, value) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET value = excluded.value
                """, arguments: [scope.account, scope.region, who, name, value])
        }
        return ["setting": Self.setting(name, value, principal: who.isEmpty ? Self.rootArn(scope) : who, type: "user")]
    }

    static func setting(_ name: String, _ value: String, principal: String, type: String) -> JSON {
        .object(["name": .string(name), "value": .string(value), "principalArn": .string(principal), "type": .string(type)])
    }

    func listAccountSettings(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let name = try input.string("name")
        if let name { try Self.checkSettingName(name) }
        let value = try input.string("value")
        let principal = try input.string("principalArn") ?? Self.rootArn(scope)
        let effective = try input.bool("effectiveSettings") ?? false
        let rows = try store.db.readNow { db in
            try Row.fetchAll(db, sql: "SELECT principal, name, value FROM account_setting WHERE account = ? AND region = ? AND principal IN (?, '')",
                             arguments: [scope.account, scope.region, principal])
        }
        var settings: [JSON] = []
        for (n, builtIn) in Self.settingDefaults where name == nil || name == n {
            let mine = rows.first { $0["name"] == n && $0["principal"] == principal }
            let accountDefault = rows.first { $0["name"] == n && ($0["principal"] as String).isEmpty }
            let v: String?
            if let mine { v = mine["value"] }
            else if effective { v = accountDefault?["value"] ?? builtIn }
            else { v = nil }
            guard let v, value == nil || value == v else { continue }
            settings.append(Self.setting(n, v, principal: principal, type: mine != nil || accountDefault != nil ? "user" : "aws_managed"))
        }
        let (page, next) = try Paging.page(settings, token: try input.string("nextToken"), maxResults: try input.int("maxResults"), limit: 10)
        var out: [String: JSON] = ["settings": .array(page)]
        if let next { out["nextToken"] = .string(next) }
        return out
    }

    func deleteAccountSetting(_ r: AWSRequest, _ input: Input) throws -> [String: JSON] {
        let scope = Scope(r)
        let name = try input.required("name")
        try Self.checkSettingName(name)
        let principal = try input.string("principalArn") ?? Self.rootArn(scope)
        let old = try store.db.writeNow { db -> String? in
            let v = try String.fetchOne(db, sql: "SELECT value FROM account_setting WHERE account = ? AND region = ? AND principal = ? AND name = ?",
                                        arguments: [scope.account, scope.region, principal, name])
            try db.execute(sql: "DELETE FROM account_setting WHERE account = ? AND region = ? AND principal = ? AND name = ?",
                           arguments: [scope.account, scope.region, principal, name])
            return v
        }
        guard let old else { throw ECSError.invalid("The specified account setting does not exist.") }
        return ["setting": Self.setting(name, old, principal: principal, type: "user")]
    }
}
