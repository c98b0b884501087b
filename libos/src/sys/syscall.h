// What every syscall family file needs: the raw arguments and the handler declarations.
#pragma once

#include <libos/result.h>
#include <stdint.h>

#include "../entry/syscall_table.h"

namespace carbyne::libos {

struct SyscallArgs {
    uint64_t a[6];

    int fd(int i) const { return int(int32_t(a[i])); }
    int i32(int i) const { return int(int32_t(a[i])); }
    uint32_t u32(int i) const { return uint32_t(a[i]); }
    int64_t i64(int i) const { return int64_t(a[i]); }
    uint64_t u64(int i) const { return a[i]; }
};

#define CARBYNE_DECLARE_Full(name) Result<long> sys_##name(const SyscallArgs& args);
#define CARBYNE_DECLARE_Partial(name) CARBYNE_DECLARE_Full(name)
#define CARBYNE_DECLARE_Enosys(name)
#define CARBYNE_DECLARE(nr, name, level, argtypes, note) CARBYNE_DECLARE_##level(name)
CARBYNE_SYSCALLS(CARBYNE_DECLARE)
#undef CARBYNE_DECLARE

}  // namespace carbyne::libos

namespace carbyne::libos {
namespace fs {
struct Resolved;
}
// Resolves the path argument of a system call against dirfd (AT_FDCWD: the working
// directory); an empty path is ENOENT (callers handle AT_EMPTY_PATH before).
Result<void> resolve_user_path(int dirfd, uint64_t user_path, bool follow, fs::Resolved* out);

// A clock id as the clock and timer calls take it: the dynamic CPU clocks of this process
// and of the calling thread (clock_getcpuclockid, pthread_getcpuclockid; glibc also passes
// them for CLOCK_PROCESS_CPUTIME_ID) become CLOCK_PROCESS_CPUTIME_ID and
// CLOCK_THREAD_CPUTIME_ID; another negative id is EINVAL. Others are returned as they are.
Result<int> resolve_clock(int clock);
}  // namespace carbyne::libos
