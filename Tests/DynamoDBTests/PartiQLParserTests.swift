@testable import DynamoDB
import Core
import Foundation
import Testing

struct PartiQLParserTests {
    func parse(_ text: String, _ parameters: [AttributeValue] = []) throws -> PartiQLStatement {
        try PartiQLParser.parse(text, parameters: parameters)
    }

    func message(_ text: String, _ parameters: [AttributeValue] = []) -> String {
        do { _ = try parse(text, parameters); return "" } catch let e as AWSError { return e.message } catch { return "\(error)" }
    }

    func n(_ s: String) -> AttributeValue { .n(num(s)) }
    func num(_ s: String) -> DynamoNumber { try! DynamoNumber(s) }

    /// Every literal form, in an INSERT's item.
    @Test func literals() throws {
        let st = try parse("""
            INSERT INTO "t" VALUE {'s': 'it''s', 'n': -1.5e2, 'b': true, 'f': FALSE, 'z': NULL, 'l': [1, 'x', [ ]],
            'm': {'k': {'deep': 'v'}}, 'ss': <<'a','b'>>, 'ns': <<1, 2>>, 'p': ?, 'bs': <<?>>}
            """, [.s("param"), .b([1, 2])])
        guard case let .insert(table, item) = st else { Issue.record("not an insert"); return }
        #expect(table == "t")
        #expect(item["s"] == .s("it's"))
        #expect(item["n"] == n("-150"))
        #expect(item["b"] == .bool(true) && item["f"] == .bool(false) && item["z"] == .null)
        #expect(item["l"] == .l([n("1"), .s("x"), .l([])]))
        #expect(item["m"] == .m(["k": .m(["deep": .s("v")])]))
        #expect(item["ss"] == .ss(["b", "a"]))
        #expect(item["ns"] == .ns([num("2"), num("1")]))
        #expect(item["p"] == .s("param"))
        #expect(item["bs"] == .bs([[1, 2]]))
    }

    @Test func literalErrors() {
        #expect(message("INSERT INTO t VALUE {'a': <<>>}") == "Empty bags are not supported")
        #expect(message("INSERT INTO t VALUE {'a': <<'x', 1>>}") == "Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags")
        #expect(message("INSERT INTO t VALUE {'a': <<'x', 'x'>>}") == "Input collection contains duplicates")
        #expect(message("INSERT INTO t VALUE {'a': 1, 'a': 2}") == "Duplicate keys in tuple. Key: a under {}")
        #expect(message("INSERT INTO t VALUE {'a': 'x}").hasPrefix("Statement wasn't well formed, can't be processed: Unterminated"))
        #expect(message("INSERT INTO t VALUE {'a': ?}") == "Number of parameters in request and statement don't match.")
        #expect(message("INSERT INTO t VALUE ['a']") == "Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.")
        #expect(message("INSERT INTO t VALUE {'a': 1} RETURNING ALL OLD *") == "RETURNING is not supported in INSERT")
        #expect(message("INSERT INTO t VALUES {'a': 1}").hasPrefix("Unsupported operation: Inserting multiple items"))
        #expect(message("CREATE TABLE x") == "Statement wasn't well formed, can't be processed: Expected data manipulation")
        #expect(message("SELECT * FROM t WHERE") == "Statement wasn't well formed, can't be processed: Unexpected end of statement")
        #expect(message("SELECT * FROM t t2") == "Statement wasn't well formed, can't be processed: Unexpected token: t2")
        #expect(message("SELECT * FROM a, b") == "Only select from a single table or index is supported.")
        #expect(message("SELECT *, a FROM t") == "Other attributes should not be present in the projection when '*' is used.")
        #expect(message("SELECT * FROM t WHERE a = MISSING") == "MISSING must be compared using IS operator")
        #expect(message("SELECT * FROM t WHERE upper(a) = 'X'") == "Unrecognized function: upper")
    }

