// The instance's process table, kept by the IPC leader: every process's pid, parent,
// process group and session, and how to reach it (a host handle of the process, or, for the
// leader's own children, the leader's child list). It routes kill(2) to any process of the
// instance, to a whole process group across processes (kill(-pgid), kill(0)) and to every
// process (kill(-1)), answers getpgid/getsid/getppid about other processes, and reparents
// the children of a process that ends to pid 1 (getppid then answers 1), sending them their
// parent-death signal (PR_SET_PDEATHSIG).
//
// The leader enters each new process when it makes its leader channel, before the process
// runs (procs_enter, from member_channel_new); a parent other than the leader then passes
// its child's host handle (procs_set_handle). A process that changes its own group or
// session tells the leader (procs_set_ids). A process whose leader channel
// ends leaves the table. Other processes ask the leader by requests (MsgType::Proc); the
// leader acts on its own table directly.
//
// Signals between processes carry their siginfo (fork.h: process_signal). Limits: a
// thread id of another process is not checked by the sender (a signal for a thread that
// is gone goes to its process); an orphan's end is not reported to pid 1 (it cannot wait
// for it).
//
// Lock order: the table's lock (LockRank::Procs, a Mutex) is taken after the leader call
// lock and before the children lock (fork.cpp's, which child_signal takes under it).
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos::ckpt {
class Encoder;
}
namespace carbyne::libos {
struct SigInfo;
}

namespace carbyne::libos::ipc {

struct ProcIds {
    int ppid, pgid, sid;
};

// A new process as its parent describes it: its pid, its parent's, and the group and session
// it starts in (its parent's).
struct NewProc {
    int32_t pid, ppid, pgid, sid;
};

// The leader: the new process, whose channel is `token`, before it runs.
void procs_enter(const NewProc& p, uint64_t token);
// By a parent other than the leader, once its child `pid` runs: the child's host process
// handle (the parent keeps its own), through which the leader signals it.
void procs_set_handle(int pid, PalHandle* process);
// The caller's own group and session changed (setpgid, setsid), or, with another pid, a
// child's group (setpgid of a child, which the child's own ids then show).
Result<void> procs_set_ids(int pid, int pgid, int sid);
// What the table says of `pid`; ESRCH when it is not a process of the instance.
Result<ProcIds> procs_ids(int pid);
// PR_SET_PDEATHSIG: `sig` (0: none) goes to the caller when its parent process ends (a
// signal a host can carry: see the limits above).
Result<void> procs_set_pdeath(int sig);
// A host handle of process `pid` of the instance (a pidfd's: readable once it has ended),
// or nullptr when there is none to give (the caller itself, the first process, one whose
// parent has not passed its handle yet); ESRCH when there is no such process.
Result<PalHandle*> procs_process_handle(int pid);
// The leader: the token of process `pid` (the leader's end of its channel); ESRCH when
// there is no such process.
Result<uint64_t> procs_token_of(int pid);
// The caller has reaped its child `pid` (wait): from now on it is
// no process for kill(2) and the ids calls (ESRCH), as on Linux.
void procs_reaped(int pid);
// The pids of the processes in group `pgid` (at most `max` written); returns how many
// there are.
Result<size_t> procs_group(int pgid, int* out, size_t max);
// The caller's own ids: its parent (the one at fork, or pid 1 once that one has ended),
// group and session, as the table has them (a parent's setpgid of it included).
ProcIds procs_own_ids();
// kill(2) of processes other than the caller: one process, a process group, or every
// process but pid 1 (`id` unused), with the siginfo `info` (signo 0: only whether they
// exist), to the thread `tid` of the process (0: the process). Returns how many processes
// were signalled (0: none there: the caller decides on ESRCH, knowing whether it is one of
// them itself).
enum class KillScope : int32_t { Process = 1, Group = 2, All = 3 };
Result<int> procs_kill(KillScope scope, int id, const SigInfo& info, int tid = 0);

// -- The leader's side ------------------------------------------------------------------

// One request of the member whose channel is `ch` (its token `member`); a handle to send
// after the answer goes to *pass (the caller closes it once sent).
Result<void> procs_serve(uint64_t member, PalHandle* ch, const uint8_t* request, size_t size, ckpt::Encoder& reply,
                         PalHandle** pass);
// The member whose channel is `member` is gone: its entry leaves, its children go to pid 1.
void procs_member_gone(uint64_t member);

}  // namespace carbyne::libos::ipc
