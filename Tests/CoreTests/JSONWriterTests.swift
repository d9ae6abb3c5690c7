import Foundation
import NIOCore
import Testing
@testable import Core

// JSONWriter must write what JSONSerialization (withoutEscapingSlashes) writes: same text for scalars and escapes,
// the same document for objects (whose member order neither promises).

private func written(_ object: Any, sorted: Bool = true) -> String? {
    JSONWriter.buffer(object, sortedKeys: sorted).map { String(buffer: $0) }
}

private func foundation(_ object: Any) -> String {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes, .sortedKeys, .fragmentsAllowed])
    return String(decoding: data, as: UTF8.self)
}

@Test func jsonWriterMatchesFoundationForScalars() {
    let values: [Any] = [
        "", "plain", "a/b", "quote \" and \\ backslash", "tab\tnew\nline\rcr", "\u{1}\u{8}\u{c}\u{1f}", "é ☃ 𝄞", "<&>'",
        0, 1, -1, Int.max, Int.min, true, false, 0.5, 1.0, -2.0, 0.1, 1765100000.123, 1e-7, 3.141592653589793,
        Double(1 << 52), 123456789.0, 99999999999999984.0, 1e20, NSNull(), Int64(-5), UInt64(7), Int32(3), Float(0.25),
    ]
    for v in values {
        #expect(written(v) == foundation(v), "\(v)")
    }
}

@Test func jsonWriterMatchesFoundationForDocuments() throws {
    let doc: [String: Any] = [
        "ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:a/b-AbCdEf", "Name": "a/b",
        "VersionStages": ["AWSCURRENT"], "CreatedDate": 1765100000.5, "Count": 3, "Flag": true,
        "Nested": ["x": ["y": [1, 2.5, "z", NSNull(), false]] as [String: Any]] as [String: Any],
        "Empty": [String: Any](), "List": [[String: Any]](), "Strings": ["k": "v"] as [String: String],
    ]
    #expect(written(doc) == foundation(doc))
    // Unsorted, the members may come in any order but the document is the same.
    let unsorted = try #require(written(doc, sorted: false))
    let a = try JSONSerialization.jsonObject(with: Data(unsorted.utf8)) as? NSDictionary
    let b = try JSONSerialization.jsonObject(with: Data(foundation(doc).utf8)) as? NSDictionary
    #expect(a == b)
}

@Test func jsonWriterKeepsParsedBooleansAndNumbersApart() throws {
    // What JSONSerialization parsed (an echoed document) comes back as it was: true stays true, 1 stays 1.
    let text = #"{"a":true,"b":1,"c":1.5,"d":false,"e":0,"f":12345678901234,"g":null,"h":[true,2]}"#
    let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(written(parsed) == text)
    #expect(written(parsed) == foundation(parsed))
}

@Test func jsonWriterGivesUpWhereFoundationRefuses() {
    #expect(written(["n": Double.nan]) == nil)
    #expect(written(["i": Double.infinity]) == nil)
    #expect(written(["d": Date()]) == nil)
    // encode falls back to JSONSerialization, and to {} where that refuses too (as the callers always did).
    #expect(String(buffer: JSONWriter.encode(["n": Double.nan])) == "{}")
}
