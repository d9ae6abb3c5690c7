import Foundation
public import NIOCore

/// Writes the `[String: Any]` documents the JSON protocols answer with straight into a ByteBuffer.
/// Hand-written because JSONSerialization on Linux costs tens of microseconds for a small answer (a tenth of a
/// whole GetSecretValue). It writes what JSONSerialization writes (`withoutEscapingSlashes`): the same escapes,
/// integral doubles without a fraction, booleans parsed from JSON as `true`/`false`. Anything it does not know
/// (NaN, a Date, a custom class) makes it give up, and the caller falls back to JSONSerialization.
public enum JSONWriter {
    /// The class of JSONSerialization's parsed booleans (`__NSCFBoolean`): an NSNumber that must stay `true`/`false`.
    private static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))

    /// The document, or nil when it holds a value JSONSerialization would refuse or that this writer does not know.
    public static func buffer(_ object: Any, sortedKeys: Bool = false) -> ByteBuffer? {
        var out = ByteBufferAllocator().buffer(capacity: 256)
        guard write(object, into: &out, sortedKeys: sortedKeys) else { return nil }
        return out
    }

    /// `buffer`, falling back to JSONSerialization (and `{}` when even that refuses, as the callers always did).
    public static func encode(_ object: [String: Any], sortedKeys: Bool = false) -> ByteBuffer {
        if let b = buffer(object, sortedKeys: sortedKeys) { return b }
        var options: JSONSerialization.WritingOptions = [.withoutEscapingSlashes]
        if sortedKeys { options.insert(.sortedKeys) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    static func write(_ value: Any, into out: inout ByteBuffer, sortedKeys: Bool) -> Bool {
        switch value {
        case let s as String:
            writeString(s, into: &out)
        case let d as [String: Any]:
            out.writeInteger(UInt8(ascii: "{"))
            var first = true
            func member(_ k: String, _ v: Any) -> Bool {
                if !first { out.writeInteger(UInt8(ascii: ",")) }
                first = false
                writeString(k, into: &out)
                out.writeInteger(UInt8(ascii: ":"))
                return write(v, into: &out, sortedKeys: sortedKeys)
            }
            if sortedKeys {
                for k in d.keys.sorted() where !member(k, d[k]!) { return false }
            } else {
                for (k, v) in d where !member(k, v) { return false }
            }
            out.writeInteger(UInt8(ascii: "}"))
        case let a as [Any]:
            out.writeInteger(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.writeInteger(UInt8(ascii: ",")) }
                guard write(v, into: &out, sortedKeys: sortedKeys) else { return false }
            }
            out.writeInteger(UInt8(ascii: "]"))
        case is NSNull:
            out.writeStaticString("null")
        default:
            return writeScalar(value, into: &out)
        }
        return true
    }

    /// Numbers and booleans, by their exact type: on Linux `1 as Any` also casts to Bool, and a parsed `true` to Int.
    private static func writeScalar(_ value: Any, into out: inout ByteBuffer) -> Bool {
        switch value {
        case let b as Bool where type(of: value) == Bool.self:
            out.writeStaticString(b ? "true" : "false")
        case let i as Int where type(of: value) == Int.self:
            out.writeString(String(i))
        case let d as Double where type(of: value) == Double.self:
            return writeDouble(d, into: &out)
        case let n as NSNumber:
            if ObjectIdentifier(type(of: n)) == booleanClass {
                out.writeStaticString(n.boolValue ? "true" : "false")
                return true
            }
            switch UInt8(bitPattern: n.objCType.pointee) {
            case UInt8(ascii: "d"), UInt8(ascii: "f"):
                return writeDouble(n.doubleValue, into: &out)
            case UInt8(ascii: "Q"), UInt8(ascii: "L"), UInt8(ascii: "I"), UInt8(ascii: "S"), UInt8(ascii: "C"):
                out.writeString(String(n.uint64Value))
            default:
                out.writeString(String(n.int64Value))
            }
        case let i as Int64:
            out.writeString(String(i))
        case let i as Int32:
            out.writeString(String(i))
        case let i as UInt64:
            out.writeString(String(i))
        case let i as UInt32:
            out.writeString(String(i))
        case let f as Float:
            return writeDouble(Double(f), into: &out)
        default:
            return false
        }
        return true
    }

    /// Integral values as integers (`5`, not `5.0`), others in their shortest form, as JSONSerialization writes them.
    private static func writeDouble(_ d: Double, into out: inout ByteBuffer) -> Bool {
        guard d.isFinite else { return false }
        // Exact integers print as integers; larger values in the shortest form with an exponent, as JSONSerialization.
        if d == d.rounded(.towardZero), abs(d) <= 9_007_199_254_740_992 {
            out.writeString(String(Int64(d)))
        } else {
            out.writeString(d.description)
        }
        return true
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "\""))
        var plain = true
        for c in s.utf8 where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
            plain = false
            break
        }
        if plain {
            out.writeString(s)
        } else {
            for c in s.utf8 {
                switch c {
                case UInt8(ascii: "\""): out.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): out.writeStaticString("\\\\")
                case 0x0A: out.writeStaticString("\\n")
                case 0x0D: out.writeStaticString("\\r")
                case 0x09: out.writeStaticString("\\t")
                case 0x08: out.writeStaticString("\\b")
                case 0x0C: out.writeStaticString("\\f")
                case 0..<0x20:
                    out.writeStaticString("\\u00")
                    out.writeInteger(hex[Int(c >> 4)])
                    out.writeInteger(hex[Int(c & 0xF)])
                default:
                    out.writeInteger(c)
                }
            }
        }
        out.writeInteger(UInt8(ascii: "\""))
    }
}
