import Core
import Foundation

/// A JSON document as JSON filter patterns see it: booleans stay apart from numbers (`IS TRUE` is not `= 1`).
indirect enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let n = try? c.decode(Double.self) { self = .number(n); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    /// The message as JSON when it is an object or an array (after surrounding whitespace); else nil.
    static func parse(_ message: String) -> JSONValue? {
        guard let first = message.utf8.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: Data(message.utf8))
    }

    /// The text a string comparison sees: numbers without a needless `.0`.
    var text: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }
}

/// `$.a.b[0].c`, `$.list[*]`: the values a property selector reaches.
struct JSONSelector: Equatable {
    enum Step: Equatable { case key(String), index(Int), anyElement }
    var steps: [Step]

    static func parse(_ s: String) throws -> JSONSelector {
        guard s.hasPrefix("$") else { throw invalidPattern("a JSON selector starts with $") }
        var steps: [Step] = []
        var rest = Substring(s.dropFirst())
        while let c = rest.first {
            if c == "." {
                rest = rest.dropFirst()
                let key = rest.prefix(while: { $0 != "." && $0 != "[" })
                guard !key.isEmpty else { throw invalidPattern("empty key in \(s)") }
                steps.append(key == "*" ? .anyElement : .key(String(key)))
                rest = rest.dropFirst(key.count)
            } else if c == "[" {
                guard let close = rest.firstIndex(of: "]") else { throw invalidPattern("unclosed [ in \(s)") }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                if inner == "*" {
                    steps.append(.anyElement)
                } else if let n = Int(inner), n >= 0 {
                    steps.append(.index(n))
                } else if inner.count >= 2, inner.hasPrefix("\""), inner.hasSuffix("\"") {
                    steps.append(.key(String(inner.dropFirst().dropLast())))
                } else {
                    throw invalidPattern("invalid index [\(inner)] in \(s)")
                }
                rest = rest[rest.index(after: close)...]
            } else {
                throw invalidPattern("unexpected \(c) in \(s)")
            }
        }
        return JSONSelector(steps: steps)
    }

    func resolve(_ root: JSONValue) -> [JSONValue] {
        var current = [root]
        for step in steps {
            var next: [JSONValue] = []
            for v in current {
                switch (step, v) {
                case (.key(let k), .object(let o)): if let x = o[k] { next.append(x) }
                case (.index(let i), .array(let a)): if i < a.count { next.append(a[i]) }
                case (.anyElement, .array(let a)): next.append(contentsOf: a)
                case (.anyElement, .object(let o)): next.append(contentsOf: o.values)
                default: break
                }
            }
            current = next
        }
        return current
    }
}

