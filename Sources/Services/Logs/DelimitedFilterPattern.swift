import Core
import Foundation

/// `[ip, user, ..., status_code = 4*, bytes > 1000]`: the message is split into space-delimited columns (text in
/// `"..."` or `[...]` is one column), each named by its place in the pattern; `...` stands for any number of columns.
struct DelimitedPattern {
    struct Field {
        var name: String?  // nil for `...`
        var condition: Condition?
    }

    indirect enum Condition {
        case and(Condition, Condition)
        case or(Condition, Condition)
        case compare(String, JSONCondition.Operator, JSONCondition.Operand)

        func evaluate(_ columns: [String: String]) -> Bool {
            switch self {
            case .and(let a, let b): return a.evaluate(columns) && b.evaluate(columns)
            case .or(let a, let b): return a.evaluate(columns) || b.evaluate(columns)
            case .compare(let name, let op, let operand):
                guard let text = columns[name] else { return false }
                // A column holding a number compares as one; other columns compare as text.
                if case .number = operand, let n = Double(text) {
                    return JSONCondition.compare(.number(n), op, operand)
                }
                return JSONCondition.compare(.string(text), op, operand)
            }
        }
    }

    var fields: [Field]

    static func parse(_ source: String) throws -> DelimitedPattern {
        guard source.hasPrefix("["), source.hasSuffix("]") else { throw invalidPattern("a space-delimited pattern is enclosed in [ ]") }
        var fields: [Field] = []
        for raw in splitFields(String(source.dropFirst().dropLast())) {
            let text = raw.trimmingCharacters(in: .whitespaces)
            if text == "..." { fields.append(Field(name: nil, condition: nil)); continue }
            let tokens = try JSONPatternParser.tokenize(text)
            guard case .word(let name) = tokens.first else { throw invalidPattern("each field of [ ] starts with a name") }
            if tokens.count == 1 { fields.append(Field(name: name, condition: nil)); continue }
            var parser = ConditionParser(tokens: tokens)
            let condition = try parser.or()
            guard parser.position == tokens.count else { throw invalidPattern("unexpected text in field \(text)") }
            fields.append(Field(name: name, condition: condition))
        }
        guard !fields.isEmpty else { throw invalidPattern("[ ] needs at least one field") }
        return DelimitedPattern(fields: fields)
    }

    /// Commas outside quotes separate fields.
    static func splitFields(_ s: String) -> [String] {
        var out: [String] = []
        var current = ""
        var quoted = false
        for c in s {
            if c == "\"" { quoted.toggle() }
            if c == "," && !quoted { out.append(current); current = ""; continue }
            current.append(c)
        }
        out.append(current)
        return out
    }

    /// The message's columns: split on spaces, `"a b"` and `[a b]` kept whole (without their delimiters).
    static func columns(_ message: String) -> [String] {
        var out: [String] = []
        var chars = Substring(message)
        while true {
            chars = chars.drop(while: { $0 == " " || $0 == "\t" })
            guard let c = chars.first else { break }
            if (c == "\"" || c == "["), let close = chars.dropFirst().firstIndex(of: c == "\"" ? "\"" : "]") {
                out.append(String(chars[chars.index(after: chars.startIndex)..<close]))
                chars = chars[chars.index(after: close)...]
            } else {
                let word = chars.prefix(while: { $0 != " " && $0 != "\t" })
                out.append(String(word))
                chars = chars.dropFirst(word.count)
            }
        }
        return out
    }

    func matches(_ message: String) -> Bool { values(message) != nil }

    /// The named columns of a matching message (TestMetricFilter's extractedValues); nil when it does not match.
    func values(_ message: String) -> [String: String]? {
        let cols = Self.columns(message)
        var bound: [String: String] = [:]
        return bind(0, 0, cols, &bound) ? bound : nil
    }

    /// Fields from `f` onto columns from `c`; an ellipsis tries every length (backtracking).
    private func bind(_ f: Int, _ c: Int, _ cols: [String], _ bound: inout [String: String]) -> Bool {
        if f == fields.count { return c == cols.count }
        let field = fields[f]
        guard let name = field.name else {
            for next in stride(from: cols.count, through: c, by: -1) where bind(f + 1, next, cols, &bound) { return true }
            return false
        }
        guard c < cols.count else { return false }
        let previous = bound[name]
        bound[name] = cols[c]
        if field.condition?.evaluate(bound) ?? true, bind(f + 1, c + 1, cols, &bound) { return true }
        bound[name] = previous
        return false
    }

    /// `name op value` terms joined by `&&` and `||`, with parentheses.
    struct ConditionParser {
        var tokens: [JSONPatternParser.Token]
        var position = 0

        mutating func or() throws -> Condition {
            var left = try and()
            while position < tokens.count, tokens[position] == .or {
                position += 1
                left = .or(left, try and())
            }
            return left
        }

        mutating func and() throws -> Condition {
            var left = try primary()
            while position < tokens.count, tokens[position] == .and {
                position += 1
                left = .and(left, try primary())
            }
            return left
        }

        mutating func primary() throws -> Condition {
            guard position < tokens.count else { throw invalidPattern("expected a condition") }
            if tokens[position] == .open {
                position += 1
                let inner = try or()
                guard position < tokens.count, tokens[position] == .close else { throw invalidPattern("missing )") }
                position += 1
                return inner
            }
            guard position + 1 < tokens.count, case .word(let name) = tokens[position], case .op(let raw) = tokens[position + 1],
                  let op = JSONCondition.Operator(rawValue: raw) else {
                throw invalidPattern("expected name, operator and value")
            }
            let operand = try JSONPatternParser.operand(position + 2 < tokens.count ? tokens[position + 2] : nil)
            if case .number = operand {} else if op != .eq && op != .ne { throw invalidPattern("\(raw) compares numbers") }
            position += 3
            return .compare(name, op, operand)
        }
    }
}
