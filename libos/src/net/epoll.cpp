// epoll instances (see epoll.h).
#include "epoll.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/eventpoll.h>
#include <linux/fcntl.h>
#include <linux/poll.h>

#include "../fs/anon_inode.h"
#include "../proc/process.h"
#include "../proc/wait.h"
#include "poll.h"

namespace carbyne::libos::net {
class Epoll;
}

namespace carbyne::libos::fs {

// One watched (file, fd) pair of an epoll instance.
struct PollWatch {
    WaitLink link;  // first: the callback finds the entry from its link
    net::Epoll* ep;
    File* file;         // no reference: the entry goes before the file does
    int fd;
    uint64_t data;
    WaitQueue* queue;   // where `link` is; nullptr for a host-readiness file
    PalHandle* handle;  // the host handle of such a file (valid while the entry is)
    bool in_poller;     // a host-readiness entry the instance's PAL poller watches;
                        // otherwise (a regular file behind a console...) asked each wait
    bool target_is_epoll;

    // Under ep->m_ready_lock (read by the callback):
    uint32_t events;    // EPOLL* interest, EPOLLERR | EPOLLHUP, and the EPOLLET... flags
    bool armed;         // false after an EPOLLONESHOT report, until EPOLL_CTL_MOD
    enum class State : uint8_t { Idle, Ready, Harvesting } state;
    bool missed;        // an event came while epoll_wait looked at the entry
    uint64_t requeued_by;  // the epoll_wait call that reported it and put it back (that
                           // call does not look twice); 0 when an event put it back
    PollWatch* ready_prev;
    PollWatch* ready_next;

    PollWatch* hash_next;   // ep's table, under ep->m_table_lock
    PollWatch* host_prev;   // ep's host-readiness list, under ep->m_table_lock
    PollWatch* host_next;
    PollWatch* file_prev;   // the file's list of watchers, under g_watch_lock
    PollWatch* file_next;
};

}  // namespace carbyne::libos::fs

namespace carbyne::libos::net {

using fs::PollWatch;

namespace {

constexpr uint32_t kFlagBits = EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE;
constexpr uint32_t kExclusiveOk = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
constexpr size_t kBatch = 64;        // entries looked at per pass under the table lock
constexpr size_t kMaxHandles = 15;   // host handles one wait can take (thread_block_on)
constexpr uint64_t kHostPollNs = 10 * 1000 * 1000;

constinit Spinlock g_watch_lock{LockRank::EpollWatch};  // every file's list of watchers
constinit Mutex g_nest_lock{LockRank::EpollNest};   // adding an epoll to an epoll

}  // namespace

class Epoll final : public fs::File {
public:
    Epoll(uint32_t flags) : File(O_RDWR | flags, "anon_inode:[eventpoll]"), m_ino(fs::anon_inode_number()) {}
    ~Epoll() override;

    Result<void> ctl(int op, int fd, fs::File* target, uint32_t events, uint64_t data);
    Result<void> ctl_table(int op, int fd, fs::File* target, uint32_t events, uint64_t data, bool nested);
    Result<long> wait(uint64_t user_events, int max, uint64_t deadline);
    // A watched file is going: drops this instance's entries for it.
    void forget(fs::File* f);

    uint32_t poll_events() override;
    WaitQueue* poll_queue() override { return &m_poll_queue; }
    Result<int64_t> seek(int64_t, int) override { return int64_t(0); }  // noop_llseek, as Linux
    fs::FileKind kind() const override { return fs::FileKind::Epoll; }
    Result<void> stat(fs::Stat* out) override {
        fs::anon_inode_stat(m_ino, out);
        return {};
    }
    bool watches_epoll() const { return __atomic_load_n(&m_epoll_entries, __ATOMIC_ACQUIRE) != 0; }

private:
    static void on_wake(WaitLink* link, uint32_t events);

