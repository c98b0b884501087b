// The descriptor table.
#include "fdtable.h"

#include <carbyne/string.h>
#include <libos/heap.h>

namespace carbyne::libos {

Result<void> FdTable::grow_to(int fd) {
    for (;;) {
        int have;
        {
            SpinGuard g(m_lock);
            if (fd < m_capacity)
                return {};
            have = m_capacity;
        }
        // Doubled, as Linux's expand_fdtable; allocated with the lock dropped.
        int want = have;
        while (want <= fd)
            want = want > kNrOpen / 2 ? kNrOpen : want * 2;
        auto* grown = static_cast<Entry*>(kzalloc(size_t(want) * sizeof(Entry)));
        if (!grown)
            return Errno(ENOMEM);
        Entry* old = nullptr;
        {
            SpinGuard g(m_lock);
            if (m_capacity == have) {
                memcpy(grown, m_entries, size_t(have) * sizeof(Entry));
                old = m_entries == m_initial ? nullptr : m_entries;
                m_entries = grown;
                m_capacity = want;
                grown = nullptr;
            }
        }
        kfree(old);
        kfree(grown);  // another thread grew it meanwhile: look again
    }
}

Result<int> FdTable::reserve(int min_fd) {
    if (min_fd < 0)
        return Errno(EINVAL);
    for (;;) {
        {
            SpinGuard g(m_lock);
            if (min_fd > 0 && min_fd >= m_limit)
                return Errno(EINVAL);
            int end = m_limit < m_capacity ? m_limit : m_capacity;
            for (int fd = min_fd; fd < end; fd++) {
                if (m_entries[fd].state == State::Free) {
                    m_entries[fd].state = State::Reserved;
                    return fd;
                }
            }
            if (end >= m_limit)
                return Errno(EMFILE);
            // Nothing free from min_fd up to the table's end: more room, then look from
            // there (never below what was asked: F_DUPFD 255 in a table of 64 is 255).
            if (min_fd < end)
                min_fd = end;
        }
        TRY(grow_to(min_fd));
    }
}

void FdTable::commit(int fd, fs::File* file, bool cloexec) {
    SpinGuard g(m_lock);
    m_entries[fd] = Entry{file, State::Used, cloexec};
}

void FdTable::cancel(int fd) {
    SpinGuard g(m_lock);
    m_entries[fd] = Entry{nullptr, State::Free, false};
}

Result<int> FdTable::install(fs::File* file, int min_fd, bool cloexec) {
    auto fd = reserve(min_fd);
    if (!fd.ok()) {
        file->unref();
        return fd.error();
    }
    commit(fd.value(), file, cloexec);
    return fd.value();
}

Result<FileRef> FdTable::get(int fd, bool allow_path_only) {
    fs::File* f;
    {
        SpinGuard g(m_lock);
        Entry* e = entry_locked(fd);
        if (!e || e->state != State::Used)
            return Errno(EBADF);
        f = e->file;
        f->ref();
    }
    if (f->is_path_only() && !allow_path_only) {
        f->unref();
        return Errno(EBADF);
    }
    return FileRef(f);
}

Result<void> FdTable::close(int fd) {
    fs::File* f;
    {
        SpinGuard g(m_lock);
        Entry* e = entry_locked(fd);
        if (!e || e->state != State::Used)
            return Errno(EBADF);
        f = e->file;
        *e = Entry{nullptr, State::Free, false};
    }
    f->unref();
    return {};
}

Result<int> FdTable::dup_to(int oldfd, int newfd, bool cloexec) {
    if (newfd < 0 || newfd >= kNrOpen)
        return Errno(EBADF);
    {
        SpinGuard g(m_lock);
        if (newfd >= m_limit)
            return Errno(EBADF);  // as Linux: dup2 does not reach past RLIMIT_NOFILE
        Entry* e = entry_locked(oldfd);
        if (!e || e->state != State::Used)
            return Errno(EBADF);
    }
    TRY(grow_to(newfd));
    fs::File* old = nullptr;
    {
        SpinGuard g(m_lock);
        Entry* from = entry_locked(oldfd);
        if (!from || from->state != State::Used)
            return Errno(EBADF);  // closed meanwhile
        Entry& to = m_entries[newfd];
        if (to.state == State::Reserved)
            return Errno(EBUSY);  // Linux: another thread is opening this descriptor
        fs::File* f = from->file;
        f->ref();
        if (to.state == State::Used)
            old = to.file;
        to = Entry{f, State::Used, cloexec};
    }
    if (old)
        old->unref();
    return newfd;
}

template <typename Pick>
void FdTable::close_matching(unsigned first, unsigned last, Pick pick) {
    for (unsigned fd = first; fd <= last && fd < unsigned(kNrOpen); fd++) {
        fs::File* f = nullptr;
        {
            SpinGuard g(m_lock);
            Entry* e = entry_locked(int(fd));
            if (!e)
                break;  // past the table: nothing open there
            if (e->state != State::Used || !pick(*e))
                continue;
            f = e->file;
            *e = Entry{nullptr, State::Free, false};
        }
        f->unref();
    }
}

Result<void> FdTable::close_range(unsigned first, unsigned last, bool cloexec_only) {
    if (first > last)
        return Errno(EINVAL);
    close_matching(first, last, [cloexec_only](Entry& e) {
        if (!cloexec_only)
            return true;
        e.cloexec = true;  // CLOSE_RANGE_CLOEXEC marks and keeps
        return false;
    });
    return {};
}

void FdTable::close_on_exec() {
    close_matching(0, ~0u, [](Entry& e) { return e.cloexec; });
}

size_t FdTable::list(int* out, size_t max) {
    SpinGuard g(m_lock);
    size_t n = 0;
    for (int fd = 0; fd < m_capacity; fd++) {
        if (m_entries[fd].state != State::Used)
            continue;
        if (n < max)
            out[n] = fd;
        n++;
    }
    return n;
}

Result<bool> FdTable::get_cloexec(int fd) {
    SpinGuard g(m_lock);
    Entry* e = entry_locked(fd);
    if (!e || e->state != State::Used)
        return Errno(EBADF);
    return e->cloexec;
}

Result<void> FdTable::set_cloexec(int fd, bool cloexec) {
    SpinGuard g(m_lock);
    Entry* e = entry_locked(fd);
    if (!e || e->state != State::Used)
        return Errno(EBADF);
    e->cloexec = cloexec;
    return {};
}

void FdTable::set_limit(int limit) {
    SpinGuard g(m_lock);
    m_limit = limit < 0 ? 0 : limit > kNrOpen ? kNrOpen : limit;
}

int FdTable::capacity() {
    SpinGuard g(m_lock);
    return m_capacity;
}

}  // namespace carbyne::libos
