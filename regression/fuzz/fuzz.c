// A system-call fuzzer: worker threads make random system calls with edge-case arguments
// (calls_*.c, gen.c), deterministic from a seed, and check that each one returns. Run under
// Carbyne it looks for LibOS crashes, hangs and impossible results; run natively it shows
// that the fuzzer itself is sound. run-fuzz drives it; fuzz.h says what keeps it safe.
// Run as root, it first becomes nobody (65534), so that no mistake of it reaches further
// than an unprivileged user could.
//
//   fuzz [--seed N] [--calls N | --seconds S] [--threads N] [--verbose] [--hang-ms MS]
//        [--hang-wait S] [--dir PATH] [--ring-file FILE] [--only a,b] [--exclude a,b]
//   fuzz --list | --dump-ring FILE
//
// The main thread is the watchdog: a call that blocks for more than 4 ms is interrupted
// with SIG_INTERRUPT (it must return EINTR); one still running after --hang-ms (5 s) is a
// hang: the watchdog prints it with the worker's last calls and exits EXIT_HANG. A crash
// of the fuzzer (SIGSEGV and the like: the LibOS must answer EFAULT instead) prints the
// same and dies of the signal. A result no kernel gives (an errno above 133, a new fd
// 0-2, more bytes than asked for) is an anomaly: printed, and the exit status is
// EXIT_ANOMALY. With --verbose every call is printed before it is made and after.
//
// A finding is replayed with the same --seed and --threads (one thread replays exactly,
// timing aside); its printed arguments are enough to write a reproducer. When the process
// dies without a word (the LibOS killed it, or the kernel could not deliver a signal), the
// rings in --ring-file, a shared mapping that outlives it, still hold each worker's last
// calls: `fuzz --dump-ring FILE` prints them. --hang-wait keeps a hung process alive for a
// debugger after the report.
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

struct options g_opt = {.seed = 1, .threads = 1, .hang_ms = 5000};

pid_t g_pid;
pid_t g_tids[MAX_THREADS];
int g_nthreads;
uid_t g_uid;
gid_t g_gid;
unsigned char *g_region;
unsigned char *g_arena;
unsigned char *g_ro_page;
unsigned char *g_guard_page;
uint32_t *g_futex_words;
uint64_t g_restorer;
pthread_mutex_t g_mm_lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic int g_stop;
char g_scratch[2][512];
const char *g_paths_rw[NPATHS_MAX];
int g_npaths_rw;
const char *g_paths_ro[NPATHS_MAX];
int g_npaths_ro;

const struct sysdef *g_sysdefs;
int g_nsysdefs;
static struct sysdef g_table[512];

// The workers' state, their rings of last calls included. With --ring-file it lives in a
// shared mapping of that file, which outlives the process: after a crash that left the
// fuzzer no chance to report (the LibOS killed the process), `fuzz --dump-ring FILE` shows
// the calls that led to it.
struct ring_file {
    uint64_t magic;
    uint64_t seed;
    int32_t threads;
    int32_t pad;
    struct worker workers[MAX_THREADS];
};
#define RING_MAGIC 0x676e6972207a7566ull  // "fuz ring"
static struct ring_file g_local_rings;
static struct ring_file *g_rings = &g_local_rings;
static struct worker *g_workers = g_local_rings.workers;
static _Atomic uint64_t g_signals[65];
static __thread struct worker *t_self;
static int g_enabled[512];  // per g_sysdefs entry: 1 when it may be picked
static uint64_t g_cumulative[512];
static uint64_t g_total_weight;

// --- output that works in a signal handler: no stdio, one write per line ---

struct line {
    char buf[1024];
    size_t n;
};

static void put(struct line *l, const char *s) {
    while (*s && l->n < sizeof(l->buf) - 1)
        l->buf[l->n++] = *s++;
}

