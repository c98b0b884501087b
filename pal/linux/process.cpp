// Processes: a child is a fresh carbyne-pal, executed from the PAL's own binary at the same
// placement (the host's address randomization is off for the PAL's processes, main.cpp),
// so that the seccomp guard it inherits still allows the PAL text's calls and the child
// can map its parent's memory where it was. The two talk over a host socket pair.
#include <asm/errno.h>
#include <asm/unistd.h>
#include <carbyne/format.h>
#include <carbyne/string.h>
#include <linux/fcntl.h>
#include <linux/sched.h>
#include <linux/signal.h>
#include <linux/socket.h>
#include <linux/wait.h>

#include "pal_internal.h"

extern "C" long pal_clone(unsigned long flags, void* stack, int* parent_tid, int32_t* child_tid, void* tls,
                          void (*start)(void*), void* arg);

namespace carbyne::pal {

namespace {

constexpr int kAfUnix = 1, kSockStream = 1, kSockCloexec = 02000000;
constexpr int kSolSocket = 1, kScmRights = 1;
constexpr int kWaitExited = 1, kWaitWexited = 4, kWaitNohang = 1;  // CLD_EXITED, WEXITED, WNOHANG
constexpr int kPidfdWhich = 3;                                     // P_PIDFD
constexpr unsigned kMfdCloexec = 1;

// What the vfork child needs to become carbyne-pal: everything prepared by the parent,
// which waits (CLONE_VFORK) until the exec succeeded or the child gave up.
struct Spawn {
    int config_fd, channel_fd, log_fd;
    const char* argv[6];
    const char* envp[1];
    char args[4][16];
    long error;  // set by the child when the exec failed
};

// The child's side, on its own small stack, sharing the parent's memory: no PAL state is
// touched (its %gs is the parent thread's), only host calls.
[[noreturn]] void spawn_child(void* arg) {
    auto* s = static_cast<Spawn*>(arg);
    // carbyne-pal's own fd too, at the same number: the host-call guard the child inherits
    // allows the exec of that number only (seccomp.cpp).
    int keep[] = {s->config_fd, s->channel_fd, s->log_fd, g_pal.self_fd};
    for (int fd : keep)
        host_syscall3(__NR_fcntl, fd, F_SETFD, 0);
    long ret = host_syscall5(__NR_execveat, g_pal.self_fd, long(""), long(s->argv), long(s->envp), AT_EMPTY_PATH);
    s->error = ret;
    for (;;)
        host_syscall1(__NR_exit, 127);
}

struct HostMsghdr {
    void* name;
    uint32_t namelen;
    void* iov;
    size_t iovlen;
    void* control;
    size_t controllen;
    int flags;
};

struct HostIovec {
    void* base;
    size_t len;
};

// A handle on the wire: its PAL kind beside the host fd passed with SCM_RIGHTS.
struct HandleRecord {
    uint32_t magic;
    uint32_t type;
    uint32_t flags;  // bit 0: auto-clear event, bit 1: poller
    uint32_t pad;
};
constexpr uint32_t kHandleMagic = 0x4c444e48;  // "HNDL"

struct FdControl {
    size_t len;
    int level;
    int type;
    int fd;
    int pad;
};

}  // namespace

namespace {

// Starts a child: the exec of carbyne-pal with the boot config in a memfd.
PalError spawn(const void* config, size_t size, PalHandle** process, PalHandle** channel) {
    long config_fd = host_syscall2(__NR_memfd_create, long("carbyne-boot"), kMfdCloexec);
    if (host_failed(config_fd))
        return error_from_host(config_fd);
    PalError err = PAL_OK;
    for (size_t done = 0; done < size && err == PAL_OK;) {
        long n = host_syscall3(__NR_write, config_fd, long(static_cast<const char*>(config) + done), long(size - done));
        if (host_failed(n) && n != -EINTR)
            err = error_from_host(n);
        else if (n > 0)
            done += size_t(n);
    }
    int pair[2];
    long ret = err == PAL_OK ? host_syscall4(__NR_socketpair, kAfUnix, kSockStream | kSockCloexec, 0, long(pair)) : 0;
    if (err != PAL_OK || host_failed(ret)) {
        host_syscall1(__NR_close, config_fd);
        return err != PAL_OK ? err : error_from_host(ret);
    }
    Spawn s = {};
    s.config_fd = int(config_fd);
    s.channel_fd = pair[1];
    s.log_fd = g_pal.log_fd;
    format(s.args[0], sizeof(s.args[0]), "%d", s.config_fd);
    format(s.args[1], sizeof(s.args[1]), "%d", s.channel_fd);
    format(s.args[2], sizeof(s.args[2]), "%d", s.log_fd);
    format(s.args[3], sizeof(s.args[3]), "%d", g_pal.self_fd);
    s.argv[0] = "carbyne-pal";
    s.argv[1] = s.args[0];
    s.argv[2] = s.args[1];
    s.argv[3] = s.args[2];
    s.argv[4] = s.args[3];
    s.argv[5] = nullptr;
    s.envp[0] = nullptr;
    // The child runs PAL code on the parent's memory until its exec: no host signal handler
    // may run there, so every signal waits (the new carbyne-pal unblocks them itself).
    uint64_t all = ~uint64_t{0}, old = 0;
    host_syscall4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, long(&all), long(&old), 8);
    uint8_t stack[8192] __attribute__((aligned(16)));
    int pidfd = -1;
    long pid = pal_clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD | 17 /* SIGCHLD */, stack + sizeof(stack), &pidfd,
                         nullptr, nullptr, spawn_child, &s);
    host_syscall4(__NR_rt_sigprocmask, 2, long(&old), 0, 8);
    host_syscall1(__NR_close, config_fd);
    host_syscall1(__NR_close, pair[1]);
    if (host_failed(pid) || s.error) {
        if (!host_failed(pid)) {
            // The exec failed: reap the child that gave up.
            uint8_t info[128];
            host_syscall5(__NR_waitid, kPidfdWhich, pidfd, long(info), kWaitWexited, 0);
            host_syscall1(__NR_close, pidfd);
        }
        host_syscall1(__NR_close, pair[0]);
        long e = host_failed(pid) ? pid : s.error;
        pal_log("cannot start a process (host error %ld)", -e);
        return e == -ENOMEM || e == -EAGAIN ? PAL_E_NOMEM : error_from_host(e);
    }
    PalHandle* p = handle_alloc(PAL_TYPE_PROCESS, pidfd);
    PalHandle* c = handle_alloc(PAL_TYPE_CHANNEL, pair[0]);
    if (!p || !c) {
        host_syscall4(__NR_pidfd_send_signal, pidfd, 9, 0, 0);
        if (p)
            handle_free(p);
        if (c)
            handle_free(c);
        host_syscall1(__NR_close, pidfd);
        host_syscall1(__NR_close, pair[0]);
        return PAL_E_NOMEM;
    }
    p->pid = int32_t(pid);
    *process = p;
    *channel = c;
    return PAL_OK;
}

