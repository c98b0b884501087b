// clone and clone3 with CLONE_PIDFD: the parent gets a pidfd of the child, readable once it
// has ended and good for waitid(P_PIDFD); the flag's errors as Linux gives them.
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

static void check_child(const char *name, int pidfd, pid_t pid, int code) {
  struct pollfd p = {pidfd, POLLIN, 0};
  check(name, pidfd >= 0 && (fcntl(pidfd, F_GETFD) & FD_CLOEXEC), "pidfd %d", pidfd);
  int ready = poll(&p, 1, 10000);
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  int waited = waitid(P_PIDFD, pidfd, &info, WEXITED);
  check("readable-then-waited", ready == 1 && waited == 0 && info.si_pid == pid && info.si_status == code,
        "poll %d, waitid %d, status %d", ready, waited, info.si_status);
  close(pidfd);
}

int main(void) {
  int pidfd = -1;
  long pid = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
  if (pid == 0)
    _exit(7);
  check_child("clone-pidfd", pidfd, pid, 7);

  struct clone_args args;
  memset(&args, 0, sizeof(args));
  pidfd = -1;
  args.flags = CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)&pidfd;
  args.exit_signal = SIGCHLD;
  pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid == 0)
    _exit(8);
  check_child("clone3-pidfd", pidfd, pid, 8);

  int tid = 0;
  CHECK_FAILS_WITH("clone-pidfd-with-parent-settid", syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &tid, 0, 0), EINVAL);
  CHECK_FAILS_WITH("clone-pidfd-bad-pointer", syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, (void *)8, 0, 0), EFAULT);
  return g_check_failures ? 1 : 0;
}
