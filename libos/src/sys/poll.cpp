// poll, ppoll, select, pselect6
#include <libos/heap.h>
#include <libos/user.h>
#include <linux/poll.h>
#include <linux/resource.h>

#include "../net/poll.h"
#include "../proc/process.h"
#include "fs_common.h"
#include "sigmask.h"
#include "syscall.h"
#include "timespec.h"

namespace carbyne::libos {

namespace {

using net::PollEntry;

// The entries of one call, on the heap, with a reference to each file; released at scope end.
class Entries {
public:
    explicit Entries(size_t count) : m_count(count) {
        m_entries = static_cast<PollEntry*>(kzalloc((count ? count : 1) * sizeof(PollEntry)));
    }
    ~Entries() {
        if (!m_entries)
            return;
        for (size_t i = 0; i < m_count; i++)
            if (m_entries[i].file)
                m_entries[i].file->unref();
        kfree(m_entries);
    }
    Entries(const Entries&) = delete;
    Entries& operator=(const Entries&) = delete;

    PollEntry* get() { return m_entries; }
    PollEntry& operator[](size_t i) { return m_entries[i]; }

private:
    PollEntry* m_entries;
    size_t m_count;
};

// The deadline of a timeout in ns: none for kTimeMaxNs, what no timeout and every huge one
// become. Without a deadline nothing is written back: a huge timeout stays as it was, as
// near to what Linux writes back (the time left of it) as a KTIME_MAX deadline allows.
uint64_t deadline_of(uint64_t ns) { return ns >= kTimeMaxNs ? kNoDeadline : deadline_after(ns); }

// What is left of a timeout, for the calls that write it back (0 once passed).
uint64_t remaining(uint64_t deadline) {
    uint64_t now = monotonic_now();
    return deadline == kNoDeadline || now >= deadline ? 0 : deadline - now;
}

// Linux writes the time left back into ppoll's, pselect6's and select's timeout, except a
// zero one. If it cannot, the call is not restarted (it could not resume where it was).
Result<long> write_back(Result<long> r, uint64_t user_timeout, uint64_t timeout_ns, uint64_t deadline,
                        bool timeval) {
    if (!user_timeout || timeout_ns == 0 || deadline == kNoDeadline)
        return r;
    uint64_t left = remaining(deadline);
    Result<void> w = timeval ? UserPtr<struct __kernel_old_timeval>(user_timeout).write(to_timeval(left))
                             : UserPtr<struct __kernel_timespec>(user_timeout).write(to_timespec(left));
    if (!w.ok() && !r.ok() && r.error().code == ERESTARTNOHAND)
        return Errno(EINTR);
    return r;
}

// poll and ppoll after their own argument checks.
Result<long> do_poll(uint64_t user_fds, uint64_t nfds, uint64_t deadline) {
    if (nfds > process_rlimit(RLIMIT_NOFILE).cur)
        return Errno(EINVAL);
    size_t count = size_t(nfds);
    Entries entries(count);
    struct pollfd* fds = static_cast<struct pollfd*>(kmalloc((count ? count : 1) * sizeof(struct pollfd)));
    HeapGuard fds_guard(fds);
    if (!entries.get() || !fds)
        return Errno(ENOMEM);
    TRY(copy_from_user(fds, user_fds, count * sizeof(struct pollfd)));
    for (size_t i = 0; i < count; i++) {
        PollEntry& e = entries[i];
        if (fds[i].fd < 0)
            continue;
        auto f = g_process.fds.get(fds[i].fd);
        if (!f.ok()) {
            e.revents = POLLNVAL;
            continue;
        }
        e.file = f.value().get();
        e.file->ref();
        e.events = uint16_t(fds[i].events) | POLLERR | POLLHUP;
    }
    Result<size_t> ready = net::poll_files(entries.get(), count, deadline);
    if (!ready.ok() && ready.error().code != ERESTARTNOHAND)
        return ready.error();
    for (size_t i = 0; i < count; i++)
        fds[i].revents = int16_t(ready.ok() ? entries[i].revents : 0);
    TRY(copy_to_user(user_fds, fds, count * sizeof(struct pollfd)));
    if (!ready.ok())
        return ready.error();
    return long(ready.value());
}

// What select's three sets stand for, in POLL* bits (Linux's POLLIN_SET...).
constexpr uint32_t kInSet = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
constexpr uint32_t kOutSet = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
constexpr uint32_t kExSet = POLLPRI;

// One fd_set argument, as many 64-bit words as nfds needs: what the application gave
// (`in`) and what select returns (`out`), side by side in `words` (2 * count of them).
class FdSet {
public:
    Result<void> read(uint64_t user, uint64_t* words, size_t count) {
        m_user = user;
        m_count = count;
        m_in = words;
        m_out = words + count;
        if (user && count)
            TRY(copy_from_user(m_in, user, count * 8));
        return {};
    }
    bool has(int fd) const { return m_user && ((m_in[fd / 64] >> (fd % 64)) & 1); }
    void mark(int fd) { m_out[fd / 64] |= 1ull << (fd % 64); }
    Result<void> write() const {
        if (m_user && m_count)
            TRY(copy_to_user(m_user, m_out, m_count * 8));
        return {};
    }

private:
    uint64_t m_user = 0;
    size_t m_count = 0;
    uint64_t* m_in = nullptr;
    uint64_t* m_out = nullptr;
};

struct SelectSets {
    FdSet in, out, ex;
};

// select and pselect6 after their timeout and mask arguments.
Result<long> do_select(int nfds, uint64_t user_in, uint64_t user_out, uint64_t user_ex, uint64_t deadline) {
    if (nfds < 0)
        return Errno(EINVAL);
    int table = g_process.fds.capacity();
    if (nfds > table)
        nfds = table;  // Linux: bits past the descriptor table are not looked at
    size_t words = (size_t(nfds) + 63) / 64;
    // Three sets of `words` in and out.
    auto* bits_in_out = static_cast<uint64_t*>(kzalloc((words ? words : 1) * 6 * sizeof(uint64_t)));
    HeapGuard bits_guard(bits_in_out);
    if (!bits_in_out)
        return Errno(ENOMEM);
    SelectSets s;
    TRY(s.in.read(user_in, bits_in_out, words));
    TRY(s.out.read(user_out, bits_in_out + 2 * words, words));
    TRY(s.ex.read(user_ex, bits_in_out + 4 * words, words));

    int count = 0;
    for (int fd = 0; fd < nfds; fd++)
        if (s.in.has(fd) || s.out.has(fd) || s.ex.has(fd))
            count++;
    Entries entries{size_t(count)};
    int* fd_of = static_cast<int*>(kmalloc((count ? size_t(count) : 1) * sizeof(int)));
    HeapGuard fd_guard(fd_of);
    if (!entries.get() || !fd_of)
        return Errno(ENOMEM);
    int n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        uint32_t events = (s.in.has(fd) ? kInSet : 0) | (s.out.has(fd) ? kOutSet : 0) | (s.ex.has(fd) ? kExSet : 0);
        if (!events)
            continue;
        FileRef f = TRY(g_process.fds.get(fd));  // a closed descriptor in a set: EBADF
        PollEntry& e = entries[size_t(n)];
        e.file = f.get();
        e.file->ref();
        e.events = events;
        fd_of[n++] = fd;
    }
    TRY(net::poll_files(entries.get(), size_t(count), deadline));
    long bits = 0;
    for (int i = 0; i < count; i++) {
        uint32_t r = entries[size_t(i)].revents;
        int fd = fd_of[i];
        if ((r & kInSet) && s.in.has(fd)) {
            s.in.mark(fd);
            bits++;
        }
        if ((r & kOutSet) && s.out.has(fd)) {
            s.out.mark(fd);
            bits++;
        }
        if ((r & kExSet) && s.ex.has(fd)) {
            s.ex.mark(fd);
            bits++;
        }
    }
    TRY(s.in.write());
    TRY(s.out.write());
    TRY(s.ex.write());
    return bits;
}

}  // namespace

