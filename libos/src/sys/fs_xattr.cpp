// setxattr, lsetxattr, fsetxattr, getxattr, lgetxattr, fgetxattr, listxattr, llistxattr,
// flistxattr, removexattr, lremovexattr, fremovexattr: no file system of the LibOS stores
// extended attributes yet, so each answers EOPNOTSUPP, as Linux does for such a file
// system, once the path or descriptor has been checked.
#include <libos/heap.h>
#include <linux/fcntl.h>

#include "../fs/vfs.h"
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

Result<long> by_path(uint64_t path, bool follow) {
    auto* r = static_cast<fs::Resolved*>(kmalloc(sizeof(fs::Resolved)));
    if (!r)
        return Errno(ENOMEM);
    auto resolved = resolve_user_path(AT_FDCWD, path, follow, r);
    bool exists = resolved.ok() && r->exists;
    kfree(r);
    TRY(resolved);
    if (!exists)
        return Errno(ENOENT);
    return Errno(EOPNOTSUPP);
}

Result<long> by_fd(int fd) {
    TRY(g_process.fds.get(fd));
    return Errno(EOPNOTSUPP);
}

}  // namespace

Result<long> sys_setxattr(const SyscallArgs& a) { return by_path(a.u64(0), true); }
Result<long> sys_lsetxattr(const SyscallArgs& a) { return by_path(a.u64(0), false); }
Result<long> sys_fsetxattr(const SyscallArgs& a) { return by_fd(a.fd(0)); }
Result<long> sys_getxattr(const SyscallArgs& a) { return by_path(a.u64(0), true); }
Result<long> sys_lgetxattr(const SyscallArgs& a) { return by_path(a.u64(0), false); }
Result<long> sys_fgetxattr(const SyscallArgs& a) { return by_fd(a.fd(0)); }
Result<long> sys_listxattr(const SyscallArgs& a) { return by_path(a.u64(0), true); }
Result<long> sys_llistxattr(const SyscallArgs& a) { return by_path(a.u64(0), false); }
Result<long> sys_flistxattr(const SyscallArgs& a) { return by_fd(a.fd(0)); }
Result<long> sys_removexattr(const SyscallArgs& a) { return by_path(a.u64(0), true); }
Result<long> sys_lremovexattr(const SyscallArgs& a) { return by_path(a.u64(0), false); }
Result<long> sys_fremovexattr(const SyscallArgs& a) { return by_fd(a.fd(0)); }

}  // namespace carbyne::libos