/// The condition inside `{ ... }`.
indirect enum JSONCondition {
    enum Operator: String { case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=" }
    enum Operand {
        case number(Double, text: String)
        case string(String)
        case regex(Regex<AnyRegexOutput>)
    }

    case and(JSONCondition, JSONCondition)
    case or(JSONCondition, JSONCondition)
    case compare(JSONSelector, Operator, Operand)
    case isTrue(JSONSelector)
    case isFalse(JSONSelector)
    case isNull(JSONSelector)
    case notExists(JSONSelector)

    func evaluate(_ root: JSONValue) -> Bool {
        switch self {
        case .and(let a, let b): return a.evaluate(root) && b.evaluate(root)
        case .or(let a, let b): return a.evaluate(root) || b.evaluate(root)
        case .isTrue(let s): return s.resolve(root).contains(.bool(true))
        case .isFalse(let s): return s.resolve(root).contains(.bool(false))
        case .isNull(let s): return s.resolve(root).contains(.null)
        case .notExists(let s): return s.resolve(root).isEmpty
        case .compare(let s, let op, let operand):
            return s.resolve(root).contains { Self.compare($0, op, operand) }
        }
    }

    static func compare(_ value: JSONValue, _ op: Operator, _ operand: Operand) -> Bool {
        switch operand {
        case .number(let n, let text):
            if case .number(let x) = value {
                switch op {
                case .eq: return x == n
                case .ne: return x != n
                case .lt: return x < n
                case .le: return x <= n
                case .gt: return x > n
                case .ge: return x >= n
                }
            }
            guard case .string(let s) = value else { return false }
            if op == .eq { return s == text }
            if op == .ne { return s != text }
            return false
        case .string(let pattern):
            guard let text = value.text else { return false }
            return Wildcard.matches(pattern, text) == (op == .eq)
        case .regex(let r):
            guard let text = value.text else { return false }
            return text.contains(r) == (op == .eq)
        }
    }
}

/// Parses `{ $.a = "x" && ($.b > 1 || $.c IS TRUE) }`.
struct JSONPatternParser {
    enum Token: Equatable {
        case open, close, and, or
        case op(String)
        case selector(String)
        case quoted(String)
        case word(String)
    }

    var tokens: [Token]
    var position = 0

    static func parse(_ source: String) throws -> JSONCondition {
        guard source.hasPrefix("{"), source.hasSuffix("}") else { throw invalidPattern("a JSON pattern is enclosed in { }") }
        var p = JSONPatternParser(tokens: try tokenize(String(source.dropFirst().dropLast())))
        let c = try p.orExpression()
        guard p.position == p.tokens.count else { throw invalidPattern("unexpected text after the condition") }
        return c
    }

    static func tokenize(_ s: String) throws -> [Token] {
        var out: [Token] = []
        var chars = Array(s)[...]
        while let c = chars.first {
            if c.isWhitespace { chars.removeFirst(); continue }
            if c == "(" { out.append(.open); chars.removeFirst(); continue }
            if c == ")" { out.append(.close); chars.removeFirst(); continue }
            if c == "&" || c == "|" {
                guard chars.dropFirst().first == c else { throw invalidPattern("\(c) must be doubled") }
                out.append(c == "&" ? .and : .or)
                chars.removeFirst(2)
                continue
            }
            if "=!<>".contains(c) {
                var op = String(chars.removeFirst())
                if chars.first == "=" && op != "=" { op.append(chars.removeFirst()) }
                guard op != "!" else { throw invalidPattern("! must be followed by =") }
                out.append(.op(op))
                continue
            }
            if c == "\"" {
                chars.removeFirst()
                var text = ""
                var closed = false
                while let x = chars.popFirst() {
                    if x == "\\", let next = chars.first { text.append(next); chars.removeFirst(); continue }
                    if x == "\"" { closed = true; break }
                    text.append(x)
                }
                guard closed else { throw invalidPattern("unterminated string") }
                out.append(.quoted(text))
                continue
            }
            // A selector may quote a key inside brackets (`$.["a b"]`); anything else ends at a space or operator.
            var word = ""
            var inBrackets = false
            while let x = chars.first {
                if !inBrackets && (x.isWhitespace || "()=!<>&|\"".contains(x)) { break }
                if c == "$" && x == "[" { inBrackets = true }
                if x == "]" { inBrackets = false }
                word.append(x)
                chars.removeFirst()
            }
            guard !word.isEmpty else { throw invalidPattern("unexpected \(c)") }
            out.append(c == "$" ? .selector(word) : .word(word))
        }
        return out
    }

    mutating func next() -> Token? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    func peek() -> Token? { position < tokens.count ? tokens[position] : nil }

    mutating func orExpression() throws -> JSONCondition {
        var left = try andExpression()
        while peek() == .or {
            position += 1
            left = .or(left, try andExpression())
        }
        return left
    }

    mutating func andExpression() throws -> JSONCondition {
        var left = try primary()
        while peek() == .and {
            position += 1
            left = .and(left, try primary())
        }
        return left
    }

    mutating func primary() throws -> JSONCondition {
        switch next() {
        case .open:
            let inner = try orExpression()
            guard next() == .close else { throw invalidPattern("missing )") }
            return inner
        case .selector(let s):
            let selector = try JSONSelector.parse(s)
            switch next() {
            case .word("IS"):
                switch next() {
                case .word("TRUE"): return .isTrue(selector)
                case .word("FALSE"): return .isFalse(selector)
                case .word("NULL"): return .isNull(selector)
                default: throw invalidPattern("IS takes TRUE, FALSE or NULL")
                }
            case .word("NOT"):
                guard next() == .word("EXISTS") else { throw invalidPattern("NOT must be followed by EXISTS") }
                return .notExists(selector)
            case .op(let raw):
                guard let op = JSONCondition.Operator(rawValue: raw) else { throw invalidPattern("unknown operator \(raw)") }
                let operand = try Self.operand(next())
                if case .number = operand {} else if op != .eq && op != .ne {
                    throw invalidPattern("\(raw) compares numbers")
                }
                return .compare(selector, op, operand)
            default:
                throw invalidPattern("a selector must be followed by an operator, IS or NOT EXISTS")
            }
        default:
            throw invalidPattern("expected a condition")
        }
    }

    static func operand(_ token: Token?) throws -> JSONCondition.Operand {
        switch token {
        case .quoted(let s): return .string(s)
        case .word(let w):
            if w.count >= 2, w.hasPrefix("%"), w.hasSuffix("%") { return .regex(try TermMatcher.compile(String(w.dropFirst().dropLast()))) }
            if let first = w.first, first.isNumber || first == "-" || first == "+" || first == ".", let n = Double(w), n.isFinite {
                return .number(n, text: w)
            }
            return .string(w)
        default: throw invalidPattern("expected a value")
        }
    }
}
