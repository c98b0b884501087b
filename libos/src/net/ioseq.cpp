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

Result<size_t> import_iovec(uint64_t iov_addr, int count, IoSeg* out) {
    constexpr size_t kMaxRw = 0x7ffff000;  // MAX_RW_COUNT
    if (count < 0 || count > kIovMax)
        return Errno(EINVAL);
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        struct iovec iov;
        TRY(copy_from_user(&iov, iov_addr + uint64_t(i) * sizeof(iov), sizeof(iov)));
        if (int64_t(iov.iov_len) < 0)
            return Errno(EINVAL);
        size_t len = iov.iov_len;
        if (len > kMaxRw - total)
            len = kMaxRw - total;
        out[i] = IoSeg{fs::IoBuf::app(uint64_t(iov.iov_base)), len};
        total += len;
    }
    return total;
}

Result<IoSeq> IoSegs::import(uint64_t iov_addr, int count) {
    if (count < 0 || count > kIovMax)
        return Errno(EINVAL);
    IoSeg* segs = m_local;
    if (size_t(count) > kLocal) {
        m_heap = static_cast<IoSeg*>(kmalloc(size_t(count) * sizeof(IoSeg)));
        if (!m_heap)
            return Errno(ENOMEM);
        segs = m_heap;
    }
    TRY(import_iovec(iov_addr, count, segs));
    return IoSeq(segs, size_t(count));
}

IoSegs::~IoSegs() { kfree(m_heap); }

}  // namespace carbyne::libos::net
