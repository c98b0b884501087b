// Mounts the IPC leader serves (see remote.h): the requests, a member's RemoteFs and
// RemoteFile, and the leader's table of shared files.
#include "remote.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#include "../ipc/checkpoint.h"
#include "../ipc/leader.h"
#include "../proc/process.h"
#include "permission.h"
#include "vfs.h"
#include "xattr.h"

namespace carbyne::libos::fs {

using ckpt::Decoder;
using ckpt::Encoder;

namespace {

// The operations, the first u32 of a request. Numbers are part of the protocol.
enum class Op : uint32_t {
    // On a mount: u32 mount index, then the operation's fields.
    Lookup = 1,       // str rel -> u32 exists, Stat
    Readlink = 2,     // str rel, u64 size -> the target's bytes
    Open = 3,         // str path, u32 rel_at, u32 exists, u32 flags, u32 mode, u32 uid, u32 gid -> u64 id
    OpenTmpfile = 4,  // str dir path, u32 rel_at, u32 flags, u32 mode, u32 uid, u32 gid -> u64 id
    Mkdir = 5,        // str rel, u32 mode, u32 uid, u32 gid
    Unlink = 6,       // str rel
    Rmdir = 7,        // str rel
    Rename = 8,       // str from, str to, u32 flags
    Link = 9,         // str from, str to
    LinkFile = 10,    // u64 id, Stat, str rel
    Symlink = 11,     // str target, str rel, u32 uid, u32 gid
    Mknod = 12,       // str rel, u32 mode, u64 dev, u32 uid, u32 gid
    Chmod = 13,       // str rel, u32 mode
    Chown = 14,       // str rel, u32 uid, u32 gid
    Truncate = 15,    // str rel, u64 size
    Utimens = 16,     // str rel, u64 atime, u64 mtime
    Xattr = 17,       // str rel, xattr request -> u64 length, then the value or the names
    Statfs = 18,      // str rel -> StatFs
    Sync = 19,        // nothing
    // On a shared file: u64 id, then the operation's fields.
    Hold = 40,        // u64 member: one more hold of the file for that member
    Release = 41,     // nothing: one hold of the caller's less
    Read = 42,        // u32 status flags, u64 size -> the bytes
    Write = 43,       // u32 status flags, bytes -> u64 count
    Pread = 44,       // u32 status flags, u64 size, u64 offset -> the bytes
    Pwrite = 45,      // u32 status flags, u64 offset, bytes -> u64 count
    Seek = 46,        // u64 offset, u32 whence -> u64 position
    Stat = 47,        // -> Stat
    Getdents = 48,    // u64 size -> linux_dirent64 records
    Fsync = 49,       // u32 data only
    Ftruncate = 50,   // u64 size
    Allocate = 51,    // u32 mode, u64 offset, u64 size
    Fchmod = 52,      // u32 mode
    Fchown = 53,      // u32 uid, u32 gid
    Futimens = 54,    // u64 atime, u64 mtime
    Fxattr = 55,      // xattr request -> as Xattr
    ReadableBytes = 56,  // -> u64
    MapHandle = 57,   // -> nothing; the host shared memory follows the answer
    Claim = 58,       // u32 take: a hold in flight becomes the caller's (see remote_claim)
};

// The status flags a request carries: the sender's view of the shared description.
constexpr uint32_t kStatusFlags = O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT;

uint64_t g_served;  // bit i: mount-table index i is served by the leader

constexpr uint32_t kSmallReply = 256;

// -- A member's requests ------------------------------------------------------------------

// One request; the answer (at most `cap` bytes) goes to `reply`. Returns its size.
Result<uint32_t> call(const Encoder& req, void* reply, uint32_t cap, PalHandle** handle = nullptr) {
    if (!req.ok())
        return Errno(ENOMEM);
    return ipc::leader_call(ipc::MsgType::Fs, req.data(), uint32_t(req.size()), reply, cap, handle);
}

// A request with no answer but its success.
Result<void> call_void(const Encoder& req) {
    uint8_t reply[kSmallReply];
    TRY(call(req, reply, sizeof(reply)));
    return {};
}

// A request's fields after its head, each by its type (all declared first: each one's
// recursive call must see every overload).
void put_fields(Encoder&) {}
template <typename... Rest>
void put_fields(Encoder& e, const char* s, Rest... rest);
template <typename... Rest>
void put_fields(Encoder& e, uint32_t v, Rest... rest);
template <typename... Rest>
void put_fields(Encoder& e, uint64_t v, Rest... rest);
template <typename... Rest>
void put_fields(Encoder& e, int64_t v, Rest... rest);
template <typename... Rest>
void put_fields(Encoder& e, uint32_t v, Rest... rest) {
    e.u32(v);
    put_fields(e, rest...);
}
template <typename... Rest>
void put_fields(Encoder& e, uint64_t v, Rest... rest) {
    e.u64(v);
    put_fields(e, rest...);
}
template <typename... Rest>
void put_fields(Encoder& e, int64_t v, Rest... rest) {
    e.u64(uint64_t(v));
    put_fields(e, rest...);
}
template <typename... Rest>
void put_fields(Encoder& e, const char* s, Rest... rest) {
    e.str(s);
    put_fields(e, rest...);
}

void put_xattr(Encoder& e, const XattrRequest& req) {
    e.u32(uint32_t(req.op));
    e.str(req.name ? req.name : "");
    e.u32(req.flags);
    e.u32(req.privileged);
    e.u64(req.size);
    if (req.op == XattrOp::Set)
        e.bytes(req.value, req.size);
}

// The answer to an xattr request: the length, then the value or names when asked for.
Result<size_t> take_xattr(const Encoder& req, const XattrRequest& x) {
    size_t cap = 8 + ((x.op == XattrOp::Get || x.op == XattrOp::List) ? x.size : 0);
    auto* reply = static_cast<uint8_t*>(kmalloc(cap));
    if (!reply)
        return Errno(ENOMEM);
    HeapGuard guard{reply};
    uint32_t got = TRY(call(req, reply, uint32_t(cap)));
    Decoder d(reply, got);
    uint64_t len;
    if (!d.u64(&len))
        return Errno(EPROTO);
    if ((x.op == XattrOp::Get || x.op == XattrOp::List) && x.size) {
        if (len > x.size || !d.get(x.value, size_t(len)))
            return Errno(EPROTO);
    }
    return size_t(len);
}

class RemoteFs final : public FileSystem {
public:
    explicit RemoteFs(unsigned index) : m_index(index) {}

