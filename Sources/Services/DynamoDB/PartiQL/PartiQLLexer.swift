import Core

/// The tokens of DynamoDB's PartiQL subset: bare words (keywords and names, case kept), `"quoted names"` (`""` escapes
/// a quote), `'strings'` (`''` escapes), numbers, `?` parameters and punctuation (`<<` and `>>` delimit sets).
struct PartiQLToken: Sendable, Equatable {
    enum Kind: Sendable { case word, quoted, string, number, symbol, parameter, end }
    let kind: Kind
    let text: String

    func isWord(_ keyword: String) -> Bool { kind == .word && text.uppercased() == keyword }
    func isSymbol(_ s: String) -> Bool { kind == .symbol && text == s }

    /// How an error names it.
    var shown: String {
        switch kind {
        case .end: "end of statement"
        case .string: "'\(text)'"
        case .quoted: "\"\(text)\""
        default: text
        }
    }
}

enum PartiQLLexer {
    static func tokens(_ text: String) throws(AWSError) -> [PartiQLToken] {
        let c = Array(text.unicodeScalars)
        var out: [PartiQLToken] = [], i = 0
        func isWordStart(_ u: Unicode.Scalar) -> Bool { u == "_" || u == "$" || (u.isASCII && u.properties.isAlphabetic) }
        func isWordPart(_ u: Unicode.Scalar) -> Bool { isWordStart(u) || ("0"..."9").contains(u) }
        func isDigit(_ u: Unicode.Scalar) -> Bool { ("0"..."9").contains(u) }
        while i < c.count {
            let u = c[i]
            if u.properties.isWhitespace { i += 1; continue }
            // `--` comments run to the end of the line.
            if u == "-", i + 1 < c.count, c[i + 1] == "-" {
                while i < c.count, c[i] != "\n" { i += 1 }
                continue
            }
            if u == "'" || u == "\"" {
                var s = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < c.count {
                    if c[i] == u {
                        if i + 1 < c.count, c[i + 1] == u { s.append(u); i += 2; continue }
                        closed = true
                        i += 1
                        break
                    }
                    s.append(c[i])
                    i += 1
                }
                guard closed else { throw PartiQLError.malformed("Unterminated \(u == "'" ? "string literal" : "quoted identifier")") }
                out.append(PartiQLToken(kind: u == "'" ? .string : .quoted, text: String(s)))
                continue
            }
            if isDigit(u) || (u == "." && i + 1 < c.count && isDigit(c[i + 1])) {
                let start = i
                while i < c.count, isDigit(c[i]) { i += 1 }
                if i < c.count, c[i] == "." { i += 1; while i < c.count, isDigit(c[i]) { i += 1 } }
                if i < c.count, c[i] == "e" || c[i] == "E" {
                    var j = i + 1
                    if j < c.count, c[j] == "+" || c[j] == "-" { j += 1 }
                    if j < c.count, isDigit(c[j]) {
                        i = j
                        while i < c.count, isDigit(c[i]) { i += 1 }
                    }
                }
                out.append(PartiQLToken(kind: .number, text: String(String.UnicodeScalarView(c[start..<i]))))
                continue
            }
            if isWordStart(u) {
                let start = i
                while i < c.count, isWordPart(c[i]) { i += 1 }
                out.append(PartiQLToken(kind: .word, text: String(String.UnicodeScalarView(c[start..<i]))))
                continue
            }
            if u == "?" { out.append(PartiQLToken(kind: .parameter, text: "?")); i += 1; continue }
            if i + 1 < c.count {
                let two = String(String.UnicodeScalarView([u, c[i + 1]]))
                if ["<<", ">>", "<=", ">=", "<>", "!="].contains(two) {
                    out.append(PartiQLToken(kind: .symbol, text: two))
                    i += 2
                    continue
                }
            }
            guard ",.[]{}():=<>+-*".unicodeScalars.contains(u) else {
                throw PartiQLError.malformed("Unexpected character: \(u)")
            }
            out.append(PartiQLToken(kind: .symbol, text: String(u)))
            i += 1
        }
        out.append(PartiQLToken(kind: .end, text: ""))
        return out
    }
}

/// PartiQL's error texts, as DynamoDB words them.
enum PartiQLError {
    static func malformed(_ detail: String) -> AWSError {
        AWSError("ValidationException", "Statement wasn't well formed, can't be processed: \(detail)")
    }
    static func validation(_ m: String) -> AWSError { AWSError("ValidationException", m) }
    static let parameterCount = validation("Number of parameters in request and statement don't match.")
    static let incompleteKey = validation("Where clause does not contain a mandatory equality on all key attributes")
    static let duplicateItem = AWSError("DuplicateItemException", "Duplicate primary key exists in table")
}
