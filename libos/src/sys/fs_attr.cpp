// chmod, fchmod, fchmodat, chown, fchown, lchown, fchownat, utime, utimes, futimesat,
// utimensat, truncate, ftruncate, fallocate, fsync, fdatasync, sync, syncfs,
// sync_file_range, readahead, statfs, fstatfs
#include <asm/statfs.h>
#include <carbyne/string.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/inotify.h>
#include <linux/stat.h>
#include <linux/time_types.h>

#include "../fs/inotify.h"
#include "../fs/vfs.h"
#include "../proc/process.h"
#include "fs_common.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr long kUtimeNow = (1l << 30) - 1;
constexpr long kUtimeOmit = (1l << 30) - 2;

// An open file whose attributes may change: EROFS on a read-only mount.
Result<void> check_writable_mount(const FileRef& f) {
    if (f->mount() && f->mount()->readonly)
        return Errno(EROFS);
    return {};
}

// The owner and mode of an open file, for the permission rules of fchmod, fchown and
// futimens (fs/permission.h).
Result<fs::Attrs> attrs_of_file(const FileRef& f) {
    fs::Stat st;
    TRY(f->stat(&st));
    return fs::attrs_of(st);
}

// fchown(2) and fchownat(2) with AT_EMPTY_PATH: chown's rule, then the change.
Result<void> chown_file(const FileRef& f, uint32_t uid, uint32_t gid) {
    TRY(check_writable_mount(f));
    fs::Attrs attrs = TRY(attrs_of_file(f));
    TRY(fs::check_chown(fs::FsIds::current(), attrs, uid, gid));
    return f->chown(uid, gid);
}

// futimens(2) and utimensat(2) with AT_EMPTY_PATH: utimensat's rule, then the change.
Result<void> set_file_times(const FileRef& f, int64_t atime_ns, int64_t mtime_ns) {
    TRY(check_writable_mount(f));
    fs::Attrs attrs = TRY(attrs_of_file(f));
    TRY(fs::check_utimes(fs::FsIds::current(), attrs, atime_ns == fs::kTimeNow && mtime_ns == fs::kTimeNow));
    return f->utimens(atime_ns, mtime_ns);
}

// The target of an *at attribute call: a resolved path, or with AT_EMPTY_PATH and an empty
// path the file open at dirfd (O_PATH too). Exactly one of `r` (exists) or `file` is set.
struct AttrTarget {
    ResolvedBox r;
    FileRef file;
    bool is_file = false;
};

Result<void> attr_target(int dirfd, uint64_t user_path, bool follow, bool empty_path_ok, AttrTarget* t) {
    HeapBox<PathBuf> path;
    TRY(copy_path_from_user(user_path, path.get()));
    if (!path.get()->s[0] && empty_path_ok) {
        if (dirfd != AT_FDCWD) {
            t->file = TRY(g_process.fds.get(dirfd, true));
            t->is_file = true;
            return {};
        }
        strlcpy(path.get()->s, ".", sizeof(path.get()->s));
    }
    TRY(resolve_path_at(dirfd, path.get()->s, follow, 0, t->r.get()));
    if (!t->r.get()->exists)
        return Errno(ENOENT);
    return {};
}

// -- chmod ------------------------------------------------------------------------------

Result<long> chmod_at(int dirfd, uint64_t path, uint32_t mode) {
    AttrTarget t;
    TRY(attr_target(dirfd, path, true, false, &t));
    TRY(fs::vfs_chmod(*t.r.get(), mode & 07777));
    return 0;
}

// -- chown ------------------------------------------------------------------------------

