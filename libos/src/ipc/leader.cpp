// The IPC leader (see leader.h).
//
// Lock order: g_call_lock (a Mutex, held across a request's PAL I/O) is taken with no
// other lock held.
#include "leader.h"

#include "channel.h"
#include "checkpoint.h"
#include "procs.h"
#include "push.h"
#include "../fs/remote.h"
#include "../net/unix_names.h"

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

Result<void> add_member(PalHandle* channel);

Result<void> send(PalHandle* ch, MsgType type, uint64_t id, const void* payload, uint32_t size) {
    MsgHead head = {size, uint16_t(type), 0, id};
    TRY(channel_write(ch, &head, sizeof(head)));
    if (size)
        TRY(channel_write(ch, payload, size));
    return {};
}

Result<void> send_error(PalHandle* ch, uint64_t id, int err) {
    uint64_t code = uint64_t(err);
    return send(ch, MsgType::Error, id, &code, sizeof(code));
}

// -- The leader's side --------------------------------------------------------------------

// The request being served (one service thread: one request at a time).
uint8_t g_request[kMaxPayload];

Result<void> serve_one(PalHandle* ch) {
    MsgHead head;
    TRY(channel_read(ch, &head, sizeof(head)));
    if (!msg_head_valid(head))
        return Errno(EINVAL);
    uint8_t* payload = g_request;
    TRY(channel_read(ch, payload, head.size));
    switch (MsgType(head.type)) {
    case MsgType::AllocId: {
        if (head.size)
            return Errno(EINVAL);
        uint64_t id = uint64_t(TRY(id_alloc()));
        return send(ch, MsgType::AllocId, head.id, &id, sizeof(id));
    }
    case MsgType::NewMember: {
        NewProc p;
        if (head.size != sizeof(p))
            return Errno(EINVAL);
        memcpy(&p, payload, sizeof(p));
        if (p.pid < 2 || p.ppid < 1)
            return send_error(ch, head.id, EINVAL);
        uint64_t token = 0;
        auto made = member_channel_new(p, &token);
        if (!made.ok())
            return send_error(ch, head.id, made.error().code);
        auto sent = send(ch, MsgType::NewMember, head.id, &token, sizeof(token));
        if (sent.ok())
            sent = pal_result(g_pal->channel_send_handle(ch, made.value()));
        g_pal->stream_close(made.value());  // the new member has it now (or nobody does)
        return sent;
    }
    case MsgType::Proc:
    case MsgType::Fs:
    case MsgType::Push:
    case MsgType::UnixName: {
        ckpt::Encoder reply;
        PalHandle* pass = nullptr;  // a handle to send after the answer
        Result<void> done;
        switch (MsgType(head.type)) {
        case MsgType::Proc: done = procs_serve(uint64_t(ch), ch, payload, head.size, reply, &pass); break;
        case MsgType::Fs: done = fs::remote_serve(uint64_t(ch), payload, head.size, reply, &pass); break;
        case MsgType::Push:
            done = head.size ? Result<void>(Errno(EINVAL)) : push_serve(uint64_t(ch), reply, &pass);
            break;
        default: done = net::unix_names_serve(ch, payload, head.size, reply); break;
        }
        // A tmpfs file's handle stays the file's; the others were made for this answer.
        bool owned = MsgType(head.type) != MsgType::Fs;
        if (done.ok() && !reply.ok())
            done = Errno(ENOMEM);
        Result<void> sent = done.ok() ? send(ch, MsgType(head.type), head.id, reply.data(), uint32_t(reply.size()))
                                      : send_error(ch, head.id, done.error().code);
        if (done.ok() && sent.ok() && pass)
            sent = pal_result(g_pal->channel_send_handle(ch, pass));
        if (owned)
            g_pal->stream_close(pass);
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
                fs::remote_member_gone(uint64_t(ch));
                push_member_gone(uint64_t(ch));
                net::unix_names_member_gone(uint64_t(ch));
                procs_member_gone(uint64_t(ch));
                g_pal->stream_close(ch);
            }
        }
    }
}

// -- A member's side ------------------------------------------------------------------------

// Reads and drops `size` bytes of a reply nobody asked for in that size.
Result<void> drain(PalHandle* ch, uint32_t size) {
    uint8_t scratch[256];
    while (size) {
        uint32_t n = size < sizeof(scratch) ? size : uint32_t(sizeof(scratch));
        TRY(channel_read(ch, scratch, n));
        size -= n;
    }
    return {};
}

}  // namespace

Result<uint32_t> leader_call(MsgType type, const void* request, uint32_t request_size, void* reply,
                             uint32_t reply_cap, PalHandle** handle, PalHandle* pass) {
    if (request_size > kMaxPayload)
        return Errno(EINVAL);
    LockGuard g(g_call_lock);
    if (!g_leader)
        return Errno(EPIPE);
    uint64_t id = g_next_request++;
    TRY(send(g_leader, type, id, request, request_size));
    if (pass)
        TRY(pal_result(g_pal->channel_send_handle(g_leader, pass)));
    MsgHead head;
    TRY(channel_read(g_leader, &head, sizeof(head)));
    if (!msg_head_valid(head) || head.id != id)
        return Errno(EPROTO);
    if (MsgType(head.type) == MsgType::Error) {
        uint64_t err;
        if (head.size != sizeof(err))
            return Errno(EPROTO);
        TRY(channel_read(g_leader, &err, sizeof(err)));
        return Errno(err > 0 && err < 4096 ? int(err) : EPROTO);
    }
    if (head.type != uint16_t(type))
        return Errno(EPROTO);
    if (head.size > reply_cap) {
        TRY(drain(g_leader, head.size));
        return Errno(EPROTO);
    }
    if (head.size)
        TRY(channel_read(g_leader, reply, head.size));
    if (handle)
        TRY(pal_result(g_pal->channel_recv_handle(g_leader, handle)));
    return head.size;
}

namespace {

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
    uint32_t got = TRY(leader_call(MsgType::AllocId, nullptr, 0, &id, sizeof(id), nullptr));
    if (got != sizeof(id) || id < 2 || id >= 0x400000)
        return Errno(EPROTO);
    return int(id);
}

Result<PalHandle*> member_channel_new(const NewProc& p, uint64_t* token) {
    if (!is_leader()) {
        PalHandle* h = nullptr;
        uint32_t got = TRY(leader_call(MsgType::NewMember, &p, sizeof(p), token, sizeof(*token), &h));
        if (got != sizeof(*token)) {
            g_pal->stream_close(h);
            return Errno(EPROTO);
        }
        return h;
    }
    PalHandle *mine = nullptr, *theirs = nullptr;
    TRY(pal_result(g_pal->channel_pair(&mine, &theirs)));
    // In the table before it runs (its channel's end takes it out again).
    procs_enter(p, uint64_t(mine));
    auto served = add_member(mine);
    if (!served.ok()) {
        procs_member_gone(uint64_t(mine));
        g_pal->stream_close(mine);
        g_pal->stream_close(theirs);
        return served.error();
    }
    *token = uint64_t(mine);
    return theirs;
}

namespace {

Result<void> add_member(PalHandle* channel) {
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

}  // namespace

}  // namespace carbyne::libos::ipc
