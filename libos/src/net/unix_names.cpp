// The instance's registry of UNIX socket names (see unix_names.h).
//
// Lock order: g_lock (LockRank::UnixRegistry) is a leaf: entries are copied out before
// anything is done with them.
#include "unix_names.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/log.h>

#include "../ipc/checkpoint.h"
#include "../ipc/leader.h"
#include "../ipc/push.h"
#include "../proc/process.h"

namespace carbyne::libos::net {

namespace {

using ckpt::Decoder;
using ckpt::Encoder;

enum class Op : uint32_t {
    Publish = 1,   // key, u32 type, creds -> nothing (EADDRINUSE)
    Withdraw = 2,  // key -> nothing
    Connect = 3,   // key, u32 type, creds; the connector's end follows -> the listener's creds
};

struct Entry {
    Entry* next;
    UnixKey key;
    int type;
    uint64_t member;  // the holder's channel token; 0 for the leader itself
    SockCreds creds;
};

constinit Spinlock g_lock{LockRank::UnixRegistry};
Entry* g_entries;

bool same_key(const UnixKey& a, const UnixKey& b) {
    return a.type == b.type && a.len == b.len && !memcmp(a.bytes, b.bytes, a.len);
}

void put_key(Encoder& e, const UnixKey& key) { e.put(&key, sizeof(key)); }
void put_creds(Encoder& e, const SockCreds& c) { e.put(&c, sizeof(c)); }
bool get_key(Decoder& d, UnixKey* key) { return d.get(key, sizeof(*key)) && key->len <= sizeof(key->bytes); }

// The connection payload a push carries to the listener's process.
struct AcceptPayload {
    UnixKey key;
    SockCreds creds;
};

Result<void> publish_locally(const UnixKey& key, int type, uint64_t member, const SockCreds& creds) {
    auto* fresh = static_cast<Entry*>(kmalloc(sizeof(Entry)));
    if (!fresh)
        return Errno(ENOMEM);
    *fresh = Entry{nullptr, key, type, member, creds};
    SpinGuard g(g_lock);
    for (Entry* e = g_entries; e; e = e->next) {
        if (!same_key(e->key, key))
            continue;
        if (key.type >= 0 && e->creds.pid != creds.pid) {
            kfree(fresh);
            return Errno(EADDRINUSE);  // an abstract name another process holds
        }
        // A node's entry of a socket gone without a word, or one whose number the host
        // gave again: the newest binding wins, as the node's.
        e->type = type;
        e->member = member;
        e->creds = creds;
        kfree(fresh);
        return {};
    }
    fresh->next = g_entries;
    g_entries = fresh;
    return {};
}

void withdraw_locally(const UnixKey& key, int pid) {
    Entry* gone = nullptr;
    {
        SpinGuard g(g_lock);
        for (Entry** link = &g_entries; *link; link = &(*link)->next) {
            if (same_key((*link)->key, key) && (*link)->creds.pid == pid) {
                gone = *link;
                *link = gone->next;
                break;
            }
        }
    }
    kfree(gone);
}

// The leader's connect for a process `pid`: the listener's holder gets `theirs` by a push.
Result<SockCreds> connect_locally(const UnixKey& key, int type, const SockCreds& connector, PalHandle* theirs) {
    Entry found{};
    bool any = false;
    {
        SpinGuard g(g_lock);
        for (Entry* e = g_entries; e && !any; e = e->next) {
            if (same_key(e->key, key)) {
                found = *e;
                any = true;
            }
        }
    }
    auto refuse = [&](int err) -> Result<SockCreds> {
        g_pal->stream_close(theirs);
        return Errno(err);
    };
    if (!any || found.creds.pid == connector.pid)
        return refuse(ECONNREFUSED);
    if (found.type != type)
        return refuse(EPROTOTYPE);
    if (type != SOCK_STREAM) {
        log_warning("a connect to a UNIX socket of another process is for stream sockets only (type %d)", type);
        return refuse(ECONNREFUSED);
    }
    AcceptPayload p{key, connector};
    auto pushed = ipc::push_to(found.creds.pid, ipc::PushKind::UnixAccept, &p, sizeof(p), theirs);
    if (!pushed.ok())
        return Errno(ECONNREFUSED);
    return found.creds;
}

}  // namespace

Result<void> unix_names_publish(const UnixKey& key, int type, const SockCreds& creds) {
    if (ipc::is_leader())
        return publish_locally(key, type, 0, creds);
    Encoder e;
    e.u32(uint32_t(Op::Publish));
    put_key(e, key);
    e.u32(uint32_t(type));
    put_creds(e, creds);
    if (!e.ok())
        return Errno(ENOMEM);
    TRY(ipc::leader_call(ipc::MsgType::UnixName, e.data(), uint32_t(e.size()), nullptr, 0, nullptr));
    return {};
}

void unix_names_withdraw(const UnixKey& key) {
    if (ipc::is_leader()) {
        withdraw_locally(key, g_process.pid);
        return;
    }
    Encoder e;
    e.u32(uint32_t(Op::Withdraw));
    put_key(e, key);
    e.u32(uint32_t(g_process.pid));
    auto done = e.ok() ? ipc::leader_call(ipc::MsgType::UnixName, e.data(), uint32_t(e.size()), nullptr, 0, nullptr)
                       : Result<uint32_t>(Errno(ENOMEM));
    if (!done.ok())
        log_debug("a UNIX socket name was not withdrawn (errno %d)", done.error().code);
}

Result<SockCreds> unix_names_connect(const UnixKey& key, int type, PalHandle* theirs) {
    SockCreds mine{int32_t(g_process.pid), g_process.uid, g_process.gid};
    if (ipc::is_leader())
        return connect_locally(key, type, mine, theirs);
    Encoder e;
    e.u32(uint32_t(Op::Connect));
    put_key(e, key);
    e.u32(uint32_t(type));
    put_creds(e, mine);
    SockCreds listener{};
    auto got = e.ok() ? ipc::leader_call(ipc::MsgType::UnixName, e.data(), uint32_t(e.size()), &listener,
                                         sizeof(listener), nullptr, theirs)
                      : Result<uint32_t>(Errno(ENOMEM));
    g_pal->stream_close(theirs);  // the leader has its own now (or nobody does)
    if (!got.ok())
        return got.error();
    if (got.value() != sizeof(listener))
        return Errno(EPROTO);
    return listener;
}

void unix_names_accept(const uint8_t* payload, uint32_t size, PalHandle* h) {
    AcceptPayload p;
    if (size != sizeof(p) || (memcpy(&p, payload, sizeof(p)), p.key.len > sizeof(p.key.bytes))) {
        g_pal->stream_close(h);
        return;
    }
    auto queued = unix_accept_remote(p.key, p.creds, h);
    if (!queued.ok())
        log_debug("a connection from process %d was not queued (errno %d)", p.creds.pid, queued.error().code);
}

Result<void> unix_names_serve(PalHandle* ch, const uint8_t* request, size_t size, Encoder& reply) {
    Decoder d(request, size);
    uint32_t op, type, pid;
    UnixKey key;
    SockCreds creds;
    if (!d.u32(&op) || !get_key(d, &key))
        return Errno(EINVAL);
    switch (Op(op)) {
    case Op::Publish:
        if (!d.u32(&type) || !d.get(&creds, sizeof(creds)) || !d.finished())
            return Errno(EINVAL);
        return publish_locally(key, int(type), uint64_t(ch), creds);
    case Op::Withdraw:
        if (!d.u32(&pid) || !d.finished())
            return Errno(EINVAL);
        withdraw_locally(key, int(pid));
        return {};
    case Op::Connect: {
        if (!d.u32(&type) || !d.get(&creds, sizeof(creds)) || !d.finished())
            return Errno(EINVAL);
        PalHandle* theirs = nullptr;
        TRY(pal_result(g_pal->channel_recv_handle(ch, &theirs)));
        SockCreds listener = TRY(connect_locally(key, int(type), creds, theirs));
        reply.put(&listener, sizeof(listener));
        return {};
    }
    }
    return Errno(EINVAL);
}

namespace {

// Drops the entries `drop` says so of.
template <typename Drop>
void drop_entries(Drop drop) {
    Entry* gone = nullptr;
    {
        SpinGuard g(g_lock);
        for (Entry** link = &g_entries; *link;) {
            Entry* e = *link;
            if (!drop(*e)) {
                link = &e->next;
                continue;
            }
            *link = e->next;
            e->next = gone;
            gone = e;
        }
    }
    while (gone) {
        Entry* next = gone->next;
        kfree(gone);
        gone = next;
    }
}

}  // namespace

void unix_names_member_gone(uint64_t member) {
    drop_entries([member](const Entry& e) { return e.member == member; });
}

void unix_names_process_gone(int pid) {
    drop_entries([pid](const Entry& e) { return e.creds.pid == pid; });
}

}  // namespace carbyne::libos::net
