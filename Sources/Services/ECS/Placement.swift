import Foundation

/// Task placement on container instances, as ECS does it for the EC2 launch type: instances are filtered (CPU,
/// memory, host ports, then the placement constraints) and the ones left are ordered by the placement strategies.
/// Pure values: the scheduler builds the candidates from its instances and tasks.
enum TaskPlacement {
    /// What a task reserves on its instance while it is not STOPPED.
    struct Demand: Sendable, Equatable {
        var cpu: Int
        var memory: Int
        var tcpPorts: [Int] = []
        var udpPorts: [Int] = []
    }

    /// A container instance as placement sees it.
    struct Candidate: Sendable {
        var arn: String
        var ec2InstanceId: String
        var attributes: [String: String]
        var remainingCPU: Int
        var remainingMemory: Int
        var usedTCP: Set<Int>
        var usedUDP: Set<Int>
        /// The groups of the tasks on it that are still meant to run (desiredStatus RUNNING), one entry per task.
        var taskGroups: [String]
        var agentConnected = true
        var registeredAt: Double = 0

        var id: String { String(arn.split(separator: "/").last ?? "") }

        mutating func take(_ d: Demand, group: String) {
            remainingCPU -= d.cpu
            remainingMemory -= d.memory
            usedTCP.formUnion(d.tcpPorts)
            usedUDP.formUnion(d.udpPorts)
            taskGroups.append(group)
        }
    }

    struct Constraint: Codable, Sendable, Equatable {
        var type: String?
        var expression: String?
    }

    struct Strategy: Codable, Sendable, Equatable {
        var type: String?
        var field: String?
    }

    /// Why an instance cannot take a task: AWS's failure reasons.
    enum Reason: String, Sendable, Comparable {
        case cpu = "RESOURCE:CPU"
        case memory = "RESOURCE:MEMORY"
        case ports = "RESOURCE:PORTS"
        case memberOf = "MemberOf"
        case distinctInstance = "DistinctInstance"
        case agent = "AGENT"

        /// How close an instance that fails for this reason came: constraints are checked first, resources last.
        var closeness: Int {
            switch self {
            case .agent: 0
            case .memberOf: 1
            case .distinctInstance: 2
            case .ports: 3
            case .cpu: 4
            case .memory: 5
            }
        }

        static func < (a: Reason, b: Reason) -> Bool { a.closeness < b.closeness }

        /// The end of AWS's "was unable to place a task" service event.
        var eventText: String {
            switch self {
            case .memory: "has insufficient memory available."
            case .cpu: "has insufficient CPU units available."
            case .ports: "is already using a port required by your task."
            case .memberOf: "is missing an attribute required by your task."
            case .distinctInstance: "is already running a task of this group (distinctInstance placement constraint)."
            case .agent: "encountered error \"AGENT\"."
            }
        }
    }

    /// The first reason an instance cannot take the task, or nil when it can.
    static func reject(_ c: Candidate, _ d: Demand, group: String, constraints: [Constraint]) -> Reason? {
        if !c.agentConnected { return .agent }
        for k in constraints {
            switch k.type {
            case "memberOf":
                guard let expr = k.expression, (try? ClusterQuery.parse(expr).matches(c)) == true else { return .memberOf }
            case "distinctInstance":
                if c.taskGroups.contains(group) { return .distinctInstance }
            default:
                break
            }
        }
        if d.tcpPorts.contains(where: c.usedTCP.contains) || d.udpPorts.contains(where: c.usedUDP.contains) { return .ports }
        if d.cpu > c.remainingCPU { return .cpu }
        if d.memory > c.remainingMemory { return .memory }
        return nil
    }

    enum Outcome: Equatable {
        case placed(Int)
        /// No instance can take it: each instance's reason, in the candidates' order.
        case failed([(arn: String, reason: Reason)])

        static func == (a: Outcome, b: Outcome) -> Bool {
            switch (a, b) {
            case (.placed(let x), .placed(let y)): x == y
            case (.failed(let x), .failed(let y)): x.map(\.arn) == y.map(\.arn) && x.map(\.reason) == y.map(\.reason)
            default: false
            }
        }
    }

    /// The candidate one task goes to. `all` is every ACTIVE instance of the cluster (spread on an attribute counts
    /// tasks on instances that cannot take this one too).
    static func choose(_ candidates: [Candidate], _ d: Demand, group: String, constraints: [Constraint],
                       strategy: [Strategy], random: () -> Double = { Double.random(in: 0..<1) }) -> Outcome {
        var fit: [Int] = []
        var failures: [(String, Reason)] = []
        for (i, c) in candidates.enumerated() {
            if let r = reject(c, d, group: group, constraints: constraints) { failures.append((c.arn, r)) } else { fit.append(i) }
        }
        guard !fit.isEmpty else { return .failed(failures) }
        // One key per strategy, compared in order; ties fall to the instance's ARN (a stable order).
        var keyed: [(keys: [Double], index: Int)] = fit.map { i in
            (strategy.map { key(for: $0, candidates[i], all: candidates, demand: d, group: group, random: random) }, i)
        }
        keyed.sort { a, b in
            if a.keys != b.keys { return a.keys.lexicographicallyPrecedes(b.keys) }
            return candidates[a.index].arn < candidates[b.index].arn
        }
        return .placed(keyed[0].index)
    }

