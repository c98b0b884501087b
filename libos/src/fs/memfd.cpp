// memfd_create's files, and the memory of MAP_SHARED anonymous mappings: each is a file of
// a private tmpfs (no mount and no path reaches it), unlinked right after it is made, behind
// a File that shows the name Linux shows.
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <linux/fcntl.h>

#include "vfs.h"

namespace carbyne::libos::fs {

namespace {

// The private tmpfs, made on first use. `fs` is set once (compare-and-swap), so a Mount
// seen with a file system is complete; it is never freed.
Mount g_memfd_mount = {const_cast<char*>("/"), nullptr, false, "memfd"};
uint64_t g_memfd_serial;

Result<FileSystem*> memfd_fs() {
    FileSystem* fs = __atomic_load_n(&g_memfd_mount.fs, __ATOMIC_ACQUIRE);
    if (fs)
        return fs;
    FileSystem* made = TRY(tmpfs_create());
    FileSystem* expected = nullptr;
    if (__atomic_compare_exchange_n(&g_memfd_mount.fs, &expected, made, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return made;
    destroy(made);  // another thread made it first
    return expected;
}

// Everything goes to the tmpfs file; only the name (and with it the path /proc shows) and
// the status flags are this File's own.
class MemFile final : public File {
public:
    MemFile(File* inner, const char* path) : File(O_RDWR | O_LARGEFILE, path), m_inner(inner) {
        set_mount(&g_memfd_mount);
    }
    ~MemFile() override { m_inner->unref(); }

    Result<size_t> read(IoBuf buf, size_t size) override { return inner()->read(buf, size); }
    Result<size_t> write(IoBuf buf, size_t size) override { return inner()->write(buf, size); }
    Result<size_t> pread(IoBuf buf, size_t size, uint64_t offset) override {
        return inner()->pread(buf, size, offset);
    }
    Result<size_t> pwrite(IoBuf buf, size_t size, uint64_t offset) override {
        return inner()->pwrite(buf, size, offset);
    }
    Result<int64_t> seek(int64_t offset, int whence) override { return m_inner->seek(offset, whence); }
    Result<void> stat(Stat* out) override { return m_inner->stat(out); }
    Result<size_t> getdents64(void* buf, size_t size) override { return m_inner->getdents64(buf, size); }
    Result<void> sync() override { return m_inner->sync(); }
    Result<void> datasync() override { return m_inner->datasync(); }
    Result<void> truncate(uint64_t size) override { return m_inner->truncate(size); }
    Result<void> allocate(int mode, uint64_t offset, uint64_t size) override {
        return m_inner->allocate(mode, offset, size);
    }
    Result<void> chmod(uint32_t mode) override { return m_inner->chmod(mode); }
    Result<void> chown(uint32_t uid, uint32_t gid) override { return m_inner->chown(uid, gid); }
    Result<void> utimens(int64_t atime_ns, int64_t mtime_ns) override { return m_inner->utimens(atime_ns, mtime_ns); }
    Result<uint64_t> readable_bytes() override { return m_inner->readable_bytes(); }
    PalHandle* pal_file() override { return m_inner->pal_file(); }
    Result<PalHandle*> map_handle() override { return m_inner->map_handle(); }

private:
    // The tmpfs file acts on its own status flags (O_APPEND): keep them equal to ours,
    // which fcntl(F_SETFL) changes.
    File* inner() {
        m_inner->set_flags(flags());
        return m_inner;
    }

    File* m_inner;
};

}  // namespace

namespace {

// A file of the private tmpfs, unlinked at once, behind a File that shows `shown`.
Result<File*> private_file_open(const char* shown, uint32_t mode) {
    FileSystem* fs = TRY(memfd_fs());
    auto* r = static_cast<Resolved*>(kzalloc(sizeof(Resolved)));
    HeapGuard r_guard{r};
    if (!r)
        return Errno(ENOMEM);
    uint64_t serial = __atomic_fetch_add(&g_memfd_serial, 1, __ATOMIC_RELAXED);
    format(r->path, sizeof(r->path), "/memfd.%lu", serial);
    r->rel = r->path + 1;
    r->mount = &g_memfd_mount;
    r->exists = false;
    r->last = LastKind::Normal;
    File* inner = TRY(fs->open(*r, O_RDWR | O_CREAT | O_EXCL | O_LARGEFILE, mode));
    // Nameless from now on, as on Linux. A tmpfs that cannot unlink keeps the private name,
    // which nothing can reach anyway.
    auto unlinked = fs->unlink(r->rel);
    if (!unlinked.ok())
        log_debug("memfd: the private tmpfs kept %s (error %d)", r->rel, unlinked.error().code);
    File* f = make<MemFile>(inner, shown);
    if (!f) {
        inner->unref();
        return Errno(ENOMEM);
    }
    return f;
}

}  // namespace

Result<File*> memfd_open(const char* name, bool noexec) {
    auto* shown = static_cast<char*>(kmalloc(kPathMax));
    HeapGuard shown_guard{shown};
    if (!shown)
        return Errno(ENOMEM);
    format(shown, kPathMax, "/memfd:%s (deleted)", name);
    return private_file_open(shown, noexec ? 0666 : 0777);
}

Result<File*> shared_zero_open(uint64_t size) {
    File* f = TRY(private_file_open("/dev/zero (deleted)", 0600));
    auto sized = f->truncate(size);
    if (!sized.ok()) {
        f->unref();
        return sized.error();
    }
    return f;
}

}  // namespace carbyne::libos::fs
