import Core
import Foundation
import Testing

@testable import DynamoDB

// ProjectionExpression and KeyConditionExpression.

@Suite struct LanguageProjectionTests {
    let item: Item = [
        "id": .s("k"), "a": .m(["b": .l([.m(["c": num("1"), "d": num("2")]), .m(["c": num("3"), "d": num("4")]), .s("x")]), "e": .s("y")]),
        "l": .l([.s("0"), .s("1"), .s("2"), .s("3")]), "Size": num("9"),
    ]

    func project(_ text: String, names: [String: String] = [:]) throws -> Item {
        var input = ExpressionInput(names: names)
        let p = try Projection.parse(text, &input)
        try input.checkAllUsed()
        return p.apply(to: item)
    }

    @Test func topLevelAndNested() throws {
        #expect(try project("id") == ["id": .s("k")])
        #expect(try project("id, absent") == ["id": .s("k")])
        #expect(try project("a.e") == ["a": .m(["e": .s("y")])])
        #expect(try project("a.b[1].c") == ["a": .m(["b": .l([.m(["c": num("3")])])])])
        #expect(try project("a.b[1].c, a.b[0].d, a.e") == ["a": .m(["b": .l([.m(["d": num("2")]), .m(["c": num("3")])]), "e": .s("y")])])
        // List elements keep their order and close up; missing ones contribute nothing.
        #expect(try project("l[3], l[1], l[7]") == ["l": .l([.s("1"), .s("3")])])
        #expect(try project("a.zz, l[9], id.x") == [:])
        #expect(try project("#s, #a.#e", names: ["#s": "Size", "#a": "a", "#e": "e"]) == ["Size": num("9"), "a": .m(["e": .s("y")])])
    }

    @Test func errors() {
        expectError("Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: Size") { _ = try project("id, Size") }
        expectError("Invalid ProjectionExpression: Syntax error; token: \"a\", near: \"[a]\"") { _ = try project("l[a]") }
        expectError("Invalid ProjectionExpression: Syntax error; token: \"<EOF>\", near: \",\"") { _ = try project("id,") }
        expectError("Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, e]") {
            _ = try project("a, a.e")
        }
        expectError("Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]") {
            _ = try project("a.b, a[0]")
        }
        expectError("Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #x") { _ = try project("#x") }
        expectError("Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}") { _ = try project("id", names: ["#x": "x"]) }
        expectError("Invalid ProjectionExpression: The expression can not be empty;") { _ = try project("") }
    }
}

@Suite struct LanguageKeyConditionTests {
    func key(_ text: String, _ values: [String: AttributeValue], names: [String: String] = [:], range: String? = "sk",
             types: [String: String] = [:]) throws -> KeyCondition {
        var input = ExpressionInput(names: names, values: values)
        let k = try KeyCondition.parse(text, &input, hashKey: "id", rangeKey: range, keyTypes: types)
        try input.checkAllUsed()
        return k
    }

    @Test func hashAndRangeForms() throws {
        var k = try key("id = :h", [":h": .s("a")])
        #expect(k.hashValue == .s("a") && k.range == nil)
        k = try key(":h = id AND sk < :v", [":h": .s("a"), ":v": num("3")])
        #expect(k.hashValue == .s("a") && k.range == .lt(num("3")))
        k = try key("sk >= :v and id = :h", [":h": .s("a"), ":v": num("3")])
        #expect(k.range == .ge(num("3")))
        // A value on the left flips the comparison.
        k = try key("id = :h AND :v < sk", [":h": .s("a"), ":v": num("3")])
        #expect(k.range == .gt(num("3")))
        k = try key("id = :h AND sk BETWEEN :a AND :b", [":h": .s("a"), ":a": num("1"), ":b": num("2")])
        #expect(k.range == .between(num("1"), num("2")))
        k = try key("#i = :h AND begins_with(#r, :p)", [":h": .s("a"), ":p": .s("pre")], names: ["#i": "id", "#r": "sk"])
        #expect(k.range == .beginsWith(.s("pre")))
        k = try key("(id = :h) AND (sk = :v)", [":h": .s("a"), ":v": .s("x")])
        #expect(k.range == .eq(.s("x")))
    }

