// alarm, setitimer, getitimer, timer_create, timer_settime, timer_gettime,
// timer_getoverrun, timer_delete, timerfd_create, timerfd_settime, timerfd_gettime, times,
// getrusage
#include <carbyne/string.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/time.h>

#include "../fs/timerfd.h"
#include "../proc/process.h"
#include "../proc/process_timers.h"
#include "../proc/thread.h"
#include "../proc/timer.h"
#include "syscall.h"
#include "timespec.h"

namespace carbyne::libos {

namespace {

struct ItimerVal {
    struct __kernel_old_timeval interval, value;
};

struct ItimerSpec {
    struct __kernel_timespec interval, value;
};

struct SigEvent {
    uint64_t value;
    int32_t signo;
    int32_t notify;
    int32_t tid;
    uint8_t pad[64 - 20];
};

ItimerSpec to_itimerspec(uint64_t value, uint64_t interval) { return {to_timespec(interval), to_timespec(value)}; }

}  // namespace

Result<long> sys_setitimer(const SyscallArgs& a) {
    uint64_t value = 0, interval = 0;
    if (a.u64(1)) {
        ItimerVal want = TRY(UserPtr<ItimerVal>(a.u64(1)).read());
        value = TRY(timeval_ns(want.value));
        interval = TRY(timeval_ns(want.interval));
    }
    uint64_t old_value, old_interval;
    TRY(itimer_set(a.i32(0), value, interval, &old_value, &old_interval));
    if (a.u64(2))
        TRY(UserPtr<ItimerVal>(a.u64(2)).write(ItimerVal{to_timeval(old_interval), to_timeval(old_value)}));
    return 0;
}

Result<long> sys_getitimer(const SyscallArgs& a) {
    uint64_t value, interval;
    TRY(itimer_get(a.i32(0), &value, &interval));
    TRY(UserPtr<ItimerVal>(a.u64(1)).write(ItimerVal{to_timeval(interval), to_timeval(value)}));
    return 0;
}

Result<long> sys_alarm(const SyscallArgs& a) {
    uint64_t old_value;
    TRY(itimer_set(0, uint64_t(a.u32(0)) * kNsPerSec, 0, &old_value, nullptr));
    // Whole seconds left, rounded to the nearest, and at least 1 when one was pending.
    uint64_t secs = old_value / kNsPerSec;
    uint64_t rest = old_value % kNsPerSec;
    if (rest >= kNsPerSec / 2 || (!secs && rest))
        secs++;
    return long(secs);
}

Result<long> sys_timer_create(const SyscallArgs& a) {
    constexpr int kSigevSignal = 0, kSigevNone = 1, kSigevThreadId = 4;
    TimerNotify how = {kSigevSignal, 14 /* SIGALRM */, 0, 0, true};
    if (a.u64(1)) {
        SigEvent ev = TRY(UserPtr<SigEvent>(a.u64(1)).read());
        how.notify = ev.notify;
        how.signo = ev.signo;
        how.value = ev.value;
        how.value_is_id = false;
        if (ev.notify != kSigevNone && ev.notify != kSigevSignal && ev.notify != kSigevThreadId)
            return Errno(EINVAL);
        if (ev.notify != kSigevNone && (ev.signo < 1 || ev.signo > kNumSignals))
            return Errno(EINVAL);
        if (ev.notify == kSigevThreadId) {
            if (!thread_by_tid(ev.tid))
                return Errno(EINVAL);
            how.tid = ev.tid;
        }
    }
    if (a.i32(0) < 0 && (a.i32(0) & 3) == 3)
        return Errno(EOPNOTSUPP);  // a clock device (CLOCKFD) has no timers
    int id = TRY(posix_timer_create(TRY(resolve_clock(a.i32(0))), how));
    auto r = UserPtr<int32_t>(a.u64(2)).write(id);
    if (!r.ok()) {
        (void)posix_timer_delete(id);
        return r.error();
    }
    return 0;
}

Result<long> sys_timer_settime(const SyscallArgs& a) {
    constexpr uint32_t kTimerAbstime = 1;
    if (a.u32(1) & ~kTimerAbstime)
        return Errno(EINVAL);
    ItimerSpec want = TRY(UserPtr<ItimerSpec>(a.u64(2)).read());
    uint64_t value = TRY(timespec_ns(want.value));
    uint64_t interval = TRY(timespec_ns(want.interval));
    uint64_t old_value, old_interval;
    TRY(posix_timer_settime(a.i32(0), a.u32(1) & kTimerAbstime, value, interval, &old_value, &old_interval));
    if (a.u64(3))
        TRY(UserPtr<ItimerSpec>(a.u64(3)).write(to_itimerspec(old_value, old_interval)));
    return 0;
}

Result<long> sys_timer_gettime(const SyscallArgs& a) {
    uint64_t value, interval;
    TRY(posix_timer_gettime(a.i32(0), &value, &interval));
    TRY(UserPtr<ItimerSpec>(a.u64(1)).write(to_itimerspec(value, interval)));
    return 0;
}

Result<long> sys_timer_getoverrun(const SyscallArgs& a) { return TRY(posix_timer_getoverrun(a.i32(0))); }

Result<long> sys_timer_delete(const SyscallArgs& a) {
    TRY(posix_timer_delete(a.i32(0)));
    return 0;
}

Result<long> sys_timerfd_create(const SyscallArgs& a) {
    constexpr uint32_t kNonblock = 04000, kCloexec = 02000000;  // TFD_NONBLOCK, TFD_CLOEXEC
    int clock = a.i32(0);
    uint32_t flags = a.u32(1);
    if (flags & ~(kNonblock | kCloexec))
        return Errno(EINVAL);
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC && clock != CLOCK_BOOTTIME)
        return Errno(EINVAL);  // the *_ALARM clocks need CAP_WAKE_ALARM
    fs::File* f = TRY(fs::timerfd_create(clock, flags & kNonblock));
    return TRY(g_process.fds.install(f, 0, flags & kCloexec));
}

