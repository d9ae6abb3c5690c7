import Core

/// The recursive-descent machinery every expression parser shares: the token cursor, document paths with `#name`
/// placeholders and reserved-word checks, `:value` placeholders, function calls, and the semantic problems AWS reports
/// only once the whole expression parsed (a syntax error anywhere wins over them). Of the semantic problems, AWS
/// reports one, chosen by kind in the order of `Problem` (then the first found of that kind).
struct ExpressionParser {
    enum Problem: Int, Comparable {
        case section, parens, unknownFunction, misusedFunction, reserved, undefined, operandCount, distinct, function, paths, operatorType
        static func < (a: Problem, b: Problem) -> Bool { a.rawValue < b.rawValue }
    }

    /// An operand as parsed, before the parser deciding what it may be (a comparison side, a function argument, …).
    indirect enum Parsed {
        case path(DocumentPath)
        case value(AttributeValue, placeholder: String)
        case call(name: String, args: [Parsed])

        var constant: AttributeValue? {
            if case .value(let v, _) = self { return v }
            return nil
        }
        var path: DocumentPath? {
            if case .path(let p) = self { return p }
            return nil
        }
    }

    static let maxSize = 4096
    static let maxNesting = 100

    let source: [Character]
    let tokens: [ExpressionToken]
    let kind: ExpressionKind
    var position = 0
    var input: ExpressionInput
    private var problems: [Problem: String] = [:]

    init(_ text: String, kind: ExpressionKind, input: ExpressionInput) throws(AWSError) {
        if text.isEmpty { throw kind.error("The expression can not be empty;") }
        // AWS measures the raw text, placeholders unexpanded.
        if text.utf8.count > Self.maxSize {
            throw kind.error("Expression size has exceeded the maximum allowed size; expression size: \(text.utf8.count)")
        }
        self.source = Array(text)
        self.tokens = try ExpressionLexer.tokens(text, kind: kind)
        if tokens.count == 1 { throw kind.error("The expression can not be empty;") }
        self.kind = kind
        self.input = input
        // The parsers recurse once per "(": a bounded depth keeps a hostile expression off the thread's stack.
        var depth = 0
        for (i, token) in tokens.enumerated() {
            if token.isSymbol("(") { depth += 1 }
            if token.isSymbol(")") { depth -= 1 }
            if depth > Self.maxNesting { throw ExpressionLexer.syntax(source, tokens, i, kind) }
        }
    }

    /// Words the grammar of this kind of expression uses.
    var keywords: Set<String> {
        kind == .update ? ["SET", "REMOVE", "ADD", "DELETE"] : ["AND", "OR", "NOT", "BETWEEN", "IN"]
    }

    var current: ExpressionToken { tokens[position] }
    var next: ExpressionToken { tokens[min(position + 1, tokens.count - 1)] }

    @discardableResult
    mutating func advance() -> ExpressionToken {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    /// The index of the ")" closing the "(" at `index`, if the expression closes it.
    func matching(_ index: Int) -> Int? {
        var depth = 0
        for i in index..<tokens.count {
            if tokens[i].isSymbol("(") { depth += 1 }
            if tokens[i].isSymbol(")") { depth -= 1; if depth == 0 { return i } }
        }
        return nil
    }

    func syntaxError() -> AWSError { ExpressionLexer.syntax(source, tokens, position, kind) }

    mutating func expect(_ symbol: String) throws(AWSError) {
        guard current.isSymbol(symbol) else { throw syntaxError() }
        advance()
    }

    mutating func expectEnd() throws(AWSError) {
        guard current.kind == .eof else { throw syntaxError() }
    }

    /// Records a semantic problem (the first of its kind stays).
    mutating func note(_ problem: Problem, _ text: String) {
        if problems[problem] == nil { problems[problem] = text }
    }

    /// Throws the semantic problem AWS would report, if any.
    func finish() throws(AWSError) {
        if let first = problems.keys.min() { throw kind.error(problems[first]!) }
    }

    // MARK: operands

    /// A document path, a `:value`, or a function call `name(args…)`; also `( operand )`.
    mutating func parseOperand() throws(AWSError) -> Parsed {
        let token = current
        switch token.kind {
        case .value:
            advance()
            guard let value = input.value(token.text) else {
                note(.undefined, "An expression attribute value used in expression is not defined; attribute value: \(token.text)")
                return .value(.null, placeholder: token.text)
            }
            return .value(value, placeholder: token.text)
        case .identifier where next.isSymbol("("):
            advance()
            advance()
            var args: [Parsed] = []
            if current.isSymbol(")") { throw syntaxError() }
            while true {
                args.append(try parseOperand())
                if current.isSymbol(",") { advance(); continue }
                try expect(")")
                break
            }
            return .call(name: token.text, args: args)
        case .identifier, .name:
            return .path(try parsePath())
        case .symbol where token.text == "(":
            advance()
            let inner = try parseOperand()
            try expect(")")
            return inner
        default:
            throw syntaxError()
        }
    }

    /// `name ('.' name | '[' n ']')*`, names plain (not reserved) or `#placeholders`.
    mutating func parsePath() throws(AWSError) -> DocumentPath {
        var elements = [PathElement.name(try parsePathName())]
        while true {
            if current.isSymbol(".") {
                advance()
                elements.append(.name(try parsePathName()))
            } else if current.isSymbol("[") {
                advance()
                guard current.kind == .integer, let index = Int(current.text) else { throw syntaxError() }
                advance()
                try expect("]")
                elements.append(.index(index))
            } else {
                return DocumentPath(elements)
            }
        }
    }

    private mutating func parsePathName() throws(AWSError) -> String {
        let token = current
        switch token.kind {
        case .identifier:
            // The grammar's own keywords never name an attribute: "SET a = :v, REMOVE b" is a syntax error.
            if keywords.contains(token.text.uppercased()) { throw syntaxError() }
            advance()
            if ReservedWords.contains(token.text) {
                note(.reserved, "Attribute name is a reserved keyword; reserved keyword: \(token.text)")
            }
            return token.text
        case .name:
            advance()
            guard let name = input.name(token.text) else {
                note(.undefined, "An expression attribute name used in the document path is not defined; attribute name: \(token.text)")
                return token.text
            }
            return name
        default:
            throw syntaxError()
        }
    }

    // MARK: checks shared by parsers

    /// `{S:a}`-style rendering of a constant in AWS's error texts.
    static func render(_ value: AttributeValue) -> String {
        switch value {
        case .s(let s): "{S:\(s)}"
        case .n(let n): "{N:\(n)}"
        default: "{\(value.typeName):\(value.json)}"
        }
    }

    /// The operand's type when it is a constant (or a function whose result type is known).
    static func constantType(_ p: Parsed) -> String? {
        switch p {
        case .value(let v, _): v.typeName
        case .call(let name, _) where name == "size": "N"
        default: nil
        }
    }

    /// The function needs `count` operands.
    mutating func checkArity(_ name: String, _ args: [Parsed], _ count: Int) -> Bool {
        guard args.count == count else {
            note(.operandCount, "Incorrect number of operands for operator or function; operator or function: \(name), number of operands: \(args.count)")
            return false
        }
        return true
    }

    /// `a = a`, `begins_with(a, a)`: AWS refuses an operator whose operands are the same path.
    mutating func checkDistinct(_ op: String, _ x: Parsed, _ y: Parsed) {
        if let p = x.path, let q = y.path, p == q {
            note(.distinct, "The first operand must be distinct from the remaining operands for this operator or function; operator: \(op), first operand: \(p)")
        }
    }
}