    PollWatch* find_locked(fs::File* f, int fd);
    Result<void> grow_locked();
    void remove_locked(PollWatch* w);
    // Puts `w` on the ready list if it is not there; true when the waiters need waking.
    bool queue_ready_locked(PollWatch* w);
    void wake_waiters();
    // Checks `w` now (EPOLL_CTL_ADD/MOD) and queues it when ready.
    void check_now_locked(PollWatch* w);
    size_t harvest_ready(EpollEvent* out, size_t room, uint64_t call, fs::File** refs, size_t* nrefs,
                         size_t* taken);
    size_t harvest_host(EpollEvent* out, size_t room);
    size_t harvest_poller(EpollEvent* out, size_t room);
    // Registers (or changes, or with events 0 removes) a host entry with the PAL poller,
    // made on first use; false when the host cannot watch that handle.
    bool poller_watch_locked(PollWatch* w, uint32_t events);
    // Puts a host-readiness entry (its handle set) on the host list and in the poller.
    void host_watch_locked(PollWatch* w);
    // An entry whose file's readiness moved from its wait queue to a host handle is watched
    // there from now on (under m_table_lock).
    void rehome_locked(PollWatch* w);
    uint32_t host_events(const PollWatch* w, uint32_t events);
    size_t harvest(EpollEvent* out, size_t room, uint64_t call, bool* more);
    bool ready_nonempty();
    size_t host_handles(PalHandle** handles, uint32_t* want, size_t max, bool* overflow);

    uint64_t m_ino;
    // A sleeping lock: host poller calls are made under it.
    Mutex m_table_lock{LockRank::Epoll};
    // Under m_table_lock: the entries, a hash table on (file, fd).
    PollWatch** m_buckets = nullptr;
    size_t m_bucket_count = 0;
    size_t m_count = 0;
    PollWatch* m_host = nullptr;  // entries of host-readiness files
    PalHandle* m_poller = nullptr;  // the host's readiness of most of them (O(ready) waits)
    int m_epoll_entries = 0;      // entries watching another epoll
    uint64_t m_calls = 0;         // epoll_wait calls, to tag entries put back

    Spinlock m_ready_lock{LockRank::EpollReady};
    PollWatch* m_ready_head = nullptr;  // under m_ready_lock
    PollWatch* m_ready_tail = nullptr;

