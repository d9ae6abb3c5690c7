import Core

/// A health check's success codes: `200`, `200,302`, `200-299` (HTTP codes 200–499, as AWS allows for HTTP checks).
struct Matcher: Sendable, Equatable {
    let ranges: [ClosedRange<Int>]

    static func parse(_ text: String) throws -> Matcher {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let lo = Int(bounds[0]), let hi = Int(bounds.last!), lo <= hi,
                  (200...499).contains(lo), (200...499).contains(hi) else {
                throw ELBv2Error.validation("Health check matcher HTTP code '\(text)' must be within '200-499' (a code, a comma-separated list or a range such as '200-299')")
            }
            ranges.append(lo...hi)
        }
        return Matcher(ranges: ranges)
    }

    func matches(_ code: Int) -> Bool { ranges.contains { $0.contains(code) } }
}

/// An IPv4 CIDR block of a source-ip condition.
struct CIDR: Sendable {
    let network: UInt32
    let mask: UInt32

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits), let ip = CIDR.parse(String(parts[0])) else { return nil }
        mask = bits == 0 ? 0 : UInt32.max << (32 - UInt32(bits))
        network = ip & mask
    }

    static func parse(_ ip: String) -> UInt32? {
        guard IPAddress.isIPv4(ip) else { return nil }
        return ip.split(separator: ".").reduce(UInt32(0)) { $0 << 8 | UInt32($1)! }
    }

    func contains(_ ip: String) -> Bool {
        guard let v = CIDR.parse(ip) else { return false }
        return v & mask == network
    }
}

/// What a rule's conditions look at in one request.
struct RequestFacts: Sendable {
    var method: String
    /// The path, without the query.
    var path: String
    var host: String
    var headers: [(String, String)]
    /// Decoded query items.
    var query: [(String, String)]
    var sourceIP: String

    func header(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }
}

enum RuleMatching {
    /// `*` any run of characters, `?` exactly one; `caseSensitive` false for hosts, headers and query strings.
    static func wildcard(_ pattern: String, _ text: String, caseSensitive: Bool) -> Bool {
        let p = Array(caseSensitive ? pattern.utf8 : pattern.lowercased().utf8)
        let t = Array(caseSensitive ? text.utf8 : text.lowercased().utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Every condition holds (a condition holds when any of its values matches).
    static func matches(_ conditions: [Condition], _ r: RequestFacts) -> Bool {
        conditions.allSatisfy { matches($0, r) }
    }

    static func matches(_ c: Condition, _ r: RequestFacts) -> Bool {
        switch c.field {
        case "path-pattern":
            return c.values.contains { wildcard($0, r.path, caseSensitive: true) }
        case "host-header":
            let host = r.host.split(separator: ":").first.map(String.init) ?? r.host
            return c.values.contains { wildcard($0, host, caseSensitive: false) }
        case "http-header":
            let values = r.header(c.headerName ?? "")
            return values.contains { v in c.values.contains { wildcard($0, v, caseSensitive: false) } }
        case "http-request-method":
            return c.values.contains(r.method)
        case "source-ip":
            return c.values.contains { CIDR($0)?.contains(r.sourceIP) ?? false }
        case "query-string":
            return c.queryPairs.contains { pair in
                r.query.contains { k, v in
                    (pair.key.map { wildcard($0, k, caseSensitive: false) } ?? true) && wildcard(pair.value, v, caseSensitive: false)
                }
            }
        default:
            return false
        }
    }
}

enum WeightedChoice {
    /// The index chosen among `weights` for a uniform `roll` in 0..<1; nil when every weight is 0.
    static func pick(_ weights: [Int], roll: Double) -> Int? {
        let total = weights.reduce(0, +)
        guard total > 0 else { return nil }
        var point = roll * Double(total)
        for (i, w) in weights.enumerated() where w > 0 {
            if point < Double(w) { return i }
            point -= Double(w)
        }
        return weights.lastIndex { $0 > 0 }
    }
}