// A child started ahead of time for the next process_create with the same boot config: it
// boots (the exec, libos.so's load, the LibOS's start) while its parent goes on, and waits
// on its channel for whatever makes it a process (a fork's checkpoint). An unused one sees
// its channel's end when the parent ends, and ends too.
struct Idle {
    PalHandle* process;
    PalHandle* channel;
    const void* config;
    size_t size;
    bool starting;  // a thread is starting one
};
Idle g_idle;
volatile int g_idle_lock;

void lock_idle() {
    while (__atomic_exchange_n(&g_idle_lock, 1, __ATOMIC_ACQUIRE))
        asm volatile("pause");
}
void unlock_idle() { __atomic_store_n(&g_idle_lock, 0, __ATOMIC_RELEASE); }

bool take_idle(const void* config, size_t size, PalHandle** process, PalHandle** channel) {
    lock_idle();
    bool found = g_idle.process && g_idle.config == config && g_idle.size == size;
    if (found) {
        *process = g_idle.process;
        *channel = g_idle.channel;
        g_idle = Idle{};
    }
    unlock_idle();
    return found;
}

void put_idle(const void* config, size_t size) {
    lock_idle();
    bool empty = !g_idle.process && !g_idle.starting;
    if (empty)
        g_idle.starting = true;  // claimed: another thread does not start one too
    unlock_idle();
    if (!empty)
        return;
    PalHandle *p = nullptr, *c = nullptr;
    PalError e = spawn(config, size, &p, &c);
    lock_idle();
    g_idle = e == PAL_OK ? Idle{p, c, config, size, false} : Idle{};
    unlock_idle();
}

}  // namespace