    // Threads in epoll_wait on this instance, in poll or select on it, and an outer epoll's
    // entry for it: woken with POLLIN | POLLRDNORM when an entry becomes ready.
    WaitQueue m_poll_queue;
};

namespace {

size_t hash_of(fs::File* f, int fd, size_t buckets) {
    uint64_t h = (uint64_t(uintptr_t(f)) >> 4) * 0x9e3779b97f4a7c15ull ^ uint64_t(uint32_t(fd));
    return size_t(h ^ (h >> 29)) & (buckets - 1);
}

// Under ep's m_ready_lock.
void ready_unlink(PollWatch*& head, PollWatch*& tail, PollWatch* w) {
    if (w->ready_prev)
        w->ready_prev->ready_next = w->ready_next;
    else
        head = w->ready_next;
    if (w->ready_next)
        w->ready_next->ready_prev = w->ready_prev;
    else
        tail = w->ready_prev;
    w->ready_prev = w->ready_next = nullptr;
}

void ready_append(PollWatch*& head, PollWatch*& tail, PollWatch* w) {
    w->ready_next = nullptr;
    w->ready_prev = tail;
    if (tail)
        tail->ready_next = w;
    else
        head = w;
    tail = w;
}

// The file's list of watchers, under g_watch_lock.
void file_link(PollWatch* w) {
    SpinGuard g(g_watch_lock);
    PollWatch** head = w->file->poll_watchers();
    w->file_prev = nullptr;
    w->file_next = *head;
    if (*head)
        (*head)->file_prev = w;
    __atomic_store_n(head, w, __ATOMIC_RELEASE);
}

void file_unlink(PollWatch* w) {
    SpinGuard g(g_watch_lock);
    if (w->file_prev)
        w->file_prev->file_next = w->file_next;
    else
        __atomic_store_n(w->file->poll_watchers(), w->file_next, __ATOMIC_RELEASE);
    if (w->file_next)
        w->file_next->file_prev = w->file_prev;
}

}  // namespace

Epoll::~Epoll() {
    poll_release();  // an outer epoll's entry for this one
    PollWatch* dead = nullptr;
    {
        LockGuard g(m_table_lock);
        for (size_t b = 0; b < m_bucket_count; b++) {
            while (PollWatch* w = m_buckets[b]) {
                m_buckets[b] = w->hash_next;
                if (w->queue)
                    w->queue->remove(&w->link);
                file_unlink(w);
                w->hash_next = dead;
                dead = w;
            }
        }
    }
    while (dead) {
        PollWatch* next = dead->hash_next;
        kfree(dead);
        dead = next;
    }
    kfree(m_buckets);
    if (m_poller)
        g_pal->stream_close(m_poller);
}

PollWatch* Epoll::find_locked(fs::File* f, int fd) {
    if (!m_bucket_count)
        return nullptr;
    for (PollWatch* w = m_buckets[hash_of(f, fd, m_bucket_count)]; w; w = w->hash_next)
        if (w->file == f && w->fd == fd)
            return w;
    return nullptr;
}

// Doubles the table when it is as full as it has buckets. Allocates under m_table_lock: the
// heap never blocks in the PAL for a table this small.
Result<void> Epoll::grow_locked() {
    if (m_count < m_bucket_count)
        return {};
    size_t count = m_bucket_count ? m_bucket_count * 2 : 16;
    PollWatch** buckets = static_cast<PollWatch**>(kzalloc(count * sizeof(PollWatch*)));
    if (!buckets)
        return Errno(ENOMEM);
    for (size_t b = 0; b < m_bucket_count; b++) {
        while (PollWatch* w = m_buckets[b]) {
            m_buckets[b] = w->hash_next;
            size_t h = hash_of(w->file, w->fd, count);
            w->hash_next = buckets[h];
            buckets[h] = w;
        }
    }
    kfree(m_buckets);
    m_buckets = buckets;
    m_bucket_count = count;
    return {};
}

// Takes `w` out of everything; the caller frees it after dropping m_table_lock.
void Epoll::remove_locked(PollWatch* w) {
    if (w->queue)
        w->queue->remove(&w->link);  // after this no callback runs on it
    {
        SpinGuard g(m_ready_lock);
        if (w->state == PollWatch::State::Ready)
            ready_unlink(m_ready_head, m_ready_tail, w);
        w->state = PollWatch::State::Idle;
    }
    if (w->handle) {
        if (w->in_poller)
            poller_watch_locked(w, 0);
        if (w->host_prev)
            w->host_prev->host_next = w->host_next;
        else
            m_host = w->host_next;
        if (w->host_next)
            w->host_next->host_prev = w->host_prev;
    }
    PollWatch** p = &m_buckets[hash_of(w->file, w->fd, m_bucket_count)];
    while (*p != w)
        p = &(*p)->hash_next;
    *p = w->hash_next;
    m_count--;
    if (w->target_is_epoll)
        __atomic_sub_fetch(&m_epoll_entries, 1, __ATOMIC_RELEASE);
    file_unlink(w);
}

bool Epoll::queue_ready_locked(PollWatch* w) {
    // m_ready_lock held.
    if (!w->armed)
        return false;
    if (w->state == PollWatch::State::Harvesting) {
        w->missed = true;
        return false;
    }
    if (w->state == PollWatch::State::Ready)
        return false;
    w->state = PollWatch::State::Ready;
    w->requeued_by = 0;  // an event: every call looks at it
    ready_append(m_ready_head, m_ready_tail, w);
    return true;
}

void Epoll::wake_waiters() { m_poll_queue.wake(POLLIN | POLLRDNORM); }

// Runs under the watched file's queue lock: it must not block or take m_table_lock.
void Epoll::on_wake(WaitLink* link, uint32_t events) {
    PollWatch* w = reinterpret_cast<PollWatch*>(link);
    Epoll* ep = w->ep;
    bool wake;
    {
        SpinGuard g(ep->m_ready_lock);
        if (!(events & w->events & ~kFlagBits))
            return;
        wake = ep->queue_ready_locked(w);
    }
    if (wake)
        ep->wake_waiters();
}

void Epoll::check_now_locked(PollWatch* w) {
    if (!w->queue)
        return;  // host-readiness entries are asked on every wait
    if (!(w->file->poll_events() & w->events & ~kFlagBits))
        return;
    bool wake;
    {
        SpinGuard g(m_ready_lock);
        wake = queue_ready_locked(w);
    }
    if (wake)
        wake_waiters();
}

Result<void> Epoll::ctl(int op, int fd, fs::File* target, uint32_t events, uint64_t data) {
    events &= ~uint32_t(EPOLLWAKEUP);  // no system suspend to hold off
    if (op != EPOLL_CTL_ADD || target->kind() != fs::FileKind::Epoll)
        return ctl_table(op, fd, target, events, data, false);
    // Refusing an epoll that watches epolls keeps the nesting acyclic (Linux allows up to
    // 5 levels and checks for loops; one level is what applications use).
    LockGuard nest(g_nest_lock);
    if (static_cast<Epoll*>(target)->watches_epoll())
        return Errno(ELOOP);
    return ctl_table(op, fd, target, events, data, true);
}

Result<void> Epoll::ctl_table(int op, int fd, fs::File* target, uint32_t events, uint64_t data, bool nested) {
    PollWatch* fresh = nullptr;
    if (op == EPOLL_CTL_ADD) {
        fresh = static_cast<PollWatch*>(kzalloc(sizeof(PollWatch)));
        if (!fresh)
            return Errno(ENOMEM);
    }
    PollWatch* dead = nullptr;
    Result<void> result;
    {
        LockGuard g(m_table_lock);
        PollWatch* w = find_locked(target, fd);
        switch (op) {
        case EPOLL_CTL_ADD: {
            if (w) {
                result = Errno(EEXIST);
                break;
            }
            auto grown = grow_locked();
            if (!grown.ok()) {
                result = grown;
                break;
            }
            w = fresh;
            fresh = nullptr;
            w->ep = this;
            w->file = target;
            w->fd = fd;
            w->data = data;
            w->events = events | EPOLLERR | EPOLLHUP;
            w->armed = true;
            w->state = PollWatch::State::Idle;
            w->target_is_epoll = nested;
            if (nested)
                __atomic_add_fetch(&m_epoll_entries, 1, __ATOMIC_RELEASE);
            w->queue = target->poll_queue();
            w->handle = w->queue ? nullptr : target->poll_handle();
            w->in_poller = false;
            size_t h = hash_of(target, fd, m_bucket_count);
            w->hash_next = m_buckets[h];
            m_buckets[h] = w;
            m_count++;
            file_link(w);
            if (w->queue) {
                w->link = WaitLink{nullptr, on_wake, 0, nullptr, nullptr};
                w->queue->add(&w->link);
            } else {
                host_watch_locked(w);
            }
            check_now_locked(w);
            break;
        }
        case EPOLL_CTL_MOD:
            if (!w) {
                result = Errno(ENOENT);
                break;
            }
            if (w->events & EPOLLEXCLUSIVE) {
                result = Errno(EINVAL);
                break;
            }
            {
                SpinGuard r(m_ready_lock);
                w->events = events | EPOLLERR | EPOLLHUP;
                w->data = data;
                w->armed = true;
            }
            if (w->in_poller)
                poller_watch_locked(w, w->events);  // also re-arms an EPOLLONESHOT entry
            check_now_locked(w);
            break;
        case EPOLL_CTL_DEL:
            if (!w) {
                result = Errno(ENOENT);
                break;
            }
            remove_locked(w);
            dead = w;
            break;
        default:
            result = Errno(EINVAL);
        }
    }
    kfree(fresh);
    kfree(dead);
    return result;
}

void Epoll::forget(fs::File* f) {
    PollWatch* dead = nullptr;
    {
        LockGuard g(m_table_lock);
        // Only this instance's entries for f; the caller loops over the file's list.
        for (;;) {
            PollWatch* w;
            {
                SpinGuard wl(g_watch_lock);
                w = *f->poll_watchers();
                while (w && w->ep != this)
                    w = w->file_next;
            }
            if (!w)
                break;
            remove_locked(w);
            w->hash_next = dead;
            dead = w;
        }
    }
    while (dead) {
        PollWatch* next = dead->hash_next;
        kfree(dead);
        dead = next;
    }
}

// One pass over the ready list: at most `room` (<= kBatch) entries, each file asked once.
// Level-triggered entries still ready go back to the tail, tagged with `call` so that this
// call does not look at them again. Under m_table_lock; the references taken on the files (in
// `refs`) are dropped by the caller after m_table_lock, since a last one destroys the file, whose
// destructor takes m_table_lock to forget it.
size_t Epoll::harvest_ready(EpollEvent* out, size_t room, uint64_t call, fs::File** refs, size_t* nrefs,
                            size_t* taken_out) {
    PollWatch* batch[kBatch];
    size_t taken = 0;
    {
        SpinGuard g(m_ready_lock);
        while (taken < room && m_ready_head && m_ready_head->requeued_by != call) {
            PollWatch* w = m_ready_head;
            ready_unlink(m_ready_head, m_ready_tail, w);
            w->state = PollWatch::State::Harvesting;
            w->missed = false;
            batch[taken++] = w;
        }
    }
    *taken_out = taken;
    uint32_t revents[kBatch];
    bool moved[kBatch] = {};
    for (size_t i = 0; i < taken; i++) {
        PollWatch* w = batch[i];
        revents[i] = 0;
        // A file whose last reference is gone is being destroyed: its entries go soon.
        if (w->file->try_ref()) {
            refs[(*nrefs)++] = w->file;
            if (w->queue && !w->file->poll_queue() && w->file->poll_handle()) {
                // Its readiness moved to the host (a pipe or UNIX socket that fork shared;
                // the move woke its queue one last time): the poller reports it from now on.
                rehome_locked(w);
                moved[i] = true;
                continue;
            }
            revents[i] = w->file->poll_events();
        }
    }
    size_t n = 0;
    SpinGuard g(m_ready_lock);
    for (size_t i = 0; i < taken; i++) {
        PollWatch* w = batch[i];
        uint32_t r = w->armed ? revents[i] & w->events & ~kFlagBits : 0;
        bool again = false;
        if (r) {
            out[n++] = EpollEvent{r, w->data};
            if (w->events & EPOLLONESHOT)
                w->armed = false;
            else if (!(w->events & EPOLLET))
                again = true;  // level-triggered: reported until it is not ready
        }
        if (moved[i]) {
            w->state = PollWatch::State::Idle;  // off the ready list for good
        } else if (again || (w->missed && w->armed)) {
            // An entry put back only because an event came while it was looked at (it was
            // not ready then) is looked at again by this call: tagging it would leave this
            // call spinning on a ready list it never takes from.
            w->state = PollWatch::State::Ready;
            w->requeued_by = again ? call : 0;
            ready_append(m_ready_head, m_ready_tail, w);
        } else {
            w->state = PollWatch::State::Idle;
        }
        w->missed = false;
    }
    return n;
}

void Epoll::host_watch_locked(PollWatch* w) {
    w->host_prev = nullptr;
    w->host_next = m_host;
    if (m_host)
        m_host->host_prev = w;
    m_host = w;
    w->in_poller = poller_watch_locked(w, w->events);
}

void Epoll::rehome_locked(PollWatch* w) {
    w->queue->remove(&w->link);
    w->queue = nullptr;
    w->handle = w->file->poll_handle();
    host_watch_locked(w);
}

// What the host says of a host-readiness entry now (a wait that does not wait). Under m_table_lock.
uint32_t Epoll::host_events(const PollWatch* w, uint32_t events) {
    return poll_events_from_pal(host_ready_now(w->handle, pal_wait_bits(events))) & events;
}

// The host-readiness entries, each asked; always level-triggered. Under m_table_lock.
size_t Epoll::harvest_host(EpollEvent* out, size_t room) {
    size_t n = 0;
    for (PollWatch* w = m_host; w && n < room; w = w->host_next) {
        if (w->in_poller)
            continue;
        uint32_t events;
        {
            SpinGuard g(m_ready_lock);
            events = w->armed ? w->events & ~kFlagBits : 0;
        }
        uint32_t r = events ? host_events(w, events) : 0;
        if (!r)
            continue;
        out[n++] = EpollEvent{r, w->data};
        if (w->events & EPOLLONESHOT) {
            SpinGuard g(m_ready_lock);
            w->armed = false;
        }
    }
    return n;
}

bool Epoll::poller_watch_locked(PollWatch* w, uint32_t events) {
    if (!m_poller && (!events || g_pal->poller_create(&m_poller) != PAL_OK))
        return false;
    uint32_t bits = 0;
    if (events) {
        bits = pal_wait_bits(events) | ((events & EPOLLET) ? uint32_t(PAL_POLL_EDGE) : 0u) |
               ((events & EPOLLONESHOT) ? uint32_t(PAL_POLL_ONESHOT) : 0u);
        if (!(bits & (PAL_WAIT_READ | PAL_WAIT_WRITE | PAL_WAIT_RDHUP)))
            bits |= PAL_WAIT_ERROR;  // only errors and hang-ups are wanted
    }
    // FIXME: two entries for one host handle (dup'ed descriptors in one instance) share
    // the host's registration: the later one's events win.
    return g_pal->poller_ctl(m_poller, w->handle, bits, uint64_t(uintptr_t(w))) == PAL_OK;
}

// The poller's ready entries (the host reports each once per look for level-triggered
// ones, as epoll does). Under m_table_lock, which keeps every reported entry alive.
size_t Epoll::harvest_poller(EpollEvent* out, size_t room) {
    PalPollEvent ready[kBatch];
    size_t count = 0;
    if (g_pal->poller_wait(m_poller, ready, room < kBatch ? room : kBatch, &count, 0) != PAL_OK)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        PollWatch* w = reinterpret_cast<PollWatch*>(uintptr_t(ready[i].cookie));
        SpinGuard g(m_ready_lock);
        uint32_t r = w->armed ? poll_events_from_pal(ready[i].events) & w->events & ~kFlagBits : 0;
        if (!r)
            continue;
        out[n++] = EpollEvent{r, w->data};
        if (w->events & EPOLLONESHOT)
            w->armed = false;
    }
    return n;
}

