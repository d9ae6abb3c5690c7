import Core
import Foundation
import Testing

@testable import DynamoDB

// UpdateExpression: parsing, AWS's texts, application to items.

@Suite struct LanguageUpdateTests {
    let item: Item = [
        "id": .s("k"), "n": num("5"), "s": .s("x"), "l": .l([.s("a"), .s("b"), .s("c"), .s("d")]),
        "m": .m(["a": .m(["b": num("1")])]), "ss": .ss(["a", "b"]), "ns": .ns([try! DynamoNumber("1")]),
        "bs": .bs([[1]]),
    ]

    func update(_ text: String, _ values: [String: AttributeValue] = [:], names: [String: String] = [:],
                on base: Item? = nil) throws -> (item: Item, updatedPaths: Set<String>) {
        var input = ExpressionInput(names: names, values: values)
        let u = try Update.parse(text, &input)
        try input.checkAllUsed()
        return try u.apply(to: base ?? item, keyNames: ["id"])
    }

    func fails(_ text: String, _ message: String, _ values: [String: AttributeValue] = [:], names: [String: String] = [:],
               on base: Item? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(message, code: "ValidationException", { _ = try update(text, values, names: names, on: base) }, sourceLocation: sourceLocation)
    }

    @Test func setValuesAndArithmetic() throws {
        let r = try update("SET a = :v, n = n + :one, #b = :one - n", [":v": .s("new"), ":one": num("1")], names: ["#b": "b"])
        #expect(r.item["a"] == .s("new"))
        #expect(r.item["n"] == num("6"))
        // Every SET reads the item as it was: b = 1 - 5, not 1 - 6.
        #expect(r.item["b"] == num("-4"))
        #expect(r.updatedPaths == ["a", "n", "b"])
        #expect(try update("set n = n - :d", [":d": num("0.25")]).item["n"] == num("4.75"))
        #expect(try update("SET n = :a + :b", [":a": num("0.1"), ":b": num("0.2")]).item["n"] == num("0.3"))
    }

    @Test func ifNotExistsAndListAppend() throws {
        let values: [String: AttributeValue] = [":z": num("0"), ":l": .l([.s("e")])]
        var r = try update("SET n = if_not_exists(n, :z), c = if_not_exists(c, :z)", [":z": num("0")])
        #expect(r.item["n"] == num("5") && r.item["c"] == num("0"))
        r = try update("SET l = list_append(l, :l), c = if_not_exists(c, :z) + :z", values)
        #expect(r.item["l"] == .l(["a", "b", "c", "d", "e"].map { .s($0) }))
        r = try update("SET l = list_append(:l, l)", [":l": .l([.s("e")])])
        #expect(r.item["l"] == .l(["e", "a", "b", "c", "d"].map { .s($0) }))
        r = try update("SET nl = list_append(if_not_exists(nl, :empty), :l)", [":empty": .l([]), ":l": .l([.s("e")])])
        #expect(r.item["nl"] == .l([.s("e")]))
    }

    @Test func nestedAndListTargets() throws {
        var r = try update("SET m.a.c = :v, m.a.b = :v", [":v": .s("y")])
        #expect(r.item["m"] == .m(["a": .m(["b": .s("y"), "c": .s("y")])]))
        #expect(r.updatedPaths == ["m"])
        r = try update("SET l[1] = :v", [":v": .s("B")])
        #expect(r.item["l"] == .l(["a", "B", "c", "d"].map { .s($0) }))
        // An index past the end appends.
        r = try update("SET l[10] = :v", [":v": .s("z")])
        #expect(r.item["l"] == .l(["a", "b", "c", "d", "z"].map { .s($0) }))
        fails("SET absent.x = :v", "The document path provided in the update expression is invalid for update", [":v": .s("y")])
        fails("SET s.x = :v", "The document path provided in the update expression is invalid for update", [":v": .s("y")])
        fails("SET m[0] = :v", "The document path provided in the update expression is invalid for update", [":v": .s("y")])
        fails("SET m.q.r = :v", "The document path provided in the update expression is invalid for update", [":v": .s("y")])
    }

    @Test func removeIncludingListElements() throws {
        var r = try update("REMOVE s, m.a.b, absent")
        #expect(r.item["s"] == nil)
        #expect(r.item["m"] == .m(["a": .m([:])]))
        #expect(r.updatedPaths == ["s", "m", "absent"])
        // Indexes name the original elements; the rest shift down.
        r = try update("REMOVE l[1], l[3]")
        #expect(r.item["l"] == .l([.s("a"), .s("c")]))
        r = try update("REMOVE l[0], l[9]")
        #expect(r.item["l"] == .l([.s("b"), .s("c"), .s("d")]))
        r = try update("SET l[0] = :v REMOVE l[2]", [":v": .s("A")])
        #expect(r.item["l"] == .l([.s("A"), .s("b"), .s("d")]))
    }

