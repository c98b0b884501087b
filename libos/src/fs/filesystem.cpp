// FileSystem defaults: what a file system without the operation answers.
#include "filesystem.h"

#include <libos/heap.h>

#include "vfs.h"

namespace carbyne::libos::fs {

Result<size_t> FileSystem::readlink(const char*, char*, size_t) { return Errno(EINVAL); }
Result<void> FileSystem::mkdir(const char*, uint32_t) { return Errno(EPERM); }
Result<void> FileSystem::unlink(const char*) { return Errno(EPERM); }
Result<void> FileSystem::rmdir(const char*) { return Errno(EPERM); }
Result<void> FileSystem::rename(const char*, const char*, uint32_t) { return Errno(EPERM); }
Result<void> FileSystem::link(const char*, const char*) { return Errno(EPERM); }
Result<void> FileSystem::symlink(const char*, const char*) { return Errno(EPERM); }
Result<File*> FileSystem::open_tmpfile(const Resolved&, uint32_t, uint32_t) { return Errno(EOPNOTSUPP); }

Result<void> FileSystem::link_file(File* f, const Stat& st, const char* rel) {
    auto* from = static_cast<Resolved*>(kmalloc(sizeof(Resolved)));
    if (!from)
        return Errno(ENOMEM);
    HeapGuard guard{from};
    // The open file's own path (it follows renames); a file whose name is gone has none.
    char own[kPathMax];
    bool deleted = false;
    TRY(f->path(own, sizeof(own), &deleted));
    if (deleted || own[0] != '/')
        return Errno(ENOENT);
    TRY(vfs_resolve_with("/", own, false, kResolveNoSearchCheck, from));
    if (!from->exists || from->mount->fs != this || from->stat.ino != st.ino || from->stat.dev != st.dev)
        return Errno(ENOENT);
    return link(from->rel, rel);
}

Result<void> FileSystem::mknod(const char*, uint32_t, uint64_t) { return Errno(EPERM); }
Result<void> FileSystem::chmod(const char*, uint32_t) { return Errno(EPERM); }
Result<size_t> FileSystem::xattr(const char*, const XattrRequest&) { return Errno(EOPNOTSUPP); }
Result<void> FileSystem::chown(const char*, uint32_t, uint32_t) { return Errno(EPERM); }
Result<void> FileSystem::truncate(const char*, uint64_t) { return Errno(EPERM); }
Result<void> FileSystem::utimens(const char*, int64_t, int64_t) { return Errno(EPERM); }
Result<void> FileSystem::statfs(StatFs*) { return Errno(ENOSYS); }
Result<void> FileSystem::statfs_at(const char*, StatFs* out) { return statfs(out); }
Result<void> FileSystem::sync() { return {}; }

}  // namespace carbyne::libos::fs
