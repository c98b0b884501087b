# pidfds: pidfd_open of a child and of a process that is not one, poll readable once it has
# ended, pidfd_send_signal, waitid(P_PIDFD) blocking and with PIDFD_NONBLOCK, and the
# errors Linux gives.
import errno
import os
import select
import signal
import time

PIDFD_NONBLOCK = os.O_NONBLOCK


def readable(fd, timeout_ms):
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(timeout_ms))


def fails(name, call, want):
    try:
        call()
        print(name, "succeeded")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e.errno), e.errno == want)


# A child that waits for SIGUSR1 and ends with 5.
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
child = os.fork()
if child == 0:
    signal.sigwait([signal.SIGUSR1])
    os._exit(5)
fd = os.pidfd_open(child)
print("link", os.readlink("/proc/self/fd/%d" % fd))
print("cloexec", not os.get_inheritable(fd))
print("running, readable:", readable(fd, 0))
signal.pidfd_send_signal(fd, signal.SIGUSR1)
print("ended, readable:", readable(fd, 10000))
r = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print("waitid", r.si_pid == child, r.si_code == os.CLD_EXITED, r.si_status)
fails("send-to-reaped", lambda: signal.pidfd_send_signal(fd, signal.SIGUSR1), errno.ESRCH)
fails("open-reaped", lambda: os.pidfd_open(child), errno.ESRCH)
os.close(fd)

# PIDFD_NONBLOCK: waitid does not wait while the child runs.
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
fd = os.pidfd_open(child, PIDFD_NONBLOCK)
fails("waitid-nonblock-running", lambda: os.waitid(os.P_PIDFD, fd, os.WEXITED), errno.EAGAIN)
print("waitid-wnohang-running", os.waitid(os.P_PIDFD, fd, os.WEXITED | os.WNOHANG))
signal.pidfd_send_signal(fd, signal.SIGKILL)
print("killed, readable:", readable(fd, 10000))
r = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print("waitid", r.si_pid == child, r.si_code == os.CLD_KILLED, r.si_status == signal.SIGKILL)
os.close(fd)

# A process that is not a child (a grandchild): readable when it ends, no waitid (ECHILD).
r_end, w_end = os.pipe()
a = os.fork()
if a == 0:
    b = os.fork()
    if b == 0:
        time.sleep(0.3)
        os._exit(0)
    os.write(w_end, b.to_bytes(4, "little"))
    os.waitpid(b, 0)
    os._exit(0)
b = int.from_bytes(os.read(r_end, 4), "little")
fd = os.pidfd_open(b)
print("grandchild, readable at once:", readable(fd, 0))
print("grandchild ended, readable:", readable(fd, 10000))
fails("waitid-not-a-child", lambda: os.waitid(os.P_PIDFD, fd, os.WEXITED), errno.ECHILD)
os.close(fd)
os.waitpid(a, 0)

# Errors.
fails("open-pid-0", lambda: os.pidfd_open(0), errno.EINVAL)
fails("open-bad-flags", lambda: os.pidfd_open(os.getpid(), 1), errno.EINVAL)
fd = os.pidfd_open(os.getpid())
fails("send-bad-flags", lambda: signal.pidfd_send_signal(fd, 0, None, 8), errno.EINVAL)
fails("send-two-scopes", lambda: signal.pidfd_send_signal(fd, 0, None, 3), errno.EINVAL)
signal.pidfd_send_signal(fd, 0)
for scope in (1, 2):  # PIDFD_SIGNAL_THREAD, PIDFD_SIGNAL_THREAD_GROUP
    signal.pidfd_send_signal(fd, 0, None, scope)
print("signal 0 to itself as thread and as process: ok")
# PIDFD_SIGNAL_PROCESS_GROUP: the group whose id is the process's pid.
leader = os.fork()
if leader == 0:
    os.setpgid(0, 0)
    time.sleep(30)
    os._exit(0)
os.setpgid(leader, leader)
member = os.fork()
if member == 0:
    time.sleep(30)
    os._exit(0)
lfd, mfd = os.pidfd_open(leader), os.pidfd_open(member)
fails("group-of-a-non-leader", lambda: signal.pidfd_send_signal(mfd, signal.SIGTERM, None, 4), errno.ESRCH)
signal.pidfd_send_signal(lfd, signal.SIGTERM, None, 4)
r = os.waitid(os.P_PIDFD, lfd, os.WEXITED)
print("group leader ended by its group's signal:", r.si_code == os.CLD_KILLED, r.si_status == signal.SIGTERM)
signal.pidfd_send_signal(mfd, signal.SIGKILL)
os.waitid(os.P_PIDFD, mfd, os.WEXITED)
os.close(lfd)
os.close(mfd)
fails("read", lambda: os.read(fd, 8), errno.EINVAL)
null = os.open("/dev/null", os.O_RDONLY)
fails("send-not-a-pidfd", lambda: signal.pidfd_send_signal(null, 0), errno.EBADF)
fails("waitid-not-a-pidfd", lambda: os.waitid(os.P_PIDFD, null, os.WEXITED), errno.EBADF)
