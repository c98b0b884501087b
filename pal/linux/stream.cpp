// Host files, directories and the console as PAL streams.
#include <asm/errno.h>
#include <asm/stat.h>
#include <linux/stat.h>
#include <asm/unistd.h>
#include <carbyne/string.h>
#include <linux/fcntl.h>

#include "beneath.h"
#include "pal_internal.h"

namespace carbyne::pal {

PalStreamType type_from_mode(uint32_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return PAL_TYPE_FILE;
    case S_IFDIR: return PAL_TYPE_DIR;
    case S_IFLNK: return PAL_TYPE_SYMLINK;
    case S_IFCHR: return PAL_TYPE_CHARDEV;
    case S_IFBLK: return PAL_TYPE_BLOCKDEV;
    case S_IFIFO: return PAL_TYPE_FIFO;
    case S_IFSOCK: return PAL_TYPE_SOCKET;
    default: return PAL_TYPE_UNKNOWN;
    }
}

namespace {

PalStreamType type_from_dirent(uint8_t d_type) {
    switch (d_type) {
    case 8: return PAL_TYPE_FILE;
    case 4: return PAL_TYPE_DIR;
    case 10: return PAL_TYPE_SYMLINK;
    case 2: return PAL_TYPE_CHARDEV;
    case 6: return PAL_TYPE_BLOCKDEV;
    case 1: return PAL_TYPE_FIFO;
    case 12: return PAL_TYPE_SOCKET;
    default: return PAL_TYPE_UNKNOWN;
    }
}

void attr_from_stat(const struct stat& st, PalStreamAttr* out) {
    out->type = type_from_mode(st.st_mode);
    out->mode = st.st_mode & 07777;
    out->size = uint64_t(st.st_size);
    out->ino = st.st_ino;
    out->dev = st.st_dev;
    out->rdev = st.st_rdev;
    out->nlink = st.st_nlink;
    out->uid = st.st_uid;
    out->gid = st.st_gid;
    out->blksize = uint64_t(st.st_blksize);
    out->blocks = uint64_t(st.st_blocks);
    out->atime_ns = int64_t(st.st_atime) * 1000000000 + int64_t(st.st_atime_nsec);
    out->mtime_ns = int64_t(st.st_mtime) * 1000000000 + int64_t(st.st_mtime_nsec);
    out->ctime_ns = int64_t(st.st_ctime) * 1000000000 + int64_t(st.st_ctime_nsec);
}

bool is_stream_type(PalHandle* h) {
    return h && (h->type == PAL_TYPE_FILE || h->type == PAL_TYPE_CONSOLE || h->type == PAL_TYPE_CHARDEV ||
                 h->type == PAL_TYPE_FIFO || h->type == PAL_TYPE_SOCKET || h->type == PAL_TYPE_BLOCKDEV ||
                 h->type == PAL_TYPE_CHANNEL || h->type == PAL_TYPE_EVENT);
}

}  // namespace

PalError stream_open(PalHandle* root, const char* path, uint32_t access, uint32_t mode, PalHandle** out) {
    if (root_fd(root) < 0)
        return PAL_E_BADHANDLE;
    // Never a final symlink: open(2) refuses it (ELOOP), O_PATH names the symlink itself.
    long flags = O_CLOEXEC | O_LARGEFILE | O_NOFOLLOW;
    switch (access & 3) {
    case PAL_ACCESS_RDONLY: flags |= O_RDONLY; break;
    case PAL_ACCESS_WRONLY: flags |= O_WRONLY; break;
    case PAL_ACCESS_RDWR: flags |= O_RDWR; break;
    default: return PAL_E_INVAL;
    }
    if (access & PAL_OPEN_CREATE)
        flags |= O_CREAT;
    if (access & PAL_OPEN_EXCL)
        flags |= O_EXCL;
    if (access & PAL_OPEN_TRUNCATE)
        flags |= O_TRUNC;
    if (access & PAL_OPEN_DIRECTORY)
        flags |= O_DIRECTORY;
    if (access & PAL_OPEN_NONBLOCK)
        flags |= O_NONBLOCK;
    if (access & PAL_OPEN_APPEND)
        flags |= O_APPEND;
    if (access & PAL_OPEN_PATH)
        flags = (flags & (O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW)) | O_PATH;
    long fd = open_beneath(root, path, flags, mode);
    if (host_failed(fd))
        return error_from_host(fd);
    struct stat st;
    long ret = host_syscall2(__NR_fstat, fd, long(&st));
    if (host_failed(ret)) {
        host_syscall1(__NR_close, fd);
        return error_from_host(ret);
    }
    PalHandle* h = handle_alloc(type_from_mode(st.st_mode), int(fd));
    if (!h) {
        host_syscall1(__NR_close, fd);
        return PAL_E_NOMEM;
    }
    *out = h;
    return PAL_OK;
}

