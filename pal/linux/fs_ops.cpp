// Host file-system operations for chroot mounts: namespace changes (mkdir, mkfifo, rename,
// link, symlink), attributes (mode, owner, times, size), space allocation, write-back and statfs.
//
// Every path is resolved beneath its root handle (beneath.h). The LibOS hands over paths
// whose symlinks it has resolved itself, so no call here follows a symlink, the last
// component included: each acts on what the path names, never on what a symlink planted
// there by someone else would point at.
#include <asm/errno.h>
#include <asm/stat.h>
#include <asm/statfs.h>
#include <asm/unistd.h>
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <linux/fcntl.h>
#include <linux/stat.h>
#include <linux/time_types.h>

#include "beneath.h"
#include "pal_internal.h"

namespace carbyne::pal {

namespace {

constexpr long kUtimeNow = (1l << 30) - 1;
constexpr long kUtimeOmit = (1l << 30) - 2;
constexpr long kNrFchmodat2 = 452;  // Linux 6.6; not in older uapi headers

long close_fd(long fd) { return host_syscall1(__NR_close, fd); }

// Opens what `path` names beneath `root` (a symlink itself) as an O_PATH descriptor.
long open_path_nofollow(PalHandle* root, const char* path) {
    return open_beneath(root, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
}

// mknodat of a FIFO or socket node `path` beneath `root`.
PalError make_node(PalHandle* root, const char* path, uint32_t type_and_mode) {
    BeneathParent parent;
    PalError e = parent.resolve(root, path);
    if (e != PAL_OK)
        return e;
    return error_from_host(host_syscall4(__NR_mknodat, parent.dirfd(), long(parent.name()), type_and_mode, 0));
}

__kernel_timespec host_time(int64_t ns) {
    __kernel_timespec ts;
    if (ns == PAL_TIME_OMIT) {
        ts.tv_sec = 0;
        ts.tv_nsec = kUtimeOmit;
    } else if (ns == PAL_TIME_NOW) {
        ts.tv_sec = 0;
        ts.tv_nsec = kUtimeNow;
    } else {
        // Floor division: times before 1970 have a negative second and a positive ns part.
        ts.tv_sec = ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        if (ts.tv_nsec < 0) {
            ts.tv_sec -= 1;
            ts.tv_nsec += 1000000000;
        }
    }
    return ts;
}

void info_from_statfs(const struct statfs& s, PalFsInfo* out) {
    out->type = uint64_t(s.f_type);
    out->block_size = uint64_t(s.f_bsize);
    out->blocks = uint64_t(s.f_blocks);
    out->blocks_free = uint64_t(s.f_bfree);
    out->blocks_avail = uint64_t(s.f_bavail);
    out->files = uint64_t(s.f_files);
    out->files_free = uint64_t(s.f_ffree);
    out->name_max = uint64_t(s.f_namelen);
    out->flags = uint64_t(s.f_flags);
}

// chmod of an O_PATH descriptor on hosts without fchmodat2: through its /proc/self/fd link,
// which names the object itself (a magic link, not a path that could be swapped).
long chmod_opath_fallback(long fd, uint32_t mode) {
    struct stat st;
    long ret = host_syscall2(__NR_fstat, fd, long(&st));
    if (host_failed(ret))
        return ret;
    if ((st.st_mode & S_IFMT) == S_IFLNK)
        return -EOPNOTSUPP;
    char proc[32];
    format(proc, sizeof(proc), "/proc/self/fd/%ld", fd);
    return host_syscall3(__NR_fchmodat, AT_FDCWD, long(proc), mode & 07777);
}

bool is_open_file(PalHandle* h) { return h && h->type != PAL_TYPE_EVENT && h->type != PAL_TYPE_CONSOLE; }

}  // namespace

PalError fs_mkdir(PalHandle* root, const char* path, uint32_t mode) {
    BeneathParent parent;
    PalError e = parent.resolve(root, path);
    if (e != PAL_OK)
        return e;
    return error_from_host(host_syscall3(__NR_mkdirat, parent.dirfd(), long(parent.name()), mode & 07777));
}

// mknodat never follows a final symlink: a name that is one is taken (EEXIST).
PalError fs_mkfifo(PalHandle* root, const char* path, uint32_t mode) {
    return make_node(root, path, S_IFIFO | (mode & 07777));
}

PalError fs_mksock(PalHandle* root, const char* path, uint32_t mode) {
    return make_node(root, path, S_IFSOCK | (mode & 07777));
}

PalError fs_rename(PalHandle* root, const char* from, const char* to, uint32_t flags) {
    if (flags & ~uint32_t(PAL_RENAME_NOREPLACE | PAL_RENAME_EXCHANGE))
        return PAL_E_INVAL;
    BeneathParent from_parent, to_parent;
    PalError e = from_parent.resolve(root, from);
    if (e == PAL_OK)
        e = to_parent.resolve(root, to);
    if (e != PAL_OK)
        return e;
    return error_from_host(host_syscall5(__NR_renameat2, from_parent.dirfd(), long(from_parent.name()),
                                         to_parent.dirfd(), long(to_parent.name()), flags));
}

PalError fs_link(PalHandle* root, const char* from, const char* to) {
    BeneathParent from_parent, to_parent;
    PalError e = from_parent.resolve(root, from);
    if (e == PAL_OK)
        e = to_parent.resolve(root, to);
    if (e != PAL_OK)
        return e;
    const char* name = from_parent.name();
    if (name[strlen(name) - 1] == '/') {
        // linkat follows a final symlink when a slash trails its name: ask what the path names
        // (a directory, or the reason it is none) without following anything instead.
        long dir = open_beneath(root, from, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (host_failed(dir))
            return error_from_host(dir);
        close_fd(dir);
        return PAL_E_PERM;  // a directory has no hard links
    }
    return error_from_host(host_syscall5(__NR_linkat, from_parent.dirfd(), long(name), to_parent.dirfd(),
                                         long(to_parent.name()), 0));
}

PalError fs_symlink(PalHandle* root, const char* target, const char* path) {
    BeneathParent parent;
    PalError e = parent.resolve(root, path);
    if (e != PAL_OK)
        return e;
    return error_from_host(host_syscall3(__NR_symlinkat, long(target), parent.dirfd(), long(parent.name())));
}

PalError fs_chmod(PalHandle* root, const char* path, uint32_t mode) {
    BeneathObject obj;
    PalError e = obj.resolve(root, path);
    if (e != PAL_OK)
        return e;
    long ret = host_syscall4(kNrFchmodat2, obj.dirfd(), long(obj.name()), mode & 07777, obj.at_flags());
    if (ret != -ENOSYS)
        return error_from_host(ret);
    if (!obj.name()[0])
        return error_from_host(chmod_opath_fallback(obj.dirfd(), mode));
    long fd = open_path_nofollow(root, path);
    if (host_failed(fd))
        return error_from_host(fd);
    ret = chmod_opath_fallback(fd, mode);
    close_fd(fd);
    return error_from_host(ret);
}

PalError fs_chown(PalHandle* root, const char* path, uint32_t uid, uint32_t gid) {
    BeneathObject obj;
    PalError e = obj.resolve(root, path);
    if (e != PAL_OK)
        return e;
    return error_from_host(host_syscall5(__NR_fchownat, obj.dirfd(), long(obj.name()), long(int32_t(uid)),
                                         long(int32_t(gid)), obj.at_flags()));
}

PalError fs_truncate(PalHandle* root, const char* path, uint64_t size) {
    if (int64_t(size) < 0)
        return PAL_E_INVAL;
    // truncate(2) follows symlinks; opening with O_NOFOLLOW does not. O_NONBLOCK keeps a
    // FIFO swapped in meanwhile from blocking the open; anything but a file is refused.
    long fd = open_beneath(root, path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_LARGEFILE, 0);
    if (host_failed(fd))
        return error_from_host(fd);
    struct stat st;
    long ret = host_syscall2(__NR_fstat, fd, long(&st));
    if (!host_failed(ret))
        ret = (st.st_mode & S_IFMT) == S_IFREG ? host_syscall2(__NR_ftruncate, fd, long(size)) : -EINVAL;
    close_fd(fd);
    return error_from_host(ret);
}

PalError fs_utimens(PalHandle* root, const char* path, int64_t atime_ns, int64_t mtime_ns) {
    BeneathObject obj;
    PalError e = obj.resolve(root, path);
    if (e != PAL_OK)
        return e;
    __kernel_timespec ts[2] = {host_time(atime_ns), host_time(mtime_ns)};
    return error_from_host(
        host_syscall4(__NR_utimensat, obj.dirfd(), long(obj.name()), long(ts), obj.at_flags()));
}

PalError fs_statfs(PalHandle* root, const char* path, PalFsInfo* out) {
    long fd = open_path_nofollow(root, path);
    if (host_failed(fd))
        return error_from_host(fd);
    struct statfs s;
    long ret = host_syscall2(__NR_fstatfs, fd, long(&s));
    close_fd(fd);
    if (host_failed(ret))
        return error_from_host(ret);
    info_from_statfs(s, out);
    return PAL_OK;
}

PalError stream_chmod(PalHandle* h, uint32_t mode) {
    if (!is_open_file(h))
        return PAL_E_BADHANDLE;
    // fchmodat2(fd, "", AT_EMPTY_PATH) works on O_PATH handles too; fchmod does not.
    long ret = host_syscall4(kNrFchmodat2, h->fd, long(""), mode & 07777, AT_EMPTY_PATH);
    if (ret == -ENOSYS) {
        ret = host_syscall2(__NR_fchmod, h->fd, mode & 07777);
        if (ret == -EBADF)
            ret = chmod_opath_fallback(h->fd, mode);
    }
    return error_from_host(ret);
}

PalError stream_chown(PalHandle* h, uint32_t uid, uint32_t gid) {
    if (!is_open_file(h))
        return PAL_E_BADHANDLE;
    return error_from_host(host_syscall5(__NR_fchownat, h->fd, long(""), long(int32_t(uid)), long(int32_t(gid)),
                                         AT_EMPTY_PATH));
}

PalError stream_utimens(PalHandle* h, int64_t atime_ns, int64_t mtime_ns) {
    if (!is_open_file(h))
        return PAL_E_BADHANDLE;
    __kernel_timespec ts[2] = {host_time(atime_ns), host_time(mtime_ns)};
    // An empty path with AT_EMPTY_PATH reaches O_PATH handles as well (Linux 5.8+).
    long ret = host_syscall4(__NR_utimensat, h->fd, long(""), long(ts), AT_EMPTY_PATH);
    if (ret == -EINVAL || ret == -ENOENT)
        ret = host_syscall4(__NR_utimensat, h->fd, 0, long(ts), 0);
    return error_from_host(ret);
}

PalError stream_truncate(PalHandle* h, uint64_t size) {
    if (!is_open_file(h))
        return PAL_E_BADHANDLE;
    if (int64_t(size) < 0)
        return PAL_E_INVAL;
    return error_from_host(host_syscall2(__NR_ftruncate, h->fd, long(size)));
}

PalError stream_allocate(PalHandle* h, uint32_t mode, uint64_t offset, uint64_t size) {
    if (!is_open_file(h))
        return PAL_E_BADHANDLE;
    if (int64_t(offset) < 0 || int64_t(size) <= 0)
        return PAL_E_INVAL;
    long ret;
    do {
        ret = host_syscall4(__NR_fallocate, h->fd, long(mode), long(offset), long(size));
    } while (ret == -EINTR);
    return error_from_host(ret);
}

PalError stream_sync(PalHandle* h, uint32_t what) {
    if (!h || h->type == PAL_TYPE_EVENT)
        return PAL_E_BADHANDLE;
    switch (what) {
    case PAL_FSYNC_FULL: return error_from_host(host_syscall1(__NR_fsync, h->fd));
    case PAL_FSYNC_DATA: return error_from_host(host_syscall1(__NR_fdatasync, h->fd));
    case PAL_FSYNC_FILESYSTEM: return error_from_host(host_syscall1(__NR_syncfs, h->fd));
    default: return PAL_E_INVAL;
    }
}

}  // namespace carbyne::pal

namespace carbyne::pal {

namespace {

// An xattr operation on the object an O_PATH or open descriptor names, through its
// /proc/self/fd link (a magic link to exactly that object; the f*xattr calls refuse O_PATH
// descriptors). Returns the host's result.
long xattr_via_proc(long fd, uint32_t op, const char* name, void* value, size_t size, uint32_t flags) {
    char proc[32];
    format(proc, sizeof(proc), "/proc/self/fd/%ld", fd);
    switch (op) {
    case PAL_XATTR_GET: return host_syscall4(__NR_getxattr, long(proc), long(name), long(value), long(size));
    case PAL_XATTR_SET:
        return host_syscall5(__NR_setxattr, long(proc), long(name), long(value), long(size), long(flags));
    case PAL_XATTR_LIST: return host_syscall3(__NR_listxattr, long(proc), long(value), long(size));
    case PAL_XATTR_REMOVE: return host_syscall2(__NR_removexattr, long(proc), long(name));
    default: return -EINVAL;
    }
}

// A symlink's own attributes: the *xattrat calls (Linux 6.13) with AT_SYMLINK_NOFOLLOW on
// what `root` and `path` name. On an older host, a symlink has none to list or get,
// and none can be set: the answers Linux gives for user.* there.
constexpr long kNrSetxattrat = 463, kNrGetxattrat = 464, kNrListxattrat = 465, kNrRemovexattrat = 466;

long symlink_xattr(PalHandle* root, const char* path, uint32_t op, const char* name, void* value, size_t size,
                   uint32_t flags) {
    // The parent directory and the name in it: the *xattrat calls refuse O_PATH descriptors
    // with AT_EMPTY_PATH, and the name is not followed.
    BeneathParent obj;
    if (obj.resolve(root, path) != PAL_OK)
        return -EINVAL;
    struct {
        uint64_t value;
        uint32_t size;
        uint32_t flags;
    } args = {uint64_t(value), uint32_t(size), flags};
    long at = AT_SYMLINK_NOFOLLOW;
    long ret;
    switch (op) {
    case PAL_XATTR_GET:
        ret = host_syscall6(kNrGetxattrat, obj.dirfd(), long(obj.name()), at, long(name), long(&args), sizeof(args));
        break;
    case PAL_XATTR_SET:
        ret = host_syscall6(kNrSetxattrat, obj.dirfd(), long(obj.name()), at, long(name), long(&args), sizeof(args));
        break;
    case PAL_XATTR_LIST:
        ret = host_syscall5(kNrListxattrat, obj.dirfd(), long(obj.name()), at, long(value), long(size));
        break;
    default: ret = host_syscall4(kNrRemovexattrat, obj.dirfd(), long(obj.name()), at, long(name)); break;
    }
    if (ret != -ENOSYS)
        return ret;
    return op == PAL_XATTR_LIST ? 0 : op == PAL_XATTR_GET ? -ENODATA : -EPERM;
}

long xattr_on_fd(long fd, uint32_t op, const char* name, void* value, size_t size, uint32_t flags) {
    long ret;
    switch (op) {
    case PAL_XATTR_GET: ret = host_syscall4(__NR_fgetxattr, fd, long(name), long(value), long(size)); break;
    case PAL_XATTR_SET: ret = host_syscall5(__NR_fsetxattr, fd, long(name), long(value), long(size), long(flags)); break;
    case PAL_XATTR_LIST: ret = host_syscall3(__NR_flistxattr, fd, long(value), long(size)); break;
    case PAL_XATTR_REMOVE: ret = host_syscall2(__NR_fremovexattr, fd, long(name)); break;
    default: return -EINVAL;
    }
    return ret == -EBADF ? xattr_via_proc(fd, op, name, value, size, flags) : ret;  // an O_PATH handle
}

}  // namespace

PalError fs_xattr(PalHandle* base, const char* path, uint32_t op, const char* name, void* value, size_t size,
                  uint32_t flags, size_t* out_size) {
    if (op < PAL_XATTR_GET || op > PAL_XATTR_REMOVE || (op != PAL_XATTR_LIST && !name))
        return PAL_E_INVAL;
    long ret;
    if (path) {
        long fd = open_path_nofollow(base, path);
        if (host_failed(fd))
            return error_from_host(fd);
        struct stat st;
        ret = host_syscall2(__NR_fstat, fd, long(&st));
        bool symlink = !host_failed(ret) && (st.st_mode & S_IFMT) == S_IFLNK;
        if (!host_failed(ret) && !symlink)
            ret = xattr_via_proc(fd, op, name, value, size, flags);
        close_fd(fd);
        if (symlink)
            ret = symlink_xattr(base, path, op, name, value, size, flags);
    } else {
        if (!is_open_file(base))
            return PAL_E_BADHANDLE;
        ret = xattr_on_fd(base->fd, op, name, value, size, flags);
    }
    if (host_failed(ret))
        return error_from_host(ret);
    if (out_size)
        *out_size = size_t(ret);
    return PAL_OK;
}

}  // namespace carbyne::pal
