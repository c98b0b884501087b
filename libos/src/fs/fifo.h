// Named pipes (fifo(7)): what a file system keeps for a FIFO node, and the table of host
// FIFOs on chroot mounts.
//
// A FIFO node has one pipe (net/pipe.cpp) while some end of it is open or opening: the
// first open makes it, the last close drops it and whatever data it still held, as Linux
// frees i_pipe. An end is a pipe end that also holds a reference on its node (so that fstat
// shows the node, and an unlinked FIFO keeps working) and lets it go when it closes.
//
// Lock order: FifoNode::pipe_lock and the host FIFO table's lock are leaves (a pipe's
// reference count is all that changes under the first).
#pragma once

#include <libos/result.h>
#include <libos/lock.h>

#include "file.h"

namespace carbyne::libos::net {
class Pipe;
}

namespace carbyne::libos::fs {

// The node of a FIFO as an end sees it. The file system keeps it alive for as long as the
// references it handed out (one per end, taken before net::fifo_open) are not released.
class FifoNode {
public:
    // fstat/fchmod/fchown/futimens of an end act on the node.
    virtual Result<void> stat(Stat* out) = 0;
    virtual Result<void> chmod(uint32_t mode) = 0;
    virtual Result<void> chown(uint32_t uid, uint32_t gid) = 0;
    virtual Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) = 0;
    // Drops one reference taken for an end (its close, or its open failing).
    virtual void release() = 0;

    // net/pipe.cpp's: the pipe while an end is open or opening; nullptr otherwise. Set and
    // cleared under pipe_lock, with the pipe's reference count (see net::fifo_open).
    Spinlock pipe_lock{LockRank::Fifo};
    net::Pipe* pipe = nullptr;

protected:
    ~FifoNode() = default;
};

// Opens the host FIFO `handle` (a PAL_OPEN_PATH handle, which this takes over; `attr` are
// its attributes) of a chroot mount, as net::fifo_open does: the host FIFO itself is never
// opened (a host open blocks the host thread, deaf to LibOS signals). Its ends meet in a
// LibOS pipe found by the host file's (dev, ino) in a process-wide table, made by the
// first open and dropped with the last end.
// FIXME: another host process (or another Carbyne process) opening the same host FIFO is
// not connected to these ends; the multi-process work will route it. Until then no data
// reaches the host FIFO, and the host's permission check of an open (which a PAL_OPEN_PATH
// handle skips) is not made either.
Result<File*> host_fifo_open(PalHandle* handle, const PalStreamAttr& attr, uint32_t flags, const char* path);

}  // namespace carbyne::libos::fs