Result<long> chown_at(int dirfd, uint64_t path, uint32_t uid, uint32_t gid, uint32_t flags) {
    if (flags & ~uint32_t(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Errno(EINVAL);
    AttrTarget t;
    TRY(attr_target(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) != 0, &t));
    if (t.is_file) {
        TRY(chown_file(t.file, uid, gid));
    } else {
        TRY(fs::vfs_chown(*t.r.get(), uid, gid));
    }
    return 0;
}

// -- times ------------------------------------------------------------------------------

// A time in ns for the FileSystem (kTimeNow, kTimeOmit or a value), saturated to what an
// int64_t of ns holds (Linux clamps to the file system's range in the same way).
int64_t time_ns(int64_t sec, int64_t nsec) {
    if (nsec == kUtimeNow)
        return fs::kTimeNow;
    if (nsec == kUtimeOmit)
        return fs::kTimeOmit;
    int64_t ns;
    if (__builtin_mul_overflow(sec, kNsPerSec, &ns) || __builtin_add_overflow(ns, nsec, &ns))
        return sec < 0 ? fs::kTimeNow + 1 : INT64_MAX;
    return ns < fs::kTimeNow + 1 ? fs::kTimeNow + 1 : ns;
}

bool nsec_valid(int64_t nsec) { return (nsec >= 0 && nsec < kNsPerSec) || nsec == kUtimeNow || nsec == kUtimeOmit; }

// utimensat's core: times are ns values (or kTimeNow / kTimeOmit). `path` 0 means dirfd.
// Invalid times (!valid) are EINVAL once the target is found, as in Linux's vfs_utimes.
Result<long> set_times(int dirfd, uint64_t path, int64_t atime_ns, int64_t mtime_ns, uint32_t flags,
                       bool valid = true) {
    if (!path) {
        if (dirfd == AT_FDCWD)
            return Errno(EFAULT);
        if (flags)
            return Errno(EINVAL);
        FileRef f = TRY(g_process.fds.get(dirfd));
        if (!valid)
            return Errno(EINVAL);
        TRY(set_file_times(f, atime_ns, mtime_ns));
        return 0;
    }
    if (flags & ~uint32_t(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return Errno(EINVAL);
    AttrTarget t;
    TRY(attr_target(dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), (flags & AT_EMPTY_PATH) != 0, &t));
    if (!valid)
        return Errno(EINVAL);
    if (t.is_file) {
        TRY(set_file_times(t.file, atime_ns, mtime_ns));
    } else {
        TRY(fs::vfs_utimens(*t.r.get(), atime_ns, mtime_ns));
    }
    return 0;
}

// utimes/futimesat: struct timeval pairs, NULL for now.
Result<long> set_times_timeval(int dirfd, uint64_t path, uint64_t user_times) {
    if (!user_times)
        return set_times(dirfd, path, fs::kTimeNow, fs::kTimeNow, 0);
    struct {
        int64_t sec, usec;
    } tv[2];
    TRY(copy_from_user(tv, user_times, sizeof(tv)));
    for (auto& t : tv)
        if (t.usec < 0 || t.usec >= 1000000)
            return Errno(EINVAL);
    return set_times(dirfd, path, time_ns(tv[0].sec, tv[0].usec * 1000), time_ns(tv[1].sec, tv[1].usec * 1000), 0);
}

// -- sizes and space --------------------------------------------------------------------

Result<FileRef> writable_regular_file(int fd) {
    FileRef f = TRY(g_process.fds.get(fd));
    fs::Stat st;
    TRY(f->stat(&st));
    if ((st.mode & S_IFMT) != S_IFREG || !f->writable())
        return Errno(EINVAL);
    return f;
}

// -- statfs -----------------------------------------------------------------------------

Result<long> put_statfs(uint64_t user, const fs::StatFs& s) {
    constexpr uint64_t kStValid = 0x20;  // Linux sets it in every statfs answer
    struct statfs k;
    memset(&k, 0, sizeof(k));
    k.f_type = long(s.type);
    k.f_bsize = long(s.block_size);
    k.f_blocks = long(s.blocks);
    k.f_bfree = long(s.blocks_free);
    k.f_bavail = long(s.blocks_avail);
    k.f_files = long(s.files);
    k.f_ffree = long(s.files_free);
    k.f_namelen = long(s.name_max);
    k.f_frsize = long(s.block_size);
    k.f_flags = long(s.flags | kStValid);
    TRY(copy_to_user(user, &k, sizeof(k)));
    return 0;
}

}  // namespace

Result<long> sys_chmod(const SyscallArgs& a) { return chmod_at(AT_FDCWD, a.u64(0), a.u32(1)); }
Result<long> sys_fchmodat(const SyscallArgs& a) { return chmod_at(a.fd(0), a.u64(1), a.u32(2)); }

Result<long> sys_fchmod(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    TRY(check_writable_mount(f));
    fs::Attrs attrs = TRY(attrs_of_file(f));
    fs::FsIds who = fs::FsIds::current();
    if (!fs::owner_or_privileged(who, attrs))
        return Errno(EPERM);
    TRY(f->chmod(fs::chmod_mode(who, attrs, a.u32(1) & 07777)));
    fs::notify_file(f.get(), IN_ATTRIB);
    return 0;
}

Result<long> sys_chown(const SyscallArgs& a) { return chown_at(AT_FDCWD, a.u64(0), a.u32(1), a.u32(2), 0); }
Result<long> sys_lchown(const SyscallArgs& a) {
    return chown_at(AT_FDCWD, a.u64(0), a.u32(1), a.u32(2), AT_SYMLINK_NOFOLLOW);
}
Result<long> sys_fchownat(const SyscallArgs& a) {
    return chown_at(a.fd(0), a.u64(1), a.u32(2), a.u32(3), a.u32(4));
}

Result<long> sys_fchown(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    TRY(chown_file(f, a.u32(1), a.u32(2)));
    fs::notify_file(f.get(), IN_ATTRIB);
    return 0;
}

Result<long> sys_utimensat(const SyscallArgs& a) {
    int64_t atime = fs::kTimeNow, mtime = fs::kTimeNow;
    bool valid = true;
    if (a.u64(2)) {
        __kernel_timespec ts[2];
        TRY(copy_from_user(ts, a.u64(2), sizeof(ts)));
        if (ts[0].tv_nsec == kUtimeOmit && ts[1].tv_nsec == kUtimeOmit)
            return 0;  // nothing to change: Linux does not even look at the path
        valid = nsec_valid(ts[0].tv_nsec) && nsec_valid(ts[1].tv_nsec);
        atime = time_ns(ts[0].tv_sec, ts[0].tv_nsec);
        mtime = time_ns(ts[1].tv_sec, ts[1].tv_nsec);
    }
    return set_times(a.fd(0), a.u64(1), atime, mtime, a.u32(3), valid);
}

Result<long> sys_utime(const SyscallArgs& a) {
    if (!a.u64(1))
        return set_times(AT_FDCWD, a.u64(0), fs::kTimeNow, fs::kTimeNow, 0);
    struct {
        int64_t actime, modtime;
    } buf;
    TRY(copy_from_user(&buf, a.u64(1), sizeof(buf)));
    return set_times(AT_FDCWD, a.u64(0), time_ns(buf.actime, 0), time_ns(buf.modtime, 0), 0);
}

Result<long> sys_utimes(const SyscallArgs& a) { return set_times_timeval(AT_FDCWD, a.u64(0), a.u64(1)); }
Result<long> sys_futimesat(const SyscallArgs& a) { return set_times_timeval(a.fd(0), a.u64(1), a.u64(2)); }

Result<long> sys_truncate(const SyscallArgs& a) {
    if (a.i64(1) < 0)
        return Errno(EINVAL);
    ResolvedBox r;
    TRY(resolve_user_path(AT_FDCWD, a.u64(0), true, r.get()));
    TRY(fs::vfs_truncate(*r.get(), a.u64(1)));
    return 0;
}

Result<long> sys_ftruncate(const SyscallArgs& a) {
    if (a.i64(1) < 0)
        return Errno(EINVAL);
    FileRef f = TRY(writable_regular_file(a.fd(0)));
    TRY(f->truncate(a.u64(1)));
    fs::notify_file(f.get(), IN_MODIFY);
    return 0;
}

Result<long> sys_fallocate(const SyscallArgs& a) {
    constexpr uint32_t kKeepSize = 0x01, kPunchHole = 0x02, kCollapse = 0x08, kZero = 0x10, kInsert = 0x20,
                       kUnshare = 0x40, kWriteZeroes = 0x80;
    constexpr uint32_t kModeMask = kPunchHole | kCollapse | kZero | kInsert | kUnshare | kWriteZeroes;
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    uint32_t mode = a.u32(1);
    int64_t offset = a.i64(2), len = a.i64(3);
    // vfs_fallocate's checks, in its order: one operation (or none: allocate), with
    // FALLOC_FL_KEEP_SIZE where it means something.
    if (offset < 0 || len <= 0)
        return Errno(EINVAL);
    if (mode & ~(kModeMask | kKeepSize))
        return Errno(EOPNOTSUPP);
    switch (mode & kModeMask) {
    case 0:
    case kUnshare:
    case kZero: break;
    case kPunchHole:
        if (!(mode & kKeepSize))
            return Errno(EOPNOTSUPP);
        break;
    case kCollapse:
    case kInsert:
    case kWriteZeroes:
        if (mode & kKeepSize)
            return Errno(EOPNOTSUPP);
        break;
    default: return Errno(EOPNOTSUPP);
    }
    if (!f->writable())
        return Errno(EBADF);
    fs::Stat st;
    TRY(f->stat(&st));
    switch (st.mode & S_IFMT) {
    case S_IFIFO: return Errno(ESPIPE);
    case S_IFDIR: return Errno(EISDIR);
    case S_IFREG: break;
    default: return Errno(ENODEV);
    }
    int64_t end;
    if (__builtin_add_overflow(offset, len, &end))
        return Errno(EFBIG);
    auto done = f->allocate(int(mode), uint64_t(offset), uint64_t(len));
    if (!done.ok())
        return done.error() == Errno(ENODEV) ? Errno(EOPNOTSUPP) : done.error();  // a file system without it
    return 0;
}

Result<long> sys_fsync(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    TRY(f->sync());
    return 0;
}

Result<long> sys_fdatasync(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    TRY(f->datasync());
    return 0;
}

Result<long> sys_sync(const SyscallArgs&) {
    fs::vfs_sync_all();
    return 0;
}

Result<long> sys_syncfs(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    if (f->mount())
        TRY(f->mount()->fs->sync());
    return 0;
}

Result<long> sys_sync_file_range(const SyscallArgs& a) {
    constexpr uint32_t kWaitBefore = 1, kWrite = 2, kWaitAfter = 4;
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    int64_t offset = a.i64(1), nbytes = a.i64(2);
    uint32_t flags = a.u32(3);
    if (flags & ~(kWaitBefore | kWrite | kWaitAfter))
        return Errno(EINVAL);
    int64_t end;
    if (offset < 0 || nbytes < 0 || __builtin_add_overflow(offset, nbytes, &end))
        return Errno(EINVAL);
    fs::Stat st;
    TRY(f->stat(&st));
    uint32_t type = st.mode & S_IFMT;
    if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK && type != S_IFBLK)
        return Errno(ESPIPE);
    // The whole file's data is written back: more than the range asked for, never less.
    if (flags)
        TRY(f->datasync());
    return 0;
}

