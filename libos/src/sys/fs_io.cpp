// read, write, pread64, pwrite64, readv, writev, preadv, pwritev, preadv2, pwritev2, lseek,
// open, openat, openat2, creat, close, close_range, dup, dup2, dup3, fcntl, ioctl,
// getdents64, getdents, fadvise64
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/inotify.h>
#include <linux/openat2.h>
#include <linux/uio.h>

#include "../fs/async.h"
#include "../fs/inotify.h"
#include "../fs/vfs.h"
#include "../ipc/procs.h"
#include "../net/ioseq.h"
#include "../net/pipe.h"
#include "../net/socket.h"
#include "../proc/process.h"
#include "../proc/thread.h"
#include "fs_common.h"
#include "syscall.h"

namespace carbyne::libos {

using fs::IoBuf;

namespace {

constexpr long kMaxRw = 0x7ffff000;  // MAX_RW_COUNT: Linux caps one transfer at this

size_t cap(uint64_t size) { return size > uint64_t(kMaxRw) ? size_t(kMaxRw) : size_t(size); }

Result<FileRef> readable_file(int fd) {
    FileRef f = TRY(g_process.fds.get(fd));
    if (!f->readable())
        return Errno(EBADF);
    return f;
}

Result<FileRef> writable_file(int fd) {
    FileRef f = TRY(g_process.fds.get(fd));
    if (!f->writable())
        return Errno(EBADF);
    return f;
}

// The iovec count of readv and its kin: Linux's import_iovec takes it as an unsigned int.
uint32_t iov_count(const SyscallArgs& a) { return a.u32(2); }

// Runs one transfer per iovec, after the whole array is checked (net::import_iovec: a bad
// one fails the call before any data moves); stops at the first short one. Errors after
// some bytes were moved become a short count, as on Linux.
template <typename Op>
Result<long> vector_io(uint64_t iov_addr, uint32_t iovcnt, Op op) {
    net::IoSegs segs;
    net::IoSeq seq = TRY(segs.import(iov_addr, iovcnt));
    long total = 0;
    for (size_t i = 0; i < seq.count(); i++) {
        const net::IoSeg& s = seq.segs()[i];
        if (!s.size)
            continue;
        auto done = op(s.buf, s.size, total);
        if (!done.ok())
            return total ? Result<long>(total) : Result<long>(done.error());
        total += long(done.value());
        if (done.value() < s.size)
            break;
    }
    return total;
}

}  // namespace

Result<bool> dirfd_base(int dirfd, char* out) {
    if (dirfd == AT_FDCWD)
        return process_get_cwd(out);
    FileRef f = TRY(g_process.fds.get(dirfd, true));
    fs::Stat st;
    TRY(f->stat(&st));
    if ((st.mode & S_IFMT) != S_IFDIR)
        return Errno(ENOTDIR);
    bool deleted = false;
    auto named = f->path(out, fs::kPathMax, &deleted);
    if (!named.ok() && named.error().code == ENOENT)
        strlcpy(out, "/", fs::kPathMax);
    else if (!named.ok())
        return named.error();
    return deleted;
}

Result<void> copy_path_from_user(uint64_t user_path, PathBuf* out) {
    if (!out)
        return Errno(ENOMEM);
    TRY(copy_string_from_user(out->s, user_path, fs::kPathMax));
    return {};
}

uint32_t current_umask() {
    SpinGuard g(g_process.lock);
    return g_process.umask;
}

Result<void> resolve_path_at(int dirfd, const char* path, bool follow, uint32_t flags, fs::Resolved* out) {
    if (!out)
        return Errno(ENOMEM);
    if (!path[0])
        return Errno(ENOENT);
    HeapBox<PathBuf> base;
    if (!base.get())
        return Errno(ENOMEM);
    // With RESOLVE_IN_ROOT an absolute path starts at dirfd too.
    if (path[0] != '/' || (flags & fs::kResolveInRoot)) {
        if (TRY(dirfd_base(dirfd, base.get()->s))) {
            // A removed directory has no names left; its ".." is still the directory it
            // was in (which follows renames), as on Linux. FIXME: "." itself needs the
            // directory's own object, which a path walk cannot reach (ENOENT here).
            if (path[0] == '/' || path[0] != '.' || path[1] != '.' || (path[2] != '/' && path[2] != '\0'))
                return Errno(ENOENT);
            char* b = base.get()->s;
            size_t dir = fs::path_dirname_size(b);
            b[dir ? dir : 1] = '\0';
            path += 2;
            while (*path == '/')
                path++;
            if (!*path)
                path = ".";
        }
    } else {
        strlcpy(base.get()->s, "/", fs::kPathMax);
    }
    return fs::vfs_resolve_with(base.get()->s, path, follow, flags, out);
}

Result<void> resolve_user_path(int dirfd, uint64_t user_path, bool follow, fs::Resolved* out) {
    HeapBox<PathBuf> path;
    TRY(copy_path_from_user(user_path, path.get()));
    return resolve_path_at(dirfd, path.get()->s, follow, 0, out);
}

namespace {

// inotify's IN_ACCESS and IN_MODIFY once data moved (a no-op while nothing is watched).
Result<long> accessed(FileRef& f, Result<long> done) {
    if (done.ok() && done.value() > 0)
        fs::notify_file(f.get(), IN_ACCESS);
    return done;
}
Result<long> modified(FileRef& f, Result<long> done) {
    if (done.ok() && done.value() > 0)
        fs::notify_file(f.get(), IN_MODIFY);
    return done;
}

template <typename T>
Result<long> as_long(Result<T> r) {
    if (!r.ok())
        return r.error();
    return long(r.value());
}

}  // namespace

Result<long> sys_read(const SyscallArgs& a) {
    FileRef f = TRY(readable_file(a.fd(0)));
    return accessed(f, as_long(f->read(IoBuf::app(a.u64(1)), cap(a.u64(2)))));
}

Result<long> sys_write(const SyscallArgs& a) {
    FileRef f = TRY(writable_file(a.fd(0)));
    return modified(f, as_long(f->write(IoBuf::app(a.u64(1)), cap(a.u64(2)))));
}

Result<long> sys_pread64(const SyscallArgs& a) {
    FileRef f = TRY(readable_file(a.fd(0)));
    if (a.i64(3) < 0)
        return Errno(EINVAL);
    return accessed(f, as_long(f->pread(IoBuf::app(a.u64(1)), cap(a.u64(2)), a.u64(3))));
}

Result<long> sys_pwrite64(const SyscallArgs& a) {
    FileRef f = TRY(writable_file(a.fd(0)));
    if (a.i64(3) < 0)
        return Errno(EINVAL);
    return modified(f, as_long(f->pwrite(IoBuf::app(a.u64(1)), cap(a.u64(2)), a.u64(3))));
}

Result<long> sys_readv(const SyscallArgs& a) {
    FileRef f = TRY(readable_file(a.fd(0)));
    if (f->kind() == fs::FileKind::Pipe)
        return net::pipe_readv(f.get(), a.u64(1), iov_count(a));  // one read for the whole vector
    if (f->kind() == fs::FileKind::Socket)
        return net::socket_readv(f.get(), a.u64(1), iov_count(a));
    return accessed(f, vector_io(a.u64(1), iov_count(a), [&](IoBuf b, size_t n, long) { return f->read(b, n); }));
}

Result<long> sys_writev(const SyscallArgs& a) {
    FileRef f = TRY(writable_file(a.fd(0)));
    if (f->kind() == fs::FileKind::Pipe)
        return net::pipe_writev(f.get(), a.u64(1), iov_count(a));  // atomic up to PIPE_BUF in total
    if (f->kind() == fs::FileKind::Socket)
        return net::socket_writev(f.get(), a.u64(1), iov_count(a));
    return modified(f, vector_io(a.u64(1), iov_count(a), [&](IoBuf b, size_t n, long) { return f->write(b, n); }));
}

namespace {

constexpr uint32_t kRwfHipri = 0x01, kRwfDsync = 0x02, kRwfSync = 0x04, kRwfNowait = 0x08, kRwfAppend = 0x10;

// pread/pwrite at `offset` of a vector; ESPIPE for unseekable files even with no iovec.
template <bool kWrite>
Result<long> positioned_vector_io(FileRef& f, uint64_t iov, uint32_t iovcnt, int64_t offset) {
    if (offset < 0)
        return Errno(EINVAL);
    if constexpr (kWrite) {
        TRY(f->pwrite(IoBuf::kernel(nullptr), 0, uint64_t(offset)));
        return vector_io(iov, iovcnt,
                         [&](IoBuf b, size_t n, long done) { return f->pwrite(b, n, uint64_t(offset) + done); });
    } else {
        TRY(f->pread(IoBuf::kernel(nullptr), 0, uint64_t(offset)));
        return vector_io(iov, iovcnt,
                         [&](IoBuf b, size_t n, long done) { return f->pread(b, n, uint64_t(offset) + done); });
    }
}

}  // namespace

Result<long> sys_preadv(const SyscallArgs& a) {
    if (a.i64(3) < 0)
        return Errno(EINVAL);
    FileRef f = TRY(readable_file(a.fd(0)));
    return accessed(f, positioned_vector_io<false>(f, a.u64(1), iov_count(a), a.i64(3)));
}

Result<long> sys_pwritev(const SyscallArgs& a) {
    if (a.i64(3) < 0)
        return Errno(EINVAL);
    FileRef f = TRY(writable_file(a.fd(0)));
    return modified(f, positioned_vector_io<true>(f, a.u64(1), iov_count(a), a.i64(3)));
}

// preadv2: offset -1 is the file position. The RWF_* flags only concern writes or are
// hints (HIPRI, NOWAIT: a read of a host file may wait for the disk).
Result<long> sys_preadv2(const SyscallArgs& a) {
    uint32_t flags = a.u32(5);
    if (a.i64(3) < -1)
        return Errno(EINVAL);
    FileRef f = TRY(readable_file(a.fd(0)));
    if (flags & ~(kRwfHipri | kRwfDsync | kRwfSync | kRwfNowait | kRwfAppend))
        return Errno(EOPNOTSUPP);
    if (a.i64(3) == -1)
        return accessed(f, vector_io(a.u64(1), iov_count(a), [&](IoBuf b, size_t n, long) { return f->read(b, n); }));
    return accessed(f, positioned_vector_io<false>(f, a.u64(1), iov_count(a), a.i64(3)));
}

// pwritev2: RWF_DSYNC/RWF_SYNC write back after the write, RWF_APPEND writes at the end.
Result<long> sys_pwritev2(const SyscallArgs& a) {
    uint32_t flags = a.u32(5);
    int64_t offset = a.i64(3);
    if (offset < -1)
        return Errno(EINVAL);
    FileRef f = TRY(writable_file(a.fd(0)));
    if (flags & ~(kRwfHipri | kRwfDsync | kRwfSync | kRwfNowait | kRwfAppend))
        return Errno(EOPNOTSUPP);
    if (flags & kRwfNowait)
        return Errno(EOPNOTSUPP);  // no write here can promise not to wait
    long done;
    if ((flags & kRwfAppend) && !(f->flags() & O_APPEND)) {
        // FIXME: not atomic against another writer appending at the same time.
        fs::Stat st;
        TRY(f->stat(&st));
        done = TRY(positioned_vector_io<true>(f, a.u64(1), iov_count(a), int64_t(st.size)));
        if (offset == -1)
            TRY(f->seek(0, 2 /* SEEK_END */));
    } else if (offset == -1 || (flags & kRwfAppend)) {
        done = TRY(vector_io(a.u64(1), iov_count(a), [&](IoBuf b, size_t n, long) { return f->write(b, n); }));
    } else {
        done = TRY(positioned_vector_io<true>(f, a.u64(1), iov_count(a), offset));
    }
    if (done > 0 && (flags & (kRwfDsync | kRwfSync)))
        TRY((flags & kRwfSync) ? f->sync() : f->datasync());
    return modified(f, done);
}

Result<long> sys_lseek(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    return long(TRY(f->seek(a.i64(1), a.i32(2))));
}

namespace {

// The O_* bits open(2) knows (VALID_OPEN_FLAGS); openat ignores others, openat2 refuses them.
constexpr uint32_t kValidOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
                                     __O_SYNC | O_DSYNC | FASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY |
                                     O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | __O_TMPFILE;
// What O_PATH keeps (O_PATH_FLAGS).
constexpr uint32_t kPathFlags = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

// /proc/self/fd/N naming a file without a path to follow (a pipe): a new open of that file
// (File::reopen); nullptr when `path` is no such link.
Result<fs::File*> reopen_proc_fd(int dirfd, const char* path, uint32_t flags, uint32_t resolve) {
    ResolvedBox r;
    if (!r.get() || !resolve_path_at(dirfd, path, false, resolve, r.get()).ok())
        return static_cast<fs::File*>(nullptr);
    int fd = fs::vfs_proc_fd_link(*r.get());
    if (fd < 0)
        return static_cast<fs::File*>(nullptr);
    auto f = g_process.fds.get(fd);
    if (!f.ok())
        return static_cast<fs::File*>(nullptr);
    return f.value()->reopen(flags);
}

// open/openat/openat2/creat after their own argument checks: resolve, reserve, open, commit.
Result<long> open_at(int dirfd, uint64_t user_path, uint32_t flags, uint32_t mode, uint32_t resolve) {
    if ((flags & O_CREAT) && (flags & O_DIRECTORY))
        return Errno(EINVAL);
    // O_TMPFILE is __O_TMPFILE | O_DIRECTORY (so that old kernels refuse it) and must write.
    bool tmpfile = (flags & __O_TMPFILE) != 0;
    if (tmpfile && (!(flags & O_DIRECTORY) || (flags & O_ACCMODE) == O_RDONLY))
        return Errno(EINVAL);
    HeapBox<PathBuf> path;
    TRY(copy_path_from_user(user_path, path.get()));
    ResolvedBox r;
    // O_CREAT | O_EXCL never follows the last component: a symlink there, dangling or not,
    // is EEXIST, and its target is not made (open(2)).
    bool exclusive_create = (flags & O_CREAT) && (flags & O_EXCL);
    bool follow = !(flags & O_NOFOLLOW) && !exclusive_create;
    auto resolved = resolve_path_at(dirfd, path.get()->s, follow, resolve, r.get());
    bool missing = resolved.ok() ? !r.get()->exists : resolved.error() == Errno(ENOENT);
    if (missing && follow && !(flags & (O_PATH | O_CREAT)))
        if (fs::File* again = TRY(reopen_proc_fd(dirfd, path.get()->s, flags, resolve)))
            return long(TRY(g_process.fds.install(again, 0, (flags & O_CLOEXEC) != 0)));
    TRY(resolved);
    uint32_t umask = current_umask();
    int fd = TRY(g_process.fds.reserve(0));
    auto file = tmpfile ? fs::vfs_open_tmpfile(*r.get(), flags, mode & ~umask)
                        : fs::vfs_open(*r.get(), flags, mode & ~umask);
    if (!file.ok()) {
        g_process.fds.cancel(fd);
        return file.error();
    }
    g_process.fds.commit(fd, file.value(), (flags & O_CLOEXEC) != 0);
    return fd;
}

}  // namespace

Result<long> sys_openat(const SyscallArgs& a) {
    uint32_t flags = a.u32(2) & kValidOpenFlags;
    if (flags & O_PATH)
        flags &= kPathFlags;
    return open_at(a.fd(0), a.u64(1), flags, a.u32(3) & 07777, 0);
}

Result<long> sys_open(const SyscallArgs& a) {
    SyscallArgs at = {{uint64_t(int64_t(AT_FDCWD)), a.a[0], a.a[1], a.a[2], 0, 0}};
    return sys_openat(at);
}

Result<long> sys_creat(const SyscallArgs& a) {
    SyscallArgs at = {{uint64_t(int64_t(AT_FDCWD)), a.a[0], O_CREAT | O_WRONLY | O_TRUNC, a.a[1], 0, 0}};
    return sys_openat(at);
}

Result<long> sys_openat2(const SyscallArgs& a) {
    constexpr size_t kHowSizeVer0 = 24;
    constexpr size_t kPageSize = 4096;
    constexpr uint64_t kResolveNoXdev = 0x01, kResolveNoMagicLinks = 0x02, kResolveNoSymlinks = 0x04,
                       kResolveBeneath = 0x08, kResolveInRoot = 0x10, kResolveCached = 0x20;
    size_t size = size_t(a.u64(3));
    if (size < kHowSizeVer0)
        return Errno(EINVAL);
    if (size > kPageSize)
        return Errno(E2BIG);
    struct open_how how;
    TRY(copy_from_user(&how, a.u64(2), sizeof(how)));
    // A newer, larger struct is fine as long as what this LibOS does not know is zero.
    for (size_t off = sizeof(how); off < size; off += 8) {
        uint64_t word = 0;
        size_t n = size - off < 8 ? size - off : 8;
        TRY(copy_from_user(&word, a.u64(2) + off, n));
        if (word)
            return Errno(E2BIG);
    }
    if (how.flags & ~uint64_t(kValidOpenFlags))
        return Errno(EINVAL);
    if (how.resolve & ~uint64_t(kResolveNoXdev | kResolveNoMagicLinks | kResolveNoSymlinks | kResolveBeneath |
                                 kResolveInRoot | kResolveCached))
        return Errno(EINVAL);
    if ((how.resolve & kResolveBeneath) && (how.resolve & kResolveInRoot))
        return Errno(EINVAL);
    uint32_t flags = uint32_t(how.flags);
    bool creates = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
    if (creates ? (how.mode & ~uint64_t(07777)) != 0 : how.mode != 0)
        return Errno(EINVAL);
    if ((flags & O_CREAT) && (flags & O_DIRECTORY))
        return Errno(EINVAL);
    if ((flags & O_PATH) && (flags & ~kPathFlags))
        return Errno(EINVAL);
    // The dentry cache never answers for the last component: every RESOLVE_CACHED lookup
    // "would block", which callers (io_uring-style) take as "retry without it".
    if (how.resolve & kResolveCached)
        return Errno(EAGAIN);
    uint32_t resolve = 0;
    if (how.resolve & kResolveNoXdev)
        resolve |= fs::kResolveNoXdev;
    if (how.resolve & kResolveNoSymlinks)
        resolve |= fs::kResolveNoSymlinks;
    if (how.resolve & kResolveNoMagicLinks)
        resolve |= fs::kResolveNoMagicLinks;
    if (how.resolve & kResolveBeneath)
        resolve |= fs::kResolveBeneath;
    if (how.resolve & kResolveInRoot)
        resolve |= fs::kResolveInRoot;
    return open_at(a.fd(0), a.u64(1), flags, uint32_t(how.mode), resolve);
}

Result<long> sys_close(const SyscallArgs& a) {
    TRY(g_process.fds.close(a.fd(0)));
    return 0;
}

Result<long> sys_close_range(const SyscallArgs& a) {
    constexpr uint32_t kUnshare = 1u << 1, kCloexec = 1u << 2;  // CLOSE_RANGE_*
    if (a.u32(2) & ~(kUnshare | kCloexec))
        return Errno(EINVAL);
    if (a.u32(0) > a.u32(1))
        return Errno(EINVAL);
    // CLOSE_RANGE_UNSHARE: the LibOS keeps one table per process, shared by all its
    // threads, so there is nothing to unshare. FIXME: per-thread tables (clone without
    // CLONE_FILES) would need it.
    TRY(g_process.fds.close_range(a.u32(0), a.u32(1), (a.u32(2) & kCloexec) != 0));
    return 0;
}

Result<long> sys_dup(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0), true));
    f->ref();
    return TRY(g_process.fds.install(f.get(), 0, false));
}