PalError console_open(PalConsole which, PalHandle** out) {
    if (which != PAL_CONSOLE_IN && which != PAL_CONSOLE_OUT && which != PAL_CONSOLE_ERR)
        return PAL_E_INVAL;
    PalHandle* h = handle_alloc(PAL_TYPE_CONSOLE, int(which));
    if (!h)
        return PAL_E_NOMEM;
    *out = h;
    return PAL_OK;
}

PalError stream_read(PalHandle* h, uint64_t offset, void* buf, size_t size, size_t* done) {
    if (!is_stream_type(h))
        return h && h->type == PAL_TYPE_DIR ? PAL_E_ISDIR : PAL_E_BADHANDLE;
    for (;;) {
        long n = offset == PAL_NO_OFFSET ? host_syscall3(__NR_read, h->fd, long(buf), long(size))
                                         : host_syscall4(__NR_pread64, h->fd, long(buf), long(size), long(offset));
        if (n == -EINTR)
            continue;
        if (host_failed(n))
            return error_from_host(n);
        *done = size_t(n);
        return PAL_OK;
    }
}

PalError stream_seek(PalHandle* h, int64_t offset, int whence, uint64_t* pos) {
    if (!h || h->type != PAL_TYPE_FILE)
        return PAL_E_BADHANDLE;
    if (whence < 0 || whence > 2)
        return PAL_E_INVAL;
    long ret = host_syscall3(__NR_lseek, h->fd, long(offset), whence);
    if (host_failed(ret))
        return error_from_host(ret);
    if (pos)
        *pos = uint64_t(ret);
    return PAL_OK;
}

PalError stream_write(PalHandle* h, uint64_t offset, const void* buf, size_t size, size_t* done) {
    if (!is_stream_type(h))
        return h && h->type == PAL_TYPE_DIR ? PAL_E_ISDIR : PAL_E_BADHANDLE;
    for (;;) {
        long n = offset == PAL_NO_OFFSET ? host_syscall3(__NR_write, h->fd, long(buf), long(size))
                                         : host_syscall4(__NR_pwrite64, h->fd, long(buf), long(size), long(offset));
        if (n == -EINTR)
            continue;
        if (host_failed(n))
            return error_from_host(n);
        *done = size_t(n);
        return PAL_OK;
    }
}

PalError stream_attributes(PalHandle* h, PalStreamAttr* out) {
    if (!h || h->type == PAL_TYPE_EVENT)
        return PAL_E_BADHANDLE;
    struct stat st;
    long ret = host_syscall2(__NR_fstat, h->fd, long(&st));
    if (host_failed(ret))
        return error_from_host(ret);
    attr_from_stat(st, out);
    return PAL_OK;
}

PalError stream_attributes_path(PalHandle* root, const char* path, PalStreamAttr* out) {
    BeneathObject obj;
    PalError e = obj.resolve(root, path);
    if (e != PAL_OK)
        return e;
    struct stat st;
    long ret = host_syscall4(__NR_newfstatat, obj.dirfd(), long(obj.name()), long(&st), obj.at_flags());
    if (host_failed(ret))
        return error_from_host(ret);
    attr_from_stat(st, out);
    return PAL_OK;
}

