// A mounted file system: what the VFS asks of chroot, tmpfs and the pseudo file systems.
//
// Paths given to a FileSystem are relative to its mount root ("" is the root itself),
// clean, and already free of symlinks except possibly the last component: the VFS walks
// paths and follows symlinks itself, one component at a time, so that no file system can
// lead a path outside the manifest.
#pragma once

#include <libos/result.h>
#include <stdint.h>

#include "file.h"

namespace carbyne::libos::fs {

struct Resolved;

// statfs(2) fields, the LibOS's own form.
struct StatFs {
    uint64_t type;  // f_type magic (TMPFS_MAGIC, PROC_SUPER_MAGIC...)
    uint64_t block_size, blocks, blocks_free, blocks_avail, files, files_free, name_max, flags;
};

// utimens argument meaning "leave this time as it is" / "set it to now".
inline constexpr int64_t kTimeOmit = INT64_MIN;
inline constexpr int64_t kTimeNow = INT64_MIN + 1;

class FileSystem {
public:
    virtual ~FileSystem() = default;

    // The type shown in /proc/mounts ("chroot" shows the host file system's own).
    virtual const char* type_name() const = 0;

    // Whether the VFS keeps a dentry cache (dcache.h) for this file system's mounts: worth
    // it when a lookup is a host call, and sound when every change to the namespace goes
    // through the VFS (pseudo file systems, whose entries come and go by themselves, say no).
    virtual bool walk_cacheable() const { return false; }
    // The host directory this file system shows (clean, absolute), or nullptr: two mounts
    // of overlapping host directories show the same files under different paths, and a
    // change through one must reach the other's dentry cache.
    virtual const char* host_root() const { return nullptr; }

    // Whether `rel` is a link that Linux resolves to an object rather than a path ("magic":
    // /proc's fd/N, cwd, exe, root), which RESOLVE_NO_MAGICLINKS refuses. *fd gets the
    // descriptor an fd/N link of this process names (open reaches that file itself), else
    // -1. Only the file system that has such links (procfs) says yes.
    virtual bool magic_link(const char* rel, int* fd) {
        (void)rel;
        *fd = -1;
        return false;
    }

    // Attributes of `rel` without following a final symlink; *exists = false when missing.
    virtual Result<void> lookup(const char* rel, bool* exists, Stat* st) = 0;
    // The target of the symlink `rel`.
    virtual Result<size_t> readlink(const char* rel, char* buf, size_t size);
    // Opens (and with O_CREAT creates) what `r` names. The VFS has checked existence,
    // O_EXCL, O_DIRECTORY, write access to directories and read-only mounts.
    virtual Result<File*> open(const Resolved& r, uint32_t flags, uint32_t mode) = 0;
    // open(2) with O_TMPFILE: a new regular file without a name in the directory `dir`
    // (the VFS has checked that it is one, and the mount is writable), which linkat may
    // name later unless O_EXCL is in `flags`. The default answers EOPNOTSUPP, Linux's answer
    // for a file system without unnamed files (chroot: the PAL has no call for them).
    virtual Result<File*> open_tmpfile(const Resolved& dir, uint32_t flags, uint32_t mode);

    // Namespace changes. The defaults answer EPERM (pseudo file systems).
    virtual Result<void> mkdir(const char* rel, uint32_t mode);
    virtual Result<void> unlink(const char* rel);
    virtual Result<void> rmdir(const char* rel);
    // Renames within this file system; flags are renameat2's (RENAME_NOREPLACE/EXCHANGE).
    virtual Result<void> rename(const char* from, const char* to, uint32_t flags);
    virtual Result<void> link(const char* from, const char* to);
    // linkat(2) of an open file (AT_EMPTY_PATH, or a /proc/self/fd link followed): names
    // `f`, opened on this file system with status `st`, `rel` too. The default links by the
    // path `f` was opened by, as long as that path still names it: a file without a name
    // left cannot get one back (ENOENT), except an O_TMPFILE file (see open_tmpfile).
    virtual Result<void> link_file(File* f, const Stat& st, const char* rel);
    virtual Result<void> symlink(const char* target, const char* rel);
    virtual Result<void> mknod(const char* rel, uint32_t mode, uint64_t dev);

    // Attribute changes by path (follow already applied by the VFS).
    virtual Result<void> chmod(const char* rel, uint32_t mode);
    virtual Result<void> chown(const char* rel, uint32_t uid, uint32_t gid);  // ~0u: unchanged
    virtual Result<void> truncate(const char* rel, uint64_t size);
    virtual Result<void> utimens(const char* rel, int64_t atime_ns, int64_t mtime_ns);
    // An extended-attribute request (xattr.h) on `rel`, a symlink itself when it is one
    // (the VFS has followed the path as the call asks); EOPNOTSUPP by default.
    virtual Result<size_t> xattr(const char* rel, const XattrRequest& req);
    virtual Result<void> statfs(StatFs* out);
    // statfs(2) of the object at `rel` (a host directory may hold other host file systems);
    // defaults to statfs().
    virtual Result<void> statfs_at(const char* rel, StatFs* out);
    // Writes everything of this file system back to stable storage (sync, syncfs); the
    // default has nothing to write.
    virtual Result<void> sync();
};

}  // namespace carbyne::libos::fs
