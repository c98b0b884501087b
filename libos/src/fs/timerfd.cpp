// timerfd (see timerfd.h): a Timer whose expiries add to a count that read(2) takes.
#include "timerfd.h"

#include <libos/heap.h>
#include <libos/time_ns.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../proc/timer.h"
#include "../proc/wait.h"
#include "anon_inode.h"

namespace carbyne::libos::fs {

namespace {

class TimerFile final : public File {
public:
    TimerFile(int clock, uint32_t flags) : File(flags, "anon_inode:[timerfd]"), m_ino(anon_inode_number()) {
        m_link.timer.clock = clock;
        m_link.timer.expire = expire;
        m_link.timer.parks = true;  // re-armed by the read that takes the expirations
        m_link.owner = this;
    }
    ~TimerFile() override { timer_cancel(&m_link.timer); }

    FileKind kind() const override { return FileKind::TimerFd; }

    Result<size_t> read(IoBuf buf, size_t size) override {
        if (size < 8)
            return Errno(EINVAL);
        uint64_t ticks;
        for (;;) {
            ticks = __atomic_exchange_n(&m_ticks, 0, __ATOMIC_ACQ_REL);
            if (ticks) {
                ticks += timer_rearm(&m_link.timer);  // and those since the timer parked
                break;
            }
            if (flags() & O_NONBLOCK)
                return Errno(EAGAIN);
            TRY(wait_until(m_queue, POLLIN, kNoDeadline,
                           [this] { return __atomic_load_n(&m_ticks, __ATOMIC_ACQUIRE) != 0; }));
        }
        auto r = io_copy_out(buf, &ticks, sizeof(ticks));
        if (!r.ok()) {
            __atomic_add_fetch(&m_ticks, ticks, __ATOMIC_ACQ_REL);  // not lost
            return r.error();
        }
        return size_t(8);
    }

    uint32_t poll_events() override {
        return __atomic_load_n(&m_ticks, __ATOMIC_ACQUIRE) ? POLLIN | POLLRDNORM : 0;
    }
    WaitQueue* poll_queue() override { return &m_queue; }

    Result<uint64_t> readable_bytes() override { return poll_events() ? uint64_t(8) : uint64_t(0); }

    Result<void> stat(Stat* out) override {
        anon_inode_stat(m_ino, out);
        return {};
    }

    Result<void> settime(bool absolute, uint64_t value, uint64_t interval, uint64_t* old_value,
                         uint64_t* old_interval) {
        uint64_t deadline = value;
        if (value && !absolute)
            deadline = time_add(TRY(clock_now(m_link.timer.clock)), value);
        __atomic_store_n(&m_ticks, 0, __ATOMIC_RELEASE);
        return timer_set(&m_link.timer, deadline, interval, old_value, old_interval);
    }

    void gettime(uint64_t* value, uint64_t* interval) { timer_get(&m_link.timer, value, interval); }

private:
    struct Link {
        Timer timer;  // first: expire() gets its address
        TimerFile* owner;
    };

    static void expire(Timer* t, uint64_t count) {
        TimerFile* f = reinterpret_cast<Link*>(t)->owner;
        __atomic_add_fetch(&f->m_ticks, count, __ATOMIC_ACQ_REL);
        f->m_queue.wake(POLLIN | POLLRDNORM);
    }

    Link m_link = {};
    uint64_t m_ino;
    uint64_t m_ticks = 0;
    WaitQueue m_queue;
};

TimerFile* as_timer(File* f) { return f->kind() == FileKind::TimerFd ? static_cast<TimerFile*>(f) : nullptr; }

}  // namespace

Result<File*> timerfd_create(int clock, uint32_t flags) {
    File* f = make<TimerFile>(clock, O_RDWR | (flags & O_NONBLOCK));
    if (!f)
        return Errno(ENOMEM);
    return f;
}

Result<void> timerfd_settime(File* f, bool absolute, uint64_t value, uint64_t interval, uint64_t* old_value,
                             uint64_t* old_interval) {
    TimerFile* t = as_timer(f);
    if (!t)
        return Errno(EINVAL);
    return t->settime(absolute, value, interval, old_value, old_interval);
}

Result<void> timerfd_gettime(File* f, uint64_t* value, uint64_t* interval) {
    TimerFile* t = as_timer(f);
    if (!t)
        return Errno(EINVAL);
    t->gettime(value, interval);
    return {};
}

}  // namespace carbyne::libos::fs