// One pass: ready entries first, then, with room left, the host-readiness ones. `more`:
// the ready list may hold entries this call has not looked at.
size_t Epoll::harvest(EpollEvent* out, size_t room, uint64_t call, bool* more) {
    fs::File* refs[kBatch];
    size_t nrefs = 0, taken = 0, n;
    {
        LockGuard g(m_table_lock);
        n = harvest_ready(out, room, call, refs, &nrefs, &taken);
        *more = taken == room;
        if (!*more && n < room && m_poller)
            n += harvest_poller(out + n, room - n);
        if (!*more && n < room && m_host)
            n += harvest_host(out + n, room - n);
    }
    for (size_t i = 0; i < nrefs; i++)
        refs[i]->unref();
    return n;
}

bool Epoll::ready_nonempty() {
    SpinGuard g(m_ready_lock);
    return m_ready_head != nullptr;
}

size_t Epoll::host_handles(PalHandle** handles, uint32_t* want, size_t max, bool* overflow) {
    LockGuard g(m_table_lock);
    size_t n = 0;
    *overflow = false;
    if (m_poller) {
        handles[n] = m_poller;
        want[n++] = PAL_WAIT_READ;
    }
    for (PollWatch* w = m_host; w; w = w->host_next) {
        if (w->in_poller)
            continue;
        uint32_t events;
        bool armed;
        {
            SpinGuard r(m_ready_lock);
            events = w->events;
            armed = w->armed;
        }
        if (!armed)
            continue;
        if (n == max) {
            *overflow = true;
            break;
        }
        handles[n] = w->handle;
        want[n] = pal_wait_bits(events);
        n++;
    }
    return n;
}

