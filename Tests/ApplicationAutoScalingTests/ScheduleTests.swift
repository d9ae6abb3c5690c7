import Core
import Foundation
import Testing

@testable import ApplicationAutoScaling

@Suite struct ScheduleTests {
    let utc = TimeZone(identifier: "UTC")!

    /// Epoch seconds of a UTC date.
    func t(_ s: String) -> Double { ISO8601DateFormatter().date(from: s)!.timeIntervalSince1970 }

    @Test func parsesTheThreeForms() throws {
        #expect(try Schedule.parse("at(2020-12-08T9:36:00)") == .at(year: 2020, month: 12, day: 8, hour: 9, minute: 36, second: 0))
        #expect(try Schedule.parse("rate(5 minutes)") == .rate(seconds: 300))
        #expect(try Schedule.parse("rate(1 hour)") == .rate(seconds: 3600))
        #expect(try Schedule.parse("rate(2 days)") == .rate(seconds: 172_800))
        guard case .cron(let c) = try Schedule.parse("cron(0/15 8-17 ? JAN-MAR MON-FRI *)") else {
            Issue.record("not a cron")
            return
        }
        #expect(c.minutes == [0, 15, 30, 45])
        #expect(c.hours == Set(8...17))
        #expect(c.daysOfMonth == nil)
        #expect(c.months == [1, 2, 3])
        #expect(c.daysOfWeek == Set(2...6))
        #expect(c.years == nil)
    }

    @Test func rejectsMalformedSchedules() {
        for bad in ["at(2020-13-01T00:00:00)", "at(2020-12-01)", "rate(0 minutes)", "rate(5 weeks)", "rate(five minutes)",
                    "cron(0 9 * * *)", "cron(0 9 * * * *)", "cron(0 9 ? * ? *)", "cron(61 9 * * ? *)", "cron(0 9 L * ? *)",
                    "every(5 minutes)", "rate 5 minutes"] {
            #expect(throws: AWSError.self, "\(bad)") { try Schedule.parse(bad) }
        }
    }

    @Test func atFiresOnceInItsTimezone() throws {
        let s = try Schedule.parse("at(2024-03-01T09:00:00)")
        let fire = t("2024-03-01T09:00:00Z")
        #expect(s.latestFire(after: fire - 10, upTo: fire, timeZone: utc, start: nil, end: nil, created: 0) == fire)
        #expect(s.latestFire(after: fire - 10, upTo: fire - 1, timeZone: utc, start: nil, end: nil, created: 0) == nil)
        #expect(s.latestFire(after: fire, upTo: fire + 3600, timeZone: utc, start: nil, end: nil, created: 0) == nil)
        // 09:00 in New York (EST, UTC-5) is 14:00 UTC.
        let ny = TimeZone(identifier: "America/New_York")!
        #expect(s.latestFire(after: fire, upTo: fire + 86400, timeZone: ny, start: nil, end: nil, created: 0) == fire + 5 * 3600)
    }

    @Test func rateCountsFromCreationOrFromStartTime() throws {
        let s = try Schedule.parse("rate(5 minutes)")
        let c = t("2024-01-01T00:00:00Z")
        #expect(s.latestFire(after: c, upTo: c + 299, timeZone: utc, start: nil, end: nil, created: c) == nil)
        #expect(s.latestFire(after: c, upTo: c + 300, timeZone: utc, start: nil, end: nil, created: c) == c + 300)
        // A long gap gives the latest fire time only.
        #expect(s.latestFire(after: c + 300, upTo: c + 899, timeZone: utc, start: nil, end: nil, created: c) == c + 600)
        // With a StartTime it fires at the start itself, not before.
        #expect(s.latestFire(after: c, upTo: c + 1000, timeZone: utc, start: c + 1000, end: nil, created: c) == c + 1000)
        #expect(s.latestFire(after: c, upTo: c + 999, timeZone: utc, start: c + 1000, end: nil, created: c) == nil)
        // Nothing after the EndTime.
        #expect(s.latestFire(after: c + 700, upTo: c + 5000, timeZone: utc, start: nil, end: c + 800, created: c) == nil)
        #expect(s.latestFire(after: c, upTo: c + 5000, timeZone: utc, start: nil, end: c + 800, created: c) == c + 600)
    }

    @Test func cronFindsTheLatestMatchingMinute() throws {
        let daily = try Schedule.parse("cron(0 9 * * ? *)")
        let nine = t("2024-01-01T09:00:00Z")
        #expect(daily.latestFire(after: nine - 3600, upTo: nine + 3600, timeZone: utc, start: nil, end: nil, created: 0) == nine)
        #expect(daily.latestFire(after: nine, upTo: nine + 3600, timeZone: utc, start: nil, end: nil, created: 0) == nil)
        // Three days later, the latest is the third day's.
        #expect(daily.latestFire(after: nine, upTo: nine + 3 * 86400 + 60, timeZone: utc, start: nil, end: nil, created: 0)
                == nine + 3 * 86400)
        let quarter = try Schedule.parse("cron(*/15 * * * ? *)")
        #expect(quarter.latestFire(after: nine, upTo: nine + 20 * 60, timeZone: utc, start: nil, end: nil, created: 0) == nine + 15 * 60)
    }

    @Test func cronHonoursWeekdaysAndTimezones() throws {
        // 2024-01-06 is a Saturday: the weekday schedule last fired on Friday the 5th.
        let weekdays = try Schedule.parse("cron(30 8 ? * MON-FRI *)")
        let saturday = t("2024-01-06T12:00:00Z")
        #expect(weekdays.latestFire(after: saturday - 3 * 86400, upTo: saturday, timeZone: utc, start: nil, end: nil, created: 0)
                == t("2024-01-05T08:30:00Z"))
        let nyNine = try Schedule.parse("cron(0 9 * * ? *)")
        let ny = TimeZone(identifier: "America/New_York")!
        #expect(nyNine.latestFire(after: t("2024-01-05T00:00:00Z"), upTo: t("2024-01-05T15:00:00Z"), timeZone: ny, start: nil,
                                  end: nil, created: 0) == t("2024-01-05T14:00:00Z"))
        let only2030 = try Schedule.parse("cron(0 0 1 1 ? 2030)")
        #expect(only2030.latestFire(after: 0, upTo: t("2029-06-01T00:00:00Z"), timeZone: utc, start: nil, end: nil, created: 0) == nil)
    }
}
