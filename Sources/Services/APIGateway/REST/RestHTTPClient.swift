import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// HTTP and HTTP_PROXY integrations' one request to their endpoint: plain HTTP/1.1 with `Connection: close` over a
/// socket, on a dispatch thread (the integration's latency is the endpoint's; no pool is worth keeping for it).
enum RestHTTPClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
    }

    enum Failure: Error { case badURL, connect, timeout, protocolError }

    static func send(method: String, url: String, headers: [(String, String)], body: [UInt8], timeout: Double) async throws -> Response {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Response, any Error>) in
            DispatchQueue.global().async {
                c.resume(with: Result { try exchange(method: method, url: url, headers: headers, body: body, timeout: timeout) })
            }
        }
    }

    static func exchange(method: String, url: String, headers: [(String, String)], body: [UInt8], timeout: Double) throws -> Response {
        guard let u = URLComponents(string: url), u.scheme == "http", let host = u.host, !host.isEmpty else { throw Failure.badURL }
        let port = u.port ?? 80
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else { throw Failure.connect }
        defer { freeaddrinfo(info) }
        var fd: Int32 = -1
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let a = cursor {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if s >= 0 {
                var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
                setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { fd = s; break }
                close(s)
            }
            cursor = a.pointee.ai_next
        }
        guard fd >= 0 else { throw Failure.connect }
        defer { close(fd) }
        var target = u.percentEncodedPath.isEmpty ? "/" : u.percentEncodedPath
        if let q = u.percentEncodedQuery, !q.isEmpty { target += "?" + q }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host)\(u.port.map { ":\($0)" } ?? "")\r\nConnection: close\r\n"
        let skip: Set<String> = ["host", "connection", "content-length", "transfer-encoding", "keep-alive", "expect"]
        for (k, v) in headers where !skip.contains(k.lowercased()) { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        let out = Array(head.utf8) + body
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure.connect }
            sent += n
        }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw Failure.timeout }
            data += buffer[0..<n]
            if data.count > 10 << 20 { break }
        }
        return try parse(data)
    }

    static func parse(_ data: [UInt8]) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, data.count - 3)).first(where: { Array(data[$0..<$0 + 4]) == separator }) else { throw Failure.protocolError }
        let lines = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure.protocolError }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(data[(end + 4)...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            body = dechunk(body)
            headers.removeAll { $0.0.lowercased() == "transfer-encoding" }
        }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            guard let lineEnd = (i..<max(i, data.count - 1)).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= data.count else { break }
            out += data[start..<start + size]
            i = start + size + 2
        }
        return out
    }
}
