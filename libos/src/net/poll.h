// Waiting for readiness of a set of files (poll, ppoll, select, pselect6): each file's
// poll_events() is asked, and while none is ready the thread waits on every file's
// poll_queue() and, for files whose readiness comes from the host, on their poll_handle().
#pragma once

#include <libos/result.h>

#include "../fs/file.h"
#include "../proc/wait.h"
#include "waiters.h"

namespace carbyne::libos::net {

struct PollEntry {
    fs::File* file;     // nullptr: not asked (a negative fd, or one already answered)
    uint32_t events;    // the POLL* bits that count as ready
    uint32_t revents;   // out: poll_events() & events (left as is without a file)
    WaitQueue* queue;   // internal: where `link` is
    WaitLink link;
    Waiters* waiters;   // internal: where `waiter` is
    Waiters::Waiter waiter;
};

// Fills revents and returns how many entries have any; waits until one does, `deadline`
// (monotonic ns, kNoDeadline) passes (returns 0), or a signal is deliverable
// (ERESTARTNOHAND: Linux never restarts these calls after a handler).
Result<size_t> poll_files(PollEntry* entries, size_t count, uint64_t deadline);

// The Waiters that a poll of `f` waits on instead of its poll_queue(): those of this
// subsystem's files (pipes, eventfds, epoll instances), which set a woken thread's event
// after dropping their locks (see waiters.h); nullptr for other files.
Waiters* poll_waiters(fs::File* f);

// The PAL_WAIT_* bits to ask the host for POLL* interest `events`.
uint32_t pal_wait_bits(uint32_t events);
// The POLL* bits that a host readiness (PAL_WAIT_*) stands for.
uint32_t poll_events_from_pal(uint32_t ready);

}  // namespace carbyne::libos::net
