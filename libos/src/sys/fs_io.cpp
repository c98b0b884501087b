// read, write, pread64, pwrite64, readv, writev, lseek, open, openat, close, dup, dup2, dup3,
// fcntl, ioctl, getdents64, fadvise64
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/uio.h>

#include "../fs/vfs.h"
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

using fs::IoBuf;

namespace {

constexpr long kMaxRw = 0x7ffff000;  // MAX_RW_COUNT: Linux caps one transfer at this
constexpr int kIovMax = 1024;

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

// Runs one transfer per iovec; stops at the first short one. Errors after some bytes
// were moved become a short count, as on Linux.
template <typename Op>
Result<long> vector_io(uint64_t iov_addr, int iovcnt, Op op) {
    if (iovcnt < 0 || iovcnt > kIovMax)
        return Errno(EINVAL);
    long total = 0;
    for (int i = 0; i < iovcnt; i++) {
        struct iovec iov;
        TRY(copy_from_user(&iov, iov_addr + uint64_t(i) * sizeof(iov), sizeof(iov)));
        if (int64_t(iov.iov_len) < 0)
            return Errno(EINVAL);
        if (!iov.iov_len)
            continue;
        size_t want = cap(iov.iov_len);
        auto done = op(IoBuf::app(uint64_t(iov.iov_base)), want, total);
        if (!done.ok())
            return total ? Result<long>(total) : Result<long>(done.error());
        total += long(done.value());
        if (done.value() < want)
            break;
    }
    return total;
}

Result<void> dirfd_base(int dirfd, char* out) {
    if (dirfd == AT_FDCWD) {
        process_get_cwd(out);
        return {};
    }
    FileRef f = TRY(g_process.fds.get(dirfd, true));
    fs::Stat st;
    TRY(f->stat(&st));
    if ((st.mode & S_IFMT) != S_IFDIR)
        return Errno(ENOTDIR);
    strlcpy(out, f->path() ? f->path() : "/", fs::kPathMax);
    return {};
}

}  // namespace

Result<void> resolve_user_path(int dirfd, uint64_t user_path, bool follow, fs::Resolved* out) {
    char* buf = static_cast<char*>(kmalloc(fs::kPathMax * 2));
    if (!buf)
        return Errno(ENOMEM);
    struct Freer {
        char* p;
        ~Freer() { kfree(p); }
    } freer{buf};
    char* base = buf + fs::kPathMax;
    TRY(copy_string_from_user(buf, user_path, fs::kPathMax));
    if (!buf[0])
        return Errno(ENOENT);
    if (buf[0] != '/')
        TRY(dirfd_base(dirfd, base));
    else
        base[0] = '/', base[1] = '\0';
    return fs::vfs_resolve(base, buf, follow, out);
}

Result<long> sys_read(const SyscallArgs& a) {
    FileRef f = TRY(readable_file(a.fd(0)));
    return long(TRY(f->read(IoBuf::app(a.u64(1)), cap(a.u64(2)))));
}

Result<long> sys_write(const SyscallArgs& a) {
    FileRef f = TRY(writable_file(a.fd(0)));
    return long(TRY(f->write(IoBuf::app(a.u64(1)), cap(a.u64(2)))));
}

Result<long> sys_pread64(const SyscallArgs& a) {
    FileRef f = TRY(readable_file(a.fd(0)));
    if (a.i64(3) < 0)
        return Errno(EINVAL);
    return long(TRY(f->pread(IoBuf::app(a.u64(1)), cap(a.u64(2)), a.u64(3))));
}

Result<long> sys_pwrite64(const SyscallArgs& a) {
    FileRef f = TRY(writable_file(a.fd(0)));
    if (a.i64(3) < 0)
        return Errno(EINVAL);
    return long(TRY(f->pwrite(IoBuf::app(a.u64(1)), cap(a.u64(2)), a.u64(3))));
}

Result<long> sys_readv(const SyscallArgs& a) {
    FileRef f = TRY(readable_file(a.fd(0)));
    return vector_io(a.u64(1), a.i32(2), [&](IoBuf b, size_t n, long) { return f->read(b, n); });
}

Result<long> sys_writev(const SyscallArgs& a) {
    FileRef f = TRY(writable_file(a.fd(0)));
    return vector_io(a.u64(1), a.i32(2), [&](IoBuf b, size_t n, long) { return f->write(b, n); });
}

Result<long> sys_lseek(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    return long(TRY(f->seek(a.i64(1), a.i32(2))));
}

Result<long> sys_openat(const SyscallArgs& a) {
    uint32_t flags = a.u32(2);
    uint32_t mode = a.u32(3) & 07777;
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return Errno(EOPNOTSUPP);
    if ((flags & O_CREAT) && (flags & O_DIRECTORY))
        return Errno(EINVAL);
    auto* r = static_cast<fs::Resolved*>(kmalloc(sizeof(fs::Resolved)));
    if (!r)
        return Errno(ENOMEM);
    struct Freer {
        void* p;
        ~Freer() { kfree(p); }
    } freer{r};
    bool follow = !(flags & O_NOFOLLOW);
    TRY(resolve_user_path(a.fd(0), a.u64(1), follow, r));
    uint32_t umask;
    {
        SpinGuard g(g_process.lock);
        umask = g_process.umask;
    }
    int fd = TRY(g_process.fds.reserve(0));
    auto file = fs::vfs_open(*r, flags, mode & ~umask);
    if (!file.ok()) {
        g_process.fds.cancel(fd);
        return file.error();
    }
    g_process.fds.commit(fd, file.value(), (flags & O_CLOEXEC) != 0);
    return fd;
}

Result<long> sys_open(const SyscallArgs& a) {
    SyscallArgs at = {{uint64_t(int64_t(AT_FDCWD)), a.a[0], a.a[1], a.a[2], 0, 0}};
    return sys_openat(at);
}

Result<long> sys_close(const SyscallArgs& a) {
    TRY(g_process.fds.close(a.fd(0)));
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

Result<long> sys_fcntl(const SyscallArgs& a) {
    int fd = a.fd(0);
    switch (a.i32(1)) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        FileRef f = TRY(g_process.fds.get(fd, true));
        if (a.i64(2) < 0 || a.i64(2) >= kMaxFds)
            return Errno(EINVAL);
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
        f->set_flags((f->flags() & ~kSettable) | (a.u32(2) & kSettable));
        return 0;
    }
    default:
        return Errno(EINVAL);
    }
}

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
    default:
        return Errno(ENOTTY);
    }
}

Result<long> sys_getdents64(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    size_t size = a.u64(2) > 65536 ? 65536 : size_t(a.u64(2));
    // Probe the whole buffer first: entries handed out are consumed, so a fault while
    // copying them out would lose them.
    TRY(clear_user(a.u64(1), size));
    void* buf = kmalloc(size ? size : 1);
    if (!buf)
        return Errno(ENOMEM);
    struct Freer {
        void* p;
        ~Freer() { kfree(p); }
    } freer{buf};
    size_t n = TRY(f->getdents64(buf, size));
    TRY(copy_to_user(a.u64(1), buf, n));
    return long(n);
}

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
