// sched_setaffinity, sched_getaffinity, sched_setparam, sched_getparam, sched_setscheduler,
// sched_getscheduler, sched_get_priority_max, sched_get_priority_min, sched_rr_get_interval,
// getpriority, setpriority, ioprio_set, ioprio_get, sched_setattr, sched_getattr
//
// The host schedules the LibOS's threads: these record per-thread settings and answer
// them back (proc/thread_attrs.h). Real-time policies are refused (EPERM), since nothing
// could honour them; the process's uid 0 stands for CAP_SYS_NICE otherwise.
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/sched/types.h>
#include <linux/time_types.h>

#include "../proc/process.h"
#include "../proc/thread.h"
#include "../proc/thread_attrs.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

constexpr int kMinNice = -20, kMaxNice = 19;

// <linux/ioprio.h> is not valid C++ (a parameter named `class`): its values, as ioprio_set(2).
enum IoprioWho { kIoprioWhoProcess = 1, kIoprioWhoPgrp = 2, kIoprioWhoUser = 3 };
enum IoprioClass { kIoprioClassNone = 0, kIoprioClassRt = 1, kIoprioClassBe = 2, kIoprioClassIdle = 3 };
constexpr int kIoprioClassShift = 13;
constexpr int kIoprioLevelMask = 7;
constexpr int kMaxRtPriority = 99;  // MAX_RT_PRIO - 1

bool privileged() { return g_process.uid == 0; }

uint64_t cpu_count() {
    uint64_t n = g_boot->cpu_count ? g_boot->cpu_count : 1;
    return n < uint64_t(kMaxCpus) ? n : uint64_t(kMaxCpus);
}

// The bytes of a CPU mask as the kernel sizes it (cpumask_size()): whole 64-bit words.
uint64_t mask_size() { return (cpu_count() + 63) / 64 * 8; }

// The thread a scheduler call names: 0 the caller, else a tid of this process (the process
// id is its first thread's tid). ESRCH for any other id.
Result<Thread*> target(int id) {
    Thread* t = id == 0 ? current_thread() : thread_by_tid(id);
    if (!t)
        return Errno(ESRCH);
    thread_attrs_ready(t);
    return t;
}

// The same for the calls that answer EINVAL for a negative id.
Result<Thread*> target_nonnegative(int id) {
    if (id < 0)
        return Errno(EINVAL);
    return target(id);
}

enum class Who { Thread, Group, User };

// The tids a getpriority/setpriority/ioprio call reaches: one thread, or all of this
// process's for its own process group or user (it knows no other processes).
size_t targets(Who which, int who, int* tids, size_t max) {
    bool everyone = false;
    switch (which) {
    case Who::Thread: {
        Thread* t = who == 0 ? current_thread() : thread_by_tid(who);
        if (!t)
            return 0;
        tids[0] = t->tid;
        return 1;
    }
    case Who::Group: everyone = who == 0 || who == g_process.pid; break;
    case Who::User: everyone = who == 0 || uint32_t(who) == g_process.uid; break;
    }
    if (!everyone)
        return 0;
    size_t n = thread_list(tids, max);
    return n < max ? n : max;
}

Who who_of_prio(int which) { return which == PRIO_PROCESS ? Who::Thread : which == PRIO_PGRP ? Who::Group : Who::User; }
Who who_of_ioprio(int which) {
    return which == kIoprioWhoProcess ? Who::Thread : which == kIoprioWhoPgrp ? Who::Group : Who::User;
}

constexpr size_t kMaxTargets = 256;

bool rt_policy(uint32_t policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }

// sched_setscheduler(2) and sched_setparam(2) (policy < 0: keep the thread's).
Result<void> set_scheduler(Thread* t, int policy_arg, int priority) {
    uint32_t policy;
    bool reset_on_fork;
    {
        SpinGuard g(g_process.lock);
        policy = t->attrs.policy;
        reset_on_fork = t->attrs.reset_on_fork;
    }
    bool was_idle = policy == SCHED_IDLE;
    if (policy_arg >= 0) {
        reset_on_fork = (policy_arg & SCHED_RESET_ON_FORK) != 0;
        policy = uint32_t(policy_arg) & ~uint32_t(SCHED_RESET_ON_FORK);
        switch (policy) {
        case SCHED_NORMAL:
        case SCHED_FIFO:
        case SCHED_RR:
        case SCHED_BATCH:
        case SCHED_IDLE: break;
        case SCHED_DEADLINE: return Errno(EINVAL);  // its parameters need sched_setattr
        default: return Errno(EINVAL);
        }
    }
    if (priority < 0 || priority > kMaxRtPriority || rt_policy(policy) != (priority != 0))
        return Errno(EINVAL);
    if (rt_policy(policy))
        return Errno(EPERM);  // nothing could make the host run the thread in real time
    if (!privileged()) {
        // Without CAP_SYS_NICE (and RLIMIT_NICE 0): no leaving SCHED_IDLE, no clearing
        // SCHED_RESET_ON_FORK.
        SpinGuard g(g_process.lock);
        if ((was_idle && policy != SCHED_IDLE) || (t->attrs.reset_on_fork && !reset_on_fork))
            return Errno(EPERM);
    }
    SpinGuard g(g_process.lock);
    t->attrs.policy = policy;
    t->attrs.reset_on_fork = reset_on_fork;
    return {};
}

