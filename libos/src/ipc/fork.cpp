// fork by checkpoint (see fork.h), and the parent's view of its children.
//
// The checkpoint, in order: Process, Creds, Signals, Thread, Fd records, Vma records each
// followed by the VmaPages records of its content, Heap, End. The child answers one byte:
// 0 when it restored everything, else the errno that stopped it (it then ends).
//
// Memory: private memory travels as its resident pages, each run written straight from
// the parent's memory and read straight into place in the child (no per-page messages);
// pages never touched are not sent (the child's are zero or the file's). A file mapped
// shared is mapped again, so both processes see one file. Known gaps: MAP_SHARED
// anonymous memory becomes a private copy; memory without PROT_READ travels empty; a
// private page swapped out by the host at the moment of the fork is not seen as resident.
//
// Descriptors: each file travels as file_record.h says, dups stay dups; a file that
// cannot cross processes yet gets in the child a stand-in of the same name that can be
// closed and duplicated but whose reads and writes fail with EIO (a warning says so once
// per fork).
//
// Lock order: g_children_lock (a Mutex) is a leaf but for the WaitQueue it wakes.
#include "fork.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/lock.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/wait.h>

#include "../fs/dentry.h"
#include "../fs/file.h"
#include "../fs/pseudo.h"
#include "../fs/remote.h"
#include "../fs/vfs.h"
#include "../mm/mm.h"
#include "../net/pipe.h"
#include "../net/socket.h"
#include "../proc/process.h"
#include "../proc/thread.h"
#include "../proc/wait.h"
#include "../signal/signal.h"
#include "channel.h"
#include "checkpoint.h"
#include "file_record.h"
#include "leader.h"
#include "procs.h"

