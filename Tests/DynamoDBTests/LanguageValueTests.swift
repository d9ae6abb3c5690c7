import Core
import Foundation
import Testing

@testable import DynamoDB

// The value model: numbers, attribute values from JSON, key order, item size.

/// A JSON document as JSONSerialization reads it (booleans as its NSNumber class, numbers as NSNumber).
func jsonValue(_ text: String) -> Any {
    try! JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

func expectError(_ message: String, code: String = "ValidationException", _ body: () throws -> Void,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected \(code): \(message)", sourceLocation: sourceLocation)
    } catch let error as AWSError {
        #expect(error.code == code, sourceLocation: sourceLocation)
        #expect(error.message == message, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct DynamoNumberTests {
    @Test(arguments: [
        ("1.50", "1.5"), ("+1", "1"), ("01", "1"), ("-0", "0"), ("0.000", "0"), ("-0.0e5", "0"), ("1e3", "1000"),
        ("1E+3", "1000"), ("12.5e-3", "0.0125"), (".5", "0.5"), ("5.", "5"), ("-007.2500", "-7.25"), ("100", "100"),
        ("1e125", "1" + String(repeating: "0", count: 125)), ("1e-130", "0." + String(repeating: "0", count: 129) + "1"),
        ("99999999999999999999999999999999999999", "99999999999999999999999999999999999999"),
        ("123456789012345678901234567890123456780000", "123456789012345678901234567890123456780000"),
    ])
    func normalises(_ input: String, _ expected: String) throws {
        #expect(try DynamoNumber(input).description == expected)
    }

    @Test func rangeAndPrecisionErrors() {
        expectError("Number overflow. Attempting to store a number with magnitude larger than supported range") { _ = try DynamoNumber("1e126") }
        expectError("Number overflow. Attempting to store a number with magnitude larger than supported range") { _ = try DynamoNumber("-1e126") }
        expectError("Number underflow. Attempting to store a number with magnitude smaller than supported range") { _ = try DynamoNumber("1e-131") }
        expectError("Attempting to store more than 38 significant digits in a Number") { _ = try DynamoNumber("1234567890123456789012345678901234567891") }
        expectError("Attempting to store more than 38 significant digits in a Number") { _ = try DynamoNumber("0.123456789012345678901234567890123456789") }
        // Zeros are not significant: 38 digits with zeros around them fit.
        #expect(throws: Never.self) { _ = try DynamoNumber("000.12345678901234567890123456789012345678000") }
        #expect((try? DynamoNumber("0e999")) == DynamoNumber.zero)
    }

    @Test(arguments: ["", "abc", "1.2.3", "1e", "1e+", "--1", "+", ".", "1 ", " 1", "0x10", "1,5", "Infinity", "NaN", "e5"])
    func rejectsText(_ text: String) {
        let message = text.isEmpty ? "The parameter cannot be converted to a numeric value" : "The parameter cannot be converted to a numeric value: \(text)"
        expectError(message) { _ = try DynamoNumber(text) }
    }

    @Test func equalityIgnoresSpelling() throws {
        #expect(try DynamoNumber("1.0") == DynamoNumber("1"))
        #expect(try DynamoNumber("10e-1") == DynamoNumber("1"))
        #expect(try DynamoNumber("-0") == DynamoNumber("0"))
        #expect(Set([try DynamoNumber("2"), try DynamoNumber("2.00"), try DynamoNumber("0.2e1")]).count == 1)
    }

    @Test func arithmeticIsExact() throws {
        func n(_ s: String) throws -> DynamoNumber { try DynamoNumber(s) }
        #expect(try (n("0.1") + n("0.2")).description == "0.3")
        #expect(try (n("1") - n("1")).description == "0")
        #expect(try (n("5") - n("7.5")).description == "-2.5")
        #expect(try (n("-5") + n("-7.5")).description == "-12.5")
        #expect(try (n("99999999999999999999999999999999999999") - n("1")).description == "99999999999999999999999999999999999998")
        #expect(try (n("1e100") + n("1e100")).description == "2" + String(repeating: "0", count: 100))
        #expect(try (n("1000") - n("0.001")).description == "999.999")
        expectError("Attempting to store more than 38 significant digits in a Number") {
            _ = try n("99999999999999999999999999999999999999") + n("0.1")
        }
        expectError("Number overflow. Attempting to store a number with magnitude larger than supported range") {
            _ = try n("9e125") + n("9e125")
        }
    }

    /// Property: for random decimals, the text round-trips, order agrees with Double where Double is exact enough,
    /// addition and subtraction invert, and KeyOrder bytes sort as the numbers do.
    @Test func randomProperties() throws {
        var rng = SplitMix(seed: 17)
        var numbers: [DynamoNumber] = []
        for _ in 0..<400 {
            let digits = (0..<Int(rng.next() % 12 + 1)).map { _ in String(rng.next() % 10) }.joined()
            let exponent = Int(rng.next() % 20) - 10  // sums stay within 38 digits
            let sign = rng.next() % 2 == 0 ? "-" : ""
            let text = "\(sign)\(digits)e\(exponent)"
            let n = try DynamoNumber(text)
            #expect(try DynamoNumber(n.description) == n)
            #expect(try DynamoNumber(n.description).description == n.description)
            if let d = Double(text), let e = Double(n.description) { #expect(abs(d - e) <= abs(d) * 1e-12) }
            numbers.append(n)
        }
        for (a, b) in zip(numbers, numbers.dropFirst()) {
            #expect(try (a + b) - b == a)
            #expect(try a - a == .zero)
            let byBytes = KeyOrder.number(a).lexicographicallyPrecedes(KeyOrder.number(b))
            #expect(byBytes == (a < b))
            #expect((KeyOrder.number(a) == KeyOrder.number(b)) == (a == b))
            if let x = Double(a.description), let y = Double(b.description), x != y { #expect((x < y) == (a < b)) }
        }
        let sortedByValue = numbers.sorted()
        let sortedByBytes = numbers.sorted { KeyOrder.number($0).lexicographicallyPrecedes(KeyOrder.number($1)) }
        #expect(sortedByValue == sortedByBytes)
    }
}

/// A small deterministic generator for property checks.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct AttributeValueTests {
    func decode(_ text: String) throws -> AttributeValue { try AttributeValue(json: jsonValue(text)) }

    @Test func everyTypeRoundTrips() throws {
        let text = #"{"M":{"s":{"S":""},"n":{"N":"01.50"},"b":{"B":"AAEC"},"ss":{"SS":["b","a"]},"ns":{"NS":["2","1.0"]},"bs":{"BS":["AA==","AQ=="]},"l":{"L":[{"NULL":true},{"BOOL":false},{"BOOL":true}]}}}"#
        let value = try decode(text)
        guard case .m(let map) = value else { Issue.record("not a map"); return }
        #expect(map["s"] == .s(""))
        #expect(map["n"] == .n(try DynamoNumber("1.5")))
        #expect(map["b"] == .b([0, 1, 2]))
        #expect(map["ss"] == .ss(["a", "b"]))
        #expect(map["l"] == .l([.null, .bool(false), .bool(true)]))
        #expect(value.typeName == "M")
        let again = try AttributeValue(json: value.json)
        #expect(again == value)
        let n = (value.json as! [String: Any])["M"] as! [String: Any]
        #expect((n["n"] as! [String: String])["N"] == "1.5")
        #expect((n["b"] as! [String: String])["B"] == "AAEC")
        #expect(((n["l"] as! [String: Any])["L"] as! [[String: Any]])[0]["NULL"] as? Bool == true)
    }

    @Test func setsCompareAsSets() throws {
        #expect(try decode(#"{"SS":["a","b"]}"#) == decode(#"{"SS":["b","a"]}"#))
        #expect(try decode(#"{"NS":["1","2"]}"#) == decode(#"{"NS":["2.0","1"]}"#))
        #expect(try decode(#"{"NS":["1","2"]}"#).hashValue == decode(#"{"NS":["2.0","1"]}"#).hashValue)
        #expect(try decode(#"{"SS":["a","b"]}"#) != decode(#"{"SS":["a"]}"#))
        #expect(try decode(#"{"L":[{"S":"a"},{"S":"b"}]}"#) != decode(#"{"L":[{"S":"b"},{"S":"a"}]}"#))
        #expect(try decode(#"{"S":"1"}"#) != decode(#"{"N":"1"}"#))
    }

    @Test func validationTexts() {
        expectError("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes") { _ = try decode("{}") }
        expectError("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes") {
            _ = try decode(#"{"S":"a","N":"1"}"#)
        }
        expectError("One or more parameter values were invalid: An string set  may not be empty") { _ = try decode(#"{"SS":[]}"#) }
        expectError("One or more parameter values were invalid: An number set  may not be empty") { _ = try decode(#"{"NS":[]}"#) }
        expectError("One or more parameter values were invalid: Binary sets should not be empty") { _ = try decode(#"{"BS":[]}"#) }
        expectError("One or more parameter values were invalid: Input collection [a, a] contains duplicates.") { _ = try decode(#"{"SS":["a","a"]}"#) }
        expectError("Input collection contains duplicates") { _ = try decode(#"{"NS":["1","1.0"]}"#) }
        expectError("One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.") {
            _ = try decode(#"{"BS":["Yg==","Yg=="]}"#)
        }
        expectError("One or more parameter values were invalid: Null attribute value types must have the value of true") {
            _ = try decode(#"{"NULL":false}"#)
        }
        expectError("Number overflow. Attempting to store a number with magnitude larger than supported range") { _ = try decode(#"{"N":"1e126"}"#) }
        expectError("The parameter cannot be converted to a numeric value: x") { _ = try decode(#"{"NS":["1","x"]}"#) }
        expectError("One or more parameter values were invalid: An string set  may not be empty") { _ = try decode(#"{"L":[{"M":{"a":{"SS":[]}}}]}"#) }
        expectError("Base64 encoded length is expected a multiple of 4 bytes but found: 5", code: "SerializationException") { _ = try decode(#"{"B":"AAAAA"}"#) }
        expectError("Invalid last non-pad Base64 character dectected", code: "SerializationException") { _ = try decode(#"{"B":"AB=="}"#) }
        expectError("NUMBER_VALUE cannot be converted to String", code: "SerializationException") { _ = try decode(#"{"S":5}"#) }
        expectError("TRUE_VALUE cannot be converted to String", code: "SerializationException") { _ = try decode(#"{"N":true}"#) }
        expectError("Unexpected token received from parser", code: "SerializationException") { _ = try decode(#"{"BOOL":1}"#) }
        expectError("Start of structure or map found where not expected", code: "SerializationException") { _ = try AttributeValue(json: "x") }
    }

    @Test func nestingLimit() throws {
        var deep = #"{"S":"x"}"#
        for _ in 0..<31 { deep = #"{"L":["# + deep + "]}" }
        #expect(throws: Never.self) { _ = try decode(deep) }
        expectError("Nesting Levels have exceeded supported limits") { _ = try decode(#"{"L":["# + deep + "]}") }
    }

    @Test func itemsDecodeEncodeAndSize() throws {
        let item = try Items.decode(jsonValue(#"{"id":{"S":"abc"},"n":{"N":"12345"},"flag":{"BOOL":true},"m":{"M":{"k":{"S":"v"}}},"l":{"L":[{"N":"1"}]},"ss":{"SS":["ab","c"]}}"#))
        #expect(item.count == 6)
        #expect(try Items.decode(Items.encode(item)) == item)
        // id 2+3, n 1+(5+1)/2+1=4, flag 4+1, m 1+3+(1+1+1), l 1+3+(2+1), ss 2+3
        #expect(Items.size(["id": .s("abc")]) == 5)
        #expect(Items.size(["n": .n(try DynamoNumber("12345"))]) == 5)
        #expect(Items.size(["flag": .bool(true)]) == 5)
        #expect(Items.size(["m": .m(["k": .s("v")])]) == 1 + 3 + 1 + 1 + 1)
        #expect(Items.size(["ss": .ss(["ab", "c"])]) == 5)
        #expect(Items.size(["é": .s("ü")]) == 4)
        #expect(Items.size(item) == item.reduce(0) { $0 + Items.size([$1.key: $1.value]) })
        expectError("Start of structure or map found where not expected", code: "SerializationException") { _ = try Items.decode([1, 2]) }
    }

    @Test func keyOrderBytes() throws {
        #expect(KeyOrder.bytes(.s("abc")) == Array("abc".utf8))
        #expect(KeyOrder.bytes(.b([1, 2])) == [1, 2])
        // S sorts by UTF-8 bytes: "Z" < "a" < "é".
        let strings = ["a", "Z", "é", "ab", "", "aa"].map { AttributeValue.s($0) }
        let sorted = strings.sorted { KeyOrder.bytes($0).lexicographicallyPrecedes(KeyOrder.bytes($1)) }
        #expect(sorted == ["", "Z", "a", "aa", "ab", "é"].map { AttributeValue.s($0) })
        let numbers = try ["-1e125", "-10", "-9.99", "-1", "-0.5", "-0.05", "0", "1e-130", "0.5", "1", "1.05", "1.5", "9", "10", "100.5", "1e125"].map(DynamoNumber.init)
        for (a, b) in zip(numbers, numbers.dropFirst()) {
            #expect(KeyOrder.number(a).lexicographicallyPrecedes(KeyOrder.number(b)), "\(a) < \(b)")
            #expect(a < b)
        }
    }
}