static void put_dec(struct line *l, long v) {
    char tmp[24];
    int i = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
    do {
        tmp[i++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        put(l, "-");
    while (i && l->n < sizeof(l->buf) - 1)
        l->buf[l->n++] = tmp[--i];
}

static void put_hex(struct line *l, uint64_t v) {
    char tmp[20];
    int i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    put(l, "0x");
    while (i && l->n < sizeof(l->buf) - 1)
        l->buf[l->n++] = tmp[--i];
}

static void emit(int fd, struct line *l) {
    l->buf[l->n++] = '\n';
    size_t done = 0;
    while (done < l->n) {
        ssize_t r = write(fd, l->buf + done, l->n - done);
        if (r <= 0)
            break;
        done += (size_t)r;
    }
    l->n = 0;
}

const char *sysname(long nr) {
    for (int i = 0; i < g_nsysdefs; i++)
        if (g_sysdefs[i].nr == nr)
            return g_sysdefs[i].name;
    return NULL;
}

void report_call(int fd, const char *prefix, int worker, uint64_t seq, long nr, const uint64_t *a,
                 int with_ret, long ret) {
    struct line l = {.n = 0};
    put(&l, prefix);
    put(&l, " w");
    put_dec(&l, worker);
    put(&l, "#");
    put_dec(&l, (long)seq);
    put(&l, " ");
    const char *name = sysname(nr);
    if (name) {
        put(&l, name);
    } else {
        put(&l, "syscall_");
        put_hex(&l, (uint64_t)nr);
    }
    put(&l, "(");
    for (int i = 0; i < 6; i++) {
        if (i)
            put(&l, ", ");
        if (a[i] < 4096)
            put_dec(&l, (long)a[i]);
        else if (a[i] > (uint64_t)-4096)
            put_dec(&l, (long)a[i]);
        else
            put_hex(&l, a[i]);
    }
    put(&l, ") [nr ");
    put_dec(&l, nr);
    put(&l, "]");
    if (with_ret) {
        put(&l, " = ");
        if (ret < 0 && ret > -4096) {
            put(&l, "-");
            const char *en = strerrorname_np((int)-ret);
            put(&l, en ? en : "?");
            put(&l, " (");
            put_dec(&l, ret);
            put(&l, ")");
        } else if (ret >= 0 && ret < 65536) {
            put_dec(&l, ret);
        } else {
            put_hex(&l, (uint64_t)ret);
        }
    }
    emit(fd, &l);
}

// The bytes the in-flight call's pointer arguments point at in the worker's buffer (the
// structures a reproducer needs; later calls reuse the buffer, so only for this call).
static void report_arg_memory(int fd, struct worker *w, const struct call *c) {
    for (int i = 0; i < 6; i++) {
        uint64_t p = c->a[i], lo = (uint64_t)w->buf, hi = lo + BUF_SIZE;
        if (p < lo || p >= hi)
            continue;
        struct line l = {.n = 0};
        put(&l, "    arg ");
        put_dec(&l, i);
        put(&l, " points at:");
        for (uint64_t q = p; q < p + 64 && q < hi; q += 8) {
            uint64_t v = 0;
            memcpy(&v, (const void *)q, q + 8 <= hi ? 8 : hi - q);
            put(&l, " ");
            put_hex(&l, v);
        }
        emit(fd, &l);
    }
}

static void report_ring(int fd, struct worker *w) {
    uint64_t next = atomic_load(&w->ring_next);
    uint64_t first = next > RING_SIZE ? next - RING_SIZE : 0;
    struct line l = {.n = 0};
    put(&l, "fuzz: the last calls of worker ");
    put_dec(&l, w->index);
    put(&l, " (seed ");
    put_dec(&l, (long)g_opt.seed);
    put(&l, ", threads ");
    put_dec(&l, g_opt.threads);
    put(&l, "):");
    emit(fd, &l);
    for (uint64_t i = first; i < next; i++) {
        struct ring_entry *e = &w->ring[i % RING_SIZE];
        report_call(fd, "  ", w->index, e->seq, e->nr, e->a, 1, e->ret);
    }
}

static void report_in_flight(int fd, const char *what) {
    for (int i = 0; i < g_nthreads; i++) {
        struct worker *w = &g_workers[i];
        if (atomic_load(&w->busy))
            report_call(fd, what, i, w->cur.seq, w->cur.nr, w->cur.a, 0, 0);
    }
}

// --- signals ---

static void on_signal(int sig, siginfo_t *si, void *ctx) {
    (void)si;
    (void)ctx;
    if (sig > 0 && sig <= 64)
        atomic_fetch_add_explicit(&g_signals[sig], 1, memory_order_relaxed);
    if (sig == SIGINT || sig == SIGTERM)
        atomic_store(&g_stop, 1);
}

static void on_crash(int sig, siginfo_t *si, void *ctx) {
    struct line l = {.n = 0};
    put(&l, "fuzz: CRASH: signal ");
    put_dec(&l, sig);
    put(&l, " (");
    put(&l, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
    put(&l, ") code ");
    put_dec(&l, si->si_code);
    put(&l, " address ");
    put_hex(&l, (uint64_t)si->si_addr);
    put(&l, " at rip ");
    put_hex(&l, (uint64_t)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP]);
    struct worker *w = t_self;
    if (w) {
        put(&l, " in worker ");
        put_dec(&l, w->index);
        if (atomic_load(&w->busy))
            put(&l, " during its call:");
        else
            put(&l, " between calls (in the fuzzer's own code)");
    } else {
        put(&l, " in the watchdog");
    }
    emit(2, &l);
    if (w) {
        if (atomic_load(&w->busy)) {
            report_call(2, "  ", w->index, w->cur.seq, w->cur.nr, w->cur.a, 0, 0);
            report_arg_memory(2, w, &w->cur);
        }
        report_ring(2, w);
    }
    // Die of the signal, as without a handler.
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    if (si->si_code <= 0)
        syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
    // A fault returns to the faulting instruction, which faults again without a handler.
}

static int is_crash_signal(int sig) {
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT ||
           sig == SIGSYS || sig == SIGTRAP;
}

static void install_handlers(void) {
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_flags = SA_SIGINFO;  // no SA_RESTART: a handled signal ends a blocking call
        sa.sa_sigaction = is_crash_signal(sig) ? on_crash : on_signal;
        if (is_crash_signal(sig))
            sa.sa_flags |= SA_NODEFER;
        sigaction(sig, &sa, NULL);
    }
    // The restorer libc gave the kernel: fuzzed sigactions use it too (x86-64 needs one).
    uint64_t act[4];
    syscall(SYS_rt_sigaction, SIGUSR1, NULL, act, 8);
    g_restorer = act[2];
}

// --- setup ---

static double now_s(void);

static void die(const char *what) {
    fprintf(stderr, "fuzz: %s: %s\n", what, strerror(errno));
    exit(EXIT_USAGE);
}

static void *map_or_die(size_t size) {
    void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap");
    return p;
}

static void setup_memory(void) {
    // [hard guard][guard][arena][guard][hard guard]: memory calls stay inside the middle
    // three; the hard guards are never touched, so an access that runs off the arena
    // always ends at an inaccessible page.
    size_t region_pages = ARENA_PAGES + 2 * ARENA_GUARD_PAGES;
    unsigned char *base = map_or_die((region_pages + 2) * PAGE);
    g_region = base + PAGE;
    g_arena = g_region + ARENA_GUARD_PAGES * PAGE;
    if (mprotect(g_arena, ARENA_PAGES * PAGE, PROT_READ | PROT_WRITE))
        die("mprotect");
    // [guard][read-only][guard][futex words][guard]
    unsigned char *misc = map_or_die(5 * PAGE);
    g_guard_page = misc;
    g_ro_page = misc + PAGE;
    g_futex_words = (uint32_t *)(misc + 3 * PAGE);
    if (mprotect(g_ro_page, PAGE, PROT_READ) || mprotect(g_futex_words, PAGE, PROT_READ | PROT_WRITE))
        die("mprotect");
    for (int i = 0; i < g_opt.threads; i++) {
        unsigned char *b = map_or_die(BUF_SIZE + 2 * PAGE);
        if (mprotect(b + PAGE, BUF_SIZE, PROT_READ | PROT_WRITE))
            die("mprotect");
        g_workers[i].buf = b + PAGE;
    }
}

// Names below a scratch directory. Written-through paths are these, made absolute; none
// leaves its directory (no ".."), and symlinks made by the fuzzer never point outside.
static const char *const kScratchNames[] = {
    "f0", "f1", "f2", "f3", "d0", "d1", "d0/f0", "d0/f1", "d0/d2", "d0/d2/f0", "d1/f0", "l0", "l1",
    "l2", "l2/f0", "d0/l3", "p0", "s0", "n0", "d0/n0", "n0/n1", "f0/", "d0/", "d0/./f1", "d0//f0",
    "f0/x", "sp ace", "\xff\xfe", "a\nb"};

static const char *const kReadOnlyPaths[] = {
    "/", "/proc/self/maps", "/proc/self/status", "/proc/self/stat", "/proc/self/fd", "/proc/self/fd/3",
    "/proc/self/fd/4", "/proc/self/exe", "/proc/self/cwd", "/proc/self/root", "/proc/self/task",
    "/proc/self/mem", "/proc/self/environ", "/proc/self/cmdline", "/proc/self/mountinfo",
    "/proc/self/fdinfo/3", "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/uptime",
    "/proc/version", "/proc/1/status", "/proc", "/dev", "/dev/null", "/dev/zero", "/dev/urandom",
    "/dev/random", "/dev/full", "/dev/shm", "/sys", "/sys/devices/system/cpu/online", "/etc/passwd",
    "/etc/hostname", "/etc/ld.so.cache", "/usr/lib", "/nonexistent", "/nonexistent/x", ".", "..", "",
    "f0", "../../..", "/.", "//", "/proc/self/fd/0", "/dev/null/", "/etc/passwd/x", "/proc/self/./../self",
};

static void build_paths(void) {
    for (size_t i = 0; i < sizeof(kScratchNames) / sizeof(kScratchNames[0]); i++)
        if (!strstr(kScratchNames[i], ".."))
            g_paths_rw[g_npaths_rw++] = kScratchNames[i];
    // NAME_MAX exactly, one more, and a path longer than PATH_MAX.
    char *name = calloc(1, 300);
    memset(name, 'n', 255);
    g_paths_rw[g_npaths_rw++] = name;
    name = calloc(1, 300);
    memset(name, 'n', 256);
    g_paths_rw[g_npaths_rw++] = name;
    char *deep = calloc(1, PATH_MAX + 100);
    for (size_t n = 0; n + 3 < PATH_MAX + 50; n += 3)
        memcpy(deep + n, "d0/", 3);
    g_paths_rw[g_npaths_rw++] = deep;
    for (size_t i = 0; i < sizeof(kReadOnlyPaths) / sizeof(kReadOnlyPaths[0]); i++)
        g_paths_ro[g_npaths_ro++] = kReadOnlyPaths[i];
    char *up = calloc(1, PATH_MAX + 100);
    for (size_t n = 0; n + 3 < PATH_MAX + 50; n += 3)
        memcpy(up + n, "../", 3);
    g_paths_ro[g_npaths_ro++] = up;
}

static void join(char *out, size_t size, const char *dir, const char *name) {
    snprintf(out, size, "%s/%s", dir, name);
}

// The starting tree of a scratch directory (the maintenance puts the directories back).
static void populate(const char *root) {
    char p[1024];
    static const char *const kDirs[] = {"d0", "d1", "d0/d2"};
    static const char *const kFiles[] = {"f0", "f1", "f2", "f3", "d0/f0", "d0/f1", "d1/f0", "d0/d2/f0"};
    for (size_t i = 0; i < 3; i++) {
        join(p, sizeof(p), root, kDirs[i]);
        mkdir(p, 0755);
    }
    for (size_t i = 0; i < 8; i++) {
        join(p, sizeof(p), root, kFiles[i]);
        int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd >= 0) {
            if (write(fd, "carbyne fuzz scratch file\n", 26) < 0)
                perror("fuzz: write");
            close(fd);
        }
    }
    join(p, sizeof(p), root, "l0");
    if (symlink("l1", p)) {}  // l0 -> l1 -> l0: ELOOP
    join(p, sizeof(p), root, "l1");
    if (symlink("l0", p)) {}
    join(p, sizeof(p), root, "l2");
    if (symlink("d0", p)) {}
    join(p, sizeof(p), root, "p0");
    mkfifo(p, 0644);
}