Result<long> sys_dup2(const SyscallArgs& a) {
    if (a.fd(0) == a.fd(1)) {
        TRY(g_process.fds.get(a.fd(0), true));
        return a.fd(1);
    }
    return TRY(g_process.fds.dup_to(a.fd(0), a.fd(1), false));
}

Result<long> sys_dup3(const SyscallArgs& a) {
    if (a.u32(2) & ~uint32_t(O_CLOEXEC))
        return Errno(EINVAL);
    if (a.fd(0) == a.fd(1))
        return Errno(EINVAL);
    return TRY(g_process.fds.dup_to(a.fd(0), a.fd(1), (a.u32(2) & O_CLOEXEC) != 0));
}

namespace {

// POSIX record locks. A process's own locks never conflict with each other, so while
// Carbyne runs one process a lock is always granted and F_GETLK finds nothing; only the
// checks Linux makes remain. FIXME: locks across Carbyne processes go through the IPC
// leader (multi-process work).
Result<long> posix_lock(int fd, int cmd, uint64_t user_lock) {
    FileRef f = TRY(g_process.fds.get(fd));
    struct flock lock = TRY(UserPtr<struct flock>(user_lock).read());
    if (lock.l_type != F_RDLCK && lock.l_type != F_WRLCK && lock.l_type != F_UNLCK)
        return Errno(EINVAL);
    if (lock.l_whence != 0 && lock.l_whence != 1 && lock.l_whence != 2)
        return Errno(EINVAL);
    if (cmd == F_GETLK) {
        lock.l_type = F_UNLCK;
        TRY(UserPtr<struct flock>(user_lock).write(lock));
        return 0;
    }
    if ((lock.l_type == F_RDLCK && !f->readable()) || (lock.l_type == F_WRLCK && !f->writable()))
        return Errno(EBADF);
    return 0;
}

}  // namespace

