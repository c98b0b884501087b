// /proc: the process's own directory (as <pid>, self and thread-self) and the system-wide
// files glibc, Python, busybox and coreutils read. Values the LibOS does not know (host
// load, other processes' CPU time) are shown as 0 rather than invented.
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/lock.h>
#include <linux/fcntl.h>
#include <linux/resource.h>

#include "../ipc/procs.h"
#include "../mm/vma.h"
#include "../proc/identity.h"
#include "../proc/process.h"
#include "../net/pipe.h"
#include "../proc/thread.h"
#include "inotify.h"
#include "pseudo.h"
#include "../ipc/checkpoint.h"

namespace carbyne::libos::fs {

namespace {

using pseudo::Ctx;
using pseudo::DynEntries;
using pseudo::Kind;
using pseudo::Node;
using pseudo::Slot;
using pseudo::Text;

// The manifest sets no memory limit yet, so there is no honest "total memory" to show:

constexpr uint64_t kClockTicksPerSecond = 100;  // USER_HZ: the unit of /proc/*/stat times
constexpr uint64_t kRlimInfinity = ~uint64_t{0};
constexpr int kPidMax = 32768;
constexpr int kFirstMountId = 21;  // mountinfo ids: as small numbers as Linux's

// argv and the environment as NUL-separated text (what execve put on the stack).
Spinlock g_args_lock{LockRank::ProcArgs};
char* g_cmdline;  // guarded by g_args_lock, as are the three below
size_t g_cmdline_size;
char* g_environ;
size_t g_environ_size;

char g_boot_id[37];  // written once at start-up

// --- Helpers ---------------------------------------------------------------------------

uint64_t clock_ns(PalClock clock) {
    uint64_t ns = 0;
    g_pal->time_get(clock, &ns);
    return ns;
}

uint64_t cpu_count() { return g_boot->cpu_count ? g_boot->cpu_count : 1; }

// Copies one of the argument blocks under its lock without allocating under it.
Result<void> copy_args(char* const* buf, const size_t* size, Text* out) {
    for (;;) {
        size_t n;
        {
            SpinGuard g(g_args_lock);
            n = *size;
        }
        char* at = out->reserve(n);
        if (!at)
            return Errno(ENOMEM);
        SpinGuard g(g_args_lock);
        if (*size > n)
            continue;  // replaced meanwhile by a longer one
        memcpy(at, *buf, *size);
        out->commit(*size);
        return {};
    }
}

// Joins a NULL-terminated array into NUL-separated text (kmalloc'ed).
Result<void> join(const char* const* v, char** out, size_t* out_size) {
    size_t size = 0;
    for (size_t i = 0; v[i]; i++)
        size += strlen(v[i]) + 1;
    char* buf = static_cast<char*>(kmalloc(size ? size : 1));
    if (!buf)
        return Errno(ENOMEM);
    size_t at = 0;
    for (size_t i = 0; v[i]; i++) {
        size_t n = strlen(v[i]) + 1;
        memcpy(buf + at, v[i], n);
        at += n;
    }
    *out = buf;
    *out_size = size;
    return {};
}

// A thread's name as the kernel keeps it (PR_SET_NAME's, else the executable's base
// name), at most 15 bytes.
void put_comm(Thread* t, Text* out) {
    char name[16];
    thread_get_name(t, name);
    out->puts(name);
}

// Every signal's disposition as SigIgn / SigCgt bit masks.
void signal_masks(uint64_t* ignored, uint64_t* caught) {
    *ignored = *caught = 0;
    SpinGuard g(g_process.lock);
    for (int i = 0; i < kNumSignals; i++) {
        uint64_t h = g_process.actions[i].handler;
        if (h == 1)
            *ignored |= uint64_t{1} << i;
        else if (h > 1)
            *caught |= uint64_t{1} << i;
    }
}

// The thread a per-thread file shows: task/<tid>'s, or the main thread (tid = pid).
// FIXME: thread_by_tid's pointer stays valid only because Thread objects are never freed.
Thread* thread_of(const Ctx& ctx) {
    Thread* t = thread_by_tid(ctx.tid ? ctx.tid : ctx.pid);
    return t ? t : current_thread();
}

// --- Dynamic entries ---------------------------------------------------------------------

size_t list_pids(const Ctx&, int* ids, size_t max) {
    if (max)
        ids[0] = g_process.pid;
    return 1;
}
bool pid_exists(const Ctx&, int id) { return id == g_process.pid; }

size_t list_tids(const Ctx&, int* ids, size_t max) { return thread_list(ids, max); }
bool tid_exists(const Ctx&, int id) { return thread_by_tid(id) != nullptr; }

size_t list_fds(const Ctx&, int* ids, size_t max) { return g_process.fds.list(ids, max); }
bool fd_exists(const Ctx&, int id) { return g_process.fds.get(id, true).ok(); }

// --- Symlinks ------------------------------------------------------------------------------

Result<void> link_self(const Ctx&, Text* out) {
    out->print("%d", g_process.pid);
    return {};
}

Result<void> link_thread_self(const Ctx&, Text* out) {
    out->print("%d/task/%d", g_process.pid, current_thread()->tid);
    return {};
}

Result<void> link_cwd(const Ctx&, Text* out) {
    char* at = out->reserve(kPathMax + 10);
    if (!at)
        return Errno(ENOMEM);
    if (TRY(process_get_cwd(at)))
        strlcpy(at + strlen(at), " (deleted)", 11);  // as Linux's d_path
    out->commit(strlen(at));
    return {};
}

Result<void> link_root(const Ctx&, Text* out) {
    out->puts("/");
    return {};
}

// The executable as the kernel names it: its path with every symlink resolved, where a
// rename since moved it.
Result<void> link_exe(const Ctx&, Text* out) {
    char* exe = out->reserve(kPathMax + 10);
    if (!exe)
        return Errno(ENOMEM);
    if (TRY(process_exe_path(exe)))
        strlcpy(exe + strlen(exe), " (deleted)", 11);  // as Linux's d_path
    out->commit(strlen(exe));
    return {};
}

// The host object a console stream is (a pipe, a terminal...), as its status shows it.
bool console_stat(PalConsole which, Stat* out) {
    auto opened = console_open(which);
    if (!opened.ok())
        return false;
    File* f = opened.value();
    bool ok = f->stat(out).ok();
    f->unref();
    return ok;
}

bool same_object(const Stat& a, const Stat& b) {
    return (a.mode & S_IFMT) == (b.mode & S_IFMT) && a.dev == b.dev && a.ino == b.ino && a.rdev == b.rdev;
}

// What the fd link of a console file names, so that opening it (/dev/stdin, /dev/stderr...)
// reaches the same host object; nullptr for the file's own path (/dev/console).
//  - a host memory device (stdin from /dev/null) is the LibOS's device of the same number;
//  - the host's stderr, when it is not where stdout goes, is /dev/console-stderr (opening
//    /dev/console would write to stdout).
const char* console_name(File* f) {
    Stat st;
    if (!f->stat(&st).ok())
        return nullptr;
    if ((st.mode & S_IFMT) == S_IFCHR) {
        struct {
            uint64_t rdev;
            const char* path;
        } constexpr kDevices[] = {
            {pseudo::makedev(1, 3), "/dev/null"},   {pseudo::makedev(1, 5), "/dev/zero"},
            {pseudo::makedev(1, 7), "/dev/full"},   {pseudo::makedev(1, 8), "/dev/random"},
            {pseudo::makedev(1, 9), "/dev/urandom"},
        };
        for (const auto& d : kDevices)
            if (st.rdev == d.rdev)
                return d.path;
    }
    Stat err, out;
    if (f->writable() && console_stat(PAL_CONSOLE_ERR, &err) && console_stat(PAL_CONSOLE_OUT, &out) &&
        same_object(st, err) && !same_object(st, out))
        return "/dev/console-stderr";
    return nullptr;
}

// An fd's target: the path it was opened by; a nameless file is named by its kind and
// inode number as Linux does ("pipe:[1234]").
Result<void> link_fd(const Ctx& ctx, Text* out) {
    auto got = g_process.fds.get(ctx.fd, true);
    if (!got.ok())
        return Errno(ENOENT);
    FileRef f = got.release_value();
    if (f->is_console()) {
        if (const char* name = console_name(f.get())) {
            out->puts(name);
            return {};
        }
    }
    char* at = out->reserve(kPathMax + 10);
    if (!at)
        return Errno(ENOMEM);
    bool deleted = false;
    auto named = f->path(at, kPathMax, &deleted);
    if (named.ok() && named.value()) {
        size_t n = named.value();
        if (deleted)
            n += strlcpy(at + n, " (deleted)", 11);  // as Linux's d_path
        out->commit(n);
        return {};
    }
    Stat st{};
    (void)f->stat(&st);
    uint32_t type = st.mode & S_IFMT;
    // FIXME: File has no name for its kind (eventfd, epoll...); anon_inode files show as
    // "anon_inode:[unknown]" until it does.
    if (type == S_IFIFO)
        out->print("pipe:[%lu]", st.ino);
    else if (type == S_IFSOCK)
        out->print("socket:[%lu]", st.ino);
    else
        out->puts("anon_inode:[unknown]");
    return {};
}

// lr-x------ for a file open for reading, l-wx------ for writing, lrwx------ for both.
uint32_t fd_link_perm(const Ctx& ctx) {
    auto got = g_process.fds.get(ctx.fd, true);
    if (!got.ok())
        return 0;
    FileRef f = got.release_value();
    if (f->is_path_only())
        return 0;
    return (f->readable() ? 0500u : 0u) | (f->writable() ? 0300u : 0u);
}

// --- Per-process files -----------------------------------------------------------------------

Result<void> gen_cmdline(const Ctx&, Text* out) { return copy_args(&g_cmdline, &g_cmdline_size, out); }
Result<void> gen_environ(const Ctx&, Text* out) { return copy_args(&g_environ, &g_environ_size, out); }

Result<void> gen_comm(const Ctx& ctx, Text* out) {
    put_comm(thread_of(ctx), out);
    out->putc('\n');
    return {};
}

// A write renames the thread: its first 15 bytes, a newline included, as Linux keeps them.
Result<void> store_comm(const Ctx& ctx, const char* data, size_t size) {
    thread_set_name(thread_of(ctx), data, size);
    return {};
}

Result<void> gen_maps(const Ctx&, Text* out) {
    size_t room = 4096;
    for (;;) {
        char* at = out->reserve(room);
        if (!at)
            return Errno(ENOMEM);
        size_t len = mm::format_maps(at, room);
        if (len < room) {
            out->commit(len);
            return {};
        }
        room = len + 4096;  // the list may grow before the next try
    }
}

void put_cpu_mask(Text* out) {
    uint64_t n = cpu_count();
    // Linux prints 32-bit groups, highest first, separated by commas.
    uint64_t groups = (n + 31) / 32;
    for (uint64_t g = groups; g-- > 0;) {
        uint64_t bits = n - g * 32 < 32 ? n - g * 32 : 32;
        uint32_t word = bits == 32 ? 0xffffffffu : (1u << bits) - 1;
        int digits = g == groups - 1 ? int((bits + 3) / 4) : 8;
        out->print(g == groups - 1 ? "%0*x" : ",%0*x", digits, word);
    }
}

// /proc/<pid>/limits: the process's resource limits in Linux's table.
Result<void> gen_limits(const Ctx&, Text* out) {
    struct Row {
        const char* name;
        int resource;
        const char* units;
    };
    static constexpr Row kRows[] = {
        {"Max cpu time", RLIMIT_CPU, "seconds"},        {"Max file size", RLIMIT_FSIZE, "bytes"},
        {"Max data size", RLIMIT_DATA, "bytes"},        {"Max stack size", RLIMIT_STACK, "bytes"},
        {"Max core file size", RLIMIT_CORE, "bytes"},   {"Max resident set", RLIMIT_RSS, "bytes"},
        {"Max processes", RLIMIT_NPROC, "processes"},   {"Max open files", RLIMIT_NOFILE, "files"},
        {"Max locked memory", RLIMIT_MEMLOCK, "bytes"}, {"Max address space", RLIMIT_AS, "bytes"},
        {"Max file locks", RLIMIT_LOCKS, "locks"},      {"Max pending signals", RLIMIT_SIGPENDING, "signals"},
        {"Max msgqueue size", RLIMIT_MSGQUEUE, "bytes"}, {"Max nice priority", RLIMIT_NICE, ""},
        {"Max realtime priority", RLIMIT_RTPRIO, ""},   {"Max realtime timeout", RLIMIT_RTTIME, "us"},
    };
    out->print("%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (const Row& row : kRows) {
        ResourceLimit l = process_rlimit(row.resource);
        char soft[24], hard[24];
        if (l.cur == kRlimitInfinity)
            strlcpy(soft, "unlimited", sizeof(soft));
        else
            format(soft, sizeof(soft), "%lu", l.cur);
        if (l.max == kRlimitInfinity)
            strlcpy(hard, "unlimited", sizeof(hard));
        else
            format(hard, sizeof(hard), "%lu", l.max);
        out->print("%-25s %-20s %-20s %-10s\n", row.name, soft, hard, row.units);
    }
    return {};
}

Result<void> gen_status(const Ctx& ctx, Text* out) {
    int tid = ctx.tid ? ctx.tid : ctx.pid;
    uint32_t umask;
    {
        SpinGuard g(g_process.lock);
        umask = g_process.umask;
    }
    uint64_t ignored, caught;
    signal_masks(&ignored, &caught);
    Thread* thread = thread_of(ctx);
    uint64_t thread_pending, shared_pending;
    {
        SpinGuard g(g_process.lock);
        thread_pending = thread->pending;
        shared_pending = g_process.pending;
    }
    mm::Totals t = mm::totals();
    uint32_t uid = g_process.uid, gid = g_process.gid;
    out->puts("Name:\t");
    put_comm(thread, out);
    out->print("\nUmask:\t%04o\nState:\tR (running)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", umask,
               ctx.pid, tid, ipc::procs_own_ids().ppid);
    out->print("Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", uid, uid, uid, uid, gid, gid, gid, gid);
    // No process groups or sessions yet: the process leads its own.
    out->print("FDSize:\t%d\nGroups:\t\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", g_process.fds.capacity(), ctx.pid, tid,
               ctx.pid, ctx.pid);
    mm::Residency rss = mm::residency_totals();
    out->print("VmPeak:\t%8lu kB\nVmSize:\t%8lu kB\nVmLck:\t%8d kB\nVmPin:\t%8d kB\n", t.peak / 1024, t.size / 1024,
               int(t.locked / 1024), 0);
    out->print("VmHWM:\t%8lu kB\nVmRSS:\t%8lu kB\nRssAnon:\t%8lu kB\nRssFile:\t%8lu kB\nRssShmem:\t%8lu kB\n",
               rss.hwm / 1024, rss.total() / 1024, rss.anon / 1024, rss.file / 1024, rss.shmem / 1024);
    out->print("VmData:\t%8lu kB\nVmStk:\t%8lu kB\nVmExe:\t%8lu kB\n", t.data / 1024, t.stack / 1024, t.exec / 1024);
    out->print("Threads:\t%zu\n", thread_count());
    out->print("SigQ:\t%d/%lu\nSigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\nSigIgn:\t%016lx\nSigCgt:\t%016lx\n",
               __builtin_popcountll(thread_pending | shared_pending), kRlimInfinity, thread_pending, shared_pending,
               thread->sigmask, ignored, caught);
    // The capability sets capget(2) reports (creds.h).
    uint64_t caps = process_creds().capabilities();
    out->print("CapInh:\t%016lx\nCapPrm:\t%016lx\nCapEff:\t%016lx\nCapBnd:\t%016lx\nCapAmb:\t%016lx\n", uint64_t{0},
               caps, caps, kCapBounding, uint64_t{0});
    out->puts("NoNewPrivs:\t0\nSeccomp:\t0\nCpus_allowed:\t");
    put_cpu_mask(out);
    out->puts("\nCpus_allowed_list:\t");
    pseudo::put_cpu_list(out);
    out->puts("\nvoluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
    return {};
}

// The 52 fields of proc_pid_stat(5); what the LibOS does not track is 0.
Result<void> gen_stat(const Ctx& ctx, Text* out) {
    int tid = ctx.tid ? ctx.tid : ctx.pid;
    uint64_t ignored, caught;
    signal_masks(&ignored, &caught);
    mm::Totals t = mm::totals();
    uint64_t ticks = clock_ns(PAL_CLOCK_PROCESS_CPU) / (1000000000 / kClockTicksPerSecond);
    uint64_t start = pseudo::start_boottime_ns() / (1000000000 / kClockTicksPerSecond);
    uint32_t cpu = 0, node = 0;
    g_pal->get_cpu(&cpu, &node);
    out->print("%d (", tid);
    put_comm(thread_of(ctx), out);
    ipc::ProcIds ids = ipc::procs_own_ids();
    // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    out->print(") R %d %d %d 0 -1 0 0 0 0 0 ", ids.ppid, ids.pgid, ids.sid);
    // utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss rsslim
    out->print("%lu 0 0 0 20 0 %zu 0 %lu %lu %lu %lu ", ticks, thread_count(), start, t.size,
               mm::residency_totals().total() / 4096, kRlimInfinity);
    // startcode endcode startstack kstkesp kstkeip signal blocked sigignore sigcatch wchan
    // nswap cnswap exit_signal processor
    Thread* thread = thread_of(ctx);
    uint64_t pending;
    {
        SpinGuard g(g_process.lock);
        pending = thread->pending | g_process.pending;
    }
    out->print("0 0 0 0 0 %lu %lu %lu %lu 0 0 0 17 %u ", pending, thread->sigmask, ignored, caught, cpu);
    // rt_priority policy delayacct_blkio_ticks guest_time cguest_time start_data end_data
    // start_brk arg_start arg_end env_start env_end exit_code
    out->puts("0 0 0 0 0 0 0 0 0 0 0 0 0\n");
    return {};
}

Result<void> gen_statm(const Ctx&, Text* out) {
    mm::Totals t = mm::totals();
    mm::Residency rss = mm::residency_totals();
    // size resident shared text lib data dt, in pages.
    out->print("%lu %lu %lu %lu 0 %lu 0\n", t.size / 4096, rss.total() / 4096, (rss.file + rss.shmem) / 4096,
               t.exec / 4096, (t.data + t.stack) / 4096);
    return {};
}

int mount_id(const Mount* m) {
    for (unsigned i = 0; i < vfs_mount_count(); i++)
        if (vfs_mount_at(i) == m)
            return kFirstMountId + int(i);
    return 0;
}

Result<void> gen_fdinfo(const Ctx& ctx, Text* out) {
    auto got = g_process.fds.get(ctx.fd, true);
    if (!got.ok())
        return Errno(ENOENT);
    FileRef f = got.release_value();
    auto cloexec = g_process.fds.get_cloexec(ctx.fd);
    // The position, without moving it: seek(0, SEEK_CUR) answers it where there is one.
    auto pos = f->seek(0, 1);
    uint32_t flags = f->flags() | uint32_t(O_LARGEFILE);  // forced on 64-bit, as Linux shows
    if (f->is_path_only())
        flags |= O_PATH;
    if (cloexec.ok() && cloexec.value())
        flags |= O_CLOEXEC;
    int mnt = f->mount() ? mount_id(f->mount()) : 0;
    Stat st{};
    (void)f->stat(&st);
    out->print("pos:\t%ld\nflags:\t0%o\nmnt_id:\t%d\nino:\t%lu\n", pos.ok() ? pos.value() : 0, flags, mnt, st.ino);
    return {};
}

// Mount paths and sources as /proc/mounts writes them: space, tab, newline and backslash
// in octal.
void put_escaped(Text* out, const char* s) {
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
            out->print("\\%03o", unsigned(uint8_t(*s)));
        else
            out->putc(*s);
    }
}

Result<void> gen_mounts(const Ctx&, Text* out) {
    for (unsigned i = 0; i < vfs_mount_count(); i++) {
        const Mount* m = vfs_mount_at(i);
        put_escaped(out, m->source);
        out->putc(' ');
        put_escaped(out, m->path);
        out->print(" %s %s,relatime 0 0\n", m->fs->type_name(), m->readonly ? "ro" : "rw");
    }
    return {};
}

// The mount that `m` (the i-th) was mounted on: the last earlier one holding its path.
int parent_mount_id(unsigned i) {
    const Mount* m = vfs_mount_at(i);
    for (unsigned j = i; j-- > 0;) {
        const Mount* p = vfs_mount_at(j);
        if (path_is_within(m->path, p->path))
            return kFirstMountId + int(j);
    }
    return kFirstMountId - 1;  // the root's parent lies outside this view, as in a container
}

Result<void> gen_mountinfo(const Ctx&, Text* out) {
    for (unsigned i = 0; i < vfs_mount_count(); i++) {
        const Mount* m = vfs_mount_at(i);
        bool exists = false;
        Stat st{};
        (void)m->fs->lookup("", &exists, &st);
        uint64_t major = ((st.dev >> 8) & 0xfff) | ((st.dev >> 32) & ~uint64_t{0xfff});
        uint64_t minor = (st.dev & 0xff) | ((st.dev >> 12) & ~uint64_t{0xff});
        out->print("%d %d %lu:%lu / ", kFirstMountId + int(i), parent_mount_id(i), major, minor);
        put_escaped(out, m->path);
        out->print(" %s,relatime - %s ", m->readonly ? "ro" : "rw", m->fs->type_name());
        put_escaped(out, m->source);
        out->print(" %s\n", m->readonly ? "ro" : "rw");
    }
    return {};
}

// --- System-wide files ---------------------------------------------------------------------

struct CpuidRegs {
    uint32_t a, b, c, d;
};

CpuidRegs cpuid(uint32_t leaf, uint32_t subleaf = 0) {
    CpuidRegs r;
    asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(subleaf));
    return r;
}

struct CpuFlag {
    uint8_t bit;
    const char* name;
};

// The flag names Linux prints, in its order (capability words 0, 1, 4, 6, 9, 10, 12, 16,
// 18). Only what CPUID reports is shown; the kernel's synthetic flags are not.
constexpr CpuFlag kFlags1Edx[] = {
    {0, "fpu"}, {1, "vme"}, {2, "de"}, {3, "pse"}, {4, "tsc"}, {5, "msr"}, {6, "pae"}, {7, "mce"},
    {8, "cx8"}, {9, "apic"}, {11, "sep"}, {12, "mtrr"}, {13, "pge"}, {14, "mca"}, {15, "cmov"},
    {16, "pat"}, {17, "pse36"}, {18, "pn"}, {19, "clflush"}, {21, "dts"}, {22, "acpi"}, {23, "mmx"},
    {24, "fxsr"}, {25, "sse"}, {26, "sse2"}, {27, "ss"}, {28, "ht"}, {29, "tm"}, {30, "ia64"}, {31, "pbe"},
};
constexpr CpuFlag kFlagsExtEdx[] = {
    {11, "syscall"}, {19, "mp"}, {20, "nx"}, {22, "mmxext"}, {25, "fxsr_opt"}, {26, "pdpe1gb"},
    {27, "rdtscp"}, {29, "lm"}, {30, "3dnowext"}, {31, "3dnow"},
};
constexpr CpuFlag kFlags1Ecx[] = {
    {0, "pni"}, {1, "pclmulqdq"}, {2, "dtes64"}, {3, "monitor"}, {4, "ds_cpl"}, {5, "vmx"}, {6, "smx"},
    {7, "est"}, {8, "tm2"}, {9, "ssse3"}, {10, "cid"}, {11, "sdbg"}, {12, "fma"}, {13, "cx16"},
    {14, "xtpr"}, {15, "pdcm"}, {17, "pcid"}, {18, "dca"}, {19, "sse4_1"}, {20, "sse4_2"}, {21, "x2apic"},
    {22, "movbe"}, {23, "popcnt"}, {24, "tsc_deadline_timer"}, {25, "aes"}, {26, "xsave"}, {28, "avx"},
    {29, "f16c"}, {30, "rdrand"}, {31, "hypervisor"},
};
constexpr CpuFlag kFlagsExtEcx[] = {
    {0, "lahf_lm"}, {1, "cmp_legacy"}, {2, "svm"}, {3, "extapic"}, {4, "cr8_legacy"}, {5, "abm"},
    {6, "sse4a"}, {7, "misalignsse"}, {8, "3dnowprefetch"}, {9, "osvw"}, {10, "ibs"}, {11, "xop"},
    {12, "skinit"}, {13, "wdt"}, {15, "lwp"}, {16, "fma4"}, {17, "tce"}, {19, "nodeid_msr"}, {21, "tbm"},
    {22, "topoext"}, {23, "perfctr_core"}, {24, "perfctr_nb"}, {26, "bpext"}, {27, "ptsc"},
    {28, "perfctr_llc"}, {29, "mwaitx"},
};
constexpr CpuFlag kFlags7Ebx[] = {
    {0, "fsgsbase"}, {1, "tsc_adjust"}, {2, "sgx"}, {3, "bmi1"}, {4, "hle"}, {5, "avx2"}, {7, "smep"},
    {8, "bmi2"}, {9, "erms"}, {10, "invpcid"}, {11, "rtm"}, {12, "cqm"}, {14, "mpx"}, {15, "rdt_a"},
    {16, "avx512f"}, {17, "avx512dq"}, {18, "rdseed"}, {19, "adx"}, {20, "smap"}, {21, "avx512ifma"},
    {23, "clflushopt"}, {24, "clwb"}, {25, "intel_pt"}, {26, "avx512pf"}, {27, "avx512er"},
    {28, "avx512cd"}, {29, "sha_ni"}, {30, "avx512bw"}, {31, "avx512vl"},
};
constexpr CpuFlag kFlagsXsaveEax[] = {{0, "xsaveopt"}, {1, "xsavec"}, {2, "xgetbv1"}, {3, "xsaves"}};
constexpr CpuFlag kFlags71Eax[] = {{4, "avx_vnni"}, {5, "avx512_bf16"}};
constexpr CpuFlag kFlags7Ecx[] = {
    {1, "avx512vbmi"}, {2, "umip"}, {3, "pku"}, {4, "ospke"}, {5, "waitpkg"}, {6, "avx512_vbmi2"},
    {8, "gfni"}, {9, "vaes"}, {10, "vpclmulqdq"}, {11, "avx512_vnni"}, {12, "avx512_bitalg"}, {13, "tme"},
    {14, "avx512_vpopcntdq"}, {16, "la57"}, {22, "rdpid"}, {24, "bus_lock_detect"}, {25, "cldemote"},
    {27, "movdiri"}, {28, "movdir64b"}, {29, "enqcmd"}, {30, "sgx_lc"},
};
constexpr CpuFlag kFlags7Edx[] = {
    {2, "avx512_4vnniw"}, {3, "avx512_4fmaps"}, {4, "fsrm"}, {8, "avx512_vp2intersect"}, {10, "md_clear"},
    {14, "serialize"}, {16, "tsxldtrk"}, {18, "pconfig"}, {19, "arch_lbr"}, {20, "ibt"}, {22, "amx_bf16"},
    {23, "avx512_fp16"}, {24, "amx_tile"}, {25, "amx_int8"}, {28, "flush_l1d"}, {29, "arch_capabilities"},
};

template <size_t N>
void put_flags(Text* out, const CpuFlag (&flags)[N], uint32_t reg) {
    for (const CpuFlag& f : flags)
        if (reg & (1u << f.bit))
            out->print(" %s", f.name);
}

Result<void> gen_cpuinfo(const Ctx&, Text* out) {
    CpuidRegs r0 = cpuid(0);
    uint32_t max_leaf = r0.a;
    char vendor[13];
    memcpy(vendor, &r0.b, 4);
    memcpy(vendor + 4, &r0.d, 4);
    memcpy(vendor + 8, &r0.c, 4);
    vendor[12] = '\0';
    CpuidRegs r1 = cpuid(1);
    uint32_t base_family = (r1.a >> 8) & 0xf;
    uint32_t family = base_family == 0xf ? base_family + ((r1.a >> 20) & 0xff) : base_family;
    uint32_t model = (r1.a >> 4) & 0xf;
    if (base_family == 0x6 || base_family == 0xf)
        model |= ((r1.a >> 16) & 0xf) << 4;
    uint32_t max_ext = cpuid(0x80000000).a;
    char brand[49] = {};
    if (max_ext >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            CpuidRegs b = cpuid(0x80000002 + i);
            memcpy(brand + i * 16, &b, 16);
        }
    }
    // The brand string is padded with spaces on either side; Linux shows it trimmed.
    const char* model_name = brand;
    while (*model_name == ' ')
        model_name++;
    for (size_t len = strlen(brand); len > 0 && brand[len - 1] == ' '; len--)
        brand[len - 1] = '\0';
    CpuidRegs ext1 = max_ext >= 0x80000001 ? cpuid(0x80000001) : CpuidRegs{};
    CpuidRegs l7 = max_leaf >= 7 ? cpuid(7, 0) : CpuidRegs{};
    CpuidRegs l71 = max_leaf >= 7 && l7.a >= 1 ? cpuid(7, 1) : CpuidRegs{};
    CpuidRegs xsave = max_leaf >= 0xd ? cpuid(0xd, 1) : CpuidRegs{};
    uint32_t mhz = max_leaf >= 0x16 ? cpuid(0x16).a & 0xffff : 0;
    uint32_t clflush = ((r1.b >> 8) & 0xff) * 8;
    CpuidRegs sizes = max_ext >= 0x80000008 ? cpuid(0x80000008) : CpuidRegs{};

