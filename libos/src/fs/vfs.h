// The VFS: the mount table, path resolution with symlinks, and the operations on paths.
//
// Path walks of mounts whose file system is walk_cacheable() (chroot) go through the
// mount's dentry cache (dcache.h) for the components they pass through; the last component
// is always asked of the file system. The namespace operations below forget what they
// change. Changes made to a chroot mount's host directory by other host processes while
// the application runs are not seen by the cache (a documented limitation).
//
// Lock order: the mount table is built at boot and read-only afterwards; a DentryCache's
// lock is a leaf.
#pragma once

#include <carbyne/boot_config.h>
#include <libos/result.h>
#include <pal/pal.h>

#include "file.h"
#include "filesystem.h"
#include "path.h"
#include "permission.h"

namespace carbyne::libos::fs {

inline constexpr unsigned kMaxMounts = 64;
inline constexpr unsigned kMaxSymlinks = 40;

class DentryCache;

struct Mount {
    char* path;  // clean absolute LibOS path
    FileSystem* fs;
    bool readonly;
    const char* source;  // what /proc/mounts shows as the device ("none", a host path)
    DentryCache* dcache;  // nullptr: every lookup asks `fs` (see FileSystem::walk_cacheable)
};

// The last component of a path as written (before resolution): namespace operations
// answer "." , ".." and "/" as Linux does (EISDIR, EINVAL, ENOTEMPTY, EBUSY, EEXIST).
enum class LastKind : uint8_t { Normal, Dot, DotDot, Root };

// What a path names after resolution.
struct Resolved {
    char path[kPathMax];  // clean absolute LibOS path, symlinks resolved
    const char* rel;      // `path` relative to the mount root (points into `path`)
    const Mount* mount;
    bool exists;
    Stat stat;            // valid when exists
    LastKind last;        // the written path's last component
    bool trailing_slash;  // the written path ended in '/' after a component
    // The directory the last component was looked up in (what creating or removing that
    // name needs); dir_known is false when the path had no component ("/").
    Attrs dir;
    bool dir_known;
};

// vfs_resolve_with flags: openat2's RESOLVE_* rules, and the namespace operations' own.
enum : uint32_t {
    kResolveNoSymlinks = 1u << 0,  // a symlink anywhere on the way: ELOOP
    kResolveBeneath = 1u << 1,     // never leave `base` (absolute path, "..", symlink): EXDEV
    kResolveInRoot = 1u << 2,      // `base` is "/" for the path, its ".." and its symlinks
    kResolveNoXdev = 1u << 3,      // never cross a mount: EXDEV
    kResolveLastRaw = 1u << 4,     // a trailing slash neither follows nor checks the last
                                   // component (mkdir, unlink, rmdir, rename, link...)
    kResolveNoMagicLinks = 1u << 5,  // /proc's per-process links (fd/N, exe, cwd...): ELOOP
    kResolveRealIds = 1u << 6,       // search permission by the real ids (access(2))
    kResolveNoSearchCheck = 1u << 7,  // none at all: the LibOS walks again a path it holds for
                                      // an object the caller reached already (cwd, open file)
};

Result<void> vfs_init(const boot::Reader& config);
// Adds a mount (built-in file systems at boot); the table owns `fs` from then on.
Result<void> vfs_add_mount(const char* path, FileSystem* fs, bool readonly, const char* source);
const Mount* vfs_find_mount(const char* clean_path);
unsigned vfs_mount_count();
const Mount* vfs_mount_at(unsigned i);
// The index of `m` in the mount table (the same in every process of an instance), or -1
// for a mount outside it (memfd's).
int vfs_mount_index(const Mount* m);

// Resolves `path` relative to `base` (an absolute clean directory path). A missing last
// component is not an error (exists = false); a missing directory on the way is ENOENT.
// With follow_last, a final symlink is followed. A trailing slash requires a directory.
// Every directory a component is looked up in (`base` too) needs search permission
// (EACCES, permission.h).
Result<void> vfs_resolve(const char* base, const char* path, bool follow_last, Resolved* out);
// The same with kResolve* flags. The walk starts at `base` for relative paths (and, with
// kResolveInRoot, for absolute ones).
Result<void> vfs_resolve_with(const char* base, const char* path, bool follow_last, uint32_t flags,
                              Resolved* out);

// open(2) semantics on a resolved path: flags are O_*; `mode` already has the umask applied.
Result<File*> vfs_open(Resolved& r, uint32_t flags, uint32_t mode);

// open(2) with O_TMPFILE: an unnamed regular file in the directory `dir` (resolved, followed
// unless O_NOFOLLOW); `mode` has the umask applied. ENOENT, ENOTDIR, EROFS, then
// EOPNOTSUPP where the file system has no unnamed files (chroot).
Result<File*> vfs_open_tmpfile(Resolved& dir, uint32_t flags, uint32_t mode);

// readlink(2) of a resolved (not followed) path.
Result<size_t> vfs_readlink(const Resolved& r, char* buf, size_t size);

// Namespace changes on resolved paths (resolved with kResolveLastRaw and without following
// the last component). Each checks what Linux checks before the file system is asked, in
// Linux's order: the last component's kind, existence, read-only mounts (EROFS), mounts
// crossed (EXDEV), mount points (EBUSY), types (EISDIR/ENOTDIR). `mode` has the umask
// applied already.
Result<void> vfs_mkdir(const Resolved& r, uint32_t mode);
// mknod(2) (mode has its type): regular files, FIFOs and sockets, as far as the file system
// makes them (tmpfs all three; chroot no sockets: EPERM); devices are EPERM (no CAP_MKNOD).
Result<void> vfs_mknod(const Resolved& r, uint32_t mode, uint64_t dev);
Result<void> vfs_unlink(const Resolved& r);
Result<void> vfs_rmdir(const Resolved& r);
// renameat2 flags (RENAME_NOREPLACE / RENAME_EXCHANGE, validated by the caller).
Result<void> vfs_rename(const Resolved& from, const Resolved& to, uint32_t flags);
// `from` is resolved with or without following (AT_SYMLINK_FOLLOW); `to` is created.
Result<void> vfs_link(const Resolved& from, const Resolved& to);
// linkat(2) of the open file `f` (AT_EMPTY_PATH or a /proc/self/fd link): `to` is created.
Result<void> vfs_link_file(File* f, const Resolved& to);
// The fd that `r` (resolved without following) names when it is one of this process's
// /proc/<pid>/fd/N links (through /proc/self or a task directory too); -1 for any other path.
// Linux follows such a link to the open file itself, which may have no name.
int vfs_proc_fd_link(const Resolved& r);
Result<void> vfs_symlink(const char* target, const Resolved& r);

// Attribute changes on resolved paths (follow already applied).
Result<void> vfs_chmod(const Resolved& r, uint32_t mode);
Result<void> vfs_chown(const Resolved& r, uint32_t uid, uint32_t gid);
Result<void> vfs_truncate(const Resolved& r, uint64_t size);
Result<void> vfs_utimens(const Resolved& r, int64_t atime_ns, int64_t mtime_ns);

// Forgets what the dentry caches know of `rel` in `m` and below it, there and in the other
// mounts that show the same host files. The namespace operations above do it themselves;
// this is for changes made elsewhere (fchmod of an open directory: "" forgets the mount).
void vfs_dcache_forget(const Mount* m, const char* rel);

// statfs(2) of `rel` in a mount, with ST_RDONLY set for read-only mounts.
Result<void> vfs_statfs(const Mount* m, const char* rel, StatFs* out);
// sync(2): every mounted file system.
void vfs_sync_all();
// The mount that holds the directory entry `r` names: r.mount, or for a mount point the
// mount its parent directory is on.
const Mount* vfs_parent_mount(const Resolved& r);

// Opens the console device (fd 0, 1, 2 at boot).
Result<File*> console_open(PalConsole which);
// A fork child's end of an open host file its parent shares (File::share_host): the same
// host file description, offset included, named `path`. The file takes the handle.
Result<File*> host_file_adopt(PalHandle* h, uint32_t flags, const char* path);

// The file systems a manifest can mount.
Result<FileSystem*> chroot_create(const char* host_root);
Result<FileSystem*> tmpfs_create();

// memfd_create(2): an anonymous read-write file in a private tmpfs, shown as
// "/memfd:NAME (deleted)"; mode 0777, or 0666 with `noexec`.
Result<File*> memfd_open(const char* name, bool noexec);
// The memory of a MAP_SHARED anonymous mapping (or of /dev/zero mapped shared), as Linux's
// shmem_zero_setup makes it: a nameless tmpfs file of `size` bytes that /proc shows as
// "/dev/zero (deleted)". Mapped, its data is host shared memory, which fork passes on, so
// parent and child share the pages.
Result<File*> shared_zero_open(uint64_t size);

}  // namespace carbyne::libos::fs