namespace {

// F_SETOWN and F_SETOWN_EX: the process, thread or group that gets the file's O_ASYNC
// signals (0: none); ESRCH when it is not one of the instance's.
Result<long> set_owner(FileRef& f, int fd, int type, int id) {
    if (id < 0)
        return Errno(ESRCH);
    if (id) {
        bool found;
        if (type == F_OWNER_TID) {
            found = thread_by_tid(id) != nullptr || ipc::procs_ids(id).ok();
        } else if (type == F_OWNER_PGRP) {
            int one;
            auto n = ipc::procs_group(id, &one, 1);
            found = ipc::procs_own_ids().pgid == id || (n.ok() && n.value() > 0);
        } else {
            found = id == g_process.pid || ipc::procs_ids(id).ok();
        }
        if (!found)
            return Errno(ESRCH);
    }
    fs::AsyncOwner o = f->async_owner();
    f->set_async_owner(fs::AsyncOwner{type, id, o.sig});
    TRY(fs::async_update(f.get(), fd));
    return 0;
}

}  // namespace

Result<long> sys_fcntl(const SyscallArgs& a) {
    int fd = a.fd(0);
    switch (a.i32(1)) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        FileRef f = TRY(g_process.fds.get(fd, true));
        if (a.i64(2) < 0 || a.i64(2) >= kNrOpen)
            return Errno(EINVAL);  // and at or past RLIMIT_NOFILE (FdTable::reserve)
        f->ref();
        return TRY(g_process.fds.install(f.get(), int(a.i64(2)), a.i32(1) == F_DUPFD_CLOEXEC));
    }
    case F_GETFD:
        return TRY(g_process.fds.get_cloexec(fd)) ? FD_CLOEXEC : 0;
    case F_SETFD:
        TRY(g_process.fds.set_cloexec(fd, (a.u64(2) & FD_CLOEXEC) != 0));
        return 0;
    case F_GETFL: {
        FileRef f = TRY(g_process.fds.get(fd, true));
        return long(f->flags() | (f->is_path_only() ? O_PATH : 0));
    }
    case F_SETFL: {
        FileRef f = TRY(g_process.fds.get(fd));
        // Only these status flags can change (fcntl(2)); the rest are kept.
        constexpr uint32_t kSettable = O_APPEND | O_NONBLOCK | FASYNC | O_DIRECT | O_NOATIME;
        uint32_t was = f->flags();
        f->set_flags((was & ~kSettable) | (a.u32(2) & kSettable));
        if ((was ^ f->flags()) & FASYNC)
            TRY(fs::async_update(f.get(), fd));
        return 0;
    }
    case F_GETOWN: {
        FileRef f = TRY(g_process.fds.get(fd));
        fs::AsyncOwner o = f->async_owner();
        return o.type == F_OWNER_PGRP ? -long(o.id) : long(o.id);
    }
    case F_SETOWN: {
        FileRef f = TRY(g_process.fds.get(fd));
        int who = a.i32(2);
        if (who == -__INT_MAX__ - 1)
            return Errno(EINVAL);
        return set_owner(f, fd, who < 0 ? F_OWNER_PGRP : F_OWNER_PID, who < 0 ? -who : who);
    }
    case F_GETOWN_EX: {
        FileRef f = TRY(g_process.fds.get(fd));
        fs::AsyncOwner o = f->async_owner();
        struct f_owner_ex ex = {o.id ? o.type : F_OWNER_PID, o.id};
        TRY(UserPtr<struct f_owner_ex>(a.u64(2)).write(ex));
        return 0;
    }
    case F_SETOWN_EX: {
        FileRef f = TRY(g_process.fds.get(fd));
        struct f_owner_ex ex = TRY(UserPtr<struct f_owner_ex>(a.u64(2)).read());
        if (ex.type != F_OWNER_TID && ex.type != F_OWNER_PID && ex.type != F_OWNER_PGRP)
            return Errno(EINVAL);
        return set_owner(f, fd, ex.type, ex.pid);
    }
    case F_GETSIG: {
        FileRef f = TRY(g_process.fds.get(fd));
        return f->async_owner().sig;
    }
    case F_SETSIG: {
        FileRef f = TRY(g_process.fds.get(fd));
        uint64_t sig = a.u64(2);
        if (sig > uint64_t(kNumSignals))
            return Errno(EINVAL);
        fs::AsyncOwner o = f->async_owner();
        o.sig = int(sig);
        f->set_async_owner(o);
        return 0;
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
        return posix_lock(fd, a.i32(1), a.u64(2));
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ: {
        FileRef f = TRY(g_process.fds.get(fd));
        return a.i32(1) == F_GETPIPE_SZ ? net::pipe_get_size(f.get()) : net::pipe_set_size(f.get(), a.u32(2));
    }
    default:
        return Errno(EINVAL);
    }
}

