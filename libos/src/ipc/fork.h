// fork by checkpoint: the parent starts a fresh PAL process and streams it a checkpoint of
// itself (memory, descriptors, identity, signal state, the forking thread); the child
// restores it and returns 0 from the same call. And the parent's side of its children:
// their exit statuses for wait4/waitid, SIGCHLD.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stdint.h>

namespace carbyne::libos {

struct SigInfo;

struct ForkRequest {
    uint64_t stack;        // the child's stack pointer (0: the parent's)
    bool set_tls;
    uint64_t tls;          // the child's %fs base with set_tls
    bool parent_settid, child_settid, child_cleartid;
    uint64_t parent_tid, child_tid;
    int exit_signal;       // sent to the parent when the child ends (SIGCHLD, or 0: none)
    bool vfork;            // the parent waits until the child has exec'd or ended
};

// Creates a child process; returns its pid. EAGAIN when no process can be started or the
// child could not restore the checkpoint (it then ends; nothing hangs), ENOMEM.
Result<long> process_fork(const ForkRequest& req);

// In a process started by process_create: reads the checkpoint from `channel`, restores it,
// and fills *ctx with the registers the child resumes with. A bad checkpoint is an error
// (the caller reports it and ends the process); ENODATA when the channel ended before any
// checkpoint came (a child the PAL started ahead of time that no fork needed: it ends
// quietly).
Result<void> fork_child_restore(PalHandle* channel, PalContext* ctx);

// siginfo's si_code for SIGCHLD and waitid (asm-generic/siginfo.h).
inline constexpr int kCldExited = 1, kCldKilled = 2, kCldDumped = 3;

// What wait4/waitid ask for.
struct WaitRequest {
    int which;       // P_ALL, P_PID, P_PGID
    int id;
    int options;     // WNOHANG, WNOWAIT, WEXITED...
};
struct WaitResult {
    int pid;         // 0 with WNOHANG when no child has ended
    int code;        // kCldExited, kCldKilled, kCldDumped
    int status;      // the exit code or the signal
    uint32_t uid;
};
// Waits for a child to end (ECHILD when there is none to wait for; ERESTARTSYS on a
// signal) and reaps it unless WNOWAIT.
Result<WaitResult> process_wait_child(const WaitRequest& req);

// execve in a vfork child: its parent goes on now (an exit releases it by ending).
void fork_vfork_release();

// kill(2) of child `pid` (0: every child) with the siginfo `info` (signo 0: only whether
// it exists), to its thread `tid` (0: the process): false when there is no such child.
Result<bool> child_signal(int pid, const SigInfo& info, int tid = 0);
// Sends a signal to another process of the instance by its host handle: SIGKILL, SIGSTOP
// and SIGCONT as the host signals, which the host acts on itself (they carry no siginfo);
// every other as a message with `info` (PAL process_message), for thread `tid` (0: the
// process).
Result<void> process_signal(PalHandle* process, const SigInfo& info, int tid = 0);

// A second host handle of child `pid` (not reaped yet), for a pidfd; ESRCH when it is
// none of the caller's children.
Result<PalHandle*> child_handle_dup(int pid);

// The leader's end: every child still running is killed (the instance is a PID namespace).
void children_kill_all();

}  // namespace carbyne::libos
