// The framing of the messages between the processes of an instance (the leader's
// requests and replies, leader.h): a 16-byte head, then at most kMaxPayload bytes. Pure
// code: the unit tests feed it garbage.
#pragma once

#include <stdint.h>

namespace carbyne::libos::ipc {

enum class MsgType : uint16_t {
    AllocId = 1,    // -> u64 id
    NewMember = 2,  // NewProc -> u64 token; a channel end follows the reply (channel_send_handle)
    Fs = 3,         // an operation on a mount the leader serves (fs/remote.h) -> its answer
    Proc = 4,       // the instance's process table (ipc/procs.h) -> its answer
    Push = 5,       // nothing -> the caller's next push (ipc/push.h); its handle follows
    UnixName = 6,   // the instance's UNIX socket names (net/unix_names.h) -> its answer
    Error = 0xffff, // reply: u64 errno
};

struct MsgHead {
    uint32_t size;  // payload bytes after the head
    uint16_t type;  // MsgType
    uint16_t flags; // 0
    uint64_t id;    // the request's; a reply repeats it
};
static_assert(sizeof(MsgHead) == 16);

// The largest data a file request moves at once, and the room around it for the rest of
// a request (paths, names).
inline constexpr uint32_t kMaxData = 65536;
inline constexpr uint32_t kMaxPayload = kMaxData + 8192;

// Checks a message head as it arrives: false for a size past kMaxPayload, a nonzero flags
// word or an unknown type.
bool msg_head_valid(const MsgHead& head);

}  // namespace carbyne::libos::ipc
