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

#include "message.h"

namespace carbyne::libos::ipc {


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
