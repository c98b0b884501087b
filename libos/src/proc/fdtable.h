// The descriptor table of a process. Installing is two steps (reserve, then commit or
// cancel) so that a failed copy to the application leaks no descriptor.
#pragma once

#include <libos/result.h>
#include <libos/lock.h>

#include "../fs/file.h"

namespace carbyne::libos {

// RLIMIT_NOFILE as Linux starts a process (INR_OPEN_CUR, INR_OPEN_MAX), and the most it
// may be raised to (fs.nr_open, by a privileged process). The table grows as descriptors
// are used, not as the limit is raised.
inline constexpr int kNofileSoft = 1024;
inline constexpr int kNofileHard = 4096;
inline constexpr int kNrOpen = 1048576;

// A counted reference to a File, released at scope end.
class FileRef {
public:
    FileRef() = default;
    explicit FileRef(fs::File* f) : m_file(f) {}
    FileRef(FileRef&& o) : m_file(o.m_file) { o.m_file = nullptr; }
    FileRef& operator=(FileRef&& o) {
        if (this != &o) {
            if (m_file)
                m_file->unref();
            m_file = o.m_file;
            o.m_file = nullptr;
        }
        return *this;
    }
    FileRef(const FileRef&) = delete;
    ~FileRef() {
        if (m_file)
            m_file->unref();
    }
    fs::File* operator->() const { return m_file; }
    fs::File* get() const { return m_file; }

private:
    fs::File* m_file = nullptr;
};

class FdTable {
public:
    // Lowest free descriptor >= min_fd and below the limit, marked reserved; EMFILE when
    // none, EINVAL when min_fd (> 0) is at or above the limit (F_DUPFD).
    Result<int> reserve(int min_fd);
    // Puts `file` (its reference moves to the table) at a reserved descriptor.
    void commit(int fd, fs::File* file, bool cloexec);
    void cancel(int fd);
    // reserve + commit; on failure the reference is dropped.
    Result<int> install(fs::File* file, int min_fd, bool cloexec);

    // A new reference to the file at fd; EBADF when none (O_PATH files only if allowed).
    Result<FileRef> get(int fd, bool allow_path_only = false);
    Result<void> close(int fd);
    // dup2/dup3: makes `newfd` refer to the file at `oldfd`.
    Result<int> dup_to(int oldfd, int newfd, bool cloexec);
    // close_range(2): closes (or, with CLOSE_RANGE_CLOEXEC, marks) [first, last].
    Result<void> close_range(unsigned first, unsigned last, bool cloexec_only);
    // execve: closes every descriptor marked FD_CLOEXEC.
    void close_on_exec();
    // The open descriptors in ascending order; returns how many there are (may exceed max).
    size_t list(int* out, size_t max);
    Result<bool> get_cloexec(int fd);
    Result<void> set_cloexec(int fd, bool cloexec);
    // RLIMIT_NOFILE's soft limit (0 ... kNrOpen): new descriptors stay below it, those
    // already above stay open.
    void set_limit(int limit);
    // The descriptors the table has room for now (Linux's max_fds: /proc's FDSize, and
    // where select stops looking).
    int capacity();

private:
    enum class State : uint8_t { Free, Reserved, Used };
    struct Entry {
        fs::File* file;
        State state;
        bool cloexec;
    };
    static constexpr int kInitial = 64;  // Linux's NR_OPEN_DEFAULT

    // Entry `fd` under m_lock, or nullptr when it lies past the table.
    Entry* entry_locked(int fd) { return fd >= 0 && fd < m_capacity ? &m_entries[fd] : nullptr; }
    // Makes room for `fd` (below kNrOpen); ENOMEM when the heap has none. Takes m_lock.
    Result<void> grow_to(int fd);
    // Closes the open descriptors in [first, last] that `pick` chooses (under m_lock).
    template <typename Pick>
    void close_matching(unsigned first, unsigned last, Pick pick);

    Spinlock m_lock{LockRank::FdTable};
    int m_limit = kNofileSoft;
    int m_capacity = kInitial;
    Entry* m_entries = m_initial;
    Entry m_initial[kInitial] = {};
};

}  // namespace carbyne::libos
