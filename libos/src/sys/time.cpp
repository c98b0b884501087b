// clock_gettime, clock_getres, gettimeofday, time, nanosleep, clock_nanosleep
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/time.h>

#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

constexpr uint64_t kNsPerSec = 1000000000ull;

Result<PalClock> pal_clock(int clock) {
    switch (clock) {
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

struct __kernel_timespec to_timespec(uint64_t ns) {
    return {long(ns / kNsPerSec), long(ns % kNsPerSec)};
}

Result<uint64_t> read_timespec(uint64_t user) {
    struct __kernel_timespec ts = TRY(UserPtr<struct __kernel_timespec>(user).read());
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= long(kNsPerSec))
        return Errno(EINVAL);
    if (uint64_t(ts.tv_sec) > (~uint64_t{0} - kNsPerSec) / kNsPerSec)
        return ~uint64_t{0} - 1;
    return uint64_t(ts.tv_sec) * kNsPerSec + uint64_t(ts.tv_nsec);
}

Result<long> sleep_ns(uint64_t ns, uint64_t rem_user) {
    uint64_t remaining = 0;
    PalError e = g_pal->sleep(ns, &remaining);
    if (e == PAL_E_INTR && rem_user)
        TRY(UserPtr<struct __kernel_timespec>(rem_user).write(to_timespec(remaining)));
    TRY(pal_result(e));
    return 0;
}

}  // namespace

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
    return sleep_ns(ns, a.u64(1));
}

Result<long> sys_clock_nanosleep(const SyscallArgs& a) {
    int clock = a.i32(0);
    if (clock == CLOCK_THREAD_CPUTIME_ID)
        return Errno(EINVAL);
    TRY(pal_clock(clock));
    uint64_t ns = TRY(read_timespec(a.u64(2)));
    if (a.u32(1) & TIMER_ABSTIME) {
        uint64_t now = TRY(clock_now(clock));
        return ns > now ? sleep_ns(ns - now, 0) : Result<long>(0);
    }
    return sleep_ns(ns, a.u64(3));
}

}  // namespace carbyne::libos