    @Test func rangeMatchingAndBounds() throws {
        #expect(RangeCondition.beginsWith(.s("ab")).matches(.s("abc")))
        #expect(!RangeCondition.beginsWith(.s("ab")).matches(.s("b")))
        #expect(RangeCondition.between(num("1"), num("3")).matches(num("3")))
        #expect(!RangeCondition.between(num("1"), num("3")).matches(num("3.5")))
        #expect(RangeCondition.lt(.s("b")).matches(.s("a")))
        #expect(!RangeCondition.lt(.s("b")).matches(num("1")))
        let b = RangeCondition.beginsWith(.s("ab")).bounds
        #expect(b.lower == Array("ab".utf8) && b.lowerInclusive && b.upper == Array("ac".utf8) && !b.upperInclusive)
        #expect(RangeCondition.successor(of: [0x61, 0xFF]) == [0x62])
        #expect(RangeCondition.successor(of: [0xFF, 0xFF]) == nil)
        // Property: for random strings, "inside the byte bounds" agrees with matches().
        var rng = SplitMix(seed: 5)
        let alphabet: [Character] = ["a", "b", "\u{7F}", "é", "z"]
        func random() -> AttributeValue { .s(String((0..<Int(rng.next() % 4)).map { _ in alphabet[Int(rng.next() % 5)] })) }
        for _ in 0..<300 {
            let (x, y, v) = (random(), random(), random())
            for cond in [RangeCondition.beginsWith(x), .lt(x), .le(x), .gt(x), .ge(x), .eq(x), .between(x, y)] {
                if case .between = cond, Compare.order(x, y) == .orderedDescending { continue }
                let bytes = KeyOrder.bytes(v)
                let bounds = cond.bounds
                var inside = true
                if let lower = bounds.lower { inside = inside && (bounds.lowerInclusive ? !bytes.lexicographicallyPrecedes(lower) : lower.lexicographicallyPrecedes(bytes)) }
                if let upper = bounds.upper { inside = inside && (bounds.upperInclusive ? !upper.lexicographicallyPrecedes(bytes) : bytes.lexicographicallyPrecedes(upper)) }
                #expect(inside == cond.matches(v), "\(cond) \(v)")
            }
        }
    }

    @Test func awsTexts() {
        let h: [String: AttributeValue] = [":h": .s("a"), ":v": num("1")]
        expectError("Query condition missed key schema element: id") { _ = try key("sk = :v", [":v": num("1")]) }
        expectError("Query key condition not supported") { _ = try key("id > :h", [":h": .s("a")]) }
        expectError("Query key condition not supported") { _ = try key("id = :h AND sk = :v", h, range: nil) }
        expectError("Query condition missed key schema element: sk") { _ = try key("id = :h AND price = :v", h) }
        expectError("Invalid operator used in KeyConditionExpression: OR") { _ = try key("id = :h OR sk = :v", h) }
        expectError("Invalid operator used in KeyConditionExpression: NOT") { _ = try key("NOT id = :h", [":h": .s("a")]) }
        expectError("Invalid operator used in KeyConditionExpression: IN") { _ = try key("id IN (:h)", [":h": .s("a")]) }
        expectError("Invalid operator used in KeyConditionExpression: <>") { _ = try key("id <> :h", [":h": .s("a")]) }
        expectError("Invalid operator used in KeyConditionExpression: attribute_exists") { _ = try key("id = :h AND attribute_exists(sk)", [":h": .s("a")]) }
        expectError("Invalid operator used in KeyConditionExpression: contains") { _ = try key("id = :h AND contains(sk, :v)", h) }
        expectError("KeyConditionExpressions cannot contain nested operations") { _ = try key("id = :h AND size(sk) = :v", h) }
        expectError("KeyConditionExpressions cannot have conditions on nested attributes") { _ = try key("id.x = :h", [":h": .s("a")]) }
        expectError("KeyConditionExpressions must only contain one condition per key") { _ = try key("id = :h AND id = :h", [":h": .s("a")]) }
        expectError("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition") { _ = try key("id = sk", [:]) }
        expectError("Invalid condition in KeyConditionExpression: No key attribute specified") { _ = try key(":h = :v", h) }
        expectError("Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand") {
            _ = try key("id = :h AND :v BETWEEN sk AND :v", h)
        }
        expectError("Conditions can be of length 1 or 2 only") { _ = try key("id = :h AND sk = :v AND x = :v", h) }
        expectError("One or more parameter values were invalid: Condition parameter type does not match schema type") {
            _ = try key("id = :h AND sk = :v", h, types: ["id": "S", "sk": "S"])
        }
        expectError("Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: key") { _ = try key("key = :h", [":h": .s("a")]) }
        expectError("Invalid KeyConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\"") { _ = try key("id =", [:]) }
    }
}
