// The instance's process table (see procs.h).
#include "procs.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/log.h>
#include <libos/pal.h>

#include "../proc/process.h"
#include "../proc/thread.h"
#include "../net/unix_names.h"
#include "../signal/signal.h"
#include "checkpoint.h"
#include "fork.h"
#include "leader.h"

namespace carbyne::libos::ipc {

using ckpt::Decoder;
using ckpt::Encoder;

namespace {

// Each request is the op and its i32 fields (kFields of them).
enum class Op : uint32_t {
    Handle = 1,  // pid; the process handle follows
    SetIds = 2,  // pid, pgid, sid
    Ids = 3,     // pid -> ppid, pgid, sid
    Kill = 4,    // scope, id, tid, sender, signo, code, the siginfo union's first 4 words -> count
    Group = 5,   // pgid, max -> at most max pids
    Pdeath = 6,  // pid, sig: its parent-death signal
    Reaped = 7,  // pid: its parent has reaped it
    GetHandle = 8,  // pid -> a host handle of it follows (ENODATA: none)
};
constexpr size_t kFields[] = {0, 1, 3, 1, 10, 2, 2, 1, 1};
constexpr size_t kMaxFields = 10;
constexpr size_t kInfoWords = 4;  // of SigInfo's union, as SignalMessage carries it

// A process of the instance other than the leader. `process` is its host handle, or
// nullptr for the leader's own children (child_signal reaches those).
struct Entry {
    int pid, ppid, pgid, sid;
    uint64_t token;
    PalHandle* process;
    int pdeath;  // PR_SET_PDEATHSIG: sent when its parent ends
    bool reaped; // its parent has waited for it: no process for kill and the ids calls,
                 // but still its children's parent until its channel ends
};

constinit Mutex g_lock{LockRank::Procs};
Entry* g_entries;
size_t g_count, g_cap;

// The live entry of `pid` (not one reaped).
Entry* find_locked(int pid) {
    for (size_t i = 0; i < g_count; i++)
        if (g_entries[i].pid == pid && !g_entries[i].reaped)
            return &g_entries[i];
    return nullptr;
}

void reaped_locked(int pid) {
    if (Entry* e = find_locked(pid))
        e->reaped = true;
    net::unix_names_process_gone(pid);
}

ProcIds leader_ids() {
    SpinGuard g(g_process.lock);
    return ProcIds{0, g_process.pgid, g_process.sid};
}

void add_locked(const Entry& e) {
    if (Entry* old = find_locked(e.pid)) {
        if (old->process)
            g_pal->stream_close(old->process);
        *old = e;
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

Result<void> deliver(const Entry& e, const SigInfo& info, int tid) {
    if (info.signo == 0)
        return {};
    if (!e.process) {
        (void)TRY(child_signal(e.pid, info, tid));
        return {};
    }
    return process_signal(e.process, info, tid);
}

// The leader's kill of processes other than `sender`: see procs_kill.
Result<int> kill_locked(KillScope scope, int id, const SigInfo& info, int tid, int sender) {
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
    auto matches = [&](int pid, int pgid) {
        return pid != sender && (scope == KillScope::All || (scope == KillScope::Process && pid == id) ||
                                 (scope == KillScope::Group && pgid == id));
    };
    int leader = g_process.pid;
    // The leader itself: a target like any other, but for kill(-1), which spares pid 1.
    hit(scope != KillScope::All && matches(leader, leader_ids().pgid), [&]() -> Result<void> {
        if (!info.signo)
            return {};
        Thread* t = tid ? thread_by_tid(tid) : nullptr;
        return signal_send(t, info.signo, info);
    });
    for (size_t i = 0; i < g_count; i++) {
        const Entry& e = g_entries[i];
        hit(!e.reaped && matches(e.pid, e.pgid), [&]() { return deliver(e, info, tid); });
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

// A member's request: the op's i32 fields; the answer's i32s go to `reply`.
Result<uint32_t> call(Op op, const int32_t* fields, int32_t* reply, size_t reply_n, PalHandle* pass = nullptr,
                      PalHandle** handle = nullptr) {
    Encoder e;
    e.u32(uint32_t(op));
    for (size_t i = 0; i < kFields[size_t(op)]; i++)
        e.u32(uint32_t(fields[i]));
    if (!e.ok())
        return Errno(ENOMEM);
    return leader_call(MsgType::Proc, e.data(), uint32_t(e.size()), reply, uint32_t(reply_n * sizeof(int32_t)),
                       handle, pass);
}

}  // namespace

void procs_enter(const NewProc& p, uint64_t token) {
    LockGuard g(g_lock);
    add_locked(Entry{p.pid, p.ppid, p.pgid, p.sid, token, nullptr, 0, false});
}

void procs_set_handle(int pid, PalHandle* process) {
    if (is_leader())
        return;  // its own children: child_signal reaches them
    int32_t field = pid;
    auto passed = call(Op::Handle, &field, nullptr, 0, process);
    if (!passed.ok())
        log_warning("process %d cannot be signalled by the others (errno %d): only its parent can", pid,
                    passed.error().code);
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
    TRY(call(Op::SetIds, fields, nullptr, 0));
    return {};
}

Result<ProcIds> procs_ids(int pid) {
    if (is_leader()) {
        LockGuard g(g_lock);
        return ids_locked(pid);
    }
    int32_t field = pid, reply[3];
    uint32_t got = TRY(call(Op::Ids, &field, reply, 3));
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
        if (g_entries[i].pgid == pgid && !g_entries[i].reaped && n++ < max)
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
    int32_t fields[] = {pgid, int32_t(cap)};
    uint32_t got = TRY(call(Op::Group, fields, out, cap));
    return got / sizeof(int32_t);
}

namespace {

// The leader's own handle of `pid` duplicated (nullptr when it has none); ESRCH when no
// such process.
Result<PalHandle*> handle_locked(int pid) {
    if (pid == g_process.pid)
        return static_cast<PalHandle*>(nullptr);
    Entry* e = find_locked(pid);
    if (!e)
        return Errno(ESRCH);
    if (!e->process) {
        auto own = child_handle_dup(pid);  // the leader's own child
        return own.ok() ? own : Result<PalHandle*>(static_cast<PalHandle*>(nullptr));
    }
    PalHandle* copy = nullptr;
    TRY(pal_result(g_pal->handle_dup(e->process, &copy)));
    return copy;
}

}  // namespace

Result<PalHandle*> procs_process_handle(int pid) {
    if (pid == g_process.pid || pid == 1)
        return static_cast<PalHandle*>(nullptr);  // the instance ends with the first process
    if (auto child = child_handle_dup(pid); child.ok() || child.error() != Errno(ESRCH))
        return child;
    if (is_leader()) {
        LockGuard g(g_lock);
        return handle_locked(pid);
    }
    int32_t field = pid;
    PalHandle* h = nullptr;
    auto got = call(Op::GetHandle, &field, nullptr, 0, nullptr, &h);
    if (!got.ok())
        return got.error() == Errno(ENODATA) ? Result<PalHandle*>(static_cast<PalHandle*>(nullptr)) : got.error();
    return h;
}

Result<uint64_t> procs_token_of(int pid) {
    LockGuard g(g_lock);
    Entry* e = find_locked(pid);
    if (!e)
        return Errno(ESRCH);
    return e->token;
}

void procs_reaped(int pid) {
    if (is_leader()) {
        LockGuard g(g_lock);
        reaped_locked(pid);
        return;
    }
    int32_t field = pid;
    auto told = call(Op::Reaped, &field, nullptr, 0);
    if (!told.ok())
        log_debug("the first process was not told that %d was reaped (errno %d)", pid, told.error().code);
}

Result<void> procs_set_pdeath(int sig) {
    if (is_leader())
        return {};  // its parent is outside the instance
    int32_t fields[] = {g_process.pid, sig};
    TRY(call(Op::Pdeath, fields, nullptr, 0));
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

Result<int> procs_kill(KillScope scope, int id, const SigInfo& info, int tid) {
    if (is_leader()) {
        LockGuard g(g_lock);
        return kill_locked(scope, id, info, tid, g_process.pid);
    }
    int32_t fields[kMaxFields] = {int32_t(scope), id, tid, g_process.pid, info.signo, info.code}, count = 0;
    memcpy(&fields[6], &info.kill, kInfoWords * sizeof(int32_t));
    uint32_t got = TRY(call(Op::Kill, fields, &count, 1));
    if (got != sizeof(count))
        return Errno(EPROTO);
    return int(count);
}

Result<void> procs_serve(uint64_t member, PalHandle* ch, const uint8_t* request, size_t size, Encoder& reply,
                         PalHandle** pass) {
    (void)member;
    Decoder d(request, size);
    uint32_t op;
    if (!d.u32(&op) || op == 0 || op >= sizeof(kFields) / sizeof(kFields[0]))
        return Errno(EINVAL);
    int32_t f[kMaxFields] = {};
    for (size_t i = 0; i < kFields[op]; i++)
        if (!d.u32(reinterpret_cast<uint32_t*>(&f[i])))
            return Errno(EINVAL);
    if (!d.finished())
        return Errno(EINVAL);
    switch (Op(op)) {
    case Op::Handle: {
        PalHandle* process = nullptr;
        TRY(pal_result(g_pal->channel_recv_handle(ch, &process)));
        LockGuard g(g_lock);
        Entry* e = find_locked(f[0]);
        if (e && !e->process) {
            e->process = process;
            process = nullptr;
        }
        if (process)
            g_pal->stream_close(process);  // it has ended already, or had one
        return {};
    }
    case Op::SetIds: {
        LockGuard g(g_lock);
        Entry* e = find_locked(f[0]);
        if (!e)
            return Errno(ESRCH);
        e->pgid = f[1];
        e->sid = f[2];
        return {};
    }
    case Op::Ids: {
        LockGuard g(g_lock);
        ProcIds ids = TRY(ids_locked(f[0]));
        reply.u32(uint32_t(ids.ppid));
        reply.u32(uint32_t(ids.pgid));
        reply.u32(uint32_t(ids.sid));
        return {};
    }
    case Op::Kill: {
        if (f[0] < int32_t(KillScope::Process) || f[0] > int32_t(KillScope::All) || f[4] < 0 || f[4] > kNumSignals)
            return Errno(EINVAL);
        SigInfo info;
        memset(&info, 0, sizeof(info));
        info.signo = f[4];
        info.code = f[5];
        memcpy(&info.kill, &f[6], kInfoWords * sizeof(int32_t));
        LockGuard g(g_lock);
        reply.u32(uint32_t(TRY(kill_locked(KillScope(f[0]), f[1], info, f[2], f[3]))));
        return {};
    }
    case Op::Group: {
        size_t max = f[1] < 0 ? 0 : size_t(f[1]);
        if (max > kMaxPayload / sizeof(int32_t))
            max = kMaxPayload / sizeof(int32_t);
        auto* pids = static_cast<int*>(kmalloc((max ? max : 1) * sizeof(int)));
        if (!pids)
            return Errno(ENOMEM);
        HeapGuard guard{pids};
        size_t n;
        {
            LockGuard g(g_lock);
            n = group_locked(f[0], pids, max);
        }
        reply.put(pids, (n < max ? n : max) * sizeof(int));
        return {};
    }
    case Op::GetHandle: {
        LockGuard g(g_lock);
        PalHandle* h = TRY(handle_locked(f[0]));
        if (!h)
            return Errno(ENODATA);
        *pass = h;
        return {};
    }
    case Op::Reaped: {
        LockGuard g(g_lock);
        reaped_locked(f[0]);
        return {};
    }
    case Op::Pdeath: {
        if (f[1] < 0 || f[1] > kNumSignals)
            return Errno(EINVAL);
        LockGuard g(g_lock);
        Entry* e = find_locked(f[0]);
        if (!e)
            return Errno(ESRCH);
        e->pdeath = f[1];
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
                // As Linux sends it: SI_USER from the parent that ended.
                SigInfo info;
                memset(&info, 0, sizeof(info));
                info.signo = child.pdeath;
                info.kill.pid = pid;
                auto sent = deliver(child, info, 0);
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