Result<long> sys_readahead(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    if (!f->readable())
        return Errno(EBADF);
    fs::Stat st;
    TRY(f->stat(&st));
    if ((st.mode & S_IFMT) != S_IFREG)
        return Errno(EINVAL);
    return 0;  // a hint: the host's page cache does its own read-ahead
}

Result<long> sys_statfs(const SyscallArgs& a) {
    ResolvedBox r;
    TRY(resolve_user_path(AT_FDCWD, a.u64(0), true, r.get()));
    if (!r.get()->exists)
        return Errno(ENOENT);
    fs::StatFs s{};
    TRY(fs::vfs_statfs(r.get()->mount, r.get()->rel, &s));
    return put_statfs(a.u64(1), s);
}

Result<long> sys_fstatfs(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0), true));
    const fs::Mount* m = f->mount();
    if (!m)
        return Errno(ENOSYS);  // FIXME: consoles (and later pipes, sockets) have no mount to ask
    fs::StatFs s{};
    // By the path the file was opened with; a file renamed or unlinked since still lives on
    // the same mount, whose root answers then.
    char path[fs::kPathMax];
    bool deleted = false;
    bool named = f->path(path, sizeof(path), &deleted).ok() && !deleted;
    auto at_path = named && fs::path_is_within(path, m->path) ? fs::vfs_statfs(m, fs::path_below(path, m->path), &s)
                                                              : Result<void>(Errno(ENOENT));
    if (!at_path.ok()) {
        s = fs::StatFs{};
        TRY(fs::vfs_statfs(m, "", &s));
    }
    return put_statfs(a.u64(1), s);
}

}  // namespace carbyne::libos