Result<long> sys_poll(const SyscallArgs& a) {
    int timeout_ms = a.i32(2);
    uint64_t deadline = timeout_ms < 0 ? kNoDeadline : deadline_after(uint64_t(timeout_ms) * 1000000);
    return do_poll(a.u64(0), a.u32(1), deadline);
}

Result<long> sys_ppoll(const SyscallArgs& a) {
    uint64_t timeout_ns = kTimeMaxNs;
    if (a.u64(2))
        timeout_ns = TRY(read_timespec(a.u64(2)));
    uint64_t deadline = deadline_of(timeout_ns);
    CallSigmask mask;
    TRY(mask.set(a.u64(3), a.u64(4)));
    Result<long> r = do_poll(a.u64(0), a.u32(1), deadline);
    return mask.finish(write_back(r, a.u64(2), timeout_ns, deadline, false));
}

Result<long> sys_select(const SyscallArgs& a) {
    uint64_t timeout_ns = kTimeMaxNs;
    if (a.u64(4)) {
        // Linux carries whole seconds out of tv_usec rather than refusing them; seconds
        // that pass LONG_MAX so turn negative there (EINVAL).
        auto tv = TRY(UserPtr<struct __kernel_old_timeval>(a.u64(4)).read());
        struct __kernel_old_timeval norm = {0, tv.tv_usec % 1000000};
        if (__builtin_add_overflow(tv.tv_sec, tv.tv_usec / 1000000, &norm.tv_sec))
            return Errno(EINVAL);
        timeout_ns = TRY(timeval_ns(norm));
    }
    uint64_t deadline = deadline_of(timeout_ns);
    Result<long> r = do_select(a.i32(0), a.u64(1), a.u64(2), a.u64(3), deadline);
    return write_back(r, a.u64(4), timeout_ns, deadline, true);
}

Result<long> sys_pselect6(const SyscallArgs& a) {
    uint64_t timeout_ns = kTimeMaxNs;
    if (a.u64(4))
        timeout_ns = TRY(read_timespec(a.u64(4)));
    uint64_t deadline = deadline_of(timeout_ns);
    // The sixth argument points at {const sigset_t* mask; size_t size}.
    struct {
        uint64_t mask;
        uint64_t size;
    } sig = {0, 0};
    if (a.u64(5))
        sig = TRY(UserPtr<decltype(sig)>(a.u64(5)).read());
    CallSigmask mask;
    TRY(mask.set(sig.mask, sig.size));
    Result<long> r = do_select(a.i32(0), a.u64(1), a.u64(2), a.u64(3), deadline);
    return mask.finish(write_back(r, a.u64(4), timeout_ns, deadline, false));
}

}  // namespace carbyne::libos
