import Core
import Foundation
import GRDB
import Synchronization

/// What an invoke needs of one REST API, made once from its stored document: its owner, its stages and, for each
/// deployment a stage serves, the deployed resource tree ready for routing. Kept in memory (`RestAPIs.invokeViews`)
/// until the next write to `rest_apis`, so a request neither reads SQLite nor decodes JSON nor rebuilds the tree.
/// Immutable once made (the `Any` values are plain JSON values, never mutated), hence shared across requests.
final class InvokeAPI: @unchecked Sendable {
    struct Stage {
        let deploymentID: String
        let variables: [String: String]
    }

    let account: String
    let region: String
    let doc: APIDocument
    let stages: [String: Stage]
    let binaryMediaTypes: [String]
    /// The deployed trees of the deployments stages point at, by deployment id.
    let deployments: [String: DeployedTree]

    init(account: String, region: String, doc: APIDocument) {
        self.account = account
        self.region = region
        self.doc = doc
        var stages: [String: Stage] = [:]
        var trees: [String: DeployedTree] = [:]
        let deployments = doc.deployments
        for (name, stage) in doc.stages {
            let id = stage["deploymentId"] as? String ?? ""
            stages[name] = Stage(deploymentID: id, variables: (stage["variables"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String })
            if trees[id] == nil, let snapshot = deployments[id]?["snapshot"] as? [String: Any] { trees[id] = DeployedTree(snapshot: snapshot) }
        }
        self.stages = stages
        self.deployments = trees
        binaryMediaTypes = doc.api["binaryMediaTypes"] as? [String] ?? []
    }
}

/// A deployment's resources as a tree whose children are in matching order (literal, `{param}`, `{proxy+}`), and its
/// authorizers.
final class DeployedTree: @unchecked Sendable {
    final class Node {
        let resource: [String: Any]
        let methods: [String: Any]
        /// Children with their path part and rank (0 literal, 1 `{param}`, 2 `{greedy+}`), lowest rank first.
        var children: [(part: String, rank: Int, node: Node)] = []

        init(_ resource: [String: Any]) {
            self.resource = resource
            methods = resource["resourceMethods"] as? [String: Any] ?? [:]
        }

        func method(_ httpMethod: String) -> [String: Any]? { (methods[httpMethod] ?? methods["ANY"]) as? [String: Any] }
    }

    let root: Node?
    let authorizers: [String: [String: Any]]

    convenience init(snapshot: [String: Any]) {
        self.init(resources: snapshot["resources"] as? [String: [String: Any]] ?? [:],
                  authorizers: snapshot["authorizers"] as? [String: [String: Any]] ?? [:])
    }

    init(resources: [String: [String: Any]], authorizers: [String: [String: Any]] = [:]) {
        self.authorizers = authorizers
        var nodes: [String: Node] = [:]
        for (id, r) in resources { nodes[r["id"] as? String ?? id] = Node(r) }
        var root: Node?
        for node in nodes.values {
            if let parent = node.resource["parentId"] as? String {
                let part = node.resource["pathPart"] as? String ?? ""
                nodes[parent]?.children.append((part, part.hasSuffix("+}") ? 2 : part.hasPrefix("{") ? 1 : 0, node))
            } else {
                root = node
            }
        }
        for node in nodes.values { node.children.sort { $0.rank < $1.rank } }
        self.root = root
    }

    /// Which resource and method answer a request path, as API Gateway chooses: at each level a literal part beats
    /// `{param}`, which beats `{proxy+}` (one or more parts); a branch whose resource has neither the method nor ANY is
    /// given up for the next candidate.
    func match(path: String, httpMethod: String) -> DeployedRoute? {
        guard let root else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { Percent.decode(String($0)) ?? String($0) }
        func walk(_ node: Node, _ i: Int, _ params: [String: String]) -> DeployedRoute? {
            if i == parts.count { return node.method(httpMethod).map { DeployedRoute(resource: node.resource, method: $0, pathParameters: params) } }
            for (part, rank, kid) in node.children {
                switch rank {
                case 0:
                    if part == parts[i], let found = walk(kid, i + 1, params) { return found }
                case 1:
                    var p = params
                    p[String(part.dropFirst().dropLast())] = parts[i]
                    if let found = walk(kid, i + 1, p) { return found }
                default:
                    var p = params
                    p[String(part.dropFirst().dropLast(2))] = parts[i...].joined(separator: "/")
                    if let m = kid.method(httpMethod) { return DeployedRoute(resource: kid.resource, method: m, pathParameters: p) }
                }
            }
            return nil
        }
        return walk(root, 0, [:])
    }
}

extension RestAPIs {
    /// A write transaction on the APIs; afterwards the invoke views are dropped (after the commit, so that a view read
    /// from the old rows while it ran is not kept: its generation is stale).
    func writingAPIs<T>(_ body: (Database) throws -> T) throws -> T {
        defer { forgetInvokeViews() }
        return try db.writeNow(body)
    }

    func forgetInvokeViews() {
        invokeViews.withLock { $0 = ($0.generation + 1, [:]) }
    }

    /// The invoke view of an API by id alone (invoke URLs carry no account): from memory, or read and kept unless a
    /// write came in between.
    func loadForInvoke(_ id: String) -> InvokeAPI? {
        let (generation, cached) = invokeViews.withLock { ($0.generation, $0.entries[id]) }
        if let cached { return cached }
        guard let row = try? db.readNow({ db in
            try Row.fetchOne(db, sql: "SELECT account, region, doc FROM rest_apis WHERE id = ?", arguments: [id])
        }) else { return nil }
        guard let raw = (try? JSONSerialization.jsonObject(with: row["doc"] as Data)) as? [String: Any] else { return nil }
        let view = InvokeAPI(account: row["account"], region: row["region"], doc: APIDocument(raw))
        invokeViews.withLock { views in
            guard views.generation == generation else { return }
            if views.entries.count >= 1000 { views.entries.removeAll() }
            views.entries[id] = view
        }
        return view
    }
}
