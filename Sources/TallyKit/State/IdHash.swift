/// The hash of a student id or an email in a `StringTable`, which a `String` and the UTF-8
/// bytes of a row both compute, so that a row's student is found without making a `String`.
///
/// `String.hashValue` cannot be had from bytes without the `String` (and making one per row
/// was a malloc, a UTF-8 check and a free on the scoring thread). The table needs only that
/// ids `==` calls equal hash alike, and `==` is canonical equivalence: two ASCII ids are
/// equal exactly when their bytes are, but a non-ASCII id can equal an ASCII one (KELVIN
/// SIGN, U+212A, is "K"). So an ASCII id hashes its bytes; a non-ASCII id that equals an
/// ASCII one hashes that one's bytes; any other id is hashed by `String` (no ASCII id can
/// equal it, and its equals, non-ASCII too, hash the same way).
///
/// Seeded per process, as `Hasher` is: the ids come from files anyone can write.
enum IdHash {
    private static let seed = UInt64.random(in: .min ... .max)

    /// The hash of the id spelled by `bytes`, or nil when they are not all ASCII (make the
    /// `String`: its hash is `hash(_:)`'s).
    @inline(__always)
    static func hash(ascii bytes: UnsafeRawBufferPointer) -> UInt64? {
        let count = bytes.count
        var hash = seed ^ UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
        var high: UInt64 = 0
        guard let base = bytes.baseAddress else { return mix(hash, 0x2D35_8DCC_AA6C_78A5) }
        var offset = 0
        while offset + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            high |= word
            hash = mix(hash ^ word, 0xA076_1D64_78BD_642F)
            offset += 8
        }
        if offset < count {
            // The last few bytes, read as a word of their own.
            var word: UInt64 = 0
            for index in offset..<count {
                word = word << 8 | UInt64(base.load(fromByteOffset: index, as: UInt8.self))
            }
            high |= word
            hash = mix(hash ^ word, 0xE703_7ED1_A0B4_28DB)
        }
        guard high & 0x8080_8080_8080_8080 == 0 else { return nil }
        return mix(hash, 0x2D35_8DCC_AA6C_78A5)
    }

    /// The hash of `id`: its bytes' when it is ASCII or equals an ASCII id.
    static func hash(_ id: String) -> UInt64 {
        // A native string's bytes are read in place; `withUTF8` needs a copy of it (a retain
        // and a release, a million times as an index is read back).
        let bytesHash: UInt64?
        if let inPlace = id.utf8.withContiguousStorageIfAvailable({ hash(ascii: UnsafeRawBufferPointer($0)) }) {
            bytesHash = inPlace
        } else {
            var copy = id
            bytesHash = copy.withUTF8 { hash(ascii: UnsafeRawBufferPointer($0)) }
        }
        if let bytesHash { return bytesHash }
        // An ASCII equivalent is ASCII, so its bytes always hash; no force-unwrap for it.
        if var ascii = asciiEquivalent(of: id), let hash = ascii.withUTF8({ hash(ascii: UnsafeRawBufferPointer($0)) }) {
            return hash
        }
        return UInt64(bitPattern: Int64(id.hashValue))
    }

    /// The ASCII id that `id` equals, if any. Only three characters outside ASCII decompose
    /// canonically into ASCII (each into one character): a non-ASCII id equals an ASCII one
    /// exactly when it has no other non-ASCII character (`IdHashTests` checks every scalar).
    static func asciiEquivalent(of id: String) -> String? {
        var ascii = String.UnicodeScalarView()
        for scalar in id.unicodeScalars {
            if scalar.isASCII {
                ascii.append(scalar)
            } else if let equal = asciiSingletons[scalar.value] {
                ascii.append(Unicode.Scalar(equal))
            } else {
                return nil
            }
        }
        let candidate = String(ascii)
        return candidate == id ? candidate : nil
    }

    /// GREEK QUESTION MARK (";"), GREEK VARIA ("`") and KELVIN SIGN ("K").
    static let asciiSingletons: [UInt32: UInt8] = [0x037E: 0x3B, 0x1FEF: 0x60, 0x212A: 0x4B]

    @inline(__always)
    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }
}
