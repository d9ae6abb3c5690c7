public import Hummingbird
import Foundation
import HTTPTypes
import NIOCore
import ServiceLifecycle
import Synchronization

/// The last requests the gateway answered, for the console and `GET /_cloudless/requests`: service, operation, caller,
/// status, duration and error code. Never a body, a header value or a query parameter (secret values, object bytes
/// and signatures stay out by construction). Recording is a lock and an array slot: a fixed ring, no allocation
/// beyond the entry's strings.
public final class RequestLog: Sendable {
    public struct Entry: Sendable, Equatable {
        public var seq: Int
        public var time: Double
        public var method: String
        public var service: String
        public var operation: String
        public var account: String
        public var region: String
        public var accessKeyID: String
        public var status: Int
        public var milliseconds: Double
        public var errorCode: String
    }

    struct Ring {
        var entries: [Entry?]
        var next = 0  // sequence number of the next entry; its slot is next % capacity
    }

    public let capacity: Int
    private let ring: Mutex<Ring>

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
        ring = Mutex(Ring(entries: Array(repeating: nil, count: max(1, capacity))))
    }

    public func record(method: String, service: String, operation: String, caller: CallerIdentity?, status: Int,
                       duration: Duration, errorCode: String?) {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        let time = Date().timeIntervalSince1970
        ring.withLock { r in
            let seq = r.next
            r.entries[seq % capacity] = Entry(
                seq: seq, time: time, method: method, service: service, operation: operation,
                account: caller?.accountID ?? "", region: caller?.region ?? "", accessKeyID: caller?.accessKeyID ?? "",
                status: status, milliseconds: (ms * 100).rounded() / 100, errorCode: errorCode ?? "")
            r.next = seq + 1
        }
    }

    /// Entries with a sequence number of at least `after + 1`, oldest first (at most `capacity`).
    public func entries(after: Int = -1) -> [Entry] {
        ring.withLock { r in
            let first = max(after + 1, r.next - capacity, 0)
            guard first < r.next else { return [] }
            return (first..<r.next).compactMap { r.entries[$0 % capacity] }
        }
    }

    public var nextSequence: Int { ring.withLock { $0.next } }

    static func json(_ e: Entry) -> String {
        "{\"seq\":\(e.seq),\"time\":\(e.time),\"method\":\(JSONString.quote(e.method)),\"service\":\(JSONString.quote(e.service)),"
            + "\"operation\":\(JSONString.quote(e.operation)),\"account\":\(JSONString.quote(e.account)),"
            + "\"region\":\(JSONString.quote(e.region)),\"accessKeyId\":\(JSONString.quote(e.accessKeyID)),"
            + "\"status\":\(e.status),\"durationMs\":\(e.milliseconds),\"errorCode\":\(JSONString.quote(e.errorCode))}"
    }

    /// Query filters: service, operation, account, status (exact), errors=1 (status >= 400), after (sequence).
    struct Filter {
        var service: String?, operation: String?, account: String?, status: Int?, errorsOnly = false, after = -1, limit = 1000
        /// The signer's account under --strict-auth (InternalAccess): other accounts' entries are never shown.
        var onlyAccount: String?

        init(query: Substring, onlyAccount: String? = nil) {
            self.onlyAccount = onlyAccount
            for (k, v) in Percent.parseQuery(String(query), plusIsSpace: true) ?? [] where !v.isEmpty {
                switch k {
                case "service": service = v
                case "operation": operation = v
                case "account": account = v
                case "status": status = Int(v)
                case "errors": errorsOnly = v == "1" || v == "true"
                case "after": after = Int(v) ?? -1
                case "limit": limit = max(1, Int(v) ?? 1000)
                default: break
                }
            }
        }

        func matches(_ e: Entry) -> Bool {
            (service == nil || e.service == service) && (operation == nil || e.operation == operation)
                && (account == nil || e.account == account) && (status == nil || e.status == status)
                && (!errorsOnly || e.status >= 400) && (onlyAccount == nil || e.account == onlyAccount)
        }
    }
}

extension RequestLog: InternalRoutes {
    /// `GET /_cloudless/requests[?service=&operation=&account=&status=&errors=1&after=&limit=]`: JSON
    /// `{"requests": [...], "next": <seq>}`, oldest first. `GET /_cloudless/requests/stream` (same filters): server-sent
    /// events, one `data:` line per request as it is answered, starting after `after` (default: from now).
    public func response(to request: Request, path: Substring, query: Substring) async -> Response? {
        await response(to: request, path: path, query: query, onlyAccount: nil)
    }

    /// The same, showing only `onlyAccount`'s requests when set (the signer's, under --strict-auth).
    public func response(to request: Request, path: Substring, query: Substring, onlyAccount: String?) async -> Response? {
        guard request.method == .get, path == "/_cloudless/requests" || path == "/_cloudless/requests/stream" else { return nil }
        let filter = Filter(query: query, onlyAccount: onlyAccount)
        var headers = HTTPFields()
        headers[.cacheControl] = "no-store"
        if path == "/_cloudless/requests" {
            let list = entries(after: filter.after).filter(filter.matches).suffix(filter.limit)
            headers[.contentType] = "application/json"
            let text = "{\"requests\":[" + list.map(Self.json).joined(separator: ",") + "],\"next\":\(nextSequence)}"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        headers[.contentType] = "text/event-stream"
        // A reconnecting EventSource says where it stopped (Last-Event-ID); else `after`, else from now.
        let lastID = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int($0) }
        let start = lastID ?? (query.contains("after=") ? filter.after : nextSequence - 1)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await self.stream(to: &writer, filter: filter, after: start)
        })
    }

    /// Writes entries as they come, polling the ring every 250 ms (the recording path stays a lock and a slot).
    /// A stream never ends by itself: on SIGTERM it ends at once instead of holding the server's graceful shutdown
    /// for its whole grace period (a browser's EventSource reconnects to the next server).
    private func stream(to writer: inout any ResponseBodyWriter, filter: Filter, after start: Int) async throws {
        final class Stop: Sendable {
            let flag = Mutex(false)
        }
        let stop = Stop()
        var seen = start
        // A comment first, so the browser's EventSource opens at once.
        try await writer.write(ByteBuffer(string: ": cloudless request log\n\n"))
        var idle = 0
        try await withGracefulShutdownHandler {
            while !Task.isCancelled && !stop.flag.withLock({ $0 }) {
                let fresh = entries(after: seen)
                if let last = fresh.last { seen = last.seq }
                let lines = fresh.filter(filter.matches).map { "id: \($0.seq)\ndata: \(Self.json($0))\n\n" }.joined()
                if !lines.isEmpty {
                    try await writer.write(ByteBuffer(string: lines))
                    idle = 0
                } else {
                    idle += 1
                    // A keep-alive comment every 15 s finds a closed connection (the write throws) and ends the loop.
                    if idle % 60 == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                }
                try await Task.sleep(for: .milliseconds(250))
            }
        } onGracefulShutdown: {
            stop.flag.withLock { $0 = true }
        }
        try await writer.finish(nil)
    }
}