namespace carbyne::libos {

namespace {

using ckpt::Decoder;
using ckpt::Encoder;
using ckpt::Tag;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMaxRecord = 1 << 20;    // every record but VmaPages
constexpr uint64_t kChunkPages = 16384;     // pages described by one VmaPages record (64 MiB)
constexpr int kSigchld = 17;

// The checkpoint stream over a channel.
class ChannelSink final : public ckpt::Sink {
public:
    explicit ChannelSink(PalHandle* ch) : m_ch(ch) {}
    PalHandle* channel() const { return m_ch; }
    Result<void> write(const void* data, size_t size) override { return ipc::channel_write(m_ch, data, size); }

private:
    PalHandle* m_ch;
};

class ChannelSource final : public ckpt::Source {
public:
    explicit ChannelSource(PalHandle* ch) : m_ch(ch) {}
    PalHandle* channel() const { return m_ch; }
    Result<void> read(void* data, size_t size) override { return ipc::channel_read(m_ch, data, size); }

private:
    PalHandle* m_ch;
};

// -- The parent's children -----------------------------------------------------------

struct Child {
    int pid;
    PalHandle* process;
    int exit_signal;
    bool ended;
    int code, status;  // CLD_*, and the exit code or signal
    int pgid;          // its group as last seen in the process table (kept once it ends)
    Child* next;
};

// A vfork child's channel to its parent, which waits for a byte on it (or its end) until
// the child has exec'd or ended.
PalHandle* g_vfork_parent;

constinit Mutex g_children_lock{LockRank::Children};
Child* g_children;
constinit WaitQueue g_child_exits;
bool g_watcher_started;
PalHandle* g_watcher_kick;

// Looks at one child's host process without blocking; true when it has just been seen to
// end. Caller holds g_children_lock.
bool poll_child_locked(Child* c) {
    if (c->ended)
        return false;
    int code = 0, sig = 0;
    if (g_pal->process_wait(c->process, 0, &code, &sig) != PAL_OK)
        return false;
    c->ended = true;
    if (sig) {
        c->code = kCldKilled;
        c->status = sig;
    } else {
        c->code = kCldExited;
        c->status = code;
    }
    return true;
}

// A child has ended: SIGCHLD (or its exit signal) to this process, unless ignored, and
// its waiters woken.
void child_ended(const Child& c) {
    if (c.exit_signal) {
        SigInfo info;
        memset(&info, 0, sizeof(info));
        info.signo = c.exit_signal;
        info.code = c.code;
        info.kill.pid = c.pid;
        info.kill.uid = g_process.uid;
        info.kill.value = uint32_t(c.status);
        (void)signal_send(nullptr, c.exit_signal, info);
    }
    g_child_exits.wake(~0u);
}

// SIGCHLD ignored or SA_NOCLDWAIT: ended children are reaped at once (wait then reports
// ECHILD once none is left), as Linux does.
bool children_auto_reaped() {
    constexpr uint64_t kSaNocldwait = 2;
    SpinGuard g(g_process.lock);
    const SignalAction& a = g_process.actions[kSigchld - 1];
    return a.handler == 1 || (a.flags & kSaNocldwait);
}

// Polls every child, recording in ended[] (room for `max`) those seen to end here first,
// and with `auto_reap` moves the ended ones from the list to *reaped. Caller holds
// g_children_lock. A child left unpolled for lack of room is polled next time.
void sweep_locked(bool auto_reap, Child* ended, size_t max, size_t* n_ended, Child** reaped) {
    for (Child** link = &g_children; *link;) {
        Child* c = *link;
        if (*n_ended < max && poll_child_locked(c))
            ended[(*n_ended)++] = *c;
        if (c->ended && auto_reap) {
            *link = c->next;  // nobody waits for it: gone at once
            c->next = *reaped;
            *reaped = c;
            continue;
        }
        link = &c->next;
    }
}

void child_free(Child* c) {
    ipc::procs_reaped(c->pid);
    g_pal->stream_close(c->process);
    kfree(c);
}

// After a sweep, with the lock dropped: the reaped children go, the ended ones are told.
void sweep_settle(Child* reaped, const Child* ended, size_t n_ended) {
    while (reaped) {
        Child* next = reaped->next;
        child_free(reaped);
        reaped = next;
    }
    for (size_t i = 0; i < n_ended; i++)
        child_ended(ended[i]);
}

// A LibOS thread that waits for children to end, so that SIGCHLD comes when they do.
[[noreturn]] void watcher_main(void*) {
    constexpr size_t kMax = 15;
    for (;;) {
        PalHandle* handles[kMax + 1];
        uint32_t want[kMax + 1], ready[kMax + 1];
        size_t count = 0;
        bool more = false;
        Child ended[kMax];
        size_t n_ended = 0;
        Child* reaped = nullptr;
        bool auto_reap = children_auto_reaped();
        {
            LockGuard g(g_children_lock);
            sweep_locked(auto_reap, ended, kMax, &n_ended, &reaped);
            for (Child* c = g_children; c; c = c->next) {
                if (c->ended)
                    continue;
                if (count == kMax) {
                    more = true;
                    continue;
                }
                handles[count] = c->process;
                want[count++] = PAL_WAIT_READ;
            }
        }
        sweep_settle(reaped, ended, n_ended);
        if (n_ended)
            continue;
        handles[count] = g_watcher_kick;
        want[count++] = PAL_WAIT_READ;
        g_pal->wait_for_many(count, handles, want, ready, more ? 10000000 : PAL_WAIT_FOREVER);
        if (ready[count - 1] & PAL_WAIT_READ)
            g_pal->event_clear(g_watcher_kick);
    }
}

Result<void> start_watcher() {
    if (__atomic_load_n(&g_watcher_started, __ATOMIC_ACQUIRE))
        return {};
    if (!g_watcher_kick)
        TRY(pal_result(g_pal->event_create(0, 0, &g_watcher_kick)));
    TRY(pal_result(g_pal->thread_create(watcher_main, nullptr)));
    __atomic_store_n(&g_watcher_started, true, __ATOMIC_RELEASE);
    return {};
}

// -- Saving ---------------------------------------------------------------------------

Result<void> put(ChannelSink& out, Tag tag, const Encoder& e) { return ckpt::write_record(out, tag, e); }

Result<void> save_process(ChannelSink& out, int child_pid) {
    Encoder e;
    char* path = static_cast<char*>(kmalloc(fs::kPathMax));
    if (!path)
        return Errno(ENOMEM);
    HeapGuard guard{path};
    e.u64(uint64_t(child_pid));
    e.u64(uint64_t(g_process.pid));
    e.u64(g_boot->libos_start);
    e.u64(g_process.stack_size);
    e.u64(g_process.brk_max_size);
    uint32_t umask, persona;
    char comm[16];
    ProcessAttrs attrs;
    int pgid, sid;
    {
        SpinGuard g(g_process.lock);
        pgid = g_process.pgid;
        sid = g_process.sid;
        umask = g_process.umask;
        persona = g_process.persona;
        memcpy(comm, g_process.comm, sizeof(comm));
        attrs = g_process.attrs;
    }
    comm[15] = '\0';
    e.u32(umask);
    e.u32(persona);
    e.u32(uint32_t(pgid));
    e.u32(uint32_t(sid));
    e.str(comm);
    e.put(&attrs, sizeof(attrs));
    auto cwd = process_get_cwd(path);
    e.str(cwd.ok() && !cwd.value() ? path : "/");
    auto exe = process_exe_path(path);
    e.str(exe.ok() && !exe.value() ? path : "");
    fs::procfs_args_save(e);
    TRY(put(out, Tag::Process, e));
    Encoder creds;
    process_identity_save(creds);
    TRY(put(out, Tag::Creds, creds));
    Encoder sig;
    SignalAction actions[kNumSignals];
    {
        SpinGuard g(g_process.lock);
        memcpy(actions, g_process.actions, sizeof(actions));
    }
    sig.put(actions, sizeof(actions));
    return put(out, Tag::Signals, sig);
}

Result<void> save_thread(ChannelSink& out, const ForkRequest& req, int child_pid) {
    Thread* t = current_thread();
    PalContext ctx = *t->syscall_ctx;
    ctx.rax = 0;
    if (req.stack)
        ctx.rsp = req.stack;
    Encoder e;
    e.put(&ctx, sizeof(ctx));
    e.u64(req.set_tls ? req.tls : g_pal->get_fs_base());
    ThreadAttrs attrs;
    uint64_t sigmask, alt_sp, alt_size;
    int alt_flags;
    {
        SpinGuard g(g_process.lock);
        attrs = t->attrs;
        sigmask = t->sigmask;
        alt_sp = t->altstack_sp;
        alt_size = t->altstack_size;
        alt_flags = t->altstack_flags;
    }
    e.u64(sigmask);
    e.u64(alt_sp);
    e.u64(alt_size);
    e.u32(uint32_t(alt_flags));
    e.put(&attrs, sizeof(attrs));
    e.u32(req.child_settid);
    e.u32(req.child_cleartid);
    e.u64(req.child_tid);
    e.u32(req.vfork);
    (void)child_pid;
    return put(out, Tag::Thread, e);
}

Result<void> save_fds(ChannelSink& out, uint64_t member_token) {
    constexpr size_t kMax = 4096;
    int* fds = static_cast<int*>(kmalloc(kMax * sizeof(int)));
    char* path = static_cast<char*>(kmalloc(fs::kPathMax));
    HeapGuard g1{fds}, g2{path};
    if (!fds || !path)
        return Errno(ENOMEM);
    size_t n = g_process.fds.list(fds, kMax);
    if (n > kMax)
        n = kMax;
    bool warned = false;
    // The files seen so far: a descriptor of one of them is a dup of the earlier one, in
    // the child as here (one open file description).
    auto** seen = static_cast<fs::File**>(kzalloc(n * sizeof(fs::File*) + 1));
    HeapGuard g3{seen};
    if (!seen)
        return Errno(ENOMEM);
    for (size_t i = 0; i < n; i++) {
        auto ref = g_process.fds.get(fds[i], true);
        if (!ref.ok())
            continue;
        fs::File* f = ref.value().get();
        seen[i] = f;
        int first = -1;
        for (size_t j = 0; j < i && first < 0; j++)
            if (seen[j] == f)
                first = fds[j];
        auto cloexec_flag = g_process.fds.get_cloexec(fds[i]);
        bool cloexec = cloexec_flag.ok() && cloexec_flag.value();
        Encoder e;
        e.u32(uint32_t(fds[i]));
        e.u32(cloexec);
        e.u32(f->flags());
        e.u32(f->is_path_only());
        // The description's O_ASYNC owner and signal (F_SETOWN, F_SETSIG), as Linux shares them.
        fs::AsyncOwner owner = f->async_owner();
        e.u32(uint32_t(owner.type));
        e.u32(uint32_t(owner.id));
        e.u32(uint32_t(owner.sig));
        PalHandle* pass = nullptr;  // a host handle sent after the record
        if (first >= 0) {
            e.u32(uint32_t(ipc::FileKind::Dup));
            e.u32(uint32_t(first));
        } else if (auto put = ipc::file_export(f, e, &pass, member_token); !put.ok()) {
            if (put.error() != Errno(EOPNOTSUPP))
                return put.error();
            auto len = f->path(path, fs::kPathMax);
            if (!warned)
                log_warning("fork: fd %d (%s) cannot be shared with another process yet; the child's fd "
                            "fails reads and writes with EIO",
                            fds[i], len.ok() ? path : "a file without a path");
            warned = true;
            e.u32(uint32_t(ipc::FileKind::Unshared));
            e.str(len.ok() ? path : "anon_inode:[unshared]");
        }
        TRY(put(out, Tag::Fd, e));
        if (pass)
            TRY(pal_result(g_pal->channel_send_handle(out.channel(), pass)));
    }
    return {};
}

struct VmaSave {
    ChannelSink* out;
    char* path;
    uint8_t* vec;  // kChunkPages residency bytes
};

// Whether the child maps the VMA's file again (else it gets anonymous memory).
bool file_reopenable(fs::File* f, char* path) {
    if (!f || f->maps_as_anonymous())
        return false;
    bool deleted = false;
    auto len = f->path(path, fs::kPathMax, &deleted);
    return len.ok() && !deleted && path[0] == '/';
}

// How the child maps a VMA again: anonymous memory, the host file at its path (a chroot
// mount's: its name stays), or the host object behind the file, passed (tmpfs, memfd and
// MAP_SHARED anonymous memory: one memory in parent and child).
enum class VmaSource : uint32_t { Anonymous = 0, Path = 1, Handle = 2 };

Result<void> save_vma(const mm::VmaSnapshot& v, void* arg) {
    auto* s = static_cast<VmaSave*>(arg);
    VmaSource source = VmaSource::Anonymous;
    PalHandle* pass = nullptr;
    // A host file (a chroot mount's) is mapped again by its path; tmpfs, memfd and shared
    // anonymous memory pass their host shared memory.
    const fs::Mount* m = v.file ? v.file->mount() : nullptr;
    if (m && m->fs->host_root() && v.file->pal_file() && file_reopenable(v.file, s->path)) {
        source = VmaSource::Path;
    } else if (v.file && !v.file->maps_as_anonymous()) {
        auto h = v.file->map_handle();
        if (h.ok()) {
            source = VmaSource::Handle;
            pass = h.value();
        }
    }
    bool by_file = source != VmaSource::Anonymous;
    bool shared_file = by_file && (v.flags & mm::kVmaShared);
    Encoder e;
    e.u64(v.start);
    e.u64(v.end);
    e.u32(uint32_t(v.prot));
    e.u32(v.flags);
    e.u64(v.offset);
    e.u32(uint32_t(source));
    e.u32(v.file ? v.file->flags() : 0);
    e.str(source == VmaSource::Path ? s->path : "");
    TRY(put(*s->out, Tag::Vma, e));
    if (pass)
        TRY(pal_result(g_pal->channel_send_handle(s->out->channel(), pass)));
    // A private file mapping never writable holds the file's bytes only: mapping the file
    // again is its copy.
    bool file_bytes_only = by_file && !(v.flags & mm::kVmaWritten);
    if (shared_file || file_bytes_only || !(v.prot & 1 /* PROT_READ */) || (v.flags & mm::kVmaReserved))
        return {};
    for (uint64_t chunk = v.start; chunk < v.end; chunk += kChunkPages * kPage) {
        uint64_t pages = (v.end - chunk) / kPage;
        if (pages > kChunkPages)
            pages = kChunkPages;
        TRY(pal_result(g_pal->memory_residency(reinterpret_cast<void*>(chunk), pages * kPage, s->vec)));
        uint64_t resident = 0;
        for (uint64_t i = 0; i < pages; i++) {
            s->vec[i] &= 1;
            resident += s->vec[i];
        }
        if (!resident)
            continue;
        TRY(ckpt::write_record_head(*s->out, Tag::VmaPages, 16 + pages + resident * kPage));
        uint64_t head[2] = {chunk, pages};
        TRY(s->out->write(head, sizeof(head)));
        TRY(s->out->write(s->vec, pages));
        for (uint64_t i = 0; i < pages;) {
            if (!s->vec[i]) {
                i++;
                continue;
            }
            uint64_t run = i;
            while (run < pages && s->vec[run])
                run++;
            TRY(s->out->write(reinterpret_cast<const void*>(chunk + i * kPage), (run - i) * kPage));
            i = run;
        }
    }
    return {};
}

Result<void> save_memory(ChannelSink& out) {
    VmaSave s{&out, static_cast<char*>(kmalloc(fs::kPathMax)), static_cast<uint8_t*>(kmalloc(kChunkPages))};
    HeapGuard g1{s.path}, g2{s.vec};
    if (!s.path || !s.vec)
        return Errno(ENOMEM);
    TRY(mm::for_each_vma(save_vma, &s));
    Encoder heap;
    uint64_t start, end, limit, mapped;
    mm::heap_bounds(&start, &end, &limit, &mapped);
    heap.u64(start);
    heap.u64(end);
    heap.u64(limit);
    heap.u64(mapped);
    return put(out, Tag::Heap, heap);
}

Result<void> save_all(ChannelSink& out, const ForkRequest& req, int child_pid, PalHandle* member,
                      uint64_t member_token) {
    TRY(ckpt::write_stream_head(out));
    TRY(save_process(out, child_pid));
    Encoder none;
    TRY(put(out, Tag::Leader, none));
    TRY(pal_result(g_pal->channel_send_handle(out.channel(), member)));
    TRY(save_thread(out, req, child_pid));
    TRY(save_fds(out, member_token));
    TRY(save_memory(out));
    Encoder end;
    return put(out, Tag::End, end);
}

// -- Restoring ---------------------------------------------------------------------------

struct Restore {
    ChannelSource* in;
    PalHandle* channel;
    PalContext* ctx;
    // The VMA whose pages are arriving: given its own protection once they are in.
    mm::VmaSnapshot vma;
    bool vma_open;
    bool set_child_tid;     // CLONE_CHILD_SETTID: the child's tid goes to child_tid at the end
    uint64_t child_tid;
};

Result<void> restore_process(Decoder& d, Restore&) {
    uint64_t pid, ppid, libos_start, stack_size, brk_max;
    uint32_t umask, persona, pgid, sid;
    const char *comm, *cwd, *exe;
    ProcessAttrs attrs;
    if (!d.u64(&pid) || !d.u64(&ppid) || !d.u64(&libos_start) || !d.u64(&stack_size) || !d.u64(&brk_max) ||
        !d.u32(&umask) || !d.u32(&persona) || !d.u32(&pgid) || !d.u32(&sid) || !d.str(&comm, 16) || !d.get(&attrs, sizeof(attrs)) ||
        !d.str(&cwd, fs::kPathMax) || !d.str(&exe, fs::kPathMax))
        return Errno(EINVAL);
    if (libos_start != g_boot->libos_start) {
        log_error("fork: libos.so is at %#lx in the child and at %#lx in the parent", g_boot->libos_start,
                  libos_start);
        return Errno(ENOMEM);
    }
    TRY(fs::procfs_args_restore(d));
    if (!d.finished() || pid < 2 || pid > 0x400000 || ppid > 0x400000)
        return Errno(EINVAL);
    g_process.pid = int(pid);
    g_process.ppid = int(ppid);
    g_process.stack_size = stack_size;
    g_process.brk_max_size = brk_max;
    current_thread()->tid = int(pid);
    threads_reset_ids(int(pid));
    if (exe[0])
        TRY(process_set_exe(exe, comm));
    TRY(process_set_cwd(cwd));
    SpinGuard g(g_process.lock);
    g_process.umask = umask & 0777;
    g_process.persona = persona;
    g_process.pgid = int(pgid);
    g_process.sid = int(sid);
    g_process.attrs = attrs;
    strlcpy(g_process.comm, comm, sizeof(g_process.comm));
    return {};
}

Result<void> restore_signals(Decoder& d) {
    SignalAction actions[kNumSignals];
    if (!d.get(actions, sizeof(actions)) || !d.finished())
        return Errno(EINVAL);
    SpinGuard g(g_process.lock);
    memcpy(g_process.actions, actions, sizeof(actions));
    return {};
}

Result<void> restore_thread(Decoder& d, Restore& r) {
    uint64_t fs_base, sigmask, alt_sp, alt_size, child_tid;
    uint32_t alt_flags, settid, cleartid, vfork;
    ThreadAttrs attrs;
    if (!d.get(r.ctx, sizeof(*r.ctx)) || !d.u64(&fs_base) || !d.u64(&sigmask) || !d.u64(&alt_sp) ||
        !d.u64(&alt_size) || !d.u32(&alt_flags) || !d.get(&attrs, sizeof(attrs)) || !d.u32(&settid) ||
        !d.u32(&cleartid) || !d.u64(&child_tid) || !d.u32(&vfork) || !d.finished())
        return Errno(EINVAL);
    attrs.pdeath_signal = 0;  // a child's own, never its parent's (fork(2))
    Thread* t = current_thread();
    TRY(pal_result(g_pal->set_fs_base(fs_base)));
    {
        SpinGuard g(g_process.lock);
        t->sigmask = sigmask;
        t->altstack_sp = alt_sp;
        t->altstack_size = alt_size;
        t->altstack_flags = int(alt_flags);
        t->attrs = attrs;
    }
    if (cleartid)
        t->clear_child_tid = child_tid;
    r.set_child_tid = settid != 0;  // written once the memory is back
    r.child_tid = child_tid;
    g_vfork_parent = vfork ? g_boot->parent_channel : nullptr;
    return {};
}

// A record's host handle: the next handle on the fork channel.
struct ChannelHandles final : ipc::HandleSource {
    PalHandle* channel;
    Result<PalHandle*> next() override {
        PalHandle* host = nullptr;
        TRY(pal_result(g_pal->channel_recv_handle(channel, &host)));
        return host;
    }
};

Result<void> restore_fd(Decoder& d, PalHandle* channel) {
    uint32_t fd, cloexec, flags, path_only, owner_type, owner_id, owner_sig;
    if (!d.u32(&fd) || !d.u32(&cloexec) || !d.u32(&flags) || !d.u32(&path_only) || !d.u32(&owner_type) ||
        !d.u32(&owner_id) || !d.u32(&owner_sig))
        return Errno(EINVAL);
    Decoder dup = d;
    uint32_t kind, first;
    if (dup.u32(&kind) && kind == uint32_t(ipc::FileKind::Dup)) {
        if (!dup.u32(&first) || !dup.finished())
            return Errno(EINVAL);
        int got = TRY(g_process.fds.dup_to(int(first), int(fd), cloexec != 0));
        return got == int(fd) ? Result<void>() : Errno(EINVAL);
    }
    ChannelHandles handles;
    handles.channel = channel;
    auto imported = ipc::file_import(d, flags, path_only != 0, handles, ipc::Arrival::Fork);
    if (!imported.ok()) {
        // A file opened again by path may be gone by now: the child goes on without it.
        if (kind != uint32_t(ipc::FileKind::Path) || imported.error() == Errno(EINVAL))
            return imported.error();
        log_warning("fork: the child cannot open fd %u's file again (errno %d); it is closed", fd,
                    imported.error().code);
        return {};
    }
    fs::File* f = imported.value();
    // Descriptors arrive in ascending order into an empty table: the lowest free one from
    // `fd` on is `fd` itself.
    // The owner comes along (F_GETOWN and F_GETSIG answer as in the parent); the parent's
    // watch goes on sending the signals, so the child's copy does not watch too (one
    // signal per event, as Linux sends for the one description).
    if (owner_id)
        f->set_async_owner(fs::AsyncOwner{int(owner_type), int(owner_id), int(owner_sig)});
    int got = TRY(g_process.fds.install(f, int(fd), cloexec != 0));
    if (got != int(fd))
        return Errno(EINVAL);
    return {};
}

// Gives the VMA whose pages have all arrived its own protection.
void close_vma(Restore& r) {
    if (!r.vma_open)
        return;
    r.vma_open = false;
    g_pal->memory_protect(reinterpret_cast<void*>(r.vma.start), r.vma.end - r.vma.start, r.vma.prot);
}

Result<void> restore_vma(Decoder& d, Restore& r) {
    close_vma(r);
    uint64_t start, end, offset;
    uint32_t prot, flags, by_file, file_flags;
    const char* path;
    if (!d.u64(&start) || !d.u64(&end) || !d.u32(&prot) || !d.u32(&flags) || !d.u64(&offset) || !d.u32(&by_file) ||
        !d.u32(&file_flags) || !d.str(&path, fs::kPathMax) || !d.finished())
        return Errno(EINVAL);
    fs::File* file = nullptr;
    PalHandle* handle = nullptr;
    if (by_file == uint32_t(VmaSource::Path)) {
        auto opened = ipc::file_open_path(path, file_flags & ~uint32_t(O_PATH));
        if (!opened.ok()) {
            log_error("fork: the child cannot map %s again (errno %d)", path, opened.error().code);
            return opened.error();
        }
        file = opened.value();
    } else if (by_file == uint32_t(VmaSource::Handle)) {
        TRY(pal_result(g_pal->channel_recv_handle(r.channel, &handle)));
    } else if (by_file == uint32_t(VmaSource::Anonymous)) {
        flags |= mm::kVmaAnonymous;
    } else {
        return Errno(EINVAL);
    }
    mm::VmaSnapshot v{start, end, int(prot), flags, file, offset, handle};
    auto mapped = mm::map_restored(v);
    if (file)
        file->unref();  // the VMA holds its own reference
    if (handle)
        g_pal->stream_close(handle);  // the mapping keeps the host object
    TRY(mapped);
    r.vma = v;
    r.vma.file = nullptr;
    r.vma.handle = nullptr;
    r.vma_open = true;
    return {};
}

Result<void> restore_pages(Restore& r, uint64_t size) {
    uint64_t head[2];
    if (size < sizeof(head))
        return Errno(EINVAL);
    TRY(r.in->read(head, sizeof(head)));
    uint64_t chunk = head[0], pages = head[1];
    if (!r.vma_open || pages == 0 || pages > kChunkPages || chunk < r.vma.start || chunk >= r.vma.end ||
        pages > (r.vma.end - chunk) / kPage || size < sizeof(head) + pages)
        return Errno(EINVAL);
    auto* vec = static_cast<uint8_t*>(kmalloc(pages));
    if (!vec)
        return Errno(ENOMEM);
    HeapGuard guard{vec};
    TRY(r.in->read(vec, pages));
    uint64_t resident = 0;
    for (uint64_t i = 0; i < pages; i++) {
        if (vec[i] > 1)
            return Errno(EINVAL);
        resident += vec[i];
    }
    if (size != sizeof(head) + pages + resident * kPage)
        return Errno(EINVAL);
    for (uint64_t i = 0; i < pages;) {
        if (!vec[i]) {
            i++;
            continue;
        }
        uint64_t run = i;
        while (run < pages && vec[run])
            run++;
        TRY(r.in->read(reinterpret_cast<void*>(chunk + i * kPage), (run - i) * kPage));
        i = run;
    }
    return {};
}

Result<void> restore_heap(Decoder& d) {
    uint64_t start, end, limit, mapped;
    if (!d.u64(&start) || !d.u64(&end) || !d.u64(&limit) || !d.u64(&mapped) || !d.finished())
        return Errno(EINVAL);
    return mm::restore_heap(start, end, limit, mapped);
}

Result<void> restore_all(ChannelSource& in, PalContext* ctx) {
    Restore r{&in, in.channel(), ctx, {}, false, false, 0};
    auto head = ckpt::read_stream_head(in);
    if (!head.ok())
        return head.error().code == EPIPE ? Errno(ENODATA) : head.error();  // no checkpoint came
    bool seen_process = false, seen_thread = false;
    for (;;) {
        ckpt::RecordHead head = TRY(ckpt::read_record_head(in, (kChunkPages + 16) * (kPage + 1)));
        Tag tag = Tag(head.tag);
        if (tag == Tag::VmaPages) {
            TRY(restore_pages(r, head.size));
            continue;
        }
        if (head.size > kMaxRecord)
            return Errno(EINVAL);
        uint8_t* payload = TRY(ckpt::read_payload(in, head.size));
        HeapGuard pg{payload};
        Decoder d(payload, size_t(head.size));
        switch (tag) {
        case Tag::End:
            close_vma(r);
            net::pipe_adopt_done();
            if (!seen_process || !seen_thread)
                return Errno(EINVAL);
            if (r.set_child_tid) {
                uint32_t tid = uint32_t(g_process.pid);
                (void)copy_to_user(r.child_tid, &tid, sizeof(tid));
            }
            return {};
        case Tag::Process:
            TRY(restore_process(d, r));
            seen_process = true;
            break;
        case Tag::Creds:
            TRY(process_identity_restore(d));
            if (!d.finished())
                return Errno(EINVAL);
            break;
        case Tag::Signals: TRY(restore_signals(d)); break;
        case Tag::Thread:
            TRY(restore_thread(d, r));
            seen_thread = true;
            break;
        case Tag::Fd: TRY(restore_fd(d, r.channel)); break;
        case Tag::Leader: {
            PalHandle* leader = nullptr;
            TRY(pal_result(g_pal->channel_recv_handle(r.channel, &leader)));
            ipc::set_leader_channel(leader);
            break;
        }
        case Tag::Vma: TRY(restore_vma(d, r)); break;
        case Tag::Heap: TRY(restore_heap(d)); break;
        default: break;  // a record this version does not know: skipped
        }
    }
}

}  // namespace

Result<long> process_fork(const ForkRequest& req) {
    TRY(start_watcher());
    int pid = TRY(ipc::id_alloc());
    // The child's channel to the leader, which the leader serves from now on (it travels in
    // the checkpoint); `member` is the leader's name for it.
    ipc::NewProc entry{pid, g_process.pid, 0, 0};
    {
        SpinGuard g(g_process.lock);
        entry.pgid = g_process.pgid;
        entry.sid = g_process.sid;
    }
    uint64_t member_token = 0;
    PalHandle* member = TRY(ipc::member_channel_new(entry, &member_token));
    PalHandle* process = nullptr;
    PalHandle* channel = nullptr;
    PalError e = g_pal->process_create(g_boot->boot_config, g_boot->boot_config_size, &process, &channel);
    if (e != PAL_OK) {
        g_pal->stream_close(member);  // the leader drops what it held for it at the close
        return Errno(e == PAL_E_NOMEM ? ENOMEM : EAGAIN);
    }
    ChannelSink out(channel);
    auto saved = save_all(out, req, pid, member, member_token);
    g_pal->stream_close(member);  // the child has its own now
    uint8_t answer = 0xff;
    bool answered = saved.ok() && ChannelSource(channel).read(&answer, 1).ok();
    if (!saved.ok() || !answered || answer != 0) {
        if (!saved.ok())
            log_error("fork: cannot send the checkpoint (errno %d)", saved.error().code);
        else
            log_error("fork: the child could not restore the checkpoint (errno %d)", answered ? answer : EPIPE);
        g_pal->process_kill(process, 9);
        int code, sig;
        g_pal->process_wait(process, PAL_WAIT_FOREVER, &code, &sig);
        g_pal->stream_close(channel);
        g_pal->stream_close(process);
        return Errno(answered && answer == ENOMEM ? ENOMEM : EAGAIN);
    }
    if (req.vfork) {
        // vfork: the parent goes on once the child has exec'd (a byte) or ended (the end
        // of the channel).
        uint8_t done;
        (void)ChannelSource(channel).read(&done, 1);
    }
    if (req.parent_settid) {
        uint32_t tid = uint32_t(pid);
        (void)copy_to_user(req.parent_tid, &tid, sizeof(tid));
    }
    auto* c = static_cast<Child*>(kzalloc(sizeof(Child)));
    if (!c) {
        g_pal->process_kill(process, 9);
        return Errno(ENOMEM);
    }
    g_pal->stream_close(channel);
    *c = Child{pid, process, req.exit_signal, false, 0, 0, entry.pgid, nullptr};
    ipc::procs_set_handle(pid, process);
    {
        LockGuard g(g_children_lock);
        c->next = g_children;
        g_children = c;
    }
    g_pal->event_set(g_watcher_kick);
    return long(pid);
}

Result<void> fork_child_restore(PalHandle* channel, PalContext* ctx) {
    ChannelSource in(channel);
    auto restored = restore_all(in, ctx);
    if (!restored.ok() && restored.error().code == ENODATA)
        return restored;  // a child started ahead of time that no fork needed
    uint8_t answer = restored.ok() ? 0 : uint8_t(restored.error().code);
    (void)ChannelSink(channel).write(&answer, 1);
    return restored;
}

Result<WaitResult> process_wait_child(const WaitRequest& req) {
    constexpr size_t kMaxNewly = 8;
    WaitResult found{};
    bool any = false;
    // One look: a child that matches and has ended is the answer (and is reaped unless
    // WNOWAIT); ends seen here first get their SIGCHLD before the answer.
    // P_PGID: the processes in the group now, from the table (taken before the children
    // lock, which comes after the table's).
    constexpr size_t kMaxGroup = 1024;
    int* group = nullptr;
    if (req.which == P_PGID) {
        group = static_cast<int*>(kmalloc(kMaxGroup * sizeof(int)));
        if (!group)
            return Errno(ENOMEM);
    }
    HeapGuard group_guard{group};
    auto look = [&]() -> bool {
        Child newly[kMaxNewly];
        size_t n_newly = 0;
        Child* reaped = nullptr;
        bool auto_reap = children_auto_reaped();
        bool done = false;
        size_t n_group = 0;
        if (group) {
            auto n = ipc::procs_group(req.id, group, kMaxGroup);
            n_group = n.ok() ? (n.value() < kMaxGroup ? n.value() : kMaxGroup) : 0;
        }
        auto in_group = [&](Child* c) {
            if (!c->ended) {
                bool now = false;
                for (size_t i = 0; i < n_group && !now; i++)
                    now = group[i] == c->pid;
                if (now)
                    c->pgid = req.id;
                else if (c->pgid == req.id)
                    c->pgid = -1;  // it has left the group since
            }
            return c->pgid == req.id;
        };
        {
            LockGuard g(g_children_lock);
            // Reaped as they ended when auto-reaping: nobody gets their status (wait
            // reports ECHILD once none is left).
            sweep_locked(auto_reap, newly, kMaxNewly, &n_newly, &reaped);
            any = false;
            for (Child** link = &g_children; *link; link = &(*link)->next) {
                Child* c = *link;
                if (req.which == P_PID && c->pid != req.id)
                    continue;
                if (req.which == P_PGID && !in_group(c))
                    continue;
                // __WCLONE waits for children whose exit signal is not SIGCHLD only; __WALL for all.
                bool clone_child = c->exit_signal != kSigchld;
                if (!(req.options & __WALL) && clone_child != ((req.options & __WCLONE) != 0))
                    continue;
                any = true;
                if (!c->ended || !(req.options & WEXITED))
                    continue;  // (stopped and continued children are not reported yet)
                found = WaitResult{c->pid, c->code, c->status, g_process.uid};
                done = true;
                if (!(req.options & WNOWAIT)) {
                    *link = c->next;
                    c->next = reaped;
                    reaped = c;
                }
                break;
            }
        }
        sweep_settle(reaped, newly, n_newly);
        return done;
    };
    TRY(wait_until(g_child_exits, 0, kNoDeadline, [&]() { return look() || !any || (req.options & WNOHANG); }));
    if (found.pid)
        return found;
    if (!any)
        return Errno(ECHILD);
    return found;  // WNOHANG: none has ended
}

Result<void> process_signal(PalHandle* process, const SigInfo& info, int tid) {
    constexpr int kSigkill = 9, kSigcont = 18, kSigstop = 19;
    int sig = info.signo;
    if (sig == kSigkill || sig == kSigstop || sig == kSigcont)
        return pal_result(g_pal->process_kill(process, sig));
    SignalMessage m = signal_message(info, tid);
    PalError e = g_pal->process_message(process, &m, sizeof(m));
    if (e == PAL_E_NOENT)
        return {};  // it has just ended: a zombie takes signals and ignores them
    return pal_result(e);
}

Result<bool> child_signal(int pid, const SigInfo& info, int tid) {
    bool found = false;
    LockGuard g(g_children_lock);
    for (Child* c = g_children; c; c = c->next) {
        if (pid != 0 && c->pid != pid)
            continue;
        if (c->ended || info.signo == 0) {
            found = true;  // it exists (a zombie takes signals and ignores them)
            if (pid != 0)
                return true;
            continue;
        }
        TRY(process_signal(c->process, info, tid));
        if (pid != 0)
            return true;
        found = true;
    }
    return found;
}

Result<PalHandle*> child_handle_dup(int pid) {
    LockGuard g(g_children_lock);
    for (Child* c = g_children; c; c = c->next) {
        if (c->pid != pid)
            continue;
        PalHandle* copy = nullptr;
        TRY(pal_result(g_pal->handle_dup(c->process, &copy)));
        return copy;
    }
    return Errno(ESRCH);
}

void fork_vfork_release() {
    PalHandle* parent = __atomic_exchange_n(&g_vfork_parent, nullptr, __ATOMIC_ACQ_REL);
    if (parent) {
        uint8_t done = 1;
        (void)ChannelSink(parent).write(&done, 1);
    }
}

void children_kill_all() {
    if (g_boot->parent_channel)
        return;  // only the first process's end ends the instance
    LockGuard g(g_children_lock);
    for (Child* c = g_children; c; c = c->next)
        if (!c->ended)
            g_pal->process_kill(c->process, 9);
}

}  // namespace carbyne::libos
