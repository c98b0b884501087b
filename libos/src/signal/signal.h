// Signals inside a process: pending sets, delivery to the application's handlers (signal
// frames on its stack, as Linux builds them), rt_sigreturn, and default actions.
//
// Lock order: g_process.lock guards the dispositions and the process-wide pending set;
// each thread's pending set is guarded by the same lock.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>
#include <stdint.h>

namespace carbyne::libos {

struct Thread;

constexpr uint64_t sig_bit(int sig) { return 1ull << (sig - 1); }

// Siginfo as the kernel lays it out (128 bytes); the LibOS fills the common fields.
struct SigInfo {
    int32_t signo;
    int32_t err;
    int32_t code;
    int32_t pad;
    union {
        struct {
            int32_t pid;
            uint32_t uid;
            uint64_t value;  // sigqueue's value
        } kill;
        struct {
            int32_t id;
            int32_t overrun;
            uint64_t value;  // the sigevent's value
        } timer;            // SI_TIMER
        uint64_t addr;      // faults
        struct {
            int64_t band;
            int32_t fd;
        } poll;             // SIGIO with F_SETSIG (POLL_IN...)
    };
    uint8_t rest[128 - 32];
};
static_assert(sizeof(SigInfo) == 128);

// A queued instance of a real-time signal (SIGRTMIN...SIGRTMAX: 32...64): each one sent is
// delivered, with its own info, in the order sent.
struct SigQueued {
    SigQueued* next;
    int sig;
    SigInfo info;
};
inline constexpr int kSigRtFirst = 32;
// Frees the instances a thread still had queued when it ended (under g_process.lock).
void signal_drop_queued(Thread* t);

// Makes `sig` pending for thread `t` (nullptr: for the process). sig 0 only checks. A
// real-time signal queues one more instance (EAGAIN for sigqueue past RLIMIT_SIGPENDING);
// a standard one already pending is not sent again. *queued (when given) tells whether the
// signal is pending now (a new instance, or merged into the one pending), rather than
// discarded as ignored.
Result<void> signal_send(Thread* t, int sig, const SigInfo& info, bool* queued = nullptr);

// Delivers what is pending and unblocked for the calling thread into `ctx` (the
// application's registers about to be resumed): a handler frame, a default action, or
// nothing. Called on the way back from every system call, and from the exception upcall
// for a host signal that interrupted application code (`fpstate`: its vector state).
void signal_deliver_pending(PalContext* ctx, const void* fpstate);

// A fault in the application's code (from the exception upcall): delivered to its handler
// right away, or the default action. `fpstate` is the interrupted vector state.
void signal_deliver_fault(int sig, int code, uint64_t addr, PalContext* ctx, const void* fpstate);

// rt_sigreturn: restores the context saved in the frame at ctx->rsp; never returns.
[[noreturn]] void signal_return(PalContext* ctx);

// What the current thread would deliver now (pending & ~blocked): ends LibOS waits.
bool signal_deliverable();

// The signals pending for the calling thread (its own and the process's).
uint64_t signal_pending_set();
// Takes the lowest pending signal in `set` off the calling thread's or the process's
// pending set (rt_sigtimedwait, signalfd): false when none is.
bool signal_take(uint64_t set, int* sig, SigInfo* info);

// Whether host signal `sig` ends the process at once (its default action terminates and
// this thread does not block it): safe to ask from any context, without locks.
bool signal_kills_now(int sig);

// A host signal that arrived while the thread ran LibOS or PAL code, where no lock may be
// taken: noted at once, made pending at the next safe point (signal_fold_host).
void signal_note_host(int sig);
void signal_fold_host();

// A signal between processes of the instance, as the bytes of one PAL process_message:
// the sender's siginfo (its pid and uid, a sigqueue value, a SIGIO band and fd...) and the
// receiving thread.
struct SignalMessage {
    uint32_t magic;
    int32_t sig;
    int32_t code;
    int32_t tid;         // a thread of the receiver, or 0 for the process
    uint8_t fields[16];  // SigInfo's union, its first 16 bytes
};
inline constexpr uint32_t kSignalMessageMagic = 0x4c474953;  // "SIGL"
SignalMessage signal_message(const SigInfo& info, int tid);
// The PAL's message upcall (set_message_upcall): a SignalMessage from another process
// made pending with its info. It runs on a thread of the PAL's own, which may take locks.
void signal_message_upcall(const void* bytes, size_t size);

class WaitQueue;
// Woken on every signal sent (signalfd readers).
WaitQueue& signal_wait_queue();

// The siginfo of a signal sent by kill(2) from this process.
SigInfo signal_user_info(int sig);

// execve: handlers back to SIG_DFL (ignored signals stay ignored), flags and masks of the
// actions cleared, the alternate stack disabled; the mask and pending signals stay.
void signal_reset_for_exec();

// The default action of a signal: terminates the process, or nothing.
void signal_default_action(int sig);

}  // namespace carbyne::libos