    /// A strategy's key for an instance: the lowest wins.
    static func key(for s: Strategy, _ c: Candidate, all: [Candidate], demand: Demand, group: String, random: () -> Double) -> Double {
        switch s.type {
        case "binpack":
            // The least of the resource left after placing: tasks pack onto the fullest instance.
            return (s.field ?? "memory").lowercased() == "cpu" ? Double(c.remainingCPU - demand.cpu) : Double(c.remainingMemory - demand.memory)
        case "spread":
            let field = s.field ?? "instanceId"
            let own = Double(c.taskGroups.filter { $0 == group }.count)
            if field == "instanceId" || field == "host" { return own }
            // attribute:NAME: the tasks of the group on every instance sharing this instance's value.
            let name = field.hasPrefix("attribute:") ? String(field.dropFirst("attribute:".count)) : field
            let value = c.attributes[name]
            return Double(all.filter { $0.attributes[name] == value }.reduce(0) { $0 + $1.taskGroups.filter { $0 == group }.count })
        case "random":
            return random()
        default:
            return 0
        }
    }

    /// Validate constraints and strategies as ECS does before accepting them.
    static func validate(constraints: [Constraint], strategy: [Strategy]) throws {
        guard constraints.count <= 10 else { throw ECSError.invalid("Placement constraints can have at most 10 items.") }
        guard strategy.count <= 5 else { throw ECSError.invalid("Placement strategies can have at most 5 items.") }
        for k in constraints {
            switch k.type {
            case "distinctInstance":
                if let e = k.expression, !e.isEmpty {
                    throw ECSError.invalid("The expression must be empty for constraint type distinctInstance.")
                }
            case "memberOf":
                guard let e = k.expression, !e.isEmpty else {
                    throw ECSError.invalid("An expression is required for constraint type memberOf.")
                }
                do { _ = try ClusterQuery.parse(e) } catch {
                    throw ECSError.invalid("Invalid placement constraint expression: \(e)")
                }
            default:
                throw ECSError.validation(k.type, at: "placementConstraints.member.type", "Member must satisfy enum value set: [distinctInstance, memberOf]")
            }
        }
        for s in strategy {
            switch s.type {
            case "random":
                break
            case "binpack":
                guard let f = s.field?.lowercased(), f == "cpu" || f == "memory" else {
                    throw ECSError.invalid("Invalid field for binpack: \(s.field ?? "null"). Valid values are cpu and memory.")
                }
            case "spread":
                guard let f = s.field, !f.isEmpty else { throw ECSError.invalid("A field is required for placement strategy spread.") }
            default:
                throw ECSError.validation(s.type, at: "placementStrategy.member.type", "Member must satisfy enum value set: [random, spread, binpack]")
            }
        }
    }
}

