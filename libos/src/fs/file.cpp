// File: the defaults Linux gives for operations a kind of file does not support.
#include "file.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/user.h>
#include <linux/inotify.h>

#include "dentry.h"
#include "inotify.h"

namespace carbyne::libos::fs {

uint32_t mode_type_of(PalStreamType type) {
    switch (type) {
    case PAL_TYPE_FILE: return S_IFREG;
    case PAL_TYPE_DIR: return S_IFDIR;
    case PAL_TYPE_SYMLINK: return S_IFLNK;
    case PAL_TYPE_CHARDEV:
    case PAL_TYPE_CONSOLE: return S_IFCHR;
    case PAL_TYPE_BLOCKDEV: return S_IFBLK;
    case PAL_TYPE_FIFO: return S_IFIFO;
    case PAL_TYPE_SOCKET: return S_IFSOCK;
    default: return 0;
    }
}

void stat_from_pal(const PalStreamAttr& a, Stat* out) {
    *out = Stat{mode_type_of(a.type) | a.mode, a.ino, a.dev, a.rdev, a.nlink, a.size, a.blksize, a.blocks,
                a.uid, a.gid, a.atime_ns, a.mtime_ns, a.ctime_ns};
}

File::File(uint32_t flags, const char* path) : m_flags(flags) {
    if (path) {
        size_t n = strlen(path) + 1;
        m_path = static_cast<char*>(kmalloc(n));
        if (m_path)
            memcpy(m_path, path, n);
    }
}

void File::unref() {
    if (__atomic_sub_fetch(&m_refs, 1, __ATOMIC_ACQ_REL) == 0) {
        poll_release();  // out of every epoll set before any part of the file goes
        if (__atomic_load_n(&m_async_watched, __ATOMIC_ACQUIRE))
            async_forget(this);
        if (m_dentry)
            notify_file(this, writable() ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
        kfree(m_path);
        m_path = nullptr;
        dentry_put(m_dentry);
        m_dentry = nullptr;
        destroy(this);
    }
}

void File::set_dentry(Dentry* d) {
    if (!d)
        return;  // out of memory: the path it was opened by stays its name
    dentry_put(m_dentry);
    m_dentry = d;
    kfree(m_path);
    m_path = nullptr;
}

Result<size_t> File::path(char* buf, size_t size, bool* deleted) const {
    if (m_dentry)
        return dentry_path(m_dentry, buf, size, deleted);
    if (deleted)
        *deleted = false;
    if (!m_path)
        return Errno(ENOENT);
    size_t n = strlen(m_path);
    if (n + 1 > size)
        return Errno(ENAMETOOLONG);
    memcpy(buf, m_path, n + 1);
    return n;
}

Result<size_t> File::read(IoBuf, size_t) { return Errno(EINVAL); }
Result<size_t> File::write(IoBuf, size_t) { return Errno(EINVAL); }
Result<size_t> File::pread(IoBuf, size_t, uint64_t) { return Errno(ESPIPE); }
Result<size_t> File::pwrite(IoBuf, size_t, uint64_t) { return Errno(ESPIPE); }

Result<void> io_copy_out(IoBuf dst, const void* src, size_t size) {
    if (dst.user)
        return copy_to_user(dst.addr, src, size);
    memcpy(reinterpret_cast<void*>(dst.addr), src, size);
    return {};
}

Result<void> io_copy_in(void* dst, IoBuf src, size_t size) {
    if (src.user)
        return copy_from_user(dst, src.addr, size);
    memcpy(dst, reinterpret_cast<const void*>(src.addr), size);
    return {};
}

Result<void> io_check(IoBuf buf, size_t size) {
    if (buf.user && size && !user_range_ok(buf.addr, size))
        return Errno(EFAULT);
    return {};
}
Result<int64_t> File::seek(int64_t, int) { return Errno(ESPIPE); }
Result<void> File::stat(Stat*) { return Errno(EINVAL); }
Result<size_t> File::getdents64(void*, size_t) { return Errno(ENOTDIR); }
Result<void> File::sync() { return Errno(EINVAL); }
Result<void> File::datasync() { return sync(); }
Result<void> File::truncate(uint64_t) { return Errno(EINVAL); }
Result<void> File::allocate(int, uint64_t, uint64_t) { return Errno(ENODEV); }
Result<void> File::chmod(uint32_t) { return Errno(EPERM); }
Result<size_t> File::xattr(const XattrRequest&) { return Errno(EOPNOTSUPP); }
Result<void> File::chown(uint32_t, uint32_t) { return Errno(EPERM); }
Result<void> File::utimens(int64_t, int64_t) { return Errno(EPERM); }
Result<uint64_t> File::readable_bytes() { return Errno(ENOTTY); }

}  // namespace carbyne::libos::fs
