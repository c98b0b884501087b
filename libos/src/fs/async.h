// Signal-driven I/O (fcntl(2) O_ASYNC, ioctl FIOASYNC, F_SETOWN, F_SETOWN_EX, F_SETSIG):
// while a file has O_ASYNC and an owner, the owner gets SIGIO (or the F_SETSIG signal,
// then with si_code POLL_IN/POLL_OUT/..., si_band and si_fd) each time the file becomes
// readable or writable, as Linux's kill_fasync. The owner is a process (this one, or
// another of the instance through the leader's process table) or a process group.
//
// A service thread watches the files: those with a LibOS wait queue through a link on it
// (its callback marks the file and wakes the thread), those whose readiness is the host's
// (poll_handle(): host sockets, shared pipes) through a PAL poller, edge-triggered. A file
// that moves from one to the other (a pipe or UNIX socket shared by fork) is watched anew.
//
// Lock order: the watch list's lock (LockRank::Async, a Mutex) comes before the wait
// queues' locks and the PAL poller; signals are sent with it dropped.
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos::fs {

class File;

// The owner of a file's signals (F_SETOWN_EX's type and id; id 0: none) and its signal
// (0: SIGIO without the poll details).
struct AsyncOwner {
    int type;  // F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP
    int id;
    int sig;
};

// After a change of O_ASYNC, the owner or the signal of `f` (whose descriptor `fd` made the
// change: si_fd): the file is watched while it has O_ASYNC and an owner.
Result<void> async_update(File* f, int fd);
// The file is going: its watch goes too.
void async_forget(File* f);

}  // namespace carbyne::libos::fs
