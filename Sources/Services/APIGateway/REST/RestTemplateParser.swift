/// The parser of mapping templates (RestTemplate): text, references and directives into nodes.
extension RestTemplate {
    struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        /// Nesting so far: a template nested deeper than `maxDepth` stops being parsed (no stack runs out).
        var depth = 0
        static let maxDepth = 64

        init(_ s: [Unicode.Scalar]) { self.s = s }

        func peek(_ k: Int = 0) -> Unicode.Scalar? { i + k < s.count ? s[i + k] : nil }
        func at(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            return i + w.count <= s.count && Array(s[i..<i + w.count]) == w
        }
        func text(_ from: Int, _ to: Int) -> String { String(String.UnicodeScalarView(s[from..<min(to, s.count)])) }
        static func isIdentStart(_ c: Unicode.Scalar?) -> Bool { c.map { $0.properties.isAlphabetic || $0 == "_" } ?? false }
        static func isIdent(_ c: Unicode.Scalar?) -> Bool { c.map { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" } ?? false }

        /// A directive that ends a line takes the line's end with it (as Velocity does), so templates stay readable.
        mutating func eatLineEnd() {
            var j = i
            while j < s.count, s[j] == " " || s[j] == "\t" { j += 1 }
            if j < s.count, s[j] == "\n" { i = j + 1 } else if j + 1 < s.count, s[j] == "\r", s[j + 1] == "\n" { i = j + 2 }
        }

        /// Nodes up to one of the `stops` directives (`#end`, `#else`, `#elseif`), which is left unread.
        mutating func nodes(until stops: Set<String>) -> [Node] {
            depth += 1
            defer { depth -= 1 }
            guard depth < Self.maxDepth else {
                defer { i = s.count }
                return [.text(text(i, s.count))]
            }
            var out: [Node] = []
            var buffer = ""
            func flush() { if !buffer.isEmpty { out.append(.text(buffer)); buffer = "" } }
            while let c = peek() {
                if c == "#" {
                    if at("##") {  // line comment
                        while let d = peek(), d != "\n" { i += 1 }
                        i += 1
                        continue
                    }
                    if at("#*") {
                        while i < s.count, !at("*#") { i += 1 }
                        i += 2
                        continue
                    }
                    let name = directiveName()
                    if stops.contains(name) { flush(); return out }
                    let start = i
                    if let node = directive(name) {
                        flush()
                        out.append(node)
                        continue
                    }
                    i = start
                    buffer.unicodeScalars.append(c)
                    i += 1
                    continue
                }
                if c == "$", let (node, _) = reference() {
                    flush()
                    out.append(node)
                    continue
                }
                if c == "\\", peek(1) == "$" || peek(1) == "#" {
                    buffer.unicodeScalars.append(peek(1)!)
                    i += 2
                    continue
                }
                buffer.unicodeScalars.append(c)
                i += 1
            }
            flush()
            return out
        }

        /// The name after `#` (`set`, `if`, `end`…; `{end}` too), without moving.
        func directiveName() -> String {
            var j = i + 1
            if j < s.count, s[j] == "{" { j += 1 }
            let start = j
            while j < s.count, s[j].properties.isAlphabetic { j += 1 }
            return text(start, j)
        }

        mutating func skipName() {
            i += 1
            let braced = peek() == "{"
            if braced { i += 1 }
            while let c = peek(), c.properties.isAlphabetic { i += 1 }
            if braced, peek() == "}" { i += 1 }
        }

        mutating func directive(_ name: String) -> Node? {
            switch name {
            case "set":
                skipName()
                skipSpaces()
                guard peek() == "(" else { return nil }
                i += 1
                skipSpaces()
                guard peek() == "$" else { return nil }
                i += 1
                if peek() == "{" { i += 1 }
                guard case .ref(let target, let path)? = referenceExpr() else { return nil }
                if peek() == "}" { i += 1 }
                skipSpaces()
                guard peek() == "=" else { return nil }
                i += 1
                guard let value = expression() else { return nil }
                skipSpaces()
                guard peek() == ")" else { return nil }
                i += 1
                eatLineEnd()
                return .set(target, path, value)
            case "if":
                skipName()
                guard let cond = condition() else { return nil }
                eatLineEnd()
                var branches: [(Expr, [Node])] = [(cond, nodes(until: ["end", "else", "elseif"]))]
                var otherwise: [Node]?
                while i < s.count {
                    let stop = directiveName()
                    skipName()
                    if stop == "elseif", let c = condition() {
                        eatLineEnd()
                        branches.append((c, nodes(until: ["end", "else", "elseif"])))
                    } else if stop == "else" {
                        eatLineEnd()
                        otherwise = nodes(until: ["end"])
                    } else {
                        eatLineEnd()
                        break
                    }
                }
                return .ifChain(branches, otherwise)
            case "foreach":
                skipName()
                skipSpaces()
                guard peek() == "(" else { return nil }
                i += 1
                skipSpaces()
                guard peek() == "$" else { return nil }
                i += 1
                let start = i
                while Self.isIdent(peek()) { i += 1 }
                let variable = text(start, i)
                skipSpaces()
                guard at("in") else { return nil }
                i += 2
                guard let list = expression() else { return nil }
                skipSpaces()
                guard peek() == ")" else { return nil }
                i += 1
                eatLineEnd()
                let body = nodes(until: ["end"])
                skipName()
                eatLineEnd()
                return .foreach(variable, list, body)
            default:
                return nil
            }
        }

        mutating func condition() -> Expr? {
            skipSpaces()
            guard peek() == "(" else { return nil }
            i += 1
            let e = expression()
            skipSpaces()
            guard peek() == ")" else { return nil }
            i += 1
            return e
        }

        /// `$name…`, `$!name…`, `${name…}` as an output node; nil when `$` starts no reference.
        mutating func reference() -> (Node, Int)? {
            let start = i
            i += 1
            var silent = false
            if peek() == "!" { silent = true; i += 1 }
            var braced = false
            if peek() == "{" { braced = true; i += 1 }
            guard Self.isIdentStart(peek()), let e = referenceExpr() else { i = start; return nil }
            if braced {
                guard peek() == "}" else { i = start; return nil }
                i += 1
            }
            return (.output(e, silent: silent, source: text(start, i)), start)
        }

        /// A reference's name and its `.member`, `.call(args)` and `[index]` parts (after `$`).
        mutating func referenceExpr() -> Expr? {
            let start = i
            while Self.isIdent(peek()) && peek() != "-" { i += 1 }
            guard i > start else { return nil }
            let name = text(start, i)
            var path: [Access] = []
            while true {
                if peek() == ".", Self.isIdentStart(peek(1)) {
                    i += 1
                    let m = i
                    while Self.isIdent(peek()) && peek() != "-" { i += 1 }
                    let member = text(m, i)
                    if peek() == "(" {
                        i += 1
                        var args: [Expr] = []
                        skipSpaces()
                        if peek() == ")" { i += 1 } else {
                            while let a = expression() {
                                args.append(a)
                                skipSpaces()
                                if peek() == "," { i += 1; continue }
                                if peek() == ")" { i += 1 }
                                break
                            }
                        }
                        path.append(.call(member, args))
                    } else {
                        path.append(.member(member))
                    }
                } else if peek() == "[" {
                    let save = i
                    i += 1
                    guard let e = expression() else { i = save; break }
                    skipSpaces()
                    guard peek() == "]" else { i = save; break }
                    i += 1
                    path.append(.index(e))
                } else {
                    break
                }
            }
            return .ref(name, path)
        }

        mutating func skipSpaces() { while let c = peek(), c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1 } }

        mutating func expression() -> Expr? {
            depth += 1
            defer { depth -= 1 }
            return depth < Self.maxDepth ? binary(0) : nil
        }

        static let levels: [[String]] = [["||", "or"], ["&&", "and"], ["==", "!=", "<=", ">=", "<", ">", "eq", "ne", "lt", "gt", "le", "ge"], ["+", "-"], ["*", "/", "%"]]
        static let words: [String: String] = ["or": "||", "and": "&&", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="]

        mutating func binary(_ level: Int) -> Expr? {
            guard level < Self.levels.count else { return unary() }
            guard var left = binary(level + 1) else { return nil }
            while true {
                skipSpaces()
                guard let op = Self.levels[level].first(where: { at($0) && (!$0.first!.isLetter || !Self.isIdent(peek($0.count))) }) else { return left }
                i += op.count
                guard let right = binary(level + 1) else { return left }
                left = .binary(Self.words[op] ?? op, left, right)
            }
        }

        mutating func unary() -> Expr? {
            skipSpaces()
            var negations = 0
            while peek() == "!" || at("not ") { i += peek() == "!" ? 1 : 3; negations += 1; skipSpaces() }
            guard let e = primary() else { return nil }
            return negations % 2 == 1 ? .not(e) : (negations > 0 ? .not(.not(e)) : e)
        }

        mutating func primary() -> Expr? {
            skipSpaces()
            guard let c = peek() else { return nil }
            switch c {
            case "(":
                i += 1
                let e = expression()
                skipSpaces()
                if peek() == ")" { i += 1 }
                return e
            case "\"", "'":
                i += 1
                let start = i
                while let d = peek(), d != c { i += 1 }
                let value = text(start, i)
                i += 1
                if c == "\"", value.contains("$") {  // interpolated
                    var inner = Parser(Array(value.unicodeScalars))
                    let nodes = inner.nodes(until: [])
                    return .ref("__interpolate", [.call("", nodes.map { n in
                        if case .output(let e, _, _) = n { return e }
                        if case .text(let t) = n { return .literal(t) }
                        return .literal("")
                    })])
                }
                return .literal(value)
            case "[":
                i += 1
                var items: [Expr] = []
                skipSpaces()
                if peek() == "]" { i += 1; return .list([]) }
                while let e = expression() {
                    skipSpaces()
                    if at("..") {
                        i += 2
                        guard let end = expression() else { return nil }
                        skipSpaces()
                        if peek() == "]" { i += 1 }
                        return .range(e, end)
                    }
                    items.append(e)
                    if peek() == "," { i += 1; continue }
                    if peek() == "]" { i += 1 }
                    break
                }
                return .list(items)
            case "{":
                i += 1
                var pairs: [(Expr, Expr)] = []
                skipSpaces()
                if peek() == "}" { i += 1; return .map([]) }
                while let k = expression() {
                    skipSpaces()
                    guard peek() == ":" else { return nil }
                    i += 1
                    guard let v = expression() else { return nil }
                    pairs.append((k, v))
                    skipSpaces()
                    if peek() == "," { i += 1; continue }
                    if peek() == "}" { i += 1 }
                    break
                }
                return .map(pairs)
            case "$":
                i += 1
                if peek() == "!" { i += 1 }
                let braced = peek() == "{"
                if braced { i += 1 }
                let e = referenceExpr()
                if braced, peek() == "}" { i += 1 }
                return e
            default:
                if ("0"..."9").contains(c) || (c == "-" && peek(1).map { ("0"..."9").contains($0) } == true) {
                    let start = i
                    i += 1
                    while let d = peek(), ("0"..."9").contains(d) || (d == "." && peek(1) != ".") { i += 1 }
                    let t = text(start, i)
                    return .literal(Int(t).map { $0 as Any } ?? Double(t) ?? 0)
                }
                for (word, value) in [("true", true as Any), ("false", false as Any), ("null", NSNullLiteral.value)] where at(word) {
                    i += word.count
                    return .literal(value)
                }
                return nil
            }
        }
    }
}

import Foundation

enum NSNullLiteral { static var value: Any { NSNull() } }
