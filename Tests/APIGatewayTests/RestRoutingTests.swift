@testable import APIGateway
import Foundation
import Testing

/// A resource tree: `/`, `/pets`, `/pets/{id}`, `/pets/mine`, `/{proxy+}`, `/files/{key+}`.
private func tree() -> [String: [String: Any]] {
    func r(_ id: String, _ parent: String?, _ part: String?, _ methods: [String]) -> [String: Any] {
        var out: [String: Any] = ["id": id]
        if let parent { out["parentId"] = parent }
        if let part { out["pathPart"] = part }
        if !methods.isEmpty { out["resourceMethods"] = Dictionary(uniqueKeysWithValues: methods.map { ($0, ["httpMethod": $0]) }) }
        return out
    }
    return ["root": r("root", nil, nil, ["GET"]), "pets": r("pets", "root", "pets", ["GET", "POST"]),
            "petid": r("petid", "pets", "{id}", ["GET"]), "mine": r("mine", "pets", "mine", ["GET"]),
            "proxy": r("proxy", "root", "{proxy+}", ["ANY"]), "files": r("files", "root", "files", []),
            "key": r("key", "files", "{key+}", ["GET"])]
}

@Test func literalBeatsParameterBeatsGreedy() throws {
    let t = tree()
    #expect(DeployedRoute.match(resources: t, path: "/pets/mine", httpMethod: "GET")?.resource["id"] as? String == "mine")
    let byID = try #require(DeployedRoute.match(resources: t, path: "/pets/42", httpMethod: "GET"))
    #expect(byID.resource["id"] as? String == "petid")
    #expect(byID.pathParameters == ["id": "42"])
    // No DELETE on /pets/{id}: the greedy sibling at the root answers, with the whole path.
    let greedy = try #require(DeployedRoute.match(resources: t, path: "/pets/42", httpMethod: "DELETE"))
    #expect(greedy.resource["id"] as? String == "proxy")
    #expect(greedy.pathParameters == ["proxy": "pets/42"])
    #expect(DeployedRoute.match(resources: t, path: "/", httpMethod: "GET")?.resource["id"] as? String == "root")
    #expect(DeployedRoute.match(resources: t, path: "/", httpMethod: "POST") == nil)
}

@Test func greedyTakesTheRestAndDecodes() throws {
    let m = try #require(DeployedRoute.match(resources: tree(), path: "/files/a/b%20c.txt", httpMethod: "GET"))
    #expect(m.pathParameters == ["key": "a/b c.txt"])
    #expect(m.method["httpMethod"] as? String == "GET")
    // A greedy resource without the method gives the request to the next candidate, the root's `{proxy+}`.
    #expect(DeployedRoute.match(resources: tree(), path: "/files/a", httpMethod: "PUT")?.resource["id"] as? String == "proxy")
}

@Test func pathPartsAreChecked() {
    #expect(RestAPIs.validPathPart("pets"))
    #expect(RestAPIs.validPathPart("{id}"))
    #expect(RestAPIs.validPathPart("{proxy+}"))
    #expect(!RestAPIs.validPathPart("a/b"))
    #expect(!RestAPIs.validPathPart("{}"))
    #expect(!RestAPIs.validPathPart("sp ace"))
}

@Test func authorizerPoliciesDenyBeforeAllow() {
    let arn = "arn:aws:execute-api:us-east-1:000000000000:abc/prod/GET/pets"
    let allow: [String: Any] = ["Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:abc/*"]
    let deny: [String: Any] = ["Effect": "Deny", "Action": ["execute-api:*"], "Resource": [arn]]
    #expect(RestAPIs.evaluate([allow], methodARN: arn) == "Allow")
    #expect(RestAPIs.evaluate([allow, deny], methodARN: arn) == "Deny")
    #expect(RestAPIs.evaluate([allow], methodARN: "arn:aws:execute-api:us-east-1:000000000000:xyz/prod/GET/pets") == nil)
    #expect(RestAPIs.wildcard("a?c*", "abcdef"))
    #expect(!RestAPIs.wildcard("a?c", "abcd"))
}
