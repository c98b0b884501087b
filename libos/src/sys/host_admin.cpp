// acct, reboot, vhangup: the host's own administration. The capabilities they need are
// outside the instance's bounding set (creds.h), so each answers as Linux answers a process
// without them.
#include "../proc/creds.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

constexpr bool outside_bounding_set(int cap) { return !((kCapBounding >> cap) & 1); }
static_assert(outside_bounding_set(kCapSysPacct) && outside_bounding_set(kCapSysBoot) &&
              outside_bounding_set(kCapSysTtyConfig));

}  // namespace

// EPERM first, as Linux checks CAP_SYS_PACCT, CAP_SYS_BOOT and CAP_SYS_TTY_CONFIG before
// anything else; no process of the instance holds them, root included.
Result<long> sys_acct(const SyscallArgs&) { return Errno(EPERM); }
Result<long> sys_reboot(const SyscallArgs&) { return Errno(EPERM); }
Result<long> sys_vhangup(const SyscallArgs&) { return Errno(EPERM); }

}  // namespace carbyne::libos
