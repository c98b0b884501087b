// The process and its threads: identity, descriptors, working directory, memory break.
// This is the state a checkpoint (fork) will carry.
//
// Lock order: Process::lock before the thread list's lock (thread.cpp) and FdTable's lock.
#pragma once

#include <libos/result.h>
#include <libos/lock.h>
#include <pal/pal.h>
#include <stdint.h>

#include "../fs/path.h"
#include "../signal/signal.h"
#include "creds.h"
#include "fdtable.h"
#include "thread_attrs.h"

namespace carbyne::libos {

struct Thread {
    int tid;
    uint64_t sigmask;           // blocked signals, bit (n - 1) for signal n
    uint64_t clear_child_tid;   // set_tid_address
    uint64_t robust_list;       // set_robust_list head and length
    uint64_t robust_list_size;
    long syscall_nr;            // the system call in progress (for fault reports), -1 when none
    PalContext* syscall_ctx;    // the application's registers during a system call
    PalHandle* wait_event;      // auto-clear event this thread blocks on (wait.h)
    PalHandle* lock_event;      // auto-clear event it waits on for a sleeping lock (lock.h)
    HeldLocks held_locks;       // the locks it holds, with -Dlock_check=true
    int64_t pal_id;             // the PAL's id of its host thread (thread_interrupt); 0 once gone
    bool exit_requested;        // another thread's execve ends this one (thread.h)
    int restart;                // ERESTARTSYS/ERESTARTNOHAND: the call just ended may restart
    uint64_t restart_nr;        // ... and its number
    Thread* next;               // in the process's thread list
    PalContext start_ctx;       // where a new thread enters the application
    uint64_t start_fs_base;

    // Signals (signal/signal.cpp), under g_process.lock.
    uint64_t pending;               // thread-directed signals
    SigInfo pending_info[64];       // standard signals: the one instance pending
    SigQueued* rt_queue;            // real-time signals: every instance, in arrival order
    uint64_t sigwait_set;           // signals it waits for in rt_sigtimedwait (taken, not delivered)
    uint64_t saved_sigmask;         // restored after the handler when restore_sigmask
    bool restore_sigmask;           // (rt_sigsuspend)
    uint64_t altstack_sp, altstack_size;
    int altstack_flags;             // SS_DISABLE, SS_AUTODISARM

    ThreadAttrs attrs;  // prctl and scheduler settings (thread_attrs.h), under g_process.lock
};

// The threads of the process (proc/thread.cpp).
Result<void> threads_init_main(Thread* main);
size_t thread_count();
// The tids of the process's threads in ascending order; returns how many (may exceed max).
size_t thread_list(int* out, size_t max);
// A thread that does not block signal `sig` or waits for it in rt_sigtimedwait (the caller
// first if it qualifies), or nullptr.
Thread* thread_pick_for_signal(Thread* caller, int sig);
// Whether some thread's mask lets `sig` through (a thread waiting for it in sigtimedwait
// keeps it blocked: Linux's real_blocked).
bool thread_any_unblocks(int sig);
// Clears `mask` from every thread's pending set (caller holds g_process.lock).
void thread_discard_pending(uint64_t mask);

// The LibOS's per-thread pointer (%gs:8 of the PAL TCB).
inline Thread* current_thread() {
    Thread* t;
    asm volatile("mov %%gs:8, %0" : "=r"(t));
    return t;
}

inline constexpr int kNumSignals = 64;

// A signal's disposition, as rt_sigaction(2) sets it.
struct SignalAction {
    uint64_t handler;  // SIG_DFL (0), SIG_IGN (1) or the handler's address
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

inline constexpr int kNumResourceLimits = 16;           // RLIM_NLIMITS
inline constexpr uint64_t kRlimitInfinity = ~uint64_t{0};  // RLIM_INFINITY

// One resource limit (getrlimit(2)): soft and hard.
struct ResourceLimit {
    uint64_t cur, max;
};

struct Process {
    int pid;
    int ppid;
    int pgid, sid;  // its process group and session (under `lock`)
    // The effective uid and gid (creds.uid.effective, creds.gid.effective) for the many
    // readers that need only those; written under `lock` with creds, read without it.
    uint32_t uid, gid;
    FdTable fds;
    uint64_t stack_size;  // the main thread's stack (RLIMIT_STACK's start value)

