// Signal-driven I/O: O_ASYNC (fcntl F_SETFL and ioctl FIOASYNC) with F_SETOWN, F_SETOWN_EX
// and F_SETSIG on a pipe and on a UNIX socket pair, in one process and across fork (what
// nginx's master sets on its channels to its workers).
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"

static volatile sig_atomic_t g_sigio, g_rt, g_rt_fd, g_rt_code;

static void on_sigio(int sig) {
  (void)sig;
  g_sigio++;
}

static void on_rt(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)ctx;
  g_rt++;
  g_rt_fd = info->si_fd;
  g_rt_code = info->si_code;
}

// Waits up to a second for `*counter` to pass `above`.
static int wait_for(volatile sig_atomic_t *counter, int above) {
  for (int i = 0; i < 1000 && *counter <= above; i++)
    usleep(1000);
  return *counter > above;
}

int main(void) {
  signal(SIGIO, on_sigio);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_rt;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGRTMIN + 1, &sa, NULL);

  // A pipe: O_ASYNC without an owner sends nothing; with one, data brings SIGIO.
  int p[2];
  pipe(p);
  check("getown-default", fcntl(p[0], F_GETOWN) == 0, "%d", fcntl(p[0], F_GETOWN));
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_ASYNC);
  write(p[1], "a", 1);
  usleep(50000);
  check("no-owner-no-signal", g_sigio == 0, "%d signals", (int)g_sigio);
  check("setown-self", fcntl(p[0], F_SETOWN, getpid()) == 0, "errno %d", errno);
  check("getown-self", fcntl(p[0], F_GETOWN) == getpid(), "other owner");
  int before = g_sigio;
  write(p[1], "b", 1);
  check("pipe-data-brings-sigio", wait_for(&g_sigio, before), "no SIGIO");
  char buf[16];
  read(p[0], buf, sizeof(buf));
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_ASYNC);
  usleep(20000);
  before = g_sigio;
  write(p[1], "c", 1);
  usleep(50000);
  check("async-off-no-signal", g_sigio == before, "%d more", (int)(g_sigio - before));

  // F_SETSIG: a real-time signal with si_fd and POLL_IN.
  int s[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  struct f_owner_ex ex = {F_OWNER_PID, getpid()};
  check("setown-ex", fcntl(s[0], F_SETOWN_EX, &ex) == 0, "errno %d", errno);
  check("setsig", fcntl(s[0], F_SETSIG, SIGRTMIN + 1) == 0 && fcntl(s[0], F_GETSIG) == SIGRTMIN + 1, "errno %d",
        errno);
  int on = 1;
  check("fioasync", ioctl(s[0], FIOASYNC, &on) == 0 && (fcntl(s[0], F_GETFL) & O_ASYNC), "errno %d", errno);
  write(s[1], "x", 1);
  check("setsig-signal", wait_for(&g_rt, 0), "none");
  check("setsig-info", g_rt_fd == s[0] && g_rt_code == POLL_IN, "fd %d code %d", (int)g_rt_fd, (int)g_rt_code);
  read(s[0], buf, sizeof(buf));

  // Across fork: the child writes to its end, the parent's end signals the parent.
  fcntl(s[0], F_SETSIG, 0);
  before = g_sigio;
  fflush(stdout);
  fcntl(p[0], F_SETSIG, SIGRTMIN + 1);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // The owner and signal belong to the open file description: the child's copy has them.
    int same = fcntl(s[0], F_GETOWN) == parent && fcntl(p[0], F_GETOWN) == parent &&
               fcntl(p[0], F_GETSIG) == SIGRTMIN + 1 && (fcntl(s[0], F_GETFL) & O_ASYNC);
    close(s[0]);
    usleep(100000);
    write(s[1], "from the child", 14);
    _exit(same ? 0 : 3);
  }
  close(s[1]);
  check("child-data-brings-sigio", wait_for(&g_sigio, before), "no SIGIO");
  int n = read(s[0], buf, sizeof(buf));
  check("child-data", n == 14 && memcmp(buf, "from the child", 14) == 0, "read %d", n);
  int status;
  waitpid(pid, &status, 0);
  check("child-sees-owner-and-signal", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %x", status);
  fcntl(p[0], F_SETSIG, 0);

  // Errors: an owner that is no process, a bad F_SETSIG, a bad F_SETOWN_EX type.
  CHECK_FAILS_WITH("setown-esrch", fcntl(p[0], F_SETOWN, 4000000), ESRCH);
  CHECK_FAILS_WITH("setsig-einval", fcntl(p[0], F_SETSIG, 65), EINVAL);
  struct f_owner_ex bad = {7, getpid()};
  int regular = open("/proc/self/exe", O_RDONLY);
  CHECK_FAILS_WITH("fioasync-regular-file-enotty", ioctl(regular, FIOASYNC, &on), ENOTTY);
  close(regular);
  struct f_owner_ex negative = {F_OWNER_PID, -5};
  CHECK_FAILS_WITH("setown-ex-negative-esrch", fcntl(p[0], F_SETOWN_EX, &negative), ESRCH);
  CHECK_FAILS_WITH("setown-ex-einval", fcntl(p[0], F_SETOWN_EX, &bad), EINVAL);
  return g_check_failures != 0;
}