// ioprio_check_cap(): the classes and levels Linux accepts.
Result<void> check_ioprio(int ioprio) {
    switch ((ioprio >> kIoprioClassShift) & 7) {
    case kIoprioClassRt:
        if (!privileged())
            return Errno(EPERM);
        [[fallthrough]];
    case kIoprioClassBe:
    case kIoprioClassIdle: return {};
    case kIoprioClassNone:
        if (ioprio & kIoprioLevelMask)
            return Errno(EINVAL);
        return {};
    default: return Errno(EINVAL);
    }
}

}  // namespace

Result<long> sys_sched_getaffinity(const SyscallArgs& a) {
    uint64_t size = a.u32(1);
    uint64_t need = mask_size();
    if (size < need || (size & 7))
        return Errno(EINVAL);
    Thread* t = TRY(target(a.i32(0)));
    uint64_t mask[kMaxCpus / 64] = {};
    {
        SpinGuard g(g_process.lock);
        for (size_t i = 0; i < need / 8; i++)
            mask[i] = t->attrs.affinity[i];
    }
    bool none = true;
    for (size_t i = 0; i < need / 8; i++)
        none = none && !mask[i];
    if (none) {  // never set: every CPU
        for (uint64_t cpu = 0; cpu < cpu_count(); cpu++)
            mask[cpu / 64] |= uint64_t{1} << (cpu % 64);
    }
    TRY(copy_to_user(a.u64(2), mask, need));
    return long(need);
}

Result<long> sys_sched_setaffinity(const SyscallArgs& a) {
    // As Linux: a shorter mask is zero-extended, a longer one cut to the kernel's size.
    uint64_t size = a.u32(1);
    uint64_t need = mask_size();
    uint64_t mask[kMaxCpus / 64] = {};
    TRY(copy_from_user(mask, a.u64(2), size < need ? size : need));
    Thread* t = TRY(target(a.i32(0)));
    // Only the CPUs the process has count; none of them is EINVAL.
    uint64_t cpus = cpu_count();
    bool any = false;
    for (uint64_t i = 0; i < need / 8; i++) {
        if (cpus < (i + 1) * 64)
            mask[i] &= cpus <= i * 64 ? 0 : (uint64_t{1} << (cpus - i * 64)) - 1;
        any = any || mask[i];
    }
    if (!any)
        return Errno(EINVAL);
    SpinGuard g(g_process.lock);
    for (uint64_t i = 0; i < need / 8; i++)
        t->attrs.affinity[i] = mask[i];
    return 0;
}

Result<long> sys_sched_setscheduler(const SyscallArgs& a) {
    int policy = a.i32(1);
    if (policy < 0 || !a.u64(2) || a.i32(0) < 0)
        return Errno(EINVAL);
    struct sched_param param = TRY(UserPtr<struct sched_param>(a.u64(2)).read());
    Thread* t = TRY(target(a.i32(0)));
    TRY(set_scheduler(t, policy, param.sched_priority));
    return 0;
}

Result<long> sys_sched_setparam(const SyscallArgs& a) {
    if (!a.u64(1) || a.i32(0) < 0)
        return Errno(EINVAL);
    struct sched_param param = TRY(UserPtr<struct sched_param>(a.u64(1)).read());
    Thread* t = TRY(target(a.i32(0)));
    TRY(set_scheduler(t, -1, param.sched_priority));
    return 0;
}

Result<long> sys_sched_getscheduler(const SyscallArgs& a) {
    Thread* t = TRY(target_nonnegative(a.i32(0)));
    SpinGuard g(g_process.lock);
    return long(t->attrs.policy | (t->attrs.reset_on_fork ? SCHED_RESET_ON_FORK : 0));
}

