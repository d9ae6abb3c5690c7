import Core
import Foundation
import GRDB

/// On-premises instances. In Cloudless an instance is a local folder: the tag `cloudless:root` if present, else
/// `<data folder>/codedeploy/instances/<name>/`.
extension CodeDeployService {
    func instanceName(_ input: Input) throws -> String {
        try input.required("instanceName", "InstanceNameRequiredException", "An on-premises instance name was not specified.")
    }

    func instanceRoot(_ info: Doc) -> String {
        let tags = info["tags"] as? [[String: String]] ?? []
        if let root = tags.first(where: { $0["Key"] == "cloudless:root" })?["Value"], !root.isEmpty { return root }
        return directory + "/codedeploy/instances/\(info["instanceName"] as? String ?? "")/"
    }

    func registerOnPremisesInstance(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try instanceName(input)
        let session = try input.string("iamSessionArn"), user = try input.string("iamUserArn")
        if session != nil && user != nil {
            throw CDError.e("MultipleIamArnsProvidedException", "Both an IAM user ARN and an IAM session ARN were included in the request. Use only one ARN type.")
        }
        guard session != nil || user != nil else { throw CDError.e("IamArnRequiredException", "No IAM ARN was included in the request. You must use an IAM session ARN or user ARN in the request.") }
        try store.db.writeNow { db in
            if let old = try CodeDeployStore.get("instance", s, name, db), old["deregisterTime"] == nil {
                throw CDError.e("InstanceNameAlreadyRegisteredException", "The specified on-premises instance name is already registered.")
            }
            var d: Doc = ["instanceName": name, "instanceArn": arn(s, "instance", name), "registerTime": clock.now(), "tags": [[String: String]]()]
            if let session { d["iamSessionArn"] = session }
            if let user { d["iamUserArn"] = user }
            try CodeDeployStore.put("instance", s, name, d, db)
        }
        return [:]
    }

    func deregisterOnPremisesInstance(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try instanceName(input)
        try store.db.writeNow { db in
            guard var d = try CodeDeployStore.get("instance", s, name, db) else { throw CDError.instanceMissing(name) }
            d["deregisterTime"] = d["deregisterTime"] ?? clock.now()
            try CodeDeployStore.put("instance", s, name, d, db)
        }
        return [:]
    }

    func getOnPremisesInstance(_ s: Scope, _ input: Input) throws -> Doc {
        let name = try instanceName(input)
        guard let d = try store.db.readNow({ db in try CodeDeployStore.get("instance", s, name, db) }) else { throw CDError.instanceMissing(name) }
        return ["instanceInfo": d.filter { !$0.key.hasPrefix("_") }]
    }

    func batchGetOnPremisesInstances(_ s: Scope, _ input: Input) throws -> Doc {
        let names = try input.strings("instanceNames") ?? []
        let found = try store.db.readNow { db in try names.compactMap { try CodeDeployStore.get("instance", s, $0, db)?.filter { !$0.key.hasPrefix("_") } } }
        return ["instanceInfos": found]
    }

    func listOnPremisesInstances(_ s: Scope, _ input: Input) throws -> Doc {
        let status = try input.string("registrationStatus")
        if let status, !["Registered", "Deregistered"].contains(status) {
            throw CDError.e("InvalidRegistrationStatusException", "The registration status was specified in an invalid format.")
        }
        let filters = try Self.validFilters(input.raw["tagFilters"])
        let all = try store.db.readNow { db in try CodeDeployStore.all("instance", s, db) }
        let names = all.filter { item in
            let registered = item.doc["deregisterTime"] == nil
            if status == "Registered" && !registered || status == "Deregistered" && registered { return false }
            let tags = item.doc["tags"] as? [[String: String]] ?? []
            return filters.isEmpty || filters.contains { Self.filterMatches($0, tags) }
        }.map(\.key).sorted()
        return try Self.page(names, input, key: "instanceNames")
    }

    func changeInstanceTags(_ s: Scope, _ input: Input, _ change: ([[String: String]], [[String: String]]) -> [[String: String]]) throws -> Doc {
        let tags = try Self.tagList(input)
        let names = try input.strings("instanceNames") ?? []
        guard !names.isEmpty else { throw CDError.e("InstanceNameRequiredException", "An on-premises instance name was not specified.") }
        guard !tags.isEmpty else { throw CDError.e("TagRequiredException", "A tag was not specified.") }
        guard tags.count <= 10 else { throw CDError.e("InstanceLimitExceededException", "The maximum number of tags was exceeded.") }
        try store.db.writeNow { db in
            for name in names {
                guard var d = try CodeDeployStore.get("instance", s, name, db) else {
                    throw CDError.e("InstanceNotRegisteredException", "The specified on-premises instance is not registered.")
                }
                d["tags"] = change(d["tags"] as? [[String: String]] ?? [], tags)
                try CodeDeployStore.put("instance", s, name, d, db)
            }
        }
        return [:]
    }

    func addTagsToOnPremisesInstances(_ s: Scope, _ input: Input) throws -> Doc {
        try changeInstanceTags(s, input) { old, new in Self.merge(new, into: old) }
    }

    func removeTagsFromOnPremisesInstances(_ s: Scope, _ input: Input) throws -> Doc {
        try changeInstanceTags(s, input) { old, gone in old.filter { o in !gone.contains { $0["Key"] == o["Key"] && ($0["Value"] ?? "") == (o["Value"] ?? "") } } }
    }
}
