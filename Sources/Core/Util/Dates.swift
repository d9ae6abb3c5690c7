#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The date forms AWS puts on the wire, written by hand: DateFormatter costs microseconds per call.
public enum AWSDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func components(_ seconds: Double) -> tm {
        var t = time_t(seconds.rounded(.down))
        var out = tm()
        gmtime_r(&t, &out)
        return out
    }

    private static func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `2026-11-25T18:37:07.000Z` (REST-XML and Query bodies).
    public static func iso8601(_ seconds: Double) -> String {
        var whole = seconds.rounded(.down)
        var ms = Int32(((seconds - whole) * 1000).rounded())
        if ms == 1000 { whole += 1; ms = 0 }
        let c = components(whole)
        return "\(pad(c.tm_year + 1900, 4))-\(pad(c.tm_mon + 1, 2))-\(pad(c.tm_mday, 2))T\(pad(c.tm_hour, 2)):\(pad(c.tm_min, 2)):\(pad(c.tm_sec, 2)).\(pad(ms, 3))Z"
    }

    /// `Wed, 25 Nov 2026 18:37:07 GMT` (HTTP headers).
    public static func rfc1123(_ seconds: Double) -> String {
        let c = components(seconds)
        return "\(days[Int(c.tm_wday)]), \(pad(c.tm_mday, 2)) \(months[Int(c.tm_mon)]) \(pad(c.tm_year + 1900, 4)) \(pad(c.tm_hour, 2)):\(pad(c.tm_min, 2)):\(pad(c.tm_sec, 2)) GMT"
    }

    /// `20261125T183707Z` (SigV4 x-amz-date).
    public static func amzDate(_ seconds: Double) -> String {
        let c = components(seconds)
        return "\(pad(c.tm_year + 1900, 4))\(pad(c.tm_mon + 1, 2))\(pad(c.tm_mday, 2))T\(pad(c.tm_hour, 2))\(pad(c.tm_min, 2))\(pad(c.tm_sec, 2))Z"
    }

    /// Parses the HTTP date forms (RFC 1123, RFC 850, asctime), ISO 8601 (with or without fraction) and the
    /// compact SigV4 form. Hand-written: Glibc's strptime is not visible from Swift.
    public static func parse(_ s: String) -> Double? {
        let text = s.trimmingSpaces
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from >= 0, from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        func month(_ name: Substring) -> Int? {
            months.firstIndex { $0.lowercased() == name.lowercased() }.map { $0 + 1 }
        }
        // 20261125T183707Z
        if b.count == 16, b[8] == 84, b[15] == 90, let y = num(0, 4), let mo = num(4, 2), let d = num(6, 2),
           let h = num(9, 2), let mi = num(11, 2), let se = num(13, 2) {
            return epoch(y, mo, d, h, mi, se, 0)
        }
        // 2026-11-25T18:37:07[.123]Z (or +00:00, or no zone)
        if b.count >= 19, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 32, let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2),
           let h = num(11, 2), let mi = num(14, 2), let se = num(17, 2) {
            var frac = 0.0
            var i = 19
            if i < b.count, b[i] == 46 {
                i += 1
                var scale = 0.1
                while i < b.count, b[i] >= 48, b[i] <= 57 { frac += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
            }
            // Zone: Z, ±hh:mm, ±hhmm or none (UTC); anything else is not a date.
            var offset = 0
            if i < b.count {
                if b[i] == 90 && i == b.count - 1 {
                    offset = 0
                } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2) {
                    let rest = b.count - (i + 3)
                    var om = 0
                    if rest == 3, b[i + 3] == 58, let m = num(i + 4, 2) { om = m }
                    else if rest == 2, let m = num(i + 3, 2) { om = m }
                    else if rest != 0 { return nil }
                    offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
                } else {
                    return nil
                }
            }
            return epoch(y, mo, d, h, mi, se, frac).map { $0 - Double(offset) }
        }
        // Wed, 25 Nov 2026 18:37:07 GMT | Wednesday, 25-Nov-26 18:37:07 GMT | Wed Nov 25 18:37:07 2026
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," }).filter { !$0.isEmpty }
        if words.count >= 5, let d = Int(words[1]), let mo = month(words[2]), let y = Int(words[3]) {
            return hms(words[4]).flatMap { epoch(y, mo, d, $0.0, $0.1, $0.2, 0) }
        }
        if words.count >= 3 {
            let dmy = words[1].split(separator: "-")
            if dmy.count == 3, let d = Int(dmy[0]), let mo = month(dmy[1]), var y = Int(dmy[2]) {
                if y < 100 { y += y < 70 ? 2000 : 1900 }
                return hms(words[2]).flatMap { epoch(y, mo, d, $0.0, $0.1, $0.2, 0) }
            }
        }
        if words.count == 5, let mo = month(words[1]), let d = Int(words[2]), let y = Int(words[4]) {
            return hms(words[3]).flatMap { epoch(y, mo, d, $0.0, $0.1, $0.2, 0) }
        }
        return nil
    }

    private static func hms(_ s: Substring) -> (Int, Int, Int)? {
        let p = s.split(separator: ":")
        guard p.count == 3, let h = Int(p[0]), let m = Int(p[1]), let sec = Int(p[2]) else { return nil }
        return (h, m, sec)
    }

    /// Days from civil (Howard Hinnant's algorithm): no time zone database involved.
    private static func epoch(_ y: Int, _ m: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int, _ frac: Double) -> Double? {
        let monthDays = [31, (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(m), (1...monthDays[m - 1]).contains(d), (0...23).contains(h), (0...59).contains(mi), (0...60).contains(s) else { return nil }
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Double(days * 86400 + h * 3600 + mi * 60 + s) + frac
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
