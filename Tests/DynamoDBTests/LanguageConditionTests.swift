import Core
import Foundation
import Testing

@testable import DynamoDB

// ConditionExpression / FilterExpression: grammar, AWS's texts, evaluation.

func num(_ text: String) -> AttributeValue { .n(try! DynamoNumber(text)) }

/// Parses with the given placeholders and checks every placeholder was used.
func condition(_ text: String, _ names: [String: String] = [:], _ values: [String: AttributeValue] = [:],
               kind: ExpressionKind = .condition) throws -> Condition {
    var input = ExpressionInput(names: names, values: values)
    let c = try Condition.parse(text, &input, kind: kind)
    try input.checkAllUsed()
    return c
}

@Suite struct LanguageConditionTests {
    let item: Item = [
        "id": .s("abc"), "n": num("5"), "s": .s("hello world"), "b": .b([1, 2, 3]), "flag": .bool(true), "nothing": .null,
        "ss": .ss(["red", "blue"]), "ns": .ns([try! DynamoNumber("1"), try! DynamoNumber("2")]), "bs": .bs([[1], [2]]),
        "l": .l([.s("x"), num("7"), .m(["deep": .s("d")])]), "m": .m(["a": .m(["b": num("1")]), "status": .s("on")]),
        "Status": .s("active"),
    ]

    func check(_ text: String, _ values: [String: AttributeValue] = [:], names: [String: String] = [:],
               sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
        try condition(text, names, values).evaluate(item)
    }

    @Test func comparators() throws {
        #expect(try check("n = :v", [":v": num("5.0")]))
        #expect(try check("n <> :v", [":v": num("6")]))
        #expect(try check("n < :v", [":v": num("6")]))
        #expect(try check("n <= :v", [":v": num("5")]))
        #expect(try check("n > :v", [":v": num("-5")]))
        #expect(try check("n >= :v", [":v": num("5")]))
        #expect(try !check("n > :v", [":v": num("5")]))
        #expect(try check("s > :v", [":v": .s("hello"), ]))
        #expect(try check("b < :v", [":v": .b([1, 3])]))
        // Different types: false, and no error.
        #expect(try !check("n = :v", [":v": .s("5")]))
        #expect(try !check("n < :v", [":v": .s("9")]))
        #expect(try check("n <> :v", [":v": .s("5")]))
        // A absent attribute: comparisons false, <> true.
        #expect(try !check("absent = :v", [":v": num("1")]))
        #expect(try !check("absent < :v", [":v": num("1")]))
        #expect(try check("absent <> :v", [":v": num("1")]))
        // Whole documents and sets compare by value.
        #expect(try check("ss = :v", [":v": .ss(["blue", "red"])]))
        #expect(try check("m.a = :v", [":v": .m(["b": num("1.00")])]))
        #expect(try check(":v = n", [":v": num("5")]))
        #expect(try check(":a < :b", [":a": num("1"), ":b": num("2")]))
    }

    @Test func pathsNamesAndIndexes() throws {
        #expect(try check("m.a.b = :v", [":v": num("1")]))
        #expect(try check("l[1] = :v", [":v": num("7")]))
        #expect(try check("l[2].deep = :v", [":v": .s("d")]))
        #expect(try check("#st = :v", [":v": .s("active")], names: ["#st": "Status"]))
        #expect(try check("m.#st = :v", [":v": .s("on")], names: ["#st": "status"]))
        #expect(try check("#m.#a.#b = :v", [":v": num("1")], names: ["#m": "m", "#a": "a", "#b": "b"]))
        #expect(try check("#dotted = :v", [":v": .s("x")], names: ["#dotted": "a.b"]) == false)
        #expect(try condition("#dotted = :v", ["#dotted": "a.b"], [":v": .s("x")]).evaluate(["a.b": .s("x")]))
        #expect(try !check("l[9] = :v", [":v": num("7")]))
        #expect(try !check("n.x = :v", [":v": num("7")]))
        #expect(try !check("m[0] = :v", [":v": num("7")]))
        #expect(try check("  n   =:v  ", [":v": num("5")]))
    }

