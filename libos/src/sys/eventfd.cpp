// eventfd, eventfd2
#include <linux/fcntl.h>

#include "../net/eventfd.h"
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

constexpr uint32_t kEfdSemaphore = 1;

Result<long> do_eventfd(uint64_t initval, uint32_t flags) {
    if (flags & ~uint32_t(kEfdSemaphore | O_NONBLOCK | O_CLOEXEC))
        return Errno(EINVAL);
    fs::File* f = TRY(net::eventfd_create(initval, flags & O_NONBLOCK, (flags & kEfdSemaphore) != 0));
    return TRY(g_process.fds.install(f, 0, (flags & O_CLOEXEC) != 0));
}

}  // namespace

// The count is an unsigned int argument in both calls.
Result<long> sys_eventfd(const SyscallArgs& a) { return do_eventfd(a.u32(0), 0); }

Result<long> sys_eventfd2(const SyscallArgs& a) { return do_eventfd(a.u32(0), a.u32(1)); }

}  // namespace carbyne::libos