static int remove_tree_at(int dirfd, const char *name, int depth);

static void remove_contents(int fd, int depth) {
    char buf[8192];
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        int removed = 0;
        for (long off = 0; off < n;) {
            struct {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *d = (void *)(buf + off);
            if (strcmp(d->name, ".") && strcmp(d->name, ".."))
                removed += remove_tree_at(fd, d->name, depth + 1);
            off += d->reclen;
        }
        if (!removed)
            break;
        lseek(fd, 0, SEEK_SET);
    }
}

static int remove_tree_at(int dirfd, const char *name, int depth) {
    if (unlinkat(dirfd, name, 0) == 0)
        return 1;
    if (depth > 64)
        return 0;
    fchmodat(dirfd, name, 0700, 0);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    remove_contents(fd, depth);
    close(fd);
    return unlinkat(dirfd, name, AT_REMOVEDIR) == 0;
}

static void remove_scratch(const char *root) {
    chmod(root, 0700);
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        remove_contents(fd, 0);
        close(fd);
    }
    rmdir(root);  // may fail when its parent is not ours: the driver removes it then
}

static void setup_scratch(void) {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        die("getcwd");
    char base[PATH_MAX];
    if (g_opt.dir)
        snprintf(base, sizeof(base), "%s", g_opt.dir);
    else
        snprintf(base, sizeof(base), "%s/fuzz-scratch-%d-%llu-%ld", cwd, (int)g_pid,
                 (unsigned long long)g_opt.seed, (long)(now_s() * 1000) % 1000000);
    if (base[0] != '/') {
        char abs[PATH_MAX + 8];
        snprintf(abs, sizeof(abs), "%s/%s", cwd, base);
        snprintf(base, sizeof(base), "%s", abs);
    }
    if (strlen(base) > 300) {
        fprintf(stderr, "fuzz: the scratch directory's path is too long: %s\n", base);
        exit(EXIT_USAGE);
    }
    snprintf(g_scratch[0], sizeof(g_scratch[0]), "%s", base);
    snprintf(g_scratch[1], sizeof(g_scratch[1]), "/tmp/carbyne-fuzz-%d-%llu", (int)g_pid,
             (unsigned long long)g_opt.seed);
    for (int i = 0; i < 2; i++) {
        if (mkdir(g_scratch[i], 0755) && errno != EEXIST)
            die(g_scratch[i]);
        populate(g_scratch[i]);
    }
}

