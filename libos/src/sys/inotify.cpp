// inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch
#include <libos/heap.h>
#include <linux/inotify.h>

#include "../fs/dentry.h"
#include "../fs/inotify.h"
#include "../fs/permission.h"
#include "../fs/vfs.h"
#include "../proc/process.h"
#include "fs_common.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

Result<long> init(uint32_t flags) {
    if (flags & ~uint32_t(IN_NONBLOCK | IN_CLOEXEC))
        return Errno(EINVAL);
    fs::File* f = TRY(fs::inotify_create(flags & IN_NONBLOCK));
    return TRY(g_process.fds.install(f, 0, (flags & IN_CLOEXEC) != 0));
}

}  // namespace

Result<long> sys_inotify_init(const SyscallArgs&) { return init(0); }
Result<long> sys_inotify_init1(const SyscallArgs& a) { return init(a.u32(0)); }

// Linux's order: the mask's flags, the descriptor, its kind, then the path (followed
// unless IN_DONT_FOLLOW, a directory with IN_ONLYDIR) and read permission on it.
Result<long> sys_inotify_add_watch(const SyscallArgs& a) {
    uint32_t mask = a.u32(2);
    constexpr uint32_t kAllBits = IN_ALL_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE |
                                  IN_MASK_ADD | IN_ONESHOT;
    if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE))
        return Errno(EINVAL);
    if (!(mask & kAllBits))
        return Errno(EINVAL);
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    if (f->kind() != fs::FileKind::Inotify)
        return Errno(EINVAL);
    ResolvedBox box;
    if (!box.get())
        return Errno(ENOMEM);
    TRY(resolve_user_path(AT_FDCWD, a.u64(1), !(mask & IN_DONT_FOLLOW), box.get()));
    const fs::Resolved& r = *box.get();
    if (!r.exists)
        return Errno(ENOENT);
    if ((mask & IN_ONLYDIR) && (r.stat.mode & S_IFMT) != S_IFDIR)
        return Errno(ENOTDIR);
    TRY(fs::check_permission(fs::FsIds::current(), fs::attrs_of(r.stat), fs::kMayRead));
    fs::Dentry* d = fs::dentry_get(r.path);
    if (!d)
        return Errno(ENOMEM);
    auto wd = fs::inotify_add_watch(f.get(), d, mask);
    fs::dentry_put(d);
    return long(TRY(wd));
}

Result<long> sys_inotify_rm_watch(const SyscallArgs& a) {
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    TRY(fs::inotify_rm_watch(f.get(), a.i32(1)));
    return 0;
}

}  // namespace carbyne::libos
