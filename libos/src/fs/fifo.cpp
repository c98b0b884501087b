// The host FIFOs of chroot mounts that have ends open in this process (see fifo.h).
#include "fifo.h"

#include <libos/heap.h>
#include <libos/pal.h>

#include "../net/pipe.h"

namespace carbyne::libos::fs {

namespace {

// One host FIFO with ends open or opening here, found by the host file's (dev, ino). Its
// handle (PAL_OPEN_PATH: it names the FIFO without opening it) answers fstat and the
// attribute changes of the ends, and keeps the host inode, so its (dev, ino), from being
// reused while the entry lives.
class HostFifo final : public FifoNode {
public:
    HostFifo(PalHandle* handle, uint64_t dev, uint64_t ino) : m_handle(handle), m_dev(dev), m_ino(ino) {}
    ~HostFifo() { g_pal->stream_close(m_handle); }

    Result<void> stat(Stat* out) override {
        PalStreamAttr attr;
        TRY(pal_result(g_pal->stream_attributes(m_handle, &attr)));
        stat_from_pal(attr, out);
        return {};
    }
    Result<void> chmod(uint32_t mode) override { return pal_result(g_pal->stream_chmod(m_handle, mode)); }
    Result<void> chown(uint32_t uid, uint32_t gid) override {
        return pal_result(g_pal->stream_chown(m_handle, uid, gid));
    }
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override {
        return pal_result(g_pal->stream_utimens(m_handle, atime_ns, mtime_ns));
    }
    void release() override;

    bool is(uint64_t dev, uint64_t ino) const { return m_dev == dev && m_ino == ino; }

    // Guarded by the table's lock.
    HostFifo* m_next = nullptr;
    int m_refs = 0;  // ends open or opening

private:
    PalHandle* const m_handle;
    const uint64_t m_dev, m_ino;
};

struct HostFifoTable {
    Spinlock lock{LockRank::Fifo};
    HostFifo* head = nullptr;  // guarded by lock
};

constinit HostFifoTable g_host_fifos;

void HostFifo::release() {
    bool last;
    {
        SpinGuard g(g_host_fifos.lock);
        last = --m_refs == 0;
        if (last) {
            HostFifo** p = &g_host_fifos.head;
            while (*p != this)
                p = &(*p)->m_next;
            *p = m_next;
        }
    }
    if (last)
        destroy(this);  // closes the handle: a PAL call, outside the lock
}

}  // namespace

Result<File*> host_fifo_open(PalHandle* handle, const PalStreamAttr& attr, uint32_t flags, const char* path) {
    HostFifo* fresh = make<HostFifo>(handle, attr.dev, attr.ino);
    if (!fresh) {
        g_pal->stream_close(handle);
        return Errno(ENOMEM);
    }
    HostFifo* node;
    {
        SpinGuard g(g_host_fifos.lock);
        node = g_host_fifos.head;
        while (node && !node->is(attr.dev, attr.ino))
            node = node->m_next;
        if (!node) {
            node = fresh;
            node->m_next = g_host_fifos.head;
            g_host_fifos.head = node;
            fresh = nullptr;
        }
        node->m_refs++;  // the end's, released by it (or by fifo_open on failure)
    }
    destroy(fresh);  // another end has the entry already: this handle is not needed
    return net::fifo_open(node, flags, path);
}

}  // namespace carbyne::libos::fs