Result<long> sys_timerfd_settime(const SyscallArgs& a) {
    constexpr uint32_t kAbstime = 1, kCancelOnSet = 2;
    uint32_t flags = a.u32(1);
    if (flags & ~(kAbstime | kCancelOnSet))
        return Errno(EINVAL);
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    ItimerSpec want = TRY(UserPtr<ItimerSpec>(a.u64(2)).read());
    uint64_t value = TRY(timespec_ns(want.value));
    uint64_t interval = TRY(timespec_ns(want.interval));
    uint64_t old_value, old_interval;
    TRY(fs::timerfd_settime(f.get(), flags & kAbstime, value, interval, &old_value, &old_interval));
    if (a.u64(3))
        TRY(UserPtr<ItimerSpec>(a.u64(3)).write(to_itimerspec(old_value, old_interval)));
    return 0;
}

Result<long> sys_timerfd_gettime(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    uint64_t value, interval;
    TRY(fs::timerfd_gettime(f.get(), &value, &interval));
    TRY(UserPtr<ItimerSpec>(a.u64(1)).write(to_itimerspec(value, interval)));
    return 0;
}

Result<long> sys_times(const SyscallArgs& a) {
    constexpr uint64_t kNsPerTick = kNsPerSec / 100;  // USER_HZ
    PalUsage u = {};
    TRY(pal_result(g_pal->resource_usage(0, &u)));
    if (a.u64(0)) {
        struct {
            long utime, stime, cutime, cstime;
        } tms = {long(u.user_ns / kNsPerTick), long(u.system_ns / kNsPerTick), 0, 0};
        TRY(copy_to_user(a.u64(0), &tms, sizeof(tms)));
    }
    uint64_t now = TRY(clock_now(CLOCK_BOOTTIME));
    return long(now / kNsPerTick);
}

Result<long> sys_getrusage(const SyscallArgs& a) {
    constexpr int kSelf = 0, kChildren = -1, kThread = 1;
    int who = a.i32(0);
    if (who != kSelf && who != kChildren && who != kThread)
        return Errno(EINVAL);
    struct {
        struct __kernel_old_timeval utime, stime;
        long maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv, nsignals, nvcsw,
            nivcsw;
    } ru;
    memset(&ru, 0, sizeof(ru));
    if (who != kChildren) {  // no child processes yet: all zero
        PalUsage u = {};
        TRY(pal_result(g_pal->resource_usage(who == kThread, &u)));
        ru.utime = to_timeval(u.user_ns);
        ru.stime = to_timeval(u.system_ns);
        ru.maxrss = long(u.max_rss_kib);
        ru.minflt = long(u.minor_faults);
        ru.majflt = long(u.major_faults);
        ru.nvcsw = long(u.voluntary_switches);
        ru.nivcsw = long(u.involuntary_switches);
    }
    TRY(copy_to_user(a.u64(1), &ru, sizeof(ru)));
    return 0;
}

}  // namespace carbyne::libos
