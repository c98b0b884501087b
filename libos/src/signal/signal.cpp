// Signal delivery inside a process (see signal.h). Frames follow the x86-64 Linux layout
// (struct rt_sigframe), so that handlers can inspect and change the interrupted registers
// and siglongjmp out, and glibc's restorer reaches our rt_sigreturn.
#include "signal.h"

#include <asm/sigcontext.h>
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <libos/lock.h>
#include <libos/user.h>
#include <linux/resource.h>

#include "../proc/process.h"
#include "../proc/thread.h"
#include "../ipc/fork.h"
#include "../proc/process_timers.h"
#include "../proc/timer.h"
#include "../proc/wait.h"

extern "C" [[noreturn]] void libos_return_to_app_full(const PalContext* ctx);

namespace carbyne::libos {

namespace {

constexpr uint64_t kSaSiginfo = 0x4, kSaOnstack = 0x08000000, kSaRestart = 0x10000000, kSaNodefer = 0x40000000,
                   kSaResethand = 0x80000000, kSaRestorer = 0x04000000;
constexpr int kSsOnstack = 1, kSsDisable = 2;
constexpr int kSiQueue = -1;  // SI_QUEUE: sigqueue(3), rt_sigqueueinfo
constexpr uint64_t kUnblockable = (1ull << (9 - 1)) | (1ull << (19 - 1));  // SIGKILL, SIGSTOP
constexpr size_t kRedZone = 128;
constexpr size_t kMaxXsave = 4096;

struct StackT {
    uint64_t sp;
    int32_t flags;
    int32_t pad;
    uint64_t size;
};

struct UContext {
    uint64_t flags;
    uint64_t link;
    StackT stack;
    struct sigcontext mcontext;
    uint64_t sigmask;
};

struct RtSigframe {
    uint64_t pretcode;
    UContext uc;
    SigInfo info;
};

// What Linux's default action for each signal is.
enum class Default { Terminate, Core, Ignore, Stop, Continue };

Default default_of(int sig) {
    switch (sig) {
    case 17:  // SIGCHLD
    case 23:  // SIGURG
    case 28:  // SIGWINCH
        return Default::Ignore;
    case 18: return Default::Continue;  // SIGCONT
    case 19:  // SIGSTOP
    case 20:  // SIGTSTP
    case 21:  // SIGTTIN
    case 22:  // SIGTTOU
        return Default::Stop;
    case 3: case 4: case 5: case 6: case 7: case 8: case 11: case 24: case 25: case 31:
        return Default::Core;  // QUIT ILL TRAP ABRT BUS FPE SEGV XCPU XFSZ SYS
    default: return Default::Terminate;
    }
}

// The size of the XSAVE area for the enabled features (or the legacy 512-byte FXSAVE).
size_t xsave_size() {
    static size_t size;  // constant-initialized; computed on first use
    if (!size) {
        uint32_t a = 1, b, c = 0, d;
        asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
        bool osxsave = (c >> 27) & 1;
        if (osxsave) {
            a = 0xd, c = 0;
            asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
            size = b <= kMaxXsave ? b : kMaxXsave;
        } else {
            size = 512;
        }
    }
    return size;
}

bool have_xsave() { return xsave_size() != 512; }

uint64_t xcr0() {
    uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return uint64_t(hi) << 32 | lo;
}

// Saves the current (application's) vector state into buf (64-byte aligned).
void save_fpu(uint8_t* buf) {
    memset(buf, 0, xsave_size());
    if (have_xsave()) {
        uint64_t mask = xcr0();
        asm volatile("xsave64 (%0)" : : "r"(buf), "a"(uint32_t(mask)), "d"(uint32_t(mask >> 32)) : "memory");
    } else {
        asm volatile("fxsave64 (%0)" : : "r"(buf) : "memory");
    }
}

// Restores a vector state the application handed back, after checking it cannot make the
// restore instruction fault (reserved MXCSR bits, unknown XSAVE features).
bool restore_fpu(uint8_t* buf) {
    uint32_t mxcsr;
    memcpy(&mxcsr, buf + 24, 4);
    if (mxcsr & 0xffff0000)
        return false;
    if (have_xsave()) {
        uint64_t xstate_bv, xcomp_bv;
        memcpy(&xstate_bv, buf + 512, 8);
        memcpy(&xcomp_bv, buf + 520, 8);
        uint64_t mask = xcr0();
        if ((xstate_bv & ~mask) || xcomp_bv)
            return false;
        for (int i = 528; i < 576; i++)
            if (buf[i])
                return false;
        asm volatile("xrstor64 (%0)" : : "r"(buf), "a"(uint32_t(mask)), "d"(uint32_t(mask >> 32)) : "memory");
    } else {
        asm volatile("fxrstor64 (%0)" : : "r"(buf) : "memory");
    }
    return true;
}

bool on_altstack(const Thread* t, uint64_t sp) {
    return t->altstack_size && !(t->altstack_flags & kSsDisable) && sp > t->altstack_sp &&
           sp <= t->altstack_sp + t->altstack_size;
}

// Host signals noted by signal_note_host, not yet pending.
constinit uint64_t g_host_pending = 0;
constinit WaitQueue g_signal_waiters;

[[noreturn]] void die_by(int sig) {
    log_debug("terminated by signal %d", sig);
    children_kill_all();
    g_pal->process_kill_self(sig);
}

// Builds the handler frame for `sig` on the application's stack and points ctx at the
// handler. false when the frame cannot be written (the caller then kills with SIGSEGV).
bool setup_frame(Thread* t, int sig, const SigInfo& info, const SignalAction& action, PalContext* ctx,
                 const void* fpstate, uint64_t old_mask) {
    uint64_t sp = ctx->rsp;
    if ((action.flags & kSaOnstack) && t->altstack_size && !(t->altstack_flags & kSsDisable) &&
        !on_altstack(t, sp))
        sp = t->altstack_sp + t->altstack_size;
    else
        sp -= kRedZone;
    size_t fp_size = xsave_size();
    sp = (sp - fp_size) & ~uint64_t{63};
    uint64_t fp_addr = sp;
    sp = ((sp - sizeof(RtSigframe)) & ~uint64_t{15}) - 8;

    alignas(64) uint8_t fpu[kMaxXsave];
    if (fpstate)
        memcpy(fpu, fpstate, fp_size);
    else
        save_fpu(fpu);
    if (!copy_to_user(fp_addr, fpu, fp_size).ok())
        return false;

    RtSigframe frame;
    memset(&frame, 0, sizeof(frame));
    frame.pretcode = action.restorer;
    frame.uc.flags = 0x7;  // UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
    frame.uc.stack = StackT{t->altstack_sp, t->altstack_flags | (on_altstack(t, ctx->rsp) ? kSsOnstack : 0), 0,
                            t->altstack_size};
    static_assert(sizeof(PalContext) == 18 * 8);
    memcpy(&frame.uc.mcontext, ctx, sizeof(PalContext));  // r8 ... rip, eflags: the same order
    frame.uc.mcontext.cs = 0x33;
    frame.uc.mcontext.ss = 0x2b;
    frame.uc.mcontext.fpstate = reinterpret_cast<struct _fpstate*>(fp_addr);
    frame.uc.sigmask = old_mask;
    frame.info = info;
    if (!copy_to_user(sp, &frame, sizeof(frame)).ok())
        return false;

    ctx->rip = action.handler;
    ctx->rsp = sp;
    ctx->rdi = uint64_t(sig);
    ctx->rsi = sp + offsetof(RtSigframe, info);
    ctx->rdx = sp + offsetof(RtSigframe, uc);
    ctx->rax = 0;
    ctx->rflags &= ~uint64_t(0x400 | 0x100 | 0x10000);  // DF, TF, RF
    return true;
}

// Takes the first queued instance of real-time signal `sig` off `queue`: 0 when there is
// none (the bit alone: sent when the queue was full), 1 when it was the last, 2 when more
// stay queued. Under g_process.lock.
int take_queued(SigQueued** queue, int sig, SigInfo* info) {
    SigQueued** link = queue;
    while (*link && (*link)->sig != sig)
        link = &(*link)->next;
    SigQueued* q = *link;
    if (!q)
        return 0;
    *info = q->info;
    *link = q->next;
    kfree(q);
    g_process.rt_queued--;
    for (SigQueued* rest = *link; rest; rest = rest->next)
        if (rest->sig == sig)
            return 2;
    return 1;
}

// Appends an instance of real-time signal `sig`; false when RLIMIT_SIGPENDING is reached or
// memory is out. Under g_process.lock.
bool queue_instance(SigQueued** queue, int sig, const SigInfo& info) {
    constexpr uint32_t kMaxQueued = 1u << 16;  // LibOS memory, whatever the limit says
    uint64_t limit = g_process.identity_ready ? g_process.limits[RLIMIT_SIGPENDING].cur : kMaxQueued;
    if (g_process.rt_queued >= limit || g_process.rt_queued >= kMaxQueued)
        return false;
    auto* q = static_cast<SigQueued*>(kmalloc(sizeof(SigQueued)));
    if (!q)
        return false;
    q->next = nullptr;
    q->sig = sig;
    q->info = info;
    SigQueued** link = queue;
    while (*link)
        link = &(*link)->next;
    *link = q;
    g_process.rt_queued++;
    return true;
}

// Takes the lowest deliverable signal off the thread's or the process's pending set.
bool dequeue(Thread* t, uint64_t allowed, int* sig, SigInfo* info) {
    uint64_t mine = t->pending & allowed;
    uint64_t shared = g_process.pending & allowed;
    // Synchronous signals first, as Linux does (SEGV, BUS, ILL, TRAP, FPE, SYS).
    constexpr uint64_t kSync = (1ull << 10) | (1ull << 6) | (1ull << 3) | (1ull << 4) | (1ull << 7) | (1ull << 30);
    uint64_t pick = (mine & kSync) ? (mine & kSync) : mine ? mine : (shared & kSync) ? (shared & kSync) : shared;
    if (!pick)
        return false;
    int s = __builtin_ctzll(pick) + 1;
    bool thread_directed = (mine & sig_bit(s)) != 0;
    uint64_t& pending = thread_directed ? t->pending : g_process.pending;
    int taken = s >= kSigRtFirst ? take_queued(thread_directed ? &t->rt_queue : &g_process.rt_queue, s, info) : 0;
    if (taken == 0)
        *info = (thread_directed ? t->pending_info : g_process.pending_info)[s - 1];
    if (taken != 2)
        pending &= ~sig_bit(s);
    *sig = s;
    return true;
}

// Runs the action for one dequeued signal: true when a handler frame was built into ctx.
bool act(Thread* t, int sig, const SigInfo& info, PalContext* ctx, const void* fpstate) {
    SignalAction action;
    uint64_t old_mask, mask_before;
    {
        SpinGuard g(g_process.lock);
        action = g_process.actions[sig - 1];
        old_mask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
        mask_before = t->sigmask;
        if (action.handler > 1) {
            t->sigmask |= (action.mask | ((action.flags & kSaNodefer) ? 0 : sig_bit(sig))) & ~kUnblockable;
            if (action.flags & kSaResethand)
                g_process.actions[sig - 1].handler = 0;
        }
    }
    if (action.handler == 1)
        return false;  // SIG_IGN
    if (action.handler == 0) {
        signal_default_action(sig);
        return false;
    }
    if (t->restart) {
        // The interrupted call: restarted under SA_RESTART, else it fails with EINTR (in rax).
        if (t->restart == ERESTARTNOINTR || (t->restart == ERESTARTSYS && (action.flags & kSaRestart))) {
            ctx->rax = t->restart_nr;
            ctx->rip -= 2;  // back onto the syscall instruction
        }
        t->restart = 0;
    }
    if (!(action.flags & kSaRestorer) || !setup_frame(t, sig, info, action, ctx, fpstate, old_mask)) {
        // Linux's force_sigsegv: the handler's mask is not applied; a SIGSEGV that cannot be
        // delivered ends the process, another signal becomes a SIGSEGV, forced through (no
        // longer blocked, reset to the default when ignored) and delivered at once: to its
        // handler if that one can be entered (on the alternate stack, say).
        log_debug("cannot deliver signal %d: no restorer or the stack is not writable", sig);
        constexpr int kSigsegv = 11;
        {
            SpinGuard g(g_process.lock);
            t->sigmask = mask_before;
            if (sig != kSigsegv) {
                SignalAction& segv = g_process.actions[kSigsegv - 1];
                if (segv.handler == 1 || (t->sigmask & sig_bit(kSigsegv)))
                    segv.handler = 0;
                t->sigmask &= ~sig_bit(kSigsegv);
            }
        }
        if (sig == kSigsegv)
            die_by(kSigsegv);
        SigInfo forced;
        memset(&forced, 0, sizeof(forced));
        forced.signo = kSigsegv;
        forced.code = 0x80;  // SI_KERNEL
        return act(t, kSigsegv, forced, ctx, fpstate);
    }
    t->restore_sigmask = false;
    return true;
}

}  // namespace

void signal_reset_for_exec() {
    Thread* t = current_thread();
    SpinGuard g(g_process.lock);
    for (SignalAction& a : g_process.actions) {
        uint64_t handler = a.handler == 1 ? 1 : 0;  // ignored stays ignored
        a = SignalAction{handler, 0, 0, 0};
    }
    t->altstack_sp = t->altstack_size = 0;
    t->altstack_flags = kSsDisable;
}

void signal_default_action(int sig) {
    switch (default_of(sig)) {
    case Default::Ignore:
    case Default::Continue:
        return;
    case Default::Stop:
        // The host process stops, so that whoever started it (a shell) sees it stopped and
        // can continue it; the host's SIGCONT then comes back as a signal to the process.
        log_debug("stopped by signal %d", sig);
        g_pal->process_stop();
        signal_fold_host();  // the SIGCONT that continued it, delivered next
        return;
    case Default::Terminate:
    case Default::Core:
        die_by(sig);
    }
}

Result<void> signal_send(Thread* t, int sig, const SigInfo& info, bool* queued) {
    if (queued)
        *queued = false;
    if (sig < 0 || sig > kNumSignals)
        return Errno(EINVAL);
    if (sig == 0)
        return {};
    {
        SpinGuard g(g_process.lock);
        const SignalAction& action = g_process.actions[sig - 1];
        bool ignored = action.handler == 1 || (action.handler == 0 && default_of(sig) == Default::Ignore);
        // SIGCONT discards pending stop signals and a stop signal a pending SIGCONT.
        constexpr uint64_t kStops = sig_bit(19) | sig_bit(20) | sig_bit(21) | sig_bit(22);
        uint64_t discard = sig == 18 ? kStops : (kStops & sig_bit(sig)) ? sig_bit(18) : 0;
        if (discard) {
            g_process.pending &= ~discard;
            thread_discard_pending(discard);
        }
        // An ignored signal stays pending while blocked: for the process, while every
        // thread's mask blocks it (a thread waiting for it in sigtimedwait still blocks
        // it, as Linux's real_blocked), and the waiter takes it.
        if (ignored && (t ? !(t->sigmask & sig_bit(sig)) : thread_any_unblocks(sig))) {
            log_debug("signal %d discarded: ignored and not blocked", sig);
            return {};  // discarded at once, as Linux does
        }
        uint64_t& pending = t ? t->pending : g_process.pending;
        bool was_pending = (pending & sig_bit(sig)) != 0;
        if (sig >= kSigRtFirst && !queue_instance(t ? &t->rt_queue : &g_process.rt_queue, sig, info)) {
            // RLIMIT_SIGPENDING: sigqueue is refused; a kill still makes it pending, once.
            if (info.code == kSiQueue)
                return Errno(EAGAIN);
        }
        // A standard signal pending already stays one instance, with its first info.
        if (!was_pending)
            (t ? t->pending_info : g_process.pending_info)[sig - 1] = info;
        pending |= sig_bit(sig);
        if (queued)
            *queued = true;  // pending now, as a new instance or merged into the one pending
    }
    // The thread that will take it: woken from a LibOS wait, and interrupted when it runs
    // the application's code (the wake-up upcall delivers it there).
    Thread* self = current_thread();
    Thread* target = t ? t : thread_pick_for_signal(self, sig);
    if (target) {
        g_pal->event_set(target->wait_event);
        int64_t id = __atomic_load_n(&target->pal_id, __ATOMIC_ACQUIRE);
        if (target != self && id)
            g_pal->thread_interrupt(id);
    }
    g_signal_waiters.wake(~0u);
    return {};
}

SigInfo signal_user_info(int sig) {
    SigInfo info;
    memset(&info, 0, sizeof(info));
    info.signo = sig;
    info.code = 0;  // SI_USER
    info.kill.pid = g_process.pid;
    info.kill.uid = g_process.uid;
    return info;
}

WaitQueue& signal_wait_queue() { return g_signal_waiters; }

namespace {

void wake_for_fold() {
    if (Thread* self = current_thread())
        g_pal->event_set(self->wait_event);
    else
        timer_service_kick();  // the LibOS's own service thread
}

}  // namespace

SignalMessage signal_message(const SigInfo& info, int tid) {
    SignalMessage m;
    memset(&m, 0, sizeof(m));
    m.magic = kSignalMessageMagic;
    m.sig = info.signo;
    m.code = info.code;
    m.tid = tid;
    static_assert(sizeof(m.fields) <= sizeof(SigInfo) - offsetof(SigInfo, kill));
    memcpy(m.fields, &info.kill, sizeof(m.fields));
    return m;
}

void signal_note_host(int sig) {
    __atomic_fetch_or(&g_host_pending, sig_bit(sig), __ATOMIC_RELEASE);
    wake_for_fold();
}

void signal_message_upcall(const void* bytes, size_t size) {
    SignalMessage m;
    if (size < sizeof(m))
        return;
    memcpy(&m, bytes, sizeof(m));
    if (m.magic != kSignalMessageMagic || m.sig < 1 || m.sig > kNumSignals) {
        log_debug("a message that is no signal was dropped");
        return;
    }
    SigInfo info;
    memset(&info, 0, sizeof(info));
    info.signo = m.sig;
    info.code = m.code;
    memcpy(&info.kill, m.fields, sizeof(m.fields));
    // A thread that has ended meanwhile leaves the signal to the process.
    Thread* t = m.tid ? thread_by_tid(m.tid) : nullptr;
    (void)signal_send(t, m.sig, info);
}

void signal_fold_host() {
    if (!__atomic_load_n(&g_host_pending, __ATOMIC_RELAXED))
        return;
    uint64_t bits = __atomic_exchange_n(&g_host_pending, 0, __ATOMIC_ACQ_REL);
    while (bits) {
        int sig = __builtin_ctzll(bits) + 1;
        bits &= bits - 1;
        SigInfo info = signal_user_info(sig);
        info.kill.pid = 0;  // from outside the LibOS's processes
        info.kill.uid = 0;
        (void)signal_send(nullptr, sig, info);
    }
}

bool signal_kills_now(int sig) {
    // Read without the lock (the caller may have interrupted a holder): a word-sized load.
    // On a thread of the LibOS's own (a service thread) the application's masks cannot be
    // read without a lock: the signal is folded in and acted on as any other.
    Thread* t = current_thread();
    if (!t)
        return false;
    uint64_t handler = __atomic_load_n(&g_process.actions[sig - 1].handler, __ATOMIC_RELAXED);
    bool blocked = (__atomic_load_n(&t->sigmask, __ATOMIC_RELAXED) & sig_bit(sig)) != 0;
    Default d = default_of(sig);
    return handler == 0 && !blocked && (d == Default::Terminate || d == Default::Core);
}

bool signal_deliverable() {
    Thread* t = current_thread();
    if (thread_exit_requested())
        return true;  // ended by another thread's execve: the wait ends as for SIGKILL
    signal_fold_host();
    SpinGuard g(g_process.lock);
    return ((t->pending | g_process.pending) & (~t->sigmask | t->sigwait_set)) != 0;
}

uint64_t signal_pending_set() {
    Thread* t = current_thread();
    signal_fold_host();
    SpinGuard g(g_process.lock);
    return t->pending | g_process.pending;
}

bool signal_take(uint64_t set, int* sig, SigInfo* info) {
    Thread* t = current_thread();
    signal_fold_host();
    {
        SpinGuard g(g_process.lock);
        if (!dequeue(t, set, sig, info))
            return false;
    }
    timer_signal_taken(*sig, info);
    return true;
}

void signal_deliver_pending(PalContext* ctx, const void* fpstate) {
    Thread* t = current_thread();
    if (thread_exit_requested())
        thread_exit(0);
    signal_fold_host();
    if (!(__atomic_load_n(&t->pending, __ATOMIC_RELAXED) | __atomic_load_n(&g_process.pending, __ATOMIC_RELAXED)) &&
        !t->restore_sigmask && !t->restart)
        return;
    for (;;) {
        int sig;
        SigInfo info;
        {
            SpinGuard g(g_process.lock);
            if (!dequeue(t, ~t->sigmask, &sig, &info))
                break;
        }
        timer_signal_taken(sig, &info);
        if (act(t, sig, info, ctx, fpstate))
            return;  // one handler frame per return to the application
    }
    if (t->restart) {
        // No handler ran: the call starts again, as if never interrupted.
        ctx->rax = t->restart_nr;
        ctx->rip -= 2;
        t->restart = 0;
    }
    if (t->restore_sigmask) {
        SpinGuard g(g_process.lock);
        t->sigmask = t->saved_sigmask;
        t->restore_sigmask = false;
    }
}

void signal_deliver_fault(int sig, int code, uint64_t addr, PalContext* ctx, const void* fpstate) {
    Thread* t = current_thread();
    SigInfo info;
    memset(&info, 0, sizeof(info));
    info.signo = sig;
    info.code = code;
    info.addr = addr;
    SignalAction action;
    bool blocked;
    {
        SpinGuard g(g_process.lock);
        action = g_process.actions[sig - 1];
        blocked = (t->sigmask & sig_bit(sig)) != 0;
    }
    // A blocked or ignored fault signal cannot be held back: Linux kills the process.
    if (blocked || action.handler <= 1)
        die_by(sig);
    if (!act(t, sig, info, ctx, fpstate))
        die_by(sig);
}

void signal_return(PalContext* ctx) {
    Thread* t = current_thread();
    uint64_t frame = ctx->rsp - 8;  // the handler's `ret` popped pretcode
    UContext uc;
    if (!copy_from_user(&uc, frame + offsetof(RtSigframe, uc), sizeof(uc)).ok())
        die_by(11);
    PalContext restored;
    memcpy(&restored, &uc.mcontext, sizeof(restored));
    // Only the flags an application may set (Linux's FIX_EFLAGS).
    constexpr uint64_t kUserFlags = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
    restored.rflags = (ctx->rflags & ~kUserFlags) | (uc.mcontext.eflags & kUserFlags);
    if (uc.mcontext.fpstate) {
        alignas(64) uint8_t fpu[kMaxXsave];
        if (!copy_from_user(fpu, uint64_t(uc.mcontext.fpstate), xsave_size()).ok() || !restore_fpu(fpu))
            die_by(11);
    }
    {
        SpinGuard g(g_process.lock);
        t->sigmask = uc.sigmask & ~kUnblockable;
    }
    signal_deliver_pending(&restored, nullptr);
    // The full restore writes the resume address just below the red zone.
    uint64_t slot = restored.rsp - kRedZone - 8;
    if (!copy_to_user(slot, &restored.rip, 8).ok())
        die_by(11);
    libos_return_to_app_full(&restored);
}

void signal_drop_queued(Thread* t) {
    while (SigQueued* q = t->rt_queue) {
        t->rt_queue = q->next;
        kfree(q);
        g_process.rt_queued--;
    }
}

}  // namespace carbyne::libos
