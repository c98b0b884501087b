// Mounts the IPC leader serves for the whole instance: every tmpfs mount (the manifest's
// and /dev/shm) is one namespace and one content for all the processes of an instance, as
// on Linux (a file a shell writes in /tmp is read by the next command it runs).
//
// The leader (the first process) holds the tmpfs itself and uses it directly, with no
// message. Every other process has a RemoteFs in its place: each of its operations is one
// request to the leader (ipc/leader.h, MsgType::Fs) carrying the mount's index in the
// mount table (the same table in every process: one boot config), the path relative to
// the mount and, where something is created, the caller's file-system ids (the new file's
// owner). Permission checks stay in the caller's VFS, with the attributes the leader
// answers. The files a process opens there are RemoteFiles: the leader keeps the open file
// itself in its table of shared files, so every process holding it shares one open file
// description (one offset, one set of status flags as last set by a request). The leader
// counts holds per process (by its channel) and drops a process's holds when its channel
// ends, so a process that dies holds nothing.
//
// Data moves in requests of at most ipc::kMaxData bytes; a mapping of a remote file maps
// the host shared memory the leader's file moves to (tmpfs_node.h), passed as a handle.
//
// Not served yet: FIFOs on a tmpfs opened by another process than the first (ENXIO and a
// log line: the leader's service thread must never block on a FIFO's other end), and the
// ioctls of tmpfs files.
//
// Lock order: the leader's table lock (LockRank::SharedFiles) is a leaf; files are used
// with references taken under it and the lock dropped. A member's requests take the
// leader call lock (ipc/leader.cpp) with no other lock held.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

#include "file.h"
#include "filesystem.h"

namespace carbyne::libos::ckpt {
class Encoder;
}

namespace carbyne::libos::fs {

// The file system of the tmpfs mount about to be added at mount-table index `index`: the
// tmpfs itself in the leader, a RemoteFs for it in every other process.
Result<FileSystem*> shared_tmpfs_create(unsigned index);

// Whether `m` is a mount the leader serves.
bool remote_served_mount(const Mount* m);

// For fork: the id by which another process may hold `f` (a RemoteFile's own id; in the
// leader, a file of a served mount, entered in its table), or 0 when `f` is neither. The
// hold of the child is taken here, for the child's leader channel: `child_member` is the
// leader's token for it (see remote_member_token), before the child runs.
Result<uint64_t> remote_share(File* f, uint64_t child_member);
// In a child being restored (no request may be made yet): the file `id` that its parent
// held, already held for it (remote_share). `mount_index` is the served mount's index.
Result<File*> remote_adopt(uint64_t id, uint32_t flags, unsigned mount_index, const char* path);

// The holder of files in flight in SCM_RIGHTS messages between processes: remote_share
// for it takes a hold that the receiver's remote_claim makes its own.
inline constexpr uint64_t kRemoteInFlight = 1;  // no channel's token (they are addresses)
// The receiver of a message that passed the file `id` (see remote_share): one hold in
// flight becomes the caller's (`take`), or the caller takes one more of its own (a peek).
Result<File*> remote_claim(uint64_t id, uint32_t flags, unsigned mount_index, const char* path, bool take);

// -- The leader's side ------------------------------------------------------------------

// Serves one request of the member whose channel is `member` (a token: the leader's end of
// the channel): its answer goes to `reply`, and a handle to pass after the answer (owned by
// the file: not to be closed) to *pass. A malformed request is EINVAL.
Result<void> remote_serve(uint64_t member, const uint8_t* request, size_t size, ckpt::Encoder& reply,
                          PalHandle** pass);
// The member whose channel is `member` is gone: its holds are dropped.
void remote_member_gone(uint64_t member);

}  // namespace carbyne::libos::fs
