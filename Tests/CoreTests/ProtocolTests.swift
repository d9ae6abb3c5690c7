import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import Testing
@testable import Core

// Wire-format pieces: the XML writer and reader, the three AWS error formats and the Query envelope.
// Expected documents follow the AWS references: S3 "Error responses" (REST error document),
// the Query API "ErrorResponse" document (STS/IAM), the JSON protocols' `__type`/`message` body,
// and the `<ActionResponse><ActionResult/><ResponseMetadata/>` envelope of Query answers.

private let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

private func text(_ xml: XMLWriter) -> String { String(buffer: xml.buffer) }

/// Collects what a response body writes.
private final class ProtocolTestSink: @unchecked Sendable {
    var bytes: [UInt8] = []
    var finished = false
}

private struct ProtocolTestWriter: ResponseBodyWriter {
    let sink: ProtocolTestSink
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes += Array(buffer.readableBytesView) }
    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { sink.bytes += Array(b.readableBytesView) }
    }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws { sink.finished = true }
}

private func body(_ response: AWSResponse) async throws -> String {
    let sink = ProtocolTestSink()
    try await response.body.write(ProtocolTestWriter(sink: sink))
    #expect(sink.finished)
    return String(decoding: sink.bytes, as: UTF8.self)
}

// MARK: - XMLWriter

@Suite struct XMLWriterTests {
    @Test func declarationIsWrittenByDefault() {
        var xml = XMLWriter()
        xml.element("A", "x")
        #expect(text(xml) == declaration + "<A>x</A>")
    }

    @Test func noDeclarationWhenAsked() {
        var xml = XMLWriter(declaration: false)
        xml.element("A", "x")
        #expect(text(xml) == "<A>x</A>")
    }

    @Test func escapesTheFiveXMLSpecialCharacters() {
        var xml = XMLWriter(declaration: false)
        xml.element("Key", "a&b<c>d\"e'f")
        #expect(text(xml) == "<Key>a&amp;b&lt;c&gt;d&quot;e&apos;f</Key>")
    }

    @Test func escapesAlreadyEscapedTextAgain() {
        var xml = XMLWriter(declaration: false)
        xml.element("Key", "&amp;")
        #expect(text(xml) == "<Key>&amp;amp;</Key>")
    }

    @Test func escapesTabNewlineAndCarriageReturnAsCharacterReferences() {
        // S3 writes keys with CR/LF as &#13; / &#10; so that XML parsers do not normalise them away.
        var xml = XMLWriter(declaration: false)
        xml.element("Key", "a\tb\nc\rd")
        #expect(text(xml) == "<Key>a&#9;b&#10;c&#13;d</Key>")
    }

    @Test func dropsControlCharactersXML10CannotCarry() {
        // XML 1.0 has no way to write U+0000...U+001F other than tab, LF and CR (not even &#x1;):
        // they are left out so that the document stays well-formed.
        var xml = XMLWriter(declaration: false)
        xml.element("Key", "\u{0}\u{1}x\u{1F}&\u{B}")
        #expect(text(xml) == "<Key>x&amp;</Key>")
        #expect(XMLElement.parse(Array(xml.buffer.readableBytesView))?.text == "x&")
    }

    @Test func nonASCIITextPassesAsUTF8() {
        var xml = XMLWriter(declaration: false)
        xml.element("Key", "ä€😀 & ü")
        #expect(Array(xml.buffer.readableBytesView) == Array("<Key>ä€😀 &amp; ü</Key>".utf8))
    }

