import HTTPTypes
import Testing
@testable import Core

// HTTPFields.value(_:) scans the fields instead of building an HTTPField.Name: it must answer what the subscript does.

@Test func headerLookupAnswersAsTheSubscript() {
    var h = HTTPFields()
    h.append(HTTPField(name: HTTPField.Name("X-Amz-Date")!, value: "20261207T100000Z"))
    h.append(HTTPField(name: HTTPField.Name("x-amz-meta-a")!, value: "1"))
    h.append(HTTPField(name: HTTPField.Name("X-Amz-Meta-A")!, value: "2"))
    h.append(HTTPField(name: .cookie, value: "a=1"))
    h.append(HTTPField(name: .cookie, value: "b=2"))
    h.append(HTTPField(name: .contentType, value: "text/plain"))
    for name in ["x-amz-date", "X-AMZ-DATE", "x-amz-meta-a", "X-Amz-Meta-A", "cookie", "Cookie", "content-type", "absent", "x-amz-meta-b"] {
        #expect(h.value(name) == h[HTTPField.Name(name)!], "\(name)")
    }
    #expect(h.value("x-amz-meta-a") == "1, 2")
    #expect(h.value("cookie") == "a=1; b=2")
    #expect(h.value("not a token") == nil)
    #expect(h.value("") == nil)
}
