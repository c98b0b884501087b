// Real-time signals queue: every instance sent is delivered, with its own si_value, in the
// order sent; lower-numbered signals first; a standard signal sent twice while blocked is
// delivered once, with the first sender's info. Through sigwaitinfo and through handlers,
// to the process and to one thread. Passes natively first.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static int g_seen_sig[32], g_seen_value[32], g_seen;

static void handler(int sig, siginfo_t *info, void *uc) {
  (void)uc;
  if (g_seen < 32) {
    g_seen_sig[g_seen] = sig;
    g_seen_value[g_seen] = info->si_value.sival_int;
    g_seen++;
  }
}

static int queue(int sig, int value) {
  union sigval v = {.sival_int = value};
  return sigqueue(getpid(), sig, v);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int r0 = SIGRTMIN, r1 = SIGRTMIN + 1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, r0);
  sigaddset(&set, r1);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);

  // sigwaitinfo: r1 x3, r0 x2, SIGUSR1 x2 (one instance).
  int sent = queue(r1, 10) == 0 && queue(r1, 20) == 0 && queue(r0, 1) == 0 && queue(r1, 30) == 0 &&
             queue(r0, 2) == 0 && queue(SIGUSR1, 100) == 0 && queue(SIGUSR1, 200) == 0;
  check("sigqueue", sent, "%s", strerrorname_np(errno));
  int want_sig[] = {SIGUSR1, r0, r0, r1, r1, r1};
  int want_value[] = {100, 1, 2, 10, 20, 30};
  int order_ok = 1;
  char got[256] = "";
  for (int i = 0; i < 6; i++) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    snprintf(got + strlen(got), sizeof(got) - strlen(got), " %d:%d", sig == SIGUSR1 ? -1 : sig - SIGRTMIN,
             info.si_value.sival_int);
    order_ok &= sig == want_sig[i] && info.si_value.sival_int == want_value[i] && info.si_code == SI_QUEUE;
  }
  check("sigwaitinfo-order", order_ok, "got%s", got);
  sigset_t pending;
  sigpending(&pending);
  check("nothing-left", !sigismember(&pending, r0) && !sigismember(&pending, r1) && !sigismember(&pending, SIGUSR1),
        "still pending");
  struct timespec zero = {0, 0};
  check("none-to-take", sigtimedwait(&set, NULL, &zero) == -1 && errno == EAGAIN, "%s", strerrorname_np(errno));

  // Handlers: queued while blocked, delivered on unblocking in order.
  // Both blocked in either handler: each runs to its end before the next is delivered.
  struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO};
  sa.sa_mask = set;
  sigaction(r0, &sa, NULL);
  sigaction(r1, &sa, NULL);
  queue(r1, 7);
  queue(r0, 5);
  queue(r1, 8);
  queue(r0, 6);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  check("handlers-order",
        g_seen == 4 && g_seen_sig[0] == r0 && g_seen_value[0] == 5 && g_seen_sig[1] == r0 && g_seen_value[1] == 6 &&
            g_seen_sig[2] == r1 && g_seen_value[2] == 7 && g_seen_sig[3] == r1 && g_seen_value[3] == 8,
        "%d handled", g_seen);

  // To one thread: rt_tgsigqueueinfo twice, both taken by that thread.
  sigprocmask(SIG_BLOCK, &set, NULL);
  for (int v = 1; v <= 2; v++) {
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_signo = r0;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = 40 + v;
    syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), r0, &si);
  }
  siginfo_t a, b;
  int s1 = sigwaitinfo(&set, &a), s2 = sigwaitinfo(&set, &b);
  check("thread-directed", s1 == r0 && s2 == r0 && a.si_value.sival_int == 41 && b.si_value.sival_int == 42,
        "%d:%d %d:%d", s1, a.si_value.sival_int, s2, b.si_value.sival_int);
  return check_exit_status();
}