    @Test func betweenAndIn() throws {
        #expect(try check("n BETWEEN :a AND :b", [":a": num("1"), ":b": num("5")]))
        #expect(try check("n between :a and :b", [":a": num("5"), ":b": num("5")]))
        #expect(try !check("n BETWEEN :a AND :b", [":a": num("6"), ":b": num("9")]))
        #expect(try !check("s BETWEEN :a AND :b", [":a": num("1"), ":b": num("9")]))
        #expect(try check("s BETWEEN :a AND :b", [":a": .s("h"), ":b": .s("i")]))
        #expect(try check("n IN (:a, :b)", [":a": num("1"), ":b": num("5")]))
        #expect(try !check("n in (:a)", [":a": num("1")]))
        #expect(try check("id IN (:a,:b,:c)", [":a": .s("x"), ":b": .s("abc"), ":c": num("1")]))
    }

    @Test func functions() throws {
        #expect(try check("attribute_exists(n)"))
        #expect(try check("attribute_exists(m.a.b)"))
        #expect(try check("attribute_not_exists(absent)"))
        #expect(try !check("attribute_not_exists(l[0])"))
        #expect(try check("attribute_exists(l[2].deep)"))
        #expect(try check("attribute_type(n, :t)", [":t": .s("N")]))
        #expect(try check("attribute_type(nothing, :t)", [":t": .s("NULL")]))
        #expect(try !check("attribute_type(ss, :t)", [":t": .s("L")]))
        #expect(try check("begins_with(s, :p)", [":p": .s("hello")]))
        #expect(try check("begins_with(b, :p)", [":p": .b([1, 2])]))
        #expect(try !check("begins_with(s, :p)", [":p": .s("world")]))
        #expect(try !check("begins_with(n, :p)", [":p": .s("5")]))
        #expect(try check("contains(s, :p)", [":p": .s("o w")]))
        #expect(try check("contains(ss, :p)", [":p": .s("red")]))
        #expect(try !check("contains(ss, :p)", [":p": .s("re")]))
        #expect(try check("contains(ns, :p)", [":p": num("2.0")]))
        #expect(try check("contains(bs, :p)", [":p": .b([2])]))
        #expect(try check("contains(b, :p)", [":p": .b([2, 3])]))
        #expect(try check("contains(l, :p)", [":p": num("7")]))
        #expect(try !check("contains(n, :p)", [":p": num("5")]))
        #expect(try !check("contains(absent, :p)", [":p": .s("x")]))
        #expect(try check("size(s) = :v", [":v": num("11")]))
        #expect(try check("size(b) = :v", [":v": num("3")]))
        #expect(try check("size(ss) = :v", [":v": num("2")]))
        #expect(try check("size(l) = :v", [":v": num("3")]))
        #expect(try check("size(m) = :v", [":v": num("2")]))
        #expect(try check("size(m.a) < size(l)"))
        #expect(try !check("size(n) = :v", [":v": num("1")]))
        #expect(try !check("size(absent) >= :v", [":v": num("0")]))
        #expect(try check("size(#s) = :v", [":v": num("6")], names: ["#s": "Status"]))
        // Strings count UTF-16 code units: é is one, 𝄞 two.
        #expect(try condition("size(u) = :n", [:], [":n": num("3")]).evaluate(["u": .s("é𝄞")]))
    }

