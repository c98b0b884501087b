// A file as another process of the instance takes it (see file_record.h).
#include "file_record.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <linux/fcntl.h>

#include "../fs/dentry.h"
#include "../fs/file.h"
#include "../fs/remote.h"
#include "../fs/vfs.h"
#include "../net/eventfd.h"
#include "../net/pipe.h"
#include "../net/socket.h"

namespace carbyne::libos::ipc {

using ckpt::Decoder;
using ckpt::Encoder;

namespace {

// A host socket: one open file description in both processes; its host handle follows.
bool socket_export(fs::File* f, Encoder& e, PalHandle** pass) {
    auto host = f->share_host();
    if (!host.ok())
        return false;
    auto* s = static_cast<net::Socket*>(f);
    e.u32(uint32_t(FileKind::Socket));
    e.u32(uint32_t(s->family()));
    e.u32(uint32_t(s->type()));
    e.u32(uint32_t(s->protocol()));
    *pass = host.value();
    return true;
}

// A pipe's end: its pipe becomes shared by processes, the record names it and its side,
// and its host end follows. False (nothing written) when it cannot be.
bool pipe_export(fs::File* f, Encoder& e, PalHandle** pass) {
    uint64_t id;
    bool reads, writes;
    auto host = net::pipe_share_end(f, &id, &reads, &writes);
    if (!host.ok())
        return false;
    e.u32(uint32_t(FileKind::Pipe));
    e.u64(id);
    e.u32(reads);
    *pass = host.value();
    return true;
}

// A file that could not cross (fork's stand-in, see fork.cpp): closable and duplicable,
// its reads and writes fail with EIO.
class Unshared final : public fs::File {
public:
    Unshared(uint32_t flags, const char* name) : File(flags, name) {}
    Result<size_t> read(fs::IoBuf, size_t) override { return Errno(EIO); }
    Result<size_t> write(fs::IoBuf, size_t) override { return Errno(EIO); }
    uint32_t poll_events() override { return 0x8; }  // POLLERR
};

// Gives a file adopted from a host handle its mount and dentry, found by its path.
void name_file(fs::File* f, const char* path) {
    auto* r = static_cast<fs::Resolved*>(kmalloc(sizeof(fs::Resolved)));
    if (!r)
        return;
    if (fs::vfs_resolve("/", path, true, r).ok() && r->exists) {
        f->set_mount(r->mount);
        f->set_dentry(fs::dentry_get(r->path));
    }
    kfree(r);
}

// A record's host handle, closed again when the file cannot be made of it.
template <typename Make>
Result<fs::File*> adopt(HandleSource& handles, Make make) {
    PalHandle* host = TRY(handles.next());
    Result<fs::File*> made = make(host);
    if (!made.ok())
        g_pal->stream_close(host);
    return made;
}

}  // namespace

Result<fs::File*> file_open_path(const char* path, uint32_t flags) {
    auto* r = static_cast<fs::Resolved*>(kmalloc(sizeof(fs::Resolved)));
    if (!r)
        return Errno(ENOMEM);
    HeapGuard guard{r};
    TRY(fs::vfs_resolve("/", path, true, r));
    if (!r->exists)
        return Errno(ENOENT);
    return fs::vfs_open(*r, flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC), 0);
}

Result<void> file_export(fs::File* f, Encoder& e, PalHandle** pass, uint64_t receiver) {
    *pass = nullptr;
    if (f->kind() == fs::FileKind::Pipe && pipe_export(f, e, pass))
        return {};
    if (f->kind() == fs::FileKind::Socket && socket_export(f, e, pass))
        return {};
    if (f->kind() == fs::FileKind::EventFd) {
        *pass = TRY(f->share_host());
        e.u32(uint32_t(FileKind::EventFd));
        e.u32(net::eventfd_semaphore(f));
        return {};
    }
    if (f->console_index() >= 0) {
        e.u32(uint32_t(FileKind::Console));
        e.u32(uint32_t(f->console_index()));
        return {};
    }
    char* path = static_cast<char*>(kmalloc(fs::kPathMax));
    HeapGuard guard{path};
    if (!path)
        return Errno(ENOMEM);
    if (uint64_t id = TRY(fs::remote_share(f, receiver))) {
        // A file of a mount the leader serves: the leader holds it for the receiver too.
        auto len = f->path(path, fs::kPathMax);
        e.u32(uint32_t(FileKind::Remote));
        e.u64(id);
        e.u32(uint32_t(fs::vfs_mount_index(f->mount())));
        e.str(len.ok() ? path : "");
        return {};
    }
    bool deleted = false;
    auto len = f->path(path, fs::kPathMax, &deleted);
    if (f->kind() != fs::FileKind::Other || !len.ok() || path[0] != '/')
        return Errno(EOPNOTSUPP);
    if (auto host = f->share_host(); host.ok()) {
        // One open file description in both processes: the host's, offset and all (an
        // unlinked file too; its path then names it for /proc only).
        e.u32(uint32_t(FileKind::SharedFile));
        e.str(path);
        *pass = host.value();
        return {};
    }
    if (deleted)
        return Errno(EOPNOTSUPP);
    auto pos = f->seek(0, 1 /* SEEK_CUR */);
    e.u32(uint32_t(FileKind::Path));
    e.str(path);
    e.u64(pos.ok() ? uint64_t(pos.value()) : 0);
    return {};
}

