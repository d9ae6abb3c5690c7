import Core

/// The grammar of ConditionExpression, FilterExpression and KeyConditionExpression (AWS developer guide,
/// "Condition and filter expressions"):
///
///     condition ::= operand comparator operand | operand BETWEEN operand AND operand | operand IN ( operand, … )
///                 | function | condition AND condition | condition OR condition | NOT condition | ( condition )
///
/// with precedence (highest first) comparators/BETWEEN/IN/functions, parentheses, NOT, AND, OR; keywords in any case.
/// Problems AWS reports by text (unknown or misused functions, wrong operand counts or types, BETWEEN bounds,
/// too many IN operands) are noted and reported after the whole expression parsed.
struct ConditionParser {
    var p: ExpressionParser

    static let functions: [String: Int] = [
        "attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2, "contains": 2, "size": 1,
    ]
    static let typeNames: Set<String> = ["S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"]
    static let maxInOperands = 100

    mutating func parse() throws(AWSError) -> ConditionNode {
        let node = try parseOr()
        try p.expectEnd()
        try p.finish()
        return node
    }

    private mutating func parseOr() throws(AWSError) -> ConditionNode {
        var node = try parseAnd()
        while p.current.isKeyword("OR") {
            p.advance()
            node = .or(node, try parseAnd())
        }
        return node
    }

    private mutating func parseAnd() throws(AWSError) -> ConditionNode {
        var node = try parseNot()
        while p.current.isKeyword("AND") {
            p.advance()
            node = .and(node, try parseNot())
        }
        return node
    }

    /// NOT NOT … is counted, not recursed: the expression may hold a thousand of them.
    private mutating func parseNot() throws(AWSError) -> ConditionNode {
        var negations = 0
        while p.current.isKeyword("NOT") {
            p.advance()
            negations += 1
        }
        var node = try parsePrimary()
        for _ in 0..<negations { node = .not(node) }
        return node
    }

    private mutating func parsePrimary() throws(AWSError) -> ConditionNode {
        // "(" opens a condition, or an operand when its group is followed by a comparator ("(a) = :v").
        if p.current.isSymbol("("), let close = p.matching(p.position), !Self.startsComparison(p.tokens[close + 1]) {
            p.advance()
            if p.current.isSymbol("("), p.matching(p.position) == close - 1 {
                p.note(.parens, "The expression has redundant parentheses;")
            }
            let inner = try parseOr()
            try p.expect(")")
            return inner
        }
        return try parseComparison()
    }

    private static func startsComparison(_ token: ExpressionToken) -> Bool {
        (token.kind == .symbol && ["=", "<>", "<", "<=", ">", ">="].contains(token.text)) || token.isKeyword("BETWEEN") || token.isKeyword("IN")
    }

    private mutating func parseComparison() throws(AWSError) -> ConditionNode {
        let lhs = try p.parseOperand()
        let token = p.current
        if token.kind == .symbol, ["=", "<>", "<", "<=", ">", ">="].contains(token.text) {
            p.advance()
            let rhs = try p.parseOperand()
            p.checkDistinct(token.text, lhs, rhs)
            if token.text != "=", token.text != "<>" { checkOrderable(token.text, [lhs, rhs]) }
            return .compare(token.text, operand(lhs), operand(rhs))
        }
        if token.isKeyword("BETWEEN") {
            p.advance()
            let lo = try p.parseOperand()
            guard p.current.isKeyword("AND") else { throw p.syntaxError() }
            p.advance()
            let hi = try p.parseOperand()
            checkOrderable("BETWEEN", [lhs, lo, hi])
            checkBetween(lo, hi)
            return .between(operand(lhs), operand(lo), operand(hi))
        }
        if token.isKeyword("IN") {
            p.advance()
            try p.expect("(")
            var list: [Parsed] = []
            while true {
                list.append(try p.parseOperand())
                if p.current.isSymbol(",") { p.advance(); continue }
                try p.expect(")")
                break
            }
            if list.count > Self.maxInOperands {
                p.note(.function, "The IN operator is provided with too many operands; number of operands: \(list.count)")
            }
            return .in(operand(lhs), list.map { operand($0) })
        }
        // No operator: only a boolean function stands alone.
        guard case .call(let name, let args) = lhs else { throw p.syntaxError() }
        return function(name, args)
    }

