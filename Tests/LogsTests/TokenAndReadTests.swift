import Core
import Foundation
import GRDB
import Logging
import Testing

@testable import Logs

@Suite struct TokenTests {
    @Test func streamTokensLookLikeAWSAndRoundTrip() throws {
        let t = StreamToken(forward: true, position: EventPosition(timestamp: 1_700_000_000_123, id: 42))
        #expect(t.text == "f/00000001700000000123000000000000000000000000000000000042/s")
        #expect(try StreamToken.parse(t.text) == t)
        let b = StreamToken(forward: false, position: .start)
        #expect(b.text == "b/" + String(repeating: "0", count: 56) + "/s")
        #expect(try StreamToken.parse(b.text) == b)
        // Without the `/s` suffix too.
        #expect(try StreamToken.parse(String(t.text.dropLast(2))) == t)
    }

    @Test func malformedStreamTokensAreInvalid() {
        for bad in ["invalid-token", "f/123/s", "x/" + String(repeating: "0", count: 56) + "/s",
                    "f/" + String(repeating: "a", count: 56), "f/" + String(repeating: "9", count: 56)] {
            #expect(throws: LogsError.invalidToken(), "\(bad)") { try StreamToken.parse(bad) }
        }
    }

    @Test func filterTokensAreOpaqueAndRoundTrip() throws {
        let p = EventPosition(timestamp: 1_700_000_000_123, id: 987_654)
        let text = FilterToken.text(p)
        #expect(!text.contains("1700000000123"))
        #expect(!text.contains("=") && !text.contains("/") && !text.contains("+"))
        #expect(try FilterToken.parse(text) == p)
        #expect(throws: LogsError.invalidToken()) { try FilterToken.parse("invalid-token") }
        #expect(throws: LogsError.invalidToken()) { try FilterToken.parse("AAAA") }
    }

    @Test func positionsOrderByTimestampThenIngestion() {
        let a = EventPosition(timestamp: 5, id: 9), b = EventPosition(timestamp: 6, id: 1), c = EventPosition(timestamp: 6, id: 2)
        #expect(a < b && b < c)
        #expect(EventPosition.before(c) == EventPosition(timestamp: 6, id: 1))
        #expect(a.digits.count == 56)
    }
}

@Suite struct PutLogEventsRuleTests {
    let now: Int64 = 1_700_000_000_000
    let day: Int64 = 86_400_000

    @Test func eventsTooOldTooNewAndExpiredAreSetAside() throws {
        let ts = [now - 20 * day, now - 15 * day, now - 1000, now, now + 3 * 3_600_000]
        let v = try LogsService.verdict(ts, now: now, retentionCutoff: 0)
        #expect(v.accepted == 2..<4)
        #expect(v.tooOldEnd == 2)
        #expect(v.tooNewStart == 4)
        #expect(v.expiredEnd == nil)
        let info = try #require(v.rejectedInfo)
        #expect(info["tooOldLogEventEndIndex"] as? Int == 2)
        #expect(info["tooNewLogEventStartIndex"] as? Int == 4)
        #expect(info["expiredLogEventEndIndex"] == nil)
    }

    @Test func retentionRejectsOlderEventsAsExpired() throws {
        let ts = [now - 3 * day, now - 2 * day + 1, now]
        // A group keeping one day: the first two are past it.
        let v = try LogsService.verdict(ts, now: now, retentionCutoff: now - day)
        #expect(v.accepted == 2..<3)
        #expect(v.expiredEnd == 2)
        #expect(v.tooOldEnd == nil)
    }

    @Test func allGoodEventsAreAcceptedWithNothingToReport() throws {
        let v = try LogsService.verdict([now - 10, now], now: now, retentionCutoff: 0)
        #expect(v.accepted == 0..<2)
        #expect(v.rejectedInfo == nil)
    }

