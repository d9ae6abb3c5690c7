import Core

/// DynamoDB's number (`N`): an exact decimal of up to 38 significant digits whose magnitude lies in 1E-130 …
/// 9.99…E+125, kept normalised (no leading or trailing zeros, no "-0"), so equal numbers are equal values and the
/// text AWS answers with ("1.50" → "1.5", "1e3" → "1000") is `description`. Arithmetic is exact (UpdateExpression
/// `+`/`-`, ADD); a result that does not fit gives AWS's range or precision error.
struct DynamoNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Significant digits (0…9), first and last non-zero; empty for zero.
    let digits: [UInt8]
    /// Scientific exponent: value = d₀.d₁d₂… × 10^exponent (0 for zero).
    let exponent: Int
    let negative: Bool

    static let maxDigits = 38
    static let maxExponent = 125
    static let minExponent = -130
    static let zero = DynamoNumber(uncheckedDigits: [], exponent: 0, negative: false)

    private init(uncheckedDigits: [UInt8], exponent: Int, negative: Bool) {
        self.digits = uncheckedDigits
        self.exponent = uncheckedDigits.isEmpty ? 0 : exponent
        self.negative = uncheckedDigits.isEmpty ? false : negative
    }

    /// Parses the wire text: `[+-]digits[.digits][e[+-]digits]` (also `.5`, `5.`), as Java's BigDecimal reads it.
    init(_ text: String) throws(AWSError) {
        guard !text.isEmpty else { throw AWSError("ValidationException", "The parameter cannot be converted to a numeric value") }
        let bad = AWSError("ValidationException", "The parameter cannot be converted to a numeric value: \(text)")
        let bytes = Array(text.utf8)
        var i = 0
        var negative = false
        if bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var all: [UInt8] = []      // every mantissa digit as written
        var pointAt: Int? = nil    // digits before the point
        while i < bytes.count {
            let c = bytes[i]
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                all.append(c - UInt8(ascii: "0"))
            } else if c == UInt8(ascii: "."), pointAt == nil {
                pointAt = all.count
            } else { break }
            i += 1
        }
        guard !all.isEmpty else { throw bad }
        var exp10 = 0
        if i < bytes.count {
            guard bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") else { throw bad }
            i += 1
            var expNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            guard i < bytes.count else { throw bad }
            while i < bytes.count {
                let c = bytes[i]
                guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { throw bad }
                if exp10 < 1_000_000 { exp10 = exp10 * 10 + Int(c - UInt8(ascii: "0")) }
                i += 1
            }
            if expNegative { exp10 = -exp10 }
        }
        // value = 0.all × 10^(point + exp10); strip leading zeros (each lowers the exponent) and trailing zeros.
        var point = (pointAt ?? all.count) + exp10
        var start = 0
        while start < all.count, all[start] == 0 { start += 1; point -= 1 }
        var end = all.count
        while end > start, all[end - 1] == 0 { end -= 1 }
        try self.init(checkedDigits: Array(all[start..<end]), exponent: point - 1, negative: negative)
    }

    /// Builds a normalised number (digits already stripped) and applies AWS's range and precision limits.
    private init(checkedDigits digits: [UInt8], exponent: Int, negative: Bool) throws(AWSError) {
        if !digits.isEmpty {
            if exponent > Self.maxExponent {
                throw AWSError("ValidationException", "Number overflow. Attempting to store a number with magnitude larger than supported range")
            }
            if exponent < Self.minExponent {
                throw AWSError("ValidationException", "Number underflow. Attempting to store a number with magnitude smaller than supported range")
            }
            if digits.count > Self.maxDigits {
                throw AWSError("ValidationException", "Attempting to store more than 38 significant digits in a Number")
            }
        }
        self.init(uncheckedDigits: digits, exponent: exponent, negative: negative)
    }

    init(_ value: Int) {
        // Int's text is always a valid, in-range number.
        self = (try? DynamoNumber(String(value))) ?? .zero
    }

    var isZero: Bool { digits.isEmpty }

    /// Plain notation, as DynamoDB answers (never an exponent).
    var description: String {
        if digits.isEmpty { return "0" }
        var out = negative ? "-" : ""
        let ds = digits.map { Character(Unicode.Scalar($0 + UInt8(ascii: "0"))) }
        if exponent < 0 {
            out += "0." + String(repeating: "0", count: -exponent - 1) + String(ds)
        } else if exponent + 1 >= ds.count {
            out += String(ds) + String(repeating: "0", count: exponent + 1 - ds.count)
        } else {
            out += String(ds[0...exponent]) + "." + String(ds[(exponent + 1)...])
        }
        return out
    }

    static func < (a: DynamoNumber, b: DynamoNumber) -> Bool {
        if a.negative != b.negative { return a.negative }
        if a.isZero || b.isZero { return a.isZero ? (!b.negative && !b.isZero) : a.negative }
        let magnitudeLess = compareMagnitude(a, b)
        return a.negative ? magnitudeLess == 1 : magnitudeLess == -1
    }

    /// -1, 0, 1 comparing |a| and |b| (both non-zero).
    private static func compareMagnitude(_ a: DynamoNumber, _ b: DynamoNumber) -> Int {
        if a.exponent != b.exponent { return a.exponent < b.exponent ? -1 : 1 }
        for (x, y) in zip(a.digits, b.digits) where x != y { return x < y ? -1 : 1 }
        return a.digits.count == b.digits.count ? 0 : (a.digits.count < b.digits.count ? -1 : 1)
    }

    // MARK: exact arithmetic

    static func + (a: DynamoNumber, b: DynamoNumber) throws(AWSError) -> DynamoNumber { try add(a, b) }
    static func - (a: DynamoNumber, b: DynamoNumber) throws(AWSError) -> DynamoNumber { try add(a, b.negated) }

    var negated: DynamoNumber { DynamoNumber(uncheckedDigits: digits, exponent: exponent, negative: !negative) }

    private static func add(_ a: DynamoNumber, _ b: DynamoNumber) throws(AWSError) -> DynamoNumber {
        if a.isZero { return b }
        if b.isZero { return a }
        // Both as integer coefficients over the same power of ten: value = coeff × 10^low.
        let lowA = a.exponent - (a.digits.count - 1), lowB = b.exponent - (b.digits.count - 1)
        let low = min(lowA, lowB)
        let ca = a.digits + [UInt8](repeating: 0, count: lowA - low)
        let cb = b.digits + [UInt8](repeating: 0, count: lowB - low)
        var result: [UInt8]
        var negative: Bool
        if a.negative == b.negative {
            result = addMagnitudes(ca, cb)
            negative = a.negative
        } else {
            switch compareCoefficients(ca, cb) {
            case 0: return .zero
            case 1: result = subtractMagnitudes(ca, cb); negative = a.negative
            default: result = subtractMagnitudes(cb, ca); negative = b.negative
            }
        }
        var start = 0
        while start < result.count, result[start] == 0 { start += 1 }
        var end = result.count
        while end > start, result[end - 1] == 0 { end -= 1 }
        let digits = Array(result[start..<end])
        if digits.isEmpty { return .zero }
        negative = negative && !digits.isEmpty
        // The coefficient's last written digit sits at 10^low; its first at 10^(low + count - 1).
        let exponent = low + (result.count - start) - 1
        return try DynamoNumber(checkedDigits: digits, exponent: exponent, negative: negative)
    }

    private static func compareCoefficients(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }

    private static func addMagnitudes(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        let n = max(a.count, b.count) + 1
        var out = [UInt8](repeating: 0, count: n)
        var carry: UInt8 = 0
        for k in 0..<n {
            let x = k < a.count ? a[a.count - 1 - k] : 0
            let y = k < b.count ? b[b.count - 1 - k] : 0
            let s = x + y + carry
            out[n - 1 - k] = s % 10
            carry = s / 10
        }
        return out
    }

    /// a - b for coefficients of equal or greater length/value (a ≥ b).
    private static func subtractMagnitudes(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = a
        var borrow: Int = 0
        for k in 0..<a.count {
            let x = Int(a[a.count - 1 - k])
            let y = k < b.count ? Int(b[b.count - 1 - k]) : 0
            var d = x - y - borrow
            borrow = 0
            if d < 0 { d += 10; borrow = 1 }
            out[a.count - 1 - k] = UInt8(d)
        }
        return out
    }
}
