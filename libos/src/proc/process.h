// The process and its threads: identity, descriptors, working directory, memory break.
// This is the state a checkpoint (fork) will carry.
//
// Lock order: Process::m_lock before FdTable's lock.
#pragma once

#include <libos/result.h>
#include <libos/spinlock.h>
#include <pal/pal.h>
#include <stdint.h>

#include "../fs/path.h"
#include "fdtable.h"

namespace carbyne::libos {

struct Thread {
    int tid;
    uint64_t sigmask;           // blocked signals, bit (n - 1) for signal n
    uint64_t clear_child_tid;   // set_tid_address
    uint64_t robust_list;       // set_robust_list head and length
    uint64_t robust_list_size;
    long syscall_nr;            // the system call in progress (for fault reports), -1 when none
};

// The LibOS's per-thread pointer (%gs:8 of the PAL TCB).
inline Thread* current_thread() {
    Thread* t;
    asm volatile("mov %%gs:8, %0" : "=r"(t));
    return t;
}

struct Brk {
    uint64_t start;  // first byte of the heap
    uint64_t end;    // current break
    uint64_t limit;  // start + sys.brk.max_size: the reservation's end
    uint64_t mapped; // end of the part mapped read-write
};

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
    Brk brk;
    char exe[fs::kPathMax];  // the program's LibOS path
    SignalAction actions[kNumSignals];  // index n - 1 for signal n
};

extern Process g_process;

// The working directory, copied out under the lock.
void process_get_cwd(char* out);

}  // namespace carbyne::libos
