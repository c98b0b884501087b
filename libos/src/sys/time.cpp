// clock_gettime, clock_getres, gettimeofday, time, nanosleep, clock_nanosleep
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/time.h>

#include "../proc/process.h"
#include "../proc/timer.h"
#include "../proc/wait.h"
#include "syscall.h"
#include "timespec.h"

namespace carbyne::libos {

namespace {

Result<PalClock> pal_clock(int clock) {
    switch (TRY(resolve_clock(clock))) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case 11 /* CLOCK_TAI */: return PAL_CLOCK_REALTIME;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_MONOTONIC_RAW: return PAL_CLOCK_MONOTONIC;
    case CLOCK_BOOTTIME: return PAL_CLOCK_BOOTTIME;
    case CLOCK_PROCESS_CPUTIME_ID: return PAL_CLOCK_PROCESS_CPU;
    case CLOCK_THREAD_CPUTIME_ID: return PAL_CLOCK_THREAD_CPU;
    default: return Errno(EINVAL);
    }
}

// Sleeps until `deadline` (monotonic); a signal ends it early with EINTR and, when
// rem_user is given, the time that was left.
Result<long> sleep_until(uint64_t deadline, uint64_t rem_user) {
    for (;;) {
        auto r = thread_block(deadline);
        if (r.ok())
            continue;  // a wake-up meant for something else
        if (r.error().code == ETIMEDOUT)
            return 0;
        if (r.error().code != ERESTARTSYS)
            return r.error();
        if (rem_user)
            TRY(UserPtr<struct __kernel_timespec>(rem_user).write(to_timespec(time_until(deadline, monotonic_now()))));
        return Errno(EINTR);
    }
}

}  // namespace

Result<int> resolve_clock(int clock) {
    if (clock >= 0)
        return clock;
    // Linux's encoding: ~pid << 3 | per-thread (4) | PROF (0), VIRT (1) or SCHED (2); type 3
    // is a clock device's fd (CLOCKFD), none of which exist here.
    // FIXME: the three types read the same total CPU time; another thread's clock is refused.
    int pid = ~(clock >> 3);
    bool per_thread = (clock & 4) != 0;
    if ((clock & 3) == 3)
        return Errno(EINVAL);
    if (per_thread) {
        Thread* self = current_thread();
        return pid == 0 || (self && pid == self->tid) ? Result<int>(CLOCK_THREAD_CPUTIME_ID) : Errno(EINVAL);
    }
    return pid == 0 || pid == g_process.pid ? Result<int>(CLOCK_PROCESS_CPUTIME_ID) : Errno(EINVAL);
}

// Also the LibOS vDSO's implementation.
Result<uint64_t> clock_now(int clock) {
    PalClock c = TRY(pal_clock(clock));
    uint64_t ns = 0;
    TRY(pal_result(g_pal->time_get(c, &ns)));
    return ns;
}

Result<long> sys_clock_gettime(const SyscallArgs& a) {
    uint64_t ns = TRY(clock_now(a.i32(0)));
    TRY(UserPtr<struct __kernel_timespec>(a.u64(1)).write(to_timespec(ns)));
    return 0;
}

Result<long> sys_clock_getres(const SyscallArgs& a) {
    PalClock c = TRY(pal_clock(a.i32(0)));
    uint64_t ns = 0;
    TRY(pal_result(g_pal->time_resolution(c, &ns)));
    if (a.u64(1))
        TRY(UserPtr<struct __kernel_timespec>(a.u64(1)).write(to_timespec(ns)));
    return 0;
}

Result<long> sys_gettimeofday(const SyscallArgs& a) {
    if (a.u64(0)) {
        uint64_t ns = TRY(clock_now(CLOCK_REALTIME));
        struct __kernel_old_timeval tv = {long(ns / kNsPerSec), long((ns % kNsPerSec) / 1000)};
        TRY(UserPtr<struct __kernel_old_timeval>(a.u64(0)).write(tv));
    }
    if (a.u64(1)) {
        struct timezone tz = {0, 0};
        TRY(UserPtr<struct timezone>(a.u64(1)).write(tz));
    }
    return 0;
}

Result<long> sys_time(const SyscallArgs& a) {
    uint64_t ns = TRY(clock_now(CLOCK_REALTIME));
    long secs = long(ns / kNsPerSec);
    if (a.u64(0))
        TRY(UserPtr<long>(a.u64(0)).write(secs));
    return secs;
}

Result<long> sys_nanosleep(const SyscallArgs& a) {
    uint64_t ns = TRY(read_timespec(a.u64(0)));
    return sleep_until(deadline_after(ns), a.u64(1));
}

Result<long> sys_clock_nanosleep(const SyscallArgs& a) {
    if (a.i32(0) < 0 && (a.i32(0) & 3) == 3)
        return Errno(EOPNOTSUPP);  // a clock device (CLOCKFD) cannot be slept on
    int clock = TRY(resolve_clock(a.i32(0)));
    if (clock == CLOCK_THREAD_CPUTIME_ID)
        return Errno(EINVAL);
    TRY(pal_clock(clock));
    uint64_t ns = TRY(read_timespec(a.u64(2)));
    if (a.u32(1) & TIMER_ABSTIME) {
        // FIXME: a REALTIME deadline becomes a monotonic one now; a later clock change
        // does not move it.
        uint64_t now = TRY(clock_now(clock));
        return ns > now ? sleep_until(deadline_after(ns - now), 0) : Result<long>(0);
    }
    return sleep_until(deadline_after(ns), a.u64(3));
}

}  // namespace carbyne::libos
