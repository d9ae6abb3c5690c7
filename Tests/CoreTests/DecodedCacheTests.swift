import Synchronization
import Testing
@testable import Core

@Test func decodedCacheDecodesEachTextOnceAndStaysBounded() throws {
    let cache = DecodedCache<[String]>(limit: 3)
    let calls = Atomic<Int>(0)
    func decode(_ text: String) -> [String] {
        calls.add(1, ordering: .relaxed)
        return text.split(separator: ",").map(String.init)
    }
    #expect(cache.value(for: "a,b", decode: decode) == ["a", "b"])
    #expect(cache.value(for: "a,b", decode: decode) == ["a", "b"])
    #expect(calls.load(ordering: .relaxed) == 1)
    // Another text is another value, never the cached one.
    #expect(cache.value(for: "a,c", decode: decode) == ["a", "c"])
    #expect(calls.load(ordering: .relaxed) == 2)
    for t in ["x", "y", "z", "w"] { _ = cache.value(for: t, decode: decode) }
    #expect(cache.count <= 3)
    // A decoding that throws caches nothing.
    struct Bad: Error {}
    #expect(throws: Bad.self) { try cache.value(for: "bad") { _ in throw Bad() } }
    #expect(cache.value(for: "bad", decode: decode) == ["bad"])
}

@Test func signingKeyCacheGivesTheDerivedKey() {
    // The AWS example key (AWS General Reference, "Signature Version 4 signing process").
    let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    let derived = SigV4.signingKey(secret: secret, date: "20150830", region: "us-east-1", service: "iam")
    #expect(Hex.encode(derived) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
    #expect(SigningKeyCache.key(secret: secret, date: "20150830", region: "us-east-1", service: "iam") == derived)
    #expect(SigningKeyCache.key(secret: secret, date: "20150830", region: "us-east-1", service: "iam") == derived)
    // Any part that differs is another key.
    #expect(SigningKeyCache.key(secret: secret, date: "20150831", region: "us-east-1", service: "iam") != derived)
    #expect(SigningKeyCache.key(secret: secret, date: "20150830", region: "us-west-2", service: "iam") != derived)
    #expect(SigningKeyCache.key(secret: secret, date: "20150830", region: "us-east-1", service: "s3") != derived)
    #expect(SigningKeyCache.key(secret: secret + "x", date: "20150830", region: "us-east-1", service: "iam") != derived)
    #expect(SigningKeyCache.count <= SigningKeyCache.limit)
}
