// pidfd_open, pidfd_send_signal, and the pidfds that waitid(P_PIDFD) takes.
//
// A pidfd names a process of the instance by its pid (pids are not reused while the
// instance has others free) and holds a host handle of it when one is known (ipc/procs.h:
// procs_process_handle), through which poll, select and epoll see it readable once the
// process has ended. Without a handle (the caller itself, the first process, which the
// instance does not outlive) it is never readable.
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/wait.h>

#include "../fs/anon_inode.h"
#include "../ipc/fork.h"
#include "../ipc/procs.h"
#include "../net/poll.h"
#include "../proc/process.h"
#include "../signal/signal.h"
#include "kill.h"
#include "pidfd.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

class PidFd final : public fs::File {
public:
    PidFd(int pid, PalHandle* process, uint32_t flags)
        : File(O_RDWR | flags, "anon_inode:[pidfd]"), m_ino(fs::anon_inode_number()), m_pid(pid),
          m_process(process) {}
    ~PidFd() override {
        poll_release();
        g_pal->stream_close(m_process);
    }

    Result<size_t> read(fs::IoBuf, size_t) override { return Errno(EINVAL); }
    Result<size_t> write(fs::IoBuf, size_t) override { return Errno(EINVAL); }
    uint32_t poll_events() override {
        return m_process ? net::poll_events_from_pal(net::host_ready_now(m_process, PAL_WAIT_READ) & PAL_WAIT_READ) : 0;
    }
    PalHandle* poll_handle() override { return m_process; }
    fs::FileKind kind() const override { return fs::FileKind::PidFd; }
    Result<void> stat(fs::Stat* out) override {
        fs::anon_inode_stat(m_ino, out);
        return {};
    }

    int pid() const { return m_pid; }

private:
    uint64_t m_ino;
    int m_pid;
    PalHandle* m_process;  // nullptr: none known
};

}  // namespace

Result<int> pidfd_pid(fs::File* f) {
    if (f->kind() != fs::FileKind::PidFd)
        return Errno(EINVAL);
    return static_cast<PidFd*>(f)->pid();
}

Result<int> pidfd_install(int pid, uint32_t flags) {
    PalHandle* process = TRY(ipc::procs_process_handle(pid));
    fs::File* f = make<PidFd>(pid, process, flags);
    if (!f) {
        g_pal->stream_close(process);
        return Errno(ENOMEM);
    }
    return TRY(g_process.fds.install(f, 0, true));  // always close-on-exec, as Linux's
}

Result<long> sys_pidfd_open(const SyscallArgs& a) {
    int pid = a.i32(0);
    uint32_t flags = a.u32(1);
    if (flags & ~uint32_t(O_NONBLOCK))  // PIDFD_NONBLOCK
        return Errno(EINVAL);
    if (pid <= 0)
        return Errno(EINVAL);
    return TRY(pidfd_install(pid, flags));
}

Result<long> sys_pidfd_send_signal(const SyscallArgs& a) {
    // PIDFD_SIGNAL_THREAD, _THREAD_GROUP, _PROCESS_GROUP: at most one scope (the process's
    // by default, as a pidfd of pidfd_open names a process).
    constexpr uint32_t kThread = 1, kThreadGroup = 2, kProcessGroup = 4;
    int sig = a.i32(1);
    uint32_t scope = a.u32(3);
    if ((scope & ~(kThread | kThreadGroup | kProcessGroup)) || (scope & (scope - 1)))
        return Errno(EINVAL);
    FileRef f = TRY(g_process.fds.get(a.fd(0)));
    auto pid = pidfd_pid(f.get());
    if (!pid.ok())
        return Errno(EBADF);
    if (sig < 0 || sig > kNumSignals)
        return Errno(EINVAL);
    SigInfo info = signal_user_info(sig);
    if (a.u64(2)) {
        TRY(copy_from_user(&info, a.u64(2), sizeof(info)));
        if (info.signo != sig)
            return Errno(EINVAL);
        // As rt_sigqueueinfo: only to itself may a process pretend to be the kernel or kill().
        if ((info.code >= 0 || info.code == -6) && (pid.value() != g_process.pid || scope == kProcessGroup))
            return Errno(EPERM);
    }
    // As Linux does it: the group whose id is the process's pid (ESRCH unless it leads one).
    if (scope == kProcessGroup)
        return signal_group(pid.value(), info);
    // A process's main thread has its pid for a tid.
    return signal_process(pid.value(), info, scope == kThread ? pid.value() : 0);
}

}  // namespace carbyne::libos
