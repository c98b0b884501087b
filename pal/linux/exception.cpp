// Host signal handlers: SIGSYS from Syscall User Dispatch becomes the LibOS's syscall upcall;
// faults and host-sent signals become exception upcalls.
#include <asm/errno.h>
#include <asm/sigcontext.h>
#include <asm/unistd.h>
#include <carbyne/string.h>
#include <linux/prctl.h>
#include <linux/signal.h>

#include "pal_internal.h"

extern "C" void pal_signal_restorer();

namespace carbyne::pal {

namespace {

// The host's rt_sigaction argument and the parts of siginfo/ucontext the PAL reads.
struct HostSigaction {
    void (*handler)(int, void*, void*);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
};

struct HostSiginfo {
    int signo;
    int err;
    int code;
    int pad;
    uint64_t addr;  // si_addr for faults, si_call_addr for SIGSYS
    int syscall;
    unsigned arch;
};

struct HostUcontext {
    unsigned long flags;
    HostUcontext* link;
    struct {
        void* sp;
        int flags;
        size_t size;
    } stack;
    struct sigcontext mcontext;
    uint64_t sigmask;
};

constexpr unsigned long kSaSiginfo = 0x4;
constexpr unsigned long kSaOnstack = 0x08000000;
constexpr unsigned long kSaRestorer = 0x04000000;
constexpr unsigned long kSaRestart = 0x10000000;
constexpr int kSysSeccomp = 1;  // si_code of a SIGSYS from a seccomp filter's SECCOMP_RET_TRAP

PalContext* context_of(HostUcontext* uc) {
    static_assert(offsetof(struct sigcontext, rip) - offsetof(struct sigcontext, r8) == offsetof(PalContext, rip));
    static_assert(offsetof(struct sigcontext, eflags) - offsetof(struct sigcontext, r8) ==
                  offsetof(PalContext, rflags));
    return reinterpret_cast<PalContext*>(&uc->mcontext.r8);
}

void sigsys_handler(int, void* info, void* ucv) {
    auto* uc = static_cast<HostUcontext*>(ucv);
    PalContext* app = context_of(uc);
    Tcb* tcb = current_tcb();
    if (static_cast<HostSiginfo*>(info)->code == kSysSeccomp) {
        if (app->rip > g_pal.pal_text_start && app->rip <= g_pal.pal_text_end)
            pal_die("host system call %lu at %#lx, in the PAL text but not one the PAL makes, was stopped by "
                    "the sandbox's allow-list (an application that jumped into the PAL, or a call missing "
                    "from seccomp.cpp's list)",
                    app->rax, app->rip);
        pal_die("host system call %lu at %#lx, outside the PAL, was stopped before it reached the host "
                "(invariant 5); this is a Carbyne bug",
                app->rax, app->rip);
    }
    if (host_vdso_fallback(tcb, app->rip, app->rax)) {
        // The host vDSO's fallback, on the PAL's behalf: run it and resume the vDSO.
        app->rax = uint64_t(host_syscall6(long(app->rax), long(app->rdi), long(app->rsi), long(app->rdx),
                                          long(app->r10), long(app->r8), long(app->r9)));
        return;
    }
    // Anything else is the application's, wherever its instruction lies.
    if (!g_pal.syscall_upcall)
        pal_die("system call %lu at %#lx before interception was set up", app->rax, app->rip);
    // No emulation here: save the registers and make sigreturn land in the upcall, on the
    // thread's PAL stack, with the signal mask as it was before the trap.
    PalContext* ctx = tcb->syscall_ctx;
    memcpy(ctx, app, sizeof(*ctx));
    uint64_t sp = uint64_t(ctx) - 16;  // 16-aligned, then the slot of a fake return address
    *reinterpret_cast<uint64_t*>(sp - 8) = 0;
    app->rsp = sp - 8;
    app->rip = uint64_t(g_pal.syscall_upcall);
    app->rdi = uint64_t(ctx);
}

PalExceptionKind kind_of(int sig) {
    switch (sig) {
    case SIGSEGV:
    case SIGBUS: return PAL_EXC_MEMFAULT;
    case SIGILL: return PAL_EXC_ILLEGAL;
    case SIGFPE: return PAL_EXC_ARITHMETIC;
    case SIGTRAP: return PAL_EXC_BREAKPOINT;
    case kWakeSignal: return PAL_EXC_WAKE;
    default: return PAL_EXC_INTERRUPT;
    }
}

void exception_handler(int sig, void* infov, void* ucv) {
    auto* info = static_cast<HostSiginfo*>(infov);
    auto* uc = static_cast<HostUcontext*>(ucv);
    PalContext* ctx = context_of(uc);
    PalExceptionKind kind = kind_of(sig);
    bool async = kind == PAL_EXC_INTERRUPT || kind == PAL_EXC_WAKE;
    bool in_pal = in_pal_code(current_tcb(), ctx->rip);
    if (!async && in_pal)
        pal_die("fatal: host signal %d in the PAL at rip %#lx (PAL offset %#lx), address %#lx", sig, ctx->rip,
                ctx->rip - g_pal.pal_start, info->addr);
    if (!g_pal.exception_upcall)
        pal_die("fatal: host signal %d at rip %#lx, address %#lx, before the LibOS took exceptions", sig,
                ctx->rip, info->addr);
    PalException exc = {kind,          sig, info->code, kind == PAL_EXC_MEMFAULT ? info->addr : 0, uc->mcontext.err,
                        uc->mcontext.trapno, uc->mcontext.fpstate, in_pal};
    g_pal.exception_upcall(&exc, ctx);
}

void install(int sig, void (*handler)(int, void*, void*), uint64_t mask, unsigned long extra_flags) {
    HostSigaction sa = {handler, kSaSiginfo | kSaOnstack | kSaRestorer | extra_flags, pal_signal_restorer, mask};
    if (host_failed(host_syscall4(__NR_rt_sigaction, sig, long(&sa), 0, 8)))
        pal_die("cannot install the handler of host signal %d", sig);
}

uint64_t bit(int sig) { return 1ull << (sig - 1); }

}  // namespace

void exceptions_init() {
    // Asynchronous signals are held off while a synchronous one is handled.
    // Job control too: the LibOS decides whether SIGTSTP stops the process (the application
    // may handle it) and tells the application about SIGCONT and SIGWINCH.
    const int async_signals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGUSR1, SIGUSR2,
                                 SIGALRM, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH};
    uint64_t async_mask = 0;
    for (int s : async_signals)
        async_mask |= bit(s);
    async_mask |= bit(kWakeSignal);
    install(SIGSYS, sigsys_handler, async_mask, 0);
    const int fault_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
    for (int s : fault_signals)
        install(s, exception_handler, async_mask, 0);
    for (int s : async_signals)
        install(s, exception_handler, async_mask, kSaRestart);
    // No SA_RESTART: the wake-up must cut a blocking host call short.
    install(kWakeSignal, exception_handler, async_mask, 0);
    // Broken pipes are reported as PAL_E_PIPE; the LibOS raises SIGPIPE itself.
    HostSigaction ignore = {reinterpret_cast<void (*)(int, void*, void*)>(1), kSaRestorer, pal_signal_restorer, 0};
    host_syscall4(__NR_rt_sigaction, SIGPIPE, long(&ignore), 0, 8);
}

