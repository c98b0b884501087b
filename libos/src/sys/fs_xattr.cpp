// setxattr, lsetxattr, fsetxattr, getxattr, lgetxattr, fgetxattr, listxattr, llistxattr,
// flistxattr, removexattr, lremovexattr, fremovexattr, as Linux's fs/xattr.c: the name and
// size checks, then the path or descriptor, the read-only mount, xattr_permission (what
// each namespace allows whom, on which kind of file), and the file system's answer. tmpfs
// keeps the attributes itself, a chroot mount has the host's; the other file systems
// answer EOPNOTSUPP. system.* (POSIX ACLs) is not supported: EOPNOTSUPP.
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/user.h>
#include <linux/fcntl.h>

#include "../fs/permission.h"
#include "../fs/vfs.h"
#include "../fs/xattr.h"
#include "../proc/process.h"
#include "fs_common.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

using fs::XattrOp;
using fs::XattrRequest;

enum class Target { Follow, NoFollow, Fd };

bool has_prefix(const char* name, const char* prefix) { return strncmp(name, prefix, strlen(prefix)) == 0; }

// import_xattr_name: an empty name or one longer than XATTR_NAME_MAX is ERANGE.
Result<void> read_name(uint64_t user_name, char (&name)[fs::kXattrNameMax + 1]) {
    auto len = copy_string_from_user(name, user_name, sizeof(name));
    if (!len.ok())
        return len.error() == Errno(ENAMETOOLONG) ? Errno(ERANGE) : len.error();
    if (len.value() == 0)
        return Errno(ERANGE);
    return {};
}

// xattr_permission, then the namespace's own support: `write` for set and remove.
Result<void> check_access(const char* name, const fs::Stat& st, bool write) {
    fs::FsIds who = fs::FsIds::current();
    fs::Attrs a = fs::attrs_of(st);
    uint32_t type = st.mode & S_IFMT;
    if (has_prefix(name, "trusted.")) {
        if (!who.privileged())  // CAP_SYS_ADMIN
            return Errno(write ? EPERM : ENODATA);
        return {};
    }
    if (has_prefix(name, "security.")) {
        if (write && !who.privileged())  // the capability module's rule
            return Errno(EPERM);
        return {};
    }
    if (has_prefix(name, "system."))
        return Errno(EOPNOTSUPP);  // FIXME: POSIX ACLs (system.posix_acl_*)
    if (has_prefix(name, "user.")) {
        if (type != S_IFREG && type != S_IFDIR)
            return Errno(write ? EPERM : ENODATA);
        if (type == S_IFDIR && (st.mode & S_ISVTX) && write && !fs::owner_or_privileged(who, a))
            return Errno(EPERM);
    }
    TRY(fs::check_permission(who, a, write ? fs::kMayWrite : fs::kMayRead));
    if (!has_prefix(name, "user."))
        return Errno(EOPNOTSUPP);  // no handler for that namespace
    return {};
}

// One request on what `target` names: a path (followed or not) or a descriptor.
Result<size_t> apply(Target target, uint64_t where, const XattrRequest& req) {
    bool write = req.op == XattrOp::Set || req.op == XattrOp::Remove;
    if (target == Target::Fd) {
        FileRef f = TRY(g_process.fds.get(int(where)));  // O_PATH descriptors: EBADF
        if (write && f->mount() && f->mount()->readonly)
            return Errno(EROFS);
        if (req.op != XattrOp::List) {
            fs::Stat st;
            TRY(f->stat(&st));
            TRY(check_access(req.name, st, write));
        }
        return f->xattr(req);
    }
    ResolvedBox box;
    fs::Resolved* r = box.get();
    if (!r)
        return Errno(ENOMEM);
    TRY(resolve_user_path(AT_FDCWD, where, target == Target::Follow, r));
    if (!r->exists)
        return Errno(ENOENT);
    if (write && r->mount->readonly)
        return Errno(EROFS);
    if (req.op != XattrOp::List)
        TRY(check_access(req.name, r->stat, write));
    return r->mount->fs->xattr(r->rel, req);
}

Result<long> set(Target target, const SyscallArgs& a) {
    uint32_t flags = a.u32(4);
    if (flags & ~(fs::kXattrCreate | fs::kXattrReplace))
        return Errno(EINVAL);
    char name[fs::kXattrNameMax + 1];
    TRY(read_name(a.u64(1), name));
    size_t size = a.u64(3);
    if (size > fs::kXattrSizeMax)
        return Errno(E2BIG);
    void* value = kmalloc(size ? size : 1);
    HeapGuard guard(value);
    if (!value)
        return Errno(ENOMEM);
    TRY(copy_from_user(value, a.u64(2), size));
    XattrRequest req{XattrOp::Set, name, value, size, flags, false};
    TRY(apply(target, a.u64(0), req));
    return 0;
}

Result<long> get(Target target, const SyscallArgs& a) {
    char name[fs::kXattrNameMax + 1];
    TRY(read_name(a.u64(1), name));
    size_t size = a.u64(3);
    if (size > fs::kXattrSizeMax)
        size = fs::kXattrSizeMax;
    void* value = kmalloc(size ? size : 1);
    HeapGuard guard(value);
    if (!value)
        return Errno(ENOMEM);
    XattrRequest req{XattrOp::Get, name, value, size, 0, false};
    size_t len = TRY(apply(target, a.u64(0), req));
    if (size)
        TRY(copy_to_user(a.u64(2), value, len));
    return long(len);
}

Result<long> list(Target target, const SyscallArgs& a) {
    size_t size = a.u64(2);
    if (size > fs::kXattrListMax)
        size = fs::kXattrListMax;
    void* names = kmalloc(size ? size : 1);
    HeapGuard guard(names);
    if (!names)
        return Errno(ENOMEM);
    XattrRequest req{XattrOp::List, nullptr, names, size, 0, fs::FsIds::current().privileged()};
    size_t len = TRY(apply(target, a.u64(0), req));
    if (size)
        TRY(copy_to_user(a.u64(1), names, len));
    return long(len);
}

Result<long> remove(Target target, const SyscallArgs& a) {
    char name[fs::kXattrNameMax + 1];
    TRY(read_name(a.u64(1), name));
    XattrRequest req{XattrOp::Remove, name, nullptr, 0, 0, false};
    TRY(apply(target, a.u64(0), req));
    return 0;
}

}  // namespace

Result<long> sys_setxattr(const SyscallArgs& a) { return set(Target::Follow, a); }
Result<long> sys_lsetxattr(const SyscallArgs& a) { return set(Target::NoFollow, a); }
Result<long> sys_fsetxattr(const SyscallArgs& a) { return set(Target::Fd, a); }
Result<long> sys_getxattr(const SyscallArgs& a) { return get(Target::Follow, a); }
Result<long> sys_lgetxattr(const SyscallArgs& a) { return get(Target::NoFollow, a); }
Result<long> sys_fgetxattr(const SyscallArgs& a) { return get(Target::Fd, a); }
Result<long> sys_listxattr(const SyscallArgs& a) { return list(Target::Follow, a); }
Result<long> sys_llistxattr(const SyscallArgs& a) { return list(Target::NoFollow, a); }
Result<long> sys_flistxattr(const SyscallArgs& a) { return list(Target::Fd, a); }
Result<long> sys_removexattr(const SyscallArgs& a) { return remove(Target::Follow, a); }
Result<long> sys_lremovexattr(const SyscallArgs& a) { return remove(Target::NoFollow, a); }
Result<long> sys_fremovexattr(const SyscallArgs& a) { return remove(Target::Fd, a); }

}  // namespace carbyne::libos
