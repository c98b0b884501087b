// futex: WAIT/WAKE (and the BITSET forms) while a process has one thread.
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/futex.h>
#include <linux/time.h>

#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

Result<uint64_t> clock_now(int clock);

namespace {

// An event nobody sets: a waiter that nothing can wake waits like on Linux, forever.
PalHandle* g_never;

Result<long> wait_forever() {
    if (!g_never)
        TRY(pal_result(g_pal->event_create(0, 0, &g_never)));
    for (;;) {
        PalError e = g_pal->event_wait(g_never, PAL_WAIT_FOREVER);
        if (e != PAL_E_INTR)
            TRY(pal_result(e));
    }
}

}  // namespace

Result<long> sys_futex(const SyscallArgs& a) {
    uint64_t uaddr = a.u64(0);
    int op = a.i32(1) & FUTEX_CMD_MASK;
    bool realtime = (a.i32(1) & FUTEX_CLOCK_REALTIME) != 0;
    if (uaddr & 3)
        return Errno(EINVAL);
    switch (op) {
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
        if (op == FUTEX_WAKE_BITSET && a.u32(5) == 0)
            return Errno(EINVAL);
        TRY(UserPtr<uint32_t>(uaddr).read());
        return 0;  // one thread: nobody waits
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        if (op == FUTEX_WAIT_BITSET && a.u32(5) == 0)
            return Errno(EINVAL);
        if (op == FUTEX_WAIT && realtime)
            return Errno(ENOSYS);
        uint32_t value = TRY(UserPtr<uint32_t>(uaddr).read());
        if (value != a.u32(2))
            return Errno(EAGAIN);
        if (!a.u64(3))
            return wait_forever();
        struct __kernel_timespec ts = TRY(UserPtr<struct __kernel_timespec>(a.u64(3)).read());
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
            return Errno(EINVAL);
        uint64_t ns = uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
        if (op == FUTEX_WAIT_BITSET) {
            // An absolute deadline on CLOCK_MONOTONIC, or CLOCK_REALTIME with the flag.
            uint64_t now = TRY(clock_now(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC));
            ns = ns > now ? ns - now : 0;
        }
        uint64_t remaining;
        PalError e = g_pal->sleep(ns, &remaining);
        if (e == PAL_E_INTR)
            return Errno(EINTR);
        return Errno(ETIMEDOUT);
    }
    default:
        return Errno(ENOSYS);
    }
}

}  // namespace carbyne::libos
