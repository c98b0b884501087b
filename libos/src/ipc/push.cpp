// Pushes from the leader to its members (see push.h).
//
// Lock order: g_pushes_lock is a leaf (a spinlock: no PAL call or allocation under it).
#include "push.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/log.h>
#include <libos/pal.h>

#include "../net/unix_names.h"
#include "../proc/process.h"
#include "../signal/signal.h"
#include "leader.h"
#include "procs.h"

namespace carbyne::libos::ipc {

namespace {

constexpr uint32_t kPushMagic = 0x48535550;  // "PUSH": the doorbell's first word

struct Push {
    Push* next;
    uint64_t member;
    PushKind kind;
    uint32_t size;
    PalHandle* handle;
    uint8_t payload[kMaxPushPayload];
};

constinit Spinlock g_pushes_lock{LockRank::Pushes};
Push* g_pushes;  // oldest first

void handle(PushKind kind, const uint8_t* payload, uint32_t size, PalHandle* h) {
    switch (kind) {
    case PushKind::UnixAccept: net::unix_names_accept(payload, size, h); return;
    }
    g_pal->stream_close(h);
}

// A member's loop over what the leader queued for it.
void take_all() {
    for (;;) {
        struct {
            uint32_t kind, size;
            uint8_t payload[kMaxPushPayload];
        } reply;
        PalHandle* h = nullptr;
        auto got = leader_call(MsgType::Push, nullptr, 0, &reply, sizeof(reply), &h);
        if (!got.ok()) {
            if (got.error() != Errno(ENOENT))
                log_debug("a push from the first process was lost (errno %d)", got.error().code);
            return;
        }
        if (got.value() < 8 || reply.size > got.value() - 8) {
            g_pal->stream_close(h);
            continue;
        }
        handle(PushKind(reply.kind), reply.payload, reply.size, h);
    }
}

}  // namespace

Result<void> push_to(int pid, PushKind kind, const void* payload, uint32_t size, PalHandle* h) {
    if (size > kMaxPushPayload) {
        g_pal->stream_close(h);
        return Errno(EINVAL);
    }
    if (pid == g_process.pid) {
        handle(kind, static_cast<const uint8_t*>(payload), size, h);
        return {};
    }
    auto member = procs_token_of(pid);
    auto* p = member.ok() ? static_cast<Push*>(kmalloc(sizeof(Push))) : nullptr;
    if (!p) {
        g_pal->stream_close(h);
        return member.ok() ? Errno(ENOMEM) : member.error();
    }
    *p = Push{nullptr, member.value(), kind, size, h, {}};
    memcpy(p->payload, payload, size);
    {
        SpinGuard g(g_pushes_lock);
        Push** link = &g_pushes;
        while (*link)
            link = &(*link)->next;
        *link = p;
    }
    // The doorbell. Without a handle of the process yet (its parent has not passed it), the
    // push waits for the member's next doorbell.
    auto process = procs_process_handle(pid);
    if (process.ok() && process.value()) {
        uint32_t bell[8] = {kPushMagic};
        PalError e = g_pal->process_message(process.value(), bell, sizeof(bell));
        g_pal->stream_close(process.value());
        if (e != PAL_OK && e != PAL_E_NOENT)
            log_warning("process %d was not told of a push (PAL error %d)", pid, int(e));
    }
    return {};
}

void message_upcall(const void* bytes, size_t size) {
    uint32_t magic = 0;
    if (size >= sizeof(magic))
        memcpy(&magic, bytes, sizeof(magic));
    if (magic == kPushMagic)
        take_all();
    else
        signal_message_upcall(bytes, size);
}

Result<void> push_serve(uint64_t member, ckpt::Encoder& reply, PalHandle** pass) {
    Push* p = nullptr;
    {
        SpinGuard g(g_pushes_lock);
        for (Push** link = &g_pushes; *link; link = &(*link)->next) {
            if ((*link)->member == member) {
                p = *link;
                *link = p->next;
                break;
            }
        }
    }
    if (!p)
        return Errno(ENOENT);
    reply.u32(uint32_t(p->kind));
    reply.u32(p->size);
    reply.put(p->payload, p->size);
    *pass = p->handle;
    kfree(p);
    return {};
}

void push_member_gone(uint64_t member) {
    Push* gone = nullptr;
    {
        SpinGuard g(g_pushes_lock);
        for (Push** link = &g_pushes; *link;) {
            Push* p = *link;
            if (p->member != member) {
                link = &p->next;
                continue;
            }
            *link = p->next;
            p->next = gone;
            gone = p;
        }
    }
    while (gone) {
        Push* next = gone->next;
        g_pal->stream_close(gone->handle);
        kfree(gone);
        gone = next;
    }
}

}  // namespace carbyne::libos::ipc
