import ArgumentParser
import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cloudless snapshot save|restore|list|delete`: a client of a running server's `/_cloudless/snapshots` endpoints.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Save, restore, list or delete snapshots of a running server's whole state.",
        discussion: """
            A snapshot lives in the server's data folder (snapshots/<name>/): every service database copied with \
            SQLite's online backup while the server serves, and the object files hard-linked. A restore brings every \
            service back to that moment in well under a second; `cloudless serve --snapshot <name>` starts from one.
            """,
        subcommands: [Save.self, Restore.self, List.self, Delete.self])

    struct Server: ParsableArguments {
        @Option(help: "The server's port (CLOUDLESS_PORT). Default 4566.")
        var port: Int?
        @Option(help: "The server's address (CLOUDLESS_HOST). Default 127.0.0.1.")
        var host: String?

        func call(_ method: String, _ path: String) throws -> [String: Any] {
            let env = ProcessInfo.processInfo.environment
            let port = self.port ?? env["CLOUDLESS_PORT"].flatMap { Int($0) } ?? 4566
            var host = self.host ?? env["CLOUDLESS_HOST"] ?? "127.0.0.1"
            if host == "0.0.0.0" || host == "localhost" { host = "127.0.0.1" }
            let (status, body) = try PlainHTTP.request(method, path, host: host, port: port)
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
            guard (200..<300).contains(status) else {
                let message = object["error"] as? String ?? String(decoding: body, as: UTF8.self)
                throw PlainHTTP.Failure(description: "\(object["code"] as? String ?? "HTTP \(status)"): \(message)")
            }
            return object
        }
    }

    static func path(_ name: String) -> String {
        "/_cloudless/snapshots/" + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name)
    }

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save the whole state as NAME (an older NAME is replaced).")
        @Argument var name: String
        @OptionGroup var server: Server
        func run() throws {
            let r = try server.call("POST", SnapshotCommand.path(name))
            print("saved \(name): \(r["databases"] ?? 0) databases, \(r["linkedFiles"] ?? 0) object files, \(r["milliseconds"] ?? 0) ms")
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring the whole state back to snapshot NAME.")
        @Argument var name: String
        @OptionGroup var server: Server
        func run() throws {
            let r = try server.call("POST", SnapshotCommand.path(name) + "/restore")
            print("restored \(name) in \(r["milliseconds"] ?? 0) ms")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List snapshots: name, time saved (UTC), size.")
        @OptionGroup var server: Server
        func run() throws {
            let r = try server.call("GET", "/_cloudless/snapshots")
            let formatter = ISO8601DateFormatter()
            for s in r["snapshots"] as? [[String: Any]] ?? [] {
                let created = Date(timeIntervalSince1970: (s["created"] as? NSNumber)?.doubleValue ?? 0)
                let size = (s["size"] as? NSNumber)?.intValue ?? 0
                print("\(s["name"] as? String ?? "?")\t\(formatter.string(from: created))\t\(size)")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete snapshot NAME.")
        @Argument var name: String
        @OptionGroup var server: Server
        func run() throws {
            _ = try server.call("DELETE", SnapshotCommand.path(name))
            print("deleted \(name)")
        }
    }
}

/// One HTTP/1.1 request over a plain socket (the emulator's own endpoints only: no TLS, no redirects).
enum PlainHTTP {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func request(_ method: String, _ path: String, host: String, port: Int) throws -> (Int, [UInt8]) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw Failure(description: "not an IPv4 address: \(host)") }
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            throw Failure(description: "cannot reach Cloudless on \(host):\(port): \(String(cString: strerror(errno)))")
        }
        let head = Array("\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < head.count {
            let n = head[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "write: \(String(cString: strerror(errno)))") }
            sent += n
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            answer += buffer[0..<n]
        }
        return try parse(answer)
    }

    /// Status and body of a whole answer (Content-Length or chunked).
    static func parse(_ answer: [UInt8]) throws -> (Int, [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0...max(0, answer.count - 4)).first(where: { answer[$0..<min($0 + 4, answer.count)].elementsEqual(separator) })
        else { throw Failure(description: "no HTTP answer") }
        let head = String(decoding: answer[..<end], as: UTF8.self).lowercased()
        let statusLine = head.split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line") }
        var body = Array(answer[(end + 4)...])
        if head.contains("transfer-encoding: chunked") {
            var out: [UInt8] = []
            var i = 0
            while let lineEnd = (i..<max(i, body.count - 1)).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
                  let size = Int(String(decoding: body[i..<lineEnd], as: UTF8.self).split(separator: ";")[0], radix: 16), size > 0 {
                let start = lineEnd + 2
                guard start + size <= body.count else { break }
                out += body[start..<(start + size)]
                i = start + size + 2
            }
            body = out
        }
        return (status, body)
    }
}
