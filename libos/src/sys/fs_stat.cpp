// stat, fstat, lstat, newfstatat, statx, access, faccessat, faccessat2, readlink, readlinkat,
// getcwd, chdir, fchdir, umask
#include <asm/stat.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#include "../fs/dentry.h"
#include "../fs/vfs.h"
#include "../proc/process.h"
#include "fs_common.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

struct stat to_kernel_stat(const fs::Stat& s) {
    struct stat k;
    memset(&k, 0, sizeof(k));
    k.st_dev = s.dev;
    k.st_ino = s.ino;
    k.st_nlink = s.nlink;
    k.st_mode = s.mode;
    k.st_uid = s.uid;
    k.st_gid = s.gid;
    k.st_rdev = s.rdev;
    k.st_size = long(s.size);
    k.st_blksize = long(s.blksize);
    k.st_blocks = long(s.blocks);
    k.st_atime = s.atime_ns / 1000000000;
    k.st_atime_nsec = s.atime_ns % 1000000000;
    k.st_mtime = s.mtime_ns / 1000000000;
    k.st_mtime_nsec = s.mtime_ns % 1000000000;
    k.st_ctime = s.ctime_ns / 1000000000;
    k.st_ctime_nsec = s.ctime_ns % 1000000000;
    return k;
}

// The status named by (dirfd, path, flags) of the *at calls.
Result<void> stat_at(int dirfd, uint64_t path, uint32_t flags, fs::Stat* out) {
    if (flags & ~uint32_t(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
        return Errno(EINVAL);
    if (flags & AT_EMPTY_PATH) {
        char first;
        TRY(copy_from_user(&first, path, 1));
        if (!first) {
            if (dirfd == AT_FDCWD) {
                ResolvedBox box;
                if (!box.get())
                    return Errno(ENOMEM);
                char cwd[fs::kPathMax];
                // FIXME: a removed cwd has no path to walk; Linux still gives its status.
                if (TRY(process_get_cwd(cwd)))
                    return Errno(ENOENT);
                // The working directory itself: Linux walks nothing here.
                TRY(fs::vfs_resolve_with("/", cwd, true, fs::kResolveNoSearchCheck, box.get()));
                *out = box.get()->stat;
                return {};
            }
            FileRef f = TRY(g_process.fds.get(dirfd, true));
            return f->stat(out);
        }
    }
    ResolvedBox box;
    if (!box.get())
        return Errno(ENOMEM);
    bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
    TRY(resolve_user_path(dirfd, path, follow, box.get()));
    if (!box.get()->exists) {
        // /proc/self/fd/N of a file without a path (a pipe, a socket): the file's own
        // status, as Linux follows the link to its inode.
        if (follow) {
            ResolvedBox link;
            if (link.get() && resolve_user_path(dirfd, path, false, link.get()).ok()) {
                int fd = fs::vfs_proc_fd_link(*link.get());
                if (fd >= 0) {
                    FileRef f = TRY(g_process.fds.get(fd, true));
                    return f->stat(out);
                }
            }
        }
        return Errno(ENOENT);
    }
    *out = box.get()->stat;
    return {};
}

Result<long> put_stat(uint64_t user, const fs::Stat& s) {
    struct stat k = to_kernel_stat(s);
    TRY(copy_to_user(user, &k, sizeof(k)));
    return 0;
}

// access(2) against the LibOS's credentials: the real ids (the whole walk too), or with
// AT_EACCESS the file-system ones, with the supplementary groups (fs/permission.h).
Result<long> access_at(int dirfd, uint64_t path, int mode, uint32_t flags) {
    constexpr int kWrite = 2;
    if (mode & ~7)
        return Errno(EINVAL);
    if (flags & ~uint32_t(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH))
        return Errno(EINVAL);
    HeapBox<PathBuf> p;
    TRY(copy_path_from_user(path, p.get()));
    fs::Stat st;
    const fs::Mount* mount;
    if (!p.get()->s[0] && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
        FileRef f = TRY(g_process.fds.get(dirfd, true));
        TRY(f->stat(&st));
        mount = f->mount();
    } else {
        if (!p.get()->s[0] && (flags & AT_EMPTY_PATH))
            strlcpy(p.get()->s, ".", sizeof(p.get()->s));
        ResolvedBox box;
        uint32_t ids = (flags & AT_EACCESS) ? 0u : uint32_t(fs::kResolveRealIds);
        TRY(resolve_path_at(dirfd, p.get()->s, !(flags & AT_SYMLINK_NOFOLLOW), ids, box.get()));
        if (!box.get()->exists)
            return Errno(ENOENT);
        st = box.get()->stat;
        mount = box.get()->mount;
    }
    if (!mode)
        return 0;  // F_OK
    uint32_t type = st.mode & S_IFMT;
    if ((mode & kWrite) && mount && mount->readonly && (type == S_IFREG || type == S_IFDIR || type == S_IFLNK))
        return Errno(EROFS);
    fs::FsIds who = (flags & AT_EACCESS) ? fs::FsIds::current() : fs::FsIds::real();
    TRY(fs::check_permission(who, fs::attrs_of(st), uint32_t(mode)));
    return 0;
}

}  // namespace

Result<long> sys_stat(const SyscallArgs& a) {
    fs::Stat s;
    TRY(stat_at(AT_FDCWD, a.u64(0), 0, &s));
    return put_stat(a.u64(1), s);
}

Result<long> sys_lstat(const SyscallArgs& a) {
    fs::Stat s;
    TRY(stat_at(AT_FDCWD, a.u64(0), AT_SYMLINK_NOFOLLOW, &s));
    return put_stat(a.u64(1), s);
}

Result<long> sys_fstat(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0), true));
    fs::Stat s;
    TRY(f->stat(&s));
    return put_stat(a.u64(1), s);
}

