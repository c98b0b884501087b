// The instance's process table (see procs.h).
#include "procs.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/log.h>
#include <libos/pal.h>

#include "../proc/process.h"
#include "../signal/signal.h"
#include "checkpoint.h"
#include "fork.h"
#include "leader.h"

namespace carbyne::libos::ipc {

using ckpt::Decoder;
using ckpt::Encoder;

namespace {

enum class Op : uint32_t {
    Add = 1,     // i32 pid, pgid, sid, u64 token; the process handle follows
    SetIds = 2,  // i32 pid, pgid, sid
    Ids = 3,     // i32 pid -> i32 ppid, pgid, sid
    Kill = 4,    // i32 target, sig, sender -> i32 count
    Group = 5,   // i32 pgid -> i32 pids
    Pdeath = 6,  // i32 pid, sig, 0: its parent-death signal
};

// A process of the instance other than the leader. `process` is its host handle, or
// nullptr for the leader's own children (child_signal reaches those).
struct Entry {
    int pid, ppid, pgid, sid;
    uint64_t token;
    PalHandle* process;
    int pdeath;  // PR_SET_PDEATHSIG: sent when its parent ends
};

constinit Mutex g_lock{LockRank::Procs};
Entry* g_entries;
size_t g_count, g_cap;

Entry* find_locked(int pid) {
    for (size_t i = 0; i < g_count; i++)
        if (g_entries[i].pid == pid)
            return &g_entries[i];
    return nullptr;
}

ProcIds leader_ids() {
    SpinGuard g(g_process.lock);
    return ProcIds{0, g_process.pgid, g_process.sid};
}

void add_locked(const Entry& e) {
    if (Entry* old = find_locked(e.pid)) {
        // A process may set its parent-death signal before its parent has entered it.
        int pdeath = old->pdeath;
        if (old->process)
            g_pal->stream_close(old->process);
        *old = e;
        old->pdeath = pdeath;
        return;
    }
    if (g_count == g_cap) {
        size_t cap = g_cap ? 2 * g_cap : 16;
        auto* grown = static_cast<Entry*>(kmalloc(cap * sizeof(Entry)));
        if (!grown) {
            log_warning("the process table is full: process %d cannot be signalled by the others", e.pid);
            if (e.process)
                g_pal->stream_close(e.process);
            return;
        }
        if (g_count)
            memcpy(grown, g_entries, g_count * sizeof(Entry));
        kfree(g_entries);
        g_entries = grown;
        g_cap = cap;
    }
    g_entries[g_count++] = e;
}

Result<void> deliver(const Entry& e, int sig) {
    if (sig == 0)
        return {};
    if (!e.process) {
        (void)TRY(child_signal(e.pid, sig));
        return {};
    }
    return process_signal_host(e.process, sig);
}

// The leader's kill of processes other than `sender`: see procs_kill.
Result<int> kill_locked(int target, int sig, int sender) {
    int count = 0;
    Result<void> first_error;
    auto hit = [&](bool matches, auto send) {
        if (!matches)
            return;
        count++;
        auto sent = send();
        if (!sent.ok() && first_error.ok())
            first_error = sent.error();
    };
    int leader = g_process.pid;
    ProcIds own = leader_ids();
    // The leader itself: a target like any other, unless it asks.
    bool leader_hit = sender != leader && target != -1 && (target == leader || (target < -1 && own.pgid == -target));
    hit(leader_hit, [&]() -> Result<void> {
        return sig ? signal_send(nullptr, sig, signal_user_info(sig)) : Result<void>();
    });
    for (size_t i = 0; i < g_count; i++) {
        const Entry& e = g_entries[i];
        bool matches = e.pid != sender &&
                       (target == -1 || (target > 0 && e.pid == target) || (target < -1 && e.pgid == -target));
        hit(matches, [&]() { return deliver(e, sig); });
    }
    if (!first_error.ok() && count == 1)
        return first_error.error();
    return count;
}

Result<ProcIds> ids_locked(int pid) {
    if (pid == g_process.pid)
        return leader_ids();
    Entry* e = find_locked(pid);
    if (!e)
        return Errno(ESRCH);
    return ProcIds{e->ppid, e->pgid, e->sid};
}

void set_pdeath_locked(int pid, int sig, uint64_t token) {
    Entry* e = find_locked(pid);
    if (!e) {
        // Not entered by its parent yet: entered now, its parent's entry will complete it.
        add_locked(Entry{pid, 0, 0, 0, token, nullptr, 0});
        e = find_locked(pid);
    }
    if (e)
        e->pdeath = sig;
}

// A member's request: fixed-size i32 fields.
Result<uint32_t> call(Op op, const int32_t* fields, size_t n, int32_t* reply, size_t reply_n, PalHandle* pass = nullptr,
                      uint64_t token = 0) {
    Encoder e;
    e.u32(uint32_t(op));
    for (size_t i = 0; i < n; i++)
        e.u32(uint32_t(fields[i]));
    if (op == Op::Add)
        e.u64(token);
    if (!e.ok())
        return Errno(ENOMEM);
    return leader_call(MsgType::Proc, e.data(), uint32_t(e.size()), reply, uint32_t(reply_n * sizeof(int32_t)),
                       nullptr, pass);
}

}  // namespace

void procs_add_child(int pid, int pgid, int sid, uint64_t token, PalHandle* process) {
    if (is_leader()) {
        LockGuard g(g_lock);
        add_locked(Entry{pid, g_process.pid, pgid, sid, token, nullptr, 0});
        return;
    }
    int32_t fields[] = {pid, pgid, sid};
    auto added = call(Op::Add, fields, 3, nullptr, 0, process, token);
    if (!added.ok())
        log_warning("process %d is not in the instance's table (errno %d): only its parent can signal it", pid,
                    added.error().code);
}

Result<void> procs_set_ids(int pid, int pgid, int sid) {
    if (is_leader()) {
        if (pid == g_process.pid)
            return {};  // the leader's own ids are read where they live
        LockGuard g(g_lock);
        Entry* e = find_locked(pid);
        if (!e)
            return Errno(ESRCH);
        e->pgid = pgid;
        e->sid = sid;
        return {};
    }
    int32_t fields[] = {pid, pgid, sid};
    TRY(call(Op::SetIds, fields, 3, nullptr, 0));
    return {};
}

Result<ProcIds> procs_ids(int pid) {
    if (is_leader()) {
        LockGuard g(g_lock);
        return ids_locked(pid);
    }
    int32_t field = pid, reply[3];
    uint32_t got = TRY(call(Op::Ids, &field, 1, reply, 3));
    if (got != sizeof(reply))
        return Errno(EPROTO);
    return ProcIds{reply[0], reply[1], reply[2]};
}

namespace {

size_t group_locked(int pgid, int* out, size_t max) {
    size_t n = 0;
    if (leader_ids().pgid == pgid && n++ < max)
        out[n - 1] = g_process.pid;
    for (size_t i = 0; i < g_count; i++)
        if (g_entries[i].pgid == pgid && n++ < max)
            out[n - 1] = g_entries[i].pid;
    return n;
}

}  // namespace

Result<size_t> procs_group(int pgid, int* out, size_t max) {
    if (is_leader()) {
        LockGuard g(g_lock);
        return group_locked(pgid, out, max);
    }
    size_t cap = max < kMaxPayload / sizeof(int32_t) ? max : kMaxPayload / sizeof(int32_t);
    int32_t field = pgid;
    uint32_t got = TRY(call(Op::Group, &field, 1, out, cap));
    return got / sizeof(int32_t);
}

Result<void> procs_set_pdeath(int sig) {
    if (is_leader())
        return {};  // its parent is outside the instance
    int32_t fields[] = {g_process.pid, sig, 0};
    TRY(call(Op::Pdeath, fields, 3, nullptr, 0));
    return {};
}

ProcIds procs_own_ids() {
    ProcIds own;
    {
        SpinGuard g(g_process.lock);
        own = ProcIds{g_process.ppid, g_process.pgid, g_process.sid};
    }
    if (is_leader())
        return own;
    // The table's, which a parent's setpgid and a parent's end change; the process's own
    // copy until its parent has entered it.
    auto ids = procs_ids(g_process.pid);
    if (!ids.ok())
        return own;
    SpinGuard g(g_process.lock);
    g_process.pgid = ids.value().pgid;
    return ids.value();
}

Result<int> procs_kill(int target, int sig) {
    if (is_leader()) {
        LockGuard g(g_lock);
        return kill_locked(target, sig, g_process.pid);
    }
    int32_t fields[] = {target, sig, g_process.pid}, count = 0;
    uint32_t got = TRY(call(Op::Kill, fields, 3, &count, 1));
    if (got != sizeof(count))
        return Errno(EPROTO);
    return int(count);
}

Result<void> procs_serve(uint64_t member, PalHandle* ch, const uint8_t* request, size_t size, Encoder& reply) {
    Decoder d(request, size);
    uint32_t op, a, b = 0, c = 0;
    if (!d.u32(&op) || !d.u32(&a))
        return Errno(EINVAL);
    bool one_field = op == uint32_t(Op::Ids) || op == uint32_t(Op::Group);
    if (!one_field && (!d.u32(&b) || !d.u32(&c)))
        return Errno(EINVAL);
    switch (Op(op)) {
    case Op::Add: {
        uint64_t token;
        if (!d.u64(&token) || !d.finished() || int(a) < 2)
            return Errno(EINVAL);
        PalHandle* process = nullptr;
        TRY(pal_result(g_pal->channel_recv_handle(ch, &process)));
        LockGuard g(g_lock);
        Entry* parent = nullptr;
        for (size_t i = 0; i < g_count && !parent; i++)
            if (g_entries[i].token == member)
                parent = &g_entries[i];
        add_locked(Entry{int(a), parent ? parent->pid : 1, int(b), int(c), token, process, 0});
        return {};
    }
    case Op::Pdeath: {
        if (!d.finished() || int(b) < 0 || int(b) > kNumSignals)
            return Errno(EINVAL);
        LockGuard g(g_lock);
        set_pdeath_locked(int(a), int(b), member);
        return {};
    }
    case Op::SetIds: {
        if (!d.finished())
            return Errno(EINVAL);
        LockGuard g(g_lock);
        Entry* e = find_locked(int(a));
        if (!e)
            return Errno(ESRCH);
        e->pgid = int(b);
        e->sid = int(c);
        return {};
    }
    case Op::Ids: {
        if (!d.finished())
            return Errno(EINVAL);
        LockGuard g(g_lock);
        ProcIds ids = TRY(ids_locked(int(a)));
        reply.u32(uint32_t(ids.ppid));
        reply.u32(uint32_t(ids.pgid));
        reply.u32(uint32_t(ids.sid));
        return {};
    }
    case Op::Kill: {
        if (!d.finished() || int(b) < 0 || int(b) > kNumSignals)
            return Errno(EINVAL);
        LockGuard g(g_lock);
        reply.u32(uint32_t(TRY(kill_locked(int(a), int(b), int(c)))));
        return {};
    }
    case Op::Group: {
        if (!d.finished())
            return Errno(EINVAL);
        constexpr size_t kMax = kMaxPayload / sizeof(int32_t);
        auto* pids = static_cast<int*>(kmalloc(kMax * sizeof(int)));
        if (!pids)
            return Errno(ENOMEM);
        HeapGuard guard{pids};
        size_t n;
        {
            LockGuard g(g_lock);
            n = group_locked(int(a), pids, kMax);
        }
        reply.put(pids, (n < kMax ? n : kMax) * sizeof(int));
        return {};
    }
    default: return Errno(EINVAL);
    }
}

void procs_member_gone(uint64_t member) {
    PalHandle* process = nullptr;
    LockGuard g(g_lock);
    for (size_t i = 0; i < g_count; i++) {
        if (g_entries[i].token != member)
            continue;
        int pid = g_entries[i].pid;
        process = g_entries[i].process;
        g_entries[i] = g_entries[--g_count];
        for (size_t j = 0; j < g_count; j++) {
            Entry& child = g_entries[j];
            if (child.ppid != pid)
                continue;
            child.ppid = 1;  // orphans go to pid 1
            if (child.pdeath) {
                auto sent = deliver(child, child.pdeath);
                if (!sent.ok())
                    log_debug("parent-death signal %d to %d not sent (errno %d)", child.pdeath, child.pid,
                              sent.error().code);
            }
        }
        break;
    }
    if (process)
        g_pal->stream_close(process);
}

}  // namespace carbyne::libos::ipc