    @Test func logicAndPrecedence() throws {
        let t: [String: AttributeValue] = [":t": num("5"), ":f": num("0")]
        // AND binds tighter than OR; NOT tighter than AND.
        #expect(try check("n = :t OR n = :f AND n = :f", t))
        #expect(try !check("(n = :t OR n = :f) AND n = :f", t))
        #expect(try check("NOT n = :f AND n = :t", t))
        #expect(try !check("NOT (n = :f OR n = :t)", t))
        #expect(try check("not not n = :t", [":t": num("5")]))
        #expect(try check("n = :t and (n = :f or attribute_exists(s))", t))
        #expect(try check("(n) = :t", [":t": num("5")]))
        #expect(try check("((n = :t) OR n = :f)", t))
        #expect(try check("((n) = :t)", [":t": num("5")]))
        #expect(try check("size((s)) = :v", [":v": num("11")]))
    }

    @Test func absentItemMeansNoAttributes() throws {
        #expect(try condition("attribute_not_exists(id)").evaluate(nil))
        #expect(try !condition("attribute_exists(id)").evaluate(nil))
        #expect(try !condition("id = :v", [:], [":v": .s("x")]).evaluate(nil))
        #expect(try condition("NOT contains(id, :v)", [:], [":v": .s("x")]).evaluate(nil))
    }

    func fails(_ text: String, _ message: String, _ names: [String: String] = [:], _ values: [String: AttributeValue] = [:],
               kind: ExpressionKind = .condition, sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(message, code: "ValidationException", { _ = try condition(text, names, values, kind: kind) }, sourceLocation: sourceLocation)
    }

