// The descriptor table.
#include "fdtable.h"

namespace carbyne::libos {

Result<int> FdTable::reserve(int min_fd) {
    if (min_fd < 0)
        return Errno(EINVAL);
    SpinGuard g(m_lock);
    if (min_fd > 0 && min_fd >= m_limit)
        return Errno(EINVAL);
    for (int fd = min_fd; fd < m_limit; fd++) {
        if (m_entries[fd].state == State::Free) {
            m_entries[fd].state = State::Reserved;
            return fd;
        }
    }
    return Errno(EMFILE);
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
    if (fd < 0 || fd >= kMaxFds)
        return Errno(EBADF);
    fs::File* f;
    {
        SpinGuard g(m_lock);
        if (m_entries[fd].state != State::Used)
            return Errno(EBADF);
        f = m_entries[fd].file;
        f->ref();
    }
    if (f->is_path_only() && !allow_path_only) {
        f->unref();
        return Errno(EBADF);
    }
    return FileRef(f);
}

Result<void> FdTable::close(int fd) {
    if (fd < 0 || fd >= kMaxFds)
        return Errno(EBADF);
    fs::File* f;
    {
        SpinGuard g(m_lock);
        if (m_entries[fd].state != State::Used)
            return Errno(EBADF);
        f = m_entries[fd].file;
        m_entries[fd] = Entry{nullptr, State::Free, false};
    }
    f->unref();
    return {};
}

Result<int> FdTable::dup_to(int oldfd, int newfd, bool cloexec) {
    if (oldfd < 0 || oldfd >= kMaxFds || newfd < 0 || newfd >= kMaxFds)
        return Errno(EBADF);
    fs::File* old = nullptr;
    {
        SpinGuard g(m_lock);
        if (newfd >= m_limit)
            return Errno(EBADF);  // as Linux: dup2 does not reach past RLIMIT_NOFILE
        if (m_entries[oldfd].state != State::Used)
            return Errno(EBADF);
        if (m_entries[newfd].state == State::Reserved)
            return Errno(EBUSY);  // Linux: another thread is opening this descriptor
        fs::File* f = m_entries[oldfd].file;
        f->ref();
        if (m_entries[newfd].state == State::Used)
            old = m_entries[newfd].file;
        m_entries[newfd] = Entry{f, State::Used, cloexec};
    }
    if (old)
        old->unref();
    return newfd;
}

Result<void> FdTable::close_range(unsigned first, unsigned last, bool cloexec_only) {
    if (first > last)
        return Errno(EINVAL);
    for (unsigned fd = first; fd <= last && fd < unsigned(kMaxFds); fd++) {
        fs::File* f = nullptr;
        {
            SpinGuard g(m_lock);
            Entry& e = m_entries[fd];
            if (e.state != State::Used)
                continue;
            if (cloexec_only) {
                e.cloexec = true;
                continue;
            }
            f = e.file;
            e = Entry{nullptr, State::Free, false};
        }
        f->unref();
    }
    return {};
}

size_t FdTable::list(int* out, size_t max) {
    SpinGuard g(m_lock);
    size_t n = 0;
    for (int fd = 0; fd < kMaxFds; fd++) {
        if (m_entries[fd].state != State::Used)
            continue;
        if (n < max)
            out[n] = fd;
        n++;
    }
    return n;
}

Result<bool> FdTable::get_cloexec(int fd) {
    if (fd < 0 || fd >= kMaxFds)
        return Errno(EBADF);
    SpinGuard g(m_lock);
    if (m_entries[fd].state != State::Used)
        return Errno(EBADF);
    return m_entries[fd].cloexec;
}

Result<void> FdTable::set_cloexec(int fd, bool cloexec) {
    if (fd < 0 || fd >= kMaxFds)
        return Errno(EBADF);
    SpinGuard g(m_lock);
    if (m_entries[fd].state != State::Used)
        return Errno(EBADF);
    m_entries[fd].cloexec = cloexec;
    return {};
}

void FdTable::set_limit(int limit) {
    SpinGuard g(m_lock);
    m_limit = limit < 0 ? 0 : limit > kMaxFds ? kMaxFds : limit;
}

}  // namespace carbyne::libos