Result<long> Epoll::wait(uint64_t user_events, int max, uint64_t deadline) {
    uint64_t call;
    {
        LockGuard g(m_table_lock);
        call = ++m_calls;
    }
    Thread* self = current_thread();
    for (;;) {
        // Passes of at most kBatch events, each copied out before the next.
        size_t total = 0;
        for (;;) {
            EpollEvent events[kBatch];
            size_t room = size_t(max) - total < kBatch ? size_t(max) - total : kBatch;
            bool more;
            size_t n = harvest(events, room, call, &more);
            if (n) {
                // FIXME: Linux puts back an event it could not copy; here it is lost when
                // the array is unmapped after the range check.
                auto r = copy_to_user(user_events + total * sizeof(EpollEvent), events, n * sizeof(EpollEvent));
                if (!r.ok())
                    return total ? Result<long>(long(total)) : r.error();
                total += n;
            }
            if (!more || total == size_t(max))
                break;
        }
        if (total)
            return long(total);
        if (deadline != kNoDeadline && monotonic_now() >= deadline)
            return 0;

        // Nothing ready: wait for a callback (the ready list) or a host handle. The link is
        // on the queue before the ready list is looked at, so no callback is missed.
        WaitLink link = {self, nullptr, POLLIN, nullptr, nullptr};
        m_poll_queue.add(&link);
        Result<void> r;
        if (!ready_nonempty()) {
            PalHandle* handles[kMaxHandles];
            uint32_t want[kMaxHandles], got[kMaxHandles];
            bool overflow;
            size_t nhandles = host_handles(handles, want, kMaxHandles, &overflow);
            uint64_t until = deadline;
            if (overflow) {
                uint64_t tick = deadline_after(kHostPollNs);
                until = tick < deadline ? tick : deadline;
            }
            r = nhandles ? thread_block_on(nhandles, handles, want, got, until) : thread_block(until);
        }
        m_poll_queue.remove(&link);
        if (!r.ok()) {
            if (r.error().code == ERESTARTSYS)
                return Errno(EINTR);  // never restarted, even without a handler (Linux)
            if (r.error().code != ETIMEDOUT)
                return r.error();
            // A timeout (or an overflow tick): one more look, then 0 if the deadline passed.
        }
    }
}

