// Open file descriptions: what an fd points at. Shared by dup'ed fds; reference-counted.
//
// Lock order: FdTable lock, then File::m_lock. Never hold either across a PAL call that
// blocks, nor while copying to the application.
#pragma once

#include <asm/stat.h>
#include <linux/stat.h>
#include <libos/result.h>
#include <libos/lock.h>
#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

#include "async.h"

namespace carbyne::libos {
class WaitQueue;
}

namespace carbyne::libos::fs {

struct Mount;
struct Dentry;
class File;
struct XattrRequest;
struct PollWatch;
// Removes the epoll entries watching `f` (net/epoll.cpp); see File::poll_release().
void poll_release_watchers(File* f);

// File status, the LibOS's own form; converted to struct stat / statx at the syscall edge.
struct Stat {
    uint32_t mode;  // type and permission bits (S_IFREG | 0644 ...)
    uint64_t ino, dev, rdev, nlink, size, blksize, blocks;
    uint32_t uid, gid;
    int64_t atime_ns, mtime_ns, ctime_ns;
};

uint32_t mode_type_of(PalStreamType type);
void stat_from_pal(const PalStreamAttr& attr, Stat* out);

// A data buffer of a read or write: application memory (checked; a bad address is EFAULT)
// or LibOS memory.
struct IoBuf {
    uint64_t addr;
    bool user;

    static IoBuf app(uint64_t a) { return IoBuf{a, true}; }
    static IoBuf kernel(const void* p) { return IoBuf{uint64_t(p), false}; }
    IoBuf operator+(size_t n) const { return IoBuf{addr + n, user}; }
};

// Copies between an IoBuf and LibOS memory.
Result<void> io_copy_out(IoBuf dst, const void* src, size_t size);
Result<void> io_copy_in(void* dst, IoBuf src, size_t size);
// Checks an IoBuf before it is handed to the PAL (the host reports EFAULT for unmapped
// memory; this keeps the PAL and libos.so images out of reach).
Result<void> io_check(IoBuf buf, size_t size);

// The special files some calls act on alone (timerfd_settime, epoll_ctl...): after a
// kind() check, a static_cast to the class is safe (there is no RTTI in the LibOS).
enum class FileKind : uint8_t { Other, TimerFd, SignalFd, EventFd, Epoll, Pipe, Socket, Inotify, Remote, PidFd };

class File {
public:
    virtual ~File() { poll_release(); }

    // Data, straight between the file and `buf` (no bounce through the LibOS).
    virtual Result<size_t> read(IoBuf buf, size_t size);
    virtual Result<size_t> write(IoBuf buf, size_t size);
    virtual Result<size_t> pread(IoBuf buf, size_t size, uint64_t offset);
    virtual Result<size_t> pwrite(IoBuf buf, size_t size, uint64_t offset);
    virtual Result<int64_t> seek(int64_t offset, int whence);
    virtual Result<void> stat(Stat* out);
    // Fills `buf` with linux_dirent64 records; 0 at the end.
    virtual Result<size_t> getdents64(void* buf, size_t size);
    virtual Result<void> sync();
    // fdatasync(2): data only; defaults to sync().
    virtual Result<void> datasync();
    // ftruncate(2); EINVAL for files that cannot be truncated.
    virtual Result<void> truncate(uint64_t size);
    // fallocate(2) with its mode bits.
    virtual Result<void> allocate(int mode, uint64_t offset, uint64_t size);
    // fchmod/fchown/futimens on the open file (kTimeOmit/kTimeNow from filesystem.h).
    virtual Result<void> chmod(uint32_t mode);
    virtual Result<void> chown(uint32_t uid, uint32_t gid);
    virtual Result<void> utimens(int64_t atime_ns, int64_t mtime_ns);
    // fgetxattr/fsetxattr/flistxattr/fremovexattr (checked by the caller: xattr.h); the
    // default answers EOPNOTSUPP, as for a file system without extended attributes.
    virtual Result<size_t> xattr(const XattrRequest& req);
    // FIONREAD: bytes that a read would return now without blocking.
    virtual Result<uint64_t> readable_bytes();
    // Readiness for poll/select/epoll: the POLL* bits true now (POLLIN, POLLOUT, POLLHUP,
    // POLLERR...). The default is a regular file's: always readable and writable.
    virtual uint32_t poll_events() { return 0x1 | 0x4 | 0x40 | 0x100; }  // POLLIN|POLLOUT|RDNORM|WRNORM
    // Files whose readiness changes inside the LibOS (pipes, eventfds, timerfds...) wake
    // this queue with the POLL* bits that became true; nullptr for files that never change.
    virtual WaitQueue* poll_queue() { return nullptr; }
    // Files whose readiness comes from the host (consoles, host sockets): the PAL handle to
    // wait on with wait_for_many; nullptr otherwise.
    virtual PalHandle* poll_handle() { return nullptr; }
    // The host file behind this one, for mmap; nullptr when it cannot be mapped.
    virtual PalHandle* pal_file() { return nullptr; }
    // The host object mmap maps (ENODEV when none): pal_file(), or for files whose data
    // moves to host memory when first mapped (tmpfs, memfd), that memory.
    virtual Result<PalHandle*> map_handle() {
        if (PalHandle* h = pal_file())
            return h;
        return Errno(ENODEV);
    }
    virtual bool is_console() const { return false; }
    // fork: makes this open file description one that processes share through its host
    // handle (one offset, moved by the host from now on) and returns that handle to pass
    // to the child; EOPNOTSUPP for files that cannot (the default).
    virtual Result<PalHandle*> share_host() { return Errno(EOPNOTSUPP); }
    // Which console (PalConsole) a console file is; -1 for any other file.
    virtual int console_index() const { return -1; }
    // mmap of this file makes anonymous memory (/dev/zero: private or shared, as Linux).
    virtual bool maps_as_anonymous() const { return false; }
    // open(2) of /proc/self/fd/N for a file that has no path to open again (a pipe: a new
    // end of the same pipe, opened as a FIFO is); nullptr when the file has a path, which
    // the walk follows instead.
    virtual Result<File*> reopen(uint32_t flags) {
        (void)flags;
        return static_cast<File*>(nullptr);
    }
    virtual FileKind kind() const { return FileKind::Other; }
    // ioctl(2) requests of this kind of file (terminals); the generic ones (FIONBIO,
    // FIOCLEX, FIONREAD...) never reach it. ENOTTY by default, as Linux answers.
    virtual Result<long> ioctl(uint32_t request, uint64_t arg) {
        (void)request;
        (void)arg;
        return Errno(ENOTTY);
    }