    @Test func acceptedEventsMayNotSpanMoreThanADay() {
        #expect(throws: LogsError.invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")) {
            try LogsService.verdict([now - 2 * day, now], now: now, retentionCutoff: 0)
        }
        // The span is measured over the events that are kept.
        #expect(throws: Never.self) { try LogsService.verdict([now - 20 * day, now - 2 * 3_600_000, now], now: now, retentionCutoff: 0) }
    }

    @Test func eventsMustBeInOrderAndFitTheBatch() {
        #expect(throws: LogsError.invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")) {
            try LogsService.inputEvents(Input(["logEvents": [["timestamp": 2, "message": "b"], ["timestamp": 1, "message": "a"]]]))
        }
        let big = String(repeating: "x", count: 600_000)
        #expect(throws: LogsError.invalidParameter("Upload too large: 1200052 bytes exceeds limit of 1048576")) {
            try LogsService.inputEvents(Input(["logEvents": [["timestamp": 1, "message": big], ["timestamp": 1, "message": big]]]))
        }
        #expect(throws: AWSError.self) { try LogsService.inputEvents(Input(["logEvents": [[String: Any]]()])) }
        #expect(throws: AWSError.self) { try LogsService.inputEvents(Input(["logEvents": [["timestamp": 1, "message": ""]]])) }
    }
}