namespace {

// FIONREAD: what the file says; for a regular file that does not say, Linux's own answer
// (size minus position), which needs nothing of the file system.
Result<uint64_t> readable_bytes(FileRef& f) {
    auto n = f->readable_bytes();
    if (n.ok() || n.error() != Errno(ENOTTY))
        return n;
    fs::Stat st;
    TRY(f->stat(&st));
    if ((st.mode & S_IFMT) != S_IFREG)
        return Errno(ENOTTY);
    int64_t pos = TRY(f->seek(0, 1 /* SEEK_CUR */));
    return st.size - uint64_t(pos);  // negative past the end, as Linux reports it
}

}  // namespace

Result<long> sys_ioctl(const SyscallArgs& a) {
    int fd = a.fd(0);
    FileRef f = TRY(g_process.fds.get(fd));
    switch (a.u32(1)) {
    case 0x5451:  // FIOCLEX
        TRY(g_process.fds.set_cloexec(fd, true));
        return 0;
    case 0x5450:  // FIONCLEX
        TRY(g_process.fds.set_cloexec(fd, false));
        return 0;
    case 0x5421: {  // FIONBIO
        int on = TRY(UserPtr<int>(a.u64(2)).read());
        f->set_flags(on ? (f->flags() | O_NONBLOCK) : (f->flags() & ~uint32_t(O_NONBLOCK)));
        return 0;
    }
    case 0x5452: {  // FIOASYNC
        int on = TRY(UserPtr<int>(a.u64(2)).read());
        // Linux's ioctl_fioasync: ENOTTY for a file that has no readiness to signal (a
        // regular file), where F_SETFL only records the flag.
        if (bool(on) != bool(f->flags() & FASYNC) && !f->poll_queue() && !f->poll_handle())
            return Errno(ENOTTY);
        f->set_flags(on ? (f->flags() | FASYNC) : (f->flags() & ~uint32_t(FASYNC)));
        TRY(fs::async_update(f.get(), fd));
        return 0;
    }
    case 0x8901:    // FIOSETOWN
    case 0x8902: {  // SIOCSPGRP
        int who = TRY(UserPtr<int>(a.u64(2)).read());
        if (who == -__INT_MAX__ - 1)
            return Errno(EINVAL);
        return set_owner(f, fd, who < 0 ? F_OWNER_PGRP : F_OWNER_PID, who < 0 ? -who : who);
    }
    case 0x8903:    // FIOGETOWN
    case 0x8904: {  // SIOCGPGRP
        fs::AsyncOwner o = f->async_owner();
        TRY(UserPtr<int>(a.u64(2)).write(o.type == F_OWNER_PGRP ? -o.id : o.id));
        return 0;
    }
    case 0x5411: {  // SIOCOUTQ (TIOCOUTQ): a socket's unsent bytes, a terminal's output
        if (f->kind() != fs::FileKind::Socket)
            return f->ioctl(a.u32(1), a.u64(2));
        int count = int(TRY(static_cast<net::Socket*>(f.get())->unsent_bytes()));
        TRY(UserPtr<int>(a.u64(2)).write(count));
        return 0;
    }
    case 0x541b: {  // FIONREAD, SIOCINQ
        // Linux stores the count as an int: a regular file's size minus its position
        // is negative past the end.
        int count = int(TRY(readable_bytes(f)));
        TRY(UserPtr<int>(a.u64(2)).write(count));
        return 0;
    }
    default:
        return f->ioctl(a.u32(1), a.u64(2));
    }
}

