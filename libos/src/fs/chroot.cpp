// chroot mounts: a host directory shown through PAL streams. The LibOS walks the path and
// follows symlinks itself, so a link inside the mount cannot lead outside the manifest; the
// PAL resolves each path it is given beneath the mount's root handle and follows no symlink,
// so a host process that swaps a directory for a symlink behind the LibOS's back cannot
// either (pal.h: "Host paths").
// A host FIFO is never opened on the host: its ends meet in a LibOS pipe (fifo.h).
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/fcntl.h>

#include "fifo.h"
#include "vfs.h"
#include "xattr.h"

namespace carbyne::libos::fs {

namespace {

static_assert(uint32_t(XattrOp::Get) == PAL_XATTR_GET && uint32_t(XattrOp::Set) == PAL_XATTR_SET &&
              uint32_t(XattrOp::List) == PAL_XATTR_LIST && uint32_t(XattrOp::Remove) == PAL_XATTR_REMOVE);
static_assert(kXattrCreate == PAL_XATTR_CREATE && kXattrReplace == PAL_XATTR_REPLACE);

// The host's extended attributes, of `rel` beneath the root `base`, or of the open handle
// `base` (rel nullptr). trusted.* names are listed by the host as its credentials allow.
Result<size_t> host_xattr(PalHandle* base, const char* rel, const XattrRequest& req) {
    size_t done = 0;
    TRY(pal_result(g_pal->fs_xattr(base, rel, uint32_t(req.op), req.name, req.value, req.size, req.flags, &done)));
    return done;
}

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    uint16_t d_reclen;
    uint8_t d_type;
    char d_name[];
};

uint8_t dtype_of(PalStreamType t) {
    switch (t) {
    case PAL_TYPE_FILE: return 8;
    case PAL_TYPE_DIR: return 4;
    case PAL_TYPE_SYMLINK: return 10;
    case PAL_TYPE_CHARDEV:
    case PAL_TYPE_CONSOLE: return 2;
    case PAL_TYPE_BLOCKDEV: return 6;
    case PAL_TYPE_FIFO: return 1;
    case PAL_TYPE_SOCKET: return 12;
    default: return 0;
    }
}

// A host file (regular or device). The offset is the LibOS's, kept for fork and lseek.
class HostFile final : public File {
public:
    HostFile(PalHandle* h, uint32_t flags, const char* path, bool seekable)
        : File(flags, path), m_handle(h), m_seekable(seekable) {}
    ~HostFile() override { g_pal->stream_close(m_handle); }

    Result<size_t> read(IoBuf buf, size_t size) override {
        TRY(io_check(buf, size));
        size_t done = 0;
        if (!m_seekable || shared()) {
            TRY(pal_result(g_pal->stream_read(m_handle, PAL_NO_OFFSET, reinterpret_cast<void*>(buf.addr), size, &done)));
            return done;
        }
        uint64_t pos = position();
        TRY(pal_result(g_pal->stream_read(m_handle, pos, reinterpret_cast<void*>(buf.addr), size, &done)));
        advance(pos, done);
        return done;
    }

    Result<size_t> write(IoBuf buf, size_t size) override {
        TRY(io_check(buf, size));
        size_t done = 0;
        if (!m_seekable || shared()) {
            TRY(pal_result(g_pal->stream_write(m_handle, PAL_NO_OFFSET, reinterpret_cast<const void*>(buf.addr), size, &done)));
            return done;
        }
        if (flags() & O_APPEND) {
            // The host file is O_APPEND too: write at its end, then learn where that is.
            TRY(pal_result(g_pal->stream_write(m_handle, PAL_NO_OFFSET, reinterpret_cast<const void*>(buf.addr), size, &done)));
            PalStreamAttr attr;
            if (g_pal->stream_attributes(m_handle, &attr) == PAL_OK)
                with_pos([&] { m_pos = attr.size; });
            return done;
        }
        uint64_t pos = position();
        TRY(pal_result(g_pal->stream_write(m_handle, pos, reinterpret_cast<const void*>(buf.addr), size, &done)));
        advance(pos, done);
        return done;
    }

