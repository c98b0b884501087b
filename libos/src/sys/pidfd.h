// pidfds (pidfd.cpp), as waitid(P_PIDFD) reads them.
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {

namespace fs {
class File;
}

// The pid a pidfd names; EINVAL for a file that is no pidfd.
Result<int> pidfd_pid(fs::File* f);
// A new pidfd of process `pid` (flags: O_NONBLOCK), installed close-on-exec: its fd.
Result<int> pidfd_install(int pid, uint32_t flags);

}  // namespace carbyne::libos