// Run as root, the fuzzer first becomes nobody: a mistake in it then cannot reach beyond
// what any user may change. The scratch directories become nobody's first.
static void chown_tree(const char *path) {
    if (lchown(path, 65534, 65534)) {}
    struct stat st;
    if (lstat(path, &st) || !S_ISDIR(st.st_mode))
        return;
    static const char *const kNames[] = {"f0", "f1", "f2", "f3", "d0", "d1", "d0/f0", "d0/f1", "d1/f0",
                                         "d0/d2", "d0/d2/f0", "l0", "l1", "l2", "p0"};
    char p[1024];
    for (size_t i = 0; i < sizeof(kNames) / sizeof(kNames[0]); i++) {
        join(p, sizeof(p), path, kNames[i]);
        if (lchown(p, 65534, 65534)) {}
    }
}

static void drop_privileges(void) {
    if (geteuid() != 0)
        return;
    for (int i = 0; i < 2; i++)
        chown_tree(g_scratch[i]);
    if (syscall(SYS_setgroups, 0, NULL) || syscall(SYS_setresgid, 65534, 65534, 65534) ||
        syscall(SYS_setresuid, 65534, 65534, 65534)) {
        die("dropping root for nobody");
    }
    if (geteuid() == 0) {
        fprintf(stderr, "fuzz: still root after setresuid\n");
        exit(EXIT_USAGE);
    }
}

