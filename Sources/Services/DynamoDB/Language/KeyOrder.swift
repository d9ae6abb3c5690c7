/// DynamoDB's key order as bytes: `memcmp` of two encodings orders the values as DynamoDB sorts range keys (and as a
/// SQLite BLOB column compares), so a Query reads an index range instead of sorting. S sorts by its UTF-8 bytes and B
/// by its bytes, so both encode as themselves; N sorts numerically (see `number`). Only values of one key type are
/// ever compared with each other, so no type tag is written.
enum KeyOrder {
    static func bytes(_ value: AttributeValue) -> [UInt8] {
        switch value {
        case .s(let text): Array(text.utf8)
        case .b(let bytes): bytes
        case .n(let number): Self.number(number)
        default: []  // only S, N and B can be key attributes
        }
    }

    /// A sign byte (0 negative, 1 zero, 2 positive), then for positives the exponent biased to 0…255 and the digits
    /// as written (a shorter digit string is a prefix of any larger one with the same start, as trailing zeros are
    /// gone); for negatives the same, each byte complemented, then 0xFF so that a prefix sorts after its extensions.
    static func number(_ n: DynamoNumber) -> [UInt8] {
        if n.isZero { return [1] }
        let biased = UInt8(n.exponent - DynamoNumber.minExponent)
        if !n.negative { return [2, biased] + n.digits }
        return [0, 255 - biased] + n.digits.map { 9 - $0 } + [255]
    }
}