    // The owner of its O_ASYNC signals and the signal (fcntl F_SETOWN, F_SETOWN_EX,
    // F_SETSIG; fs/async.h), one word so that it reads whole without a lock.
    AsyncOwner async_owner() const {
        uint64_t v = __atomic_load_n(&m_owner, __ATOMIC_RELAXED);
        return AsyncOwner{int((v >> 32) & 0xff), int(uint32_t(v)), int(v >> 40)};
    }
    void set_async_owner(const AsyncOwner& o) {
        uint64_t v = uint64_t(uint32_t(o.id)) | (uint64_t(o.type & 0xff) << 32) | (uint64_t(o.sig) << 40);
        __atomic_store_n(&m_owner, v, __ATOMIC_RELAXED);
    }
    // Whether fs/async.cpp watches it (its end must tell it).
    void set_async_watched(bool on) { __atomic_store_n(&m_async_watched, on, __ATOMIC_RELEASE); }

    // O_* status flags (O_APPEND, O_NONBLOCK...) and access mode.
    uint32_t flags() const { return __atomic_load_n(&m_flags, __ATOMIC_RELAXED); }
    void set_flags(uint32_t f) { __atomic_store_n(&m_flags, f, __ATOMIC_RELAXED); }
    bool readable() const { return (flags() & 3) != 1; }   // not O_WRONLY
    bool writable() const { return (flags() & 3) != 0; }   // O_WRONLY or O_RDWR
    bool is_path_only() const { return m_path_only; }
    void set_path_only() { m_path_only = true; }

    // Its LibOS path now (a rename since the open moves it), for /proc, dirfds and logs; or
    // the name it was made with (pipe:[N], anon_inode:[eventfd]...). ENOENT when it has
    // neither, ENAMETOOLONG when `size` is short. *deleted: the path was unlinked since.
    Result<size_t> path(char* buf, size_t size, bool* deleted = nullptr) const;
    bool has_path() const { return m_dentry || m_path; }
    // The dentry of the path it was opened by (vfs_open; the file takes the reference).
    void set_dentry(Dentry* d);
    Dentry* dentry() const { return m_dentry; }

    // The mount it was opened on (set by vfs_open; nullptr for consoles, pipes, memfds...):
    // read-only mounts refuse fchmod/fchown/futimens, fstatfs/syncfs ask its FileSystem.
    const Mount* mount() const { return m_mount; }
    void set_mount(const Mount* m) { m_mount = m; }

    void ref() { __atomic_add_fetch(&m_refs, 1, __ATOMIC_RELAXED); }
    void unref();
    // A new reference, unless the last one is already gone (epoll holds none of the files
    // it watches and must not revive one being destroyed).
    bool try_ref() {
        int n = __atomic_load_n(&m_refs, __ATOMIC_RELAXED);
        while (n > 0)
            if (__atomic_compare_exchange_n(&m_refs, &n, n + 1, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                return true;
        return false;
    }

    // The epoll entries watching this file (net/epoll.cpp keeps the list). They are removed
    // when the file goes; a file whose poll_queue() lives in another object that its
    // destructor may free calls poll_release() first in its own destructor.
    PollWatch** poll_watchers() { return &m_poll_watchers; }
    void poll_release() {
        if (__atomic_load_n(&m_poll_watchers, __ATOMIC_ACQUIRE))
            poll_release_watchers(this);
    }

protected:
    File(uint32_t flags, const char* path);

    Spinlock m_lock{LockRank::File};
    uint32_t m_flags;
    bool m_path_only = false;
    char* m_path = nullptr;    // the name it was made with, until a dentry replaces it
    Dentry* m_dentry = nullptr;
    const Mount* m_mount = nullptr;

private:
    int m_refs = 1;
    PollWatch* m_poll_watchers = nullptr;
    uint64_t m_owner = 0;
    bool m_async_watched = false;
};

}  // namespace carbyne::libos::fs