    const char* type_name() const override { return "tmpfs"; }

    Result<void> lookup(const char* rel, bool* exists, Stat* st) override {
        Encoder e;
        start(e, Op::Lookup);
        e.str(rel);
        uint8_t reply[8 + sizeof(Stat)];
        uint32_t got = TRY(call(e, reply, sizeof(reply)));
        Decoder d(reply, got);
        uint32_t there;
        if (!d.u32(&there) || !d.get(st, sizeof(*st)) || !d.finished())
            return Errno(EPROTO);
        *exists = there != 0;
        return {};
    }
    Result<size_t> readlink(const char* rel, char* buf, size_t size) override {
        Encoder e;
        start(e, Op::Readlink);
        e.str(rel);
        uint32_t cap = size < kPathMax ? uint32_t(size) : uint32_t(kPathMax);
        e.u64(cap);
        return size_t(TRY(call(e, buf, cap)));
    }
    Result<File*> open(const Resolved& r, uint32_t flags, uint32_t mode) override;
    Result<File*> open_tmpfile(const Resolved& dir, uint32_t flags, uint32_t mode) override;
    Result<void> mkdir(const char* rel, uint32_t mode) override { return ask_creating(Op::Mkdir, rel, mode); }
    Result<void> unlink(const char* rel) override { return ask(Op::Unlink, rel); }
    Result<void> rmdir(const char* rel) override { return ask(Op::Rmdir, rel); }
    Result<void> rename(const char* from, const char* to, uint32_t flags) override {
        return ask(Op::Rename, from, to, flags);
    }
    Result<void> link(const char* from, const char* to) override { return ask(Op::Link, from, to); }
    Result<void> link_file(File* f, const Stat& st, const char* rel) override;
    Result<void> symlink(const char* target, const char* rel) override {
        return ask_creating(Op::Symlink, target, rel);
    }
    Result<void> mknod(const char* rel, uint32_t mode, uint64_t dev) override {
        return ask_creating(Op::Mknod, rel, mode, dev);
    }
    Result<void> chmod(const char* rel, uint32_t mode) override { return ask(Op::Chmod, rel, mode); }
    Result<void> chown(const char* rel, uint32_t uid, uint32_t gid) override { return ask(Op::Chown, rel, uid, gid); }
    Result<void> truncate(const char* rel, uint64_t size) override { return ask(Op::Truncate, rel, size); }
    Result<void> utimens(const char* rel, int64_t atime_ns, int64_t mtime_ns) override {
        return ask(Op::Utimens, rel, atime_ns, mtime_ns);
    }
    Result<size_t> xattr(const char* rel, const XattrRequest& req) override {
        Encoder e;
        start(e, Op::Xattr);
        e.str(rel);
        put_xattr(e, req);
        return take_xattr(e, req);
    }
    Result<void> statfs(StatFs* out) override { return statfs_at("", out); }
    Result<void> statfs_at(const char* rel, StatFs* out) override {
        Encoder e;
        start(e, Op::Statfs);
        e.str(rel);
        uint32_t got = TRY(call(e, out, sizeof(*out)));
        return got == sizeof(*out) ? Result<void>() : Errno(EPROTO);
    }
    Result<void> sync() override { return ask(Op::Sync); }

private:
    void start(Encoder& e, Op op) const {
        e.u32(uint32_t(op));
        e.u32(m_index);
    }
    // A request with these fields and no answer but its success.
    template <typename... Fields>
    Result<void> ask(Op op, Fields... fields) {
        Encoder e;
        start(e, op);
        put_fields(e, fields...);
        return call_void(e);
    }
    // The same for a request that makes a file: the caller's ids follow, its owner's.
    template <typename... Fields>
    Result<void> ask_creating(Op op, Fields... fields) {
        Credentials c = process_creds();
        return ask(op, fields..., c.uid.fs, c.gid.fs);
    }
    Result<File*> open_as(Op op, const Resolved& r, uint32_t flags, uint32_t mode);

