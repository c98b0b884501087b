// The host's administration and its clock: clock_settime, settimeofday, adjtimex,
// clock_adjtime, iopl, ioperm, and (as an unprivileged user, so that a native run as root
// changes nothing) init_module, finit_module, delete_module, acct, reboot, vhangup,
// kexec_load, kexec_file_load. The argument checks Linux makes before the privilege check
// give the same errors to everyone; the rest is EPERM for a user without the capability.
// A kernel built without I/O port access, modules or kexec answers those ENOSYS (the kernel
// Carbyne presents is one; a host may be one too). Nothing here changes the host: every
// call either fails or only reads.
#define _GNU_SOURCE
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "../unprivileged.h"

#define BAD_PTR ((void *)1)

static long adjtimex_raw(struct timex *tx) { return syscall(SYS_adjtimex, tx); }

// A call that fails with `err`, or with ENOSYS where the kernel has no such feature.
#define CHECK_FAILS_OR_ENOSYS(name, call, err)                                                           \
  do {                                                                                                 \
    errno = 0;                                                                                         \
    long r_ = (call);                                                                                  \
    int e_ = errno;                                                                                    \
    check(name, r_ == -1 && (e_ == (err) || e_ == ENOSYS), "returned %ld, errno %s", r_, strerrorname_np(e_)); \
  } while (0)

static void check_clock_arguments(void) {
  struct timespec ts = {1, 0};
  CHECK_FAILS_WITH("settime-monotonic-einval", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts), EINVAL);
  CHECK_FAILS_WITH("settime-boottime-einval", syscall(SYS_clock_settime, CLOCK_BOOTTIME, &ts), EINVAL);
  CHECK_FAILS_WITH("settime-unknown-einval", syscall(SYS_clock_settime, 99, &ts), EINVAL);
  CHECK_FAILS_WITH("settime-cpu-clock-einval", syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL);
  CHECK_FAILS_WITH("settime-efault", syscall(SYS_clock_settime, CLOCK_REALTIME, BAD_PTR), EFAULT);
  struct timespec bad = {0, 1000000000};
  CHECK_FAILS_WITH("settime-bad-nsec", syscall(SYS_clock_settime, CLOCK_REALTIME, &bad), EINVAL);
  struct timespec negative = {-1, 0};
  CHECK_FAILS_WITH("settime-negative", syscall(SYS_clock_settime, CLOCK_REALTIME, &negative), EINVAL);
  struct timeval tv = {0, 1000001};
  CHECK_FAILS_WITH("settimeofday-bad-usec", syscall(SYS_settimeofday, &tv, NULL), EINVAL);
  CHECK_FAILS_WITH("settimeofday-efault", syscall(SYS_settimeofday, BAD_PTR, NULL), EFAULT);

  // Reading the clock's discipline works for everyone.
  struct timex tx;
  memset(&tx, 0, sizeof(tx));
  struct timeval now;
  gettimeofday(&now, NULL);
  long state = adjtimex_raw(&tx);
  check("adjtimex-read", state >= TIME_OK && state <= TIME_ERROR, "%ld, errno %s", state, strerrorname_np(errno));
  long apart = (long)(tx.time.tv_sec - now.tv_sec);
  check("adjtimex-time", apart >= 0 && apart <= 2, "%ld s apart", apart);
  check("adjtimex-tick", tx.tick > 0 && tx.tolerance > 0, "tick %ld tolerance %ld", tx.tick, tx.tolerance);
  memset(&tx, 0, sizeof(tx));
  tx.modes = ADJ_OFFSET_SS_READ;
  state = adjtimex_raw(&tx);
  check("adjtimex-ss-read", state >= TIME_OK && state <= TIME_ERROR, "%ld, errno %s", state, strerrorname_np(errno));
  memset(&tx, 0, sizeof(tx));
  tx.modes = 0x8000;  // ADJ_ADJTIME without ADJ_OFFSET_SINGLESHOT
  CHECK_FAILS_WITH("adjtimex-adjtime-einval", adjtimex_raw(&tx), EINVAL);
  CHECK_FAILS_WITH("adjtimex-efault", adjtimex_raw(BAD_PTR), EFAULT);
  memset(&tx, 0, sizeof(tx));
  state = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
  check("clock-adjtime-realtime-read", state >= TIME_OK && state <= TIME_ERROR, "%ld, errno %s", state,
        strerrorname_np(errno));
  CHECK_FAILS_WITH("clock-adjtime-monotonic", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx), EOPNOTSUPP);
  CHECK_FAILS_WITH("clock-adjtime-unknown", syscall(SYS_clock_adjtime, 99, &tx), EINVAL);
}

static void check_port_arguments(void) {
  CHECK_FAILS_OR_ENOSYS("iopl-past-3", syscall(SYS_iopl, 4), EINVAL);
  CHECK_FAILS_OR_ENOSYS("ioperm-empty", syscall(SYS_ioperm, 0x80, 0, 0), EINVAL);
  CHECK_FAILS_OR_ENOSYS("ioperm-past-65535", syscall(SYS_ioperm, 65535, 2, 0), EINVAL);
}

static void check_unprivileged(void) {
  if (!unprivileged_enter())
    return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  CHECK_FAILS_WITH("settime-eperm", syscall(SYS_clock_settime, CLOCK_REALTIME, &now), EPERM);
  CHECK_FAILS_WITH("settimeofday-eperm", syscall(SYS_settimeofday, NULL, NULL), EPERM);
  struct timex tx;
  memset(&tx, 0, sizeof(tx));
  tx.modes = ADJ_FREQUENCY;
  CHECK_FAILS_WITH("adjtimex-set-eperm", adjtimex_raw(&tx), EPERM);
  CHECK_FAILS_OR_ENOSYS("iopl-3-eperm", syscall(SYS_iopl, 3), EPERM);
  CHECK_FAILS_OR_ENOSYS("ioperm-on-eperm", syscall(SYS_ioperm, 0x80, 1, 1), EPERM);
  CHECK_FAILS_OR_ENOSYS("init-module-eperm", syscall(SYS_init_module, NULL, 0, ""), EPERM);
  CHECK_FAILS_OR_ENOSYS("finit-module-eperm", syscall(SYS_finit_module, -1, "", 0), EPERM);
  CHECK_FAILS_OR_ENOSYS("delete-module-eperm", syscall(SYS_delete_module, "carbyne-none", 0), EPERM);
  CHECK_FAILS_WITH("acct-eperm", syscall(SYS_acct, NULL), EPERM);
  CHECK_FAILS_WITH("reboot-eperm", syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
  CHECK_FAILS_WITH("vhangup-eperm", syscall(SYS_vhangup), EPERM);
  CHECK_FAILS_OR_ENOSYS("kexec-load-eperm", syscall(SYS_kexec_load, 0, 0, NULL, 0), EPERM);
  CHECK_FAILS_OR_ENOSYS("kexec-file-load-eperm", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0), EPERM);
  unprivileged_leave();
}

int main(void) {
  check_clock_arguments();
  check_port_arguments();
  check_unprivileged();
  return check_exit_status();
}
