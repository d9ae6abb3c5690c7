import Core

/// The embedded assets (GeneratedAssets.swift, written by Plugins/ConsoleAssetsPlugin), with their content types and
/// ETags computed once at first use.
struct Asset: Sendable {
    let bytes: [UInt8]
    let contentType: String
    let etag: String

    init(text: String, name: String) {
        bytes = Array(text.utf8)
        contentType = Self.contentType(of: name)
        etag = Self.etag(bytes)
    }

    static func etag(_ bytes: [UInt8]) -> String { "\"" + Hex.encode(Array(SHA256.hash(bytes).prefix(16))) + "\"" }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last ?? "" {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json": "application/json"
        default: "text/plain; charset=utf-8"
        }
    }

    static let all: [String: Asset] = {
        var map: [String: Asset] = [:]
        for (name, text) in generatedAssets { map[name] = Asset(text: text, name: name) }
        return map
    }()
}
