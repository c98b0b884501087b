// Waiting for readiness of a set of files (poll, ppoll, select, pselect6): each file's
// poll_events() is asked, and while none is ready the thread waits on every file's
// poll_queue() (a WaitLink carrying the thread) and, for files whose readiness comes from
// the host, on their poll_handle().
//
// Lock order: no lock is held while waiting; a queue's lock is taken only to add or remove
// a link, and a file's poll_events() takes the file's own locks.
#pragma once

#include <libos/result.h>

#include "../fs/file.h"
#include "../proc/wait.h"

namespace carbyne::libos::net {

struct PollEntry {
    fs::File* file;     // nullptr: not asked (a negative fd, or one already answered)
    uint32_t events;    // the POLL* bits that count as ready
    uint32_t revents;   // out: poll_events() & events (left as is without a file)
    WaitQueue* queue;   // internal: where `link` is
    WaitLink link;
};

// Fills revents and returns how many entries have any; waits until one does, `deadline`
// (monotonic ns, kNoDeadline) passes (returns 0), or a signal is deliverable
// (ERESTARTNOHAND: Linux never restarts these calls after a handler).
Result<size_t> poll_files(PollEntry* entries, size_t count, uint64_t deadline);

// What the host says of `h` now for `want` (PAL_WAIT_* bits): a wait that does not wait;
// 0 when the host cannot say.
uint32_t host_ready_now(PalHandle* h, uint32_t want);

// The PAL_WAIT_* bits to ask the host for POLL* interest `events`.
uint32_t pal_wait_bits(uint32_t events);
// The POLL* bits that a host readiness (PAL_WAIT_*) stands for.
uint32_t poll_events_from_pal(uint32_t ready);

}  // namespace carbyne::libos::net
