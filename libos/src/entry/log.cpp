// Log lines of the LibOS, through the PAL's log stream.
#include <carbyne/format.h>
#include <libos/log.h>
#include <libos/pal.h>

namespace carbyne::libos {

LogLevel g_log_level = LogLevel::Error;

namespace {

void vlog(const char* prefix, const char* fmt, va_list args) {
    char line[1024];
    size_t n = format(line, sizeof(line), "carbyne: %s", prefix);
    n += vformat(line + n, sizeof(line) - n, fmt, args);
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    g_pal->debug_log(line, n);
}

}  // namespace

void log_write(LogLevel level, const char* fmt, ...) {
    if (!log_enabled(level))
        return;
    const char* prefix = level == LogLevel::Error ? "error: " : level == LogLevel::Warning ? "warning: " : "";
    va_list args;
    va_start(args, fmt);
    vlog(prefix, fmt, args);
    va_end(args);
}

void log_fatal(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vlog("fatal: ", fmt, args);
    va_end(args);
}

void libos_panic(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vlog("fatal: ", fmt, args);
    va_end(args);
    g_pal->process_exit(127);
}

Errno errno_from_pal(PalError e) {
    switch (e) {
    case PAL_OK: return Errno(0);
    case PAL_E_NOMEM: return Errno(ENOMEM);
    case PAL_E_NOENT: return Errno(ENOENT);
    case PAL_E_DENIED: return Errno(EACCES);
    case PAL_E_PERM: return Errno(EPERM);
    case PAL_E_EXISTS: return Errno(EEXIST);
    case PAL_E_NOTDIR: return Errno(ENOTDIR);
    case PAL_E_ISDIR: return Errno(EISDIR);
    case PAL_E_INVAL: return Errno(EINVAL);
    case PAL_E_AGAIN: return Errno(EAGAIN);
    case PAL_E_INTR: return Errno(EINTR);
    case PAL_E_BADHANDLE: return Errno(EBADF);
    case PAL_E_NOTEMPTY: return Errno(ENOTEMPTY);
    case PAL_E_ROFS: return Errno(EROFS);
    case PAL_E_NOSPC: return Errno(ENOSPC);
    case PAL_E_NAMETOOLONG: return Errno(ENAMETOOLONG);
    case PAL_E_LOOP: return Errno(ELOOP);
    case PAL_E_XDEV: return Errno(EXDEV);
    case PAL_E_NOTSUP: return Errno(EOPNOTSUPP);
    case PAL_E_IO: return Errno(EIO);
    case PAL_E_PIPE: return Errno(EPIPE);
    case PAL_E_TIMEDOUT: return Errno(ETIMEDOUT);
    case PAL_E_BUSY: return Errno(EBUSY);
    case PAL_E_TOOMANY: return Errno(EMFILE);
    case PAL_E_OVERFLOW: return Errno(EOVERFLOW);
    case PAL_E_FBIG: return Errno(EFBIG);
    case PAL_E_SPIPE: return Errno(ESPIPE);
    case PAL_E_NOTTY: return Errno(ENOTTY);
    case PAL_E_TXTBSY: return Errno(ETXTBSY);
    case PAL_E_MLINK: return Errno(EMLINK);
    case PAL_E_RANGE: return Errno(ERANGE);
    case PAL_E_NODATA: return Errno(ENODATA);
    case PAL_E_2BIG: return Errno(E2BIG);
    case PAL_E_FAULT: return Errno(EFAULT);
    case PAL_E_UNKNOWN: return Errno(EIO);
    case PAL_E_CONNREFUSED: return Errno(ECONNREFUSED);
    case PAL_E_CONNRESET: return Errno(ECONNRESET);
    case PAL_E_CONNABORTED: return Errno(ECONNABORTED);
    case PAL_E_ADDRINUSE: return Errno(EADDRINUSE);
    case PAL_E_ADDRNOTAVAIL: return Errno(EADDRNOTAVAIL);
    case PAL_E_NOTCONN: return Errno(ENOTCONN);
    case PAL_E_ISCONN: return Errno(EISCONN);
    case PAL_E_INPROGRESS: return Errno(EINPROGRESS);
    case PAL_E_ALREADY: return Errno(EALREADY);
    case PAL_E_NETUNREACH: return Errno(ENETUNREACH);
    case PAL_E_HOSTUNREACH: return Errno(EHOSTUNREACH);
    case PAL_E_AFNOSUPPORT: return Errno(EAFNOSUPPORT);
    case PAL_E_MSGSIZE: return Errno(EMSGSIZE);
    case PAL_E_NOPROTOOPT: return Errno(ENOPROTOOPT);
    case PAL_E_DESTADDRREQ: return Errno(EDESTADDRREQ);
    }
    return Errno(EIO);
}

}  // namespace carbyne::libos

// A call through an unset virtual function: a LibOS bug.
extern "C" void __cxa_pure_virtual() { carbyne::libos::libos_panic("pure virtual function called"); }