    @Test func reservedWordsNeedNames() {
        fails("status = :v", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status", [:], [":v": .s("a")])
        fails("m.Name = :v", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Name", [:], [":v": .s("a")])
        fails("attribute_exists(data)", "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: data", kind: .filter)
        #expect(ReservedWords.words.count == 573)
        #expect(ReservedWords.contains("sTaTuS") && ReservedWords.contains("TTL") && !ReservedWords.contains("id"))
    }

    @Test func undefinedAndUnusedPlaceholders() {
        fails("#n = :v", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #n", [:], [":v": .s("a")])
        fails("a = :v", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :v")
        fails("a = :v", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}", [:], [":v": .s("a"), ":w": .s("b")])
        fails("a = :v", "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}", ["#a": "x", "#b": "y"], [":v": .s("a")])
    }

    @Test func syntaxErrors() throws {
        let v: [String: AttributeValue] = [":v": .s("a")]
        fails("a = ", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\"")
        fails("a = :v AND", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"", [:], v)
        fails("a == :v", "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"== :v\"", [:], v)
        fails("attribute_type()", "Invalid ConditionExpression: Syntax error; token: \")\", near: \"()\"")
        fails("a = :v b", "Invalid ConditionExpression: Syntax error; token: \"b\", near: \":v b\"", [:], v)
        fails("a", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"a\"")
        fails("l[a] = :v", "Invalid ConditionExpression: Syntax error; token: \"a\", near: \"[a]\"", [:], v)
        fails("a BETWEEN :v", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v\"", [:], v)
        fails("a = :v)", "Invalid ConditionExpression: Syntax error; token: \")\", near: \":v)\"", [:], v)
        fails("a @ :v", "Invalid ConditionExpression: Syntax error; token: \"@\", near: \"a @\"", [:], v)
        fails("", "Invalid ConditionExpression: The expression can not be empty;")
        fails("   ", "Invalid ConditionExpression: The expression can not be empty;")
        let long = "a = :v" + String(repeating: " ", count: 4091)
        fails(long, "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097", [:], [":v": .s("x")])
        #expect(throws: Never.self) { _ = try condition(String(long.dropLast()), [:], [":v": .s("x")]) }
        // Nesting is bounded (the parser recurses per parenthesis); NOT chains are not.
        let deep = String(repeating: "(", count: 101) + "a = :v" + String(repeating: ")", count: 101)
        fails(deep, "Invalid ConditionExpression: Syntax error; token: \"(\", near: \"((a\"", [:], [":v": .s("x")])
        let nots = String(repeating: "NOT ", count: 1000) + "a = :v"
        #expect(try condition(nots, [:], [":v": .s("x")]).evaluate(["a": .s("x")]))
        fails("a = # ", "Invalid ConditionExpression: Syntax error; token: \"#\", near: \"= #\"")
    }

    @Test func functionErrors() {
        let v: [String: AttributeValue] = [":v": .s("a"), ":n": num("1"), ":t": .s("X")]
        fails("foo(a)", "Invalid ConditionExpression: Invalid function name; function: foo")
        fails("begins_with(a)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1")
        fails("attribute_exists(:v)", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists", [:], v)
        fails("begins_with(a, :n)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N", [:], v)
        fails("attribute_type(a, :n)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N", [:], v)
        fails("attribute_type(a, :t)", "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}", [:], v)
        fails("size(a)", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size")
        fails("attribute_exists(a) = :v", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists", [:], v)
        fails("size(:n) = :n", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N", [:], v)
        fails("a = a", "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]")
        fails("contains(a.b, a.b)", "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [a, b]")
        fails("a <= :b", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <=, operand type: BOOL", [:], [":b": .bool(true)])
        fails(":l < a", "Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: <, operand type: L", [:], [":l": .l([])], kind: .filter)
        fails("a BETWEEN :l AND :l", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: SS", [:], [":l": .ss(["x"])])
        fails("ATTRIBUTE_EXISTS(a)", "Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS")
    }

    @Test func betweenAndInErrors() {
        fails("a BETWEEN :hi AND :lo", "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {N:9}",
              [:], [":hi": num("10"), ":lo": num("9")])
        fails("a BETWEEN :n AND :s", "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}",
              [:], [":n": num("1"), ":s": .s("a")])
        var values: [String: AttributeValue] = [:]
        for i in 0..<101 { values[":v\(i)"] = num(String(i)) }
        let list = (0..<101).map { ":v\($0)" }.joined(separator: ", ")
        fails("a IN (\(list))", "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101", [:], values)
        let hundred = (0..<100).map { ":v\($0)" }.joined(separator: ",")
        values[":v100"] = nil
        #expect(throws: Never.self) { _ = try condition("a IN (\(hundred))", [:], values) }
    }

    @Test func errorPriority() {
        // A syntax error anywhere wins over a semantic problem earlier in the text.
        fails("status = :v AND", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"", [:], [":v": .s("a")])
        // An unknown function is reported before a reserved word.
        fails("status = :v AND foo(a)", "Invalid ConditionExpression: Invalid function name; function: foo", [:], [":v": .s("a")])
        fails("((a = :v))", "Invalid ConditionExpression: The expression has redundant parentheses;", [:], [":v": .s("a")])
    }

    @Test func expressionInputTexts() {
        expectError("ExpressionAttributeNames must not be empty") { _ = try ExpressionInput(names: [String: Any](), values: nil) }
        expectError("ExpressionAttributeValues must not be empty") { _ = try ExpressionInput(names: nil, values: [String: Any]()) }
        expectError("ExpressionAttributeNames contains invalid key: Syntax error; key: \"n\"") { _ = try ExpressionInput(names: ["n": "x"], values: nil) }
        expectError("ExpressionAttributeValues contains invalid key: Syntax error; key: \"v\"") {
            _ = try ExpressionInput(names: nil, values: ["v": ["S": "x"]])
        }
        expectError("ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :v") {
            _ = try ExpressionInput(names: nil, values: [":v": ["SS": [String]()]])
        }
        expectError("ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes for key :v") {
            _ = try ExpressionInput(names: nil, values: [":v": [String: Any]()])
        }
        #expect(throws: Never.self) {
            var input = try ExpressionInput(names: jsonValue(##"{"#a":"x"}"##), values: jsonValue(#"{":b":{"N":"1"}}"#))
            _ = try Condition.parse("#a = :b", &input)
            try input.checkAllUsed()
        }
    }
}