    @Test func addAndDelete() throws {
        var r = try update("ADD n :v, ss :s, c :v, newset :s", [":v": num("2"), ":s": .ss(["b", "c"])])
        #expect(r.item["n"] == num("7"))
        #expect(r.item["ss"] == .ss(["a", "b", "c"]))
        #expect(r.item["c"] == num("2"))
        #expect(r.item["newset"] == .ss(["b", "c"]))
        r = try update("ADD ns :n, bs :b", [":n": .ns([try DynamoNumber("1.0"), try DynamoNumber("3")]), ":b": .bs([[2]])])
        #expect(r.item["ns"] == .ns([try DynamoNumber("1"), try DynamoNumber("3")]))
        #expect(r.item["bs"] == .bs([[1], [2]]))
        r = try update("DELETE ss :s", [":s": .ss(["a", "zz"])])
        #expect(r.item["ss"] == .ss(["b"]))
        // Emptying a set removes the attribute; deleting from a missing one does nothing.
        r = try update("DELETE ss :s, absent :s", [":s": .ss(["a", "b"])])
        #expect(r.item["ss"] == nil && r.item["absent"] == nil)
        r = try update("add n :v delete ns :n", [":v": num("-5"), ":n": .ns([try DynamoNumber("1")])])
        #expect(r.item["n"] == num("0") && r.item["ns"] == nil)
        fails("ADD s :v", "An operand in the update expression has an incorrect data type", [":v": num("1")])
        fails("ADD ss :v", "An operand in the update expression has an incorrect data type", [":v": .ns([try DynamoNumber("1")])])
        fails("DELETE ns :v", "An operand in the update expression has an incorrect data type", [":v": .ss(["1"])])
    }

    @Test func runtimeErrors() {
        fails("SET a = absent + :v", "The provided expression refers to an attribute that does not exist in the item", [":v": num("1")])
        fails("SET a = absent", "The provided expression refers to an attribute that does not exist in the item")
        fails("SET a = s + :v", "An operand in the update expression has an incorrect data type", [":v": num("1")])
        fails("SET a = list_append(s, :v)", "An operand in the update expression has an incorrect data type", [":v": .l([])])
        fails("SET id = :v", "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key", [":v": .s("x")])
        fails("REMOVE id", "One or more parameter values were invalid: Cannot update attribute id. This attribute is part of the key")
        fails("SET n = n + :v", "Number overflow. Attempting to store a number with magnitude larger than supported range", [":v": num("9.9e125")],
              on: ["n": num("9e125")])
    }

    @Test func parseErrors() {
        let v: [String: AttributeValue] = [":v": .s("x")]
        fails("SET a = :v, a = :v", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]", v)
        fails("SET a.b = :v REMOVE a", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]", v)
        fails("SET a[1] = :v REMOVE a.b", "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]", v)
        fails("SET a = :v SET b = :v", "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;", v)
        fails("SET a = :v set b = :v", "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;", v)
        fails("SET", "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"SET\"")
        fails("SET a = :v,", "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \",\"", v)
        fails("SET a :v", "Invalid UpdateExpression: Syntax error; token: \":v\", near: \"a :v\"", v)
        fails("UPDATE a = :v", "Invalid UpdateExpression: Syntax error; token: \"UPDATE\", near: \"UPDATE a\"", v)
        fails("SET #a = :v, REMOVE b", "Invalid UpdateExpression: Syntax error; token: \"REMOVE\", near: \", REMOVE b\"", v, names: ["#a": "a"])
        fails("ADD a b", "Invalid UpdateExpression: Syntax error; token: \"b\", near: \"a b\"")
        fails("", "Invalid UpdateExpression: The expression can not be empty;")
        fails("SET status = :v", "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status", v)
        fails("SET #s = :v", "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #s", v)
        fails("SET a = :w", "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :w")
        fails("SET a = size(b)", "Invalid UpdateExpression: Invalid function name; function: size")
        fails("SET a = if_not_exists(:v, b)", "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists", v)
        fails("SET a = list_append(:v)", "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1", v)
        fails("SET a = list_append(b, :v)", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S", v)
        fails("SET a = b + :v", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S", v)
        fails("ADD a :v", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING", v)
        fails("DELETE a :v", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER", [":v": num("1")])
        fails("ADD a :v", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST", [":v": .l([])])
        fails("SET a = :v", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}", [":v": .s("x"), ":w": .s("y")])
    }

    @Test func updatedValuesForReturnValues() throws {
        var input = ExpressionInput(names: ["#a": "m"], values: [":x": .s("x"), ":y": .s("y")])
        let u = try Update.parse("SET #a.b = :x, #a.c = :y REMOVE s", &input)
        let new = try u.apply(to: item, keyNames: ["id"]).item
        #expect(u.updatedValues(in: new) == ["m": .m(["b": .s("x"), "c": .s("y")])])
        #expect(u.updatedValues(in: item) == ["s": .s("x")])
    }

    @Test func updateLeavesInputUnchangedOnError() throws {
        var input = ExpressionInput(names: [:], values: [":v": num("1")])
        let u = try Update.parse("SET n = n + :v, s = s + :v", &input)
        let before = item
        #expect(throws: AWSError.self) { _ = try u.apply(to: before, keyNames: ["id"]) }
        #expect(before == item)
        #expect(u.targets == [DocumentPath("n"), DocumentPath("s")])
    }
}