/// The cluster query language, as far as Cloudless reads it: `subject operator value` terms joined with `and`, `or`,
/// `not` (also `&&`, `||`, `!`) and parentheses. Subjects: `attribute:NAME`, `ec2InstanceId`, `agentConnected`,
/// `runningTasksCount`, `registeredAt`, `task:group`. Operators: `==`/`equals`, `!=`/`not_equals`, `>`, `>=`, `<`,
/// `<=`, `exists`, `!exists`/`not_exists`, `in`/`not_in` with `[a, b]` lists, `=~`/`matches`, `!~`/`not_matches`
/// (regular expressions, matched against the whole value).
indirect enum ClusterQuery: Sendable {
    case term(subject: String, op: String, values: [String])
    case and(ClusterQuery, ClusterQuery)
    case or(ClusterQuery, ClusterQuery)
    case not(ClusterQuery)

    struct ParseError: Error {}

    static func parse(_ text: String) throws -> ClusterQuery {
        var p = Parser(tokens: try tokenize(text))
        let q = try p.expression()
        guard p.atEnd else { throw ParseError() }
        return q
    }

    static func tokenize(_ text: String) throws -> [String] {
        var out: [String] = []
        var i = text.startIndex
        let ops = ["==", "!=", ">=", "<=", "=~", "!~", "&&", "||", ">", "<", "!", "(", ")", "[", "]", ","]
        while i < text.endIndex {
            let ch = text[i]
            if ch.isWhitespace { i = text.index(after: i); continue }
            if ch == "\"" || ch == "'" {
                var j = text.index(after: i)
                while j < text.endIndex && text[j] != ch { j = text.index(after: j) }
                guard j < text.endIndex else { throw ParseError() }
                out.append("\u{1}" + String(text[text.index(after: i)..<j]))
                i = text.index(after: j)
                continue
            }
            if let op = ops.first(where: { text[i...].hasPrefix($0) }) {
                out.append(op)
                i = text.index(i, offsetBy: op.count)
                continue
            }
            var j = i
            while j < text.endIndex, !text[j].isWhitespace, !"()[],=!<>~&|\"'".contains(text[j]) { j = text.index(after: j) }
            guard j > i else { throw ParseError() }
            out.append(String(text[i..<j]))
            i = j
        }
        return out
    }

    struct Parser {
        var tokens: [String]
        var at = 0
        var atEnd: Bool { at >= tokens.count }
        var peek: String? { atEnd ? nil : tokens[at] }
        mutating func next() throws -> String {
            guard let t = peek else { throw ParseError() }
            at += 1
            return t
        }

        mutating func expression() throws -> ClusterQuery {
            var left = try conjunction()
            while let t = peek, t == "||" || t.lowercased() == "or" {
                at += 1
                left = .or(left, try conjunction())
            }
            return left
        }

        mutating func conjunction() throws -> ClusterQuery {
            var left = try unary()
            while let t = peek, t == "&&" || t.lowercased() == "and" {
                at += 1
                left = .and(left, try unary())
            }
            return left
        }

        mutating func unary() throws -> ClusterQuery {
            if let t = peek, t == "!" || t.lowercased() == "not" {
                at += 1
                return .not(try unary())
            }
            if peek == "(" {
                at += 1
                let q = try expression()
                guard try next() == ")" else { throw ParseError() }
                return q
            }
            return try term()
        }

        mutating func term() throws -> ClusterQuery {
            let subject = try next()
            guard !["(", ")", "[", "]", ","].contains(subject) else { throw ParseError() }
            var op = try next()
            if op == "!" {
                // `!exists`
                guard try next().lowercased() == "exists" else { throw ParseError() }
                return .term(subject: subject, op: "not_exists", values: [])
            }
            op = op.lowercased()
            switch op {
            case "exists", "not_exists":
                return .term(subject: subject, op: op, values: [])
            case "in", "not_in":
                guard try next() == "[" else { throw ParseError() }
                var values: [String] = []
                while true {
                    let v = try next()
                    if v == "]" { break }
                    if v == "," { continue }
                    values.append(Self.literal(v))
                }
                return .term(subject: subject, op: op, values: values)
            case "==", "equals", "!=", "not_equals", ">", ">=", "<", "<=", "=~", "matches", "!~", "not_matches":
                let v = try next()
                guard !["(", ")", "[", "]", ","].contains(v) else { throw ParseError() }
                return .term(subject: subject, op: op, values: [Self.literal(v)])
            default:
                throw ParseError()
            }
        }

        static func literal(_ token: String) -> String { token.hasPrefix("\u{1}") ? String(token.dropFirst()) : token }
    }

    func matches(_ c: TaskPlacement.Candidate) -> Bool {
        switch self {
        case .and(let a, let b): return a.matches(c) && b.matches(c)
        case .or(let a, let b): return a.matches(c) || b.matches(c)
        case .not(let a): return !a.matches(c)
        case .term(let subject, let op, let values):
            let actual: [String]
            switch subject {
            case "ec2InstanceId": actual = [c.ec2InstanceId]
            case "agentConnected": actual = [String(c.agentConnected)]
            case "runningTasksCount": actual = [String(c.taskGroups.count)]
            case "registeredAt": actual = [String(Int(c.registeredAt))]
            case "task:group": actual = c.taskGroups
            default:
                let name = subject.hasPrefix("attribute:") ? String(subject.dropFirst("attribute:".count)) : subject
                actual = c.attributes[name].map { [$0] } ?? []
            }
            return Self.compare(actual, op, values, anyOf: subject == "task:group")
        }
    }

    static func compare(_ actual: [String], _ op: String, _ values: [String], anyOf: Bool) -> Bool {
        switch op {
        case "exists": return !actual.isEmpty
        case "not_exists": return actual.isEmpty
        case "!=", "not_equals": return !actual.contains { $0 == values.first }
        case "not_in": return !actual.contains(where: values.contains)
        case "!~", "not_matches": return !actual.contains { fullMatch($0, values.first ?? "") }
        default: break
        }
        return actual.contains { a in
            let v = values.first ?? ""
            switch op {
            case "==", "equals": return a == v
            case "in": return values.contains(a)
            case "=~", "matches": return fullMatch(a, v)
            case ">", ">=", "<", "<=":
                if let x = Double(a), let y = Double(v) {
                    return op == ">" ? x > y : op == ">=" ? x >= y : op == "<" ? x < y : x <= y
                }
                return op == ">" ? a > v : op == ">=" ? a >= v : op == "<" ? a < v : a <= v
            default: return false
            }
        }
    }

    static func fullMatch(_ s: String, _ pattern: String) -> Bool {
        guard let re = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$") else { return false }
        return re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }
}
