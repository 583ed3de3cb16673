#if canImport(CLinux) && os(Linux)
import CLinux
#endif

/// Where a `String`'s or an `Array`'s heap storage is, read from the value's words without
/// touching the value: for asking the processor for those lines ahead of time (see
/// `LaneHints`).
///
/// Asking through the value (`utf8.withContiguousStorageIfAvailable`, `withUnsafeBufferPointer`)
/// may retain it, and a retain writes to the very line being asked for, so the thread waits
/// for it there and then: the point of asking early is lost. Nothing is read through these
/// addresses, only prefetched, and a prefetch of a wrong address is dropped without a fault;
/// so a guess that a later standard library makes wrong costs only the hint, and
/// `HeapHintTests` say when it does.
///
/// The layouts (64-bit): a native string's second word points at its storage object, whose
/// UTF-8 bytes start 32 bytes in (the standard library's `nativeBias`), and its top nibble is
/// clear (a small, immortal or bridged string sets one of those bits); an array's one word
/// points at its storage object: count and capacity, then the elements, 32 bytes in.
enum HeapHint {
    /// The address of the first UTF-8 byte of the native string at `string`, or nil when
    /// its words say it is not a native string made at run time (a small one keeps its
    /// bytes in the words themselves; a `String?` that is nil has a zero there).
    @inline(__always)
    static func bytes(ofStringAt string: UnsafeRawPointer) -> UnsafeRawPointer? {
        let object = string.load(fromByteOffset: 8, as: UInt64.self)
        guard object >> 60 == 0, object != 0 else { return nil }
        return UnsafeRawPointer(bitPattern: UInt(object) &+ 32)
    }

    /// The address of the storage object of the array at `array` (its count, then its
    /// elements from 32 bytes in).
    @inline(__always)
    static func storage(ofArrayAt array: UnsafeRawPointer) -> UnsafeRawPointer? {
        UnsafeRawPointer(bitPattern: array.load(as: UInt.self))
    }

    /// Asks the processor for the cache line holding `address`, without waiting for it or
    /// faulting (`__builtin_prefetch`); nothing where the hint is not built in.
    @inline(__always)
    static func prefetch(_ address: UnsafeRawPointer) {
        #if canImport(CLinux) && os(Linux)
        tally_prefetch(address)
        #endif
    }

    /// Asks for the first line of the bytes of the `String` (or `String?`) at `string`.
    @inline(__always)
    static func prefetchString(at string: UnsafeRawPointer) {
        guard let bytes = bytes(ofStringAt: string) else { return }
        prefetch(bytes)
    }

    /// Asks for the first `lines` lines of the storage of the `Array` at `array` (a struct
    /// whose first stored property is one will do).
    @inline(__always)
    static func prefetchArray(at array: UnsafeRawPointer, lines: Int) {
        guard let storage = storage(ofArrayAt: array) else { return }
        for line in 0..<lines { prefetch(storage + 64 * line) }
    }
}
