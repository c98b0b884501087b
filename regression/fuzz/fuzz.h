// The syscall fuzzer's shared types: workers, the call being made, the resources a call
// may use (scratch buffers, the memory arena, fd and timer pools, paths), and the
// argument generators every call family draws from (gen.c) and the call table (calls_*.c).
//
// Safety rule of the whole fuzzer: a generated call may only ever damage what the
// fuzzer set aside for it. Output pointers point into scratch buffers or are bad;
// memory calls that change mappings stay inside the arena; paths that a call may change
// are absolute paths inside the scratch directories; fds 0, 1 and 2 are never handed out;
// signals sent are ones with a handler; blocking is ended by the watchdog's interrupts.
#ifndef CARBYNE_FUZZ_H
#define CARBYNE_FUZZ_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGE 4096ul
#define BUF_SIZE (64 * 1024ul)     // each worker's scratch buffer
#define ARENA_PAGES 64             // the pages memory calls may map, unmap and protect
#define ARENA_GUARD_PAGES 16       // reserved on each side of the arena, also the fuzzer's
#define RING_SIZE 64               // the last calls of each worker, shown on a finding
#define FD_POOL_SIZE 48
#define TIMER_POOL_SIZE 8
#define MAX_THREADS 64
#define NPATHS_MAX 128

// Exit statuses (a crash of the fuzzer itself re-raises its signal).
#define EXIT_OK 0
#define EXIT_USAGE 1
#define EXIT_ANOMALY 2  // a call returned something no kernel returns (see check_result)
#define EXIT_HANG 3     // the watchdog saw a call that did not return

// The signal the watchdog sends to a worker whose call blocks, so that it returns EINTR.
#define SIG_INTERRUPT 40

// The kernel's definition (glibc's sigset_t is 128 bytes, the kernel's 8).
typedef uint64_t ksigset_t;

struct call {
    const struct sysdef *def;
    long nr;
    uint64_t a[6];
    uint64_t seq;  // this worker's call number
    // Set by generators for the post-processing.
    int *fd_out;          // pipe/socketpair: where the two new fds land (when in the buffer)
    int *timer_out;       // timer_create: where the timer id lands
    uint64_t mm_lo, mm_hi;  // memory calls: the range whose mappings may have changed
};

struct ring_entry {
    uint64_t seq;
    long nr;
    uint64_t a[6];
    long ret;
};

struct worker {
    int index;
    pid_t tid;
    uint64_t rng;
    uint64_t calls_wanted;
    unsigned char *buf;  // BUF_SIZE bytes, a PROT_NONE page on each side
    size_t bump;         // the part of buf this call has handed out
    // What the watchdog reads: busy is the call's seq while it runs, 0 between calls.
    _Atomic uint64_t busy;
    struct call cur;
    // The last calls, for reports.
    struct ring_entry ring[RING_SIZE];
    _Atomic uint64_t ring_next;
    // Results.
    _Atomic uint64_t calls;
    uint64_t ok;
    uint64_t errnos[134];
    uint64_t anomalies;
    _Atomic uint64_t interrupts;
    int stale_fds[8];
    int stale_next;
    _Atomic int done;
};

// One entry of the call table (calls_*.c).
struct sysdef {
    const char *name;
    long nr;
    unsigned weight;
    unsigned flags;
    void (*gen)(struct worker *w, struct call *c);
    void (*post)(struct worker *w, struct call *c, long ret);
};

enum {
    F_RETFD = 1 << 0,   // a nonnegative result is a new fd
    F_MM = 1 << 1,      // changes mappings: made under the mm lock, arena repaired after
    F_SIZE1 = 1 << 2,   // success returns at most a[1] (a byte count)
    F_SIZE2 = 1 << 3,   // success returns at most a[2]
};

// --- globals (fuzz.c) ---
extern struct options {
    uint64_t seed;
    uint64_t calls;
    double seconds;
    int threads;
    int verbose;
    long hang_ms;
    long hang_wait_s;  // after reporting a hang, wait this long (to attach a debugger)
    const char *dir;
} g_opt;

extern pid_t g_pid;
extern pid_t g_tids[MAX_THREADS];
extern int g_nthreads;
extern uid_t g_uid;
extern gid_t g_gid;
extern unsigned char *g_region;  // the arena with its guards
extern unsigned char *g_arena;
extern unsigned char *g_ro_page;     // readable, never writable
extern unsigned char *g_guard_page;  // mapped, no access
extern uint32_t *g_futex_words;      // one always-writable page shared by the workers
extern uint64_t g_restorer;          // the libc signal trampoline (SA_RESTORER)
extern pthread_mutex_t g_mm_lock;
extern _Atomic int g_stop;
extern char g_scratch[2][512];  // absolute scratch directories: under the cwd, under /tmp
extern const char *g_paths_rw[NPATHS_MAX];  // names below a scratch directory
extern int g_npaths_rw;
extern const char *g_paths_ro[NPATHS_MAX];  // paths only ever read
extern int g_npaths_ro;

