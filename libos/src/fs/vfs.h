// The VFS: the mount table from the manifest, path resolution with symlinks, and opening.
//
// Lock order: the mount table is built at boot and read-only afterwards.
#pragma once

#include <carbyne/boot_config.h>
#include <libos/result.h>
#include <pal/pal.h>

#include "file.h"
#include "path.h"

namespace carbyne::libos::fs {

inline constexpr unsigned kMaxMounts = 64;
inline constexpr unsigned kMaxSymlinks = 40;

struct TmpfsNode;

struct Mount {
    char* path;       // clean absolute LibOS path
    boot::MountType type;
    char* host_root;  // chroot: the host directory (or file) it shows
    bool readonly;
    TmpfsNode* tmpfs_root;
};

// What a path names after resolution.
struct Resolved {
    char path[kPathMax];   // clean absolute LibOS path, symlinks resolved
    char host[kPathMax];   // chroot: host path
    const Mount* mount;
    bool exists;
    Stat stat;             // valid when exists
};

Result<void> vfs_init(const boot::Reader& config);
const Mount* vfs_find_mount(const char* clean_path);
unsigned vfs_mount_count();
const Mount* vfs_mount_at(unsigned i);

// Resolves `path` relative to `base` (an absolute clean directory path). A missing last
// component is not an error (exists = false); a missing directory on the way is ENOENT.
// With follow_last, a final symlink is followed.
Result<void> vfs_resolve(const char* base, const char* path, bool follow_last, Resolved* out);

// open(2) semantics on a resolved path: flags are O_*; `mode` already has the umask applied.
Result<File*> vfs_open(Resolved& r, uint32_t flags, uint32_t mode);

// readlink(2) of a resolved (not followed) path.
Result<size_t> vfs_readlink(const Resolved& r, char* buf, size_t size);

// Opens the console device (fd 0, 1, 2 at boot).
Result<File*> console_open(PalConsole which);

// Chroot files (chroot.cpp).
Result<File*> chroot_open(Resolved& r, uint32_t flags, uint32_t mode);
Result<void> chroot_lookup(const Mount& m, const char* clean_path, char* host, bool* exists, Stat* st);
Result<size_t> chroot_readlink(const char* host, char* buf, size_t size);

// Tmpfs (tmpfs.cpp).
Result<TmpfsNode*> tmpfs_create_root();
Result<void> tmpfs_lookup(const Mount& m, const char* clean_path, bool* exists, Stat* st);
Result<File*> tmpfs_open(Resolved& r, uint32_t flags, uint32_t mode);
Result<size_t> tmpfs_readlink(const Resolved& r, char* buf, size_t size);

}  // namespace carbyne::libos::fs
