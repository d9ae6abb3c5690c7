#if canImport(FoundationXML)
import FoundationXML
#else
import Foundation
#endif
import Foundation

/// A parsed XML request body as a small tree (S3's DeleteObjects, CompleteMultipartUpload, Tagging...).
/// Namespaces are ignored, as AWS does for the documents it accepts.
public final class XMLElement: @unchecked Sendable {
    public let name: String
    public internal(set) var text: String = ""
    public internal(set) var children: [XMLElement] = []
    /// Attributes by qualified name (`xsi:type`).
    public internal(set) var attributes: [String: String] = [:]

    init(name: String) { self.name = name }

    public func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    public func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    /// Text of a direct child element.
    public func value(_ name: String) -> String? { child(name)?.text }

    /// Parse a document; nil when it is not well-formed XML.
    public static func parse(_ data: [UInt8]) -> XMLElement? {
        let parser = XMLParser(data: Data(data))
        let delegate = TreeBuilder()
        parser.delegate = delegate
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        // libxml2 through XMLParser accepts some truncated documents: insist that the root closed and nothing followed.
        guard parser.parse(), parser.parserError == nil, !delegate.invalid, delegate.stack.isEmpty, let root = delegate.root else {
            return nil
        }
        return root
    }
}

private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: XMLElement?
    var stack: [XMLElement] = []
    var invalid = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        let e = XMLElement(name: name)
        e.attributes = attributes
        if let parent = stack.last {
            parent.children.append(e)
        } else if root == nil {
            root = e
        } else {
            invalid = true  // a second root element
        }
        stack.append(e)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        _ = stack.popLast()
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        invalid = true
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        stack.last?.text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        stack.last?.text += String(decoding: CDATABlock, as: UTF8.self)
    }
}
