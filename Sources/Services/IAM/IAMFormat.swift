import Core
import Foundation

/// The forms of IAM identifiers, ARNs, dates and policy documents on the wire.
enum IAMFormat {
    /// The characters of IAM's unique ids and access key ids (base 32: A–Z, 2–7).
    static let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
    static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `AROA` (role), `AIDA` (user), `AGPA` (group), `ANPA` (managed policy), `AIPA` (instance profile) followed by
    /// 17 characters: 21 in all, as AWS's unique ids.
    static func uniqueID(prefix: String) -> String {
        prefix + random(17, from: idAlphabet)
    }

    /// `AKIA` + 16 characters.
    static func accessKeyID() -> String { "AKIA" + random(16, from: idAlphabet) }

    /// 40 characters of base 64's alphabet, as AWS's secret access keys.
    static func secretAccessKey() -> String { random(40, from: secretAlphabet) }

    static func random(_ count: Int, from alphabet: [UInt8]) -> String {
        // 256 is a multiple of 32 and 64: `% count` is uniform.
        String(decoding: randomBytes(count: count).map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
    }

    /// `arn:aws:iam::<account>:<kind><path><name>` (`role`, `user`, `group`, `policy`, `instance-profile`).
    static func arn(account: String, kind: String, path: String, name: String) -> String {
        "arn:aws:iam::\(account):\(kind)\(path)\(name)"
    }

    /// `2026-11-25T18:37:07Z`: IAM's dates carry whole seconds.
    static func date(_ seconds: Double) -> String {
        let text = AWSDate.iso8601(seconds.rounded(.down))
        return text.hasSuffix(".000Z") ? String(text.dropLast(5)) + "Z" : text
    }

    /// Policy documents travel URL-encoded (RFC 3986) in answers; SDKs decode them.
    static func encodedDocument(_ document: String) -> String { Percent.encode(document) }

    /// What AWS checks of a policy document before storing it: JSON, an object, with statements.
    static func validatePolicy(_ document: String) throws {
        guard let data = document.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw IAMError.malformedPolicy("This policy contains invalid Json")
        }
        guard let dict = object as? [String: Any], dict["Statement"] != nil else {
            throw IAMError.malformedPolicy("Syntax errors in policy.")
        }
    }

    /// The `(account, path, name)` of a managed policy ARN (`arn:aws:iam::aws:policy/service-role/X` → `aws`,
    /// `/service-role/`, `X`), or `Invalid ARN` as AWS answers.
    static func policyARN(_ text: String) throws -> (account: String, path: String, name: String) {
        guard let arn = ARN(text), arn.service == "iam", arn.region.isEmpty, arn.resource.hasPrefix("policy/"),
              arn.account == "aws" || AccountID.isValid(arn.account) else {
            throw IAMError.invalidARN
        }
        let rest = arn.resource.dropFirst("policy".count)
        guard let slash = rest.lastIndex(of: "/"), rest.index(after: slash) < rest.endIndex else { throw IAMError.invalidARN }
        return (arn.account, String(rest[...slash]), String(rest[rest.index(after: slash)...]))
    }
}

/// One page of a listing: `MaxItems` items after the `Marker`, which is opaque to clients (the next item's key).
struct Page<T> {
    var items: [T]
    var marker: String?
    var isTruncated: Bool { marker != nil }

    /// Items are ordered by key, case-insensitively (as IAM names are unique without case).
    init(_ all: [T], key: (T) -> String, marker: String?, maxItems: Int) throws {
        let sorted = all.sorted { Self.order(key($0), key($1)) }
        var start = 0
        if let marker {
            guard let data = Data(base64Encoded: marker), let after = String(data: data, encoding: .utf8) else {
                throw IAMError.validation("Invalid Marker.")
            }
            start = sorted.firstIndex { !Self.order(key($0), after) } ?? sorted.count
        }
        let end = min(start + maxItems, sorted.count)
        items = Array(sorted[start..<end])
        self.marker = end < sorted.count ? Data(key(sorted[end]).utf8).base64EncodedString() : nil
    }

    /// Already in answer order (newest policy versions first): the marker is an index.
    init(ordered all: [T], marker: String?, maxItems: Int) throws {
        var start = 0
        if let marker {
            guard let data = Data(base64Encoded: marker), let text = String(data: data, encoding: .utf8), let i = Int(text), i >= 0 else {
                throw IAMError.validation("Invalid Marker.")
            }
            start = min(i, all.count)
        }
        let end = min(start + maxItems, all.count)
        items = Array(all[start..<end])
        self.marker = end < all.count ? Data(String(end).utf8).base64EncodedString() : nil
    }

    static func order(_ a: String, _ b: String) -> Bool {
        let x = a.lowercased(), y = b.lowercased()
        return x == y ? a < b : x < y
    }
}

extension XMLWriter {
    /// `<Name><member>...</member>...</Name>`: how the Query protocol wraps lists.
    mutating func members<T>(_ name: String, _ items: [T], _ body: (inout XMLWriter, T) -> Void) {
        open(name)
        for item in items {
            open("member")
            body(&self, item)
            close()
        }
        close()
    }

    /// `<Name><member>text</member>...</Name>`
    mutating func stringMembers(_ name: String, _ items: [String]) {
        open(name)
        for item in items { element("member", item) }
        close()
    }

    mutating func tags(_ tags: [Tag], always: Bool = false) {
        guard always || !tags.isEmpty else { return }
        members("Tags", tags) { xml, t in
            xml.element("Key", t.key)
            xml.element("Value", t.value)
        }
    }

    /// `IsTruncated` and, when there is more, `Marker`.
    mutating func paging<T>(_ page: Page<T>) {
        element("IsTruncated", page.isTruncated)
        element("Marker", page.marker)
    }
}
