// The one conversion from host errno to PalError, and the PAL's own log lines.
#include <asm/errno.h>
#include <asm/unistd.h>
#include <carbyne/format.h>
#include <carbyne/string.h>

#include "pal_internal.h"

namespace carbyne::pal {

PalError error_from_host(long ret) {
    switch (-ret) {
    case 0: return PAL_OK;
    case ENOMEM: return PAL_E_NOMEM;
    case ENOENT: return PAL_E_NOENT;
    case EACCES: return PAL_E_DENIED;
    case EPERM: return PAL_E_PERM;
    case EEXIST: return PAL_E_EXISTS;
    case ENOTDIR: return PAL_E_NOTDIR;
    case EISDIR: return PAL_E_ISDIR;
    case EINVAL: return PAL_E_INVAL;
    case EAGAIN: return PAL_E_AGAIN;
    case EINTR: return PAL_E_INTR;
    case EBADF: return PAL_E_BADHANDLE;
    case ENOTEMPTY: return PAL_E_NOTEMPTY;
    case EROFS: return PAL_E_ROFS;
    case ENOSPC: return PAL_E_NOSPC;
    case EDQUOT: return PAL_E_NOSPC;
    case ENAMETOOLONG: return PAL_E_NAMETOOLONG;
    case ELOOP: return PAL_E_LOOP;
    case EXDEV: return PAL_E_XDEV;
    case EOPNOTSUPP: return PAL_E_NOTSUP;
    case ENOSYS: return PAL_E_NOTSUP;
    case EIO: return PAL_E_IO;
    case EPIPE: return PAL_E_PIPE;
    case ETIMEDOUT: return PAL_E_TIMEDOUT;
    case EBUSY: return PAL_E_BUSY;
    case EMFILE: return PAL_E_TOOMANY;
    case ENFILE: return PAL_E_TOOMANY;
    case EOVERFLOW: return PAL_E_OVERFLOW;
    case EFBIG: return PAL_E_FBIG;
    case ESPIPE: return PAL_E_SPIPE;
    case ENOTTY: return PAL_E_NOTTY;
    case ETXTBSY: return PAL_E_TXTBSY;
    case EMLINK: return PAL_E_MLINK;
    case ERANGE: return PAL_E_RANGE;
    case ENODEV: return PAL_E_NOTSUP;
    case ENXIO: return PAL_E_NOENT;
    case EFAULT: return PAL_E_FAULT;
    case ECONNREFUSED: return PAL_E_CONNREFUSED;
    case ECONNRESET: return PAL_E_CONNRESET;
    case ECONNABORTED: return PAL_E_CONNABORTED;
    case EADDRINUSE: return PAL_E_ADDRINUSE;
    case EADDRNOTAVAIL: return PAL_E_ADDRNOTAVAIL;
    case ENOTCONN: return PAL_E_NOTCONN;
    case EISCONN: return PAL_E_ISCONN;
    case EINPROGRESS: return PAL_E_INPROGRESS;
    case EALREADY: return PAL_E_ALREADY;
    case ENETUNREACH: return PAL_E_NETUNREACH;
    case ENETDOWN: return PAL_E_NETUNREACH;
    case EHOSTUNREACH: return PAL_E_HOSTUNREACH;
    case EHOSTDOWN: return PAL_E_HOSTUNREACH;
    case EAFNOSUPPORT: return PAL_E_AFNOSUPPORT;
    case EPFNOSUPPORT: return PAL_E_AFNOSUPPORT;
    case EPROTONOSUPPORT: return PAL_E_AFNOSUPPORT;
    case ESOCKTNOSUPPORT: return PAL_E_NOTSUP;
    case EMSGSIZE: return PAL_E_MSGSIZE;
    case ENOPROTOOPT: return PAL_E_NOPROTOOPT;
    case EDESTADDRREQ: return PAL_E_DESTADDRREQ;
    case ENODATA: return PAL_E_NODATA;
    case E2BIG: return PAL_E_2BIG;
    case ENOTSOCK: return PAL_E_BADHANDLE;
    case ENOBUFS: return PAL_E_NOMEM;
    default: return PAL_E_UNKNOWN;
    }
}

namespace {

void vlog(const char* prefix, const char* fmt, va_list args) {
    char line[512];
    size_t n = format(line, sizeof(line), "carbyne-pal: %s", prefix);
    n += vformat(line + n, sizeof(line) - n, fmt, args);
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    debug_log(line, n);
}

}  // namespace

void pal_log(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vlog("", fmt, args);
    va_end(args);
}

void pal_die(const char* fmt, ...) {
    // Every fatal line starts "carbyne-pal: fatal: ", the marker test drivers look for; a
    // message that says "fatal: " itself does not get it twice.
    va_list args;
    va_start(args, fmt);
    vlog(starts_with(fmt, "fatal: ") ? "" : "fatal: ", fmt, args);
    va_end(args);
    host_syscall1(__NR_exit_group, 127);
    __builtin_unreachable();
}

void debug_log(const char* text, size_t size) {
    int fd = g_pal.log_fd;
    while (size) {
        long n = host_syscall3(__NR_write, fd, long(text), long(size));
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return;
        text += n;
        size -= size_t(n);
    }
}

}  // namespace carbyne::pal
