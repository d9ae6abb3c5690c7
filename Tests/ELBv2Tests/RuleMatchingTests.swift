import Core
import Testing
@testable import ELBv2

@Suite struct RuleMatchingTests {
    let request = RequestFacts(method: "POST", path: "/api/v1/users", host: "API.example.com:8080",
                               headers: [("user-agent", "curl/8.1"), ("x-tenant", "blue")],
                               query: [("version", "2"), ("debug", "on")], sourceIP: "10.1.2.3")

    func condition(_ field: String, _ values: [String], header: String? = nil, query: [Condition.QueryPair] = []) -> Condition {
        Condition(field: field, values: values, headerName: header, queryPairs: query)
    }

    @Test func wildcardsInPaths() {
        #expect(RuleMatching.wildcard("/api/*", "/api/v1/users", caseSensitive: true))
        #expect(RuleMatching.wildcard("/api/v?/users", "/api/v1/users", caseSensitive: true))
        #expect(!RuleMatching.wildcard("/api/v?/users", "/api/v10/users", caseSensitive: true))
        #expect(!RuleMatching.wildcard("/API/*", "/api/v1", caseSensitive: true))
        #expect(RuleMatching.wildcard("*", "", caseSensitive: true))
        #expect(RuleMatching.wildcard("*.png", "/a/b.png", caseSensitive: true))
        #expect(!RuleMatching.wildcard("*.png", "/a/b.png.txt", caseSensitive: true))
    }

    @Test func eachConditionType() {
        #expect(RuleMatching.matches(condition("path-pattern", ["/other", "/api/*"]), request))
        #expect(!RuleMatching.matches(condition("path-pattern", ["/API/*"]), request))
        // Hosts compare without case and without the port.
        #expect(RuleMatching.matches(condition("host-header", ["api.*.com"]), request))
        #expect(!RuleMatching.matches(condition("host-header", ["www.example.com"]), request))
        #expect(RuleMatching.matches(condition("http-header", ["BL?E"], header: "X-Tenant"), request))
        #expect(!RuleMatching.matches(condition("http-header", ["blue"], header: "X-Other"), request))
        #expect(RuleMatching.matches(condition("http-request-method", ["GET", "POST"]), request))
        #expect(!RuleMatching.matches(condition("http-request-method", ["GET"]), request))
        #expect(RuleMatching.matches(condition("source-ip", ["10.0.0.0/8"]), request))
        #expect(!RuleMatching.matches(condition("source-ip", ["192.168.0.0/16"]), request))
        #expect(RuleMatching.matches(condition("query-string", [], query: [.init(key: "version", value: "2")]), request))
        #expect(RuleMatching.matches(condition("query-string", [], query: [.init(key: nil, value: "o*")]), request))
        #expect(!RuleMatching.matches(condition("query-string", [], query: [.init(key: "version", value: "3")]), request))
    }

    @Test func everyConditionOfARuleMustHold() {
        #expect(RuleMatching.matches([condition("path-pattern", ["/api/*"]), condition("http-request-method", ["POST"])], request))
        #expect(!RuleMatching.matches([condition("path-pattern", ["/api/*"]), condition("http-request-method", ["GET"])], request))
    }

    @Test func cidrBlocks() {
        #expect(CIDR("10.1.0.0/16")!.contains("10.1.200.3"))
        #expect(!CIDR("10.1.0.0/16")!.contains("10.2.0.1"))
        #expect(CIDR("0.0.0.0/0")!.contains("8.8.8.8"))
        #expect(CIDR("10.1.0.0/33") == nil && CIDR("nope/8") == nil)
    }

    @Test func weightedChoice() {
        #expect(WeightedChoice.pick([80, 20], roll: 0.0) == 0)
        #expect(WeightedChoice.pick([80, 20], roll: 0.79) == 0)
        #expect(WeightedChoice.pick([80, 20], roll: 0.8) == 1)
        #expect(WeightedChoice.pick([80, 20], roll: 0.999) == 1)
        // Weight 0 gets nothing; all zero: no choice.
        #expect(WeightedChoice.pick([0, 5], roll: 0.0) == 1)
        #expect(WeightedChoice.pick([5, 0], roll: 0.9999) == 0)
        #expect(WeightedChoice.pick([0, 0], roll: 0.5) == nil)
        var counts = [0, 0, 0]
        for i in 0..<1000 { counts[WeightedChoice.pick([1, 2, 1], roll: Double(i) / 1000)!] += 1 }
        #expect(counts == [250, 500, 250])
    }

    @Test func matcherParsing() throws {
        #expect(try Matcher.parse("200").matches(200))
        #expect(!(try Matcher.parse("200").matches(201)))
        let list = try Matcher.parse("200,302")
        #expect(list.matches(302) && !list.matches(301))
        let range = try Matcher.parse("200-299")
        #expect(range.matches(250) && !range.matches(300))
        for bad in ["", "abc", "299-200", "100", "200-500", "200,", "200--300"] {
            #expect(throws: AWSError.self) { try Matcher.parse(bad) }
        }
    }
}
