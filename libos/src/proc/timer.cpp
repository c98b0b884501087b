// Timers and the LibOS's timer service thread (see timer.h).
#include "timer.h"

#include <libos/log.h>
#include <libos/pal.h>
#include <libos/lock.h>
#include <libos/time_ns.h>
#include <linux/time.h>

#include "../signal/signal.h"

namespace carbyne::libos {

namespace {

constexpr uint64_t kMsec = 1000000;

struct Service {
    Spinlock lock{LockRank::Timer};
    Timer* armed;      // unordered: few timers are armed at once
    PalHandle* event;  // set to make the thread look again; made with the thread
    Mutex start_lock{LockRank::TimerStart};  // the PAL calls that start the thread run under it
    bool started;      // set (release) once the thread and its event exist
    uint32_t clocks;   // bit n: a timer on clock n was armed (never cleared)
};

constinit Service g_service = {};

bool cpu_clock(int clock) { return clock == CLOCK_PROCESS_CPUTIME_ID; }

void link_locked(Timer* t) {
    __atomic_or_fetch(&g_service.clocks, 1u << (t->clock & 31), __ATOMIC_RELAXED);
    t->next = g_service.armed;
    g_service.armed = t;
    t->linked = true;
}

void unlink_locked(Timer* t) {
    for (Timer** link = &g_service.armed; *link; link = &(*link)->next) {
        if (*link == t) {
            *link = t->next;
            t->next = nullptr;
            t->linked = false;
            return;
        }
    }
}

// How long the service may sleep before `t` is due (a CPU-time timer is polled: CPU time
// runs at most cpu_count times faster than wall time).
uint64_t wait_for(const Timer* t, uint64_t now) {
    if (t->deadline <= now)
        return 0;
    uint64_t left = t->deadline - now;
    if (cpu_clock(t->clock)) {
        uint64_t cpus = g_boot->cpu_count ? g_boot->cpu_count : 1;
        left /= cpus;
        if (left < kMsec)
            left = kMsec;
    }
    return left;
}

// The armed timers' clocks, read before the service lock is taken: reading a CPU-time clock
// is a host call, which a spinlock must not cover.
class ClockReadings {
public:
    explicit ClockReadings(uint32_t clocks) {
        for (int c = 0; c < 32; c++) {
            if (!(clocks & (1u << c)))
                continue;
            auto now = clock_now(c);
            if (now.ok()) {
                m_value[c] = now.value();
                m_have |= 1u << c;
            }
        }
    }
    // EAGAIN for a clock not read (armed since): the service looks again after the arming.
    Result<uint64_t> now(int clock) const {
        if (!(m_have & (1u << (clock & 31))))
            return Errno(EAGAIN);
        return m_value[clock & 31];
    }

private:
    uint64_t m_value[32] = {};
    uint32_t m_have = 0;
};

// Fires one due timer, if any; returns false when none is due. `sleep` gets the time to
// the earliest deadline otherwise.
bool fire_one(uint64_t* sleep) {
    Timer* due = nullptr;
    uint64_t count = 0;
    *sleep = PAL_WAIT_FOREVER;
    ClockReadings clocks(__atomic_load_n(&g_service.clocks, __ATOMIC_RELAXED));
    {
        SpinGuard g(g_service.lock);
        for (Timer* t = g_service.armed; t; t = t->next) {
            auto now = clocks.now(t->clock);
            if (!now.ok())
                continue;
            uint64_t w = wait_for(t, now.value());
            if (w == 0) {
                due = t;
                // A huge interval leaves the next deadline at KTIME_MAX, never reached.
                count = time_forward(t->deadline, t->interval, now.value(), &t->deadline);
                if (!t->deadline || t->parks)
                    unlink_locked(t);  // disarmed, or parked until timer_rearm
                t->firing = true;
                break;
            }
            if (w < *sleep)
                *sleep = w;
        }
    }
    if (!due)
        return false;
    due->expire(due, count);
    __atomic_store_n(&due->firing, false, __ATOMIC_RELEASE);
    return true;
}

[[noreturn]] void service_main(void*) {
    for (;;) {
        signal_fold_host();
        uint64_t sleep;
        while (fire_one(&sleep)) {
        }
        g_pal->event_wait(g_service.event, sleep);
    }
}

Result<void> start_service() {
    if (__atomic_load_n(&g_service.started, __ATOMIC_ACQUIRE))
        return {};
    LockGuard g(g_service.start_lock);
    if (g_service.started)
        return {};
    if (!g_service.event)
        TRY(pal_result(g_pal->event_create(0, 1, &g_service.event)));
    TRY(pal_result(g_pal->thread_create(service_main, nullptr)));
    __atomic_store_n(&g_service.started, true, __ATOMIC_RELEASE);
    return {};
}

// `now`: the timer's clock, read before the lock.
uint64_t remaining_locked(const Timer* t, const Result<uint64_t>& now) {
    if (!t->deadline)
        return 0;
    if (!now.ok())
        return 1;
    uint64_t deadline = t->deadline;
    if (deadline <= now.value() && t->interval && !t->linked)
        time_forward(deadline, t->interval, now.value(), &deadline);  // parked: its next expiry
    if (deadline <= now.value())
        return 1;  // due now: still armed, as Linux reports it
    return deadline - now.value();
}

}  // namespace

Result<void> timer_set(Timer* t, uint64_t deadline, uint64_t interval, uint64_t* old_remaining,
                       uint64_t* old_interval) {
    if (deadline)
        TRY(start_service());
    Result<uint64_t> now = old_remaining ? clock_now(t->clock) : Result<uint64_t>(0);
    {
        SpinGuard g(g_service.lock);
        if (old_remaining)
            *old_remaining = remaining_locked(t, now);
        if (old_interval)
            *old_interval = t->interval;
        t->deadline = deadline;
        t->interval = deadline ? interval : 0;
        if (deadline && !t->linked)
            link_locked(t);  // also a parked one: set again, it runs
        else if (!deadline && t->linked)
            unlink_locked(t);
    }
    if (deadline)
        g_pal->event_set(g_service.event);
    return {};
}

uint64_t timer_rearm(Timer* t) {
    uint64_t missed = 0;
    auto now = clock_now(t->clock);
    {
        SpinGuard g(g_service.lock);
        if (!t->deadline || t->linked)
            return 0;
        if (now.ok() && t->deadline <= now.value())
            missed = time_forward(t->deadline, t->interval, now.value(), &t->deadline);
        if (!t->deadline)
            return missed;  // a one-shot expiry was due meanwhile: it is the last
        link_locked(t);
    }
    g_pal->event_set(g_service.event);
    return missed;
}

void timer_get(Timer* t, uint64_t* remaining, uint64_t* interval) {
    auto now = clock_now(t->clock);
    SpinGuard g(g_service.lock);
    *remaining = remaining_locked(t, now);
    *interval = t->interval;
}

void timer_cancel(Timer* t) {
    (void)timer_set(t, 0, 0, nullptr, nullptr);
    while (__atomic_load_n(&t->firing, __ATOMIC_ACQUIRE))
        g_pal->thread_yield();
}

void timer_service_kick() {
    if (g_service.event)
        g_pal->event_set(g_service.event);
}

}  // namespace carbyne::libos
