// getpid, getppid, gettid, getuid, getgid, geteuid, getegid, exit_group, uname,
// arch_prctl, set_tid_address, set_robust_list, prlimit64, getrlimit, sched_yield,
// sched_getaffinity, getcpu, getrandom
#include <asm/prctl.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/resource.h>
#include <linux/utsname.h>

#include "../proc/identity.h"
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

[[noreturn]] void process_exit(int code);

Result<long> sys_getpid(const SyscallArgs&) { return g_process.pid; }
Result<long> sys_getppid(const SyscallArgs&) { return g_process.ppid; }
Result<long> sys_gettid(const SyscallArgs&) { return current_thread()->tid; }
Result<long> sys_getuid(const SyscallArgs&) { return long(g_process.uid); }
Result<long> sys_geteuid(const SyscallArgs&) { return long(g_process.uid); }
Result<long> sys_getgid(const SyscallArgs&) { return long(g_process.gid); }
Result<long> sys_getegid(const SyscallArgs&) { return long(g_process.gid); }

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

namespace {

// The limits the LibOS enforces (or reports): RLIM_INFINITY where it sets none.
Result<void> get_limit(int resource, struct rlimit64* out) {
    constexpr uint64_t kInf = ~uint64_t{0};
    switch (resource) {
    case RLIMIT_NOFILE: *out = {uint64_t(kMaxFds), uint64_t(kMaxFds)}; return {};
    case RLIMIT_STACK: *out = {g_process.stack_size, kInf}; return {};
    case RLIMIT_DATA: *out = {g_process.brk_max_size, g_process.brk_max_size}; return {};
    case RLIMIT_CORE: *out = {0, 0}; return {};
    case RLIMIT_CPU:
    case RLIMIT_FSIZE:
    case RLIMIT_RSS:
    case RLIMIT_NPROC:
    case RLIMIT_MEMLOCK:
    case RLIMIT_AS:
    case RLIMIT_LOCKS:
    case RLIMIT_SIGPENDING:
    case RLIMIT_MSGQUEUE:
    case RLIMIT_NICE:
    case RLIMIT_RTPRIO:
    case RLIMIT_RTTIME: *out = {kInf, kInf}; return {};
    default: return Errno(EINVAL);
    }
}

}  // namespace

Result<long> sys_prlimit64(const SyscallArgs& a) {
    int pid = a.i32(0);
    if (pid != 0 && pid != g_process.pid)
        return Errno(ESRCH);
    struct rlimit64 cur;
    TRY(get_limit(a.i32(1), &cur));
    if (a.u64(2)) {
        struct rlimit64 want;
        TRY(copy_from_user(&want, a.u64(2), sizeof(want)));
        if (want.rlim_cur > want.rlim_max)
            return Errno(EINVAL);
        // Lowering a limit the LibOS cannot enforce yet would be a promise it breaks.
        if (want.rlim_cur != cur.rlim_cur || want.rlim_max != cur.rlim_max)
            return Errno(EPERM);
    }
    if (a.u64(3))
        TRY(copy_to_user(a.u64(3), &cur, sizeof(cur)));
    return 0;
}

Result<long> sys_getrlimit(const SyscallArgs& a) {
    struct rlimit64 cur;
    TRY(get_limit(a.i32(0), &cur));
    TRY(copy_to_user(a.u64(1), &cur, sizeof(cur)));
    return 0;
}

Result<long> sys_sched_yield(const SyscallArgs&) {
    g_pal->thread_yield();
    return 0;
}

Result<long> sys_sched_getaffinity(const SyscallArgs& a) {
    int pid = a.i32(0);
    if (pid != 0 && pid != g_process.pid && pid != current_thread()->tid)
        return Errno(ESRCH);
    uint64_t size = a.u64(1);
    uint64_t cpus = g_boot->cpu_count;
    uint64_t need = ((cpus + 63) / 64) * 8;
    if (size < need || (size & 7))
        return Errno(EINVAL);
    uint8_t mask[128] = {};
    for (uint64_t i = 0; i < cpus && i < sizeof(mask) * 8; i++)
        mask[i / 8] |= uint8_t(1u << (i % 8));
    TRY(copy_to_user(a.u64(2), mask, need));
    return long(need);
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
    if (a.u32(2) & ~uint32_t(0x7))  // GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE
        return Errno(EINVAL);
    size_t size = a.u64(1) > 33554431 ? 33554431 : size_t(a.u64(1));
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

}  // namespace carbyne::libos