    for (uint64_t cpu = 0; cpu < cpu_count(); cpu++) {
        out->print("processor\t: %lu\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\nmodel name\t: %s\n"
                   "stepping\t: %u\n",
                   cpu, vendor, family, model, model_name, r1.a & 0xf);
        if (mhz)
            out->print("cpu MHz\t\t: %u.000\n", mhz);
        out->print("fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t:", max_leaf);
        put_flags(out, kFlags1Edx, r1.d);
        put_flags(out, kFlagsExtEdx, ext1.d);
        put_flags(out, kFlags1Ecx, r1.c);
        put_flags(out, kFlagsExtEcx, ext1.c);
        put_flags(out, kFlags7Ebx, l7.b);
        put_flags(out, kFlagsXsaveEax, xsave.a);
        put_flags(out, kFlags71Eax, l71.a);
        put_flags(out, kFlags7Ecx, l7.c);
        put_flags(out, kFlags7Edx, l7.d);
        out->print("\nclflush size\t: %u\ncache_alignment\t: %u\n", clflush, clflush);
        if (sizes.a)
            out->print("address sizes\t: %u bits physical, %u bits virtual\n", sizes.a & 0xff, (sizes.a >> 8) & 0xff);
        out->puts("power management:\n\n");
    }
    return {};
}

