import Testing

@testable import Core

@Suite struct AESGCMTests {
    // Test cases 13 and 14 of the GCM specification (McGrew & Viega), AES-256 with a zero key and nonce.
    @Test func publishedVectors() throws {
        let key = [UInt8](repeating: 0, count: 32)
        let nonce = [UInt8](repeating: 0, count: 12)
        let empty = AESGCM.seal([], key: key, nonce: nonce, aad: [])
        #expect(Hex.encode(Array(empty.dropFirst(12))) == "530f8afbc74536b9a963b4f1c4cb738b")
        let block = AESGCM.seal([UInt8](repeating: 0, count: 16), key: key, nonce: nonce, aad: [])
        #expect(Hex.encode(Array(block.dropFirst(12))) == "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919")
        #expect(try AESGCM.open(block, key: key) == [UInt8](repeating: 0, count: 16))
    }

    @Test func roundTripAndTamperDetection() throws {
        let key = randomBytes(count: 32)
        let box = AESGCM.seal(Array("password123".utf8), key: key, aad: Array("arn|v1".utf8))
        #expect(try AESGCM.open(box, key: key, aad: Array("arn|v1".utf8)) == Array("password123".utf8))
        #expect(throws: AESGCM.Failure.authenticationFailed) { try AESGCM.open(box, key: key, aad: Array("arn|v2".utf8)) }
        #expect(throws: AESGCM.Failure.authenticationFailed) { try AESGCM.open(box, key: randomBytes(count: 32), aad: Array("arn|v1".utf8)) }
        var altered = box
        altered[14] ^= 1
        #expect(throws: AESGCM.Failure.authenticationFailed) { try AESGCM.open(altered, key: key, aad: Array("arn|v1".utf8)) }
        #expect(box != AESGCM.seal(Array("password123".utf8), key: key, aad: Array("arn|v1".utf8)))  // fresh nonces
    }
}
