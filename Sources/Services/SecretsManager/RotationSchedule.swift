import Core
import Foundation

/// When a secret rotates next: `AutomaticallyAfterDays`, or a `ScheduleExpression` (`rate(10 days)`,
/// `rate(6 hours)`, `cron(0 16 1,15 * ? *)`, UTC), with an optional window `Duration` (`3h`).
enum RotationSchedule {
    static func invalid(_ message: String) -> AWSError { SecretsError.invalidParameter(message) }

    static func parse(_ object: [String: Any]?) throws -> RotationRules? {
        guard let object else { return nil }
        var rules = RotationRules()
        if let d = object["AutomaticallyAfterDays"] {
            guard let n = (d as? NSNumber)?.intValue, (1...1000).contains(n) else {
                throw invalid("AutomaticallyAfterDays must be between 1 and 1000.")
            }
            rules.AutomaticallyAfterDays = n
        }
        if let e = object["ScheduleExpression"] {
            guard let text = e as? String else { throw invalid("ScheduleExpression must be a string.") }
            rules.ScheduleExpression = text
        }
        if let d = object["Duration"] {
            guard let text = d as? String else { throw invalid("Duration must be a string such as 3h.") }
            rules.Duration = text
        }
        try validate(rules)
        return rules
    }

    static func validate(_ rules: RotationRules) throws {
        if rules.AutomaticallyAfterDays != nil && rules.ScheduleExpression != nil {
            throw invalid("You can't specify both AutomaticallyAfterDays and ScheduleExpression.")
        }
        if rules.AutomaticallyAfterDays == nil && rules.ScheduleExpression == nil {
            throw invalid("You must specify AutomaticallyAfterDays or ScheduleExpression in RotationRules.")
        }
        if let d = rules.Duration {
            guard d.hasSuffix("h"), let hours = Int(d.dropLast()), (1...24).contains(hours) else {
                throw invalid("The rotation window Duration must be between 1h and 24h.")
            }
        }
        if let e = rules.ScheduleExpression {
            if e.hasPrefix("rate(") {
                guard rate(e) != nil else {
                    throw invalid("Invalid ScheduleExpression \(e): a rate must be between 4 hours and 1000 days, for example rate(10 days).")
                }
            } else if e.hasPrefix("cron(") {
                guard Cron(e) != nil else { throw invalid("Invalid cron expression \(e).") }
            } else {
                throw invalid("Invalid ScheduleExpression \(e): use rate() or cron().")
            }
        }
    }

    /// Seconds between rotations of a `rate(N hours|days)` expression.
    static func rate(_ e: String) -> Double? {
        guard e.hasPrefix("rate("), e.hasSuffix(")") else { return nil }
        let parts = e.dropFirst(5).dropLast().split(separator: " ")
        guard parts.count == 2, let n = Int(parts[0]), n > 0 else { return nil }
        switch parts[1] {
        case "hour", "hours": return (4...24_000).contains(n) ? Double(n) * 3600 : nil
        case "day", "days": return (1...1000).contains(n) ? Double(n) * 86_400 : nil
        default: return nil
        }
    }

    /// The next rotation after `t`.
    static func next(after t: Double, _ rules: RotationRules) -> Double? {
        if let days = rules.AutomaticallyAfterDays { return t + Double(days) * 86_400 }
        guard let e = rules.ScheduleExpression else { return nil }
        if let r = rate(e) { return t + r }
        return Cron(e)?.next(after: t)
    }
}

/// A six-field AWS cron expression (minutes hours day-of-month month day-of-week year; `?` for "any" in one of the
/// day fields), evaluated in UTC. Supports `*`, `?`, lists, ranges, steps and month/day names.
struct Cron {
    var minutes: Set<Int>
    var hours: Set<Int>
    var daysOfMonth: Set<Int>?   // nil: any
    var months: Set<Int>
    var daysOfWeek: Set<Int>?    // 1 = Sunday ... 7 = Saturday; nil: any
    var years: Set<Int>?

    init?(_ expression: String) {
        guard expression.hasPrefix("cron("), expression.hasSuffix(")") else { return nil }
        let f = expression.dropFirst(5).dropLast().split(separator: " ").map(String.init)
        guard f.count == 6 else { return nil }
        let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        guard let minutes = Self.field(f[0], 0...59), let hours = Self.field(f[1], 0...23),
              let months = Self.field(f[3], 1...12, names: monthNames, base: 1) else { return nil }
        let dom = f[2] == "?" ? nil : Self.field(f[2], 1...31)
        let dow = f[4] == "?" ? nil : Self.field(f[4], 1...7, names: dayNames, base: 1)
        // Exactly one of the day fields is `?`.
        guard (f[2] == "?") != (f[4] == "?"), f[2] == "?" || dom != nil, f[4] == "?" || dow != nil else { return nil }
        (self.minutes, self.hours, self.daysOfMonth, self.months, self.daysOfWeek) = (minutes, hours, dom, months, dow)
        if f[5] == "*" {
            years = nil
        } else {
            guard let y = Self.field(f[5], 1970...2199) else { return nil }
            years = y
        }
    }

    static func field(_ text: String, _ range: ClosedRange<Int>, names: [String] = [], base: Int = 0) -> Set<Int>? {
        func value(_ s: Substring) -> Int? {
            if let n = Int(s) { return range.contains(n) ? n : nil }
            if let i = names.firstIndex(of: s.uppercased()) { return i + base }
            return nil
        }
        var out = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { return nil }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else { return nil }
                step = s
            }
            let lo: Int, hi: Int
            if pieces[0] == "*" {
                (lo, hi) = (range.lowerBound, range.upperBound)
            } else if let dash = pieces[0].firstIndex(of: "-") {
                guard let a = value(pieces[0][..<dash]), let b = value(pieces[0][pieces[0].index(after: dash)...]), a <= b else { return nil }
                (lo, hi) = (a, b)
            } else {
                guard let a = value(pieces[0]) else { return nil }
                (lo, hi) = (a, pieces.count == 2 ? range.upperBound : a)
            }
            out.formUnion(stride(from: lo, through: hi, by: step))
        }
        return out.isEmpty ? nil : out
    }

    /// The first matching minute strictly after `t` (searching up to ten years ahead).
    func next(after t: Double) -> Double? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = Date(timeIntervalSince1970: (t / 60).rounded(.down) * 60 + 60)
        var day = calendar.startOfDay(for: start)
        for _ in 0..<(366 * 10) {
            let c = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            let dayMatches = (daysOfMonth?.contains(c.day!) ?? true) && (daysOfWeek?.contains(c.weekday!) ?? true)
            if dayMatches, months.contains(c.month!), years?.contains(c.year!) ?? true {
                for h in hours.sorted() {
                    for m in minutes.sorted() {
                        let candidate = day.addingTimeInterval(Double(h * 3600 + m * 60))
                        if candidate >= start { return candidate.timeIntervalSince1970 }
                    }
                }
            }
            day = day.addingTimeInterval(86_400)
        }
        return nil
    }
}