void put_meminfo_line(Text* out, const char* name, uint64_t kb) {
    out->print("%-16s%8lu kB\n", name, kb);
}

Result<void> gen_meminfo(const Ctx&, Text* out) {
    mm::MemoryFigures m = mm::memory_figures();
    put_meminfo_line(out, "MemTotal:", m.total / 1024);
    put_meminfo_line(out, "MemFree:", m.free / 1024);
    put_meminfo_line(out, "MemAvailable:", m.free / 1024);
    // Page cache, swap and the kernel's own use do not exist for the LibOS.
    const char* zero[] = {"Buffers:", "Cached:", "SwapCached:", "Active:", "Inactive:", "SwapTotal:",
                          "SwapFree:", "Dirty:", "Writeback:", "AnonPages:", "Mapped:", "Shmem:",
                          "Slab:", "SReclaimable:", "SUnreclaim:"};
    for (const char* name : zero)
        put_meminfo_line(out, name, 0);
    out->print("%-16s%8d\n%-16s%8d\n", "HugePages_Total:", 0, "HugePages_Free:", 0);
    put_meminfo_line(out, "Hugepagesize:", 2048);
    return {};
}

// The host's boot time and uptime (the clocks the LibOS reads are the host's); the CPU
// time is this process's, split evenly over the CPUs, and the rest of the time since the
// LibOS started is idle.
Result<void> gen_stat_sys(const Ctx&, Text* out) {
    constexpr uint64_t kNsPerTick = 1000000000 / kClockTicksPerSecond;
    uint64_t now_boot = clock_ns(PAL_CLOCK_BOOTTIME);
    uint64_t now_real = clock_ns(PAL_CLOCK_REALTIME);
    uint64_t n = cpu_count();
    uint64_t busy = clock_ns(PAL_CLOCK_PROCESS_CPU) / kNsPerTick;
    uint64_t elapsed = (now_boot - pseudo::start_boottime_ns()) / kNsPerTick * n;
    uint64_t idle = elapsed > busy ? elapsed - busy : 0;
    out->print("cpu  %lu 0 0 %lu 0 0 0 0 0 0\n", busy, idle);
    for (uint64_t i = 0; i < n; i++)
        out->print("cpu%lu %lu 0 0 %lu 0 0 0 0 0 0\n", i, busy / n, idle / n);
    out->print("intr 0\nctxt 0\nbtime %lu\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n"
               "softirq 0 0 0 0 0 0 0 0 0 0 0\n",
               (now_real - now_boot) / 1000000000);
    return {};
}

