// epoll instances (epoll(7)). Readiness is tracked by events, not by asking every watched
// file on each wait: every watched LibOS file's poll_queue() carries a WaitLink whose
// callback puts the entry on the instance's ready list; epoll_wait takes entries off that
// list, asks each its file's poll_events() once, reports it, and puts level-triggered
// entries that are still ready back at the tail. A wait costs O(ready entries). The
// instance's own poll_queue() is where epoll_wait, poll and select wait for its ready list.
//
// Files whose readiness comes from the host (poll_handle(): the console) have no queue to
// hang a link on: their entries sit on a separate list, asked on every wait and waited on
// with the host handles (at most 15; beyond that they are polled every 10 ms), always
// level-triggered. FIXME: a PAL poller (networking work) should feed them to the ready list;
// until then a poll() of an epoll instance, or an outer instance, is not woken when only
// such an entry becomes ready (it sees it on its next look).
//
// Entries hold no reference to their file (as Linux): when the file goes, its entries go
// (poll_release_watchers, from the file's destructor), so closing the last descriptor of a
// file takes it out of every epoll set.
//
// Lock order:
//   g_nest_lock (adding an epoll to an epoll) -> Epoll::m_table_lock (the entry table; held while
//   asking a file's poll_events(), adding or removing links) -> a file's own lock and its
//   WaitQueue's lock -> Epoll::m_ready_lock (taken by the link callbacks under the queue's
//   lock; nothing is taken inside it). g_watch_lock (each file's list of entries) is taken
//   under Epoll::m_table_lock or alone. The instance's own queue (poll_queue(): threads in
//   epoll_wait, poll or select on it, an outer instance's link) is woken after m_ready_lock
//   is dropped but still under the watched file's queue lock: a watched file's queue lock,
//   then this instance's queue lock, then an outer instance's m_ready_lock and queue lock.
//   An epoll may watch another epoll only if that one watches no epoll itself, so neither
//   this nesting nor that of Epoll::m_table_lock (outer before inner) has a cycle.
#pragma once

#include <libos/result.h>

#include "../fs/file.h"

namespace carbyne::libos::net {

// struct epoll_event as x86-64 Linux lays it out (packed).
struct EpollEvent {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));
static_assert(sizeof(EpollEvent) == 12);

inline constexpr int kEpollMaxEvents = 0x7fffffff / int(sizeof(EpollEvent));  // EP_MAX_EVENTS

// A new epoll instance; `flags` are the file's status flags (none today).
Result<fs::File*> epoll_create(uint32_t flags);

// epoll_ctl(2) after the descriptor lookups: `ep` and `target` are the files at epfd and fd.
// EPERM when the target cannot be polled, EINVAL when `ep` is no epoll or is the target,
// EEXIST/ENOENT as Linux, ELOOP for a nesting this LibOS refuses.
Result<void> epoll_ctl(fs::File* ep, int op, int fd, fs::File* target, uint32_t events, uint64_t data);

// epoll_wait(2): at most `max` events into the application's array; waits until one is
// ready, `deadline` (monotonic ns, kNoDeadline) passes (0), or a signal (EINTR: Linux
// never restarts it). EINVAL when `ep` is no epoll.
Result<long> epoll_wait(fs::File* ep, uint64_t user_events, int max, uint64_t deadline);

}  // namespace carbyne::libos::net