// Readable when an armed entry is on the ready list or a host-readiness entry is ready.
// FIXME: Linux also asks the ready entries' files, so a level-triggered entry that is no
// longer ready does not count; asking them here would take references under an outer
// epoll's lock (nesting), where a last one must not be dropped.
uint32_t Epoll::poll_events() {
    LockGuard g(m_table_lock);
    {
        SpinGuard r(m_ready_lock);
        for (PollWatch* w = m_ready_head; w; w = w->ready_next)
            if (w->armed)
                return POLLIN | POLLRDNORM;
    }
    if (m_poller) {
        uint32_t want = PAL_WAIT_READ, got = 0;
        if (g_pal->wait_for_many(1, &m_poller, &want, &got, 0) == PAL_OK && (got & PAL_WAIT_READ))
            return POLLIN | POLLRDNORM;
    }
    for (PollWatch* w = m_host; w; w = w->host_next) {
        if (w->in_poller)
            continue;
        uint32_t events;
        {
            SpinGuard r(m_ready_lock);
            events = w->armed ? w->events & ~kFlagBits : 0;
        }
        if (events && host_events(w, events))
            return POLLIN | POLLRDNORM;
    }
    return 0;
}

Result<fs::File*> epoll_create(uint32_t flags) {
    fs::File* f = make<Epoll>(flags);
    if (!f)
        return Errno(ENOMEM);
    return f;
}