Result<void> gen_uptime(const Ctx&, Text* out) {
    uint64_t cs = clock_ns(PAL_CLOCK_BOOTTIME) / 10000000;  // hundredths of a second
    // Idle time is not known to the LibOS.
    out->print("%lu.%02lu 0.00\n", cs / 100, cs % 100);
    return {};
}

Result<void> gen_loadavg(const Ctx&, Text* out) {
    // The host's load is not known to the LibOS; the task counts are this process's.
    out->print("0.00 0.00 0.00 1/%zu %d\n", thread_count(), g_process.pid);
    return {};
}

Result<void> gen_version(const Ctx&, Text* out) {
    out->print("Linux version %s (carbyne) (Carbyne library OS) %s\n", kOsRelease, kOsVersion);
    return {};
}

Result<void> gen_osrelease(const Ctx&, Text* out) {
    out->print("%s\n", kOsRelease);
    return {};
}

Result<void> gen_kernel_version(const Ctx&, Text* out) {
    out->print("%s\n", kOsVersion);
    return {};
}

Result<void> gen_hostname(const Ctx&, Text* out) {
    out->print("%s\n", kHostname);
    return {};
}

Result<void> gen_filesystems(const Ctx&, Text* out) {
    out->puts("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tchroot\n");
    return {};
}