Result<long> sys_newfstatat(const SyscallArgs& a) {
    fs::Stat s;
    TRY(stat_at(a.fd(0), a.u64(1), a.u32(3), &s));
    return put_stat(a.u64(2), s);
}

Result<long> sys_statx(const SyscallArgs& a) {
    if (a.u32(3) & ~uint32_t(STATX_ALL | STATX_MNT_ID | STATX__RESERVED) && (a.u32(3) & STATX__RESERVED))
        return Errno(EINVAL);
    fs::Stat s;
    TRY(stat_at(a.fd(0), a.u64(1), a.u32(2), &s));
    struct statx x;
    memset(&x, 0, sizeof(x));
    x.stx_mask = STATX_BASIC_STATS;
    x.stx_blksize = uint32_t(s.blksize);
    x.stx_nlink = uint32_t(s.nlink);
    x.stx_uid = s.uid;
    x.stx_gid = s.gid;
    x.stx_mode = uint16_t(s.mode);
    x.stx_ino = s.ino;
    x.stx_size = s.size;
    x.stx_blocks = s.blocks;
    auto ts = [](int64_t ns) {
        struct statx_timestamp t = {};
        t.tv_sec = ns / 1000000000;
        t.tv_nsec = uint32_t(ns % 1000000000);
        return t;
    };
    x.stx_atime = ts(s.atime_ns);
    x.stx_mtime = ts(s.mtime_ns);
    x.stx_ctime = ts(s.ctime_ns);
    x.stx_rdev_major = uint32_t((s.rdev >> 8) & 0xfff);
    x.stx_rdev_minor = uint32_t((s.rdev & 0xff) | ((s.rdev >> 12) & 0xfff00));
    x.stx_dev_major = uint32_t((s.dev >> 8) & 0xfff);
    x.stx_dev_minor = uint32_t((s.dev & 0xff) | ((s.dev >> 12) & 0xfff00));
    TRY(copy_to_user(a.u64(4), &x, sizeof(x)));
    return 0;
}

Result<long> sys_access(const SyscallArgs& a) { return access_at(AT_FDCWD, a.u64(0), a.i32(1), 0); }
Result<long> sys_faccessat(const SyscallArgs& a) { return access_at(a.fd(0), a.u64(1), a.i32(2), 0); }
Result<long> sys_faccessat2(const SyscallArgs& a) { return access_at(a.fd(0), a.u64(1), a.i32(2), a.u32(3)); }

