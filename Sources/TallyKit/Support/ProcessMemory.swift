#if canImport(CLinux) && os(Linux)
import CLinux
#endif

/// How the C allocator treats big blocks, set once per process before the engine's first
/// batch.
///
/// glibc serves a block of 128 KiB or more from a mapping of its own, which goes back to
/// the system when the block is freed — until the first such block is freed: glibc then
/// raises that threshold to the block's size, and from there on blocks of up to 32 MiB
/// come from the heap, where, freed, they stay in the process. A big sync allocates and
/// frees many blocks of a megabyte or more (table pages as they grow, ledger buffers, the
/// site's files), so it peaked about 12 MiB higher, and a daemon kept that much it no
/// longer used after its first big batch. A fixed threshold keeps the default's behaviour.
enum ProcessMemory {
    static let configured: Void = {
        #if canImport(CLinux) && os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 128 << 10)
        #endif
    }()
}