Result<void> gen_boot_id(const Ctx&, Text* out) {
    out->print("%s\n", g_boot_id);
    return {};
}

void format_uuid(char out[37]) {
    uint8_t b[16] = {};
    g_pal->random_bytes(b, sizeof(b));
    b[6] = uint8_t((b[6] & 0x0f) | 0x40);  // version 4: random
    b[8] = uint8_t((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    format(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
           b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

// A new one at every read, as Linux does.
Result<void> gen_uuid(const Ctx&, Text* out) {
    char uuid[37];
    format_uuid(uuid);
    out->print("%s\n", uuid);
    return {};
}

Result<void> gen_pid_max(const Ctx&, Text* out) {
    out->print("%d\n", kPidMax);
    return {};
}

// A file holding one of the LibOS's own limits, so that what /proc shows is what it does.
template <uint64_t kValue>
Result<void> gen_number(const Ctx&, Text* out) {
    out->print("%lu\n", kValue);
    return {};
}

// --- The tree ------------------------------------------------------------------------------

using pseudo::dir;
using pseudo::dyn_dir;
using pseudo::file;
using pseudo::fixed_symlink;
using pseudo::magic_link;
using pseudo::rw_file;
using pseudo::symlink;
using pseudo::text_file;

constexpr Node kFdLink = {.name = "", .kind = Kind::Symlink, .perm = 0700, .generate = link_fd, .size = 64,
                          .perm_of = fd_link_perm, .magic = true};
constexpr DynEntries kFdEntries = {Slot::Fd, "", list_fds, fd_exists, &kFdLink};
constexpr Node kFdInfoFile = file("", gen_fdinfo);
constexpr DynEntries kFdInfoEntries = {Slot::Fd, "", list_fds, fd_exists, &kFdInfoFile};

// The files of /proc/<pid>/ and /proc/<pid>/task/<tid>/, in Linux's order.
#define CARBYNE_PROC_PID_ENTRIES                                                                    \
    file("cmdline", gen_cmdline), rw_file("comm", gen_comm, store_comm), magic_link("cwd", link_cwd),           \
        file("environ", gen_environ, 0400), magic_link("exe", link_exe), dyn_dir("fd", &kFdEntries, 0500), \
        dyn_dir("fdinfo", &kFdInfoEntries), file("limits", gen_limits), file("maps", gen_maps),      \
        file("mountinfo", gen_mountinfo),                                                           \
        file("mounts", gen_mounts), magic_link("root", link_root), file("stat", gen_stat),             \
        file("statm", gen_statm), file("status", gen_status)

constexpr Node kTidChildren[] = {CARBYNE_PROC_PID_ENTRIES};
constexpr Node kTidDir = dir("", kTidChildren);
constexpr DynEntries kTidEntries = {Slot::Tid, "", list_tids, tid_exists, &kTidDir};
constexpr Node kPidChildren[] = {CARBYNE_PROC_PID_ENTRIES, dyn_dir("task", &kTidEntries)};
constexpr Node kPidDir = dir("", kPidChildren);
constexpr DynEntries kPidEntries = {Slot::Pid, "", list_pids, pid_exists, &kPidDir};

#undef CARBYNE_PROC_PID_ENTRIES

constexpr Node kKernelRandom[] = {
    file("boot_id", gen_boot_id),
    text_file("entropy_avail", "256\n"),
    text_file("poolsize", "256\n"),
    file("uuid", gen_uuid),
};
// The kernel's tunables that programs and test suites read, with Linux's defaults (and the
// LibOS's own limits where it has them: inotify's, the descriptor table's). Writing them
// is refused: the instance's kernel is not reconfigured from inside.
constexpr Node kSysKernel[] = {
    file("cap_last_cap", gen_number<kCapLastCap>),
    text_file("core_pattern", "core\n", 0644),
    text_file("core_uses_pid", "0\n", 0644),
    text_file("dmesg_restrict", "1\n", 0644),
    text_file("domainname", "(none)\n", 0644),
    file("hostname", gen_hostname, 0644),
    text_file("kptr_restrict", "1\n", 0644),
    text_file("msgmax", "8192\n", 0644),
    text_file("msgmnb", "16384\n", 0644),
    text_file("msgmni", "32000\n", 0644),
    text_file("ngroups_max", "65536\n"),
    file("osrelease", gen_osrelease),
    text_file("ostype", "Linux\n"),
    text_file("overflowgid", "65534\n", 0644),
    text_file("overflowuid", "65534\n", 0644),
    text_file("panic", "0\n", 0644),
    text_file("perf_event_paranoid", "2\n", 0644),
    file("pid_max", gen_pid_max, 0644),
    text_file("printk", "4\t4\t1\t7\n", 0644),
    dir("random", kKernelRandom),
    text_file("randomize_va_space", "2\n", 0644),
    text_file("sem", "32000\t1024000000\t500\t32000\n", 0644),
    text_file("shmall", "18446744073692774399\n", 0644),
    text_file("shmmax", "18446744073692774399\n", 0644),
    text_file("shmmni", "4096\n", 0644),
    text_file("tainted", "0\n", 0644),
    text_file("threads-max", "126000\n", 0644),
    file("version", gen_kernel_version),
};
constexpr Node kSysVm[] = {
    text_file("dirty_background_ratio", "10\n", 0644),
    text_file("dirty_ratio", "20\n", 0644),
    text_file("max_map_count", "65530\n", 0644),
    text_file("mmap_min_addr", "4096\n", 0644),
    text_file("nr_hugepages", "0\n", 0644),
    text_file("overcommit_kbytes", "0\n", 0644),
    text_file("overcommit_memory", "0\n", 0644),
    text_file("overcommit_ratio", "50\n", 0644),
    text_file("page-cluster", "3\n", 0644),
    text_file("swappiness", "60\n", 0644),
    text_file("vfs_cache_pressure", "100\n", 0644),
};
constexpr Node kSysFsInotify[] = {
    file("max_queued_events", gen_number<kInotifyMaxQueuedEvents>, 0644),
    file("max_user_instances", gen_number<kInotifyMaxInstances>, 0644),
    file("max_user_watches", gen_number<kInotifyMaxWatches>, 0644),
};
constexpr Node kSysFs[] = {
    text_file("file-max", "9223372036854775807\n", 0644),
    dir("inotify", kSysFsInotify),
    file("nr_open", gen_number<kNrOpen>, 0644),
    file("pipe-max-size", gen_number<net::kPipeMaxSize>, 0644),
};
constexpr Node kSysNetCore[] = {
    text_file("somaxconn", "4096\n", 0644),
};
constexpr Node kSysNet[] = {
    dir("core", kSysNetCore),
};
constexpr Node kSys[] = {
    dir("fs", kSysFs),
    dir("kernel", kSysKernel),
    dir("net", kSysNet),
    dir("vm", kSysVm),
};

constexpr Node kRootChildren[] = {
    file("cpuinfo", gen_cpuinfo),
    file("filesystems", gen_filesystems),
    file("loadavg", gen_loadavg),
    file("meminfo", gen_meminfo),
    fixed_symlink("mounts", "self/mounts"),
    symlink("self", link_self),
    file("stat", gen_stat_sys),
    dir("sys", kSys),
    symlink("thread-self", link_thread_self),
    file("uptime", gen_uptime),
    file("version", gen_version),
};
constexpr Node kRoot = dir("", kRootChildren, 0555, &kPidEntries);

}  // namespace

constinit const pseudo::FsInfo g_procfs_info = {
    "proc", &kRoot, pseudo::makedev(0, 0x7c1), 0x9fa0 /* PROC_SUPER_MAGIC */, Errno(ENOENT), false};

namespace {

// Makes the joined strings (heap blocks, each replacing the old one unless null) what
// /proc/self/cmdline and environ show.
void publish_args(char* cmdline, size_t cmdline_size, char* environ, size_t environ_size) {
    char *old_cmdline = nullptr, *old_environ = nullptr;
    {
        SpinGuard g(g_args_lock);
        if (cmdline) {
            old_cmdline = g_cmdline;
            g_cmdline = cmdline;
            g_cmdline_size = cmdline_size;
        }
        if (environ) {
            old_environ = g_environ;
            g_environ = environ;
            g_environ_size = environ_size;
        }
    }
    kfree(old_cmdline);
    kfree(old_environ);
}

}  // namespace

Result<void> procfs_set_args(const char* const* argv, const char* const* envp) {
    char *cmdline = nullptr, *environ = nullptr;
    size_t cmdline_size = 0, environ_size = 0;
    if (argv)
        TRY(join(argv, &cmdline, &cmdline_size));
    if (envp) {
        auto joined = join(envp, &environ, &environ_size);
        if (!joined.ok()) {
            kfree(cmdline);
            return joined.error();
        }
    }
    publish_args(argv ? cmdline : nullptr, cmdline_size, envp ? environ : nullptr, environ_size);
    return {};
}

void procfs_args_save(ckpt::Encoder& out) {
    // Copied under the lock, encoded after it (the encoder allocates).
    char *cmdline = nullptr, *environ = nullptr;
    size_t cmdline_size = 0, environ_size = 0;
    for (;;) {
        size_t want_c, want_e;
        {
            SpinGuard g(g_args_lock);
            want_c = g_cmdline_size;
            want_e = g_environ_size;
            if (cmdline && environ && want_c <= cmdline_size && want_e <= environ_size) {
                memcpy(cmdline, g_cmdline, want_c);
                memcpy(environ, g_environ, want_e);
                cmdline_size = want_c;
                environ_size = want_e;
                break;
            }
        }
        kfree(cmdline);
        kfree(environ);
        cmdline = static_cast<char*>(kmalloc(want_c + 1));
        environ = static_cast<char*>(kmalloc(want_e + 1));
        cmdline_size = want_c;
        environ_size = want_e;
        if (!cmdline || !environ) {
            kfree(cmdline);
            kfree(environ);
            out.bytes("", 0);
            out.bytes("", 0);
            return;
        }
    }
    out.bytes(cmdline, cmdline_size);
    out.bytes(environ, environ_size);
    kfree(cmdline);
    kfree(environ);
}

Result<void> procfs_args_restore(ckpt::Decoder& in) {
    const uint8_t *cmdline, *environ;
    size_t cmdline_size, environ_size;
    constexpr size_t kMax = 64 << 20;
    if (!in.bytes(&cmdline, &cmdline_size, kMax) || !in.bytes(&environ, &environ_size, kMax))
        return Errno(EINVAL);
    char* c = static_cast<char*>(kmalloc(cmdline_size + 1));
    char* e = static_cast<char*>(kmalloc(environ_size + 1));
    if (!c || !e) {
        kfree(c);
        kfree(e);
        return Errno(ENOMEM);
    }
    memcpy(c, cmdline, cmdline_size);
    memcpy(e, environ, environ_size);
    publish_args(c, cmdline_size, e, environ_size);
    return {};
}

Result<void> procfs_init(const boot::Reader& config) {
    format_uuid(g_boot_id);
    // argv and the environment as the LibOS passes them to the program (init.cpp): the
    // Argv records, or the entrypoint alone when there are none.
    size_t argc = 0, envc = 0;
    const char* entrypoint = nullptr;
    boot::Reader r = config;
    boot::Record rec;
    while (r.next(&rec)) {
        argc += rec.tag == boot::Tag::Argv;
        envc += rec.tag == boot::Tag::Env;
        if (rec.tag == boot::Tag::Entrypoint)
            entrypoint = rec.as_string();
    }
    auto** argv = static_cast<const char**>(kzalloc((argc + envc + 3) * sizeof(char*)));
    if (!argv)
        return Errno(ENOMEM);
    const char** envp = argv + argc + 2;
    size_t a = 0, e = 0;
    r = config;
    while (r.next(&rec)) {
        const char* s = rec.as_string();
        if (rec.tag == boot::Tag::Argv && s)
            argv[a++] = s;
        else if (rec.tag == boot::Tag::Env && s)
            envp[e++] = s;
    }
    if (a == 0 && entrypoint)
        argv[a++] = entrypoint;
    auto set = procfs_set_args(argv, envp);
    kfree(argv);
    return set;
}

}  // namespace carbyne::libos::fs
