// The process and its threads: identity, descriptors, working directory, memory break.
// This is the state a checkpoint (fork) will carry.
//
// Lock order: Process::lock before the thread list's lock (thread.cpp) and FdTable's lock.
#pragma once

#include <libos/result.h>
#include <libos/spinlock.h>
#include <pal/pal.h>
#include <stdint.h>

#include "../fs/path.h"
#include "../signal/signal.h"
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
    int64_t pal_id;             // the PAL's id of its host thread (thread_interrupt); 0 once gone
    int restart;                // ERESTARTSYS/ERESTARTNOHAND: the call just ended may restart
    uint64_t restart_nr;        // ... and its number
    Thread* next;               // in the process's thread list
    PalContext start_ctx;       // where a new thread enters the application
    uint64_t start_fs_base;

    // Signals (signal/signal.cpp), under g_process.lock.
    uint64_t pending;               // thread-directed signals
    SigInfo pending_info[64];
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

struct Process {
    int pid;
    int ppid;
    uint32_t uid, gid;
    FdTable fds;
    uint64_t stack_size;  // the main thread's stack (RLIMIT_STACK)

    Spinlock lock;  // guards the fields below
    char cwd[fs::kPathMax];
    uint32_t umask;
    uint64_t brk_max_size;  // sys.brk.max_size (RLIMIT_DATA)
    char exe[fs::kPathMax];  // the program's LibOS path
    SignalAction actions[kNumSignals];  // index n - 1 for signal n
    uint64_t pending;                   // process-directed signals
    SigInfo pending_info[kNumSignals];
    ProcessAttrs attrs;  // PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER (thread_attrs.h)
};

extern Process g_process;

// The working directory, copied out under the lock.
void process_get_cwd(char* out);

}  // namespace carbyne::libos
