/// URL percent-encoding as AWS applies it (RFC 3986 unreserved characters pass, everything else is %XX).
public enum Percent {
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always) static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 46 || c == 95 || c == 126
    }

    /// Encode everything but unreserved characters (and `/` when `keepSlash`).
    public static func encode(_ s: some StringProtocol, keepSlash: Bool = false) -> String {
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count)
        for c in s.utf8 {
            if isUnreserved(c) || (keepSlash && c == 47) {
                out.append(c)
            } else {
                out.append(37)
                out.append(hexDigits[Int(c >> 4)])
                out.append(hexDigits[Int(c & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decode %XX sequences (and `+` as space when `plusIsSpace`, as form bodies do). Nil when the result is not UTF-8
    /// or a `%` is not followed by two hex digits.
    public static func decode(_ s: some StringProtocol, plusIsSpace: Bool = false) -> String? {
        let utf8 = Array(s.utf8)
        if !utf8.contains(37) && !(plusIsSpace && utf8.contains(43)) { return String(s) }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let c = utf8[i]
            if c == 37 {
                guard i + 2 < utf8.count, let h = hexValue(utf8[i + 1]), let l = hexValue(utf8[i + 2]) else { return nil }
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(plusIsSpace && c == 43 ? 32 : c)
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }

    /// Parse `a=1&b=%20x&flag` into decoded pairs, keeping order; a name without `=` has an empty value.
    public static func parseQuery(_ query: some StringProtocol, plusIsSpace: Bool = true) -> [(String, String)]? {
        var items: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                guard let k = decode(part[..<eq], plusIsSpace: plusIsSpace),
                      let v = decode(part[part.index(after: eq)...], plusIsSpace: plusIsSpace) else { return nil }
                items.append((k, v))
            } else {
                guard let k = decode(part, plusIsSpace: plusIsSpace) else { return nil }
                items.append((k, ""))
            }
        }
        return items
    }
}
