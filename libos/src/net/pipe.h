// Pipes: an in-LibOS ring buffer with a read end and a write end (pipe(2), pipe(7)).
//
// A Pipe is the whole state of one pipe: its bytes, its packet boundaries (O_DIRECT), how
// many read and write ends are open, and its wait queues. The ends (PipeEnd files,
// pipe.cpp) only hold a reference to it. A pipe shared with another Carbyne process (after
// fork, multi-process work) will be another implementation behind the same file type,
// backed by a PAL stream; nothing outside pipe.cpp sees the ring.
//
// A FIFO (fifo(7), fs/fifo.h) is the same Pipe, made by the first open of its node and
// found there by the next ones; its ends come and go one at a time (an O_RDWR end is both a
// reader and a writer), and the opens wait for each other as fifo(7) says.
//
// Copies to and from the application never run under the pipe's spinlock: a reader (and a
// writer) first takes its side's token under the lock, copies with no lock held, then
// commits. The reader only touches committed bytes, the writer only free space, so one
// reader and one writer copy at the same time. Tokens are held only during one copy; a
// thread that waits for data or space holds none.
//
// Lock order: Pipe::m_lock, then a WaitQueue's lock (wakes run after the lock is dropped).
// A FIFO node's pipe_lock (fs/fifo.h) is a leaf.
#pragma once

#include <libos/result.h>

#include "../fs/fifo.h"
#include "../fs/file.h"

namespace carbyne::libos::net {

inline constexpr size_t kPipeBuf = 4096;              // PIPE_BUF: writes up to this are atomic
inline constexpr size_t kPipeDefaultSize = 65536;     // 16 pages, as Linux
inline constexpr size_t kPipeMaxSize = 1048576;       // /proc/sys/fs/pipe-max-size

// A new pipe's two ends. `flags`: O_NONBLOCK (both ends), O_DIRECT (packet mode: the write
// end's flag, as Linux sets it).
Result<void> pipe_create(uint32_t flags, fs::File** read_end, fs::File** write_end);

// Opens an end of the FIFO `node` with the open(2) flags `flags`, as Linux's fifo_open:
// O_RDONLY waits until a writer opens (not with O_NONBLOCK), O_WRONLY until a reader opens
// (with O_NONBLOCK and no reader: ENXIO), O_RDWR never waits. A deliverable signal ends a
// wait with ERESTARTSYS. The caller took one reference on `node` for the end: the end
// releases it when it closes, and a failed open releases it here.
Result<fs::File*> fifo_open(fs::FifoNode* node, uint32_t flags, const char* path);

// readv/writev on a file of kind Pipe: one read (or one write, atomic up to PIPE_BUF in
// total) over the whole vector, as Linux does.
Result<long> pipe_readv(fs::File* f, uint64_t iov_addr, size_t count);
Result<long> pipe_writev(fs::File* f, uint64_t iov_addr, size_t count);

// splice(2), tee(2): moving data in and out of a pipe (files of kind Pipe) through LibOS
// memory. pipe_take reads what the pipe holds, up to `size`, waiting (unless `nonblock`)
// only while it is empty and has writers; pipe_put writes as write(2) does; pipe_peek
// copies from the front without consuming (waiting as pipe_take); pipe_room is the free
// space now.
Result<size_t> pipe_take(fs::File* f, void* buf, size_t size, bool nonblock);
Result<size_t> pipe_put(fs::File* f, const void* buf, size_t size, bool nonblock);
Result<size_t> pipe_peek(fs::File* f, void* buf, size_t size, bool nonblock);
size_t pipe_room(fs::File* f);
bool pipe_same(fs::File* a, fs::File* b);

// F_GETPIPE_SZ / F_SETPIPE_SZ on a file of kind Pipe (EBADF for other files, as Linux).
Result<long> pipe_get_size(fs::File* f);
// Rounds `size` up to a power-of-two number of pages; EBUSY when the data does not fit,
// EPERM above kPipeMaxSize. Returns the new size.
Result<long> pipe_set_size(fs::File* f, uint64_t size);

// fork: makes the pipe of end `f` one that processes share (its data through a host pipe
// from now on) and returns the host end a child needs for `f`, with the pipe's id and the
// end's sides. EOPNOTSUPP for a FIFO's end (not shared across processes yet).
Result<PalHandle*> pipe_share_end(fs::File* f, uint64_t* pipe_id, bool* reads, bool* writes);
// In a child restoring its checkpoint: an end file of the parent's pipe `pipe_id` over the
// host end it received (the ends of one pipe share one Pipe); pipe_adopt_done() when the
// checkpoint is restored.
Result<fs::File*> pipe_end_adopt(uint64_t pipe_id, bool reads, bool writes, uint32_t flags, PalHandle* host);
void pipe_adopt_done();

}  // namespace carbyne::libos::net
