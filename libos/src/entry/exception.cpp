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
        // A signal sent to the process from the host. Read without the process lock: this
        // may run while the interrupted code holds it.
        int sig = exc->host_signal;
        uint64_t handler = __atomic_load_n(&g_process.actions[sig - 1].handler, __ATOMIC_RELAXED);
        if (handler == 1 /* SIG_IGN */)
            return;
        if (handler != 0)  // FIXME: delivery to the application's handler (signals work)
            log_warning("signal %d has a handler, but delivering signals is not implemented yet: terminating",
                        sig);
        g_pal->process_kill_self(sig);
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