// --- random numbers and values (gen.c) ---
uint64_t rnd(struct worker *w);
uint64_t below(struct worker *w, uint64_t n);
int chance(struct worker *w, unsigned percent);
#define PICK(w, arr) ((arr)[below((w), sizeof(arr) / sizeof((arr)[0]))])

uint64_t gen_int(struct worker *w);                  // any integer, edge values often
uint64_t gen_small(struct worker *w, uint64_t max);  // mostly in [0, max], sometimes an edge
uint64_t gen_size(struct worker *w, size_t room);    // a byte count for a buffer of `room`
uint64_t gen_flags(struct worker *w, uint64_t valid);  // a subset of `valid`, sometimes junk
uint64_t gen_offset(struct worker *w);  // a file offset; never large enough to fill a disk

// Scratch memory for this call: `size` bytes inside the worker's buffer.
void *scratch(struct worker *w, size_t size);
void *scratch_rand(struct worker *w, size_t size);  // filled with random bytes
// Pointer arguments: a valid scratch pointer most of the time, else a bad one.
uint64_t bad_ptr(struct worker *w);
uint64_t gen_out(struct worker *w, size_t size);  // the kernel may write `size` bytes there
uint64_t gen_in(struct worker *w, const void *data, size_t size);  // points at a copy of data
uint64_t gen_in_rand(struct worker *w, size_t size);  // points at random bytes
uint64_t maybe_bad(struct worker *w, void *p);  // p, or now and then a bad pointer
// For structures whose contents steer the kernel (where it writes, what it creates,
// which signal it sends): p, or now and then NULL or a pointer nothing can read.
uint64_t ctl(struct worker *w, void *p);
uint64_t unreadable(struct worker *w);  // never NULL

// What a pool fd refers to (as far as the fuzzer knows: numbers are reused).
enum fd_kind {
    K_ANY,  // classify with fstat
    K_FILE, K_DIR, K_PIPE, K_SOCK, K_CHR, K_EPOLL, K_EVENTFD, K_TIMERFD, K_SIGNALFD, K_PIDFD,
    K_INOTIFY, K_OTHER,
};

// Descriptors: pool fds mostly, else stale, negative or huge ones; never 0, 1 or 2.
int gen_fd(struct worker *w);
int gen_fd_of(struct worker *w, enum fd_kind kind);  // mostly one of this kind
int gen_dirfd(struct worker *w);  // a directory fd, AT_FDCWD, or gen_fd
void pool_add(int fd, enum fd_kind kind);
int pool_take_evicted(void);  // an fd this thread pushed out of the pool, to close; or -1
void pool_reset(void);
int pool_any(struct worker *w);  // a pool fd or -1
void note_closed(struct worker *w, int fd);

// Paths, copied into the scratch buffer (or a bad pointer now and then).
uint64_t gen_path_rw(struct worker *w);  // absolute, inside a scratch directory
uint64_t gen_path_ro(struct worker *w);  // anything readable; never written through
uint64_t gen_string(struct worker *w, size_t max);  // a NUL-terminated odd string

// Times.
uint64_t gen_timespec(struct worker *w);  // pointer to a struct timespec (often short)
uint64_t gen_timespec_abs_past(struct worker *w);  // an absolute time already passed; never NULL
uint64_t gen_timeval(struct worker *w);
uint64_t gen_itimerspec(struct worker *w, int signals);  // signals: no interval below 1 ms
void fill_timespec(struct worker *w, long *sec, long *nsec);

// Signals.
int gen_signal(struct worker *w);  // a handled signal, 0, or an invalid number
uint64_t gen_sigset_ptr(struct worker *w);  // a sigset that never blocks SIG_INTERRUPT
ksigset_t gen_sigset(struct worker *w);
pid_t gen_pid_self(struct worker *w);   // this process, or one that cannot exist
pid_t gen_tid(struct worker *w);        // a worker's tid, or one that cannot exist
uint32_t gen_uid(struct worker *w);

// Sockets.
uint64_t gen_sockaddr(struct worker *w, uint64_t *len);
uint64_t gen_iovec(struct worker *w, uint64_t *count, int writable);
uint64_t gen_msghdr(struct worker *w, int writable);

// The arena: a page-range inside it, for calls that change mappings.
void arena_range(struct worker *w, uint64_t *addr, uint64_t *len);
void arena_repair(uint64_t lo, uint64_t hi);
int in_region(uint64_t addr, uint64_t len);

// --- the call table: each family's part (calls_*.c), joined by fuzz.c ---
extern const struct sysdef g_calls_fs[], g_calls_io[], g_calls_mm[], g_calls_proc[];
extern const int g_ncalls_fs, g_ncalls_io, g_ncalls_mm, g_ncalls_proc;
extern const struct sysdef *g_sysdefs;
extern int g_nsysdefs;
enum fd_kind created_kind(long nr);  // calls_io.c
uint64_t gen_clockid(struct worker *w);  // calls_io.c

// --- reporting (fuzz.c) ---
void report_call(int fd, const char *prefix, int worker, uint64_t seq, long nr, const uint64_t *a,
                 int with_ret, long ret);
const char *sysname(long nr);

#endif  // CARBYNE_FUZZ_H