Result<long> sys_readlinkat(const SyscallArgs& a) {
    if (a.i64(3) <= 0)
        return Errno(EINVAL);
    ResolvedBox box;
    if (!box.get())
        return Errno(ENOMEM);
    HeapBox<PathBuf> path;
    TRY(copy_path_from_user(a.u64(1), path.get()));
    if (path.get()->s[0] == '\0') {
        // An empty path names the symlink open at dirfd (O_PATH | O_NOFOLLOW); anything
        // else, the working directory included, is ENOENT, as Linux answers.
        if (a.fd(0) == AT_FDCWD)
            return Errno(ENOENT);
        FileRef f = TRY(g_process.fds.get(a.fd(0), true));
        fs::Stat st;
        TRY(f->stat(&st));
        if ((st.mode & S_IFMT) != S_IFLNK || !f->has_path())
            return Errno(ENOENT);
        // FIXME: read through the file's own object once dentries carry inodes; its path,
        // which follows renames, until then.
        char link_path[fs::kPathMax];
        bool deleted = false;
        TRY(f->path(link_path, sizeof(link_path), &deleted));
        if (deleted)
            return Errno(ENOENT);
        TRY(resolve_path_at(AT_FDCWD, link_path, false, 0, box.get()));
    } else {
        TRY(resolve_path_at(a.fd(0), path.get()->s, false, 0, box.get()));
    }
    char target[fs::kPathMax];
    size_t len = TRY(fs::vfs_readlink(*box.get(), target, sizeof(target)));
    size_t n = len < a.u64(3) ? len : size_t(a.u64(3));
    TRY(copy_to_user(a.u64(2), target, n));
    return long(n);
}

Result<long> sys_readlink(const SyscallArgs& a) {
    SyscallArgs at = {{uint64_t(int64_t(AT_FDCWD)), a.a[0], a.a[1], a.a[2], 0, 0}};
    return sys_readlinkat(at);
}

Result<long> sys_getcwd(const SyscallArgs& a) {
    char cwd[fs::kPathMax];
    if (TRY(process_get_cwd(cwd)))
        return Errno(ENOENT);  // removed: Linux has no path to give
    size_t len = strlen(cwd) + 1;
    if (a.u64(1) < len)
        return Errno(ERANGE);
    TRY(copy_to_user(a.u64(0), cwd, len));
    return long(len);
}

namespace {
Result<long> change_dir(const fs::Resolved& r) {
    if (!r.exists)
        return Errno(ENOENT);
    if ((r.stat.mode & S_IFMT) != S_IFDIR)
        return Errno(ENOTDIR);
    TRY(fs::check_permission(fs::FsIds::current(), fs::attrs_of(r.stat), fs::kMayExec));
    TRY(process_set_cwd(r.path));
    return 0;
}
}  // namespace

Result<long> sys_chdir(const SyscallArgs& a) {
    ResolvedBox box;
    if (!box.get())
        return Errno(ENOMEM);
    TRY(resolve_user_path(AT_FDCWD, a.u64(0), true, box.get()));
    return change_dir(*box.get());
}

Result<long> sys_fchdir(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0), true));
    fs::Stat st;
    TRY(f->stat(&st));
    if ((st.mode & S_IFMT) != S_IFDIR)
        return Errno(ENOTDIR);
    TRY(fs::check_permission(fs::FsIds::current(), fs::attrs_of(st), fs::kMayExec));
    // The directory's own name, even a removed one (the cwd is then a removed directory).
    if (fs::Dentry* d = f->dentry()) {
        process_set_cwd_dentry(fs::dentry_ref(d));
        return 0;
    }
    char path[fs::kPathMax];
    TRY(f->path(path, sizeof(path)));
    TRY(process_set_cwd(path));
    return 0;
}

Result<long> sys_umask(const SyscallArgs& a) {
    SpinGuard g(g_process.lock);
    uint32_t old = g_process.umask;
    g_process.umask = a.u32(0) & 0777;
    return long(old);
}

}  // namespace carbyne::libos
