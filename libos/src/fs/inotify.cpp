// inotify instances, their watches and event queues (inotify.h).
#include "inotify.h"

#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/lock.h>
#include <linux/fcntl.h>
#include <linux/inotify.h>
#include <linux/poll.h>

#include "../proc/wait.h"
#include "anon_inode.h"
#include "dentry.h"
#include "path.h"

namespace carbyne::libos::fs {

namespace {

constexpr size_t kEventHeader = sizeof(struct inotify_event);

struct Event {
    Event* next;
    int wd;
    uint32_t mask, cookie;
    uint32_t len;  // the name's bytes with its NUL and padding, as read(2) gives them
    char name[];
};

class Inotify;

struct Watch {
    Watch* next;
    Inotify* owner;
    Dentry* dentry;
    int wd;
    uint32_t mask;
};

constinit Spinlock g_lock{LockRank::Inotify};
Watch* g_watches;     // every instance's, under g_lock
int g_watch_count;    // read without the lock: no watch, no work
int g_instances;
uint32_t g_cookie;

class Inotify final : public File {
public:
    Inotify(uint32_t flags) : File(O_RDONLY | flags, "anon_inode:inotify"), m_ino(anon_inode_number()) {}
    ~Inotify() override;

    Result<size_t> read(IoBuf buf, size_t size) override;
    uint32_t poll_events() override {
        SpinGuard g(g_lock);
        return m_head ? POLLIN | POLLRDNORM : 0;
    }
    WaitQueue* poll_queue() override { return &m_waiters; }
    Result<uint64_t> readable_bytes() override {
        SpinGuard g(g_lock);
        return m_bytes;
    }
    Result<void> stat(Stat* out) override {
        anon_inode_stat(m_ino, out);
        return {};
    }
    Result<int64_t> seek(int64_t, int) override { return Errno(ESPIPE); }
    FileKind kind() const override { return FileKind::Inotify; }

    // Under g_lock.
    void queue_locked(int wd, uint32_t mask, uint32_t cookie, const char* name);
    int next_wd_locked() { return ++m_last_wd; }

