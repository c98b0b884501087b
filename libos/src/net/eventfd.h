// eventfd: a 64-bit counter read and written through a file descriptor (eventfd(2)).
#pragma once

#include <libos/pal.h>
#include <libos/result.h>

#include "../fs/file.h"

namespace carbyne::libos::net {

// A new eventfd holding `initval`; `flags` are O_NONBLOCK (the file's status flag) and
// `semaphore` (EFD_SEMAPHORE: each read takes 1).
Result<fs::File*> eventfd_create(uint64_t initval, uint32_t flags, bool semaphore);
// A process's copy of an eventfd another one shared (File::share_host): the host counter
// `host` is its counter (taken).
Result<fs::File*> eventfd_adopt(PalHandle* host, uint32_t flags, bool semaphore);
// Whether an eventfd (FileKind::EventFd) counts as a semaphore (EFD_SEMAPHORE).
bool eventfd_semaphore(fs::File* f);

}  // namespace carbyne::libos::net
