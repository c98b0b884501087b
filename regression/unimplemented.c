// System call numbers that no kernel implements fail with -1/ENOSYS; none crashes.
#define _GNU_SOURCE  // strerrorname_np() in check.h
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  CHECK_FAILS_WITH("syscall_999", syscall(999, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("syscall_1000", syscall(1000, 0, 0, 0, 0, 0, 0), ENOSYS);
  // Past the end of every syscall table, below the x32 bit.
  CHECK_FAILS_WITH("syscall_4095", syscall(4095, 0, 0, 0, 0, 0, 0), ENOSYS);
  // A negative number is not a system call either.
  CHECK_FAILS_WITH("syscall_minus_1", syscall(-1, 0, 0, 0, 0, 0, 0), ENOSYS);
  return check_exit_status();
}
