// A handler that cannot be entered: Linux turns the signal into a SIGSEGV (si_code
// SI_KERNEL), delivered to a SIGSEGV handler on the alternate stack when there is one, and
// the process ends by SIGSEGV when there is none (or when SIGSEGV itself cannot be
// entered). Cases: a handler installed without SA_RESTORER, and one whose stack is not
// writable.
//   unenterable             both, caught by a SIGSEGV handler on the alternate stack
//   unenterable no-handler  SIGSEGV ignored and blocked beforehand: still the end by SIGSEGV
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../check.h"

static sigjmp_buf g_back;
static volatile int g_segv_code, g_segv_count, g_usr_ran;

static void on_segv(int sig, siginfo_t *info, void *uc) {
  (void)sig;
  (void)uc;
  g_segv_code = info->si_code;
  g_segv_count++;
  siglongjmp(g_back, 1);
}

static void on_usr1(int sig) {
  (void)sig;
  g_usr_ran = 1;
}

// The kernel's struct sigaction, for rt_sigaction without glibc's restorer.
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

int main(int argc, char **argv) {
  int no_handler = argc > 1 && !strcmp(argv[1], "no-handler");
  static char altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
  sigaltstack(&ss, NULL);
  if (no_handler) {
    signal(SIGSEGV, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    sigprocmask(SIG_BLOCK, &set, NULL);
  } else {
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
  }

  // 1. No restorer: the frame cannot be built.
  struct kernel_sigaction k = {on_usr1, 0, NULL, 0};
  check("rt-sigaction-no-restorer", syscall(SYS_rt_sigaction, SIGUSR1, &k, NULL, 8) == 0, "errno %s",
        strerrorname_np(errno));
  if (sigsetjmp(g_back, 1) == 0) {
    raise(SIGUSR1);
    check("no-restorer-faults", 0, "the handler was entered (ran %d)", g_usr_ran);
  }
  if (no_handler) {
    check("no-handler-survived", 0, "the process was not ended by SIGSEGV");
    return check_exit_status();
  }
  check("no-restorer-segv", g_segv_count == 1 && g_segv_code == 0x80 && !g_usr_ran, "count %d code %#x ran %d",
        g_segv_count, g_segv_code, g_usr_ran);

  // 2. A stack that cannot be written: SIGUSR1's handler runs on an alternate stack made
  // read-only.
  char *ro = mmap(NULL, 65536, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  stack_t bad = {.ss_sp = ro, .ss_size = 65536, .ss_flags = 0};
  // SIGSEGV's handler needs a stack it can use: the main one, this time.
  struct sigaction segv = {0};
  segv.sa_sigaction = on_segv;
  segv.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &segv, NULL);
  sigaltstack(&bad, NULL);
  g_usr_ran = 0;
  if (sigsetjmp(g_back, 1) == 0) {
    raise(SIGUSR1);
    check("bad-stack-faults", 0, "the handler was entered (ran %d)", g_usr_ran);
  }
  check("bad-stack-segv", g_segv_count == 2 && g_segv_code == 0x80 && !g_usr_ran, "count %d code %#x ran %d",
        g_segv_count, g_segv_code, g_usr_ran);
  return check_exit_status();
}
