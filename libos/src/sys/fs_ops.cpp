// mkdir, mkdirat, rmdir, unlink, unlinkat, rename, renameat, renameat2, link, linkat, symlink,
// symlinkat, mknod, mknodat, memfd_create
#include <carbyne/string.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#include "../fs/vfs.h"
#include "../proc/process.h"
#include "fs_common.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

// A path argument of a namespace call, resolved without following its last component,
// whatever slashes end it.
Result<void> resolve_entry(int dirfd, uint64_t user_path, fs::Resolved* out) {
    HeapBox<PathBuf> path;
    TRY(copy_path_from_user(user_path, path.get()));
    return resolve_path_at(dirfd, path.get()->s, false, fs::kResolveLastRaw, out);
}

Result<long> mkdir_at(int dirfd, uint64_t path, uint32_t mode) {
    ResolvedBox r;
    TRY(resolve_entry(dirfd, path, r.get()));
    TRY(fs::vfs_mkdir(*r.get(), (mode & 07777) & ~current_umask()));
    return 0;
}

Result<long> mknod_at(int dirfd, uint64_t path, uint32_t mode, uint64_t dev) {
    // may_mknod: the type is checked before the path is looked at.
    switch (mode & S_IFMT) {
    case 0: mode |= S_IFREG; break;
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK: break;
    case S_IFDIR: return Errno(EPERM);
    default: return Errno(EINVAL);
    }
    ResolvedBox r;
    TRY(resolve_entry(dirfd, path, r.get()));
    uint32_t perm = (mode & 07777) & ~current_umask();
    TRY(fs::vfs_mknod(*r.get(), (mode & S_IFMT) | perm, dev));
    return 0;
}

Result<long> unlink_at(int dirfd, uint64_t path, uint32_t flags) {
    if (flags & ~uint32_t(AT_REMOVEDIR))
        return Errno(EINVAL);
    ResolvedBox r;
    TRY(resolve_entry(dirfd, path, r.get()));
    TRY((flags & AT_REMOVEDIR) ? fs::vfs_rmdir(*r.get()) : fs::vfs_unlink(*r.get()));
    return 0;
}

Result<long> rename_at(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, uint32_t flags) {
    constexpr uint32_t kNoReplace = 1, kExchange = 2, kWhiteout = 4;  // RENAME_*
    if (flags & ~(kNoReplace | kExchange | kWhiteout))
        return Errno(EINVAL);
    if ((flags & kNoReplace) && (flags & kExchange))
        return Errno(EINVAL);
    if (flags & kWhiteout)
        return Errno((flags & kExchange) ? EINVAL : EPERM);  // whiteouts are for overlayfs (CAP_MKNOD)
    ResolvedBox from, to;
    TRY(resolve_entry(olddirfd, oldpath, from.get()));
    TRY(resolve_entry(newdirfd, newpath, to.get()));
    TRY(fs::vfs_rename(*from.get(), *to.get(), flags));
    return 0;
}

