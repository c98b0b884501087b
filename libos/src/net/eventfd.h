// eventfd: a 64-bit counter read and written through a file descriptor (eventfd(2)).
#pragma once

#include <libos/result.h>

#include "../fs/file.h"

namespace carbyne::libos::net {

// A new eventfd holding `initval`; `flags` are O_NONBLOCK (the file's status flag) and
// `semaphore` (EFD_SEMAPHORE: each read takes 1).
Result<fs::File*> eventfd_create(uint64_t initval, uint32_t flags, bool semaphore);

}  // namespace carbyne::libos::net
