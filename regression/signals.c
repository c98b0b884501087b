// Signals inside one process: handlers with siginfo and ucontext, siglongjmp out of a
// SIGSEGV handler, raise/kill/tgkill, blocking and pending, SA_RESETHAND, SA_NODEFER,
// sigaltstack, vector registers kept across a handler, errno values.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

static sigjmp_buf g_env;
static volatile sig_atomic_t g_hits;
static volatile uintptr_t g_fault_addr;
static volatile int g_fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  g_fault_addr = (uintptr_t)si->si_addr;
  g_fault_code = si->si_code;
  siglongjmp(g_env, sig);
}

static void count(int sig) {
  (void)sig;
  g_hits++;
}

static volatile int g_info_ok;
static void with_info(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  g_info_ok = si->si_signo == sig && si->si_pid == getpid() && uc != NULL;
}

static volatile uintptr_t g_handler_stack;
static void on_altstack(int sig) {
  (void)sig;
  int local;
  g_handler_stack = (uintptr_t)&local;
}

// Skips the faulting 2-byte instruction `ud2` by changing rip in the context.
static void skip_ud2(int sig, siginfo_t *si, void *ucv) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ucv;
  uc->uc_mcontext.gregs[REG_RIP] += 2;
  g_hits += 100;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  int jumped = sigsetjmp(g_env, 1);
  if (jumped == 0) *(volatile int *)16 = 1;
  check("segv_siglongjmp", jumped == SIGSEGV, "sigsetjmp returned %d", jumped);
  check("segv_si_addr", g_fault_addr == 16, "si_addr is not the faulting address");
  check("segv_si_code_maperr", g_fault_code == SEGV_MAPERR, "si_code %d", g_fault_code);

  struct sigaction ill = {0};
  ill.sa_sigaction = skip_ud2;
  ill.sa_flags = SA_SIGINFO;
  sigaction(SIGILL, &ill, NULL);
  g_hits = 0;
  __asm__ volatile("ud2");
  check("sigill_handler_changes_rip", g_hits == 100, "hits %d", (int)g_hits);

  signal(SIGUSR1, count);
  g_hits = 0;
  raise(SIGUSR1);
  check("raise", g_hits == 1, "hits %d", (int)g_hits);
  kill(getpid(), SIGUSR1);
  check("kill_self", g_hits == 2, "hits %d", (int)g_hits);
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
  check("tgkill_self", g_hits == 3, "hits %d", (int)g_hits);

  struct sigaction si = {0};
  si.sa_sigaction = with_info;
  si.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR2, &si, NULL);
  kill(getpid(), SIGUSR2);
  check("siginfo_from_kill", g_info_ok, "si_signo or si_pid wrong");

  sigset_t block, pending;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, NULL);
  g_hits = 0;
  raise(SIGUSR1);
  sigpending(&pending);
  check("blocked_is_pending", g_hits == 0 && sigismember(&pending, SIGUSR1), "delivered while blocked");
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  check("delivered_on_unblock", g_hits == 1, "hits %d", (int)g_hits);

  struct sigaction once = {0};
  once.sa_handler = count;
  once.sa_flags = SA_RESETHAND;
  sigaction(SIGUSR1, &once, NULL);
  raise(SIGUSR1);
  struct sigaction now;
  sigaction(SIGUSR1, NULL, &now);
  check("sa_resethand", now.sa_handler == SIG_DFL && g_hits == 2, "handler not reset");

  // An ignored signal is dropped: never delivered (the process lives on) and not pending.
  // Linux keeps one that is blocked pending (it may be unignored before the unblock), and
  // drops it on the unblock.
  signal(SIGUSR1, SIG_IGN);
  int raised = raise(SIGUSR1);
  sigset_t after_ignored;
  sigpending(&after_ignored);
  sigprocmask(SIG_BLOCK, &block, NULL);
  int raised_blocked = raise(SIGUSR1);
  sigpending(&pending);
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  sigset_t after_unblock;
  sigpending(&after_unblock);
  check("sig_ign", raised == 0 && raised_blocked == 0 && g_hits == 2 && !sigismember(&after_ignored, SIGUSR1) &&
                       sigismember(&pending, SIGUSR1) && !sigismember(&after_unblock, SIGUSR1),
        "raise %d, %d; hits %d; pending after: raise %d, raise while blocked %d, unblock %d", raised, raised_blocked,
        (int)g_hits, sigismember(&after_ignored, SIGUSR1), sigismember(&pending, SIGUSR1),
        sigismember(&after_unblock, SIGUSR1));

  stack_t ss = {0};
  ss.ss_size = 65536;
  ss.ss_sp = malloc(ss.ss_size);
  check("sigaltstack_set", sigaltstack(&ss, NULL) == 0, "%s", strerrorname_np(errno));
  struct sigaction on_alt = {0};
  on_alt.sa_handler = on_altstack;
  on_alt.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR2, &on_alt, NULL);
  raise(SIGUSR2);
  check("handler_on_altstack",
        g_handler_stack > (uintptr_t)ss.ss_sp && g_handler_stack < (uintptr_t)ss.ss_sp + ss.ss_size,
        "the handler ran on another stack");
  stack_t small = {.ss_sp = ss.ss_sp, .ss_size = 100, .ss_flags = 0};
  CHECK_FAILS_WITH("sigaltstack_too_small_enomem", sigaltstack(&small, NULL), ENOMEM);

  signal(SIGUSR1, count);
  volatile double x = 1.5;
  for (int i = 0; i < 3; i++) {
    raise(SIGUSR1);
    x *= 2;
  }
  check("fp_kept_across_handlers", x == 12.0, "x = %f", x);

  CHECK_FAILS_WITH("kill_bad_signal_einval", kill(getpid(), 65), EINVAL);
  CHECK_FAILS_WITH("sigaction_sigkill_einval", sigaction(SIGKILL, &sa, NULL), EINVAL);
  CHECK_FAILS_WITH("tgkill_no_thread_esrch", syscall(SYS_tgkill, getpid(), 999999, SIGUSR1), ESRCH);
  check("kill_sig0", kill(getpid(), 0) == 0, "%s", strerrorname_np(errno));
  return check_exit_status();
}
