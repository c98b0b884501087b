// Root handles and the resolution of host paths beneath them (beneath.h).
#include "beneath.h"

#include <asm/errno.h>
#include <asm/stat.h>
#include <asm/unistd.h>
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <linux/fcntl.h>
#include <linux/openat2.h>
#include <linux/stat.h>

namespace carbyne::pal {

namespace {

constexpr uint64_t kResolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
// openat2 answers EAGAIN when a ".." raced with a rename elsewhere; it may be retried.
constexpr int kAgainRetries = 8;
constexpr size_t kPathMax = 4096;  // PATH_MAX, NUL included

bool g_warned_no_openat2;

bool is_dot_or_dotdot(const char* s, size_t len) {
    return (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

// One component, directly in the root: no slash, not "." or "..".
bool is_plain_name(const char* path) {
    size_t len = strlen(path);
    if (!len || is_dot_or_dotdot(path, len))
        return false;
    for (size_t i = 0; i < len; i++)
        if (path[i] == '/')
            return false;
    return true;
}

long openat2_beneath(int dirfd, const char* path, long flags, uint32_t mode) {
    open_how how = {};
    how.flags = uint64_t(flags);
    how.mode = (flags & O_CREAT) ? mode & 07777 : 0;  // openat2 refuses a mode it would not use
    how.resolve = kResolve;
    long fd;
    int tries = 0;
    do {
        fd = host_syscall4(__NR_openat2, dirfd, long(path), long(&how), sizeof(how));
    } while (fd == -EAGAIN && ++tries < kAgainRetries);
    if (fd == -ENOSYS && !g_warned_no_openat2) {
        g_warned_no_openat2 = true;
        pal_log("the host has no openat2 (Linux 5.6+): no file of a chroot mount can be opened");
    }
    return fd;
}

}  // namespace

int root_fd(const PalHandle* root) {
    if (!root || (root->type != PAL_TYPE_DIR && root->type != PAL_TYPE_FILE))
        return -1;
    return root->fd;
}

long open_beneath(const PalHandle* root, const char* path, long flags, uint32_t mode) {
    int fd = root_fd(root);
    if (fd < 0)
        return -EBADF;
    if (path[0] == '/')
        return -EXDEV;  // openat2's answer, also for an empty-looking "/" or "//"
    if (path[0])
        return openat2_beneath(fd, path, flags, mode);
    if (root->type == PAL_TYPE_DIR)
        return openat2_beneath(fd, ".", flags, mode);
    // A file root: reopened through its /proc/self/fd link, a magic link to exactly the file
    // the root handle holds (O_NOFOLLOW would refuse the link itself).
    char proc[32];
    format(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    return host_syscall4(__NR_openat, AT_FDCWD, long(proc), flags & ~long(O_NOFOLLOW), 0);
}

BeneathObject::~BeneathObject() {
    if (m_owned >= 0)
        host_syscall1(__NR_close, m_owned);
}

PalError BeneathObject::resolve(const PalHandle* root, const char* path) {
    int fd = root_fd(root);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    if (path[0] == '/')
        return PAL_E_XDEV;
    if (!path[0]) {
        m_dirfd = fd;
        m_name = "";
        m_at_flags = AT_EMPTY_PATH;
        return PAL_OK;
    }
    if (is_plain_name(path)) {
        m_dirfd = fd;
        m_name = path;
        m_at_flags = AT_SYMLINK_NOFOLLOW;
        return PAL_OK;
    }
    long obj = openat2_beneath(fd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    if (host_failed(obj))
        return error_from_host(obj);
    m_dirfd = m_owned = obj;
    m_name = "";
    m_at_flags = AT_EMPTY_PATH;
    return PAL_OK;
}

BeneathParent::~BeneathParent() {
    if (m_owned >= 0)
        host_syscall1(__NR_close, m_owned);
}

PalError BeneathParent::resolve(const PalHandle* root, const char* path) {
    int fd = root_fd(root);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    if (path[0] == '/')
        return PAL_E_XDEV;
    size_t end = strlen(path);
    while (end > 0 && path[end - 1] == '/')
        end--;
    if (end == 0) {  // the root itself
        m_dirfd = fd;
        m_name = ".";
        return PAL_OK;
    }
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    long dir;
    if (is_dot_or_dotdot(path + start, end - start)) {
        dir = openat2_beneath(fd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        m_name = ".";
    } else if (start == 0) {
        m_dirfd = fd;
        m_name = path;
        return PAL_OK;
    } else {
        if (start >= kPathMax)
            return PAL_E_NAMETOOLONG;
        char parent[kPathMax];
        memcpy(parent, path, start);
        parent[start] = '\0';
        dir = openat2_beneath(fd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        m_name = path + start;
    }
    if (host_failed(dir))
        return error_from_host(dir);
    m_dirfd = m_owned = dir;
    return PAL_OK;
}

PalError fs_root_open(const char* host_path, PalHandle** out) {
    // The path comes from the manifest and is opened as any host path, symlinks followed;
    // what lies beneath it is resolved by the calls above.
    long fd = host_syscall4(__NR_openat, AT_FDCWD, long(host_path), O_PATH | O_CLOEXEC, 0);
    if (host_failed(fd))
        return error_from_host(fd);
    struct stat st;
    long ret = host_syscall2(__NR_fstat, fd, long(&st));
    PalStreamType type = (st.st_mode & S_IFMT) == S_IFDIR ? PAL_TYPE_DIR : PAL_TYPE_FILE;
    if (host_failed(ret) || ((st.st_mode & S_IFMT) != S_IFDIR && (st.st_mode & S_IFMT) != S_IFREG)) {
        host_syscall1(__NR_close, fd);
        return host_failed(ret) ? error_from_host(ret) : PAL_E_INVAL;
    }
    PalHandle* h = handle_alloc(type, int(fd));
    if (!h) {
        host_syscall1(__NR_close, fd);
        return PAL_E_NOMEM;
    }
    *out = h;
    return PAL_OK;
}

}  // namespace carbyne::pal
