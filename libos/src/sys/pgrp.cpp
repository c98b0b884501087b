// getpgrp, getpgid, setpgid, getsid, setsid. Each process keeps its own ids (a child
// inherits them at fork) and tells the leader when they change; the leader's table
// (ipc/procs.h) has every process's, and answers for the others and for a process whose
// group its parent changed.
#include "../ipc/procs.h"
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

struct GroupIds {
    int pgid, sid;
};

GroupIds own_ids() {
    ipc::ProcIds ids = ipc::procs_own_ids();
    return {ids.pgid, ids.sid};
}

// The ids of process `pid` (0: the caller) for getpgid and getsid.
Result<GroupIds> ids_of(int pid) {
    if (pid < 0)
        return Errno(ESRCH);
    if (pid != 0 && pid != g_process.pid) {
        ipc::ProcIds ids = TRY(ipc::procs_ids(pid));
        return GroupIds{ids.pgid, ids.sid};
    }
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
    GroupIds own = own_ids();
    if (pid != g_process.pid) {
        // A child of the caller, in its session (EPERM otherwise), into its own group or
        // one of the session's.
        auto ids = ipc::procs_ids(pid);
        if (!ids.ok() || ids.value().ppid != g_process.pid)
            return Errno(ESRCH);
        if (ids.value().sid != own.sid || ids.value().sid == pid)
            return Errno(EPERM);
        if (pgid != pid && pgid != own.pgid && pgid != ids.value().pgid)
            return Errno(EPERM);
        TRY(ipc::procs_set_ids(pid, pgid, ids.value().sid));
        return 0;
    }
    {
        SpinGuard g(g_process.lock);
        if (g_process.sid == g_process.pid)
            return Errno(EPERM);  // a session leader keeps its group
        // Its own new group, or one of its session's known here.
        if (pgid != g_process.pid && pgid != g_process.pgid)
            return Errno(EPERM);
        g_process.pgid = pgid;
    }
    (void)ipc::procs_set_ids(g_process.pid, pgid, own.sid);
    return 0;
}

Result<long> sys_setsid(const SyscallArgs&) {
    int pid = g_process.pid;
    {
        SpinGuard g(g_process.lock);
        if (g_process.pgid == pid)
            return Errno(EPERM);  // a group leader cannot start a session
        g_process.sid = g_process.pgid = pid;
    }
    (void)ipc::procs_set_ids(pid, pid, pid);
    return long(pid);
}

}  // namespace carbyne::libos
