// process_vm_readv and process_vm_writev on the calling process: data moves between its own
// buffers across several iovecs, up to the shorter side; a bad remote buffer is EFAULT (or
// a short count once bytes moved); flags, too many iovecs and an unknown pid are refused.
// Passes natively first.
#define _GNU_SOURCE
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../check.h"

int main(void) {
  pid_t self = getpid();
  char src[] = "hello, process_vm";
  char a[6] = {0}, b[32] = {0};
  struct iovec local[2] = {{a, 5}, {b, 12}};
  struct iovec remote[1] = {{src, sizeof(src) - 1}};
  ssize_t n = process_vm_readv(self, local, 2, remote, 1, 0);
  check("readv", n == 17 && !memcmp(a, "hello", 5) && !memcmp(b, ", process_vm", 12), "%zd %s", n,
        strerrorname_np(errno));

  char dst[32] = {0};
  struct iovec from[1] = {{src, 5}};
  struct iovec to[2] = {{dst, 2}, {dst + 10, 10}};
  n = process_vm_writev(self, from, 1, to, 2, 0);
  check("writev-shorter-side", n == 5 && !memcmp(dst, "he", 2) && !memcmp(dst + 10, "llo", 3), "%zd", n);

  struct iovec bad_remote[1] = {{(void *)8, 16}};
  CHECK_FAILS_WITH("readv-bad-remote", process_vm_readv(self, local, 2, bad_remote, 1, 0), EFAULT);
  struct iovec half[2] = {{src, 4}, {(void *)8, 16}};
  n = process_vm_readv(self, local, 2, half, 2, 0);
  check("readv-partial", n == 4 && !memcmp(a, "hell", 4), "%zd %s", n, strerrorname_np(errno));
  CHECK_FAILS_WITH("flags", process_vm_readv(self, local, 2, remote, 1, 1), EINVAL);
  CHECK_FAILS_WITH("too-many-iovecs", process_vm_readv(self, local, 1025, remote, 1, 0), EINVAL);
  CHECK_FAILS_WITH("no-such-pid", process_vm_readv(0x3fffffff, local, 2, remote, 1, 0), ESRCH);
  n = process_vm_readv(self, local, 0, remote, 1, 0);
  check("nothing-to-move", n == 0, "%zd %s", n, strerrorname_np(errno));
  return check_exit_status();
}
