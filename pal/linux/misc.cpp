// Time, sleep, random bytes, the application's %fs base, and process exit.
#include <asm/errno.h>
#include <asm/prctl.h>
#include <asm/unistd.h>
#include <linux/resource.h>
#include <linux/time.h>

#include "pal_internal.h"

namespace carbyne::pal {

namespace {

constexpr uint64_t kNsPerSec = 1000000000ull;

bool host_clock(PalClock clock, int* out) {
    switch (clock) {
    case PAL_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case PAL_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case PAL_CLOCK_BOOTTIME: *out = CLOCK_BOOTTIME; return true;
    case PAL_CLOCK_PROCESS_CPU: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case PAL_CLOCK_THREAD_CPU: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    }
    return false;
}

}  // namespace

PalError time_get(PalClock clock, uint64_t* ns) {
    int id;
    if (!host_clock(clock, &id))
        return PAL_E_INVAL;
    struct __kernel_timespec ts;
    long ret = host_clock_gettime(id, &ts);
    if (host_failed(ret))
        return error_from_host(ret);
    *ns = uint64_t(ts.tv_sec) * kNsPerSec + uint64_t(ts.tv_nsec);
    return PAL_OK;
}

PalError time_resolution(PalClock clock, uint64_t* ns) {
    int id;
    if (!host_clock(clock, &id))
        return PAL_E_INVAL;
    struct __kernel_timespec ts;
    long ret = host_syscall2(__NR_clock_getres, id, long(&ts));
    if (host_failed(ret))
        return error_from_host(ret);
    *ns = uint64_t(ts.tv_sec) * kNsPerSec + uint64_t(ts.tv_nsec);
    return PAL_OK;
}

PalError sleep(uint64_t ns, uint64_t* remaining_ns) {
    struct __kernel_timespec req = {long(ns / kNsPerSec), long(ns % kNsPerSec)};
    struct __kernel_timespec rem = {0, 0};
    long ret = host_syscall2(__NR_nanosleep, long(&req), long(&rem));
    if (remaining_ns)
        *remaining_ns = ret == -EINTR ? uint64_t(rem.tv_sec) * kNsPerSec + uint64_t(rem.tv_nsec) : 0;
    return error_from_host(ret);
}

PalError random_bytes(void* buf, size_t size) {
    auto* p = static_cast<uint8_t*>(buf);
    while (size) {
        long n = host_syscall3(__NR_getrandom, long(p), long(size), 0);
        if (n == -EINTR)
            continue;
        if (host_failed(n))
            return error_from_host(n);
        p += n;
        size -= size_t(n);
    }
    return PAL_OK;
}

PalError resource_usage(int thread_only, PalUsage* out) {
    struct {
        struct { long sec, usec; } utime, stime;
        long maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv, nsignals, nvcsw,
            nivcsw;
    } ru;
    long ret = host_syscall2(__NR_getrusage, thread_only ? 1 /* RUSAGE_THREAD */ : 0 /* RUSAGE_SELF */, long(&ru));
    if (host_failed(ret))
        return error_from_host(ret);
    out->user_ns = uint64_t(ru.utime.sec) * kNsPerSec + uint64_t(ru.utime.usec) * 1000;
    out->system_ns = uint64_t(ru.stime.sec) * kNsPerSec + uint64_t(ru.stime.usec) * 1000;
    out->max_rss_kib = uint64_t(ru.maxrss);
    out->minor_faults = uint64_t(ru.minflt);
    out->major_faults = uint64_t(ru.majflt);
    out->voluntary_switches = uint64_t(ru.nvcsw);
    out->involuntary_switches = uint64_t(ru.nivcsw);
    return PAL_OK;
}

PalError get_cpu(uint32_t* cpu, uint32_t* node) {
    unsigned c = 0, n = 0;
    long ret = host_getcpu(&c, &n);
    if (host_failed(ret))
        return error_from_host(ret);
    if (cpu) {
        // The dense number (count_cpus); a CPU the affinity did not allow at boot (the host
        // changed it since) is reported as CPU 0.
        uint32_t index = c < 1024 ? g_pal.cpu_index[c] : uint32_t(g_pal.cpu_count - 1);
        *cpu = index < g_pal.cpu_count ? index : uint32_t(g_pal.cpu_count - 1);
    }
    if (node)
        *node = n;
    return PAL_OK;
}

PalError set_fs_base(uint64_t base) {
    if (base >= (1ull << 47))
        return PAL_E_PERM;
    if (g_pal.have_fsgsbase) {
        asm volatile("wrfsbase %0" : : "r"(base) : "memory");
        return PAL_OK;
    }
    return error_from_host(host_syscall2(__NR_arch_prctl, ARCH_SET_FS, long(base)));
}

uint64_t get_fs_base() {
    uint64_t base = 0;
    if (g_pal.have_fsgsbase)
        asm volatile("rdfsbase %0" : "=r"(base));
    else
        host_syscall2(__NR_arch_prctl, ARCH_GET_FS, long(&base));
    return base;
}

void process_exit(int code) {
    for (;;)
        host_syscall1(__NR_exit_group, code & 0xff);
}

void process_kill_self(int sig) {
    struct rlimit64 no_core = {0, 0};
    host_syscall4(__NR_prlimit64, 0, RLIMIT_CORE, long(&no_core), 0);
    struct {
        uint64_t handler, flags, restorer, mask;
    } dfl = {0, 0, 0, 0};
    host_syscall4(__NR_rt_sigaction, sig, long(&dfl), 0, 8);
    uint64_t unblock = 1ull << (sig - 1);
    host_syscall4(__NR_rt_sigprocmask, 1 /* SIG_UNBLOCK */, long(&unblock), 0, 8);
    long pid = host_syscall0(__NR_getpid);
    host_syscall3(__NR_tgkill, pid, host_syscall0(__NR_gettid), sig);
    process_exit(128 + sig);
}

void process_stop() {
    constexpr long kSigStop = 19;
    host_syscall2(__NR_kill, host_syscall0(__NR_getpid), kSigStop);
}

}  // namespace carbyne::pal
