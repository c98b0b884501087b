// net.allow (see net_allow.h).
#include "net_allow.h"

namespace carbyne::libos::net {

Result<void> net_allow_check(NetAllowOp, int, const PalSockAddr&) { return {}; }

}  // namespace carbyne::libos::net
