import Core

/// The expression language's tokens and its syntax errors. Every expression (condition, filter, key condition,
/// update, projection) is lexed here; keywords are plain identifiers matched case-insensitively by the parsers.
/// A syntax error names the offending token and quotes the source from the token before it to the token after it,
/// as AWS does: `Syntax error; token: ")", near: "()"`, `token: "<EOF>", near: "SET"`.
struct ExpressionToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case identifier   // a, status, attribute_exists, AND
        case name         // #n
        case value        // :v
        case integer      // 3 (list index)
        case symbol       // = <> < <= > >= ( ) [ ] , . + -
        case eof
    }
    let kind: Kind
    let text: String
    /// Character offsets in the source: [start, end).
    let start: Int
    let end: Int

    func isKeyword(_ word: String) -> Bool { kind == .identifier && text.uppercased() == word }
    func isSymbol(_ s: String) -> Bool { kind == .symbol && text == s }
}

/// Which request parameter an expression came from: it prefixes every parse error ("Invalid UpdateExpression: …").
enum ExpressionKind: String, Sendable {
    case condition = "ConditionExpression"
    case filter = "FilterExpression"
    case keyCondition = "KeyConditionExpression"
    case update = "UpdateExpression"
    case projection = "ProjectionExpression"

    func error(_ text: String) -> AWSError { AWSError("ValidationException", "Invalid \(rawValue): \(text)") }
}

enum ExpressionLexer {
    static func tokens(_ text: String, kind: ExpressionKind) throws(AWSError) -> [ExpressionToken] {
        let chars = Array(text)
        var out: [ExpressionToken] = []
        var i = 0
        func isNameChar(_ c: Character) -> Bool {
            guard let a = c.asciiValue else { return false }
            return (a >= 97 && a <= 122) || (a >= 65 && a <= 90) || (a >= 48 && a <= 57) || a == 95
        }
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            let start = i
            if c == "#" || c == ":" {
                i += 1
                while i < chars.count, isNameChar(chars[i]) { i += 1 }
                if i == start + 1 { throw syntax(chars, out, ExpressionToken(kind: .symbol, text: String(c), start: start, end: i), kind) }
                out.append(ExpressionToken(kind: c == "#" ? .name : .value, text: String(chars[start..<i]), start: start, end: i))
            } else if let a = c.asciiValue, a >= 48 && a <= 57 {
                while i < chars.count, let d = chars[i].asciiValue, d >= 48 && d <= 57 { i += 1 }
                // Digits running into letters ("1a") are one bad token.
                while i < chars.count, isNameChar(chars[i]) { i += 1 }
                let word = String(chars[start..<i])
                out.append(ExpressionToken(kind: word.allSatisfy(\.isNumber) ? .integer : .identifier, text: word, start: start, end: i))
            } else if isNameChar(c) {
                while i < chars.count, isNameChar(chars[i]) { i += 1 }
                out.append(ExpressionToken(kind: .identifier, text: String(chars[start..<i]), start: start, end: i))
            } else {
                let two = i + 1 < chars.count ? String([c, chars[i + 1]]) : ""
                if two == "<>" || two == "<=" || two == ">=" {
                    i += 2
                    out.append(ExpressionToken(kind: .symbol, text: two, start: start, end: i))
                } else if "=<>()[],.+-".contains(c) {
                    i += 1
                    out.append(ExpressionToken(kind: .symbol, text: String(c), start: start, end: i))
                } else {
                    throw syntax(chars, out, ExpressionToken(kind: .symbol, text: String(c), start: start, end: i + 1), kind)
                }
            }
        }
        // The end sits right after the last token, so trailing blanks stay out of "near".
        let end = out.last?.end ?? 0
        out.append(ExpressionToken(kind: .eof, text: "<EOF>", start: end, end: end))
        return out
    }

    /// A syntax error at a token met while lexing (no token after it is known yet).
    private static func syntax(_ chars: [Character], _ before: [ExpressionToken], _ bad: ExpressionToken, _ kind: ExpressionKind) -> AWSError {
        let from = before.last?.start ?? bad.start
        return kind.error("Syntax error; token: \"\(bad.text)\", near: \"\(String(chars[from..<min(bad.end, chars.count)]))\"")
    }

    /// A syntax error at `tokens[index]`: the source from the previous token's start to the next token's end.
    static func syntax(_ source: [Character], _ tokens: [ExpressionToken], _ index: Int, _ kind: ExpressionKind) -> AWSError {
        let bad = tokens[index]
        let from = index > 0 ? tokens[index - 1].start : bad.start
        let to = index + 1 < tokens.count ? tokens[index + 1].end : bad.end
        return kind.error("Syntax error; token: \"\(bad.text)\", near: \"\(String(source[from..<to]))\"")
    }
}