    Result<size_t> pread(IoBuf buf, size_t size, uint64_t offset) override {
        if (!m_seekable)
            return Errno(ESPIPE);
        TRY(io_check(buf, size));
        size_t done = 0;
        TRY(pal_result(g_pal->stream_read(m_handle, offset, reinterpret_cast<void*>(buf.addr), size, &done)));
        return done;
    }

    Result<size_t> pwrite(IoBuf buf, size_t size, uint64_t offset) override {
        if (!m_seekable)
            return Errno(ESPIPE);
        TRY(io_check(buf, size));
        size_t done = 0;
        TRY(pal_result(g_pal->stream_write(m_handle, offset, reinterpret_cast<const void*>(buf.addr), size, &done)));
        return done;
    }

    Result<int64_t> seek(int64_t offset, int whence) override {
        if (!m_seekable)
            return m_is_chardev ? Result<int64_t>(0) : Result<int64_t>(Errno(ESPIPE));
        if (shared()) {
            if (whence < 0 || whence > 2)
                return Errno(EINVAL);
            uint64_t pos = 0;
            TRY(pal_result(g_pal->stream_seek(m_handle, offset, whence, &pos)));
            return int64_t(pos);
        }
        int64_t base = 0;
        if (whence == 1 /* SEEK_CUR */) {
            base = int64_t(position());
        } else if (whence == 2 /* SEEK_END */) {
            PalStreamAttr attr;
            TRY(pal_result(g_pal->stream_attributes(m_handle, &attr)));
            base = int64_t(attr.size);
        } else if (whence != 0 /* SEEK_SET */) {
            return Errno(EINVAL);
        }
        int64_t target;
        if (__builtin_add_overflow(base, offset, &target))
            return Errno(EOVERFLOW);
        if (target < 0)
            return Errno(EINVAL);
        with_pos([&] { m_pos = uint64_t(target); });
        return target;
    }

    Result<void> stat(Stat* out) override {
        PalStreamAttr attr;
        TRY(pal_result(g_pal->stream_attributes(m_handle, &attr)));
        stat_from_pal(attr, out);
        return {};
    }

    Result<void> sync() override { return pal_result(g_pal->stream_sync(m_handle, PAL_FSYNC_FULL)); }
    Result<void> datasync() override { return pal_result(g_pal->stream_sync(m_handle, PAL_FSYNC_DATA)); }

    Result<void> truncate(uint64_t size) override {
        if (!m_seekable)
            return Errno(EINVAL);
        return pal_result(g_pal->stream_truncate(m_handle, size));
    }

    Result<void> allocate(int mode, uint64_t offset, uint64_t size) override {
        if (!m_seekable)
            return Errno(m_is_chardev ? ENODEV : ESPIPE);
        return pal_result(g_pal->stream_allocate(m_handle, uint32_t(mode), offset, size));
    }

    Result<void> chmod(uint32_t mode) override { return pal_result(g_pal->stream_chmod(m_handle, mode)); }
    Result<void> chown(uint32_t uid, uint32_t gid) override {
        return pal_result(g_pal->stream_chown(m_handle, uid, gid));
    }
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override {
        return pal_result(g_pal->stream_utimens(m_handle, atime_ns, mtime_ns));
    }
    Result<size_t> xattr(const XattrRequest& req) override { return host_xattr(m_handle, nullptr, req); }

    // FIONREAD of a regular file: size minus position (wrapping past the end: Linux
    // reports that as a negative int).
    Result<uint64_t> readable_bytes() override {
        if (!m_seekable)
            return Errno(ENOTTY);
        PalStreamAttr attr;
        TRY(pal_result(g_pal->stream_attributes(m_handle, &attr)));
        return attr.size - position();
    }

