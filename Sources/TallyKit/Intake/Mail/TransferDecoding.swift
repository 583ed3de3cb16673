#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Base64 (RFC 2045) decoded a piece at a time: characters outside the alphabet (line
/// breaks, spaces, garbage a mailer added) are skipped; `=` completes the group in hand, and
/// what follows it starts afresh (two encoded pieces pasted together still decode whole).
struct Base64Decoder {
    private var quantum: UInt32 = 0
    private var count = 0

    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        // base64url too: some relays write it.
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    mutating func decode(_ input: some Sequence<UInt8>, into output: inout [UInt8]) {
        for byte in input {
            if byte == UInt8(ascii: "=") {
                flush(into: &output)
                continue
            }
            let value = Base64Decoder.table[Int(byte)]
            if value == 0xFF { continue }
            quantum = quantum << 6 | UInt32(value)
            count += 1
            if count == 4 {
                output.append(UInt8(truncatingIfNeeded: quantum >> 16))
                output.append(UInt8(truncatingIfNeeded: quantum >> 8))
                output.append(UInt8(truncatingIfNeeded: quantum))
                quantum = 0
                count = 0
            }
        }
    }

    /// Bytes left when the data ends without padding.
    mutating func finish(into output: inout [UInt8]) { flush(into: &output) }

    /// The bytes of a partial group (2 or 3 characters), which padding or the end completes.
    private mutating func flush(into output: inout [UInt8]) {
        switch count {
        case 2: output.append(UInt8(truncatingIfNeeded: quantum >> 4))
        case 3:
            output.append(UInt8(truncatingIfNeeded: quantum >> 10))
            output.append(UInt8(truncatingIfNeeded: quantum >> 2))
        default: break
        }
        quantum = 0
        count = 0
    }

    static func decode(_ input: [UInt8]) -> [UInt8] {
        var decoder = Base64Decoder()
        var out: [UInt8] = []
        decoder.decode(input, into: &out)
        decoder.finish(into: &out)
        return out
    }
}

/// Quoted-printable (RFC 2045 §6.7), one encoded line at a time.
enum QuotedPrintable {
    /// Decodes one line (without its line break) into `output`; returns false when the line
    /// ends in a soft break (`=`), so that no line break follows it.
    static func decodeLine(_ line: ArraySlice<UInt8>, into output: inout [UInt8]) -> Bool {
        // Trailing whitespace was added in transport (RFC 2045 rule 3).
        var end = line.endIndex
        while end > line.startIndex, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        var index = line.startIndex
        while index < end {
            let byte = line[index]
            if byte == UInt8(ascii: "=") {
                if index + 1 == end { return false }   // soft line break
                if index + 2 < end, let high = hexValue(line[index + 1]), let low = hexValue(line[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            output.append(byte)   // a stray "=" is kept, as robust decoders do
            index += 1
        }
        return true
    }

    /// The `Q` encoding of RFC 2047 words: `_` is a space.
    static func decodeWord(_ word: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        _ = decodeLine(ArraySlice(word.map { $0 == UInt8(ascii: "_") ? 0x20 : $0 }), into: &out)
        return out
    }
}

/// Text in a named charset to UTF-8, through iconv.
enum Charset {
    /// True for the names that need no conversion.
    static func isUTF8(_ charset: String) -> Bool {
        ["utf-8", "utf8", "us-ascii", "ascii", ""].contains(charset.lowercased().trimmingCharacters(in: .whitespaces))
    }

    /// `bytes` in `charset` as a String; nil for a charset iconv does not know or bytes
    /// that are not valid in it.
    static func decode(_ bytes: [UInt8], charset: String) -> String? {
        if isUTF8(charset) { return String(decoding: bytes, as: UTF8.self) }
        guard let converter = Transcoder(from: charset) else { return nil }
        var out: [UInt8] = []
        guard converter.convert(bytes[...], into: &out, final: true) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// A streaming conversion to UTF-8; a multi-byte character cut between two pieces is
    /// kept for the next one.
    final class Transcoder {
        private let handle: iconv_t
        private var pending: [UInt8] = []

        init?(from charset: String) {
            let opened = iconv_open("UTF-8", charset)
            guard let opened, opened != iconv_t(bitPattern: -1) else { return nil }
            handle = opened
        }

        deinit { iconv_close(handle) }

        /// Converts `input` (after what was pending), appending to `output`; false on bytes
        /// that are invalid in the charset.
        func convert(_ input: ArraySlice<UInt8>, into output: inout [UInt8], final: Bool) -> Bool {
            var source = pending + input
            pending = []
            var chunk = [UInt8](repeating: 0, count: max(64, source.count * 4))
            var consumed = 0
            while consumed < source.count {
                var inLeft = source.count - consumed
                var outLeft = chunk.count
                let result: Int = source.withUnsafeMutableBufferPointer { src in
                    chunk.withUnsafeMutableBufferPointer { dst in
                        var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(src.baseAddress! + consumed)
                            .assumingMemoryBound(to: CChar.self)
                        var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(dst.baseAddress!)
                            .assumingMemoryBound(to: CChar.self)
                        return iconv(handle, &inPointer, &inLeft, &outPointer, &outLeft)
                    }
                }
                let code = errno
                output += chunk[0..<(chunk.count - outLeft)]
                consumed = source.count - inLeft
                if result != -1 { break }
                if code == E2BIG { continue }
                if code == EINVAL && !final {   // an incomplete character at the end
                    pending = Array(source[consumed...])
                    return true
                }
                return false
            }
            source.removeAll()
            return true
        }
    }
}