Result<void> epoll_ctl(fs::File* ep, int op, int fd, fs::File* target, uint32_t events, uint64_t data) {
    if (!target->poll_queue() && !target->poll_handle())
        return Errno(EPERM);  // regular files, directories: always ready, nothing to watch
    if (ep == target || ep->kind() != fs::FileKind::Epoll)
        return Errno(EINVAL);
    bool has_event = op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD;
    if (has_event && (events & EPOLLEXCLUSIVE)) {
        if (op == EPOLL_CTL_MOD)
            return Errno(EINVAL);
        if (target->kind() == fs::FileKind::Epoll || (events & ~kExclusiveOk))
            return Errno(EINVAL);
    }
    if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
        return Errno(EINVAL);
    return static_cast<Epoll*>(ep)->ctl(op, fd, target, events, data);
}

Result<long> epoll_wait(fs::File* ep, uint64_t user_events, int max, uint64_t deadline) {
    if (ep->kind() != fs::FileKind::Epoll)
        return Errno(EINVAL);
    return static_cast<Epoll*>(ep)->wait(user_events, max, deadline);
}

}  // namespace carbyne::libos::net

namespace carbyne::libos::fs {

// From a file's destructor (its last reference is gone): each epoll watching it forgets it.
void poll_release_watchers(File* f) {
    for (;;) {
        net::Epoll* ep;
        bool live;
        {
            SpinGuard g(net::g_watch_lock);
            PollWatch* w = *f->poll_watchers();
            if (!w)
                return;
            ep = w->ep;
            live = ep->try_ref();
        }
        if (!live) {
            // That epoll is being destroyed: its destructor removes the entry.
            g_pal->thread_yield();
            continue;
        }
        ep->forget(f);
        ep->unref();
    }
}

}  // namespace carbyne::libos::fs