// --- calls ---

static const struct sysdef *pick(struct worker *w) {
    uint64_t r = below(w, g_total_weight);
    int lo = 0, hi = g_nsysdefs - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (g_cumulative[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return &g_sysdefs[lo];
}

static long do_call(struct worker *w, struct call *c, int internal) {
    c->seq = atomic_load(&w->ring_next) + 1;
    if (g_opt.verbose)
        report_call(2, internal ? "fuzz: call (maintenance)" : "fuzz: call", w->index, c->seq, c->nr, c->a, 0, 0);
    atomic_store(&w->busy, c->seq);
    errno = 0;
    long r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
    int e = errno;
    atomic_store(&w->busy, 0);
    if (r == -1 && e)
        r = -e;
    uint64_t slot = atomic_load(&w->ring_next);
    struct ring_entry *re = &w->ring[slot % RING_SIZE];
    re->seq = c->seq;
    re->nr = c->nr;
    memcpy(re->a, c->a, sizeof(re->a));
    re->ret = r;
    atomic_store(&w->ring_next, slot + 1);
    if (g_opt.verbose)
        report_call(2, "fuzz: done", w->index, c->seq, c->nr, c->a, 1, r);
    return r;
}

static void anomaly(struct worker *w, struct call *c, long ret, const char *why) {
    w->anomalies++;
    struct line l = {.n = 0};
    put(&l, "fuzz: ANOMALY: ");
    put(&l, why);
    emit(2, &l);
    report_call(2, "  ", w->index, c->seq, c->nr, c->a, 1, ret);
    report_arg_memory(2, w, c);
}

static int in_buf(struct worker *w, uint64_t p, size_t size) {
    uint64_t lo = (uint64_t)w->buf;
    return p >= lo && p + size <= lo + BUF_SIZE;
}

// Results that no kernel gives, whatever the arguments.
static void check_result(struct worker *w, struct call *c, long ret) {
    const struct sysdef *d = c->def;
    long nr = c->nr;
    // lseek may return any offset (of /proc/self/mem), fcntl F_GETOWN a negative group,
    // times() wraps, ioctls return anything; the unknown numbers include a native getpid.
    if (nr == SYS_lseek || nr == SYS_fcntl || nr == SYS_ioctl || nr == SYS_times || d->nr == -1)
        return;
    if (ret < 0) {
        if (ret < -4095)
            anomaly(w, c, ret, "a negative result that is not an errno");
        else if (-ret > 133)
            anomaly(w, c, ret, "an errno no kernel returns to user space (ERESTART* leaked?)");
        return;
    }
    if ((d->flags & F_RETFD) && (ret < 3 || ret >= (1 << 20)))
        anomaly(w, c, ret, "a new fd that cannot be free (0, 1 and 2 are always open)");
    if ((d->flags & F_SIZE1) && (uint64_t)ret > c->a[1])
        anomaly(w, c, ret, "more bytes than asked for");
    if ((d->flags & F_SIZE2) && (uint64_t)ret > c->a[2])
        anomaly(w, c, ret, "more bytes than asked for");
    if (c->fd_out && ret == 0 && (nr == SYS_pipe || nr == SYS_pipe2 || nr == SYS_socketpair)) {
        int a = c->fd_out[0], b = c->fd_out[1];
        if (a < 3 || b < 3 || a == b)
            anomaly(w, c, ret, "the two new fds are not two free fds");
    }
    if (nr == SYS_getpid && ret != g_pid)
        anomaly(w, c, ret, "getpid changed");
    if (nr == SYS_gettid && ret != w->tid)
        anomaly(w, c, ret, "gettid is not the worker's tid");
    if (nr == SYS_clock_gettime && in_buf(w, c->a[1], 16)) {
        const long *ts = (const long *)c->a[1];
        if (ts[1] < 0 || ts[1] >= 1000000000)
            anomaly(w, c, ret, "clock_gettime gave tv_nsec outside [0, 1e9)");
    }
    if (nr == SYS_gettimeofday && c->a[0] && in_buf(w, c->a[0], 16)) {
        const long *tv = (const long *)c->a[0];
        if (tv[1] < 0 || tv[1] >= 1000000)
            anomaly(w, c, ret, "gettimeofday gave tv_usec outside [0, 1e6)");
    }
}

static long internal_call(struct worker *w, long nr, uint64_t a0, uint64_t a1, uint64_t a2) {
    struct call *c = &w->cur;
    memset(c, 0, sizeof(*c));
    c->nr = nr;
    c->a[0] = a0;
    c->a[1] = a1;
    c->a[2] = a2;
    return do_call(w, c, 1);
}

// Keeps the run useful: files do not grow without end, modes and umask let the fuzzer in
// again, the directories exist, fds and timers do not run out. These calls are watched
// like the fuzzed ones.
static void maintenance(struct worker *w, uint64_t i) {
    if (i % 2048 != 2047)
        return;
    static const char *const kFiles[] = {"f0", "f1", "f2", "f3", "d0/f0", "d0/f1", "d1/f0", "d0/d2/f0"};
    static const char *const kDirs[] = {"", "d0", "d1", "d0/d2"};
    char *p = (char *)w->buf;
    internal_call(w, SYS_umask, 022, 0, 0);
    for (int r = 0; r < 2; r++) {
        for (size_t k = 0; k < 4; k++) {
            join(p, 1024, g_scratch[r], kDirs[k]);
            internal_call(w, SYS_mkdir, (uint64_t)p, 0755, 0);
            internal_call(w, SYS_chmod, (uint64_t)p, 0755, 0);
        }
        for (size_t k = 0; k < 8; k++) {
            join(p, 1024, g_scratch[r], kFiles[k]);
            internal_call(w, SYS_truncate, (uint64_t)p, 0, 0);
            internal_call(w, SYS_chmod, (uint64_t)p, 0644, 0);
        }
    }
    if (w->index == 0 && i % 8192 == 8191) {
        pool_reset();
        internal_call(w, SYS_close_range, 3, ~0u, 0);
        struct itimerval zero = {{0, 0}, {0, 0}};
        for (int which = 0; which < 3; which++)
            internal_call(w, SYS_setitimer, (uint64_t)which, (uint64_t)&zero, 0);
        internal_call(w, SYS_alarm, 0, 0, 0);
    }
}

static pthread_barrier_t g_start;

static void *worker_main(void *arg) {
    struct worker *w = arg;
    t_self = w;
    w->tid = (pid_t)syscall(SYS_gettid);
    g_tids[w->index] = w->tid;
    pthread_barrier_wait(&g_start);
    for (uint64_t i = 0; i < w->calls_wanted && !atomic_load(&g_stop); i++) {
        maintenance(w, i);
        const struct sysdef *d = pick(w);
        struct call *c = &w->cur;
        memset(c, 0, sizeof(*c));
        c->def = d;
        c->nr = d->nr;
        w->bump = 0;
        if (d->flags & F_MM)
            pthread_mutex_lock(&g_mm_lock);
        d->gen(w, c);
        c->def = d;
        long ret = do_call(w, c, 0);
        atomic_fetch_add(&w->calls, 1);
        if (ret >= 0)
            w->ok++;
        else if (ret > -134)
            w->errnos[-ret]++;
        check_result(w, c, ret);
        if (d->post)
            d->post(w, c, ret);
        if ((d->flags & F_RETFD) && ret >= 3 && ret < (1 << 20))
            pool_add((int)ret, created_kind(c->nr));
        if (d->flags & F_MM) {
            if (c->mm_hi > c->mm_lo)
                arena_repair(c->mm_lo, c->mm_hi);
            pthread_mutex_unlock(&g_mm_lock);
        }
        for (int fd = pool_take_evicted(); fd >= 0; fd = pool_take_evicted())
            internal_call(w, SYS_close, (uint64_t)fd, 0, 0);
    }
    atomic_store(&w->done, 1);
    // Never returns: the thread's clear_child_tid and robust list are whatever the fuzzing
    // left; the process ends with exit_group from the main thread.
    for (;;)
        pause();
    return NULL;
}

// --- the watchdog ---

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report_hang(struct worker *w, double ms) {
    struct line l = {.n = 0};
    put(&l, "fuzz: HANG: worker ");
    put_dec(&l, w->index);
    put(&l, " has been in one call for ");
    put_dec(&l, (long)ms);
    put(&l, " ms despite ");
    put_dec(&l, (long)atomic_load(&w->interrupts));
    put(&l, " interrupts (signal ");
    put_dec(&l, SIG_INTERRUPT);
    put(&l, ") so far:");
    emit(2, &l);
    report_call(2, "  ", w->index, w->cur.seq, w->cur.nr, w->cur.a, 0, 0);
    report_arg_memory(2, w, &w->cur);
    report_in_flight(2, "fuzz: also in flight:");
    report_ring(2, w);
}

static void watchdog(double deadline) {
    struct {
        uint64_t seq;
        double since, last_interrupt;
    } st[MAX_THREADS] = {{0, 0, 0}};
    for (;;) {
        struct timespec tick = {0, 2 * 1000 * 1000};
        nanosleep(&tick, NULL);
        double t = now_s();
        if (deadline > 0 && t >= deadline)
            atomic_store(&g_stop, 1);
        int done = 0;
        for (int i = 0; i < g_nthreads; i++) {
            struct worker *w = &g_workers[i];
            if (atomic_load(&w->done)) {
                done++;
                continue;
            }
            uint64_t b = atomic_load(&w->busy);
            if (!b || b != st[i].seq) {
                st[i].seq = b;
                st[i].since = t;
                st[i].last_interrupt = 0;
                continue;
            }
            double ms = (t - st[i].since) * 1000;
            if (ms >= (double)g_opt.hang_ms) {
                report_hang(w, ms);
                if (g_opt.hang_wait_s) {
                    fprintf(stderr, "fuzz: pid %d waits %ld s before exiting (--hang-wait)\n", (int)g_pid,
                            g_opt.hang_wait_s);
                    sleep((unsigned)g_opt.hang_wait_s);
                }
                _exit(EXIT_HANG);
            }
            if (ms >= 4 && (t - st[i].last_interrupt) * 1000 >= 2) {
                syscall(SYS_tgkill, g_pid, w->tid, SIG_INTERRUPT);
                atomic_fetch_add(&w->interrupts, 1);
                st[i].last_interrupt = t;
            }
        }
        if (done == g_nthreads)
            return;
    }
}

// --- main ---

static void usage(void) {
    fprintf(stderr,
            "usage: fuzz [--seed N] [--calls N | --seconds S] [--threads N] [--verbose]\n"
            "            [--hang-ms MS] [--hang-wait S] [--dir PATH] [--ring-file FILE]\n"
            "            [--only a,b] [--exclude a,b]\n"
            "       fuzz --list | --dump-ring FILE\n");
    exit(EXIT_USAGE);
}

static int in_list(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static void join_tables(void) {
    const struct {
        const struct sysdef *defs;
        int count;
    } parts[] = {{g_calls_fs, g_ncalls_fs}, {g_calls_io, g_ncalls_io}, {g_calls_mm, g_ncalls_mm},
                 {g_calls_proc, g_ncalls_proc}};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        for (int k = 0; k < parts[i].count && g_nsysdefs < (int)(sizeof(g_table) / sizeof(g_table[0])); k++)
            g_table[g_nsysdefs++] = parts[i].defs[k];
    g_sysdefs = g_table;
}

static void map_ring_file(const char *path) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, sizeof(struct ring_file)))
        die(path);
    void *p = mmap(NULL, sizeof(struct ring_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap of the ring file");
    close(fd);
    g_rings = p;
    g_rings->magic = RING_MAGIC;
    g_rings->seed = g_opt.seed;
    g_rings->threads = g_opt.threads;
    g_workers = g_rings->workers;
}

static int dump_ring_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || (size_t)st.st_size < sizeof(struct ring_file)) {
        fprintf(stderr, "fuzz: %s: not a ring file\n", path);
        return EXIT_USAGE;
    }
    struct ring_file *r = mmap(NULL, sizeof(*r), PROT_READ, MAP_PRIVATE, fd, 0);
    if (r == MAP_FAILED || r->magic != RING_MAGIC || r->threads < 1 || r->threads > MAX_THREADS) {
        fprintf(stderr, "fuzz: %s: not a ring file\n", path);
        return EXIT_USAGE;
    }
    g_opt.seed = r->seed;
    g_opt.threads = r->threads;
    for (int i = 0; i < r->threads; i++) {
        struct worker *w = &r->workers[i];
        if (atomic_load(&w->busy))
            report_call(1, "fuzz: in flight:", i, w->cur.seq, w->cur.nr, w->cur.a, 0, 0);
        report_ring(1, w);
    }
    return EXIT_OK;
}

