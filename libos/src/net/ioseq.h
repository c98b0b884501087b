// A read or write over several buffers as one operation (readv/writev on pipes and
// sockets): one blocking wait and one atomic transfer for the whole vector, as Linux does.
// The one import of the application's iovec arrays, for every vectored call (readv,
// writev, preadv, pwritev, preadv2, pwritev2, sendmsg, recvmsg and their kin).
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

#include "../fs/file.h"

namespace carbyne::libos::net {

struct IoSeg {
    fs::IoBuf buf;
    size_t size;
};

// Borrowed buffers and their total size.
class IoSeq {
public:
    IoSeq() : m_segs(nullptr), m_count(0), m_total(0) {}
    IoSeq(const IoSeg* segs, size_t count);
    static IoSeq single(const IoSeg* seg) { return IoSeq(seg, 1); }

    size_t total() const { return m_total; }
    const IoSeg* segs() const { return m_segs; }
    size_t count() const { return m_count; }
    // Copies n bytes from LibOS memory into the sequence, starting `at` bytes into it.
    Result<void> copy_out(size_t at, const void* src, size_t n) const;
    // Copies n bytes of the sequence, starting `at` bytes into it, to LibOS memory.
    Result<void> copy_in(void* dst, size_t at, size_t n) const;

private:
    const IoSeg* m_segs;
    size_t m_count;
    size_t m_total;
};

inline constexpr int kIovMax = 1024;  // UIO_MAXIOV

// The application's iovec array as IoSegs (room for `count` in `out`), checked whole before
// any data moves, in Linux's order (import_iovec): EINVAL for more than kIovMax iovecs;
// then, iovec by iovec, EFAULT for one that cannot be read and EINVAL for a length that is
// negative as an ssize_t; then EFAULT for a buffer that reaches past user space. The total
// is capped at MAX_RW_COUNT by shortening the last segments (a single iovec is capped
// before its range is checked, as Linux does). Returns the total.
Result<size_t> import_iovec(uint64_t iov_addr, size_t count, IoSeg* out);

// The application's iovec array imported into room of its own (on the stack for a few,
// else the heap): IoSegs segs; IoSeq seq = TRY(segs.import(iov, count));
class IoSegs {
public:
    Result<IoSeq> import(uint64_t iov_addr, size_t count);
    ~IoSegs();

private:
    static constexpr size_t kLocal = 8;
    IoSeg m_local[kLocal];
    IoSeg* m_heap = nullptr;
};

}  // namespace carbyne::libos::net
