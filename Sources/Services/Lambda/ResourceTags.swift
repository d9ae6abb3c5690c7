import Core
import Foundation
import GRDB

/// Tags on the resources other than functions that TagResource accepts: event source mappings and code signing configs.
extension LambdaService {
    /// Change the tags of the mapping or code signing config an ARN names; false when the ARN names neither (a function).
    func changeOtherTags(_ arn: String, _ r: LambdaRequest, _ change: (inout [String: String]) -> Void) throws -> Bool {
        if let uuid = Self.resourceID(arn, kind: "event-source-mapping") {
            try store.db.writeNow { db in
                guard var m = try Self.mapping(uuid, db), m.arn == arn else { throw mappingNotFound(uuid) }
                var tags = m.Tags ?? [:]
                change(&tags)
                m.Tags = tags
                try Self.saveMapping(m, db)
            }
            return true
        }
        if Self.resourceID(arn, kind: "code-signing-config") != nil {
            try store.db.writeNow { db in
                guard var c = try Self.codeSigningConfig(arn, db) else { throw Self.codeSigningConfigMissing(arn) }
                var tags = c.Tags ?? [:]
                change(&tags)
                c.Tags = tags
                try Self.saveCodeSigningConfig(c, db)
            }
            return true
        }
        return false
    }

    /// The tags of the mapping or code signing config an ARN names; nil when the ARN names neither.
    func otherTags(_ arn: String) throws -> [String: String]? {
        if let uuid = Self.resourceID(arn, kind: "event-source-mapping") {
            guard let m = try store.db.readNow({ db in try Self.mapping(uuid, db) }), m.arn == arn else { throw mappingNotFound(uuid) }
            return m.Tags ?? [:]
        }
        if Self.resourceID(arn, kind: "code-signing-config") != nil {
            guard let c = try store.db.readNow({ db in try Self.codeSigningConfig(arn, db) }) else { throw Self.codeSigningConfigMissing(arn) }
            return c.Tags ?? [:]
        }
        return nil
    }

    /// The last part of `arn:aws:lambda:<region>:<account>:<kind>:<id>`.
    static func resourceID(_ arn: String, kind: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "arn", parts[2] == "lambda", parts[5] == kind else { return nil }
        return String(parts[6])
    }
}