    PalHandle* pal_file() override { return m_seekable ? m_handle : nullptr; }

    // From now on the host keeps the offset (seek moves it, reads and writes use it): the
    // handle may be passed to another process, which then shares it.
    Result<PalHandle*> share_host() override {
        if (m_seekable && !shared()) {
            uint64_t pos = position();
            TRY(pal_result(g_pal->stream_seek(m_handle, int64_t(pos), 0, nullptr)));
            __atomic_store_n(&m_shared, true, __ATOMIC_RELEASE);
        }
        return m_handle;
    }
    void set_shared() { m_shared = true; }

    void set_chardev() { m_is_chardev = true; }

private:
    template <typename F>
    void with_pos(F f) {
        SpinGuard g(m_lock);
        f();
    }
    uint64_t position() {
        if (shared()) {
            uint64_t pos = 0;
            g_pal->stream_seek(m_handle, 0, 1 /* SEEK_CUR */, &pos);
            return pos;
        }
        SpinGuard g(m_lock);
        return m_pos;
    }
    bool shared() const { return __atomic_load_n(&m_shared, __ATOMIC_ACQUIRE); }
    // FIXME: two threads reading one description at once may both read at the same
    // offset; Linux serialises them with f_pos_lock. Needs a sleeping lock (threads issue).
    void advance(uint64_t from, size_t done) {
        SpinGuard g(m_lock);
        if (m_pos == from)
            m_pos = from + done;
    }

    PalHandle* m_handle;
    bool m_seekable;
    bool m_is_chardev = false;
    bool m_shared = false;  // the host keeps the offset (share_host)
    uint64_t m_pos = 0;
};

// A host directory: entries are read through the PAL and handed out as linux_dirent64.
class HostDir final : public File {
public:
    HostDir(PalHandle* h, uint32_t flags, const char* path) : File(flags, path), m_handle(h) {}
    ~HostDir() override {
        g_pal->stream_close(m_handle);
        kfree(m_buf);
    }

    Result<size_t> read(IoBuf, size_t) override { return Errno(EISDIR); }
    Result<size_t> write(IoBuf, size_t) override { return Errno(EISDIR); }
    Result<size_t> pread(IoBuf, size_t, uint64_t) override { return Errno(EISDIR); }

    Result<void> stat(Stat* out) override {
        PalStreamAttr attr;
        TRY(pal_result(g_pal->stream_attributes(m_handle, &attr)));
        stat_from_pal(attr, out);
        return {};
    }

    Result<void> sync() override { return pal_result(g_pal->stream_sync(m_handle, PAL_FSYNC_FULL)); }
    Result<void> datasync() override { return pal_result(g_pal->stream_sync(m_handle, PAL_FSYNC_DATA)); }
    // A directory's permissions decide what the walks cached below it may pass; the path it
    // was opened by may be stale, so the mount's whole dentry cache is forgotten.
    Result<void> chmod(uint32_t mode) override {
        return forgetting(pal_result(g_pal->stream_chmod(m_handle, mode)));
    }
    Result<void> chown(uint32_t uid, uint32_t gid) override {
        return forgetting(pal_result(g_pal->stream_chown(m_handle, uid, gid)));
    }
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override {
        return pal_result(g_pal->stream_utimens(m_handle, atime_ns, mtime_ns));
    }
    Result<size_t> xattr(const XattrRequest& req) override { return host_xattr(m_handle, nullptr, req); }

    Result<int64_t> seek(int64_t offset, int whence) override {
        // Only rewinding is supported: telldir/seekdir cookies need stable offsets.
        if (whence != 0 || offset != 0)
            return Errno(EINVAL);
        SpinGuard g(m_lock);
        m_restart = true;
        m_eof = false;
        m_have = m_used = 0;
        m_index = 0;
        return 0;
    }

