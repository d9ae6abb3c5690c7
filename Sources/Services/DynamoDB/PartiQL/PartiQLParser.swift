import Core

/// A recursive-descent parser for DynamoDB's PartiQL subset: SELECT, INSERT, UPDATE, DELETE. `?` parameters are bound
/// while parsing, in order, from the request's `Parameters`; literals become `AttributeValue`s (`<<…>>` a string,
/// number or binary set by its members' type).
struct PartiQLParser {
    private var tokens: [PartiQLToken]
    private var at = 0
    private let parameters: [AttributeValue]
    private var used = 0

    static func parse(_ text: String, parameters: [AttributeValue] = []) throws(AWSError) -> PartiQLStatement {
        var p = PartiQLParser(tokens: try PartiQLLexer.tokens(text), parameters: parameters)
        let statement = try p.statement()
        guard p.current.kind == .end else { throw p.unexpected() }
        // Too few parameters fail as they are read; DynamoDB accepts extra ones.
        return statement
    }

    private init(tokens: [PartiQLToken], parameters: [AttributeValue]) {
        self.tokens = tokens
        self.parameters = parameters
    }

    // MARK: tokens

    private var current: PartiQLToken { tokens[at] }
    private func peek(_ n: Int = 1) -> PartiQLToken { tokens[min(at + n, tokens.count - 1)] }
    private mutating func advance() { if at < tokens.count - 1 { at += 1 } }

    private func unexpected() -> AWSError {
        current.kind == .end ? PartiQLError.malformed("Unexpected end of statement")
            : PartiQLError.malformed("Unexpected token: \(current.shown)")
    }

    private mutating func accept(word: String) -> Bool {
        guard current.isWord(word) else { return false }
        advance()
        return true
    }

