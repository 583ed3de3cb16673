// Linux and glibc calls that Swift's Glibc module does not bring in.

// glibc's allocator settings (`mallopt`).
#include <malloc.h>
#include <fcntl.h>

// `sync_file_range` is declared by <fcntl.h> only under _GNU_SOURCE, which the Glibc module
// is not built with. This is glibc's own declaration.
extern int sync_file_range(int fd, __off64_t offset, __off64_t count, unsigned int flags);

// Starts writing `count` bytes of `fd` from `offset` to the disk and returns at once
// (SYNC_FILE_RANGE_WRITE): a later fsync then has only the rest to wait for. A hint only;
// it makes nothing durable.
static inline int tally_start_writeback(int fd, long long offset, long long count) {
    return sync_file_range(fd, offset, count, 2 /* SYNC_FILE_RANGE_WRITE */);
}

// Asks the processor to bring the cache line holding `address` closer, without waiting for
// it and without faulting: a hint, which changes no result. The byte lane asks for the
// table slots of a row a few rows ahead, so that their misses overlap the work between.
static inline void tally_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
