// signalfd: pending signals read through a file descriptor (signalfd(2)).
#pragma once

#include <libos/result.h>

#include "file.h"

namespace carbyne::libos::fs {

// A new signalfd for the signals in `mask`; `flags` are O_NONBLOCK (status flags).
Result<File*> signalfd_create(uint64_t mask, uint32_t flags);
// Changes the mask of a file of kind SignalFd (EINVAL for any other file).
Result<void> signalfd_set_mask(File* f, uint64_t mask);

}  // namespace carbyne::libos::fs
