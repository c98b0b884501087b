// Timers: a deadline on a clock, an optional period, and what expiry does. One LibOS
// service thread, started with the first armed timer, sleeps until the earliest deadline
// and fires what is due. alarm/setitimer, POSIX timers and timerfds are built on these.
//
// Lock order: the timer lock is a leaf; expire callbacks run without it.
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {

// The current time on a Linux clock (CLOCK_*), in ns; EINVAL for an unknown clock.
Result<uint64_t> clock_now(int clock);

struct Timer {
    // Set by the owner before the first timer_set.
    int clock;  // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME or CLOCK_PROCESS_CPUTIME_ID
    // Runs on the service thread with `count` >= 1 expirations since the last call.
    void (*expire)(Timer* timer, uint64_t count);
    // After each expiry the timer waits, still armed, until its owner calls timer_rearm
    // (the expiry was consumed: a timerfd read, a timer signal taken), as Linux re-arms
    // them; expirations meanwhile are counted then. A timer nobody consumes (SIGEV_NONE)
    // fires once and costs nothing after that, whatever its interval.
    bool parks;

    // Guarded by the timer lock.
    uint64_t deadline;  // absolute, on `clock`, at most kTimeMaxNs (time_ns.h); 0: disarmed
    uint64_t interval;  // 0: one-shot
    Timer* next;        // in the armed list
    bool linked;        // in the armed list; armed but not linked: parked
    bool firing;        // expire() is running
};

// Arms the timer at an absolute `deadline` on its clock (0 disarms), repeating every
// `interval` ns, both at most kTimeMaxNs (the callers saturate: time_ns.h). The previous
// setting comes back in old_remaining/old_interval (when given).
Result<void> timer_set(Timer* t, uint64_t deadline, uint64_t interval, uint64_t* old_remaining,
                       uint64_t* old_interval);
// A parked timer (Timer::parks) runs again: returns the expirations that passed while it
// waited (0 when none did, or when it was not parked: disarmed or set again meanwhile).
uint64_t timer_rearm(Timer* t);
// Time left until the next expiry (0: disarmed) and the interval.
void timer_get(Timer* t, uint64_t* remaining, uint64_t* interval);
// Disarms and waits out an expire() in progress: after it the Timer may be freed.
void timer_cancel(Timer* t);

// Wakes the service thread to fold host signals noted while it ran (signal_note_host).
void timer_service_kick();

}  // namespace carbyne::libos
