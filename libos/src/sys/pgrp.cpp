// getpgrp, getpgid, setpgid, getsid, setsid: the calling process's own group and session.
// Each process keeps its own ids (a child inherits them at fork); the ids of other
// processes are not known here yet (the leader will keep them), so calls about another
// process answer ESRCH, except that a child's are what it inherited.
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

struct GroupIds {
    int pgid, sid;
};

GroupIds own_ids() {
    SpinGuard g(g_process.lock);
    return {g_process.pgid, g_process.sid};
}

// The ids of process `pid` (0: the caller) for getpgid and getsid: the caller's only.
Result<GroupIds> ids_of(int pid) {
    if (pid != 0 && pid != g_process.pid)
        return Errno(ESRCH);  // another process's: not known here yet (negative: none)
    return own_ids();
}

}  // namespace

Result<long> sys_getpgrp(const SyscallArgs&) { return own_ids().pgid; }

Result<long> sys_getpgid(const SyscallArgs& a) { return TRY(ids_of(a.i32(0))).pgid; }

Result<long> sys_getsid(const SyscallArgs& a) { return TRY(ids_of(a.i32(0))).sid; }

Result<long> sys_setpgid(const SyscallArgs& a) {
    int pid = a.i32(0), pgid = a.i32(1);
    // Linux's order: 0 means the caller, a pgid of 0 the pid, then a negative pgid is
    // EINVAL (setpgid(-1, 0) too) and an unknown pid ESRCH.
    if (pid == 0)
        pid = g_process.pid;
    if (pgid == 0)
        pgid = pid;
    if (pgid < 0)
        return Errno(EINVAL);
    if (pid != g_process.pid)
        return Errno(ESRCH);  // a child's group: not reached yet
    SpinGuard g(g_process.lock);
    if (g_process.sid == g_process.pid)
        return Errno(EPERM);  // a session leader keeps its group
    // Its own new group, or the group it is in: the only groups of its session known here.
    if (pgid != g_process.pid && pgid != g_process.pgid)
        return Errno(EPERM);
    g_process.pgid = pgid;
    return 0;
}

Result<long> sys_setsid(const SyscallArgs&) {
    SpinGuard g(g_process.lock);
    if (g_process.pgid == g_process.pid)
        return Errno(EPERM);  // a group leader cannot start a session
    g_process.sid = g_process.pgid = g_process.pid;
    return long(g_process.pid);
}

}  // namespace carbyne::libos