    WaitQueue m_waiters;

private:
    uint64_t m_ino;
    // Under g_lock.
    Event* m_head = nullptr;
    Event* m_tail = nullptr;
    size_t m_count = 0;
    uint64_t m_bytes = 0;
    int m_last_wd = 0;
};

size_t event_size(const Event* e) { return kEventHeader + e->len; }

void Inotify::queue_locked(int wd, uint32_t mask, uint32_t cookie, const char* name) {
    size_t name_size = name && *name ? strlen(name) + 1 : 0;
    uint32_t len = uint32_t((name_size + kEventHeader - 1) / kEventHeader * kEventHeader);
    // The same event as the last one queued is not queued twice (as Linux merges them).
    if (m_tail && m_tail->wd == wd && m_tail->mask == mask && m_tail->cookie == cookie &&
        (name_size ? m_tail->len && !strcmp(m_tail->name, name) : !m_tail->len))
        return;
    if (m_count >= kInotifyMaxQueuedEvents) {
        if (m_tail && m_tail->mask == IN_Q_OVERFLOW)
            return;
        wd = -1, mask = IN_Q_OVERFLOW, cookie = 0, name_size = 0, len = 0;
    }
    auto* e = static_cast<Event*>(kzalloc(sizeof(Event) + len));
    if (!e)
        return;  // out of memory: the event is lost, as an overflow would lose it
    *e = Event{nullptr, wd, mask, cookie, len};
    if (name_size)
        memcpy(e->name, name, name_size);
    if (m_tail)
        m_tail->next = e;
    else
        m_head = e;
    m_tail = e;
    m_count++;
    m_bytes += event_size(e);
}

Result<size_t> Inotify::read(IoBuf buf, size_t size) {
    Event* taken = nullptr;
    bool too_small = false;
    auto take = [&] {
        SpinGuard g(g_lock);
        Event** tail = &taken;
        size_t room = size;
        while (m_head && event_size(m_head) <= room) {
            Event* e = m_head;
            m_head = e->next;
            if (!m_head)
                m_tail = nullptr;
            m_count--;
            m_bytes -= event_size(e);
            room -= event_size(e);
            e->next = nullptr;
            *tail = e;
            tail = &e->next;
        }
        too_small = !taken && m_head;
        return taken || too_small;
    };
    if (!take()) {
        if (flags() & O_NONBLOCK)
            return Errno(EAGAIN);
        TRY(wait_until(m_waiters, POLLIN, kNoDeadline, take));
    }
    if (too_small)
        return Errno(EINVAL);
    size_t done = 0;
    Result<void> copied;
    while (taken) {
        Event* e = taken;
        taken = e->next;
        struct inotify_event head = {e->wd, e->mask, e->cookie, e->len};
        if (copied.ok())
            copied = io_copy_out(buf + done, &head, kEventHeader);
        if (copied.ok() && e->len)
            copied = io_copy_out(buf + (done + kEventHeader), e->name, e->len);
        if (copied.ok())
            done += event_size(e);
        kfree(e);
    }
    if (!done && !copied.ok())
        return copied.error();
    return done;
}

// Takes `w` out of the list and frees it; its dentry reference is dropped by the caller
// (after the lock would do too, the dentry lock comes after this one).
void unlink_watch_locked(Watch* w) {
    for (Watch** link = &g_watches; *link; link = &(*link)->next) {
        if (*link == w) {
            *link = w->next;
            break;
        }
    }
    __atomic_sub_fetch(&g_watch_count, 1, __ATOMIC_RELAXED);
}

void end_watch_locked(Watch* w) {
    w->owner->queue_locked(w->wd, IN_IGNORED, 0, nullptr);
    unlink_watch_locked(w);
    dentry_put(w->dentry);
    kfree(w);
}

Inotify::~Inotify() {
    {
        SpinGuard g(g_lock);
        for (Watch* w = g_watches; w;) {
            Watch* next = w->next;
            if (w->owner == this) {
                unlink_watch_locked(w);
                dentry_put(w->dentry);
                kfree(w);
            }
            w = next;
        }
        g_instances--;
    }
    while (m_head) {
        Event* e = m_head;
        m_head = e->next;
        kfree(e);
    }
    poll_release();
}

// The instances that got events, woken after the lock (each holding a reference).
class Wakeups {
public:
    void add_locked(Inotify* owner) {
        for (size_t i = 0; i < m_count; i++)
            if (m_files[i] == owner)
                return;
        if (m_count < kMax && owner->try_ref())
            m_files[m_count++] = owner;
    }
    ~Wakeups() {
        for (size_t i = 0; i < m_count; i++) {
            m_files[i]->m_waiters.wake(POLLIN | POLLRDNORM);
            m_files[i]->unref();
        }
    }

private:
    static constexpr size_t kMax = 16;
    Inotify* m_files[kMax];
    size_t m_count = 0;
};

// One event: to the watches on `parent` with the object's `name`, and to those on
// `object` without a name; IN_ONESHOT watches end after their first. A directory's own
// entries changing (IN_CREATE, IN_DELETE, IN_MOVED_*) is its event alone; the object's end
// or move (IN_*_SELF), the object's alone; the rest go to both.
void deliver(Dentry* object, Dentry* parent, const char* name, uint32_t mask, bool is_dir, uint32_t cookie) {
    constexpr uint32_t kEntryEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
    constexpr uint32_t kSelfEvents = IN_DELETE_SELF | IN_MOVE_SELF;
    uint32_t flag = is_dir && !(mask & kSelfEvents) ? IN_ISDIR : 0;  // as Linux: none on *_SELF
    Wakeups wakeups;
    SpinGuard g(g_lock);
    for (Watch* w = g_watches; w;) {
        Watch* next = w->next;
        bool to_parent = parent && w->dentry == parent && !(mask & kSelfEvents);
        bool to_object = object && w->dentry == object && !(mask & kEntryEvents);
        if ((to_parent || to_object) && (w->mask & mask)) {
            w->owner->queue_locked(w->wd, mask | flag, cookie, to_object ? nullptr : name);
            wakeups.add_locked(w->owner);
            if (w->mask & IN_ONESHOT)
                end_watch_locked(w);
        }
        w = next;
    }
}

bool watching() { return __atomic_load_n(&g_watch_count, __ATOMIC_RELAXED) > 0; }

Inotify* as_inotify(File* f) { return f->kind() == FileKind::Inotify ? static_cast<Inotify*>(f) : nullptr; }

// The dentries of `path` and of its directory (either may be absent), and its last name.
struct Named {
    Dentry* object = nullptr;
    Dentry* parent = nullptr;
    const char* name = "";
    ~Named() {
        dentry_put(object);
        dentry_put(parent);
    }
};

void find(const char* path, Named* out) {
    out->object = dentry_find(path);
    out->name = path_basename(path);
    size_t dir = path_dirname_size(path);
    char parent[kPathMax] = "/";
    memcpy(parent, path, dir);
    if (dir)
        parent[dir] = '\0';
    out->parent = dentry_find(parent);
}

}  // namespace

Result<File*> inotify_create(uint32_t flags) {
    {
        SpinGuard g(g_lock);
        if (g_instances >= kInotifyMaxInstances)
            return Errno(EMFILE);
        g_instances++;
    }
    File* f = make<Inotify>(flags & O_NONBLOCK);
    if (!f) {
        SpinGuard g(g_lock);
        g_instances--;
        return Errno(ENOMEM);
    }
    return f;
}

Result<int> inotify_add_watch(File* f, Dentry* d, uint32_t mask) {
    auto* in = as_inotify(f);
    if (!in)
        return Errno(EINVAL);
    if (!(mask & IN_ALL_EVENTS) || ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE)))
        return Errno(EINVAL);
    auto* fresh = static_cast<Watch*>(kzalloc(sizeof(Watch)));
    if (!fresh)
        return Errno(ENOMEM);
    uint32_t kept = mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
    SpinGuard g(g_lock);
    for (Watch* w = g_watches; w; w = w->next) {
        if (w->owner == in && w->dentry == d) {
            kfree(fresh);
            if (mask & IN_MASK_CREATE)
                return Errno(EEXIST);
            w->mask = (mask & IN_MASK_ADD) ? w->mask | kept : kept;
            return w->wd;
        }
    }
    if (__atomic_load_n(&g_watch_count, __ATOMIC_RELAXED) >= kInotifyMaxWatches) {
        kfree(fresh);
        return Errno(ENOSPC);
    }
    *fresh = Watch{g_watches, in, dentry_ref(d), in->next_wd_locked(), kept};
    g_watches = fresh;
    __atomic_add_fetch(&g_watch_count, 1, __ATOMIC_RELAXED);
    return fresh->wd;
}

