// The manifest's net.allow: which addresses and ports the application may bind and
// connect (or send datagrams) to. Without net.allow everything is allowed; with it, a
// socket call to an address no rule lists fails with EACCES and a log line naming it.
#pragma once

#include <libos/result.h>
#include <pal/pal.h>

namespace carbyne::libos::net {

enum class NetAllowOp { Bind, Connect };

// OK when allowed; EACCES (and a log line) when not. `sock_type` is SOCK_STREAM or
// SOCK_DGRAM. A connect to AF_UNSPEC (dissolving) is never checked.
Result<void> net_allow_check(NetAllowOp op, int sock_type, const PalSockAddr& addr);

}  // namespace carbyne::libos::net