PalError process_create(const void* config, size_t size, PalHandle** process, PalHandle** channel) {
    if (!config || !size || !process || !channel)
        return PAL_E_INVAL;
    if (g_pal.self_fd < 0)
        return PAL_E_NOTSUP;  // placement not fixed: a child could not run (main.cpp)
    if (!take_idle(config, size, process, channel)) {
        PalError e = spawn(config, size, process, channel);
        if (e != PAL_OK)
            return e;
    }
    put_idle(config, size);
    return PAL_OK;
}

PalError process_wait(PalHandle* process, uint64_t timeout_ns, int* exit_code, int* signal) {
    if (!process || process->type != PAL_TYPE_PROCESS)
        return PAL_E_BADHANDLE;
    if (!process->ended) {
        if (timeout_ns) {
            uint32_t want = PAL_WAIT_READ, ready = 0;
            PalError e = wait_for_many(1, &process, &want, &ready, timeout_ns);
            if (e != PAL_OK)
                return e;
        }
        // siginfo_t: si_signo, si_errno, si_code, then si_pid, si_uid, si_status.
        int32_t info[32] = {};
        long ret = host_syscall5(__NR_waitid, kPidfdWhich, process->fd, long(info), kWaitWexited | kWaitNohang, 0);
        if (host_failed(ret))
            return error_from_host(ret);
        if (info[0] == 0)
            return PAL_E_TIMEDOUT;  // still running
        process->ended = true;
        process->exit_code = info[2] == kWaitExited ? info[6] : 0;
        process->exit_signal = info[2] == kWaitExited ? 0 : info[6];
    }
    if (exit_code)
        *exit_code = process->exit_code;
    if (signal)
        *signal = process->exit_signal;
    return PAL_OK;
}

PalError process_kill(PalHandle* process, int sig) {
    if (!process || process->type != PAL_TYPE_PROCESS)
        return PAL_E_BADHANDLE;
    if (sig <= 0 || sig > 64)
        return PAL_E_INVAL;
    return error_from_host(host_syscall4(__NR_pidfd_send_signal, process->fd, sig, 0, 0));
}

PalError process_message(PalHandle* process, const void* data, size_t size) {
    if (!process || process->type != PAL_TYPE_PROCESS)
        return PAL_E_BADHANDLE;
    if ((!data && size) || size > PAL_MESSAGE_SIZE)
        return PAL_E_INVAL;
    // A siginfo of SI_QUEUE's layout whose 32 bytes after the head are the message: the
    // host passes a sender's siginfo on as given, asking only for a negative si_code.
    constexpr int kSiQueue = -1;
    uint8_t info[128] = {};
    int head[4] = {kMessageSignal, 0, kSiQueue, 0};
    memcpy(info, head, sizeof(head));
    memcpy(info + sizeof(head), data, size);
    long ret = host_syscall4(__NR_pidfd_send_signal, process->fd, kMessageSignal, long(info), 0);
    if (ret == -ESRCH)
        return PAL_E_NOENT;
    return error_from_host(ret);
}

namespace {

void (*g_message_upcall)(const void* data, size_t size);

// The message thread: takes the carrier signal synchronously, one at a time, in order.
void message_main(void*) {
    // Host signals for the process go to the threads that run the LibOS, not this one (it
    // would only note them): all but the synchronous ones are blocked here.
    uint64_t sync = (1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) | (1ull << (SIGILL - 1)) |
                    (1ull << (SIGFPE - 1)) | (1ull << (SIGTRAP - 1)) | (1ull << (SIGSYS - 1));
    uint64_t blocked = ~sync;
    host_syscall4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, long(&blocked), 0, 8);
    uint64_t set = 1ull << (kMessageSignal - 1);
    for (;;) {
        uint8_t info[128];
        long sig = host_syscall4(__NR_rt_sigtimedwait, long(&set), long(info), 0, 8);
        if (sig != kMessageSignal)
            continue;  // EINTR
        int code;
        memcpy(&code, info + 8, sizeof(code));
        if (code >= 0)
            continue;  // a kill(2) of the carrier from outside: no message
        g_message_upcall(info + 16, PAL_MESSAGE_SIZE);
    }
}

}  // namespace

PalError set_message_upcall(void (*upcall)(const void* data, size_t size)) {
    if (!upcall)
        return PAL_E_INVAL;
    if (__atomic_exchange_n(&g_message_upcall, upcall, __ATOMIC_ACQ_REL))
        return PAL_E_BUSY;
    PalError e = thread_create(message_main, nullptr);
    if (e != PAL_OK)
        __atomic_store_n(&g_message_upcall, nullptr, __ATOMIC_RELEASE);
    return e;
}