PalError stream_flush(PalHandle* h) {
    if (!h || h->type == PAL_TYPE_EVENT)
        return PAL_E_BADHANDLE;
    return error_from_host(host_syscall1(__NR_fsync, h->fd));
}

PalError stream_delete(PalHandle* root, const char* path, int dir) {
    BeneathParent parent;
    PalError e = parent.resolve(root, path);
    if (e != PAL_OK)
        return e;
    return error_from_host(host_syscall3(__NR_unlinkat, parent.dirfd(), long(parent.name()), dir ? AT_REMOVEDIR : 0));
}

void stream_close(PalHandle* h) {
    if (!h)
        return;
    if (h->type != PAL_TYPE_CONSOLE)
        host_syscall1(__NR_close, h->fd);
    handle_free(h);
}

PalError handle_dup(PalHandle* h, PalHandle** out) {
    if (!h || !out || h->fd < 0 || h->type == PAL_TYPE_CONSOLE)
        return PAL_E_BADHANDLE;
    long fd = host_syscall3(__NR_fcntl, h->fd, F_DUPFD_CLOEXEC, 0);
    if (host_failed(fd))
        return error_from_host(fd);
    PalHandle* copy = handle_alloc(h->type, int(fd));
    if (!copy) {
        host_syscall1(__NR_close, fd);
        return PAL_E_NOMEM;
    }
    copy->auto_clear = h->auto_clear;
    copy->poller = h->poller;
    copy->pid = h->pid;
    copy->ended = h->ended;
    copy->exit_code = h->exit_code;
    copy->exit_signal = h->exit_signal;
    *out = copy;
    return PAL_OK;
}

PalError dir_read(PalHandle* dir, int restart, void* buf, size_t size, size_t* done) {
    if (!dir || dir->type != PAL_TYPE_DIR)
        return PAL_E_NOTDIR;
    if (restart) {
        long ret = host_syscall3(__NR_lseek, dir->fd, 0, 0 /* SEEK_SET */);
        if (host_failed(ret))
            return error_from_host(ret);
    }
    long n;
    do {
        n = host_syscall3(__NR_getdents64, dir->fd, long(buf), long(size));
    } while (n == -EINTR);
    if (host_failed(n))
        return error_from_host(n);
    // Rewrite the host's linux_dirent64 records into PalDirent records in place: each
    // output record is no longer than its input, so the output never overtakes the input.
    auto* base = static_cast<uint8_t*>(buf);
    size_t in = 0, out = 0;
    while (in < size_t(n)) {
        uint64_t ino;
        uint16_t reclen;
        uint8_t d_type;
        memcpy(&ino, base + in, 8);
        memcpy(&reclen, base + in + 16, 2);
        d_type = base[in + 18];
        const char* name = reinterpret_cast<const char*>(base + in + 19);
        size_t name_size = strlen(name) + 1;
        size_t rec = (offsetof(PalDirent, name) + name_size + 7) & ~size_t(7);
        auto* d = reinterpret_cast<PalDirent*>(base + out);
        memmove(d->name, name, name_size);
        d->ino = ino;
        d->size = uint16_t(rec);
        d->type = uint8_t(type_from_dirent(d_type));
        in += reclen;
        out += rec;
    }
    *done = out;
    return PAL_OK;
}

PalError stream_readlink(PalHandle* root, const char* path, char* buf, size_t size, size_t* len) {
    BeneathObject obj;
    PalError e = obj.resolve(root, path);
    if (e != PAL_OK)
        return e;
    long n = host_syscall4(__NR_readlinkat, obj.dirfd(), long(obj.name()), long(buf), long(size));
    if (n == -ENOENT && !obj.name()[0])
        n = -EINVAL;  // an empty name reads the descriptor's own link, and it is not one
    if (host_failed(n))
        return error_from_host(n);
    *len = size_t(n);
    return PAL_OK;
}

}  // namespace carbyne::pal
