// System call numbers that no kernel implements fail with -1/ENOSYS; none crashes. So do
// the x86-64 numbers Linux has removed or never implemented (the LibOS's table lists them,
// answering as Linux does).
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
  CHECK_FAILS_WITH("uselib", syscall(SYS_uselib, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("_sysctl", syscall(SYS__sysctl, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("create_module", syscall(SYS_create_module, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("get_kernel_syms", syscall(SYS_get_kernel_syms, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("query_module", syscall(SYS_query_module, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("nfsservctl", syscall(SYS_nfsservctl, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("getpmsg", syscall(SYS_getpmsg, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("putpmsg", syscall(SYS_putpmsg, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("afs_syscall", syscall(SYS_afs_syscall, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("tuxcall", syscall(SYS_tuxcall, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("security", syscall(SYS_security, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("lookup_dcookie", syscall(SYS_lookup_dcookie, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("epoll_ctl_old", syscall(SYS_epoll_ctl_old, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("epoll_wait_old", syscall(SYS_epoll_wait_old, 0, 0, 0, 0, 0, 0), ENOSYS);
  CHECK_FAILS_WITH("vserver", syscall(SYS_vserver, 0, 0, 0, 0, 0, 0), ENOSYS);
  return check_exit_status();
}
