// The exception upcall: faults in the copy routines become EFAULT; faults in the
// application end it as Linux would without a handler; faults in the LibOS are bugs and
// are reported as such.
#include <libos/log.h>
#include <libos/pal.h>
#include <libos/user.h>

#include "../proc/process.h"

namespace carbyne::libos {

const char* current_syscall_name();

namespace {

const char* signal_name(int sig) {
    switch (sig) {
    case 4: return "SIGILL";
    case 5: return "SIGTRAP";
    case 7: return "SIGBUS";
    case 8: return "SIGFPE";
    case 11: return "SIGSEGV";
    default: return "signal";
    }
}

}  // namespace

void exception_upcall(const PalException* exc, PalContext* ctx) {
    if (exc->kind == PAL_EXC_MEMFAULT && usercopy_fixup(&ctx->rip, &ctx->rax))
        return;
    if (exc->kind == PAL_EXC_INTERRUPT) {
        // FIXME: signals to the application come with the signals work; until then a host
        // signal has its default action: the process ends as killed by it.
        log_debug("host signal %d: terminating", exc->host_signal);
        g_pal->process_kill_self(exc->host_signal);
    }
    bool in_libos = ctx->rip >= g_boot->libos_start && ctx->rip < g_boot->libos_end;
    if (in_libos) {
        const char* sc = current_syscall_name();
        log_error("LibOS internal fault (%s) at libos.so+%#lx, address %#lx, during %s%s; this is a Carbyne bug",
                  signal_name(exc->host_signal), ctx->rip - g_boot->libos_start, exc->addr,
                  sc ? "system call " : "start-up", sc ? sc : "");
        g_pal->process_kill_self(exc->host_signal);
    }
    // FIXME: delivery to the application's handlers comes with the signals work.
    log_debug("application fault (%s) at %#lx, address %#lx: terminating", signal_name(exc->host_signal), ctx->rip,
              exc->addr);
    g_pal->process_kill_self(exc->host_signal);
}

}  // namespace carbyne::libos
