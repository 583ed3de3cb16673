import COpenSSL

/// SHA-256 over OpenSSL's EVP interface, incrementally or in one call.
///
/// Incremental hashing lets the intake hash a file while it streams through it, so a
/// 1 GB export is read once, not twice, and never held in memory.
public struct SHA256Hasher: ~Copyable {
    private let context: OpaquePointer

    /// SHA-256, fetched from OpenSSL's providers once: `EVP_sha256()` makes OpenSSL 3 look
    /// the algorithm up, under a lock, at every `EVP_DigestInit_ex` — a tenth of the cost of
    /// hashing one short line.
    nonisolated(unsafe) private static let algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256()

    public init() {
        // EVP_MD_CTX_new only fails when the allocator does; there is nothing to recover then.
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, Self.algorithm, nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds bytes. The corresponding C function is `EVP_DigestUpdate`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// The 32-byte digest. The corresponding C function is `EVP_DigestFinal_ex`.
    public consuming func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        digest.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        return digest
    }
}

/// One-call hashes and the HMAC used to authenticate webhook deliveries.
public enum Crypto {
    /// The SHA-256 of a short buffer, without a context to allocate or an algorithm to look
    /// up (OpenSSL's direct `SHA256_*` functions, through the module's `tally_sha256`): what
    /// the hot path uses for content ids and chained ledger lines.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> SHA256Digest {
        var digest = SHA256Digest()
        withUnsafeMutableBytes(of: &digest.words) { out in
            tally_sha256(bytes.baseAddress, bytes.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return digest
    }

    /// The lowercase hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hex(hasher.finalize())
    }

    /// The 32-byte SHA-256 of `bytes`.
    public static func sha256Bytes(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// A random string for a URL: `count` bytes from the system's secure generator
    /// (`getrandom`), in unpadded base64url.
    public static func randomToken(bytes count: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var word = 0
            for byte in chunk { word = word << 8 | Int(byte) }
            word <<= 8 * (3 - chunk.count)
            for position in 0...chunk.count { out.append(alphabet[(word >> (18 - 6 * position)) & 63]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// HMAC-SHA256 of `message` under `key`. The corresponding C function is `HMAC`.
    public static func hmacSHA256(key: some Sequence<UInt8>, message: some Sequence<UInt8>) -> [UInt8] {
        let keyBytes = Array(key), messageBytes = Array(message)
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        keyBytes.withUnsafeBytes { k in
            messageBytes.withUnsafeBytes { m in
                digest.withUnsafeMutableBufferPointer { d in
                    _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count),
                             m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count, d.baseAddress, &length)
                }
            }
        }
        return digest
    }

    /// Compares two byte strings in time that depends only on their lengths, so a forger
    /// cannot learn a signature byte by byte from response times.
    /// The corresponding C function is `CRYPTO_memcmp`.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    /// Lowercase hexadecimal.
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for byte in bytes {
                out[i] = digits.utf8Start[Int(byte >> 4)]
                out[i + 1] = digits.utf8Start[Int(byte & 0x0f)]
                i += 2
            }
            return i
        }
    }

    /// Bytes from hexadecimal (either case); nil when `text` is not hex of even length.
    public static func bytes(fromHex text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let hi = hexValue(utf8[index]), let lo = hexValue(utf8[index + 1]) else { return nil }
            out.append(hi << 4 | lo)
            index += 2
        }
        return out
    }

}

/// A SHA-256 digest by value: 32 bytes on the stack, no array.
public struct SHA256Digest: Equatable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public static func == (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool { lhs.words == rhs.words }

    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }
    public var hex: String { withUnsafeBytes(of: words) { Crypto.hex($0) } }

    /// Hands `body` the 64 bytes of `hex`, written on the stack.
    func withHex<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { out in
            withUnsafeBytes(of: words) { bytes in
                for index in 0..<32 {
                    out[2 * index] = digits.utf8Start[Int(bytes[index] >> 4)]
                    out[2 * index + 1] = digits.utf8Start[Int(bytes[index] & 0x0f)]
                }
            }
            return body(UnsafeRawBufferPointer(out))
        }
    }
    /// The first 16 bytes as two big-endian words: an `EventKey` digest.
    var prefix128: (UInt64, UInt64) { (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1)) }
}

/// The value of one hexadecimal digit (either case); nil for any other byte.
func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}
