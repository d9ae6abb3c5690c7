#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One part's header block of a multipart/form-data body.
public struct MultipartPartHeaders: Sendable {
    /// Header lines, names lowercased, in order.
    public var fields: [(String, String)]
    /// The `name` and `filename` parameters of Content-Disposition.
    public var name: String?
    public var filename: String?

    public func value(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
    public var contentType: String? { value("content-type") }
}

/// A streaming multipart/form-data parser (RFC 7578, RFC 2046 §5.1.1). Bytes go in as they arrive, in chunks of
/// any size; part headers and body bytes come out as events. Body bytes are handed over as slices of the caller's
/// chunk, so a file part of any size streams through; the parser itself keeps one part's header block at most.
public struct MultipartFormParser: Sendable {
    public enum Event {
        case partStart(MultipartPartHeaders)
        /// Body bytes of the current part; valid only during the call.
        case data(UnsafeRawBufferPointer)
        case partEnd
    }

    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public init(reason: String) { self.reason = reason }
        public var description: String { "malformed multipart body: \(reason)" }
    }

    private enum State: Sendable { case preamble, afterDelimiter, closeDash, padding, expectLF, headers, body, done }

    /// "\r\n--" + boundary. The boundary holds no CR (checked in init), so after a partial match fails the only
    /// place a new match can start is at a CR: no KMP table needed.
    private let delimiter: [UInt8]
    private var state = State.preamble
    /// Delimiter bytes matched so far; they are always `delimiter[0..<matched]`, so bytes held back across chunks
    /// need no buffer. The preamble starts at 2: the body may open with "--boundary" and no CRLF before it.
    private var matched = 2
    private var headerBlock: [UInt8] = []
    private let maxHeaderBytes: Int

