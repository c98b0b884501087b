// The exception upcall: faults in the copy routines become EFAULT; faults in the
// application end it as Linux would without a handler; faults in the LibOS are bugs and
// are reported as such.
#include <carbyne/string.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <libos/user.h>

#include "../proc/process.h"
#include "../proc/user_atomic.h"
#include "../signal/signal.h"

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
    if (exc->kind == PAL_EXC_MEMFAULT &&
        (usercopy_fixup(&ctx->rip, &ctx->rax) || user_atomic_fixup(&ctx->rip, &ctx->rax)))
        return;
    bool in_libos = ctx->rip >= g_boot->libos_start && ctx->rip < g_boot->libos_end;
    bool in_pal = exc->in_pal != 0;  // the PAL's text or the host vDSO it was in
    if (exc->kind == PAL_EXC_WAKE) {
        // Another thread made a signal pending for this one. In the application's code it
        // is delivered now; in the LibOS the system call's return path delivers it.
        if (!in_libos && !in_pal && current_thread())
            signal_deliver_pending(ctx, exc->fpstate);
        return;
    }
    if (exc->kind == PAL_EXC_INTERRUPT) {
        // A signal sent to the process from the host: pending like a kill(). The LibOS or
        // PAL code it interrupted may hold locks, so there it is only noted; one whose
        // default action ends the process does so at once, even if the LibOS is stuck.
        if (signal_kills_now(exc->host_signal))
            g_pal->process_kill_self(exc->host_signal);
        signal_note_host(exc->host_signal);
        if (!in_libos && !in_pal && current_thread())
            signal_deliver_pending(ctx, exc->fpstate);
        else if (Thread* t = current_thread())
            g_pal->event_set(t->wait_event);  // blocked in a LibOS wait: it looks again now
        return;
    }
    if (in_libos || in_pal) {
        const char* sc = current_syscall_name();
        log_fatal("LibOS internal fault (%s) at %s+%#lx, address %#lx, during %s%s; this is a Carbyne bug",
                  signal_name(exc->host_signal), in_libos ? "libos.so" : "carbyne-pal",
                  ctx->rip - (in_libos ? g_boot->libos_start : g_boot->pal_start), exc->addr,
                  sc ? "system call " : "start-up", sc ? sc : "");
        g_pal->process_kill_self(exc->host_signal);
    }
    signal_deliver_fault(exc->host_signal, exc->code, exc->addr, ctx, exc->fpstate);
}

}  // namespace carbyne::libos
