import Core

/// The grammar of UpdateExpression (AWS developer guide, "Update expressions"):
///
///     update ::= section+    section ::= SET action, … | REMOVE path, … | ADD path :value, … | DELETE path :value, …
///     SET action ::= path = value     value ::= operand | operand + operand | operand - operand
///     operand ::= path | :value | if_not_exists(path, value) | list_append(operand, operand)
///
/// Each section once; no two target paths overlap or conflict; ADD takes a number or a set, DELETE a set. As for
/// conditions, AWS's semantic texts are reported once the whole expression parsed.
struct UpdateParser {
    var p: ExpressionParser
    private var targets: [DocumentPath] = []

    init(p: ExpressionParser) { self.p = p }

    static let typeWords = ["S": "STRING", "N": "NUMBER", "B": "BINARY", "NULL": "NULL", "BOOL": "BOOLEAN", "L": "LIST", "M": "MAP"]

    mutating func parse() throws(AWSError) -> Update {
        var update = Update()
        var seen: Set<String> = []
        while p.current.kind != .eof {
            let word = p.current.text.uppercased()
            guard p.current.kind == .identifier, ["SET", "REMOVE", "ADD", "DELETE"].contains(word) else { throw p.syntaxError() }
            p.advance()
            if !seen.insert(word).inserted {
                p.note(.section, "The \"\(word)\" section can only be used once in an update expression;")
            }
            repeat {
                let path = try target()
                switch word {
                case "SET":
                    try p.expect("=")
                    update.sets.append(Update.SetAction(path: path, value: try setValue()))
                case "REMOVE":
                    update.removes.append(path)
                default:
                    let token = p.current
                    guard token.kind == .value else { throw p.syntaxError() }
                    guard case .value(let value, _) = try p.parseOperand() else { throw p.syntaxError() }
                    if p.input.values[token.text] != nil { checkSetOperand(word, value) }
                    if word == "ADD" {
                        update.adds.append(Update.ValueAction(path: path, value: value))
                    } else {
                        update.deletes.append(Update.ValueAction(path: path, value: value))
                    }
                }
            } while try comma()
        }
        try p.finish()
        return update
    }

    private mutating func comma() throws(AWSError) -> Bool {
        guard p.current.isSymbol(",") else { return false }
        p.advance()
        return true
    }

    /// A target path, checked against every earlier one.
    private mutating func target() throws(AWSError) -> DocumentPath {
        guard p.current.kind == .identifier || p.current.kind == .name else { throw p.syntaxError() }
        let path = try p.parsePath()
        for earlier in targets {
            if let clash = DocumentPath.clash(earlier, path) { p.note(.paths, clash) }
        }
        targets.append(path)
        return path
    }

    private mutating func setValue() throws(AWSError) -> Update.Value {
        let first = try operand(try p.parseOperand())
        if p.current.isSymbol("+") || p.current.isSymbol("-") {
            let op = p.advance().text
            let second = try operand(try p.parseOperand())
            for side in [first, second] {
                if case .value(let v) = side, v.typeName != "N" {
                    p.note(.function, "Incorrect operand type for operator or function; operator or function: \(op), operand type: \(v.typeName)")
                }
            }
            return op == "+" ? .plus(first, second) : .minus(first, second)
        }
        return .operand(first)
    }

    private mutating func operand(_ parsed: ExpressionParser.Parsed) throws(AWSError) -> Update.Operand {
        switch parsed {
        case .path(let path): return .path(path)
        case .value(let v, _): return .value(v)
        case .call(let name, let args):
            switch name {
            case "if_not_exists":
                guard p.checkArity(name, args, 2) else { return .value(.null) }
                guard let path = args[0].path else {
                    p.note(.function, "Operator or function requires a document path; operator or function: if_not_exists")
                    return .value(.null)
                }
                return .ifNotExists(path, try operand(args[1]))
            case "list_append":
                guard p.checkArity(name, args, 2) else { return .value(.null) }
                for arg in args {
                    if let v = arg.constant, v.typeName != "L" {
                        p.note(.function, "Incorrect operand type for operator or function; operator or function: list_append, operand type: \(v.typeName)")
                    }
                }
                return .listAppend(try operand(args[0]), try operand(args[1]))
            default:
                p.note(.unknownFunction, "Invalid function name; function: \(name)")
                return .value(.null)
            }
        }
    }

    /// ADD takes a number or a set; DELETE a set.
    private mutating func checkSetOperand(_ action: String, _ value: AttributeValue) {
        guard let word = Self.typeWords[value.typeName], !(action == "ADD" && value.typeName == "N") else { return }
        p.note(.operatorType, "Incorrect operand type for operator or function; operator: \(action), operand type: \(word)")
    }
}
