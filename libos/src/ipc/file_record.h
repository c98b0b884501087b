// A file as another process of the instance takes it: one record (its kind and what that
// kind needs) and at most one host handle that travels beside it. fork writes one per
// descriptor (fork.cpp); an SCM_RIGHTS message on a UNIX socket that processes share
// carries one per file (net/unix.cpp, files_pack).
//
// What crosses, and as what:
// - consoles: reopened as the same console;
// - host files: their host handle, so one open file description (offset and status flags
//   kept by the host from then on);
// - other files with a path (procfs, devices): opened again by path at the same offset;
// - host sockets, and UNIX stream socket pairs (moved to a host pair first): their handle;
// - pipes (moved to a host pipe first, net/pipe.h): their host end;
// - eventfds (their counter moved to a host eventfd first): its handle;
// - files of the tmpfs mounts the leader serves: their id in the leader's table, with a
//   hold taken for the receiver (fs/remote.h).
// Other kinds (listening UNIX sockets, epoll sets, FIFOs, timerfds...) cannot cross yet:
// file_export says EOPNOTSUPP.
#pragma once

#include <libos/pal.h>
#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"

namespace carbyne::libos::fs {
class File;
}

namespace carbyne::libos::ipc {

// Record kinds. Numbers are part of the checkpoint format: never reuse one.
enum class FileKind : uint32_t {
    Console = 1, Path = 2, Unshared = 3, Dup = 4, Pipe = 5, SharedFile = 6, Socket = 7, Remote = 8, EventFd = 9
};

// How a record arrives: in a forked child (the parent took its holds), in a received
// message (the receiver takes the holds in flight) or a peeked one (it takes holds of its
// own and leaves those in flight for the real receive).
enum class Arrival { Fork, Message, Peek };

// Writes the record of `f` (its kind, then the kind's fields) to `e`; *pass gets the host
// handle to send after the record (it stays `f`'s: do not close it), or nullptr.
// `receiver` takes a tmpfs file the leader serves: a forked child (the leader's token for
// its channel) or whoever receives a message (fs::kRemoteInFlight). EOPNOTSUPP, with
// nothing written, when `f` cannot cross processes yet.
Result<void> file_export(fs::File* f, ckpt::Encoder& e, PalHandle** pass, uint64_t receiver);

// Where file_import takes a record's host handle from.
class HandleSource {
public:
    virtual Result<PalHandle*> next() = 0;

protected:
    ~HandleSource() = default;
};

// The file of a record that file_export wrote (read to its end: `d` holds nothing else),
// with status flags `flags`. A malformed record is EINVAL; a Dup record is the caller's to
// resolve (EINVAL here). On failure, a host handle taken is closed.
Result<fs::File*> file_import(ckpt::Decoder& d, uint32_t flags, bool path_only, HandleSource& handles,
                              Arrival how);
// Opens `path` again from the root (a file another process had open): no O_CREAT,
// O_EXCL or O_TRUNC.
Result<fs::File*> file_open_path(const char* path, uint32_t flags);

// -- SCM_RIGHTS between processes ---------------------------------------------------------

// The most host handles one message may carry (the host's SCM_MAX_FD).
inline constexpr size_t kMaxPassHandles = 253;

// The files of one SCM_RIGHTS message packed for another process: handles[0] is host
// shared memory holding their records (the caller closes it once sent), the rest the
// records' host handles (the files' own); returns how many. EOPNOTSUPP (logged) when one
// cannot cross, ETOOMANYREFS past `cap` handles.
Result<size_t> files_pack(fs::File* const* files, size_t count, PalHandle** handles, size_t cap);

// A pack that was not sent: the holds it took in flight are given back, handles[0] closed
// (the others are the files').
void files_pack_cancel(PalHandle** handles, size_t count);

// The files of a received message from its host handles (all of them consumed: used or
// closed). `how`: Message, or Peek for MSG_PEEK (the message stays, its holds too).
// Returns the number of files, references stored in `files` (at most `cap`, else EINVAL).
Result<size_t> files_unpack(PalHandle** handles, size_t count, Arrival how, fs::File** files, size_t cap);

}  // namespace carbyne::libos::ipc
