// The pseudo file system framework (pseudo.h): path walking over a node tree, the files
// and directories it opens, and the mounting of /proc, /dev and /sys.
#include "pseudo.h"

#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/fcntl.h>
#include <stdarg.h>

#include "../proc/process.h"
#include "remote.h"

namespace carbyne::libos::fs::pseudo {

// --- Text -------------------------------------------------------------------------------

Text::~Text() { kfree(m_data); }

char* Text::reserve(size_t size) {
    if (m_failed)
        return nullptr;
    if (m_data && m_capacity - m_size >= size)
        return m_data + m_size;
    size_t want = m_capacity ? m_capacity : 256;
    while (want - m_size < size) {
        if (want > (size_t(1) << 40)) {
            m_failed = true;
            return nullptr;
        }
        want *= 2;
    }
    auto* data = static_cast<char*>(kmalloc(want));
    if (!data) {
        m_failed = true;
        return nullptr;
    }
    if (m_size)
        memcpy(data, m_data, m_size);
    kfree(m_data);
    m_data = data;
    m_capacity = want;
    return m_data + m_size;
}

void Text::append(const char* s, size_t size) {
    char* at = reserve(size);
    if (!at)
        return;
    memcpy(at, s, size);
    m_size += size;
}

void Text::puts(const char* s) { append(s, strlen(s)); }

void Text::print(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    va_list again;
    va_copy(again, args);
    // First into the room there is; when that is too small, once more with enough room.
    size_t room = m_capacity - m_size;
    size_t len = vformat(room ? m_data + m_size : nullptr, room, fmt, args);
    if (len >= room) {
        char* at = reserve(len + 1);
        if (at)
            vformat(at, len + 1, fmt, again);
    }
    if (!m_failed)
        m_size += len;
    va_end(again);
    va_end(args);
}

Result<void> Text::status() const {
    if (m_failed)
        return Errno(ENOMEM);
    return {};
}

char* Text::release() {
    char* p = m_data;
    m_data = nullptr;
    m_size = m_capacity = 0;
    return p;
}

namespace {

constexpr uint8_t kDtChr = 2, kDtDir = 4, kDtReg = 8, kDtLnk = 10;
constexpr size_t kDynSlack = 64;

uint64_t g_start_boottime_ns;
int64_t g_start_realtime_ns;

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[];
};

// The inode number of `node` reached with `ctx`. Nodes are constant data in libos.so, at
// least 8 bytes apart: their offset in the image / 8 tells them apart (libos.so is far
// below the 8 MiB this leaves room for); the numbers of the Ctx keep the copies of a
// template apart (pid and tid up to 65535, as pid_max 32768 promises; fd below 2047).
uint64_t ino_of(const Node* node, const Ctx& ctx) {
    uint64_t key = ((uint64_t(uintptr_t(node)) - g_boot->libos_start) >> 3) & 0xfffff;
    uint64_t outer = ctx.pid ? uint64_t(ctx.pid) : uint64_t(ctx.cpu + 1);
    return (key + 1) | (uint64_t(ctx.fd + 1) & 0x7ff) << 20 | (uint64_t(ctx.tid) & 0xffff) << 31 |
           (outer & 0xffff) << 47;
}

uint32_t type_bits(Kind k) {
    switch (k) {
    case Kind::Dir: return S_IFDIR;
    case Kind::File: return S_IFREG;
    case Kind::Symlink: return S_IFLNK;
    case Kind::Device: return S_IFCHR;
    }
    return 0;
}

uint8_t dtype_of(Kind k) {
    switch (k) {
    case Kind::Dir: return kDtDir;
    case Kind::File: return kDtReg;
    case Kind::Symlink: return kDtLnk;
    case Kind::Device: return kDtChr;
    }
    return 0;
}

void set_slot(Ctx* ctx, Slot slot, int id) {
    switch (slot) {
    case Slot::Pid: ctx->pid = id; break;
    case Slot::Tid: ctx->tid = id; break;
    case Slot::Fd: ctx->fd = id; break;
    case Slot::Cpu: ctx->cpu = id; break;
    case Slot::Pty: ctx->pty = id; break;
    }
}

// Parses a dynamic entry's name: prefix, then a canonical decimal number (no sign, no
// leading zero) that fits an int.
bool parse_dyn_name(const DynEntries* dyn, const char* name, size_t len, int* out) {
    size_t plen = strlen(dyn->prefix);
    if (len <= plen || strncmp(name, dyn->prefix, plen) != 0)
        return false;
    name += plen;
    len -= plen;
    if (len > 10 || (len > 1 && name[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + uint64_t(name[i] - '0');
    }
    if (v > 0x7fffffff)
        return false;
    *out = int(v);
    return true;
}

// Where a path leads in a tree.
struct Walked {
    const Node* node;  // nullptr when the last component does not exist
    Ctx ctx;
    const Node* parent;
    Ctx parent_ctx;
};

void walk(const Node* root, const char* rel, Walked* out) {
    const Node* cur = root;
    Ctx ctx;
    const Node* parent = root;
    Ctx parent_ctx;
    const char* p = rel;
    while (*p && cur) {
        const char* start = p;
        while (*p && *p != '/')
            p++;
        size_t len = size_t(p - start);
        if (*p == '/')
            p++;
        parent = cur;
        parent_ctx = ctx;
        if (cur->kind != Kind::Dir) {
            cur = nullptr;
            break;
        }
        const Node* next = nullptr;
        for (uint16_t i = 0; i < cur->child_count; i++) {
            const Node& c = cur->children[i];
            if (strncmp(c.name, start, len) == 0 && c.name[len] == '\0') {
                next = &c;
                break;
            }
        }
        int id;
        if (!next && cur->dyn && parse_dyn_name(cur->dyn, start, len, &id) && cur->dyn->exists(ctx, id)) {
            set_slot(&ctx, cur->dyn->slot, id);
            next = cur->dyn->node;
        }
        cur = next;
    }
    out->node = *p ? nullptr : cur;  // a missing directory on the way: nothing
    out->ctx = ctx;
    out->parent = parent;
    out->parent_ctx = parent_ctx;
}

size_t dyn_count(const DynEntries* dyn, const Ctx& ctx) { return dyn->list(ctx, nullptr, 0); }

void node_stat(const FsInfo* info, const Node* node, const Ctx& ctx, Stat* out) {
    *out = Stat{};
    uint32_t perm = node->perm_of ? node->perm_of(ctx) : node->perm;
    out->mode = type_bits(node->kind) | perm;
    out->ino = ino_of(node, ctx);
    out->dev = info->dev;
    out->rdev = node->rdev;
    out->nlink = 1;
    if (node->kind == Kind::Dir) {
        // Linux counts ".", the entry in the parent and each subdirectory's "..".
        out->nlink = 2;
        for (uint16_t i = 0; i < node->child_count; i++)
            out->nlink += node->children[i].kind == Kind::Dir;
        if (node->dyn && node->dyn->node->kind == Kind::Dir)
            out->nlink += dyn_count(node->dyn, ctx);
    }
    out->size = node->size;
    if (node->kind == Kind::Symlink && !node->generate && node->text)
        out->size = strlen(node->text);
    out->blksize = 4096;
    // What belongs to the process is owned by its user, the rest by root.
    if (ctx.pid) {
        out->uid = g_process.uid;
        out->gid = g_process.gid;
    }
    out->atime_ns = out->mtime_ns = out->ctime_ns = g_start_realtime_ns;
    if (node->stat_of)
        node->stat_of(ctx, out);
}

Result<void> generate(const Node* node, const Ctx& ctx, Text* out) {
    if (node->generate)
        TRY(node->generate(ctx, out));
    else if (node->text)
        out->puts(node->text);
    return out->status();
}

// A file whose content was generated at open.
class TextFile final : public NodeFile {
public:
    TextFile(uint32_t flags, const char* path, const Stat& st, char* data, size_t size, Errno write_error,
             const Node* node, const Ctx& ctx)
        : NodeFile(flags, path, st), m_data(data), m_size(size), m_write_error(write_error), m_node(node),
          m_ctx(ctx) {}
    ~TextFile() override { kfree(m_data); }

    Result<size_t> read(IoBuf buf, size_t size) override {
        uint64_t pos = position();
        size_t done = TRY(pread(buf, size, pos));
        SpinGuard g(m_lock);
        if (m_pos == pos)
            m_pos = pos + done;
        return done;
    }
    // The content never changes after open: no lock is needed to copy it out.
    Result<size_t> pread(IoBuf buf, size_t size, uint64_t offset) override {
        if (offset >= m_size)
            return size_t{0};
        size_t n = m_size - offset < size ? size_t(m_size - offset) : size;
        TRY(io_copy_out(buf, m_data + offset, n));
        return n;
    }
    Result<size_t> write(IoBuf buf, size_t size) override { return pwrite(buf, size, 0); }
    // A store method takes one write of at most a page (Linux's simple_write_to_buffer for
    // these files); the offset does not matter.
    Result<size_t> pwrite(IoBuf buf, size_t size, uint64_t) override {
        if (!m_node->store)
            return m_write_error;
        char data[512];
        size_t n = size < sizeof(data) ? size : sizeof(data);
        TRY(io_copy_in(data, buf, n));
        TRY(m_node->store(m_ctx, data, n));
        return size;
    }
    // SEEK_END is relative to the snapshot's end. (Linux's seq_file files answer EINVAL
    // there; a program written for Linux handles both.)
    Result<int64_t> seek(int64_t offset, int whence) override {
        SpinGuard g(m_lock);
        int64_t base = whence == 0 ? 0 : whence == 1 ? int64_t(m_pos) : whence == 2 ? int64_t(m_size) : -1;
        if (base < 0)
            return Errno(EINVAL);
        int64_t target;
        if (__builtin_add_overflow(base, offset, &target))
            return Errno(EOVERFLOW);
        if (target < 0)
            return Errno(EINVAL);
        m_pos = uint64_t(target);
        return target;
    }
    Result<uint64_t> readable_bytes() override {
        uint64_t pos = position();
        return pos < m_size ? m_size - pos : 0;
    }

private:
    uint64_t position() {
        SpinGuard g(m_lock);
        return m_pos;
    }

    char* m_data;
    size_t m_size;
    Errno m_write_error;
    const Node* m_node;
    Ctx m_ctx;
    // FIXME: two threads reading one description at once may read the same bytes; Linux
    // serialises them with f_pos_lock (needs a sleeping lock).
    uint64_t m_pos = 0;
};

// A directory: ".", "..", the fixed entries in tree order, then the numbered ones.
// A position is 0 and 1 for the dots, 2 + i for fixed entry i, and 2 + count + n for the
// numbered entry n, so that a number that appears or goes between two calls moves no
// other entry (as Linux's /proc/<pid>/fd does).
class DirFile final : public NodeFile {
public:
    DirFile(uint32_t flags, const char* path, const Stat& st, const FsInfo* info, const Node* node, const Ctx& ctx,
            uint64_t parent_ino)
        : NodeFile(flags, path, st), m_info(info), m_node(node), m_ctx(ctx), m_parent_ino(parent_ino) {}

    Result<size_t> read(IoBuf, size_t) override { return Errno(EISDIR); }
    Result<size_t> write(IoBuf, size_t) override { return Errno(EISDIR); }
    Result<size_t> pread(IoBuf, size_t, uint64_t) override { return Errno(EISDIR); }
    Result<size_t> pwrite(IoBuf, size_t, uint64_t) override { return Errno(EISDIR); }

    Result<int64_t> seek(int64_t offset, int whence) override {
        SpinGuard g(m_lock);
        int64_t base = whence == 0 ? 0 : whence == 1 ? int64_t(m_pos) : -1;
        if (base < 0)
            return Errno(EINVAL);
        int64_t target;
        if (__builtin_add_overflow(base, offset, &target) || target < 0)
            return Errno(EINVAL);
        m_pos = uint64_t(target);
        return target;
    }

    // FIXME: one reader at a time, as HostDir (Linux serialises with f_pos_lock).
    Result<size_t> getdents64(void* out, size_t size) override {
        uint64_t pos;
        {
            SpinGuard g(m_lock);
            pos = m_pos;
        }
        auto* dst = static_cast<uint8_t*>(out);
        size_t written = 0;
        const uint64_t fixed_end = 2 + uint64_t(m_node->child_count);
        bool full = false;
        // The dots and the fixed entries.
        while (pos < fixed_end && !full) {
            const char* name;
            uint64_t ino;
            uint8_t type = kDtDir;
            if (pos < 2) {
                name = pos == 0 ? "." : "..";
                ino = pos == 0 ? m_stat.ino : m_parent_ino;
            } else {
                const Node& c = m_node->children[pos - 2];
                name = c.name;
                ino = ino_of(&c, m_ctx);
                type = dtype_of(c.kind);
            }
            if (!put(dst, size, &written, name, ino, type, pos + 1, &full))
                pos++;
        }
        // The numbered entries.
        if (!full && m_node->dyn) {
            const DynEntries* dyn = m_node->dyn;
            // As many as there are now, with room for a few more made meanwhile.
            size_t room = dyn->list(m_ctx, nullptr, 0) + kDynSlack;
            auto* ids = static_cast<int*>(kmalloc(room * sizeof(int)));
            if (!ids)
                return written ? Result<size_t>(written) : Result<size_t>(Errno(ENOMEM));
            size_t count = dyn->list(m_ctx, ids, room);
            if (count > room)
                count = room;
            for (size_t i = 0; i < count && !full; i++) {
                if (uint64_t(ids[i]) + fixed_end < pos)
                    continue;
                char name[kNameMax + 1];
                format(name, sizeof(name), "%s%d", dyn->prefix, ids[i]);
                Ctx c = m_ctx;
                set_slot(&c, dyn->slot, ids[i]);
                uint64_t next = fixed_end + uint64_t(ids[i]) + 1;
                if (!put(dst, size, &written, name, ino_of(dyn->node, c), dtype_of(dyn->node->kind), next, &full))
                    pos = next;
            }
            kfree(ids);
            if (!full)
                pos = UINT64_MAX / 2;  // the end: later numbers are not listed by this pass
        }
        if (!written && full)
            return Errno(EINVAL);  // the buffer cannot hold one entry
        SpinGuard g(m_lock);
        m_pos = pos;
        return written;
    }

private:
    // Appends one record; false (and *full) when it does not fit.
    static bool put(uint8_t* dst, size_t size, size_t* written, const char* name, uint64_t ino, uint8_t type,
                    uint64_t next, bool* full) {
        size_t name_size = strlen(name) + 1;
        size_t rec = (offsetof(linux_dirent64, d_name) + name_size + 7) & ~size_t(7);
        if (*written + rec > size) {
            *full = true;
            return true;
        }
        auto* d = reinterpret_cast<linux_dirent64*>(dst + *written);
        d->d_ino = ino;
        d->d_off = int64_t(next);
        d->d_reclen = uint16_t(rec);
        d->d_type = type;
        memcpy(d->d_name, name, name_size);
        *written += rec;
        return false;
    }

    const FsInfo* m_info;
    const Node* m_node;
    Ctx m_ctx;
    uint64_t m_parent_ino;
    uint64_t m_pos = 0;
};

class PseudoFs final : public FileSystem {
public:
    explicit PseudoFs(const FsInfo* info) : m_info(info) {}

    const char* type_name() const override { return m_info->type; }

    Result<void> lookup(const char* rel, bool* exists, Stat* st) override {
        Walked w;
        walk(m_info->root, rel, &w);
        *exists = w.node != nullptr;
        if (w.node)
            node_stat(m_info, w.node, w.ctx, st);
        return {};
    }

    bool magic_link(const char* rel, int* fd) override {
        Walked w;
        walk(m_info->root, rel, &w);
        bool magic = w.node && w.node->kind == Kind::Symlink && w.node->magic;
        *fd = magic ? w.ctx.fd : -1;
        return magic;
    }

    Result<size_t> readlink(const char* rel, char* buf, size_t size) override {
        Walked w;
        walk(m_info->root, rel, &w);
        if (!w.node)
            return Errno(ENOENT);
        if (w.node->kind != Kind::Symlink)
            return Errno(EINVAL);
        Text target;
        TRY(generate(w.node, w.ctx, &target));
        size_t n = target.size() < size ? target.size() : size;
        memcpy(buf, target.data(), n);
        return n;
    }

    Result<File*> open(const Resolved& r, uint32_t flags, uint32_t mode) override;

    Result<void> mkdir(const char* rel, uint32_t) override { return create_error(rel); }
    Result<void> symlink(const char*, const char* rel) override { return create_error(rel); }
    Result<void> mknod(const char* rel, uint32_t, uint64_t) override { return create_error(rel); }
    Result<void> link(const char* from, const char* to) override {
        TRY(must_exist(from));
        return create_error(to);
    }
    Result<void> rename(const char* from, const char* to, uint32_t) override {
        TRY(must_exist(from));
        if (!exists(to))
            return m_info->create_error;
        return Errno(EPERM);
    }
    Result<void> unlink(const char* rel) override {
        TRY(must_exist(rel));
        return Errno(EPERM);
    }
    Result<void> rmdir(const char* rel) override {
        TRY(must_exist(rel));
        return Errno(EPERM);
    }

    Result<void> statfs(StatFs* out) override {
        *out = StatFs{m_info->magic, 4096, 0, 0, 0, 0, 0, kNameMax, 0};
        return {};
    }

private:
    bool exists(const char* rel) {
        Walked w;
        walk(m_info->root, rel, &w);
        return w.node != nullptr;
    }
    Result<void> must_exist(const char* rel) {
        if (!exists(rel))
            return Errno(ENOENT);
        return {};
    }
    // Creating a name: EEXIST when it is there; else what this file system answers
    // (ENOENT in /proc, whose lookups never make negative entries; EPERM in /sys).
    Result<void> create_error(const char* rel) {
        if (exists(rel))
            return Errno(EEXIST);
        return m_info->create_error;
    }

    const FsInfo* m_info;
};

Result<File*> PseudoFs::open(const Resolved& r, uint32_t flags, uint32_t) {
    Walked w;
    walk(m_info->root, r.rel, &w);
    if (!w.node)
        return (flags & O_CREAT) ? m_info->create_error : Errno(ENOENT);
    const Node* node = w.node;
    Stat st;
    node_stat(m_info, node, w.ctx, &st);
    uint32_t fflags = flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_PATH);
    uint32_t acc = flags & O_ACCMODE;
    bool path_only = (flags & O_PATH) != 0;
    bool wants_write = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);

    File* f = nullptr;
    if (node->kind == Kind::Dir) {
        uint64_t parent_ino = w.parent == node ? st.ino : ino_of(w.parent, w.parent_ctx);
        f = make<DirFile>(fflags, r.path, st, m_info, node, w.ctx, parent_ino);
    } else if (path_only || node->kind == Kind::Symlink) {
        f = make<NodeFile>(fflags, r.path, st);
    } else if (node->kind == Kind::Device) {
        f = TRY(node->open(fflags | (flags & O_NOCTTY), r.path, st));  // a terminal needs to know
    } else {
        if (wants_write && !(st.mode & 0222)) {
            // Root may open a read-only /proc file for writing (the write then fails); /sys
            // refuses an attribute that has no store method to everyone.
            if (m_info->strict_write || g_process.uid != 0)
                return Errno(EACCES);
        }
        Text text;
        TRY(generate(node, w.ctx, &text));
        size_t size = text.size();
        // Linux: EINVAL from the per-process files, EIO from the others (no write method).
        Errno write_error = (st.mode & 0222) ? Errno(EPERM) : w.ctx.pid ? Errno(EINVAL) : Errno(EIO);
        char* data = text.release();
        auto* tf = make<TextFile>(fflags, r.path, st, data, size, write_error, node, w.ctx);
        if (!tf)
            kfree(data);
        f = tf;
    }
    if (!f)
        return Errno(ENOMEM);
    if (path_only)
        f->set_path_only();
    return f;
}

}  // namespace