    // FIXME: one reader at a time; concurrent getdents on one description races (Linux
    // serialises with f_pos_lock).
    Result<size_t> getdents64(void* out, size_t size) override {
        if (!m_buf) {
            m_buf = static_cast<uint8_t*>(kmalloc(kBufSize));
            if (!m_buf)
                return Errno(ENOMEM);
        }
        auto* dst = static_cast<uint8_t*>(out);
        size_t written = 0;
        for (;;) {
            if (m_used == m_have) {
                if (m_eof)
                    break;
                size_t got = 0;
                TRY(pal_result(g_pal->dir_read(m_handle, m_restart, m_buf, kBufSize, &got)));
                m_restart = false;
                m_have = got;
                m_used = 0;
                if (!got) {
                    m_eof = true;
                    break;
                }
            }
            auto* e = reinterpret_cast<PalDirent*>(m_buf + m_used);
            size_t name_size = strlen(e->name) + 1;
            size_t rec = (offsetof(linux_dirent64, d_name) + name_size + 7) & ~size_t(7);
            if (written + rec > size) {
                if (!written)
                    return Errno(EINVAL);
                break;
            }
            auto* d = reinterpret_cast<linux_dirent64*>(dst + written);
            d->d_ino = e->ino;
            d->d_off = int64_t(++m_index);
            d->d_reclen = uint16_t(rec);
            d->d_type = dtype_of(PalStreamType(e->type));
            memcpy(d->d_name, e->name, name_size);
            written += rec;
            m_used += e->size;
        }
        return written;
    }

private:
    Result<void> forgetting(Result<void> done) {
        if (mount())
            vfs_dcache_forget(mount(), "");
        return done;
    }

    static constexpr size_t kBufSize = 8192;
    PalHandle* m_handle;
    uint8_t* m_buf = nullptr;
    size_t m_have = 0, m_used = 0;
    uint64_t m_index = 0;
    bool m_restart = false;
    bool m_eof = false;
};

// A host directory (or file) shown at a mount point.
class ChrootFs final : public FileSystem {
public:
    ChrootFs(PalHandle* root, char* clean_root) : m_root(root), m_clean_root(clean_root) {}
    ~ChrootFs() override {
        g_pal->stream_close(m_root);
        kfree(m_clean_root);
    }

    const char* type_name() const override { return "chroot"; }
    // Each lookup is a host call, and the host directory changes only through the LibOS
    // (other host processes changing it is the documented limitation of the cache).
    bool walk_cacheable() const override { return true; }
    const char* host_root() const override { return m_clean_root; }

    Result<void> lookup(const char* rel, bool* exists, Stat* st) override {
        PalStreamAttr attr;
        PalError e = g_pal->stream_attributes_path(m_root, rel, &attr);
        if (e == PAL_E_NOENT) {
            *exists = false;
            return {};
        }
        TRY(pal_result(e));
        *exists = true;
        stat_from_pal(attr, st);
        return {};
    }

    Result<size_t> readlink(const char* rel, char* buf, size_t size) override {
        size_t len = 0;
        TRY(pal_result(g_pal->stream_readlink(m_root, rel, buf, size, &len)));
        return len;
    }

    Result<File*> open(const Resolved& r, uint32_t flags, uint32_t mode) override;