Result<long> link_at(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, uint32_t flags) {
    if (flags & ~uint32_t(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return Errno(EINVAL);
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, as in Linux 6.1 (later kernels also let the
    // opener of the file link it): without it, ENOENT whatever the path.
    if ((flags & AT_EMPTY_PATH) && !fs::FsIds::current().privileged())
        return Errno(ENOENT);
    HeapBox<PathBuf> old;
    TRY(copy_path_from_user(oldpath, old.get()));
    ResolvedBox from, to;
    // The open file itself: olddirfd with AT_EMPTY_PATH, or a /proc/self/fd/N link that
    // AT_SYMLINK_FOLLOW follows (it may have no name: O_TMPFILE).
    bool by_fd = !old.get()->s[0] && (flags & AT_EMPTY_PATH);
    int open_fd = olddirfd;
    if (!by_fd && (flags & AT_SYMLINK_FOLLOW)) {
        TRY(resolve_path_at(olddirfd, old.get()->s, false, 0, from.get()));
        open_fd = fs::vfs_proc_fd_link(*from.get());
        by_fd = open_fd >= 0;
    }
    if (by_fd) {
        FileRef f = TRY(g_process.fds.get(open_fd, true));
        TRY(resolve_entry(newdirfd, newpath, to.get()));
        TRY(fs::vfs_link_file(f.get(), *to.get()));
        return 0;
    }
    TRY(resolve_path_at(olddirfd, old.get()->s, (flags & AT_SYMLINK_FOLLOW) != 0, 0, from.get()));
    TRY(resolve_entry(newdirfd, newpath, to.get()));
    TRY(fs::vfs_link(*from.get(), *to.get()));
    return 0;
}

Result<long> symlink_at(uint64_t target, int newdirfd, uint64_t linkpath) {
    HeapBox<PathBuf> t;
    TRY(copy_path_from_user(target, t.get()));
    if (!t.get()->s[0])
        return Errno(ENOENT);
    ResolvedBox r;
    TRY(resolve_entry(newdirfd, linkpath, r.get()));
    TRY(fs::vfs_symlink(t.get()->s, *r.get()));
    return 0;
}

}  // namespace

Result<long> sys_mkdir(const SyscallArgs& a) { return mkdir_at(AT_FDCWD, a.u64(0), a.u32(1)); }
Result<long> sys_mkdirat(const SyscallArgs& a) { return mkdir_at(a.fd(0), a.u64(1), a.u32(2)); }

Result<long> sys_mknod(const SyscallArgs& a) { return mknod_at(AT_FDCWD, a.u64(0), a.u32(1), a.u64(2)); }
Result<long> sys_mknodat(const SyscallArgs& a) { return mknod_at(a.fd(0), a.u64(1), a.u32(2), a.u64(3)); }

Result<long> sys_unlink(const SyscallArgs& a) { return unlink_at(AT_FDCWD, a.u64(0), 0); }
Result<long> sys_rmdir(const SyscallArgs& a) { return unlink_at(AT_FDCWD, a.u64(0), AT_REMOVEDIR); }
Result<long> sys_unlinkat(const SyscallArgs& a) { return unlink_at(a.fd(0), a.u64(1), a.u32(2)); }

Result<long> sys_rename(const SyscallArgs& a) { return rename_at(AT_FDCWD, a.u64(0), AT_FDCWD, a.u64(1), 0); }
Result<long> sys_renameat(const SyscallArgs& a) { return rename_at(a.fd(0), a.u64(1), a.fd(2), a.u64(3), 0); }
Result<long> sys_renameat2(const SyscallArgs& a) {
    return rename_at(a.fd(0), a.u64(1), a.fd(2), a.u64(3), a.u32(4));
}

Result<long> sys_link(const SyscallArgs& a) { return link_at(AT_FDCWD, a.u64(0), AT_FDCWD, a.u64(1), 0); }
Result<long> sys_linkat(const SyscallArgs& a) {
    return link_at(a.fd(0), a.u64(1), a.fd(2), a.u64(3), a.u32(4));
}

Result<long> sys_symlink(const SyscallArgs& a) { return symlink_at(a.u64(0), AT_FDCWD, a.u64(1)); }
Result<long> sys_symlinkat(const SyscallArgs& a) { return symlink_at(a.u64(0), a.fd(1), a.u64(2)); }

Result<long> sys_memfd_create(const SyscallArgs& a) {
    constexpr uint32_t kCloexec = 1, kAllowSealing = 2, kHugetlb = 4, kNoexecSeal = 8, kExec = 0x10;
    constexpr size_t kNameMax = 249;  // MFD_NAME_MAX_LEN
    uint32_t flags = a.u32(1);
    if (flags & ~(kCloexec | kAllowSealing | kHugetlb | kNoexecSeal | kExec))
        return Errno(EINVAL);  // (the huge page size bits come only with MFD_HUGETLB)
    if ((flags & kNoexecSeal) && (flags & kExec))
        return Errno(EINVAL);
    if (flags & kHugetlb)
        return Errno(EINVAL);  // no huge pages behind the LibOS's memory files
    char name[kNameMax + 1];
    auto copied = copy_string_from_user(name, a.u64(0), sizeof(name));
    if (!copied.ok())
        return copied.error() == Errno(ENAMETOOLONG) ? Errno(EINVAL) : copied.error();
    int fd = TRY(g_process.fds.reserve(0));
    auto file = fs::memfd_open(name, (flags & kNoexecSeal) != 0);
    if (!file.ok()) {
        g_process.fds.cancel(fd);
        return file.error();
    }
    g_process.fds.commit(fd, file.value(), (flags & kCloexec) != 0);
    return fd;
}

}  // namespace carbyne::libos
