import Foundation
import Logging
import Synchronization
import Testing
@testable import Core

// LineLogHandler must print the line StreamLogHandler prints (tools and people read the log), only cheaper.

private final class Lines: TextOutputStream, @unchecked Sendable {
    var text = ""
    func write(_ string: String) { text += string }
}

/// The line without its leading timestamp (the two handlers may straddle a second).
private func dropTime(_ line: String) -> Substring {
    line.drop(while: { $0 != " " }).dropFirst()
}

@Test func lineLogHandlerWritesStreamLogHandlersLine() {
    let sink = Lines()
    var stream = StreamLogHandler(label: "cloudless", stream: sink, metadataProvider: nil)
    stream.logLevel = .trace
    stream[metadataKey: "hb.request.id"] = "42"
    stream[metadataKey: "a"] = "b"
    let cases: [(Logger.Level, Logger.Metadata?, String)] = [
        (.info, nil, "GET s3 GetObject 200 0.12ms"),
        (.error, ["error": "boom", "request": "ABC"], "internal error"),
        (.notice, [:], "Cloudless ready"),
    ]
    for (level, explicit, message) in cases {
        sink.text = ""
        let event = Logging.LogEvent(level: level, message: "\(message)", metadata: explicit, source: "Core", file: #fileID, function: #function, line: #line)
        stream.log(event: event)
        var all = stream.metadata
        if let explicit { all.merge(explicit) { $1 } }
        let ours = LineLogHandler.line(time: LogClock.timestamp(), level: level, label: "cloudless", metadata: all, source: "Core", message: message)
        #expect(dropTime(ours) == dropTime(sink.text))
        #expect(ours.hasSuffix("\n"))
    }
}

@Test func logClockFormatsLocalTimeAsStreamLogHandlerDoes() throws {
    let stamp = LogClock.timestamp()
    // 2026-12-07T10:00:00+0000
    let pattern = try Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$"#)
    #expect(stamp.wholeMatch(of: pattern) != nil, "\(stamp)")
    var t = time_t(1_765_100_000)
    var parts = tm()
    localtime_r(&t, &parts)
    var buffer = [Int8](repeating: 0, count: 64)
    strftime(&buffer, 64, "%Y-%m-%dT%H:%M:%S%z", &parts)
    #expect(LogClock.format(&t) == String(cString: buffer))
}

@Test func lineLogHandlerWritesOneLinePerEventToItsDescriptor() throws {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer { close(fds[0]) }
    var h = LineLogHandler(label: "t", level: .info, fd: fds[1])
    h[metadataKey: "k"] = "v"
    let logger = Logger(label: "t") { _ in h }
    logger.info("first")
    logger.debug("hidden")
    logger.warning("second", metadata: ["x": "1"])
    close(fds[1])
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fds[0], &chunk, chunk.count)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines.first.map { String(dropTime(String($0))) } == "info t: k=v [CoreTests] first")
    #expect(lines.last.map { String(dropTime(String($0))) } == "warning t: k=v x=1 [CoreTests] second")
}
