import Core
import Foundation

/// A CloudWatch Logs filter pattern (FilterLogEvents, `aws logs tail --filter-pattern`, TestMetricFilter), parsed
/// once per request and matched against each event's message. Three shapes, as AWS has them:
/// - text: terms (`ERROR`), quoted phrases (`"Internal Error"`), regexes (`%ERR[0-9]+%`), `-term` excludes,
///   `?term` starts an alternative (`?ERROR ?WARN`; `?A B ?C` is (A and B) or C, as the CDK writes term groups);
/// - JSON: `{ $.level = "ERROR" && $.latency > 100 }` on messages that are JSON objects;
/// - space-delimited: `[ip, user, ..., status = 4*, bytes > 1000]` on messages split into columns.
enum FilterPattern {
    case all
    case text(TextPattern)
    case json(JSONCondition)
    case delimited(DelimitedPattern)

    /// nil or blank matches every event.
    static func parse(_ source: String?) throws -> FilterPattern {
        let trimmed = (source ?? "").trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return .all }
        if trimmed.hasPrefix("{") { return .json(try JSONPatternParser.parse(trimmed)) }
        if trimmed.hasPrefix("[") { return .delimited(try DelimitedPattern.parse(trimmed)) }
        return .text(try TextPattern.parse(trimmed))
    }

    func matches(_ message: String) -> Bool {
        switch self {
        case .all: return true
        case .text(let p): return p.matches(message)
        case .json(let c):
            guard let value = JSONValue.parse(message) else { return false }
            return c.evaluate(value)
        case .delimited(let p): return p.matches(message)
        }
    }
}

func invalidPattern(_ detail: String? = nil) -> AWSError {
    AWSError("InvalidParameterException", "Invalid filter pattern" + (detail.map { ": \($0)" } ?? ""))
}

/// Terms and phrases, AND-ed within a group; groups (started by `?`) OR-ed. Terms written before the first `?`
/// must hold in every alternative.
struct TextPattern {
    struct Item {
        var excluded: Bool
        var matcher: TermMatcher
    }
    var required: [Item]
    var alternatives: [[Item]]

    static func parse(_ source: String) throws -> TextPattern {
        var required: [Item] = []
        var alternatives: [[Item]] = []
        var chars = Array(source.unicodeScalars)[...]
        while true {
            while let c = chars.first, c == " " || c == "\t" { chars.removeFirst() }
            guard !chars.isEmpty else { break }
            var startsGroup = false
            var excluded = false
            if chars.first == "?" && chars.count > 1 { startsGroup = true; chars.removeFirst() }
            if chars.first == "-" && chars.count > 1 { excluded = true; chars.removeFirst() }
            let matcher: TermMatcher
            if chars.first == "\"" {
                chars.removeFirst()
                var phrase = String.UnicodeScalarView()
                var closed = false
                while let c = chars.popFirst() {
                    if c == "\\", let next = chars.first, next == "\"" || next == "\\" { phrase.append(next); chars.removeFirst(); continue }
                    if c == "\"" { closed = true; break }
                    phrase.append(c)
                }
                guard closed else { throw invalidPattern("unterminated quoted phrase") }
                matcher = .word(String(phrase))
            } else if chars.first == "%", let close = chars.dropFirst().firstIndex(of: "%") {
                // A regex runs to its closing `%`, spaces included.
                let source = String(String.UnicodeScalarView(chars[chars.index(after: chars.startIndex)..<close]))
                matcher = .regex(try TermMatcher.compile(source))
                chars = chars[chars.index(after: close)...]
            } else {
                var word = String.UnicodeScalarView()
                while let c = chars.first, c != " " && c != "\t" { word.append(c); chars.removeFirst() }
                matcher = .word(String(word))
            }
            let item = Item(excluded: excluded, matcher: matcher)
            if startsGroup {
                alternatives.append([item])
            } else if alternatives.isEmpty {
                required.append(item)
            } else {
                alternatives[alternatives.count - 1].append(item)
            }
        }
        return TextPattern(required: required, alternatives: alternatives)
    }

    func matches(_ message: String) -> Bool {
        let bytes = Array(message.utf8)
        func holds(_ items: [Item]) -> Bool {
            items.allSatisfy { $0.matcher.found(in: message, bytes: bytes) != $0.excluded }
        }
        guard holds(required) else { return false }
        return alternatives.isEmpty || alternatives.contains(where: holds)
    }
}

/// One term of a text pattern. Words and phrases match case-sensitively at word boundaries: `ERROR` matches
/// `[ERROR]` and `level=ERROR` but not `ERRORS` (CloudWatch matches whole terms, not parts of words).
enum TermMatcher {
    case word(String)
    case regex(Regex<AnyRegexOutput>)

    static func compile(_ source: String) throws -> Regex<AnyRegexOutput> {
        do { return try Regex(source) } catch { throw invalidPattern("invalid regular expression %\(source)%") }
    }

    func found(in message: String, bytes: [UInt8]) -> Bool {
        switch self {
        case .regex(let r): return message.contains(r)
        case .word(let w): return Self.containsWord(Array(w.utf8), in: bytes)
        }
    }

    /// Letters, digits and any byte of a multi-byte character make up words.
    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b >= 0x80
    }

    static func containsWord(_ term: [UInt8], in text: [UInt8]) -> Bool {
        guard !term.isEmpty else { return true }
        guard term.count <= text.count else { return false }
        let checkStart = isWordByte(term[0])
        let checkEnd = isWordByte(term[term.count - 1])
        let first = term[0]
        var i = 0
        let last = text.count - term.count
        while i <= last {
            if text[i] == first {
                var j = 1
                while j < term.count && text[i + j] == term[j] { j += 1 }
                if j == term.count {
                    let startOK = !checkStart || i == 0 || !isWordByte(text[i - 1])
                    let end = i + term.count
                    let endOK = !checkEnd || end == text.count || !isWordByte(text[end])
                    if startOK && endOK { return true }
                }
            }
            i += 1
        }
        return false
    }
}

/// `*` in a value matches any run of characters (`Describe*`, `*Trail`, `123.123.*`).
enum Wildcard {
    static func matches(_ pattern: String, _ value: String) -> Bool {
        guard pattern.contains("*") else { return pattern == value }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(value)
        for (i, part) in parts.enumerated() {
            if i == 0 {
                guard rest.hasPrefix(part) else { return false }
                rest = rest.dropFirst(part.count)
            } else if i == parts.count - 1 {
                return part.isEmpty || (rest.count >= part.count && rest.hasSuffix(part))
            } else if !part.isEmpty {
                guard let r = rest.range(of: part) else { return false }
                rest = rest[r.upperBound...]
            }
        }
        return true
    }
}