namespace {

// struct sched_attr, as of SCHED_ATTR_SIZE_VER1 (what this kernel knows).
struct SchedAttr {
    uint32_t size;
    uint32_t policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;  // SCHED_DEADLINE
    uint32_t util_min, util_max;         // SCHED_FLAG_UTIL_CLAMP
};
constexpr uint32_t kSchedAttrSizeVer0 = 48;
constexpr uint64_t kFlagResetOnFork = 0x01, kFlagReclaim = 0x02, kFlagDlOverrun = 0x04, kFlagKeepPolicy = 0x08,
                   kFlagKeepParams = 0x10, kFlagUtilClampMin = 0x20, kFlagUtilClampMax = 0x40;
constexpr uint64_t kFlagUtilClamp = kFlagUtilClampMin | kFlagUtilClampMax;
constexpr uint64_t kFlagsAll = kFlagResetOnFork | kFlagReclaim | kFlagDlOverrun | kFlagKeepPolicy |
                               kFlagKeepParams | kFlagUtilClamp;
constexpr uint64_t kPageSize = 4096;

// sched_copy_attr: a size of 0 is VER0; past what this kernel knows, the extra bytes must
// be zero; a bad size is E2BIG with the size the kernel knows written back.
Result<SchedAttr> copy_sched_attr(uint64_t user) {
    uint32_t size = TRY(UserPtr<uint32_t>(user).read());
    if (!size)
        size = kSchedAttrSizeVer0;
    if (size < kSchedAttrSizeVer0 || size > kPageSize) {
        TRY(UserPtr<uint32_t>(user).write(uint32_t(sizeof(SchedAttr))));
        return Errno(E2BIG);
    }
    SchedAttr attr{};
    TRY(copy_from_user(&attr, user, size < sizeof(attr) ? size : sizeof(attr)));
    for (uint64_t at = sizeof(attr); at < size; at++) {
        if (TRY(UserPtr<uint8_t>(user + at).read())) {
            TRY(UserPtr<uint32_t>(user).write(uint32_t(sizeof(SchedAttr))));
            return Errno(E2BIG);
        }
    }
    if ((attr.flags & kFlagUtilClamp) && size < sizeof(SchedAttr))
        return Errno(EINVAL);
    attr.nice = attr.nice < kMinNice ? kMinNice : attr.nice > kMaxNice ? kMaxNice : attr.nice;
    return attr;
}

}  // namespace

Result<long> sys_sched_getattr(const SyscallArgs& a) {
    uint32_t size = a.u32(2);
    if (!a.u64(1) || a.i32(0) < 0 || size > kPageSize || size < kSchedAttrSizeVer0 || a.u32(3))
        return Errno(EINVAL);
    Thread* t = TRY(target(a.i32(0)));
    SchedAttr attr{};
    {
        SpinGuard g(g_process.lock);
        attr.policy = t->attrs.policy;
        attr.flags = t->attrs.reset_on_fork ? kFlagResetOnFork : 0;
        attr.nice = t->attrs.nice;  // no thread has a real-time priority or a deadline
    }
    attr.size = size < sizeof(attr) ? size : uint32_t(sizeof(attr));
    TRY(copy_to_user(a.u64(1), &attr, attr.size));
    return 0;
}

// sched_setattr: the fair policies and their nice value are recorded (the host schedules
// the thread); SCHED_FIFO, SCHED_RR and SCHED_DEADLINE answer EPERM after Linux's
// parameter checks, as sched_setscheduler does.
Result<long> sys_sched_setattr(const SyscallArgs& a) {
    if (!a.u64(1) || a.i32(0) < 0 || a.u32(2))
        return Errno(EINVAL);
    SchedAttr attr = TRY(copy_sched_attr(a.u64(1)));
    if (int32_t(attr.policy) < 0)
        return Errno(EINVAL);
    Thread* t = TRY(target(a.i32(0)));
    bool keep_policy = (attr.flags & kFlagKeepPolicy) != 0;
    if (attr.flags & ~kFlagsAll)
        return Errno(EINVAL);
    if (!keep_policy && attr.policy == SCHED_DEADLINE) {
        // __checkparam_dl: deadline <= period, runtime <= deadline, at least 1 us of runtime.
        uint64_t period = attr.period ? attr.period : attr.deadline;
        if (!attr.deadline || attr.runtime < 1024 || attr.deadline > period || attr.runtime > attr.deadline ||
            (period >> 63))
            return Errno(EINVAL);
        return Errno(EPERM);  // nothing could make the host give it its runtime
    }
    if (attr.flags & kFlagKeepParams) {
        SpinGuard g(g_process.lock);
        attr.nice = t->attrs.nice;
        attr.priority = 0;
    }
    int policy = keep_policy ? -1 : int(attr.policy | ((attr.flags & kFlagResetOnFork) ? SCHED_RESET_ON_FORK : 0));
    TRY(set_scheduler(t, policy, int(attr.priority)));
    SpinGuard g(g_process.lock);
    // Raising the priority needs CAP_SYS_NICE (RLIMIT_NICE is 0).
    if (attr.nice < t->attrs.nice && !privileged())
        return Errno(EPERM);
    t->attrs.nice = attr.nice;
    return 0;
}

