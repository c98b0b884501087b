// The process's interval and POSIX timers (see process_timers.h).
#include "process_timers.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/spinlock.h>
#include <libos/time_ns.h>
#include <linux/time.h>

#include "../signal/signal.h"
#include "process.h"
#include "thread.h"
#include "timer.h"

namespace carbyne::libos {

namespace {

constexpr int kSiKernel = 0x80, kSiTimer = -2;
constexpr int kSigevSignal = 0, kSigevNone = 1, kSigevThreadId = 4;
constexpr int kMaxPosixTimers = 1024;

struct IntervalTimer {
    Timer timer;
    int signo;
};

void itimer_expire(Timer* t, uint64_t) {
    auto* it = reinterpret_cast<IntervalTimer*>(t);
    SigInfo info;
    memset(&info, 0, sizeof(info));
    info.signo = it->signo;
    info.code = kSiKernel;
    (void)signal_send(nullptr, it->signo, info);
}

// ITIMER_REAL counts wall time; VIRTUAL and PROF count the process's CPU time.
// FIXME: VIRTUAL counts system time too (the PAL gives one CPU clock for the process).
constinit IntervalTimer g_itimers[3] = {
    {{CLOCK_MONOTONIC, itimer_expire, 0, 0, nullptr, false}, 14},           // SIGALRM
    {{CLOCK_PROCESS_CPUTIME_ID, itimer_expire, 0, 0, nullptr, false}, 26},  // SIGVTALRM
    {{CLOCK_PROCESS_CPUTIME_ID, itimer_expire, 0, 0, nullptr, false}, 27},  // SIGPROF
};

struct PosixTimer {
    Timer timer;  // first: the expire callback gets it
    int id;
    TimerNotify how;
    int overrun;  // of the last expiry
};

Spinlock g_posix_lock;
PosixTimer* g_posix[kMaxPosixTimers];

void posix_expire(Timer* t, uint64_t count) {
    auto* p = reinterpret_cast<PosixTimer*>(t);
    uint64_t extra = count - 1;
    p->overrun = extra > 0x7fffffff ? 0x7fffffff : int(extra);  // DELAYTIMER_MAX
    if (p->how.notify == kSigevNone)
        return;
    SigInfo info;
    memset(&info, 0, sizeof(info));
    info.signo = p->how.signo;
    info.code = kSiTimer;
    info.timer.id = p->id;
    info.timer.overrun = p->overrun;
    info.timer.value = p->how.value_is_id ? uint64_t(p->id) : p->how.value;
    Thread* target = nullptr;
    if (p->how.notify == kSigevThreadId) {
        target = thread_by_tid(p->how.tid);
        if (!target)
            return;  // the thread is gone
    }
    (void)signal_send(target, p->how.signo, info);
}

Result<PosixTimer*> find(int id) {
    if (id < 0 || id >= kMaxPosixTimers)
        return Errno(EINVAL);
    SpinGuard g(g_posix_lock);
    if (!g_posix[id])
        return Errno(EINVAL);
    return g_posix[id];
}

bool timer_clock_ok(int clock) {
    return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME ||
           clock == CLOCK_PROCESS_CPUTIME_ID;
}

}  // namespace

Result<void> itimer_set(int which, uint64_t value, uint64_t interval, uint64_t* old_value, uint64_t* old_interval) {
    if (which < 0 || which > 2)
        return Errno(EINVAL);
    Timer* t = &g_itimers[which].timer;
    uint64_t deadline = value ? time_add(TRY(clock_now(t->clock)), value) : 0;
    return timer_set(t, deadline, interval, old_value, old_interval);
}

Result<void> itimer_get(int which, uint64_t* value, uint64_t* interval) {
    if (which < 0 || which > 2)
        return Errno(EINVAL);
    timer_get(&g_itimers[which].timer, value, interval);
    return {};
}

Result<int> posix_timer_create(int clock, const TimerNotify& how) {
    if (clock == CLOCK_THREAD_CPUTIME_ID)
        return Errno(EOPNOTSUPP);  // FIXME: per-thread CPU clocks are not sampled
    if (!timer_clock_ok(clock))
        return Errno(EINVAL);
    auto* p = static_cast<PosixTimer*>(kzalloc(sizeof(PosixTimer)));
    if (!p)
        return Errno(ENOMEM);
    p->timer.clock = clock;
    p->timer.expire = posix_expire;
    p->how = how;
    SpinGuard g(g_posix_lock);
    for (int id = 0; id < kMaxPosixTimers; id++) {
        if (!g_posix[id]) {
            p->id = id;
            g_posix[id] = p;
            return id;
        }
    }
    kfree(p);
    return Errno(EAGAIN);
}

Result<void> posix_timer_settime(int id, bool absolute, uint64_t value, uint64_t interval, uint64_t* old_value,
                                 uint64_t* old_interval) {
    PosixTimer* p = TRY(find(id));
    uint64_t deadline = value;
    if (value && !absolute)
        deadline = time_add(TRY(clock_now(p->timer.clock)), value);
    return timer_set(&p->timer, deadline, interval, old_value, old_interval);
}

Result<void> posix_timer_gettime(int id, uint64_t* value, uint64_t* interval) {
    PosixTimer* p = TRY(find(id));
    timer_get(&p->timer, value, interval);
    return {};
}

Result<int> posix_timer_getoverrun(int id) {
    PosixTimer* p = TRY(find(id));
    return __atomic_load_n(&p->overrun, __ATOMIC_RELAXED);
}

Result<void> posix_timer_delete(int id) {
    PosixTimer* p;
    {
        if (id < 0 || id >= kMaxPosixTimers)
            return Errno(EINVAL);
        SpinGuard g(g_posix_lock);
        p = g_posix[id];
        if (!p)
            return Errno(EINVAL);
        g_posix[id] = nullptr;
    }
    timer_cancel(&p->timer);
    kfree(p);
    return {};
}

}  // namespace carbyne::libos
