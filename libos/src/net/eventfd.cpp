// eventfd (see eventfd.h). The counter lives under the file's lock; readers wait for it to
// be nonzero, writers for room below 2^64 - 1, on the file's one wait queue, which poll,
// select and epoll use too. When fork shares it (share_host), the counter moves into a host
// eventfd (PAL counter_create) that every process's copy reads and writes from then on,
// and readiness is the host's (poll_handle).
//
// Lock order: the counter's lock (File::m_lock) and the queue's lock are never held
// together: the queue is woken after the counter's lock is dropped.
#include "eventfd.h"

#include <libos/heap.h>
#include <libos/pal.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../fs/anon_inode.h"
#include "../proc/wait.h"
#include "poll.h"

namespace carbyne::libos::net {

namespace {

constexpr uint64_t kMax = ~uint64_t{0} - 1;  // the largest value the counter may hold

class EventFd final : public fs::File {
public:
    EventFd(uint64_t initval, uint32_t flags, bool semaphore)
        : File(flags, "anon_inode:[eventfd]"), m_ino(fs::anon_inode_number()), m_count(initval),
          m_semaphore(semaphore) {}
    EventFd(PalHandle* host, uint32_t flags, bool semaphore)
        : File(flags, "anon_inode:[eventfd]"), m_ino(fs::anon_inode_number()), m_count(0), m_semaphore(semaphore),
          m_host(host) {}
    ~EventFd() override {
        poll_release();
        g_pal->stream_close(host());
    }

    Result<size_t> read(fs::IoBuf buf, size_t size) override {
        if (size < sizeof(uint64_t))
            return Errno(EINVAL);
        uint64_t value = 0;
        bool moved = false;
        auto take = [&] {
            SpinGuard g(m_lock);
            if ((moved = m_host != nullptr))
                return true;
            if (!m_count)
                return false;
            value = m_semaphore ? 1 : m_count;
            m_count -= value;
            return true;
        };
        if (!take()) {
            if (flags() & O_NONBLOCK)
                return Errno(EAGAIN);
            TRY(wait_until(m_queue, POLLIN, kNoDeadline, take));
        }
        if (moved) {
            TRY(host_io(PAL_WAIT_READ, [&](PalHandle* h, size_t* done) {
                return g_pal->stream_read(h, PAL_NO_OFFSET, &value, sizeof(value), done);
            }));
            TRY(fs::io_copy_out(buf, &value, sizeof(value)));
            return sizeof(value);
        }
        m_queue.wake(POLLOUT);
        // As Linux: a value taken is lost when it cannot be copied out.
        TRY(fs::io_copy_out(buf, &value, sizeof(value)));
        return sizeof(value);
    }

    Result<size_t> write(fs::IoBuf buf, size_t size) override {
        if (size != sizeof(uint64_t))
            return Errno(EINVAL);
        uint64_t value;
        TRY(fs::io_copy_in(&value, buf, sizeof(value)));
        if (value == ~uint64_t{0})
            return Errno(EINVAL);
        bool moved = false;
        auto add = [&] {
            SpinGuard g(m_lock);
            if ((moved = m_host != nullptr))
                return true;
            if (kMax - m_count < value)
                return false;
            m_count += value;
            return true;
        };
        if (!add()) {
            if (flags() & O_NONBLOCK)
                return Errno(EAGAIN);
            TRY(wait_until(m_queue, POLLOUT, kNoDeadline, add));
        }
        if (moved) {
            TRY(host_io(PAL_WAIT_WRITE, [&](PalHandle* h, size_t* done) {
                return g_pal->stream_write(h, PAL_NO_OFFSET, &value, sizeof(value), done);
            }));
            return sizeof(value);
        }
        if (value)
            m_queue.wake(POLLIN);
        return sizeof(value);
    }