    Result<void> mkdir(const char* rel, uint32_t mode) override {
        return pal_result(g_pal->fs_mkdir(m_root, rel, mode));
    }
    Result<void> unlink(const char* rel) override { return pal_result(g_pal->stream_delete(m_root, rel, 0)); }
    Result<void> rmdir(const char* rel) override { return pal_result(g_pal->stream_delete(m_root, rel, 1)); }
    // Both names are in this mount: the VFS answers EXDEV across mounts.
    Result<void> rename(const char* from, const char* to, uint32_t flags) override {
        return pal_result(g_pal->fs_rename(m_root, from, to, flags));
    }
    Result<void> link(const char* from, const char* to) override {
        return pal_result(g_pal->fs_link(m_root, from, to));
    }
    Result<void> symlink(const char* target, const char* rel) override {
        return pal_result(g_pal->fs_symlink(m_root, target, rel));
    }
    // Regular files, FIFOs and socket nodes (the VFS refuses devices).
    Result<void> mknod(const char* rel, uint32_t mode, uint64_t) override {
        uint32_t type = mode & S_IFMT;
        if (type == S_IFIFO)
            return pal_result(g_pal->fs_mkfifo(m_root, rel, mode & 07777));
        if (type == S_IFSOCK)
            return pal_result(g_pal->fs_mksock(m_root, rel, mode & 07777));
        if (type != S_IFREG)
            return Errno(EPERM);
        PalHandle* h = nullptr;
        TRY(pal_result(g_pal->stream_open(m_root, rel, PAL_ACCESS_RDONLY | PAL_OPEN_CREATE | PAL_OPEN_EXCL,
                                          mode & 07777, &h)));
        g_pal->stream_close(h);
        return {};
    }
    Result<size_t> xattr(const char* rel, const XattrRequest& req) override { return host_xattr(m_root, rel, req); }
    Result<void> chmod(const char* rel, uint32_t mode) override {
        return pal_result(g_pal->fs_chmod(m_root, rel, mode));
    }
    Result<void> chown(const char* rel, uint32_t uid, uint32_t gid) override {
        return pal_result(g_pal->fs_chown(m_root, rel, uid, gid));
    }
    Result<void> truncate(const char* rel, uint64_t size) override {
        return pal_result(g_pal->fs_truncate(m_root, rel, size));
    }
    Result<void> utimens(const char* rel, int64_t atime_ns, int64_t mtime_ns) override {
        return pal_result(g_pal->fs_utimens(m_root, rel, atime_ns, mtime_ns));
    }
    Result<void> statfs(StatFs* out) override { return statfs_at("", out); }
    // The host's own figures and f_type: a host directory may hold other host file systems.
    Result<void> statfs_at(const char* rel, StatFs* out) override {
        PalFsInfo info;
        TRY(pal_result(g_pal->fs_statfs(m_root, rel, &info)));
        *out = StatFs{info.type, info.block_size, info.blocks, info.blocks_free, info.blocks_avail,
                      info.files, info.files_free, info.name_max, info.flags};
        return {};
    }
    Result<void> sync() override {
        PalHandle* h = nullptr;
        TRY(pal_result(g_pal->stream_open(m_root, "", PAL_ACCESS_RDONLY, 0, &h)));
        PalError e = g_pal->stream_sync(h, PAL_FSYNC_FILESYSTEM);
        g_pal->stream_close(h);
        return pal_result(e);
    }

private:
    PalHandle* m_root;   // the mount's host directory (or file), opened once: every path is beneath it
    char* m_clean_root;  // its host path cleaned lexically, to compare with other mounts' roots
};

Result<File*> ChrootFs::open(const Resolved& r, uint32_t flags, uint32_t mode) {
    uint32_t acc = flags & O_ACCMODE;
    uint32_t access = acc == O_WRONLY ? PAL_ACCESS_WRONLY : acc == O_RDWR ? PAL_ACCESS_RDWR : PAL_ACCESS_RDONLY;
    if (flags & O_PATH)
        access = PAL_ACCESS_RDONLY | PAL_OPEN_PATH;  // names the object; no read access needed
    if ((flags & O_CREAT) && !(flags & O_PATH))
        access |= PAL_OPEN_CREATE;
    if ((flags & O_EXCL) && !(flags & O_PATH))
        access |= PAL_OPEN_EXCL;
    if ((flags & O_TRUNC) && !(flags & O_PATH))
        access |= PAL_OPEN_TRUNCATE;
    if (flags & O_APPEND)
        access |= PAL_OPEN_APPEND;
    if (flags & O_NONBLOCK)
        access |= PAL_OPEN_NONBLOCK;
    // The LibOS resolved every symlink already; the PAL follows none (a symlink is ELOOP).
    if (r.exists && (r.stat.mode & S_IFMT) == S_IFDIR)
        access |= PAL_OPEN_DIRECTORY;
    if (r.exists && (r.stat.mode & S_IFMT) == S_IFLNK && !(flags & O_PATH))
        return Errno(ELOOP);
    PalHandle* h = nullptr;
    PalStreamAttr attr;
    if (r.exists && (r.stat.mode & S_IFMT) == S_IFIFO && !(flags & O_PATH)) {
        // A handle that only names the FIFO (opening it would block this host thread,
        // deaf to signals), and the LibOS pipe its ends meet in.
        TRY(pal_result(g_pal->stream_open(m_root, r.rel, PAL_ACCESS_RDONLY | PAL_OPEN_PATH, 0, &h)));
        PalError e = g_pal->stream_attributes(h, &attr);
        if (e == PAL_OK && attr.type == PAL_TYPE_FIFO)
            return host_fifo_open(h, attr, flags, r.path);
        g_pal->stream_close(h);
        if (e != PAL_OK)
            return errno_from_pal(e);
        // No longer a FIFO (replaced since the lookup): open what is there now.
    }
    TRY(pal_result(g_pal->stream_open(m_root, r.rel, access, mode, &h)));
    PalError e = g_pal->stream_attributes(h, &attr);
    if (e != PAL_OK) {
        g_pal->stream_close(h);
        return errno_from_pal(e);
    }
    File* f;
    uint32_t fflags = flags & ~uint32_t(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
    if (attr.type == PAL_TYPE_DIR) {
        f = make<HostDir>(h, fflags, r.path);
    } else {
        auto* hf = make<HostFile>(h, fflags, r.path, attr.type == PAL_TYPE_FILE);
        if (hf && attr.type == PAL_TYPE_CHARDEV)
            hf->set_chardev();
        f = hf;
    }
    if (!f) {
        g_pal->stream_close(h);
        return Errno(ENOMEM);
    }
    if (flags & O_PATH)
        f->set_path_only();
    return f;
}

}  // namespace

Result<FileSystem*> chroot_create(const char* host_root) {
    auto* work = static_cast<char*>(kmalloc(kPathMax));
    if (!work)
        return Errno(ENOMEM);
    HeapGuard guard{work};
    TRY(path_normalize("/", host_root, work));
    size_t clean_size = strlen(work) + 1;
    auto* clean = static_cast<char*>(kmalloc(clean_size));
    if (!clean)
        return Errno(ENOMEM);
    memcpy(clean, work, clean_size);
    // The root is opened once, here: a path beneath it never leaves it, whatever becomes of
    // the host path later.
    PalHandle* root = nullptr;
    PalError e = g_pal->fs_root_open(host_root, &root);
    if (e != PAL_OK) {
        log_error("chroot mount of %s: the host path cannot be opened (PAL error %d)", host_root, int(e));
        kfree(clean);
        return errno_from_pal(e);
    }
    FileSystem* fs = make<ChrootFs>(root, clean);
    if (!fs) {
        g_pal->stream_close(root);
        kfree(clean);
        return Errno(ENOMEM);
    }
    return fs;
}

Result<File*> host_file_adopt(PalHandle* h, uint32_t flags, const char* path) {
    PalStreamAttr attr;
    TRY(pal_result(g_pal->stream_attributes(h, &attr)));
    if (attr.type != PAL_TYPE_FILE)
        return Errno(EINVAL);
    auto* hf = make<HostFile>(h, flags, path, true);
    if (!hf)
        return Errno(ENOMEM);
    hf->set_shared();
    return static_cast<File*>(hf);
}

}  // namespace carbyne::libos::fs
