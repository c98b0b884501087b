// Helpers shared by the file-system syscall families (fs_io, fs_stat, fs_ops...): path
// arguments, dirfd bases, heap boxes for the large path structures.
#pragma once

#include <libos/heap.h>
#include <libos/result.h>
#include <stdint.h>

#include "../fs/vfs.h"

namespace carbyne::libos {

// A heap-allocated T (a Resolved or a path is too big for the syscall stack), freed at
// scope end; get() is nullptr when out of memory.
template <typename T>
class HeapBox {
public:
    HeapBox() : m_p(static_cast<T*>(kmalloc(sizeof(T)))) {}
    ~HeapBox() { kfree(m_p); }
    HeapBox(const HeapBox&) = delete;
    HeapBox& operator=(const HeapBox&) = delete;
    T* get() { return m_p; }

private:
    T* m_p;
};

using ResolvedBox = HeapBox<fs::Resolved>;

// A path copied in from the application once (kPathMax bytes).
struct PathBuf {
    char s[fs::kPathMax];
};

// Copies the path argument: EFAULT for a bad pointer, ENAMETOOLONG past PATH_MAX.
Result<void> copy_path_from_user(uint64_t user_path, PathBuf* out);

// The directory a relative path of an *at call starts from: the working directory for
// AT_FDCWD, else dirfd's path now (ENOTDIR when it is not a directory, EBADF when not
// open). True when that directory was removed (`out` has the path it had).
Result<bool> dirfd_base(int dirfd, char* out);

// Resolves a LibOS-side path against dirfd with vfs_resolve_with's flags. An empty path
// is ENOENT (callers handle AT_EMPTY_PATH before).
Result<void> resolve_path_at(int dirfd, const char* path, bool follow, uint32_t flags, fs::Resolved* out);

// The process's file mode creation mask.
uint32_t current_umask();

}  // namespace carbyne::libos
