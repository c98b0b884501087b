// clock_gettime, clock_getres, gettimeofday, time, nanosleep, clock_nanosleep; clock_settime,
// settimeofday, adjtimex, clock_adjtime (the host's clock: read, never set)
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/time.h>
#include <linux/timex.h>

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

// -- Setting the clock -----------------------------------------------------------------------
//
// The instance's clocks are the host's, which the instance does not own: setting or
// adjusting one needs CAP_SYS_TIME, outside the instance's bounding set (creds.h). Each
// call answers as Linux answers a process without it, its argument checks first; the
// read-only forms of adjtimex work.

namespace {

static_assert(!((kCapBounding >> kCapSysTime) & 1));

// The clocks Linux knows (a k_clock); CLOCK_SGI_CYCLE (10) is gone.
bool clock_known(int clock) { return clock >= 0 && clock <= 11 && clock != 10; }

// time_t seconds settimeofday accepts (TIME_SETTOD_SEC_MAX: KTIME_SEC_MAX less 30 years).
constexpr int64_t kSettodSecMax = 9223372036LL - 30LL * 365 * 86400;

// A time to set the clock to: EINVAL unless timespec64_valid_settod.
Result<void> check_settod(int64_t sec, int64_t nsec) {
    if (sec < 0 || nsec < 0 || nsec >= int64_t(kNsPerSec) || sec > kSettodSecMax)
        return Errno(EINVAL);
    return {};
}

// adjtimex on CLOCK_REALTIME: the read-only requests (modes 0, ADJ_OFFSET_SS_READ) report
// a clock that nothing disciplines, as Linux reports one before NTP synchronizes it
// (TIME_ERROR, STA_UNSYNC, the start-up error bounds); anything that would change it is
// EPERM after Linux's own checks.
Result<long> adjust_realtime(uint64_t user) {
    struct __kernel_timex tx;
    TRY(copy_from_user(&tx, user, sizeof(tx)));
    // The kernel's own bits: ADJ_ADJTIME, then ADJ_OFFSET_SINGLESHOT and ADJ_OFFSET_READONLY
    // within it (ADJ_OFFSET_SINGLESHOT and ADJ_OFFSET_SS_READ to the application).
    constexpr unsigned kAdjtime = 0x8000, kSingleshot = 0x0001, kReadonly = 0x2000;
    if (tx.modes & kAdjtime) {
        if (!(tx.modes & kSingleshot))
            return Errno(EINVAL);
        if (!(tx.modes & kReadonly))
            return Errno(EPERM);
    } else if (tx.modes) {
        return Errno(EPERM);
    }
    uint64_t ns = TRY(clock_now(CLOCK_REALTIME));
    constexpr long long kPhaseLimit = 16000000;  // NTP_PHASE_LIMIT (us)
    tx.offset = 0;                               // nothing left of an adjtime(3)
    tx.freq = 0;
    tx.maxerror = kPhaseLimit;
    tx.esterror = kPhaseLimit;
    tx.status = STA_UNSYNC;
    tx.constant = 2;
    tx.precision = 1;
    tx.tolerance = 500LL << 16;  // MAXFREQ_SCALED / PPM_SCALE: 500 ppm
    tx.time.tv_sec = (long long)(ns / kNsPerSec);
    tx.time.tv_usec = (long long)((ns % kNsPerSec) / 1000);
    tx.tick = 10000;  // USEC_PER_SEC / USER_HZ
    tx.ppsfreq = tx.jitter = tx.stabil = tx.jitcnt = tx.calcnt = tx.errcnt = tx.stbcnt = 0;
    tx.shift = 0;
    tx.tai = 0;
    TRY(copy_to_user(user, &tx, sizeof(tx)));
    return TIME_ERROR;
}

}  // namespace

Result<long> sys_clock_settime(const SyscallArgs& a) {
    if (TRY(resolve_clock(a.i32(0))) != CLOCK_REALTIME)
        return Errno(EINVAL);  // no such clock, or one that cannot be set (CPU clocks too)
    auto ts = TRY(UserPtr<struct __kernel_timespec>(a.u64(1)).read());
    TRY(check_settod(ts.tv_sec, ts.tv_nsec));
    return Errno(EPERM);
}

Result<long> sys_settimeofday(const SyscallArgs& a) {
    if (a.u64(0)) {
        auto tv = TRY(UserPtr<struct __kernel_old_timeval>(a.u64(0)).read());
        if (tv.tv_usec > 1000000 || tv.tv_usec < 0)
            return Errno(EINVAL);
        TRY(check_settod(tv.tv_sec, int64_t(tv.tv_usec) * 1000));
    }
    if (a.u64(1))
        TRY(UserPtr<struct timezone>(a.u64(1)).read());
    return Errno(EPERM);  // even with neither: Linux asks for CAP_SYS_TIME first
}

Result<long> sys_adjtimex(const SyscallArgs& a) { return adjust_realtime(a.u64(0)); }

Result<long> sys_clock_adjtime(const SyscallArgs& a) {
    int clock = TRY(resolve_clock(a.i32(0)));
    if (!clock_known(clock))
        return Errno(EINVAL);
    if (clock != CLOCK_REALTIME)
        return Errno(EOPNOTSUPP);  // only CLOCK_REALTIME can be adjusted
    return adjust_realtime(a.u64(1));
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