    uint32_t poll_events() override {
        if (PalHandle* h = host()) {
            uint32_t got = host_ready_now(h, PAL_WAIT_READ | PAL_WAIT_WRITE);
            return ((got & PAL_WAIT_READ) ? POLLIN : 0) | ((got & PAL_WAIT_WRITE) ? POLLOUT : 0);
        }
        SpinGuard g(m_lock);
        // Linux reports neither POLLRDNORM nor POLLWRNORM for an eventfd.
        return (m_count ? POLLIN : 0) | (m_count < kMax ? POLLOUT : 0);
    }
    WaitQueue* poll_queue() override { return host() ? nullptr : &m_queue; }
    PalHandle* poll_handle() override { return host(); }
    // fork: the counter moves into a host eventfd (once), which both processes then share.
    Result<PalHandle*> share_host() override {
        if (PalHandle* h = host())
            return h;
        // Made with the count of now: the lock is a spinlock, so the count is read, the
        // counter made, and the move done only if nobody changed the count meanwhile.
        for (;;) {
            uint64_t count;
            {
                SpinGuard g(m_lock);
                count = m_count;
            }
            PalHandle* h = nullptr;
            TRY(pal_result(g_pal->counter_create(count, m_semaphore, &h)));
            bool moved = false;
            {
                SpinGuard g(m_lock);
                if (!m_host && m_count == count) {
                    __atomic_store_n(&m_host, h, __ATOMIC_RELEASE);
                    m_count = 0;
                    moved = true;
                }
            }
            if (!moved) {
                g_pal->stream_close(h);
                if (PalHandle* now = host())
                    return now;
                continue;  // the count changed: again
            }
            // Blocked readers and writers go on on the host; pollers look again (epoll moves
            // its entries to the host poller on this last wake).
            m_queue.wake(POLLIN | POLLOUT);
            return h;
        }
    }
    bool semaphore() const { return m_semaphore; }
    Result<int64_t> seek(int64_t, int) override { return int64_t(0); }  // noop_llseek, as Linux
    fs::FileKind kind() const override { return fs::FileKind::EventFd; }

    Result<void> stat(fs::Stat* out) override {
        fs::anon_inode_stat(m_ino, out);
        return {};
    }

private:
    PalHandle* host() const { return __atomic_load_n(&m_host, __ATOMIC_ACQUIRE); }
    // A read or write of the host counter, waiting (unless O_NONBLOCK) while it would block.
    template <typename Io>
    Result<void> host_io(uint32_t want, Io io) {
        PalHandle* h = host();
        for (;;) {
            size_t done = 0;
            PalError e = io(h, &done);
            if (e == PAL_OK)
                return done == sizeof(uint64_t) ? Result<void>() : Errno(EIO);
            if (e != PAL_E_AGAIN)
                return pal_result(e).error();
            if (flags() & O_NONBLOCK)
                return Errno(EAGAIN);
            uint32_t ready = 0;
            TRY(thread_block_on(1, &h, &want, &ready, kNoDeadline));
        }
    }

    uint64_t m_ino;
    uint64_t m_count;  // under m_lock
    bool m_semaphore;
    PalHandle* m_host = nullptr;  // set once, under m_lock: the counter is the host's
    WaitQueue m_queue;  // blocked readers and writers, poll, select and epoll
};

}  // namespace

Result<fs::File*> eventfd_adopt(PalHandle* host, uint32_t flags, bool semaphore) {
    fs::File* f = make<EventFd>(host, O_RDWR | (flags & O_NONBLOCK), semaphore);
    if (!f)
        return Errno(ENOMEM);
    return f;
}

bool eventfd_semaphore(fs::File* f) { return static_cast<EventFd*>(f)->semaphore(); }

Result<fs::File*> eventfd_create(uint64_t initval, uint32_t flags, bool semaphore) {
    fs::File* f = make<EventFd>(initval, O_RDWR | (flags & O_NONBLOCK), semaphore);
    if (!f)
        return Errno(ENOMEM);
    return f;
}

}  // namespace carbyne::libos::net
