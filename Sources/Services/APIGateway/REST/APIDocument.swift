import Foundation

/// One REST API as stored: `api` (GetRestApi's members), `resources` by id (each with `resourceMethods` holding whole
/// methods, their integration and responses), `authorizers`, `deployments` (each with `snapshot`: the resources and
/// authorizers as deployed) and `stages` by name. Kept in API Gateway's wire shape, so answers are slices of it.
struct APIDocument {
    var raw: [String: Any]

    init(_ raw: [String: Any]) { self.raw = raw }

    var api: [String: Any] {
        get { raw["api"] as? [String: Any] ?? [:] }
        set { raw["api"] = newValue }
    }
    var resources: [String: [String: Any]] {
        get { raw["resources"] as? [String: [String: Any]] ?? [:] }
        set { raw["resources"] = newValue }
    }
    var authorizers: [String: [String: Any]] {
        get { raw["authorizers"] as? [String: [String: Any]] ?? [:] }
        set { raw["authorizers"] = newValue }
    }
    var deployments: [String: [String: Any]] {
        get { raw["deployments"] as? [String: [String: Any]] ?? [:] }
        set { raw["deployments"] = newValue }
    }
    var stages: [String: [String: Any]] {
        get { raw["stages"] as? [String: [String: Any]] ?? [:] }
        set { raw["stages"] = newValue }
    }
    var id: String { api["id"] as? String ?? "" }
    var rootResourceID: String { api["rootResourceId"] as? String ?? "" }

    /// A new API with its root resource `/`.
    static func create(id: String, rootID: String, api fields: [String: Any]) -> APIDocument {
        var api = fields
        api["id"] = id
        api["rootResourceId"] = rootID
        var doc = APIDocument([:])
        doc.api = api
        doc.resources = [rootID: ["id": rootID, "path": "/"]]
        return doc
    }

    /// The resource path of a parent and a part (`/` + part under the root).
    static func childPath(_ parentPath: String, _ part: String) -> String {
        parentPath == "/" ? "/" + part : parentPath + "/" + part
    }

    /// Every resource's `path` again from its parent chain (after a `pathPart` or `parentId` changed).
    mutating func recomputePaths() {
        let current = resources
        func path(_ id: String, depth: Int) -> String {
            guard depth < 64, let r = current[id], let parent = r["parentId"] as? String, let part = r["pathPart"] as? String else { return "/" }
            return Self.childPath(path(parent, depth: depth + 1), part)
        }
        var all = current
        for id in current.keys { all[id]?["path"] = path(id, depth: 0) }
        resources = all
    }

    /// The ids of a resource and all below it.
    func subtree(_ id: String) -> [String] {
        var out = [id]
        var i = 0
        let all = resources
        while i < out.count {
            let parent = out[i]
            out += all.values.filter { $0["parentId"] as? String == parent }.compactMap { $0["id"] as? String }
            i += 1
        }
        return out
    }

    func resource(path: String) -> [String: Any]? {
        resources.values.first { $0["path"] as? String == path }
    }
}
