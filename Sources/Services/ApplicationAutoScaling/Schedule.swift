import Core
import Foundation

/// A scheduled action's Schedule: `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` or
/// `cron(minutes hours day-of-month month day-of-week year)`, read in the action's Timezone (UTC by default).
enum Schedule: Sendable, Equatable {
    case at(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)
    case rate(seconds: Double)
    case cron(Cron)

    struct Cron: Sendable, Equatable {
        var minutes: Set<Int>
        var hours: Set<Int>
        /// nil when `?` (the other day field decides).
        var daysOfMonth: Set<Int>?
        var months: Set<Int>
        /// 1 = Sunday ... 7 = Saturday, as Calendar's weekday; nil when `?`.
        var daysOfWeek: Set<Int>?
        var years: Set<Int>?
    }

    static func invalid(_ s: String) -> AWSError { AASError.validation("Invalid schedule expression: \(s)") }

    static func parse(_ s: String) throws -> Schedule {
        guard s.hasSuffix(")"), let open = s.firstIndex(of: "(") else { throw invalid(s) }
        let kind = s[..<open]
        let body = String(s[s.index(after: open)..<s.index(before: s.endIndex)]).trimmingCharacters(in: .whitespaces)
        switch kind {
        case "at":
            // The hour may have one digit: at(2020-12-08T9:36:00).
            let parts = body.split(whereSeparator: { "-T:".contains($0) }).map { Int($0) }
            guard parts.count == 6, parts.allSatisfy({ $0 != nil }), body.contains("T") else { throw invalid(s) }
            let p = parts.map { $0! }
            guard (1...12).contains(p[1]), (1...31).contains(p[2]), (0...23).contains(p[3]), (0...59).contains(p[4]),
                  (0...59).contains(p[5]) else { throw invalid(s) }
            return .at(year: p[0], month: p[1], day: p[2], hour: p[3], minute: p[4], second: p[5])
        case "rate":
            let parts = body.split(separator: " ")
            guard parts.count == 2, let n = Int(parts[0]), n > 0 else { throw invalid(s) }
            let unit: Double
            switch parts[1] {
            case "minute", "minutes": unit = 60
            case "hour", "hours": unit = 3600
            case "day", "days": unit = 86400
            default: throw invalid(s)
            }
            return .rate(seconds: Double(n) * unit)
        case "cron":
            let f = body.split(separator: " ").map(String.init)
            guard f.count == 6 else { throw invalid(s) }
            let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
            let days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
            let cron = Cron(
                minutes: try field(f[0], 0...59, s) ?? Set(0...59),
                hours: try field(f[1], 0...23, s) ?? Set(0...23),
                daysOfMonth: try field(f[2], 1...31, s),
                months: try field(f[3], 1...12, s, names: months) ?? Set(1...12),
                daysOfWeek: try field(f[4], 1...7, s, names: days),
                years: try field(f[5], 1970...2199, s))
            // One of the two day fields must be `?`, as in EventBridge.
            guard (f[2] == "?") != (f[4] == "?") else { throw invalid(s) }
            return .cron(cron)
        default:
            throw invalid(s)
        }
    }

    /// A cron field's values; nil for `*` and `?` (any). Names count from the range's start (JAN = 1, SUN = 1).
    static func field(_ text: String, _ range: ClosedRange<Int>, _ s: String, names: [String] = []) throws -> Set<Int>? {
        if text == "*" || text == "?" { return nil }
        func value(_ v: Substring) throws -> Int {
            if let i = names.firstIndex(of: v.uppercased()) { return range.lowerBound + i }
            guard let n = Int(v), range.contains(n) else { throw invalid(s) }
            return n
        }
        var out = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw invalid(s) }
            var step = 1
            if stepParts.count == 2 {
                guard let n = Int(stepParts[1]), n > 0 else { throw invalid(s) }
                step = n
            }
            var lo = range.lowerBound, hi = range.upperBound
            let base = stepParts[0]
            if base != "*" {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw invalid(s) }
                lo = try value(bounds[0])
                hi = bounds.count == 2 ? try value(bounds[1]) : (stepParts.count == 2 ? range.upperBound : lo)
                guard lo <= hi else { throw invalid(s) }
            }
            out.formUnion(stride(from: lo, through: hi, by: step))
        }
        return out
    }

    /// The latest time in (`after`, `upTo`] at which the schedule fires within [start, end], or nil. Rates count
    /// from StartTime when given (firing at it), else from the action's creation (first firing one period later).
    func latestFire(after: Double, upTo: Double, timeZone: TimeZone, start: Double?, end: Double?, created: Double) -> Double? {
        let limit = min(upTo, end ?? .infinity)
        guard limit > after else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let fire: Double?
        switch self {
        case let .at(year, month, day, hour, minute, second):
            let c = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
            fire = calendar.date(from: c).map(\.timeIntervalSince1970).flatMap { $0 > after && $0 <= limit ? $0 : nil }
        case .rate(let period):
            let base = start ?? created
            let k = ((limit - base) / period).rounded(.down)
            let t = base + k * period
            fire = k >= (start == nil ? 1 : 0) && t > after ? t : nil
        case .cron(let cron):
            fire = cron.latest(after: after, upTo: limit, calendar: calendar)
        }
        guard let fire, fire >= (start ?? -.infinity) else { return nil }
        return fire
    }
}

extension Schedule.Cron {
    /// Walks the days back from `upTo` and, on the first day that matches, the times back from the day's end.
    /// Bounded to about five years back: a schedule that has not fired in that long has nothing to apply.
    func latest(after: Double, upTo: Double, calendar: Calendar) -> Double? {
        var day = calendar.startOfDay(for: Date(timeIntervalSince1970: upTo))
        let sortedHours = hours.sorted(by: >), sortedMinutes = minutes.sorted(by: >)
        for _ in 0..<1830 {
            if day.timeIntervalSince1970 + 86400 <= after { return nil }
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if matches(year: c.year!, month: c.month!, day: c.day!, weekday: c.weekday!) {
                for h in sortedHours {
                    for m in sortedMinutes {
                        var dc = DateComponents(year: c.year, month: c.month, day: c.day, hour: h, minute: m)
                        dc.timeZone = calendar.timeZone
                        guard let t = calendar.date(from: dc)?.timeIntervalSince1970 else { continue }
                        if t <= after { return nil }
                        if t <= upTo { return t }
                    }
                }
            }
            guard let previous = calendar.date(byAdding: .day, value: -1, to: day) else { return nil }
            day = previous
        }
        return nil
    }

    func matches(year: Int, month: Int, day: Int, weekday: Int) -> Bool {
        months.contains(month) && (years?.contains(year) ?? true) && (daysOfMonth?.contains(day) ?? true)
            && (daysOfWeek?.contains(weekday) ?? true)
    }
}
