// The IPC leader: the first process of an instance. Every other process has a channel to
// it (its "leader channel") and asks it over that channel for what must be one for the
// whole instance: process and thread ids, a leader channel for each new process, and the
// operations on the tmpfs mounts the leader serves (fs/remote.h).
//
// Messages are framed: a 16-byte head (payload size, type, request id) and at most
// kMaxPayload bytes; a reply carries its request's id. A request is answered by the leader
// in order; a process sends one request at a time (a sleeping lock), and a dead leader is
// an error (EPIPE), never a hang. A malformed head ends that member's channel; a
// well-framed request whose payload is malformed is answered EINVAL.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

#include "message.h"
#include "procs.h"

namespace carbyne::libos::ipc {


// Whether this process is the leader.
bool is_leader();
// In a process other than the first: its leader channel (set once, before it runs).
void set_leader_channel(PalHandle* channel);

// A member's request to the leader and its reply: the reply's payload (at most
// `reply_cap` bytes, else EPROTO) goes to `reply`; its size is returned. With `handle`, a
// PAL handle follows a reply that is not an error; with `pass`, that handle follows the
// request. The leader's error is returned as it.
Result<uint32_t> leader_call(MsgType type, const void* request, uint32_t request_size, void* reply,
                             uint32_t reply_cap, PalHandle** handle, PalHandle* pass = nullptr);

// An id from the instance's one space of process and thread ids.
Result<int> id_alloc();
// A new member's leader channel (the end the new process gets): the leader makes it, enters
// the process in its table (ipc/procs.h) and serves the other end from now on; another
// process asks the leader for it. *token gets the leader's name for the member (what
// fs/remote.h holds files for).
Result<PalHandle*> member_channel_new(const NewProc& p, uint64_t* token);
// In a process other than the first, once it runs: a thread that ends it when the leader
// is gone.
void member_watch_start();

}  // namespace carbyne::libos::ipc
