// Readiness of a set of files (see poll.h).
#include "poll.h"

#include <libos/pal.h>
#include <linux/poll.h>

#include "../proc/process.h"

namespace carbyne::libos::net {

namespace {

// thread_block_on takes at most 15 host handles (and the wait event). Past that, the host
// handles are looked at again every kHostPollNs.
constexpr size_t kMaxHandles = 15;
constexpr uint64_t kHostPollNs = 10 * 1000 * 1000;

size_t scan(PollEntry* entries, size_t count) {
    size_t ready = 0;
    for (size_t i = 0; i < count; i++) {
        PollEntry& e = entries[i];
        if (e.file)
            e.revents = e.file->poll_events() & e.events;
        if (e.revents)
            ready++;
    }
    return ready;
}

bool passed(uint64_t deadline) { return deadline != kNoDeadline && monotonic_now() >= deadline; }

}  // namespace

uint32_t pal_wait_bits(uint32_t events) {
    return ((events & (POLLIN | POLLRDNORM)) ? PAL_WAIT_READ : 0) |
           ((events & (POLLOUT | POLLWRNORM)) ? PAL_WAIT_WRITE : 0) | ((events & POLLRDHUP) ? PAL_WAIT_RDHUP : 0);
}

uint32_t host_ready_now(PalHandle* h, uint32_t want) {
    uint32_t got = 0;
    if (g_pal->wait_for_many(1, &h, &want, &got, 0) != PAL_OK)
        return 0;
    return got;
}

uint32_t poll_events_from_pal(uint32_t ready) {
    uint32_t events = 0;
    if (ready & PAL_WAIT_READ)
        events |= POLLIN | POLLRDNORM;
    if (ready & PAL_WAIT_WRITE)
        events |= POLLOUT | POLLWRNORM;
    if (ready & PAL_WAIT_ERROR)
        events |= POLLERR;
    if (ready & PAL_WAIT_HANGUP)
        events |= POLLHUP;
    if (ready & PAL_WAIT_RDHUP)
        events |= POLLRDHUP;
    return events;
}

Result<size_t> poll_files(PollEntry* entries, size_t count, uint64_t deadline) {
    size_t ready = scan(entries, count);
    if (ready || passed(deadline))
        return ready;

    Thread* self = current_thread();
    PalHandle* handles[kMaxHandles];
    uint32_t want[kMaxHandles], got[kMaxHandles];
    size_t nhandles = 0;
    bool overflow = false;
    for (size_t i = 0; i < count; i++) {
        PollEntry& e = entries[i];
        e.queue = nullptr;
        if (!e.file)
            continue;
        if (WaitQueue* q = e.file->poll_queue()) {
            e.link = WaitLink{self, nullptr, e.events, nullptr, nullptr};
            e.queue = q;
            q->add(&e.link);
        } else if (PalHandle* h = e.file->poll_handle()) {
            if (nhandles == kMaxHandles) {
                overflow = true;
                continue;
            }
            handles[nhandles] = h;
            want[nhandles] = pal_wait_bits(e.events);
            nhandles++;
        }
    }

    // Every link is on its queue before the files are asked: a change that the asking missed
    // sets the thread's wait event, so the block below returns at once. A wake-up leaves the
    // link on its queue; a stale one costs one more look.
    Result<size_t> result = size_t(0);
    for (;;) {
        ready = scan(entries, count);
        if (ready) {
            result = ready;
            break;
        }
        uint64_t until = deadline;
        if (overflow) {
            uint64_t tick = deadline_after(kHostPollNs);
            until = tick < deadline ? tick : deadline;
        }
        Result<void> r = nhandles ? thread_block_on(nhandles, handles, want, got, until) : thread_block(until);
        if (r.ok())
            continue;
        if (r.error().code == ETIMEDOUT) {
            if (!passed(deadline))
                continue;  // an overflow tick
            result = scan(entries, count);
        } else if (r.error().code == ERESTARTSYS) {
            result = Errno(ERESTARTNOHAND);
        } else {
            result = r.error();
        }
        break;
    }
    for (size_t i = 0; i < count; i++)
        if (entries[i].queue)
            entries[i].queue->remove(&entries[i].link);
    return result;
}

}  // namespace carbyne::libos::net
