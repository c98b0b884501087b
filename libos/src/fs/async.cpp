// Signal-driven I/O (see async.h).
#include "async.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../ipc/procs.h"
#include "../proc/process.h"
#include "../proc/thread.h"
#include "../proc/wait.h"
#include "../signal/signal.h"
#include "file.h"

namespace carbyne::libos::fs {

namespace {

constexpr int kSigio = 29;
constexpr int kSiKernel = 0x80;
enum : int { kPollIn = 1, kPollOut = 2, kPollMsg = 3, kPollErr = 4, kPollPri = 5, kPollHup = 6 };
constexpr uint32_t kSignalled = POLLIN | POLLOUT | POLLPRI | POLLERR | POLLHUP | POLLRDHUP;

struct Watch {
    WaitLink link;  // first: the callback casts back
    File* file;     // no reference: async_forget comes before the file goes
    int fd;
    WaitQueue* queue;   // the file's queue it is linked on, or nullptr
    PalHandle* handle;  // the host handle it is in the poller with, or nullptr
    uint32_t pending;   // atomic: POLL* bits seen since the service last looked
    Watch* next;
};

constinit Mutex g_lock{LockRank::Async};
Watch* g_watches;
PalHandle* g_kick;    // set by a queue callback: the service looks at the marks
PalHandle* g_poller;  // the host handles, edge-triggered
bool g_started;

void on_wake(WaitLink* link, uint32_t events) {
    auto* w = reinterpret_cast<Watch*>(link);
    if (!(events & kSignalled))
        return;
    __atomic_fetch_or(&w->pending, events & kSignalled, __ATOMIC_RELEASE);
    g_pal->event_set(g_kick);
}

void attach_locked(Watch* w) {
    if (WaitQueue* q = w->file->poll_queue()) {
        w->link = WaitLink{nullptr, on_wake, 0, nullptr, nullptr};
        q->add(&w->link);
        w->queue = q;
    } else if (PalHandle* h = w->file->poll_handle()) {
        if (g_pal->poller_ctl(g_poller, h, PAL_WAIT_READ | PAL_WAIT_RDHUP | PAL_POLL_EDGE, uint64_t(w)) == PAL_OK)
            w->handle = h;
    }
}

void detach_locked(Watch* w) {
    if (w->queue)
        w->queue->remove(&w->link);
    if (w->handle)
        g_pal->poller_ctl(g_poller, w->handle, 0, 0);
    w->queue = nullptr;
    w->handle = nullptr;
}

Watch** find_locked(File* f) {
    for (Watch** link = &g_watches; *link; link = &(*link)->next)
        if ((*link)->file == f)
            return link;
    return nullptr;
}

bool listed_locked(const Watch* w) {
    for (Watch* x = g_watches; x; x = x->next)
        if (x == w)
            return true;
    return false;
}

// What one ready file sends: its owner, its signal, the fd that enabled O_ASYNC, the band.
struct Due {
    AsyncOwner owner;
    int fd;
    uint32_t band;
};

void send(const Due& d) {
    int sig = d.owner.sig ? d.owner.sig : kSigio;
    SigInfo info;
    memset(&info, 0, sizeof(info));
    info.signo = sig;
    if (d.owner.sig) {
        // F_SETSIG: the reason, its band and the fd, as Linux's send_sigio_to_task.
        int reason = (d.band & POLLIN) ? kPollIn : (d.band & POLLOUT) ? kPollOut : (d.band & POLLPRI) ? kPollPri
                     : (d.band & POLLHUP) ? kPollHup : kPollErr;
        static constexpr uint32_t kBands[] = {POLLIN | POLLRDNORM | POLLMSG, POLLOUT | POLLWRNORM | POLLWRBAND,
                                              POLLIN | POLLRDNORM | POLLMSG, POLLERR, POLLPRI | POLLRDBAND,
                                              POLLHUP | POLLERR};
        info.code = reason;
        info.poll.band = int64_t(kBands[reason - kPollIn]);
        info.poll.fd = d.fd;
    } else {
        info.code = kSiKernel;
    }
    int self = g_process.pid;
    Result<void> sent;
    if (d.owner.type == F_OWNER_PGRP) {
        if (ipc::procs_own_ids().pgid == d.owner.id)
            sent = signal_send(nullptr, sig, info);
        auto others = ipc::procs_kill(ipc::KillScope::Group, d.owner.id, info);
        if (!others.ok())
            sent = others.error();
    } else if (d.owner.id == self) {
        sent = signal_send(nullptr, sig, info);
    } else if (Thread* t = d.owner.type == F_OWNER_TID ? thread_by_tid(d.owner.id) : nullptr) {
        sent = signal_send(t, sig, info);
    } else {
        auto n = ipc::procs_kill(ipc::KillScope::Process, d.owner.id, info);
        sent = n.ok() ? Result<void>() : Result<void>(n.error());
    }
    if (!sent.ok())
        log_debug("O_ASYNC: signal %d to %d not sent (errno %d)", sig, d.owner.id, sent.error().code);
}

[[noreturn]] void service_main(void*) {
    constexpr size_t kMaxDue = 32;
    Due due[kMaxDue];
    for (;;) {
        PalHandle* handles[2] = {g_kick, g_poller};
        uint32_t want[2] = {PAL_WAIT_READ, PAL_WAIT_READ}, ready[2] = {0, 0};
        g_pal->wait_for_many(2, handles, want, ready, PAL_WAIT_FOREVER);
        size_t n = 0;
        {
            LockGuard g(g_lock);
            for (Watch* w = g_watches; w; w = w->next) {
                // A file whose readiness moved to the host (or back) is watched there now.
                if (w->queue != w->file->poll_queue() || (!w->queue && w->handle != w->file->poll_handle())) {
                    detach_locked(w);
                    attach_locked(w);
                }
                uint32_t band = __atomic_exchange_n(&w->pending, 0u, __ATOMIC_ACQ_REL);
                if (band && n < kMaxDue)
                    due[n++] = Due{w->file->async_owner(), w->fd, band};
            }
            PalPollEvent events[16];
            size_t count = 0;
            if (g_pal->poller_wait(g_poller, events, 16, &count, 0) == PAL_OK) {
                for (size_t i = 0; i < count && n < kMaxDue; i++) {
                    auto* w = reinterpret_cast<Watch*>(events[i].cookie);
                    if (!listed_locked(w))
                        continue;
                    uint32_t e = events[i].events;
                    uint32_t band = ((e & PAL_WAIT_READ) ? uint32_t(POLLIN) : 0u) |
                                    ((e & (PAL_WAIT_RDHUP | PAL_WAIT_HANGUP)) ? uint32_t(POLLHUP) : 0u) |
                                    ((e & PAL_WAIT_ERROR) ? uint32_t(POLLERR) : 0u);
                    if (band)
                        due[n++] = Due{w->file->async_owner(), w->fd, band};
                }
            }
        }
        for (size_t i = 0; i < n; i++)
            if (due[i].owner.id)
                send(due[i]);
    }
}

Result<void> start_locked() {
    if (g_started)
        return {};
    if (!g_kick)
        TRY(pal_result(g_pal->event_create(0, 1, &g_kick)));
    if (!g_poller)
        TRY(pal_result(g_pal->poller_create(&g_poller)));
    TRY(pal_result(g_pal->thread_create(service_main, nullptr)));
    g_started = true;
    return {};
}

}  // namespace

Result<void> async_update(File* f, int fd) {
    bool want = (f->flags() & FASYNC) && f->async_owner().id != 0;
    Watch* fresh = want ? static_cast<Watch*>(kzalloc(sizeof(Watch))) : nullptr;
    if (want && !fresh)
        return Errno(ENOMEM);
    Watch* gone = nullptr;
    {
        LockGuard g(g_lock);
        Watch** link = find_locked(f);
        if (want && link) {
            (*link)->fd = fd;
        } else if (want) {
            TRY(start_locked());
            fresh->file = f;
            fresh->fd = fd;
            attach_locked(fresh);
            fresh->next = g_watches;
            g_watches = fresh;
            f->set_async_watched(true);
            fresh = nullptr;
        } else if (link) {
            gone = *link;
            *link = gone->next;
            detach_locked(gone);
            f->set_async_watched(false);
        }
    }
    kfree(fresh);
    kfree(gone);
    return {};
}

void async_forget(File* f) {
    Watch* gone = nullptr;
    {
        LockGuard g(g_lock);
        if (Watch** link = find_locked(f)) {
            gone = *link;
            *link = gone->next;
            detach_locked(gone);
        }
    }
    kfree(gone);
}

}  // namespace carbyne::libos::fs