Result<void> inotify_rm_watch(File* f, int wd) {
    auto* in = as_inotify(f);
    if (!in)
        return Errno(EINVAL);
    Wakeups wakeups;
    SpinGuard g(g_lock);
    for (Watch* w = g_watches; w; w = w->next) {
        if (w->owner == in && w->wd == wd) {
            wakeups.add_locked(in);
            end_watch_locked(w);
            return {};
        }
    }
    return Errno(EINVAL);
}

void notify_path(const char* path, uint32_t mask, bool is_dir, uint32_t cookie) {
    if (!watching())
        return;
    Named n;
    find(path, &n);
    deliver(n.object, n.parent, n.name, mask, is_dir, cookie);
}

void notify_file(File* f, uint32_t mask) {
    if (!watching() || !f->dentry() || f->is_path_only())
        return;
    char path[kPathMax];
    bool deleted = false;
    if (!f->path(path, sizeof(path), &deleted).ok())
        return;
    Stat st{};
    bool is_dir = f->stat(&st).ok() && (st.mode & S_IFMT) == S_IFDIR;
    Named n;
    if (!deleted)
        find(path, &n);
    if (!n.object)
        n.object = dentry_ref(f->dentry());
    deliver(n.object, deleted ? nullptr : n.parent, path_basename(path), mask, is_dir, 0);
}

void notify_rename(const char* from, const char* to, bool is_dir) {
    if (!watching())
        return;
    uint32_t cookie;
    do
        cookie = __atomic_add_fetch(&g_cookie, 1, __ATOMIC_RELAXED);
    while (!cookie);
    Named src, dst;
    find(from, &src);
    find(to, &dst);
    deliver(nullptr, src.parent, src.name, IN_MOVED_FROM, is_dir, cookie);
    deliver(nullptr, dst.parent, dst.name, IN_MOVED_TO, is_dir, cookie);
    deliver(src.object, nullptr, nullptr, IN_MOVE_SELF, is_dir, 0);
}

void notify_removed(const char* path, bool is_dir) {
    if (!watching())
        return;
    Named n;
    find(path, &n);
    if (!is_dir)
        deliver(n.object, nullptr, nullptr, IN_ATTRIB, false, 0);  // its link count
    deliver(n.object, n.parent, n.name, IN_DELETE, is_dir, 0);
    deliver(n.object, nullptr, nullptr, IN_DELETE_SELF, is_dir, 0);
    if (!n.object)
        return;
    // The object's watches end with it (IN_IGNORED).
    Wakeups wakeups;
    SpinGuard g(g_lock);
    for (Watch* w = g_watches; w;) {
        Watch* next = w->next;
        if (w->dentry == n.object) {
            wakeups.add_locked(w->owner);
            end_watch_locked(w);
        }
        w = next;
    }
}

}  // namespace carbyne::libos::fs
