// Where kill(2), tgkill, sigqueue and pidfd_send_signal send a signal (signal.cpp).
#pragma once

#include <libos/result.h>

namespace carbyne::libos {

struct SigInfo;

// A signal for process `pid` of the instance (this one too), or its thread `tid` (0: the
// process), with `info` as sent: a child directly, any other process through the leader's
// table (ipc/procs.h). ESRCH when there is no such process (or no such thread here).
Result<long> signal_process(int pid, const SigInfo& info, int tid);
// A signal for every process of group `pgid` (this one too when it is in it); ESRCH when
// the group is empty.
Result<long> signal_group(int pgid, const SigInfo& info);

}  // namespace carbyne::libos