    typealias Parsed = ExpressionParser.Parsed

    /// A comparison side: a path, a value or `size(…)`; a boolean function here is misused.
    private mutating func operand(_ parsed: Parsed) -> Operand {
        switch parsed {
        case .path(let path): return .path(path)
        case .value(let v, _): return .value(v)
        case .call(let name, let args):
            guard Self.functions[name] != nil else {
                p.note(.unknownFunction, "Invalid function name; function: \(name)")
                return .value(.null)
            }
            guard name == "size" else {
                p.note(.misusedFunction, "The function is not allowed to be used this way in an expression; function: \(name)")
                return .value(.null)
            }
            guard p.checkArity(name, args, 1) else { return .value(.null) }
            if let type = ExpressionParser.constantType(args[0]), ["N", "BOOL", "NULL"].contains(type) {
                p.note(.function, "Incorrect operand type for operator or function; operator or function: size, operand type: \(type)")
            }
            return .size(operand(args[0]))
        }
    }

    private mutating func function(_ name: String, _ args: [Parsed]) -> ConditionNode {
        guard let arity = Self.functions[name] else {
            p.note(.unknownFunction, "Invalid function name; function: \(name)")
            return .constant(false)
        }
        if name == "size" {
            p.note(.misusedFunction, "The function is not allowed to be used this way in an expression; function: size")
            return .constant(false)
        }
        guard p.checkArity(name, args, arity) else { return .constant(false) }
        if arity == 2 { p.checkDistinct(name, args[0], args[1]) }
        switch name {
        case "attribute_exists", "attribute_not_exists":
            guard let path = args[0].path else {
                p.note(.function, "Operator or function requires a document path; operator or function: \(name)")
                return .constant(false)
            }
            return name == "attribute_exists" ? .exists(path) : .notExists(path)
        case "attribute_type":
            guard case .s(let typeName)? = args[1].constant else {
                let type = ExpressionParser.constantType(args[1]) ?? "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
                p.note(.function, "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: \(type)")
                return .constant(false)
            }
            if !Self.typeNames.contains(typeName) {
                p.note(.function, "Invalid attribute type name found; type: \(typeName), valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}")
            }
            return .attributeType(operand(args[0]), typeName)
        case "begins_with":
            for arg in args {
                if let type = ExpressionParser.constantType(arg), type != "S", type != "B" {
                    p.note(.function, "Incorrect operand type for operator or function; operator or function: begins_with, operand type: \(type)")
                }
            }
            return .beginsWith(operand(args[0]), operand(args[1]))
        default:  // contains
            return .contains(operand(args[0]), operand(args[1]))
        }
    }

    /// Ordering needs scalars: a constant list, set, map, BOOL or NULL is refused (an attribute of such a type only
    /// makes the comparison false).
    private mutating func checkOrderable(_ op: String, _ operands: [Parsed]) {
        for operand in operands {
            if let type = ExpressionParser.constantType(operand), !["S", "N", "B"].contains(type) {
                p.note(.function, "Incorrect operand type for operator or function; operator or function: \(op), operand type: \(type)")
            }
        }
    }

    /// Constant bounds must share a type and be in order.
    private mutating func checkBetween(_ lo: Parsed, _ hi: Parsed) {
        guard let x = lo.constant, let y = hi.constant else { return }
        let bounds = "lower bound operand: AttributeValue: \(ExpressionParser.render(x)), upper bound operand: AttributeValue: \(ExpressionParser.render(y))"
        if x.typeName != y.typeName {
            p.note(.function, "The BETWEEN operator requires same data type for lower and upper bounds; \(bounds)")
        } else if Compare.order(x, y) == .some(.orderedDescending) {
            p.note(.function, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; \(bounds)")
        }
    }
}