PalError channel_send_handle(PalHandle* channel, PalHandle* h) {
    if (!channel || channel->type != PAL_TYPE_CHANNEL || !h || h->fd < 0)
        return PAL_E_BADHANDLE;
    HandleRecord rec = {kHandleMagic, uint32_t(h->type), uint32_t((h->auto_clear ? 1 : 0) | (h->poller ? 2 : 0)), 0};
    HostIovec iov = {&rec, sizeof(rec)};
    FdControl control = {sizeof(size_t) + 2 * sizeof(int) + sizeof(int), kSolSocket, kScmRights, h->fd, 0};
    HostMsghdr msg = {nullptr, 0, &iov, 1, &control, sizeof(control), 0};
    for (;;) {
        long n = host_syscall3(__NR_sendmsg, channel->fd, long(&msg), 0x4000 /* MSG_NOSIGNAL */);
        if (n == -EINTR)
            continue;
        if (host_failed(n))
            return error_from_host(n);
        if (size_t(n) != sizeof(rec))
            return PAL_E_IO;  // a stream socket takes a 16-byte record whole or not at all
        return PAL_OK;
    }
}

PalError channel_recv_handle(PalHandle* channel, PalHandle** out) {
    if (!channel || channel->type != PAL_TYPE_CHANNEL || !out)
        return PAL_E_BADHANDLE;
    HandleRecord rec = {};
    HostIovec iov = {&rec, sizeof(rec)};
    FdControl control = {};
    HostMsghdr msg = {nullptr, 0, &iov, 1, &control, sizeof(control), 0};
    long n;
    do {
        n = host_syscall3(__NR_recvmsg, channel->fd, long(&msg), 0x40000000 /* MSG_CMSG_CLOEXEC */ | 0x100 /* MSG_WAITALL */);
    } while (n == -EINTR);
    if (host_failed(n))
        return error_from_host(n);
    bool has_fd = msg.controllen >= sizeof(size_t) + 3 * sizeof(int) && control.level == kSolSocket &&
                  control.type == kScmRights;
    if (n == 0)
        return PAL_E_PIPE;
    if (size_t(n) != sizeof(rec) || rec.magic != kHandleMagic || !has_fd) {
        if (has_fd)
            host_syscall1(__NR_close, control.fd);
        return PAL_E_INVAL;
    }
    PalHandle* h = handle_alloc(PalStreamType(rec.type), control.fd);
    if (!h) {
        host_syscall1(__NR_close, control.fd);
        return PAL_E_NOMEM;
    }
    h->auto_clear = (rec.flags & 1) != 0;
    h->poller = (rec.flags & 2) != 0;
    *out = h;
    return PAL_OK;
}

PalError channel_pair(PalHandle** a, PalHandle** b) {
    if (!a || !b)
        return PAL_E_INVAL;
    int pair[2];
    long ret = host_syscall4(__NR_socketpair, kAfUnix, kSockStream | kSockCloexec, 0, long(pair));
    if (host_failed(ret))
        return error_from_host(ret);
    PalHandle* x = handle_alloc(PAL_TYPE_CHANNEL, pair[0]);
    PalHandle* y = x ? handle_alloc(PAL_TYPE_CHANNEL, pair[1]) : nullptr;
    if (!x || !y) {
        if (x)
            handle_free(x);
        host_syscall1(__NR_close, pair[0]);
        host_syscall1(__NR_close, pair[1]);
        return PAL_E_NOMEM;
    }
    *a = x;
    *b = y;
    return PAL_OK;
}

PalError pipe_create(PalHandle** read_end, PalHandle** write_end) {
    if (!read_end || !write_end)
        return PAL_E_INVAL;
    int fds[2];
    long ret = host_syscall2(__NR_pipe2, long(fds), O_NONBLOCK | O_CLOEXEC);
    if (host_failed(ret))
        return error_from_host(ret);
    PalHandle* r = handle_alloc(PAL_TYPE_FIFO, fds[0]);
    PalHandle* w = r ? handle_alloc(PAL_TYPE_FIFO, fds[1]) : nullptr;
    if (!r || !w) {
        if (r)
            handle_free(r);
        host_syscall1(__NR_close, fds[0]);
        host_syscall1(__NR_close, fds[1]);
        return PAL_E_NOMEM;
    }
    *read_end = r;
    *write_end = w;
    return PAL_OK;
}

}  // namespace carbyne::pal