    @Test func nestingXmlnsAndValueOverloads() {
        var xml = XMLWriter(declaration: false)
        let missing: String? = nil
        let present: String? = "p"
        xml.open("ListAllMyBucketsResult", xmlns: "http://s3.amazonaws.com/doc/2006-03-01/")
        xml.open("Buckets")
        xml.element("Count", 5)
        xml.element("Flag", true)
        xml.element("Off", false)
        xml.element("Missing", missing)
        xml.element("Present", present)
        xml.empty("Empty")
        xml.close()
        xml.group("Owner") { $0.element("ID", "") }
        xml.group("Wrapped", xmlns: "urn:x") { $0.element("V", -1) }
        xml.close()
        #expect(text(xml) == """
            <ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets><Count>5</Count>\
            <Flag>true</Flag><Off>false</Off><Present>p</Present><Empty/></Buckets><Owner><ID></ID></Owner>\
            <Wrapped xmlns="urn:x"><V>-1</V></Wrapped></ListAllMyBucketsResult>
            """)
    }

    @Test func elementWithXmlns() {
        var xml = XMLWriter(declaration: false)
        xml.element("LocationConstraint", "eu-west-1", xmlns: "http://s3.amazonaws.com/doc/2006-03-01/")
        #expect(text(xml) == "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>")
    }

    @Test func attributesAndXmlnsValuesAreEscaped() {
        var xml = XMLWriter(declaration: false)
        xml.open("Grantee", attributes: [("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "CanonicalUser")])
        xml.close()
        xml.open("A", xmlns: "urn:a&b", attributes: [("k", "x\"<'&>")])
        xml.close()
        #expect(text(xml) == """
            <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"></Grantee>\
            <A xmlns="urn:a&amp;b" k="x&quot;&lt;&apos;&amp;&gt;"></A>
            """)
    }

    @Test func writtenTextReadsBackUnchanged() throws {
        let original = "a&b<c>\"d'e\tf\ng\rh ä€😀 &amp;"
        var xml = XMLWriter()
        xml.open("Root", xmlns: "http://s3.amazonaws.com/doc/2006-03-01/")
        xml.element("Key", original)
        xml.close()
        let root = try #require(XMLElement.parse(Array(xml.buffer.readableBytesView)))
        #expect(root.name == "Root")
        #expect(root.value("Key") == original)
    }
}

// MARK: - XMLElement.parse

@Suite struct XMLParseTests {
    private func parse(_ s: String) -> XMLElement? { XMLElement.parse(Array(s.utf8)) }

    @Test func defaultNamespaceIsIgnored() throws {
        let doc = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Object><Key>a&amp;b</Key><VersionId>v1</VersionId></Object>
              <Object><Key>c</Key></Object>
              <Quiet>true</Quiet>
            </Delete>
            """
        let root = try #require(parse(doc))
        #expect(root.name == "Delete")
        let objects = root.children("Object")
        #expect(objects.count == 2)
        #expect(objects.first?.value("Key") == "a&b")
        #expect(objects.first?.value("VersionId") == "v1")
        #expect(objects.last?.value("Key") == "c")
        #expect(objects.last?.value("VersionId") == nil)
        #expect(root.value("Quiet") == "true")
        #expect(root.child("Missing") == nil)
        #expect(root.child("Object")?.value("Key") == "a&b")
    }

    @Test func prefixedNamespaceGivesLocalNames() throws {
        let doc = """
            <s3:Tagging xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:TagSet>\
            <s3:Tag><s3:Key>k</s3:Key><s3:Value>v</s3:Value></s3:Tag></s3:TagSet></s3:Tagging>
            """
        let root = try #require(parse(doc))
        #expect(root.name == "Tagging")
        let tag = try #require(root.child("TagSet")?.child("Tag"))
        #expect(tag.value("Key") == "k")
        #expect(tag.value("Value") == "v")
    }

    @Test func cdataIsText() throws {
        let root = try #require(parse("<Part><Key><![CDATA[a<b&c]]></Key><Mixed>x<![CDATA[<y>]]>z</Mixed></Part>"))
        #expect(root.value("Key") == "a<b&c")
        #expect(root.value("Mixed") == "x<y>z")
    }

    @Test func characterReferencesAndUTF8() throws {
        let root = try #require(parse("<R><A>&#x41;&#66;&lt;&gt;&quot;&apos;</A><B>ä€😀</B><C/></R>"))
        #expect(root.value("A") == "AB<>\"'")
        #expect(root.value("B") == "ä€😀")
        #expect(root.value("C") == "")
        #expect(root.children.map(\.name) == ["A", "B", "C"])
    }

    @Test(arguments: [
        "",
        "not xml",
        "<a>",
        "<a><b></a>",
        "<a></b>",
        "<a></a><b></b>",
        "<a x=\"1></a>",
        "<Delete><Object><Key>k</Key></Object>",
    ])
    func malformedIsNil(_ doc: String) {
        #expect(parse(doc) == nil)
    }
}

// MARK: - ErrorRendering

