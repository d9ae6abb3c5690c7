#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging
import Synchronization

/// swift-log's StreamLogHandler, made cheap enough for a line per request: the same line
/// (`<time> <level> <label>: <metadata> [<source>] <message>`) written with one `write(2)` (a line is atomic on an
/// O_APPEND file or a pipe, so no lock), the time formatted once a second (StreamLogHandler calls `localtime`, which
/// stats /etc/localtime, on every line), and metadata rendered only when a line is written (StreamLogHandler renders
/// it on every change, and Hummingbird sets a request id on each request's logger).
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let fd: Int32

    public init(label: String, level: Logger.Level = .info, fd: Int32 = 2, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.fd = fd
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: Logging.LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { all.merge(provided) { $1 } }
        if let explicit = event.metadata, !explicit.isEmpty { all.merge(explicit) { $1 } }
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = Self.line(time: LogClock.timestamp(), level: event.level, label: label, metadata: all,
                             source: event.source, message: event.message.description)
        line.withUTF8 { bytes in
            var off = 0
            while off < bytes.count {
                let n = write(fd, bytes.baseAddress! + off, bytes.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                off += n
            }
        }
    }

    /// The line StreamLogHandler writes for the same event.
    static func line(time: String, level: Logger.Level, label: String, metadata: Logger.Metadata, source: String, message: String) -> String {
        var line = time
        line += " "
        line += level.rawValue
        if !label.isEmpty { line += " " + label }
        line += ":"
        if !metadata.isEmpty {
            line += " "
            line += metadata.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        line += " [" + source + "] " + message + "\n"
        return line
    }
}

/// `2026-12-07T10:00:00+0000` in local time, as StreamLogHandler prints it, formatted at most once a second.
enum LogClock {
    private static let cached = Mutex<(Int, String)>((-1, ""))

    static func timestamp() -> String {
        var now = time(nil)
        let second = Int(now)
        if let hit = cached.withLock({ $0.0 == second ? $0.1 : nil }) { return hit }
        let text = format(&now)
        cached.withLock { $0 = (second, text) }
        return text
    }

    static func format(_ t: inout time_t) -> String {
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return "<unknown>" }
        var buffer = [Int8](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
