// The manifest's net.allow: which addresses and ports the application may bind and
// connect (or send datagrams) to. Without net.allow everything is allowed; with it, a
// socket call to an address no rule lists fails with EACCES and a log line naming it.
//
// The rules are read from the boot config once, before the application starts, and never
// change after: the checks read them without a lock.
#pragma once

#include <carbyne/boot_config.h>
#include <libos/result.h>
#include <pal/pal.h>

namespace carbyne::libos::net {

enum class NetAllowOp { Bind, Connect };

// Reads the NetAllow and NetAllowRule records of the boot config into the rule table.
// EINVAL when they are malformed, ENOMEM when the table cannot be allocated.
Result<void> net_allow_init(const boot::Reader& config);

// True when the manifest sets net.allow (written only by net_allow_init).
extern bool g_net_allow_set;

// net_allow_check's walk of the rules, when net.allow is set.
Result<void> net_allow_check_rules(NetAllowOp op, int sock_type, const PalSockAddr& addr);

// OK when allowed; EACCES (and a log line) when not. `sock_type` is SOCK_STREAM or
// SOCK_DGRAM. A connect to AF_UNSPEC (dissolving) is never checked; another address that
// is neither AF_INET nor AF_INET6 is refused when net.allow is set. Without net.allow this
// is one load of a flag.
inline Result<void> net_allow_check(NetAllowOp op, int sock_type, const PalSockAddr& addr) {
    if (!g_net_allow_set) [[likely]]
        return {};
    return net_allow_check_rules(op, sock_type, addr);
}

}  // namespace carbyne::libos::net