Result<FileSystem*> create(const FsInfo* info) {
    FileSystem* fs = make<PseudoFs>(info);
    if (!fs)
        return Errno(ENOMEM);
    return fs;
}

uint64_t start_boottime_ns() { return g_start_boottime_ns; }

void put_cpu_list(Text* out) {
    uint64_t n = g_boot->cpu_count ? g_boot->cpu_count : 1;
    if (n == 1)
        out->puts("0");
    else
        out->print("0-%lu", n - 1);
}

}  // namespace carbyne::libos::fs::pseudo

namespace carbyne::libos::fs {

Result<void> pseudofs_mount_all(const boot::Reader& config) {
    uint64_t ns = 0;
    if (g_pal->time_get(PAL_CLOCK_BOOTTIME, &ns) == PAL_OK)
        pseudo::g_start_boottime_ns = ns;
    if (g_pal->time_get(PAL_CLOCK_REALTIME, &ns) == PAL_OK)
        pseudo::g_start_realtime_ns = int64_t(ns);
    TRY(procfs_init(config));
    TRY(vfs_add_mount("/proc", TRY(pseudo::create(&g_procfs_info)), false, "proc"));
    TRY(vfs_add_mount("/dev", TRY(pseudo::create(&g_devfs_info)), false, "devtmpfs"));
    TRY(vfs_add_mount("/dev/shm", TRY(shared_tmpfs_create(vfs_mount_count())), false, "tmpfs"));
    TRY(vfs_add_mount("/sys", TRY(pseudo::create(&g_sysfs_info)), false, "sysfs"));
    return {};
}

}  // namespace carbyne::libos::fs
