// The VFS: the mount table, path resolution with symlinks, and the operations on paths.
//
// Lock order: the mount table is built at boot and read-only afterwards.
#pragma once

#include <carbyne/boot_config.h>
#include <libos/result.h>
#include <pal/pal.h>

#include "file.h"
#include "filesystem.h"
#include "path.h"

namespace carbyne::libos::fs {

inline constexpr unsigned kMaxMounts = 64;
inline constexpr unsigned kMaxSymlinks = 40;

struct Mount {
    char* path;  // clean absolute LibOS path
    FileSystem* fs;
    bool readonly;
    const char* source;  // what /proc/mounts shows as the device ("none", a host path)
};

// What a path names after resolution.
struct Resolved {
    char path[kPathMax];  // clean absolute LibOS path, symlinks resolved
    const char* rel;      // `path` relative to the mount root (points into `path`)
    const Mount* mount;
    bool exists;
    Stat stat;            // valid when exists
};

Result<void> vfs_init(const boot::Reader& config);
// Adds a mount (built-in file systems at boot); the table owns `fs` from then on.
Result<void> vfs_add_mount(const char* path, FileSystem* fs, bool readonly, const char* source);
const Mount* vfs_find_mount(const char* clean_path);
unsigned vfs_mount_count();
const Mount* vfs_mount_at(unsigned i);

// Resolves `path` relative to `base` (an absolute clean directory path). A missing last
// component is not an error (exists = false); a missing directory on the way is ENOENT.
// With follow_last, a final symlink is followed. A trailing slash requires a directory.
Result<void> vfs_resolve(const char* base, const char* path, bool follow_last, Resolved* out);

// open(2) semantics on a resolved path: flags are O_*; `mode` already has the umask applied.
Result<File*> vfs_open(Resolved& r, uint32_t flags, uint32_t mode);

// readlink(2) of a resolved (not followed) path.
Result<size_t> vfs_readlink(const Resolved& r, char* buf, size_t size);

// Opens the console device (fd 0, 1, 2 at boot).
Result<File*> console_open(PalConsole which);

// The file systems a manifest can mount.
Result<FileSystem*> chroot_create(const char* host_root);
Result<FileSystem*> tmpfs_create();

}  // namespace carbyne::libos::fs