    Spinlock lock{LockRank::Process};  // guards the fields below
    fs::Dentry* cwd;  // the working directory (process_get_cwd, process_set_cwd)
    uint32_t umask;
    uint64_t brk_max_size;  // sys.brk.max_size (RLIMIT_DATA's start value)
    fs::Dentry* exe;  // the program's file (process_exe_path)
    char comm[16];    // the name it was started by, the threads' default name
    SignalAction actions[kNumSignals];  // index n - 1 for signal n
    uint64_t pending;                   // process-directed signals
    SigInfo pending_info[kNumSignals];  // as Thread's
    SigQueued* rt_queue;
    uint32_t rt_queued;                 // instances queued in the process and its threads
    ProcessAttrs attrs;  // PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER (thread_attrs.h)
    uint32_t persona;    // personality(2): stored and reported; no flag changes behaviour

    // Credentials and resource limits, reached through the functions below: part of what
    // a fork checkpoint carries (with RLIMIT_NOFILE's soft limit applied to fds again).
    // They take their start values from uid, gid, stack_size and brk_max_size, as
    // libos_init set them, when first used (identity_ready).
    bool identity_ready;
    Credentials creds;
    GroupList* groups;  // a counted reference
    ResourceLimit limits[kNumResourceLimits];
};

extern Process g_process;

// The working directory, copied out under the lock.
// The working directory's path now into `out` (kPathMax bytes); true when it was removed
// (`out` then has the path it had). ENAMETOOLONG when a rename made it too long.
Result<bool> process_get_cwd(char* out);
// Makes the directory at `path` (clean, absolute) the working directory; ENOMEM.
Result<void> process_set_cwd(const char* path);
// Makes the directory of dentry `d` the working directory (takes the reference).
void process_set_cwd_dentry(fs::Dentry* d);
// The program: its file at `path` (clean, absolute, symlinks resolved) and the name the
// threads take (Linux's comm: the last component of the name it was started by).
Result<void> process_set_exe(const char* path, const char* started_as);
// The program file's path now into `out` (kPathMax bytes); true when it was removed.
// ENOENT before a program runs.
Result<bool> process_exe_path(char* out);

// The credentials, copied under the lock.
Credentials process_creds();
// The credentials in place; the caller holds g_process.lock.
Credentials& process_creds_locked();
// Replaces the credentials (uid and gid follow); the caller holds g_process.lock.
void process_set_creds_locked(const Credentials& creds);

// Applies `change` (one of the rules of creds.h: it must not block or touch application
// memory) to a copy of the credentials and commits the copy if it succeeds.
template <typename F>
Result<void> process_change_creds(F&& change) {
    SpinGuard g(g_process.lock);
    Credentials creds = process_creds_locked();
    TRY(change(creds));
    process_set_creds_locked(creds);
    return {};
}

// A new reference to the supplementary groups.
GroupList* process_groups();
// Makes `groups` (sorted; its reference moves here) the supplementary groups; EPERM, and the
// reference dropped, unless privileged.
Result<void> process_set_groups(GroupList* groups);

// The limit of `resource` (0 <= resource < kNumResourceLimits).
ResourceLimit process_rlimit(int resource);
// setrlimit(2)'s rules: lowering is free, raising a hard limit needs privilege, soft above
// hard is EINVAL, and RLIMIT_NOFILE cannot exceed the descriptor table (EPERM, as Linux
// above fs.nr_open). Returns the previous limit.
Result<ResourceLimit> process_set_rlimit(int resource, const ResourceLimit& want);

namespace ckpt {
class Encoder;
class Decoder;
}  // namespace ckpt
// Credentials, supplementary groups and resource limits into a fork checkpoint, and back
// in the child (as they were: no privilege checks).
void process_identity_save(ckpt::Encoder& out);
Result<void> process_identity_restore(ckpt::Decoder& in);

}  // namespace carbyne::libos