Result<fs::File*> file_import(Decoder& d, uint32_t flags, bool path_only, HandleSource& handles, Arrival how) {
    uint32_t kind;
    if (!d.u32(&kind))
        return Errno(EINVAL);
    switch (FileKind(kind)) {
    case FileKind::Console: {
        uint32_t which;
        if (!d.u32(&which) || which > 2 || !d.finished())
            return Errno(EINVAL);
        return fs::console_open(PalConsole(which));
    }
    case FileKind::Path: {
        const char* path;
        uint64_t pos;
        if (!d.str(&path, fs::kPathMax) || !d.u64(&pos) || !d.finished())
            return Errno(EINVAL);
        fs::File* f = TRY(file_open_path(path, path_only ? (flags | O_PATH) : flags));
        f->set_flags(flags);
        (void)f->seek(int64_t(pos), 0 /* SEEK_SET */);
        return f;
    }
    case FileKind::Pipe: {
        uint64_t id;
        uint32_t reads;
        if (!d.u64(&id) || !d.u32(&reads) || !d.finished())
            return Errno(EINVAL);
        return adopt(handles, [&](PalHandle* host) { return net::pipe_end_adopt(id, reads != 0, reads == 0, flags, host); });
    }
    case FileKind::Socket: {
        uint32_t family, type, protocol;
        if (!d.u32(&family) || !d.u32(&type) || !d.u32(&protocol) || !d.finished())
            return Errno(EINVAL);
        return adopt(handles, [&](PalHandle* host) -> Result<fs::File*> {
            auto s = family == net::AF_UNIX ? net::unix_socket_adopt(int(type), flags, host)
                                            : net::inet_socket_adopt(int(family), int(type), int(protocol), flags, host);
            if (!s.ok())
                return s.error();
            return static_cast<fs::File*>(s.value());
        });
    }
    case FileKind::EventFd: {
        uint32_t semaphore;
        if (!d.u32(&semaphore) || !d.finished())
            return Errno(EINVAL);
        return adopt(handles, [&](PalHandle* host) { return net::eventfd_adopt(host, flags, semaphore != 0); });
    }
    case FileKind::SharedFile: {
        const char* path;
        if (!d.str(&path, fs::kPathMax) || !d.finished())
            return Errno(EINVAL);
        fs::File* f = TRY(adopt(handles, [&](PalHandle* host) { return fs::host_file_adopt(host, flags, path); }));
        name_file(f, path);
        return f;
    }
    case FileKind::Remote: {
        uint64_t id;
        uint32_t index;
        const char* path;
        if (!d.u64(&id) || !d.u32(&index) || !d.str(&path, fs::kPathMax) || !d.finished())
            return Errno(EINVAL);
        fs::File* f = TRY(how == Arrival::Fork ? fs::remote_adopt(id, flags, index, path)
                                               : fs::remote_claim(id, flags, index, path, how == Arrival::Message));
        if (path_only)
            f->set_path_only();
        if (path[0] && !f->dentry())
            f->set_dentry(fs::dentry_get(path));
        return f;
    }
    case FileKind::Unshared: {
        const char* name;
        if (!d.str(&name, fs::kPathMax) || !d.finished())
            return Errno(EINVAL);
        fs::File* f = make<Unshared>(flags, name);
        return f ? Result<fs::File*>(f) : Errno(ENOMEM);
    }
    case FileKind::Dup:  // the caller's to resolve
        break;
    }
    return Errno(EINVAL);
}

// -- SCM_RIGHTS between processes ---------------------------------------------------------
//
// The records travel in host shared memory passed as the message's first handle, so they
// stay with the bytes they came with and a peek reads them again: u32 magic, u32 count,
// then per file u32 status flags, u32 path-only and its record as a byte string (Dup: u32
// index of an earlier file of the message).

namespace {

constexpr uint32_t kPackMagic = 0x53444650;  // "PFDS"
constexpr size_t kMaxPack = 1 << 20;

struct ArraySource final : HandleSource {
    PalHandle** handles;
    size_t count, next_index = 1;  // [0] is the records
    Result<PalHandle*> next() override {
        if (next_index >= count)
            return Errno(EINVAL);
        PalHandle* h = handles[next_index];
        handles[next_index++] = nullptr;
        return h;
    }
};

// The index of the first of `files` that is `files[i]`.
size_t first_of(fs::File* const* files, size_t i) {
    for (size_t j = 0; j < i; j++)
        if (files[j] == files[i])
            return j;
    return i;
}

}  // namespace