    unsigned m_index;
};

// A file the leader holds for this process (see remote.h).
class RemoteFile final : public File {
public:
    RemoteFile(uint64_t id, uint32_t flags, const char* path) : File(flags, path), m_id(id) {}
    ~RemoteFile() override {
        poll_release();
        if (m_map)
            g_pal->stream_close(m_map);
        Encoder e;
        start(e, Op::Release);
        auto released = call_void(e);
        if (!released.ok())
            log_debug("the first process did not take back shared file %llu (errno %d)", (unsigned long long)m_id,
                      released.error().code);
    }

    uint64_t id() const { return m_id; }
    FileKind kind() const override { return FileKind::Remote; }

    Result<size_t> read(IoBuf buf, size_t size) override { return read_at(Op::Read, buf, size, 0); }
    Result<size_t> pread(IoBuf buf, size_t size, uint64_t offset) override {
        return read_at(Op::Pread, buf, size, offset);
    }
    Result<size_t> write(IoBuf buf, size_t size) override { return write_at(Op::Write, buf, size, 0); }
    Result<size_t> pwrite(IoBuf buf, size_t size, uint64_t offset) override {
        return write_at(Op::Pwrite, buf, size, offset);
    }
    Result<int64_t> seek(int64_t offset, int whence) override {
        Encoder e;
        start(e, Op::Seek);
        e.u64(uint64_t(offset));
        e.u32(uint32_t(whence));
        return int64_t(TRY(call_u64(e)));
    }
    Result<void> stat(Stat* out) override {
        Encoder e;
        start(e, Op::Stat);
        uint32_t got = TRY(call(e, out, sizeof(*out)));
        return got == sizeof(*out) ? Result<void>() : Errno(EPROTO);
    }
    Result<size_t> getdents64(void* buf, size_t size) override {
        Encoder e;
        start(e, Op::Getdents);
        uint32_t cap = size < ipc::kMaxData ? uint32_t(size) : ipc::kMaxData;
        e.u64(cap);
        return size_t(TRY(call(e, buf, cap)));
    }
    Result<void> sync() override { return fsync(false); }
    Result<void> datasync() override { return fsync(true); }
    Result<void> truncate(uint64_t size) override { return ask(Op::Ftruncate, size); }
    Result<void> allocate(int mode, uint64_t offset, uint64_t size) override {
        return ask(Op::Allocate, uint32_t(mode), offset, size);
    }
    Result<void> chmod(uint32_t mode) override { return ask(Op::Fchmod, mode); }
    Result<void> chown(uint32_t uid, uint32_t gid) override { return ask(Op::Fchown, uid, gid); }
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override {
        return ask(Op::Futimens, atime_ns, mtime_ns);
    }
    Result<size_t> xattr(const XattrRequest& req) override {
        Encoder e;
        start(e, Op::Fxattr);
        put_xattr(e, req);
        return take_xattr(e, req);
    }
    Result<uint64_t> readable_bytes() override {
        Encoder e;
        start(e, Op::ReadableBytes);
        return call_u64(e);
    }
    Result<PalHandle*> map_handle() override {
        if (PalHandle* h = __atomic_load_n(&m_map, __ATOMIC_ACQUIRE))
            return h;
        PalHandle* h = nullptr;
        uint8_t reply[kSmallReply];
        Encoder e;
        start(e, Op::MapHandle);
        TRY(call(e, reply, sizeof(reply), &h));
        PalHandle* expected = nullptr;
        if (!__atomic_compare_exchange_n(&m_map, &expected, h, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            g_pal->stream_close(h);  // another thread's came first
            return expected;
        }
        return h;
    }

private:
    void start(Encoder& e, Op op) const {
        e.u32(uint32_t(op));
        e.u64(m_id);
    }
    Result<uint64_t> call_u64(const Encoder& e) {
        uint64_t v;
        uint32_t got = TRY(call(e, &v, sizeof(v)));
        return got == sizeof(v) ? Result<uint64_t>(v) : Errno(EPROTO);
    }
    Result<void> fsync(bool data_only) { return ask(Op::Fsync, uint32_t(data_only)); }
    template <typename... Fields>
    Result<void> ask(Op op, Fields... fields) {
        Encoder e;
        start(e, op);
        put_fields(e, fields...);
        return call_void(e);
    }
    // Moves `size` bytes in requests of at most kMaxData, until one moves less than it
    // asked: step(data, done, want) makes one and answers how many bytes it moved. The
    // bytes before an error count, as Linux's partial reads and writes do.
    template <typename Step>
    static Result<size_t> chunked(size_t size, Step step) {
        uint32_t cap = size < ipc::kMaxData ? uint32_t(size) : ipc::kMaxData;
        auto* data = static_cast<uint8_t*>(kmalloc(cap ? cap : 1));
        if (!data)
            return Errno(ENOMEM);
        HeapGuard guard{data};
        size_t done = 0;
        do {
            uint32_t want = size - done < cap ? uint32_t(size - done) : cap;
            auto moved = step(data, done, want);
            if (!moved.ok())
                return done ? Result<size_t>(done) : moved.error();
            done += moved.value();
            if (moved.value() < want)
                break;
        } while (done < size);
        return done;
    }
    Result<size_t> read_at(Op op, IoBuf buf, size_t size, uint64_t offset) {
        return chunked(size, [&](uint8_t* data, size_t done, uint32_t want) -> Result<size_t> {
            Encoder e;
            start(e, op);
            e.u32(flags() & kStatusFlags);
            e.u64(want);
            if (op == Op::Pread)
                e.u64(offset + done);
            uint32_t got = TRY(call(e, data, want));
            TRY(io_copy_out(buf + done, data, got));
            return size_t(got);
        });
    }
    Result<size_t> write_at(Op op, IoBuf buf, size_t size, uint64_t offset) {
        return chunked(size, [&](uint8_t* data, size_t done, uint32_t want) -> Result<size_t> {
            TRY(io_copy_in(data, buf + done, want));
            Encoder e;
            start(e, op);
            e.u32(flags() & kStatusFlags);
            if (op == Op::Pwrite)
                e.u64(offset + done);
            e.bytes(data, want);
            uint64_t n = TRY(call_u64(e));
            return n <= want ? Result<size_t>(size_t(n)) : Errno(EPROTO);
        });
    }

    uint64_t m_id;
    PalHandle* m_map = nullptr;  // the host shared memory, once mapped
};

// The file of `id`, which the leader holds for this process (given back on failure).
Result<File*> held_file_new(uint64_t id, uint32_t flags, const char* path) {
    File* f = make<RemoteFile>(id, flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY), path);
    if (!f) {
        Encoder e;
        e.u32(uint32_t(Op::Release));
        e.u64(id);
        (void)call_void(e);
        return Errno(ENOMEM);
    }
    return f;
}

Result<File*> remote_file_new(uint64_t id, uint32_t flags, const Resolved& r) {
    File* f = TRY(held_file_new(id, flags, r.path));
    if (flags & O_PATH)
        f->set_path_only();
    return f;
}

Result<File*> RemoteFs::open_as(Op op, const Resolved& r, uint32_t flags, uint32_t mode) {
    Encoder e;
    start(e, op);
    e.str(r.path);
    e.u32(uint32_t(r.rel - r.path));
    if (op == Op::Open)
        e.u32(r.exists);
    Credentials c = process_creds();
    put_fields(e, flags, mode, c.uid.fs, c.gid.fs);
    uint64_t id;
    uint32_t got = TRY(call(e, &id, sizeof(id)));
    if (got != sizeof(id))
        return Errno(EPROTO);
    return remote_file_new(id, flags, r);
}

Result<File*> RemoteFs::open(const Resolved& r, uint32_t flags, uint32_t mode) {
    return open_as(Op::Open, r, flags, mode);
}

Result<File*> RemoteFs::open_tmpfile(const Resolved& dir, uint32_t flags, uint32_t mode) {
    return open_as(Op::OpenTmpfile, dir, flags, mode);
}

Result<void> RemoteFs::link_file(File* f, const Stat& st, const char* rel) {
    if (f->kind() != FileKind::Remote)
        return Errno(EXDEV);
    Encoder e;
    start(e, Op::LinkFile);
    e.u64(static_cast<RemoteFile*>(f)->id());
    e.put(&st, sizeof(st));
    e.str(rel);
    return call_void(e);
}

// -- The leader's table of shared files ---------------------------------------------------

struct Holder {
    uint64_t member;
    uint64_t count;
};

struct Shared {
    Shared* next;
    uint64_t id;
    File* file;  // one reference, the table's
    Holder* holders;
    uint32_t holder_count, holder_cap;
};

constinit Spinlock g_table_lock{LockRank::SharedFiles};
Shared* g_table;
uint64_t g_next_id = 1;

Shared* find_locked(uint64_t id) {
    for (Shared* s = g_table; s; s = s->next)
        if (s->id == id)
            return s;
    return nullptr;
}

// The file `id` with a reference of the caller's, when `member` holds it.
Result<File*> file_of(uint64_t member, uint64_t id) {
    SpinGuard g(g_table_lock);
    Shared* s = find_locked(id);
    if (!s)
        return Errno(EBADF);
    for (uint32_t i = 0; i < s->holder_count; i++) {
        if (s->holders[i].member == member) {
            s->file->ref();
            return s->file;
        }
    }
    return Errno(EBADF);
}

struct FileRef {
    File* f;
    ~FileRef() { f->unref(); }
    File* operator->() const { return f; }
};

// One hold more of `s` for `member`. Allocates outside the lock; false when out of memory.
bool hold(uint64_t id, uint64_t member) {
    for (;;) {
        Holder* grown = nullptr;
        uint32_t want = 0;
        {
            SpinGuard g(g_table_lock);
            Shared* s = find_locked(id);
            if (!s)
                return false;
            for (uint32_t i = 0; i < s->holder_count; i++) {
                if (s->holders[i].member == member) {
                    s->holders[i].count++;
                    return true;
                }
            }
            if (s->holder_count < s->holder_cap) {
                s->holders[s->holder_count++] = Holder{member, 1};
                return true;
            }
            want = s->holder_cap ? 2 * s->holder_cap : 4;
        }
        grown = static_cast<Holder*>(kmalloc(want * sizeof(Holder)));
        if (!grown)
            return false;
        Holder* old = nullptr;
        {
            SpinGuard g(g_table_lock);
            Shared* s = find_locked(id);
            if (s && s->holder_cap < want) {
                memcpy(grown, s->holders, s->holder_count * sizeof(Holder));
                old = s->holders;
                s->holders = grown;
                s->holder_cap = want;
                grown = nullptr;
            }
        }
        kfree(old);
        kfree(grown);
    }
}

// Takes `s` out of the table when nobody holds it; returns it then (the caller frees it).
Shared* unlink_if_unheld_locked(Shared* s) {
    if (s->holder_count)
        return nullptr;
    for (Shared** link = &g_table; *link; link = &(*link)->next) {
        if (*link == s) {
            *link = s->next;
            return s;
        }
    }
    return nullptr;
}

void shared_free(Shared* s) {
    if (!s)
        return;
    s->file->unref();
    kfree(s->holders);
    kfree(s);
}

// Drops `count` holds of `member` on `id` (all of them with UINT64_MAX).
void release(uint64_t id, uint64_t member, uint64_t count) {
    Shared* gone = nullptr;
    {
        SpinGuard g(g_table_lock);
        Shared* s = find_locked(id);
        if (!s)
            return;
        for (uint32_t i = 0; i < s->holder_count; i++) {
            Holder& h = s->holders[i];
            if (h.member != member)
                continue;
            h.count = count >= h.count ? 0 : h.count - count;
            if (!h.count)
                h = s->holders[--s->holder_count];
            break;
        }
        gone = unlink_if_unheld_locked(s);
    }
    shared_free(gone);
}

// The id of the leader's file `f` in the table, entered with no holder when new.
Result<uint64_t> enter(File* f) {
    {
        SpinGuard g(g_table_lock);
        for (Shared* s = g_table; s; s = s->next)
            if (s->file == f)
                return s->id;
    }
    auto* s = static_cast<Shared*>(kzalloc(sizeof(Shared)));
    if (!s)
        return Errno(ENOMEM);
    f->ref();
    SpinGuard g(g_table_lock);
    s->file = f;
    s->id = g_next_id++;
    s->next = g_table;
    g_table = s;
    return s->id;
}

// A file the leader opened for `member`: entered and held once for it.
Result<uint64_t> enter_for(File* f, uint64_t member) {
    auto id = enter(f);
    f->unref();  // the table's reference (or nothing, on failure) is what is left
    if (!id.ok())
        return id.error();
    if (!hold(id.value(), member)) {
        release(id.value(), member, 0);  // frees the entry if nobody else holds it
        return Errno(ENOMEM);
    }
    return id.value();
}

// -- The leader's service ------------------------------------------------------------------

// The creator ids of a request, for the file it makes (permission.h).
class AsCreator {
public:
    AsCreator(uint32_t uid, uint32_t gid) { creator_override_set(uid, gid); }
    ~AsCreator() { creator_override_clear(); }
};

// A Resolved for the leader's own file system, from a member's path and where in it the
// mount-relative part starts. kfree it.
Result<Resolved*> resolved_from(const Mount* m, const char* path, uint32_t rel_at, bool exists) {
    size_t len = strlen(path);
    if (rel_at > len || len >= kPathMax)
        return Errno(EINVAL);
    auto* r = static_cast<Resolved*>(kzalloc(sizeof(Resolved)));
    if (!r)
        return Errno(ENOMEM);
    memcpy(r->path, path, len + 1);
    r->rel = r->path + rel_at;
    r->mount = m;
    r->exists = exists;
    r->last = LastKind::Normal;
    return r;
}

bool get_xattr_request(Decoder& d, XattrRequest* x, const uint8_t** value, size_t* value_size) {
    uint32_t op, flags, privileged;
    uint64_t size;
    const char* name;
    if (!d.u32(&op) || !d.str(&name, kXattrNameMax + 1) || !d.u32(&flags) || !d.u32(&privileged) || !d.u64(&size))
        return false;
    if (op < uint32_t(XattrOp::Get) || op > uint32_t(XattrOp::Remove) || size > kXattrSizeMax)
        return false;
    *x = XattrRequest{XattrOp(op), name[0] ? name : nullptr, nullptr, size_t(size), flags, privileged != 0};
    *value = nullptr;
    *value_size = 0;
    if (x->op == XattrOp::Set && !d.bytes(value, value_size, kXattrSizeMax))
        return false;
    return true;
}

// Runs an xattr request decoded from `d` through `apply`, answering as take_xattr reads.
template <typename Apply>
Result<void> serve_xattr(Decoder& d, Encoder& reply, Apply apply) {
    XattrRequest x;
    const uint8_t* value;
    size_t value_size;
    if (!get_xattr_request(d, &x, &value, &value_size) || !d.finished())
        return Errno(EINVAL);
    void* buf = nullptr;
    if (x.op == XattrOp::Set) {
        x.value = const_cast<uint8_t*>(value);
        x.size = value_size;
    } else if (x.size) {
        buf = kmalloc(x.size);
        if (!buf)
            return Errno(ENOMEM);
        x.value = buf;
    }
    HeapGuard guard{buf};
    size_t len = TRY(apply(x));
    reply.u64(len);
    if (buf && len <= x.size)
        reply.put(buf, len);
    return {};
}

Result<void> serve_mount(uint64_t member, Op op, Decoder& d, Encoder& reply) {
    uint32_t index;
    if (!d.u32(&index))
        return Errno(EINVAL);
    const Mount* m = vfs_mount_at(index);
    if (!m || index >= 64 || !(g_served & (1ull << index)))
        return Errno(EINVAL);
    FileSystem* fs = m->fs;
    const char *rel, *to;
    uint32_t mode, uid, gid, flags, rel_at, exists;
    uint64_t u, v;
    switch (op) {
    case Op::Lookup: {
        if (!d.str(&rel, kPathMax) || !d.finished())
            return Errno(EINVAL);
        bool there = false;
        Stat st{};
        TRY(fs->lookup(rel, &there, &st));
        reply.u32(there);
        reply.put(&st, sizeof(st));
        return {};
    }
    case Op::Readlink: {
        if (!d.str(&rel, kPathMax) || !d.u64(&u) || !d.finished() || u > kPathMax)
            return Errno(EINVAL);
        char* buf = static_cast<char*>(kmalloc(u ? size_t(u) : 1));
        if (!buf)
            return Errno(ENOMEM);
        HeapGuard guard{buf};
        size_t n = TRY(fs->readlink(rel, buf, size_t(u)));
        reply.put(buf, n);
        return {};
    }
    case Op::Open:
    case Op::OpenTmpfile: {
        const char* path;
        exists = 0;
        if (!d.str(&path, kPathMax) || !d.u32(&rel_at) || (op == Op::Open && !d.u32(&exists)) || !d.u32(&flags) ||
            !d.u32(&mode) || !d.u32(&uid) || !d.u32(&gid) || !d.finished())
            return Errno(EINVAL);
        Resolved* r = TRY(resolved_from(m, path, rel_at, exists != 0));
        HeapGuard guard{r};
        if (op == Op::Open && !(flags & O_PATH)) {
            // The service never waits for a FIFO's other end (see remote.h).
            bool there = false;
            Stat st{};
            if (fs->lookup(r->rel, &there, &st).ok() && there && (st.mode & S_IFMT) == S_IFIFO) {
                log_warning("%s: a FIFO on a tmpfs mount opens only in the instance's first process yet", path);
                return Errno(ENXIO);
            }
        }
        File* f;
        {
            AsCreator as(uid, gid);
            f = op == Op::Open ? TRY(fs->open(*r, flags, mode)) : TRY(fs->open_tmpfile(*r, flags, mode));
        }
        f->set_mount(m);
        reply.u64(TRY(enter_for(f, member)));
        return {};
    }
    case Op::Mkdir:
        if (!d.str(&rel, kPathMax) || !d.u32(&mode) || !d.u32(&uid) || !d.u32(&gid) || !d.finished())
            return Errno(EINVAL);
        {
            AsCreator as(uid, gid);
            return fs->mkdir(rel, mode);
        }
    case Op::Unlink:
    case Op::Rmdir:
        if (!d.str(&rel, kPathMax) || !d.finished())
            return Errno(EINVAL);
        return op == Op::Unlink ? fs->unlink(rel) : fs->rmdir(rel);
    case Op::Rename:
        if (!d.str(&rel, kPathMax) || !d.str(&to, kPathMax) || !d.u32(&flags) || !d.finished())
            return Errno(EINVAL);
        return fs->rename(rel, to, flags);
    case Op::Link:
        if (!d.str(&rel, kPathMax) || !d.str(&to, kPathMax) || !d.finished())
            return Errno(EINVAL);
        return fs->link(rel, to);
    case Op::LinkFile: {
        Stat st;
        if (!d.u64(&u) || !d.get(&st, sizeof(st)) || !d.str(&rel, kPathMax) || !d.finished())
            return Errno(EINVAL);
        FileRef f{TRY(file_of(member, u))};
        return fs->link_file(f.f, st, rel);
    }
    case Op::Symlink:
        if (!d.str(&to, kPathMax) || !d.str(&rel, kPathMax) || !d.u32(&uid) || !d.u32(&gid) || !d.finished())
            return Errno(EINVAL);
        {
            AsCreator as(uid, gid);
            return fs->symlink(to, rel);
        }
    case Op::Mknod:
        if (!d.str(&rel, kPathMax) || !d.u32(&mode) || !d.u64(&u) || !d.u32(&uid) || !d.u32(&gid) ||
            !d.finished())
            return Errno(EINVAL);
        {
            AsCreator as(uid, gid);
            return fs->mknod(rel, mode, u);
        }
    case Op::Chmod:
        if (!d.str(&rel, kPathMax) || !d.u32(&mode) || !d.finished())
            return Errno(EINVAL);
        return fs->chmod(rel, mode);
    case Op::Chown:
        if (!d.str(&rel, kPathMax) || !d.u32(&uid) || !d.u32(&gid) || !d.finished())
            return Errno(EINVAL);
        return fs->chown(rel, uid, gid);
    case Op::Truncate:
        if (!d.str(&rel, kPathMax) || !d.u64(&u) || !d.finished())
            return Errno(EINVAL);
        return fs->truncate(rel, u);
    case Op::Utimens:
        if (!d.str(&rel, kPathMax) || !d.u64(&u) || !d.u64(&v) || !d.finished())
            return Errno(EINVAL);
        return fs->utimens(rel, int64_t(u), int64_t(v));
    case Op::Xattr:
        if (!d.str(&rel, kPathMax))
            return Errno(EINVAL);
        return serve_xattr(d, reply, [&](const XattrRequest& x) { return fs->xattr(rel, x); });
    case Op::Statfs: {
        if (!d.str(&rel, kPathMax) || !d.finished())
            return Errno(EINVAL);
        StatFs out{};
        TRY(rel[0] ? fs->statfs_at(rel, &out) : fs->statfs(&out));
        reply.put(&out, sizeof(out));
        return {};
    }
    case Op::Sync:
        if (!d.finished())
            return Errno(EINVAL);
        return fs->sync();
    default: return Errno(EINVAL);
    }
}

// Applies the status flags a request carries to the shared description.
void take_status(File* f, uint32_t status) {
    f->set_flags((f->flags() & ~kStatusFlags) | (status & kStatusFlags));
}

Result<void> serve_file(uint64_t member, Op op, Decoder& d, Encoder& reply, PalHandle** pass) {
    uint64_t id;
    if (!d.u64(&id))
        return Errno(EINVAL);
    if (op == Op::Hold) {
        uint64_t for_member;
        if (!d.u64(&for_member) || !d.finished())
            return Errno(EINVAL);
        FileRef f{TRY(file_of(member, id))};  // only a holder passes a file on
        return hold(id, for_member) ? Result<void>() : Errno(ENOMEM);
    }
    if (op == Op::Release) {
        if (!d.finished())
            return Errno(EINVAL);
        release(id, member, 1);
        return {};
    }
    if (op == Op::Claim) {
        uint32_t take;
        if (!d.u32(&take) || !d.finished())
            return Errno(EINVAL);
        FileRef f{TRY(file_of(kRemoteInFlight, id))};
        if (!hold(id, member))
            return Errno(ENOMEM);
        if (take)
            release(id, kRemoteInFlight, 1);
        return {};
    }
    FileRef f{TRY(file_of(member, id))};
    uint32_t status, mode, uid, gid;
    uint64_t u, v, w;
    switch (op) {
    case Op::Read:
    case Op::Pread: {
        if (!d.u32(&status) || !d.u64(&u) || (op == Op::Pread && !d.u64(&v)) || !d.finished() ||
            u > ipc::kMaxData)
            return Errno(EINVAL);
        auto* buf = static_cast<uint8_t*>(kmalloc(u ? size_t(u) : 1));
        if (!buf)
            return Errno(ENOMEM);
        HeapGuard guard{buf};
        take_status(f.f, status);
        size_t n = op == Op::Read ? TRY(f->read(IoBuf::kernel(buf), size_t(u)))
                                  : TRY(f->pread(IoBuf::kernel(buf), size_t(u), v));
        reply.put(buf, n);
        return {};
    }
    case Op::Write:
    case Op::Pwrite: {
        const uint8_t* data;
        size_t size;
        if (!d.u32(&status) || (op == Op::Pwrite && !d.u64(&v)) || !d.bytes(&data, &size, ipc::kMaxData) ||
            !d.finished())
            return Errno(EINVAL);
        take_status(f.f, status);
        size_t n = op == Op::Write ? TRY(f->write(IoBuf::kernel(data), size))
                                   : TRY(f->pwrite(IoBuf::kernel(data), size, v));
        reply.u64(n);
        return {};
    }
    case Op::Seek:
        if (!d.u64(&u) || !d.u32(&mode) || !d.finished())
            return Errno(EINVAL);
        reply.u64(uint64_t(TRY(f->seek(int64_t(u), int(mode)))));
        return {};
    case Op::Stat: {
        if (!d.finished())
            return Errno(EINVAL);
        Stat st{};
        TRY(f->stat(&st));
        reply.put(&st, sizeof(st));
        return {};
    }
    case Op::Getdents: {
        if (!d.u64(&u) || !d.finished() || u > ipc::kMaxData)
            return Errno(EINVAL);
        auto* buf = static_cast<uint8_t*>(kmalloc(u ? size_t(u) : 1));
        if (!buf)
            return Errno(ENOMEM);
        HeapGuard guard{buf};
        size_t n = TRY(f->getdents64(buf, size_t(u)));
        reply.put(buf, n);
        return {};
    }
    case Op::Fsync:
        if (!d.u32(&mode) || !d.finished())
            return Errno(EINVAL);
        return mode ? f->datasync() : f->sync();
    case Op::Ftruncate:
        if (!d.u64(&u) || !d.finished())
            return Errno(EINVAL);
        return f->truncate(u);
    case Op::Allocate:
        if (!d.u32(&mode) || !d.u64(&u) || !d.u64(&w) || !d.finished())
            return Errno(EINVAL);
        return f->allocate(int(mode), u, w);
    case Op::Fchmod:
        if (!d.u32(&mode) || !d.finished())
            return Errno(EINVAL);
        return f->chmod(mode);
    case Op::Fchown:
        if (!d.u32(&uid) || !d.u32(&gid) || !d.finished())
            return Errno(EINVAL);
        return f->chown(uid, gid);
    case Op::Futimens:
        if (!d.u64(&u) || !d.u64(&v) || !d.finished())
            return Errno(EINVAL);
        return f->utimens(int64_t(u), int64_t(v));
    case Op::Fxattr: return serve_xattr(d, reply, [&](const XattrRequest& x) { return f->xattr(x); });
    case Op::ReadableBytes:
        if (!d.finished())
            return Errno(EINVAL);
        reply.u64(TRY(f->readable_bytes()));
        return {};
    case Op::MapHandle:
        if (!d.finished())
            return Errno(EINVAL);
        *pass = TRY(f->map_handle());
        return {};
    default: return Errno(EINVAL);
    }
}

}  // namespace

Result<FileSystem*> shared_tmpfs_create(unsigned index) {
    if (index >= 64)
        return Errno(ENOMEM);
    FileSystem* fs;
    if (ipc::is_leader()) {
        fs = TRY(tmpfs_create());
    } else {
        fs = make<RemoteFs>(index);
        if (!fs)
            return Errno(ENOMEM);
    }
    g_served |= 1ull << index;
    return fs;
}

bool remote_served_mount(const Mount* m) {
    int i = vfs_mount_index(m);
    return i >= 0 && i < 64 && ((g_served >> i) & 1);
}

Result<uint64_t> remote_share(File* f, uint64_t child_member) {
    if (f->kind() == FileKind::Remote) {
        uint64_t id = static_cast<RemoteFile*>(f)->id();
        Encoder e;
        e.u32(uint32_t(Op::Hold));
        e.u64(id);
        e.u64(child_member);
        TRY(call_void(e));
        return id;
    }
    if (!ipc::is_leader() || !remote_served_mount(f->mount()))
        return uint64_t(0);
    uint64_t id = TRY(enter(f));
    if (!hold(id, child_member)) {
        release(id, child_member, 0);
        return Errno(ENOMEM);
    }
    return id;
}

Result<File*> remote_adopt(uint64_t id, uint32_t flags, unsigned mount_index, const char* path) {
    const Mount* m = vfs_mount_at(mount_index);
    if (ipc::is_leader() || !m || mount_index >= 64 || !(g_served & (1ull << mount_index)))
        return Errno(EINVAL);
    File* f = make<RemoteFile>(id, flags, path);
    if (!f)
        return Errno(ENOMEM);
    f->set_mount(m);
    return f;
}

Result<File*> remote_claim(uint64_t id, uint32_t flags, unsigned mount_index, const char* path, bool take) {
    if (ipc::is_leader()) {
        // The leader's own file: the one description every holder shares.
        File* f = TRY(file_of(kRemoteInFlight, id));
        if (take)
            release(id, kRemoteInFlight, 1);
        return f;
    }
    const Mount* m = vfs_mount_at(mount_index);
    if (!m || mount_index >= 64 || !(g_served & (1ull << mount_index)))
        return Errno(EINVAL);
    Encoder e;
    e.u32(uint32_t(Op::Claim));
    e.u64(id);
    e.u32(take);
    TRY(call_void(e));
    File* f = TRY(held_file_new(id, flags, path));
    f->set_mount(m);
    return f;
}

Result<void> remote_serve(uint64_t member, const uint8_t* request, size_t size, Encoder& reply, PalHandle** pass) {
    Decoder d(request, size);
    uint32_t op;
    if (!d.u32(&op))
        return Errno(EINVAL);
    *pass = nullptr;
    if (op >= uint32_t(Op::Hold))
        return serve_file(member, Op(op), d, reply, pass);
    return serve_mount(member, Op(op), d, reply);
}

void remote_member_gone(uint64_t member) {
    for (;;) {
        uint64_t id = 0;
        {
            SpinGuard g(g_table_lock);
            for (Shared* s = g_table; s && !id; s = s->next)
                for (uint32_t i = 0; i < s->holder_count && !id; i++)
                    if (s->holders[i].member == member)
                        id = s->id;
        }
        if (!id)
            return;
        release(id, member, UINT64_MAX);
    }
}

}  // namespace carbyne::libos::fs
