// The IPC leader (see leader.h).
//
// Lock order: g_call_lock (a Mutex, held across a request's PAL I/O) is taken with no
// other lock held.
#include "leader.h"

#include "channel.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/lock.h>
#include <libos/pal.h>

namespace carbyne::libos::ipc {

namespace {

constinit int g_next_id = 2;  // the leader's: pid 1 is its own
PalHandle* g_leader;          // a member's channel to the leader
constinit Mutex g_call_lock{LockRank::LeaderCall};
uint64_t g_next_request = 1;

PalHandle* g_poller;          // the leader's: its members' channels
bool g_serving;
constinit Mutex g_serve_start_lock{LockRank::LeaderCall};

Result<void> send(PalHandle* ch, MsgType type, uint64_t id, const void* payload, uint32_t size) {
    MsgHead head = {size, uint16_t(type), 0, id};
    TRY(channel_write(ch, &head, sizeof(head)));
    if (size)
        TRY(channel_write(ch, payload, size));
    return {};
}

// -- The leader's side --------------------------------------------------------------------

Result<void> serve_one(PalHandle* ch) {
    MsgHead head;
    TRY(channel_read(ch, &head, sizeof(head)));
    if (!msg_head_valid(head))
        return Errno(EINVAL);
    uint8_t payload[kMaxPayload];
    TRY(channel_read(ch, payload, head.size));
    switch (MsgType(head.type)) {
    case MsgType::AllocId: {
        if (head.size)
            return Errno(EINVAL);
        uint64_t id = uint64_t(TRY(id_alloc()));
        return send(ch, MsgType::AllocId, head.id, &id, sizeof(id));
    }
    case MsgType::NewMember: {
        if (head.size)
            return Errno(EINVAL);
        auto made = member_channel_new();
        if (!made.ok()) {
            uint64_t err = uint64_t(made.error().code);
            return send(ch, MsgType::Error, head.id, &err, sizeof(err));
        }
        auto sent = send(ch, MsgType::NewMember, head.id, nullptr, 0);
        if (sent.ok())
            sent = pal_result(g_pal->channel_send_handle(ch, made.value()));
        g_pal->stream_close(made.value());  // the new member has it now (or nobody does)
        return sent;
    }
    default: return Errno(EINVAL);
    }
}

[[noreturn]] void serve_main(void*) {
    for (;;) {
        PalPollEvent events[16];
        size_t count = 0;
        if (g_pal->poller_wait(g_poller, events, 16, &count, PAL_WAIT_FOREVER) != PAL_OK)
            continue;
        for (size_t i = 0; i < count; i++) {
            auto* ch = reinterpret_cast<PalHandle*>(events[i].cookie);
            if (!serve_one(ch).ok()) {
                // The member is gone, or said something malformed: its channel ends.
                g_pal->poller_ctl(g_poller, ch, 0, 0);
                g_pal->stream_close(ch);
            }
        }
    }
}

// -- A member's side ------------------------------------------------------------------------

// One request and its reply (`reply_size` bytes); *handle gets the handle that follows a
// NewMember reply.
Result<void> call(MsgType type, void* reply, uint32_t reply_size, PalHandle** handle) {
    LockGuard g(g_call_lock);
    if (!g_leader)
        return Errno(EPIPE);
    uint64_t id = g_next_request++;
    TRY(send(g_leader, type, id, nullptr, 0));
    MsgHead head;
    TRY(channel_read(g_leader, &head, sizeof(head)));
    if (!msg_head_valid(head) || head.id != id)
        return Errno(EPROTO);
    if (MsgType(head.type) == MsgType::Error) {
        uint64_t err;
        if (head.size != sizeof(err))
            return Errno(EPROTO);
        TRY(channel_read(g_leader, &err, sizeof(err)));
        return Errno(int(err));
    }
    if (head.type != uint16_t(type) || head.size != reply_size)
        return Errno(EPROTO);
    if (reply_size)
        TRY(channel_read(g_leader, reply, reply_size));
    if (handle)
        TRY(pal_result(g_pal->channel_recv_handle(g_leader, handle)));
    return {};
}

// A member's watch on its leader: when the leader's process is gone (its end of the
// channel closed), this one ends too, as a PID namespace's processes end with its init.
[[noreturn]] void watch_main(void*) {
    for (;;) {
        uint32_t want = PAL_WAIT_RDHUP, ready = 0;
        PalError e = g_pal->wait_for_many(1, &g_leader, &want, &ready, PAL_WAIT_FOREVER);
        if (e == PAL_OK && (ready & (PAL_WAIT_RDHUP | PAL_WAIT_HANGUP | PAL_WAIT_ERROR))) {
            log_debug("the instance's first process is gone: this process ends");
            g_pal->process_kill_self(9);
        }
    }
}

}  // namespace

void member_watch_start() {
    if (!is_leader() && g_leader && g_pal->thread_create(watch_main, nullptr) != PAL_OK)
        log_warning("cannot watch the instance's first process: this one may outlive it");
}

bool is_leader() { return g_boot->parent_channel == nullptr; }

void set_leader_channel(PalHandle* channel) { g_leader = channel; }

Result<int> id_alloc() {
    if (is_leader()) {
        int id = __atomic_fetch_add(&g_next_id, 1, __ATOMIC_RELAXED);
        if (id >= 0x400000)  // pid_max: ids are not reused yet
            return Errno(EAGAIN);
        return id;
    }
    uint64_t id = 0;
    TRY(call(MsgType::AllocId, &id, sizeof(id), nullptr));
    if (id < 2 || id >= 0x400000)
        return Errno(EPROTO);
    return int(id);
}

Result<PalHandle*> member_channel_new() {
    if (!is_leader()) {
        PalHandle* h = nullptr;
        TRY(call(MsgType::NewMember, nullptr, 0, &h));
        return h;
    }
    PalHandle *mine = nullptr, *theirs = nullptr;
    TRY(pal_result(g_pal->channel_pair(&mine, &theirs)));
    auto served = leader_add_member(mine);
    if (!served.ok()) {
        g_pal->stream_close(mine);
        g_pal->stream_close(theirs);
        return served.error();
    }
    return theirs;
}

Result<void> leader_add_member(PalHandle* channel) {
    {
        LockGuard g(g_serve_start_lock);
        if (!g_serving) {
            if (!g_poller)
                TRY(pal_result(g_pal->poller_create(&g_poller)));
            TRY(pal_result(g_pal->thread_create(serve_main, nullptr)));
            g_serving = true;
        }
    }
    return pal_result(g_pal->poller_ctl(g_poller, channel, PAL_WAIT_READ, uint64_t(channel)));
}

}  // namespace carbyne::libos::ipc
