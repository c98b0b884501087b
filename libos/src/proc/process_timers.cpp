// The process's interval and POSIX timers (see process_timers.h).
#include "process_timers.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
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

SigInfo timer_info(int signo, int code) {
    SigInfo info;
    memset(&info, 0, sizeof(info));
    info.signo = signo;
    info.code = code;
    return info;
}

// Sends a timer's signal. The timer stays parked until that signal is taken, whoever sent
// the instance taken (timer_signal_taken); a signal that was not made pending (ignored,
// or its thread gone) leaves nothing to wait for: the timer runs on.
void send_timer_signal(Timer* t, Thread* target, int signo, const SigInfo& info) {
    bool queued = false;
    if (signo)
        (void)signal_send(target, signo, info, &queued);
    if (!queued)
        (void)timer_rearm(t);
}

void itimer_expire(Timer* t, uint64_t) {
    auto* it = reinterpret_cast<IntervalTimer*>(t);
    send_timer_signal(t, nullptr, it->signo, timer_info(it->signo, kSiKernel));
}

// ITIMER_REAL counts wall time; VIRTUAL and PROF count the process's CPU time.
// FIXME: VIRTUAL counts system time too (the PAL gives one CPU clock for the process).
constinit IntervalTimer g_itimers[3] = {
    {{CLOCK_MONOTONIC, itimer_expire, true, 0, 0, nullptr, false, false}, 14},           // SIGALRM
    {{CLOCK_PROCESS_CPUTIME_ID, itimer_expire, true, 0, 0, nullptr, false, false}, 26},  // SIGVTALRM
    {{CLOCK_PROCESS_CPUTIME_ID, itimer_expire, true, 0, 0, nullptr, false, false}, 27},  // SIGPROF
};

struct PosixTimer {
    Timer timer;  // first: the expire callback gets it
    int id;
    TimerNotify how;
    int overrun;    // of the last expiry
    uint32_t refs;  // the table's, and one per call that found it
};

Spinlock g_posix_lock{LockRank::PosixTimers};
PosixTimer* g_posix[kMaxPosixTimers];
uint64_t g_posix_signals;  // the signals POSIX timers were made with (a bit never cleared)

int overrun_of(uint64_t extra) { return extra > 0x7fffffff ? 0x7fffffff : int(extra); }  // DELAYTIMER_MAX

void posix_expire(Timer* t, uint64_t count) {
    auto* p = reinterpret_cast<PosixTimer*>(t);
    __atomic_store_n(&p->overrun, overrun_of(count - 1), __ATOMIC_RELAXED);
    if (p->how.notify == kSigevNone)
        return;  // parked for good: timer_gettime works out its next expiry
    SigInfo info = timer_info(p->how.signo, kSiTimer);
    info.timer.id = p->id;
    info.timer.overrun = p->overrun;
    info.timer.value = p->how.value_is_id ? uint64_t(p->id) : p->how.value;
    Thread* target = nullptr;
    if (p->how.notify == kSigevThreadId) {
        target = thread_by_tid(p->how.tid);
        if (!target) {
            (void)timer_rearm(t);  // the thread is gone
            return;
        }
    }
    send_timer_signal(t, target, p->how.signo, info);
}

// A counted reference to a POSIX timer found by id. A timer_delete racing a call that
// found the timer takes it out of the table at once, but the timer is disarmed and freed
// only when that call is done with it, as Linux keeps it.
class TimerRef {
public:
    TimerRef() : m_p(nullptr) {}
    explicit TimerRef(PosixTimer* p) : m_p(p) {}
    TimerRef(TimerRef&& o) : m_p(o.m_p) { o.m_p = nullptr; }
    TimerRef(const TimerRef&) = delete;
    TimerRef& operator=(const TimerRef&) = delete;
    ~TimerRef() {
        if (m_p && __atomic_sub_fetch(&m_p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
            timer_cancel(&m_p->timer);
            kfree(m_p);
        }
    }
    PosixTimer* operator->() const { return m_p; }

private:
    PosixTimer* m_p;
};

Result<TimerRef> find(int id) {
    if (id < 0 || id >= kMaxPosixTimers)
        return Errno(EINVAL);
    SpinGuard g(g_posix_lock);
    PosixTimer* p = g_posix[id];
    if (!p)
        return Errno(EINVAL);
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
    return TimerRef(p);
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
    p->timer.parks = true;
    p->how = how;
    p->refs = 1;
    if (how.notify != kSigevNone && how.signo > 0)
        __atomic_or_fetch(&g_posix_signals, uint64_t(1) << (how.signo - 1), __ATOMIC_RELAXED);
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
    TimerRef p = TRY(find(id));
    uint64_t deadline = value;
    if (value && !absolute)
        deadline = time_add(TRY(clock_now(p->timer.clock)), value);
    return timer_set(&p->timer, deadline, interval, old_value, old_interval);
}

Result<void> posix_timer_gettime(int id, uint64_t* value, uint64_t* interval) {
    TimerRef p = TRY(find(id));
    timer_get(&p->timer, value, interval);
    return {};
}

Result<int> posix_timer_getoverrun(int id) {
    TimerRef p = TRY(find(id));
    return __atomic_load_n(&p->overrun, __ATOMIC_RELAXED);
}

Result<void> posix_timer_delete(int id) {
    if (id < 0 || id >= kMaxPosixTimers)
        return Errno(EINVAL);
    PosixTimer* p;
    {
        SpinGuard g(g_posix_lock);
        p = g_posix[id];
        if (!p)
            return Errno(EINVAL);
        g_posix[id] = nullptr;
    }
    // Disarmed now, freed with the last reference (the table's, unless a call holds one).
    timer_cancel(&p->timer);
    TimerRef table_ref(p);
    return {};
}

void posix_timers_delete_all() {
    for (int id = 0; id < kMaxPosixTimers; id++)
        (void)posix_timer_delete(id);
}

void timer_signal_taken(int sig, SigInfo* info) {
    // An interval timer runs again once its signal is taken, whoever else sent it (Linux's
    // dequeue_signal does so for SIGALRM); a parked one only waits for that.
    for (IntervalTimer& it : g_itimers)
        if (it.signo == sig)
            (void)timer_rearm(&it.timer);
    if (!(__atomic_load_n(&g_posix_signals, __ATOMIC_RELAXED) & (uint64_t(1) << (sig - 1))))
        return;
    // The timer this instance came from: expirations while the signal was pending are its
    // overruns, as Linux counts them.
    if (info->code == kSiTimer) {
        auto p = find(info->timer.id);
        if (p.ok() && p.value()->how.signo == sig) {
            uint64_t missed = timer_rearm(&p.value()->timer);
            if (missed) {
                int overrun = overrun_of(uint64_t(info->timer.overrun) + missed);
                __atomic_store_n(&p.value()->overrun, overrun, __ATOMIC_RELAXED);
                info->timer.overrun = overrun;
            }
        }
    }
    // Any other timer parked on this standard signal: its instance was merged into the one
    // taken (a real-time signal queues each timer's instance apart).
    for (int id = 0; sig < kSigRtFirst && id < kMaxPosixTimers; id++) {
        PosixTimer* p;
        {
            SpinGuard g(g_posix_lock);
            p = g_posix[id];
            if (!p || p->how.signo != sig || p->how.notify == kSigevNone)
                continue;
            __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
        }
        TimerRef ref(p);
        (void)timer_rearm(&ref->timer);  // nothing when it is not parked
    }
}

}  // namespace carbyne::libos
