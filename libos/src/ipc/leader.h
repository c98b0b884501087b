// The IPC leader: the first process of an instance. Every other process has a channel to
// it (its "leader channel") and asks it over that channel for what must be one for the
// whole instance: process and thread ids, and a leader channel for each new process.
//
// Messages are framed: a 16-byte head (payload size, type, request id) and at most
// kMaxPayload bytes; a reply carries its request's id. A request is answered by the leader
// in order; a process sends one request at a time (a sleeping lock), and a dead leader is
// an error (EPIPE), never a hang. A malformed message ends that member's channel.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos::ipc {

enum class MsgType : uint16_t {
    AllocId = 1,    // -> u64 id
    NewMember = 2,  // -> nothing; a channel end follows the reply (channel_send_handle)
    Error = 0xffff, // reply: u64 errno
};

struct MsgHead {
    uint32_t size;  // payload bytes after the head
    uint16_t type;  // MsgType
    uint16_t flags; // 0
    uint64_t id;    // the request's; a reply repeats it
};
static_assert(sizeof(MsgHead) == 16);

inline constexpr uint32_t kMaxPayload = 4096;

// Checks a message head as it arrives: false for a size past kMaxPayload, a nonzero flags
// word or an unknown type.
bool msg_head_valid(const MsgHead& head);

// Whether this process is the leader.
bool is_leader();
// In a process other than the first: its leader channel (set once, before it runs).
void set_leader_channel(PalHandle* channel);

// An id from the instance's one space of process and thread ids.
Result<int> id_alloc();
// A new member's leader channel (the end the new process gets): the leader makes it and
// serves the other end; another process asks the leader for it.
Result<PalHandle*> member_channel_new();
// In a process other than the first, once it runs: a thread that ends it when the leader
// is gone.
void member_watch_start();
// The leader: serves `channel` (a child's channel once its checkpoint is restored).
Result<void> leader_add_member(PalHandle* channel);

}  // namespace carbyne::libos::ipc