static void select_calls(const char *only, const char *exclude) {
    g_total_weight = 0;
    for (int i = 0; i < g_nsysdefs; i++) {
        const char *name = g_sysdefs[i].name;
        g_enabled[i] = (!only || in_list(only, name)) && !(exclude && in_list(exclude, name));
        g_total_weight += g_enabled[i] ? g_sysdefs[i].weight : 0;
        g_cumulative[i] = g_total_weight;
    }
    if (!g_total_weight) {
        fprintf(stderr, "fuzz: no system call left to make (see --list)\n");
        exit(EXIT_USAGE);
    }
}

static void summary(double seconds) {
    uint64_t calls = 0, ok = 0, anomalies = 0, interrupts = 0, errnos[134] = {0};
    for (int i = 0; i < g_nthreads; i++) {
        struct worker *w = &g_workers[i];
        calls += atomic_load(&w->calls);
        ok += w->ok;
        anomalies += w->anomalies;
        interrupts += atomic_load(&w->interrupts);
        for (int e = 0; e < 134; e++)
            errnos[e] += w->errnos[e];
    }
    uint64_t signals = 0;
    for (int s = 1; s <= 64; s++)
        signals += atomic_load(&g_signals[s]);
    printf("fuzz: seed %llu, %d thread(s): %llu calls in %.1f s (%.0f calls/s); %llu succeeded; "
           "%llu interrupted by the watchdog; %llu signals handled; %llu anomalies\n",
           (unsigned long long)g_opt.seed, g_nthreads, (unsigned long long)calls, seconds,
           seconds > 0 ? (double)calls / seconds : 0.0, (unsigned long long)ok,
           (unsigned long long)interrupts, (unsigned long long)signals, (unsigned long long)anomalies);
    printf("fuzz: errors:");
    for (int e = 1; e < 134; e++)
        if (errnos[e])
            printf(" %s %llu", strerrorname_np(e) ? strerrorname_np(e) : "?", (unsigned long long)errnos[e]);
    printf("\n");
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *only = NULL, *exclude = NULL, *ring_file = NULL, *dump = NULL;
    int list = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--verbose")) {
            g_opt.verbose = 1;
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else if (!v) {
            usage();
        } else if (!strcmp(a, "--seed")) {
            g_opt.seed = strtoull(v, NULL, 0), i++;
        } else if (!strcmp(a, "--calls")) {
            g_opt.calls = strtoull(v, NULL, 0), i++;
        } else if (!strcmp(a, "--seconds")) {
            g_opt.seconds = strtod(v, NULL), i++;
        } else if (!strcmp(a, "--threads")) {
            g_opt.threads = atoi(v), i++;
        } else if (!strcmp(a, "--hang-ms")) {
            g_opt.hang_ms = atol(v), i++;
        } else if (!strcmp(a, "--hang-wait")) {
            g_opt.hang_wait_s = atol(v), i++;
        } else if (!strcmp(a, "--ring-file")) {
            ring_file = v, i++;
        } else if (!strcmp(a, "--dump-ring")) {
            dump = v, i++;
        } else if (!strcmp(a, "--dir")) {
            g_opt.dir = v, i++;
        } else if (!strcmp(a, "--only")) {
            only = v, i++;
        } else if (!strcmp(a, "--exclude")) {
            exclude = v, i++;
        } else {
            usage();
        }
    }
    join_tables();
    if (dump)
        return dump_ring_file(dump);
    if (list) {
        for (int i = 0; i < g_nsysdefs; i++)
            printf("%s\n", g_sysdefs[i].name);
        return EXIT_OK;
    }
    if (g_opt.threads < 1 || g_opt.threads > MAX_THREADS)
        usage();
    if (!g_opt.calls && g_opt.seconds <= 0)
        g_opt.calls = 100000;
    select_calls(only, exclude);

    g_pid = getpid();
    g_nthreads = g_opt.threads;
    if (ring_file)
        map_ring_file(ring_file);
    setvbuf(stdout, NULL, _IOLBF, 0);
    install_handlers();
    setup_memory();
    build_paths();
    setup_scratch();
    drop_privileges();
    g_uid = getuid();
    g_gid = getgid();
    pool_reset();
    for (int i = 0; i < 2; i++)
        if (access(g_scratch[i], W_OK | X_OK))
            fprintf(stderr, "fuzz: warning: %s is not writable (%s): file calls will mostly fail\n",
                    g_scratch[i], strerror(errno));
    printf("fuzz: seed %llu, %d thread(s), %s%llu calls%s; scratch %s and %s\n",
           (unsigned long long)g_opt.seed, g_opt.threads, g_opt.calls ? "" : "up to ",
           (unsigned long long)(g_opt.calls ? g_opt.calls : UINT64_MAX),
           g_opt.seconds > 0 ? " (time-limited)" : "", g_scratch[0], g_scratch[1]);

    pthread_barrier_init(&g_start, NULL, (unsigned)g_opt.threads + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1 << 20);
    for (int i = 0; i < g_opt.threads; i++) {
        struct worker *w = &g_workers[i];
        w->index = i;
        w->rng = g_opt.seed * 0x100000001b3ull + (uint64_t)i * 0x9e3779b97f4a7c15ull + 1;
        w->calls_wanted = g_opt.calls ? (g_opt.calls + (uint64_t)i) / (uint64_t)g_opt.threads : UINT64_MAX;
        for (int k = 0; k < 8; k++)
            w->stale_fds[k] = -1;
        pthread_t t;
        errno = pthread_create(&t, &attr, worker_main, w);
        if (errno)
            die("pthread_create");
    }
    pthread_barrier_wait(&g_start);
    double start = now_s();
    watchdog(g_opt.seconds > 0 ? start + g_opt.seconds : 0);
    double elapsed = now_s() - start;

    summary(elapsed);
    // The workers are done: their fds go (the cleanup needs some), then the scratch trees.
    syscall(SYS_close_range, 3, ~0u, 0);
    for (int i = 0; i < 2; i++)
        remove_scratch(g_scratch[i]);
    uint64_t anomalies = 0;
    for (int i = 0; i < g_nthreads; i++)
        anomalies += g_workers[i].anomalies;
    // exit_group ends the workers wherever they are.
    fflush(NULL);
    _exit(anomalies ? EXIT_ANOMALY : EXIT_OK);
}
