// getpid, getppid, gettid, exit_group, uname, arch_prctl, prctl, set_tid_address,
// set_robust_list, get_robust_list, getrlimit, setrlimit, prlimit64, sched_yield, getcpu,
// getrandom
#include <asm/prctl.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/kernel.h>
#include <linux/prctl.h>
#include <linux/utsname.h>

#include "../mm/vma.h"
#include "../proc/identity.h"
#include "../ipc/procs.h"
#include "../proc/process.h"
#include "../proc/thread.h"
#include "../proc/thread_attrs.h"
#include "syscall.h"

namespace carbyne::libos {

[[noreturn]] void process_exit(int code);

Result<long> sys_getpid(const SyscallArgs&) { return g_process.pid; }
Result<long> sys_getppid(const SyscallArgs&) { return ipc::procs_own_ids().ppid; }
Result<long> sys_gettid(const SyscallArgs&) { return current_thread()->tid; }

Result<long> sys_exit_group(const SyscallArgs& a) { process_exit(a.i32(0) & 0xff); }

Result<long> sys_uname(const SyscallArgs& a) {
    struct new_utsname u;
    memset(&u, 0, sizeof(u));
    strlcpy(u.sysname, "Linux", sizeof(u.sysname));
    strlcpy(u.nodename, kHostname, sizeof(u.nodename));
    strlcpy(u.release, kOsRelease, sizeof(u.release));
    strlcpy(u.version, kOsVersion, sizeof(u.version));
    strlcpy(u.machine, "x86_64", sizeof(u.machine));
    strlcpy(u.domainname, "(none)", sizeof(u.domainname));
    TRY(copy_to_user(a.u64(0), &u, sizeof(u)));
    return 0;
}

Result<long> sys_arch_prctl(const SyscallArgs& a) {
    switch (a.i32(0)) {
    case ARCH_SET_FS:
        if (a.u64(1) >= (1ull << 47))
            return Errno(EPERM);
        TRY(pal_result(g_pal->set_fs_base(a.u64(1))));
        return 0;
    case ARCH_GET_FS:
        TRY(UserPtr<uint64_t>(a.u64(1)).write(g_pal->get_fs_base()));
        return 0;
    case ARCH_SET_GS:
    case ARCH_GET_GS:
        return Errno(EPERM);  // %gs belongs to the LibOS (DESIGN.md section 4)
    case ARCH_GET_CPUID:
        return 1;  // cpuid is not faulting
    case ARCH_SET_CPUID:
        return Errno(ENODEV);  // CPUID faulting is not offered
    default:
        return Errno(EINVAL);
    }
}

namespace {

constexpr int kLastCap = 40;            // CAP_CHECKPOINT_RESTORE
constexpr long kSecbitKeepCaps = 1 << 4;  // SECBIT_KEEP_CAPS in PR_GET_SECUREBITS

// prctl(2) options about the calling thread's own settings (proc/thread_attrs.h).
Result<long> prctl_thread(int option, const SyscallArgs& a, Thread* self) {
    uint64_t arg2 = a.u64(1);
    bool extra_args = a.u64(2) || a.u64(3) || a.u64(4);
    ThreadAttrs& attrs = self->attrs;
    switch (option) {
    case PR_SET_NAME: {
        // Up to 15 bytes are read, as Linux does; a longer name is cut, not refused.
        char name[16] = {};
        auto copied = copy_string_from_user(name, arg2, sizeof(name) - 1);
        if (!copied.ok() && copied.error() != Errno(ENAMETOOLONG))
            return copied.error();
        thread_set_name(self, name, strnlen(name, sizeof(name) - 1));
        return 0;
    }
    case PR_GET_NAME: {
        char name[16] = {};
        thread_get_name(self, name);
        TRY(copy_to_user(arg2, name, sizeof(name)));
        return 0;
    }
    case PR_SET_PDEATHSIG: {
        if (arg2 > uint64_t(kNumSignals))
            return Errno(EINVAL);
        {
            SpinGuard g(g_process.lock);
            attrs.pdeath_signal = int(arg2);
        }
        TRY(ipc::procs_set_pdeath(int(arg2)));
        return 0;
    }
    case PR_GET_PDEATHSIG: {
        int sig;
        {
            SpinGuard g(g_process.lock);
            sig = attrs.pdeath_signal;
        }
        TRY(UserPtr<int>(arg2).write(sig));
        return 0;
    }
    case PR_GET_KEEPCAPS:
    case PR_GET_SECUREBITS: {
        SpinGuard g(g_process.lock);
        bool keep = attrs.keep_caps;
        return option == PR_GET_KEEPCAPS ? long(keep) : keep ? kSecbitKeepCaps : 0;
    }
    case PR_SET_KEEPCAPS: {
        if (arg2 > 1)
            return Errno(EINVAL);
        SpinGuard g(g_process.lock);
        attrs.keep_caps = arg2 != 0;
        return 0;
    }
    case PR_SET_NO_NEW_PRIVS: {
        if (arg2 != 1 || extra_args)
            return Errno(EINVAL);
        SpinGuard g(g_process.lock);
        attrs.no_new_privs = true;  // nothing gains privileges here: no set-user-ID programs
        return 0;
    }
    case PR_GET_NO_NEW_PRIVS: {
        if (arg2 || extra_args)
            return Errno(EINVAL);
        SpinGuard g(g_process.lock);
        return long(attrs.no_new_privs);
    }
    case PR_SET_TIMERSLACK: {
        SpinGuard g(g_process.lock);
        attrs.timer_slack_ns = arg2;  // 0: back to the default
        return 0;
    }
    case PR_GET_TIMERSLACK: {
        SpinGuard g(g_process.lock);
        uint64_t slack = attrs.timer_slack_ns ? attrs.timer_slack_ns : attrs.default_timer_slack_ns;
        return long(slack ? slack : kDefaultTimerSlackNs);
    }
    case PR_GET_TID_ADDRESS:
        TRY(UserPtr<uint64_t>(arg2).write(self->clear_child_tid));
        return 0;
    default: return Errno(EINVAL);
    }
}

}  // namespace

Result<long> sys_prctl(const SyscallArgs& a) {
    int option = a.i32(0);
    uint64_t arg2 = a.u64(1);
    switch (option) {
    case PR_GET_DUMPABLE: {
        SpinGuard g(g_process.lock);
        return g_process.attrs.not_dumpable ? 0 : 1;
    }
    case PR_SET_DUMPABLE: {
        if (arg2 > 1)  // SUID_DUMP_DISABLE or SUID_DUMP_USER
            return Errno(EINVAL);
        SpinGuard g(g_process.lock);
        g_process.attrs.not_dumpable = arg2 == 0;
        return 0;
    }
    case PR_SET_CHILD_SUBREAPER: {
        SpinGuard g(g_process.lock);
        g_process.attrs.child_subreaper = arg2 != 0;
        return 0;
    }
    case PR_GET_CHILD_SUBREAPER: {
        int subreaper;
        {
            SpinGuard g(g_process.lock);
            subreaper = g_process.attrs.child_subreaper;
        }
        TRY(UserPtr<int>(arg2).write(subreaper));
        return 0;
    }
    case PR_GET_SECCOMP:
        return 0;  // no filter: the LibOS answers every call itself
    case PR_CAPBSET_READ:
        // The bounding set of an ordinary Linux process: every capability.
        return arg2 <= uint64_t(kLastCap) ? Result<long>(1) : Result<long>(Errno(EINVAL));
    case PR_SET_VMA:
        return Errno(EINVAL);  // as a kernel without CONFIG_ANON_VMA_NAME
    default: {
        Thread* self = current_thread();
        thread_attrs_ready(self);
        return prctl_thread(option, a, self);
    }
    }
}

Result<long> sys_set_tid_address(const SyscallArgs& a) {
    current_thread()->clear_child_tid = a.u64(0);
    return current_thread()->tid;
}

Result<long> sys_set_robust_list(const SyscallArgs& a) {
    if (a.u64(1) != 24)  // sizeof(struct robust_list_head)
        return Errno(EINVAL);
    current_thread()->robust_list = a.u64(0);
    current_thread()->robust_list_size = a.u64(1);
    return 0;
}

Result<long> sys_get_robust_list(const SyscallArgs& a) {
    int tid = a.i32(0);
    Thread* t = tid == 0 ? current_thread() : thread_by_tid(tid);
    if (!t)
        return Errno(ESRCH);
    uint64_t head = t->robust_list, size = t->robust_list_size ? t->robust_list_size : 24;
    TRY(UserPtr<uint64_t>(a.u64(1)).write(head));
    TRY(UserPtr<uint64_t>(a.u64(2)).write(size));
    return 0;
}

namespace {

Result<int> rlimit_resource(int resource) {
    if (resource < 0 || resource >= kNumResourceLimits)
        return Errno(EINVAL);
    return resource;
}

}  // namespace

Result<long> sys_prlimit64(const SyscallArgs& a) {
    ResourceLimit want{};
    if (a.u64(2))
        TRY(copy_from_user(&want, a.u64(2), sizeof(want)));
    int pid = a.i32(0);
    if (pid != 0 && pid != g_process.pid)
        return Errno(ESRCH);  // no other process is reachable yet
    int resource = TRY(rlimit_resource(a.i32(1)));
    ResourceLimit old = a.u64(2) ? TRY(process_set_rlimit(resource, want)) : process_rlimit(resource);
    if (a.u64(3))
        TRY(copy_to_user(a.u64(3), &old, sizeof(old)));
    return 0;
}

Result<long> sys_getrlimit(const SyscallArgs& a) {
    int resource = TRY(rlimit_resource(a.i32(0)));
    ResourceLimit limit = process_rlimit(resource);
    TRY(copy_to_user(a.u64(1), &limit, sizeof(limit)));
    return 0;
}

Result<long> sys_setrlimit(const SyscallArgs& a) {
    ResourceLimit want{};
    TRY(copy_from_user(&want, a.u64(1), sizeof(want)));
    int resource = TRY(rlimit_resource(a.i32(0)));
    TRY(process_set_rlimit(resource, want));
    return 0;
}

Result<long> sys_sched_yield(const SyscallArgs&) {
    g_pal->thread_yield();
    return 0;
}

Result<long> sys_getcpu(const SyscallArgs& a) {
    uint32_t cpu = 0, node = 0;
    TRY(pal_result(g_pal->get_cpu(&cpu, &node)));
    if (a.u64(0))
        TRY(UserPtr<uint32_t>(a.u64(0)).write(cpu));
    if (a.u64(1))
        TRY(UserPtr<uint32_t>(a.u64(1)).write(node));
    return 0;
}

Result<long> sys_getrandom(const SyscallArgs& a) {
    constexpr uint32_t kNonblock = 1, kRandom = 2, kInsecure = 4;  // GRND_*
    uint32_t flags = a.u32(2);
    if (flags & ~(kNonblock | kRandom | kInsecure))
        return Errno(EINVAL);
    if ((flags & kRandom) && (flags & kInsecure))
        return Errno(EINVAL);  // insecure and blocking randomness at once makes no sense
    constexpr size_t kMaxRw = 0x7ffff000;  // MAX_RW_COUNT
    size_t size = a.u64(1) > kMaxRw ? kMaxRw : size_t(a.u64(1));
    uint8_t chunk[256];
    size_t done = 0;
    while (done < size) {
        size_t n = size - done < sizeof(chunk) ? size - done : sizeof(chunk);
        TRY(pal_result(g_pal->random_bytes(chunk, n)));
        auto copied = copy_to_user(a.u64(0) + done, chunk, n);
        if (!copied.ok())
            return done ? Result<long>(long(done)) : Result<long>(copied.error());
        done += n;
    }
    return long(done);
}

// sysinfo(2): the memory /proc/meminfo shows, in bytes (mem_unit 1), the uptime of the
// host (its boot-time clock), the LibOS's threads. Load averages and swap are zero.
Result<long> sys_sysinfo(const SyscallArgs& a) {
    struct sysinfo info;
    memset(&info, 0, sizeof(info));
    uint64_t boot_ns = 0;
    g_pal->time_get(PAL_CLOCK_BOOTTIME, &boot_ns);
    info.uptime = long(boot_ns / 1000000000);
    mm::MemoryFigures m = mm::memory_figures();
    info.totalram = m.total;
    info.freeram = m.free;
    info.procs = uint16_t(thread_count());
    info.mem_unit = 1;
    TRY(copy_to_user(a.u64(0), &info, sizeof(info)));
    return 0;
}

}  // namespace carbyne::libos