namespace {

// getdents64 and getdents: the directory's entries as linux_dirent64 records, turned into
// the legacy linux_dirent ones for getdents. Both have the same size for a name (an
// 8-byte ino and off, a 2-byte reclen, the name and its NUL, one type byte, aligned to
// 8), so the same entries fit and each record is turned in place: the name moves down by
// the type byte, which goes to the record's last byte.
Result<long> read_dirents(const SyscallArgs& a, bool legacy) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    size_t size = a.u64(2) > 65536 ? 65536 : size_t(a.u64(2));
    // Probe the whole buffer first: entries handed out are consumed, so a fault while
    // copying them out would lose them.
    TRY(clear_user(a.u64(1), size));
    auto* buf = static_cast<uint8_t*>(kmalloc(size ? size : 1));
    if (!buf)
        return Errno(ENOMEM);
    HeapGuard guard{buf};
    size_t n = TRY(f->getdents64(buf, size));
    constexpr size_t kTypeAt = 18;  // offsetof(struct linux_dirent64, d_type)
    for (size_t at = 0; legacy && at < n;) {
        uint8_t* rec = buf + at;
        uint16_t reclen;
        memcpy(&reclen, rec + 16, sizeof(reclen));
        uint8_t type = rec[kTypeAt];
        size_t name_len = strlen(reinterpret_cast<char*>(rec + kTypeAt + 1));
        memmove(rec + kTypeAt, rec + kTypeAt + 1, name_len + 1);
        rec[reclen - 1] = type;
        at += reclen;
    }
    TRY(copy_to_user(a.u64(1), buf, n));
    return long(n);
}

}  // namespace

Result<long> sys_getdents64(const SyscallArgs& a) { return read_dirents(a, false); }

Result<long> sys_getdents(const SyscallArgs& a) { return read_dirents(a, true); }

Result<long> sys_fadvise64(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    if (a.i32(3) < 0 || a.i32(3) > 5)
        return Errno(EINVAL);
    fs::Stat st;
    TRY(f->stat(&st));
    if ((st.mode & S_IFMT) == S_IFIFO)
        return Errno(ESPIPE);
    return 0;  // advice only: ignoring it is what Linux does for many file systems
}

}  // namespace carbyne::libos
