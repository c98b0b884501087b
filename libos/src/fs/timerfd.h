// timerfd: a timer read through a file descriptor (timerfd_create(2)).
#pragma once

#include <libos/result.h>

#include "file.h"

namespace carbyne::libos::fs {

// A new timerfd on `clock` (CLOCK_REALTIME, MONOTONIC, BOOTTIME); `flags` are O_NONBLOCK
// (the file's status flags).
Result<File*> timerfd_create(int clock, uint32_t flags);
// timerfd_settime on a file of kind TimerFd: `value` absolute on its clock when
// `absolute`, else relative; 0 disarms. Clears the expirations not yet read.
Result<void> timerfd_settime(File* f, bool absolute, uint64_t value, uint64_t interval, uint64_t* old_value,
                             uint64_t* old_interval);
Result<void> timerfd_gettime(File* f, uint64_t* value, uint64_t* interval);

}  // namespace carbyne::libos::fs
