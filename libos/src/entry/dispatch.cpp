// The dispatcher: one table from syscall_table.h, -ENOSYS for everything else, and the
// strace-like trace at log level "trace".
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/fcntl.h>

#include "../proc/process.h"
#include "../proc/wait.h"
#include "../signal/signal.h"
#include "../sys/syscall.h"
#include "syscall_names.h"

namespace carbyne::libos {

namespace {

using Handler = Result<long> (*)(const SyscallArgs&);

enum class Level : uint8_t { Unlisted, Full, Partial, Enosys };

struct Entry {
    Handler handler;
    const char* args;
    Level level;
};

constexpr unsigned kTableSize = 512;

#define CARBYNE_HANDLER_Full(name) sys_##name
#define CARBYNE_HANDLER_Partial(name) sys_##name
#define CARBYNE_HANDLER_Enosys(name) nullptr

struct Table {
    Entry e[kTableSize];
};

constexpr Table build_table() {
    Table t{};
#define CARBYNE_ENTRY(nr, name, level, argtypes, note) \
    t.e[nr] = Entry{CARBYNE_HANDLER_##level(name), argtypes, Level::level};
    CARBYNE_SYSCALLS(CARBYNE_ENTRY)
#undef CARBYNE_ENTRY
    return t;
}

constinit const Table g_table = build_table();

// Numbers already reported as unimplemented (each is logged once).
uint64_t g_reported[kTableSize / 64];

const char* syscall_name(uint64_t nr) {
    return nr < kSyscallNameCount && kSyscallNames[nr] ? kSyscallNames[nr] : "?";
}

void report_unimplemented(uint64_t nr, Level level) {
    if (nr < kTableSize) {
        uint64_t bit = 1ull << (nr % 64);
        if (__atomic_fetch_or(&g_reported[nr / 64], bit, __ATOMIC_RELAXED) & bit)
            return;
    }
    if (level == Level::Enosys)
        log_debug("%s (%lu) is not supported: -ENOSYS (see docs/syscalls.md)", syscall_name(nr), nr);
    else
        log_warning("unsupported system call %s (%lu): -ENOSYS", syscall_name(nr), nr);
}

const char* errno_name(long e) {
    switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case ERESTARTSYS: return "ERESTARTSYS";
    case ERESTARTNOINTR: return "ERESTARTNOINTR";
    case ERESTARTNOHAND: return "ERESTARTNOHAND";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENODEV: return "ENODEV";
    default: return nullptr;
    }
}

// One argument in the trace's notation.
size_t format_arg(char* buf, size_t size, char type, uint64_t v) {
    switch (type) {
    case 'i': return format(buf, size, "%ld", long(v));
    case 'u':
    case 'z': return format(buf, size, "%lu", v);
    case 'o': return format(buf, size, "0%lo", v);
    case 'f': return int32_t(v) == AT_FDCWD ? format(buf, size, "AT_FDCWD") : format(buf, size, "%d", int32_t(v));
    case 's': {
        char s[64];
        auto r = copy_string_from_user(s, v, sizeof(s));
        if (r.ok())
            return format(buf, size, "\"%s\"", s);
        if (r.error() == Errno(ENAMETOOLONG))
            return format(buf, size, "\"%.*s\"...", int(sizeof(s) - 1), s);
        return format(buf, size, "%#lx", v);
    }
    default: return v ? format(buf, size, "%#lx", v) : format(buf, size, "0");
    }
}

void trace(uint64_t nr, const SyscallArgs& args, const char* types, long ret) {
    char line[768];
    auto room = [&](size_t used) { return used < sizeof(line) ? sizeof(line) - used : 0; };
    size_t n = format(line, sizeof(line), "[%d] %s(", current_thread()->tid, syscall_name(nr));
    for (int i = 0; types && types[i] && i < 6; i++) {
        if (i)
            n += format(line + n, room(n), ", ");
        n += format_arg(line + n, room(n), types[i], args.a[i]);
    }
    if (n >= sizeof(line))
        n = sizeof(line) - 1;
    const char* en = ret < 0 ? errno_name(-ret) : nullptr;
    if (en)
        format(line + n, sizeof(line) - n, ") = -1 %s", en);
    else if (ret < 0)
        format(line + n, sizeof(line) - n, ") = -1 (errno %ld)", -ret);
    else if (ret > 0xffff)
        format(line + n, sizeof(line) - n, ") = %#lx", ret);
    else
        format(line + n, sizeof(line) - n, ") = %ld", ret);
    log_write(LogLevel::Trace, "%s", line);
}

}  // namespace

long dispatch_syscall(uint64_t nr, const SyscallArgs& args) {
    const Entry* e = nr < kTableSize ? &g_table.e[nr] : nullptr;
    long ret;
    if (!e || !e->handler) {
        report_unimplemented(nr, e ? e->level : Level::Unlisted);
        ret = -ENOSYS;
    } else {
        current_thread()->syscall_nr = long(nr);
        Result<long> r = e->handler(args);
        current_thread()->syscall_nr = -1;
        ret = r.ok() ? r.value() : -long(r.error().code);
    }
    if (g_log_level >= LogLevel::Trace)
        trace(nr, args, e ? e->args : nullptr, ret);
    return ret;
}

const char* current_syscall_name() {
    long nr = current_thread() ? current_thread()->syscall_nr : -1;
    return nr < 0 ? nullptr : syscall_name(uint64_t(nr));
}

}  // namespace carbyne::libos

// Called from libos_syscall_entry (entry.S) on the thread's PAL stack.
extern "C" void libos_handle_syscall(PalContext* ctx) {
    using namespace carbyne::libos;
    SyscallArgs args = {{ctx->rdi, ctx->rsi, ctx->rdx, ctx->r10, ctx->r8, ctx->r9}};
    current_thread()->syscall_ctx = ctx;
    // What the syscall instruction leaves in rcx and r11, as a signal frame must show them.
    ctx->rcx = ctx->rip;
    ctx->r11 = ctx->rflags;
    uint64_t nr = ctx->rax;
    long ret = dispatch_syscall(nr, args);
    if (ret == -ERESTARTSYS || ret == -ERESTARTNOINTR || ret == -ERESTARTNOHAND) {
        // Interrupted by a signal: EINTR, unless delivery restarts the call.
        Thread* t = current_thread();
        t->restart = int(-ret);
        t->restart_nr = nr;
        ret = -EINTR;
    }
    ctx->rax = uint64_t(ret);
    signal_deliver_pending(ctx, nullptr);
}
