import CCloudless

/// AES-256-GCM over the system's libcrypto. A sealed box is `nonce (12) ‖ ciphertext ‖ tag (16)`; the additional
/// authenticated data binds a box to where it belongs (opening it elsewhere fails).
public enum AESGCM {
    public static let keyByteCount = 32
    static let nonceByteCount = 12
    static let tagByteCount = 16

    public enum Failure: Error, Equatable {
        /// Wrong key, wrong AAD, or tampered bytes.
        case authenticationFailed
        case malformed
    }

    /// Encrypt `plaintext` under a 32-byte `key` with a fresh random nonce.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], aad: [UInt8] = []) -> [UInt8] {
        seal(plaintext, key: key, nonce: randomBytes(count: nonceByteCount), aad: aad)
    }

    /// With a chosen nonce: for test vectors only (a nonce must never be reused under one key).
    static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], aad: [UInt8]) -> [UInt8] {
        precondition(key.count == keyByteCount, "AES-256 needs a 32-byte key")
        precondition(nonce.count == nonceByteCount)
        guard let ctx = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = nonce
        out.reserveCapacity(nonceByteCount + plaintext.count + tagByteCount)
        var length: Int32 = 0
        var ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceByteCount), nil) == 1
        ok = ok && EVP_EncryptInit_ex(ctx, nil, nil, key, nonce) == 1
        if ok && !aad.isEmpty { ok = EVP_EncryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1 }
        var body = [UInt8](repeating: 0, count: plaintext.count + 16)
        if ok && !plaintext.isEmpty {
            ok = EVP_EncryptUpdate(ctx, &body, &length, plaintext, Int32(plaintext.count)) == 1
            out += body[0..<Int(length)]
        }
        ok = ok && EVP_EncryptFinal_ex(ctx, &body, &length) == 1
        if ok { out += body[0..<Int(length)] }
        var tag = [UInt8](repeating: 0, count: tagByteCount)
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagByteCount), &tag) == 1
        guard ok else { fatalError("AES-256-GCM encryption failed") }
        return out + tag
    }

    /// Decrypt a box made by `seal`. Throws `authenticationFailed` for a wrong key or AAD or altered bytes.
    public static func open(_ box: [UInt8], key: [UInt8], aad: [UInt8] = []) throws -> [UInt8] {
        precondition(key.count == keyByteCount, "AES-256 needs a 32-byte key")
        guard box.count >= nonceByteCount + tagByteCount else { throw Failure.malformed }
        let nonce = Array(box[0..<nonceByteCount])
        let ciphertext = Array(box[nonceByteCount..<(box.count - tagByteCount)])
        var tag = Array(box[(box.count - tagByteCount)...])
        guard let ctx = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var length: Int32 = 0
        var ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil) == 1
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, Int32(nonceByteCount), nil) == 1
        ok = ok && EVP_DecryptInit_ex(ctx, nil, nil, key, nonce) == 1
        if ok && !aad.isEmpty { ok = EVP_DecryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1 }
        var plain = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var produced = 0
        if ok && !ciphertext.isEmpty {
            ok = EVP_DecryptUpdate(ctx, &plain, &length, ciphertext, Int32(ciphertext.count)) == 1
            produced = Int(length)
        }
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagByteCount), &tag) == 1
        guard ok else { throw Failure.malformed }
        var tail = [UInt8](repeating: 0, count: 16)
        guard EVP_DecryptFinal_ex(ctx, &tail, &length) == 1 else { throw Failure.authenticationFailed }
        return Array(plain[0..<produced]) + tail[0..<Int(length)]
    }
}
