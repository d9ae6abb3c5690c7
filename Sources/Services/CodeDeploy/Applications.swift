import Core
import Foundation
import GRDB

/// Applications, their tags (TagResource on application and deployment group ARNs) and registered revisions.
extension CodeDeployService {
    static let platforms = ["Server", "Lambda", "ECS"]

    func appName(_ input: Input) throws -> String {
        let name = try input.required("applicationName", "ApplicationNameRequiredException", "The application name was not specified.")
        guard name.count <= 100 else { throw CDError.e("InvalidApplicationNameException", "The application name is too long.") }
        return name
    }

    func application(_ name: String, _ s: Scope, _ db: Database) throws -> Doc {
        guard let d = try CodeDeployStore.get("application", s, name, db) else { throw CDError.appMissing(name) }
        return d
    }

    static func tagList(_ input: Input, _ member: String = "tags") throws -> [[String: String]] {
        try (input.list(member) ?? []).map { t in
            guard let t = t as? Doc, let k = t["Key"] as? String else {
                throw CDError.e("InvalidTagsToAddException", "The specified tags are not valid.")
            }
            return ["Key": k, "Value": t["Value"] as? String ?? ""]
        }
    }

    static func merge(_ tags: [[String: String]], into old: [[String: String]]) -> [[String: String]] {
        var out = old.filter { o in !tags.contains { $0["Key"] == o["Key"] } }
        out += tags
        return out
    }

    func createApplication(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try appName(input)
        let platform = try input.string("computePlatform") ?? "Server"
        guard Self.platforms.contains(platform) else {
            throw CDError.e("InvalidComputePlatformException", "The computePlatform is invalid. The computePlatform should be Lambda, Server or ECS.")
        }
        let tags = try Self.tagList(input)
        let id = UUID().uuidString.lowercased()
        try store.db.writeNow { db in
            if try CodeDeployStore.get("application", s, name, db) != nil { throw CDError.appExists(name) }
            try CodeDeployStore.put("application", s, name, ["applicationId": id, "applicationName": name, "createTime": clock.now(),
                                                              "linkedToGitHub": false, "computePlatform": platform], db)
            try CodeDeployStore.put("tags", s, arn(s, "application", name), ["tags": tags], db)
        }
        return ["applicationId": id]
    }

    func getApplication(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try appName(input)
        return ["application": try store.db.readNow { db in try application(name, s, db) }]
    }

    func batchGetApplications(_ s: Scope, _ input: Input) throws -> Doc {
        let names = try input.strings("applicationNames") ?? []
        guard names.count <= 100 else { throw CDError.e("BatchLimitExceededException", "The maximum number of names or IDs allowed for this request (100) was exceeded.") }
        let apps = try store.db.readNow { db in try names.map { try application($0, s, db) } }
        return ["applicationsInfo": apps]
    }

    func listApplications(_ s: Scope, _ input: Input) throws -> Doc {
        let names = try store.db.readNow { db in try CodeDeployStore.all("application", s, db) }.map(\.key).sorted()
        return try Self.page(names, input, key: "applications")
    }

    func updateApplication(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try appName(input)
        let newName = try input.string("newApplicationName") ?? name
        try store.db.writeNow { db in
            var app = try application(name, s, db)
            guard newName != name else { return }
            if try CodeDeployStore.get("application", s, newName, db) != nil { throw CDError.appExists(newName) }
            app["applicationName"] = newName
            try CodeDeployStore.delete("application", s, name, db)
            try CodeDeployStore.put("application", s, newName, app, db)
            for g in try CodeDeployStore.all("group", s, parent: name, db) {
                var doc = g.doc
                doc["applicationName"] = newName
                try CodeDeployStore.delete("group", s, g.key, db)
                try CodeDeployStore.put("group", s, newName + "/" + (doc["deploymentGroupName"] as? String ?? ""), parent: newName, doc, db)
            }
        }
        return [:]
    }

    func deleteApplication(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try appName(input)
        try store.db.writeNow { db in
            guard try CodeDeployStore.get("application", s, name, db) != nil else { return }  // AWS: no error
            for g in try CodeDeployStore.all("group", s, parent: name, db) { try CodeDeployStore.delete("group", s, g.key, db) }
            try CodeDeployStore.deleteChildren("revision", s, parent: name, db)
            try CodeDeployStore.delete("application", s, name, db)
            try CodeDeployStore.delete("tags", s, arn(s, "application", name), db)
        }
        return [:]
    }

