// Pushes: what the leader has for a member that did not ask for it (a connection to one of
// its UNIX sockets from another process...). A push is a kind, a small payload and one
// host handle, queued in the leader for the member's process; the leader then wakes the
// member with a PAL message, and the member's message thread (which may block and take
// locks) takes its pushes with requests (MsgType::Push) and hands each to its handler.
// A member that ends drops what was queued for it (the handles closed). The leader's own
// pushes go to their handler at once.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

#include "checkpoint.h"

namespace carbyne::libos::ipc {

enum class PushKind : uint16_t {
    UnixAccept = 1,  // net/unix_names.h: a connection to a listening socket
};
inline constexpr uint32_t kMaxPushPayload = 256;

// The leader: queues the push for process `pid` (takes `handle` in all cases) and wakes it.
// ESRCH when there is no such process.
Result<void> push_to(int pid, PushKind kind, const void* payload, uint32_t size, PalHandle* handle);

// The PAL's message upcall of every process: a signal from another process
// (signal/signal.h) or the leader's word that pushes wait.
void message_upcall(const void* bytes, size_t size);

// -- The leader's side ------------------------------------------------------------------

// A member's request for its next push: its kind and payload to `reply`, its handle to
// *pass (the caller closes it once sent); ENOENT when none is left.
Result<void> push_serve(uint64_t member, ckpt::Encoder& reply, PalHandle** pass);
// The member is gone: its pushes are dropped.
void push_member_gone(uint64_t member);

}  // namespace carbyne::libos::ipc
