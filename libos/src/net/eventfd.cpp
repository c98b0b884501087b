// eventfd (see eventfd.h). The counter lives under the file's lock; readers wait for it to
// be nonzero, writers for room below 2^64 - 1, on the file's one wait queue, which poll,
// select and epoll use too.
//
// Lock order: the counter's lock (File::m_lock) and the queue's lock are never held
// together: the queue is woken after the counter's lock is dropped.
#include "eventfd.h"

#include <libos/heap.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../fs/anon_inode.h"
#include "../proc/wait.h"

namespace carbyne::libos::net {

namespace {

constexpr uint64_t kMax = ~uint64_t{0} - 1;  // the largest value the counter may hold

class EventFd final : public fs::File {
public:
    EventFd(uint64_t initval, uint32_t flags, bool semaphore)
        : File(flags, "anon_inode:[eventfd]"), m_ino(fs::anon_inode_number()), m_count(initval),
          m_semaphore(semaphore) {}
    ~EventFd() override { poll_release(); }

    Result<size_t> read(fs::IoBuf buf, size_t size) override {
        if (size < sizeof(uint64_t))
            return Errno(EINVAL);
        uint64_t value = 0;
        auto take = [&] {
            SpinGuard g(m_lock);
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
        auto add = [&] {
            SpinGuard g(m_lock);
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
        if (value)
            m_queue.wake(POLLIN);
        return sizeof(value);
    }

    uint32_t poll_events() override {
        SpinGuard g(m_lock);
        // Linux reports neither POLLRDNORM nor POLLWRNORM for an eventfd.
        return (m_count ? POLLIN : 0) | (m_count < kMax ? POLLOUT : 0);
    }
    WaitQueue* poll_queue() override { return &m_queue; }
    Result<int64_t> seek(int64_t, int) override { return int64_t(0); }  // noop_llseek, as Linux
    fs::FileKind kind() const override { return fs::FileKind::EventFd; }

    Result<void> stat(fs::Stat* out) override {
        fs::anon_inode_stat(m_ino, out);
        return {};
    }

private:
    uint64_t m_ino;
    uint64_t m_count;  // under m_lock
    bool m_semaphore;
    WaitQueue m_queue;  // blocked readers and writers, poll, select and epoll
};

}  // namespace

Result<fs::File*> eventfd_create(uint64_t initval, uint32_t flags, bool semaphore) {
    fs::File* f = make<EventFd>(initval, O_RDWR | (flags & O_NONBLOCK), semaphore);
    if (!f)
        return Errno(ENOMEM);
    return f;
}

}  // namespace carbyne::libos::net