    // MARK: Tags on applications and deployment groups

    /// The resource an ARN names must exist: `application:<app>` or `deploymentgroup:<app>/<group>`.
    func taggedResourceExists(_ arn: String, _ s: Scope, _ db: Database) throws {
        let parts = arn.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 7, parts[0] == "arn", parts[2] == "codedeploy" else {
            throw CDError.e("InvalidArnException", "The specified ARN is not in a valid format.")
        }
        let found: Bool
        switch parts[5] {
        case "application": found = try CodeDeployStore.get("application", s, parts[6], db) != nil
        case "deploymentgroup": found = try CodeDeployStore.get("group", s, parts[6], db) != nil
        default: found = false
        }
        guard found else { throw CDError.e("ResourceArnRequiredException", "The ARN of a resource is required, but was not found.") }
    }

    func tagResource(_ s: Scope, _ input: Input) throws -> Doc {
        let arn = try input.required("ResourceArn", "ResourceArnRequiredException", "The ARN of a resource is required, but was not found.")
        let tags = try Self.tagList(input, "Tags")
        try store.db.writeNow { db in
            try taggedResourceExists(arn, s, db)
            let old = try CodeDeployStore.get("tags", s, arn, db)?["tags"] as? [[String: String]] ?? []
            try CodeDeployStore.put("tags", s, arn, ["tags": Self.merge(tags, into: old)], db)
        }
        return [:]
    }

    func untagResource(_ s: Scope, _ input: Input) throws -> Doc {
        let arn = try input.required("ResourceArn", "ResourceArnRequiredException", "The ARN of a resource is required, but was not found.")
        let keys = try input.strings("TagKeys") ?? []
        try store.db.writeNow { db in
            try taggedResourceExists(arn, s, db)
            let old = try CodeDeployStore.get("tags", s, arn, db)?["tags"] as? [[String: String]] ?? []
            try CodeDeployStore.put("tags", s, arn, ["tags": old.filter { !keys.contains($0["Key"] ?? "") }], db)
        }
        return [:]
    }

    func listTagsForResource(_ s: Scope, _ input: Input) throws -> Doc {
        let arn = try input.required("ResourceArn", "ResourceArnRequiredException", "The ARN of a resource is required, but was not found.")
        let tags = try store.db.readNow { db in
            try taggedResourceExists(arn, s, db)
            return try CodeDeployStore.get("tags", s, arn, db)?["tags"] as? [[String: String]] ?? []
        }
        return ["Tags": tags]
    }

    // MARK: Revisions

    /// A revision's identity within its application: S3 bucket/key/version/eTag or the AppSpec content's sha256.
    static func revisionKey(_ r: Doc) -> String {
        switch r["revisionType"] as? String {
        case "S3":
            let l = r["s3Location"] as? Doc ?? [:]
            return "s3:" + ["bucket", "key", "version", "eTag"].map { l[$0] as? String ?? "" }.joined(separator: "|")
        case "AppSpecContent":
            return "appspec:" + Self.sha256(((r["appSpecContent"] as? Doc)?["content"] as? String) ?? "")
        case "String":
            return "string:" + Self.sha256(((r["string"] as? Doc)?["content"] as? String) ?? "")
        default:
            return "other"
        }
    }

    static func sha256(_ s: String) -> String { Hex.encode(SHA256.hash(s)) }

