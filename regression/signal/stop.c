// Stop and continue: SIGTSTP and SIGSTOP with the default action stop the process (its
// parent sees it stopped), the parent's SIGCONT continues it and runs a SIGCONT handler;
// a handled SIGTSTP does not stop it. Run by run-stop-case, which plays the parent.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t g_conts, g_tstps;

static void on_cont(int sig) {
  (void)sig;
  g_conts++;
}

static void on_tstp(int sig) {
  (void)sig;
  g_tstps++;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa = {0};
  sa.sa_handler = on_cont;
  sigaction(SIGCONT, &sa, NULL);
  printf("stopping with SIGTSTP\n");
  raise(SIGTSTP);
  printf("continued: SIGCONT handler ran %d time(s)\n", (int)g_conts);
  sa.sa_handler = on_tstp;
  sigaction(SIGTSTP, &sa, NULL);
  raise(SIGTSTP);
  printf("handled SIGTSTP %d time(s), SIGCONT %d\n", (int)g_tstps, (int)g_conts);
  printf("stopping with SIGSTOP\n");
  kill(getpid(), SIGSTOP);
  printf("continued again: SIGCONT handler ran %d time(s)\n", (int)g_conts);
  return 0;
}