@Suite struct ErrorRenderingTests {
    @Test func restXMLDocumentExactBytes() async throws {
        let error = AWSError("NoSuchKey", "The specified key does not exist.", status: .notFound)
            .with("Key", "a&b<c>")
        let r = ErrorRendering.restXML(error, requestID: "4442587FB7D0A2F9", isHead: false)
        #expect(r.status == .notFound)
        #expect(r.headers[.contentType] == "application/xml")
        #expect(try await body(r) == declaration + """
            <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>\
            <Key>a&amp;b&lt;c&gt;</Key><RequestId>4442587FB7D0A2F9</RequestId>\
            <HostId>cloudless/4442587FB7D0A2F9</HostId></Error>
            """)
    }

    @Test func restXMLDetailsKeepTheirOrder() async throws {
        let error = AWSError("KeyTooLongError", "Your key is too long").with("MaxSizeAllowed", "1024").with("Size", "1025")
        let r = ErrorRendering.restXML(error, requestID: "R", isHead: false)
        #expect(r.status == .badRequest)
        #expect(try await body(r) == declaration + """
            <Error><Code>KeyTooLongError</Code><Message>Your key is too long</Message><MaxSizeAllowed>1024</MaxSizeAllowed>\
            <Size>1025</Size><RequestId>R</RequestId><HostId>cloudless/R</HostId></Error>
            """)
    }

    @Test func restXMLCarriesErrorHeaders() async throws {
        let error = AWSError("MethodNotAllowed", "The specified method is not allowed against this resource.", status: .methodNotAllowed,
                             headers: [("x-amz-delete-marker", "true"), ("Allow", "DELETE")])
        let r = ErrorRendering.restXML(error, requestID: "R", isHead: false)
        #expect(r.status == .methodNotAllowed)
        #expect(r.headers.value("x-amz-delete-marker") == "true")
        #expect(r.headers.value("allow") == "DELETE")
        #expect(try await body(r).contains("<Code>MethodNotAllowed</Code>"))
    }

    @Test func restXMLHeadHasNoBodyButKeepsStatusAndHeaders() async throws {
        let error = AWSError("NoSuchKey", "The specified key does not exist.", status: .notFound,
                             headers: [("x-amz-delete-marker", "true")])
        let r = ErrorRendering.restXML(error, requestID: "R", isHead: true)
        #expect(r.status == .notFound)
        #expect(r.headers.value("x-amz-delete-marker") == "true")
        #expect(r.body.contentLength == 0)
        #expect(try await body(r) == "")
    }

    @Test func notModifiedHasNoBodyEvenForGet() async throws {
        let error = AWSError("NotModified", "Not Modified", status: .notModified,
                             headers: [("ETag", "\"9b2cf535f27731c974343645a3985328\""), ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")])
        let r = ErrorRendering.restXML(error, requestID: "R", isHead: false)
        #expect(r.status == .notModified)
        #expect(r.headers.value("etag") == "\"9b2cf535f27731c974343645a3985328\"")
        #expect(r.headers.value("last-modified") == "Wed, 21 Oct 2015 07:28:00 GMT")
        #expect(r.body.contentLength == 0)
        #expect(try await body(r) == "")
    }

    @Test func queryDocumentExactBytesSenderFault() async throws {
        let error = AWSError("InvalidParameterValue", "Value 'x<y' is invalid.")
        let r = ErrorRendering.query(error, requestID: "c6104cbe-af31-11e0-8154-cbc7ccf896c7",
                                     xmlns: "https://sts.amazonaws.com/doc/2011-06-15/")
        #expect(r.status == .badRequest)
        #expect(r.headers[.contentType] == "text/xml")
        #expect(try await body(r) == declaration + """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>\
            <Code>InvalidParameterValue</Code><Message>Value &apos;x&lt;y&apos; is invalid.</Message></Error>\
            <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>
            """)
    }

    @Test func queryDocumentReceiverFaultDetailsAndNoNamespace() async throws {
        let error = AWSError.internalError("boom").with("Detail", "d")
        let r = ErrorRendering.query(error, requestID: "R", xmlns: nil)
        #expect(r.status == .internalServerError)
        #expect(try await body(r) == declaration + """
            <ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>boom</Message>\
            <Detail>d</Detail></Error><RequestId>R</RequestId></ErrorResponse>
            """)
    }

    @Test func queryCarriesErrorHeaders() {
        let error = AWSError("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.",
                             headers: [("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender")])
        let r = ErrorRendering.query(error, requestID: "R", xmlns: nil)
        #expect(r.headers.value("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender")
    }

    @Test func jsonBodyAndHeaders() async throws {
        let error = AWSError("ResourceNotFoundException", "Secrets Manager can't find the \"specified\" secret.")
        let r = ErrorRendering.json(error, requestID: "R", typePrefix: nil, contentType: "application/x-amz-json-1.1")
        #expect(r.status == .badRequest)
        #expect(r.headers.value("x-amzn-ErrorType") == "ResourceNotFoundException")
        #expect(r.headers[.contentType] == "application/x-amz-json-1.1")
        #expect(try await body(r) == #"{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the \"specified\" secret."}"#)
    }

    @Test func jsonTypePrefixDetailsAndCarriedHeaders() async throws {
        let error = AWSError("ResourceNotFoundException", "Requested resource not found", status: .notFound,
                             details: [("Resource", "tab\tle")], headers: [("x-amzn-query-error", "Q;Sender")])
        let r = ErrorRendering.json(error, requestID: "R", typePrefix: "com.amazonaws.dynamodb.v20120810#",
                                    contentType: "application/x-amz-json-1.0")
        #expect(r.status == .notFound)
        // The header names the same shape id as `__type` (SQS sends `com.amazonaws.sqs#QueueDoesNotExist`).
        #expect(r.headers.value("x-amzn-errortype") == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException")
        #expect(r.headers.value("x-amzn-query-error") == "Q;Sender")
        #expect(r.headers[.contentType] == "application/x-amz-json-1.0")
        let s = try await body(r)
        #expect(s == #"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found","Resource":"tab\tle"}"#)
        // And it is JSON.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: String])
        #expect(object["Resource"] == "tab\tle")
        #expect(object["__type"] == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException")
    }
}

// MARK: - QueryProtocol.response

@Suite struct QueryEnvelopeTests {
    @Test func envelopeExactBytes() async throws {
        let r = QueryProtocol.response(action: "GetCallerIdentity", xmlns: "https://sts.amazonaws.com/doc/2011-06-15/",
                                       requestID: "01234567-89ab-cdef-0123-456789abcdef") { xml in
            xml.element("Arn", "arn:aws:iam::123456789012:user/Alice")
            xml.element("UserId", "AKIAI44QH8DHBEXAMPLE")
            xml.element("Account", "123456789012")
        }
        #expect(r.status == .ok)
        #expect(r.headers[.contentType] == "text/xml")
        #expect(try await body(r) == declaration + """
            <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>\
            <Arn>arn:aws:iam::123456789012:user/Alice</Arn><UserId>AKIAI44QH8DHBEXAMPLE</UserId>\
            <Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata>\
            <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>
            """)
    }

    @Test func emptyResultStillHasResultElement() async throws {
        let r = QueryProtocol.response(action: "DeleteQueue", xmlns: "http://queue.amazonaws.com/doc/2012-11-05/", requestID: "R") { _ in }
        #expect(try await body(r) == declaration + """
            <DeleteQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><DeleteQueueResult></DeleteQueueResult>\
            <ResponseMetadata><RequestId>R</RequestId></ResponseMetadata></DeleteQueueResponse>
            """)
    }
}

// MARK: - JSONString

@Suite struct JSONStringTests {
    @Test(arguments: [
        ("", #""""#),
        ("plain", #""plain""#),
        ("a\"b\\c", #""a\"b\\c""#),
        ("\n\r\t", #""\n\r\t""#),
        ("\u{0}\u{1}\u{8}\u{C}\u{1F}", #""\u0000\u0001\u0008\u000c\u001f""#),
        ("a/b", #""a/b""#),
        ("é😀\u{7F}\u{2028}", "\"é😀\u{7F}\u{2028}\""),
    ])
    func quote(_ input: String, _ expected: String) {
        #expect(JSONString.quote(input) == expected)
    }

    @Test func quotedStringsDecodeBackWithJSONSerialization() throws {
        let tricky = "q\"b\\s/\n\r\t\u{0}\u{1F} ä€😀 </script>"
        let json = "[" + JSONString.quote(tricky) + "]"
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String])
        #expect(decoded == [tricky])
    }
}
