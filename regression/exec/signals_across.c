// Signals between processes carry their siginfo: kill(2) gives SI_USER with the sender's
// pid and uid, tgkill SI_TKILL, sigqueue SI_QUEUE with its value, and each real-time
// instance arrives in order; any signal crosses (SIGURG, SIGVTALRM...), to a handler or to
// sigtimedwait, from a parent, a sibling or a child.
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static volatile sig_atomic_t g_handled, g_handled_pid, g_handled_value, g_handled_code;

static void on_rt(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)ctx;
  g_handled_pid = info->si_pid;
  g_handled_value = info->si_value.sival_int;
  g_handled_code = info->si_code;
  g_handled = 1;
}

// Waits up to 10 s for one of `sig`; the siginfo goes to *info. 0 when none came. (The
// system call itself: glibc's sigtimedwait shows SI_TKILL as SI_USER.)
static int wait_one(int sig, siginfo_t *info) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  struct timespec limit = {10, 0};
  return syscall(SYS_rt_sigtimedwait, &set, info, &limit, 8) == sig;
}

static void ready(int fd) {
  char b = 'r';
  write(fd, &b, 1);
}

static void await_ready(int fd) {
  char b;
  read(fd, &b, 1);
}

static int child_a(int to_parent, int from_parent) {
  pid_t parent = getppid();
  siginfo_t info;
  int got = wait_one(SIGUSR1, &info);
  check("kill-si-user", got && info.si_code == SI_USER && info.si_pid == parent && info.si_uid == getuid(),
        "code %d, from the parent %d, uid %d", got ? info.si_code : 0, got && info.si_pid == parent,
        got && info.si_uid == getuid());
  got = wait_one(SIGURG, &info);
  check("kill-any-signal", got && info.si_pid == parent, "SIGURG came %d", got);
  got = wait_one(SIGUSR2, &info);
  check("tgkill-si-tkill", got && info.si_code == SI_TKILL && info.si_pid == parent, "code %d",
        got ? info.si_code : 0);
  int values[3] = {0, 0, 0}, in_order = 1;
  for (int i = 0; i < 3; i++) {
    got = wait_one(SIGRTMIN, &info);
    values[i] = got ? info.si_value.sival_int : -1;
    in_order = in_order && got && info.si_code == SI_QUEUE && info.si_pid == parent;
  }
  check("sigqueue-each-instance-in-order", in_order && values[0] == 42 && values[1] == 43 && values[2] == 44,
        "values %d %d %d", values[0], values[1], values[2]);

  // A handler: SIGRTMIN+1 unblocked now.
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, SIGRTMIN + 1);
  sigprocmask(SIG_UNBLOCK, &unblock, NULL);
  ready(to_parent);
  for (int i = 0; i < 10000 && !g_handled; i++)
    usleep(1000);
  check("handler-gets-siginfo", g_handled && g_handled_pid == parent && g_handled_value == 7 &&
        g_handled_code == SI_QUEUE, "handled %d, value %d, code %d", (int)g_handled, (int)g_handled_value,
        (int)g_handled_code);

  // From a sibling, whose pid the parent sends.
  pid_t sibling = 0;
  read(from_parent, &sibling, sizeof(sibling));
  ready(to_parent);
  got = wait_one(SIGUSR1, &info);
  check("from-a-sibling", got && info.si_pid == sibling && info.si_code == SI_USER, "came %d, from it %d", got,
        got && info.si_pid == sibling);

  // To the parent, with a value.
  union sigval v = {.sival_int = 99};
  check("sigqueue-to-parent", sigqueue(parent, SIGRTMIN + 2, v) == 0, "errno %d", errno);
  return g_check_failures ? 1 : 0;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_rt;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGRTMIN + 1, &sa, NULL);
  sigset_t block;
  sigemptyset(&block);
  int blocked[] = {SIGUSR1, SIGUSR2, SIGURG, SIGRTMIN, SIGRTMIN + 1, SIGRTMIN + 2};
  for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
    sigaddset(&block, blocked[i]);
  sigprocmask(SIG_BLOCK, &block, NULL);
  int up[2], down[2];
  pipe(up);
  pipe(down);
  fflush(stdout);
  pid_t a = fork();
  if (a == 0) {
    int failed = child_a(up[1], down[0]);
    fflush(stdout);  // (the parent's output, buffered too, comes after it: it waits first)
    _exit(failed);
  }
  check("kill-usr1", kill(a, SIGUSR1) == 0, "errno %d", errno);
  check("kill-urg", kill(a, SIGURG) == 0, "errno %d", errno);
  check("tgkill", syscall(SYS_tgkill, a, a, SIGUSR2) == 0, "errno %d", errno);
  for (int i = 0; i < 3; i++) {
    union sigval v = {.sival_int = 42 + i};
    check("sigqueue", sigqueue(a, SIGRTMIN, v) == 0, "errno %d", errno);
  }
  await_ready(up[0]);
  union sigval seven = {.sival_int = 7};
  check("sigqueue-to-handler", sigqueue(a, SIGRTMIN + 1, seven) == 0, "errno %d", errno);
  pid_t b = fork();
  if (b == 0) {
    await_ready(up[0]);
    _exit(kill(a, SIGUSR1) == 0 ? 0 : 1);
  }
  write(down[1], &b, sizeof(b));
  int status = 0;
  waitpid(b, &status, 0);
  check("sibling-sent", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %x", status);
  siginfo_t info;
  int got = wait_one(SIGRTMIN + 2, &info);
  check("parent-gets-childs-sigqueue", got && info.si_pid == a && info.si_value.sival_int == 99,
        "came %d, from it %d, value %d", got, got && info.si_pid == a, got ? info.si_value.sival_int : 0);
  waitpid(a, &status, 0);
  check("child-ok", WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %x", status);

  // A signal whose default action ends the process, which no carbyne-pal took from the
  // host before: the child ends by it.
  pid_t c = fork();
  if (c == 0) {
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    pause();
    _exit(3);
  }
  kill(c, SIGVTALRM);
  waitpid(c, &status, 0);
  check("default-action-ends-child", WIFSIGNALED(status) && WTERMSIG(status) == SIGVTALRM, "status %x", status);
  // A signal whose action is to be ignored, blocked, sent while the process waits for it
  // in sigtimedwait: kept and taken (the wait does not unblock it for the discard).
  pid_t late = fork();
  if (late == 0) {
    usleep(100000);
    _exit(kill(getppid(), SIGURG) == 0 ? 0 : 1);
  }
  got = wait_one(SIGURG, &info);
  check("ignored-blocked-signal-reaches-waiter", got && info.si_pid == late, "came %d", got);
  waitpid(late, &status, 0);

  // A pid that is no process: ESRCH, for sigqueue as for kill.
  union sigval zero = {.sival_int = 0};
  CHECK_FAILS_WITH("sigqueue-no-such-process", sigqueue(c, SIGUSR1, zero), ESRCH);
  CHECK_FAILS_WITH("tgkill-no-such-process", syscall(SYS_tgkill, c, c, SIGUSR1), ESRCH);
  return g_check_failures ? 1 : 0;
}
