// Argument generators: integers with their edge values, scratch and bad pointers, fds,
// paths, times, signals, socket addresses and I/O vectors. Every pointer a generator
// hands out points into the calling worker's scratch buffer, at the read-only or the
// guard page, into the arena, or nowhere mapped: never at memory the fuzzer relies on.
#include "fuzz.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/time_types.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

// --- random numbers ---

uint64_t rnd(struct worker *w) {
    // splitmix64: every worker's sequence follows from the seed and its index alone.
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t below(struct worker *w, uint64_t n) { return n ? rnd(w) % n : 0; }

int chance(struct worker *w, unsigned percent) { return below(w, 100) < percent; }

static const uint64_t kEdges[] = {
    0, 1, 2, 3, 7, 8, 15, 16, 63, 64, 127, 128, 255, 256, 511, 512, 1023, 1024, 4095, 4096, 4097,
    65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffffffff,
    0x8000000000000000, 0xffffffffffffffff, 0xfffffffffffffffe, 0xfffffffffffff000,
    0xffffffff80000000, 1ull << 47, 1ull << 62, (uint64_t)-4096, (uint64_t)-100,
};

uint64_t gen_int(struct worker *w) {
    switch (below(w, 6)) {
    case 0:
    case 1: return PICK(w, kEdges);
    case 2: return below(w, 64);
    case 3: return (uint64_t)-(int64_t)below(w, 64);
    case 4: return rnd(w) & 0xffffffff;
    default: return rnd(w);
    }
}

uint64_t gen_small(struct worker *w, uint64_t max) {
    return chance(w, 90) ? below(w, max + 1) : gen_int(w);
}

uint64_t gen_size(struct worker *w, size_t room) {
    switch (below(w, 10)) {
    case 0: return 0;
    case 1: return PICK(w, kEdges);
    case 2: return room + 1 + below(w, PAGE);  // past the end: into a guard page or beyond
    case 3: return room;
    default: return room ? 1 + below(w, room) : 0;
    }
}

uint64_t gen_flags(struct worker *w, uint64_t valid) {
    // Mostly a few of the valid bits (each with a chance of 1/4), sometimes any of them,
    // an unknown bit, or junk.
    uint64_t f = rnd(w) & rnd(w) & valid;
    unsigned r = (unsigned)below(w, 100);
    if (r < 10)
        f = rnd(w) & valid;
    else if (r < 20)
        f = 0;
    if (chance(w, 4))
        f |= 1ull << below(w, 64);
    if (chance(w, 2))
        f = gen_int(w);
    return f;
}

uint64_t gen_offset(struct worker *w) {
    static const int64_t kOffsets[] = {0, 1, 4095, 4096, 65536, 1 << 20, -1, -4096,
                                       INT64_MAX, INT64_MIN, 1ll << 62, 0x7ffffffffffff000};
    return chance(w, 70) ? below(w, 3 * PAGE) : (uint64_t)PICK(w, kOffsets);
}

// --- pointers ---

void *scratch(struct worker *w, size_t size) {
    // 8-byte aligned slices, sometimes misaligned; when the buffer runs out the slice
    // starts over (a call never needs more than a fraction of it).
    size_t align = chance(w, 5) ? 1 : 8;
    size_t at = (w->bump + align - 1) & ~(align - 1);
    if (chance(w, 5))
        at += 1 + below(w, 7);
    if (size > BUF_SIZE)
        size = BUF_SIZE;
    if (at + size > BUF_SIZE)
        at = 0;
    w->bump = at + size;
    return w->buf + at;
}

void *scratch_rand(struct worker *w, size_t size) {
    unsigned char *p = scratch(w, size);
    for (size_t i = 0; i < size; i += 8) {
        uint64_t r = rnd(w);
        memcpy(p + i, &r, size - i < 8 ? size - i : 8);
    }
    return p;
}

uint64_t bad_ptr(struct worker *w) {
    switch (below(w, 12)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 0xffff800000000000ull;  // the kernel's half
    case 3: return 0x0000800000000000ull;  // just past user space
    case 4: return 0xfffffffffffffff0ull;
    case 5: return 0xffffffffff600000ull;  // the vsyscall page
    case 6: return (uint64_t)g_guard_page + below(w, PAGE);
    case 7: return (uint64_t)g_ro_page + below(w, PAGE);  // readable, not writable
    case 8: return (uint64_t)w->buf + BUF_SIZE - 1 - below(w, 16);  // runs into the guard
    case 9: return (uint64_t)g_arena + below(w, ARENA_PAGES * PAGE);  // whatever is there now
    case 10: return 0x00007ffffffff000ull;
    default: return PAGE * (1 + below(w, 15));  // low, never mapped
    }
}

uint64_t maybe_bad(struct worker *w, void *p) { return chance(w, 92) ? (uint64_t)p : bad_ptr(w); }

uint64_t unreadable(struct worker *w) {
    static const uint64_t kNone[] = {1, 0xffff800000000000ull, 0x0000800000000000ull, 0xfffffffffffffff0ull,
                                     PAGE, 0x00007ffffffff000ull};
    return chance(w, 30) ? (uint64_t)g_guard_page + below(w, PAGE) : PICK(w, kNone);
}

uint64_t ctl(struct worker *w, void *p) {
    if (chance(w, 92))
        return (uint64_t)p;
    return chance(w, 30) ? 0 : unreadable(w);
}

uint64_t gen_out(struct worker *w, size_t size) { return maybe_bad(w, scratch(w, size)); }

uint64_t gen_in(struct worker *w, const void *data, size_t size) {
    void *p = scratch(w, size);
    memcpy(p, data, size);
    return maybe_bad(w, p);
}

uint64_t gen_in_rand(struct worker *w, size_t size) { return maybe_bad(w, scratch_rand(w, size)); }

// --- fds ---

static _Atomic int g_pool[FD_POOL_SIZE];
static _Atomic int g_pool_kind[FD_POOL_SIZE];
static _Atomic uint64_t g_pool_rr;
static __thread int t_evicted[16];
static __thread int t_nevicted;

void pool_reset(void) {
    for (int i = 0; i < FD_POOL_SIZE; i++)
        atomic_store(&g_pool[i], -1);
}

static enum fd_kind classify(int fd) {
    struct stat st;
    if (syscall(SYS_fstat, fd, &st))
        return K_OTHER;
    switch (st.st_mode & S_IFMT) {
    case S_IFREG: return K_FILE;
    case S_IFDIR: return K_DIR;
    case S_IFIFO: return K_PIPE;
    case S_IFSOCK: return K_SOCK;
    case S_IFCHR: return K_CHR;
    default: return K_OTHER;
    }
}

void pool_add(int fd, enum fd_kind kind) {
    if (fd < 3)
        return;
    if (kind == K_ANY)
        kind = classify(fd);
    for (int i = 0; i < FD_POOL_SIZE; i++)
        if (atomic_load(&g_pool[i]) == fd) {
            atomic_store(&g_pool_kind[i], kind);
            return;
        }
    int slot = -1;
    for (int i = 0; i < FD_POOL_SIZE && slot < 0; i++) {
        int empty = -1;
        if (atomic_compare_exchange_strong(&g_pool[i], &empty, fd))
            slot = i;
    }
    if (slot < 0) {
        // Full: replace one. The fd it held is closed by this worker after its call
        // (pool_take_evicted), unless another slot still has that number.
        slot = (int)(atomic_fetch_add(&g_pool_rr, 7) % FD_POOL_SIZE);
        int old = atomic_exchange(&g_pool[slot], fd);
        int shared = 0;
        for (int i = 0; i < FD_POOL_SIZE; i++)
            shared |= atomic_load(&g_pool[i]) == old;
        if (old >= 3 && old != fd && !shared && t_nevicted < (int)(sizeof(t_evicted) / sizeof(t_evicted[0])))
            t_evicted[t_nevicted++] = old;
    }
    atomic_store(&g_pool_kind[slot], kind);
}

int pool_take_evicted(void) { return t_nevicted ? t_evicted[--t_nevicted] : -1; }

int gen_fd_of(struct worker *w, enum fd_kind kind) {
    if (chance(w, 70)) {
        int start = (int)below(w, FD_POOL_SIZE);
        for (int i = 0; i < FD_POOL_SIZE; i++) {
            int k = (start + i) % FD_POOL_SIZE;
            int fd = atomic_load(&g_pool[k]);
            if (fd >= 3 && atomic_load(&g_pool_kind[k]) == (int)kind)
                return fd;
        }
    }
    return gen_fd(w);
}

int pool_any(struct worker *w) {
    for (int tries = 0; tries < 4; tries++) {
        int fd = atomic_load(&g_pool[below(w, FD_POOL_SIZE)]);
        if (fd >= 3)
            return fd;
    }
    return -1;
}

void note_closed(struct worker *w, int fd) {
    w->stale_fds[w->stale_next++ % 8] = fd;
}

int gen_fd(struct worker *w) {
    if (chance(w, 80)) {
        int fd = pool_any(w);
        if (fd >= 3)
            return fd;
    }
    static const int kOdd[] = {-1, -100, -2, INT_MIN, INT_MAX, 1 << 20, 1023, 1024, 65535, 4096};
    switch (below(w, 4)) {
    case 0: {
        int fd = w->stale_fds[below(w, 8)];
        return fd >= 3 ? fd : 3;
    }
    case 1: return 3 + (int)below(w, 64);
    default: return PICK(w, kOdd);
    }
}

int gen_dirfd(struct worker *w) { return chance(w, 30) ? AT_FDCWD : gen_fd_of(w, K_DIR); }

// --- paths ---

static uint64_t place_string(struct worker *w, const char *s, int rw) {
    size_t n = strlen(s) + 1;
    if (chance(w, 2)) {
        // Ends at the guard page without its NUL.
        char *p = (char *)w->buf + BUF_SIZE - (n - 1);
        memcpy(p, s, n - 1);
        return (uint64_t)p;
    }
    char *p = scratch(w, n);
    memcpy(p, s, n);
    if (!chance(w, 3))
        return (uint64_t)p;
    // A bad pointer; for a path written through, never one to readable bytes (they could
    // spell a path outside the scratch directories).
    return rw ? (chance(w, 30) ? 0 : unreadable(w)) : bad_ptr(w);
}

uint64_t gen_path_rw(struct worker *w) {
    char path[PATH_MAX + 600];
    const char *root = g_scratch[below(w, 2)];
    const char *name = g_paths_rw[below(w, g_npaths_rw)];
    size_t rl = strlen(root), nl = strlen(name);
    if (rl + 1 + nl + 1 > sizeof(path))
        nl = sizeof(path) - rl - 2;
    memcpy(path, root, rl);
    path[rl] = '/';
    memcpy(path + rl + 1, name, nl);
    path[rl + 1 + nl] = 0;
    return place_string(w, path, 1);
}

uint64_t gen_path_ro(struct worker *w) {
    if (chance(w, 50))
        return gen_path_rw(w);
    return place_string(w, g_paths_ro[below(w, g_npaths_ro)], 0);
}

uint64_t gen_string(struct worker *w, size_t max) {
    size_t n = below(w, max + 1);
    char *p = scratch(w, n + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rnd(w);
        p[i] = (char)(r % 4 ? 'a' + r % 26 : (r >> 8) | 1);
    }
    p[n] = 0;
    return maybe_bad(w, p);
}

// --- times ---

void fill_timespec(struct worker *w, long *sec, long *nsec) {
    static const long kSecs[] = {-1, LONG_MAX, LONG_MIN, 1l << 62, 0x7fffffff, 0x80000000l,
                                 9223372036l, 9223372037l};
    static const long kNsecs[] = {-1, 1000000000, 999999999, LONG_MAX, LONG_MIN};
    unsigned r = (unsigned)below(w, 100);
    *sec = 0;
    if (r < 55) {
        *nsec = (long)below(w, 100000);  // up to 0.1 ms
    } else if (r < 70) {
        *nsec = 0;
    } else if (r < 74) {
        *nsec = (long)below(w, 1000000000);  // a second at most (the watchdog interrupts)
    } else if (r < 88) {
        *nsec = PICK(w, kNsecs);  // mostly invalid
    } else if (r < 93) {
        *sec = PICK(w, kSecs);  // mostly never (the watchdog interrupts)
        *nsec = (long)below(w, 1000000000);
    } else {
        *sec = (long)rnd(w);
        *nsec = (long)rnd(w);
    }
}

uint64_t gen_timespec(struct worker *w) {
    struct timespec *ts = scratch(w, sizeof(*ts));
    fill_timespec(w, &ts->tv_sec, &ts->tv_nsec);
    return chance(w, 8) ? bad_ptr(w) : (uint64_t)ts;
}

uint64_t gen_timespec_abs_past(struct worker *w) {
    struct timespec *ts = scratch(w, sizeof(*ts));
    ts->tv_sec = 0;  // every clock is past this
    ts->tv_nsec = chance(w, 90) ? (long)below(w, 1000000000) : 1000000000;
    return chance(w, 8) ? unreadable(w) : (uint64_t)ts;  // never NULL: that is "no deadline"
}

uint64_t gen_timeval(struct worker *w) {
    struct timeval *tv = scratch(w, sizeof(*tv));
    long sec, nsec;
    fill_timespec(w, &sec, &nsec);
    tv->tv_sec = sec;
    tv->tv_usec = nsec >= 0 && nsec < 1000000000 ? nsec / 1000 : nsec;
    return chance(w, 8) ? bad_ptr(w) : (uint64_t)tv;
}

uint64_t gen_itimerspec(struct worker *w, int signals) {
    struct itimerspec *its = scratch(w, sizeof(*its));
    fill_timespec(w, &its->it_value.tv_sec, &its->it_value.tv_nsec);
    if (chance(w, 60)) {
        its->it_interval.tv_sec = 0;
        its->it_interval.tv_nsec = 0;
    } else if (chance(w, 90)) {
        its->it_interval.tv_sec = (long)below(w, 2);
        its->it_interval.tv_nsec = 10000000 + (long)below(w, 90000000);
    } else {
        fill_timespec(w, &its->it_interval.tv_sec, &its->it_interval.tv_nsec);
        // A timer that may send signals gets no valid interval below 1 ms: a shorter one
        // keeps a thread handling signals and little else, natively too. (A timerfd gets
        // any: nothing runs on its expirations.)
        if (signals && its->it_interval.tv_sec == 0 && its->it_interval.tv_nsec > 0 &&
            its->it_interval.tv_nsec < 1000000)
            its->it_interval.tv_nsec = 1000000;
    }
    return chance(w, 8) ? bad_ptr(w) : (uint64_t)its;
}

// --- signals ---

// Signals with a handler (fuzz.c installs it): sending one never ends the fuzzer.
// Not 32 and 33: glibc's own (thread cancellation, setxid broadcast).
static const int kHandled[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGCHLD, SIGCONT,
                               SIGURG, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR,
                               SIGSTKFLT, 34, 35, 36, 39, 40, 45, 50, 63, 64};

int gen_signal(struct worker *w) {
    static const int kInvalid[] = {-1, 65, 128, 1000, INT_MIN, INT_MAX};
    unsigned r = (unsigned)below(w, 100);
    if (r < 85)
        return PICK(w, kHandled);
    if (r < 93)
        return 0;
    return PICK(w, kInvalid);
}

ksigset_t gen_sigset(struct worker *w) {
    ksigset_t s = chance(w, 30) ? 0 : chance(w, 20) ? ~0ull : rnd(w);
    // Never block the watchdog's interrupt (a blocked worker would look hung) nor the
    // signals of a crash (the report would be lost).
    s &= ~(1ull << (SIG_INTERRUPT - 1));
    s &= ~((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) | (1ull << (SIGILL - 1)) |
           (1ull << (SIGFPE - 1)) | (1ull << (SIGABRT - 1)) | (1ull << (SIGSYS - 1)) |
           (1ull << (SIGTRAP - 1)));
    return s;
}

uint64_t gen_sigset_ptr(struct worker *w) {
    if (chance(w, 8)) {
        // Only pointers whose contents the fuzzer controls or that the kernel cannot read.
        static const uint64_t kBad[] = {0, 1, 0xffff800000000000ull, 0x0000800000000000ull};
        return chance(w, 50) ? PICK(w, kBad) : (uint64_t)g_guard_page;
    }
    ksigset_t *s = scratch(w, 16);
    s[0] = gen_sigset(w);
    s[1] = rnd(w);
    return (uint64_t)s;
}

pid_t gen_pid_self(struct worker *w) {
    switch (below(w, 6)) {
    case 0:
    case 1: return g_pid;
    case 2: return g_tids[below(w, g_nthreads)];
    case 3: return 0x40000000;  // above any pid_max: no such process
    case 4: return INT_MAX;
    default: return w->tid;
    }
}

pid_t gen_tid(struct worker *w) {
    static const pid_t kOdd[] = {0, -1, 0x40000000, INT_MAX, INT_MIN};
    if (chance(w, 85))
        return chance(w, 50) ? w->tid : g_tids[below(w, g_nthreads)];
    return PICK(w, kOdd);
}

uint32_t gen_uid(struct worker *w) {
    static const uint32_t kIds[] = {(uint32_t)-1, 65534, 0, 1000, 0x7fffffff, 65535};
    return chance(w, 40) ? g_uid : PICK(w, kIds);
}

// --- sockets ---

uint64_t gen_sockaddr(struct worker *w, uint64_t *len) {
    // Loopback, wildcard and scratch names only: nothing leaves this host.
    union {
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
        unsigned char raw[128];
    } *sa = scratch(w, sizeof(*sa));
    memset(sa, 0, sizeof(*sa));
    uint16_t port = chance(w, 50) ? 0 : htons((uint16_t)(47391 + below(w, 8)));
    switch (below(w, 8)) {
    case 0:
    case 1:
        sa->in.sin_family = AF_INET;
        sa->in.sin_port = port;
        sa->in.sin_addr.s_addr = chance(w, 70) ? htonl(INADDR_LOOPBACK) : 0;
        *len = sizeof(sa->in);
        break;
    case 2:
        sa->in6.sin6_family = AF_INET6;
        sa->in6.sin6_port = port;
        if (chance(w, 60))
            sa->in6.sin6_addr = in6addr_loopback;
        else if (chance(w, 50)) {
            sa->in6.sin6_addr.s6_addr[10] = 0xff;  // ::ffff:127.0.0.1
            sa->in6.sin6_addr.s6_addr[11] = 0xff;
            sa->in6.sin6_addr.s6_addr[12] = 127;
            sa->in6.sin6_addr.s6_addr[15] = 1;
        }
        sa->in6.sin6_scope_id = chance(w, 90) ? 0 : (uint32_t)rnd(w);
        *len = sizeof(sa->in6);
        break;
    case 3:
    case 4: {
        // A name in the file system is always a whole path inside a scratch directory (a
        // cut one would be a prefix of it: a socket file made outside). Relative names are
        // never used: the cwd may be anywhere.
        sa->un.sun_family = AF_UNIX;
        static const char *const kNames[] = {"s0", "s1", "d0/s2", "f0", "n0/s3"};
        const char *root = g_scratch[below(w, 2)];
        const char *name = PICK(w, kNames);
        size_t rl = strlen(root), room = sizeof(sa->un.sun_path);
        unsigned r = (unsigned)below(w, 10);
        if (r < 5 && rl + 1 + strlen(name) < room) {
            memcpy(sa->un.sun_path, root, rl);
            sa->un.sun_path[rl] = '/';
            strcpy(sa->un.sun_path + rl + 1, name);
            *len = offsetof(struct sockaddr_un, sun_path) + strlen(sa->un.sun_path) + (chance(w, 70) ? 1 : 0);
        } else if (r < 8 || rl + 2 >= room) {
            // Abstract: "\0carbyne-fuzz-PID-N".
            int n = 1;
            const char *prefix = "carbyne-fuzz-";
            memcpy(sa->un.sun_path + n, prefix, strlen(prefix));
            n += (int)strlen(prefix);
            unsigned v = (unsigned)g_pid;
            char digits[16];
            int d = 0;
            do {
                digits[d++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            while (d)
                sa->un.sun_path[n++] = digits[--d];
            sa->un.sun_path[n++] = '-';
            sa->un.sun_path[n++] = (char)('0' + below(w, 4));
            *len = offsetof(struct sockaddr_un, sun_path) + (uint64_t)below(w, (uint64_t)n + 1);
        } else if (r < 9) {
            *len = offsetof(struct sockaddr_un, sun_path);  // unnamed / autobind
        } else {
            // Fills sun_path with no NUL: "ROOT/xxxx...".
            memcpy(sa->un.sun_path, root, rl);
            sa->un.sun_path[rl] = '/';
            memset(sa->un.sun_path + rl + 1, 'x', room - rl - 1);
            *len = sizeof(sa->un);
        }
        if (chance(w, 5))
            *len = chance(w, 50) ? sizeof(sa->un) + 1 + below(w, 100) : gen_int(w) | 0x80000000;  // EINVAL
        return ctl(w, sa);
    }
    case 5:
        sa->raw[0] = 16;  // AF_NETLINK: nl_pid 0 (the kernel), random groups
        memcpy(sa->raw + 8, &(uint32_t){(uint32_t)rnd(w) & 1}, 4);
        *len = 12;
        break;
    default: {
        // An odd family, or a known one with the wrong length.
        uint16_t fam = chance(w, 50) ? (uint16_t)below(w, 50) : (uint16_t)rnd(w);
        if (fam == AF_INET || fam == AF_INET6 || fam == 17 /* AF_PACKET */)
            fam = 0xffff;
        memcpy(sa->raw, &fam, 2);
        *len = below(w, 130);
        break;
    }
    }
    if (chance(w, 8))
        *len = gen_int(w);
    else if (chance(w, 5))
        *len = below(w, *len + 1);
    return ctl(w, sa);
}

uint64_t gen_iovec(struct worker *w, uint64_t *count, int writable) {
    (void)writable;
    size_t n = chance(w, 90) ? below(w, 5) : below(w, 20);
    struct iovec *iov = scratch(w, (n ? n : 1) * sizeof(*iov));
    for (size_t i = 0; i < n; i++) {
        size_t len = chance(w, 80) ? below(w, 512) : gen_size(w, PAGE);
        iov[i].iov_base = chance(w, 90) ? scratch(w, len < PAGE ? len : PAGE) : (void *)bad_ptr(w);
        if (chance(w, 3))
            len = gen_int(w);
        iov[i].iov_len = len;
    }
    *count = n;
    if (chance(w, 3)) {
        static const uint64_t kCounts[] = {1024, 1025, 0xffffffff, (uint64_t)-1, 1u << 31};
        *count = PICK(w, kCounts);
    }
    // The kernel writes where the entries point: the array is never readable garbage.
    return ctl(w, iov);
}

uint64_t gen_msghdr(struct worker *w, int writable) {
    struct msghdr *m = scratch(w, sizeof(*m));
    memset(m, 0, sizeof(*m));
    if (chance(w, 40)) {
        uint64_t len;
        m->msg_name = (void *)gen_sockaddr(w, &len);
        m->msg_namelen = (socklen_t)len;
    }
    uint64_t count;
    m->msg_iov = (struct iovec *)gen_iovec(w, &count, writable);
    m->msg_iovlen = count;
    switch (below(w, 4)) {
    case 0: break;  // no control data
    case 1: {
        // SCM_RIGHTS with pool fds (and odd ones); the receiver adds them to the pool.
        int nfds = 1 + (int)below(w, 4);
        size_t space = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *cm = scratch(w, space);
        memset(cm, 0, space);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        for (int i = 0; i < nfds; i++)
            ((int *)CMSG_DATA(cm))[i] = gen_fd(w);
        m->msg_control = cm;
        m->msg_controllen = chance(w, 90) ? space : gen_int(w);
        break;
    }
    case 2: {
        struct cmsghdr *cm = scratch(w, CMSG_SPACE(sizeof(struct ucred)));
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_CREDENTIALS;
        cm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
        struct ucred cred = {gen_pid_self(w), gen_uid(w), gen_uid(w)};
        memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
        m->msg_control = cm;
        m->msg_controllen = CMSG_SPACE(sizeof(struct ucred));
        break;
    }
    default:
        m->msg_controllen = gen_size(w, 256);
        m->msg_control = (void *)(chance(w, 80) ? (uint64_t)scratch_rand(w, 256) : bad_ptr(w));
        break;
    }
    m->msg_flags = (int)rnd(w);
    return ctl(w, m);
}

// --- the arena ---

#define REGION_PAGES (ARENA_PAGES + 2 * ARENA_GUARD_PAGES)

int in_region(uint64_t addr, uint64_t len) {
    uint64_t lo = (uint64_t)g_region, hi = lo + REGION_PAGES * PAGE;
    return addr >= lo && addr <= hi && len <= hi - addr;
}

void arena_range(struct worker *w, uint64_t *addr, uint64_t *len) {
    // Mostly inside the arena proper; sometimes reaching into a guard; never past the
    // fuzzer's region.
    uint64_t lo = (uint64_t)g_region, hi = lo + REGION_PAGES * PAGE;
    uint64_t first = chance(w, 85) ? ARENA_GUARD_PAGES + below(w, ARENA_PAGES) : below(w, REGION_PAGES);
    uint64_t a = lo + first * PAGE;
    uint64_t room = hi - a;
    uint64_t l;
    switch (below(w, 8)) {
    case 0: l = 0; break;
    case 1: l = room; break;
    case 2: l = 1 + below(w, room); break;  // unaligned
    default: l = PAGE * (1 + below(w, 8)); break;
    }
    if (l > room)
        l = room;
    if (chance(w, 5))
        a += 1 + below(w, PAGE - 1);  // unaligned address: EINVAL
    *addr = a;
    *len = l;
}

void arena_repair(uint64_t lo, uint64_t hi) {
    uint64_t rlo = (uint64_t)g_region, rhi = rlo + REGION_PAGES * PAGE;
    lo &= ~(PAGE - 1);
    if (lo < rlo)
        lo = rlo;
    if (hi > rhi)
        hi = rhi;
    uint64_t alo = (uint64_t)g_arena, ahi = alo + ARENA_PAGES * PAGE;
    for (uint64_t p = lo; p < hi; p += PAGE) {
        int prot = p >= alo && p < ahi ? PROT_READ | PROT_WRITE : PROT_NONE;
        long r = syscall(SYS_mmap, p, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (r != -1 && (uint64_t)r != p)
            syscall(SYS_munmap, r, PAGE);  // a kernel without MAP_FIXED_NOREPLACE took it as a hint
    }
}
