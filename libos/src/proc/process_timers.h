// The process's timers: the three interval timers (setitimer/alarm) and its POSIX timers
// (timer_create). Part of the state a checkpoint (fork) carries: fork clears both, as
// Linux's does, but execve keeps them.
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {

struct Thread;
struct SigInfo;

// ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF: time to the next expiry and the interval, ns.
Result<void> itimer_set(int which, uint64_t value, uint64_t interval, uint64_t* old_value, uint64_t* old_interval);
Result<void> itimer_get(int which, uint64_t* value, uint64_t* interval);

// How a POSIX timer notifies (struct sigevent, already checked).
struct TimerNotify {
    int notify;      // SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID
    int signo;
    uint64_t value;  // sigev_value
    int tid;         // SIGEV_THREAD_ID
    bool value_is_id;  // no sigevent given: the value is the timer's id
};

Result<int> posix_timer_create(int clock, const TimerNotify& how);
// `value` is absolute on the timer's clock when `absolute`, else relative; 0 disarms.
Result<void> posix_timer_settime(int id, bool absolute, uint64_t value, uint64_t interval, uint64_t* old_value,
                                 uint64_t* old_interval);
Result<void> posix_timer_gettime(int id, uint64_t* value, uint64_t* interval);
Result<int> posix_timer_getoverrun(int id);
Result<void> posix_timer_delete(int id);
// execve: every POSIX timer goes (interval timers and alarm stay).
void posix_timers_delete_all();

// A timer's signal `sig` was taken (delivered, or accepted by sigwait): its timer, parked
// since it sent it, runs again, and `info` gets the expirations missed meanwhile as overruns.
void timer_signal_taken(int sig, SigInfo* info);

}  // namespace carbyne::libos
