import Core
import Foundation

/// A place in the order CloudWatch Logs reads events in: by timestamp, then by ingestion (the event's row id).
/// A position names an event, or the gap just before one (`before(e)` = (timestamp, id - 1)): a new event's id is
/// above every id that exists, so nothing can land between the two.
struct EventPosition: Comparable, Equatable, Sendable {
    var timestamp: Int64
    var id: Int64

    static let start = EventPosition(timestamp: 0, id: 0)

    static func < (a: EventPosition, b: EventPosition) -> Bool {
        (a.timestamp, a.id) < (b.timestamp, b.id)
    }

    static func before(_ e: EventPosition) -> EventPosition { EventPosition(timestamp: e.timestamp, id: e.id - 1) }

    /// 56 digits, as AWS's event ids and stream tokens have: the timestamp in 20, the id in 36.
    var digits: String {
        let t = String(timestamp), i = String(id)
        return String(repeating: "0", count: max(0, 20 - t.count)) + t + String(repeating: "0", count: max(0, 36 - i.count)) + i
    }

    init(timestamp: Int64, id: Int64) {
        self.timestamp = timestamp
        self.id = id
    }

    init?(digits: Substring) {
        guard digits.count == 56, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let t = Int64(digits.prefix(20)), let i = Int64(digits.suffix(36)) else { return nil }
        timestamp = t
        id = i
    }
}

/// GetLogEvents' `nextForwardToken` / `nextBackwardToken`: `f/<56 digits>/s` and `b/<56 digits>/s` as AWS writes
/// them. A forward token reads the events after its position; a backward token reads those at or before it.
struct StreamToken: Equatable {
    var forward: Bool
    var position: EventPosition

    var text: String { (forward ? "f/" : "b/") + position.digits + "/s" }

    static func parse(_ s: String) throws -> StreamToken {
        var rest = Substring(s)
        let forward: Bool
        if rest.hasPrefix("f/") { forward = true } else if rest.hasPrefix("b/") { forward = false } else { throw LogsError.invalidToken() }
        rest = rest.dropFirst(2)
        if rest.hasSuffix("/s") { rest = rest.dropLast(2) }
        guard let p = EventPosition(digits: rest) else { throw LogsError.invalidToken() }
        return StreamToken(forward: forward, position: p)
    }
}

/// FilterLogEvents' `nextToken`: the position of the last event returned, opaque (URL-safe base64 of 16 bytes).
enum FilterToken {
    static func text(_ p: EventPosition) -> String {
        var bytes: [UInt8] = []
        for v in [UInt64(bitPattern: p.timestamp), UInt64(bitPattern: p.id)] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
        }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func parse(_ s: String) throws -> EventPosition {
        var b64 = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), data.count == 16 else { throw LogsError.invalidToken() }
        let bytes = [UInt8](data)
        func word(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        let p = EventPosition(timestamp: Int64(bitPattern: word(0)), id: Int64(bitPattern: word(8)))
        guard p.timestamp >= 0, p.id >= 0 else { throw LogsError.invalidToken() }
        return p
    }
}