    /// Paths: bare, quoted, nested names and list indexes; `"table"."index"`.
    @Test func paths() throws {
        guard case .select(let s) = try parse(#"SELECT a, "b c".d[0]."e", f[1][2] FROM "tab"."by-x" WHERE x = 1"#) else {
            Issue.record("not a select"); return
        }
        #expect(s.table == "tab" && s.index == "by-x")
        #expect(s.paths == [DocumentPath("a"), DocumentPath([.name("b c"), .name("d"), .index(0), .name("e")]),
                            DocumentPath([.name("f"), .index(1), .index(2)])])
        guard case .select(let all) = try parse("select * from Music") else { return }
        #expect(all.paths == nil && all.table == "Music" && all.filter == nil)
    }

    /// Every WHERE form maps onto the condition tree the expression evaluator runs.
    @Test func conditions() throws {
        func filter(_ w: String, _ p: [AttributeValue] = []) throws -> ConditionNode? {
            guard case .select(let s) = try parse("SELECT * FROM t WHERE " + w, p) else { return nil }
            return s.filter
        }
        let a = Operand.path(DocumentPath("a")), one = Operand.value(n("1")), x = Operand.value(.s("x"))
        #expect(try filter("a = 1") == .compare("=", a, one))
        #expect(try filter("1 <> a") == .compare("<>", one, a))
        #expect(try filter("a != 1") == .compare("<>", a, one))
        for op in ["<", "<=", ">", ">="] { #expect(try filter("a \(op) 1") == .compare(op, a, one)) }
        #expect(try filter("a BETWEEN 1 AND ?", [.s("x")]) == .between(a, one, x))
        #expect(try filter("a IN [1, 'x']") == .in(a, [one, x]))
        #expect(try filter("a IN (1)") == .in(a, [one]))
        #expect(try filter("a NOT IN (1)") == .not(.in(a, [one])))
        #expect(try filter("a = 1 AND (a = 'x' OR NOT a = 1)") == .and(.compare("=", a, one), .or(.compare("=", a, x), .not(.compare("=", a, one)))))
        #expect(try filter("a = 1 OR a = 'x' AND a = 1") == .or(.compare("=", a, one), .and(.compare("=", a, x), .compare("=", a, one))))
        #expect(try filter("begins_with(a, 'x')") == .beginsWith(a, x))
        #expect(try filter("contains(a, 'x')") == .contains(a, x))
        #expect(try filter("attribute_type(a, 'N')") == .attributeType(a, "N"))
        #expect(try filter("size(a) > 1") == .compare(">", .size(a), one))
        #expect(try filter("a IS MISSING") == .notExists(DocumentPath("a")))
        #expect(try filter("a IS NOT MISSING") == .exists(DocumentPath("a")))
        #expect(try filter("a IS NULL") == .attributeType(a, "NULL"))
        #expect(try filter("a.b[2] = 1") == .compare("=", .path(DocumentPath([.name("a"), .name("b"), .index(2)])), one))
        #expect(message("SELECT * FROM t WHERE a BETWEEN 1") == "Statement wasn't well formed, can't be processed: Unexpected end of statement")
        #expect(message("SELECT * FROM t WHERE a IN []").hasPrefix("IN operator must have a left hand argument"))
    }

    @Test func updates() throws {
        let st = try parse("""
            UPDATE "t" SET a = a + 1, b = list_append(b, [?]), c.d = 'x' REMOVE e SET s = set_add(s, <<'n'>>),
            r = set_delete(r, <<1>>) WHERE pk = 'k' AND a > 0 RETURNING MODIFIED NEW *
            """, [.s("p")])
        guard case let .update(table, u, condition, returning) = st else { Issue.record("not an update"); return }
        #expect(table == "t")
        let a = DocumentPath("a"), b = DocumentPath("b")
        #expect(u.sets == [.init(path: a, value: .plus(.path(a), .value(n("1")))),
                           .init(path: b, value: .operand(.listAppend(.path(b), .value(.l([.s("p")]))))),
                           .init(path: DocumentPath([.name("c"), .name("d")]), value: .operand(.value(.s("x"))))])
        #expect(u.removes == [DocumentPath("e")])
        #expect(u.adds == [.init(path: DocumentPath("s"), value: .ss(["n"]))])
        #expect(u.deletes == [.init(path: DocumentPath("r"), value: .ns([num("1")]))])
        #expect(condition == .and(.compare("=", .path(DocumentPath("pk")), .value(.s("k"))), .compare(">", .path(a), .value(n("0")))))
        #expect(returning == PartiQLReturning(modifiedOnly: true, new: true))
        #expect(message("UPDATE t SET a = 1") == "Where clause does not contain a mandatory equality on all key attributes")
        #expect(message("UPDATE t SET a = set_add(b, <<1>>) WHERE pk = 1") == "The first argument to SET_ADD must equal the assignment value")
        #expect(message("UPDATE t SET a = set_add(a, 1) WHERE pk = 1") == "The second argument to SET_ADD must be a value with type SET")
        #expect(message("UPDATE t SET a = 1, a = 2 WHERE pk = 1").hasPrefix("Two document paths overlap"))
        #expect(message("UPDATE t SET a = 1 WHERE pk = 1 RETURNING ALL NEW") == "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause")
    }

    @Test func exists() throws {
        guard case .exists(let s) = try parse("EXISTS (SELECT * FROM \"t\" WHERE pk = 'a' AND sk = 'b')") else {
            Issue.record("not an exists"); return
        }
        #expect(s.table == "t" && s.filter != nil)
        #expect(message("EXISTS (SELECT * FROM t WHERE pk = 'a'") == "Statement wasn't well formed, can't be processed: Unexpected end of statement")
    }

    @Test func deletes() throws {
        guard case let .delete(table, _, returning) = try parse("DELETE FROM t WHERE pk = ? RETURNING ALL OLD *", [.s("k")]) else {
            Issue.record("not a delete"); return
        }
        #expect(table == "t" && returning == PartiQLReturning(modifiedOnly: false, new: false))
        #expect(message("DELETE FROM t WHERE pk = 1 RETURNING ALL NEW *") == "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements.")
        #expect(message("DELETE FROM t") == "Where clause does not contain a mandatory equality on all key attributes")
    }

    /// Too few parameters are refused; extra ones are accepted, as DynamoDB does.
    @Test func parameterCount() throws {
        #expect(message("SELECT * FROM t WHERE a = ? AND b = ?", [.s("x")]) == "Number of parameters in request and statement don't match.")
        _ = try parse("SELECT * FROM t WHERE a = ?", [.s("x"), .s("y")])
        // A `?` inside a string is text, not a parameter.
        guard case .select(let s) = try parse("SELECT * FROM t WHERE a = '?'") else { return }
        #expect(s.filter == .compare("=", .path(DocumentPath("a")), .value(.s("?"))))
    }

    /// Key equalities of a write, and the planner's choice between a key range and a scan.
    @Test func planning() throws {
        let t = TableSchema.testTable()
        let src = DynamoDBService.Source(table: t, index: nil, global: false)
        func plan(_ w: String) throws -> PartiQLPlan.Read {
            guard case .select(let s) = try parse("SELECT * FROM t " + w) else { throw AWSError("X", "") }
            return try PartiQLPlan.read(s, src)
        }
        #expect(try plan("").hashKeys == nil)
        #expect(try plan("WHERE v = 'a'").hashKeys == nil)
        #expect(try plan("WHERE pk = 'a' OR v = 1").hashKeys == nil)
        #expect(try plan("WHERE pk = 'a'").hashKeys == [.s("a")])
        #expect(try plan("WHERE 'a' = pk AND v = 1").hashKeys == [.s("a")])
        #expect(try plan("WHERE pk IN ['b', 'a', 'b']").hashKeys == [.s("a"), .s("b")])
        #expect(try plan("WHERE pk = 1").hashKeys == [])
        let ranged = try plan("WHERE pk = 'a' AND sk > 'm' AND sk BETWEEN 'a' AND 'z' ORDER BY sk DESC")
        #expect(ranged.conditions == ["rk > ?", "rk >= ?", "rk <= ?"] && !ranged.forward)
        #expect(try plan("WHERE pk = 'a' AND begins_with(sk, 'ab')").conditions == ["rk >= ?", "rk < ?"])
        #expect(throws: AWSError.self) { try plan("WHERE v = 1 ORDER BY sk") }
        #expect(throws: AWSError.self) { try plan("WHERE pk = 'a' ORDER BY v") }
        guard case let .delete(_, condition, _) = try parse("DELETE FROM t WHERE pk = 'a' AND sk = 'b' AND v = 1") else { return }
        #expect(try PartiQLPlan.key(t, condition) == ["pk": .s("a"), "sk": .s("b")])
        guard case let .delete(_, partial, _) = try parse("DELETE FROM t WHERE pk = 'a' OR sk = 'b'") else { return }
        #expect(throws: AWSError.self) { try PartiQLPlan.key(t, partial) }
    }
}

extension TableSchema {
    /// A table `t` keyed by pk (S) and sk (S), for planning tests.
    static func testTable() -> TableSchema {
        TableSchema(name: "t", tableId: "id", arn: "arn:aws:dynamodb:us-east-1:000000000000:table/t", created: 0,
                    hashKey: KeyAttribute(name: "pk", type: "S"), rangeKey: KeyAttribute(name: "sk", type: "S"),
                    attributeDefinitions: [], billingMode: "PAY_PER_REQUEST", readCapacity: 0, writeCapacity: 0)
    }
}