Result<long> sys_sched_getparam(const SyscallArgs& a) {
    if (!a.u64(1) || a.i32(0) < 0)
        return Errno(EINVAL);
    TRY(target(a.i32(0)));
    struct sched_param param = {};  // no thread has a real-time priority
    TRY(UserPtr<struct sched_param>(a.u64(1)).write(param));
    return 0;
}

Result<long> sys_sched_get_priority_max(const SyscallArgs& a) {
    switch (a.i32(0)) {
    case SCHED_FIFO:
    case SCHED_RR: return kMaxRtPriority;
    case SCHED_NORMAL:
    case SCHED_BATCH:
    case SCHED_IDLE:
    case SCHED_DEADLINE: return 0;
    default: return Errno(EINVAL);
    }
}

Result<long> sys_sched_get_priority_min(const SyscallArgs& a) {
    switch (a.i32(0)) {
    case SCHED_FIFO:
    case SCHED_RR: return 1;
    case SCHED_NORMAL:
    case SCHED_BATCH:
    case SCHED_IDLE:
    case SCHED_DEADLINE: return 0;
    default: return Errno(EINVAL);
    }
}

Result<long> sys_sched_rr_get_interval(const SyscallArgs& a) {
    TRY(target_nonnegative(a.i32(0)));
    // No thread is SCHED_RR; the host's time slices are not known.
    struct __kernel_timespec ts = {};
    TRY(UserPtr<struct __kernel_timespec>(a.u64(1)).write(ts));
    return 0;
}

Result<long> sys_getpriority(const SyscallArgs& a) {
    int which = a.i32(0);
    if (which < PRIO_PROCESS || which > PRIO_USER)
        return Errno(EINVAL);
    int tids[kMaxTargets];
    size_t n = targets(who_of_prio(which), a.i32(1), tids, kMaxTargets);
    int best = kMaxNice + 1;
    for (size_t i = 0; i < n; i++) {
        Thread* t = thread_by_tid(tids[i]);
        if (!t)
            continue;
        thread_attrs_ready(t);
        SpinGuard g(g_process.lock);
        if (t->attrs.nice < best)
            best = t->attrs.nice;
    }
    if (best > kMaxNice)
        return Errno(ESRCH);
    return long(20 - best);  // the raw call answers 40..1 for nice -20..19
}

Result<long> sys_setpriority(const SyscallArgs& a) {
    int which = a.i32(0);
    if (which < PRIO_PROCESS || which > PRIO_USER)
        return Errno(EINVAL);
    int nice = a.i32(2);
    nice = nice < kMinNice ? kMinNice : nice > kMaxNice ? kMaxNice : nice;
    int tids[kMaxTargets];
    size_t n = targets(who_of_prio(which), a.i32(1), tids, kMaxTargets);
    Result<long> result = Errno(ESRCH);
    for (size_t i = 0; i < n; i++) {
        Thread* t = thread_by_tid(tids[i]);
        if (!t)
            continue;
        thread_attrs_ready(t);
        SpinGuard g(g_process.lock);
        // Raising the priority needs CAP_SYS_NICE (RLIMIT_NICE is 0).
        if (nice < t->attrs.nice && !privileged())
            return Errno(EACCES);
        t->attrs.nice = nice;
        result = 0;
    }
    return result;
}

Result<long> sys_ioprio_set(const SyscallArgs& a) {
    int which = a.i32(0), ioprio = a.i32(2);
    if (which < kIoprioWhoProcess || which > kIoprioWhoUser)
        return Errno(EINVAL);
    TRY(check_ioprio(ioprio));
    int tids[kMaxTargets];
    size_t n = targets(who_of_ioprio(which), a.i32(1), tids, kMaxTargets);
    Result<long> result = Errno(ESRCH);
    for (size_t i = 0; i < n; i++) {
        Thread* t = thread_by_tid(tids[i]);
        if (!t)
            continue;
        thread_attrs_ready(t);
        SpinGuard g(g_process.lock);
        t->attrs.ioprio = uint16_t(ioprio);
        result = 0;
    }
    return result;
}

Result<long> sys_ioprio_get(const SyscallArgs& a) {
    int which = a.i32(0);
    if (which < kIoprioWhoProcess || which > kIoprioWhoUser)
        return Errno(EINVAL);
    int tids[kMaxTargets];
    size_t n = targets(who_of_ioprio(which), a.i32(1), tids, kMaxTargets);
    long best = -1;
    for (size_t i = 0; i < n; i++) {
        Thread* t = thread_by_tid(tids[i]);
        if (!t)
            continue;
        thread_attrs_ready(t);
        SpinGuard g(g_process.lock);
        // ioprio_best(): the lower value (class first, then level) wins.
        if (best < 0 || t->attrs.ioprio < best)
            best = t->attrs.ioprio;
    }
    if (best < 0)
        return Errno(ESRCH);
    return best;
}

}  // namespace carbyne::libos
