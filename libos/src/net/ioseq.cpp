// Vectored transfers (see ioseq.h).
#include "ioseq.h"

#include <libos/heap.h>
#include <libos/user.h>
#include <linux/uio.h>

namespace carbyne::libos::net {

IoSeq::IoSeq(const IoSeg* segs, size_t count) : m_segs(segs), m_count(count), m_total(0) {
    for (size_t i = 0; i < count; i++)
        m_total += segs[i].size;
}

Result<void> IoSeq::copy_out(size_t at, const void* src, size_t n) const {
    const uint8_t* from = static_cast<const uint8_t*>(src);
    for (size_t i = 0; i < m_count && n; i++) {
        if (at >= m_segs[i].size) {
            at -= m_segs[i].size;
            continue;
        }
        size_t chunk = m_segs[i].size - at < n ? m_segs[i].size - at : n;
        TRY(fs::io_copy_out(m_segs[i].buf + at, from, chunk));
        from += chunk;
        n -= chunk;
        at = 0;
    }
    return {};
}

Result<void> IoSeq::copy_in(void* dst, size_t at, size_t n) const {
    uint8_t* to = static_cast<uint8_t*>(dst);
    for (size_t i = 0; i < m_count && n; i++) {
        if (at >= m_segs[i].size) {
            at -= m_segs[i].size;
            continue;
        }
        size_t chunk = m_segs[i].size - at < n ? m_segs[i].size - at : n;
        TRY(fs::io_copy_in(to, m_segs[i].buf + at, chunk));
        to += chunk;
        n -= chunk;
        at = 0;
    }
    return {};
}

namespace {

// Reads `count` iovecs into `out`: EFAULT or EINVAL for the first one that cannot be read
// or whose length is negative as an ssize_t.
Result<void> read_iovecs(uint64_t iov_addr, size_t count, IoSeg* out) {
    constexpr size_t kBatch = 32;
    struct iovec batch[kBatch];
    for (size_t done = 0; done < count;) {
        size_t take = count - done < kBatch ? count - done : kBatch;
        uint64_t at = iov_addr + done * sizeof(struct iovec);
        // When the batch cannot be read whole, one at a time: a bad length before the
        // fault is EINVAL.
        bool whole = copy_from_user(batch, at, take * sizeof(struct iovec)).ok();
        for (size_t i = 0; i < take; i++) {
            if (!whole)
                TRY(copy_from_user(&batch[i], at + i * sizeof(struct iovec), sizeof(struct iovec)));
            if (int64_t(batch[i].iov_len) < 0)
                return Errno(EINVAL);
            out[done + i] = IoSeg{fs::IoBuf::app(uint64_t(batch[i].iov_base)), batch[i].iov_len};
        }
        done += take;
    }
    return {};
}

}  // namespace

Result<size_t> import_iovec(uint64_t iov_addr, size_t count, IoSeg* out) {
    constexpr size_t kMaxRw = 0x7ffff000;  // MAX_RW_COUNT
    if (count > size_t(kIovMax))
        return Errno(EINVAL);
    TRY(read_iovecs(iov_addr, count, out));
    if (count == 1) {
        if (out[0].size > kMaxRw)
            out[0].size = kMaxRw;
        if (!user_access_ok(out[0].buf.addr, out[0].size))
            return Errno(EFAULT);
        return out[0].size;
    }
    for (size_t i = 0; i < count; i++)
        if (!user_access_ok(out[i].buf.addr, out[i].size))
            return Errno(EFAULT);
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (out[i].size > kMaxRw - total)
            out[i].size = kMaxRw - total;
        total += out[i].size;
    }
    return total;
}

Result<IoSeq> IoSegs::import(uint64_t iov_addr, size_t count) {
    if (count > size_t(kIovMax))
        return Errno(EINVAL);
    IoSeg* segs = m_local;
    if (count > kLocal) {
        m_heap = static_cast<IoSeg*>(kmalloc(count * sizeof(IoSeg)));
        if (!m_heap)
            return Errno(ENOMEM);
        segs = m_heap;
    }
    TRY(import_iovec(iov_addr, count, segs));
    return IoSeq(segs, count);
}

IoSegs::~IoSegs() { kfree(m_heap); }

}  // namespace carbyne::libos::net