/// Reads against a real (temporary) store, written through the LogSink path.
@Suite struct StreamReadTests {
    let service: LogsService
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "logs-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        service = try LogsService(directory: folder, clock: EmulatorClock(), logger: Logger(label: "test"))
    }

    /// 25 events, one millisecond apart, in stream `s` of group `g`; returns the stream's id.
    func seed(_ count: Int = 25, base: Int64 = 1_000) throws -> Int64 {
        service.append(account: "000000000000", region: "us-east-1", group: "g", stream: "s",
                       events: (0..<count).map { LogEvent(timestamp: base + Int64($0), message: "m\($0)") })
        return try service.store.db.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM log_stream WHERE name = 's'")!
        }
    }

    func read(_ stream: Int64, _ token: StreamToken?, head: Bool = false, limit: Int = 10, lower: Int64 = 0,
              upper: Int64 = .max) throws -> LogsService.StreamPage {
        try service.store.db.read { db in
            try LogsService.readStream(stream, from: token, startFromHead: head, lower: lower, upper: upper, limit: limit, db)
        }
    }

    @Test func theSinkCreatesTheGroupAndStreamOnce() throws {
        _ = try seed(3)
        service.append(account: "000000000000", region: "us-east-1", group: "g", stream: "s", events: [LogEvent(timestamp: 5_000, message: "late")])
        let (groups, streams, events, stored) = try service.store.db.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log_group")!, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log_stream")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event")!, try Int64.fetchOne(db, sql: "SELECT stored_bytes FROM log_group")!)
        }
        #expect(groups == 1 && streams == 1 && events == 4)
        #expect(stored == 2 * 3 + 4)
    }

    @Test func readingForwardFromTheHeadEndsOnTheSameToken() throws {
        let s = try seed()
        var page = try read(s, nil, head: true)
        #expect(page.events.map(\.message) == (0..<10).map { "m\($0)" })
        var seen = page.events.count
        var token = page.forward
        while true {
            page = try read(s, token)
            seen += page.events.count
            if page.forward == token { break }
            token = page.forward
        }
        #expect(seen == 25)
        #expect(page.events.isEmpty)
        // Asking again at the end keeps answering the same token, with the events written since.
        #expect(try read(s, token).forward == token)
        service.append(account: "000000000000", region: "us-east-1", group: "g", stream: "s", events: [LogEvent(timestamp: 2_000, message: "new")])
        let after = try read(s, token)
        #expect(after.events.map(\.message) == ["new"])
        #expect(after.forward != token)
    }

    @Test func withoutATokenTheNewestEventsComeFirstAndBackwardTokensPageBack() throws {
        let s = try seed()
        var page = try read(s, nil)
        #expect(page.events.map(\.message) == (15..<25).map { "m\($0)" })
        page = try read(s, page.backward)
        #expect(page.events.map(\.message) == (5..<15).map { "m\($0)" })
        page = try read(s, page.backward)
        #expect(page.events.map(\.message) == (0..<5).map { "m\($0)" })
        let first = page.backward
        page = try read(s, first)
        #expect(page.events.isEmpty)
        #expect(page.backward == first)
        // Forward again from the oldest page's forward token.
        #expect(try read(s, try read(s, first).forward, limit: 3).events.map(\.message) == ["m0", "m1", "m2"])
    }

    @Test func anEmptyReadGivesTokensThatLaterSeeNewEvents() throws {
        let s = try seed(3)
        let page = try read(s, nil, lower: 1_000_000)
        #expect(page.events.isEmpty)
        #expect(page.forward.position == .start && page.backward.position == .start)
        service.append(account: "000000000000", region: "us-east-1", group: "g", stream: "s",
                       events: [LogEvent(timestamp: 2_000_000, message: "later")])
        #expect(try read(s, page.forward, lower: 1_000_000).events.map(\.message) == ["later"])
    }

    @Test func timeWindowsBoundTheRead() throws {
        let s = try seed()
        let page = try read(s, nil, head: true, limit: 100, lower: 1_005, upper: 1_008)
        #expect(page.events.map(\.message) == ["m5", "m6", "m7"])
    }

    @Test func equalTimestampsKeepTheirIngestionOrder() throws {
        service.append(account: "000000000000", region: "us-east-1", group: "g", stream: "s",
                       events: (0..<6).map { LogEvent(timestamp: 7, message: "same\($0)") })
        let s = try service.store.db.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM log_stream WHERE name = 's'")! }
        var page = try read(s, nil, head: true, limit: 4)
        #expect(page.events.map(\.message) == ["same0", "same1", "same2", "same3"])
        page = try read(s, page.forward, limit: 4)
        #expect(page.events.map(\.message) == ["same4", "same5"])
        page = try read(s, page.backward, limit: 4)
        #expect(page.events.map(\.message) == ["same0", "same1", "same2", "same3"])
    }

    @Test func aPageStopsAtOneMegabyteButNeverEmpty() throws {
        let s = try seed(3)
        let page = try service.store.db.read { db in
            try LogsService.readStream(s, from: nil, startFromHead: true, lower: 0, upper: .max, limit: 100, maxBytes: 60, db)
        }
        #expect(page.events.map(\.message) == ["m0", "m1"])
        let tiny = try service.store.db.read { db in
            try LogsService.readStream(s, from: nil, startFromHead: true, lower: 0, upper: .max, limit: 100, maxBytes: 1, db)
        }
        #expect(tiny.events.count == 1)
    }

    @Test func filterPagesCarryATokenOnlyWhileMoreMayMatch() throws {
        _ = try seed()
        let groupID = try service.store.db.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM log_group")! }
        func filter(_ after: EventPosition, _ pattern: String, limit: Int, maxScan: Int = 100_000) throws -> LogsService.FilterPage {
            try service.store.db.read { db in
                try LogsService.filter(group: groupID, streams: nil, after: after, lower: 0, upper: .max,
                                       pattern: try FilterPattern.parse(pattern), limit: limit, maxScan: maxScan, db)
            }
        }
        var page = try filter(.start, "", limit: 20)
        #expect(page.events.count == 20)
        let next = try #require(page.next)
        page = try filter(next, "", limit: 20)
        #expect(page.events.map(\.message) == (20..<25).map { "m\($0)" })
        #expect(page.next == nil)
        // Exactly `limit` matches: no token, nothing left to read.
        page = try filter(.start, "%^m2[0-4]$%", limit: 5)
        #expect(page.events.map(\.message) == ["m20", "m21", "m22", "m23", "m24"])
        #expect(page.next == nil)
        // A scan that stops early hands over where it stopped, even with nothing found.
        page = try filter(.start, "m24", limit: 5, maxScan: 10)
        #expect(page.events.isEmpty)
        let resume = try #require(page.next)
        #expect(resume.timestamp == 1_009)
        #expect(try filter(resume, "m24", limit: 5).events.map(\.message) == ["m24"])
        // Chosen streams only.
        #expect(try service.store.db.read { db in
            try LogsService.filter(group: groupID, streams: [], after: .start, lower: 0, upper: .max, pattern: .all, limit: 5, db)
        }.events.isEmpty)
    }
}