    /// The revision as given, validated; AppSpecContent gains its sha256.
    static func validRevision(_ raw: Doc?) throws -> Doc {
        guard var r = raw else { throw CDError.e("RevisionRequiredException", "The revision ID was not specified.") }
        let invalid = { (m: String) in CDError.e("InvalidRevisionException", m) }
        switch r["revisionType"] as? String {
        case "S3":
            guard let l = r["s3Location"] as? Doc, (l["bucket"] as? String)?.isEmpty == false, (l["key"] as? String)?.isEmpty == false else {
                throw invalid("The S3 location of the revision is invalid: bucket and key are required.")
            }
            if let b = l["bundleType"] as? String, !["tar", "tgz", "zip", "YAML", "JSON"].contains(b) {
                throw invalid("The bundle type \(b) is invalid.")
            }
        case "AppSpecContent":
            guard var c = r["appSpecContent"] as? Doc, let content = c["content"] as? String, !content.isEmpty else {
                throw invalid("The AppSpec content is missing.")
            }
            let sha = sha256(content)
            if let given = c["sha256"] as? String, !given.isEmpty, given.lowercased() != sha {
                throw invalid("The sha256 of the AppSpec content does not match its content.")
            }
            c["sha256"] = sha
            r["appSpecContent"] = c
        case "String":
            guard let c = r["string"] as? Doc, (c["content"] as? String)?.isEmpty == false else { throw invalid("The AppSpec content is missing.") }
        case "GitHub":
            throw invalid("GitHub revisions cannot be read by Cloudless (it works offline).")
        default:
            throw invalid("The revision type is invalid.")
        }
        return r
    }

    /// Record the revision under its application (RegisterApplicationRevision, and every deployment's revision).
    func recordRevision(_ app: String, _ revision: Doc, description: String?, deployed: Bool, _ s: Scope, _ db: Database) throws {
        let key = app + "/" + Self.revisionKey(revision)
        let now = clock.now()
        var info = try CodeDeployStore.get("revision", s, key, db) ?? ["revisionLocation": revision, "registerTime": now, "deploymentGroups": [String]()]
        if let description { info["description"] = description }
        if deployed {
            info["firstUsedTime"] = info["firstUsedTime"] ?? now
            info["lastUsedTime"] = now
        }
        try CodeDeployStore.put("revision", s, key, parent: app, info, db)
    }

    func registerApplicationRevision(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try appName(input)
        let revision = try Self.validRevision(try input.object("revision"))
        try store.db.writeNow { db in
            _ = try application(name, s, db)
            try recordRevision(name, revision, description: try input.string("description"), deployed: false, s, db)
        }
        return [:]
    }

    static func revisionInfo(_ info: Doc) -> Doc {
        var generic = info
        generic.removeValue(forKey: "revisionLocation")
        return ["revisionLocation": info["revisionLocation"] ?? [:], "genericRevisionInfo": generic]
    }

    func getApplicationRevision(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try appName(input)
        let revision = try Self.validRevision(try input.object("revision"))
        let info = try store.db.readNow { db in
            _ = try application(name, s, db)
            guard let i = try CodeDeployStore.get("revision", s, name + "/" + Self.revisionKey(revision), db) else {
                throw CDError.e("RevisionDoesNotExistException", "No application revision found for revision.")
            }
            return i
        }
        return ["applicationName": name, "revision": info["revisionLocation"] ?? [:], "revisionInfo": Self.revisionInfo(info)["genericRevisionInfo"] ?? [:]]
    }

    func listApplicationRevisions(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try appName(input)
        let all = try store.db.readNow { db in
            _ = try application(name, s, db)
            return try CodeDeployStore.all("revision", s, parent: name, db)
        }
        var items = all.map(\.doc)
        if let bucket = try input.string("s3Bucket") {
            let prefix = try input.string("s3KeyPrefix") ?? ""
            items = items.filter { d in
                let l = (d["revisionLocation"] as? Doc)?["s3Location"] as? Doc
                return l?["bucket"] as? String == bucket && ((l?["key"] as? String) ?? "").hasPrefix(prefix)
            }
        }
        if (try input.string("sortBy")) == "lastUsedTime" {
            items.sort { (($0["lastUsedTime"] as? Double) ?? 0) < (($1["lastUsedTime"] as? Double) ?? 0) }
        }
        if (try input.string("sortOrder")) == "descending" { items.reverse() }
        return try Self.page(items.map { $0["revisionLocation"] ?? [:] }, input, key: "revisions")
    }

    func batchGetApplicationRevisions(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try appName(input)
        let revisions = try input.list("revisions") ?? []
        let infos = try store.db.readNow { db in
            _ = try application(name, s, db)
            return try revisions.map { raw -> Doc in
                let r = try Self.validRevision(raw as? Doc)
                guard let i = try CodeDeployStore.get("revision", s, name + "/" + Self.revisionKey(r), db) else {
                    throw CDError.e("RevisionDoesNotExistException", "No application revision found for revision.")
                }
                return Self.revisionInfo(i)
            }
        }
        return ["applicationName": name, "revisions": infos]
    }
}
