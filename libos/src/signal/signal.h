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

inline uint64_t sig_bit(int sig) { return 1ull << (sig - 1); }

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
        } kill;
        uint64_t addr;  // faults
    };
    uint8_t rest[128 - 24];
};
static_assert(sizeof(SigInfo) == 128);

// Makes `sig` pending for thread `t` (nullptr: for the process). sig 0 only checks.
Result<void> signal_send(Thread* t, int sig, const SigInfo& info);

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

// What the current thread would deliver now (pending & ~blocked), for sigsuspend/pause.
bool signal_deliverable();

// The default action of a signal: terminates the process, or nothing.
void signal_default_action(int sig);

}  // namespace carbyne::libos
