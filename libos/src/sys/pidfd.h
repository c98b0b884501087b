// pidfds (pidfd.cpp), as waitid(P_PIDFD) reads them.
#pragma once

#include <libos/result.h>

namespace carbyne::libos {

namespace fs {
class File;
}

// The pid a pidfd names; EINVAL for a file that is no pidfd.
Result<int> pidfd_pid(fs::File* f);

}  // namespace carbyne::libos