void set_exception_upcall(PalExceptionUpcall upcall) { g_pal.exception_upcall = upcall; }

PalError enable_interception_for_current_thread() {
    Tcb* tcb = current_tcb();
    long ret = host_syscall5(__NR_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, long(g_pal.pal_text_start),
                             long(g_pal.pal_text_end - g_pal.pal_text_start), long(&tcb->sud_selector));
    return error_from_host(ret);
}

PalError enable_syscall_interception(PalSyscallUpcall upcall) {
    if (!upcall)
        return PAL_E_INVAL;
    // A thread that is already running would keep its syscalls going to the host.
    if (__atomic_load_n(&g_pal.live_threads, __ATOMIC_ACQUIRE) != 1)
        return PAL_E_BUSY;
    // The sandbox and the guard first: from here on no system call of anyone but the PAL
    // reaches the host, and the host's files are the mounts' only.
    // A child (process_create) inherited both from its parent, for the same mounts and the
    // same PAL text.
    PalError err = PAL_OK;
    if (!g_pal.is_child) {
        if (g_pal.sandbox)
            confine_to_mounts();
        err = guard_host_calls();
        if (err != PAL_OK)
            return err;
    }
    g_pal.syscall_upcall = upcall;
    err = enable_interception_for_current_thread();
    if (err == PAL_OK)
        g_pal.interception_on = true;
    return err;
}

}  // namespace carbyne::pal
