// io_setup, io_destroy, io_submit, io_getevents, io_pgetevents, io_cancel: Linux's native
// asynchronous I/O, done synchronously. io_submit performs each request (pread, pwrite,
// their vector forms, fsync, fdatasync) before it returns and queues its completion;
// io_getevents hands completions out, waiting for them as Linux does. Nothing is left in
// flight, so io_cancel finds nothing to cancel (EINVAL, Linux's answer for a request that
// completed). IOCB_CMD_POLL is not supported (EINVAL).
//
// A context's id is the address of a page mapped for it in the application, as Linux's
// ring is; its header is left zero, so libaio, which reads completions from the ring
// itself when the header carries the ring's magic number, asks io_getevents instead.
#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/aio_abi.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/poll.h>
#include <linux/uio.h>

#include "../mm/mm.h"
#include "../proc/process.h"
#include "../proc/wait.h"
#include "sigmask.h"
#include "syscall.h"
#include "timespec.h"

namespace carbyne::libos {

namespace {

constexpr uint32_t kMaxEvents = 65536;  // fs.aio-max-nr
constexpr int kMaxContexts = 64;
constexpr uint64_t kRingSize = 4096;

struct Context {
    uint64_t id = 0;  // the ring page's address
    uint32_t max = 0;
    // Under g_lock: completed events, a ring of `max`.
    struct io_event* events = nullptr;
    uint32_t head = 0, count = 0;
    WaitQueue waiters;
};

constinit Spinlock g_lock{LockRank::Aio};
Context* g_contexts[kMaxContexts];

Context* find_locked(uint64_t id) {
    for (Context* c : g_contexts)
        if (c && c->id == id)
            return c;
    return nullptr;
}

// The context `id` while the call runs: contexts go only in io_destroy, which the
// application must not race with its own io_submit (Linux returns EINVAL then too).
Context* find(uint64_t id) {
    SpinGuard g(g_lock);
    return find_locked(id);
}

// One request, done now: its result as io_event.res (bytes, or a negative errno).
int64_t perform(FileRef& f, const struct iocb& cb) {
    auto as_res = [](Result<size_t> r) -> int64_t { return r.ok() ? int64_t(r.value()) : -int64_t(r.error().code); };
    switch (cb.aio_lio_opcode) {
    case IOCB_CMD_PREAD: return as_res(f->pread(fs::IoBuf::app(cb.aio_buf), size_t(cb.aio_nbytes), uint64_t(cb.aio_offset)));
    case IOCB_CMD_PWRITE: return as_res(f->pwrite(fs::IoBuf::app(cb.aio_buf), size_t(cb.aio_nbytes), uint64_t(cb.aio_offset)));
    case IOCB_CMD_FSYNC: {
        auto r = f->sync();
        return r.ok() ? 0 : -int64_t(r.error().code);
    }
    case IOCB_CMD_FDSYNC: {
        auto r = f->datasync();
        return r.ok() ? 0 : -int64_t(r.error().code);
    }
    case IOCB_CMD_PREADV:
    case IOCB_CMD_PWRITEV: {
        bool write = cb.aio_lio_opcode == IOCB_CMD_PWRITEV;
        if (cb.aio_nbytes > UIO_MAXIOV)
            return -EINVAL;
        int64_t done = 0;
        for (uint64_t i = 0; i < cb.aio_nbytes; i++) {
            auto v = UserPtr<struct iovec>(cb.aio_buf + i * sizeof(struct iovec)).read();
            if (!v.ok())
                return done ? done : -EFAULT;
            uint64_t base = uint64_t(uintptr_t(v.value().iov_base));
            size_t len = v.value().iov_len;
            uint64_t at = uint64_t(cb.aio_offset) + uint64_t(done);
            auto r = write ? f->pwrite(fs::IoBuf::app(base), len, at) : f->pread(fs::IoBuf::app(base), len, at);
            if (!r.ok())
                return done ? done : -int64_t(r.error().code);
            done += int64_t(r.value());
            if (r.value() < len)
                break;
        }
        return done;
    }
    default: return -EINVAL;
    }
}

// io_submit_one's checks, in its order; then the request is done and its completion
// queued. EAGAIN when the completion ring is full.
Result<void> submit_one(Context* c, uint64_t user_iocb) {
    struct iocb cb = TRY(UserPtr<struct iocb>(user_iocb).read());
    if (cb.aio_reserved2)
        return Errno(EINVAL);
    if (int64_t(cb.aio_nbytes) < 0)
        return Errno(EINVAL);
    FileRef f = TRY(g_process.fds.get(int(cb.aio_fildes)));
    FileRef resfd;
    if (cb.aio_flags & IOCB_FLAG_RESFD) {
        resfd = TRY(g_process.fds.get(int(cb.aio_resfd)));
        if (resfd->kind() != fs::FileKind::EventFd)
            return Errno(EINVAL);
    }
    switch (cb.aio_lio_opcode) {
    case IOCB_CMD_PREAD:
    case IOCB_CMD_PREADV:
        if (!f->readable())
            return Errno(EBADF);
        break;
    case IOCB_CMD_PWRITE:
    case IOCB_CMD_PWRITEV:
        if (!f->writable())
            return Errno(EBADF);
        break;
    case IOCB_CMD_FSYNC:
    case IOCB_CMD_FDSYNC: break;
    default: return Errno(EINVAL);  // IOCB_CMD_POLL and IOCB_CMD_NOOP included (see above)
    }
    bool rw = cb.aio_lio_opcode != IOCB_CMD_FSYNC && cb.aio_lio_opcode != IOCB_CMD_FDSYNC;
    if (rw && int64_t(cb.aio_offset) < 0)
        return Errno(EINVAL);  // rw_verify_area
    {
        SpinGuard g(g_lock);
        if (c->count == c->max)
            return Errno(EAGAIN);
    }
    TRY(UserPtr<uint32_t>(user_iocb + offsetof(struct iocb, aio_key)).write(0));  // KIOCB_KEY
    struct io_event ev = {cb.aio_data, user_iocb, perform(f, cb), 0};
    {
        SpinGuard g(g_lock);
        c->events[(c->head + c->count++) % c->max] = ev;
    }
    c->waiters.wake(POLLIN);
    if (resfd.get()) {
        uint64_t one = 1;
        (void)resfd->write(fs::IoBuf::kernel(&one), sizeof(one));
    }
    return {};
}

// read_events: at least min_nr completions (or the deadline, or a signal), at most nr.
Result<long> get_events(uint64_t id, long min_nr, long nr, uint64_t user_events, uint64_t deadline) {
    Context* c = find(id);
    if (!c || min_nr > nr || min_nr < 0 || nr < 0)
        return Errno(EINVAL);
    long got = 0;
    auto take = [&] {
        SpinGuard g(g_lock);
        return c->count >= uint32_t(min_nr) || c->count >= uint32_t(nr);
    };
    Result<void> waited;
    if (!take())
        waited = wait_until(c->waiters, POLLIN, deadline, take);
    while (got < nr) {
        struct io_event ev;
        {
            SpinGuard g(g_lock);
            if (!c->count)
                break;
            ev = c->events[c->head];
            c->head = (c->head + 1) % c->max;
            c->count--;
        }
        auto copied = copy_to_user(user_events + uint64_t(got) * sizeof(ev), &ev, sizeof(ev));
        if (!copied.ok())
            return got ? Result<long>(got) : copied.error();
        got++;
    }
    if (!got && !waited.ok() && waited.error().code != ETIMEDOUT)
        return Errno(EINTR);
    return got;
}

Result<uint64_t> deadline_of(uint64_t user_timeout) {
    if (!user_timeout)
        return kNoDeadline;
    return deadline_after(TRY(read_timespec(user_timeout)));
}

}  // namespace

Result<long> sys_io_setup(const SyscallArgs& a) {
    uint32_t nr = a.u32(0);
    uint64_t user_ctx = a.u64(1);
    uint64_t existing = TRY(UserPtr<uint64_t>(user_ctx).read());
    if (existing || !nr || nr > 0x10000000u / sizeof(struct io_event))
        return Errno(EINVAL);
    if (nr > kMaxEvents)
        return Errno(EAGAIN);
    // ioctx_alloc's sizes: at least four per CPU, doubled, and the ring's pages filled; one
    // slot stays free.
    uint64_t cpus = g_boot->cpu_count ? g_boot->cpu_count : 1;
    uint64_t want = (nr > cpus * 4 ? nr : cpus * 4) * 2;
    uint64_t ring_bytes = (32 + want * sizeof(struct io_event) + kRingSize - 1) & ~(kRingSize - 1);
    uint32_t slots = uint32_t((ring_bytes - 32) / sizeof(struct io_event)) - 1;
    auto* c = make<Context>();
    auto* events = static_cast<struct io_event*>(kmalloc(sizeof(struct io_event) * slots));
    if (!c || !events) {
        destroy(c);
        kfree(events);
        return Errno(ENOMEM);
    }
    c->max = slots;
    c->events = events;
    auto ring = mm::map(0, kRingSize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, nullptr, 0);
    if (!ring.ok()) {
        kfree(events);
        destroy(c);
        return ring.error();
    }
    c->id = ring.value();
    int slot = -1;
    {
        SpinGuard g(g_lock);
        for (int i = 0; i < kMaxContexts && slot < 0; i++)
            if (!g_contexts[i])
                slot = i;
        if (slot >= 0)
            g_contexts[slot] = c;
    }
    auto stored = slot < 0 ? Result<void>(Errno(EAGAIN)) : UserPtr<uint64_t>(user_ctx).write(c->id);
    if (!stored.ok()) {
        if (slot >= 0) {
            SpinGuard g(g_lock);
            g_contexts[slot] = nullptr;
        }
        (void)mm::unmap(c->id, kRingSize);
        kfree(events);
        destroy(c);
        return stored.error();
    }
    return 0;
}

Result<long> sys_io_destroy(const SyscallArgs& a) {
    Context* c = nullptr;
    {
        SpinGuard g(g_lock);
        for (Context*& slot : g_contexts) {
            if (slot && slot->id == a.u64(0)) {
                c = slot;
                slot = nullptr;
            }
        }
    }
    if (!c)
        return Errno(EINVAL);
    c->waiters.wake(POLLIN | POLLHUP);
    (void)mm::unmap(c->id, kRingSize);
    kfree(c->events);
    destroy(c);
    return 0;
}

Result<long> sys_io_submit(const SyscallArgs& a) {
    long nr = a.i64(1);
    if (nr < 0)
        return Errno(EINVAL);
    Context* c = find(a.u64(0));
    if (!c)
        return Errno(EINVAL);
    if (uint64_t(nr) > c->max)
        nr = long(c->max);
    long done = 0;
    for (; done < nr; done++) {
        auto ptr = UserPtr<uint64_t>(a.u64(2) + uint64_t(done) * 8).read();
        Result<void> r = ptr.ok() ? submit_one(c, ptr.value()) : Result<void>(ptr.error());
        if (!r.ok())
            return done ? Result<long>(done) : r.error();
    }
    return done;
}

Result<long> sys_io_getevents(const SyscallArgs& a) {
    uint64_t deadline = TRY(deadline_of(a.u64(4)));
    return get_events(a.u64(0), a.i64(1), a.i64(2), a.u64(3), deadline);
}

// io_pgetevents: as io_getevents, with a signal mask for the wait (struct __aio_sigset).
Result<long> sys_io_pgetevents(const SyscallArgs& a) {
    uint64_t deadline = TRY(deadline_of(a.u64(4)));
    CallSigmask mask;
    if (a.u64(5)) {
        struct {
            uint64_t sigmask;
            uint64_t sigsetsize;
        } usig = TRY(UserPtr<decltype(usig)>(a.u64(5)).read());
        TRY(mask.set(usig.sigmask, usig.sigsetsize));
    }
    return mask.finish(get_events(a.u64(0), a.i64(1), a.i64(2), a.u64(3), deadline));
}

Result<long> sys_io_cancel(const SyscallArgs& a) {
    uint32_t key = TRY(UserPtr<uint32_t>(a.u64(1) + offsetof(struct iocb, aio_key)).read());
    if (key != 0)  // KIOCB_KEY
        return Errno(EINVAL);
    if (!find(a.u64(0)))
        return Errno(EINVAL);
    return Errno(EINVAL);  // every request has completed: nothing is in flight to cancel
}

}  // namespace carbyne::libos