    private mutating func accept(symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    private mutating func expect(word: String) throws(AWSError) { guard accept(word: word) else { throw unexpected() } }
    private mutating func expect(symbol: String) throws(AWSError) { guard accept(symbol: symbol) else { throw unexpected() } }

    /// Words that end a path or an operand rather than name an attribute.
    private static let keywords: Set<String> = [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "BETWEEN", "IN", "IS", "MISSING", "NULL", "TRUE", "FALSE", "INSERT",
        "INTO", "VALUE", "VALUES", "UPDATE", "SET", "REMOVE", "DELETE", "RETURNING", "ORDER", "BY", "ASC", "DESC", "EXISTS",
    ]

    // MARK: statements

    private mutating func statement() throws(AWSError) -> PartiQLStatement {
        if accept(word: "SELECT") { return .select(try select()) }
        if accept(word: "INSERT") { return try insert() }
        if accept(word: "UPDATE") { return try update() }
        if accept(word: "DELETE") { return try delete() }
        if accept(word: "EXISTS") {
            try expect(symbol: "(")
            try expect(word: "SELECT")
            let sel = try select()
            try expect(symbol: ")")
            return .exists(sel)
        }
        throw PartiQLError.malformed("Expected data manipulation")
    }

    private mutating func select() throws(AWSError) -> PartiQLSelect {
        var paths: [DocumentPath]?
        if accept(symbol: "*") {
            if current.isSymbol(",") { throw PartiQLError.validation("Other attributes should not be present in the projection when '*' is used.") }
        } else {
            var list: [DocumentPath] = []
            repeat {
                let path = try self.path()
                for earlier in list where earlier == path {
                    throw PartiQLError.validation("Duplicate identifiers in select clause: \(path.head)")
                }
                list.append(path)
            } while accept(symbol: ",")
            paths = list
        }
        try expect(word: "FROM")
        let table = try name()
        var index: String?
        if accept(symbol: ".") { index = try name() }
        if current.isSymbol(",") { throw PartiQLError.validation("Only select from a single table or index is supported.") }
        var s = PartiQLSelect(table: table, index: index, paths: paths)
        if accept(word: "WHERE") { s.filter = try expression() }
        if accept(word: "ORDER") {
            try expect(word: "BY")
            guard s.filter != nil else { throw PartiQLError.validation("Must have WHERE clause in the statement when using ORDER BY clause.") }
            repeat {
                let n = try name()
                let descending = accept(word: "DESC")
                if !descending { _ = accept(word: "ASC") }
                s.orderBy.append((n, descending))
            } while accept(symbol: ",")
        }
        return s
    }

    private mutating func insert() throws(AWSError) -> PartiQLStatement {
        try expect(word: "INTO")
        let table = try name()
        if current.isWord("VALUES") || current.isSymbol("<<") {
            throw PartiQLError.validation("Unsupported operation: Inserting multiple items in a single statement is not supported, use \"INSERT INTO tableName VALUE item\" instead")
        }
        try expect(word: "VALUE")
        guard current.isSymbol("{") || current.kind == .parameter else {
            throw PartiQLError.validation("Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.")
        }
        guard case .m(let item) = try value() else {
            throw PartiQLError.validation("Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.")
        }
        if current.isWord("RETURNING") { throw PartiQLError.validation("RETURNING is not supported in INSERT") }
        return .insert(table: table, item: item)
    }

    private mutating func update() throws(AWSError) -> PartiQLStatement {
        let table = try name()
        var u = Update()
        var any = false
        while true {
            if accept(word: "SET") {
                repeat { try assignment(&u) } while accept(symbol: ",")
            } else if accept(word: "REMOVE") {
                repeat { u.removes.append(try path()) } while accept(symbol: ",")
            } else {
                break
            }
            any = true
        }
        guard any else { throw unexpected() }
        let targets = u.targets
        for (i, a) in targets.enumerated() {
            for b in targets[(i + 1)...] { if let clash = DocumentPath.clash(a, b) { throw PartiQLError.validation(clash) } }
        }
        guard accept(word: "WHERE") else { throw PartiQLError.incompleteKey }
        let condition = try expression()
        return .update(table: table, update: u, where: condition, returning: try returning())
    }

    /// `path = value`, `path = a + b`, `list_append(…)`, `set_add(path, <<…>>)`, `set_delete(path, <<…>>)`.
    private mutating func assignment(_ u: inout Update) throws(AWSError) {
        let target = try path()
        try expect(symbol: "=")
        if current.kind == .word, peek().isSymbol("("), ["SET_ADD", "SET_DELETE"].contains(current.text.uppercased()) {
            let op = current.text.uppercased().dropFirst(4)
            advance(); advance()
            let first = try path()
            guard first == target else { throw PartiQLError.validation("The first argument to SET_\(op) must equal the assignment value") }
            try expect(symbol: ",")
            let v = try value()
            switch v {
            case .ss, .ns, .bs: break
            default: throw PartiQLError.validation("The second argument to SET_\(op) must be a value with type SET")
            }
            try expect(symbol: ")")
            if op == "ADD" { u.adds.append(.init(path: target, value: v)) } else { u.deletes.append(.init(path: target, value: v)) }
            return
        }
        let x = try updateOperand()
        let v: Update.Value
        if accept(symbol: "+") { v = .plus(x, try updateOperand()) } else if accept(symbol: "-") { v = .minus(x, try updateOperand()) } else { v = .operand(x) }
        u.sets.append(.init(path: target, value: v))
    }

    private mutating func updateOperand() throws(AWSError) -> Update.Operand {
        if current.kind == .word, peek().isSymbol("(") {
            let fn = current.text.uppercased()
            advance(); advance()
            let x = try updateOperand()
            try expect(symbol: ",")
            let y = try updateOperand()
            try expect(symbol: ")")
            switch fn {
            case "LIST_APPEND": return .listAppend(x, y)
            case "IF_NOT_EXISTS":
                guard case .path(let p) = x else { throw PartiQLError.validation("Unrecognized function: if_not_exists") }
                return .ifNotExists(p, y)
            default: throw PartiQLError.validation("Unrecognized function: \(fn.lowercased())")
            }
        }
        if isPathStart { return .path(try path()) }
        return .value(try value())
    }

    private mutating func delete() throws(AWSError) -> PartiQLStatement {
        try expect(word: "FROM")
        let table = try name()
        guard accept(word: "WHERE") else { throw PartiQLError.incompleteKey }
        let condition = try expression()
        let r = try returning()
        if let r, r != PartiQLReturning(modifiedOnly: false, new: false) {
            throw PartiQLError.validation("Invalid returning clause: RETURNING \(r.text). Only RETURNING ALL OLD * is allowed in DELETE statements.")
        }
        return .delete(table: table, where: condition, returning: r)
    }

    private mutating func returning() throws(AWSError) -> PartiQLReturning? {
        guard accept(word: "RETURNING") else { return nil }
        let modified: Bool
        if accept(word: "MODIFIED") { modified = true } else { try expect(word: "ALL"); modified = false }
        let new: Bool
        if accept(word: "NEW") { new = true } else { try expect(word: "OLD"); new = false }
        guard accept(symbol: "*") else {
            throw PartiQLError.validation("Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause")
        }
        return PartiQLReturning(modifiedOnly: modified, new: new)
    }

    // MARK: names and paths

    /// A table or index name: `"quoted"` or a bare word.
    private mutating func name() throws(AWSError) -> String {
        switch current.kind {
        case .quoted:
            defer { advance() }
            return current.text
        case .word where !Self.keywords.contains(current.text.uppercased()):
            defer { advance() }
            return current.text
        default:
            throw unexpected()
        }
    }

    private var isPathStart: Bool {
        current.kind == .quoted || (current.kind == .word && !Self.keywords.contains(current.text.uppercased()))
    }

    /// `a.b[0]."c d"`.
    private mutating func path() throws(AWSError) -> DocumentPath {
        if current.isSymbol("[") { throw PartiQLError.validation("A path cannot start with a list index") }
        var elements: [PathElement] = [.name(try name())]
        while true {
            if accept(symbol: ".") {
                guard current.kind == .word || current.kind == .quoted else { throw unexpected() }
                if current.text.isEmpty { throw PartiQLError.validation("Path component cannot be an empty string") }
                elements.append(.name(current.text))
                advance()
            } else if accept(symbol: "[") {
                guard current.kind == .number, let i = Int(current.text), i >= 0 else {
                    throw PartiQLError.validation("Unexpected path component")
                }
                advance()
                try expect(symbol: "]")
                elements.append(.index(i))
            } else {
                break
            }
        }
        return DocumentPath(elements)
    }

    // MARK: conditions

    private mutating func expression() throws(AWSError) -> ConditionNode {
        var left = try conjunction()
        while accept(word: "OR") { left = .or(left, try conjunction()) }
        return left
    }

    private mutating func conjunction() throws(AWSError) -> ConditionNode {
        var left = try negation()
        while accept(word: "AND") { left = .and(left, try negation()) }
        return left
    }

    private mutating func negation() throws(AWSError) -> ConditionNode {
        if accept(word: "NOT") { return .not(try negation()) }
        return try predicate()
    }

    private mutating func predicate() throws(AWSError) -> ConditionNode {
        if accept(symbol: "(") {
            let inner = try expression()
            try expect(symbol: ")")
            return inner
        }
        if current.kind == .word, peek().isSymbol("(") {
            let fn = current.text.lowercased()
            switch fn {
            case "begins_with", "contains", "attribute_type":
                advance(); advance()
                let x = try operand()
                try expect(symbol: ",")
                let y = try operand()
                try expect(symbol: ")")
                switch fn {
                case "begins_with": return .beginsWith(x, y)
                case "contains": return .contains(x, y)
                default:
                    guard case .value(.s(let type)) = y else { throw PartiQLError.validation("Invalid attribute type name found") }
                    let types = ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"]
                    guard types.contains(type) else {
                        throw PartiQLError.validation("Invalid attribute type name found; type: \(type), valid types: { \(types.joined(separator: ",")) }")
                    }
                    return .attributeType(x, type)
                }
            case "size": break
            case "exists": throw PartiQLError.validation("EXISTS can only be used in ExecuteTransaction write requests.")
            default: throw PartiQLError.validation("Unrecognized function: \(fn)")
            }
        }
        let lhs = try operand()
        if accept(word: "IS") {
            let negated = accept(word: "NOT")
            guard case .path(let p) = lhs else {
                throw PartiQLError.validation("The left hand side argument to IS must be a Variable Reference, Literal, or Path")
            }
            if accept(word: "MISSING") { return negated ? .exists(p) : .notExists(p) }
            if accept(word: "NULL") {
                let isNull = ConditionNode.attributeType(lhs, "NULL")
                return negated ? .not(isNull) : isNull
            }
            throw PartiQLError.validation("Unsupported data type for IS operator: \(current.text.uppercased()). Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]")
        }
        if accept(word: "BETWEEN") {
            let lo = try operand()
            try expect(word: "AND")
            return .between(lhs, lo, try operand())
        }
        let notIn = current.isWord("NOT") && peek().isWord("IN")
        if notIn { advance() }
        if accept(word: "IN") {
            let close: String
            if accept(symbol: "[") { close = "]" } else { try expect(symbol: "("); close = ")" }
            var list: [Operand] = []
            if !current.isSymbol(close) {
                repeat { list.append(try operand()) } while accept(symbol: ",")
            }
            try expect(symbol: close)
            guard case .path = lhs, !list.isEmpty else {
                throw PartiQLError.validation("IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member")
            }
            return notIn ? .not(.in(lhs, list)) : .in(lhs, list)
        }
        if current.kind == .symbol, ["=", "<>", "!=", "<", "<=", ">", ">="].contains(current.text) {
            let op = current.text
            advance()
            return .compare(op == "!=" ? "<>" : op, lhs, try operand())
        }
        throw current.kind == .end || current.isSymbol(")") || current.isWord("AND") || current.isWord("OR")
            ? PartiQLError.validation("WHERE clause must contain an expression that resolves to a boolean") : unexpected()
    }

    private mutating func operand() throws(AWSError) -> Operand {
        if current.isWord("SIZE"), peek().isSymbol("(") {
            advance(); advance()
            let inner = try operand()
            try expect(symbol: ")")
            return .size(inner)
        }
        if current.isWord("MISSING") { throw PartiQLError.validation("MISSING must be compared using IS operator") }
        if isPathStart { return .path(try path()) }
        return .value(try value())
    }

    // MARK: values

    mutating func value() throws(AWSError) -> AttributeValue {
        let t = current
        switch t.kind {
        case .string:
            advance()
            return .s(t.text)
        case .number:
            advance()
            return .n(try DynamoNumber(t.text))
        case .parameter:
            advance()
            guard used < parameters.count else { throw PartiQLError.parameterCount }
            used += 1
            return parameters[used - 1]
        case .word:
            switch t.text.uppercased() {
            case "TRUE": advance(); return .bool(true)
            case "FALSE": advance(); return .bool(false)
            case "NULL": advance(); return .null
            default: throw unexpected()
            }
        case .symbol:
            if t.text == "-" || t.text == "+", peek().kind == .number {
                advance()
                let n = current.text
                advance()
                return .n(try DynamoNumber(t.text == "-" ? "-" + n : n))
            }
            if accept(symbol: "[") {
                var list: [AttributeValue] = []
                if !accept(symbol: "]") {
                    repeat { list.append(try value()) } while accept(symbol: ",")
                    try expect(symbol: "]")
                }
                return .l(list)
            }
            if accept(symbol: "{") {
                var map: [String: AttributeValue] = [:]
                if !accept(symbol: "}") {
                    repeat {
                        guard current.kind == .string else {
                            throw PartiQLError.validation("Tuple keys must be of type String. Actual type: \(current.kind == .number ? "NUMBER" : "IDENTIFIER") under {}")
                        }
                        let key = current.text
                        advance()
                        try expect(symbol: ":")
                        let v = try value()
                        guard map[key] == nil else { throw PartiQLError.validation("Duplicate keys in tuple. Key: \(key) under {}") }
                        map[key] = v
                    } while accept(symbol: ",")
                    try expect(symbol: "}")
                }
                return .m(map)
            }
            if accept(symbol: "<<") {
                var members: [AttributeValue] = []
                if !current.isSymbol(">>") {
                    repeat { members.append(try value()) } while accept(symbol: ",")
                }
                try expect(symbol: ">>")
                return try Self.set(members)
            }
            throw unexpected()
        default:
            throw unexpected()
        }
    }

    /// `<<…>>`: a string, number or binary set by its members' type, with the texts DynamoDB gives a wrong one.
    static func set(_ members: [AttributeValue]) throws(AWSError) -> AttributeValue {
        guard let first = members.first else { throw PartiQLError.validation("Empty bags are not supported") }
        let mixed = PartiQLError.validation("Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags")
        let duplicates = PartiQLError.validation("Input collection contains duplicates")
        switch first {
        case .s:
            var out: [String] = []
            for m in members { guard case .s(let s) = m else { throw mixed }; out.append(s) }
            guard Set(out).count == out.count else { throw duplicates }
            return .ss(out)
        case .n:
            var out: [DynamoNumber] = []
            for m in members { guard case .n(let n) = m else { throw mixed }; out.append(n) }
            guard Set(out).count == out.count else { throw duplicates }
            return .ns(out)
        case .b:
            var out: [[UInt8]] = []
            for m in members { guard case .b(let b) = m else { throw mixed }; out.append(b) }
            guard Set(out).count == out.count else { throw duplicates }
            return .bs(out)
        default:
            throw mixed
        }
    }
}