Result<size_t> files_pack(fs::File* const* files, size_t count, PalHandle** handles, size_t cap) {
    if (cap < 1)
        return Errno(EINVAL);
    Encoder e;
    e.u32(kPackMagic);
    e.u32(uint32_t(count));
    size_t n = 1;
    for (size_t i = 0; i < count; i++) {
        fs::File* f = files[i];
        e.u32(f->flags());
        e.u32(f->is_path_only());
        Encoder rec;
        if (size_t first = first_of(files, i); first != i) {
            rec.u32(uint32_t(FileKind::Dup));
            rec.u32(uint32_t(first));
        } else {
            PalHandle* pass = nullptr;
            auto put = file_export(f, rec, &pass, fs::kRemoteInFlight);
            if (!put.ok()) {
                char name[96];
                auto len = f->path(name, sizeof(name));
                log_warning("SCM_RIGHTS: %s cannot be passed to another process yet", len.ok() ? name : "a file");
                return put.error();
            }
            if (pass) {
                if (n == cap)
                    return Errno(ETOOMANYREFS);
                handles[n++] = pass;
            }
        }
        if (!rec.ok())
            return Errno(ENOMEM);
        e.bytes(rec.data(), rec.size());
    }
    if (!e.ok())
        return Errno(ENOMEM);
    PalHandle* shm = nullptr;
    TRY(pal_result(g_pal->shm_create(e.size(), &shm)));
    size_t done = 0;
    PalError err = g_pal->stream_write(shm, 0, e.data(), e.size(), &done);
    if (err != PAL_OK || done != e.size()) {
        g_pal->stream_close(shm);
        return Errno(ENOMEM);
    }
    handles[0] = shm;
    return n;
}

namespace {

// Reads the records of a pack (handles[0]) into a new heap buffer (kfree it); *size its size.
Result<uint8_t*> pack_read(PalHandle* pack, size_t* size) {
    PalStreamAttr attrs;
    if (!pack || g_pal->stream_attributes(pack, &attrs) != PAL_OK || attrs.size > kMaxPack)
        return Errno(EINVAL);
    auto* data = static_cast<uint8_t*>(kmalloc(attrs.size ? attrs.size : 1));
    size_t got = 0;
    if (!data || g_pal->stream_read(pack, 0, data, attrs.size, &got) != PAL_OK || got != attrs.size) {
        kfree(data);
        return Errno(ENOMEM);
    }
    *size = got;
    return data;
}

// Calls each(flags, path_only, record) for every file of a pack; stops at its first error.
template <typename Each>
Result<void> pack_walk(const uint8_t* data, size_t size, size_t cap, Each each) {
    Decoder d(data, size);
    uint32_t magic, n;
    if (!d.u32(&magic) || magic != kPackMagic || !d.u32(&n) || n > cap)
        return Errno(EINVAL);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t flags, path_only;
        const uint8_t* rec_data;
        size_t rec_size;
        if (!d.u32(&flags) || !d.u32(&path_only) || !d.bytes(&rec_data, &rec_size, kMaxPack))
            return Errno(EINVAL);
        Decoder rec(rec_data, rec_size);
        TRY(each(flags, path_only != 0, rec));
    }
    return d.finished() ? Result<void>() : Errno(EINVAL);
}

}  // namespace

void files_pack_cancel(PalHandle** handles, size_t count) {
    size_t size = 0;
    auto data = count ? pack_read(handles[0], &size) : Result<uint8_t*>(Errno(EINVAL));
    if (data.ok()) {
        (void)pack_walk(data.value(), size, kMaxPassHandles, [](uint32_t flags, bool, Decoder& rec) -> Result<void> {
            uint32_t kind, index;
            uint64_t id;
            const char* path;
            if (rec.u32(&kind) && FileKind(kind) == FileKind::Remote && rec.u64(&id) && rec.u32(&index) &&
                rec.str(&path, fs::kPathMax))
                if (auto f = fs::remote_claim(id, flags, index, path, true); f.ok())
                    f.value()->unref();
            return {};
        });
        kfree(data.value());
    }
    if (count)
        g_pal->stream_close(handles[0]);
}

Result<size_t> files_unpack(PalHandle** handles, size_t count, Arrival how, fs::File** files, size_t cap) {
    ArraySource source;
    source.handles = handles;
    source.count = count;
    size_t nfiles = 0;
    size_t size = 0;
    auto data = count ? pack_read(handles[0], &size) : Result<uint8_t*>(Errno(EINVAL));
    Result<void> walked = data.ok() ? pack_walk(data.value(), size, cap, [&](uint32_t flags, bool path_only,
                                                                             Decoder& rec) -> Result<void> {
        Decoder dup = rec;
        uint32_t kind, first;
        if (dup.u32(&kind) && FileKind(kind) == FileKind::Dup) {
            if (!dup.u32(&first) || !dup.finished() || first >= nfiles)
                return Errno(EINVAL);
            files[first]->ref();
            files[nfiles++] = files[first];
            return {};
        }
        files[nfiles++] = TRY(file_import(rec, flags, path_only, source, how));
        return {};
    }) : Result<void>(data.error());
    if (data.ok())
        kfree(data.value());
    for (size_t i = 0; i < count; i++)
        if (handles[i])
            g_pal->stream_close(handles[i]);
    if (!walked.ok()) {
        for (size_t i = 0; i < nfiles; i++)
            files[i]->unref();
        return walked.error();
    }
    return nfiles;
}

}  // namespace carbyne::libos::ipc
