// What prctl(2) and the scheduler calls set: thread names, nice values, scheduling
// policies, CPU affinity, timer slack and a few flags. The host schedules the LibOS's
// threads, so most of these are recorded and answered back as Linux would answer them;
// docs/syscalls.md says which have no effect.
//
// Lock order: the fields are under g_process.lock, taken after thread_attrs_ready().
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos {

struct Thread;

inline constexpr int kMaxCpus = 1024;  // CPU_SETSIZE
inline constexpr uint64_t kDefaultTimerSlackNs = 50000;

// Per thread, as Linux keeps them. All zero is the default of a process's first thread.
struct ThreadAttrs {
    char name[16];                     // PR_SET_NAME's, when named
    bool named;                        // else the program's base name (an execve must clear
                                       // it, as Linux renames the thread)
    int nice;                          // -20 ... 19
    uint32_t policy;                   // SCHED_NORMAL, SCHED_BATCH or SCHED_IDLE
    bool reset_on_fork;                // SCHED_RESET_ON_FORK
    bool no_new_privs;                 // PR_SET_NO_NEW_PRIVS
    bool keep_caps;                    // PR_SET_KEEPCAPS
    bool inherited;                    // its creator has copied its own settings (clone)
    uint16_t ioprio;                   // ioprio_set(2)
    int pdeath_signal;                 // PR_SET_PDEATHSIG
    uint64_t timer_slack_ns;           // 0: default_timer_slack_ns
    uint64_t default_timer_slack_ns;   // 0: 50 us; a new thread's is its creator's slack
    uint64_t affinity[kMaxCpus / 64];  // all zero: every CPU
    uint32_t mempolicy;                // set_mempolicy's (sys/numa.cpp's encoding), 0: default
};

// Per process.
struct ProcessAttrs {
    bool not_dumpable;     // PR_SET_DUMPABLE 0
    bool child_subreaper;  // PR_SET_CHILD_SUBREAPER
};

// Copies what a new thread inherits from its creator (clone(2)); called by the creator
// right after the thread starts.
void thread_attrs_inherit(Thread* child, Thread* parent);

// Waits, when t is the calling thread, until its creator has copied the settings it
// inherits: a new thread that asks about itself at once must not see the defaults.
void thread_attrs_ready(Thread* t);

// The thread's name as prctl(PR_GET_NAME) and /proc/<pid>/comm give it: the one it set,
// else its program's base name; NUL-terminated, at most 15 characters.
void thread_get_name(Thread* t, char out[16]);
// Names the thread (PR_SET_NAME, a write to /proc/.../comm): the first 15 bytes of `name`
// (`size` bytes long, not necessarily NUL-terminated), as Linux keeps them.
void thread_set_name(Thread* t, const char* name, size_t size);

}  // namespace carbyne::libos