    public init?(boundary: String, maxHeaderBytes: Int = 8192) {
        let b = Array(boundary.utf8)
        guard !b.isEmpty, b.count <= 200, !b.contains(13), !b.contains(10) else { return nil }
        delimiter = Array("\r\n--".utf8) + b
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// The boundary of a `multipart/form-data` Content-Type; nil for any other type.
    public static func boundary(contentType: String) -> String? {
        let (type, params) = headerParameters(contentType)
        guard type == "multipart/form-data", let b = params["boundary"], !b.isEmpty else { return nil }
        return b
    }

    /// True once the closing delimiter was read (whatever follows is epilogue and ignored).
    public var isComplete: Bool { state == .done }

    /// The body ended: anything but a complete multipart document is malformed.
    public func finish() throws {
        if state != .done { throw Malformed(reason: "body ended before the closing boundary") }
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handler: (Event) throws -> Void) throws {
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .preamble, .body:
                let inBody = state == .body
                guard let end = try scan(bytes, from: i, emit: inBody, handler) else { return }
                if inBody { try handler(.partEnd) }
                state = .afterDelimiter
                i = end
            case .done:
                return
            case .headers:
                // Copy up to the end of this line at most; header blocks are small.
                let byte = bytes[i]
                headerBlock.append(byte)
                i += 1
                if headerBlock.count > maxHeaderBytes { throw Malformed(reason: "part headers too large") }
                if byte == 10, headerBlock.count >= 2, headerBlock[headerBlock.count - 2] == 13,
                   headerBlock.count == 2 || headerBlock.count >= 4 && headerBlock[headerBlock.count - 3] == 10 {
                    let headers = try Self.parseHeaders(headerBlock)
                    headerBlock = []
                    state = .body
                    matched = 0
                    try handler(.partStart(headers))
                }
            default:
                try step(bytes[i])
                i += 1
            }
        }
    }

    /// The bytes between a delimiter and the next part's headers: "--" (the end), or padding and CRLF.
    private mutating func step(_ c: UInt8) throws {
        let space = c == 32 || c == 9
        switch state {
        case .afterDelimiter:
            if c == 45 { state = .closeDash } else if space { state = .padding } else if c == 13 { state = .expectLF } else {
                throw Malformed(reason: "boundary not followed by CRLF")
            }
        case .closeDash:
            guard c == 45 else { throw Malformed(reason: "bad closing boundary") }
            state = .done
        case .padding:
            if c == 13 { state = .expectLF } else if !space { throw Malformed(reason: "boundary not followed by CRLF") }
        case .expectLF:
            guard c == 10 else { throw Malformed(reason: "boundary not followed by CRLF") }
            state = .headers
        default:
            break
        }
    }

    /// Looks for the delimiter from `start`. Bytes that cannot be part of it are data (passed on in a body,
    /// dropped in the preamble). Returns the index just past the delimiter, or nil when the chunk ran out.
    private mutating func scan(_ buf: UnsafeRawBufferPointer, from start: Int, emit: Bool,
                               _ handler: (Event) throws -> Void) throws -> Int? {
        let n = buf.count
        var i = start
        // How many of the `matched` bytes lie in this chunk (just before i); the rest came in earlier chunks.
        var inChunk = 0
        while i < n {
            if matched == 0 {
                guard let cr = memchr(buf.baseAddress! + i, 13, n - i) else { i = n; break }
                i = buf.baseAddress!.distance(to: UnsafeRawPointer(cr)) + 1
                matched = 1
                inChunk = 1
            } else if buf[i] == delimiter[matched] {
                matched += 1
                inChunk += 1
                i += 1
                if matched == delimiter.count {
                    if emit, i - inChunk > start { try handler(.data(UnsafeRawBufferPointer(rebasing: buf[start..<(i - inChunk)]))) }
                    matched = 0
                    return i
                }
            } else {
                // Not a delimiter after all: held-back bytes from earlier chunks are data, before this chunk's.
                let carried = matched - inChunk
                if emit, carried > 0 {
                    try delimiter.withUnsafeBytes { try handler(.data(UnsafeRawBufferPointer(rebasing: $0[0..<carried]))) }
                }
                matched = 0
                inChunk = 0
            }
        }
        if emit, n - inChunk > start { try handler(.data(UnsafeRawBufferPointer(rebasing: buf[start..<(n - inChunk)]))) }
        return nil
    }

    /// "Name: value" lines ending with an empty line; folded lines join the previous one.
    static func parseHeaders(_ block: [UInt8]) throws -> MultipartPartHeaders {
        var fields: [(String, String)] = []
        let text = String(decoding: block, as: UTF8.self)
        for raw in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            if raw.first == " " || raw.first == "\t" {
                guard !fields.isEmpty else { throw Malformed(reason: "continuation line without a header") }
                fields[fields.count - 1].1 += " " + trim(raw)
                continue
            }
            guard let colon = raw.firstIndex(of: ":") else { throw Malformed(reason: "header line without a colon") }
            let name = trim(raw[..<colon]).lowercased()
            guard !name.isEmpty else { throw Malformed(reason: "empty header name") }
            fields.append((name, trim(raw[raw.index(after: colon)...])))
        }
        var headers = MultipartPartHeaders(fields: fields)
        if let cd = headers.value("content-disposition") {
            let (_, params) = headerParameters(cd)
            headers.name = params["name"]
            headers.filename = params["filename"]
            // RFC 5987 `filename*=UTF-8''na%C3%AFve.txt` wins over the plain one.
            if let ext = params["filename*"], let quote = ext.range(of: "''") {
                headers.filename = Percent.decode(ext[quote.upperBound...]) ?? headers.filename
            }
        }
        return headers
    }

    /// `type; a=b; c="quoted \" value"` → ("type" lowercased, parameters with lowercased names).
    public static func headerParameters(_ value: String) -> (String, [String: String]) {
        let chars = Array(value.unicodeScalars)
        var i = 0
        func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }
        func token(until stops: Set<Unicode.Scalar>) -> String {
            var s = String.UnicodeScalarView()
            while i < chars.count, !stops.contains(chars[i]) { s.append(chars[i]); i += 1 }
            return trim(Substring(String(s)))
        }
        let type = token(until: [";"]).lowercased()
        var params: [String: String] = [:]
        while i < chars.count {
            i += 1  // the ';'
            skipSpaces()
            let name = token(until: ["=", ";"]).lowercased()
            guard i < chars.count, chars[i] == "=" else { continue }
            i += 1
            skipSpaces()
            var v = ""
            if i < chars.count, chars[i] == "\"" {
                i += 1
                while i < chars.count, chars[i] != "\"" {
                    // Only \" and \\ are escapes: browsers send Windows paths (C:\dir\f.txt) unescaped.
                    if chars[i] == "\\", i + 1 < chars.count, chars[i + 1] == "\"" || chars[i + 1] == "\\" { i += 1 }
                    v.unicodeScalars.append(chars[i])
                    i += 1
                }
                i += 1
                _ = token(until: [";"])
            } else {
                v = token(until: [";"])
            }
            if !name.isEmpty, params[name] == nil { params[name] = v }
        }
        return (type, params)
    }

    private static func trim(_ s: Substring) -> String {
        var t = s
        while let f = t.first, f == " " || f == "\t" { t.removeFirst() }
        while let l = t.last, l == " " || l == "\t" { t.removeLast() }
        return String(t)
    }
}
